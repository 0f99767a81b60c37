"""The launcher: runs the StackCI image as if the action ran on the runner itself."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from stackci_testing.docker import SESSION
from stackci_testing.runner import LAUNCHER, REPO, run_action

pytestmark = pytest.mark.docker

MISSING = "ghcr.io/stackci/stackci:0.0.0-missing"


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


def test_an_image_that_cannot_be_pulled_falls_back_with_a_warning(wf_env, docker_client) -> None:
    tag = _built_image(wf_env)  # normally there already: the fallback reuses it
    result = run_action("doctor", {"check-github": "false"},
                        {**wf_env, "STACKCI_IMAGE": MISSING}, launcher=True)
    assert result.code == 0, result
    warnings = [a for a in result.annotations if a.kind == "warning"]
    assert [w.message for w in warnings] == [
        f"could not pull {MISSING}; reused {tag}, built earlier from the action's own checkout"]


def test_each_fallback_says_whether_it_built_or_reused(wf_env, docker_client,
                                                       tmp_path: Path) -> None:
    # A checkout whose Dockerfile builds in a blink: what is tested is the launcher.
    root = _checkout_copy(tmp_path)
    (root / "Dockerfile").write_text(f"FROM busybox:1.36\nLABEL test={uuid.uuid4().hex}\n")
    tag = _launch(root, "--build-tag").stdout.strip()
    here = f"the checkout at {root}"
    try:
        steps = [
            ({"STACKCI_IMAGE_INPUT": "build"}, f"building {tag} from {here}"),
            ({"STACKCI_IMAGE_INPUT": "build"}, f"reusing {tag}, built earlier from {here}"),
            ({"STACKCI_IMAGE": MISSING},
             f"could not pull {MISSING}; reused {tag}, built earlier from the action's own "
             "checkout"),
        ]
        for env, said in steps:
            proc = _launch(root, "--image", env={**wf_env, **env})
            assert (proc.stdout, proc.stderr) == (f"{tag}\n", f"stackci: {said}\n")
        docker_client.images.remove(tag)
        proc = _launch(root, "--image", env={**wf_env, "STACKCI_IMAGE": MISSING})
        assert (proc.stdout, proc.stderr) == (f"{tag}\n", (
            f"stackci: building {tag} from {here}\n"
            f"stackci: could not pull {MISSING}; built {tag} from the action's own checkout "
            "instead\n"))
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True,
                       check=False)


def test_the_image_is_the_input_else_stackci_image_else_the_release(wf_env, docker_client,
                                                                    tmp_path: Path) -> None:
    # Images that are there, so nothing is pulled or built, and nothing is said.
    root = _checkout_copy(tmp_path)
    release = f"stackci-test-release:{SESSION}"
    (root / "launcher" / "release-image").write_text(f"{release}\n")
    docker_client.images.get("busybox:1.36").tag(release)
    try:
        # The env the composite step gives: its input as STACKCI_IMAGE_INPUT ("" if not
        # set), next to the workflow's or job's STACKCI_IMAGE.
        cases = [
            ({"STACKCI_IMAGE_INPUT": "busybox:1.36", "STACKCI_IMAGE": "python:3.12-slim"},
             "busybox:1.36"),
            ({"STACKCI_IMAGE_INPUT": "", "STACKCI_IMAGE": "python:3.12-slim"},
             "python:3.12-slim"),
            ({"STACKCI_IMAGE_INPUT": ""}, release),
            ({}, release),
        ]
        for env, chosen in cases:
            proc = _launch(root, "--image", env={**wf_env, **env})
            assert (proc.stdout, proc.stderr) == (f"{chosen}\n", ""), env
    finally:
        docker_client.images.remove(release)


def test_the_build_tag_depends_on_the_image_content_only(tmp_path: Path) -> None:
    root = _checkout_copy(tmp_path)
    tag = _launch(root, "--build-tag").stdout.strip()
    assert tag.startswith("stackci-local:")
    # Where the checkout is does not matter (act's copy of it builds nothing new) ...
    assert _launch(REPO, "--build-tag").stdout.strip() == tag
    # ... nor do the docs ...
    for doc in ("README.md", "CHANGELOG.md", "ARCHITECTURE.md"):
        with (root / doc).open("a") as f:
            f.write("\nAn edit of the docs.\n")
    (root / "docs.md").write_text("new docs\n")
    assert _launch(root, "--build-tag").stdout.strip() == tag
    # ... but what the image is made of does.
    with (root / "src" / "stackci" / "__init__.py").open("a") as f:
        f.write("# an edit of the code\n")
    assert _launch(root, "--build-tag").stdout.strip() != tag


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


@pytest.mark.parametrize("image", ["build", MISSING])
def test_an_engine_that_does_not_answer_gets_one_clear_line(wf_env, tmp_path: Path,
                                                            image: str) -> None:
    env = {**wf_env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock", "STACKCI_IMAGE": image}
    proc = subprocess.run(["bash", str(LAUNCHER), "doctor"], capture_output=True, text=True,
                          check=False, timeout=60, cwd=REPO, env=env)
    assert proc.returncode == 2
    assert proc.stderr == (f"stackci: error: the Docker engine does not answer (is it "
                           f"running, and may this user use unix://{tmp_path}/no-engine.sock?)\n")


def _launch(root: Path, *args: str,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The launcher of the checkout at `root`, run as a step runs it."""
    proc = subprocess.run(["bash", str(root / "launcher" / "launch.sh"), *args],
                          capture_output=True, text=True, check=False, timeout=300,
                          cwd=root, env=env)
    assert proc.returncode == 0, proc
    return proc


def _checkout_copy(tmp_path: Path) -> Path:
    """What a checkout of the action holds, docs included, without caches."""
    root = tmp_path / "checkout"
    for name in ("launcher", "src", "actions"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "requirements.txt",
                 "README.md", "CHANGELOG.md", "ARCHITECTURE.md", "action.yml"):
        shutil.copy2(REPO / name, root / name)
    return root


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
