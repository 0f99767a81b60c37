"""The launcher: runs the StackCI image as if the action ran on the runner itself."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from stackci_testing.runner import LAUNCHER, REPO, run_action

pytestmark = pytest.mark.docker


def test_doctor_inside_the_launcher_reports_a_healthy_setup(wf_env, docker_client) -> None:
    result = run_action("doctor", {"check-github": "false", "image": "build"}, wf_env,
                        launcher=True)
    assert result.code == 0, result
    assert result.outputs["healthy"] == "true"
    checks = {c["name"]: c for c in result.json_output("checks")}
    assert checks["docker"]["ok"]
    assert checks["compose"]["ok"]
    # The file-command files are reachable at the runner's own paths inside the container.
    assert checks["GITHUB_OUTPUT"]["detail"] == f"{wf_env['GITHUB_OUTPUT']} reachable"
    assert "| ✅ | docker |" in result.summary


def test_doctor_says_what_is_wrong_without_the_docker_socket(wf_env, docker_client) -> None:
    # The image run without the socket mount, as a misconfigured runner would.
    image = _built_image(wf_env)
    proc = subprocess.run(["docker", "run", "--rm", "-e", "GITHUB_ACTIONS=true", image,
                           "doctor", "--check-github", "false"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 1
    assert ("::error title=doctor%3A docker::no Docker socket at /var/run/docker.sock: the "
            "actions need the engine's socket") in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_image_that_cannot_be_pulled_is_built_with_a_warning(wf_env, docker_client) -> None:
    result = run_action("doctor", {"check-github": "false"},
                        {**wf_env, "STACKCI_IMAGE": "ghcr.io/stackci/stackci:0.0.0-missing"},
                        launcher=True)
    assert result.code == 0, result
    warnings = [a for a in result.annotations if a.kind == "warning"]
    assert [w.message for w in warnings] == [
        "could not pull ghcr.io/stackci/stackci:0.0.0-missing; built the image from the "
        "action's own checkout instead"]


def test_inputs_pass_by_name_only(wf_env, docker_client, tmp_path: Path) -> None:
    # A `docker` on PATH that records its command line, then runs the real one.
    shim = tmp_path / "bin" / "docker"
    shim.parent.mkdir()
    real = subprocess.run(["bash", "-c", "command -v docker"], capture_output=True, text=True,
                          check=True).stdout.strip()
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {tmp_path}/argv\nexec {real} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    secret = "ghs_supersecretvalue123"
    env = {**wf_env, "PATH": f"{shim.parent}:{os.environ['PATH']}", "INPUT_GITHUB-TOKEN": secret}
    result = run_action("doctor", {"check-github": "false", "github-token": secret}, env,
                        launcher=True)
    assert result.code == 0, result
    argv = (tmp_path / "argv").read_text()
    [run_line] = [line for line in argv.splitlines() if line.startswith("run ")]
    assert "--env STACKCI_INPUTS" in run_line
    assert "--env INPUT_GITHUB-TOKEN" in run_line
    assert secret not in argv
    assert secret not in result.stdout.replace(f"::add-mask::{secret}", "")


def test_a_job_container_gets_a_clear_error(wf_env, docker_client) -> None:
    # Inside a container, with the workspace under /__w as in a `container:` job.
    proc = subprocess.run(
        ["docker", "run", "--rm", "-e", "GITHUB_WORKSPACE=/__w/app/app",
         "-v", f"{LAUNCHER.parent}:/launcher:ro", "python:3.12-slim",
         "bash", "/launcher/launch.sh", "doctor"],
        capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("stackci: error: this job runs in a 'container:'")


@pytest.mark.parametrize("image", ["build", "ghcr.io/stackci/stackci:0.0.0-missing"])
def test_an_engine_that_does_not_answer_gets_one_clear_line(wf_env, tmp_path: Path,
                                                            image: str) -> None:
    env = {**wf_env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock", "STACKCI_IMAGE": image}
    proc = subprocess.run(["bash", str(LAUNCHER), "doctor"], capture_output=True, text=True,
                          check=False, timeout=60, cwd=REPO, env=env)
    assert proc.returncode == 2
    assert proc.stderr == (f"stackci: error: the Docker engine does not answer (is it "
                           f"running, and may this user use unix://{tmp_path}/no-engine.sock?)\n")


def _built_image(env: dict[str, str]) -> str:
    """The image tag the launcher builds for this checkout."""
    out = subprocess.run(["bash", str(LAUNCHER), "--image"], capture_output=True, text=True,
                         check=True, cwd=REPO, env={**env, "STACKCI_IMAGE": "build",
                                                    "STACKCI_PYTHON_IMAGE": "python:3.12-slim"})
    return out.stdout.strip()


def test_the_jobs_environment_reaches_compose(stack, wf_env) -> None:
    # `env:` of a step is what compose interpolates; through the launcher as on the runner.
    stack.write("""
        services:
          app:
            image: ${BOX:-no-such-image-without-the-variable:0}
            command: sleep 30
            stop_grace_period: 1s
    """)
    env = {**wf_env, "BOX": "busybox:1.36"}
    result = run_action("compose-up-and-wait",
                        {"project-name": stack.name, "working-directory": str(stack.directory),
                         "timeout": "60s", "image": "build"}, env, cwd=stack.directory,
                        launcher=True)
    assert result.code == 0, result
    assert result.json_output("services")["app"]["ready"] is True


def test_an_engine_socket_elsewhere_is_mounted_for_the_image(wf_env, docker_client,
                                                             tmp_path: Path) -> None:
    # Rootless Docker and others put the socket elsewhere and say so in DOCKER_HOST.
    alt = tmp_path / "engine.sock"
    alt.symlink_to("/var/run/docker.sock")
    result = run_action("doctor", {"check-github": "false", "image": "build"},
                        {**wf_env, "DOCKER_HOST": f"unix://{alt}"}, launcher=True)
    assert result.code == 0, result
    assert result.outputs["healthy"] == "true"
