"""doctor's GitHub checks against the fake GitHub server."""

from __future__ import annotations

from fake_github.fixtures import READONLY_TOKEN, WRITER_TOKEN
from stackci_testing.runner import run_action


def test_doctor_reports_the_token_permissions(fake_github, wf_env) -> None:
    env = {**wf_env, "GITHUB_API_URL": fake_github.url}
    for token, expected in ((WRITER_TOKEN, "pull, push"), (READONLY_TOKEN, "pull")):
        result = run_action("doctor", {"github-token": token}, env)
        checks = {c["name"]: c for c in result.json_output("checks")}
        assert checks["github-api"]["ok"], result
        assert checks["github-token"]["detail"].startswith(
            f"permissions on octo/app: {expected}"), checks["github-token"]
        assert token not in result.stdout.replace(f"::add-mask::{token}", "") + result.stderr
        assert token not in str(result.outputs)


def test_doctor_says_when_the_token_is_refused(fake_github, wf_env) -> None:
    env = {**wf_env, "GITHUB_API_URL": fake_github.url}
    result = run_action("doctor", {"github-token": "ghs_unknown"}, env)
    checks = {c["name"]: c for c in result.json_output("checks")}
    assert not checks["github-api"]["ok"]
    assert "refused the token (401 Bad credentials)" in checks["github-api"]["detail"]
    assert any(e.title == "doctor: github-api" for e in result.errors())
