"""The retry policy for plain HTTP calls to GitHub's API made without PyGithub (which
retries by itself, see `core.github.client`)."""

from __future__ import annotations

import requests
from tenacity import retry_if_exception, stop_after_attempt, wait_exponential_jitter

from stackci.core.runner.retrying import call_with

__all__ = ["HTTP", "call_with"]


def _is_transient_http(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in {429, 500, 502, 503, 504}
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


HTTP = {"retry": retry_if_exception(_is_transient_http), "stop": stop_after_attempt(4),
        "wait": wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5)}
