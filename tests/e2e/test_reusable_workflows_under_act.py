"""StackCI's reusable workflows under act, called as users call them
(`uses: stackci/stackci/.github/workflows/<file>@v1`, mapped to this checkout), from a
consumer repository holding examples/demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import pytest

from stackci_testing.docker import leftovers
from stackci_testing.examples import consumer_repo, run_example

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

CONSUMER = Path(__file__).resolve().parent / "consumers" / "compose-integration.yml"


def with_workflow(repo: Path) -> None:
    (repo / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(CONSUMER, repo / ".github" / "workflows" / "integration.yml")


def test_compose_integration_tests_a_ready_stack_and_keeps_everything(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    repo = consumer_repo(tmp_path, "demo", with_workflow)
    run = run_example(tmp_path, repo, "integration.yml")
    assert run.code == 0, run
    assert run.jobs == {"integration": "succeeded"}, run
    assert "<h1>StackCI demo</h1>" in run.log  # the test command ran against the stack
    [artifact] = run.artifacts.iterdir()
    assert artifact.name.startswith("stack-logs-")
    assert (artifact / "pages" / "index.html").read_text().startswith("<h1>StackCI demo")
    assert {p.stem for p in (artifact / "logs").iterdir()} >= {"api", "db", "migrate"}
    assert not [t for t in leftovers(docker_client) if "stackci-s" in t and "-integration" in t]


def test_a_failing_test_command_fails_the_job_and_still_keeps_the_logs(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    def missing_page(repo: Path) -> None:
        with_workflow(repo)
        (repo / "www" / "index.html").unlink()

    repo = consumer_repo(tmp_path, "demo", missing_page)
    run = run_example(tmp_path, repo, "integration.yml")
    assert run.code != 0, run
    assert run.jobs == {"integration": "failed"}, run
    assert "cat: can't open '/www/index.html': No such file or directory" in run.log
    [artifact] = run.artifacts.iterdir()
    assert (artifact / "logs" / "api.log").is_file()
    assert not (artifact / "pages").exists()
    assert not [t for t in leftovers(docker_client) if "stackci-s" in t and "-integration" in t]
