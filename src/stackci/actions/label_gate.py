"""label-gate: open or close a gate on a pull request's labels, read live from the API.

The decision is a pure function of the rules and the PR's labels (`evaluate`); with
`fresh-labels` a label only counts when GitHub recorded it being applied after the PR's
latest push (`latest_push` says which clue set that time). Rendering the job summary and
the explanation comment are pure functions too, so their golden files are unit tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

import requests
from github import Github, GithubException
from github.GithubException import BadCredentialsException
from github.PullRequest import PullRequest
from github.Repository import Repository

from stackci.core.github.client import describe_api_error, github_client
from stackci.core.github.errors import ReadOnlyToken
from stackci.core.github.pulls import (
    find_pr_number_or_none,
    token_login,
)
from stackci.core.github.sticky import StickyComment, default_key, hidden_marker
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed, BadInputs, InputError
from stackci.core.runner.forks import FORK_COMMENT_ADVICE
from stackci.core.runner.inputs import InputReader, parse_lines
from stackci.core.runner.workflow import Workflow
from stackci.core.text import markdown as md

ON_MISMATCH = ("fail", "skip")
RULES = ("any-of", "all-of", "none-of")
Outcome = Literal["open", "skipped", "failed", "no-pr"]


# ----- settings ---------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Settings:
    rules: Rules
    pr_number: int | None
    on_mismatch: str
    comment: bool
    fresh_labels: bool
    github_token: str = field(repr=False)
    comment_author: str = ""  # the token's login, when GitHub cannot tell (an App's token)

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        rules = Rules(
            any_of=inputs.items("any-of", split=split_labels),
            all_of=inputs.items("all-of", split=split_labels),
            none_of=inputs.items("none-of", split=split_labels),
        )
        if not (rules.any_of or rules.all_of or rules.none_of):
            inputs.fail("any-of", "at least one label in any-of, all-of or none-of "
                                  "(all three are empty)")
        number = inputs.integer("pr-number", default=0, minimum=1)
        token = inputs.secret("github-token")
        if not token:
            inputs.fail("github-token", "a token that can read the pull request (it was "
                                        "empty; the default is the workflow's github.token)")
        return cls(
            rules=rules,
            pr_number=number or None,
            on_mismatch=inputs.choice("on-mismatch", ON_MISMATCH, "fail"),
            comment=inputs.boolean("comment", default=False),
            fresh_labels=inputs.boolean("fresh-labels", default=False),
            github_token=token,
            comment_author=inputs.text("comment-author"),
        )


# ----- the decision (pure) ----------------------------------------------------------------


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


# ----- what the gate looked at -------------------------------------------------------------


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str
    url: str


@dataclass(frozen=True)
class Report:
    """Everything the summary and the comment show; built once, rendered twice."""

    rules: Rules
    labels: tuple[PrLabel, ...]
    verdict: Verdict
    outcome: Outcome
    on_mismatch: str
    pull: PullInfo | None = None
    fresh_labels: bool = False
    push: PushTime | None = None
    no_pr_reason: str = ""
    origin: str = ""  # workflow and job, for the comment's footer

    @property
    def reason(self) -> str:
        if self.pull is None:
            judged = self.verdict.reason.removesuffix(" (has no labels)")
            return f"{self.no_pr_reason}, so there are no labels: {judged}"
        return self.verdict.reason

    @property
    def should_run(self) -> bool:
        return self.verdict.passed


def outcome_of(verdict: Verdict, on_mismatch: str, has_pull: bool) -> Outcome:
    if not has_pull:
        return "no-pr"  # nobody can label a PR that does not exist: never a failure
    if verdict.passed:
        return "open"
    return "failed" if on_mismatch == "fail" else "skipped"


# ----- rendering (pure) ---------------------------------------------------------------------

_HEADINGS: dict[Outcome, str] = {
    "open": "### ✅ label-gate: open",
    "skipped": "### ⏭️ label-gate: closed, gated work skipped",
    "failed": "### ❌ label-gate: closed",
    "no-pr": "### ➖ label-gate: no pull request",
}


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "no record"


def code(name: str, in_table: bool = True) -> str:
    """A name from outside as a code span: nothing in it renders, links or mentions. In a
    table cell a `|` is escaped too (GitHub unescapes it inside the span)."""
    return md.cell_code(plain(name)) if in_table else md.inline_code(plain(name))


def codes(names: Iterable[str], in_table: bool = True) -> str:
    return ", ".join(code(n, in_table) for n in names) or "none"


def rule_rows(report: Report) -> list[tuple[str, str, str]]:
    verdict, counted = report.verdict, [lb.name for lb in report.labels if lb.counts]
    rows = []
    for rule, patterns in report.rules.given():
        if rule == "all-of":
            status = (f"❌ missing {codes(verdict.missing_all)}" if verdict.missing_all
                      else "✅ all present")
        elif rule == "any-of":
            found = [n for n in counted if matches_any(patterns, n)]
            status = "❌ none present" if verdict.any_unmet else f"✅ {codes(found)}"
        else:
            status = (f"❌ present: {codes(verdict.forbidden)}" if verdict.forbidden
                      else "✅ none present")
        rows.append((f"`{rule}`", codes(patterns), status))
    return rows


def label_rows(report: Report) -> list[tuple[str, str, str]]:
    rows = []
    for label in report.labels:
        if label.counts:
            counts = "✅"
        elif label.applied_at is None:
            counts = "❌ no record of when it was applied"
        else:
            counts = "❌ applied before the latest push"
        rows.append((code(label.name), when(label.applied_at), counts))
    return rows


def pull_line(report: Report) -> str:
    pull = report.pull
    assert pull is not None
    return f"Pull request [#{pull.number}]({pull.url}): {md.escape(plain(pull.title))}"


def push_line(push: PushTime | None) -> str:
    if push is None:
        return "**Latest push:** unknown"
    return f"**Latest push:** {when(push.at)}, from {md.escape(push.source)}"


def render_details(report: Report) -> str:
    """The body shared by every outcome: the PR, the rules and the labels."""
    rules = md.table(["Rule", "Patterns", "Result"], rule_rows(report))
    if report.pull is None:  # the reason already says why there is no PR
        return rules
    parts = [pull_line(report), rules]
    if report.fresh_labels:
        parts.append(push_line(report.push) + " — with `fresh-labels`, a label counts only "
                     "when it was applied after it.")
        if report.labels:
            parts.append(md.table(["Label", "Applied", "Counts"], label_rows(report)))
    parts.append(f"**Labels on the PR now:** {codes(lb.name for lb in report.labels)}")
    return "\n\n".join(parts)


def render_summary(report: Report) -> str:
    """The job summary for an open, skipped or PR-less gate. A failed gate's summary is
    `failure_message` plus `render_details`, headed by the action handler."""
    return "\n\n".join([_HEADINGS[report.outcome],
                        f"**Why:** {md.escape(report.reason)}",
                        render_details(report)]) + "\n"


def failure_message(report: Report) -> str:
    assert report.pull is not None
    return f"PR #{report.pull.number}: {md.escape(report.reason)}"  # our own reference


def render_comment(report: Report) -> str:
    """The explanation kept on the PR while the gate is closed. It depends only on the
    rules, the labels and the push, never on the run, so an unchanged situation leaves
    the comment untouched."""
    verdict = report.verdict
    consequence = ("This check fails until then." if report.on_mismatch == "fail"
                   else "The work it guards is skipped until then.")
    todo = []
    if verdict.missing_all:
        todo.append(f"- add {codes(verdict.missing_all, False)}")
    if verdict.any_unmet:
        todo.append(f"- add one of {codes(report.rules.any_of, False)}")
    if verdict.forbidden:
        todo.append(f"- remove {codes(verdict.forbidden, False)}")
    if verdict.stale:
        todo.append(f"- apply {codes(verdict.stale, False)} again: it was applied before the "
                    f"latest push ({when(report.push.at if report.push else None)}), so it "
                    "does not cover the new commits; review them first")
    lines = [
        "### 🏷️ Label gate closed",
        "",
        md.escape(report.reason),
        "",
        "To open it:",
        *todo,
        "",
        f"{consequence} Changing labels re-runs the gate when the workflow listens to "
        "`labeled` and `unlabeled` events; otherwise re-run the job.",
        "",
        md.table(["Rule", "Patterns", "Result"], rule_rows(report)),
    ]
    if report.fresh_labels and report.labels:
        lines += ["", push_line(report.push), "",
                  md.table(["Label", "Applied", "Counts"], label_rows(report))]
    origin = f" for {md.escape(report.origin)}" if report.origin else ""
    lines += ["", f"<sub>StackCI label-gate{origin}. This comment is updated while the gate "
                  "is closed and deleted once it opens.</sub>"]
    return "\n".join(lines) + "\n"


# ----- reading GitHub -------------------------------------------------------------------------


@dataclass(frozen=True)
class PullState:
    info: PullInfo
    labels: tuple[PrLabel, ...]
    push: PushTime | None


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def event_push(ctx: RunContext, pr: PullRequest) -> PushTime | None:
    """A `synchronize` run is the push itself: its payload's `updated_at` is GitHub's time
    for it, valid while the head is still the commit that push brought."""
    payload = ctx.event.get("pull_request") or {}
    if (ctx.event_name not in ("pull_request", "pull_request_target")
            or ctx.event.get("action") != "synchronize"
            or payload.get("number") != pr.number
            or (payload.get("head") or {}).get("sha") != pr.head.sha):
        return None
    at = parse_time(payload.get("updated_at"))
    return PushTime(at, "the push that triggered this run, as GitHub recorded it",
                    True) if at else None


def fork_push(ctx: RunContext, pr: PullRequest) -> PushTime | None:
    """For a PR from a fork, the fork's `pushed_at`: GitHub's time of the latest push to
    any branch of the fork, so never earlier than the push of the PR's head."""
    head_repo = (pr.raw_data.get("head") or {}).get("repo") or {}
    name = str(head_repo.get("full_name") or "")
    at = parse_time(head_repo.get("pushed_at"))
    if not name or name.casefold() == ctx.repository.casefold() or at is None:
        return None
    return PushTime(at, f"the latest push to the fork {name}, as GitHub recorded it", True)


def read_freshness(repo: Repository, pr: PullRequest, ctx: RunContext
                   ) -> tuple[dict[str, datetime], PushTime | None]:
    """When each label was last applied, and the latest push by every clue GitHub gives."""
    applied: dict[str, datetime] = {}
    clues: list[PushTime] = []
    for event in pr.get_issue_events():
        # Only the attributes every listed event carries are read: reading a missing one
        # would make PyGithub fetch the event again.
        if event.event == "labeled" and event.label is not None:
            key = event.label.name.casefold()
            applied[key] = max(applied.get(key, event.created_at), event.created_at)
        elif event.event == "head_ref_force_pushed":
            clues.append(PushTime(event.created_at, "a force push, as GitHub recorded it",
                                  True))
    head = pr.head.sha
    committed = repo.get_commit(head).commit.committer.date
    clues.append(PushTime(committed, f"the committer date of the head commit {head[:7]} "
                                     "(set on the committer's machine)", False))
    clues += [c for c in (event_push(ctx, pr), fork_push(ctx, pr)) if c is not None]
    return applied, latest_push(clues)


def get_pull(repo: Repository, number: int) -> PullRequest | None:
    """The pull request, read now; None when GitHub has none by that number (a 404 for
    the pull request itself: an issue's number, or no such number)."""
    try:
        pr = repo.get_pull(number)
        pr.complete()  # a lazy client reads it only now
    except GithubException as exc:
        if exc.status != 404:
            raise
        repo.complete()  # a repository we cannot see is a failure to read, not a bad number
        return None
    return pr


def read_pull(repo: Repository, pr: PullRequest, ctx: RunContext, fresh: bool) -> PullState:
    number = pr.number
    # Live: the PR as GitHub has it now carries its labels (the payload's may be stale).
    names = [label.name for label in pr.labels]
    info = PullInfo(number, pr.title or "", f"{ctx.server_url}/{ctx.repository}/pull/{number}")
    if not fresh:
        return PullState(info, tuple(PrLabel(n) for n in names), None)
    applied, push = read_freshness(repo, pr, ctx)
    return PullState(info, tuple(judge_freshness(names, applied, push)), push)


def resolve_number(settings: Settings, ctx: RunContext, repo: Repository
                   ) -> tuple[int | None, str]:
    """The PR to gate, or None and a sentence saying why there is none."""
    if settings.pr_number is not None:
        return settings.pr_number, ""
    number = find_pr_number_or_none(ctx, repo)
    if number is not None:
        return number, ""
    if ctx.event_issue_number is not None:
        return None, (f"#{ctx.event_issue_number} of this {ctx.event_name} run is an issue, "
                      "not a pull request")
    if ctx.event_name == "push":
        return None, f"no open pull request has the pushed commit {ctx.sha[:7]} as its head"
    if ctx.event_name == "merge_group":
        return None, f"the merge queue ref {ctx.ref or '?'} names no pull request"
    return None, f"this {ctx.event_name or 'local'} run is not about a pull request"


# ----- the action -------------------------------------------------------------------------


def without_pull(settings: Settings, why: str) -> Report:
    """No PR to look at: the rules are judged against no labels, and whatever they say
    is a notice, never a failure (nobody can label a PR that does not exist)."""
    return Report(settings.rules, (), evaluate(settings.rules, []), "no-pr",
                  settings.on_mismatch, no_pr_reason=why)


def gather(settings: Settings, ctx: RunContext, gh: Github) -> tuple[Report, Repository]:
    if not ctx.repository:
        raise ActionFailed("GITHUB_REPOSITORY is not set: run in a workflow, or set it to "
                           "owner/name")
    repo = gh.get_repo(ctx.repository)  # lazy: no request
    number, no_pr = resolve_number(settings, ctx, repo)
    if number is None:
        return without_pull(settings, no_pr), repo
    pr = get_pull(repo, number)
    if pr is None:
        if settings.pr_number is not None:
            raise BadInputs([InputError("pr-number", f"a pull request of {ctx.repository} "
                                        "(GitHub has none by that number)", str(number))])
        why = f"#{number} of this {ctx.event_name} run is an issue, not a pull request"
        return without_pull(settings, why), repo
    state = read_pull(repo, pr, ctx, settings.fresh_labels)
    verdict = evaluate(settings.rules, state.labels)
    origin = " · ".join(x for x in (ctx.workflow, ctx.job) if x)
    report = Report(settings.rules, state.labels, verdict,
                    outcome_of(verdict, settings.on_mismatch, True), settings.on_mismatch,
                    state.info, settings.fresh_labels, state.push, origin=origin)
    return report, repo


def keep_comment(report: Report, repo: Repository, gh: Github, run: ActionRun,
                 author: str = "") -> None:
    """Upsert the explanation while the gate is closed, delete it once open. A failure
    here is a warning: the gate's decision stands either way."""
    assert report.pull is not None
    wf, number = run.wf, report.pull.number
    try:
        sticky = StickyComment(repo.get_issue(number),
                               hidden_marker("label-gate", default_key(run.ctx)),
                               author or token_login(gh))
        closed = not report.verdict.passed
        done = sticky.upsert(render_comment(report)) if closed else sticky.delete()
        wf.log(f"explanation comment on PR #{number}: {done.action}")
    except ReadOnlyToken:
        wf.warning(
            f"Could not write the explanation comment on PR #{number}: the token is "
            "read-only (GitHub answered 403 'Resource not accessible by integration'). "
            f"The gate's decision is unaffected. {FORK_COMMENT_ADVICE}",
            title="label-gate: comment not written")
    except (GithubException, requests.RequestException) as exc:
        wf.warning(f"Could not update the explanation comment on PR #{number}: "
                   f"{describe_api_error(exc, run.ctx.api_url)}. The gate's decision is "
                   "unaffected.", title="label-gate: comment not written")


def publish(report: Report, run: ActionRun) -> None:
    wf = run.wf
    with wf.group("label-gate"):
        if report.pull is not None:
            wf.log(f"PR #{report.pull.number}: labels now: "
                   f"{name_list(lb.name for lb in report.labels) or 'none'}")
        for rule, patterns in report.rules.given():
            wf.log(f"{rule}: {name_list(patterns)}")
        if report.fresh_labels and report.pull is not None:
            push = report.push
            wf.log(f"latest push: {when(push.at if push else None)}"
                   + (f" ({push.source})" if push else ""))
        wf.log(f"gate {'open' if report.should_run else 'closed'}: {report.reason}")
    wf.set_output("should-run", "true" if report.should_run else "false")
    wf.set_output("labels", [lb.name for lb in report.labels])
    wf.set_output("matched", list(report.verdict.matched))
    wf.set_output("reason", plain(report.reason))
    if report.outcome != "failed":
        wf.summary.add(render_summary(report))


def set_closed_outputs(wf: Workflow, reason: str) -> None:
    """The outputs when there is no decision (GitHub could not be read): the gate is
    closed, and `reason` says why, for a later `if: failure()` step."""
    wf.set_output("should-run", "false")
    wf.set_output("labels", [])
    wf.set_output("matched", [])
    wf.set_output("reason", plain(reason))


def run(settings: Settings, run: ActionRun) -> None:
    ctx, wf = run.ctx, run.wf
    # Lazy: objects are read when used, so a gate costs one request (the PR).
    gh = github_client(settings.github_token, ctx, lazy=True)
    try:
        report, repo = gather(settings, ctx, gh)
    except BadCredentialsException as exc:  # a bad input: exit 2, no outputs, as for others
        raise BadInputs([InputError("github-token", "a token GitHub accepts (it answered "
                                    "401 Bad credentials)")]) from exc
    except (GithubException, requests.RequestException) as exc:
        message = ("could not read the pull request's labels: "
                   + describe_api_error(exc, ctx.api_url))
        set_closed_outputs(wf, message)
        raise ActionFailed(message) from exc
    except ActionFailed as exc:
        set_closed_outputs(wf, str(exc))
        raise
    publish(report, run)
    if settings.comment and report.pull is not None:
        keep_comment(report, repo, gh, run, settings.comment_author)
    if report.outcome == "no-pr":
        wf.notice(plain(report.reason), title="label-gate: no pull request")
        return
    assert report.pull is not None
    line = f"PR #{report.pull.number}: {plain(report.reason)}"
    if report.outcome == "skipped":
        wf.notice(line, title="label-gate: closed, skipping")
    elif report.outcome == "failed":
        # Our own annotation, in plain text; the summary gets the escaped Markdown.
        wf.error(line, title="label-gate: closed")
        raise ActionFailed(failure_message(report), render_details(report), annotated=True)
