"""examples/services-ci under act, as its team would run it: lint on the runner through
setup-python, unit and integration tests inside the app's container against real
PostgreSQL and Redis started as compose services, API tests against the app checked over
HTTP, one build-status report and gate. Green once, then with a failing integration test,
reported where the team would look."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import pytest
import yaml

from stackci_testing import standins
from stackci_testing.examples import (
    EXAMPLES,
    ExampleRun,
    consumer_repo,
    left_behind,
    run_example,
    smells,
    yaml_lines,
)

EXAMPLE = EXAMPLES / "services-ci"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "ci.yml"
IMAGES = ["postgres:13", "redis:7"]
JOBS = {"lint", "test", "api-tests", "build-status"}
# The shell of the workflow: the project's own lint and test commands, nothing else.
COMMANDS = {"pip install -r requirements-lint.txt", "ruff check . && ruff format --check .",
            'docker compose exec -T app pytest -m "unit or integration"',
            "docker compose exec -T app pytest -m api"}


def test_the_workflow_is_thin() -> None:
    """Nothing papers over a failure, waits or tears down by hand; every job has a
    timeout and its own narrow permissions."""
    lines = yaml_lines(WORKFLOW)
    assert len(lines) <= 80, len(lines)
    text = "\n".join(lines)
    # act's host mode does not start a job's services.
    assert not smells(text, "services:")
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {}
    assert set(workflow["jobs"]) == JOBS
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, name
        assert "permissions" in job, name
        assert "write" not in job["permissions"].values() or name == "build-status", name
        for step in job["steps"]:
            uses = step.get("uses", "")
            assert uses.startswith(("stackci/stackci/actions/", "actions/")) or \
                step.get("run") in COMMANDS, step
    assert workflow["jobs"]["build-status"]["permissions"] == {"pull-requests": "write"}
    used = re.findall(r"uses: (stackci/stackci/actions/[a-z-]+@v1)", text)
    assert sorted(set(used)) == [f"stackci/stackci/actions/{a}@v1" for a in (
        "collect-logs", "compose-up-and-wait", "pr-comment")]


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient) -> None:
    standins.ensure(docker_client, IMAGES)


def run(tmp_path: Path, change=None) -> ExampleRun:  # type: ignore[no-untyped-def]
    repo = consumer_repo(tmp_path, "services-ci", change)
    return run_example(tmp_path, repo, "ci.yml")


@pytest.mark.e2e
@pytest.mark.docker
def test_green(tmp_path: Path, images: None, docker_client: docker.DockerClient) -> None:
    result = run(tmp_path)
    assert result.code == 0, result
    assert result.jobs == dict.fromkeys(JOBS, "succeeded"), result
    log = result.log
    assert "All checks passed!" in log  # ruff, on the runner, through setup-python
    # The app started only once PostgreSQL and Redis passed their healthchecks.
    assert re.search(r"app: starting \([^)]*(postgres|redis) passed its healthcheck", log), \
        result
    for path in ("/", "/database/status", "/api/v1/cache/stats", "/api/v1/momentum/AAPL"):
        assert f"smoke http://app:8000{path} passed" in log, path
    assert "7 passed, 3 deselected" in log  # unit and integration
    assert "3 passed, 7 deselected" in log  # api
    assert "### ✅ All green" in log  # build-status
    tests = result.artifacts / "test-results"
    assert 'errors="0" failures="0" skipped="0" tests="7"' in \
        (tests / "junit.xml").read_text()
    assert "<coverage" in (tests / "coverage.xml").read_text()
    assert sorted(p.stem for p in (tests / "logs").iterdir()) == ["app", "postgres", "redis"]
    assert "database system is ready to accept connections" in \
        (tests / "logs" / "postgres.log").read_text()
    api = result.artifacts / "api-test-results"
    assert 'tests="3"' in (api / "junit-api.xml").read_text()
    assert "AlphaVelocity 1.0.0 listening on :8000" in (api / "logs" / "app.log").read_text()
    assert not left_behind(docker_client, result)


def failing_integration_test(repo: Path) -> None:
    (repo / "tests" / "test_positions.py").write_text(
        "import pytest\n"
        "from app.store import Database\n\n\n"
        "@pytest.mark.integration\n"
        "def test_positions_are_stored() -> None:\n"
        '    Database().query("SELECT ticker FROM positions")\n')


@pytest.mark.e2e
@pytest.mark.docker
def test_a_failing_integration_test(tmp_path: Path, images: None,
                                    docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, failing_integration_test)
    assert result.code != 0, result
    assert result.jobs == {"lint": "succeeded", "test": "failed", "api-tests": "succeeded",
                           "build-status": "failed"}, result
    log = result.log
    assert "1 failed, 7 passed" in log
    # The failed test is an error annotation, in the report, and named by the gate, with
    # PostgreSQL's own words.
    assert re.search(r"::error[^\n]*test_positions_are_stored", log), result
    assert 'relation "positions" does not exist' in log
    assert "### ❌ Not green" in log
    assert re.search(r"Quality gate: not green: job test failed; 1 test failed "
                     r"\([^)]*test_positions_are_stored\)", log), result
    tests = result.artifacts / "test-results"
    assert 'failures="1"' in (tests / "junit.xml").read_text()
    assert (tests / "logs" / "postgres.log").is_file()  # the logs are kept for a failure
    assert not left_behind(docker_client, result)


def app_on_a_missing_database(repo: Path) -> None:
    compose = repo / "compose.yml"
    compose.write_text(compose.read_text().replace(
        "DATABASE_NAME: alphavelocity", "DATABASE_NAME: alphavelocity_prod"))


@pytest.mark.e2e
@pytest.mark.docker
def test_an_app_that_crashes_at_start(tmp_path: Path, images: None,
                                      docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, app_on_a_missing_database)
    assert result.code != 0, result
    assert result.jobs == {"lint": "succeeded", "test": "failed", "api-tests": "failed",
                           "build-status": "failed"}, result
    log = result.log
    # Both jobs stop at once, name the app and show why, in PostgreSQL's words.
    assert len(re.findall(r"::error[^\n]*app: exited with code 1", log)) == 2, result
    assert 'database "alphavelocity_prod" does not exist' in log
    assert "### ❌ Not green" in log
    for artifact in ("test-results", "api-test-results"):
        folder = result.artifacts / artifact
        assert 'database "alphavelocity_prod" does not exist' in \
            (folder / "logs" / "app.log").read_text()
        assert not list(folder.glob("junit*.xml"))  # the tests never ran
    assert not left_behind(docker_client, result)
