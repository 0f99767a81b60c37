"""label-gate's Markdown, pinned by golden files (scripts/regen-golden.sh rewrites them):
the explanation comment and the job summary, rendered from data alone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from stackci.labels import (
    PrLabel,
    PullInfo,
    PushTime,
    Report,
    Rules,
    evaluate,
    failure_message,
    outcome_of,
    render_comment,
    render_details,
    render_summary,
)
from stackci_testing.golden import Golden

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
PULL = PullInfo(12, "Speed up the <importer> for @octo/core", "https://github.com/octo/app/pull/12")
ORIGIN = "CI · integration"


def report(rules: Rules, labels: list[PrLabel], on_mismatch: str = "fail",
           push: PushTime | None = None, fresh: bool = False) -> Report:
    verdict = evaluate(rules, labels)
    return Report(rules, tuple(labels), verdict, outcome_of(verdict, on_mismatch, True),
                  on_mismatch, PULL, fresh, push, origin=ORIGIN)


def stale_report(on_mismatch: str) -> Report:
    push = PushTime(T0 + timedelta(minutes=5), "a force push, as GitHub recorded it", True)
    return report(
        Rules(any_of=("safe-to-test", "maintainer-ok"), none_of=("do-not-test",)),
        [PrLabel("safe-to-test", T0, counts=False),
         PrLabel("bug", T0 + timedelta(minutes=6), counts=True)],
        on_mismatch, push, fresh=True)


HOSTILE = ["<img src=x onerror=alert(1)>", "[click](https://evil.example)", "@octo/everyone",
           "a|b", "``tick``", "# heading", "::error::injected"]


def test_comment_for_a_missing_label(golden: Golden) -> None:
    rendered = render_comment(report(Rules(all_of=("ready-for-merge",)),
                                     [PrLabel("bug"), PrLabel("docs")]))
    golden("label-gate/comment-missing-label.md", rendered)


def test_comment_for_a_label_applied_before_the_latest_push(golden: Golden) -> None:
    golden("label-gate/comment-stale-label.md", render_comment(stale_report("skip")))


def test_comment_with_hostile_label_names(golden: Golden) -> None:
    rendered = render_comment(report(Rules(all_of=("ready",), none_of=("*",)),
                                     [PrLabel(n) for n in HOSTILE]))
    golden("label-gate/comment-hostile-names.md", rendered)
    # Outside code spans nothing a label says is markup, a link or a mention ...
    prose = re.sub(r"(`+).*?\1", "", rendered)
    assert "<img" not in prose.replace("\\<img", "")
    assert "](https" not in prose.replace("\\](https", "")
    assert "@octo" not in prose
    # ... and a `|` in a name does not add a table column.
    [row] = [line for line in rendered.splitlines() if line.startswith("| `none-of`")]
    assert len(re.findall(r"(?<!\\)\|", row)) == 4


def test_summary_when_the_gate_opens(golden: Golden) -> None:
    rendered = render_summary(report(Rules(any_of=("test:*",), none_of=("do-not-merge",)),
                                     [PrLabel("test:e2e"), PrLabel("bug"), PrLabel("test:unit")]))
    golden("label-gate/summary-open.md", rendered)


def test_summary_when_skipping_on_a_stale_label(golden: Golden) -> None:
    golden("label-gate/summary-skipped-fresh.md", render_summary(stale_report("skip")))


def test_summary_when_failing(golden: Golden) -> None:
    failed = stale_report("fail")
    assert failed.outcome == "failed"
    # The action handler heads it with `### ❌ label-gate failed`, then these two parts.
    golden("label-gate/summary-failed.md",
           failure_message(failed) + "\n\n" + render_details(failed) + "\n")


def test_summary_without_a_pull_request(golden: Golden) -> None:
    rules = Rules(all_of=("ready-for-merge",))
    verdict = evaluate(rules, [])
    no_pr = Report(rules, (), verdict, "no-pr", "fail",
                   no_pr_reason="no open pull request has the pushed commit 1a2b3c4 as its head")
    golden("label-gate/summary-no-pr.md", render_summary(no_pr))
