#!/usr/bin/env bash
# Paper-scale Python workload (issue 14): hundreds of sandboxed environments in
# every batch. Builds the release CLI and the first-call example, then runs
# bench/sandbox_scale.py (listing, resyn verify, dataset build, resyn serve,
# compute_score; see its docstring) and the first-call/memory example over the
# same 400-module workload (renamed copies of envs/python, made in a temporary
# directory). Needs bubblewrap.
#
#   bash bench/sandbox_scale.sh
#   RESYN_BEFORE=/path/to/older/resyn bash bench/sandbox_scale.sh     # side by side
#   python3 -m venv /tmp/resyn-venv && /tmp/resyn-venv/bin/pip install .
#   PYTHON_AFTER=/tmp/resyn-venv/bin/python bash bench/sandbox_scale.sh
#       # adds compute_score, with the resyn package that interpreter imports
#       # (PYTHON_BEFORE: another interpreter, e.g. one with an older build)
#   bash bench/sandbox_scale.sh --skip dataset,score --rounds 5      # extra args go to the .py
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p resyn-cli
cargo build --release -q -p resyn-sandbox --example sandbox_first_call
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/sandbox_scale.py --resyn "$TARGET/release/resyn" \
  ${RESYN_BEFORE:+--before "$RESYN_BEFORE"} \
  ${PYTHON_BEFORE:+--python-before "$PYTHON_BEFORE"} \
  ${PYTHON_AFTER:+--python-after "$PYTHON_AFTER"} "$@"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 -c "import sys; sys.path.insert(0, 'bench'); import sandbox_scale as s; s.build_workload(sys.argv[1], 400)" "$WORK"
"$TARGET/release/examples/sandbox_first_call" "$WORK/envs_400" 100
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
