"""The one way StackCI makes a GitHub client, with a deadline no retry or wait passes.

PyGithub's own retry (`GithubRetry`, a urllib3 `Retry`) handles GitHub's rules better
than ours would: it honours `Retry-After` and the secondary rate limit, and waits for
`X-RateLimit-Reset` when the primary limit is exhausted. What it lacks is an overall
budget: an hour's `Retry-After` or a reset far off is slept through. Two hooks add one:

- `DeadlineRetry.sleep`: urllib3 calls it for every wait between attempts (a rate
  limit's reset or `Retry-After`, or the backoff after a 5xx or a broken connection).
  A wait that would pass the deadline is not begun: `DeadlinePassed` instead.
- `AttemptTimeout`: urllib3 clones the request's timeout at the start of every attempt
  (retries included); the clone's connect and read timeouts are capped by the time left,
  and with none left the attempt is not made.
"""

from __future__ import annotations

import time
from typing import Any, Self

from github import Auth, Github, GithubRetry
from urllib3.response import BaseHTTPResponse
from urllib3.util import Timeout

from stackci.core.github.errors import DeadlinePassed, describe_api_error
from stackci.core.runner.context import RunContext
from stackci.core.runner.deadline import Deadline, seconds_text

__all__ = ["AttemptTimeout", "DeadlineRetry", "describe_api_error", "github_client"]

# We add the 5xx statuses GitHub answers under load.
_RETRY_STATUSES = (500, 502, 503, 504)
REQUEST_TIMEOUT = 30  # seconds, for one attempt
MAX_RATE_LIMIT_WAIT = 15 * 60  # the longest reset worth waiting for, whatever the budget


class DeadlineRetry(GithubRetry):
    """`GithubRetry` whose waits never pass `deadline`."""

    def __init__(self, deadline: Deadline | None = None, **kwargs: Any) -> None:
        self.deadline = deadline or Deadline(None)
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> Self:  # urllib3 makes a new Retry after every attempt
        kw["deadline"] = self.deadline
        return super().new(**kw)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        # As `Retry.sleep` decides: a truthy Retry-After, else the backoff (which
        # GithubRetry has set to the rate limit's reset, when that is what it was).
        after = (self.get_retry_after(response)
                 if self.respect_retry_after_header and response is not None else None)
        wait = after or self.get_backoff_time()
        left = self.deadline.remaining()
        if wait >= left:
            raise DeadlinePassed(self.deadline, self.last_answer(), wait)
        if wait > 0:
            time.sleep(wait)

    def last_answer(self) -> str:
        """What the last attempt ran into, for the message."""
        last = self.history[-1] if self.history else None
        if last is None:
            return ""
        if last.status in (403, 429):
            return f"GitHub's rate limit (HTTP {last.status})"
        if last.status:
            return f"HTTP {last.status}"
        return type(last.error).__name__ if last.error is not None else "an error"


class AttemptTimeout(int, Timeout):
    """A request timeout of `seconds` per attempt, capped by the time `deadline` has
    left. An `int` because PyGithub insists on one; a urllib3 `Timeout` because
    requests hands such a timeout to urllib3 as it is, which clones it per attempt."""

    deadline: Deadline

    def __new__(cls, seconds: int, deadline: Deadline) -> Self:
        made = int.__new__(cls, seconds)
        Timeout.__init__(made, connect=seconds, read=seconds)
        made.deadline = deadline
        return made

    def __init__(self, seconds: int, deadline: Deadline) -> None:  # done in __new__
        pass

    def clone(self) -> Timeout:
        left = self.deadline.remaining()
        if left <= 0:
            raise DeadlinePassed(self.deadline)
        seconds = min(float(int(self)), left)
        return Timeout(connect=seconds, read=seconds)

    def __repr__(self) -> str:
        return f"AttemptTimeout({int(self)}, {seconds_text(self.deadline.remaining())} left)"


def github_client(token: str, ctx: RunContext, *, timeout: int = REQUEST_TIMEOUT,
                  deadline: Deadline | None = None, retries: int = 10,
                  lazy: bool = False) -> Github:
    """A client for `ctx.api_url`. `timeout` is per attempt; `deadline` bounds every
    wait and attempt of every request made through it. `lazy`: objects are read when
    first used (`get_repo` makes no request)."""
    deadline = deadline or Deadline(None)
    retry = DeadlineRetry(
        deadline,
        total=retries,
        backoff_factor=0.5,
        # 0.5, 1, 2, 4, 8, 8, ... s: a GitHub that stays down fails in about a minute.
        backoff_max=8,
        status_forcelist=list(_RETRY_STATUSES),  # GithubRetry appends 403 to a list
        allowed_methods=None,  # writes too: our writes are idempotent or de-duplicated
        secondary_rate_wait=60,
        max_rate_limit_wait=MAX_RATE_LIMIT_WAIT,
    )
    return Github(
        auth=Auth.Token(token),
        base_url=ctx.api_url,
        per_page=100,
        retry=retry,
        timeout=AttemptTimeout(timeout, deadline) if deadline.budget is not None else timeout,
        user_agent="stackci",
        # GitHub asks integrations to space out writes; reads need no pause.
        seconds_between_requests=None,
        seconds_between_writes=1.0,
        lazy=lazy,
    )
