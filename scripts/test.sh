#!/usr/bin/env bash
# Run resyn's whole test suite on a fresh machine: installs what is missing
# (system packages, cargo-nextest, Python test packages), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "please install: $*" >&2
  fi
}
command -v bwrap >/dev/null || apt_install bubblewrap
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc -q

# The Python package (crate resyn-py) and its tests, in a private virtualenv:
# `pip install .` builds the abi3 extension with maturin, which pip fetches
# from PyPI (build isolation); the dev profile reuses cargo's dev build.
VENV=.venv-test
python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$VENV"; }
"$VENV/bin/python" -m pip install -q --upgrade pip
MATURIN_PEP517_ARGS="--profile dev" "$VENV/bin/python" -m pip install -q ".[test]"
"$VENV/bin/python" -m pytest -q tests/python
