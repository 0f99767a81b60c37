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
from fake_github.state import GitHubState, Issue, IssueState, NotFoundError, Repo, Token

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
    body: Any = None  # JSON-able; None sends no body (204)
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
    """`{name}` matches one path segment, `{name:int}` digits only."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str) -> Callable[[Handler], Handler]:
        regex = re.sub(r"\{(\w+):int\}", r"(?P<\1>\\d+)", template)
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
    per_page = min(max(_int(req.query.get("per_page"), 30), 1), 100)
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
    headers = {"Link": ", ".join(links)} if links else {}
    body: Any = {"total_count": len(items), key: chunk} if key else chunk
    return Reply(200, body, headers)


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


# ----- workflow runs -------------------------------------------------------------------


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}")
def get_run(req: Request) -> Reply:
    repo = req.repo()
    return Reply(200, req.render.run(repo, repo.run(int(req.params["id"]))))


@router.get("/repos/{owner}/{repo}/actions/runs/{id:int}/jobs")
def list_jobs(req: Request) -> Reply:
    repo = req.repo()
    run = repo.run(int(req.params["id"]))
    return paginate(req, [req.render.job(repo, run, j) for j in run.jobs], key="jobs")
