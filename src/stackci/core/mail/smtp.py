"""Sending a mail over SMTP, safely: TLS is never dropped silently (`starttls` fails when
the server does not offer it; certificates are always verified, with an optional private
CA), AUTH only over what the caller chose, transient failures (4xx replies, dropped
connections, timeouts) retried by the policy in `core.mail.retry` without sending again
to recipients already accepted, a permanent refusal (5xx) reported once with the
server's words and a hint. The transcript, on request, never shows AUTH."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from tenacity import stop_after_attempt, stop_after_delay

from stackci.core.mail.retry import SMTP, call_with
from stackci.core.runner.deadline import Deadline

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int
    security: str  # one of SECURITY
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""


class MailRefused(Exception):  # noqa: N818 - reads as what it is
    """The server refused the mail for good (or TLS could not be had); the message says
    why, quoting the server."""


@dataclass
class Delivery:
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # for good: address -> reply
    attempts: int = 0
    last_error: BaseException | None = None


class _Transcript(smtplib.SMTP):
    """smtplib's debug output, to a callback, with AUTH exchanges left out."""

    say: Callable[[str], None] = staticmethod(lambda _: None)
    _in_auth = False

    def _print_debug(self, *args: Any) -> None:
        line = " ".join(str(a) for a in args)
        if "auth " in line.lower() and line.startswith("send:"):
            self._in_auth = True  # from the command on, until the server's last word
            self.say("[AUTH exchange not shown]")
            return
        if self._in_auth:
            if line.startswith("reply:") and "334" not in line:
                self._in_auth = False  # 235 (accepted) or 5xx: the exchange is over
            return
        self.say(line)


class _TranscriptSSL(smtplib.SMTP_SSL, _Transcript):
    pass


def tls_context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def send(settings: SmtpSettings, message: EmailMessage, *, sender: str,
         recipients: tuple[str, ...], deadline: Deadline,
         transcript: Callable[[str], None] | None = None) -> Delivery:
    """Deliver `message` to each recipient once. Raises MailRefused for a permanent
    failure, or the last transient error when retries and time run out."""
    delivery = Delivery()
    pending = list(recipients)

    def attempt() -> None:
        delivery.attempts += 1
        left = deadline.remaining()
        if left <= 0 and delivery.last_error is not None:
            raise delivery.last_error  # the time is up: say what the last try ran into
        try:
            _attempt(max(left, 1.0))
        except (smtplib.SMTPException, OSError) as exc:
            delivery.last_error = exc
            raise

    def _attempt(left: float) -> None:
        with _connect(settings, min(left, 30.0), transcript) as smtp:
            try:
                refused = smtp.send_message(message, from_addr=sender, to_addrs=list(pending))
            except smtplib.SMTPRecipientsRefused as exc:  # every one of them, this time
                refused = exc.recipients
            _settle(delivery, pending, refused)
        if pending:  # refused for now (4xx) by the server: only those are tried again
            code, reply = "4xx", ", ".join(pending)
            raise smtplib.SMTPResponseException(450, f"{code} for {reply}".encode())

    policy = {**SMTP, "stop": stop_after_attempt(4) | stop_after_delay(
        max(deadline.remaining(), 1))}
    try:
        call_with(policy, attempt)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise MailRefused(explain(settings, exc)) from exc
        raise
    return delivery


def _settle(delivery: Delivery, pending: list[str],
            refused: dict[str, tuple[int, bytes]]) -> None:
    """Move what the server took from `pending` to accepted; permanent refusals to
    refused; leave the transient ones pending."""
    for address in list(pending):
        answer = refused.get(address)
        if answer is None:
            delivery.accepted.append(address)
            pending.remove(address)
        elif answer[0] >= 500:
            delivery.refused[address] = f"{answer[0]} {_text(answer[1])}"
            pending.remove(address)


def _connect(settings: SmtpSettings, timeout: float,
             transcript: Callable[[str], None] | None) -> smtplib.SMTP:
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = _TranscriptSSL(settings.server, settings.port, timeout=timeout,
                              context=tls_context(settings.ca_file))
    else:
        smtp = _Transcript(settings.server, settings.port, timeout=timeout)
    if transcript is not None:
        smtp.say = transcript
        smtp.set_debuglevel(1)
    try:
        _secure_and_log_in(smtp, settings)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _secure_and_log_in(smtp: smtplib.SMTP, settings: SmtpSettings) -> None:
    smtp.ehlo()
    if settings.security == "starttls":
        if not smtp.has_extn("starttls"):
            raise MailRefused(f"{settings.server}:{settings.port} does not offer STARTTLS; "
                              "nothing was sent (in clear text or otherwise). Use "
                              "`security: ssl` for a server that speaks TLS from the start "
                              "(port 465)")
        smtp.starttls(context=tls_context(settings.ca_file))
        smtp.ehlo()
    if settings.username and settings.password:
        smtp.login(settings.username, settings.password)


def explain(settings: SmtpSettings, exc: smtplib.SMTPResponseException) -> str:
    reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    text = f"{settings.server} refused the mail: {reply}"
    lowered = reply.lower()
    if isinstance(exc, smtplib.SMTPAuthenticationError) or exc.smtp_code == 535:
        if "gmail" in settings.server or "google" in lowered:
            text += (". Gmail needs an app password (Google account > Security > App "
                     "passwords), not the account's own password")
        elif "office365" in settings.server or "outlook" in settings.server:
            text += (". Office 365 needs SMTP AUTH enabled for the mailbox (Microsoft 365 "
                     "admin center > Users > Mail > Authenticated SMTP)")
        else:
            text += ". Check `username` and `password`"
    return text


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:300]


def is_loopback(server: str) -> bool:
    try:
        infos = socket.getaddrinfo(server, None)
    except OSError:
        return False
    return all(str(info[4][0]).startswith(("127.", "::1")) for info in infos)
