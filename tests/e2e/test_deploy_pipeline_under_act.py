"""examples/deploy-pipeline under act, as its team would run it: build -> test (real
PostgreSQL and Redis healthy first) -> deploy to staging (compose.yml with
compose.staging.yml, on the staging host's runner: this host) -> end-to-end tests against
staging -> production, on main only. A failing end-to-end test opens the failure issue in
the fake GitHub naming the stage and keeps production back; the next green run deploys
to production and closes the issue. `concurrency` is read, not run (act ignores it)."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import yaml

from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from fake_github.server import FakeGitHub
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

EXAMPLE = EXAMPLES / "deploy-pipeline"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "pipeline.yml"
IMAGES = ["postgres:15", "redis:7-alpine"]
STAGING = "eden-staging"  # the staging stack's project: it stays up between deploys
STAGES = ["build", "test", "deploy-staging", "e2e", "production"]
COMMANDS = {"docker compose build", "docker compose exec -T backend pytest",
            "docker compose run --rm --no-deps -T e2e",
            'echo "would deploy eden-backend:$IMAGE_TAG to production"'}


def workflow() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_is_thin() -> None:
    lines = yaml_lines(WORKFLOW)
    assert len(lines) <= 110, len(lines)
    text = "\n".join(lines)
    assert not smells(text, "ssh")
    for name, job in workflow()["jobs"].items():
        assert "timeout-minutes" in job, name
        assert "permissions" in job, name
        for step in job["steps"]:
            uses = step.get("uses", "")
            assert uses.startswith(("stackci/stackci/actions/", "actions/")) or \
                step.get("run") in COMMANDS, step


def test_the_stages_and_who_may_write() -> None:
    """One stage after another; staging on push only, production on main only; the
    failure issue after all of them, whatever happened; only it may write (issues)."""
    flow = workflow()
    jobs = flow["jobs"]
    assert flow["permissions"] == {}
    assert [jobs[stage].get("needs") for stage in STAGES[1:]] == STAGES[:-1]
    assert jobs["deploy-staging"]["if"] == "github.event_name == 'push'"
    assert "github.ref == 'refs/heads/main'" in jobs["production"]["if"]
    assert jobs["production"]["environment"] == "production"
    assert jobs["deploy-staging"]["runs-on"] == jobs["e2e"]["runs-on"] == \
        ["self-hosted", "staging"]
    report = jobs["failure-issue"]
    assert report["needs"] == STAGES
    assert report["if"] == "${{ !cancelled() }}"  # a cancelled run opens nothing
    for name, job in jobs.items():
        expected = ({"issues": "write", "actions": "read", "contents": "read"}
                    if name == "failure-issue" else {"contents": "read"})
        assert job["permissions"] == expected, name


def test_one_run_per_branch_the_newer_push_wins() -> None:
    """act ignores `concurrency`: read it. The group is the workflow and the ref (a
    branch, or a PR's merge ref), and a newer run cancels the one in progress."""
    concurrency = workflow()["concurrency"]
    assert concurrency == {"group": "${{ github.workflow }}-${{ github.ref }}",
                           "cancel-in-progress": True}


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient) -> None:
    standins.ensure(docker_client, IMAGES)


@pytest.fixture
def staging(docker_client: docker.DockerClient) -> Iterator[list[str]]:
    """The staging host's stack outlives each run, as staging does; this test's host is
    decommissioned afterwards with the images the runs built (tags listed in `built`)."""
    built: list[str] = []
    yield built
    subprocess.run(["docker", "compose", "-p", STAGING, "down", "--volumes",
                    "--remove-orphans"], capture_output=True, check=False)
    for tag in built:
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)


def run(tmp: Path, fake_github: FakeGitHub, built: list[str], change=None,  # type: ignore[no-untyped-def]
        event_name: str = "push", event: dict | None = None) -> ExampleRun:  # type: ignore[type-arg]
    repo = consumer_repo(tmp, "deploy-pipeline", change)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout.strip()
    built.append(f"eden-backend:{sha}")
    return run_example(tmp, repo, "pipeline.yml", event_name, event=event,
                         runners=["staging"],
                         env={"GITHUB_API_URL": fake_github.url},
                         secrets={"GITHUB_TOKEN": WRITER_TOKEN,
                                  "STAGING_DB_PASSWORD": "staging-db-secret"})


def failing_e2e_test(repo: Path) -> None:
    (repo / "backend" / "tests" / "e2e" / "test_checkout.py").write_text(
        "import pytest\n"
        "from tests.e2e.test_staging import get\n\n"
        "pytestmark = pytest.mark.e2e\n\n\n"
        "def test_checkout_page_is_served() -> None:\n"
        "    assert get('/api/v1/checkout/')[0] == 200, 'no checkout page on staging'\n")


def staging_backend(client: docker.DockerClient) -> docker.models.containers.Container:
    [backend] = client.containers.list(filters={
        "label": [f"com.docker.compose.project={STAGING}",
                  "com.docker.compose.service=backend"]})
    return backend


@pytest.mark.e2e
@pytest.mark.docker
def test_a_failing_stage_opens_the_issue_and_the_next_green_run_closes_it(
        tmp_path: Path, images: None, fake_github: FakeGitHub, staging: list[str],
        docker_client: docker.DockerClient) -> None:
    state = fake_github.state
    failing = run(tmp_path / "failing", fake_github, staging, failing_e2e_test)
    assert failing.code != 0, failing
    # Production never ran; the reporting job did, and succeeded.
    assert failing.jobs == {"build": "succeeded", "test": "succeeded",
                            "deploy-staging": "succeeded", "e2e": "failed",
                            "failure-issue": "succeeded"}, failing
    log = failing.log
    assert "backend: http://backend:8000/api/v1/status/ answered 200" in log, failing
    assert "1 failed, 3 passed" in log
    assert "would deploy" not in log
    junit = (failing.artifacts / "e2e-results" / "junit.xml").read_text()
    assert 'failures="1"' in junit
    assert "no checkout page on staging" in junit
    [issue] = [i for i in state.repo(REPO).issues.values() if i.user == BOT]
    assert issue.title == "Pipeline failing at e2e on main"
    assert issue.state == "open"
    body = issue.body or ""
    (tmp_path / "issue.md").write_text(body)
    assert re.search(r"\| e2e \| .*failure", body), body  # the stages' table
    assert "staging-db-secret" not in log
    assert left_behind(docker_client, failing) == []
    assert staging_backend(docker_client).image.tags == [staging[0]]

    green = run(tmp_path / "green", fake_github, staging)
    assert green.code == 0, green
    assert green.jobs == dict.fromkeys([*STAGES, "failure-issue"], "succeeded"), green
    log = green.log
    assert "5 passed, 3 deselected" in log  # unit and integration, e2e left for staging
    assert "3 passed" in log  # e2e against staging
    assert f"would deploy {staging[1]} to production" in log
    assert issue.state == "closed"
    [recovered] = state.comments(REPO, issue.number)
    assert "Recovered in [run #" in recovered.body
    results = green.artifacts / "test-results"
    assert 'errors="0" failures="0" skipped="0" tests="5"' in \
        (results / "junit.xml").read_text()
    assert "<coverage" in (results / "coverage.xml").read_text()
    assert sorted(p.stem for p in (results / "logs").iterdir()) == ["backend", "db", "redis"]
    assert 'failures="0"' in (green.artifacts / "e2e-results" / "junit.xml").read_text()
    assert left_behind(docker_client, green) == []
    # Staging was updated in place: the backend now runs the green commit's image.
    backend = staging_backend(docker_client)
    assert backend.image.tags == [staging[1]]
    assert "APP_ENV=staging" in backend.attrs["Config"]["Env"]


def a_staging_override_that_crashes(repo: Path) -> None:
    override = repo / "compose.staging.yml"
    override.write_text(override.read_text().replace(
        "      APP_ENV: staging\n", "      APP_ENV: staging\n    command: python -m app.serve\n"))


@pytest.mark.e2e
@pytest.mark.docker
def test_a_crashing_staging_deploy_is_the_stage_the_issue_names(
        tmp_path: Path, images: None, fake_github: FakeGitHub, staging: list[str],
        docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, fake_github, staging, a_staging_override_that_crashes)
    assert result.code != 0, result
    assert result.jobs == {"build": "succeeded", "test": "succeeded",
                           "deploy-staging": "failed", "failure-issue": "succeeded"}, result
    log = result.log
    # The deploy stops at the crash, not after its 2 minutes, and shows why.
    assert re.search(r"::error[^\n]*backend: exited with code 1", log), result
    assert "No module named app.serve" in log
    assert "would deploy" not in log
    logs = result.artifacts / "staging-deploy-logs" / "logs"
    assert "No module named app.serve" in (logs / "backend.log").read_text()
    [issue] = [i for i in fake_github.state.repo(REPO).issues.values() if i.user == BOT]
    assert issue.title == "Pipeline failing at deploy-staging on main"
    assert issue.state == "open"


@pytest.mark.e2e
@pytest.mark.docker
def test_a_pull_request_is_built_and_tested_but_never_deployed(
        tmp_path: Path, images: None, fake_github: FakeGitHub, staging: list[str],
        docker_client: docker.DockerClient) -> None:
    event = {"number": 7, "pull_request": {
        "number": 7, "head": {"ref": "feature/cart", "repo": {"full_name": REPO}},
        "base": {"ref": "main", "repo": {"full_name": REPO}}}}
    result = run(tmp_path, fake_github, staging, event_name="pull_request", event=event)
    assert result.code == 0, result
    assert result.jobs == {"build": "succeeded", "test": "succeeded",
                           "failure-issue": "succeeded"}, result
    assert not docker_client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={STAGING}"})
    assert "Nothing to do: branch `feature/cart` is not one of `main`." in result.log
    assert not fake_github.state.repo(REPO).issues
    assert left_behind(docker_client, result) == []
