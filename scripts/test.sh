#!/usr/bin/env bash
# Sets the machine up (idempotent) and runs the whole test suite with node's test runner.
# Extra arguments are passed to `node --test` (e.g. a single compiled test file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
tap=$(mktemp)
status=0
node --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${@:-dist/}" || status=$?
pass=$(grep -E '^# pass ' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail ' "$tap" | tail -1 | awk '{print $3}')
skip=$(grep -E '^# skipped ' "$tap" | tail -1 | awk '{print $3}')
rm -f "$tap"
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit $status
