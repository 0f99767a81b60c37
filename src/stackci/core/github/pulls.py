"""Which pull request a run is about, and who the token is: shared by every action that
talks to pull requests."""

from __future__ import annotations

import re

from github import Github, GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from stackci.core.runner.context import RunContext

# The workflow token is an installation token: GET /user answers 403 for it, and what it
# writes is signed by this bot.
WORKFLOW_TOKEN_USER = "github-actions[bot]"  # noqa: S105 - a login, not a secret
_QUEUE_REF = re.compile(r"gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]+$")


class ReadOnlyToken(Exception):  # noqa: N818 - reads as what it is
    """The token may read but not write (a pull request from a fork gets such a token)."""


def is_read_only_refusal(exc: GithubException) -> bool:
    message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
    return exc.status == 403 and "not accessible by integration" in message


def token_login(gh: Github) -> str:
    """The login whose comments and issues are ours."""
    try:
        return str(gh.get_user().login)
    except GithubException as exc:
        if exc.status == 403:  # an installation (workflow) token
            return WORKFLOW_TOKEN_USER
        raise


def queue_pr_number(ref: str) -> int | None:
    """The PR of a merge-queue ref: refs/heads/gh-readonly-queue/main/pr-123-<sha>."""
    match = _QUEUE_REF.search(ref)
    return int(match.group(1)) if match else None


def find_pr_number(ctx: RunContext, repo: Repository) -> int | None:
    """The PR this run is about: the event's own, a merge queue's, or for a push the
    open PR whose head is the pushed commit. None when there is none."""
    if ctx.event_pr_number is not None:
        return ctx.event_pr_number
    if ctx.event_issue_number is not None:
        return None  # an event about a plain issue: its commit is the default branch's
    if ctx.event_name == "merge_group":
        head_ref = str((ctx.event.get("merge_group") or {}).get("head_ref", "")) or ctx.ref
        return queue_pr_number(head_ref)
    if not ctx.sha:
        return None
    candidates: list[PullRequest] = [
        pr for pr in repo.get_commit(ctx.sha).get_pulls()
        if pr.state == "open" and pr.head.sha == ctx.sha
    ]
    # Several open PRs can share a head commit; the one from this branch wins.
    candidates.sort(key=lambda pr: (pr.head.ref != ctx.branch, pr.number))
    return candidates[0].number if candidates else None


def find_pr_number_or_none(ctx: RunContext, repo: Repository) -> int | None:
    """`find_pr_number`, with a commit GitHub does not know (404/422 from the lookup of
    its pull requests) meaning no pull request."""
    try:
        return find_pr_number(ctx, repo)
    except GithubException as exc:
        if exc.status in (404, 422):
            return None
        raise
