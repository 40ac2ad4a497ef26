#!/usr/bin/env bash
# Run resyn's whole test suite on a fresh machine: installs what is missing
# (Debian packages, cargo-nextest, Python test packages), then runs the Rust
# tests (unit, integration, doc) and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/debian_packages.sh
# bubblewrap: sandbox for Python environments; chromium: renders the eval HTML report
# and the gallery in tests.
install_missing bwrap:bubblewrap chromium:chromium
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
python3 -m pip install -q --disable-pip-version-check pytest pyarrow pandas

# Snapshot tests (insta) compare and never write: a changed or missing
# snapshot fails until it is reviewed (`cargo insta review`, or rerun one test
# with INSTA_UPDATE=always and inspect `git diff`).
export INSTA_UPDATE=no
cargo nextest run --workspace --no-fail-fast
cargo test --workspace --doc -q

# Python: the `resyn` package (crate resyn-py: `pip install .` builds the abi3
# extension with maturin, which pip fetches from PyPI; the dev profile reuses
# cargo's dev build), the bundled environment corpus, the dataset files as
# trainers read them, and the whole loop (synth into a store against the replay
# server, dataset build, every reward path: tests/python/test_loop.py).
cargo build -q -p resyn-cli
cargo build -q -p resyn-synth --features replay --example replay_server
export RESYN_BIN="$PWD/target/debug/resyn"
export RESYN_REPLAY_SERVER="$PWD/target/debug/examples/replay_server"
MATURIN_PEP517_ARGS="--profile dev" python3 -m pip install -q --disable-pip-version-check .
python3 -m pytest -q tests/python

# `resyn synth` against a real small model (llama.cpp + SmolLM2-135M), when
# its virtualenv is set up: building llama-cpp-python takes ~25 min on 2 cores
# the first time, so this runs only once `scripts/test_llama.sh` has been run
# on the machine (it then takes ~5 min).
bash scripts/test_llama.sh --if-ready

# resyn inside real trainers (TRL GRPO run with SmolLM2-135M, verl 0.9.1, OpenRLHF 0.11,
# verifiers 0.4), when their virtualenv is set up: `scripts/test_trainers.sh` creates it
# (~4 GB of wheels, ~3 min) the first time; then this takes ~6.5 min.
bash scripts/test_trainers.sh --if-ready
