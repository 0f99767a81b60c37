"""Redaction of what StackCI writes to disk: literal secrets in any stream of bytes, and
secret-looking environment variables in `docker inspect` data.

Streams are redacted per complete line, so a secret split across two reads of a log
is still caught; memory stays bounded by the longest line (capped, see `LineRedactor`)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

MASK = "***"
MASK_BYTES = MASK.encode()
# A secret shorter than this would wreck the files it is redacted from (and the runner
# does not mask it either).
MIN_SECRET_LENGTH = 3
# Names of environment variables whose values are never written as they are.
SECRET_NAME = re.compile(
    r"PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|PRIVATE|AUTH|DSN|CONN", re.IGNORECASE
)
# ... except these, which only look like it (the shell's working directories).
NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})
# Values of secret-named variables that are masked in `Env` but not searched for in
# every file: they are settings, not secrets, and would blank every number or `true`.
_PLAIN_VALUE = re.compile(r"\d+|true|false|yes|no|on|off|none|null", re.IGNORECASE)
# `scheme://user:password@host...`: the password part of a URL.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)([^/\s@]+)(@)")
# A "line" longer than this (a binary blob on stdout, say) is redacted and written in
# pieces, so one endless line cannot hold the whole log in memory.
MAX_LINE = 1 << 20


def is_secret_name(name: str) -> bool:
    return name.upper() not in NOT_SECRET_NAMES and bool(SECRET_NAME.search(name))


def url_passwords(text: str) -> list[str]:
    """The passwords of the `scheme://user:password@` URLs in `text`, as written and
    decoded."""
    found = []
    for match in _URL_PASSWORD.finditer(text):
        found += [match.group(2), unquote(match.group(2))]
    return found


def mask_url_passwords(text: str) -> str:
    return _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3), text)


def redact_env(env: Iterable[str]) -> list[str]:
    """`NAME=value` entries with secret-looking names turned into `NAME=***`, and the
    password of any `scheme://user:password@` URL value masked."""
    out = []
    for entry in env:
        name, sep, value = entry.partition("=")
        if sep and is_secret_name(name):
            out.append(f"{name}={MASK}")
        else:
            out.append(f"{name}{sep}{mask_url_passwords(value)}" if sep else entry)
    return out


def env_secrets(attrs: dict[str, Any]) -> list[str]:
    """The literal values to mask in every file because this container's environment
    holds them: values of secret-looking variables (settings such as `3306` or `true`
    excepted) and the passwords of URL values. They show up again in `Args`, `Cmd`,
    health-check commands and their output, and the container's own log."""
    env = ((attrs.get("Config") or {}).get("Env")) or []
    found: list[str] = []
    for entry in env:
        name, sep, value = str(entry).partition("=")
        if not sep:
            continue
        if is_secret_name(name) and not _PLAIN_VALUE.fullmatch(value.strip()):
            found.append(value)
        found += url_passwords(value)
    return [v for v in found if len(v) >= MIN_SECRET_LENGTH]


def redact_inspect(attrs: dict[str, Any]) -> dict[str, Any]:
    """A copy of a container's inspect data with secret-looking `Config.Env` values
    masked (the original is left alone). The same values elsewhere in the data (`Args`,
    `Config.Cmd`, health-check logs) are masked by the folder it is written to, given
    `env_secrets`."""
    data = copy.deepcopy(attrs)
    config = data.get("Config")
    if isinstance(config, dict) and isinstance(config.get("Env"), list):
        config["Env"] = redact_env(str(e) for e in config["Env"])
    return data


class Secrets:
    """Literal strings to mask, as bytes, longest first (so a secret that contains
    another is masked whole)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.values: list[bytes] = []
        self.longest = 0
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """More strings to mask from now on; each also as it appears inside a JSON
        string (a quote or backslash in it escaped)."""
        unique = set(self.values)
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH:
                unique.add(value.encode())
                unique.add(json.dumps(value)[1:-1].encode())
        self.values = sorted(unique, key=len, reverse=True)
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
