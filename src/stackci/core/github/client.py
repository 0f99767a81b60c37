"""The one way StackCI makes a GitHub client."""

from __future__ import annotations

import github
from github import Auth, Github, GithubRetry

from stackci.core.runner.context import RunContext

# PyGithub's own retry handles GitHub's rules better than ours would: it honours
# `Retry-After` and the secondary rate limit, and waits for `X-RateLimit-Reset` when the
# primary limit is exhausted. We add the 5xx statuses GitHub answers under load.
_RETRY_STATUSES = (500, 502, 503, 504)


def github_client(token: str, ctx: RunContext, timeout: int = 30) -> Github:
    retry = GithubRetry(
        total=10,
        backoff_factor=0.5,
        # 0.5, 1, 2, 4, 8, 8, ... s: a GitHub that stays down fails in about a minute.
        backoff_max=8,
        status_forcelist=list(_RETRY_STATUSES),  # GithubRetry appends 403 to a list
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


def describe_api_error(exc: Exception, api_url: str = "") -> str:
    """One line a person understands for a failed GitHub API call. Built from the status
    and GitHub's message only, so no request header (the token) can end up in it."""
    import requests  # noqa: PLC0415 - only needed when something went wrong

    if isinstance(exc, github.GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or "").strip() or "no message"
        hints = {
            401: "GitHub refused the token (is it valid, and not expired?)",
            403: "the token may not do this (check the job's `permissions:`)",
            404: "not found: it does not exist, or the token cannot see it",
        }
        hint = hints.get(exc.status, "GitHub refused the request")
        return f"{hint} (HTTP {exc.status}: {message})"
    if isinstance(exc, requests.exceptions.RetryError):
        return "GitHub kept answering with server errors (HTTP 5xx), also after retries"
    if isinstance(exc, requests.exceptions.RequestException):
        where = f" at {api_url}" if api_url else ""
        return f"the GitHub API{where} could not be reached ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"
