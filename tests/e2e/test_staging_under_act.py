"""examples/staging under act, as its team would run it: the workflow file as written
(`uses: stackci/stackci/actions/<name>@v1` mapped to this checkout), stand-in images under
the public names (a real Redis; Ollama, nginx and Prometheus stand-ins with the same
commands, ports and health endpoints), artifacts on disk. Green once, then made to fail
twice: a failing test on a pull request (the fake GitHub server gets the comment) and a
Prometheus that crashes on its configuration, each reported where the team would look."""

from __future__ import annotations

import json
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

EXAMPLE = EXAMPLES / "staging"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "staging.yml"
COMPOSE = EXAMPLE / "docker-compose.test.yml"
IMAGES = ["ollama/ollama:0.5.7", "nginx:1.27-alpine", "prom/prometheus:v2.53.0",
          "redis:7-alpine"]
SERVICES = ["backend", "frontend", "ollama", "prometheus", "redis"]
GATE = "Staging Environment Success"
# What the team may run in a step besides our actions, checkout and artifacts.
COMMANDS = {
    "docker compose exec -T ollama ollama pull llama3.2:3b-instruct-fp16",
    "docker compose exec -T backend pytest",
    "docker compose exec -T backend ruff check .",
    "docker compose exec -T backend ruff format --check .",
    "docker compose exec -T backend bandit -r app -f json -o /tmp/bandit.json",
}


def test_the_workflow_is_thin() -> None:
    """Every step is one of our actions, a checkout, an artifact or one project command;
    every job has a timeout and its own narrow permissions; nothing papers over a failure."""
    lines = yaml_lines(WORKFLOW)
    assert len(lines) <= 60, len(lines)
    text = "\n".join(lines)
    assert not smells(text, "docker compose up", "write-all")
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"] == {}
    on = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main", "develop"]
    assert on["pull_request"]["branches"] == ["main", "develop"]
    assert "workflow_dispatch" in on
    runs = []
    for name, job in workflow["jobs"].items():
        assert job["timeout-minutes"] <= 30, name
        assert job["permissions"] in ({"contents": "read"}, {"pull-requests": "write"}), name
        for step in job["steps"]:
            uses = step.get("uses", "")
            assert uses.startswith("stackci/stackci/actions/") or re.fullmatch(
                r"actions/(checkout|upload-artifact|download-artifact)@[0-9a-f]{40}", uses) \
                or step.get("run") in COMMANDS, step
            runs += [step["run"]] if "run" in step else []
    assert len(runs) == len(COMMANDS)
    gate = workflow["jobs"]["staging-success"]
    assert gate["needs"] == "staging-build"
    assert gate["if"] == "always()"
    assert gate["steps"][-1]["with"]["gate"] is True


def test_the_stack_is_as_the_team_wrote_it() -> None:
    """Start periods 30/40/10/10 s and none for Redis; the backend waits for the LLM
    server, Prometheus and Redis to be healthy, the frontend for the backend; Grafana only
    in the `monitoring` profile."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    periods = {name: s["healthcheck"].get("start_period") for name, s in services.items()}
    assert periods == {"ollama": "30s", "backend": "40s", "frontend": "10s",
                       "prometheus": "10s", "redis": None, "grafana": "10s"}
    assert services["backend"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in ("ollama", "prometheus", "redis")}
    assert services["frontend"]["depends_on"] == {"backend": {"condition": "service_healthy"}}
    assert services["grafana"]["profiles"] == ["monitoring"]
    assert sorted(n for n, s in services.items() if "profiles" not in s) == SERVICES


@pytest.fixture(scope="module")
def images(docker_client: docker.DockerClient) -> None:
    standins.ensure(docker_client, IMAGES)


def run(tmp_path: Path, change=None, **kwargs) -> ExampleRun:  # type: ignore[no-untyped-def]
    repo = consumer_repo(tmp_path, "staging", change)
    return run_example(tmp_path, repo, "staging.yml", **kwargs)


@pytest.mark.e2e
@pytest.mark.docker
def test_green(tmp_path: Path, images: None, docker_client: docker.DockerClient) -> None:
    result = run(tmp_path)
    assert result.code == 0, result
    assert result.jobs == {"staging-build": "succeeded", GATE: "succeeded"}, result
    log = result.log
    # Started in dependency order, each once what it depends on was healthy.
    assert re.search(r"backend: starting[^\n]*(ollama|prometheus|redis)", log), result
    assert re.search(r"frontend: starting[^\n]*backend", log), result
    for check in ("http://backend:8000/health", "http://backend:8000/api/v1/health",
                  "http://frontend/", "frontend proxy", "http://prometheus:9090/-/ready"):
        assert f"smoke {check} passed" in log, check
    assert "writing manifest" in log  # the model pulled
    assert "11 passed" in log
    assert "### ✅ All green" in log  # the gate's summary
    artifact = result.artifacts / "staging-logs-and-reports"
    junit = (artifact / "junit.xml").read_text()
    assert 'errors="0" failures="0" skipped="0" tests="11"' in junit
    assert "<coverage" in (artifact / "coverage.xml").read_text()
    assert json.loads((artifact / "security" / "bandit.json").read_text())["results"] == []
    assert sorted(p.stem for p in (artifact / "logs").iterdir()) == SERVICES
    assert "Listening on [::]:11434" in (artifact / "logs" / "ollama.log").read_text()
    assert "GET /api/v1/health" in (artifact / "logs" / "backend.log").read_text()
    assert not left_behind(docker_client, result)


def failing_test(repo: Path) -> None:
    (repo / "backend" / "tests" / "test_signals.py").write_text(
        "from app.main import decide\n\n\n"
        "def test_a_flat_market_is_a_buy() -> None:\n"
        "    assert decide('BTCUSD', 0.0) == 'BUY', 'flat markets should be bought'\n")


@pytest.mark.e2e
@pytest.mark.docker
def test_a_failing_test_on_a_pull_request(tmp_path: Path, images: None, fake_github,  # type: ignore[no-untyped-def]
                                          docker_client: docker.DockerClient) -> None:
    pull = fake_github.state.add_pull(REPO, title="Signals for flat markets", head_ref="flat")
    event = {"action": "synchronize", "number": pull.number,
             "pull_request": {"number": pull.number, "head": {"ref": "flat",
                                                              "sha": pull.pull.head_sha},
                              "base": {"ref": "develop"}},
             "repository": {"full_name": REPO}}
    result = run(tmp_path, failing_test, event_name="pull_request", event=event,
                 env={"GITHUB_API_URL": fake_github.url},
                 secrets={"GITHUB_TOKEN": WRITER_TOKEN})
    assert result.code != 0, result
    assert result.jobs == {"staging-build": "failed", GATE: "failed"}, result
    log = result.log
    # The failed test is an error annotation, in the gate's summary and in the one
    # comment on the pull request, which says it is not ready to merge.
    assert re.search(r"::error[^\n]*test_a_flat_market_is_a_buy", log), result
    assert "### ❌ Not ready to merge" in log
    [comment] = fake_github.state.comments(REPO, pull.number)
    assert comment.user == BOT
    assert "Not ready to merge" in comment.body
    assert "test_a_flat_market_is_a_buy" in comment.body
    assert "flat markets should be bought" in comment.body
    artifact = result.artifacts / "staging-logs-and-reports"
    assert 'failures="1"' in (artifact / "junit.xml").read_text()
    assert "<coverage" in (artifact / "coverage.xml").read_text()
    assert sorted(p.stem for p in (artifact / "logs").iterdir()) == SERVICES
    assert not left_behind(docker_client, result)


def crashing_prometheus(repo: Path) -> None:
    config = repo / "monitoring" / "prometheus.yml"
    config.write_text(config.read_text().replace("scrape_configs:", "scrape_config:"))


@pytest.mark.e2e
@pytest.mark.docker
def test_a_crashing_prometheus(tmp_path: Path, images: None,
                               docker_client: docker.DockerClient) -> None:
    result = run(tmp_path, crashing_prometheus)
    assert result.code != 0, result
    assert result.jobs == {"staging-build": "failed", GATE: "failed"}, result
    log = result.log
    # compose-up-and-wait fails fast, names prometheus and shows why; nothing that
    # depends on it starts, and no test runs.
    assert re.search(r"::error[^\n]*prometheus", log), result
    assert "field scrape_config not found" in log
    assert "backend: not started" in log
    assert "frontend: not started" in log
    artifact = result.artifacts / "staging-logs-and-reports"
    assert not (artifact / "junit.xml").exists()
    assert "Error loading config" in (artifact / "logs" / "prometheus.log").read_text()
    assert "### ❌ Not green" in log
    assert not left_behind(docker_client, result)
