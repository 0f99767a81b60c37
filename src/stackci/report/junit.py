"""JUnit XML: totals and failures, from `<testsuites>` or a bare `<testsuite>` root, over
any number of files.

Counts come from the `<testcase>` elements themselves, not from the suites' `tests=` /
`failures=` attributes, which some writers get wrong or leave out. A test case with
`<failure>` failed, with `<error>` errored, with `<skipped>` was skipped, otherwise it
passed (`<flakyFailure>`/`<rerunFailure>`, Surefire's records of failed attempts of a
test that passed in the end, do not make it fail)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stackci.report.files import relative
from stackci.report.xmlsafe import UnreadableReport, parse_xml_file

Outcome = Literal["passed", "failed", "error", "skipped"]
MAX_SECONDS = 366 * 24 * 3600.0


@dataclass(frozen=True)
class Failure:
    """A failed or errored test case, as the file says it (untrusted text)."""

    name: str  # `classname.name`, or the name alone
    kind: Literal["failed", "error"]
    message: str  # the `message` attribute, often one line
    details: str  # the element's text: usually the traceback
    file: str  # the result file it came from (relative, for the reader)
    # Where the test is, as the file says it (for an annotation; see `report.locate`):
    classname: str = ""  # `tests.test_api`, `com.example.ApiTest`
    source: str = ""  # the testcase's `file` attribute (pytest's xunit1, PHPUnit, jest-junit)
    line: int | None = None  # its `line` attribute, counted from 1


@dataclass(frozen=True)
class TestTotals:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    time: float = 0.0
    failures: tuple[Failure, ...] = ()
    files: tuple[str, ...] = ()
    unreadable: tuple[tuple[str, str], ...] = ()  # (file, why)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.errors == 0 and not self.unreadable


@dataclass
class _Tally:
    counts: dict[Outcome, int] = field(
        default_factory=lambda: {"passed": 0, "failed": 0, "error": 0, "skipped": 0})
    failures: list[Failure] = field(default_factory=list)


def read_junit(paths: Iterable[Path], base: Path) -> TestTotals:
    """Totals over every file; a file that cannot be read is listed, not fatal."""
    tally = _Tally()
    time = 0.0
    files: list[str] = []
    unreadable: list[tuple[str, str]] = []
    for path in paths:
        shown = relative(path, base)
        try:
            root = _junit_root(path)
        except UnreadableReport as exc:
            unreadable.append((shown, str(exc)))
            continue
        try:
            seconds = _document_time(root)
        except (ValueError, OverflowError) as exc:  # a value nobody foresaw: the file only
            unreadable.append((shown, f"it holds a value that cannot be used ({exc})"))
            continue
        files.append(shown)
        time += seconds
        zero_based = _pytest_wrote(root)
        for case in root.iter("testcase"):
            _count(case, shown, tally, zero_based)
    counts = tally.counts
    return TestTotals(counts["passed"], counts["failed"], counts["error"], counts["skipped"],
                      round(time, 3), tuple(tally.failures), tuple(files), tuple(unreadable))


def _junit_root(path: Path) -> ET.Element:
    root = parse_xml_file(path)
    if root.tag not in ("testsuites", "testsuite"):
        raise UnreadableReport(f"the root element is <{root.tag}>, not <testsuites> or "
                               "<testsuite>")
    return root


def _pytest_wrote(root: ET.Element) -> bool:
    """pytest names its suite `pytest` (and its root `pytest ...`): its `line`
    attributes count from 0 (the line of the test's `def`, less one)."""
    return root.get("name", "").startswith("pytest") or any(
        suite.get("name") == "pytest" for suite in root.iter("testsuite"))


def _line(text: str | None, zero_based: bool) -> int | None:
    """A `line` attribute as a line counted from 1; None unless it is plain digits
    within reason."""
    if text is None or not re.fullmatch(r"[0-9]{1,7}", text.strip()):
        return None
    line = int(text) + (1 if zero_based else 0)
    return line if line >= 1 else None


def _count(case: ET.Element, file: str, tally: _Tally, zero_based: bool = False) -> None:
    outcome: Outcome = "passed"
    problem: ET.Element | None = None
    for child in case:
        if child.tag == "failure":
            outcome, problem = "failed", child
        elif child.tag == "error" and outcome != "failed":
            outcome, problem = "error", child
        elif child.tag == "skipped" and outcome == "passed":
            outcome = "skipped"
    tally.counts[outcome] += 1
    if problem is not None and outcome in ("failed", "error"):
        tally.failures.append(Failure(
            name=_case_name(case),
            kind="failed" if outcome == "failed" else "error",
            message=(problem.get("message") or problem.get("type") or "").strip(),
            details=(problem.text or "").strip("\n"),
            file=file,
            classname=case.get("classname", "").strip(),
            source=case.get("file", "").strip(),
            line=_line(case.get("line"), zero_based),
        ))


def _case_name(case: ET.Element) -> str:
    name = case.get("name", "").strip() or "(unnamed test)"
    classname = case.get("classname", "").strip()
    return f"{classname}.{name}" if classname else name


def _document_time(root: ET.Element) -> float:
    """The run's time: the root's `time`, else its top-level suites', else the cases'."""
    own = _seconds(root.get("time"))
    if own is not None:
        return own
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    suite_times = [_seconds(s.get("time")) for s in suites]
    if suite_times and all(t is not None for t in suite_times):
        return sum(t for t in suite_times if t is not None)
    return sum(_seconds(c.get("time")) or 0.0 for c in root.iter("testcase"))


def _seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.replace(",", ""))  # some writers print 1,234.5
    except ValueError:
        return None
    # Past a year a time is nonsense; refusing it keeps every sum finite.
    return value if math.isfinite(value) and 0 <= value <= MAX_SECONDS else None

