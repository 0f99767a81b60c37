"""The REST endpoints: a tiny router, GitHub-style errors and pagination, and handlers.

Handlers run under the state lock with an authenticated token (the server checks
credentials, write permission and faults first). They validate before mutating, so a
request that fails leaves the state as it was.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode

from fake_github.render import Json, Renderer
from fake_github.state import (
    GitHubState,
    Issue,
    IssueState,
    NotFoundError,
    Repo,
    Token,
    WorkflowRun,
)

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer: `{"message": ..., "documentation_url": ...}` (+ `errors`)."""

    def __init__(self, status: int, message: str, errors: list[Json] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        data: Json = {"message": self.message, "documentation_url": DOCS}
        if self.errors is not None:
            data["errors"] = self.errors
        data["status"] = str(self.status)
        return data


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(resource: str, field_name: str, code: str = "missing_field") -> ApiError:
    error = {"resource": resource, "code": code, "field": field_name}
    return ApiError(422, "Validation Failed", [error])


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes sent as is; None sends no body (204)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str  # without prefix and query
    query: dict[str, str]
    body: Any
    token: Token
    state: GitHubState
    render: Renderer
    rate: dict[str, int]  # limit, remaining, reset, used of the token's user
    params: dict[str, str] = field(default_factory=dict)

    @property
    def login(self) -> str:
        return self.token.login

    def repo(self) -> Repo:
        return self.state.repo(f"{self.params['owner']}/{self.params['repo']}")

    def issue(self) -> Issue:
        return self.repo().issue(int(self.params["number"]))

    def pull(self) -> Issue:
        issue = self.issue()
        if issue.pull is None:
            raise not_found()
        return issue

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise ApiError(400, "Problems parsing JSON")
        return self.body

    def link(self, page: int) -> str:
        query = {**self.query, "page": str(page)}
        return f"{self.render.urls.api}{self.path}?{urlencode(query)}"


Handler = Callable[[Request], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """`{name}` matches one path segment, `{name:int}` digits only, `{name:path}` one or
    more segments (branch names have slashes)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str) -> Callable[[Handler], Handler]:
        regex = re.sub(r"\{(\w+):int\}", r"(?P<\1>\\d+)", template)
        regex = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+?)", regex)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method, re.compile(f"{regex}/?"), handler))
            return handler

        return register

    def get(self, template: str) -> Callable[[Handler], Handler]:
        return self.add("GET", template)

    def post(self, template: str) -> Callable[[Handler], Handler]:
        return self.add("POST", template)

    def patch(self, template: str) -> Callable[[Handler], Handler]:
        return self.add("PATCH", template)

    def put(self, template: str) -> Callable[[Handler], Handler]:
        return self.add("PUT", template)

    def delete(self, template: str) -> Callable[[Handler], Handler]:
        return self.add("DELETE", template)

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found and route.method == method:
                return route.handler, {k: unquote(v) for k, v in found.groupdict().items()}
        raise not_found()


def dispatch(router: Router, request: Request) -> Reply:
    """Run the matching handler; state misses become GitHub's 404."""
    handler, request.params = router.match(request.method, request.path)
    try:
        with request.state.lock:
            return handler(request)
    except NotFoundError:
        raise not_found() from None


def paginate(req: Request, items: Sequence[Json], key: str | None = None) -> Reply:
    """One page of `items` plus an RFC 5988 `Link` header, the way GitHub builds it:
    `prev`/`first` from page 2 on, `next`/`last` while not on the last page."""
    chunk, headers = page_of(req, items)
    body: Any = {"total_count": len(items), key: chunk} if key else chunk
    return Reply(200, body, headers)


def page_of(
    req: Request, items: Sequence[Json], default: int = 30, maximum: int = 100
) -> tuple[list[Json], dict[str, str]]:
    """`paginate`'s page and `Link` header, for answers shaped otherwise."""
    per_page = min(max(_int(req.query.get("per_page"), default), 1), maximum)
    page = max(_int(req.query.get("page"), 1), 1)
    last = max(math.ceil(len(items) / per_page), 1)
    chunk = list(items[(page - 1) * per_page : page * per_page])
    links = []
    if page > 1:
        links.append(f'<{req.link(page - 1)}>; rel="prev"')
    if page < last:
        links += [f'<{req.link(page + 1)}>; rel="next"', f'<{req.link(last)}>; rel="last"']
    if page > 1:
        links.append(f'<{req.link(1)}>; rel="first"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        raise ApiError(422, f"Invalid value {value!r}") from None


def _since(req: Request) -> datetime | None:
    value = req.query.get("since")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("Query", "since", "invalid") from None


def _label_names(value: Any) -> list[str]:
    """Label lists come as `["a"]`, `{"labels": ["a"]}` or `[{"name": "a"}]`."""
    if isinstance(value, dict):
        value = value.get("labels")
    if not isinstance(value, list):
        raise invalid("Label", "labels", "invalid")
    names = [v.get("name") if isinstance(v, dict) else v for v in value]
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise invalid("Label", "name", "invalid")
    return [str(n) for n in names]


def _state(value: Any, allow_all: bool = False) -> str:
    allowed = ("open", "closed", "all") if allow_all else ("open", "closed")
    if value not in allowed:
        raise invalid("Issue", "state", "invalid")
    return str(value)


router = Router()

# ----- users, repos, rate limit --------------------------------------------------------


@router.get("/user")
def get_user(req: Request) -> Reply:
    return Reply(200, req.render.authenticated_user(req.login))


@router.get("/users/{login}")
def get_named_user(req: Request) -> Reply:
    return Reply(200, req.render.user(req.params["login"]))


@router.get("/rate_limit")
def get_rate_limit(req: Request) -> Reply:
    core = {**req.rate, "resource": "core"}
    spare = {"limit": 30, "remaining": 30, "reset": req.rate["reset"], "used": 0}
    resources = {
        "core": core,
        "search": {**spare, "resource": "search"},
        "graphql": {**core, "resource": "graphql"},
    }
    return Reply(200, {"resources": resources, "rate": core})


@router.get("/repos/{owner}/{repo}")
def get_repo(req: Request) -> Reply:
    return Reply(200, req.render.repo(req.repo(), req.token.permission))


# ----- pulls and commits ---------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/pulls")
def list_pulls(req: Request) -> Reply:
    repo = req.repo()
    state = _state(req.query.get("state", "open"), allow_all=True)
    head = req.query.get("head")
    base = req.query.get("base")
    pulls = [
        p
        for p in repo.pulls()
        if (state == "all" or p.state == state)
        and (head is None or _head_matches(p, head))
        and (base is None or (p.pull is not None and p.pull.base_ref == base))
    ]
    pulls = _sorted(pulls, req.query.get("sort", "created"), req.query.get("direction"))
    return paginate(req, [req.render.pull(repo, p) for p in pulls])


def _head_matches(pull: Issue, head: str) -> bool:
    """`head=owner:ref` as GitHub wants; a bare ref matches any owner."""
    assert pull.pull is not None
    owner, _, ref = head.rpartition(":")
    head_owner = pull.pull.head_repo.partition("/")[0]
    return pull.pull.head_ref == ref and (not owner or owner.casefold() == head_owner.casefold())


def _sorted(issues: list[Issue], sort: str, direction: str | None) -> list[Issue]:
    keys: dict[str, Callable[[Issue], Any]] = {
        "created": lambda i: (i.created_at, i.number),
        "updated": lambda i: (i.updated_at, i.number),
    }
    if sort not in keys:
        raise invalid("Issue", "sort", "invalid")
    # GitHub lists newest first unless told otherwise.
    return sorted(issues, key=keys[sort], reverse=(direction or "desc") == "desc")


@router.get("/repos/{owner}/{repo}/pulls/{number:int}")
def get_pull(req: Request) -> Reply:
    return Reply(200, req.render.pull(req.repo(), req.pull()))


@router.patch("/repos/{owner}/{repo}/pulls/{number:int}")
def edit_pull(req: Request) -> Reply:
    body = req.json_object()
    pull = req.pull()
    state = _state(body["state"]) if "state" in body else None
    req.state.edit_issue(
        req.repo().full_name,
        pull.number,
        req.login,
        title=body.get("title"),
        body=body.get("body"),
        state=_issue_state(state),
    )
    return Reply(200, req.render.pull(req.repo(), pull))


@router.get("/repos/{owner}/{repo}/pulls/{number:int}/commits")
def list_pull_commits(req: Request) -> Reply:
    repo, pull = req.repo(), req.pull()
    assert pull.pull is not None
    return paginate(req, [req.render.commit(repo, repo.commits[s]) for s in pull.pull.commits])


@router.get("/repos/{owner}/{repo}/commits/{sha}")
def get_commit(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.commit(repo, repo.commit(req.params["sha"]), detailed=True))


@router.get("/repos/{owner}/{repo}/commits/{sha}/pulls")
def list_commit_pulls(req: Request) -> Reply:
    repo = req.repo()
    sha = repo.commit(req.params["sha"]).sha
    pulls = [p for p in repo.pulls() if p.pull is not None and sha in p.pull.commits]
    return paginate(req, [req.render.pull(repo, p) for p in _sorted(pulls, "created", "asc")])


# ----- repo labels ---------------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/labels")
def list_labels(req: Request) -> Reply:
    repo = req.repo()
    labels = sorted(repo.labels.values(), key=lambda label: label.name.casefold())
    return paginate(req, [req.render.label(repo, label) for label in labels])


@router.post("/repos/{owner}/{repo}/labels")
def create_label(req: Request) -> Reply:
    body, repo = req.json_object(), req.repo()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("Label", "name")
    if name.casefold() in repo.labels:
        raise invalid("Label", "name", "already_exists")
    color = str(body.get("color") or "ededed")
    label = req.state.add_label(repo.full_name, name, color, body.get("description"))
    return Reply(201, req.render.label(repo, label))


@router.get("/repos/{owner}/{repo}/labels/{name}")
def get_label(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.label(repo, repo.label(req.params["name"])))


@router.patch("/repos/{owner}/{repo}/labels/{name}")
def edit_label(req: Request) -> Reply:
    body, repo = req.json_object(), req.repo()
    new_name = body.get("new_name") or body.get("name")
    if (
        new_name
        and new_name.casefold() != req.params["name"].casefold()
        and (new_name.casefold() in repo.labels)
    ):
        raise invalid("Label", "name", "already_exists")
    label = req.state.edit_label(
        repo.full_name, req.params["name"], new_name, body.get("color"), body.get("description")
    )
    return Reply(200, req.render.label(repo, label))


@router.delete("/repos/{owner}/{repo}/labels/{name}")
def delete_label(req: Request) -> Reply:
    req.state.delete_label(req.repo().full_name, req.params["name"])
    return Reply(204)


# ----- issue labels --------------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/issues/{number:int}/labels")
def list_issue_labels(req: Request) -> Reply:
    repo, issue = req.repo(), req.issue()
    return paginate(req, req.render.issue_labels(repo, issue))


@router.post("/repos/{owner}/{repo}/issues/{number:int}/labels")
def add_issue_labels(req: Request) -> Reply:
    repo, issue, names = req.repo(), req.issue(), _label_names(req.body)
    for name in names:
        req.state.add_label_to_issue(repo.full_name, issue.number, name, actor=req.login)
    # GitHub answers 200 with all the issue's labels, not 201.
    return Reply(200, req.render.issue_labels(repo, issue))


@router.put("/repos/{owner}/{repo}/issues/{number:int}/labels")
def set_issue_labels(req: Request) -> Reply:
    repo, issue, names = req.repo(), req.issue(), _label_names(req.body)
    req.state.set_issue_labels(repo.full_name, issue.number, names, actor=req.login)
    return Reply(200, req.render.issue_labels(repo, issue))


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/labels")
def clear_issue_labels(req: Request) -> Reply:
    repo, issue = req.repo(), req.issue()
    req.state.set_issue_labels(repo.full_name, issue.number, [], actor=req.login)
    return Reply(204)


@router.delete("/repos/{owner}/{repo}/issues/{number:int}/labels/{name}")
def remove_issue_label(req: Request) -> Reply:
    repo, issue, name = req.repo(), req.issue(), req.params["name"]
    if not issue.has_label(name):
        raise ApiError(404, "Label does not exist")
    req.state.remove_label_from_issue(repo.full_name, issue.number, name, actor=req.login)
    # GitHub answers 200 with the labels left, not 204.
    return Reply(200, req.render.issue_labels(repo, issue))


# ----- issues --------------------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/issues")
def list_issues(req: Request) -> Reply:
    repo = req.repo()
    state = _state(req.query.get("state", "open"), allow_all=True)
    wanted = [n for n in req.query.get("labels", "").split(",") if n.strip()]
    creator = req.query.get("creator")
    since = _since(req)
    issues = [
        i
        for i in repo.issues.values()
        if (state == "all" or i.state == state)
        and all(i.has_label(n.strip()) for n in wanted)
        and (creator is None or i.user.casefold() == creator.casefold())
        and (since is None or i.updated_at >= since)
    ]
    issues = _sorted(issues, req.query.get("sort", "created"), req.query.get("direction"))
    return paginate(req, [req.render.issue(repo, i) for i in issues])


@router.post("/repos/{owner}/{repo}/issues")
def create_issue(req: Request) -> Reply:
    body, repo = req.json_object(), req.repo()
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Issue", "title")
    labels = _label_names(body["labels"]) if body.get("labels") is not None else []
    issue = req.state.add_issue(repo.full_name, title, body.get("body"), req.login, labels)
    return Reply(201, req.render.issue(repo, issue))


@router.get("/repos/{owner}/{repo}/issues/{number:int}")
def get_issue(req: Request) -> Reply:
    return Reply(200, req.render.issue(req.repo(), req.issue()))


@router.patch("/repos/{owner}/{repo}/issues/{number:int}")
def edit_issue(req: Request) -> Reply:
    body, repo, issue = req.json_object(), req.repo(), req.issue()
    state = _state(body["state"]) if "state" in body else None
    labels = _label_names(body["labels"]) if body.get("labels") is not None else None
    if "title" in body and not (isinstance(body["title"], str) and body["title"].strip()):
        raise invalid("Issue", "title", "invalid")
    req.state.edit_issue(
        repo.full_name,
        issue.number,
        req.login,
        title=body.get("title"),
        body=body.get("body"),
        state=_issue_state(state),
        state_reason=body.get("state_reason"),
        labels=labels,
    )
    return Reply(200, req.render.issue(repo, issue))


def _issue_state(value: str | None) -> IssueState | None:
    if value == "open":
        return "open"
    if value == "closed":
        return "closed"
    return None


# ----- comments ------------------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/issues/{number:int}/comments")
def list_comments(req: Request) -> Reply:
    repo, issue, since = req.repo(), req.issue(), _since(req)
    comments = [c for c in repo.comments_of(issue.number) if since is None or c.updated_at >= since]
    return paginate(req, [req.render.comment(repo, c) for c in comments])


@router.post("/repos/{owner}/{repo}/issues/{number:int}/comments")
def create_comment(req: Request) -> Reply:
    body, repo, issue = req.json_object(), req.repo(), req.issue()
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise invalid("IssueComment", "body")
    comment = req.state.add_comment(repo.full_name, issue.number, text, req.login)
    return Reply(201, req.render.comment(repo, comment))


@router.get("/repos/{owner}/{repo}/issues/comments/{id:int}")
def get_comment(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.comment(repo, repo.comment(int(req.params["id"]))))


@router.patch("/repos/{owner}/{repo}/issues/comments/{id:int}")
def edit_comment(req: Request) -> Reply:
    body, repo = req.json_object(), req.repo()
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise invalid("IssueComment", "body")
    comment = req.state.edit_comment(repo.full_name, int(req.params["id"]), text)
    return Reply(200, req.render.comment(repo, comment))


@router.delete("/repos/{owner}/{repo}/issues/comments/{id:int}")
def delete_comment(req: Request) -> Reply:
    req.state.delete_comment(req.repo().full_name, int(req.params["id"]))
    return Reply(204)


# ----- events and timeline -------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/issues/{number:int}/events")
def list_events(req: Request) -> Reply:
    repo, issue = req.repo(), req.issue()
    return paginate(req, [req.render.event(repo, e) for e in issue.events])


@router.get("/repos/{owner}/{repo}/issues/{number:int}/timeline")
def list_timeline(req: Request) -> Reply:
    return paginate(req, req.render.timeline(req.repo(), req.issue()))


# ----- compare -------------------------------------------------------------------------

COMPARE_UNPAGED = 250  # commits in a compare answer asked for without page or per_page


@router.get("/repos/{owner}/{repo}/compare/{basehead:path}")
def compare(req: Request) -> Reply:
    repo = req.repo()
    base, dots, head = req.params["basehead"].partition("...")
    if not dots or not base or not head:
        raise not_found()
    try:
        found = req.state.compare(repo.full_name, base, head)
    except ValueError as error:  # unrelated histories
        raise ApiError(404, str(error)) from None
    commits = [req.render.commit(repo, c) for c in found.ahead]
    if "page" in req.query or "per_page" in req.query:
        # PyGithub always sends page=1: paginated, 250 a page unless told (1000 at most).
        chunk, headers = page_of(req, commits, default=COMPARE_UNPAGED, maximum=1000)
    else:
        chunk, headers = commits[:COMPARE_UNPAGED], {}
    return Reply(200, req.render.comparison(repo, base, head, found, chunk), headers)


# ----- workflows and workflow runs -------------------------------------------------------


@router.get("/repos/{owner}/{repo}/actions/workflows")
def list_workflows(req: Request) -> Reply:
    repo = req.repo()
    workflows = sorted(repo.workflows.values(), key=lambda w: w.id)
    return paginate(req, [req.render.workflow(repo, w) for w in workflows], key="workflows")


@router.get("/repos/{owner}/{repo}/actions/workflows/{workflow_id}")
def get_workflow(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.workflow(repo, repo.workflow(req.params["workflow_id"])))


@router.get("/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs")
def list_workflow_runs(req: Request) -> Reply:
    repo = req.repo()
    workflow = repo.workflow(req.params["workflow_id"])
    return _runs(req, repo, [r for r in repo.runs.values() if r.path == workflow.path])


@router.get("/repos/{owner}/{repo}/actions/runs")
def list_runs(req: Request) -> Reply:
    repo = req.repo()
    return _runs(req, repo, list(repo.runs.values()))


def _runs(req: Request, repo: Repo, runs: list[WorkflowRun]) -> Reply:
    """GitHub's filters (`created`, `exclude_pull_requests`, `check_suite_id` are
    accepted and ignored), newest first."""
    q = req.query
    status = q.get("status")
    actor = q.get("actor")
    runs = [
        r
        for r in runs
        if q.get("branch") in (None, r.head_branch)
        and q.get("event") in (None, r.event)
        and q.get("head_sha") in (None, r.head_sha)
        and (actor is None or actor.casefold() == r.actor.casefold())
        # `status` takes a status or a conclusion (`success`, `failure`...).
        and (status is None or status in (r.status, r.conclusion))
    ]
    runs.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return paginate(req, [req.render.run(repo, r) for r in runs], key="workflow_runs")


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}")
def get_run(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.run(repo, repo.run(int(req.params["id"]))))


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}/jobs")
def list_jobs(req: Request) -> Reply:
    """`filter=latest` (the default): the latest attempt's jobs; `all`: every attempt's."""
    repo = req.repo()
    run = repo.run(int(req.params["id"]))
    which = req.query.get("filter", "latest")
    if which not in ("latest", "all"):
        raise invalid("Job", "filter", "invalid")
    jobs = run.jobs if which == "all" else run.jobs_of(run.run_attempt)
    return paginate(req, [req.render.job(repo, run, j) for j in jobs], key="jobs")


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}/attempts/{attempt:int}")
def get_run_attempt(req: Request) -> Reply:
    repo = req.repo()
    run = repo.run(int(req.params["id"]))
    return Reply(200, req.render.run(repo, run, attempt=int(req.params["attempt"])))


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}/attempts/{attempt:int}/jobs")
def list_attempt_jobs(req: Request) -> Reply:
    repo = req.repo()
    run = repo.run(int(req.params["id"]))
    attempt = run.attempt(int(req.params["attempt"])).number  # 404 beyond the latest
    jobs = run.jobs_of(attempt)
    return paginate(req, [req.render.job(repo, run, j) for j in jobs], key="jobs")


@router.get("/repos/{owner}/{repo}/actions/jobs/{job_id:int}")
def get_job(req: Request) -> Reply:
    repo = req.repo()
    run, job = repo.job(int(req.params["job_id"]))
    return Reply(200, req.render.job(repo, run, job))


@router.get("/repos/{owner}/{repo}/actions/jobs/{job_id:int}/logs")
def get_job_logs(req: Request) -> Reply:
    """A redirect to a pre-signed download URL, as GitHub answers; 410 once expired."""
    repo = req.repo()
    _, job = repo.job(int(req.params["job_id"]))
    if job.log_expired:
        raise ApiError(410, "Gone")
    return Reply(302, None, {"Location": req.render.job_log_url(repo, job)})
