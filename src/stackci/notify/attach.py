"""What a mail attaches: the files that globs name under the workspace (a folder whole,
as collect-logs wrote it), up to a total size; beyond it, files are listed, not
attached."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stackci.core.mail.message import Attachment

MAX_FILES = 200


@dataclass
class Attachments:
    attached: list[Attachment] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # too big for the cap
    size: int = 0


def collect(globs: Sequence[str], workspace: Path, max_size: int) -> Attachments:
    found: dict[Path, str] = {}
    root = workspace.resolve()
    for pattern in globs:
        for match in sorted(workspace.glob(pattern)):
            files = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() \
                else [match]
            for path in files:
                resolved = path.resolve()
                if resolved.is_relative_to(root) and resolved.is_file():
                    found.setdefault(resolved, str(path.relative_to(workspace)))
    result = Attachments()
    for path, name in list(found.items())[:MAX_FILES]:
        size = path.stat().st_size
        if result.size + size > max_size:
            result.left_out.append(name)
            continue
        result.attached.append(Attachment(path, name))
        result.size += size
    result.left_out += list(found.values())[MAX_FILES:]
    return result
