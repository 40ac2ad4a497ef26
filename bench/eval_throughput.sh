#!/usr/bin/env bash
# Evaluator throughput and concurrency benchmark (see bench/eval_throughput.py).
# Builds the release binaries, then runs the benchmark against the local test
# server on 127.0.0.1. Usage: bench/eval_throughput.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p resyn-cli -p resyn-llm --features resyn-llm/test-server \
  --bin resyn --example test_server
python3 bench/eval_throughput.py --target-dir "$CARGO_TARGET_DIR" "$@"
