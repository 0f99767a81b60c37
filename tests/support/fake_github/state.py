"""The fake's in-memory GitHub: plain dataclasses plus `GitHubState`, which owns them.

Tests seed it through the `add_*` helpers; the HTTP routes mutate it through the same
helpers, so a seeded comment and a comment posted by PyGithub are indistinguishable.
Every public method takes `state.lock` (re-entrant), because the server answers each
request on its own thread while the test thread may be seeding or asserting.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import posixpath
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Permission = Literal["write", "read"]
IssueState = Literal["open", "closed"]
UserType = Literal["User", "Bot", "Organization"]

DEFAULT_LABEL_COLOR = "ededed"  # what GitHub gives a label created implicitly
DEFAULT_WORKFLOW_PATH = ".github/workflows/ci.yml"


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
    run_attempt: int = 1  # the attempt of its run this job belongs to
    log: str = ""  # served as is by the log download
    log_expired: bool = False  # GitHub keeps logs 90 days (or less): then 410 Gone


@dataclass
class RunAttempt:
    """What an earlier attempt of a run looked like when it was superseded."""

    number: int
    status: str
    conclusion: str | None
    started_at: datetime
    updated_at: datetime
    actor: str


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
    run_attempt: int = 1  # the latest attempt; the fields above describe it
    path: str = DEFAULT_WORKFLOW_PATH
    jobs: list[Job] = field(default_factory=list)  # of every attempt
    run_started_at: datetime | None = None  # of the latest attempt; None: created_at
    triggering_actor: str | None = None  # of the latest attempt; None: actor
    attempts: dict[int, RunAttempt] = field(default_factory=dict)  # earlier ones

    def jobs_of(self, attempt: int) -> list[Job]:
        return [j for j in self.jobs if j.run_attempt == attempt]

    def attempt(self, number: int) -> RunAttempt:
        """The run as of one attempt (the latest one included)."""
        if number == self.run_attempt:
            return RunAttempt(
                number,
                self.status,
                self.conclusion,
                self.run_started_at or self.created_at,
                self.updated_at,
                self.triggering_actor or self.actor,
            )
        if number in self.attempts:
            return self.attempts[number]
        if not 1 <= number < self.run_attempt:
            raise NotFoundError(f"attempt {number} of run {self.id}")
        # Seeded straight at a later attempt: an earlier one completed, as its jobs did.
        jobs = self.jobs_of(number)
        conclusion = _overall([j.conclusion for j in jobs]) if jobs else self.conclusion
        started = min((j.started_at for j in jobs if j.started_at), default=self.created_at)
        ended = max((j.completed_at for j in jobs if j.completed_at), default=started)
        return RunAttempt(number, "completed", conclusion, started, ended, self.actor)


def _overall(conclusions: Iterable[str | None]) -> str:
    found = set(conclusions)
    for worst in ("failure", "timed_out", "cancelled", "action_required"):
        if worst in found:
            return worst
    return "success"


@dataclass
class Workflow:
    """A workflow file; runs refer to it by `path`."""

    id: int
    path: str
    name: str
    created_at: datetime
    updated_at: datetime
    state: str = "active"

    @property
    def file_name(self) -> str:
        return posixpath.basename(self.path)


@dataclass
class Comparison:
    """`base...head`: what head has that base has not (`ahead`), and the reverse."""

    base: Commit
    head: Commit
    merge_base: Commit
    ahead: list[Commit]  # oldest first (parents before children)
    behind: list[Commit]

    @property
    def status(self) -> str:
        if self.ahead and self.behind:
            return "diverged"
        if self.ahead:
            return "ahead"
        return "behind" if self.behind else "identical"


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
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)  # keyed by path

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

    def job(self, job_id: int) -> tuple[WorkflowRun, Job]:
        for run in self.runs.values():
            for job in run.jobs:
                if job.id == job_id:
                    return run, job
        raise NotFoundError(f"job {job_id} in {self.full_name}")

    def workflow(self, ref: str) -> Workflow:
        """By numeric id or file name (`ci.yml`), as GitHub's `workflow_id` parameter."""
        for workflow in self.workflows.values():
            if ref in (str(workflow.id), workflow.file_name):
                return workflow
        raise NotFoundError(f"workflow {ref} in {self.full_name}")

    def ancestry(self, sha: str) -> list[Commit]:
        """`sha` and every commit it descends from that the repo holds, parents first."""
        order: list[Commit] = []
        seen: set[str] = set()
        stack: list[tuple[str, bool]] = [(sha, False)]
        while stack:  # iterative post-order: long histories must not hit the recursion limit
            current, expanded = stack.pop()
            if expanded:
                order.append(self.commits[current])
                continue
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            stack.append((current, True))
            stack.extend((p, False) for p in reversed(self.commits[current].parents))
        return order

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
        self._signing_key = secrets.token_bytes(16)  # for pre-signed download URLs

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
        number: int | None = None,
        sha: str | None = None,
        at: datetime | None = None,
        message: str = "More changes",
        author: str | None = None,
        branch: str | None = None,
        parents: Sequence[str] | None = None,
    ) -> Commit:
        """A new head commit on PR `number` (what a `synchronize` event reports), or on
        `branch`. The parent is the previous head: the PR's last commit (its base branch's
        head for the first), or the branch's head; a new branch starts from the default
        branch's head, or as a root commit when that has none either. `parents` overrides
        (two for a merge commit, none for a root)."""
        if (number is None) == (branch is None):
            raise ValueError("push_commit needs a PR `number` or a `branch`, not both")
        with self.lock:
            r = self.repo(repo)
            when = at or self.now()
            if branch is not None:
                if parents is None:
                    start = branch if branch in r.branches else r.default_branch
                    parents = [r.branches[start]] if start in r.branches else []
                sha = sha or fake_sha(r.full_name, branch, len(r.commits) + 1, *parents)
                commit = self._store_commit(r, sha, message, author or "octocat", when, parents)
                r.branches[branch] = sha
                return commit
            assert number is not None
            issue = r.issue(number)
            if issue.pull is None:
                raise ValueError(f"{repo}#{number} is not a pull request")
            pull = issue.pull
            sha = sha or fake_sha(r.full_name, number, len(pull.commits) + 1)
            author = author or issue.user
            commit = self._record_commit(r, pull, sha, author, when, message, parents)
            pull.head_sha = sha
            issue.updated_at = max(issue.updated_at, when)
            return commit

    def resolve_ref(self, repo: str, ref: str) -> Commit:
        """A branch name (`owner:branch` for a fork's PR head, as compare takes it), a full
        sha or an unambiguous prefix."""
        with self.lock:
            r = self.repo(repo)
            owner, _, name = ref.rpartition(":")
            if owner and owner.casefold() != r.owner.casefold():
                for pull in r.pulls():
                    info = pull.pull
                    assert info is not None
                    fork_owner = info.head_repo.partition("/")[0]
                    if fork_owner.casefold() == owner.casefold() and info.head_ref == name:
                        return r.commit(info.head_sha)
                raise NotFoundError(f"ref {ref} in {r.full_name}")
            if name in r.branches:
                return r.commit(r.branches[name])
            return r.commit(name)

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        """Like `git log base..head` (ahead) and `head..base` (behind). A merge base that
        is missing (unrelated histories) raises ValueError."""
        with self.lock:
            r = self.repo(repo)
            base_commit, head_commit = self.resolve_ref(repo, base), self.resolve_ref(repo, head)
            base_line, head_line = r.ancestry(base_commit.sha), r.ancestry(head_commit.sha)
            in_base = {c.sha for c in base_line}
            in_head = {c.sha for c in head_line}
            common = [c for c in head_line if c.sha in in_base]
            if not common:
                raise ValueError(f"No common ancestor between {base} and {head}.")
            # The best common ancestor: one no other common ancestor descends from. The
            # common commits include all their ancestors, so that is: no common child.
            shadowed = {p for c in common for p in c.parents}
            merge_base = next(c for c in reversed(common) if c.sha not in shadowed)
            return Comparison(
                base_commit,
                head_commit,
                merge_base,
                [c for c in head_line if c.sha not in in_base],
                [c for c in base_line if c.sha not in in_head],
            )

    def _record_commit(
        self,
        r: Repo,
        pull: PullInfo,
        sha: str,
        author: str,
        at: datetime,
        message: str,
        parents: Sequence[str] | None = None,
    ) -> Commit:
        if parents is None:
            parents = pull.commits[-1:] or [self._branch_head(r, pull.base_ref, at)]
        commit = self._store_commit(r, sha, message, author, at, parents)
        pull.commits.append(sha)
        if pull.head_repo.casefold() == r.full_name.casefold():
            r.branches[pull.head_ref] = sha
        return commit

    def _store_commit(
        self, r: Repo, sha: str, message: str, author: str, at: datetime, parents: Sequence[str]
    ) -> Commit:
        self.add_user(author)
        commit = Commit(sha, message, author, at, list(parents))
        r.commits[sha] = commit
        return commit

    def _branch_head(self, r: Repo, branch: str, at: datetime) -> str:
        """The branch's head; a branch never pushed to gets a root commit (the sha PR
        bases always had, `fake_sha(repo, branch)`), so it can be compared against."""
        if branch not in r.branches:
            sha = fake_sha(r.full_name, branch)
            if sha not in r.commits:
                self._store_commit(r, sha, "Initial commit\n", r.owner, at, [])
            r.branches[branch] = sha
        return r.branches[branch]

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

    def add_workflow(
        self,
        repo: str,
        path: str = DEFAULT_WORKFLOW_PATH,
        name: str | None = None,
        id: int | None = None,
        at: datetime | None = None,
        state: str = "active",
    ) -> Workflow:
        """Idempotent on `path`; runs register theirs implicitly (named after the run)."""
        with self.lock:
            r = self.repo(repo)
            if path not in r.workflows:
                when = at or self.now()
                workflow_id = id or self.next_id()
                r.workflows[path] = Workflow(workflow_id, path, name or path, when, when, state)
            return r.workflows[path]

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
        path: str | None = None,
        run_number: int | None = None,
        run_attempt: int = 1,
    ) -> WorkflowRun:
        """`jobs` are mappings: name, status, conclusion, steps (mappings or step names),
        log, log_expired, run_attempt (default: the run's `run_attempt`, the latest).
        `run_number` defaults to one more than the repo's highest."""
        with self.lock:
            r = self.repo(repo)
            self.add_user(actor)
            when = at or self.now()
            run_id = id or self.next_id()
            path = path or DEFAULT_WORKFLOW_PATH
            self.add_workflow(repo, path, name=name, at=when)
            run = WorkflowRun(
                run_id, name, head_sha, head_branch, event, status, conclusion, actor, when, when
            )
            run.path = path
            highest = max((other.run_number for other in r.runs.values()), default=0)
            run.run_number = run_number or highest + 1
            run.run_attempt = run_attempt
            run.jobs = [self._job(spec, when, run_attempt) for spec in jobs]
            r.runs[run_id] = run
            return run

    def add_run_attempt(
        self,
        repo: str,
        run_id: int,
        jobs: Sequence[Mapping[str, Any]] = (),
        conclusion: str | None = "success",
        status: str = "completed",
        at: datetime | None = None,
        actor: str | None = None,
    ) -> WorkflowRun:
        """A re-run: the run's latest attempt becomes history and a new one, with these
        jobs (all of the attempt's jobs, as GitHub lists them), takes its place."""
        with self.lock:
            run = self.repo(repo).run(run_id)
            when = at or self.now()
            previous = run.attempt(run.run_attempt)
            run.attempts[previous.number] = previous
            run.run_attempt += 1
            run.status, run.conclusion = status, conclusion
            run.run_started_at = run.updated_at = when
            if actor is not None:
                self.add_user(actor)
            run.triggering_actor = actor
            run.jobs += [self._job({**spec, "run_attempt": run.run_attempt}, when) for spec in jobs]
            return run

    def job_log_token(self, repo: str, job_id: int) -> str:
        """The signature of a job's log download URL (GitHub's are pre-signed)."""
        message = f"{repo.casefold()}:{job_id}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()[:32]

    def signed_job(self, job_id: int, token: str) -> tuple[Repo, Job]:
        """The job a download URL's token was issued for."""
        with self.lock:
            for r in self.repos.values():
                expected = self.job_log_token(r.full_name, job_id)
                if hmac.compare_digest(expected, token):
                    return r, r.job(job_id)[1]
            raise NotFoundError(f"job {job_id} signed {token}")

    def _job(self, spec: Mapping[str, Any], at: datetime, attempt: int = 1) -> Job:
        steps = [
            Step(name=s, number=i) if isinstance(s, str) else Step(number=i, **s)
            for i, s in enumerate(spec.get("steps", ()), start=1)
        ]
        for step in steps:
            step.started_at = step.started_at or at
            step.completed_at = step.completed_at or (at if step.status == "completed" else None)
        fields = {k: v for k, v in spec.items() if k != "steps"}
        fields.setdefault("run_attempt", attempt)
        job = Job(id=fields.pop("id", None) or self.next_id(), steps=steps, **fields)
        job.started_at = job.started_at or at
        job.completed_at = job.completed_at or (at if job.status == "completed" else None)
        return job
