"""JSON shapes of GitHub's REST API, built from the state.

Objects carry the fields GitHub sends (not all of them, but enough that PyGithub never
has to "complete" a listed object with an extra GET, which would skew request counts).
URLs are absolute and built from the API root the client used (its Host header, plus
`/api/v3` for GHES-style clients), since PyGithub follows `url`, `issue_url`, `Link`...
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fake_github.state import (
    Comment,
    Commit,
    Comparison,
    GitHubState,
    Issue,
    IssueEvent,
    Job,
    Label,
    PullInfo,
    Repo,
    User,
    Workflow,
    WorkflowRun,
    fake_sha,
)

Json = dict[str, Any]


def iso(value: datetime | None) -> str | None:
    """GitHub's timestamp format: UTC, whole seconds, `Z` suffix."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Urls:
    """Roots for `url` (API) and `html_url` (web) fields."""

    api: str  # e.g. http://127.0.0.1:8765 or http://127.0.0.1:8765/api/v3
    html: str  # e.g. http://127.0.0.1:8765

    def repo(self, repo: Repo | str) -> str:
        name = repo if isinstance(repo, str) else repo.full_name
        return f"{self.api}/repos/{name}"


class Renderer:
    """Turns state objects into GitHub JSON for one request (one set of URL roots)."""

    def __init__(self, state: GitHubState, urls: Urls) -> None:
        self.state = state
        self.urls = urls

    # ----- users and repos -----------------------------------------------------------

    def user(self, login: str) -> Json:
        user = self.state.user(login)
        return self._user(user)

    def _user(self, user: User) -> Json:
        api = f"{self.urls.api}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("User", user.id),
            "avatar_url": f"{self.urls.html}/avatars/u/{user.id}",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.urls.html}/{user.login}",
            "followers_url": f"{api}/followers",
            "repos_url": f"{api}/repos",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def authenticated_user(self, login: str) -> Json:
        return {
            **self.user(login),
            "name": login,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "bio": None,
            "public_repos": 0,
            "followers": 0,
            "following": 0,
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
        }

    def repo(self, repo: Repo, permission: str | None = None) -> Json:
        url = self.urls.repo(repo)
        data: Json = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.user(repo.owner),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "html_url": f"{self.urls.html}/{repo.full_name}",
            "description": None,
            "fork": False,
            "url": url,
            "issues_url": f"{url}/issues{{/number}}",
            "pulls_url": f"{url}/pulls{{/number}}",
            "labels_url": f"{url}/labels{{/name}}",
            "commits_url": f"{url}/commits{{/sha}}",
            "clone_url": f"{self.urls.html}/{repo.full_name}.git",
            "default_branch": repo.default_branch,
            "archived": False,
            "disabled": False,
            "has_issues": True,
            "open_issues_count": sum(i.state == "open" for i in repo.issues.values()),
            "created_at": "2020-01-01T00:00:00Z",
            "updated_at": "2020-01-01T00:00:00Z",
            "pushed_at": "2020-01-01T00:00:00Z",
        }
        if permission is not None:
            write = permission == "write"
            data["permissions"] = {
                "admin": False,
                "maintain": False,
                "push": write,
                "triage": write,
                "pull": True,
            }
        return data

    def head_repo(self, base: Repo, full_name: str) -> Json:
        """A PR's head repo: the real one when seeded, else a minimal fork stand-in."""
        try:
            data = self.repo(self.state.repo(full_name))
        except KeyError:
            owner, _, name = full_name.partition("/")
            data = {
                "id": int(fake_sha(full_name)[:7], 16),  # stable, unlike hash()
                "name": name,
                "full_name": full_name,
                "owner": self.user(owner),
                "private": base.private,
                "html_url": f"{self.urls.html}/{full_name}",
                "url": self.urls.repo(full_name),
                "default_branch": base.default_branch,
            }
        data["fork"] = full_name.casefold() != base.full_name.casefold()
        return data

    # ----- labels --------------------------------------------------------------------

    def label(self, repo: Repo, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.urls.repo(repo)}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def issue_labels(self, repo: Repo, issue: Issue) -> list[Json]:
        return [self.label(repo, repo.label(name)) for name in issue.labels]

    # ----- issues and pulls ----------------------------------------------------------

    def _html_issue(self, repo: Repo, issue: Issue) -> str:
        kind = "pull" if issue.is_pull else "issues"
        return f"{self.urls.html}/{repo.full_name}/{kind}/{issue.number}"

    def issue(self, repo: Repo, issue: Issue) -> Json:
        url = f"{self.urls.repo(repo)}/issues/{issue.number}"
        data: Json = {
            "id": issue.id,
            "node_id": node_id("Issue", issue.id),
            "url": url,
            "repository_url": self.urls.repo(repo),
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "timeline_url": f"{url}/timeline",
            "html_url": self._html_issue(repo, issue),
            "number": issue.number,
            "state": issue.state,
            "state_reason": issue.state_reason,
            "title": issue.title,
            "body": issue.body,
            "user": self.user(issue.user),
            "labels": self.issue_labels(repo, issue),
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": len(repo.comments_of(issue.number)),
            "closed_at": iso(issue.closed_at),
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_by": None,
            "author_association": self._association(repo, issue.user),
        }
        if issue.pull is not None:
            pulls = f"{self.urls.repo(repo)}/pulls/{issue.number}"
            data["pull_request"] = {
                "url": pulls,
                "html_url": data["html_url"],
                "diff_url": f"{data['html_url']}.diff",
                "patch_url": f"{data['html_url']}.patch",
                "merged_at": None,
            }
            data["draft"] = issue.pull.draft
        return data

    def pull(self, repo: Repo, issue: Issue) -> Json:
        assert issue.pull is not None
        pull = issue.pull
        url = f"{self.urls.repo(repo)}/pulls/{issue.number}"
        issue_url = f"{self.urls.repo(repo)}/issues/{issue.number}"
        html = self._html_issue(repo, issue)
        return {
            "url": url,
            "id": issue.id,
            "node_id": node_id("PullRequest", issue.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.urls.repo(repo)}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{self.urls.repo(repo)}/statuses/{pull.head_sha}",
            "number": issue.number,
            "state": issue.state,
            "locked": False,
            "title": issue.title,
            "user": self.user(issue.user),
            "body": issue.body,
            "labels": self.issue_labels(repo, issue),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at),
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._head(repo, pull),
            "base": self._base(repo, pull),
            "author_association": self._association(repo, issue.user),
            "auto_merge": None,
            "draft": pull.draft,
            "merged": pull.merged,
            "mergeable": True,
            "rebaseable": True,
            "mergeable_state": "clean",
            "merged_by": None,
            "comments": len(repo.comments_of(issue.number)),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": len(pull.commits),
            "additions": 1,
            "deletions": 0,
            "changed_files": 1,
        }

    def _head(self, repo: Repo, pull: PullInfo) -> Json:
        owner = pull.head_repo.partition("/")[0]
        return {
            "label": f"{owner}:{pull.head_ref}",
            "ref": pull.head_ref,
            "sha": pull.head_sha,
            "user": self.user(owner),
            "repo": self.head_repo(repo, pull.head_repo),
        }

    def _base(self, repo: Repo, pull: PullInfo) -> Json:
        base_sha = pull.commits and repo.commits[pull.commits[0]].parents[:1]
        return {
            "label": f"{repo.owner}:{pull.base_ref}",
            "ref": pull.base_ref,
            "sha": base_sha[0] if base_sha else None,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def _association(self, repo: Repo, login: str) -> str:
        return "OWNER" if login.casefold() == repo.owner.casefold() else "CONTRIBUTOR"

    # ----- comments, events, timeline ------------------------------------------------

    def comment(self, repo: Repo, comment: Comment) -> Json:
        issue = repo.issues.get(comment.issue_number)
        html = (
            self._html_issue(repo, issue)
            if issue
            else f"{self.urls.html}/{repo.full_name}/issues/{comment.issue_number}"
        )
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": f"{self.urls.repo(repo)}/issues/comments/{comment.id}",
            "html_url": f"{html}#issuecomment-{comment.id}",
            "issue_url": f"{self.urls.repo(repo)}/issues/{comment.issue_number}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": self._association(repo, comment.user),
            "performed_via_github_app": None,
        }

    def event(self, repo: Repo, event: IssueEvent) -> Json:
        data: Json = {
            "id": event.id,
            "node_id": node_id("Event", event.id),
            "url": f"{self.urls.repo(repo)}/issues/events/{event.id}",
            "actor": self.user(event.actor),
            "event": event.event,
            "commit_id": None,
            "commit_url": None,
            "created_at": iso(event.created_at),
            "performed_via_github_app": None,
        }
        if event.label is not None:
            color = repo.labels.get(event.label.casefold())
            data["label"] = {"name": event.label, "color": color.color if color else "ededed"}
        return data

    def timeline(self, repo: Repo, issue: Issue) -> list[Json]:
        """Events, comments and (for PRs) commits, oldest first, as GitHub orders them."""
        entries: list[tuple[datetime, int, Json]] = [
            (e.created_at, e.id, self.event(repo, e)) for e in issue.events
        ]
        for c in repo.comments_of(issue.number):
            entries.append(
                (
                    c.created_at,
                    c.id,
                    {**self.comment(repo, c), "event": "commented", "actor": self.user(c.user)},
                )
            )
        for sha in issue.pull.commits if issue.pull else []:
            commit = repo.commits[sha]
            entries.append((commit.committed_at, 0, self._timeline_commit(repo, commit)))
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return [entry[2] for entry in entries]

    def _timeline_commit(self, repo: Repo, commit: Commit) -> Json:
        git = self._git_commit(repo, commit)
        return {
            "sha": commit.sha,
            "node_id": node_id("Commit", commit.sha),
            "url": git["url"],
            "html_url": f"{self.urls.html}/{repo.full_name}/commit/{commit.sha}",
            "author": git["author"],
            "committer": git["committer"],
            "message": commit.message,
            "tree": git["tree"],
            "parents": self._parents(repo, commit),
            "verification": git["verification"],
            "event": "committed",
        }

    # ----- commits -------------------------------------------------------------------

    def commit(self, repo: Repo, commit: Commit, detailed: bool = False) -> Json:
        url = f"{self.urls.repo(repo)}/commits/{commit.sha}"
        data: Json = {
            "sha": commit.sha,
            "node_id": node_id("Commit", commit.sha),
            "url": url,
            "html_url": f"{self.urls.html}/{repo.full_name}/commit/{commit.sha}",
            "comments_url": f"{url}/comments",
            "commit": self._git_commit(repo, commit),
            "author": self.user(commit.author),
            "committer": self.user(commit.author),
            "parents": self._parents(repo, commit),
        }
        if detailed:
            data["stats"] = {"total": 1, "additions": 1, "deletions": 0}
            data["files"] = []
        return data

    def _git_commit(self, repo: Repo, commit: Commit) -> Json:
        person = {
            "name": commit.author,
            "email": f"{commit.author}@users.noreply.github.com",
            "date": iso(commit.committed_at),
        }
        tree = fake_tree(commit.sha)
        return {
            "url": f"{self.urls.repo(repo)}/git/commits/{commit.sha}",
            "author": person,
            "committer": person,
            "message": commit.message,
            "tree": {"sha": tree, "url": f"{self.urls.repo(repo)}/git/trees/{tree}"},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
            },
        }

    def _parents(self, repo: Repo, commit: Commit) -> list[Json]:
        return [
            {
                "sha": sha,
                "url": f"{self.urls.repo(repo)}/commits/{sha}",
                "html_url": f"{self.urls.html}/{repo.full_name}/commit/{sha}",
            }
            for sha in commit.parents
        ]

    # ----- compare -------------------------------------------------------------------

    def comparison(
        self, repo: Repo, base: str, head: str, found: Comparison, commits: list[Json]
    ) -> Json:
        """`base` and `head` as the client spelled them; `commits` is the page to send."""
        html = f"{self.urls.html}/{repo.full_name}/compare/{base}...{head}"
        permalink = (
            f"{self.urls.html}/{repo.full_name}/compare/"
            f"{repo.owner}:{found.base.sha}...{repo.owner}:{found.head.sha}"
        )
        return {
            "url": f"{self.urls.repo(repo)}/compare/{base}...{head}",
            "html_url": html,
            "permalink_url": permalink,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": self.commit(repo, found.base),
            "merge_base_commit": self.commit(repo, found.merge_base),
            "status": found.status,
            "ahead_by": len(found.ahead),
            "behind_by": len(found.behind),
            "total_commits": len(found.ahead),
            "commits": commits,
            "files": [],
        }

    # ----- workflows and their runs ------------------------------------------------

    def workflow(self, repo: Repo, workflow: Workflow) -> Json:
        return {
            "id": workflow.id,
            "node_id": node_id("Workflow", workflow.id),
            "name": workflow.name,
            "path": workflow.path,
            "state": workflow.state,
            "created_at": iso(workflow.created_at),
            "updated_at": iso(workflow.updated_at),
            "url": f"{self.urls.repo(repo)}/actions/workflows/{workflow.id}",
            "html_url": f"{self.urls.html}/{repo.full_name}/blob/{repo.default_branch}/"
            f"{workflow.path}",
            "badge_url": f"{self.urls.html}/{repo.full_name}/workflows/"
            f"{quote(workflow.name)}/badge.svg",
        }

    def run(self, repo: Repo, run: WorkflowRun, attempt: int | None = None) -> Json:
        """The run as its latest attempt shows it, or as of an earlier `attempt` (whose
        `jobs_url` and `logs_url` then point under `/attempts/{n}`, as GitHub's do)."""
        url = f"{self.urls.repo(repo)}/actions/runs/{run.id}"
        shown = run.attempt(attempt or run.run_attempt)
        own = f"{url}/attempts/{shown.number}" if attempt is not None else url
        workflow = repo.workflows.get(run.path)
        workflow_id = workflow.id if workflow is not None else 1
        return {
            "id": run.id,
            "name": run.name,
            "node_id": node_id("WorkflowRun", run.id),
            "check_suite_id": run.id + 1,
            "check_suite_node_id": node_id("CheckSuite", run.id + 1),
            "head_branch": run.head_branch,
            "head_sha": run.head_sha,
            "path": run.path,
            "display_title": run.name,
            "run_number": run.run_number,
            "run_attempt": shown.number,
            "event": run.event,
            "status": shown.status,
            "conclusion": shown.conclusion,
            "workflow_id": workflow_id,
            "url": url,
            "html_url": f"{self.urls.html}/{repo.full_name}/actions/runs/{run.id}",
            "pull_requests": [],
            "referenced_workflows": [],
            "created_at": iso(run.created_at),
            "updated_at": iso(shown.updated_at),
            "run_started_at": iso(shown.started_at),
            "actor": self.user(run.actor),
            "triggering_actor": self.user(shown.actor),
            "jobs_url": f"{own}/jobs",
            "logs_url": f"{own}/logs",
            "check_suite_url": f"{self.urls.repo(repo)}/check-suites/{run.id + 1}",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "previous_attempt_url": (
                f"{url}/attempts/{shown.number - 1}" if shown.number > 1 else None
            ),
            "workflow_url": f"{self.urls.repo(repo)}/actions/workflows/{workflow_id}",
            "head_commit": self._head_commit(repo, run.head_sha),
            "repository": self.repo(repo),
            "head_repository": self.repo(repo),
        }

    def _head_commit(self, repo: Repo, sha: str) -> Json:
        commit = repo.commits.get(sha)
        author = commit.author if commit else repo.owner
        person = {"name": author, "email": f"{author}@users.noreply.github.com"}
        return {
            "id": sha,
            "tree_id": fake_tree(sha),
            "message": commit.message if commit else "",
            "timestamp": iso(commit.committed_at) if commit else None,
            "author": person,
            "committer": person,
        }

    def job(self, repo: Repo, run: WorkflowRun, job: Job) -> Json:
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{self.urls.repo(repo)}/actions/runs/{run.id}",
            "run_attempt": job.run_attempt,
            "node_id": node_id("CheckRun", job.id),
            "head_sha": run.head_sha,
            "head_branch": run.head_branch,
            "url": f"{self.urls.repo(repo)}/actions/jobs/{job.id}",
            "html_url": f"{self.urls.html}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
            "status": job.status,
            "conclusion": job.conclusion,
            "created_at": iso(job.started_at),
            "started_at": iso(job.started_at),
            "completed_at": iso(job.completed_at),
            "name": job.name,
            "workflow_name": run.name,
            "steps": [
                {
                    "name": step.name,
                    "status": step.status,
                    "conclusion": step.conclusion,
                    "number": step.number,
                    "started_at": iso(step.started_at),
                    "completed_at": iso(step.completed_at),
                }
                for step in job.steps
            ],
            "check_run_url": f"{self.urls.repo(repo)}/check-runs/{job.id}",
            "labels": ["ubuntu-latest"],
            "runner_id": 1,
            "runner_name": "GitHub Actions 1",
            "runner_group_id": 1,
            "runner_group_name": "GitHub Actions",
        }

    def job_log_url(self, repo: Repo, job: Job) -> str:
        """Where `GET .../actions/jobs/{id}/logs` redirects: the fake itself, pre-signed
        (no credentials needed, like GitHub's short-lived blob URLs)."""
        token = self.state.job_log_token(repo.full_name, job.id)
        return f"{self.urls.html}/_fake/job-logs/{job.id}?token={token}"


def fake_tree(sha: str) -> str:
    return sha[::-1]
