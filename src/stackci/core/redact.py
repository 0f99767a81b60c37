"""Redaction of what StackCI writes to disk: literal secrets in any stream of bytes, and
secret-looking environment variables in `docker inspect` data.

Streams are redacted per complete line, so a secret split across two reads of a log
is still caught; memory stays bounded by the longest line (capped, see `LineRedactor`)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
MASK_BYTES = MASK.encode()
# A secret shorter than this would wreck the files it is redacted from (and the runner
# does not mask it either).
MIN_SECRET_LENGTH = 3
# Names of environment variables whose values are never written as they are.
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIAL|PRIVATE|AUTH", re.IGNORECASE
)
# A "line" longer than this (a binary blob on stdout, say) is redacted and written in
# pieces, so one endless line cannot hold the whole log in memory.
MAX_LINE = 1 << 20


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def redact_env(env: Iterable[str]) -> list[str]:
    """`NAME=value` entries with secret-looking names turned into `NAME=***`."""
    out = []
    for entry in env:
        name, sep, _ = entry.partition("=")
        out.append(f"{name}={MASK}" if sep and is_secret_name(name) else entry)
    return out


def redact_inspect(attrs: dict[str, Any]) -> dict[str, Any]:
    """A copy of a container's inspect data with secret-looking `Config.Env` values
    masked (the original is left alone)."""
    data = copy.deepcopy(attrs)
    config = data.get("Config")
    if isinstance(config, dict) and isinstance(config.get("Env"), list):
        config["Env"] = redact_env(str(e) for e in config["Env"])
    return data


class Secrets:
    """Literal strings to mask, as bytes, longest first (so a secret that contains
    another is masked whole)."""

    def __init__(self, values: Iterable[str]) -> None:
        unique = {v for v in values if len(v) >= MIN_SECRET_LENGTH}
        self.values = sorted((v.encode() for v in unique), key=len, reverse=True)
        self.longest = len(self.values[0]) if self.values else 0

    def __bool__(self) -> bool:
        return bool(self.values)

    def redact(self, data: bytes) -> bytes:
        for value in self.values:
            if value in data:
                data = data.replace(value, MASK_BYTES)
        return data

    def redact_text(self, text: str) -> str:
        return self.redact(text.encode()).decode(errors="replace") if self else text


class LineRedactor:
    """Redacts a byte stream fed in arbitrary pieces: complete lines go out redacted,
    a trailing partial line waits for the rest of it."""

    def __init__(self, secrets: Secrets, max_line: int = MAX_LINE) -> None:
        self._secrets = secrets
        self._pending = b""
        self._max_line = max(max_line, secrets.longest)

    def feed(self, data: bytes) -> bytes:
        if not self._secrets:
            return data
        data = self._pending + data if self._pending else data
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) > self._max_line:
            # No newline in sight: redact what we have, but keep back enough of the tail
            # to catch a secret that starts there and ends in the next piece.
            data = self._secrets.redact(data)
            cut = len(data) - (self._secrets.longest - 1)
            self._pending = data[cut:]
            return data[:cut]
        self._pending = data[cut:]
        return self._secrets.redact(data[:cut])

    def flush(self) -> bytes:
        rest, self._pending = self._pending, b""
        return self._secrets.redact(rest)
