"""collect-logs without an engine: the bad-input table (exit 2, one error naming the
input, no traceback), how inputs are read, copy entries, container records and naming,
and the summary's escaping."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from stackci.actions.collect_logs import Settings
from stackci.collect.model import Collection, Found, container_labels
from stackci.collect.render import human_size, index_markdown
from stackci.core.engine.containers import ContainerState, parse_engine_time
from stackci.core.engine.copy import CopySpec, parse_copy_spec, split_copy_entries
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci.core.text.redact import Secrets
from stackci_testing.runner import run_action, workflow_env

# name, inputs, the text the error must contain
BAD_INPUTS = [
    ("print", {"print": "loud"}, "one of failed, all, none"),
    ("tail", {"tail": "-1"}, "number of lines"),
    ("tail", {"tail": "ten"}, "number of lines"),
    ("tail", {"tail": "1.5"}, "number of lines"),
    ("since", {"since": "yesterday"}, "duration"),
    ("since", {"since": "99999999999h"}, "at most 8784h"),
    ("since", {"since": "2024-05-01T12:00:00"}, "zone"),
    ("copy", {"copy": "backend"}, "service:/path/in/container"),
    ("copy", {"copy": ":/tmp/x"}, "service:/path/in/container"),
    ("copy", {"copy": "backend:tmp/junit.xml"}, "absolute path"),
    ("copy", {"copy": "backend:/tmp/../etc/passwd"}, "without '..'"),
    ("copy", {"copy": "backend:/tmp/a.xml\nnot a copy"}, "service:/path"),
    ("copy", {"copy": "backend:/tmp/junit.xml ->"}, "a destination after '->'"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> /results/junit.xml"}, "not an absolute path"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> ../junit.xml"}, "without '..'"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> r/../../x"}, "without '..'"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> r/*.xml"}, "without wildcards"),
    ("copy", {"copy": "backend:/tmp/*.xml -> results"}, "ending in '/'"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> ."}, "'./' copies into it"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> index.md"}, "collect-logs' own"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> logs/junit.xml"}, "collect-logs' own"),
    ("copy", {"copy": "backend:/tmp/logs -> ./"}, "collect-logs' own"),
    ("copy", {"copy": "backend:/app/hooks -> .git/hooks"}, "collect-logs' own"),
    ("copy", {"copy": "backend:/tmp/junit.xml -> r/junit.xml\nweb:/junit.xml -> r/"},
     "r/junit.xml is also where backend:/tmp/junit.xml -> r/junit.xml lands"),
    ("timestamps", {"timestamps": "yes"}, "true or false"),
    ("teardown", {"teardown": "maybe"}, "true or false"),
    ("remove-volumes", {"remove-volumes": "1"}, "true or false"),
    ("project-name", {"project-name": "My Project"}, "Compose project name"),
    ("redact", {"redact": "long-enough-secret\nab"}, "at least 3 characters"),
]


@pytest.mark.parametrize(("name", "inputs", "expected"), BAD_INPUTS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_INPUTS)])
def test_bad_input_table(tmp_path: Path, name: str, inputs: dict[str, str],
                         expected: str) -> None:
    env = workflow_env(tmp_path / "runner")
    result = run_action("collect-logs", inputs, env)
    assert result.code == 2, result
    errors = result.errors()
    assert len(errors) == 1, result
    assert f"input '{name}'" in errors[0].message
    assert expected in errors[0].message
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "runner" / "stackci-logs").exists()  # nothing was done


def test_a_bad_redact_value_is_not_shown(tmp_path: Path) -> None:
    result = run_action("collect-logs", {"redact": "xy\nlong-secret-value"},
                        workflow_env(tmp_path / "runner"))
    assert result.code == 2
    (error,) = result.errors()
    assert "xy" not in error.message
    assert "long-secret-value" not in error.message


def test_no_project_name_outside_a_workflow_without_compose_file(tmp_path: Path) -> None:
    env = {k: v for k, v in workflow_env(tmp_path / "runner").items()
           if not k.startswith(("GITHUB_", "RUNNER_")) and k != "CI"}
    result = run_action("collect-logs", {}, env, cwd=tmp_path)
    assert result.code == 2, result
    assert "input 'project-name'" in result.stderr
    assert "no compose file" in result.stderr
    assert "Traceback" not in result.stderr


# -- reading inputs -----------------------------------------------------------------------
def settings(raw: dict[str, str], workspace: Path = Path("/ws")) -> Settings:
    reader = InputReader(raw, load_manifest("collect-logs"))
    ctx = RunContext.from_env({"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "77",
                               "GITHUB_JOB": "it", "GITHUB_WORKSPACE": str(workspace)})
    parsed = Settings.from_inputs(reader, ctx)
    reader.done()
    return parsed


def test_defaults() -> None:
    s = settings({})
    assert s.project_name is None
    assert s.default_project == "stackci-77-1-it"  # the same rule as compose-up-and-wait
    assert s.path == Path("/ws/stackci-logs")
    assert (s.tail, s.since, s.timestamps, s.print_mode) == (None, None, True, "failed")
    assert (s.teardown, s.remove_volumes, s.copy, s.services) == (False, True, (), ())


def test_since_forms() -> None:
    now = time.time()
    assert abs(settings({"since": "10m"}).since - (now - 600)) < 5  # type: ignore[operator]
    assert settings({"since": "2024-05-01T12:00:00Z"}).since == 1714564800.0
    assert settings({"since": "2024-05-01T14:00:00+02:00"}).since == 1714564800.0
    assert settings({"since": "1714564800"}).since == 1714564800.0  # Unix seconds


def test_tail_and_lists() -> None:
    s = settings({"tail": "0", "services": "api, db\nworker", "path": "/abs/out"})
    assert s.tail == 0
    assert s.services == ("api", "db", "worker")
    assert s.path == Path("/abs/out")


@pytest.mark.parametrize(("text", "entries"), [
    ("a:/x\nb:/y", ("a:/x", "b:/y")),
    ("a:/x, b:/y,c:/z", ("a:/x", "b:/y", "c:/z")),
    ("a:/reports/x,y.xml", ("a:/reports/x,y.xml",)),
    ("  a:/x  \n\n", ("a:/x",)),
])
def test_copy_entries(text: str, entries: tuple[str, ...]) -> None:
    assert split_copy_entries(text) == entries


@pytest.mark.parametrize(("text", "base", "pattern"), [
    ("api:/tmp/junit.xml", "/tmp/junit.xml", ()),
    ("api:/tmp/reports/", "/tmp/reports", ()),
    ("api:/tmp/reports/*.xml", "/tmp/reports", ("*.xml",)),
    ("api:/app/*/coverage/[a-c]?.xml", "/app", ("*", "coverage", "[a-c]?.xml")),
    ("api:/*.log", "/", ("*.log",)),
])
def test_copy_spec(text: str, base: str, pattern: tuple[str, ...]) -> None:
    spec = parse_copy_spec(text)
    assert (spec.base, spec.pattern) == (base, pattern)
    assert str(spec) == text.rstrip("/")


# -- container records -------------------------------------------------------------------
def attrs(name: str, service: str, number: int = 1, one_off: bool = False,
          **state: Any) -> dict[str, Any]:
    labels = {"com.docker.compose.project": "p", "com.docker.compose.service": service,
              "com.docker.compose.oneoff": "True" if one_off else "False"}
    if not one_off:
        labels["com.docker.compose.container-number"] = str(number)
    return {"Id": name + "0" * 64, "Name": "/" + name, "Created": "2024-05-01T12:00:00.5Z",
            "RestartCount": state.pop("restarts", 0),
            "Config": {"Labels": labels, "Image": "busybox", "Tty": False},
            "State": {"Status": "running", "ExitCode": 0, "OOMKilled": False, "Error": "",
                      "StartedAt": "2024-05-01T12:00:01.123456789Z",
                      "FinishedAt": "0001-01-01T00:00:00Z", **state}}


def record(*args: Any, **kwargs: Any) -> ContainerState:
    return ContainerState.from_inspect(attrs(*args, **kwargs))


@pytest.mark.parametrize(("state", "problems"), [
    ({}, []),
    ({"Status": "exited", "ExitCode": 0}, []),
    ({"Status": "exited", "ExitCode": 3}, ["exited with code 3"]),
    ({"Status": "exited", "ExitCode": 137, "OOMKilled": True},
     ["exited with code 137", "killed: out of memory"]),
    ({"Health": {"Status": "unhealthy"}}, ["unhealthy"]),
    ({"Health": {"Status": "healthy"}}, []),
    ({"restarts": 2, "Status": "restarting", "ExitCode": 1},
     ["exited with code 1", "restarted 2 times"]),
    ({"Status": "created", "Error": "port is already allocated"},
     ["engine error: port is already allocated"]),
])
def test_what_counts_as_failed(state: dict[str, Any], problems: list[str]) -> None:
    assert record("p-api-1", "api", **state).problems() == problems


def test_an_oom_event_counts_even_when_the_state_forgot_it() -> None:
    assert record("p-api-1", "api").problems(oom_events=1) == ["killed: out of memory"]


def test_running_containers_have_no_exit_code() -> None:
    r = record("p-api-1", "api")
    assert r.exit_code is None
    # The container model changed on purpose: "never" is null, times are RFC 3339 in UTC.
    assert r.finished_at is None
    assert r.to_json()["finished_at"] is None
    assert str(r.to_json()["started_at"]).startswith("2024-05-01T12:00:01")


def test_file_names_for_scaled_one_off_and_single_services() -> None:
    records = [record("p-api-1", "api", 1), record("p-api-2", "api", 2),
               record("p-db-1", "db"), record("p-api-run-0123abcd", "api", one_off=True)]
    labels = container_labels(records, "p")
    assert sorted(labels.values()) == ["api-1", "api-2", "api-run-0123abcd", "db"]


def test_engine_times() -> None:
    assert parse_engine_time("2024-05-01T12:00:00Z") == 1714564800.0
    assert parse_engine_time("2024-05-01T12:00:00.123456789Z") == pytest.approx(1714564800.123456)
    assert parse_engine_time("2024-05-01T14:00:00.5+02:00") == 1714564800.5
    assert parse_engine_time("0001-01-01T00:00:00Z") is None
    assert parse_engine_time("") is None


def test_human_sizes() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 5 * 1024**2, 3 * 1024**3)] == [
        "0 B", "1023 B", "1.0 KiB", "5.0 MiB", "3.0 GiB"]


def test_summary_escapes_what_containers_say(tmp_path: Path) -> None:
    found = Found(record("p-api-1", "api", Status="created",
                         Error="<img src=x> @team [link](http://x) | pipe"), "api", True)
    collection = Collection("p", found=[found], warnings=["copy api:/x: <b>missing</b>"])
    text = index_markdown(settings({}), collection, OutputFolder(tmp_path, Secrets([])))
    assert not re.search(r"(?<!\\)[<>]", text)  # no live HTML
    assert "@team" not in text  # no notification
    assert not re.search(r"(?<!\\)\]\(http", text)  # no link
    row = next(line for line in text.splitlines() if line.startswith("| ❌ api"))
    assert row.count(" | ") == 9  # the pipe did not add a column


def test_copy_spec_str() -> None:
    assert str(CopySpec("api", "/x")) == "api:/x"


@pytest.mark.parametrize(("text", "dest", "into", "landing", "shown"), [
    ("api:/tmp/junit.xml -> results/junit.xml", "results/junit.xml", False,
     "results/junit.xml", "api:/tmp/junit.xml -> results/junit.xml"),
    ("api:/tmp/junit.xml ->results/", "results", True, "results/junit.xml",
     "api:/tmp/junit.xml -> results/"),
    ("api:/app/reports -> ./", ".", True, "reports", "api:/app/reports -> ./"),
    ("api:/app/cov/*.xml -> cov/", "cov", True, None, "api:/app/cov/*.xml -> cov/"),
    ("api:/tmp/a.xml  ->  r//a.xml", "r/a.xml", False, "r/a.xml", "api:/tmp/a.xml -> r/a.xml"),
])
def test_copy_spec_with_a_destination(text: str, dest: str, into: bool, landing: str | None,
                                      shown: str) -> None:
    spec = parse_copy_spec(text)
    assert (spec.dest, spec.into, spec.landing, str(spec)) == (dest, into, landing, shown)
    assert parse_copy_spec(str(spec)) == spec


def test_an_arrow_inside_a_path_is_part_of_the_path() -> None:
    spec = parse_copy_spec("api:/tmp/a->b.txt")
    assert (spec.path, spec.dest) == ("/tmp/a->b.txt", None)
    assert parse_copy_spec("api:/tmp/a->b.txt -> c/").path == "/tmp/a->b.txt"


def test_copy_entries_with_destinations_split_on_commas() -> None:
    assert split_copy_entries("a:/x -> r/, b:/y -> s/y") == ("a:/x -> r/", "b:/y -> s/y")


def test_all_bad_copy_entries_are_named_at_once(tmp_path: Path) -> None:
    env = workflow_env(tmp_path / "runner")
    result = run_action("collect-logs", {"copy": "a:/x -> /abs\nb:/y -> index.md"}, env)
    assert result.code == 2, result
    messages = [e.message for e in result.errors()]
    assert len(messages) == 2, result
    assert "a:/x -> /abs" in messages[0]
    assert "not an absolute path" in messages[0]
    assert "b:/y -> index.md" in messages[1]
    assert "collect-logs' own" in messages[1]


def test_without_an_engine_it_says_so_and_still_writes_the_folder(tmp_path: Path) -> None:
    env = workflow_env(tmp_path / "runner", {"DOCKER_HOST": f"unix://{tmp_path}/no.sock"})
    result = run_action("collect-logs", {"project-name": "shop"}, env)
    assert result.code == 0, result
    (warning,) = [a for a in result.annotations if a.kind == "warning"]
    assert warning.message.startswith("the Docker engine does not answer")
    assert warning.message.endswith("; nothing could be collected")
    index = (tmp_path / "runner" / "stackci-logs" / "index.md").read_text()
    assert "0 container(s) collected" in index
    assert result.json_output("files") == ["files.txt", "index.md"]
    assert "Traceback" not in result.stdout + result.stderr
