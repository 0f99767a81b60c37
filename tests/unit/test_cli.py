"""The command line, run as a person runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from stackci import __version__


def stackci(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "INPUT_", "STACKCI_", "RUNNER_"))}
    return subprocess.run([sys.executable, "-m", "stackci", *args], capture_output=True,
                          text=True, env={**base, **(env or {})}, check=False, timeout=60)


def test_version() -> None:
    proc = stackci("--version")
    assert (proc.returncode, proc.stdout) == (0, f"stackci {__version__}\n")


def test_action_help_comes_from_action_yml() -> None:
    proc = stackci("doctor", "--help")
    assert proc.returncode == 0
    assert "--github-token VALUE" in proc.stdout
    assert "Check that the GitHub API answers (true or false). (default: true)" in " ".join(
        proc.stdout.split())
    assert "--image" not in proc.stdout  # the launcher's input, not the CLI's


def test_usage_errors_are_one_line_and_exit_2() -> None:
    for args in (["nope"], ["doctor", "--no-such-input", "x"], ["doctor", "--check-github"]):
        proc = stackci(*args)
        assert proc.returncode == 2, args
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""


def test_bad_value_exit_2_names_the_input() -> None:
    proc = stackci("doctor", "--check-github", "maybe")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: Bad input: input 'check-github': expected true or " \
                                  "false, got 'maybe'"
    assert proc.stdout == ""


def test_on_a_laptop_stdout_is_only_the_json_result() -> None:
    # No engine reachable at this path: doctor fails, yet stdout stays pipeable JSON.
    proc = stackci("doctor", "--check-github", "false",
                   env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["healthy"] == "false"
    assert "no Docker socket at /nonexistent/docker.sock" in result["report"]
    assert "error: doctor: docker: no Docker socket" in proc.stderr


def test_root_action_args_are_split_like_a_shell() -> None:
    proc = stackci("doctor", env={"STACKCI_ARGS": "--check-github 'not a bool'"})
    assert proc.returncode == 2
    assert "got 'not a bool'" in proc.stderr
