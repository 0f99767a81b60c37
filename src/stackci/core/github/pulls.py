"""Which pull request a run is about (and, when none, why), and who the token is:
shared by every action that talks to pull requests, through the session."""

from __future__ import annotations

import re
from dataclasses import dataclass

from github import Github, GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from stackci.core.runner.context import RunContext

# The workflow token is an installation token: GET /user answers 403 for it, and what it
# writes is signed by this bot.
WORKFLOW_TOKEN_USER = "github-actions[bot]"  # noqa: S105 - a login, not a secret
_QUEUE_REF = re.compile(r"gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]+$")


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


@dataclass(frozen=True)
class PullLookup:
    """The pull request a run is about, or None and a sentence saying why there is none
    (`no open pull request has the pushed commit 1a2b3c4 as its head`)."""

    number: int | None
    why_none: str = ""


def resolve_pull(ctx: RunContext, repo: Repository, given: int | None = None) -> PullLookup:
    """`given` (an action's `pr-number`) when set, else the run's own (`find_pr_number`)."""
    if given is not None:
        return PullLookup(given)
    number = find_pr_number_or_none(ctx, repo)
    if number is not None:
        return PullLookup(number)
    return PullLookup(None, why_no_pull(ctx))


def why_no_pull(ctx: RunContext) -> str:
    if ctx.event_issue_number is not None:
        return (f"#{ctx.event_issue_number} of this {ctx.event_name} run is an issue, not a "
                "pull request")
    if ctx.event_name == "push":
        return f"no open pull request has the pushed commit {ctx.sha[:7]} as its head"
    if ctx.event_name == "merge_group":
        return f"the merge queue ref {ctx.ref or '?'} names no pull request"
    return f"this {ctx.event_name or 'local'} run is not about a pull request"
