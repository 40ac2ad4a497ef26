#!/usr/bin/env bash
# resyn's main job on a fresh machine, on the embedded defaults, no LLM needed:
# build resyn, then turn every environment (native, the bundled Python corpus
# in envs/python, and whatever `resyn synth` stored in the embedded store)
# into a validated, trainer-ready dataset in out/dataset plus a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/debian_packages.sh
install_missing bwrap:bubblewrap  # sandbox for Python environments
cargo build --release -p resyn-cli
exec target/release/resyn --env-dir envs/python dataset build "$@"
