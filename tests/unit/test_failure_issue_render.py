"""failure-issue's Markdown, compared with golden files under tests/golden/failure-issue/
(after an intended change: scripts/regen-golden.sh, then review the diff); and what run
data crafted to inject Markdown can and cannot do."""

from __future__ import annotations

import dataclasses
import re
import zlib
from typing import Any

from stackci.core.github.run_facts import BrokenSince, RunFacts
from stackci.core.github.runs import CommitInfo, Comparison, RunInfo
from stackci.core.github.sticky import MAX_COMMENT_CHARS
from stackci.core.runner.jobs import JobResult
from stackci.incident import render
from stackci.incident.model import IssueKey

SERVER = "https://github.com"
RUN_URL = f"{SERVER}/octo/app/actions/runs/9001"
T = 1_714_550_400.0


def run_info(number: int, conclusion: str, sha: str) -> RunInfo:
    return RunInfo(8000 + number, number, 1, 5, "CI", sha, "main", "push", "octocat",
                   "completed", conclusion, f"{SERVER}/octo/app/actions/runs/{8000 + number}",
                   T - 3600 * (50 - number))


def job(name: str, result: str, steps: tuple[str, ...] = (), seconds: float = 61) -> JobResult:
    job_id = zlib.crc32(name.encode()) % 10_000
    return JobResult(name, result, url=f"{RUN_URL}/job/{job_id}", started_at=T,
                     completed_at=T + seconds, failed_steps=steps, job_id=job_id)


def facts(**extra: Any) -> RunFacts:
    base = RunFacts(
        repository="octo/app", workflow="CI", branch="main", run_id="9001", run_number="42",
        run_attempt="1", run_url=RUN_URL, event="push", actor="octocat", sha="c" * 40,
        server_url=SERVER, status="failure",
        jobs=(job("build", "success", seconds=30), job("test (3.11)", "failure", ("Run pytest",)),
              job("test (3.12)", "failure", ("Run pytest",)), job("lint", "success", seconds=12),
              job("deploy", "skipped", seconds=0)),
        commit=CommitInfo("c" * 40, "Speed up the cache", "dev-a",
                          f"{SERVER}/octo/app/commit/{'c' * 40}"),
        broken_since=BrokenSince(
            run_info(40, "success", "a" * 40), run_info(41, "failure", "b" * 40),
            Comparison(f"{SERVER}/octo/app/compare/aaaaaaa...ccccccc", 2,
                       (CommitInfo("b" * 40, "Bump the cache library", "dev-b",
                                   f"{SERVER}/octo/app/commit/{'b' * 40}"),
                        CommitInfo("c" * 40, "Speed up the cache", "dev-a",
                                   f"{SERVER}/octo/app/commit/{'c' * 40}")))),
        logs={"test (3.11)": "collected 120 items\nFAILED tests/test_cache.py::test_hit\n"
                             "1 failed, 119 passed in 3.2s"},
    )
    return dataclasses.replace(base, **extra)


def test_the_issue_body(golden) -> None:
    made = facts()
    text = render.issue_body(made, failed=made.failed, extra="Ask #team-ci.",
                             threshold_note="")
    assert "### Broken since" in text
    golden("failure-issue/issue-body.md", text)


def test_a_later_failure_comment(golden) -> None:
    made = facts(run_number="43", run_attempt="2")
    golden("failure-issue/failure-comment.md",
           render.failure_comment(made, failed=made.failed))


def test_the_recovery_comment(golden) -> None:
    golden("failure-issue/recovery-comment.md",
           render.recovery_comment(facts(status="success"), successes_needed=2))


HOSTILE = "x`|@octo/team #1 [click](https://evil.example) ![i](https://e/x.png) <b>hi</b>"
FORGED = IssueKey("octo/app", "CI", "main").marker


def outside_code(text: str) -> str:
    """The text that GitHub renders as Markdown: code blocks and code spans removed
    (nothing inside them links, mentions or renders)."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", text, flags=re.M | re.S)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


def test_run_data_cannot_inject_markdown_mentions_links_or_a_marker() -> None:
    made = facts(branch=f"main{HOSTILE}", actor="@octo/admins",
                 commit=CommitInfo("c" * 40, f"{FORGED} {HOSTILE}", "@someone", ""),
                 jobs=(job(f"test {HOSTILE}", "failure", (f"step {HOSTILE}",)),),
                 logs={f"test {HOSTILE}": f"{FORGED}\n```\n</details>\n@octo/team"})
    text = render.issue_body(made, failed=made.failed, extra="", threshold_note="")
    # No mention, issue reference, link, image or tag survives unescaped.
    rendered = outside_code(text)
    assert "@octo" not in rendered.replace("@\u200bocto", "")
    assert "](https://evil.example)" not in rendered.replace("\\](https://evil.example)", "")
    assert "<b>" not in rendered
    assert "#1 " not in rendered.replace("#\u200b1", "")
    # The only markers are ours, where we put them: none is on a line of its own.
    assert FORGED not in text
    # Tables keep their shape: a row of the failed-jobs table has its 3 cells, one of
    # the status table its 4 (the `|` of the job's name is escaped).
    rows = [line for line in text.splitlines() if line.startswith("| test")]
    assert len(rows) == 2
    assert sorted(len(re.findall(r"(?<!\\)\|", row)) for row in rows) == [4, 5], rows


def test_a_300_job_run_stays_under_the_limit() -> None:
    many = tuple(job(f"matrix leg {i} {'x' * 120}", "failure" if i % 3 else "success",
                     tuple(f"step {s}" for s in range(5))) for i in range(300))
    made = facts(jobs=many, logs={j.job: "line\n" * 40 for j in many})
    text = render.issue_body(made, failed=made.failed, extra="", threshold_note="")
    assert len(text) + render.MARKER_ROOM <= MAX_COMMENT_CHARS
    assert "more jobs: see the run." in text or "more failed jobs: see the run." in text
