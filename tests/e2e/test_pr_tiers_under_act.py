"""examples/pr-tiers under act, as its team would run it: the three workflows as written
(the fast PR validation, reused by the label-gated full check and the post-merge run
through `uses: ./.github/workflows/pr-validation.yml`), `stackci/stackci@v1` mapped to
this checkout, setup-python and the artifact actions mapped to stand-ins, stand-in images
under the public names (a real PostgreSQL; Kafka, Zookeeper and MinIO stand-ins), the
fake GitHub server for the pull request and its comment, a real SMTP server for the
post-merge mail. Each tier green and made to fail, reported where the team would look."""

from __future__ import annotations

import re
from pathlib import Path

import docker
import pytest
import yaml

from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
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
from stackci_testing.smtp import SmtpServer

EXAMPLE = EXAMPLES / "pr-tiers"
WORKFLOWS = EXAMPLE / ".github" / "workflows"
IMAGES = ["confluentinc/cp-zookeeper:7.5.0", "confluentinc/cp-kafka:7.5.0",
          "minio/minio:RELEASE.2024-11-07T00-52-20Z", "postgres:15"]
SERVICES = ["app", "kafka", "minio", "postgres", "zookeeper"]
MAIL_TO = "platform-team@k2.dev"
# What a step may run besides our actions, checkout, setup-python and the artifacts:
# the project's own commands.
COMMANDS = {
    "pip install -r requirements-dev.txt",
    "make ci-quality",
    "make ci-test",
    'docker compose exec -T app pytest -m "integration and not slow" '
    "--junit-xml=/tmp/junit-integration.xml",
    "docker compose exec -T app pytest --junit-xml=/tmp/junit-all.xml --cov=k2 "
    "--cov-report=xml:/tmp/coverage.xml",
}
OTHERS = r"actions/(checkout|setup-python|upload-artifact|download-artifact)@[0-9a-f]{40}"


def load(name: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((WORKFLOWS / name).read_text())


@pytest.mark.parametrize("name", ["pr-validation.yml", "pr-full-check.yml", "post-merge.yml"])
def test_the_workflows_are_thin(name: str) -> None:
    """Every step is one of our actions, a checkout, setup-python, an artifact or one
    project command; every job has its own narrow permissions and a timeout (a job that
    calls the reusable workflow gets the timeouts of the jobs it runs)."""
    text = "\n".join(yaml_lines(WORKFLOWS / name))
    assert not smells(text, "docker compose up", "write-all")
    workflow = load(name)
    assert workflow["permissions"] == {}
    for job_name, job in workflow["jobs"].items():
        assert job["permissions"] in ({"contents": "read"}, {"pull-requests": "read"},
                                      {"pull-requests": "write"}, {"actions": "read"}), job_name
        if "uses" in job:
            assert job["uses"] == "./.github/workflows/pr-validation.yml", job_name
            continue
        assert job["timeout-minutes"] <= 25, job_name
        for step in job["steps"]:
            uses = step.get("uses", "")
            assert uses.startswith("stackci/stackci/actions/") or re.fullmatch(OTHERS, uses) \
                or step.get("run") in COMMANDS, step


def test_the_tiers_fit_together() -> None:
    validation, full, post = (load(n) for n in ("pr-validation.yml", "pr-full-check.yml",
                                                "post-merge.yml"))
    assert "workflow_call" in validation[True]  # YAML 1.1 reads the key `on` as True
    assert not any("services" in job for job in validation["jobs"].values())  # no Docker
    assert not any("docker" in step.get("run", "") for job in validation["jobs"].values()
                   for step in job["steps"])
    # The full check: gated on the label, reusing the validation; its summary says
    # whether the PR is ready to merge and comments on it.
    jobs = full["jobs"]
    gate = jobs["check-label"]["steps"][0]
    assert gate["uses"] == "stackci/stackci/actions/label-gate@v1"
    assert gate["with"]["any-of"] == "ready-for-merge"
    assert jobs["validation"]["if"] == jobs["integration-tests"]["if"] == \
        "needs.check-label.outputs.ready == 'true'"
    assert jobs["summary"]["needs"] == ["check-label", "validation", "integration-tests"]
    assert jobs["summary"]["steps"][-1]["uses"] == "stackci/stackci/actions/pr-comment@v1"
    # Post-merge: on main, everything, a mail on failure.
    assert post[True]["push"]["branches"] == ["main"]
    assert post["jobs"]["validation"]["uses"] == "./.github/workflows/pr-validation.yml"
    mail = post["jobs"]["summary"]["steps"][-1]
    assert (mail["if"], mail["uses"]) == ("failure()", "stackci/stackci/actions/notify-email@v1")
    # The readiness timeouts live beside each service.
    services = yaml.safe_load((EXAMPLE / "docker-compose.yml").read_text())["services"]
    assert {name: s["x-stackci-wait"]["timeout"] for name, s in services.items()
            if "x-stackci-wait" in s} == {"kafka": "90s", "minio": "60s", "postgres": "60s"}


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient) -> None:
    standins.ensure(docker_client, IMAGES)


def run(tmp_path: Path, workflow: str, change=None, **kwargs) -> ExampleRun:  # type: ignore[no-untyped-def]
    repo = consumer_repo(tmp_path, "pr-tiers", change)
    return run_example(tmp_path, repo, workflow, **kwargs)


def nothing_left(client: docker.DockerClient, result: ExampleRun) -> None:
    assert result.project_prefix in result.log, result  # a stack was started
    assert not left_behind(client, result)


def pull_request(fake_github, tmp_path: Path, labels: list[str], change=None):  # type: ignore[no-untyped-def]
    pull = fake_github.state.add_pull(REPO, title="Binance V2 trades", head_ref="enhance-binance",
                                      labels=labels)
    event = {"action": "labeled", "number": pull.number,
             "label": {"name": "ready-for-merge"},
             "pull_request": {"number": pull.number, "labels": [],  # stale: read live
                              "head": {"ref": "enhance-binance", "sha": pull.pull.head_sha},
                              "base": {"ref": "main"}},
             "repository": {"full_name": REPO}}
    result = run(tmp_path, "pr-full-check.yml", change, event_name="pull_request", event=event,
                 env={"GITHUB_API_URL": fake_github.url},
                 secrets={"GITHUB_TOKEN": WRITER_TOKEN})
    return pull, result


@pytest.mark.e2e
@pytest.mark.docker
def test_full_check_ready_to_merge(tmp_path: Path, images: None, fake_github,  # type: ignore[no-untyped-def]
                                   docker_client: docker.DockerClient) -> None:
    pull, result = pull_request(fake_github, tmp_path, ["ready-for-merge"])
    assert result.code == 0, result
    assert result.jobs == {"check-label": "succeeded", "quality": "succeeded",
                           "unit-tests": "succeeded", "integration-tests": "succeeded",
                           "summary": "succeeded"}, result
    log = result.log
    assert "app: starting" in log  # once Kafka, MinIO and PostgreSQL were healthy
    assert "4 passed, 8 deselected" in log  # the integration tests, slow ones left out
    # One comment on the PR, from the bot: every job, the tests, ready to merge.
    [comment] = fake_github.state.comments(REPO, pull.number)
    assert comment.user == BOT
    assert "Ready to merge" in comment.body
    assert "Not ready" not in comment.body
    for job in ("check-label", "validation", "integration-tests"):
        assert f"`{job}`" in comment.body, job
    artifacts = result.artifacts
    assert 'failures="0"' in (artifacts / "unit-test-results" / "junit-unit.xml").read_text()
    integration = artifacts / "integration-test-results-and-logs"
    assert 'tests="4"' in (integration / "junit-integration.xml").read_text()
    assert sorted(p.stem for p in (integration / "logs").iterdir()) == SERVICES
    nothing_left(docker_client, result)


def failing_integration_test(repo: Path) -> None:
    (repo / "tests" / "integration" / "test_buckets.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.integration\n"
        "def test_the_trades_bucket_exists() -> None:\n"
        '    assert "trades" in [], "bucket trades is missing"\n')


@pytest.mark.e2e
@pytest.mark.docker
def test_full_check_not_ready_to_merge(tmp_path: Path, images: None, fake_github,  # type: ignore[no-untyped-def]
                                       docker_client: docker.DockerClient) -> None:
    pull, result = pull_request(fake_github, tmp_path, ["ready-for-merge"],
                                failing_integration_test)
    assert result.code != 0, result
    assert result.jobs == {"check-label": "succeeded", "quality": "succeeded",
                           "unit-tests": "succeeded", "integration-tests": "failed",
                           "summary": "failed"}, result
    assert re.search(r"::error[^\n]*test_the_trades_bucket_exists", result.log), result
    [comment] = fake_github.state.comments(REPO, pull.number)
    assert "Not ready to merge" in comment.body
    assert "test_the_trades_bucket_exists" in comment.body
    assert "bucket trades is missing" in comment.body
    # The logs are kept for the failure; the stack is gone all the same.
    integration = result.artifacts / "integration-test-results-and-logs"
    assert 'failures="1"' in (integration / "junit-integration.xml").read_text()
    assert "MinIO Object Storage Server" in (integration / "logs" / "minio.log").read_text()
    nothing_left(docker_client, result)


@pytest.mark.e2e
@pytest.mark.docker
def test_full_check_waits_for_the_label(tmp_path: Path, fake_github) -> None:  # type: ignore[no-untyped-def]
    pull, result = pull_request(fake_github, tmp_path, ["needs-review"])
    assert result.code == 0, result
    # The gate says why; nothing else runs, and no comment is written.
    assert result.jobs == {"check-label": "succeeded"}, result
    assert "missing label ready-for-merge" in result.log
    assert fake_github.state.comments(REPO, pull.number) == []


def unused_import(repo: Path) -> None:
    trades = repo / "src" / "k2" / "trades.py"
    text = trades.read_text()
    trades.write_text(text.replace("from dataclasses import", "import os\nfrom dataclasses import"))


@pytest.mark.e2e
def test_pr_validation_alone_is_fast_and_needs_no_docker(tmp_path: Path) -> None:
    """Tier 1 on a push to a pull request, as its own workflow: a lint error fails
    `quality` (ruff names the file and line); the unit tests pass beside it."""
    event = {"action": "synchronize", "number": 7,
             "pull_request": {"number": 7, "head": {"ref": "enhance-binance"},
                              "base": {"ref": "main"}},
             "repository": {"full_name": REPO}}
    result = run(tmp_path, "pr-validation.yml", unused_import, event_name="pull_request",
                 event=event)
    assert result.code != 0, result
    assert result.jobs == {"quality": "failed", "unit-tests": "succeeded"}, result
    assert "F401" in result.log
    assert "src/k2/trades.py:5:8" in result.log
    assert "7 passed" in result.log
    assert result.project_prefix not in result.log  # no stack, no Docker
    assert 'tests="7"' in (result.artifacts / "unit-test-results" / "junit-unit.xml").read_text()


def crashing_minio(repo: Path) -> None:
    compose = repo / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("k2-minio-secret", "short"))


def post_merge(tmp_path: Path, change=None) -> ExampleRun:  # type: ignore[no-untyped-def]
    return run(tmp_path, "post-merge.yml", change,
               variables={"SMTP_SERVER": "127.0.0.1", "SMTP_SECURITY": "none"},
               secrets={"MAIL_TO": MAIL_TO})


@pytest.mark.e2e
@pytest.mark.docker
def test_post_merge_green(tmp_path: Path, images: None, team_mail_server: SmtpServer,
                          docker_client: docker.DockerClient) -> None:
    result = post_merge(tmp_path)
    assert result.code == 0, result
    assert result.jobs == {"quality": "succeeded", "unit-tests": "succeeded",
                           "full-test-suite": "succeeded", "summary": "succeeded"}, result
    assert "12 passed" in result.log  # unit and integration, slow ones too
    assert "### ✅ All green" in result.log
    artifact = result.artifacts / "full-test-results-and-logs"
    assert 'tests="12"' in (artifact / "junit-all.xml").read_text()
    assert "<coverage" in (artifact / "coverage.xml").read_text()
    assert team_mail_server.received == []  # no mail for a green run
    nothing_left(docker_client, result)


@pytest.mark.e2e
@pytest.mark.docker
def test_post_merge_failure_mails_the_team(tmp_path: Path, images: None,
                                           team_mail_server: SmtpServer,
                                           docker_client: docker.DockerClient) -> None:
    result = post_merge(tmp_path, crashing_minio)
    assert result.code != 0, result
    assert result.jobs == {"quality": "succeeded", "unit-tests": "succeeded",
                           "full-test-suite": "failed", "summary": "failed"}, result
    log = result.log
    # compose-up-and-wait fails fast, names MinIO and shows why; the app never starts.
    assert re.search(r"::error[^\n]*minio", log), result
    assert "secret key length at least 8 characters" in log
    assert "app: not started" in log
    artifact = result.artifacts / "full-test-results-and-logs"
    assert not (artifact / "junit-all.xml").exists()  # the tests never ran
    assert "Invalid credentials" in (artifact / "logs" / "minio.log").read_text()
    [got] = team_mail_server.received
    assert got.recipients == [MAIL_TO]
    assert "failed" in got.message["Subject"]
    assert "full-test-suite" in got.message.get_body(("plain",)).get_content()
    nothing_left(docker_client, result)
