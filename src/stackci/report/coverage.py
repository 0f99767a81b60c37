"""Cobertura XML (coverage.py's `coverage xml`, JaCoCo converters, gcovr, c8...): line
and branch coverage, summed over any number of files.

Totals are read from the root's `lines-covered`/`lines-valid` (and `branches-...`)
attributes; a writer that leaves them out gets them counted from its `<line>` elements
(`hits`, and `condition-coverage="50% (1/2)"` for branches). Rates are recomputed from
the sums: averaging the rates of two files of different sizes would be wrong."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stackci.report.files import relative
from stackci.report.xmlsafe import UnreadableReport, parse_xml_file

# Plain ASCII digits, at most 15 (no count is larger): `str.isdigit()` also accepts `²`
# and other digits `int()` refuses, and a 5,000-digit number is past `int()`'s limit.
_NUMBER = re.compile(r"[0-9]{1,15}")
_CONDITIONS = re.compile(r"\(([^()/]*)/([^()]*)\)")


@dataclass(frozen=True)
class Counts:
    lines_covered: int = 0
    lines_valid: int = 0
    branches_covered: int = 0
    branches_valid: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.lines_covered + other.lines_covered,
                      self.lines_valid + other.lines_valid,
                      self.branches_covered + other.branches_covered,
                      self.branches_valid + other.branches_valid)


@dataclass(frozen=True)
class CoverageTotals:
    counts: Counts = Counts()
    files: tuple[str, ...] = ()
    unreadable: tuple[tuple[str, str], ...] = ()

    @property
    def line_rate(self) -> float | None:
        c = self.counts
        return c.lines_covered / c.lines_valid if c.lines_valid else None

    @property
    def branch_rate(self) -> float | None:
        c = self.counts
        return c.branches_covered / c.branches_valid if c.branches_valid else None


def read_coverage(paths: Iterable[Path], base: Path) -> CoverageTotals:
    total = Counts()
    files: list[str] = []
    unreadable: list[tuple[str, str]] = []
    for path in paths:
        shown = relative(path, base)
        try:
            total += counts_of(parse_xml_file(path))
        except UnreadableReport as exc:
            unreadable.append((shown, str(exc)))
            continue
        except (ValueError, OverflowError) as exc:  # a number nobody foresaw: the file only
            unreadable.append((shown, f"it holds a value that cannot be used ({exc})"))
            continue
        files.append(shown)
    return CoverageTotals(total, tuple(files), tuple(unreadable))


def counts_of(root: ET.Element) -> Counts:
    if root.tag != "coverage":
        raise UnreadableReport(f"the root element is <{root.tag}>, not Cobertura's <coverage>")
    attrs = [_count(root.get(name), name) for name in
             ("lines-covered", "lines-valid", "branches-covered", "branches-valid")]
    if attrs[0] is not None and attrs[1] is not None:
        counts = Counts(attrs[0], attrs[1], attrs[2] or 0, attrs[3] or 0)
    else:
        counts = _count_lines(root)
    if counts.lines_covered > counts.lines_valid or (
            counts.branches_covered > counts.branches_valid):
        raise UnreadableReport("it says more lines or branches are covered than exist")
    return counts


def _count_lines(root: ET.Element) -> Counts:
    """Counts from `<line>` elements, each (file, line number) once: Cobertura lists a
    line under its class and again under its method."""
    seen: dict[tuple[str, str], tuple[bool, int, int]] = {}
    for cls in root.iter("class"):
        filename = cls.get("filename", "")
        for line in cls.iter("line"):
            number = line.get("number", "")
            hits = _count(line.get("hits"), "a line's hits") or 0
            covered, valid = 0, 0
            match = _CONDITIONS.search(line.get("condition-coverage", ""))
            if line.get("branch") == "true" and match:
                covered = _count(match.group(1), "a condition-coverage") or 0
                valid = _count(match.group(2), "a condition-coverage") or 0
            seen[(filename, number)] = (hits > 0, covered, valid)
    if not seen:
        raise UnreadableReport("it has neither line totals nor <line> elements")
    return Counts(sum(1 for hit, _, _ in seen.values() if hit), len(seen),
                  sum(c for _, c, _ in seen.values()), sum(v for _, _, v in seen.values()))


def _count(text: str | None, what: str = "a count") -> int | None:
    """A whole number, or None when absent. Anything else makes the file unusable: a
    guess would be a wrong figure in the comment."""
    if text is None:
        return None
    if not _NUMBER.fullmatch(text.strip()):
        shown = text.strip()[:20] + ("…" if len(text.strip()) > 20 else "")
        raise UnreadableReport(f"{what} is {shown!r}, not a whole number")
    return int(text.strip())
