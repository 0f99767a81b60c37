"""pytest fixtures: a live engine, test stacks that clean up, a runner-like env."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from stackci_testing.docker import Stack, leftovers, remove_leftovers, stack_in
from stackci_testing.runner import workflow_env


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The real engine. Tests that need it fail (never skip) when it is missing:
    `make test` starts it, and a silently skipped suite proves nothing."""
    client = docker.from_env()
    try:
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"no Docker engine: {exc}. Run scripts/setup-machine.sh first.")
    yield client
    client.close()


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """The suite fails if any test left a container, network or volume of a test
    project behind (each test cleans up, also when it fails; this proves it)."""
    yield
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException:
        return  # no engine, so nothing can have been left on it
    left = leftovers(client)
    remove_leftovers(client)
    if left:
        pytest.fail("tests left these behind: " + ", ".join(left), pytrace=False)


@pytest.fixture
def stack(tmp_path: Path, docker_client: docker.DockerClient) -> Iterator[Stack]:
    """A compose project of the test's own, removed afterwards whatever happened."""
    with stack_in(tmp_path) as made:
        yield made


@pytest.fixture
def wf_env(tmp_path: Path) -> dict[str, str]:
    """A runner-like environment with its file-command files under tmp_path."""
    return workflow_env(tmp_path / "runner")
