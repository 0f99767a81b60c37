"""The one way StackCI makes a GitHub client."""

from __future__ import annotations

import github
from github import Auth, Github, GithubRetry

from stackci.core.context import RunContext

# PyGithub's own retry handles GitHub's rules better than ours would: it honours
# `Retry-After` and the secondary rate limit, and waits for `X-RateLimit-Reset` when the
# primary limit is exhausted. We add the 5xx statuses GitHub answers under load.
_RETRY_STATUSES = (500, 502, 503, 504)


def github_client(token: str, ctx: RunContext, timeout: int = 30) -> Github:
    retry = GithubRetry(
        total=10,
        backoff_factor=0.5,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=None,  # writes too: our writes are idempotent or de-duplicated
        secondary_rate_wait=60,
        max_rate_limit_wait=15 * 60,
    )
    return Github(
        auth=Auth.Token(token),
        base_url=ctx.api_url,
        per_page=100,
        retry=retry,
        timeout=timeout,
        user_agent="stackci",
        # GitHub asks integrations to space out writes; reads need no pause.
        seconds_between_requests=None,
        seconds_between_writes=1.0,
    )


GithubException = github.GithubException
