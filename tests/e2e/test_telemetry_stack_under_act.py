"""examples/telemetry-stack under act, as its team would run it: the workflow file as
written (`uses: stackci/stackci/actions/<name>@v1` mapped to this checkout), stand-in
images under the public names (real PostgreSQL and Redis), artifacts on disk, a real
SMTP server for the failure mail. Green once, then made to fail twice: a failing test
and a crashing Kafka, each reported where the team would look."""

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
from stackci_testing.smtp import SmtpServer

EXAMPLE = EXAMPLES / "telemetry-stack"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "ci.yml"
IMAGES = ["postgres:15-alpine", "redis:7-alpine", "confluentinc/cp-zookeeper:7.5.0",
          "confluentinc/cp-kafka:7.5.0", "bitnami/spark:3.5.0"]
MAIL_TO = "team@telemetra.dev"
SERVICES = ["backend", "kafka", "postgres", "redis", "spark-master", "spark-worker",
            "zookeeper"]


def test_the_workflow_is_thin() -> None:
    """At most 55 lines of YAML; nothing papers over a failure or waits by hand."""
    lines = yaml_lines(WORKFLOW)
    assert len(lines) <= 55, len(lines)
    text = "\n".join(lines)
    assert not smells(text)
    workflow = yaml.safe_load(WORKFLOW.read_text())
    for name, job in workflow["jobs"].items():
        assert "timeout-minutes" in job, name
        assert "permissions" in job, name
        for step in job["steps"]:
            uses = step.get("uses", "")
            assert uses.startswith(("stackci/stackci/actions/", "actions/")) or \
                step.get("run") == "docker compose exec -T backend pytest", step
    # Every StackCI action is used as users will use it.
    used = re.findall(r"uses: (stackci/stackci/actions/[a-z-]+@v1)", text)
    assert sorted(set(used)) == [f"stackci/stackci/actions/{a}@v1" for a in (
        "collect-logs", "compose-up-and-wait", "notify-email", "pr-comment")]


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient) -> None:
    standins.ensure(docker_client, IMAGES)


def run(tmp_path: Path, change=None) -> ExampleRun:  # type: ignore[no-untyped-def]
    repo = consumer_repo(tmp_path, "telemetry-stack", change)
    return run_example(tmp_path, repo, "ci.yml", variables={
        "SMTP_SERVER": "127.0.0.1", "SMTP_SECURITY": "none", "CI_MAIL_TO": MAIL_TO})


@pytest.mark.e2e
@pytest.mark.docker
def test_green(tmp_path: Path, images: None, team_mail_server: SmtpServer,
               docker_client: docker.DockerClient) -> None:
    result = run(tmp_path)
    assert result.code == 0, result
    assert result.jobs == {"ci": "succeeded", "quality-gates": "succeeded"}, result
    log = result.log
    assert "backend: starting" in log  # started once its dependencies were ready
    assert "smoke http://localhost:8000/api/v1/streams passed" in log
    assert "smoke http://localhost:8000/api/v1/health passed" in log
    assert "4 passed" in log
    assert "### ✅ All green" in log  # the quality gate's summary
    artifact = result.artifacts / "test-results-and-logs"
    assert '<testsuite name="pytest" errors="0" failures="0" skipped="0" tests="4"' in \
        (artifact / "junit.xml").read_text()
    assert "<coverage" in (artifact / "coverage.xml").read_text()
    assert sorted(p.stem for p in (artifact / "logs").iterdir()) == SERVICES
    assert "[KafkaServer id=1] started" in (artifact / "logs" / "kafka.log").read_text()
    assert team_mail_server.received == []  # no mail for a green run
    assert not left_behind(docker_client, result)


def failing_test(repo: Path) -> None:
    (repo / "backend" / "tests" / "test_totals.py").write_text(
        "def test_stream_totals_add_up() -> None:\n"
        "    assert sum([1, 2]) == 4, 'totals do not add up'\n")


@pytest.mark.e2e
@pytest.mark.docker
def test_a_failing_test(tmp_path: Path, images: None, team_mail_server: SmtpServer,
                        docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, failing_test)
    assert result.code != 0, result
    assert result.jobs == {"ci": "failed", "quality-gates": "failed", "notify": "succeeded"}, result
    log = result.log
    # The failed test is an error annotation and in the summary; the gate names it.
    assert re.search(r"::error[^\n]*test_stream_totals_add_up", log), result
    assert "### ❌ Not green" in log
    _, report, after = log.partition("Summary - ### 📋 Pipeline report")
    assert report, result
    assert "test_stream_totals_add_up" in after
    artifact = result.artifacts / "test-results-and-logs"
    assert 'failures="1"' in (artifact / "junit.xml").read_text()
    [got] = team_mail_server.received
    assert got.recipients == [MAIL_TO]
    assert "failed" in got.message["Subject"]
    assert not left_behind(docker_client, result)


def crashing_kafka(repo: Path) -> None:
    compose = repo / "infra" / "docker-compose.yml"
    compose.write_text(compose.read_text().replace("KAFKA_BROKER_ID: 1", "KAFKA_BROKER_ID: one"))


@pytest.mark.e2e
@pytest.mark.docker
def test_a_crashing_kafka(tmp_path: Path, images: None, team_mail_server: SmtpServer,
                          docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, crashing_kafka)
    assert result.code != 0, result
    assert result.jobs == {"ci": "failed", "quality-gates": "failed", "notify": "succeeded"}, result
    log = result.log
    # compose-up-and-wait fails fast, names kafka and shows why; the backend never starts.
    assert re.search(r"::error[^\n]*kafka", log), result
    assert "Invalid value one for configuration broker.id" in log
    assert "backend: not started" in log
    artifact = result.artifacts / "test-results-and-logs"
    assert not (artifact / "junit.xml").exists()  # the tests never ran
    assert "ConfigException" in (artifact / "logs" / "kafka.log").read_text()
    assert "### ❌ Not green" in log
    [got] = team_mail_server.received
    assert "failed" in got.message["Subject"]
    assert not left_behind(docker_client, result)
