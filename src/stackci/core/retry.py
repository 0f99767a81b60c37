"""Retry policies for every kind of I/O that is not GitHub's API (PyGithub retries
that itself, see `stackci.core.github`). Defined once here; action modules use them
and have no retry loops of their own."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from typing import Any, TypeVar

import docker.errors
import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

T = TypeVar("T")


def _is_transient_docker(exc: BaseException) -> bool:
    if isinstance(exc, docker.errors.NotFound | docker.errors.ImageNotFound):
        return False
    if isinstance(exc, docker.errors.APIError):
        return bool(exc.is_server_error())
    return isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError)


def _is_transient_http(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in {429, 500, 502, 503, 504}
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def _is_transient_smtp(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # 4xx: try again later, by definition
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError)


DOCKER = {"retry": retry_if_exception(_is_transient_docker), "stop": stop_after_attempt(4),
          "wait": wait_exponential_jitter(multiplier=0.2, max=3, jitter=0.2)}
HTTP = {"retry": retry_if_exception(_is_transient_http), "stop": stop_after_attempt(4),
        "wait": wait_exponential_jitter(multiplier=0.5, max=8, jitter=0.5)}
SMTP = {"retry": retry_if_exception(_is_transient_smtp),
        "stop": stop_after_attempt(4) | stop_after_delay(60),
        "wait": wait_exponential_jitter(multiplier=1, max=15, jitter=1)}


def call_with(policy: dict[str, Any], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn` under `policy`, re-raising the last error when retries run out."""
    return Retrying(reraise=True, **policy)(fn, *args, **kwargs)
