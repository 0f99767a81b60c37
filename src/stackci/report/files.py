"""Result files named by globs, relative to the workspace."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Matched:
    paths: tuple[Path, ...]
    unmatched: tuple[str, ...]  # patterns that matched no file


def expand_globs(patterns: Iterable[str], base: Path) -> Matched:
    """Files matching each pattern (`**` spans folders), each file once, in a stable
    order. Folders are ignored: a pattern is for result files."""
    found: dict[Path, None] = {}
    unmatched: list[str] = []
    for pattern in patterns:
        # glob.glob, not Path.glob: a pattern may be absolute (/tmp/results/*.xml).
        hits = sorted(glob.glob(pattern, root_dir=base, recursive=True))  # noqa: PTH207
        files = [base / hit for hit in hits if (base / hit).is_file()]
        if not files:
            unmatched.append(pattern)
        found.update(dict.fromkeys(files))
    return Matched(tuple(found), tuple(unmatched))


def relative(path: Path, base: Path) -> str:
    """How a file is named to the reader: relative to the workspace when inside it."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
