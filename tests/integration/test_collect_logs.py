"""collect-logs against the real engine, with busybox stand-in services: logs of a
healthy, a crashed, a scaled, an unhealthy and a one-shot service (and a `compose run`
container); copies of a file, a folder, a glob and a missing file; redaction in every
file and in inspect dumps; restarts and an OOM kill in events.jsonl; teardown leaving
nothing with the project's label; a half-started stack; the project-name rules; one run
through the launcher."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from stackci.core.engine.compose import PROJECT_LABEL
from stackci_testing.docker import Stack, leftovers, stack_in
from stackci_testing.runner import Result, run_action, workflow_env

pytestmark = pytest.mark.docker

ACTION = "collect-logs"
SECRET = "pw-Secret-42"
# Secrets only the containers' environment holds (never passed in `redact`).
ENV_SECRET = "hunter-22x"
URL_SECRET = "url-pw-99"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z "

# One stack for the read-only tests: collecting does not change it.
MIXED = f"""
services:
  web:
    image: busybox:1.36
    stop_signal: SIGKILL
    deploy:
      replicas: 2
    environment:
      API_TOKEN: tok-abcdef-123
      DB_PASSWORD: {SECRET}
      GREETING: hello-visible
      DB_PASS: {ENV_SECRET}
      DATABASE_URL: postgres://app:{URL_SECRET}@db:5432/app
    command:
      - sh
      - -c
      - |
        echo out-1; sleep 0.2; echo err-1 >&2; sleep 0.2; echo out-2
        echo "connecting with $$DB_PASS to $$DATABASE_URL"
        echo "login with password {SECRET}"
        echo "::error::forged by a container"
        mkdir -p /results/sub /results/empty
        echo '<testsuite name="{SECRET}"/>' > /results/junit.xml
        echo '<coverage/>' > /results/coverage.xml
        echo nested > /results/sub/deep.txt
        printf 'bin\\000{SECRET}' > /results/blob.bin
        exec httpd -f -p 8080
    healthcheck:
      test: ["CMD-SHELL", "echo probing with {ENV_SECRET}"]
      interval: 1s
  crash:
    image: busybox:1.36
    command: ["sh", "-c", "echo about to crash; sleep 0.2; echo 'fatal: no database' >&2; exit 3"]
  migrate:
    image: busybox:1.36
    command: ["sh", "-c", "echo migrated 3 tables"]
  sick:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "echo sick starting; exec sleep 600"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
"""


def states(client: docker.DockerClient, project: str) -> dict[str, dict[str, Any]]:
    found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    return {c.name: c.attrs for c in found}


def wait_until(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the test stack did not reach the expected state")
        time.sleep(0.3)


def health(attrs: dict[str, Any]) -> str:
    return str((attrs["State"].get("Health") or {}).get("Status", ""))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory,
          docker_client: docker.DockerClient) -> Iterator[Stack]:
    with stack_in(tmp_path_factory.mktemp("collect")) as stack:
        stack.write(MIXED)
        stack.compose("up", "--detach")
        stack.compose("run", "migrate", "echo", "one-off run")
        name = stack.name

        def settled() -> bool:
            s = states(docker_client, name)
            return (len(s) == 6
                    and s[f"{name}-crash-1"]["State"]["Status"] == "exited"
                    and health(s[f"{name}-sick-1"]) == "unhealthy"
                    and all(health(s[f"{name}-web-{i}"]) == "healthy" for i in (1, 2)))

        wait_until(settled)
        yield stack


def collect(stack_name: str, env: dict[str, str], **inputs: str) -> Result:
    values = {"project-name": stack_name}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    return run_action(ACTION, values, env)


def folder_of(result: Result) -> Path:
    return Path(result.outputs["path"])


def groups(stdout: str) -> dict[str, list[str]]:
    """The job log's groups: title -> lines."""
    found: dict[str, list[str]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("::group::"):
            current = line.removeprefix("::group::")
            found[current] = []
        elif line == "::endgroup::":
            current = None
        elif current is not None:
            found[current].append(line)
    return found


# -- the mixed stack ----------------------------------------------------------------------
def test_collects_every_container_and_reports_the_failed_ones(mixed: Stack,
                                                               wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, redact=SECRET)
    assert result.code == 0, result
    out = folder_of(result)
    assert out == Path(wf_env["GITHUB_WORKSPACE"]) / "stackci-logs"
    logs = sorted(p.name for p in (out / "logs").iterdir())
    run_log = next(n for n in logs if n.startswith("migrate-run-"))
    assert logs == sorted(["web-1.log", "web-2.log", "crash.log", "migrate.log", "sick.log",
                           run_log])
    assert json.loads(result.outputs["failed-services"]) == ["crash", "sick"]

    # stdout and stderr interleaved in order, with the engine's timestamps.
    web = (out / "logs" / "web-1.log").read_text().splitlines()
    assert [re.sub(TIMESTAMP, "", line) for line in web[:3]] == ["out-1", "err-1", "out-2"]
    assert all(re.match(TIMESTAMP, line) for line in web)
    assert (out / "logs" / "crash.log").read_text().endswith(" fatal: no database\n")
    assert "migrated 3 tables" in (out / "logs" / "migrate.log").read_text()
    assert "one-off run" in (out / "logs" / run_log).read_text()

    containers = {c["name"]: c for c in result.json_output("containers")}  # type: ignore[union-attr]
    crash = containers[f"{mixed.name}-crash-1"]
    assert (crash["state"], crash["exit_code"], crash["failed"]) == ("exited", 3, True)
    assert crash["problems"] == ["exited with code 3"]
    assert crash["log"] == "logs/crash.log"
    assert containers[f"{mixed.name}-sick-1"]["problems"] == ["unhealthy"]
    assert containers[f"{mixed.name}-web-2"]["health"] == "healthy"
    assert containers[f"{mixed.name}-migrate-1"]["exit_code"] == 0
    assert not containers[f"{mixed.name}-migrate-1"]["failed"]

    files = result.json_output("files")
    assert isinstance(files, list)
    for name in ("index.md", "ps.json", "ps.txt", "networks.json", "events.jsonl",
                 f"inspect/{mixed.name}-web-1.json", "logs/crash.log"):
        assert name in files
        assert (out / name).is_file()
    assert sorted(files) == sorted(str(p.relative_to(out)) for p in out.rglob("*")
                                   if p.is_file())
    assert json.loads((out / "ps.json").read_text()) == result.json_output("containers")
    assert re.search(rf"{mixed.name}-crash-1 +crash +exited +3", (out / "ps.txt").read_text())
    networks = json.loads((out / "networks.json").read_text())
    assert [n["Name"] for n in networks] == [f"{mixed.name}_default"]
    assert len(networks[0]["Containers"]) == 3  # the running ones: web x2, sick

    # Only the failed services' logs are printed, one group each.
    printed = groups(result.stdout)
    assert list(printed) == ["crash: last 100 log lines (exited with code 3)",
                             "sick: last 100 log lines (unhealthy)"]
    assert printed["crash: last 100 log lines (exited with code 3)"][-1].endswith(
        " fatal: no database")

    # index.md is the job summary too.
    index = (out / "index.md").read_text()
    assert index.strip() == result.summary.strip()
    assert f"### StackCI collect-logs: `{mixed.name}`" in index
    assert "6 container(s) collected" in index
    assert "failed: crash, sick." in index
    assert re.search(r"\| ❌ crash \| .*-crash-1 \| exited \| 3 \| 0 \| \\- \|  \| \d+ B \| "
                     r"`logs/crash.log` \| exited with code 3 \|", index)
    assert not result.errors()


def test_redaction_in_every_file_and_in_inspect(mixed: Stack, wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, redact=f"{SECRET}\nhello-never-there",
                     copy="web:/results", print="all", timestamps="false")
    assert result.code == 0, result
    out = folder_of(result)
    # The runner is told to mask the strings in the job log too.
    assert f"::add-mask::{SECRET}" in result.stdout
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".bin":
            assert SECRET not in path.read_text(errors="replace"), path
    web = (out / "logs" / "web-1.log").read_text()
    assert "login with password ***" in web
    inspect = json.loads((out / "inspect" / f"{mixed.name}-web-1.json").read_text())
    env = inspect["Config"]["Env"]
    assert "API_TOKEN=***" in env
    assert "DB_PASSWORD=***" in env
    assert "GREETING=hello-visible" in env  # not secret-looking
    assert (out / "files/web-1/results/junit.xml").read_text() == '<testsuite name="***"/>\n'
    # Binary files are copied as they are.
    assert (out / "files/web-1/results/blob.bin").read_bytes() == b"bin\0" + SECRET.encode()
    # Printed container output cannot issue workflow commands.
    assert "::error::forged by a container" in web.splitlines()
    assert not any(line.startswith("::error::forged") for line in result.stdout.splitlines())
    assert ":\u200b:error::forged by a container" in result.stdout.splitlines()
    assert not result.errors()


def test_environment_secrets_are_masked_in_every_file(mixed: Stack,
                                                     wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, print="all")
    assert result.code == 0, result
    out = folder_of(result)
    inspect_text = (out / "inspect" / f"{mixed.name}-web-1.json").read_text()
    # Where they were: the health check's command and output, the log, the Env.
    assert "echo probing with ***" in inspect_text
    assert "postgres://app:***@db:5432/app" in inspect_text
    assert "connecting with *** to postgres://app:***@db" in \
        (out / "logs" / "web-1.log").read_text()
    for path in out.rglob("*"):
        if path.is_file() and path.suffix != ".bin":
            text = path.read_text(errors="replace")
            assert ENV_SECRET not in text, path
            assert URL_SECRET not in text, path
    assert ENV_SECRET not in result.stdout.replace(f"::add-mask::{ENV_SECRET}", "")
    assert f"::add-mask::{ENV_SECRET}" in result.stdout


def test_copies_files_folders_globs_and_warns_on_missing(mixed: Stack,
                                                         wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, services="web", print="none", copy=(
        "web:/results/junit.xml\nweb:/results/sub, web:/results/*.xml\n"
        "web:/results/nope.txt\ncrash:/etc/passwd\nweb:/results/*.none\nghost:/x"))
    assert result.code == 0, result
    out = folder_of(result)
    for n in (1, 2):
        base = out / f"files/web-{n}/results"
        assert (base / "junit.xml").is_file()
        assert (base / "coverage.xml").read_text() == "<coverage/>\n"
        assert (base / "sub/deep.txt").read_text() == "nested\n"
    # Copies work from exited containers too.
    assert (out / "files/crash/etc/passwd").read_text().startswith("root:")
    warnings = sorted(a.message for a in result.annotations if a.kind == "warning")
    assert warnings == sorted([
        f"copy web:/results/nope.txt: no such file or folder in {mixed.name}-web-1",
        f"copy web:/results/nope.txt: no such file or folder in {mixed.name}-web-2",
        f"copy web:/results/*.none: no such file or folder in {mixed.name}-web-1",
        f"copy web:/results/*.none: no such file or folder in {mixed.name}-web-2",
        "copy ghost:/x: the project has no container of service 'ghost'",
    ])
    index = (out / "index.md").read_text()
    assert "| `web:/results/nope.txt` |" in index
    assert "missing" in index
    # `services` limits logs and inspect data, not ps.
    assert sorted(p.name for p in (out / "logs").iterdir()) == ["web-1.log", "web-2.log"]
    assert len(json.loads((out / "ps.json").read_text())) == 6
    assert json.loads(result.outputs["failed-services"]) == []


def test_copies_land_where_their_destination_says(mixed: Stack,
                                                  wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, services="web", print="none", copy=(
        "web:/results/junit.xml -> results/junit.xml\n"
        "web:/results/*.xml -> xml/\n"
        "crash:/etc/passwd -> etc/\n"
        "migrate:/etc/passwd -> tools/passwd\n"
        "web:/results/nope.txt -> results/nope.txt"))
    assert result.code == 0, result
    out = folder_of(result)
    # One file per container of a scaled service, numbered as its log file is.
    assert (out / "results/junit-1.xml").is_file()
    assert (out / "results/junit-2.xml").is_file()
    assert not (out / "results/junit.xml").exists()
    assert (out / "xml/coverage-1.xml").read_text() == "<coverage/>\n"
    assert (out / "etc/passwd").read_text().startswith("root:")  # from an exited container
    # migrate has a service container and a `compose run` one: the run one is suffixed.
    tools = sorted(p.name for p in (out / "tools").iterdir())
    assert tools[0] == "passwd", tools
    assert tools[1].startswith("passwd-run-"), tools
    assert not (out / "files").exists()
    copied = result.outputs["copied"].splitlines()
    # In the order of the copy entries; absolute paths, as `path` is given.
    assert copied[:2] == [str(out / "results/junit-1.xml"), str(out / "results/junit-2.xml")]
    assert sorted(copied[2:6]) == sorted(str(out / f"xml/{n}-{i}.xml")
                                         for n in ("junit", "coverage") for i in (1, 2))
    assert copied[6] == str(out / "etc/passwd")
    assert sorted(copied[7:]) == [str(out / "tools" / t) for t in tools]
    assert len(copied) == len(set(copied))
    index = (out / "index.md").read_text()
    assert "`web:/results/junit.xml -> results/junit.xml`" in index
    assert "`results/junit-2.xml`" in index
    warnings = [a.message for a in result.annotations if a.kind == "warning"]
    assert (f"copy web:/results/nope.txt -> results/nope.txt: no such file or folder in "
            f"{mixed.name}-web-1") in warnings
    assert str(out / "results/nope.txt") not in copied


def test_tail_since_timestamps_and_print_all(mixed: Stack, wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, tail="1", timestamps="false", print="all",
                     services="crash,migrate")
    assert result.code == 0, result
    out = folder_of(result)
    assert (out / "logs/crash.log").read_text() == "fatal: no database\n"
    assert list(groups(result.stdout)) == [
        "crash: last 100 log lines (exited with code 3)",
        "migrate: last 100 log lines (exited)",
        next(t for t in groups(result.stdout) if t.startswith("migrate-run-")),
    ]
    future = collect(mixed.name, wf_env, since="2999-01-01T00:00:00Z", services="crash")
    assert future.code == 0, future
    assert (folder_of(future) / "logs/crash.log").read_text() == ""


def test_an_unknown_service_is_a_warning(mixed: Stack, wf_env: dict[str, str]) -> None:
    result = collect(mixed.name, wf_env, services="web\nwbe", print="none")
    assert result.code == 0, result
    (warning,) = [a for a in result.annotations if a.kind == "warning"]
    assert warning.message == ("services: the project has no container of service 'wbe' "
                               "(it has: crash, migrate, sick, web)")
    assert sorted(p.name for p in (folder_of(result) / "logs").iterdir()) == [
        "web-1.log", "web-2.log"]


def test_project_name_defaults_to_the_jobs_then_to_composes(
        mixed: Stack, tmp_path: Path) -> None:
    # Not the job's own project (no such containers), so Compose's default for the
    # compose file in working-directory: the folder's name, which is the stack's.
    env = workflow_env(tmp_path / "runner")
    result = run_action(ACTION, {"working-directory": str(mixed.directory), "print": "none"},
                        env)
    assert result.code == 0, result
    assert len(result.json_output("containers")) == 6  # type: ignore[arg-type]
    assert f"collect-logs: project {mixed.name}," in result.stdout


# -- stacks of their own ------------------------------------------------------------------
def test_the_jobs_default_project_is_found_without_any_input(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    # compose-up-and-wait names the stack `stackci-<run id>-<attempt>-<job>`.
    env = workflow_env(tmp_path / "runner", {"GITHUB_RUN_ID": "test", "GITHUB_JOB": "cl",
                                             "GITHUB_RUN_ATTEMPT": str(time.time_ns())})
    name = f"stackci-test-{env['GITHUB_RUN_ATTEMPT']}-cl"
    stack = Stack(name, tmp_path / "elsewhere")
    stack.directory.mkdir()
    try:
        stack.write("services:\n  one:\n    image: busybox:1.36\n    command: [echo, hi]\n")
        stack.compose("up", "--detach")
        wait_until(lambda: all(a["State"]["Status"] == "exited"
                               for a in states(docker_client, name).values()))
        result = run_action(ACTION, {}, env)
        assert result.code == 0, result
        assert result.outputs["path"] == str(tmp_path / "runner" / "stackci-logs")
        assert "hi" in (tmp_path / "runner/stackci-logs/logs/one.log").read_text()
    finally:
        stack.down()


def test_restart_and_oom_kill_are_in_events(stack: Stack, wf_env: dict[str, str],
                                            docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          flaky:
            image: busybox:1.36
            restart: on-failure:2
            command: ["sh", "-c", "echo flaky start; exit 1"]
          hog:
            image: busybox:1.36
            mem_limit: 8m
            memswap_limit: 8m
            command: ["sh", "-c", "echo allocating; x=aaaaaaaaaa; while true; do x=$$x$$x; done"]
    """)
    since = time.time() - 1
    stack.compose("up", "--detach")

    def engine_told_of_the_oom() -> bool:
        # Under load the engine emits `oom` after `die` (both come from containerd on
        # separate paths): collect only once it has, or the test races the engine.
        found = docker_client.api.events(
            since=since, until=time.time(), decode=True,
            filters={"label": f"com.docker.compose.project={stack.name}", "event": "oom"})
        return any(True for _ in found)

    lost = []

    def done() -> bool:
        s = states(docker_client, stack.name)
        flaky, hog = s[f"{stack.name}-flaky-1"], s[f"{stack.name}-hog-1"]
        if hog["State"]["Status"] == "exited" and not hog["State"]["OOMKilled"] \
                and not engine_told_of_the_oom() and len(lost) < 3:
            # Docker 20.10 sometimes loses an OOM kill (the task's exit is handled before
            # containerd's oom event): seen here about once in 20 runs, with OOMKilled
            # false and no event. That is the engine's loss, not collect-logs': run the
            # hog again.
            lost.append(hog["State"]["ExitCode"])
            stack.compose("up", "--detach", "--force-recreate", "hog")
            return False
        return (flaky["State"]["Status"] == "exited" and flaky["RestartCount"] == 2
                and hog["State"]["Status"] == "exited" and engine_told_of_the_oom())

    wait_until(done)
    result = collect(stack.name, wf_env)
    assert result.code == 0, result
    out = folder_of(result)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    by = {(e["Actor"]["Attributes"]["name"].removeprefix(stack.name + "-"), e["Action"])
          for e in events}
    assert ("hog-1", "oom") in by
    flaky_starts = [e for e in events if e["Action"] == "start"
                    and e["Actor"]["Attributes"]["name"].endswith("-flaky-1")]
    assert len(flaky_starts) == 3  # started, then restarted twice
    dies = [e["Actor"]["Attributes"]["exitCode"] for e in events if e["Action"] == "die"
            and e["Actor"]["Attributes"]["name"].endswith("-flaky-1")]
    assert dies == ["1", "1", "1"]
    assert not any(e["Action"].startswith("exec_") for e in events)
    assert json.loads(result.outputs["failed-services"]) == ["flaky", "hog"]
    containers = {c["service"]: c for c in result.json_output("containers")}  # type: ignore[union-attr]
    assert containers["hog"]["oom_killed"] is True
    assert "killed: out of memory" in containers["hog"]["problems"]
    assert containers["flaky"]["restarts"] == 2
    assert "restarted 2 times" in containers["flaky"]["problems"]
    assert "| ❌ hog |" in result.summary


def test_a_half_started_stack_is_recorded_not_failed(stack: Stack, wf_env: dict[str, str],
                                                     docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          db:
            image: busybox:1.36
            stop_signal: SIGKILL
            command: ["sh", "-c", "echo db never ready; exec sleep 600"]
            healthcheck:
              test: ["CMD", "false"]
              interval: 1s
              retries: 1
          api:
            image: busybox:1.36
            command: ["echo", "api started"]
            depends_on:
              db:
                condition: service_healthy
    """)
    up = stack.compose("up", "--detach", "--wait", "--wait-timeout", "20", check=False)
    assert up.returncode != 0  # db never gets healthy, api is never started
    result = collect(stack.name, wf_env)
    assert result.code == 0, result
    containers = {c["service"]: c for c in result.json_output("containers")}  # type: ignore[union-attr]
    assert containers["api"]["state"] == "created"
    assert not containers["api"]["failed"]
    assert json.loads(result.outputs["failed-services"]) == ["db"]
    assert (folder_of(result) / "logs/api.log").read_text() == ""


def test_unreadable_and_tty_logs(stack: Stack, wf_env: dict[str, str],
                                 docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          quiet:
            image: busybox:1.36
            command: ["echo", "nobody hears this"]
            logging:
              driver: none
          console:
            image: busybox:1.36
            tty: true
            command: ["sh", "-c", "echo tty-out; echo tty-err >&2"]
    """)
    stack.compose("up", "--detach")
    wait_until(lambda: all(a["State"]["Status"] == "exited"
                           for a in states(docker_client, stack.name).values()))
    result = collect(stack.name, wf_env, timestamps="false", print="all")
    assert result.code == 0, result
    out = folder_of(result)
    # A TTY merges both streams itself, with the terminal's line endings.
    assert (out / "logs/console.log").read_bytes() == b"tty-out\r\ntty-err\r\n"
    assert not (out / "logs/quiet.log").exists()
    (warning,) = [a for a in result.annotations if a.kind == "warning"]
    assert warning.message == (f"{stack.name}-quiet-1: the engine cannot give this log: "
                               "configured logging driver does not support reading")
    assert "(no log: the engine cannot give this log" in result.stdout
    assert "logs/quiet.log" not in result.json_output("files")  # type: ignore[operator]


def test_teardown_leaves_nothing_of_the_project(stack: Stack, wf_env: dict[str, str],
                                                docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          app:
            image: busybox:1.36
            stop_signal: SIGKILL
            command: ["sh", "-c", "echo keep me > /data/x; exec sleep 600"]
            volumes: [data:/data]
            networks: [front, back]
          job:
            image: busybox:1.36
            command: ["echo", "done"]
            networks: [back]
        volumes:
          data: {}
        networks:
          front: {}
          back: {}
    """)
    stack.compose("up", "--detach")
    stack.compose("run", "job")
    assert len(leftovers(docker_client, stack.name)) >= 6  # 3 containers, 2 networks, 1 volume
    result = collect(stack.name, wf_env, teardown="true", copy="app:/data/x")
    assert result.code == 0, result
    assert leftovers(docker_client, stack.name) == []
    assert (folder_of(result) / "files/app/data/x").read_text() == "keep me\n"
    assert "collect-logs: torn down; nothing of project" in result.stdout
    assert "**Teardown**: done; no containers, networks and volumes of the project are left." \
        in result.summary
    assert not [a for a in result.annotations if a.kind in ("warning", "error")]


def test_teardown_can_keep_volumes_and_warns_about_what_is_left(
        stack: Stack, wf_env: dict[str, str], docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          app:
            image: busybox:1.36
            stop_signal: SIGKILL
            command: ["sleep", "600"]
            volumes: [data:/data]
        volumes:
          data: {}
    """)
    stack.compose("up", "--detach")
    network = f"{stack.name}_default"
    # A container that is not part of the project holds on to its network.
    squatter = docker_client.containers.run("busybox:1.36", ["sleep", "600"], detach=True,
                                            network=network, name=f"{stack.name}-squatter")
    try:
        result = collect(stack.name, wf_env, teardown="true", **{"remove-volumes": "false"})
    finally:
        squatter.remove(force=True)
    assert result.code == 0, result
    left = leftovers(docker_client, stack.name)
    assert left == [f"network {network}", f"volume {stack.name}_data"]
    (warning, *_) = [a for a in result.annotations if a.kind == "warning"]
    assert f"network {network}" in " ".join(a.message for a in result.annotations)
    assert warning.title == "collect-logs"
    assert "⚠️ not clean" in result.summary


def test_no_containers_is_a_warning_not_a_failure(wf_env: dict[str, str],
                                                  docker_client: docker.DockerClient) -> None:
    result = collect(new_stack_name(), wf_env, teardown="true")
    assert result.code == 0, result
    (warning,) = [a for a in result.annotations if a.kind == "warning"]
    assert "no containers of Compose project" in warning.message
    assert json.loads(result.outputs["containers"]) == []
    assert (folder_of(result) / "index.md").is_file()


def test_an_unwritable_folder_fails_with_exit_1(wf_env: dict[str, str], tmp_path: Path,
                                                docker_client: docker.DockerClient) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = collect(new_stack_name(), wf_env, path=str(blocker / "logs"))
    assert result.code == 1, result
    (error,) = result.errors()
    assert error.message.startswith(f"cannot write the folder {blocker / 'logs'}")
    assert "Traceback" not in result.stdout + result.stderr


def new_stack_name() -> str:
    """A test project name that nothing has used."""
    return f"stackci-test-{uuid.uuid4().hex[:8]}"


def test_through_the_launcher_with_teardown(stack: Stack, wf_env: dict[str, str],
                                            docker_client: docker.DockerClient) -> None:
    stack.write("""
        services:
          api:
            image: busybox:1.36
            command:
              - sh
              - -c
              - "echo api broke; mkdir -p /out; echo '<x/>' > /out/junit.xml; exit 2"
    """)
    stack.compose("up", "--detach")
    wait_until(lambda: all(a["State"]["Status"] == "exited"
                           for a in states(docker_client, stack.name).values()))
    result = run_action(ACTION, {"project-name": stack.name, "teardown": "true",
                                 "copy": "api:/out/junit.xml", "image": "build"},
                        wf_env, launcher=True)
    assert result.code == 0, result
    out = Path(result.outputs["path"])
    assert out == Path(wf_env["GITHUB_WORKSPACE"]) / "stackci-logs"
    assert "api broke" in (out / "logs/api.log").read_text()
    assert (out / "files/api/out/junit.xml").read_text() == "<x/>\n"
    assert json.loads(result.outputs["failed-services"]) == ["api"]
    assert leftovers(docker_client, stack.name) == []
    assert "| ❌ api |" in result.summary


def test_a_second_collection_into_the_same_folder_replaces_the_first(
        stack: Stack, wf_env: dict[str, str]) -> None:
    # Was: the first run's logs, inspect files and events stayed beside an index.md
    # that said nothing was found.
    stack.write("""
        services:
          first:
            image: busybox:1.36
            command: ["sh", "-c", "echo one; sleep 300"]
    """)
    stack.compose("up", "--detach")
    out = stack.directory / "logs"
    assert collect(stack.name, wf_env, path=str(out)).code == 0
    assert (out / "logs" / "first.log").is_file()
    (out / "mine.txt").write_text("not StackCI's")
    stack.compose("down", "--timeout", "0")

    second = collect(stack.name, wf_env, path=str(out))
    assert second.code == 0, second
    assert not (out / "logs").exists()
    assert not (out / "inspect").exists()
    assert (out / "mine.txt").read_text() == "not StackCI's"  # left alone, as promised
    assert "previous collection" in second.stdout
    listed = (out / "files.txt").read_text().split()
    assert all((out / name).is_file() for name in listed)
