"""failure-issue under act: a push pipeline whose build fails opens the issue, and the
same pipeline made green closes it. The jobs API answers from the fake's seed (act's own
run is not on the fake), the status from `needs`."""

from __future__ import annotations

import pytest

from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from stackci_testing.act import make_repo, run_act

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_a_failing_push_opens_the_issue_and_a_green_one_closes_it(tmp_path, fake_github,
                                                                  docker_client) -> None:
    repo = make_repo(tmp_path)
    state = fake_github.state
    runs = []
    for exit_code, conclusion in (("1", "failure"), ("0", "success")):
        seeded = state.add_workflow_run(
            REPO, "e" * 40, name="CI", head_branch="main", event="push",
            status="in_progress", conclusion=None,
            jobs=[{"name": "build", "status": "completed", "conclusion": conclusion,
                   "steps": [{"name": "Build", "conclusion": conclusion}],
                   "log": "compiling\nerror: the build broke\n"},
                  {"name": "report", "status": "in_progress", "conclusion": None}])
        runs.append(seeded)
        run = run_act(repo, "failure-issue.yml", event_name="push",
                      env={"GITHUB_API_URL": fake_github.url, "BUILD_EXIT": exit_code,
                           "GITHUB_RUN_ID": str(seeded.id)},
                      secrets={"GITHUB_TOKEN": WRITER_TOKEN})
        seeded.status, seeded.conclusion = "completed", conclusion
        if exit_code == "1":
            assert run.code != 0, run  # the build job failed the workflow
            assert run.result("action") == "created", run
            assert run.result("status") == "failure"
            [issue] = [i for i in state.repo(REPO).issues.values() if i.user == BOT]
            assert run.result("issue-number") == str(issue.number)
            assert issue.title == "CI failing: CI on main"
            assert "| build | Build | [log](" in (issue.body or "")
            assert "error: the build broke" in (issue.body or "")
        else:
            assert run.code == 0, run
            assert run.result("action") == "closed", run
            assert issue.state == "closed"
    assert WRITER_TOKEN not in (issue.body or "")
