"""The failure mail's words: the subject and a Markdown body from logic-less templates,
turned into a plain-text part and an HTML part. The HTML comes from markdown-it-py (a
maintained CommonMark renderer: ours would not be) with raw HTML off, so neither a
template nor run data can add a tag, a script or a tracking image; the jobs table is a
real table."""

from __future__ import annotations

import logging
from html import escape as html_escape

from markdown_it import MarkdownIt

from stackci.core.github.run_facts import RunFacts
from stackci.core.runner.deadline import seconds_text
from stackci.core.text import markdown as md
from stackci.core.text.template import Template

SUBJECT = "[{repository}] {workflow} {status} on {branch} ({sha7})"
BODY = """## {workflow}: {status}

- Repository: {repository}
- Run: [#{run_number} (attempt {run_attempt})]({run_url})
- Branch: {branch}
- Commit: {sha7} {commit_title} ({commit_author})
- Trigger: {event} by {actor}

{jobs_table}
"""
EXTRA = ("status", "jobs_table")
STATUS_WORDS = {"failure": "failed", "success": "passed", "neutral": "was cancelled",
                "fixed": "is fixed"}

# Its debug log is a line per parsing rule: not what a job log with RUNNER_DEBUG is for.
logging.getLogger("markdown_it").setLevel(logging.INFO)
_RENDERER = MarkdownIt("commonmark", {"html": False, "linkify": False,
                                      "typographer": False}).enable("table")
_STYLE = ("body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;"
          "font-size:14px;line-height:1.5;color:#1f2328}"
          "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:4px 10px}"
          "th{background:#f6f8fa;text-align:left}")


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def jobs_markdown(facts: RunFacts) -> str:
    if not facts.jobs:
        return ""
    rows = []
    for job in facts.jobs:
        log = f"[log]({job.url})" if job.url.startswith("https://") or \
            job.url.startswith("http://") else "–"
        steps = md.cell(", ".join(job.failed_steps)) or "–"
        duration = seconds_text(job.duration) if job.duration is not None else "–"
        rows.append((md.cell(job.job), f"{job.icon} {job.result}", steps, duration, log))
    return md.table(["job", "result", "failed steps", "duration", "log"], rows)


def jobs_text(facts: RunFacts) -> str:
    if not facts.jobs:
        return ""
    width = max(len(j.job) for j in facts.jobs)
    lines = []
    for job in facts.jobs:
        line = f"  {job.job.ljust(width)}  {job.result}"
        if job.failed_steps:
            line += f" (failed: {', '.join(job.failed_steps)})"
        if job.url:
            line += f"  {job.url}"
        lines.append(line)
    return "Jobs:\n" + "\n".join(lines)


def subject(template: Template, facts: RunFacts, status: str) -> str:
    values = {**facts.values(), "status": status_word(status), "jobs_table": ""}
    return template.render(values)


def bodies(template: Template, facts: RunFacts, status: str,
           notes: tuple[str, ...] = ()) -> tuple[str, str]:
    """The plain-text and the HTML body."""
    text = template.render({**facts.values(), "status": status_word(status),
                            "jobs_table": jobs_text(facts)})
    source = template.render({**facts.markdown_values(), "status": status_word(status),
                              "jobs_table": jobs_markdown(facts)})
    if notes:
        text += "\n\n" + "\n".join(notes)
        source += "\n\n" + "\n\n".join(md.escape(n) for n in notes)
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
            f"{html_escape(facts.workflow)}</title><style>{_STYLE}</style></head><body>"
            f"{_RENDERER.render(source)}</body></html>\n")
    return text.rstrip() + "\n", html
