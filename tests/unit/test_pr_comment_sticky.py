"""`stackci.core.github.sticky.StickyComment` against the fake GitHub, with PyGithub unmodified
(its write pause switched off for speed; the action itself keeps it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from github import Auth, Github

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, READONLY_TOKEN, REPO, WRITER_TOKEN
from stackci.core.github.errors import ReadOnlyToken
from stackci.core.github.sticky import ENTRY_MARK, MAX_COMMENT_CHARS, StickyComment, hidden_marker

MARK = hidden_marker("pr-comment", "ci/test")
T0 = datetime(2024, 5, 1, tzinfo=UTC)


def sticky_for(fake: FakeGitHub, number: int, token: str = WRITER_TOKEN,
               author: str = BOT) -> StickyComment:
    gh = Github(auth=Auth.Token(token), base_url=fake.url, per_page=100, lazy=True,
                seconds_between_requests=None, seconds_between_writes=None)
    return StickyComment(gh.get_repo(REPO).get_issue(number), MARK, author)


def bodies(fake: FakeGitHub, number: int) -> list[tuple[str, str]]:
    return [(c.user, c.body) for c in fake.state.comments(REPO, number)]


@pytest.fixture
def pr(fake_github: FakeGitHub) -> int:
    return fake_github.state.add_pull(REPO, at=T0).number


@pytest.mark.parametrize(("key", "expected"), [
    ("ci/test", "<!-- stackci:pr-comment:ci/test -->"),
    ("a-->b", "<!-- stackci:pr-comment:a--%3Eb -->"),
    ("x--!>y", "<!-- stackci:pr-comment:x--%21%3Ey -->"),
    ("<b>@all</b> hi", "<!-- stackci:pr-comment:%3Cb%3E@all%3C/b%3E%20hi -->"),
])
def test_marker_cannot_end_the_html_comment(key: str, expected: str) -> None:
    marker = hidden_marker("pr-comment", key)
    assert marker == expected
    assert marker.count("-->") == 1
    assert "--!>" not in marker
    assert marker.count("<") == 1


def test_upsert_creates_then_edits_in_place(fake_github: FakeGitHub, pr: int) -> None:
    first = sticky_for(fake_github, pr).upsert("one")
    second = sticky_for(fake_github, pr).upsert("two")
    third = sticky_for(fake_github, pr).upsert("two")
    assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
    assert first.comment_id == second.comment_id == third.comment_id
    assert bodies(fake_github, pr) == [(BOT, f"{MARK}\ntwo")]
    assert second.url.endswith(f"#issuecomment-{first.comment_id}")


def test_someone_elses_comment_with_the_marker_is_never_touched(
    fake_github: FakeGitHub, pr: int
) -> None:
    fake_github.state.add_comment(REPO, pr, f"{MARK}\npasted", user="mallory", at=T0)
    outcome = sticky_for(fake_github, pr).upsert("ours")
    assert outcome.action == "created"
    assert bodies(fake_github, pr) == [("mallory", f"{MARK}\npasted"), (BOT, f"{MARK}\nours")]
    assert sticky_for(fake_github, pr).delete().action == "deleted"
    assert bodies(fake_github, pr) == [("mallory", f"{MARK}\npasted")]


def test_other_keys_are_other_comments(fake_github: FakeGitHub, pr: int) -> None:
    other = hidden_marker("pr-comment", "ci/test-2")
    fake_github.state.add_comment(REPO, pr, f"{other}\nother", user=BOT, at=T0)
    sticky_for(fake_github, pr).upsert("mine")
    assert bodies(fake_github, pr) == [(BOT, f"{other}\nother"), (BOT, f"{MARK}\nmine")]


def test_duplicates_of_ours_are_removed_keeping_the_oldest(
    fake_github: FakeGitHub, pr: int
) -> None:
    state = fake_github.state
    oldest = state.add_comment(REPO, pr, f"{MARK}\nA", user=BOT, at=T0)
    state.add_comment(REPO, pr, f"{MARK}\nB", user=BOT, at=T0 + timedelta(seconds=5))
    outcome = sticky_for(fake_github, pr).upsert("C")
    assert (outcome.action, outcome.comment_id, outcome.duplicates_removed) == (
        "updated", oldest.id, 1)
    assert bodies(fake_github, pr) == [(BOT, f"{MARK}\nC")]


def test_recreate_posts_anew_and_deletes_the_old(fake_github: FakeGitHub, pr: int) -> None:
    old = fake_github.state.add_comment(REPO, pr, f"{MARK}\nold", user=BOT, at=T0)
    fake_github.state.add_comment(REPO, pr, "a reply", user="octocat", at=T0)
    outcome = sticky_for(fake_github, pr).recreate("new")
    assert outcome.action == "created"
    assert outcome.comment_id != old.id
    assert bodies(fake_github, pr) == [("octocat", "a reply"), (BOT, f"{MARK}\nnew")]


def test_append_adds_under_the_existing_text(fake_github: FakeGitHub, pr: int) -> None:
    sticky_for(fake_github, pr).append("run 1")
    outcome = sticky_for(fake_github, pr).append("run 2")
    assert outcome.action == "updated"
    assert bodies(fake_github, pr) == [(BOT, f"{MARK}\nrun 1\n\n{ENTRY_MARK}\nrun 2")]


def test_delete_when_there_is_nothing(fake_github: FakeGitHub, pr: int) -> None:
    assert sticky_for(fake_github, pr).delete().action == "absent"


def test_a_concurrent_copy_created_first_wins_and_gets_our_body(
    fake_github: FakeGitHub, pr: int
) -> None:
    """The race as the second job sees it: between its listing and its POST, another
    job's comment appeared. It deletes its own copy and writes into the older one."""
    sticky = sticky_for(fake_github, pr)
    real_create = sticky.issue.create_comment

    def racing_create(body: str):  # type: ignore[no-untyped-def]
        fake_github.state.add_comment(REPO, pr, f"{MARK}\nfrom the other job", user=BOT)
        return real_create(body)

    sticky.issue.create_comment = racing_create  # type: ignore[method-assign]
    outcome = sticky.upsert("from this job")
    assert outcome.action == "updated"
    assert bodies(fake_github, pr) == [(BOT, f"{MARK}\nfrom this job")]


def test_a_wrongly_guessed_author_heals_after_the_first_write(
    fake_github: FakeGitHub, pr: int
) -> None:
    """A GitHub App token cannot learn its login from GET /user, so the author is guessed
    (`github-actions[bot]`). Its own older comment is then missed once, but the comment
    it creates says who it is, and the look after creating cleans up."""
    old = fake_github.state.add_comment(REPO, pr, f"{MARK}\nold", user=BOT, at=T0)
    outcome = sticky_for(fake_github, pr, author="github-actions[bot]").upsert("new")
    assert (outcome.action, outcome.comment_id, outcome.duplicates_removed) == (
        "updated", old.id, 1)
    assert bodies(fake_github, pr) == [(BOT, f"{MARK}\nnew")]


def test_fit_keeps_the_body_under_the_limit(fake_github: FakeGitHub, pr: int) -> None:
    seen: list[int] = []

    def fit(body: str, room: int) -> str:
        seen.append(room)
        return body[:room]

    gh_sticky = sticky_for(fake_github, pr)
    sticky = StickyComment(gh_sticky.issue, MARK, BOT, fit=fit)
    sticky.upsert("x" * (MAX_COMMENT_CHARS + 10))
    [(_, body)] = bodies(fake_github, pr)
    assert len(body) == MAX_COMMENT_CHARS
    assert seen == [MAX_COMMENT_CHARS - len(MARK) - 1]


def test_read_only_token_raises_read_only(fake_github: FakeGitHub, pr: int) -> None:
    with pytest.raises(ReadOnlyToken):
        sticky_for(fake_github, pr, READONLY_TOKEN, "fork-user").upsert("x")
    assert bodies(fake_github, pr) == []


def test_a_marker_inside_our_own_other_comment_does_not_make_it_ours(
    fake_github: FakeGitHub, pr: int
) -> None:
    """Our pr-comment summary can quote outside text (a JUnit failure message, a label
    name) that holds another sticky's marker: only a first line that IS the marker
    makes a comment that sticky's own."""
    other = hidden_marker("label-gate", "CI/gate")
    quoted = f"{MARK}\n```text\nAssertionError: {other}\n```"
    summary = fake_github.state.add_comment(REPO, pr, quoted, user=BOT, at=T0)
    late = fake_github.state.add_comment(REPO, pr, f"intro\n{other}\nlate marker", user=BOT,
                                         at=T0)
    gate = StickyComment(sticky_for(fake_github, pr).issue, other, BOT)
    assert gate.find() == []
    assert gate.delete().action == "absent"
    outcome = gate.upsert("gate closed")
    assert outcome.action == "created"
    assert outcome.comment_id not in (summary.id, late.id)
    assert bodies(fake_github, pr)[:2] == [(BOT, quoted), (BOT, f"intro\n{other}\nlate marker")]
    assert gate.content(outcome.comment) == "gate closed"


def test_append_near_the_limit_drops_the_oldest_entries_not_the_newest(
    fake_github: FakeGitHub, pr: int
) -> None:
    entry = "x" * 20_000
    for run in range(3):  # three entries of 20,000: 60,000 and some
        sticky_for(fake_github, pr).append(f"run {run}\n{entry}")
    outcome = sticky_for(fake_github, pr).append(f"run 3\n{entry}\nTHE NEWEST LINE")
    assert outcome.action == "updated"
    [(_, body)] = bodies(fake_github, pr)
    assert len(body) <= MAX_COMMENT_CHARS
    assert body.rstrip().endswith("THE NEWEST LINE")  # the newest entry is whole
    assert "run 0\n" not in body  # the oldest went
    assert body.index("run 1\n") < body.index("run 2\n") < body.index("run 3\n")
    assert body.startswith(MARK + "\n")
    # A later append still finds the entries apart.
    sticky_for(fake_github, pr).append("run 4")
    [(_, body)] = bodies(fake_github, pr)
    assert "run 1\n" in body  # it fits: nothing more is dropped
    assert body.rstrip().endswith("run 4")


def test_a_wrong_guess_never_deletes_the_guessed_users_comment(
    fake_github: FakeGitHub, pr: int
) -> None:
    """A GitHub App token guessed as `github-actions[bot]` recreates: the comment of the
    real github-actions[bot] (the workflow token's, same key) found under the guess is
    not its own, as the comment it creates proves, and must stay."""
    theirs = fake_github.state.add_comment(REPO, pr, f"{MARK}\nworkflow token's", at=T0,
                                           user="github-actions[bot]")
    outcome = sticky_for(fake_github, pr, author="github-actions[bot]").recreate("app's")
    assert outcome.action == "created"
    assert bodies(fake_github, pr) == [("github-actions[bot]", theirs.body),
                                       (BOT, f"{MARK}\napp's")]


def test_a_given_author_finds_its_own_comment_at_once(fake_github: FakeGitHub, pr: int) -> None:
    """With the App's login given (`comment-author`), its comment is found and edited: no
    new comment, no delete."""
    old = fake_github.state.add_comment(REPO, pr, f"{MARK}\nold", user=BOT, at=T0)
    fake_github.reset_log()
    outcome = sticky_for(fake_github, pr, author=BOT).upsert("new")
    assert (outcome.action, outcome.comment_id) == ("updated", old.id)
    assert [r.method for r in fake_github.requests() if r.method != "GET"] == ["PATCH"]
