"""Reading a pull request's state for the gate: its labels, live, and with
`fresh-labels` when each was applied and when the head was last pushed, by every clue
GitHub gives (`latest_push` picks the latest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from stackci.core.github.session import GitHubSession
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import BadInputs, InputError
from stackci.core.text.times import parse_time as parse_rfc3339
from stackci.labels.report import PullInfo, Report, outcome_of, without_pull
from stackci.labels.rules import PrLabel, PushTime, Rules, evaluate, judge_freshness, latest_push


@dataclass(frozen=True)
class PullState:
    info: PullInfo
    labels: tuple[PrLabel, ...]
    push: PushTime | None


def parse_time(text: object) -> datetime | None:
    """A time from GitHub's JSON (`2024-05-01T10:00:00Z`); None when it is none."""
    seconds = parse_rfc3339(text) if isinstance(text, str) else None
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def event_push(ctx: RunContext, pr: PullRequest) -> PushTime | None:
    """A `synchronize` run is the push itself: its payload's `updated_at` is GitHub's time
    for it, valid while the head is still the commit that push brought."""
    payload = ctx.event.get("pull_request") or {}
    if (ctx.event_name not in ("pull_request", "pull_request_target")
            or ctx.event.get("action") != "synchronize"
            or payload.get("number") != pr.number
            or (payload.get("head") or {}).get("sha") != pr.head.sha):
        return None
    at = parse_time(payload.get("updated_at"))
    return PushTime(at, "the push that triggered this run, as GitHub recorded it",
                    True) if at else None


def fork_push(ctx: RunContext, pr: PullRequest) -> PushTime | None:
    """For a PR from a fork, the fork's `pushed_at`: GitHub's time of the latest push to
    any branch of the fork, so never earlier than the push of the PR's head."""
    head_repo = (pr.raw_data.get("head") or {}).get("repo") or {}
    name = str(head_repo.get("full_name") or "")
    at = parse_time(head_repo.get("pushed_at"))
    if not name or name.casefold() == ctx.repository.casefold() or at is None:
        return None
    return PushTime(at, f"the latest push to the fork {name}, as GitHub recorded it", True)


def read_freshness(repo: Repository, pr: PullRequest, ctx: RunContext
                   ) -> tuple[dict[str, datetime], PushTime | None]:
    """When each label was last applied, and the latest push by every clue GitHub gives."""
    applied: dict[str, datetime] = {}
    clues: list[PushTime] = []
    for event in pr.get_issue_events():
        # Only the attributes every listed event carries are read: reading a missing one
        # would make PyGithub fetch the event again.
        if event.event == "labeled" and event.label is not None:
            key = event.label.name.casefold()
            applied[key] = max(applied.get(key, event.created_at), event.created_at)
        elif event.event == "head_ref_force_pushed":
            clues.append(PushTime(event.created_at, "a force push, as GitHub recorded it",
                                  True))
    head = pr.head.sha
    committed = repo.get_commit(head).commit.committer.date
    clues.append(PushTime(committed, f"the committer date of the head commit {head[:7]} "
                                     "(set on the committer's machine)", False))
    clues += [c for c in (event_push(ctx, pr), fork_push(ctx, pr)) if c is not None]
    return applied, latest_push(clues)


def get_pull(repo: Repository, number: int) -> PullRequest | None:
    """The pull request, read now; None when GitHub has none by that number (a 404 for
    the pull request itself: an issue's number, or no such number)."""
    try:
        pr = repo.get_pull(number)
        pr.complete()  # a lazy client reads it only now
    except GithubException as exc:
        if exc.status != 404:
            raise
        repo.complete()  # a repository we cannot see is a failure to read, not a bad number
        return None
    return pr


def read_pull(repo: Repository, pr: PullRequest, ctx: RunContext, fresh: bool) -> PullState:
    number = pr.number
    # Live: the PR as GitHub has it now carries its labels (the payload's may be stale).
    names = [label.name for label in pr.labels]
    info = PullInfo(number, pr.title or "", f"{ctx.server_url}/{ctx.repository}/pull/{number}")
    if not fresh:
        return PullState(info, tuple(PrLabel(n) for n in names), None)
    applied, push = read_freshness(repo, pr, ctx)
    return PullState(info, tuple(judge_freshness(names, applied, push)), push)


@dataclass(frozen=True)
class GateRequest:
    """What to judge: the rules, the PR (`pr_number`; None: the run's own), and how."""

    rules: Rules
    pr_number: int | None
    on_mismatch: str
    fresh_labels: bool


def gather(request: GateRequest, session: GitHubSession) -> Report:
    """Read the PR (one request; with `fresh-labels` its events and head commit too) and
    judge it. A `pr-number` that is no pull request is a bad input; a run that is about
    none is judged against no labels, with the reason why there is no PR."""
    ctx, repo = session.ctx, session.repo
    lookup = session.find_pull(request.pr_number)
    if lookup.number is None:
        return without_pull(request.rules, request.on_mismatch, lookup.why_none)
    pr = get_pull(repo, lookup.number)
    if pr is None:
        if request.pr_number is not None:
            raise BadInputs([InputError("pr-number", f"a pull request of {ctx.repository} "
                                        "(GitHub has none by that number)",
                                        str(lookup.number))])
        why = f"#{lookup.number} of this {ctx.event_name} run is an issue, not a pull request"
        return without_pull(request.rules, request.on_mismatch, why)
    state = read_pull(repo, pr, ctx, request.fresh_labels)
    verdict = evaluate(request.rules, state.labels)
    origin = " · ".join(x for x in (ctx.workflow, ctx.job) if x)
    return Report(request.rules, state.labels, verdict,
                  outcome_of(verdict, request.on_mismatch, True), request.on_mismatch,
                  state.info, request.fresh_labels, state.push, origin=origin)
