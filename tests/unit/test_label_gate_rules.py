"""label-gate's decision, as pure functions: matching, rules, freshness, the reason line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stackci.labels import (
    PrLabel,
    PushTime,
    Rules,
    evaluate,
    glob_matches,
    judge_freshness,
    latest_push,
    plain,
    split_labels,
)

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def labels(*names: str) -> list[PrLabel]:
    return [PrLabel(n) for n in names]


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("ready-for-merge", "ready-for-merge", True),
    ("Ready-For-Merge", "ready-for-MERGE", True),
    ("ready", "ready-for-merge", False),  # whole names, not substrings
    ("test:*", "test:e2e", True),
    ("test:*", "Test:", True),
    ("test:*", "unit-test:e2e", False),
    ("*-ok", "ci-ok", True),
    ("a*b*c", "a-x-b-y-c", True),
    ("*", "anything at all", True),
    ("help?", "help?", True),  # `?` and `[` are literal: label names hold them
    ("help?", "helps", False),
    ("[area] ui", "[area] ui", True),
    ("[area] ui", "a ui", False),
    ("straße", "STRASSE", True),  # casefold, as GitHub compares label names
])
def test_glob_matches(pattern: str, name: str, expected: bool) -> None:
    assert glob_matches(pattern, name) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("a, b ,c", ("a", "b", "c")),
    ("a\nb, with comma\n\n", ("a", "b, with comma")),  # one per line keeps commas
    ("  ", ()),
    ('needs review, "area: a, b"', ("needs review", "area: a, b")),  # one label, quoted
    ('"a, b"\n', ("a, b",)),  # a single label holding a comma, in a block scalar
    ('"x, y"', ("x, y",)),
    ('say "hi", b', ('say "hi"', "b")),  # quotes inside a name stay
])
def test_split_labels(text: str, expected: tuple[str, ...]) -> None:
    assert split_labels(text) == expected


@pytest.mark.parametrize(("rules", "has", "passed", "reason"), [
    (Rules(all_of=("ready-for-merge",)), ("bug", "docs"), False,
     "missing label ready-for-merge (has: bug, docs)"),
    (Rules(all_of=("ready-for-merge",)), (), False,
     "missing label ready-for-merge (has no labels)"),
    (Rules(all_of=("a", "b")), ("A",), False, "missing label b (has: A)"),
    (Rules(all_of=("a", "b", "c")), (), False, "missing labels a, b, c (has no labels)"),
    (Rules(all_of=("ready-for-merge",)), ("bug", "Ready-For-Merge"), True,
     "matched Ready-For-Merge (has: bug, Ready-For-Merge)"),
    (Rules(any_of=("safe-to-test", "maintainer-ok")), ("bug",), False,
     "missing one of: safe-to-test, maintainer-ok (has: bug)"),
    (Rules(any_of=("x",)), ("bug",), False, "missing label x (has: bug)"),
    (Rules(any_of=("test:*",)), ("test:e2e", "bug", "test:unit"), True,
     "matched test:e2e, test:unit (has: test:e2e, bug, test:unit)"),
    (Rules(none_of=("do-not-merge", "wip*")), ("bug",), True,
     "no forbidden label (do-not-merge, wip*) (has: bug)"),
    (Rules(none_of=("do-not-merge", "wip*")), ("WIP: later", "do-not-merge"), False,
     "has forbidden labels WIP: later, do-not-merge (has: WIP: later, do-not-merge)"),
    (Rules(all_of=("ok",), none_of=("blocked",)), ("ok", "blocked"), False,
     "has forbidden label blocked (has: ok, blocked)"),
    (Rules(all_of=("a, b",)), ("c",), False, 'missing label "a, b" (has: c)'),
])
def test_evaluate_and_reason(rules: Rules, has: tuple[str, ...], passed: bool,
                             reason: str) -> None:
    verdict = evaluate(rules, labels(*has))
    assert (verdict.passed, verdict.reason) == (passed, reason)


def test_matched_lists_counted_positive_matches_only() -> None:
    rules = Rules(any_of=("test:*",), all_of=("ok",), none_of=("bug",))
    verdict = evaluate(rules, [PrLabel("test:e2e"), PrLabel("ok"), PrLabel("bug"),
                               PrLabel("test:old", counts=False)])
    assert verdict.matched == ("test:e2e", "ok")
    assert verdict.forbidden == ("bug",)
    assert verdict.stale == ("test:old",)


def test_stale_labels_do_not_count_and_are_named() -> None:
    verdict = evaluate(Rules(all_of=("safe-to-test",)),
                       [PrLabel("safe-to-test", T0, counts=False), PrLabel("bug", T0)])
    assert not verdict.passed
    assert verdict.reason == ("missing label safe-to-test; safe-to-test was applied before the "
                              "latest push and must be applied again (has: safe-to-test, bug)")


def test_a_stale_forbidden_label_still_forbids() -> None:
    verdict = evaluate(Rules(none_of=("do-not-test",)),
                       [PrLabel("do-not-test", T0, counts=False)])
    assert not verdict.passed
    assert verdict.forbidden == ("do-not-test",)


def test_freshness_is_strictly_after_the_latest_push() -> None:
    push = PushTime(T0, "test", server=True)
    applied = {"before": T0 - timedelta(seconds=1), "same": T0,
               "after": T0 + timedelta(seconds=1)}
    judged = judge_freshness(["Before", "same", "AFTER", "unrecorded"], applied, push)
    assert [(lb.name, lb.counts) for lb in judged] == [
        ("Before", False), ("same", False), ("AFTER", True), ("unrecorded", False)]
    assert judged[2].applied_at == T0 + timedelta(seconds=1)


def test_the_latest_push_clue_wins_and_a_tie_shows_githubs_own_record() -> None:
    commit = PushTime(T0, "commit date", server=False)
    force = PushTime(T0 - timedelta(hours=1), "force push", server=True)
    assert latest_push([commit, force]) == commit  # a forward-dated commit only makes it later
    tie = PushTime(T0, "synchronize", server=True)
    assert latest_push([commit, tie]) == tie
    assert latest_push([]) is None


@pytest.mark.parametrize(("name", "shown"), [
    ("👩\u200d💻 needs-dev", "👩\u200d💻 needs-dev"),  # a joined emoji stays whole
    ("two\nlines\r", "two lines"),
    ("tab\there\u2028x", "tab here x"),
])
def test_names_are_shown_on_one_line(name: str, shown: str) -> None:
    assert plain(name) == shown
