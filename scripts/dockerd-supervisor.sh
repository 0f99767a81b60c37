#!/usr/bin/env bash
# Keeps a self-started dockerd running, as systemd does on a real runner. Debian's
# Docker 20.10 can panic in its health-check monitor when a probe starts as its
# container is killed (seen here: nil pointer in ContainerExecStart, health.go); one
# crash must not take the rest of a test run down with it. Each restart is recorded in
# $STACKCI_STATE_DIR/dockerd.restarts, which scripts/run-tests.sh reads.
set -uo pipefail
state=${STACKCI_STATE_DIR:-/var/tmp/stackci}
log=$state/dockerd.log
mkdir -p "$state"

clean_stale_files() {
  # A killed daemon leaves its pid file (and socket) behind, and a new dockerd refuses
  # to start while the pid file exists. It also reuses the containerd named in
  # containerd.pid, and times out when that process is dead but not yet reaped.
  rm -f /var/run/docker.pid
  [[ -S /var/run/docker.sock ]] && rm -f /var/run/docker.sock
  local cpid_file=/var/run/docker/containerd/containerd.pid cpid=0
  if [[ -f $cpid_file ]]; then
    read -r cpid <"$cpid_file" || true
    if [[ ! -r /proc/${cpid:-0}/stat ]] || [[ $(awk '{print $3}' "/proc/$cpid/stat") == Z ]]; then
      rm -f "$cpid_file"
    fi
  fi
}

while true; do
  clean_stale_files
  dockerd >>"$log" 2>&1 </dev/null
  code=$?
  printf '%s dockerd exited with code %s; restarting\n' "$(date -u +%FT%TZ)" "$code" \
    >>"$state/dockerd.restarts"
  sleep 1
done
