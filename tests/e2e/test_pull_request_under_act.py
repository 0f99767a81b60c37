"""A pull request pipeline under act: a pull_request event file, GITHUB_API_URL at the
fake GitHub server, each action through its action.yml and the launcher."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from stackci_testing.act import make_repo, run_act

pytestmark = [pytest.mark.e2e, pytest.mark.docker]

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"


def test_gate_opens_and_one_summary_comment_is_upserted(tmp_path: Path, fake_github,
                                                        docker_client) -> None:
    pull = fake_github.state.add_pull(REPO, title="Add search", head_ref="feature/search",
                                      labels=["Ready-For-Merge", "docs"])
    event = {"action": "synchronize", "number": pull.number,
             "pull_request": {"number": pull.number, "labels": [],  # stale: read live
                              "head": {"ref": "feature/search", "sha": pull.pull.head_sha}},
             "repository": {"full_name": REPO}}
    repo = make_repo(tmp_path, {"e2e-data/junit.xml": DATA / "junit-green.xml",
                                "e2e-coverage/coverage.xml": DATA / "coverage.xml"})
    for attempt in (1, 2):  # a re-run updates the same comment
        run = run_act(repo, "pull-request.yml", event_name="pull_request", event=event,
                      env={"GITHUB_API_URL": fake_github.url},
                      secrets={"GITHUB_TOKEN": WRITER_TOKEN})
        assert run.code == 0, run
        assert run.result("comment-action") == ("created" if attempt == 1 else "updated")
    assert run.result("should-run") == "true"
    assert json.loads(run.result("labels")) == ["Ready-For-Merge", "docs"]
    # The gate read the labels live (the PR as GitHub has it now), as the token's user.
    reads = fake_github.requests(path=rf"/repos/{REPO}/pulls/{pull.number}")
    assert reads
    assert {r.user for r in reads} == {BOT}
    # One sticky comment, from the bot, with the jobs' verdict and the test totals.
    [comment] = fake_github.state.comments(REPO, pull.number)
    assert comment.user == BOT
    assert str(comment.id) == run.result("comment-id")
    assert "Ready to merge" in comment.body
    assert "<!-- stackci:pr-comment:" in comment.body
    # act masks registered secrets in its log, so the token itself never shows there:
    # what the actions produced is checked unmasked (outputs, as the next steps saw
    # them, and the comment), and in the log (which has each step's output, outputs and
    # summary) a `***` anywhere but act's echo of the one `::add-mask::` per action is a
    # secret act had to hide.
    produced = [run.result(n) for n in ("should-run", "reason", "labels", "comment-action",
                                        "comment-id", "comment-url")] + [comment.body]
    assert not [text for text in produced if WRITER_TOKEN in text]
    masked = [line for line in run.log.splitlines() if "***" in line]
    assert len(masked) == 2, masked  # label-gate's and pr-comment's add-mask
    assert all(re.fullmatch(r"\[pull request/(gate|comment)\]\s+⚙\s+\*\*\*", line)
               for line in masked), masked
