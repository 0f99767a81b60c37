"""Markdown building blocks for summaries, comments and issues. Text from outside
(service names, log lines, PR titles) goes through here so it cannot break a table,
close a code fence early, or smuggle in links, images, HTML or @mentions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# Inline syntax anywhere in a line; block syntax (headings, quotes, lists) only at its start.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_BLOCK_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))", re.MULTILINE)
_ISSUE_REF = re.compile(r"#(?=\d)")
_SPAN_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """Plain text that renders as itself: Markdown and HTML are inert (no links, images
    or tags, since `[` and `<` are escaped; bare URLs are not autolinked; `&` is escaped,
    so no entity such as `&#64;` spells what the escaping removed), `@name` notifies no
    one and `#123` links to no issue. A lone CR is a line break to CommonMark, so line
    breaks are normalized first (block syntax after a CR is escaped like any other)."""
    text = clean_text(text).replace("&", "&amp;")
    text = _INLINE.sub(r"\\\1", text)
    text = _BLOCK_START.sub(_escape_block_start, text)
    # GitHub turns bare URLs into links; a zero-width space keeps them plain text.
    text = text.replace("://", ":\u200b//").replace("www.", "www\u200b.")
    text = _ISSUE_REF.sub("#\u200b", text)
    return text.replace("@", "@\u200b")


def _escape_block_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # `1.` -> `1\.`: the escape goes before the punctuation
        return indent + marker + "\\"
    return indent + "\\" + marker


def cell(text: object) -> str:
    """One table cell: escaped, on one line."""
    return escape(str(text)).replace("\n", "<br>")


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
    # One line: any line break (CR included) or control character would end the span.
    text = _SPAN_BREAKS.sub(" ", text)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell_code(text: str) -> str:
    """Outside text as a code span inside a table cell: nothing in it renders, links or
    mentions, and its `|` is escaped (GitHub splits cells before reading code spans, and
    unescapes `\\|` inside the span)."""
    return inline_code(text).replace("|", "\\|")


# C0 and C1 control characters, but for tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029]")


def clean_text(text: str) -> str:
    """Outside text of several lines (a failure message): line breaks made `\\n`, other
    control characters removed (GitHub refuses a body holding NUL)."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


def one_line(text: str) -> str:
    """Outside text shown on one line (a label's name, in a list or an annotation):
    line breaks and control characters become spaces; format characters stay (emoji
    sequences are joined by them)."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).strip()
