#!/usr/bin/env bash
# Run resyn's whole test suite on a fresh machine: installs what is missing
# (Debian packages, cargo-nextest, Python test packages), then runs the Rust
# tests (unit, integration, doc) and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)       # sandbox for Python environments
command -v chromium >/dev/null || missing+=(chromium)      # renders the eval HTML report in a test
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: please install ${missing[*]} (tests needing them skip or fail)" >&2
  fi
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
python3 -m pip install -q --disable-pip-version-check pytest pyarrow pandas

cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc -q

# Python: the bundled environment corpus and the dataset files as trainers read them.
cargo build -q -p resyn-cli
export RESYN_BIN="$PWD/target/debug/resyn"
python3 -m pytest -q tests/python
