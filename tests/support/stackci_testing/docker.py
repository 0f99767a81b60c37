"""Real Docker for tests: compose projects that always clean up after themselves, and
a check that nothing the suite made is left on the engine."""

from __future__ import annotations

import contextlib
import subprocess
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors

from stackci.core.engine.compose import PROJECT_LABEL, compose_binary

# Every project a test session makes carries this session's token in its name, so the
# leak check judges only what this session made (several sessions may share an engine).
SESSION = "s" + uuid.uuid4().hex[:6]
TEST_PREFIX = f"stackci-test-{SESSION}-"


@dataclass
class Stack:
    """A compose project in a folder of its own, named `stackci-test-<random>`."""

    name: str
    directory: Path

    def write(self, compose_yaml: str, filename: str = "compose.yaml") -> Path:
        path = self.directory / filename
        path.write_text(textwrap.dedent(compose_yaml))
        return path

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([compose_binary(), "--project-name", self.name, *args],
                              cwd=self.directory, capture_output=True, text=True, check=check)

    def down(self) -> None:
        # Kill, let the engine stop the health monitors, then remove: Docker 20.10 can
        # panic when a container is removed while a health probe is starting in it
        # (see scripts/dockerd-supervisor.sh).
        self.compose("kill", check=False)
        time.sleep(0.3)
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "0", check=False)


def new_stack(base: Path) -> Stack:
    name = TEST_PREFIX + uuid.uuid4().hex[:8]
    directory = base / name
    directory.mkdir(parents=True)
    return Stack(name, directory)


@contextmanager
def stack_in(base: Path) -> Iterator[Stack]:
    stack = new_stack(base)
    try:
        yield stack
    finally:
        stack.down()


@contextmanager
def beside(stack: Stack) -> Iterator[Stack]:
    """A second project of the same compose file: the same folder, a name of its own
    (leak-checked like every test project), removed afterwards whatever happened."""
    other = Stack(TEST_PREFIX + uuid.uuid4().hex[:8], stack.directory)
    try:
        yield other
    finally:
        other.down()


def _project_objects(client: docker.DockerClient, token: str) -> list[tuple[str, Any]]:
    """(kind, object) for every container, network and volume of a compose project
    whose name holds `token`."""
    def ours(labels: dict[str, str] | None) -> bool:
        return token in (labels or {}).get(PROJECT_LABEL, "")

    label = {"label": PROJECT_LABEL}
    found: list[tuple[str, Any]] = [
        ("container", c) for c in client.containers.list(all=True, filters=label) if ours(c.labels)]
    found += [("network", n) for n in client.networks.list(filters=label)
              if ours(n.attrs.get("Labels"))]
    found += [("volume", v) for v in client.volumes.list(filters=label)
              if ours(v.attrs.get("Labels"))]
    return found


def leftovers(client: docker.DockerClient, token: str = SESSION) -> list[str]:
    """Containers, networks and volumes of this session's projects still on the engine."""
    return [f"{kind} {obj.name}" for kind, obj in _project_objects(client, token)]


def remove_leftovers(client: docker.DockerClient, token: str = SESSION) -> None:
    for kind, obj in _project_objects(client, token):  # containers first, as listed
        # Something may vanish between listing and removal (a `--rm` container).
        with contextlib.suppress(docker.errors.NotFound):
            if kind == "container":
                obj.remove(force=True, v=True)
            elif kind == "volume":
                obj.remove(force=True)
            else:
                obj.remove()
