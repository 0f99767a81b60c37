"""compose-up-and-wait's smoke checks against real containers: run once after the wait,
each printing its status and an excerpt of the answer, failures named and failing."""

from __future__ import annotations

import json
import textwrap

import pytest

from stackci_testing.docker import Stack
from stackci_testing.runner import Result, assert_one_bad_input, run_action

pytestmark = pytest.mark.docker

# A web server with two pages, one of them hostile, and a backend to exec in.
STACK = """\
services:
  web:
    image: busybox:1.36
    command:
      - sh
      - -c
      - |
        mkdir -p /www/api && echo '{"status": "ok", "streams": 3}' > /www/api/health
        printf 'fine\\n::error::forged by the service\\n' > /www/api/hostile
        exec httpd -f -p 8080 -h /www
  backend:
    image: busybox:1.36
    command: ["sleep", "600"]
"""


def up(stack: Stack, env: dict[str, str], smoke: str, **inputs: str) -> Result:
    stack.write(STACK)
    values = {"working-directory": str(stack.directory), "project-name": stack.name,
              "timeout": "60s", "smoke": textwrap.dedent(smoke), **inputs}
    return run_action("compose-up-and-wait", values, env)


def test_passing_checks_print_their_status_and_answer(stack: Stack,
                                                      wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, """\
        - name: health
          http: http://web:8080/api/health
          status: 200
          body: '"status": *"ok"'
        - name: selfcheck
          exec: echo backend answers; test -d /tmp
          service: backend
        """)
    assert result.code == 0, result
    assert ('smoke health passed: http http://web:8080/api/health → 200, body ~ '
            '/"status": *"ok"/ answered 200: {"status": "ok", "streams": 3}') in result.stdout
    assert "smoke selfcheck passed: exec `echo backend answers; test -d /tmp` in backend " \
           "exited 0: backend answers" in result.stdout
    smoke = json.loads(result.outputs["smoke"])
    assert smoke["health"] == {"ok": True, "detail": "answered 200",
                               "answer": '{"status": "ok", "streams": 3}'}
    assert smoke["selfcheck"]["ok"] is True
    assert "### ✅ Smoke checks: 2 of 2 passed" in result.summary
    assert result.errors() == []


def test_every_check_runs_and_each_failure_is_named(stack: Stack,
                                                   wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, """\
        - name: missing
          http: http://web:8080/api/nothing
        - name: body
          http: http://web:8080/api/health
          body: degraded
        - name: broken
          exec: echo 'migrations pending' >&2; exit 3
          service: backend
        - name: health
          http: http://web:8080/api/health
        """)
    assert result.code == 1, result
    errors = result.errors()
    assert [e.title for e in errors] == ["smoke check missing failed", "smoke check body failed",
                                         "smoke check broken failed"]
    assert "answered 404" in errors[0].message
    assert "answered 200 without /degraded/ in the body" in errors[1].message
    assert "exited 3: migrations pending" in errors[2].message
    assert "smoke health passed" in result.stdout
    assert "### ❌ Smoke checks: 1 of 4 passed" in result.summary
    smoke = json.loads(result.outputs["smoke"])
    assert [name for name, r in smoke.items() if not r["ok"]] == ["body", "broken", "missing"]


def test_what_a_service_answers_never_becomes_a_workflow_command(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, """\
        - name: hostile
          http: http://web:8080/api/hostile
          body: nothing-like-this
        """)
    assert result.code == 1, result
    # The forged line is in the excerpt, on one line with the rest: never a command.
    assert [e.title for e in result.errors()] == ["smoke check hostile failed"]
    assert not any(line.startswith("::error::forged") for line in result.stdout.splitlines())
    assert "forged by the service" in result.stdout


@pytest.mark.parametrize(("smoke", "says"), [
    ("- http: not-a-url", "http:// or https:// URL"),
    ("- exec: true", "needs `service`"),
    ("- tcp: localhost:80", "unknown key 'tcp'"),
    ("- {http: 'http://web:8080/', exec: 'true', service: web}", "exactly one of http or exec"),
    ("- {exec: 'true', service: nowhere}", "exec checks in services that this run starts"),
    ("health: {http: 'http://web:8080/'}", "a YAML list"),
    ("- {http: 'http://a/', name: x}\n- {http: 'http://b/', name: x}", "used twice: x"),
    ("- {http: 'http://web:8080/', timeout: soon}", "timeout"),
])
def test_bad_smoke_checks_are_bad_input(stack: Stack, wf_env: dict[str, str], smoke: str,
                                        says: str) -> None:
    result = up(stack, wf_env, smoke)
    assert_one_bad_input(result, "smoke")
    assert says in result.errors()[0].message
    assert not stack.compose("ps", "--all", "--quiet").stdout.strip()  # nothing started
