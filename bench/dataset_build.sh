#!/usr/bin/env bash
# Dataset build throughput and peak memory (issue 7, "Performance").
#
# Builds N instances from the native environments with a release build, for
# each N in $SIZES (default: 100000 1000000), and reports instances/s and
# peak RSS from /usr/bin/time -v. Memory should not grow with N.
#
#   bench/dataset_build.sh                 # both sizes
#   SIZES=1000000 bench/dataset_build.sh   # one size
#   FORMATS='"parquet"' bench/dataset_build.sh
#
# Needs /usr/bin/time (Debian: apt-get install time). Output goes to a
# temporary directory that is removed afterwards (set KEEP=1 to keep it).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=${SIZES:-"100000 1000000"}
FORMATS=${FORMATS:-'"parquet", "jsonl"'}
TARGET=${CARGO_TARGET_DIR:-target}

if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
  else
    echo "please install GNU time (/usr/bin/time)" >&2
    exit 2
  fi
fi

cargo build --release -q -p resyn-cli
BIN="$TARGET/release/resyn"
WORK=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

echo "host: $(nproc) cores, $(uname -sr); resyn $("$BIN" --version | cut -d' ' -f2)"
printf '%-10s %10s %10s %9s %12s %10s %10s %10s\n' \
  instances rows generated wall_s instances/s cpu_s peak_MiB out_MiB
for N in $SIZES; do
  cat > "$WORK/bench-$N.toml" <<TOML
total_instances = $N
refill_rounds = 0
[select]
sources = ["native"]
[output]
formats = [$FORMATS]
TOML
  /usr/bin/time -v -o "$WORK/time-$N.txt" \
    "$BIN" dataset build "$WORK/bench-$N.toml" --out "$WORK/ds-$N" --json \
    >"$WORK/manifest-$N.json" 2>"$WORK/log-$N.txt"
  python3 - "$N" "$WORK" <<'PY'
import json, re, sys
n, work = sys.argv[1], sys.argv[2]
m = json.load(open(f"{work}/manifest-{n}.json"))
t = open(f"{work}/time-{n}.txt").read()
def field(name):
    return re.search(rf"{re.escape(name)}: (.*)", t).group(1).strip()
wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
rss = int(field("Maximum resident set size (kbytes)")) / 1024
out = sum(f["bytes"] for f in m["files"]) / 2**20
gen = m["totals"]["generated"]
print(f"{n:<10} {m['totals']['instances']:>10} {gen:>10} {secs:>9.2f} {gen / secs:>12.0f} {cpu:>10.2f} {rss:>10.1f} {out:>10.0f}")
PY
  rm -rf "$WORK/ds-$N"
done
