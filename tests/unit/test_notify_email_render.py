"""notify-email's bodies, compared with golden files under tests/golden/notify-email/
(after an intended change: scripts/regen-golden.sh, then review the diff), and the built
message's structure and headers."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

from stackci.core.github.run_facts import PLACEHOLDERS, RunFacts
from stackci.core.github.runs import CommitInfo
from stackci.core.mail import message as mail
from stackci.core.mail.addresses import parse_addresses
from stackci.core.runner.jobs import JobResult
from stackci.core.text.template import Template
from stackci.notify import render

RUN_URL = "https://github.com/octo/app/actions/runs/9001"
T = 1_714_550_400.0


def facts(**extra: object) -> RunFacts:
    jobs = (JobResult("build", "success", url=f"{RUN_URL}/job/1", started_at=T,
                      completed_at=T + 30),
            JobResult("test (3.12)", "failure", url=f"{RUN_URL}/job/2", started_at=T,
                      completed_at=T + 95, failed_steps=("Run pytest",)))
    base = RunFacts("octo/app", "CI", "main", "9001", "42", "1", RUN_URL, "push", "dev-a",
                    "c" * 40, "https://github.com", "failure", jobs,
                    commit=CommitInfo("c" * 40, "Speed up the cache", "dev-a", ""))
    return RunFacts(**{**base.__dict__, **extra})  # type: ignore[arg-type]


BODY = Template.parse(render.BODY, (*PLACEHOLDERS, *render.EXTRA))


def test_the_default_bodies(golden) -> None:
    text, html = render.bodies(BODY, facts(), "failure")
    golden("notify-email/body.txt", text)
    golden("notify-email/body.html", html)


def test_run_data_cannot_add_html_or_links() -> None:
    hostile = "<img src=https://t.example/p.gif> [x](https://evil.example) @team"
    made = facts(branch=hostile, commit=CommitInfo("c" * 40, hostile, "x", ""))
    template = Template.parse("{branch}\n\n{commit_title}\n\n<b>raw</b>",
                              (*PLACEHOLDERS, *render.EXTRA))
    _, html = render.bodies(template, made, "failure")
    assert "<img" not in html
    assert "<b>" not in html
    assert 'href="https://evil.example"' not in html


def test_the_message_structure_and_headers() -> None:
    sender = parse_addresses("Zoë CI <ci@example.org>")[0]
    built = mail.build(mail.Mail(
        sender=sender, to=parse_addresses('"Doe, John" <j@example.org>'), cc=(),
        bcc=parse_addresses("audit@example.org"), reply_to=(),
        subject="broken\r\nBcc: evil@example.org " + "ü" * 100,
        text="hi\n", html="<p>hi</p>\n", thread="octo/app|CI|main"))
    raw = built.as_bytes()
    headers = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert not [h for h in headers if h.lower().startswith(b"bcc")]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"].startswith("broken Bcc: evil@example.org ü")
    assert parsed["To"] == '"Doe, John" <j@example.org>'
    assert parsed["In-Reply-To"] == mail.thread_id("octo/app|CI|main", "example.org")
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_attachments_make_it_mixed(tmp_path: Path) -> None:
    log = tmp_path / "api.log"
    log.write_text("started\n")
    built = mail.build(mail.Mail(
        sender=parse_addresses("ci@example.org")[0], to=parse_addresses("o@example.org"),
        cc=(), bcc=(), reply_to=(), subject="s", text="t", html="<p>t</p>", thread="x",
        attachments=(mail.Attachment(log, "logs/api.log"),)))
    assert built.get_content_type() == "multipart/mixed"
    assert [a.get_filename() for a in built.iter_attachments()] == ["logs/api.log"]
