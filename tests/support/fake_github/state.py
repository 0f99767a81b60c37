"""The fake's in-memory GitHub: plain dataclasses plus `GitHubState`, which owns them.

Tests seed it through the `add_*` helpers; the HTTP routes mutate it through the same
helpers, so a seeded comment and a comment posted by PyGithub are indistinguishable.
Every public method takes `state.lock` (re-entrant), because the server answers each
request on its own thread while the test thread may be seeding or asserting.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Permission = Literal["write", "read"]
IssueState = Literal["open", "closed"]
UserType = Literal["User", "Bot", "Organization"]

DEFAULT_LABEL_COLOR = "ededed"  # what GitHub gives a label created implicitly


class NotFoundError(KeyError):
    """A repo, issue, comment, label... that the state does not hold."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def fake_sha(*parts: object) -> str:
    """A stable 40-hex commit id, so seeded data is reproducible run to run."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


@dataclass
class User:
    login: str
    id: int
    type: UserType = "User"


@dataclass(frozen=True)
class Token:
    token: str
    login: str
    permission: Permission = "write"


@dataclass
class Label:
    id: int
    name: str
    color: str = DEFAULT_LABEL_COLOR
    description: str | None = None
    default: bool = False


@dataclass
class Commit:
    sha: str
    message: str
    author: str
    committed_at: datetime
    parents: list[str] = field(default_factory=list)


@dataclass
class PullInfo:
    """What a pull request adds to its issue."""

    head_ref: str
    head_sha: str
    head_repo: str  # full name; differs from the base repo for forks
    base_ref: str
    draft: bool = False
    merged: bool = False
    commits: list[str] = field(default_factory=list)  # shas, oldest first


@dataclass
class IssueEvent:
    id: int
    event: str  # labeled, unlabeled, closed, reopened
    actor: str
    created_at: datetime
    label: str | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Issue:
    """An issue, or a pull request when `pull` is set (they share GitHub's number space)."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    state: IssueState
    created_at: datetime
    updated_at: datetime
    labels: list[str] = field(default_factory=list)
    closed_at: datetime | None = None
    state_reason: str | None = None
    pull: PullInfo | None = None
    events: list[IssueEvent] = field(default_factory=list)

    @property
    def is_pull(self) -> bool:
        return self.pull is not None

    def has_label(self, name: str) -> bool:
        return name.casefold() in {label.casefold() for label in self.labels}


@dataclass
class Step:
    name: str
    number: int
    status: str = "completed"
    conclusion: str | None = "success"
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass
class Job:
    id: int
    name: str
    status: str = "completed"
    conclusion: str | None = "success"
    started_at: datetime | None = None
    completed_at: datetime | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass
class WorkflowRun:
    id: int
    name: str
    head_sha: str
    head_branch: str
    event: str
    status: str
    conclusion: str | None
    actor: str
    created_at: datetime
    updated_at: datetime
    run_number: int = 1
    run_attempt: int = 1
    path: str = ".github/workflows/ci.yml"
    jobs: list[Job] = field(default_factory=list)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    # GitHub label names are case-insensitive: keyed by casefolded name.
    labels: dict[str, Label] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def issue(self, number: int) -> Issue:
        try:
            return self.issues[number]
        except KeyError:
            raise NotFoundError(f"{self.full_name}#{number}") from None

    def label(self, name: str) -> Label:
        try:
            return self.labels[name.casefold()]
        except KeyError:
            raise NotFoundError(f"label {name!r} in {self.full_name}") from None

    def comment(self, comment_id: int) -> Comment:
        try:
            return self.comments[comment_id]
        except KeyError:
            raise NotFoundError(f"comment {comment_id} in {self.full_name}") from None

    def commit(self, ref: str) -> Commit:
        """By full sha or an unambiguous prefix of at least 7 characters, like git."""
        if ref in self.commits:
            return self.commits[ref]
        found = [c for sha, c in self.commits.items() if len(ref) >= 7 and sha.startswith(ref)]
        if len(found) != 1:
            raise NotFoundError(f"commit {ref} in {self.full_name}")
        return found[0]

    def run(self, run_id: int) -> WorkflowRun:
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFoundError(f"run {run_id} in {self.full_name}") from None

    def comments_of(self, number: int) -> list[Comment]:
        return sorted(
            (c for c in self.comments.values() if c.issue_number == number),
            key=lambda c: (c.created_at, c.id),
        )

    def pulls(self) -> list[Issue]:
        return [i for i in self.issues.values() if i.pull is not None]

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1


class GitHubState:
    """All users, tokens and repos of one fake GitHub."""

    def __init__(self, clock: Callable[[], datetime] = utcnow) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}  # keyed by casefolded login
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}  # keyed by casefolded full name
        self._ids: Iterator[int] = itertools.count(1001)

    def reset(self) -> None:
        """Forget everything, in place (tests and the server share this object)."""
        with self.lock:
            self.users.clear()
            self.tokens.clear()
            self.repos.clear()

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def now(self) -> datetime:
        return self.clock()

    # ----- lookups -------------------------------------------------------------------

    def user(self, login: str) -> User:
        with self.lock:
            try:
                return self.users[login.casefold()]
            except KeyError:
                raise NotFoundError(f"user {login}") from None

    def token(self, token: str) -> Token | None:
        with self.lock:
            return self.tokens.get(token)

    def repo(self, full_name: str) -> Repo:
        with self.lock:
            try:
                return self.repos[full_name.casefold()]
            except KeyError:
                raise NotFoundError(f"repo {full_name}") from None

    def issue(self, repo: str, number: int) -> Issue:
        return self.repo(repo).issue(number)

    def comments(self, repo: str, number: int) -> list[Comment]:
        with self.lock:
            return self.repo(repo).comments_of(number)

    # ----- users and tokens ----------------------------------------------------------

    def add_user(self, login: str, type: UserType | None = None) -> User:
        """Idempotent; `[bot]` logins default to type Bot, like GitHub Apps."""
        with self.lock:
            existing = self.users.get(login.casefold())
            if existing is not None:
                if type is not None:
                    existing.type = type
                return existing
            kind: UserType = type or ("Bot" if login.endswith("[bot]") else "User")
            user = User(login=login, id=self.next_id(), type=kind)
            self.users[login.casefold()] = user
            return user

    def add_token(self, token: str, login: str, permission: Permission = "write") -> Token:
        if permission not in ("write", "read"):
            raise ValueError(f"permission must be 'write' or 'read', not {permission!r}")
        with self.lock:
            self.add_user(login)
            self.tokens[token] = Token(token=token, login=login, permission=permission)
            return self.tokens[token]

    # ----- repos and labels ----------------------------------------------------------

    def add_repo(self, full_name: str, default_branch: str = "main", private: bool = False) -> Repo:
        """Idempotent; the owner is created as an Organization unless already known."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repo must be 'owner/name', not {full_name!r}")
        with self.lock:
            if full_name.casefold() in self.repos:
                return self.repos[full_name.casefold()]
            if owner.casefold() not in self.users:
                self.add_user(owner, "Organization")
            repo = Repo(owner, name, self.next_id(), default_branch, private)
            self.repos[full_name.casefold()] = repo
            return repo

    def add_label(
        self,
        repo: str,
        name: str,
        color: str = DEFAULT_LABEL_COLOR,
        description: str | None = None,
    ) -> Label:
        """Idempotent on the (case-insensitive) name; an existing label is returned as is."""
        with self.lock:
            r = self.repo(repo)
            if name.casefold() not in r.labels:
                label = Label(self.next_id(), name, color.lstrip("#").lower(), description)
                r.labels[name.casefold()] = label
            return r.labels[name.casefold()]

    def edit_label(
        self,
        repo: str,
        name: str,
        new_name: str | None = None,
        color: str | None = None,
        description: str | None = None,
    ) -> Label:
        with self.lock:
            r = self.repo(repo)
            label = r.label(name)
            if color is not None:
                label.color = color.lstrip("#").lower()
            if description is not None:
                label.description = description
            if new_name is not None and new_name != label.name:
                del r.labels[label.name.casefold()]
                for issue in r.issues.values():
                    issue.labels = [new_name if n == label.name else n for n in issue.labels]
                label.name = new_name
                r.labels[new_name.casefold()] = label
            return label

    def delete_label(self, repo: str, name: str) -> None:
        with self.lock:
            r = self.repo(repo)
            label = r.label(name)
            del r.labels[label.name.casefold()]
            for issue in r.issues.values():
                issue.labels = [n for n in issue.labels if n != label.name]

    # ----- issues and pull requests --------------------------------------------------

    def add_issue(
        self,
        repo: str,
        title: str,
        body: str | None = None,
        user: str = "octocat",
        labels: Iterable[str] = (),
        state: IssueState = "open",
        at: datetime | None = None,
        number: int | None = None,
    ) -> Issue:
        with self.lock:
            r = self.repo(repo)
            self.add_user(user)
            when = at or self.now()
            number = number or r.next_number()
            if number in r.issues:
                raise ValueError(f"{repo}#{number} already exists")
            issue = Issue(number, self.next_id(), title, body, user, "open", when, when)
            r.issues[number] = issue
            # Labels set at creation produce `labeled` events on GitHub too.
            for label in labels:
                self.add_label_to_issue(repo, number, label, actor=user, at=when)
            if state == "closed":
                self.set_issue_state(repo, number, "closed", actor=user, at=when)
            return issue

    def add_pull(
        self,
        repo: str,
        title: str = "Change",
        body: str | None = None,
        user: str = "octocat",
        head_ref: str = "feature",
        head_sha: str | None = None,
        head_repo: str | None = None,
        base_ref: str | None = None,
        labels: Iterable[str] = (),
        state: IssueState = "open",
        draft: bool = False,
        at: datetime | None = None,
        committed_at: datetime | None = None,
        number: int | None = None,
    ) -> Issue:
        """A PR with one head commit. `head_repo` defaults to the base repo (no fork)."""
        with self.lock:
            r = self.repo(repo)
            when = at or self.now()
            number = number or r.next_number()
            head_repo = head_repo or r.full_name
            self.add_user(head_repo.partition("/")[0])
            sha = head_sha or fake_sha(r.full_name, number, 1)
            pull = PullInfo(head_ref, sha, head_repo, base_ref or r.default_branch, draft)
            issue = self.add_issue(repo, title, body, user, (), "open", when, number)
            issue.pull = pull
            self._record_commit(r, pull, sha, user, committed_at or when, f"{title}\n")
            for label in labels:
                self.add_label_to_issue(repo, number, label, actor=user, at=when)
            if state == "closed":
                self.set_issue_state(repo, number, "closed", actor=user, at=when)
            return issue

    def push_commit(
        self,
        repo: str,
        number: int,
        sha: str | None = None,
        at: datetime | None = None,
        message: str = "More changes",
        author: str | None = None,
    ) -> Commit:
        """A new head commit on a PR (what a `synchronize` event reports)."""
        with self.lock:
            r = self.repo(repo)
            issue = r.issue(number)
            if issue.pull is None:
                raise ValueError(f"{repo}#{number} is not a pull request")
            pull = issue.pull
            sha = sha or fake_sha(r.full_name, number, len(pull.commits) + 1)
            when = at or self.now()
            commit = self._record_commit(r, pull, sha, author or issue.user, when, message)
            pull.head_sha = sha
            issue.updated_at = max(issue.updated_at, when)
            return commit

    def _record_commit(
        self, r: Repo, pull: PullInfo, sha: str, author: str, at: datetime, message: str
    ) -> Commit:
        self.add_user(author)
        parents = pull.commits[-1:] or [fake_sha(r.full_name, pull.base_ref)]
        commit = Commit(sha, message, author, at, parents)
        r.commits[sha] = commit
        pull.commits.append(sha)
        return commit

    def edit_issue(
        self,
        repo: str,
        number: int,
        actor: str,
        title: str | None = None,
        body: str | None = None,
        state: IssueState | None = None,
        state_reason: str | None = None,
        labels: Sequence[str] | None = None,
    ) -> Issue:
        """PATCH semantics: only the given fields change; `labels` replaces the set."""
        with self.lock:
            issue = self.issue(repo, number)
            now = self.now()
            if title is not None:
                issue.title = title
            if body is not None:
                issue.body = body
            if labels is not None:
                self.set_issue_labels(repo, number, labels, actor=actor, at=now)
            if state is not None:
                self.set_issue_state(repo, number, state, actor=actor, at=now, reason=state_reason)
            issue.updated_at = now
            return issue

    def set_issue_state(
        self,
        repo: str,
        number: int,
        state: IssueState,
        actor: str,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        with self.lock:
            issue = self.issue(repo, number)
            if issue.state == state:
                return
            when = at or self.now()
            issue.state = state
            issue.closed_at = when if state == "closed" else None
            issue.state_reason = (reason or "completed") if state == "closed" else "reopened"
            issue.updated_at = max(issue.updated_at, when)
            self._add_event(issue, "closed" if state == "closed" else "reopened", actor, when)

    def add_label_to_issue(
        self,
        repo: str,
        number: int,
        label: str,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> IssueEvent | None:
        """Creates the repo label if needed (as GitHub does); no event if already set."""
        with self.lock:
            issue = self.issue(repo, number)
            if issue.has_label(label):
                return None
            name = self.add_label(repo, label).name
            when = at or self.now()
            issue.labels.append(name)
            issue.updated_at = max(issue.updated_at, when)
            return self._add_event(issue, "labeled", actor or issue.user, when, name)

    def remove_label_from_issue(
        self,
        repo: str,
        number: int,
        label: str,
        actor: str | None = None,
        at: datetime | None = None,
    ) -> IssueEvent:
        with self.lock:
            issue = self.issue(repo, number)
            if not issue.has_label(label):
                raise NotFoundError(f"label {label!r} on {repo}#{number}")
            name = next(n for n in issue.labels if n.casefold() == label.casefold())
            when = at or self.now()
            issue.labels.remove(name)
            issue.updated_at = max(issue.updated_at, when)
            return self._add_event(issue, "unlabeled", actor or issue.user, when, name)

    def set_issue_labels(
        self,
        repo: str,
        number: int,
        labels: Iterable[str],
        actor: str | None = None,
        at: datetime | None = None,
    ) -> None:
        with self.lock:
            issue = self.issue(repo, number)
            wanted = list(dict.fromkeys(labels))
            keep = {w.casefold() for w in wanted}
            for name in [n for n in issue.labels if n.casefold() not in keep]:
                self.remove_label_from_issue(repo, number, name, actor, at)
            for name in wanted:
                self.add_label_to_issue(repo, number, name, actor, at)

    def _add_event(
        self, issue: Issue, kind: str, actor: str, at: datetime, label: str | None = None
    ) -> IssueEvent:
        self.add_user(actor)
        event = IssueEvent(self.next_id(), kind, actor, at, label)
        issue.events.append(event)
        issue.events.sort(key=lambda e: (e.created_at, e.id))
        return event

    # ----- comments ------------------------------------------------------------------

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        user: str = "octocat",
        at: datetime | None = None,
    ) -> Comment:
        with self.lock:
            r = self.repo(repo)
            issue = r.issue(number)
            self.add_user(user)
            when = at or self.now()
            comment = Comment(self.next_id(), number, body, user, when, when)
            r.comments[comment.id] = comment
            issue.updated_at = max(issue.updated_at, when)
            return comment

    def edit_comment(self, repo: str, comment_id: int, body: str) -> Comment:
        with self.lock:
            comment = self.repo(repo).comment(comment_id)
            comment.body = body
            comment.updated_at = self.now()
            return comment

    def delete_comment(self, repo: str, comment_id: int) -> None:
        with self.lock:
            r = self.repo(repo)
            r.comment(comment_id)
            del r.comments[comment_id]

    # ----- workflow runs -------------------------------------------------------------

    def add_workflow_run(
        self,
        repo: str,
        head_sha: str,
        name: str = "CI",
        head_branch: str = "feature",
        event: str = "pull_request",
        status: str = "completed",
        conclusion: str | None = "success",
        actor: str = "octocat",
        jobs: Sequence[Mapping[str, Any]] = (),
        at: datetime | None = None,
        id: int | None = None,
    ) -> WorkflowRun:
        """`jobs` are mappings: name, status, conclusion, steps (mappings or step names)."""
        with self.lock:
            r = self.repo(repo)
            self.add_user(actor)
            when = at or self.now()
            run_id = id or self.next_id()
            run = WorkflowRun(
                run_id, name, head_sha, head_branch, event, status, conclusion, actor, when, when
            )
            run.run_number = len(r.runs) + 1
            run.jobs = [self._job(spec, when) for spec in jobs]
            r.runs[run_id] = run
            return run

    def _job(self, spec: Mapping[str, Any], at: datetime) -> Job:
        steps = [
            Step(name=s, number=i) if isinstance(s, str) else Step(number=i, **s)
            for i, s in enumerate(spec.get("steps", ()), start=1)
        ]
        for step in steps:
            step.started_at = step.started_at or at
            step.completed_at = step.completed_at or (at if step.status == "completed" else None)
        fields = {k: v for k, v in spec.items() if k != "steps"}
        job = Job(id=fields.pop("id", None) or self.next_id(), steps=steps, **fields)
        job.started_at = job.started_at or at
        job.completed_at = job.completed_at or (at if job.status == "completed" else None)
        return job
