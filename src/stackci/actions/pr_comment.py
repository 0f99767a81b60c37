"""pr-comment: the pipeline's report, for every event. The job summary always has it
(the verdict on the needed jobs, test results, coverage, the user's Markdown); each
failed test is an error annotation; on a pull request it is also one sticky comment per
key, kept up to date; with `gate: true` the step fails unless the verdict is green.

The report is assembled from the run's results (`stackci.report`), then, with a token,
written to the PR the run is about, found and written through the GitHub session. No
token: the summary alone, nothing asked of GitHub. No PR is a notice and a skip; a
read-only token (a fork's PR) writes the comment to the job summary instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stackci.core.github.errors import ReadOnlyToken
from stackci.core.github.session import PR_COMMENTS, GitHubSession, GitHubSettings
from stackci.core.github.sticky import StickyComment, StickyOutcome, default_key, hidden_marker
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.jobs import JOB_NAMES, Allowances, JobResult, parse_job_names, unknown_jobs
from stackci.core.runner.workflow import Workflow
from stackci.report.assemble import Assembled, assemble, footer_of
from stackci.report.comment import (
    MAX_FAILURES_LISTED,
    fit_comment,
    fits_summary,
    fork_summary,
    posted_summary,
    report_summary,
)
from stackci.report.comment import truncation_note as cut_note
from stackci.report.locate import failure_notes, more_note
from stackci.report.needs import NO_ALLOWANCES

MODES = ("upsert", "recreate", "append", "delete")
MAX_KEY_CHARS = 200
# A body file is Markdown for one comment; far beyond GitHub's limit it is a mistake.
MAX_BODY_FILE_BYTES = 4 * 1024 * 1024
# GitHub shows 10 error annotations per step (actions/toolkit, docs/problem-matchers.md,
# "Limitations"); one is kept for the step's own error (the gate's, GitHub's).
TEST_ANNOTATIONS = 9
ACTIONS = {"created": "created", "updated": "updated", "unchanged": "updated",
           "deleted": "deleted", "absent": "skipped"}
DONE = {"created": "Created", "updated": "Updated", "unchanged": "Kept (already up to date)",
        "deleted": "Deleted"}
OPERATIONS: dict[str, Callable[[StickyComment, str], StickyOutcome]] = {
    "upsert": StickyComment.upsert,
    "recreate": StickyComment.recreate,
    "append": StickyComment.append,
    "delete": lambda sticky, _: sticky.delete(),
}


@dataclass(frozen=True)
class Settings:
    pr_number: int | None
    body: str | None
    needs: tuple[JobResult, ...] | None
    junit: tuple[str, ...]
    coverage: tuple[str, ...]
    key: str
    mode: str
    fail_on_read_only: bool
    github: GitHubSettings
    gate: bool = False
    allowances: Allowances = NO_ALLOWANCES

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        pr_number = inputs.integer("pr-number", 0, minimum=1) or None
        body = inputs.markdown_or_file("body", "body-file", ctx.workspace,
                                       MAX_BODY_FILE_BYTES)
        needs = inputs.needs()
        needs_given = inputs.optional_text("needs") is not None
        junit = inputs.items("junit")
        coverage = inputs.items("coverage")
        key = inputs.text("key") or default_key(ctx)
        if len(key) > MAX_KEY_CHARS:
            inputs.fail("key", f"at most {MAX_KEY_CHARS} characters", key)
        mode = inputs.choice("mode", MODES, "upsert")
        said = body is not None or needs_given or junit or coverage
        # A body-file given but unreadable has its own error: the one to report.
        tried_body = any(error.name == "body-file" for error in inputs.errors)
        if mode != "delete" and not said and not tried_body:
            inputs.fail("body", "something to post: at least one of body, body-file, needs, "
                        "junit or coverage (or mode: delete)")
        github = GitHubSettings.from_inputs(inputs, purpose="may write pull-request comments",
                                            required=mode == "delete")
        gate = inputs.boolean("gate", False)
        if gate and not (needs_given or junit):
            inputs.fail("gate", "needs or junit for the gate to judge (gate: true judges "
                        "the jobs in needs and the tests in the junit files)", "true")
        allowed = {name: allowed_jobs(inputs, name, needs, needs_given)
                   for name in ("allowed-skips", "allowed-failures")}
        return cls(pr_number, body, needs, junit, coverage, key, mode,
                   inputs.boolean("fail-on-read-only", False), github, gate,
                   Allowances(allowed["allowed-skips"], allowed["allowed-failures"]))


def allowed_jobs(inputs: InputReader, name: str, needs: tuple[JobResult, ...] | None,
                 needs_given: bool) -> frozenset[str]:
    """An allowed-skips or allowed-failures list: names of jobs in `needs`, every one."""
    names = inputs.items(name, parse_job_names)
    if names and needs is None and not needs_given:
        inputs.fail(name, f"{JOB_NAMES} (needs is not given)", ", ".join(names))
    elif names and needs is not None and (unknown := unknown_jobs(names, needs)):
        known = ", ".join(j.job for j in needs)
        inputs.fail(name, f"names of jobs in needs ({known}); not in needs",
                    ", ".join(unknown))
    return frozenset(names)


def run(settings: Settings, run: ActionRun) -> None:
    wf, ctx = run.wf, run.ctx
    for_pull = about_pull(ctx, settings.pr_number)
    made = compose(settings, run, for_pull)
    text = made.text if made else ""
    verdict = made.verdict if made else None
    wf.set_output("verdict", "" if verdict is None else
                  ("ready" if verdict.ready else "not-ready"))
    if made:
        annotate_failures(made, run)
    if settings.github.has_token:
        post(settings, run, "" if settings.mode == "delete" else text, text)
    else:
        summary_only(wf, text, for_pull)
    if settings.gate and verdict is not None:  # last: the report is out whatever it says
        if not verdict.ready:
            raise ActionFailed(verdict.gate_failure())
        wf.log(f"Quality gate: green ({verdict.headline.split(' ', 1)[-1]}).")


def about_pull(ctx: RunContext, given: int | None) -> bool:
    """Whether the run is about a pull request before GitHub is asked (the verdict is
    then worded for one: "Ready to merge")."""
    return (given is not None or ctx.event_pr_number is not None
            or ctx.event_name == "merge_group")


def compose(settings: Settings, run: ActionRun, for_pull: bool) -> Assembled | None:
    """Read the result files and render the report (the full text, before fitting);
    None when there is nothing to report (a delete)."""
    s, ctx = settings, run.ctx
    if s.body is None and s.needs is None and not s.junit and not s.coverage:
        return None
    made = assemble(s.body, s.needs, junit=s.junit, coverage=s.coverage,
                    workspace=ctx.workspace, footer=footer_of(ctx),
                    allowances=s.allowances, for_pull=for_pull)
    for problem in made.problems:
        run.wf.warning(problem.message, title=f"pr-comment: {problem.section}")
    return made


def annotate_failures(made: Assembled, run: ActionRun) -> None:
    """One error annotation per failed test, as many as GitHub shows, then a note."""
    found = failure_notes(made.failures, run.ctx.workspace, TEST_ANNOTATIONS)
    for note in found.shown:
        run.wf.error(note.message, title=note.title, file=note.file, line=note.line)
    if found.more:
        run.wf.notice(more_note(found.more, len(made.failures), TEST_ANNOTATIONS + 1,
                                run.ctx.run_url, MAX_FAILURES_LISTED),
                      title="pr-comment: failed tests")


def summary_only(wf: Workflow, text: str, for_pull: bool) -> None:
    """No token: nothing asked of GitHub; the report goes to the job summary."""
    said = "No github-token: GitHub was not asked, and the report is in the job summary only."
    if for_pull:  # a comment was to be expected
        wf.notice(said, title="pr-comment")
    else:
        wf.log(said)
    set_outputs(wf, "skipped")
    if text:
        wf.summary.add(report_summary(text, "<sub>Not posted as a comment: no "
                                            "`github-token` was given.</sub>"))


def post(settings: Settings, run: ActionRun, comment: str, text: str) -> None:
    """The sticky comment on the run's pull request (`comment`, empty for a delete);
    the job summary gets the report (`text`) whatever happens."""
    wf = run.wf
    session = GitHubSession(settings.github, run.ctx, writes=PR_COMMENTS)

    def keep_in_summary(_: str) -> None:
        if text:
            wf.summary.add(posted_summary("⚠️ The comment could not be posted", text))

    with session.failures(then=keep_in_summary):
        lookup = session.find_pull(settings.pr_number)
        if lookup.number is None:
            skip_without_pr(wf, lookup.why_none, text)
            return
        number = lookup.number
        note = cut_note(run.ctx.run_url, whole_in_summary=fits_summary(comment))
        sticky = session.sticky(number, hidden_marker("pr-comment", settings.key),
                                fit=lambda body, room: fit_comment(body, room, note))
        try:
            outcome: StickyOutcome | None = OPERATIONS[settings.mode](sticky, comment)
        except ReadOnlyToken:
            outcome = None  # not a failure: the fallback below
    if outcome is None:
        fall_back_to_summary(settings, session, wf, number, text)
        return
    report(wf, settings, number, outcome, text)


def skip_without_pr(wf: Workflow, why: str, text: str) -> None:
    wf.notice(f"No pull request for this run: {why}; nothing to comment on.",
              title="pr-comment")
    set_outputs(wf, "skipped")
    if text:
        wf.summary.add(posted_summary("ℹ️ No pull request: the comment was not posted", text))


def fall_back_to_summary(settings: Settings, session: GitHubSession, wf: Workflow,
                         number: int, text: str) -> None:
    """A read-only token (a fork's pull request): the comment goes to the job summary."""
    if settings.mode != "delete":
        done = "The comment was written to this job's summary instead."
    else:  # a delete: nothing to show
        done = f"Its comment {settings.key!r} (if any) was left as it is."
    if text and settings.mode != "delete":
        wf.summary.add(fork_summary(number, text))
    elif text:
        wf.summary.add(posted_summary("⚠️ The comment could not be deleted (the token is "
                                      "read-only)", text))
    wf.warning(session.read_only_warning(f"Could not write to pull request #{number}", done),
               title="pr-comment: read-only token")
    set_outputs(wf, "skipped")
    if settings.fail_on_read_only:
        raise ActionFailed(f"the token may not comment on pull request #{number} "
                           "(fail-on-read-only is true)")


def report(wf: Workflow, settings: Settings, number: int, outcome: StickyOutcome,
           text: str) -> None:
    set_outputs(wf, ACTIONS[outcome.action], outcome)
    if outcome.duplicates_removed:
        wf.log(f"Removed {outcome.duplicates_removed} duplicate(s) of the comment.")
    if outcome.action == "absent":
        wf.notice(f"No comment with key {settings.key!r} on #{number}; nothing to delete.",
                  title="pr-comment")
        headline = f"ℹ️ No comment to delete on #{number}"
    else:
        what = DONE[outcome.action]
        wf.log(f"{what} the comment {settings.key!r} on #{number}: "
               f"{outcome.url or f'pull request #{number}'}")
        link = f"[the comment]({outcome.url})" if outcome.url else "the comment"
        headline = f"💬 {what} {link} on #{number}"
    if text:
        wf.summary.add(posted_summary(headline, text))


def set_outputs(wf: Workflow, action: str, outcome: StickyOutcome | None = None) -> None:
    wf.set_output("comment-id", str(outcome.comment_id or "") if outcome else "")
    wf.set_output("comment-url", outcome.url if outcome else "")
    wf.set_output("action", action)
