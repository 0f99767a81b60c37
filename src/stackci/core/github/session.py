"""The GitHub session every GitHub action shares: its inputs (`github-token`, masked as
a secret, and `comment-author`), a client whose retries and waits never pass the
session's time budget, the repository and pull request the run is about (with why there
is none), who the token writes as, and the one mapping of a failed call to what the
action says and how it exits (`core.github.errors`).

    github = GitHubSettings.from_inputs(inputs, purpose="may write issues")
    session = GitHubSession(github, ctx, writes=ISSUES, timeout=120)
    with session.failures("could not open the issue"):   # 401: exit 2; else exit 1
        issue = session.repo.create_issue(...)
    with session.warnings(wf, "Could not comment", "The issue is open anyway."):
        session.sticky(issue.number, marker).upsert(body)  # failures become a warning
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from github import Github
from github.Issue import Issue
from github.Repository import Repository

from stackci.core.github.client import REQUEST_TIMEOUT, github_client
from stackci.core.github.errors import API_ERRORS, ApiProblem, ReadOnlyToken, explain
from stackci.core.github.pulls import PullLookup, resolve_pull, token_login
from stackci.core.github.sticky import Fit, StickyComment
from stackci.core.runner.context import RunContext
from stackci.core.runner.deadline import Deadline
from stackci.core.runner.errors import ActionFailed, BadInputs
from stackci.core.runner.forks import FORK_COMMENT_ADVICE
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.workflow import Workflow

# For an action without a `timeout` input: past a primary rate limit's longest wait
# (15 min), and an end for a job that would otherwise wait out an hour's Retry-After.
DEFAULT_BUDGET = 20 * 60.0


@dataclass(frozen=True)
class Writes:
    """What an action writes: the permission a read-only token lacks for it, and what to
    do about that (shown with the read-only warning)."""

    permission: str
    advice: str = ""


PR_COMMENTS = Writes("pull-requests: write", FORK_COMMENT_ADVICE)
ISSUES = Writes("issues: write")
NOTHING = Writes("")


@dataclass(frozen=True)
class GitHubSettings:
    """The inputs of every GitHub action. `comment_author` is the token's login when
    GitHub cannot tell (a GitHub App's token); empty: asked of GitHub."""

    token: str = field(repr=False)
    comment_author: str = ""

    @classmethod
    def from_inputs(cls, inputs: InputReader, *, purpose: str, author_input: bool = True,
                    required: bool = True) -> GitHubSettings:
        """`github-token` (registered for masking as it is read) and, when the action
        declares it (`author_input`), `comment-author`. `purpose` says what the token
        is for, in the error for an empty one: "can read the pull request". Not
        `required`: an empty token is no error, and the action asks GitHub nothing
        (`has_token` is False)."""
        token = inputs.secret("github-token")
        if not token and required:
            inputs.fail("github-token", f"a token that {purpose} (it was empty; the "
                                        "default is the workflow's own token)")
        return cls(token, inputs.text("comment-author") if author_input else "")

    @property
    def has_token(self) -> bool:
        """Whether there is a token: without one, GitHub is not asked anything."""
        return bool(self.token)


class GitHubSession:
    """One action's use of GitHub. Nothing is requested until used: `repo` and the
    objects read from it are lazy. Every request shares one deadline, `timeout` seconds
    from now (None: no budget); `request_timeout` bounds each attempt."""

    def __init__(self, settings: GitHubSettings, ctx: RunContext, *,
                 writes: Writes = NOTHING, timeout: float | None = DEFAULT_BUDGET,
                 request_timeout: int = REQUEST_TIMEOUT, retries: int = 10) -> None:
        self.ctx = ctx
        self.writes = writes
        self.deadline = Deadline(timeout)
        self.client: Github = github_client(
            settings.token, ctx, timeout=request_timeout, deadline=self.deadline,
            retries=retries, lazy=True)
        self._author = settings.comment_author

    # -- what the run is about ----------------------------------------------------------
    @cached_property
    def repo(self) -> Repository:
        """The run's repository (no request yet)."""
        if not self.ctx.repository:
            raise ActionFailed("GITHUB_REPOSITORY is not set: run in a workflow, or set it "
                               "to owner/name")
        return self.client.get_repo(self.ctx.repository)

    def find_pull(self, given: int | None = None) -> PullLookup:
        """The pull request to work on: `given` (a `pr-number` input), else the event's,
        the merge queue's, or for a push the open PR whose head is the commit; else None
        and why (`lookup.why_none`)."""
        return resolve_pull(self.ctx, self.repo, given)

    def issue(self, number: int) -> Issue:
        """An issue or pull request's conversation, by number (no request yet)."""
        return self.repo.get_issue(number)

    def author(self) -> str:
        """The login the token writes as: `comment-author`, else asked of GitHub once
        (the workflow token cannot ask, and is `github-actions[bot]`)."""
        if not self._author:
            self._author = token_login(self.client)
        return self._author

    def sticky(self, number: int, marker: str, fit: Fit | None = None) -> StickyComment:
        """The comment carrying `marker` on #`number` that the token's user wrote."""
        return StickyComment(self.issue(number), marker, self.author(), fit)

    # -- when a call fails --------------------------------------------------------------
    def explain(self, exc: BaseException) -> ApiProblem:
        """What a failed call means: its kind, one line to say, its exit code."""
        return explain(exc, self.ctx.api_url, self.writes.permission)

    def failure(self, exc: BaseException, doing: str = "") -> BadInputs | ActionFailed:
        """The exception that ends the action for `exc`: a rejected token is a bad
        `github-token` input (exit 2, nothing reported); anything else fails it (exit 1)
        with one line, `doing: why` (and for a read-only token, what to do about it)."""
        problem = self.explain(exc)
        if problem.input_error is not None:
            return BadInputs([problem.input_error])
        message = f"{doing}: {problem.message}" if doing else problem.message
        advice = self._advice(problem)
        return ActionFailed(f"{message}. {advice}" if advice else message)

    @contextmanager
    def failures(self, doing: str = "",
                 then: Callable[[str], None] | None = None) -> Iterator[None]:
        """A failed call in the block ends the action (`failure`). `then(message)` runs
        first when the action fails (exit 1), not for a bad input (exit 2: nothing is
        reported): it sets the outputs a later `if: failure()` step reads, say. An
        `ActionFailed` raised in the block (no repository) gets the same."""
        try:
            yield
        except ActionFailed as exc:
            if then is not None:
                then(str(exc))
            raise
        except API_ERRORS as exc:
            failed = self.failure(exc, doing)
            if then is not None and isinstance(failed, ActionFailed):
                then(str(failed))
            raise failed from exc

    @contextmanager
    def warnings(self, wf: Workflow, doing: str, consequence: str = "",
                 title: str | None = None) -> Iterator[None]:
        """A failed call in the block is a warning, `doing: why. consequence`, and the
        action goes on; except a rejected token, which is still a bad input."""
        try:
            yield
        except API_ERRORS as exc:
            problem = self.explain(exc)
            if problem.input_error is not None:
                raise BadInputs([problem.input_error]) from exc
            wf.warning(self._said(problem, doing, consequence), title=title)

    def read_only_warning(self, doing: str, consequence: str = "") -> str:
        """The warning for a write refused to the read-only token, for an action that
        falls back on something else (the job summary, say): it names the missing
        permission and says what to do."""
        return self._said(self.explain(ReadOnlyToken()), doing, consequence)

    def _advice(self, problem: ApiProblem) -> str:
        return self.writes.advice if problem.kind == "read-only" else ""

    def _said(self, problem: ApiProblem, doing: str, consequence: str) -> str:
        parts = (f"{doing}: {problem.message}", consequence, self._advice(problem))
        return " ".join(p if p.endswith(".") else f"{p}." for p in parts if p)
