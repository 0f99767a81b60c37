"""The stack belongs to the job: compose-up-and-wait hands it to later steps through
GITHUB_ENV, and every Docker action reads Compose's own variables beneath its inputs.
A later step here is what the runner makes of it: a new process whose environment is
the job's plus what GITHUB_ENV set, with a working directory of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from stackci.core.engine.compose import compose_binary
from stackci_testing.docker import Stack
from stackci_testing.runner import Result, parse_output_file, run_action

pytestmark = pytest.mark.docker

STACK = """\
services:
  backend:
    image: busybox:1.36
    command: ["sh", "-c", "echo backend-up; exec sleep 600"]
  extra:
    image: busybox:1.36
    profiles: [extras]
    command: ["sleep", "600"]
"""


def handed_over(env: dict[str, str]) -> dict[str, str]:
    """What the step wrote to GITHUB_ENV, emptied as the runner consumes it."""
    path = Path(env["GITHUB_ENV"])
    values = parse_output_file(path.read_text(encoding="utf-8"))
    path.write_text("")
    return values


def later_step(env: dict[str, str], exported: dict[str, str]) -> dict[str, str]:
    return {**env, **exported}


def docker_compose(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A plain `docker compose ...` in a `run:` step, with no flags of ours."""
    return subprocess.run([compose_binary(), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=120)


def up(env: dict[str, str], stack: Stack, **inputs: str) -> Result:
    values = {"working-directory": str(stack.directory), "timeout": "60s",
              **{k.replace("_", "-"): v for k, v in inputs.items()}}
    return run_action("compose-up-and-wait", values, env)


def test_a_later_step_reaches_the_stack_with_plain_docker_compose(
        stack: Stack, wf_env: dict[str, str], tmp_path: Path) -> None:
    stack.write(STACK, "stack.yml")
    # The job's own name for it, as a workflow-level env would give: honoured.
    env = {**wf_env, "COMPOSE_FILE": str(stack.directory / "stack.yml"),
           "COMPOSE_PROJECT_NAME": stack.name}
    result = up(env, stack)
    assert result.code == 0, result
    assert result.outputs["project-name"] == stack.name
    exported = handed_over(env)
    assert exported == {"COMPOSE_PROJECT_NAME": stack.name,
                        "COMPOSE_FILE": str(stack.directory / "stack.yml"),
                        "COMPOSE_PROFILES": "", "COMPOSE_ENV_FILES": ""}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The runner's own env has neither variable until GITHUB_ENV sets them.
    runner_env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    ran = docker_compose(later_step(runner_env, exported), "exec", "-T", "backend",
                         "echo", "from-a-later-step", cwd=elsewhere)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "from-a-later-step"


def test_collect_logs_with_no_inputs_collects_and_tears_down_the_handed_over_stack(
        stack: Stack, wf_env: dict[str, str], tmp_path: Path) -> None:
    stack.write(STACK)
    # A project name of the user's own, not the job's default: only the handover tells
    # collect-logs about it.
    result = up(wf_env, stack, project_name=stack.name)
    assert result.code == 0, result
    env = later_step(wf_env, handed_over(wf_env))
    collected = run_action("collect-logs", {"teardown": "true"}, env)
    assert collected.code == 0, collected
    assert "no containers" not in collected.stdout
    logs = Path(collected.outputs["path"])
    assert "backend-up" in (logs / "logs" / "backend.log").read_text()
    assert not stack.compose("ps", "--all", "--quiet").stdout.strip()


def test_compose_profiles_is_read_and_the_input_wins(stack: Stack,
                                                     wf_env: dict[str, str]) -> None:
    stack.write(STACK)
    env = {**wf_env, "COMPOSE_PROFILES": "extras"}
    result = up(env, stack, project_name=stack.name)
    assert result.code == 0, result
    assert set(result.json_output("services")) == {"backend", "extra"}
    assert handed_over(env)["COMPOSE_PROFILES"] == "extras"
    stack.down()
    # A profile input replaces the variable (Compose would add the two together).
    result = up(env, stack, project_name=stack.name, profiles="nothing-here")
    assert result.code == 0, result
    assert set(result.json_output("services")) == {"backend"}


def test_the_inputs_win_over_compose_file_and_project_name(stack: Stack,
                                                           wf_env: dict[str, str]) -> None:
    stack.write(STACK)
    env = {**wf_env, "COMPOSE_FILE": "/nowhere/compose.yaml",
           "COMPOSE_PROJECT_NAME": "some-other-project"}
    result = up(env, stack, compose_file="compose.yaml", project_name=stack.name)
    assert result.code == 0, result
    assert result.outputs["project-name"] == stack.name


def test_a_second_stack_replaces_what_was_handed_over(stack: Stack, wf_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    stack.write(STACK)
    first = up(wf_env, stack, project_name=stack.name, profiles="extras")
    assert first.code == 0, first
    handed_over(wf_env)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    (second_dir / "compose.yaml").write_text(STACK)
    second = Stack(stack.name + "-2", second_dir)
    try:
        result = up(wf_env, second, project_name=second.name)
        assert result.code == 0, result
        exported = handed_over(wf_env)
        assert exported["COMPOSE_PROJECT_NAME"] == second.name
        assert exported["COMPOSE_FILE"] == str(second_dir / "compose.yaml")
        assert exported["COMPOSE_PROFILES"] == ""  # the first one's profile is cleared
    finally:
        second.down()


def test_export_env_false_leaves_the_job_alone(stack: Stack, wf_env: dict[str, str]) -> None:
    stack.write(STACK)
    result = up(wf_env, stack, project_name=stack.name, export_env="false")
    assert result.code == 0, result
    assert handed_over(wf_env) == {}


@pytest.mark.parametrize(("variables", "inputs", "says"), [
    ({"COMPOSE_FILE": "missing.yaml"}, {},
     "input 'compose-file' (empty; COMPOSE_FILE was used): expected existing files"),
    ({"COMPOSE_FILE": "compose.yaml;other.yaml", "COMPOSE_PATH_SEPARATOR": ";"}, {},
     "other.yaml"),
    ({"COMPOSE_PROJECT_NAME": "Not A Name"}, {},
     "input 'project-name' (empty; COMPOSE_PROJECT_NAME was used): expected a Compose "
     "project name"),
    ({"COMPOSE_ENV_FILES": "missing.env"}, {},
     "input 'env-file' (empty; COMPOSE_ENV_FILES was used): expected existing files"),
])
def test_a_bad_variable_is_bad_input_naming_it(stack: Stack, wf_env: dict[str, str],
                                               variables: dict[str, str],
                                               inputs: dict[str, str], says: str) -> None:
    stack.write(STACK)
    env = {**wf_env, **variables}
    result = up(env, stack, **inputs)
    assert result.code == 2, result
    assert says in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert handed_over(env) == {}  # nothing half-done
    assert not stack.compose("ps", "--all", "--quiet", check=False).stdout.strip()
