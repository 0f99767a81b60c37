#!/usr/bin/env bash
# The test suite (pytest), robust to one known fault of the test machine: Debian's
# Docker 20.10 engine can panic in its health-check monitor (see
# scripts/dockerd-supervisor.sh), failing whatever tests were in flight. When the suite
# fails AND the engine was restarted during it, the failed tests run once more, and
# this is said loudly. Any other failure stands as it is.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
restarts=${STACKCI_STATE_DIR:-/var/tmp/stackci}/dockerd.restarts
count() { if [[ -f $restarts ]]; then wc -l <"$restarts"; else echo 0; fi; }

before=$(count)
.venv/bin/pytest "$@"
code=$?
after=$(count)
if ((code != 0 && after > before)); then
  printf '\nrun-tests: the Docker engine crashed %s time(s) during the run and was restarted (%s):\n' \
    "$((after - before))" "$restarts" >&2
  tail -n "$((after - before))" "$restarts" >&2
  printf 'run-tests: running the failed tests once more\n\n' >&2
  .venv/bin/pytest --last-failed "$@"
  code=$?
fi
exit "$code"
