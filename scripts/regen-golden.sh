#!/usr/bin/env bash
# Rewrite the golden files under tests/golden from the current rendering; review the diff.
# The second run rewrites the actions' snapshots (tests/golden/snapshots): it needs the
# Docker engine and the stand-in images (scripts/setup-machine.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Extra arguments go to both runs; one that selects no test there (exit 5) is fine.
regen() {
  local code=0
  STACKCI_REGEN_GOLDEN=1 .venv/bin/pytest -q "$@" || code=$?
  if ((code != 0 && code != 5)); then exit "$code"; fi
}
regen -m "not docker and not e2e" tests/unit "$@"
regen tests/integration/test_snapshots.py "$@"
git status --short tests/golden
