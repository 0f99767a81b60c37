"""The issue body and comments of failure-issue, written for the person who must fix
the pipeline. Everything that came from the run (branch and job names, commit messages,
log lines) goes through `core.text.markdown`: no mention pings, no `#123` link, no link,
image or HTML of its own, no way out of a table or a code block, no forged marker.
Bodies stay under GitHub's 65,536 characters: tables and excerpts are cut with a note."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from stackci.core.github.run_facts import RunFacts
from stackci.core.github.sticky import MAX_COMMENT_CHARS
from stackci.core.runner.deadline import seconds_text
from stackci.core.runner.jobs import JobResult
from stackci.core.text import markdown as md

# Room kept for the marker lines above a body.
MARKER_ROOM = 600
MAX_CHARS = MAX_COMMENT_CHARS - MARKER_ROOM
LOG_LINES = 40
MAX_LOGS = 5  # failed jobs whose log excerpt is shown


def _link(text: str, url: str) -> str:
    """A link whose text is escaped; `url` comes from GitHub's API, not from the run."""
    return f"[{text}]({url})" if url.startswith(("https://", "http://")) else text


def run_line(facts: RunFacts) -> str:
    run = _link(f"Run #{facts.run_number}", facts.run_url)
    attempt = f" (attempt {facts.run_attempt})" if facts.run_attempt not in ("", "1") else ""
    return (f"{run}{attempt} · {md.escape(facts.event)} by {md.escape(facts.actor)} · "
            f"branch {md.inline_code(facts.branch)}")


def commit_line(facts: RunFacts) -> str:
    sha7 = md.inline_code(facts.sha[:7])
    url = facts.commit.url if facts.commit and facts.commit.url else \
        f"{facts.server_url}/{facts.repository}/commit/{facts.sha}"
    line = f"Commit {_link(sha7, url)}"
    if facts.commit:
        line += f" {md.escape(facts.commit.title)}"
        if facts.commit.author:
            line += f" (by {md.escape(facts.commit.author)})"
    return line


def failed_table(jobs: Sequence[JobResult], limit: int) -> str:
    rows = [(md.cell(j.job), md.cell(", ".join(j.failed_steps)) or "–",
             _link("log", j.url) if j.url else "–") for j in jobs[:limit]]
    text = md.table(["failed job", "failed steps", "log"], rows)
    return text + _more(len(jobs) - limit, "failed jobs")


def status_table(jobs: Sequence[JobResult], limit: int) -> str:
    rows = []
    for job in jobs[:limit]:
        duration = seconds_text(job.duration) if job.duration is not None else "–"
        rows.append((md.cell(job.job), f"{job.icon} {job.result}", duration,
                     _link("log", job.url) if job.url else "–"))
    return md.table(["job", "result", "duration", "log"], rows) + \
        _more(len(jobs) - limit, "jobs")


def _more(count: int, what: str) -> str:
    return f"\n\n… and {count} more {what}: see the run." if count > 0 else ""


def log_excerpts(facts: RunFacts, jobs: Sequence[JobResult], count: int) -> str:
    parts = []
    for job in jobs[:count]:
        text = facts.logs.get(job.job)
        if not text:
            continue
        # A marker-like line inside the block is neutralized too: markers are only
        # ever read from a first line, but nobody should be able to paste one.
        text = md.clean_text(text).replace("<!--", "<\u200b!--")
        parts.append(md.details(f"Last lines of the log of {md.escape(job.job)}",
                                md.code_block(text)))
    return "\n\n".join(parts)


def broken_since(facts: RunFacts) -> str:
    found = facts.broken_since
    if found is None:
        return ""
    first = _link(f"run #{found.first_failing.number}", found.first_failing.url)
    if found.last_green is None:
        return f"### Broken since\n\nNo green run found before {first}."
    green = _link(f"run #{found.last_green.number}", found.last_green.url)
    lines = [f"### Broken since\n\nLast green: {green} at "
             f"{md.inline_code(found.last_green.head_sha[:7])}; first failing: {first}.\n"]
    comparison = found.comparison
    if comparison is not None:
        lines.append(f"{_link('Compare the changes', comparison.url)} "
                     f"({comparison.total} commit{'' if comparison.total == 1 else 's'}):")
        for commit in comparison.commits:
            author = f" ({md.escape(commit.author)})" if commit.author else ""
            lines.append(f"- {_link(md.inline_code(commit.sha[:7]), commit.url)} "
                         f"{md.escape(commit.title)}{author}")
        if comparison.total > len(comparison.commits):
            lines.append(f"- … {comparison.total - len(comparison.commits)} older commits")
    return "\n".join(lines)


def issue_body(facts: RunFacts, *, failed: Sequence[JobResult], extra: str,
               threshold_note: str) -> str:
    """The body of a new issue (under the marker lines)."""
    def build(job_limit: int, logs: int) -> str:
        sections = [
            f"## ❌ {md.escape(facts.workflow)} is failing on {md.inline_code(facts.branch)}",
            run_line(facts) + "  \n" + commit_line(facts),
            "### Failed jobs\n\n" + failed_table(failed, job_limit),
            log_excerpts(facts, failed, logs),
            broken_since(facts),
            "### All jobs\n\n" + status_table(facts.jobs, job_limit),
            extra,
            threshold_note,
            "<sub>Opened by StackCI failure-issue. Later failures are added as comments; "
            "it closes itself when the pipeline passes again.</sub>",
        ]
        return "\n\n".join(s for s in sections if s)

    return _fit(build)


def failure_comment(facts: RunFacts, *, failed: Sequence[JobResult]) -> str:
    """What a later failing run adds to the open issue."""
    def build(job_limit: int, logs: int) -> str:
        sections = [
            f"### ❌ Failing again in {_link(f'run #{facts.run_number}', facts.run_url)}",
            run_line(facts) + "  \n" + commit_line(facts),
            failed_table(failed, job_limit),
            log_excerpts(facts, failed, logs),
            md.details("All jobs", status_table(facts.jobs, job_limit)),
        ]
        return "\n\n".join(s for s in sections if s)

    return _fit(build)


def recovery_comment(facts: RunFacts, successes_needed: int) -> str:
    run = _link(f"run #{facts.run_number}", facts.run_url)
    sha7 = md.inline_code(facts.sha[:7])
    url = facts.commit.url if facts.commit and facts.commit.url else \
        f"{facts.server_url}/{facts.repository}/commit/{facts.sha}"
    text = f"✅ Recovered in {run} at {_link(sha7, url)}."
    if successes_needed > 1:
        text += f" The pipeline passed {successes_needed} runs in a row."
    return text + " Closing."


def reopen_note(facts: RunFacts) -> str:
    return (f"Reopened: failing again in {_link(f'run #{facts.run_number}', facts.run_url)}, "
            "within the reopen window of the automatic close.")


def duplicate_comment(number: int) -> str:
    return f"Duplicate of #{number}: two runs failed at the same moment. Closing this one."


def _fit(build: Callable[[int, int], str]) -> str:
    """The longest rendering under the limit: fewer log excerpts first, then fewer
    table rows."""
    for logs in (MAX_LOGS, 2, 0):
        text = (build(10_000, logs))
        if len(text) <= MAX_CHARS:
            return text
    limit = 500
    while limit > 5:
        text = (build(limit, 0))
        if len(text) <= MAX_CHARS:
            return text
        limit //= 2
    return (build(5, 0))[:MAX_CHARS]
