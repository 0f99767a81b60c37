"""The folder an action collects files into: every file written through it is redacted,
listed, and a failure to write is remembered rather than raised, so one full disk or one
bad file name does not stop the rest of the collection.

The folder may already hold files from a checkout (a pull request's own), so nothing in
it is trusted: a symlink where a file or folder of ours goes is removed, never followed,
and the folder itself must not be a symlink. Everything is opened relative to the
folder's own descriptor, component by component, with O_NOFOLLOW."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from stackci.core.text.redact import LineRedactor, Secrets


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
        # What this run created in the folder (folders and files, relative),
        # to hand over to the folder's owner (see `give_to_parent_owner`).
        self.created: set[str] = set()
        self._made: list[Path] = []  # the folder and its parents, when this run made them
        self._owner_source = root.parent
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Create the folder; raises OSError when that is impossible, or when it is a
        symlink (it would take the files somewhere else)."""
        if self.root.is_symlink():
            raise OSError(errno.ELOOP, "the folder is a symlink; give a real folder")
        missing = [p for p in (self.root, *self.root.parents) if not p.exists()]
        self._owner_source = self.root.parents[len(missing) - 1] if missing else \
            self.root.parent
        if missing:
            self.root.mkdir(parents=True)
            self._made = missing
        if not os.access(self.root, os.W_OK):
            raise PermissionError(f"{self.root} is not writable")

    def remove_previous(self, listing: str) -> int:
        """Remove what an earlier run wrote here, as its list file `listing` names it
        (a file per line, relative to the folder); anything else in the folder is left
        alone. Only regular files and symlinks inside the folder go (a symlink itself,
        never what it points to); folders emptied by that go too. The count removed."""
        list_file = self.root / listing
        if list_file.is_symlink() or not list_file.is_file():
            return 0
        removed, parents = 0, set[Path]()
        for line in list_file.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                target = self.path(line.strip())
            except ValueError:
                continue  # `..` or absolute: not ours to touch
            inside = [p for p in target.parents if self.root in p.parents]
            if any(p.is_symlink() for p in inside):
                continue  # a symlinked folder on the way would lead out of the folder
            if target.is_symlink() or target.is_file():
                with contextlib.suppress(OSError):
                    target.unlink()
                    removed += 1
                    parents.update(inside)
        for folder in sorted(parents, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        return removed

    def path(self, relative: str) -> Path:
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise ValueError(f"not a path inside the folder: {relative}")
        return self.root.joinpath(*parts)

    @contextmanager
    def open(self, relative: str, redact: bool = True) -> Iterator[RedactingFile]:
        """Write one file. An OSError is recorded (see `failures`), not raised; what is
        written to a file that could not be opened is dropped."""
        self.path(relative)  # refuses `..` and absolute paths
        secrets = self.secrets if redact else Secrets(())
        try:
            handle = os.fdopen(self._create(PurePosixPath(relative).parts), "wb")
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

    def _create(self, parts: tuple[str, ...]) -> int:
        """Open `parts` for writing, below the folder, creating its folders; a symlink
        on the way is replaced by a real folder or file, never followed."""
        nofollow = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        folder = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | nofollow)
        try:
            for depth, name in enumerate(parts[:-1], start=1):
                inner = self._enter(folder, name, "/".join(parts[:depth]))
                os.close(folder)
                folder = inner
            relative = "/".join(parts)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | nofollow
            if _is_link(folder, parts[-1]):
                os.unlink(parts[-1], dir_fd=folder)
            existed = _exists(folder, parts[-1])
            fd = os.open(parts[-1], flags, 0o644, dir_fd=folder)
            if not existed:
                with self._lock:
                    self.created.add(relative)
            return fd
        finally:
            os.close(folder)

    def _enter(self, parent: int, name: str, relative: str) -> int:
        """The descriptor of folder `name` in `parent`, made when missing."""
        if _is_link(parent, name):
            os.unlink(name, dir_fd=parent)
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
            with self._lock:
                self.created.add(relative)
        except FileExistsError:
            pass
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)

    def give_to_parent_owner(self) -> None:
        """When running as root (the launcher's container) in a folder owned by someone
        else, hand what this run created to the owner of the folder's parent (of its
        nearest parent that was there before): the next checkout's cleanup, running as
        that user, must be able to delete it. What was there before is left alone."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return
        try:
            owner = self._owner_source.stat()
        except OSError:
            return
        if (owner.st_uid, owner.st_gid) == (os.geteuid(), os.getegid()):
            return
        for target in [*self._made, *(self.path(r) for r in sorted(self.created))]:
            with contextlib.suppress(OSError):  # removed meanwhile: nothing to hand over
                os.chown(target, owner.st_uid, owner.st_gid, follow_symlinks=False)

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


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return False


def _exists(folder: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
