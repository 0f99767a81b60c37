"""The one reader of RFC 3339 / ISO 8601 times: the engine's (nanoseconds), GitHub's
(`Z`), and times users type in inputs (any zone offset)."""

from __future__ import annotations

import re
from datetime import datetime

_TIME = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?(Z|z|[+-]\d\d:?\d\d)?")


def parse_time(text: str, *, naive_is_utc: bool = True) -> float | None:
    """Seconds since the epoch; None when `text` is no such time. A fraction is cut to
    microseconds. Without a zone the time is UTC (GitHub's and the engine's are),
    unless `naive_is_utc` is false: then it is no time at all (None), for inputs where
    a zone-less time would be a guess."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    head, frac, zone = match.groups()
    if zone is None and not naive_is_utc:
        return None
    if zone in (None, "Z", "z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    stamp = f"{head.replace(' ', 'T')}.{(frac or '0')[:6]:0<6}{zone}"
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None
