"""notify-email's inputs: every bad one is exit 2 with one error naming it, before any
connection is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackci.core.mail.addresses import Address, parse_addresses
from stackci_testing.runner import assert_one_bad_input, run_action

PASSWORD = "pw-never-shown-9"
GOOD = {"server": "127.0.0.1", "port": "9", "from": "ci@example.org", "to": "ops@example.org",
        "needs": '{"build": {"result": "failure"}}', "github-token": "",
        "password": PASSWORD, "username": "ci"}

BAD_INPUTS = [
    ("server", {"server": ""}),
    ("server", {"server": "smtp.example.org/x"}),
    ("port", {"port": "70000"}),
    ("port", {"port": "smtp"}),
    ("security", {"security": "tls"}),
    ("ca-file", {"ca-file": "missing.pem"}),
    ("from", {"from": ""}),
    ("from", {"from": "a@example.org, b@example.org"}),
    ("to", {"to": ""}),
    ("to", {"to": "ops@example.org\r\nBcc: x@example.org"}),
    ("to", {"to": "not an address"}),
    ("to", {"to": "Ops, Team <ops@example.org>"}),
    ("cc", {"cc": '"unclosed <a@example.org>'}),
    ("bcc", {"bcc": "a@example.org>"}),
    ("reply-to", {"reply-to": "x@localhost"}),
    ("subject", {"subject": "two\nlines"}),
    ("subject", {"subject": "{secrets.MAIL_PASSWORD}"}),
    ("body", {"body": "see {env.HOME}"}),
    ("body-file", {"body": "x", "body-file": "body.md"}),
    ("needs", {"needs": "{nope"}),
    ("status", {"status": "red"}),
    ("when", {"when": "sometimes"}),
    ("attach-max-size", {"attach-max-size": "lots"}),
    ("attach-max-size", {"attach-max-size": "1GB"}),
    ("timeout", {"timeout": "0s"}),
]


@pytest.mark.parametrize(("name", "override"), BAD_INPUTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_INPUTS)])
def test_bad_input(name: str, override: dict[str, str], wf_env: dict[str, str]) -> None:
    (Path(wf_env["GITHUB_WORKSPACE"]) / "body.md").write_text("hi\n")
    result = run_action("notify-email", {**GOOD, **override}, wf_env)
    assert_one_bad_input(result, name, PASSWORD)


@pytest.mark.parametrize(("text", "parsed"), [
    ("ops@example.org", [Address("", "ops@example.org")]),
    ('"Doe, John" <j@x.org>, ops@example.org',
     [Address("Doe, John", "j@x.org"), Address("", "ops@example.org")]),
    ("Jane Roe <jane@Example.ORG>\nops@example.org",
     [Address("Jane Roe", "jane@example.org"), Address("", "ops@example.org")]),
    ('"Zoë \\"Z\\" Ø" <z@x.org>', [Address('Zoë "Z" Ø', "z@x.org")]),
    ("", []),
])
def test_address_lists(text: str, parsed: list[Address]) -> None:
    assert list(parse_addresses(text)) == parsed


@pytest.mark.parametrize("text", [
    "a@b.org\r", '"a\rb" <a@b.org>', "evil@x.org <a@b.org>", "<a@b.org>, <c@d.org",
    "a@b.org> <c@d.org", "a@@b.org", "a@b", "a@-b.org", "a b@c.org", "a@b.org\x00",
    '"a" "b" <a@b.org>',
])
def test_addresses_that_could_smuggle_something_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_addresses(text)
