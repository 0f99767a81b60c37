"""The one mapping of a failed GitHub API call to what the action says and its exit code.

| what happened                                  | kind          | exit              |
|------------------------------------------------|---------------|-------------------|
| 401 (`BadCredentialsException`)                | `bad-token`   | 2: bad input      |
| a write refused to a read-only token (403      | `read-only`   | 1, or the action's|
| "Resource not accessible by integration")      |               | fallback: warning |
| the rate limit, past what StackCI waits for    | `rate-limit`  | 1                 |
| the session's time budget would be passed      | `deadline`    | 1                 |
| any other 403                                  | `forbidden`   | 1                 |
| 404                                            | `not-found`   | 1                 |
| any other status (422, a 5xx not retried)      | `refused`     | 1                 |
| 5xx still, after the retries                   | `server`      | 1                 |
| no connection, a timeout                       | `unreachable` | 1                 |

A bad input names the `github-token` input: "input 'github-token': expected a token
GitHub accepts (it answered 401 Bad credentials)".

Messages are one line of plain text, built from the status and GitHub's own message
only, so no request header (the token) can end up in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import requests
from github import GithubException
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
)

from stackci.core.runner.action import EXIT_FAILED, EXIT_USAGE
from stackci.core.runner.deadline import Deadline, seconds_text
from stackci.core.runner.errors import InputError

READ_ONLY_REFUSAL = "Resource not accessible by integration"

ProblemKind = Literal["bad-token", "read-only", "rate-limit", "deadline", "forbidden",
                      "not-found", "refused", "server", "unreachable", "other"]


class ReadOnlyToken(Exception):  # noqa: N818 - reads as what it is
    """The token may read but not write (a pull request from a fork gets such a token)."""


class DeadlinePassed(Exception):  # noqa: N818
    """Waiting for GitHub any longer (a retry, a rate limit's reset, a slow answer) would
    pass the session's time budget. `last` is what the last attempt ran into (`HTTP
    502`, `ReadTimeoutError`), `wait` the wait it asked for, when there was one."""

    def __init__(self, deadline: Deadline, last: str = "", wait: float = 0.0) -> None:
        spent = f"gave up on GitHub after {seconds_text(deadline.elapsed())}"
        budget = f"the {deadline.describe()} time budget"
        if wait > 0 and deadline.remaining() > 0:
            asked = f"{last} asks to wait" if "rate limit" in last else (
                f"after {last}, the next retry is in" if last else "the next retry is in")
            message = f"{spent}: {asked} {seconds_text(wait)}, past {budget}"
        else:
            message = f"{spent}: {budget} ran out" + (f" ({last})" if last else "")
        super().__init__(message)
        self.last = last
        self.wait = wait


def is_read_only_refusal(exc: GithubException) -> bool:
    message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
    return exc.status == 403 and READ_ONLY_REFUSAL.casefold() in message.casefold()


# What a person needs to read into each status (the rest is GitHub's own message).
_HINTS = {
    401: "GitHub refused the token (is it valid, and not expired?)",
    403: "the token may not do this (check the job's `permissions:`)",
    404: "not found: it does not exist, or the token cannot see it",
    429: "GitHub's rate limit refused the request",
}

API_ERRORS: tuple[type[Exception], ...] = (
    GithubException, requests.RequestException, DeadlinePassed, ReadOnlyToken)
"""What a GitHub API call raises when it fails, for `except` clauses (the session's)."""


@dataclass(frozen=True)
class ApiProblem:
    """A failed call, explained: `message` is one line of plain text; `input_error` is
    set for a bad input (the token), which the handler reports as exit 2."""

    kind: ProblemKind
    message: str
    input_error: InputError | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_USAGE if self.input_error is not None else EXIT_FAILED


def explain(exc: BaseException, api_url: str = "", permission: str = "") -> ApiProblem:
    """The problem `exc` stands for. `permission` names what a refused write needed
    (`pull-requests: write`), for the read-only message."""
    if isinstance(exc, ReadOnlyToken):
        lacks = f": it lacks `{permission}`" if permission else ""
        return ApiProblem("read-only", f"the token is read-only{lacks} (GitHub answered 403 "
                                       f"'{READ_ONLY_REFUSAL}')")
    if isinstance(exc, DeadlinePassed):
        return ApiProblem("deadline", str(exc))
    if isinstance(exc, GithubException):
        return _explain_status(exc)
    if isinstance(exc, requests.exceptions.RetryError):
        return ApiProblem("server", "GitHub kept answering with server errors (HTTP 5xx), "
                                    "also after retries")
    if isinstance(exc, requests.exceptions.RequestException):
        where = f" at {api_url}" if api_url else ""
        return ApiProblem("unreachable", f"the GitHub API{where} could not be reached "
                                         f"({type(exc).__name__})")
    return ApiProblem("other", f"{type(exc).__name__}: {exc}")


def _explain_status(exc: GithubException) -> ApiProblem:
    data = exc.data if isinstance(exc.data, dict) else {}
    said = " ".join(str(data.get("message") or "").split()) or "no message"
    detail = f"(HTTP {exc.status}: {said})"
    if isinstance(exc, BadCredentialsException) or exc.status == 401:
        return ApiProblem("bad-token", f"{_HINTS[401]} {detail}", InputError(
            "github-token", f"a token GitHub accepts (it answered 401 {said})"))
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        wait = f" in {exc.wait:.0f} s" if exc.wait is not None else ""
        return ApiProblem("rate-limit", f"GitHub's rate limit resets{wait}, later than StackCI "
                                        f"waits for it {detail}")
    if isinstance(exc, RateLimitExceededException):
        return ApiProblem("rate-limit", f"GitHub's rate limit is exhausted {detail}")
    kind: ProblemKind = ("forbidden" if exc.status == 403 else
                         "not-found" if exc.status == 404 else "refused")
    return ApiProblem(kind, f"{_HINTS.get(exc.status, 'GitHub refused the request')} {detail}")


def describe_api_error(exc: BaseException, api_url: str = "") -> str:
    """One line a person understands for a failed GitHub API call."""
    return explain(exc, api_url).message
