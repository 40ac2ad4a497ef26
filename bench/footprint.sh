#!/usr/bin/env bash
# What the trainer-facing artefacts link: the number of distinct crates in the
# normal dependency graph of the reward crates, whether arrow/parquet are in
# it, and the size of the release wheel of the `resyn` Python package.
#
#   bash bench/footprint.sh            # dependency counts only (seconds)
#   bash bench/footprint.sh --wheel    # also build the release wheel (minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
count() { cargo tree -p "$1" -e normal --prefix none 2>/dev/null | sed 's/ (\*)//' | sort -u | wc -l; }
arrow() { cargo tree -p "$1" -e normal --prefix none 2>/dev/null | grep -cE '^(arrow|parquet)' || true; }
printf '%-14s %8s %16s\n' crate crates arrow/parquet
for p in resyn-reward resyn-serve resyn-py resyn-cli; do
  printf '%-14s %8s %16s\n' "$p" "$(count "$p")" "$(arrow "$p")"
done
if [ "${1:-}" = "--wheel" ]; then
  out=$(mktemp -d)
  python3 -m pip wheel -q --no-deps . -w "$out" >&2
  whl=$(ls "$out"/*.whl)
  so=$(python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(sum(i.file_size for i in z.infolist() if i.filename.endswith(".so")))' "$whl")
  echo "wheel: $(stat -c %s "$whl") bytes, extension module: $so bytes ($(basename "$whl"))"
  rm -rf "$out"
fi
