"""Building a mail: a plain-text and an HTML part (`multipart/alternative`), attachments
(`multipart/mixed`), and headers that run data cannot break. Header values are cleaned
here, before the `email` package sees them: a CR, LF or other control character from
run data becomes a space (inputs with one are refused earlier, as bad input), so no
commit message can add a header line; names and subjects in any script are encoded
(RFC 2047) and folded by the package. Bcc recipients never appear in a header."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from stackci.core.mail.addresses import Address

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
MAX_SUBJECT = 250


def header_text(value: str) -> str:
    """Run data made safe for one header: control characters and line breaks become a
    space."""
    return _CONTROL.sub(" ", value).strip()


@dataclass(frozen=True)
class Attachment:
    path: Path
    name: str  # as the reader sees it (relative to the workspace)


@dataclass(frozen=True)
class Mail:
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    text: str
    html: str
    thread: str  # what every mail of one thread shares (workflow and branch)
    attachments: tuple[Attachment, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope's recipients, each once."""
        return tuple(dict.fromkeys(a.addr for a in (*self.to, *self.cc, *self.bcc)))


def thread_id(thread: str, domain: str) -> str:
    digest = hashlib.sha256(thread.encode()).hexdigest()[:24]
    return f"<stackci-{digest}@{domain}>"


def build(mail: Mail) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    domain = mail.sender.domain
    message["From"] = _header_addresses([mail.sender])
    message["To"] = _header_addresses(mail.to)
    if mail.cc:
        message["Cc"] = _header_addresses(mail.cc)
    if mail.reply_to:
        message["Reply-To"] = _header_addresses(mail.reply_to)
    message["Subject"] = header_text(mail.subject)[:MAX_SUBJECT]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid("stackci", domain=domain)
    thread = thread_id(mail.thread, domain)
    message["In-Reply-To"] = thread
    message["References"] = thread
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    for attachment in mail.attachments:
        kind, _ = mimetypes.guess_type(attachment.name)
        maintype, _, subtype = (kind or "application/octet-stream").partition("/")
        message.add_attachment(attachment.path.read_bytes(), maintype=maintype,
                               subtype=subtype, filename=header_text(attachment.name))
    return message


def _header_addresses(addresses: Sequence[Address]) -> tuple[HeaderAddress, ...]:
    return tuple(HeaderAddress(display_name=header_text(a.name),
                               addr_spec=a.addr) for a in addresses)
