"""pr-comment: one sticky comment per pull request and key, kept up to date with the
pipeline's verdict, test results, coverage and the user's own Markdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import requests
from github import GithubException

from stackci.core.github.client import describe_api_error, github_client
from stackci.core.github.errors import ReadOnlyToken
from stackci.core.github.pulls import (
    find_pr_number_or_none,
    token_login,
)
from stackci.core.github.sticky import StickyComment, StickyOutcome, default_key, hidden_marker
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.forks import FORK_COMMENT_ADVICE
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.jobs import JobResult
from stackci.core.runner.workflow import Workflow
from stackci.report.comment import (
    CommentData,
    Footer,
    Unmatched,
    fit_comment,
    fits_summary,
    fork_summary,
    posted_summary,
    render_comment,
    truncation_note,
)
from stackci.report.coverage import read_coverage
from stackci.report.files import expand_globs
from stackci.report.junit import read_junit

MODES = ("upsert", "recreate", "append", "delete")
MAX_KEY_CHARS = 200
# A body file is Markdown for one comment; far beyond GitHub's limit it is a mistake.
MAX_BODY_FILE_BYTES = 4 * 1024 * 1024
ACTIONS = {"created": "created", "updated": "updated", "unchanged": "updated",
           "deleted": "deleted", "absent": "skipped"}


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
    github_token: str = field(repr=False)
    comment_author: str = ""  # the token's login, when GitHub cannot tell (an App's token)

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
        needs_given = inputs.optional_text("needs") is not None
        said = body is not None or needs_given or junit or coverage
        if mode != "delete" and not said and not _tried_body(inputs):
            inputs.fail("body", "something to post: at least one of body, body-file, needs, "
                        "junit or coverage (or mode: delete)")
        token = inputs.secret("github-token")
        if not token:
            inputs.fail("github-token", "a token that may write pull-request comments (the "
                        "default is the workflow's own token)")
        return cls(pr_number, body, needs, junit, coverage, key, mode,
                   inputs.boolean("fail-on-read-only", False), token,
                   inputs.text("comment-author"))


def _tried_body(inputs: InputReader) -> bool:
    """A body-file was given but could not be read: that error is the one to report."""
    return any(error.name == "body-file" for error in inputs.errors)


# -- the work ---------------------------------------------------------------------------
def run(settings: Settings, run: ActionRun) -> None:
    ctx, wf = run.ctx, run.wf
    if not ctx.repository:
        raise ActionFailed("GITHUB_REPOSITORY is not set: which repository's pull request?")
    comment = "" if settings.mode == "delete" else compose(settings, run)
    try:
        _publish(settings, run, comment)
    except (GithubException, requests.RequestException) as exc:
        message = describe_api_error(exc, ctx.api_url)
        wf.error(message, title="pr-comment: GitHub API")
        if comment:
            wf.summary.add(posted_summary("⚠️ The comment could not be posted", comment))
        raise ActionFailed(message, annotated=True) from exc


def _publish(settings: Settings, run: ActionRun, comment: str) -> None:
    ctx = run.ctx
    gh = github_client(settings.github_token, ctx, lazy=True)  # no request until needed
    repo = gh.get_repo(ctx.repository)
    number = settings.pr_number or find_pr_number_or_none(ctx, repo)
    if number is None:
        _skip_without_pr(run, comment)
        return
    note = truncation_note(ctx.run_url, whole_in_summary=fits_summary(comment))
    sticky = StickyComment(repo.get_issue(number), hidden_marker("pr-comment", settings.key),
                           settings.comment_author or token_login(gh),
                           fit=lambda body, room: fit_comment(body, room, note))
    try:
        outcome = OPERATIONS[settings.mode](sticky, comment)
    except ReadOnlyToken:
        _fall_back_to_summary(settings, run, number, comment)
        return
    _report(run, settings, number, outcome, comment)


def _skip_without_pr(run: ActionRun, comment: str) -> None:
    wf = run.wf
    wf.notice(f"No pull request for this run (event: {run.ctx.event_name or 'none'}); "
              "nothing to comment on.", title="pr-comment")
    _outputs(wf, "skipped")
    if comment:
        wf.summary.add(posted_summary("ℹ️ No pull request: the comment was not posted", comment))


def _fall_back_to_summary(settings: Settings, run: ActionRun, number: int, comment: str
                          ) -> None:
    """A read-only token (a fork's pull request): the comment goes to the job summary."""
    wf = run.wf
    if comment:
        done = "The comment was written to this job's summary instead."
        wf.summary.add(fork_summary(number, comment))
    else:  # a delete: nothing to show
        done = f"Its comment {settings.key!r} (if any) was left as it is."
    wf.warning(f"The token may not write to pull request #{number}. {done} "
               f"{FORK_COMMENT_ADVICE}", title="pr-comment: read-only token")
    _outputs(wf, "skipped")
    if settings.fail_on_read_only:
        raise ActionFailed(f"the token may not comment on pull request #{number} "
                           "(fail-on-read-only is true)")


OPERATIONS: dict[str, Callable[[StickyComment, str], StickyOutcome]] = {
    "upsert": StickyComment.upsert,
    "recreate": StickyComment.recreate,
    "append": StickyComment.append,
    "delete": lambda sticky, _: sticky.delete(),
}


def compose(settings: Settings, run: ActionRun) -> str:
    """Read the result files and render the comment (the full text, before fitting)."""
    ctx, wf = run.ctx, run.wf
    data = CommentData(body=settings.body, jobs=settings.needs, footer=footer(ctx))
    unmatched = Unmatched()
    if settings.junit:
        found = expand_globs(settings.junit, ctx.workspace)
        tests = read_junit(found.paths, ctx.workspace)
        unmatched = Unmatched(junit=found.unmatched)
        for name, why in tests.unreadable:
            wf.warning(f"{name} is not usable JUnit XML: {why}", title="pr-comment: junit")
        data = replace(data, tests=tests)
    if settings.coverage:
        found = expand_globs(settings.coverage, ctx.workspace)
        cov = read_coverage(found.paths, ctx.workspace)
        unmatched = Unmatched(unmatched.junit, found.unmatched)
        for name, why in cov.unreadable:
            wf.warning(f"{name} is not usable Cobertura XML: {why}",
                       title="pr-comment: coverage")
        data = replace(data, coverage=cov)
    for kind, patterns in (("junit", unmatched.junit), ("coverage", unmatched.coverage)):
        for pattern in patterns:
            wf.warning(f"no file matched {pattern!r} (relative to {ctx.workspace})",
                       title=f"pr-comment: {kind}")
    return render_comment(replace(data, unmatched=unmatched))


def footer(ctx: RunContext) -> Footer:
    head = (ctx.event.get("pull_request") or {}).get("head") or {}
    sha = str(head.get("sha") or ctx.sha)  # a PR run's GITHUB_SHA is the merge commit
    return Footer(ctx.run_url, ctx.run_number, ctx.workflow, sha)


def _report(run: ActionRun, settings: Settings, number: int, outcome: StickyOutcome,
            comment: str) -> None:
    wf = run.wf
    action = ACTIONS[outcome.action]
    _outputs(wf, action, outcome)
    if outcome.duplicates_removed:
        wf.log(f"Removed {outcome.duplicates_removed} duplicate(s) of the comment.")
    if outcome.action == "absent":
        wf.notice(f"No comment with key {settings.key!r} on #{number}; nothing to delete.",
                  title="pr-comment")
        return
    what = {"created": "Created", "updated": "Updated", "unchanged": "Kept (already up to date)",
            "deleted": "Deleted"}[outcome.action]
    where = outcome.url or f"pull request #{number}"
    wf.log(f"{what} the comment {settings.key!r} on #{number}: {where}")
    if comment:
        link = f"[the comment]({outcome.url})" if outcome.url else "the comment"
        wf.summary.add(posted_summary(f"💬 {what} {link} on #{number}", comment))


def _outputs(wf: Workflow, action: str, outcome: StickyOutcome | None = None) -> None:
    wf.set_output("comment-id", str(outcome.comment_id or "") if outcome else "")
    wf.set_output("comment-url", outcome.url if outcome else "")
    wf.set_output("action", action)
