"""The failed tests as annotations: one each, placed on a file and line of the
workspace where the JUnit file says where the test is and the workspace has that file.

Pure data for the action, which writes them through `Workflow` (this package writes no
workflow commands). What the file says is untrusted text; it is cleaned here and escaped
where it becomes a command.

Where a test is, in this order, and only when the file found is one of the workspace's
(a relative path that stays inside it, or an absolute one under it):

- the file: the testcase's `file` attribute; else its `classname` as a path
  (`tests.test_api` -> `tests/test_api.py`, `com.example.ApiTest` ->
  `src/test/java/com/example/ApiTest.java`) when exactly one such file exists;
- the line: the innermost line of that file that the failure's traceback names
  (pytest's `tests/test_api.py:12: AssertionError`, Python's `File "...", line 12`,
  a JVM frame's `(ApiTest.java:12)`), else the testcase's `line` attribute.

A test whose file is not found is annotated without a place: honest, and still listed
on the run's page.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from stackci.core.text.markdown import clean_text, one_line
from stackci.report.junit import Failure

MAX_MESSAGE_CHARS = 1_000
MAX_DETAIL_LINES = 12
MAX_TEXT_CHARS = 2_000
MAX_LINE = 10_000_000

# `tests/test_api.py:12: AssertionError` (pytest), `at x (ApiTest.java:12)`, `File "x", line 12`.
_PYTEST_REF = re.compile(r"^(?P<path>[^\s:\"'()]+):(?P<line>[0-9]{1,7}):", re.MULTILINE)
_PYTHON_REF = re.compile(r'File "(?P<path>[^"\n]+)", line (?P<line>[0-9]{1,7})')
_JVM_REF = re.compile(r"\((?P<path>[\w$.-]+\.(?:java|kt|scala|groovy)):(?P<line>[0-9]{1,7})\)")
_CLASSNAME = re.compile(r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,30}")


@dataclass(frozen=True)
class FailureNote:
    title: str  # one line: `tests.test_api.test_status failed`
    message: str  # the failure's message, then the end of its details
    file: str | None = None  # relative to the workspace, when found there
    line: int | None = None


@dataclass(frozen=True)
class FailureNotes:
    shown: tuple[FailureNote, ...]
    more: int  # failed tests beyond `limit`, not annotated


def failure_notes(failures: tuple[Failure, ...], workspace: Path,
                  limit: int) -> FailureNotes:
    """The first `limit` failures as annotations, and how many more there are."""
    shown = tuple(annotation(f, workspace) for f in failures[:limit])
    return FailureNotes(shown, max(len(failures) - limit, 0))


def more_note(more: int, total: int, per_step: int, run_url: str, listed: int) -> str:
    """The note after the last annotation: how many failed tests were not annotated,
    and where they are (the job summary lists the first `listed`)."""
    url = f" ({run_url})" if run_url else ""
    rest = (f" (the first {listed:,} there; the JUnit files have them all)"
            if total > listed else "")
    return (f"{more:,} more failed tests are not annotated (GitHub shows {per_step} error "
            f"annotations per step): all {total:,} are in the job summary{url}{rest}.")


def annotation(failure: Failure, workspace: Path) -> FailureNote:
    verb = "failed" if failure.kind == "failed" else "errored"
    file, line = locate(failure, workspace)
    return FailureNote(f"{one_line(failure.name)} {verb}", annotation_text(failure),
                          file, line)


def annotation_text(failure: Failure) -> str:
    """The message, then the last lines of the details (where a traceback says what
    broke), unless they only repeat it."""
    message = clean_text(failure.message).strip()[:MAX_MESSAGE_CHARS]
    lines = clean_text(failure.details).strip("\n").splitlines()
    tail = "\n".join(lines[-MAX_DETAIL_LINES:])
    if len(lines) > MAX_DETAIL_LINES:
        tail = f"… ({len(lines) - MAX_DETAIL_LINES} lines above)\n{tail}"
    if message and (not tail or tail.strip() == message):
        text = message
    else:
        text = "\n\n".join(t for t in (message, tail) if t) or f"(the test {failure.kind})"
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " … (cut)"
    return text


def locate(failure: Failure, workspace: Path) -> tuple[str | None, int | None]:
    """The workspace file and line of a failed test, each None when not known."""
    file = (in_workspace(failure.source, workspace) if failure.source
            else _classname_file(failure.classname, workspace))
    if file is None:
        return None, None
    return file, _traceback_line(failure.details, file) or failure.line


def in_workspace(path: str, workspace: Path) -> str | None:
    """`path` as a file of the workspace (relative, `/`-separated), or None: absent,
    a folder, or outside it (`../`, an absolute path elsewhere)."""
    if not path or "\x00" in path or len(path) > 1_000:
        return None
    base = os.path.normpath(workspace)
    # normpath, not resolve: `..` is judged as written, and symlinks are not followed.
    full = os.path.normpath(Path(base, path))  # an absolute `path` replaces `base`
    rel = os.path.relpath(full, base)
    if rel == "." or rel.startswith(".." + os.sep) or rel == "..":
        return None
    try:
        if not Path(full).is_file():
            return None
    except OSError:  # a name too long, say
        return None
    return PurePosixPath(Path(rel)).as_posix()


def _classname_file(classname: str, workspace: Path) -> str | None:
    """The one file a classname names, if only one exists: as a Python module, its
    longest dotted prefix that is a file (pytest's `tests.test_api.TestClass` is in
    `tests/test_api.py`; a package shadows a module of its name); as a JVM class, its
    file under Maven's and Gradle's test folders."""
    if not _CLASSNAME.fullmatch(classname):
        return None
    parts = classname.split(".")
    modules = (in_workspace("/".join(parts[:end]) + ".py", workspace)
               for end in range(len(parts), 0, -1))
    found = [m for m in modules if m][:1]
    jvm = "/".join(parts).split("$")[0]
    found += [f for f in (in_workspace(f"src/test/java/{jvm}.java", workspace),
                          in_workspace(f"src/test/kotlin/{jvm}.kt", workspace)) if f]
    return found[0] if len(found) == 1 else None


def _traceback_line(details: str, file: str) -> int | None:
    """The innermost line of `file` the traceback names: the last in pytest's and
    Python's tracebacks (outermost frame first), the first in a JVM's."""
    text = details[-50_000:]

    def lines(pattern: re.Pattern[str], *, basename: bool = False) -> list[int]:
        found = []
        for match in pattern.finditer(text):
            named = match.group("path").replace("\\", "/")
            if _same_file(named, file, basename):
                line = int(match.group("line"))
                if 1 <= line <= MAX_LINE:
                    found.append(line)
        return found

    pytest_lines = lines(_PYTEST_REF) or lines(_PYTHON_REF)
    if pytest_lines:
        return pytest_lines[-1]
    jvm = lines(_JVM_REF, basename=True)
    return jvm[0] if jvm else None


def _same_file(named: str, file: str, basename: bool) -> bool:
    """Whether a traceback's path is `file`: the same relative path, or a longer path
    ending in it (`/app/tests/test_api.py` in a container); a JVM frame names only the
    file's name."""
    if basename:
        return "/" not in named and PurePosixPath(file).name == named
    named = named.removeprefix("./")
    return named == file or named.endswith("/" + file)
