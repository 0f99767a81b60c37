"""compose-up-and-wait against the real engine, with busybox stand-in services:
every check kind passing and timing out, one-shots, crash loops, services turning
unhealthy, per-service timeouts, dependency chains, the compose file's own wait spec,
and the bad-input table. The relative-bind-mount case runs through the launcher."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from stackci.core.engine.events import ContainerEvent, ProjectEvents, stream_client
from stackci_testing.docker import Stack, beside
from stackci_testing.runner import Result, run_action

pytestmark = pytest.mark.docker


@pytest.fixture
def stack(stack: Stack) -> Iterator[Stack]:
    """The shared test stack, whose containers are killed a moment before `down` removes
    them: Docker 20.10's daemon panics (and dies) when a container is removed while a
    health-check probe is between creating its exec and starting it (daemon/exec.go,
    moby/moby#45804), and these tests run many fast health checks."""
    yield stack
    stack.compose("kill", check=False)
    time.sleep(0.3)

ACTION = "compose-up-and-wait"

# A healthcheck that passes once /tmp/ready exists; fast, so tests are too.
HEALTHCHECK = """
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      timeout: 30s
      retries: 1000
"""


def service(command: str, extra: str = "", image: str | None = "busybox:1.36") -> str:
    """One busybox service's body (indented for a `services:` entry); no `image` for
    one that is built."""
    body = f"    image: {image}\n" if image else ""
    body += f"    command: {json.dumps(['sh', '-c', command])}\n"
    return body + textwrap.indent(textwrap.dedent(extra).strip("\n"), "    ") + "\n" \
        if extra.strip() else body


def compose(**services: str) -> str:
    return "services:\n" + "".join(f"  {name}:\n{body}" for name, body in services.items())


def up(stack: Stack, env: dict[str, str], compose_yaml: str | None = None,
       wait: str | None = None, **inputs: str) -> Result:
    if compose_yaml is not None:
        stack.write(compose_yaml)
    values = {"working-directory": str(stack.directory), "project-name": stack.name,
              "timeout": "60s"}
    if wait is not None:
        values["wait"] = textwrap.dedent(wait)
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    return run_action(ACTION, values, env)


def services_output(result: Result) -> dict[str, Any]:
    value = result.json_output("services")
    assert isinstance(value, dict)
    return value


def error_messages(result: Result) -> dict[str, str]:
    """Error annotations by the service they are about ("compose" for compose up)."""
    found = {}
    for annotation in result.errors():
        name = annotation.title.removeprefix(f"{ACTION}: ").split(" ")[0]
        found["compose" if name == "docker" else name] = annotation.message
    return found


def cgi(stack: Stack, status: str, body: str) -> None:
    """A CGI health endpoint for busybox httpd, served from ./www."""
    script = stack.directory / "www" / "cgi-bin" / "health"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"#!/bin/sh\necho 'Status: {status}'\necho 'Content-Type: text/plain'\n"
                      f"echo\necho '{body}'\n")
    script.chmod(0o755)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HTTPD = "exec httpd -f -p 8000 -h /www"
WWW = 'volumes: ["./www:/www:ro"]'


# -- every check kind -----------------------------------------------------------------

def test_every_check_kind_passes_and_the_outputs_describe_the_stack(
        stack: Stack, wf_env: dict[str, str]) -> None:
    cgi(stack, "200 OK", "status=ok")
    port = free_port()
    stack.write(compose(
        db=service("sleep 0.5; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
        api=service(HTTPD, f'{WWW}\nports: ["127.0.0.1::8000"]'),
        cache=service("exec nc -ll -p 6379 -e cat", f'ports: ["127.0.0.1:{port}:6379"]'),
        kafka=service("sleep 0.5; touch /tmp/ready; exec sleep 300"),
        worker=service("sleep 0.3; echo 'consumer started'; exec sleep 300"),
        migrate=service("sleep 0.3; echo migrated"),
        plain=service("exec sleep 300", "deploy:\n  replicas: 2"),
    ))
    result = up(stack, wf_env, wait=f"""
        db: healthy
        api:
          http: http://api:8000/cgi-bin/health
          status: 200
          body: status=ok
        cache:
          - tcp: cache:6379
          - tcp: localhost:{port}
        kafka:
          exec: test -f /tmp/ready
        worker:
          log: consumer start(ed|ing)
        migrate: completed
        plain: running
    """)
    assert result.code == 0, result
    assert result.errors() == []
    assert result.outputs["project-name"] == stack.name
    assert float(result.outputs["ready-seconds"]) > 0

    services = services_output(result)
    assert set(services) == {"db", "api", "cache", "kafka", "worker", "migrate", "plain"}
    for name, info in services.items():
        assert info["ready"] is True, name
        assert 0 < info["seconds-to-ready"] <= float(result.outputs["ready-seconds"])
    assert services["db"]["health"] == "healthy"
    assert services["db"]["state"] == "running"
    # Each service holds its containers as the one container record (as collect-logs).
    assert [c["name"] for c in services["db"]["containers"]] == [f"{stack.name}-db-1"]
    assert services["db"]["containers"][0]["health"] == "healthy"
    assert services["db"]["containers"][0]["exit_code"] is None
    assert services["migrate"]["state"] == "exited"
    assert services["migrate"]["exit-code"] == 0
    assert [(c["name"], c["number"]) for c in services["plain"]["containers"]] == [
        (f"{stack.name}-plain-1", 1), (f"{stack.name}-plain-2", 2)]
    published = services["api"]["ports"]["8000/tcp"]
    assert published.startswith("127.0.0.1:")
    assert services["cache"]["ports"] == {"6379/tcp": f"127.0.0.1:{port}"}

    # People follow the progress, grouped; the summary has a row per service.
    assert "::group::Starting " + stack.name in result.stdout
    assert "db: healthy after " in result.stdout
    assert "migrate: completed (exit 0) after " in result.stdout
    assert "api: http://api:8000/cgi-bin/health answered 200 after " in result.stdout
    assert "| service | check | result | time to ready |" in result.summary
    assert "| db | healthy | ✅ ready |" in result.summary
    assert "| kafka | exec \\`test -f /tmp/ready\\` | ✅ ready |" in result.summary


@pytest.mark.parametrize("start_mode", ["ready", "compose"])
def test_every_check_kind_times_out_with_its_own_reason(stack: Stack, wf_env: dict[str, str],
                                                        start_mode: str) -> None:
    cgi(stack, "503 Service Unavailable", "warming up")
    stack.write(compose(
        db=service("exec sleep 300", HEALTHCHECK),
        api=service(HTTPD, WWW),
        cache=service("exec sleep 300"),
        kafka=service("exec sleep 300"),
        worker=service("echo booting; exec sleep 300"),
        migrate=service("exec sleep 300"),
        blocked=service("exec sleep 300", "depends_on:\n  db:\n    condition: service_healthy"),
    ))
    started = time.monotonic()
    result = up(stack, wf_env, fail_fast="false", timeout="8s", logs_on_failure="5",
                start_mode=start_mode, wait="""
        db: {healthy: true, timeout: 2s}
        api: {http: http://api:8000/cgi-bin/health, timeout: 2s}
        cache: {tcp: 6379, timeout: 2s}
        kafka: {exec: test -f /tmp/ready, timeout: 2s}
        worker: {log: consumer started, timeout: 2s}
        migrate: {completed: true, timeout: 2s}
        blocked: running
    """)
    assert result.code == 1, result
    errors = error_messages(result)
    # With compose's own start, `up` blocks on db and is stopped; with the ready start,
    # blocked is never started, because db can no longer become healthy.
    assert set(errors) == {"db", "api", "cache", "kafka", "worker", "migrate", "blocked",
                           *(["compose"] if start_mode == "compose" else [])}, errors
    assert errors["db"].startswith("db: not healthy after 2")
    assert "(health: starting)" in errors["db"]
    assert errors["api"].startswith("api: http://api:8000/cgi-bin/health answered 503 for ")
    assert errors["cache"].startswith("cache: port 6379 refused the connection for ")
    assert errors["kafka"].startswith("kafka: `test -f /tmp/ready` exited 1 for ")
    assert errors["worker"] == "worker: /consumer started/ did not appear in its log within 2.0 s"
    assert errors["migrate"].startswith("migrate: had not exited after 2")
    if start_mode == "compose":
        assert errors["blocked"].startswith(("blocked: no container was started within 8",
                                             "blocked: not running after 8"))
        assert "it waits for db" in errors["blocked"] or "no container" in errors["blocked"]
        assert "docker compose up had not finished" in errors["compose"]
    else:
        assert errors["blocked"].startswith("blocked: not started: db not healthy after 2")
    assert time.monotonic() - started < 30
    # Each failing service has its group: state, health-check output, last log lines.
    assert "::group::worker: /consumer started/ did not appear" in result.stdout
    assert "last 5 log lines of " + stack.name + "-worker-1:\nbooting" in result.stdout
    assert f"{stack.name}-db-1: state running, exit code -, restarts 0, health starting" \
        in result.stdout
    assert result.outputs["ready-seconds"] == ""
    assert not any(info["ready"] for info in services_output(result).values())


# -- one-shots, crashes, restarts, health ---------------------------------------------

def test_a_one_shot_that_exits_0_is_ready(stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        migrate=service("echo migrated"),
        app=service("exec sleep 300"),
    ))
    assert result.code == 0, result
    services = services_output(result)
    assert services["migrate"]["ready"] is True
    assert services["migrate"]["exit-code"] == 0
    assert services["app"]["state"] == "running"


def test_a_one_shot_that_exits_1_fails_fast_with_its_logs(stack: Stack,
                                                          wf_env: dict[str, str]) -> None:
    started = time.monotonic()
    result = up(stack, wf_env, compose(
        worker=service("echo starting; sleep 0.5; echo 'boom: no broker' >&2; exit 1"),
        slow=service("exec sleep 300", HEALTHCHECK),
    ))
    assert result.code == 1, result
    assert time.monotonic() - started < 20  # not the 60 s timeout
    errors = error_messages(result)
    assert set(errors) == {"worker"}  # slow merely did not get the time
    assert errors["worker"].startswith("worker: exited with code 1 after ")
    assert "::group::worker: exited with code 1 after" in result.stdout
    assert "boom: no broker" in result.stdout
    assert "::group::slow: not ready yet when the wait stopped: not healthy" in result.stdout
    services = services_output(result)
    assert services["worker"]["exit-code"] == 1
    assert services["worker"]["reason"].startswith("exited with code 1 after ")
    assert "| worker | running or completed | ❌ exited with code 1 after" in result.summary


def test_a_crash_looping_service_fails_fast(stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        api=service("sleep 0.3; echo crashing; exit 2", "restart: always"),
        slow=service("exec sleep 300", HEALTHCHECK),
    ))
    assert result.code == 1, result
    assert error_messages(result)["api"].startswith("api: exited with code 2 after ")


def test_a_crash_loop_is_caught_even_when_nothing_else_keeps_the_wait_open(
        stack: Stack, wf_env: dict[str, str]) -> None:
    # No slow neighbour: the crash loop is `running` for a moment between restarts, and
    # must not be taken for ready in that moment.
    result = up(stack, wf_env, compose(
        api=service("sleep 0.3; echo crashing; exit 2", "restart: always"),
        idle=service("exec sleep 300"),
    ))
    assert result.code == 1, result
    assert error_messages(result)["api"].startswith("api: exited with code 2 after ")


def test_a_service_that_exits_0_but_must_keep_running_fails(stack: Stack,
                                                            wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        api=service("sleep 0.5; exit 0", "restart: always"),
        slow=service("exec sleep 300", HEALTHCHECK),
    ), wait="api: running")
    assert result.code == 1, result
    message = error_messages(result)["api"]
    assert message.startswith("api: exited with code 0 after ")
    assert message.endswith("but it has to keep running")


def test_without_fail_fast_a_crash_loop_is_reported_at_its_timeout(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        api=service("sleep 0.2; exit 2", "restart: always\n" + textwrap.dedent(HEALTHCHECK)),
    ), wait="api: {healthy: true, timeout: 3s}", fail_fast="false")
    assert result.code == 1, result
    message = error_messages(result)["api"]
    assert "; earlier it " in message, message
    assert "exited with code 2" in message, message
    assert services_output(result)["api"]["restarts"] >= 1


# Each run of these services but the first never gets ready: only a check that
# forgets what the first run passed can tell.
FIRST_RUN_ONLY = "if [ -f /tmp/ran ]; then {later}; fi; touch /tmp/ran; {first}; sleep 1.5; exit 1"


def test_without_fail_fast_a_restart_must_pass_its_checks_again(
        stack: Stack, wf_env: dict[str, str]) -> None:
    on_failure = "restart: on-failure\n"
    result = up(stack, wf_env, compose(
        db=service(FIRST_RUN_ONLY.format(first="touch /tmp/ready",
                                         later="rm /tmp/ready; exec sleep 300"),
                   on_failure + textwrap.dedent(HEALTHCHECK)),
        worker=service(FIRST_RUN_ONLY.format(first="echo consumer started",
                                             later="exec sleep 300"), on_failure),
        api=service(FIRST_RUN_ONLY.format(
            first="mkdir -p /www; echo ok > /www/ok; httpd -p 8000 -h /www",
            later="rm /www/ok; exec httpd -f -p 8000 -h /www"), on_failure),
        # Keeps the wait open past the others' first exit.
        slow=service("sleep 3; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
    ), wait="""
        db: {healthy: true, timeout: 6s}
        worker: {log: consumer started, timeout: 6s}
        api: {http: "http://api:8000/ok", timeout: 6s}
    """, fail_fast="false")
    assert result.code == 1, result
    for name in ("db", "worker", "api"):
        assert f"{name}: restarted (restart 1) after it exited with code 1; still " \
            "waiting (fail-fast is off)" in result.stdout, result
    errors = error_messages(result)
    assert set(errors) == {"db", "worker", "api"}, result
    assert errors["db"].startswith("db: not healthy after "), errors
    assert errors["worker"].startswith(
        "worker: /consumer started/ did not appear in its log within "), errors
    assert errors["api"].startswith("api: http://api:8000/ok answered 404 for "), errors
    for message in errors.values():
        assert "; earlier it " in message, message
    services = services_output(result)
    assert services["slow"]["ready"] is True
    assert {services[name]["restarts"] for name in ("db", "worker", "api")} == {1}


def test_without_fail_fast_a_restarted_service_is_ready_when_its_new_run_is(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        worker=service("echo consumer started; if [ -f /tmp/ran ]; then exec sleep 300; "
                       "fi; touch /tmp/ran; sleep 1; exit 1", "restart: on-failure"),
        slow=service("sleep 2; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
    ), wait="worker: {log: consumer started}", fail_fast="false")
    assert result.code == 0, result
    assert "worker: restarted (restart 1) after it exited with code 1; still waiting" \
        in result.stdout
    assert services_output(result)["worker"]["ready"] is True


def test_a_service_that_never_gets_healthy_fails_when_unhealthy(
        stack: Stack, wf_env: dict[str, str]) -> None:
    started = time.monotonic()
    result = up(stack, wf_env, compose(db=service("exec sleep 300", """
        healthcheck:
          test: ["CMD-SHELL", "echo 'no: connection refused'; exit 1"]
          interval: 200ms
          timeout: 30s
          retries: 2
    """)))
    assert result.code == 1, result
    assert time.monotonic() - started < 20
    message = error_messages(result)["db"]
    assert message.startswith("db: became unhealthy after ")
    assert message.endswith(": no: connection refused")
    assert "last health check (exit 1): no: connection refused" in result.stdout
    assert services_output(result)["db"]["health"] == "unhealthy"


def test_a_service_that_turns_unhealthy_while_others_start_fails(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        flappy=service("touch /tmp/ready; sleep 1.5; rm /tmp/ready; exec sleep 300", """
            healthcheck:
              test: ["CMD", "test", "-f", "/tmp/ready"]
              interval: 200ms
              timeout: 30s
              retries: 1
        """),
        slow=service("sleep 8; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
    ))
    assert result.code == 1, result
    assert "flappy: healthy after " in result.stdout  # it was ready once
    assert set(error_messages(result)) == {"flappy"}
    assert error_messages(result)["flappy"].startswith("flappy: became unhealthy after ")


def test_an_oom_killed_service_fails_fast(stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        hog=service("sleep 0.3; x=$(head -c 60000000 /dev/zero | tr '\\0' a); exec sleep 300",
                    "mem_limit: 8m\nmemswap_limit: 8m"),
        slow=service("exec sleep 300", HEALTHCHECK),
    ))
    assert result.code == 1, result
    assert error_messages(result)["hog"].startswith(
        "hog: was killed for running out of memory after ")
    assert "killed for running out of memory" in result.stdout  # its state line
    assert services_output(result)["hog"]["exit-code"] == 137


def test_a_service_slower_than_its_own_timeout_fails_alone(stack: Stack,
                                                           wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        fast=service("sleep 0.3; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
        slow=service("sleep 30; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
    ), wait="slow: {healthy: true, timeout: 2s}")
    assert result.code == 1, result
    assert error_messages(result) == {
        "slow": "slow: not healthy after 2.0 s (health: starting)"}
    services = services_output(result)
    assert services["fast"]["ready"] is True
    assert services["slow"]["ready"] is False
    assert services["slow"]["health"] == "starting"
    assert "| fast | healthy | ✅ ready |" in result.summary


# The engine runs this healthcheck first 60 s after the container starts: a wait that
# ends sooner can only have learned the answer by running it.
SLOW_HEALTHCHECK = """
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready || { echo 'not ready yet'; exit 1; }"]
      interval: 60s
      timeout: 30s
      retries: 3
"""


def test_a_healthcheck_with_a_long_interval_counts_once_its_command_passes(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        db=service("sleep 1; touch /tmp/ready; exec sleep 300", SLOW_HEALTHCHECK),
    ), timeout="30s")
    assert result.code == 0, result
    assert "db: healthcheck passed after " in result.stdout
    db = services_output(result)["db"]
    assert db["ready"] is True
    assert db["health"] == "starting"  # the engine has not run it yet
    assert db["seconds-to-ready"] < 30
    assert "| db | healthy | ✅ ready |" in result.summary


def test_with_run_healthchecks_false_only_the_engine_counts(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        db=service("touch /tmp/ready; exec sleep 300", SLOW_HEALTHCHECK),
    ), timeout="3s", run_healthchecks="false")
    assert result.code == 1, result
    assert error_messages(result) == {"db": "db: not healthy after 3.0 s (health: starting)"}


def test_a_failing_healthcheck_says_what_it_printed_while_the_engine_is_silent(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(db=service("exec sleep 300", SLOW_HEALTHCHECK)),
                timeout="3s")
    assert result.code == 1, result
    assert error_messages(result) == {
        "db": "db: not healthy after 3.0 s (health: starting; its healthcheck, run by "
              "StackCI, exited 1: not ready yet)"}


def test_when_compose_up_fails_its_words_are_shown(stack: Stack,
                                                  wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        app=service("exec sleep 300"),
        ghost=service("exec sleep 300", image="stackci-test/no-such-image:1"),
    ), pull="never")
    assert result.code == 1, result
    errors = error_messages(result)
    assert "ghost" not in errors  # up's own error names the cause, once
    assert errors["compose"].startswith("docker compose up failed: ")
    assert "no-such-image" in errors["compose"].lower() or "no such image" in \
        errors["compose"].lower()
    assert "::group::docker compose up" in result.stdout


def test_a_service_without_healthcheck_cannot_wait_for_healthy(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(db=service("exec sleep 300")), wait="db: healthy")
    assert result.code == 1, result
    assert error_messages(result)["db"].startswith("db: has no healthcheck")


# -- chains, subsets, the compose file's own spec, names --------------------------------

def test_a_dependency_chain_comes_up_in_order(stack: Stack, wf_env: dict[str, str]) -> None:
    cgi(stack, "200 OK", "ok")
    result = up(stack, wf_env, compose(
        db=service("sleep 0.5; touch /tmp/ready; exec sleep 300", HEALTHCHECK),
        api=service(HTTPD, f"""
            {WWW}
            depends_on:
              db:
                condition: service_healthy
            healthcheck:
              test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8000/cgi-bin/health"]
              interval: 200ms
              timeout: 30s
              retries: 1000
        """),
        web=service("exec sleep 300", """
            depends_on:
              api:
                condition: service_healthy
        """),
    ))
    assert result.code == 0, result
    services = services_output(result)
    assert services["db"]["seconds-to-ready"] < services["api"]["seconds-to-ready"]
    assert services["api"]["seconds-to-ready"] <= services["web"]["seconds-to-ready"]
    assert services["api"]["health"] == "healthy"


def test_services_starts_a_subset_with_its_dependencies(stack: Stack,
                                                        wf_env: dict[str, str],
                                                        docker_client: docker.DockerClient
                                                        ) -> None:
    result = up(stack, wf_env, compose(
        db=service("exec sleep 300"),
        api=service("exec sleep 300", "depends_on: [db]"),
        other=service("exec sleep 300"),
    ), services="api")
    assert result.code == 0, result
    assert set(services_output(result)) == {"api", "db"}
    names = {c.name for c in docker_client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.name}"})}
    assert names == {f"{stack.name}-api-1", f"{stack.name}-db-1"}


def test_profiles_and_env_files_reach_compose(stack: Stack, wf_env: dict[str, str]) -> None:
    (stack.directory / "ci.env").write_text("BOX=busybox:1.36\nWORD=interpolated\n")
    stack.write("""
        services:
          app:
            image: ${BOX}
            command: ["sh", "-c", "echo ${WORD}; exec sleep 300"]
          debug:
            image: ${BOX}
            profiles: [debug]
            command: ["sh", "-c", "exec sleep 300"]
    """)
    result = up(stack, wf_env, env_file="ci.env", profiles="debug",
                wait="app: {log: interpolated}")
    assert result.code == 0, result
    assert set(services_output(result)) == {"app", "debug"}


def test_the_compose_file_can_say_how_to_wait_and_the_input_wins(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, """
        services:
          worker:
            image: busybox:1.36
            command: ["sh", "-c", "sleep 0.3; echo 'worker listening'; exec sleep 300"]
            x-stackci-wait:
              log: worker listening
          api:
            image: busybox:1.36
            command: ["sh", "-c", "echo 'api serving'; exec sleep 300"]
            x-stackci-wait:
              log: this line never comes
              timeout: 2s
    """, wait="api: {log: api serving}")
    assert result.code == 0, result
    services = services_output(result)
    assert services["worker"]["check"] == "log /worker listening/"
    assert services["api"]["check"] == "log /api serving/"


def test_in_a_workflow_the_default_project_name_comes_from_the_run(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    job = uuid.uuid4().hex[:8]
    env = {**wf_env, "GITHUB_RUN_ID": "test", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": job}
    expected = f"stackci-test-2-{job}"  # starts like a test project: the leak check sees it
    stack.write(compose(app=service("exec sleep 300")))
    try:
        result = run_action(ACTION, {"working-directory": str(stack.directory)}, env)
        assert result.code == 0, result
        assert result.outputs["project-name"] == expected
        assert docker_client.containers.list(
            filters={"label": f"com.docker.compose.project={expected}"})
    finally:
        Stack(expected, stack.directory).down()


def test_on_a_laptop_the_project_name_is_composes_own(stack: Stack, tmp_path: Path) -> None:
    stack.write(compose(app=service("exec sleep 300")))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "STACKCI_"))}
    result = run_action(ACTION, {"working-directory": str(stack.directory)}, env,
                        cwd=tmp_path)
    assert result.code == 0, result
    printed = json.loads(result.stdout)  # off Actions, the outputs are JSON on stdout
    assert printed["project-name"] == stack.directory.name == stack.name
    assert "app: running after " in result.stderr


# -- the event stream ----------------------------------------------------------------------

def test_events_from_before_the_subscription_are_replayed_from_since(stack: Stack) -> None:
    """The action starts `up` first and subscribes a moment later (its import of
    docker-py overlaps with Compose's start): the engine must replay what it emitted
    in between, from the time taken before `up`."""
    stack.write(compose(app=service("exec sleep 300")))
    since = time.time()
    stack.compose("up", "--detach")
    received: queue.Queue[ContainerEvent | None] = queue.Queue()
    events = ProjectEvents(stream_client(), stack.name, received.put, since=since)
    actions: list[str] = []
    try:
        deadline = time.monotonic() + 10
        while not {"create", "start"} <= set(actions) and time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                event = received.get(timeout=0.5)
                if event is not None:
                    actions.append(event.action)
    finally:
        events.close()
    assert actions[:2] == ["create", "start"], actions


# -- through the launcher ---------------------------------------------------------------

def test_relative_paths_resolve_as_on_the_runner_through_the_launcher(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    """A relative bind mount, a relative env_file and a relative build context, with the
    action running in its container through the launcher."""
    (stack.directory / "data").mkdir()
    (stack.directory / "data" / "message.txt").write_text("hello from the workspace\n")
    (stack.directory / "app").mkdir()
    (stack.directory / "app" / "Dockerfile").write_text(
        "FROM busybox:1.36\nCOPY baked.txt /baked.txt\n")
    (stack.directory / "app" / "baked.txt").write_text("baked from the build context\n")
    (stack.directory / "app.env").write_text("GREETING=hello from env_file\n")
    cgi(stack, "200 OK", "ok")
    stack.write(compose(
        reader=service("cat /data/message.txt; exec sleep 300", 'volumes: ["./data:/data:ro"]'),
        built=service('cat /baked.txt; echo "$$GREETING"; exec sleep 300',
                      "build: ./app\nenv_file: ./app.env", image=None),
        api=service(HTTPD, WWW),  # not published: reached at its container address
    ))
    env = {**wf_env, "GITHUB_WORKSPACE": str(stack.directory)}
    try:
        result = run_action(ACTION, {
            "project-name": stack.name,
            "timeout": "2m",
            "wait": "reader: [{log: hello from the workspace},\n"
                    "         {exec: grep -q hello /data/message.txt}]\n"
                    "built: [{log: baked from the build context}, {log: hello from env_file}]\n"
                    "api: {http: http://api:8000/cgi-bin/health}\n",
        }, env, launcher=True, cwd=stack.directory)
    finally:
        for image in docker_client.images.list(name=f"{stack.name}-built"):
            stack.down()
            docker_client.images.remove(image.id, force=True)
    assert result.code == 0, result
    services = services_output(result)
    assert all(services[name]["ready"] for name in ("reader", "built", "api")), services
    assert result.outputs["project-name"] == stack.name


# -- bad input ----------------------------------------------------------------------------

GOOD = compose(db=service("exec sleep 300"))
BAD_INPUTS = [
    # (id, inputs, compose file or None, the input the error must name)
    ("missing compose file", {"compose-file": "nope.yaml"}, GOOD, "compose-file"),
    ("no compose file at all", {}, None, "compose-file"),
    ("invalid compose file", {}, "services: 5\n", "compose-file"),
    # Was: exit 1 "no service selected", after starting.
    ("no services at all", {}, "services: {}\n", "compose-file"),
    ("bad x-stackci-wait", {}, GOOD + "    x-stackci-wait: soon\n", "compose-file"),
    ("wait is invalid YAML", {"wait": "db: [unclosed"}, GOOD, "wait"),
    ("wait is a list", {"wait": "- db"}, GOOD, "wait"),
    ("unknown check name", {"wait": "db: ready"}, GOOD, "wait"),
    ("unknown check key", {"wait": "db: {htp: 'http://db/'}"}, GOOD, "wait"),
    ("http without a scheme", {"wait": "db: {http: 'localhost:80/'}"}, GOOD, "wait"),
    ("bad status", {"wait": "db: {http: 'http://db/', status: 999}"}, GOOD, "wait"),
    ("bad log regex", {"wait": "db: {log: '('}"}, GOOD, "wait"),
    ("negative service timeout", {"wait": "db: {running: true, timeout: -1}"}, GOOD, "wait"),
    ("wait names an unknown service", {"wait": "nope: healthy"}, GOOD, "wait"),
    ("services names an unknown service", {"services": "db, nope"}, GOOD, "services"),
    ("negative timeout", {"timeout": "-5s"}, GOOD, "timeout"),
    ("unparsable timeout", {"timeout": "soon"}, GOOD, "timeout"),
    ("zero timeout", {"timeout": "0"}, GOOD, "timeout"),
    # Was: passed validation, started `up`, then crashed with OverflowError (exit 1).
    ("timeout beyond any job", {"timeout": "99999999999h"}, GOOD, "timeout"),
    ("settle beyond its maximum", {"settle": "11m"}, GOOD, "settle"),
    ("settle not a duration", {"settle": "a while"}, GOOD, "settle"),
    ("start-mode not a mode", {"start-mode": "fast"}, GOOD, "start-mode"),
    ("timeout over 6h", {"timeout": "6h1s"}, GOOD, "timeout"),
    ("service timeout over 6h", {"wait": "db: {running: true, timeout: 7h}"}, GOOD, "wait"),
    ("bad pull", {"pull": "sometimes"}, GOOD, "pull"),
    ("bad build", {"build": "yes please"}, GOOD, "build"),
    ("bad fail-fast", {"fail-fast": "maybe"}, GOOD, "fail-fast"),
    ("bad run-healthchecks", {"run-healthchecks": "often"}, GOOD, "run-healthchecks"),
    ("bad export-env", {"export-env": "sometimes"}, GOOD, "export-env"),
    ("negative logs-on-failure", {"logs-on-failure": "-1"}, GOOD, "logs-on-failure"),
    ("bad project name", {"project-name": "My Stack"}, GOOD, "project-name"),
    ("missing env file", {"env-file": "nope.env"}, GOOD, "env-file"),
    ("missing working directory", {"working-directory": "nope"}, GOOD, "working-directory"),
]


@pytest.mark.parametrize(("inputs", "compose_yaml", "named"),
                         [case[1:] for case in BAD_INPUTS], ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_exits_2_naming_the_input_and_starts_nothing(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient,
        inputs: dict[str, str], compose_yaml: str | None, named: str) -> None:
    if compose_yaml is not None:
        stack.write(compose_yaml)
    values = {"working-directory": str(stack.directory), "project-name": stack.name, **inputs}
    if inputs.get("working-directory"):
        values["working-directory"] = str(stack.directory / inputs["working-directory"])
    result = run_action(ACTION, values, wf_env)
    assert result.code == 2, result
    errors = result.errors()
    assert len(errors) == 1, result
    assert errors[0].message.startswith(f"input '{named}': expected "), errors[0].message
    assert "Traceback" not in result.stdout + result.stderr
    assert not docker_client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={stack.name}"})


# -- a green run means the stack is ready (the hostile test, issue 12) -----------------

START_MODES = ["ready", "compose"]


def in_mode(start_mode: str, **services: str) -> str:
    """The stack; for the ready start, every service also waits for a quick `gate` to be
    healthy, so that the dependency-aware start really runs (a stack without such a
    condition is started with one `up` in both modes)."""
    if start_mode == "compose":
        return compose(**services)
    gated = {name: body + "    depends_on:\n      gate:\n        condition: service_healthy\n"
             for name, body in services.items()}
    return compose(gate=service("touch /tmp/ready; exec sleep 300", HEALTHCHECK), **gated)


def processes(stack: Stack, service_name: str) -> str:
    """What runs in the service's container (`docker top`)."""
    return stack.compose("top", service_name, check=False).stdout


@pytest.mark.parametrize("start_mode", START_MODES)
def test_an_exec_attempt_may_run_longer_than_ten_seconds(stack: Stack, wf_env: dict[str, str],
                                                         start_mode: str) -> None:
    # A JVM client on a slow runner: one attempt takes 11 s.
    result = up(stack, wf_env, in_mode(start_mode, hang=service("exec sleep 300")),
                wait='hang: {exec: "sleep 11; true"}', timeout="40s", start_mode=start_mode)
    assert result.code == 0, result
    assert "hang: `sleep 11; true` exited 0 after " in result.stdout


@pytest.mark.parametrize("start_mode", START_MODES)
def test_an_exec_attempt_given_up_is_killed_and_named(stack: Stack, wf_env: dict[str, str],
                                                      start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(start_mode, hang=service("exec sleep 300")),
                wait='hang: {exec: "sleep 77; true"}', timeout="4s", start_mode=start_mode)
    assert result.code == 1, result
    assert error_messages(result)["hang"] == (
        "hang: `sleep 77; true` did not finish its first attempt within 4.0 s")
    time.sleep(0.5)  # the kill is an exec of its own
    assert "sleep 77" not in processes(stack, "hang")


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_service_timeout_limits_an_exec_attempt(stack: Stack, wf_env: dict[str, str],
                                                  start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(start_mode, hang=service("exec sleep 300")),
                wait='hang: {exec: "sleep 78; true", timeout: 2s}', timeout="30s",
                start_mode=start_mode)
    assert result.code == 1, result
    assert error_messages(result)["hang"] == (
        "hang: `sleep 78; true` did not finish its first attempt within 2.0 s")
    time.sleep(0.5)
    assert "sleep 78" not in processes(stack, "hang")


@pytest.mark.parametrize("start_mode", START_MODES)
@pytest.mark.parametrize("wait", [None, "crashy: running"])
def test_without_fail_fast_a_crash_loop_is_never_ready(
        stack: Stack, wf_env: dict[str, str], wait: str | None, start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(
        start_mode, crashy=service("sleep 0.5; exit 1", "restart: always"),
    ), wait=wait, fail_fast="false", timeout="8s", start_mode=start_mode)
    assert result.code == 1, result
    crashy = services_output(result)["crashy"]
    assert crashy["ready"] is False
    assert "exited with code 1" in crashy["reason"], crashy


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_one_shot_that_fails_after_the_old_settle_time_fails(
        stack: Stack, wf_env: dict[str, str], start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(start_mode, migrate=service("sleep 1.4; exit 3")),
                start_mode=start_mode)
    assert result.code == 1, result
    assert error_messages(result)["migrate"].startswith(
        "migrate: exited with code 3 after running 1.")


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_service_ready_by_running_says_so_and_settles(stack: Stack, wf_env: dict[str, str],
                                                        start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(start_mode, app=service("exec sleep 300")), settle="1s",
                start_mode=start_mode)
    assert result.code == 0, result
    assert "app: running after " in result.stdout
    assert "(ready only by running: no healthcheck or check says more; it has to keep " \
        "running 1.0 s)" in result.stdout
    # The ready start released app once gate was healthy; compose started it itself.
    assert ("app: starting (" in result.stdout) == (start_mode == "ready")


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_service_that_fails_after_its_log_check_passed_fails(
        stack: Stack, wf_env: dict[str, str], start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(
        start_mode,
        worker=service("echo consumer started; sleep 0.5; exit 6"),
        app=service("exec sleep 300"),
    ), wait="worker: {log: consumer started}", start_mode=start_mode)
    assert result.code == 1, result
    assert error_messages(result)["worker"].startswith(
        "worker: exited with code 6 after running ")


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_dependency_named_completed_successfully_must_complete(
        stack: Stack, wf_env: dict[str, str], start_mode: str) -> None:
    result = up(stack, wf_env, compose(
        migrate=service("sleep 2.5; echo migrated"),
        api=service("exec sleep 300", "depends_on:\n  migrate:\n"
                                      "    condition: service_completed_successfully"),
    ), start_mode=start_mode)
    assert result.code == 0, result
    services = services_output(result)
    assert services["migrate"]["check"] == "completed"
    assert services["migrate"]["exit-code"] == 0
    assert "migrate: completed (exit 0) after " in result.stdout


@pytest.mark.parametrize("start_mode", START_MODES)
def test_a_pull_failure_is_blamed_once_with_its_cause(stack: Stack, wf_env: dict[str, str],
                                                      start_mode: str) -> None:
    result = up(stack, wf_env, in_mode(
        start_mode,
        ghost=service("exec sleep 300", image="stackci-test/no-such-image:1"),
        spirit=service("exec sleep 300", image="stackci-test/no-such-image:2"),
        app=service("exec sleep 300"),
    ), pull="never", start_mode=start_mode)
    assert result.code == 1, result
    errors = error_messages(result)
    assert set(errors) == {"compose"}, errors
    assert "no such image" in errors["compose"].lower(), errors
    # The ready start runs `docker compose create` first, and says that is what failed.
    command = "create" if start_mode == "ready" else "up"
    assert errors["compose"].startswith(f"docker compose {command} failed: "), errors
    services = services_output(result)
    for name in ("ghost", "spirit"):
        assert services[name]["reason"] == \
            f"was not started because docker compose {command} failed (see its error)"


def test_a_healthcheck_service_never_started_does_not_say_health_none(
        stack: Stack, wf_env: dict[str, str]) -> None:
    result = up(stack, wf_env, compose(
        db=service("exec sleep 300", SLOW_HEALTHCHECK),
        api=service("exec sleep 300", textwrap.dedent(HEALTHCHECK) + "depends_on:\n  db:\n"
                    "    condition: service_healthy"),
    ), timeout="2s", run_healthchecks="false")
    assert result.code == 1, result
    reason = services_output(result)["api"]["reason"]
    assert "health: none" not in reason, reason
    assert "exit None" not in result.stdout


def test_a_refused_localhost_port_says_where_it_is_published(
        stack: Stack, wf_env: dict[str, str]) -> None:
    cgi(stack, "200 OK", "ok")
    result = up(stack, wf_env, compose(
        api=service(HTTPD, f'{WWW}\nports: ["127.0.0.1::8000"]'),
    ), wait="api: {http: 'http://localhost:8000/cgi-bin/health', timeout: 2s}")
    assert result.code == 1, result
    port = services_output(result)["api"]["ports"]["8000/tcp"].rpartition(":")[2]
    assert f"port 8000 of api is published on host port {port}" in \
        error_messages(result)["api"], result


# -- the dependency-aware start (issue 13) -----------------------------------------------

# The engine runs this healthcheck first 30 s after the container starts: a dependent
# started sooner was released by StackCI's own run of it.
SLOW_ENGINE_HEALTHCHECK = """
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 30s
      timeout: 10s
      retries: 3
"""


def project_events(docker_client: docker.DockerClient, stack: Stack, since: float
                   ) -> list[tuple[str, str, float]]:
    """(service, action, time) of the project's container events since `since`."""
    raw = docker_client.api.events(since=since, until=time.time(), decode=True, filters={
        "type": "container", "label": f"com.docker.compose.project={stack.name}"})
    found = []
    for item in raw:
        event = ContainerEvent.from_raw(item)
        if event is not None:
            found.append((event.service, event.action, event.time))
    return found


def first(events: list[tuple[str, str, float]], service_name: str, action: str) -> float:
    return min(t for s, a, t in events if s == service_name and a.startswith(action))


def chain(*, interval_yaml: str = SLOW_ENGINE_HEALTHCHECK) -> str:
    ready = "sleep 0.5; touch /tmp/ready; exec sleep 300"
    extra = textwrap.dedent(interval_yaml)
    return compose(
        db=service(ready, extra),
        api=service(ready, extra + "depends_on:\n  db:\n    condition: service_healthy"),
        web=service("exec sleep 300",
                    "depends_on:\n  api:\n    condition: service_healthy"),
    )


# What really makes `docker compose create` fail (tried on Compose 2.40.3): an image
# reference that is not one, an external network that is not there, an image missing
# with `pull: never` (test_a_pull_failure_is_blamed_once_with_its_cause). `compose
# config` accepts all three. A host port already taken is not one: create never binds
# ports, the start does (test_a_port_taken_fails_the_start_not_the_create).
CREATE_FAILURES = [
    ("not an image reference",
     service("exec sleep 300", image="stackci-test/Not-Lowercase:1"), "",
     "invalid reference format: repository name must be lowercase"),
    ("a missing external network",
     service("exec sleep 300", "networks: [outside]"),
     f"networks:\n  outside:\n    external: true\n    name: stackci-test-{uuid.uuid4().hex}\n",
     "declared as external, but could not be found"),
]


def gated(api_body: str) -> str:
    """A stack with a service_healthy condition, so that the staged start runs."""
    return compose(
        db=service("touch /tmp/ready; exec sleep 300", HEALTHCHECK),
        api=api_body + "    depends_on:\n      db:\n        condition: service_healthy\n")


@pytest.mark.parametrize(("api_body", "top_level", "said"), [c[1:] for c in CREATE_FAILURES],
                         ids=[c[0] for c in CREATE_FAILURES])
def test_a_failed_create_says_the_create_failed_in_composes_words(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient,
        tmp_path: Path, api_body: str, top_level: str, said: str) -> None:
    stack.write(gated(api_body) + top_level)
    result = up(stack, wf_env)
    assert result.code == 1, result
    [error] = result.errors()  # the create's, once; no service blamed again
    assert error.title == "compose-up-and-wait: docker compose create"
    assert error.message.startswith("docker compose create failed: "), error
    assert said in error.message, error
    assert "compose up failed" not in result.stdout + result.stderr
    assert "docker compose create failed after " in result.stdout
    assert "::group::docker compose create" in result.stdout
    for name in ("db", "api"):
        assert services_output(result)[name]["reason"] == \
            "was not started because docker compose create failed (see its error)"
    assert not docker_client.containers.list(filters={
        "label": f"com.docker.compose.project={stack.name}"})  # nothing runs

    # On a laptop, the same words on stderr, and the same exit code.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "STACKCI_"))}
    laptop = run_action(ACTION, {"working-directory": str(stack.directory),
                                 "project-name": stack.name}, env, cwd=tmp_path)
    assert laptop.code == 1, laptop
    assert "error: compose-up-and-wait: docker compose create: docker compose create " \
        "failed: " in laptop.stderr, laptop
    assert said in laptop.stderr
    assert "compose up failed" not in laptop.stderr


def test_a_port_taken_fails_the_start_not_the_create(
        stack: Stack, wf_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = up(stack, wf_env, gated(service(
            "exec sleep 300", f'ports: ["127.0.0.1:{port}:80"]')))
    assert result.code == 1, result
    errors = error_messages(result)
    assert set(errors) == {"api"}, errors  # the create went well
    assert errors["api"].startswith("api: could not be started: "), errors
    assert "create failed" not in result.stdout


def test_a_chain_starts_each_level_when_its_dependency_really_is_ready(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    begun = time.time()
    result = up(stack, wf_env, chain(), timeout="50s")
    assert result.code == 0, result
    events = project_events(docker_client, stack, begun - 1)
    # In order, and each dependent before the engine's first run of its dependency's
    # healthcheck (30 s after that started): the engine could not have released it.
    db, api, web = (first(events, s, "start") for s in ("db", "api", "web"))
    assert db < api < web
    assert api < db + 30
    assert web < api + 30
    assert not [a for s, a, _ in events if a == "health_status: healthy"]
    assert "api: starting (" in result.stdout
    assert "db passed its healthcheck)" in result.stdout


def test_the_escape_hatch_gives_compose_its_own_start(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    fast = HEALTHCHECK  # the engine's own interval is short here: compose is quick too
    result = up(stack, wf_env, chain(interval_yaml=fast), start_mode="compose")
    assert result.code == 0, result
    assert "starting (" not in result.stdout  # no release lines: compose started it all


def test_a_failed_dependency_means_its_dependents_never_start(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    result = up(stack, wf_env, compose(
        db=service("sleep 0.5; exit 3", textwrap.dedent(HEALTHCHECK)),
        api=service("exec sleep 300", "depends_on:\n  db:\n    condition: service_healthy"),
    ), timeout="30s")
    assert result.code == 1, result
    assert error_messages(result)["db"].startswith("db: exited with code 3")
    reason = services_output(result)["api"]["reason"]
    assert "not started: db exited with code 3" in reason, reason
    [api] = docker_client.containers.list(all=True, filters={
        "label": [f"com.docker.compose.project={stack.name}",
                  "com.docker.compose.service=api"]})
    assert api.attrs["State"]["StartedAt"].startswith("0001-")  # never started


def test_completed_and_started_conditions(stack: Stack, wf_env: dict[str, str],
                                          docker_client: docker.DockerClient) -> None:
    begun = time.time()
    result = up(stack, wf_env, compose(
        migrate=service("sleep 1; echo migrated"),
        cache=service("exec sleep 300"),
        api=service("exec sleep 300", """
            depends_on:
              migrate:
                condition: service_completed_successfully
              cache:
                condition: service_started
              ghost:
                condition: service_healthy
                required: false
        """),
        ghost=service("exec sleep 300", "profiles: [never]"),
    ))
    assert result.code == 0, result
    events = project_events(docker_client, stack, begun - 1)
    assert first(events, "api", "start") > first(events, "migrate", "die")
    assert services_output(result)["migrate"]["check"] == "completed"


def test_a_scaled_dependency_and_services_naming_the_top_of_a_chain(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    result = up(stack, wf_env, compose(
        db=service("sleep 0.3; touch /tmp/ready; exec sleep 300",
                   textwrap.dedent(HEALTHCHECK) + "scale: 2"),
        api=service("exec sleep 300", "depends_on:\n  db:\n    condition: service_healthy"),
        other=service("exec sleep 300"),
    ), services="api")
    assert result.code == 0, result
    services = services_output(result)
    assert set(services) == {"db", "api"}
    assert len(services["db"]["containers"]) == 2


def test_a_dependency_already_running_is_checked_and_released(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    stack.write(chain())
    stack.compose("up", "-d", "--no-deps", "db")
    result = up(stack, wf_env, timeout="50s")
    assert result.code == 0, result
    assert services_output(result)["web"]["ready"] is True


def test_down_after_the_new_start_leaves_nothing(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    result = up(stack, wf_env, chain(interval_yaml=HEALTHCHECK))
    assert result.code == 0, result
    ps = stack.compose("ps", "--format", "json").stdout
    assert ps.count(stack.name) >= 3
    stack.compose("down", "--volumes")
    left = docker_client.containers.list(all=True, filters={
        "label": f"com.docker.compose.project={stack.name}"})
    networks = docker_client.networks.list(filters={
        "label": f"com.docker.compose.project={stack.name}"})
    assert left == []
    assert networks == []


# A chain with every condition kind, a named volume and two non-default networks with
# labels of their own, a scaled service with a post_start hook (what Compose does at
# start, which a start through the engine API would skip), and a one-shot.
LIKE_COMPOSE = """
services:
  db:
    image: busybox:1.36
    command: ["sh", "-c", "echo db booting; sleep 0.3; touch /tmp/ready; echo db ready;
                           exec sleep 300"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      timeout: 30s
      retries: 1000
    volumes: ["data:/data"]
    networks: [back]
  migrate:
    image: busybox:1.36
    command: ["sh", "-c", "echo migrating; touch /data/migrated; echo migrated"]
    volumes: ["data:/data"]
    networks: [back]
    depends_on:
      db:
        condition: service_healthy
  api:
    image: busybox:1.36
    command: ["sh", "-c", "echo api up; exec sleep 300"]
    scale: 2
    networks: [back, front]
    post_start:
      - command: ["touch", "/tmp/hooked"]
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
  web:
    image: busybox:1.36
    command: ["sh", "-c", "echo web up; exec sleep 300"]
    networks: [front]
    depends_on:
      api:
        condition: service_started
volumes:
  data:
    labels:
      org.example.purpose: test-data
networks:
  back:
    labels:
      org.example.tier: back
  front: {}
"""


def as_compose_made_it(docker_client: docker.DockerClient, stack: Stack) -> dict[str, Any]:
    """What the engine holds of the project, with its name replaced by `<project>`: per
    container its name, Compose labels, networks with their DNS aliases, mounts and
    restart policy; the networks and volumes with their labels.

    Every com.docker.compose.* label is compared, values modulo the project name, with
    two deliberate exceptions, both differing between two plain `docker compose up` runs
    as much as here:
    - `depends_on` on a container lists its entries in the order of a Go map's
      iteration, which Go randomizes: compared as a set.
    - `config-hash` on a network or volume hashes its resolved configuration, which
      holds its project-prefixed name (`name: <project>_back`, as `docker compose
      config` shows): left out. That Compose takes the staged start's networks and
      volumes for its own is checked instead by a later `up` recreating nothing.
    A container's `config-hash` holds no project name and is compared as it is; the
    working_dir and config_files labels are equal because both projects use the same
    file in the same folder. The engine's own per-container values (ids, times,
    addresses, the short-id alias) differ between any two runs and are left out."""
    def norm(value: str) -> str:
        # The shared folder first: the fixture named it after the first project.
        return value.replace(str(stack.directory), "<folder>").replace(stack.name, "<project>")

    def compose_labels(labels: dict[str, str] | None, *, hash_too: bool = True
                       ) -> dict[str, str]:
        found = {k: norm(v) for k, v in (labels or {}).items()
                 if k.startswith(("com.docker.compose.", "org.example."))}
        if "com.docker.compose.depends_on" in found:
            found["com.docker.compose.depends_on"] = ",".join(sorted(
                found["com.docker.compose.depends_on"].split(",")))
        if not hash_too:
            assert found.pop("com.docker.compose.config-hash", None)
        return found

    flt = {"label": f"com.docker.compose.project={stack.name}"}
    containers = {}
    for container in docker_client.containers.list(all=True, filters=flt):
        attrs = container.attrs
        containers[norm(container.name)] = {
            "labels": compose_labels(container.labels),
            "networks": {norm(net): sorted(norm(a) for a in info.get("Aliases") or []
                                           if a != container.id[:12])
                         for net, info in attrs["NetworkSettings"]["Networks"].items()},
            "mounts": sorted((m["Type"], norm(m.get("Name", "")), m["Destination"])
                             for m in attrs["Mounts"]),
            "restart": attrs["HostConfig"]["RestartPolicy"]["Name"],
        }
    networks = {norm(n.name): {"labels": compose_labels(n.attrs.get("Labels"), hash_too=False),
                               "driver": n.attrs.get("Driver")}
                for n in docker_client.networks.list(filters=flt)}
    volumes = {norm(v.name): {"labels": compose_labels(v.attrs.get("Labels"), hash_too=False),
                              "driver": v.attrs.get("Driver")}
               for v in docker_client.volumes.list(filters=flt)}
    return {"containers": containers, "networks": networks, "volumes": volumes}


def differences(ours: Any, theirs: Any, where: str = "") -> list[str]:
    """Where two nested values differ, one line each (pytest's diff of two large
    mappings shows only that they differ)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return [line for key in sorted(set(ours) | set(theirs))
                for line in differences(ours.get(key), theirs.get(key), f"{where}/{key}")]
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        return [line for index, (one, other) in enumerate(zip(ours, theirs, strict=True))
                for line in differences(one, other, f"{where}/{index}")]
    return [] if ours == theirs else [f"{where}: staged {ours!r}, compose {theirs!r}"]


def wait_until_engine_says_healthy(docker_client: docker.DockerClient, stack: Stack) -> None:
    """The staged start released db's dependents on StackCI's own healthcheck run; for
    `ps` to be compared, the engine's health status must have caught up."""
    deadline = time.time() + 20
    while time.time() < deadline:
        [db] = docker_client.containers.list(all=True, filters={"label": [
            f"com.docker.compose.project={stack.name}", "com.docker.compose.service=db"]})
        if db.attrs["State"].get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(0.1)
    pytest.fail(f"db of {stack.name} never became healthy for the engine")


def compose_sees(stack: Stack) -> dict[str, Any]:
    """What `docker compose ps`, `logs` and `exec` tell of the project, the project's
    name replaced by `<project>`."""
    def norm(text: str) -> str:
        return text.replace(str(stack.directory), "<folder>").replace(stack.name, "<project>")

    ps = [json.loads(line) for line in
          stack.compose("ps", "--all", "--format", "json").stdout.splitlines() if line.strip()]
    # ID, times, Status ("Up 2 seconds") and RunningFor differ between any two runs;
    # Networks comes in a Go map's (random) order.
    listed = [{k: norm(str(entry[k])) for k in ("Name", "Service", "State", "Health",
                                                "ExitCode", "Image", "Command",
                                                "LocalVolumes", "Publishers")}
              | {"Networks": sorted(norm(entry["Networks"]).split(","))} for entry in ps]
    # Compose pads each line's prefix to the longest container name it has printed so
    # far, which depends on the order the streams answer in: one space is kept.
    logs = sorted(re.sub(r"^(\S+) +\| ", r"\1 | ", norm(line).rstrip()) for line in
                  stack.compose("logs", "--no-color").stdout.splitlines() if line.strip())
    execs = {}
    for args in (("api", "test", "-f", "/tmp/hooked"),  # the post_start hook ran
                 ("--index", "2", "api", "test", "-f", "/tmp/hooked"),
                 ("db", "ls", "/data"),  # the one-shot ran on the shared volume
                 ("web", "sh", "-c", "ping -c 1 -W 2 api >/dev/null && echo reached api"),
                 ("migrate", "true")):  # exited: exec refuses, the same way
        done = stack.compose("exec", "-T", *args, check=False)
        execs[" ".join(args)] = (done.returncode, norm(done.stdout).strip(),
                                 norm(done.stderr).strip())
    return {"ps": listed, "logs": logs, "exec": execs}


def down_and_leftovers(docker_client: docker.DockerClient, stack: Stack
                       ) -> tuple[list[str], list[str]]:
    """`docker compose down --volumes`: what it says it removed, and what is left."""
    done = stack.compose("down", "--volumes", "--timeout", "1")
    removed = sorted(line.split()[1].replace(stack.name, "<project>") for line in
                     (done.stdout + done.stderr).splitlines() if line.strip().endswith("Removed"))
    flt = {"label": f"com.docker.compose.project={stack.name}"}
    left = [c.name for c in docker_client.containers.list(all=True, filters=flt)]
    left += [n.name for n in docker_client.networks.list(filters=flt)]
    left += [v.name for v in docker_client.volumes.list(filters=flt)]
    return removed, left


def test_the_staged_start_makes_the_stack_docker_compose_up_makes(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    stack.write(LIKE_COMPOSE)
    result = up(stack, wf_env)
    assert result.code == 0, result
    assert "api: starting (" in result.stdout  # the staged start really ran
    with beside(stack) as composed:
        composed.compose("up", "--detach")
        for project in (stack, composed):
            wait_until_engine_says_healthy(docker_client, project)

        ours, theirs = (as_compose_made_it(docker_client, s) for s in (stack, composed))
        assert sorted(ours["containers"]) == [
            "<project>-api-1", "<project>-api-2", "<project>-db-1", "<project>-migrate-1",
            "<project>-web-1"]
        assert sorted(ours["networks"]) == ["<project>_back", "<project>_front"]
        assert sorted(ours["volumes"]) == ["<project>_data"]
        assert differences(ours, theirs) == []

        seen = compose_sees(stack)
        assert differences(seen, compose_sees(composed)) == []
        assert all(code == 0 for code, _, _ in list(seen["exec"].values())[:4]), seen["exec"]
        assert seen["exec"]["migrate true"][0] != 0  # a stopped container, in both
        assert "migrate-1 | migrated" in seen["logs"], seen["logs"]

        # Compose finds nothing to recreate in either (containers, networks, volumes
        # all current); it starts the exited one-shot again, in both.
        again = [{line.strip().replace(s.name, "<project>") for line in
                  s.compose("up", "--detach").stderr.splitlines() if line.strip()}
                 for s in (stack, composed)]
        assert again[0] == again[1]
        assert not [line for line in again[0] if "Recreate" in line or "Created" in line]

        ours_down, theirs_down = (down_and_leftovers(docker_client, s)
                                  for s in (stack, composed))
        assert ours_down == theirs_down
        assert ours_down[1] == [], ours_down
        assert "<project>_data" in ours_down[0]
