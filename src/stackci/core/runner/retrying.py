"""Calling a function under a tenacity retry policy. The policies themselves live
beside what they retry (`core.engine.retry`, `core.github.retry`, `core.mail.retry`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from tenacity import Retrying

T = TypeVar("T")


def call_with(policy: dict[str, Any], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call `fn` under `policy`, re-raising the last error when retries run out."""
    return Retrying(reraise=True, **policy)(fn, *args, **kwargs)
