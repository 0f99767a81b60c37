"""notify-email under act: a failing post-merge workflow sends exactly one mail to the
test's SMTP server (aiosmtpd on loopback; the launcher runs with host networking)."""

from __future__ import annotations

import pytest

from stackci_testing.act import make_repo, run_act
from stackci_testing.smtp import Certificates, SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def test_a_failing_workflow_sends_one_mail(tmp_path, smtp_certificates: Certificates,
                                           docker_client) -> None:
    repo = make_repo(tmp_path)
    with SmtpServer(smtp_certificates, "plain", auth=False) as server:
        run = run_act(repo, "notify-email.yml", event_name="push",
                      env={"SMTP_PORT": str(server.port)})
    assert run.code != 0, run  # the build failed the workflow
    assert run.result("sent") == "true", run
    [got] = server.received
    assert got.recipients == ["ops@example.org"]
    message = got.message
    assert message["Subject"].startswith("[octo/app] post-merge failed on main (")
    text = message.get_body(("plain",))
    assert text is not None
    assert "build  failure" in text.get_content()
