"""What collect-logs found: each container with what was collected from it, and the
collection as a whole."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from stackci.core.engine.containers import ContainerState
from stackci.core.engine.copy import CopyResult, CopySpec
from stackci.core.engine.project import Teardown

# What collect-logs itself writes at the top of the folder: no copy's destination.
# `files/` holds the copies without one.
OWN_NAMES = ("index.md", "files.txt", "ps.json", "ps.txt", "networks.json", "events.jsonl",
             "logs", "inspect", "files",
             # Nor what would run later if `path` is the checkout: a container's names
             # never land in git's or the workflows' folders.
             ".git", ".github")


class CollectOptions(Protocol):
    """What gathering and rendering read of the action's settings (collect-logs'
    `Settings` has these fields): the feature package does not import the action."""

    @property
    def working_directory(self) -> Path: ...
    @property
    def compose_files(self) -> tuple[Path, ...]: ...
    @property
    def path(self) -> Path: ...
    @property
    def services(self) -> tuple[str, ...]: ...
    @property
    def tail(self) -> int | None: ...
    @property
    def since(self) -> float | None: ...
    @property
    def timestamps(self) -> bool: ...
    @property
    def copy(self) -> tuple[CopySpec, ...]: ...
    @property
    def print_mode(self) -> str: ...
    @property
    def remove_volumes(self) -> bool: ...


@dataclass
class Found:
    """One container and what was collected from it."""

    record: ContainerState
    label: str  # `<service>`, `<service>-<n>` when scaled, `<service>-run-<id>` one-off
    selected: bool
    oom_events: int = 0
    stopped: bool = False  # the engine recorded a `stop` or `kill` for it
    log: str | None = None
    log_bytes: int = 0
    note: str = ""

    @property
    def problems(self) -> list[str]:
        return self.record.problems(self.oom_events, stopped=self.stopped)

    def as_json(self) -> dict[str, Any]:
        data = self.record.to_json()
        data.update(problems=self.problems, failed=bool(self.problems), log=self.log,
                    log_bytes=self.log_bytes, note=self.note or None)
        return data


@dataclass
class Collection:
    project: str
    found: list[Found] = field(default_factory=list)
    copies: list[CopyResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    teardown: Teardown | None = None

    @property
    def selected(self) -> list[Found]:
        return [f for f in self.found if f.selected]

    @property
    def failed(self) -> list[Found]:
        return [f for f in self.selected if f.problems]

    fallback: bool = False  # the project is Compose's default, not this job's own
    secrets: list[str] = field(default_factory=list)

    @property
    def failed_services(self) -> list[str]:
        """Services with a failed container; a `compose run` one-off container that
        failed does not mark its service (it is a command run in it, reported apart)."""
        return sorted({f.record.service for f in self.failed if not f.record.one_off})

    @property
    def failed_runs(self) -> list[Found]:
        return [f for f in self.failed if f.record.one_off]

    @property
    def copied(self) -> list[str]:
        """Every file copied out of a container, relative to the folder, in the order
        of the copy entries; a failed copy has none."""
        return list(dict.fromkeys(f for c in self.copies for f in c.files))


def destination_problems(specs: Iterable[CopySpec]) -> list[tuple[CopySpec, str]]:
    """Copy entries whose destination is collect-logs' own or is another entry's,
    each with what a good one is (bad input: nothing is copied yet)."""
    problems: list[tuple[CopySpec, str]] = []
    landed: dict[str, CopySpec] = {}
    for spec in specs:
        if spec.dest is None:
            continue
        top = PurePosixPath(spec.landing or spec.dest).parts
        if top and top[0] in OWN_NAMES:
            problems.append((spec, f"a destination other than collect-logs' own files "
                             f"and folders ({', '.join(OWN_NAMES)})"))
        elif spec.landing is not None and spec.landing in landed:
            problems.append((spec, f"a destination no other entry has ({spec.landing} is "
                             f"also where {landed[spec.landing]} lands)"))
        elif spec.landing is not None:
            landed[spec.landing] = spec
    return problems


def copy_suffix(found: Found) -> str:
    """What a copy with a destination adds to its name when the service has several
    containers: the end of the container's label, as its log file has it (`-2` for
    replica 2, `-run-<id>` for a `compose run` container; nothing for the service's one
    container beside `compose run` ones, whose log file is `<service>.log`)."""
    service = found.record.service
    label = found.label
    if label == service:
        return ""
    return label[len(service):] if label.startswith(f"{service}-") else f"-{label}"


def container_labels(records: Iterable[ContainerState], project: str) -> dict[str, str]:
    """File names for containers: the service's name, numbered when it is scaled."""
    records = list(records)
    per_service = Counter(r.service for r in records if not r.one_off)
    labels: dict[str, str] = {}
    for r in records:
        if r.one_off:
            label = r.name.removeprefix(f"{project}-") or r.name
        elif per_service[r.service] > 1:
            label = f"{r.service}-{r.number}"
        else:
            label = r.service
        label = safe_name(label)
        if label in labels.values():
            label = f"{label}-{r.id[:12]}"
        labels[r.id] = label
    return labels


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".") or "_"
