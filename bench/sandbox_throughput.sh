#!/usr/bin/env bash
# Verify throughput of a simple Python verifier through the sandboxed worker
# pool (batched) vs one Python process per call; worker start-up latency and
# memory per worker. Needs bubblewrap (apt-get install -y bubblewrap).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --release -q -p resyn-sandbox --example sandbox_throughput
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
