"""label-gate: open or close a gate on a pull request's labels, read live from the API.

The decision is a pure function of the rules and the PR's labels (`stackci.labels`);
with `fresh-labels` a label only counts when GitHub recorded it being applied after the
PR's latest push. A closed gate fails the step (or skips the gated work), and with
`comment` keeps an explanation on the PR until it opens. No PR (a push to main) is a
notice, never a failure: nobody can label a PR that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackci.core.github.session import PR_COMMENTS, GitHubSession, GitHubSettings
from stackci.core.github.sticky import default_key, hidden_marker
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.workflow import Workflow
from stackci.labels import (
    Report,
    Rules,
    failure_message,
    name_list,
    plain,
    render_comment,
    render_details,
    render_summary,
    split_labels,
    when,
)
from stackci.labels.pulls import GateRequest, gather

ON_MISMATCH = ("fail", "skip")


@dataclass(frozen=True)
class Settings:
    gate: GateRequest
    comment: bool
    github: GitHubSettings

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        rules = Rules(
            any_of=inputs.items("any-of", split=split_labels),
            all_of=inputs.items("all-of", split=split_labels),
            none_of=inputs.items("none-of", split=split_labels),
        )
        if not (rules.any_of or rules.all_of or rules.none_of):
            inputs.fail("any-of", "at least one label in any-of, all-of or none-of "
                                  "(all three are empty)")
        gate = GateRequest(
            rules=rules,
            pr_number=inputs.integer("pr-number", default=0, minimum=1) or None,
            on_mismatch=inputs.choice("on-mismatch", ON_MISMATCH, "fail"),
            fresh_labels=inputs.boolean("fresh-labels", default=False),
        )
        return cls(gate, inputs.boolean("comment", default=False),
                   GitHubSettings.from_inputs(inputs, purpose="can read the pull request"))


def run(settings: Settings, run: ActionRun) -> None:
    ctx, wf = run.ctx, run.wf
    session = GitHubSession(settings.github, ctx, writes=PR_COMMENTS)
    # Outputs are set whatever happens, so an `if: failure()` step can read `reason`;
    # a bad input (the token GitHub refused, the pr-number) is the exception.
    with session.failures("could not read the pull request's labels",
                          then=lambda why: set_closed_outputs(wf, why)):
        report = gather(settings.gate, session)
    publish(report, run)
    if settings.comment and report.pull is not None:
        keep_comment(report, session, run)
    if report.pull is None:
        wf.notice(plain(report.reason), title="label-gate: no pull request")
        return
    line = f"PR #{report.pull.number}: {plain(report.reason)}"
    if report.outcome == "skipped":
        wf.notice(line, title="label-gate: closed, skipping")
    elif report.outcome == "failed":
        # Our own annotation, in plain text; the summary gets the escaped Markdown.
        wf.error(line, title="label-gate: closed")
        raise ActionFailed(failure_message(report), render_details(report), annotated=True)


def keep_comment(report: Report, session: GitHubSession, run: ActionRun) -> None:
    """Upsert the explanation while the gate is closed, delete it once open. A failure
    here is a warning: the gate's decision stands either way."""
    assert report.pull is not None
    wf, number = run.wf, report.pull.number
    with session.warnings(wf, f"Could not write the explanation comment on PR #{number}",
                          "The gate's decision is unaffected.",
                          title="label-gate: comment not written"):
        sticky = session.sticky(number, hidden_marker("label-gate", default_key(run.ctx)))
        closed = not report.verdict.passed
        done = sticky.upsert(render_comment(report)) if closed else sticky.delete()
        wf.log(f"explanation comment on PR #{number}: {done.action}")


def publish(report: Report, run: ActionRun) -> None:
    """The log, the outputs and (unless the step fails: the handler writes it then) the
    job summary."""
    wf = run.wf
    with wf.group("label-gate"):
        if report.pull is not None:
            wf.log(f"PR #{report.pull.number}: labels now: "
                   f"{name_list(lb.name for lb in report.labels) or 'none'}")
        for rule, patterns in report.rules.given():
            wf.log(f"{rule}: {name_list(patterns)}")
        if report.fresh_labels and report.pull is not None:
            push = report.push
            wf.log(f"latest push: {when(push.at if push else None)}"
                   + (f" ({push.source})" if push else ""))
        wf.log(f"gate {'open' if report.should_run else 'closed'}: {report.reason}")
    wf.set_output("should-run", "true" if report.should_run else "false")
    wf.set_output("labels", [lb.name for lb in report.labels])
    wf.set_output("matched", list(report.verdict.matched))
    wf.set_output("reason", plain(report.reason))
    if report.outcome != "failed":
        wf.summary.add(render_summary(report))


def set_closed_outputs(wf: Workflow, reason: str) -> None:
    """The outputs when there is no decision (GitHub could not be read): the gate is
    closed, and `reason` says why, for a later `if: failure()` step."""
    wf.set_output("should-run", "false")
    wf.set_output("labels", [])
    wf.set_output("matched", [])
    wf.set_output("reason", plain(reason))
