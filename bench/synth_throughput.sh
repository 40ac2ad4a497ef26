#!/usr/bin/env bash
# Synthesis pipeline throughput and concurrency against the local replay
# server (127.0.0.1, never the network).
#
#   bash bench/synth_throughput.sh [CANDIDATES] [LATENCY_MS] [CONCURRENCY]
#
# 1. Instant replies: `resyn synth` processes CANDIDATES candidates (every
#    one goes through extraction, sandboxed validation at 12 seeds x 10
#    difficulties with ~3,000 probes, review, cross-verification, dedup;
#    all but the first are behavioural duplicates of it and are rejected at
#    dedup, after every expensive stage ran). Reports candidates per
#    minute, wall time per candidate, and the validation share.
# 2. Injected latency (LATENCY_MS per reply, CONCURRENCY): samples the
#    server's in-flight gauge every 20 ms and reports its maximum and mean.
set -euo pipefail
N=${1:-40}
LAT=${2:-1000}
C=${3:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -q -p resyn-cli --bin resyn
cargo build --release -q -p resyn-synth --features replay --example replay_server
BIN=$T/release/resyn
SRV=$T/release/examples/replay_server
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

serve() { # latency
  "$SRV" --bench --latency-ms "$1" > "$WORK/url" &
  for _ in $(seq 50); do [ -s "$WORK/url" ] && break; sleep 0.1; done
  URL=$(head -1 "$WORK/url")
}

synth() { # store concurrency max-candidates
  "$BIN" synth --base-url "$URL" --model bench --target 100000 --max-candidates "$3" \
    --concurrency "$2" --store "$1" --examples "$ROOT/envs/python" --json 2> "$1.log"
}

echo "== instant replies: $N candidates, concurrency 4"
serve 0
s=$(date +%s.%N)
synth "$WORK/a.db" 4 "$N" > "$WORK/a.json"
e=$(date +%s.%N)
kill %1; wait 2>/dev/null || true
jq -c '{candidates, accepted, rejected, failures, llm_calls}' "$WORK/a.json"
VAL_MS=$(sqlite3 "$WORK/a.db" "select detail from stage_events where stage='validate' and passed=1" \
  | sed -E 's/.*, ([0-9]+) ms$/\1/' | awk '{s+=$1; n++} END {if (n) printf "%.0f", s/n; else print 0}')
python3 - "$s" "$e" "$N" "$VAL_MS" <<'PY'
import sys
s, e, n, val = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
wall = e - s
print(f"wall {wall:.1f} s; {n / wall * 60:.1f} candidates/min; {wall / n * 1000:.0f} ms wall per candidate "
      f"(concurrency 4 on {__import__('os').cpu_count()} cores); mean validation {val:.0f} ms per candidate")
PY

echo "== instant replies, one candidate at a time: pipeline overhead per candidate"
serve 0
s=$(date +%s.%N)
synth "$WORK/c.db" 1 12 > "$WORK/c.json"
e=$(date +%s.%N)
kill %1; wait 2>/dev/null || true
VAL1=$(sqlite3 "$WORK/c.db" "select detail from stage_events where stage='validate' and passed=1" \
  | sed -E 's/.*, ([0-9]+) ms$/\1/' | awk '{s+=$1; n++} END {if (n) printf "%.0f", s/n; else print 0}')
python3 - "$s" "$e" 12 "$VAL1" <<'PY'
import sys
s, e, n, val = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
per = (e - s) / n * 1000
print(f"{per:.0f} ms wall per candidate, of which validation {val:.0f} ms; everything else "
      f"(5 LLM round trips, extraction, static checker, cross-verifier load and run, dedup, store, "
      f"process start-up share) {per - val:.0f} ms")
PY

echo "== latency ${LAT} ms per reply, concurrency $C"
serve "$LAT"
BASE=${URL%/v1}
( while true; do curl -s "$BASE/stats"; echo; sleep 0.02; done ) > "$WORK/stats" &
SAMPLER=$!
synth "$WORK/b.db" "$C" $((C * 3)) > "$WORK/b.json"
kill $SAMPLER
jq -c '{candidates, llm_calls}' "$WORK/b.json"
jq -s -r '[.[] | select(.in_flight != null)] as $s
  | "max in flight \($s | map(.max_in_flight) | max); mean in flight while busy "
    + "\(([$s[] | select(.in_flight > 0) | .in_flight] | add) / ([$s[] | select(.in_flight > 0)] | length) | . * 10 | round / 10); "
    + "share of samples at \('"$C"') in flight \(([$s[] | select(.in_flight == '"$C"')] | length) * 100 / ($s | length) | round)%"' "$WORK/stats"
