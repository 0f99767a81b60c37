"""Mail addresses, parsed strictly by our own rules rather than the `email` package's,
whose handling of odd lists has changed between Python versions (CVE-2023-27043): one
address per line or comma-separated, a display name quoted when it holds a comma
(`"Doe, John" <j@x.org>`), nothing that could smuggle a second address or a header line.

    parse_addresses('ops@x.org, "Doe, John" <j@x.org>')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# Characters a display name may not hold unquoted: they are address syntax.
_SPECIALS = set('<>@,;:"[]\\')
MAX_ADDRESSES = 100


@dataclass(frozen=True)
class Address:
    name: str  # the display name ("" for none), as a person reads it
    addr: str  # local@domain

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2]


def parse_addresses(text: str) -> tuple[Address, ...]:
    """Raises ValueError saying what is wrong with which entry."""
    if "\r" in text:
        raise ValueError("a carriage return is not allowed in an address list")
    entries = [e.strip() for line in text.split("\n") for e in _split(line)]
    entries = [e for e in entries if e]
    if len(entries) > MAX_ADDRESSES:
        raise ValueError(f"at most {MAX_ADDRESSES} addresses")
    return tuple(_parse_one(entry) for entry in entries)


def _split(line: str) -> list[str]:
    """Split on commas outside quotes and angle brackets."""
    parts: list[str] = []
    current: list[str] = []
    quoted = angle = escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"' and not angle:
            quoted = not quoted
        elif char == "<" and not quoted:
            angle = True
        elif char == ">" and not quoted:
            angle = False
        elif char == "," and not quoted and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise ValueError(f"an unclosed quote in {line.strip()!r}")
    parts.append("".join(current))
    return parts


def _parse_one(entry: str) -> Address:
    if any(ord(c) < 32 or ord(c) == 127 for c in entry):
        raise ValueError(f"a control character in {entry!r}")
    if "<" not in entry and ">" not in entry:
        return Address("", _addr_spec(entry, entry))
    match = re.fullmatch(r'(?P<name>.*?)\s*<(?P<addr>[^<>]*)>', entry)
    if match is None:
        raise ValueError(f"{entry!r} is not `Name <user@example.org>` or `user@example.org`")
    return Address(_display_name(match.group("name").strip(), entry),
                   _addr_spec(match.group("addr").strip(), entry))


def _display_name(name: str, entry: str) -> str:
    if not name:
        return ""
    if name.startswith('"'):
        if len(name) < 2 or not name.endswith('"'):
            raise ValueError(f"a display name in {entry!r} must be quoted whole")
        inner = name[1:-1]
        unescaped = re.sub(r"\\(.)", r"\1", inner)
        if re.search(r'(?<!\\)"', inner):
            raise ValueError(f"a stray quote in the display name of {entry!r}")
        return unescaped
    if any(c in _SPECIALS for c in name):
        raise ValueError(f"the display name of {entry!r} must be quoted: it holds one of "
                         + " ".join(sorted(_SPECIALS)))
    return name


def _addr_spec(addr: str, entry: str) -> str:
    local, at, domain = addr.rpartition("@")
    if not at or not _LOCAL.fullmatch(local) or len(addr) > 254:
        raise ValueError(f"{entry!r} is not a valid address (expected user@example.org)")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"the domain of {entry!r} is not a valid host name")
    return f"{local}@{domain.lower()}"
