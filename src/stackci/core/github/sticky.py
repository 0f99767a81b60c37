"""One comment per pull request (or issue) and purpose, found again by a hidden marker.

Used by every action that keeps a comment up to date (pr-comment's summary, label-gate's
explanation). The rules that make it safe:

- only comments written by the token's own user are candidates: anyone can paste the
  marker into a comment of theirs, and we never edit someone else's;
- every page of comments is read (a PR with 1,000 comments has ours on page 8, and a
  reader of the first page alone posts a duplicate);
- after creating, the comments are listed again and the duplicates we can prove are ours
  (same marker, same author) are deleted, keeping the oldest: two jobs upserting at the
  same moment, or a POST retried after a timeout that had in fact been applied, end with
  one comment.

    sticky = StickyComment(repo.get_issue(7), hidden_marker("pr-comment", key), login)
    outcome = sticky.upsert("## Pipeline\n...")      # outcome.action: created/updated
    sticky.delete()                                   # outcome.action: deleted/absent
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar
from urllib.parse import quote

from github import GithubException
from github.Issue import Issue
from github.IssueComment import IssueComment

from stackci.core.github.errors import ReadOnlyToken, is_read_only_refusal
from stackci.core.runner.context import RunContext

# GitHub refuses a comment body longer than this (characters, not bytes).
MAX_COMMENT_CHARS = 65_536
# Between the entries of an appended-to comment (hidden when rendered).
ENTRY_MARK = "<!-- stackci:entry -->"

T = TypeVar("T")

StickyAction = Literal["created", "updated", "unchanged", "deleted", "absent"]
Fit = Callable[[str, int], str]
"""Fits a body into a number of characters (the room left after the marker line)."""


def hidden_marker(namespace: str, key: str = "") -> str:
    """`<!-- stackci:<namespace>:<key> -->`. The key is percent-encoded beyond a few safe
    characters, so no key can end the HTML comment early (`-->`, `--!>`) or add markup."""
    safe_key = quote(key, safe="._:/@+=,")
    return f"<!-- stackci:{namespace}:{safe_key} -->" if key else f"<!-- stackci:{namespace} -->"


def default_key(ctx: RunContext) -> str:
    """One sticky comment per workflow and job, unless told otherwise."""
    return "/".join(part for part in (ctx.workflow, ctx.job) if part) or "default"


def first_line(body: str) -> str:
    """The first line (GitHub may store a body with CRLF line ends)."""
    return body.partition("\n")[0].removesuffix("\r")


@dataclass(frozen=True)
class StickyOutcome:
    """What a sticky operation did. `comment` is the surviving comment (None after a
    delete or when there was none); `duplicates_removed` counts our own extra copies."""

    action: StickyAction
    comment: IssueComment | None = None
    duplicates_removed: int = 0

    @property
    def comment_id(self) -> int | None:
        return self.comment.id if self.comment is not None else None

    @property
    def url(self) -> str:
        return str(self.comment.html_url) if self.comment is not None else ""


class StickyComment:
    """The comment on `issue` that carries `marker` and was written by `author` (the
    token's login: `GitHubSession.author`).

    Bodies are stored as `marker + "\\n" + body`; pass bodies without the marker.
    `fit`, when given, shortens a body to the room left under GitHub's limit (the room
    is passed in); without it an over-long body is refused by GitHub.
    Writes refused because the token is read-only raise `ReadOnlyToken`; other API
    errors propagate as `GithubException`.
    """

    def __init__(self, issue: Issue, marker: str, author: str, fit: Fit | None = None) -> None:
        self.issue = issue
        self.marker = marker
        self.author = author
        self._fit = fit

    # -- reading --------------------------------------------------------------------------
    def find(self) -> list[IssueComment]:
        """Our comments carrying the marker, oldest first (every page is read)."""
        ours = [c for c in self.issue.get_comments() if self.is_ours(c)]
        ours.sort(key=lambda c: (c.created_at, c.id))
        return ours

    def is_ours(self, comment: IssueComment) -> bool:
        """Written by our author, and its first line is our marker. The marker anywhere
        else does not count: our own other comments quote outside text (a test's failure
        message, a label's name) that may hold it."""
        user = comment.user
        login = user.login if user is not None else ""
        return (login.casefold() == self.author.casefold()
                and first_line(comment.body or "") == self.marker)

    def content(self, comment: IssueComment) -> str:
        """A comment's body without our marker line."""
        body = comment.body or ""
        if first_line(body) != self.marker:
            return body
        return body.partition("\n")[2]

    def full_body(self, body: str) -> str:
        room = MAX_COMMENT_CHARS - len(self.marker) - 1
        if self._fit is not None and len(body) > room:
            body = self._fit(body, room)
        return f"{self.marker}\n{body}"

    # -- operations -----------------------------------------------------------------------
    def upsert(self, body: str) -> StickyOutcome:
        """Edit our comment in place (no notification), or create it when there is none."""
        existing = self.find()
        if not existing:
            return self._create_and_settle(body, replaced=())
        keep, extra = existing[0], existing[1:]
        removed = self._delete_all(extra)
        return self._edit(keep, body, removed)

    def recreate(self, body: str) -> StickyOutcome:
        """A new comment at the bottom of the conversation (people are notified), then
        the old ones deleted. There is never a moment with no comment."""
        return self._create_and_settle(body, replaced=self.find())

    def append(self, body: str, separator: str = "\n\n") -> StickyOutcome:
        """Add `body` under what our comment already says, or create it. Entries are
        kept apart by a hidden `ENTRY_MARK`; when they no longer fit under GitHub's
        limit, the oldest go first (the newest is what the reader came for)."""
        existing = self.find()
        if not existing:
            return self._create_and_settle(body, replaced=())
        keep, extra = existing[0], existing[1:]
        removed = self._delete_all(extra)
        entries = [e.strip("\n") for e in self.content(keep).split(ENTRY_MARK)]
        joint = f"{separator}{ENTRY_MARK}\n"
        entries = [e for e in entries if e] + [body]
        room = MAX_COMMENT_CHARS - len(self.marker) - 1
        while len(entries) > 1 and len(joint.join(entries)) > room:
            entries.pop(0)
        return self._edit(keep, joint.join(entries), removed)

    def delete(self) -> StickyOutcome:
        """Delete every comment of ours with the marker."""
        existing = self.find()
        if not existing:
            return StickyOutcome("absent")
        self._delete_all(existing)
        return StickyOutcome("deleted", None, len(existing) - 1)

    # -- plumbing -------------------------------------------------------------------------
    def _create_and_settle(self, body: str, replaced: Sequence[IssueComment]) -> StickyOutcome:
        """Create, then look again: delete what we replace and any concurrent copies,
        keeping the oldest fresh one, and make sure it says what we meant to say."""
        mine = self._write(lambda: self.issue.create_comment(self.full_body(body)))
        if mine.user is not None and mine.user.login:
            # Whoever wrote it is us. This corrects a guessed author (a GitHub App's token
            # cannot ask GET /user who it is), so the look below finds our older comments;
            # and what was found under the wrong guess is someone else's: left alone.
            self.author = mine.user.login
            replaced = [c for c in replaced if self.is_ours(c)]
        replaced_ids = {c.id for c in replaced}
        self._delete_all(list(replaced))
        fresh = [c for c in self.find() if c.id not in replaced_ids]
        if not fresh:  # not listed yet, or removed by a concurrent `delete`: we did create it
            return StickyOutcome("created", mine)
        keep, extra = fresh[0], fresh[1:]
        removed = self._delete_all(extra)
        if keep.id == mine.id:
            return StickyOutcome("created", mine, removed)
        if keep.body == self.full_body(body):
            # An earlier copy saying exactly what we posted, created after we looked:
            # our own POST, applied though its answer was lost, then retried. Created.
            return StickyOutcome("created", keep, removed)
        # Someone else (another job) got there first: theirs stays, with our text.
        outcome = self._edit(keep, body, removed)
        return StickyOutcome("updated", outcome.comment, removed)

    def _edit(self, comment: IssueComment, body: str, removed: int) -> StickyOutcome:
        full = self.full_body(body)
        if comment.body == full:
            return StickyOutcome("unchanged", comment, removed)
        try:
            self._write(lambda: comment.edit(full))
        except GithubException as exc:
            if exc.status != 404:
                raise
            # Deleted since we listed it (a concurrent `delete` or `recreate`).
            return self._create_and_settle(body, replaced=())
        return StickyOutcome("updated", comment, removed)

    def _delete_all(self, comments: list[IssueComment]) -> int:
        removed = 0
        for comment in comments:
            try:
                self._write(comment.delete)
                removed += 1
            except GithubException as exc:
                if exc.status != 404:  # already gone: a concurrent job cleaned it up
                    raise
        return removed

    def _write(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except GithubException as exc:
            if is_read_only_refusal(exc):
                raise ReadOnlyToken("the token may read this repository but not write to it"
                                    ) from exc
            raise
