#!/usr/bin/env bash
# End-to-end throughput of the `resyn` CLI: JSONL in, JSONL out.
# Generates COUNT instances per environment and difficulty (all native
# environments, difficulties 1-10), turns their references into responses,
# then times `resyn verify` on them. Prints a markdown table row set.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-200}
cargo build -q --release -p resyn-cli
R=${CARGO_TARGET_DIR:-target}/release/resyn
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mapfile -t ENVS < <($R envs --json | python3 -c 'import json,sys; print("\n".join(e["id"] for e in json.load(sys.stdin) if e["source"]=="native"))')

t0=$(date +%s.%N)
$R generate "${ENVS[@]}" --count "$COUNT" --difficulty 1-10 -o "$tmp/inst.jsonl" 2>/dev/null
t1=$(date +%s.%N)
python3 - "$tmp/inst.jsonl" "$tmp/resp.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as g:
    for line in f:
        i = json.loads(line)
        g.write(json.dumps({"id": i["id"], "response": i["reference"]}) + "\n")
PY
t2=$(date +%s.%N)
$R verify --instances "$tmp/inst.jsonl" --responses "$tmp/resp.jsonl" -o "$tmp/scores.jsonl" 2>"$tmp/summary"
t3=$(date +%s.%N)
n=$(wc -l < "$tmp/inst.jsonl")
mb=$(du -m "$tmp/inst.jsonl" | cut -f1)
python3 - "$n" "$mb" "$t0" "$t1" "$t2" "$t3" "$(nproc)" <<'PY'
import sys
n, mb = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
print(f"| `resyn generate` ({n:,} instances, {mb} MB JSONL, {sys.argv[7]} cores) | {t1-t0:.2f} s | {n/(t1-t0):,.0f} instances/s |")
print(f"| `resyn verify` (same instances, reference responses) | {t3-t2:.2f} s | {n/(t3-t2):,.0f} verdicts/s |")
PY
cat "$tmp/summary" >&2
