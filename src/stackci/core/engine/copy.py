"""Copying files and folders out of containers, running or exited, like `docker cp`.

The engine sends a tar archive of the path; it is read as a stream (`tarfile` mode
`r|`) and each member is written straight into the output folder, so memory stays
flat whatever the size. A glob (`/reports/*.xml`) is resolved the same way: the archive
of the deepest folder without wildcards is read and only the matching members kept,
which works on exited containers, where nothing can be run to list files.

An entry may name where its copy lands in the folder (`service:/path -> dest`): the
file or folder renamed to `dest`, or, with a `/` at the end, put into that folder
(`Placement`). Without one it lands under its path in the container, below a folder of
its own (`files/<container>/...`). Every name in the archive comes from the container:
`..`, links and names with control characters are never written, and a copy with a
destination never writes over a file another one wrote (`Landings`)."""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any

from stackci.core.engine import retry
from stackci.core.files.folder import OutputFolder

_GLOB = re.compile(r"[*?\[]")
_SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A line break in a copied file's name would split a line of files.txt or of the
# `copied` output in two (a second, made-up path): such names are never written. Control
# characters, and everything `str.splitlines` breaks on. Surrogates too: a name that is
# not UTF-8 in the container reaches us as them, and no UTF-8 file or output can hold it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
ARROW = "->"
# `->` with whitespace before it (a path may hold `->`: `/tmp/a->b.txt` is a path).
_ARROW = re.compile(r"\s->")
# A NUL byte in a file's first bytes marks it binary: copied as it is, never redacted.
_SNIFF = 8192
_READ = 1 << 16


@dataclass(frozen=True)
class CopySpec:
    """`service:/path/in/container`, the path with `*`, `?` and `[...]` wildcards or
    not, and where its copy lands: `dest` (relative to the output folder, normalized;
    `.` is the folder itself), into that folder when `into`; `None`, under its path in
    the container (`files/<container>/<path>`)."""

    service: str
    path: str
    dest: str | None = None
    into: bool = False

    def __str__(self) -> str:
        source = f"{self.service}:{self.path}"
        if self.dest is None:
            return source
        dest = "./" if self.dest == "." else self.dest + ("/" if self.into else "")
        return f"{source} {ARROW} {dest}"

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

    @property
    def landing(self) -> str | None:
        """Where the copy lands, when that is known before copying: the destination
        itself, or the path's own name in the destination folder; None for a wildcard
        into a folder (its matches decide) and for an entry without a destination."""
        if self.dest is None or (self.into and self.pattern):
            return None
        if not self.into:
            return self.dest
        name = PurePosixPath(self.path).name
        return str(PurePosixPath(self.dest, name)) if name else None


def _leading_fixed(parts: tuple[str, ...]) -> list[str]:
    fixed: list[str] = []
    for part in parts:
        if _GLOB.search(part):
            break
        fixed.append(part)
    return fixed


def parse_copy_spec(text: str) -> CopySpec:
    """Parse `service:/absolute/path`, optionally followed by `-> destination`;
    ValueError says what a good entry looks like."""
    found = list(_ARROW.finditer(text))
    source, arrow, dest = ((text[:found[-1].start()], ARROW, text[found[-1].end():])
                           if found else (text, "", ""))
    service, sep, path = source.partition(":")
    service, path = service.strip(), path.strip()
    if not sep or not _SERVICE.fullmatch(service):
        raise ValueError("service:/path/in/container, such as backend:/tmp/junit.xml")
    if not path.startswith("/"):
        raise ValueError("an absolute path after the service name, such as "
                         f"{service}:/tmp/junit.xml")
    normalized = str(PurePosixPath(path))
    if ".." in PurePosixPath(normalized).parts:
        raise ValueError("a path without '..'")
    spec = CopySpec(service, normalized)
    if not arrow:
        return spec
    return _with_destination(spec, dest.strip())


def _with_destination(spec: CopySpec, dest: str) -> CopySpec:
    example = f"{spec.service}:{spec.path} -> results/ (into that folder)"
    if not dest:
        raise ValueError(f"a destination after '{ARROW}', relative to `path`, such as "
                         f"{example}")
    if dest.startswith("/"):
        raise ValueError("a destination relative to `path`, not an absolute path, such "
                         f"as {example}")
    if ".." in PurePosixPath(dest).parts:
        raise ValueError("a destination inside `path`, without '..'")
    if _GLOB.search(dest) or _CONTROL.search(dest):
        raise ValueError("a destination without wildcards or control characters "
                         "(wildcards belong in the container path)")
    into = dest.endswith("/")
    normalized = str(PurePosixPath(dest))
    if normalized == "." and not into:
        raise ValueError("a file or folder name as the destination ('.' is `path` "
                         "itself: './' copies into it)")
    if spec.pattern and not into:
        raise ValueError("a destination ending in '/' for a path with wildcards (its "
                         f"matches go into that folder), such as {example}")
    return CopySpec(spec.service, spec.path, normalized, into)


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
    # Files not copied because another copy had written their destination.
    taken: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Placement:
    """Where the files of one copy from one container land in the folder.

    Without a destination: `<root>/<path in the container>`. Renamed (`-> dest`): the
    copied file is `dest`, a copied folder's contents are below `dest`. Into a folder
    (`-> dest/`): the path keeps its own name in `dest`; a wildcard's matches keep their
    path below the wildcard's folder (`/reports/*.xml -> r/` gives `r/a.xml`). `suffix`
    (a scaled service's `-2`) goes on the name that lands in the destination, before
    its first dot: `junit-2.xml`, `reports-2`."""

    spec: CopySpec
    root: str
    suffix: str = ""

    def of(self, inside: PurePosixPath) -> str | None:
        """The path in the folder for `inside`, a path in the container; None when it
        falls outside what the spec names."""
        spec = self.spec
        if spec.dest is None:
            return f"{self.root}/{str(inside).lstrip('/')}"
        base = PurePosixPath(spec.base)
        if not spec.into:
            rest = _below(inside, base)
            if rest is None:
                return None
            dest = PurePosixPath(spec.dest)
            dest = dest.with_name(suffixed(dest.name, self.suffix))
            return str(dest.joinpath(*rest))
        rest = _below(inside, base if spec.pattern else base.parent)
        if not rest:
            return None
        return str(PurePosixPath(spec.dest, suffixed(rest[0], self.suffix), *rest[1:]))


def suffixed(name: str, suffix: str) -> str:
    """`junit.xml` with `-2`: `junit-2.xml`; a leading dot is part of the name."""
    if not suffix:
        return name
    stem, dot, extension = name[1:].partition(".")
    return f"{name[:1]}{stem}{suffix}{dot}{extension}"


def _below(inside: PurePosixPath, folder: PurePosixPath) -> tuple[str, ...] | None:
    if inside.parts[:len(folder.parts)] != folder.parts:
        return None
    return inside.parts[len(folder.parts):]


class Landings:
    """The destinations copies wrote this run: one with a destination never writes
    over a file another copy wrote, nor puts a file where another's folder is, or a
    folder where another's file is (that would fail the write, and exit 1). `reserved`:
    top-level names a destination may not use (the action's own files)."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.reserved = frozenset(reserved)
        self._files: dict[str, str] = {}  # path -> the copy that wrote it
        self._folders: set[str] = set()

    def refusal(self, relative: str) -> str | None:
        """Why `relative` may not be written, or None."""
        parts = PurePosixPath(relative).parts
        if parts[0] in self.reserved:
            return f"{parts[0]} is collect-logs' own"
        if relative in self._files:
            return f"{relative} was already written by {self._files[relative]}"
        if relative in self._folders:
            return f"{relative} is a folder another copy wrote into"
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in self._files:
                return f"{prefix} is a file {self._files[prefix]} wrote"
        return None

    def take(self, relative: str, by: str) -> None:
        self._files[relative] = by
        parts = PurePosixPath(relative).parts
        self._folders.update("/".join(parts[:depth]) for depth in range(1, len(parts)))


class _ReadError(Exception):
    """Reading the archive failed while a file was written: not the folder's fault."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


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


def copy_out(container: Any, spec: CopySpec, folder: OutputFolder, root: str, *,
             suffix: str = "", landings: Landings | None = None) -> CopyResult:
    """Copy what `spec` names from `container` into the folder: to its destination
    (see `Placement`; `suffix` for one of several containers), else to
    `<root>/<path in container>`. A path that does not exist, or a glob that matches
    nothing, sets `missing`. With `landings`, a copy with a destination skips files
    whose destination another copy took (`taken`)."""
    result = CopyResult(spec, container.name)
    import docker.errors  # noqa: PLC0415 - see core.engine.compose
    import requests  # noqa: PLC0415
    import urllib3.exceptions  # noqa: PLC0415

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
    placement = Placement(spec, root, suffix)
    guard = landings if spec.dest is not None else None
    try:
        stream = io.BufferedReader(_ChunkStream(iter(chunks)), buffer_size=_READ)
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            copier = _MemberCopier(archive, placement, folder, result, guard)
            for member in archive:
                copier.copy(member)
    except _ReadError as exc:
        result.notes.append(f"the copy stopped part way: {exc.error}")
    except (tarfile.TarError, docker.errors.APIError, requests.RequestException,
            urllib3.exceptions.HTTPError, OSError) as exc:
        result.notes.append(f"the copy stopped part way: {exc}")
    if not result.files and not result.notes and not result.taken:
        if spec.pattern:
            result.missing = True  # the folder exists, but nothing in it matches
        else:
            result.notes.append("an empty folder")
    return result


def shown(path: PurePosixPath | str) -> str:
    """A path from a container as a note shows it: control characters as `?`."""
    return _CONTROL.sub("?", str(path))


@dataclass
class _MemberCopier:
    """Writes the archive's members that the spec selects into the folder."""

    archive: tarfile.TarFile
    placement: Placement
    folder: OutputFolder
    result: CopyResult
    landings: Landings | None
    # Archive member name -> the file it was written to, for hard links to it.
    written: dict[str, str] = field(default_factory=dict)

    def copy(self, member: tarfile.TarInfo) -> None:
        spec = self.result.spec
        name = member.name.removeprefix("./").lstrip("/")
        base_parent = PurePosixPath(spec.base).parent
        inside = base_parent / name if name not in ("", ".") else base_parent
        if ".." in inside.parts or not _matches(inside, spec) or member.isdir():
            return
        if _CONTROL.search(str(inside)):
            self.result.notes.append(f"skipped {shown(inside)} (a control character in "
                                     "its name)")
            return
        relative = self.placement.of(inside)
        if relative is None:
            return
        if not member.isfile() and not member.islnk():
            kind = "symlink" if member.issym() else "special file"
            self.result.notes.append(f"skipped {kind} {inside}")
            return
        refusal = self.landings.refusal(relative) if self.landings else None
        if refusal:
            self.result.taken.append(relative)
            self.result.notes.append(f"skipped {inside}: {refusal}")
            return
        if member.islnk():
            self._copy_hard_link(member, inside, relative)
            return
        handle = self.archive.extractfile(member)
        if handle is None:
            return
        if self._write(handle, relative):
            self.written[name] = relative

    def _copy_hard_link(self, member: tarfile.TarInfo, inside: PurePosixPath,
                        relative: str) -> None:
        """A hard link's data is its target's, which the archive holds earlier: copy
        the file already written (the link's target may lie outside what matched)."""
        target = self.written.get(member.linkname.removeprefix("./").lstrip("/"))
        if target is None:
            self.result.notes.append(f"skipped hard link {inside} (its target "
                                     f"{shown(member.linkname)} was not copied)")
            return
        with self.folder.path(target).open("rb") as handle:
            self._write(handle, relative)

    def _write(self, handle: Any, relative: str) -> bool:
        """Stream one file into the folder; True when it was written whole. A file
        whose read broke off is removed again: only whole files are listed."""
        head = _read(handle, _SNIFF)
        try:
            with self.folder.open(relative, redact=b"\0" not in head) as out:
                out.write(head)
                while data := _read(handle, _READ):
                    out.write(data)
        except _ReadError:
            self.folder.discard(relative)
            raise
        if relative not in self.folder.written:
            return False
        if relative not in self.result.files:
            self.result.files.append(relative)
        if self.landings is not None:
            self.landings.take(relative, f"{self.result.spec} from {self.result.container}")
        return True


def _read(handle: Any, size: int) -> bytes:
    try:
        return bytes(handle.read(size))
    except Exception as exc:
        raise _ReadError(exc) from exc


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
