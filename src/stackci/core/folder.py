"""The folder an action collects files into: every file written through it is redacted,
listed, and a failure to write is remembered rather than raised, so one full disk or one
bad file name does not stop the rest of the collection."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from stackci.core.redact import LineRedactor, Secrets


class _Writable(Protocol):
    def write(self, data: bytes, /) -> Any: ...


class _Discard:
    def write(self, data: bytes, /) -> int:
        return len(data)


class RedactingFile:
    """A binary file that redacts what is written to it, line by line."""

    def __init__(self, handle: _Writable, secrets: Secrets) -> None:
        self._handle = handle
        self._redactor = LineRedactor(secrets)
        self.size = 0

    def write(self, data: bytes) -> None:
        out = self._redactor.feed(data)
        if out:
            self._handle.write(out)
            self.size += len(out)

    def close(self) -> None:
        rest = self._redactor.flush()
        if rest:
            self._handle.write(rest)
            self.size += len(rest)


class OutputFolder:
    """Files written under `root`, named by paths relative to it (always with `/`)."""

    def __init__(self, root: Path, secrets: Secrets) -> None:
        self.root = root
        self.secrets = secrets
        self.written: list[str] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Create the folder; raises OSError when that is impossible."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"{self.root} is not writable")

    def path(self, relative: str) -> Path:
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"not a path inside the folder: {relative}")
        return self.root.joinpath(*parts)

    @contextmanager
    def open(self, relative: str, redact: bool = True) -> Iterator[RedactingFile]:
        """Write one file. An OSError is recorded (see `failures`), not raised; what is
        written to a file that could not be opened is dropped."""
        path = self.path(relative)
        secrets = self.secrets if redact else Secrets(())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("wb")
        except OSError as exc:
            self._failed(relative, exc)
            yield RedactingFile(_Discard(), secrets)
            return
        try:
            with handle:
                out = RedactingFile(handle, secrets)
                yield out
                out.close()
        except OSError as exc:
            self._failed(relative, exc)
            return
        with self._lock:
            self.written.append(relative)

    def _failed(self, relative: str, exc: OSError) -> None:
        with self._lock:
            self.failures.append(f"{relative}: {exc.strerror or exc}")

    def discard(self, relative: str) -> None:
        """Remove a file written earlier (one that turned out to hold nothing useful)."""
        with self._lock:
            if relative in self.written:
                self.written.remove(relative)
        self.path(relative).unlink(missing_ok=True)

    def write_text(self, relative: str, text: str) -> None:
        with self.open(relative) as out:
            out.write(text.encode("utf-8"))

    def write_json(self, relative: str, data: Any) -> None:
        self.write_text(relative, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def size(self, relative: str) -> int:
        try:
            return self.path(relative).stat().st_size
        except OSError:
            return 0
