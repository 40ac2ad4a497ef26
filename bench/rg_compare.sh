#!/usr/bin/env bash
# Reproduce the "resyn vs Reasoning Gym" table in BENCHMARKS.md.
# Installs reasoning-gym (>= 0.1.25) into bench/.venv, builds the release
# throughput probe, and measures both libraries side by side in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-1.0}
ROUNDS=${2:-3}
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/python -c 'import reasoning_gym' 2>/dev/null \
  || bench/.venv/bin/pip install -q "reasoning-gym>=0.1.25"
cargo build -q --release -p resyn-envs --example throughput
bench/.venv/bin/python -c 'import importlib.metadata as m; print("reasoning-gym", m.version("reasoning-gym"))' >&2
bench/.venv/bin/python bench/rg_compare.py --throughput-bin "${CARGO_TARGET_DIR:-target}/release/examples/throughput" --seconds "$SECONDS_PER" --rounds "$ROUNDS"
