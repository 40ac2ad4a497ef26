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
