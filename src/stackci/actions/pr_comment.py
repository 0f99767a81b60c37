"""pr-comment: one sticky comment per pull request and key, kept up to date with the
pipeline's verdict, test results, coverage and the user's own Markdown.

The comment is assembled from the run's results (`stackci.report`), then written to the
PR the run is about, found and written through the GitHub session. No PR is a notice and
a skip; a read-only token (a fork's PR) writes the comment to the job summary instead.
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
from stackci.core.runner.jobs import JobResult
from stackci.core.runner.workflow import Workflow
from stackci.report.assemble import assemble, footer_of
from stackci.report.comment import fit_comment, fits_summary, fork_summary, posted_summary
from stackci.report.comment import truncation_note as cut_note

MODES = ("upsert", "recreate", "append", "delete")
MAX_KEY_CHARS = 200
# A body file is Markdown for one comment; far beyond GitHub's limit it is a mistake.
MAX_BODY_FILE_BYTES = 4 * 1024 * 1024
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

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        pr_number = inputs.integer("pr-number", 0, minimum=1) or None
        body = inputs.markdown_or_file("body", "body-file", ctx.workspace,
                                       MAX_BODY_FILE_BYTES)
        needs = inputs.needs()
        junit = inputs.items("junit")
        coverage = inputs.items("coverage")
        key = inputs.text("key") or default_key(ctx)
        if len(key) > MAX_KEY_CHARS:
            inputs.fail("key", f"at most {MAX_KEY_CHARS} characters", key)
        mode = inputs.choice("mode", MODES, "upsert")
        said = (body is not None or inputs.optional_text("needs") is not None or junit
                or coverage)
        # A body-file given but unreadable has its own error: the one to report.
        tried_body = any(error.name == "body-file" for error in inputs.errors)
        if mode != "delete" and not said and not tried_body:
            inputs.fail("body", "something to post: at least one of body, body-file, needs, "
                        "junit or coverage (or mode: delete)")
        github = GitHubSettings.from_inputs(inputs, purpose="may write pull-request comments")
        return cls(pr_number, body, needs, junit, coverage, key, mode,
                   inputs.boolean("fail-on-read-only", False), github)


def run(settings: Settings, run: ActionRun) -> None:
    wf = run.wf
    comment = "" if settings.mode == "delete" else compose(settings, run)
    session = GitHubSession(settings.github, run.ctx, writes=PR_COMMENTS)

    def keep_in_summary(_: str) -> None:
        if comment:
            wf.summary.add(posted_summary("⚠️ The comment could not be posted", comment))

    with session.failures(then=keep_in_summary):
        lookup = session.find_pull(settings.pr_number)
        if lookup.number is None:
            skip_without_pr(wf, lookup.why_none, comment)
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
        fall_back_to_summary(settings, session, wf, number, comment)
        return
    report(wf, settings, number, outcome, comment)


def compose(settings: Settings, run: ActionRun) -> str:
    """Read the result files and render the comment (the full text, before fitting)."""
    ctx = run.ctx
    made = assemble(settings.body, settings.needs, junit=settings.junit,
                    coverage=settings.coverage, workspace=ctx.workspace, footer=footer_of(ctx))
    for problem in made.problems:
        run.wf.warning(problem.message, title=f"pr-comment: {problem.section}")
    return made.text


def skip_without_pr(wf: Workflow, why: str, comment: str) -> None:
    wf.notice(f"No pull request for this run: {why}; nothing to comment on.",
              title="pr-comment")
    set_outputs(wf, "skipped")
    if comment:
        wf.summary.add(posted_summary("ℹ️ No pull request: the comment was not posted", comment))


def fall_back_to_summary(settings: Settings, session: GitHubSession, wf: Workflow,
                         number: int, comment: str) -> None:
    """A read-only token (a fork's pull request): the comment goes to the job summary."""
    if comment:
        done = "The comment was written to this job's summary instead."
        wf.summary.add(fork_summary(number, comment))
    else:  # a delete: nothing to show
        done = f"Its comment {settings.key!r} (if any) was left as it is."
    wf.warning(session.read_only_warning(f"Could not write to pull request #{number}", done),
               title="pr-comment: read-only token")
    set_outputs(wf, "skipped")
    if settings.fail_on_read_only:
        raise ActionFailed(f"the token may not comment on pull request #{number} "
                           "(fail-on-read-only is true)")


def report(wf: Workflow, settings: Settings, number: int, outcome: StickyOutcome,
           comment: str) -> None:
    set_outputs(wf, ACTIONS[outcome.action], outcome)
    if outcome.duplicates_removed:
        wf.log(f"Removed {outcome.duplicates_removed} duplicate(s) of the comment.")
    if outcome.action == "absent":
        wf.notice(f"No comment with key {settings.key!r} on #{number}; nothing to delete.",
                  title="pr-comment")
        return
    what = DONE[outcome.action]
    wf.log(f"{what} the comment {settings.key!r} on #{number}: "
           f"{outcome.url or f'pull request #{number}'}")
    if comment:
        link = f"[the comment]({outcome.url})" if outcome.url else "the comment"
        wf.summary.add(posted_summary(f"💬 {what} {link} on #{number}", comment))


def set_outputs(wf: Workflow, action: str, outcome: StickyOutcome | None = None) -> None:
    wf.set_output("comment-id", str(outcome.comment_id or "") if outcome else "")
    wf.set_output("comment-url", outcome.url if outcome else "")
    wf.set_output("action", action)
