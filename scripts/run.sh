#!/usr/bin/env bash
# The main job on the embedded default: sets the machine up (idempotent), then runs `mnas search`
# on Fashion-MNIST with latency measured on ort-cpu (one thread), about 10 minutes on 2 cores.
# Extra arguments go to `mnas search` (e.g. --budget 10, --out runs/demo, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/src/cli/main.js search "$@"
