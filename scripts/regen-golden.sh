#!/usr/bin/env bash
# Rewrite the golden files under tests/golden from the current rendering; review the diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STACKCI_REGEN_GOLDEN=1 .venv/bin/pytest -q -m "not docker and not e2e" tests/unit "$@"
git status --short tests/golden
