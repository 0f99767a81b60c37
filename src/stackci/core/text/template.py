"""Logic-less templates: `{name}` placeholders from a fixed list, `{{` and `}}` for
literal braces, nothing else. No expressions, no environment, no files: a value is
inserted as it is (or escaped by the caller's rule) and never read as a template itself,
so a branch named `{run_url}` or `{{7*7}}` stays that text.

    title = Template.parse("CI failing: {workflow} on {branch}", PLACEHOLDERS)
    title.render({"workflow": "CI", "branch": "main"})
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Template:
    # Literal text and placeholder names, alternating: text, name, text, name, ..., text.
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, allowed: Collection[str]) -> Template:
        """Raises ValueError naming what is wrong: an unknown placeholder (with the
        list of known ones) or a lone brace."""
        parts: list[str] = []
        literal: list[str] = []
        at = 0
        for match in _TOKEN.finditer(text):
            literal.append(text[at:match.start()])
            at = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                literal.append(token[0])
                continue
            name = match.group(1)
            if name is None:
                raise ValueError(f"a lone {token!r} (write {token * 2} for a brace)")
            if not _NAME.fullmatch(name) or name not in allowed:
                raise ValueError(f"unknown placeholder {{{name}}}; known: "
                                 + ", ".join(f"{{{n}}}" for n in sorted(allowed)))
            parts += ["".join(literal), name]
            literal = []
        literal.append(text[at:])
        parts.append("".join(literal))
        return cls(tuple(parts))

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    def render(self, values: Mapping[str, str],
               escape: Callable[[str], str] = lambda value: value) -> str:
        """The text with each placeholder replaced by `escape(value)`; a placeholder
        without a value becomes empty."""
        out = []
        for index, part in enumerate(self.parts):
            out.append(escape(values.get(part, "")) if index % 2 else part)
        return "".join(out)
