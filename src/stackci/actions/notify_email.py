"""notify-email: a failure mail people read (the run, the commit, the jobs with their
failed steps and log links), sent safely: TLS never silently dropped, headers that run
data cannot break, retries that never send twice.

The run is read as failure-issue reads it (`core.github.run_facts`); the mail is
rendered by `notify.render`, built and sent by `core.mail`."""

from __future__ import annotations

from dataclasses import dataclass

from stackci.core.github.run_facts import PLACEHOLDERS, RunFacts, gather, without_api
from stackci.core.github.session import GitHubSession, GitHubSettings
from stackci.core.mail import message as mail
from stackci.core.mail.addresses import Address, parse_addresses
from stackci.core.mail.smtp import (
    DEFAULT_PORTS,
    SECURITY,
    MailRefused,
    SmtpSettings,
    is_loopback,
    send,
)
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.deadline import Deadline
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.jobs import JobResult
from stackci.core.runner.workflow import Workflow
from stackci.core.text import markdown as md
from stackci.core.text.redact import Secrets
from stackci.core.text.template import Template
from stackci.notify import render
from stackci.notify.attach import collect

WHEN = ("failure", "success", "always", "change")
MAX_BODY_BYTES = 512 * 1024
MAX_ATTACH = 25 * 1024**2


@dataclass(frozen=True)
class Settings:
    smtp: SmtpSettings
    github: GitHubSettings | None  # None: no token, the mail is built from `needs` alone
    status: str
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: Template
    body: Template
    needs: tuple[JobResult, ...] | None
    when: str
    attach: tuple[str, ...]
    attach_max_size: int
    timeout: float

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        security = inputs.choice("security", SECURITY, "starttls")
        server = inputs.text("server")
        if any(c in server for c in " /\r\n"):  # (empty: the reader says it is required)
            inputs.fail("server", "the SMTP server's host name, such as smtp.example.org",
                        server or None)
        ca_file = inputs.path("ca-file", ctx.workspace, must_exist=True)
        token = inputs.secret("github-token")
        inputs.text("comment-author")  # accepted for the GitHub session's sake
        return cls(
            smtp=SmtpSettings(server, inputs.integer("port", 0, minimum=1, maximum=65535)
                              or DEFAULT_PORTS[security], security,
                              inputs.text("username"), inputs.secret("password"),
                              str(ca_file) if ca_file else ""),
            github=GitHubSettings(token) if token else None,
            status=inputs.choice("status", ("auto", "failure", "success"), "auto"),
            sender=_one_address(inputs, "from"),
            to=_addresses(inputs, "to", required=True),
            cc=_addresses(inputs, "cc"),
            bcc=_addresses(inputs, "bcc"),
            reply_to=_addresses(inputs, "reply-to"),
            subject=_template(inputs, "subject", inputs.text("subject") or render.SUBJECT,
                              one_line=True),
            body=_template(inputs, "body", inputs.markdown_or_file(
                "body", "body-file", ctx.workspace, MAX_BODY_BYTES) or render.BODY),
            needs=inputs.needs(),
            when=inputs.choice("when", WHEN, "failure"),
            attach=inputs.items("attach"),
            attach_max_size=inputs.size("attach-max-size", 10 * 1024**2, MAX_ATTACH),
            timeout=inputs.duration("timeout", 60.0),
        )


def _addresses(inputs: InputReader, name: str, required: bool = False) -> tuple[Address, ...]:
    text = inputs.text(name)
    try:
        found = parse_addresses(text)
    except ValueError as exc:
        inputs.fail(name, f"an address list, one per line or separated by commas ({exc})")
        return ()
    if required and not found and text.strip():  # (empty: the reader says it is required)
        inputs.fail(name, "at least one address, such as ops@example.org")
    return found


def _one_address(inputs: InputReader, name: str) -> Address:
    found = _addresses(inputs, name, required=True)
    if len(found) > 1:
        inputs.fail(name, "one address", inputs.text(name))
    return found[0] if found else Address("", "invalid@invalid.invalid")


def _template(inputs: InputReader, name: str, text: str, one_line: bool = False) -> Template:
    if one_line and ("\n" in text or "\r" in text):
        inputs.fail(name, "one line (a line break would start a header of its own)")
    try:
        return Template.parse(text, (*PLACEHOLDERS, *render.EXTRA))
    except ValueError as exc:
        inputs.fail(name, f"a template of the documented placeholders ({exc})")
        return Template(("",))


def run(settings: Settings, run: ActionRun) -> None:
    wf, ctx = run.wf, run.ctx
    deadline = Deadline(settings.timeout)
    facts = _facts(settings, run)
    status = _mail_status(settings.when, facts)
    if status is None:
        _outputs(wf, "", sent=False, recipients=0)
        wf.summary.add(f"### notify-email: not sent\n\nThe run's status is {facts.status}; "
                       f"`when: {settings.when}` sends no mail for that.")
        wf.log(f"No mail: the status is {facts.status} (when: {settings.when}).")
        return
    if settings.smtp.security == "none" and not is_loopback(settings.smtp.server):
        wf.warning(f"security is none: the mail (and any password) goes to "
                   f"{settings.smtp.server} in clear text", title="notify-email: no TLS")
    files = collect(settings.attach, ctx.workspace, settings.attach_max_size)
    notes: tuple[str, ...] = ()
    if files.left_out:
        wf.warning(f"{len(files.left_out)} file(s) not attached: over attach-max-size",
                   title="notify-email: attachments")
        notes = ("Not attached (over the size limit): " + ", ".join(files.left_out),)
    text, html = render.bodies(settings.body, facts, status, notes)
    message = mail.Mail(
        sender=settings.sender, to=settings.to, cc=settings.cc, bcc=settings.bcc,
        reply_to=settings.reply_to, subject=render.subject(settings.subject, facts, status),
        text=text, html=html, thread=f"{facts.repository}|{facts.workflow}|{facts.branch}",
        attachments=tuple(files.attached))
    built = mail.build(message)
    try:
        delivery = send(settings.smtp, built, sender=settings.sender.addr,
                        recipients=message.recipients, deadline=deadline,
                        transcript=wf.debug if wf.debug_enabled else None)
    except MailRefused as exc:
        _outputs(wf, "", sent=False, recipients=0)
        raise ActionFailed(f"the mail was not sent: {exc}") from exc
    except (OSError, TimeoutError) as exc:  # smtplib's errors are OSErrors too
        _outputs(wf, "", sent=False, recipients=0)
        raise ActionFailed(f"the mail was not sent to {settings.smtp.server}:"
                           f"{settings.smtp.port}: {type(exc).__name__}: {exc}") from exc
    message_id = str(built["Message-ID"])
    _outputs(wf, message_id, sent=bool(delivery.accepted), recipients=len(delivery.accepted))
    wf.log(f"Sent {message_id} to {len(delivery.accepted)} recipient(s) through "
           f"{settings.smtp.server}:{settings.smtp.port} ({settings.smtp.security}).")
    summary = (f"### notify-email: sent ({render.status_word(status)})\n\n"
               f"To {len(delivery.accepted)} recipient(s), subject "
               f"{md.inline_code(str(built['Subject']))}.")
    if delivery.refused:
        summary += "\n\nRefused: " + ", ".join(
            f"{md.inline_code(a)} ({md.escape(r)})" for a, r in delivery.refused.items())
        wf.summary.add(summary)
        raise ActionFailed(f"{len(delivery.refused)} recipient(s) refused by the server: "
                           + "; ".join(f"{a}: {r}" for a, r in delivery.refused.items()))
    wf.summary.add(summary)


def _facts(settings: Settings, run: ActionRun) -> RunFacts:
    if settings.github is None:
        return without_api(run.ctx, settings.needs, settings.status)
    session = GitHubSession(settings.github, run.ctx, timeout=settings.timeout / 2)
    with session.failures("could not read the run"):
        return gather(session, run.ctx, needs=settings.needs, status=settings.status,
                      history=1, secrets=Secrets([settings.github.token]), max_logs=0)


def _mail_status(when: str, facts: RunFacts) -> str | None:
    """The status the mail tells of ("fixed" for a recovery), or None for no mail."""
    status = facts.status
    if when == "always":
        return status
    if when in ("failure", "success"):
        return status if status == when else None
    if status == "neutral":
        return None
    previous = facts.previous_conclusion
    was_failing = previous not in (None, "success")
    if status == "failure" and not was_failing:
        return "failure"
    if status == "success" and was_failing:
        return "fixed"
    return None


def _outputs(wf: Workflow, message_id: str, *, sent: bool, recipients: int) -> None:
    wf.set_output("message-id", message_id)
    wf.set_output("sent", "true" if sent else "false")
    wf.set_output("recipients", str(recipients))

