"""failure-issue's issues on GitHub: finding its own (by the marker on an issue's first
line, among issues with its first label written by the token's own user, through the
issues list API: the search API's index lags), creating, commenting, closing, reopening,
and converging when two runs created one at the same moment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from github import GithubException
from github.Issue import Issue

from stackci.core.github.errors import ReadOnlyToken, is_read_only_refusal
from stackci.core.github.session import GitHubSession
from stackci.core.github.sticky import StickyComment, StickyOutcome, first_line
from stackci.incident.model import IssueKey, run_marker

LABEL_COLOR = "d73a4a"
T = TypeVar("T")


class IssueTracker:
    def __init__(self, session: GitHubSession, labels: Sequence[str]) -> None:
        self.session = session
        self.labels = tuple(labels)

    # -- finding --------------------------------------------------------------------------
    def _ours(self, issue: Issue, key: IssueKey, any_job: bool = False) -> bool:
        """Written by the token's user, not a pull request, and the first line of its
        body is the key's marker (with `any_job`, the marker of any job's key of the
        key's workflow and branch)."""
        if issue.pull_request is not None:
            return False
        login = issue.user.login if issue.user is not None else ""
        if login.casefold() != self.session.author().casefold():
            return False
        first = first_line(issue.body or "")
        return key.job_of(first) is not None if any_job else first == key.marker

    def _listed(self, state: str, since: datetime | None = None) -> Iterable[Issue]:
        kwargs: dict[str, object] = {"state": state, "creator": self.session.author(),
                                     "sort": "created", "direction": "asc"}
        if self.labels:
            kwargs["labels"] = [self.labels[0]]
        if since is not None:
            kwargs["since"] = since
        return self.session.repo.get_issues(**kwargs)  # type: ignore[arg-type]

    def open_issues(self, key: IssueKey) -> list[Issue]:
        """Our open issues for `key`, oldest first (more than one only for a moment,
        while two runs converge)."""
        found = [i for i in self._listed("open") if self._ours(i, key)]
        return sorted(found, key=lambda i: i.number)

    def open_issues_under(self, key: IssueKey) -> list[Issue]:
        """Our open issues of the key's workflow and branch, any job."""
        return [i for i in self._listed("open") if self._ours(i, key, any_job=True)]

    def recently_closed(self, key: IssueKey, window: float) -> Issue | None:
        """Our issue for `key` closed automatically (as completed: not a duplicate we
        closed) at most `window` seconds ago, the latest such."""
        if window <= 0:
            return None
        since = datetime.now(UTC) - timedelta(seconds=window)
        found = [i for i in self._listed("closed", since)
                 if self._ours(i, key) and i.closed_at is not None
                 and i.closed_at >= since and (i.state_reason or "completed") == "completed"]
        return max(found, key=lambda i: i.closed_at or since, default=None)

    # -- writing --------------------------------------------------------------------------
    def ensure_labels(self) -> None:
        """Create the labels the repository lacks (GitHub would refuse the issue)."""
        repo = self.session.repo
        for name in self.labels:
            def create(label: str = name) -> object:
                return repo.create_label(label, LABEL_COLOR)

            try:
                repo.get_label(name)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                try:
                    self._write(create)
                except GithubException as created:
                    if created.status != 422:  # made meanwhile by another run
                        raise

    def create(self, key: IssueKey, run_id: str, title: str, content: str,
               assignees: Sequence[str]) -> tuple[Issue, Issue | None]:
        """Open the issue, then converge: when another run opened one for the same key
        at the same moment, the oldest stays. Returns (the issue that stays, ours if it
        was closed as a duplicate)."""
        body = f"{key.marker}\n{run_marker(run_id)}\n{content}"
        kwargs: dict[str, object] = {"title": title, "body": body, "labels": list(self.labels)}
        if assignees:
            kwargs["assignees"] = list(assignees)
        mine = self._write(lambda: self.session.repo.create_issue(**kwargs))  # type: ignore[arg-type]
        found = self.open_issues(key)
        # Ours, created again by a retried POST whose first answer was lost: same run.
        same_run = [i for i in found if i.number != mine.number
                    and (i.body or "").split("\n")[1:2] == [run_marker(run_id)]]
        keep = min([mine, *found], key=lambda i: i.number)
        extras = [i for i in [mine, *found] if i.number != keep.number
                  and (i.number == mine.number or i in same_run)]
        closed_ours = None
        for extra in extras:
            self.close(extra, f"Duplicate of #{keep.number}.", reason="not_planned")
            if extra.number == mine.number and not self.opened_by(keep, run_id):
                closed_ours = extra  # another run's issue stays: ours goes there as a comment
        return keep, closed_ours

    def opened_by(self, issue: Issue, run_id: str) -> bool:
        return (issue.body or "").split("\n")[1:2] == [run_marker(run_id)]

    def update_body(self, issue: Issue, key: IssueKey, run_id: str, content: str) -> None:
        body = f"{key.marker}\n{run_marker(run_id)}\n{content}"
        if (issue.body or "") != body:
            self._write(lambda: issue.edit(body=body))

    def comment_for_run(self, issue: Issue, run_id: str, content: str) -> StickyOutcome:
        """The run's own comment: created once, edited by the run's re-run attempts."""
        sticky = StickyComment(issue, run_marker(run_id), self.session.author())
        return sticky.upsert(content)

    def close(self, issue: Issue, comment: str, reason: str = "completed") -> None:
        self._write(lambda: issue.create_comment(comment))
        self._write(lambda: issue.edit(state="closed", state_reason=reason))

    def reopen(self, issue: Issue) -> None:
        self._write(lambda: issue.edit(state="open", state_reason="reopened"))

    def _write(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except GithubException as exc:
            if is_read_only_refusal(exc):
                raise ReadOnlyToken("the token may read this repository but not write "
                                    "issues") from exc
            raise
