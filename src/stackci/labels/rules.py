"""label-gate's decision, as pure functions of the rules and the PR's labels: matching
(case-insensitive, `*` the only wildcard), freshness (a label counts only when applied
after the latest push) and the one line that says why."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from stackci.core.runner.inputs import parse_lines
from stackci.core.text import markdown as md

RULES = ("any-of", "all-of", "none-of")


def split_labels(text: str) -> tuple[str, ...]:
    """One label per line; a single line may be comma-separated, and a label whose name
    holds a comma is then quoted: `bug, "area: a, b"` (or written on a line of its own)."""
    if "\n" in text.strip():
        return parse_lines(text)
    return tuple(item for item in map(_unquote, _QUOTED_OR_PLAIN.findall(text)) if item)


# A comma-separated field: a whole "quoted" one, or anything up to the next comma.
_QUOTED_OR_PLAIN = re.compile(r'\s*("[^"]*"(?=\s*(?:,|$))|[^,]*)\s*(?:,|$)')


def _unquote(item: str) -> str:
    item = item.strip()
    return item[1:-1].strip() if len(item) >= 2 and item[0] == item[-1] == '"' else item


@dataclass(frozen=True)
class Rules:
    any_of: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    @property
    def positive(self) -> tuple[str, ...]:
        return self.all_of + self.any_of

    def given(self) -> list[tuple[str, tuple[str, ...]]]:
        rows = [("all-of", self.all_of), ("any-of", self.any_of), ("none-of", self.none_of)]
        return [(name, patterns) for name, patterns in rows if patterns]



def glob_matches(pattern: str, name: str) -> bool:
    """Case-insensitive; `*` is the only wildcard (label names may hold `?` or `[`)."""
    regex = ".*".join(re.escape(part) for part in pattern.casefold().split("*"))
    return re.fullmatch(regex, name.casefold(), re.DOTALL) is not None


def matches_any(patterns: Iterable[str], name: str) -> bool:
    return any(glob_matches(p, name) for p in patterns)


@dataclass(frozen=True)
class PushTime:
    """When the PR's head was last pushed, by one clue, and whether GitHub's own clock
    recorded it (a commit's date comes from the committer's machine and can be forged)."""

    at: datetime
    source: str
    server: bool


def latest_push(clues: Iterable[PushTime]) -> PushTime | None:
    """The latest clue wins: every clue is a time at or before which the head was pushed,
    so the latest one is the safest. On a tie, GitHub's own record is the one shown."""
    return max(clues, key=lambda c: (c.at, c.server), default=None)


@dataclass(frozen=True)
class PrLabel:
    name: str
    applied_at: datetime | None = None  # latest `labeled` event (read with fresh-labels)
    counts: bool = True  # False: applied before the latest push, or no record of it


def judge_freshness(names: Sequence[str], applied: Mapping[str, datetime],
                    push: PushTime | None) -> list[PrLabel]:
    """A label counts when its latest `labeled` event is strictly after the latest push;
    one with no `labeled` event on record does not count."""
    labels = []
    for name in names:
        at = applied.get(name.casefold())
        counts = at is not None and (push is None or at > push.at)
        labels.append(PrLabel(name, at, counts))
    return labels


@dataclass(frozen=True)
class Verdict:
    passed: bool
    matched: tuple[str, ...]  # counted labels matching an any-of or all-of pattern
    missing_all: tuple[str, ...]  # all-of patterns no counted label matches
    any_unmet: bool  # any-of given and no counted label matches it
    forbidden: tuple[str, ...]  # labels matching none-of (fresh or not)
    stale: tuple[str, ...]  # labels that would match a positive rule but do not count
    reason: str


def evaluate(rules: Rules, labels: Sequence[PrLabel]) -> Verdict:
    counted = [label.name for label in labels if label.counts]
    missing_all = tuple(p for p in rules.all_of if not any(glob_matches(p, n) for n in counted))
    any_unmet = bool(rules.any_of) and not any(matches_any(rules.any_of, n) for n in counted)
    # A forbidden label blocks whenever it was applied: freshness only ever takes away.
    forbidden = tuple(label.name for label in labels if matches_any(rules.none_of, label.name))
    matched = tuple(n for n in counted if matches_any(rules.positive, n))
    stale = tuple(label.name for label in labels
                  if not label.counts and matches_any(rules.positive, label.name))
    passed = not missing_all and not any_unmet and not forbidden
    verdict = Verdict(passed, matched, missing_all, any_unmet, forbidden, stale, "")
    return replace(verdict, reason=explain(rules, verdict, labels))


plain = md.one_line  # a name from outside, shown on one line


def name_list(names: Iterable[str]) -> str:
    # A name that holds a comma is quoted, so the list still reads unambiguously.
    return ", ".join(f'"{plain(n)}"' if "," in n else plain(n) for n in names)


def _label_word(items: Sequence[str]) -> str:
    return "label" if len(items) == 1 else "labels"


def explain(rules: Rules, verdict: Verdict, labels: Sequence[PrLabel]) -> str:
    """One line a person understands: what is wrong (or what matched), then what the PR
    has, e.g. `missing label ready-for-merge (has: bug, docs)`."""
    parts = []
    if verdict.missing_all:
        parts.append(f"missing {_label_word(verdict.missing_all)} "
                     f"{name_list(verdict.missing_all)}")
    if verdict.any_unmet:
        parts.append(f"missing label {name_list(rules.any_of)}" if len(rules.any_of) == 1
                     else f"missing one of: {name_list(rules.any_of)}")
    if verdict.forbidden:
        parts.append(f"has forbidden {_label_word(verdict.forbidden)} "
                     f"{name_list(verdict.forbidden)}")
    if verdict.stale and not verdict.passed:
        verb = "was" if len(verdict.stale) == 1 else "were"
        parts.append(f"{name_list(verdict.stale)} {verb} applied before the latest push "
                     "and must be applied again")
    if verdict.passed:
        parts.append(f"matched {name_list(verdict.matched)}" if verdict.matched
                     else f"no forbidden label ({name_list(rules.none_of)})")
    names = [label.name for label in labels]
    has = f"(has: {name_list(names)})" if names else "(has no labels)"
    return "; ".join(parts) + " " + has

