"""Copying files and folders out of containers, running or exited, like `docker cp`.

The engine sends a tar archive of the path; it is read as a stream (`tarfile` mode
`r|`) and each member is written straight into the output folder, so memory stays
flat whatever the size. A glob (`/reports/*.xml`) is resolved the same way: the archive
of the deepest folder without wildcards is read and only the matching members kept,
which works on exited containers, where nothing can be run to list files."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from stackci.core.engine import retry
from stackci.core.files.folder import OutputFolder

_GLOB = re.compile(r"[*?\[]")
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A NUL byte in a file's first bytes marks it binary: copied as it is, never redacted.
_SNIFF = 8192
_READ = 1 << 16


@dataclass(frozen=True)
class CopySpec:
    """`service:/path/in/container`; the path may hold `*`, `?` and `[...]` wildcards."""

    service: str
    path: str

    def __str__(self) -> str:
        return f"{self.service}:{self.path}"

    @property
    def base(self) -> str:
        """The deepest folder (or the file) named without wildcards."""
        parts = PurePosixPath(self.path).parts
        fixed = _leading_fixed(parts)
        return str(PurePosixPath(*fixed)) if fixed else "/"

    @property
    def pattern(self) -> tuple[str, ...]:
        """The wildcard components that follow `base`, empty for a plain path."""
        parts = PurePosixPath(self.path).parts
        return tuple(parts[len(_leading_fixed(parts)):])


def _leading_fixed(parts: tuple[str, ...]) -> list[str]:
    fixed: list[str] = []
    for part in parts:
        if _GLOB.search(part):
            break
        fixed.append(part)
    return fixed


def parse_copy_spec(text: str) -> CopySpec:
    """Parse `service:/absolute/path`; ValueError says what a good entry looks like."""
    service, sep, path = text.partition(":")
    service, path = service.strip(), path.strip()
    if not sep or not _SERVICE.fullmatch(service):
        raise ValueError("service:/path/in/container, such as backend:/tmp/junit.xml")
    if not path.startswith("/"):
        raise ValueError("an absolute path after the service name, such as "
                         f"{service}:/tmp/junit.xml")
    normalized = str(PurePosixPath(path))
    if ".." in PurePosixPath(normalized).parts:
        raise ValueError("a path without '..'")
    return CopySpec(service, normalized)


def split_copy_entries(text: str) -> tuple[str, ...]:
    """One entry per line; a comma also separates entries when the next one starts
    with `service:/` (a path itself may hold commas)."""
    entries: list[str] = []
    for line in text.splitlines():
        entries += re.split(r",\s*(?=[A-Za-z0-9][A-Za-z0-9._-]*:/)", line)
    return tuple(e.strip() for e in entries if e.strip())


@dataclass
class CopyResult:
    spec: CopySpec
    container: str
    files: list[str] = field(default_factory=list)
    missing: bool = False
    notes: list[str] = field(default_factory=list)


class _ChunkStream(io.RawIOBase):
    """A read()-able file over the engine's chunk iterator, for tarfile's stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._rest = chunk
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size


def copy_out(container: Any, spec: CopySpec, folder: OutputFolder, dest: str) -> CopyResult:
    """Copy what `spec` names from `container` to `<dest>/<path in container>` in the
    folder. A path that does not exist, or a glob that matches nothing, sets `missing`."""
    result = CopyResult(spec, container.name)
    import docker.errors  # noqa: PLC0415 - see core.engine.compose

    try:
        chunks, _stat = retry.call_with(retry.DOCKER, container.get_archive, spec.base)
    except docker.errors.NotFound as exc:
        if "no such container" in str(exc.explanation or "").lower():
            result.notes.append("the container is gone")
        else:
            result.missing = True
        return result
    except docker.errors.APIError as exc:
        result.missing = True
        result.notes.append(f"the engine refused the copy: {exc.explanation or exc}")
        return result
    base_parent = PurePosixPath(spec.base).parent
    try:
        stream = io.BufferedReader(_ChunkStream(iter(chunks)), buffer_size=_READ)
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            copier = _MemberCopier(archive, base_parent, folder, dest, result)
            for member in archive:
                copier.copy(member)
    except (tarfile.TarError, docker.errors.APIError, OSError) as exc:
        result.notes.append(f"the copy stopped part way: {exc}")
    if not result.files and not result.notes:
        if spec.pattern:
            result.missing = True  # the folder exists, but nothing in it matches
        else:
            result.notes.append("an empty folder")
    return result


@dataclass
class _MemberCopier:
    """Writes the archive's members that the spec selects into the folder."""

    archive: tarfile.TarFile
    base_parent: PurePosixPath
    folder: OutputFolder
    dest: str
    result: CopyResult
    # Archive member name -> the file it was written to, for hard links to it.
    written: dict[str, str] = field(default_factory=dict)

    def copy(self, member: tarfile.TarInfo) -> None:
        name = member.name.removeprefix("./").lstrip("/")
        inside = self.base_parent / name if name not in ("", ".") else self.base_parent
        if ".." in inside.parts or not _matches(inside, self.result.spec) or member.isdir():
            return
        relative = f"{self.dest}/{str(inside).lstrip('/')}"
        if member.islnk():
            self._copy_hard_link(member, inside, relative)
            return
        if not member.isfile():
            kind = "symlink" if member.issym() else "special file"
            self.result.notes.append(f"skipped {kind} {inside}")
            return
        handle = self.archive.extractfile(member)
        if handle is None:
            return
        self._write(handle, relative)
        self.written[name] = relative

    def _copy_hard_link(self, member: tarfile.TarInfo, inside: PurePosixPath,
                        relative: str) -> None:
        """A hard link's data is its target's, which the archive holds earlier: copy
        the file already written (the link's target may lie outside what matched)."""
        target = self.written.get(member.linkname.removeprefix("./").lstrip("/"))
        if target is None:
            self.result.notes.append(f"skipped hard link {inside} (its target "
                                     f"{member.linkname} was not copied)")
            return
        with self.folder.path(target).open("rb") as handle:
            self._write(handle, relative)

    def _write(self, handle: Any, relative: str) -> None:
        head = handle.read(_SNIFF)
        with self.folder.open(relative, redact=b"\0" not in head) as out:
            out.write(head)
            while data := handle.read(_READ):
                out.write(data)
        if relative in self.folder.written and relative not in self.result.files:
            self.result.files.append(relative)


def _matches(inside: PurePosixPath, spec: CopySpec) -> bool:
    """A member matches when it is the spec's path or lies below a match (a copied
    folder brings its contents)."""
    pattern = spec.pattern
    if not pattern:
        return True
    rest = inside.parts[len(PurePosixPath(spec.base).parts):]
    if len(rest) < len(pattern):
        return False
    return all(fnmatchcase(name, pat) for name, pat in zip(rest, pattern, strict=False))
