#!/usr/bin/env bash
# `make demo`: bring examples/demo up with compose-up-and-wait, show it ready, collect its
# logs with collect-logs, and remove it: the main job of StackCI, through the same
# launcher and image a workflow uses.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
launch=(bash "$root/launcher/launch.sh")
export STACKCI_IMAGE=${STACKCI_IMAGE:-build}
# Offline machines build on the local stand-in of the pinned base image (the Dockerfile's FROM).
if ! docker image inspect "$(awk '$1 == "FROM" { print $2; exit }' "$root/Dockerfile")" >/dev/null 2>&1; then
  export STACKCI_PYTHON_IMAGE=${STACKCI_PYTHON_IMAGE:-python:3.12-slim}
fi
cd "$root/examples/demo"
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

say "compose-up-and-wait: starting examples/demo and waiting until every service is ready"
status=0
"${launch[@]}" compose-up-and-wait --project-name stackci-demo --timeout 2m || status=$?

say "the stack, as docker compose sees it"
docker compose --project-name stackci-demo ps -a >&2 || true
if [[ $status == 0 ]]; then
  say "the API answers on localhost:18080"
  curl -fsS http://localhost:18080/ >&2 || wget -qO- http://localhost:18080/ >&2 || true
fi

say "collect-logs: logs, status, inspect data and events into examples/demo/stackci-logs, then teardown"
"${launch[@]}" collect-logs --project-name stackci-demo --path stackci-logs --print all --teardown true
say "collected files"
find stackci-logs -type f | sort >&2
exit "$status"
