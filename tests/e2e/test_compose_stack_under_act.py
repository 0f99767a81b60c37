"""compose-up-and-wait and collect-logs under act, through their action.yml and the
launcher, in the order a real workflow uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stackci_testing.act import make_repo, run_act
from stackci_testing.docker import leftovers

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

STACK = Path(__file__).resolve().parent / "stack"


def test_up_read_outputs_fail_then_collect_and_tear_down(tmp_path: Path, docker_client) -> None:
    run = run_act(make_repo(tmp_path, {"e2e-stack": STACK}), "compose-stack.yml")
    # The job fails (its tests failed) ...
    assert run.code != 0, run
    assert "The tests fail" in run.log
    # ... after compose-up-and-wait brought the stack up and a later step read its outputs,
    project = run.result("project-name")
    assert project.startswith("stackci-s")
    services = json.loads(run.result("services"))
    assert services["db"]["ready"] is True
    assert services["db"]["health"] == "healthy"
    assert services["migrate"]["exit-code"] == 0
    assert services["web"]["ready"] is True
    assert float(run.result("ready-seconds")) > 0
    # ... and collect-logs, on `if: always()`, kept everything and tore the stack down.
    logs = run.results / "logs"
    assert "db ready" in (logs / "logs" / "db.log").read_text()
    assert "migrated" in (logs / "logs" / "migrate.log").read_text()
    assert (logs / "files" / "web" / "www" / "index.html").read_text() == "<h1>e2e</h1>\n"
    assert (logs / "index.md").is_file()
    assert json.loads(run.result("failed-services")) == []
    assert "logs/db.log" in json.loads(run.result("files"))
    assert not [thing for thing in leftovers(docker_client) if project in thing]
