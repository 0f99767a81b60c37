"""Markdown building blocks for summaries, comments and issues. Text from outside
(service names, log lines, PR titles) goes through here so it cannot break a table,
close a code fence early, or smuggle in links, images, HTML or @mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Inline syntax anywhere in a line; block syntax (headings, quotes, lists) only at its start.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))", re.MULTILINE)


def escape(text: str) -> str:
    """Plain text that renders as itself: Markdown and HTML are inert (no links, images
    or tags, since `[` and `<` are escaped; bare URLs are not autolinked), and `@name`
    notifies no one."""
    text = _INLINE.sub(r"\\\1", text)
    text = _BLOCK_START.sub(_escape_block_start, text)
    # GitHub turns bare URLs into links; a zero-width space keeps them plain text.
    text = text.replace("://", ":\u200b//").replace("www.", "www\u200b.")
    return text.replace("@", "@\u200b")


def _escape_block_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # `1.` -> `1\.`: the escape goes before the punctuation
        return indent + marker + "\\"
    return indent + "\\" + marker


def cell(text: object) -> str:
    """One table cell: escaped, on one line."""
    return escape(str(text)).replace("\r", "").replace("\n", "<br>")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def code_block(text: str, lang: str = "") -> str:
    """A fence longer than any backtick run inside, so the text cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def details(summary: str, body: str, open_: bool = False) -> str:
    flag = " open" if open_ else ""
    return f"<details{flag}><summary>{summary}</summary>\n\n{body}\n\n</details>"


def inline_code(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text.replace(chr(10), ' ')}{pad}{ticks}"
