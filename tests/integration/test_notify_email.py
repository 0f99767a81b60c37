"""notify-email against a real SMTP server (aiosmtpd on loopback) with a certificate from
a CA made for the test (trusted through `ca-file`): plain, STARTTLS, implicit TLS, AUTH,
a server without STARTTLS, transient and permanent refusals, header injection attempts,
attachments, and `when`. The test reads the message the server received."""

from __future__ import annotations

import base64
import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import REPO, WRITER_TOKEN
from stackci_testing.runner import Result, run_action, workflow_env
from stackci_testing.smtp import PASSWORD, USER, Certificates, SmtpServer

FAILING = json.dumps({"build": {"result": "success"}, "test": {"result": "failure"}})
PASSING = json.dumps({"build": {"result": "success"}, "test": {"result": "success"}})


def env(tmp: Path, **extra: str) -> dict[str, str]:
    return workflow_env(tmp, {"GITHUB_SERVER_URL": "https://github.com",
                              "GITHUB_REPOSITORY": REPO, "GITHUB_WORKFLOW": "CI",
                              "GITHUB_RUN_ID": "9001", "GITHUB_RUN_NUMBER": "42",
                              "GITHUB_REF_NAME": "main", "GITHUB_SHA": "c" * 40,
                              "GITHUB_EVENT_NAME": "push", "GITHUB_ACTOR": "dev-a",
                              "GITHUB_API_URL": "http://127.0.0.1:9", **extra})


def send(server: SmtpServer, tmp: Path, certs: Certificates | None = None,
         environment: dict[str, str] | None = None, **inputs: str) -> Result:
    values = {"server": "127.0.0.1", "port": str(server.port),
              "security": {"plain": "none"}.get(server.mode, server.mode),
              "from": "CI <ci@example.org>", "to": "ops@example.org",
              "needs": FAILING, "github-token": "", "timeout": "20s"}
    if certs is not None:
        values["ca-file"] = str(certs.ca)
    values.update({k.rstrip("_").replace("_", "-"): v for k, v in inputs.items()})
    return run_action("notify-email", values, environment or env(tmp))


def unmasked(result: Result) -> str:
    """What the job log shows but the one line that registers a secret for masking."""
    return "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                     if not line.startswith("::add-mask::"))


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_with_auth_delivers_one_well_formed_mail(smtp_certificates: Certificates,
                                                     tmp_path: Path, mode: str) -> None:
    with SmtpServer(smtp_certificates, mode) as server:
        result = send(server, tmp_path, smtp_certificates, username=USER, password=PASSWORD,
                      cc="Dev <dev@example.org>", bcc="audit@example.org",
                      reply_to="team@example.org")
    assert result.code == 0, result
    assert result.outputs["sent"] == "true"
    assert result.outputs["recipients"] == "3"
    [got] = server.received
    assert got.auth == USER
    assert sorted(got.recipients) == ["audit@example.org", "dev@example.org", "ops@example.org"]
    message = got.message
    assert message["Subject"] == f"[{REPO}] CI failed on main (ccccccc)"
    assert message["Message-ID"] == result.outputs["message-id"]
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] == message["References"]
    assert "Bcc" not in message
    assert "audit@example.org" not in got.data.decode()
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    assert re.search(r"^  test +failure\r?$", text, re.M), text
    assert "<table>" in html
    assert "<td>test</td>" in html
    assert PASSWORD not in unmasked(result) + json.dumps(result.outputs)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_plain_and_login(smtp_certificates: Certificates, tmp_path: Path,
                              mechanism: str) -> None:
    with SmtpServer(smtp_certificates, "starttls", only_mechanism=mechanism) as server:
        result = send(server, tmp_path, smtp_certificates, username=USER, password=PASSWORD,
                      environment=env(tmp_path, RUNNER_DEBUG="1"))
    assert result.code == 0, result
    assert server.handler.mechanisms == [mechanism]
    assert server.received[0].auth == USER
    # The transcript (RUNNER_DEBUG) shows the exchange but not the credentials.
    assert "[AUTH exchange not shown]" in result.stdout
    assert "mail from" in result.stdout.lower()
    for secret in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode(),
                   base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()):
        assert secret not in unmasked(result)


def test_plain_delivery_on_loopback_without_a_warning(smtp_certificates: Certificates,
                                                      tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "plain", auth=False) as server:
        result = send(server, tmp_path)
    assert result.code == 0, result
    assert not [a for a in result.annotations if a.kind == "warning"]
    assert len(server.received) == 1


def test_starttls_required_but_not_offered_sends_nothing(smtp_certificates: Certificates,
                                                         tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "plain") as server:
        result = send(server, tmp_path, smtp_certificates, security="starttls",
                      username=USER, password=PASSWORD)
    assert result.code == 1, result
    assert "does not offer STARTTLS" in result.errors()[0].message
    assert server.received == []
    assert server.handler.rcpt_seen == []
    assert result.outputs["sent"] == "false"


def test_an_untrusted_certificate_is_refused(smtp_certificates: Certificates,
                                             tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path)  # no ca-file: the test CA is not trusted
    assert result.code == 1, result
    assert "CERTIFICATE_VERIFY_FAILED" in result.errors()[0].message
    assert server.received == []


def test_a_421_is_retried_and_a_550_is_not(smtp_certificates: Certificates,
                                           tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        server.script.data.append("421 4.3.2 Service not available, try later")
        retried = send(server, tmp_path / "a", smtp_certificates)
        assert retried.code == 0, retried
        assert len(server.received) == 1
        server.script.data.append("550 5.7.1 Relaying denied for this sender")
        refused = send(server, tmp_path / "b", smtp_certificates)
    assert refused.code == 1, refused
    message = refused.errors()[0].message
    assert "550 5.7.1 Relaying denied for this sender" in message
    assert len(server.received) == 1  # not sent again


def test_a_retry_does_not_send_again_to_those_already_accepted(
        smtp_certificates: Certificates, tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        server.script.rcpt["late@example.org"] = ["450 4.2.1 Mailbox busy"]
        result = send(server, tmp_path, smtp_certificates,
                      to="ops@example.org, late@example.org")
    assert result.code == 0, result
    delivered = [r.recipients for r in server.received]
    assert delivered == [["ops@example.org"], ["late@example.org"]]


def test_a_gmail_style_auth_refusal_gets_a_hint(smtp_certificates: Certificates,
                                                tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, username=USER,
                      password="wrong")
    assert result.code == 1, result
    assert "535" in result.errors()[0].message
    assert "wrong" not in result.stdout.replace("::add-mask::wrong", "")


@pytest.mark.parametrize(("name", "value"), [
    ("to", "ops@example.org\r\nBcc: evil@example.org"),
    ("cc", '"x\rBcc: evil@example.org" <a@example.org>'),
    ("bcc", "evil@example.org>, <x"),
    ("reply-to", "Ops Team@example.org <a@example.org>"),
    ("from", "ci@example.org, second@example.org"),
    ("subject", "broken\nBcc: evil@example.org"),
])
def test_injection_through_inputs_is_a_bad_input(smtp_certificates: Certificates,
                                                 tmp_path: Path, name: str, value: str) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, **{name.replace("-", "_"): value})
    assert result.code == 2, result
    [error] = result.errors()
    assert error.message.startswith(f"input '{name}': expected "), error
    assert server.handler.rcpt_seen == []


def test_a_commit_message_cannot_add_a_header(smtp_certificates: Certificates,
                                              tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"head_commit": {
        "id": "c" * 40, "message": "Fix\rTo: evil@example.org\n\nmore",
        "author": {"name": "Dev", "username": "dev-a"}}}))
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates,
                      subject="{commit_title} on {branch}",
                      environment=env(tmp_path, GITHUB_EVENT_PATH=str(event),
                                      GITHUB_REF_NAME="main\r\nBcc: evil@example.org"))
    assert result.code == 0, result
    [got] = server.received
    assert got.recipients == ["ops@example.org"]
    assert "Bcc" not in got.message
    headers = got.data.decode().split("\r\n\r\n", 1)[0]
    assert "\r\nBcc:" not in headers
    assert got.message["Subject"] == "Fix To: evil@example.org on main Bcc: evil@example.org"
    assert got.message["To"] == "ops@example.org"


def test_unicode_subject_and_names_are_encoded(smtp_certificates: Certificates,
                                               tmp_path: Path) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, subject="❌ Überfall {branch} 構築",
                      to='"Doe, Jöhn" <j@example.org>', from_="Zoë CI <ci@example.org>")
    assert result.code == 0, result
    [got] = server.received
    raw = got.data.decode("ascii")  # every header is 7-bit on the wire
    assert "=?utf-8?" in raw
    message = got.message
    assert message["Subject"] == "❌ Überfall main 構築"
    assert message["To"] == '"Doe, Jöhn" <j@example.org>'
    assert message["From"] == "Zoë CI <ci@example.org>"


def test_attachments_under_and_over_the_cap(smtp_certificates: Certificates,
                                            tmp_path: Path) -> None:
    environment = env(tmp_path)
    workspace = Path(environment["GITHUB_WORKSPACE"])
    logs = workspace / "stackci-logs"
    (logs / "logs").mkdir(parents=True)
    (logs / "index.md").write_text("# logs\n")
    (logs / "logs" / "api.log").write_text("started\n" * 10)
    (workspace / "big.bin").write_bytes(b"x" * 200_000)
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, environment=environment,
                      attach="stackci-logs\nbig.bin", attach_max_size="100KB")
    assert result.code == 0, result
    [got] = server.received
    message = got.message
    assert message.get_content_type() == "multipart/mixed"
    names = sorted(str(p.get_filename()) for p in message.iter_attachments())
    assert names == ["stackci-logs/index.md", "stackci-logs/logs/api.log"]
    text, _ = parts(message)
    assert "Not attached (over the size limit): big.bin" in text
    assert any("over attach-max-size" in a.message for a in result.annotations
               if a.kind == "warning")


@pytest.mark.parametrize(("when", "needs", "sent"), [
    ("failure", PASSING, False), ("failure", FAILING, True),
    ("success", PASSING, True), ("always", PASSING, True),
])
def test_when(smtp_certificates: Certificates, tmp_path: Path, when: str, needs: str,
              sent: bool) -> None:
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, when=when, needs=needs)
    assert result.code == 0, result
    assert result.outputs["sent"] == ("true" if sent else "false")
    assert len(server.received) == (1 if sent else 0)


def test_when_change_uses_the_previous_run(smtp_certificates: Certificates, tmp_path: Path,
                                           fake_github: FakeGitHub) -> None:
    state = fake_github.state
    sha = state.push_commit(REPO, branch="main", message="Fix it").sha
    state.add_workflow_run(REPO, sha, name="CI", head_branch="main", event="push",
                           conclusion="failure", jobs=[{"name": "test", "conclusion": "failure"}])
    current = state.add_workflow_run(REPO, sha, name="CI", head_branch="main", event="push",
                                     status="in_progress", conclusion=None,
                                     jobs=[{"name": "test", "conclusion": "success"}])
    environment = env(tmp_path, GITHUB_API_URL=fake_github.url, GITHUB_RUN_ID=str(current.id),
                      GITHUB_RUN_NUMBER=str(current.run_number), GITHUB_SHA=sha)
    with SmtpServer(smtp_certificates, "starttls") as server:
        fixed = send(server, tmp_path, smtp_certificates, environment=environment,
                     when="change", needs=PASSING, github_token=WRITER_TOKEN)
        assert fixed.code == 0, fixed
        assert fixed.outputs["sent"] == "true"
        assert "is fixed" in server.received[0].message["Subject"]
        current.status, current.conclusion = "completed", "success"
        later = state.add_workflow_run(REPO, sha, name="CI", head_branch="main", event="push",
                                       status="in_progress", conclusion=None,
                                       jobs=[{"name": "test", "conclusion": "success"}])
        again = send(server, tmp_path / "again", smtp_certificates,
                     environment=env(tmp_path / "again", GITHUB_API_URL=fake_github.url,
                                     GITHUB_RUN_ID=str(later.id),
                                     GITHUB_RUN_NUMBER=str(later.run_number)),
                     when="change", needs=PASSING, github_token=WRITER_TOKEN)
    assert again.outputs["sent"] == "false", again
    assert len(server.received) == 1


def test_the_jobs_table_comes_from_the_jobs_api_with_a_token(
        smtp_certificates: Certificates, tmp_path: Path, fake_github: FakeGitHub) -> None:
    state = fake_github.state
    sha = state.push_commit(REPO, branch="main").sha
    run = state.add_workflow_run(
        REPO, sha, name="CI", head_branch="main", event="push", status="in_progress",
        conclusion=None, jobs=[{"name": "test (3.12)", "conclusion": "failure",
                                "steps": [{"name": "Run pytest", "conclusion": "failure"}]},
                               {"name": "notify", "status": "in_progress", "conclusion": None}])
    environment = env(tmp_path, GITHUB_API_URL=fake_github.url, GITHUB_RUN_ID=str(run.id),
                      GITHUB_JOB="notify")
    with SmtpServer(smtp_certificates, "starttls") as server:
        result = send(server, tmp_path, smtp_certificates, environment=environment,
                      needs="", github_token=WRITER_TOKEN)
    assert result.code == 0, result
    text, html = parts(server.received[0].message)
    assert "test (3.12)  failure (failed: Run pytest)" in text
    assert "/job/" in html
    assert WRITER_TOKEN not in server.received[0].data.decode()

