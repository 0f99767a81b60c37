"""The retry policy for SMTP: 4xx replies and dropped connections are transient."""

from __future__ import annotations

import smtplib

from tenacity import (
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from stackci.core.runner.retrying import call_with

__all__ = ["SMTP", "call_with"]


def _is_transient_smtp(exc: BaseException) -> bool:
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # 4xx: try again later, by definition
    return isinstance(exc, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError)


SMTP = {"retry": retry_if_exception(_is_transient_smtp),
        "stop": stop_after_attempt(4) | stop_after_delay(60),
        "wait": wait_exponential_jitter(multiplier=1, max=15, jitter=1)}
