"""Result files named by globs, relative to the workspace."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

_MAGIC = frozenset("*?[")


@dataclass(frozen=True)
class Matched:
    paths: tuple[Path, ...]
    unmatched: tuple[str, ...]  # patterns that matched no file


def expand_globs(patterns: Iterable[str], base: Path) -> Matched:
    """Files matching each pattern (`**` spans folders), each file once, in a stable
    order. Folders are ignored: a pattern is for result files. A pattern may be
    absolute (/tmp/results/*.xml)."""
    found: dict[Path, None] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        files = sorted(glob_files(pattern, base), key=str)
        if not files:
            unmatched.append(pattern)
        found.update(dict.fromkeys(files))
    return Matched(tuple(found), tuple(unmatched))


def glob_files(pattern: str, base: Path) -> Iterator[Path]:
    """The files `pattern` matches, as `glob.glob(recursive=True)` finds them (`*`, `?`,
    `[...]` within one name, `**` for any number of folders, hidden names only for a
    part that starts with `.`), except that symlinked folders are never entered: the
    result folder is written by whatever ran in the job, and a link such as
    `results/a -> ..` would make a walk that follows links loop."""
    root = Path("/") if pattern.startswith("/") else base
    parts = [p for p in pattern.split("/") if p]
    while parts and not (_MAGIC & set(parts[0])):
        root = root / parts.pop(0)
    if not parts:
        if root.is_file():
            yield root
        return
    recursive = "**" in parts
    hidden_wanted = any(p.startswith(".") for p in parts)
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        rel = here.relative_to(root).parts
        if not hidden_wanted:  # `.git` and the like cannot match: do not walk them
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        if not recursive and len(rel) >= len(parts) - 1:
            dirs.clear()  # deeper folders cannot match a pattern without `**`
        for name in files:
            if _matches(parts, [*rel, name]) and (here / name).is_file():
                yield here / name


def _matches(pattern: list[str], names: list[str]) -> bool:
    if not pattern:
        return not names
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        # Zero or more folders, none of them hidden (as glob).
        return any(_matches(rest, names[skip:]) for skip in range(len(names) + 1)
                   if not any(n.startswith(".") for n in names[:skip]))
    if not names:
        return False
    name = names[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatchcase(name, head) and _matches(rest, names[1:])


def relative(path: Path, base: Path) -> str:
    """How a file is named to the reader: relative to the workspace when inside it."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
