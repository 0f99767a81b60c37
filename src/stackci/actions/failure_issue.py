"""failure-issue: one issue per broken pipeline (workflow and branch, or failed job),
opened with what broke and since when, commented on by later failures, closed when the
pipeline passes again, reopened when it breaks again soon after.

The run is read through the GitHub session (`incident.facts`), the issue found and
written by `incident.tracker`, its text rendered by `incident.render`."""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from stackci.core.github.errors import ReadOnlyToken
from stackci.core.github.run_facts import HISTORY, RunFacts, gather
from stackci.core.github.session import ISSUES, GitHubSession, GitHubSettings
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.jobs import JobResult
from stackci.core.runner.workflow import Workflow
from stackci.core.text import markdown as md
from stackci.core.text.redact import Secrets
from stackci.core.text.template import Template
from stackci.incident import render
from stackci.incident.model import PLACEHOLDERS, IssueKey
from stackci.incident.tracker import IssueTracker

TITLE = "CI failing: {workflow} on {branch}"
TITLE_BY_JOB = "CI failing: {workflow} / {failed_job} on {branch}"
MAX_EXTRA_BYTES = 256 * 1024
MAX_WINDOW = 366 * 24 * 3600.0
MAX_THRESHOLD = 50


@dataclass(frozen=True)
class Settings:
    github: GitHubSettings
    status: str
    needs: tuple[JobResult, ...] | None
    title: Template
    body_extra: Template | None
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    group_by: str
    close_on_success: bool
    reopen_window: float
    failures_before_open: int
    successes_before_close: int
    branches: tuple[str, ...]
    dry_run: bool
    timeout: float

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        group_by = inputs.choice("group-by", ("workflow", "job"), "workflow")
        extra = inputs.markdown_or_file("body-extra", "body-extra-file", ctx.workspace,
                                        MAX_EXTRA_BYTES)
        return cls(
            github=GitHubSettings.from_inputs(inputs, purpose="may write issues"),
            status=inputs.choice("status", ("auto", "failure", "success"), "auto"),
            needs=inputs.needs(),
            title=_template(inputs, "title", inputs.text("title") or (
                TITLE_BY_JOB if group_by == "job" else TITLE)),
            body_extra=_template(inputs, "body-extra", extra) if extra else None,
            labels=tuple(md.one_line(label) for label in inputs.items("labels")) or ("bug",),
            assignees=inputs.items("assignees"),
            group_by=group_by,
            close_on_success=inputs.boolean("close-on-success", True),
            reopen_window=inputs.duration("reopen-window", 24 * 3600.0, allow_zero=True,
                                          maximum=MAX_WINDOW),
            failures_before_open=inputs.integer("failures-before-open", 1, minimum=1,
                                                maximum=MAX_THRESHOLD),
            successes_before_close=inputs.integer("successes-before-close", 1, minimum=1,
                                                  maximum=MAX_THRESHOLD),
            branches=inputs.items("branches"),
            dry_run=inputs.boolean("dry-run", False),
            timeout=inputs.duration("timeout", 120.0),
        )


def _template(inputs: InputReader, name: str, text: str) -> Template:
    try:
        return Template.parse(text, PLACEHOLDERS)
    except ValueError as exc:
        inputs.fail(name, f"a template of the documented placeholders ({exc})")
        return Template(("",))


@dataclass
class Done:
    """What the run did, for the outputs and the summary."""

    action: str = "none"
    issue_number: int | None = None
    issue_url: str = ""
    lines: list[str] = field(default_factory=list)

    def did(self, action: str, number: int | None, url: str, line: str) -> None:
        if self.action == "none":
            self.action, self.issue_number, self.issue_url = action, number, url
        self.lines.append(line)


def run(settings: Settings, run: ActionRun) -> None:
    wf, ctx = run.wf, run.ctx
    done = Done()
    session = GitHubSession(settings.github, ctx, writes=ISSUES, timeout=settings.timeout)
    skip = _skip_reason(ctx)
    if skip:
        _report(wf, done, "neutral", skip)
        return
    with session.failures("could not read the run"):
        facts = gather(session, ctx, needs=settings.needs, status=settings.status,
                       log_lines=render.LOG_LINES, max_logs=render.MAX_LOGS,
                       history=max(HISTORY, settings.failures_before_open,
                                   settings.successes_before_close),
                       secrets=Secrets([settings.github.token]))
        counted = settings.branches or (session.repo.default_branch,)
    if facts.status == "neutral":
        _report(wf, done, "neutral", "the run was cancelled or every job was skipped: the "
                "issue is left as it is")
        return
    if not any(fnmatchcase(facts.branch, glob) for glob in counted):
        _report(wf, done, facts.status, f"branch {md.inline_code(facts.branch)} is not one "
                "of " + ", ".join(md.inline_code(b) for b in counted))
        return
    tracker = IssueTracker(session, settings.labels)

    def say_what_was_done(_: str) -> None:
        wf.summary.add("### failure-issue: stopped part way\n\n" + (
            "\n\n".join(done.lines) or "Nothing was written to GitHub."))

    with session.failures("could not write the issue", then=say_what_was_done):
        try:
            if facts.status == "failure":
                _on_failure(settings, facts, tracker, done)
            elif settings.close_on_success:
                _on_success(settings, facts, tracker, done)
        except ReadOnlyToken:
            wf.warning(session.read_only_warning(
                "Could not write the failure issue",
                "It was written to this job's summary instead."),
                title="failure-issue: read-only token")
            done = Done(lines=["The token may not write issues; this is what would have "
                               "been written:"])
            _preview(settings, facts, done)
    _report(wf, done, facts.status)


def _skip_reason(ctx: RunContext) -> str:
    head = ((ctx.event.get("pull_request") or {}).get("head") or {}).get("repo") or {}
    name = head.get("full_name")
    if name and name != ctx.repository:
        return "a pull request from a fork never opens an issue"
    return ""


def _keys(settings: Settings, facts: RunFacts) -> list[tuple[IssueKey, tuple[JobResult, ...]]]:
    base = IssueKey(facts.repository, facts.workflow, facts.branch)
    if settings.group_by == "workflow":
        return [(base, facts.failed)]
    names = dict.fromkeys(j.base_name for j in facts.failed)
    return [(IssueKey(base.repository, base.workflow, base.branch, name),
             tuple(j for j in facts.failed if j.base_name == name)) for name in names]


def _title(settings: Settings, facts: RunFacts, key: IssueKey) -> str:
    # A title is plain text on GitHub (no mention, no link): one line is all it needs.
    return md.one_line(settings.title.render(facts.values(failed_job=key.job)))[:256]


def _extra(settings: Settings, facts: RunFacts, key: IssueKey) -> str:
    if settings.body_extra is None:
        return ""
    return settings.body_extra.render(facts.markdown_values(failed_job=key.job))


def _threshold_note(settings: Settings) -> str:
    if settings.failures_before_open == 1 and settings.successes_before_close == 1:
        return ""
    return (f"_Opened after {settings.failures_before_open} failing runs in a row; closes "
            f"after {settings.successes_before_close} passing runs in a row._")


def _on_failure(settings: Settings, facts: RunFacts, tracker: IssueTracker, done: Done) -> None:
    if settings.dry_run:
        _preview(settings, facts, done)
        return
    tracker.ensure_labels()
    for key, failed in _keys(settings, facts):
        comment = render.failure_comment(facts, failed=failed)
        found = tracker.open_issues(key)
        if found:
            issue = found[0]
            if tracker.opened_by(issue, facts.run_id):  # a re-run of the run that opened it
                tracker.update_body(issue, key, facts.run_id, _body(settings, facts, key, failed))
                done.did("updated", issue.number, issue.html_url,
                         f"Updated #{issue.number} with this attempt.")
            else:
                outcome = tracker.comment_for_run(issue, facts.run_id, comment)
                action = "commented" if outcome.action == "created" else "updated"
                done.did(action, issue.number, outcome.url or issue.html_url,
                         f"{'Commented on' if action == 'commented' else 'Updated the comment on'}"
                         f" #{issue.number}.")
            continue
        if facts.failures_in_a_row < settings.failures_before_open:
            done.lines.append(f"{facts.failures_in_a_row} of {settings.failures_before_open} "
                              "failing runs in a row: no issue yet.")
            continue
        closed = tracker.recently_closed(key, settings.reopen_window)
        if closed is not None:
            tracker.reopen(closed)
            tracker.comment_for_run(closed, facts.run_id,
                                    render.reopen_note(facts) + "\n\n" + comment)
            done.did("reopened", closed.number, closed.html_url, f"Reopened #{closed.number}.")
            continue
        issue, duplicate = tracker.create(key, facts.run_id, _title(settings, facts, key),
                                          _body(settings, facts, key, failed), settings.assignees)
        if duplicate is not None:
            tracker.comment_for_run(issue, facts.run_id, comment)
            done.did("commented", issue.number, issue.html_url,
                     f"Another run opened #{issue.number} at the same moment: commented there "
                     f"and closed #{duplicate.number} as its duplicate.")
        else:
            done.did("created", issue.number, issue.html_url, f"Opened #{issue.number}.")
    if settings.group_by == "job" and settings.close_on_success and \
            settings.successes_before_close == 1:
        _close(settings, facts, tracker, done)  # a job that passes again closes its issue


def _body(settings: Settings, facts: RunFacts, key: IssueKey,
          failed: tuple[JobResult, ...]) -> str:
    return render.issue_body(facts, failed=failed, extra=_extra(settings, facts, key),
                             threshold_note=_threshold_note(settings))


def _on_success(settings: Settings, facts: RunFacts, tracker: IssueTracker, done: Done) -> None:
    _close(settings, facts, tracker, done)


def _close(settings: Settings, facts: RunFacts, tracker: IssueTracker, done: Done) -> None:
    """Close the open issues of what passed: the workflow's, or (by job) those of the
    jobs that passed in this run."""
    base = IssueKey(facts.repository, facts.workflow, facts.branch)
    passed = {j.base_name for j in facts.jobs if j.result == "success"}
    if settings.group_by == "job":
        issues = [i for i in tracker.open_issues_under(base)
                  if base.job_of((i.body or "").partition("\n")[0].rstrip("\r")) in passed]
    else:
        issues = tracker.open_issues(base)
    if not issues:
        if facts.status == "success":
            done.lines.append("No open issue for this pipeline: nothing to close.")
        return
    if facts.status == "success" and \
            facts.successes_in_a_row < settings.successes_before_close:
        done.lines.append(f"{facts.successes_in_a_row} of {settings.successes_before_close} "
                          f"passing runs in a row: #{issues[0].number} stays open.")
        return
    for issue in issues:
        if settings.dry_run:
            done.lines.append(f"Would close #{issue.number}.")
            continue
        tracker.close(issue, render.recovery_comment(facts, settings.successes_before_close))
        done.did("closed", issue.number, issue.html_url, f"Closed #{issue.number}.")


def _preview(settings: Settings, facts: RunFacts, done: Done) -> None:
    """The would-be issues, in the job summary (dry-run, or a read-only token)."""
    for key, failed in _keys(settings, facts):
        done.lines.append(f"**Would open**: {md.escape(_title(settings, facts, key))}\n\n"
                          + md.details("The issue", _body(settings, facts, key, failed)))


def _report(wf: Workflow, done: Done, status: str, why: str = "") -> None:
    wf.set_output("issue-number", str(done.issue_number or ""))
    wf.set_output("issue-url", done.issue_url)
    wf.set_output("action", done.action)
    wf.set_output("status", status)
    if why:
        done.lines.append(f"Nothing to do: {why}.")
    for line in done.lines:
        wf.log(line.partition("\n")[0])
    link = f" [#{done.issue_number}]({done.issue_url})" if done.issue_url else ""
    wf.summary.add(f"### failure-issue: {done.action}{link} ({status})\n\n"
                   + "\n\n".join(done.lines))
