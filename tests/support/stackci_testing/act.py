"""Run workflows with `act` in host mode, as GitHub would run them: each action through
its action.yml, the launcher and the StackCI image.

act copies the repository for `actions/checkout`, so each run gets a small copy of just
what the actions need (not the venv), committed in a fresh git repository."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stackci_testing.docker import SESSION
from stackci_testing.runner import REPO

ACTION_FILES = ("action.yml", "actions", "launcher", "src", "Dockerfile", ".dockerignore",
                "pyproject.toml", "requirements.txt", "README.md")
WORKFLOWS = REPO / "tests" / "e2e" / "workflows"


@dataclass
class ActRun:
    code: int
    log: str
    results: Path

    def result(self, name: str) -> str:
        """A value a workflow step wrote to `$RESULT_DIR/<name>`."""
        path = self.results / name
        assert path.exists(), f"the workflow wrote no {name}\n{self.log[-5000:]}"
        return path.read_text()

    def __str__(self) -> str:
        return f"act exit {self.code}\n{self.log[-8000:]}"


def act_binary() -> str:
    return shutil.which("act") or str(Path(sys.executable).parent / "act")


def make_repo(tmp: Path, extra: Mapping[str, Path] | None = None) -> Path:
    """A git repository holding the actions and `extra` files (destination: source)."""
    repo = tmp / "repo"
    repo.mkdir(parents=True)
    for name in ACTION_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, repo / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    for dest, source in (extra or {}).items():
        target = repo / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    git = ["git", "-c", "user.email=e2e@stackci.test", "-c", "user.name=e2e"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    # act names the repository after the `origin` remote (octo/app, as in the fake GitHub).
    subprocess.run(["git", "remote", "add", "origin", "https://github.com/octo/app.git"],
                   cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "e2e"], cwd=repo, check=True)
    return repo


def run_act(repo: Path, workflow: str, event_name: str = "push",
            event: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None,
            secrets: Mapping[str, str] | None = None, timeout: float = 900,
            workflows: Path = WORKFLOWS) -> ActRun:
    """Run <workflows>/<workflow> (tests/e2e/workflows unless told) in `repo`; steps
    write results to $RESULT_DIR."""
    results = repo.parent / "results"
    results.mkdir(exist_ok=True)
    cmd = [act_binary(), event_name, "--workflows", str(workflows / workflow),
           "--platform", "ubuntu-latest=-self-hosted",
           "--env", f"RESULT_DIR={results}",
           # The default compose project name derives from the run id: one of its own,
           # carrying the session token, so the leak check sees what this run made.
           "--env", f"GITHUB_RUN_ID={SESSION}{random.randrange(10**6)}",
           "--env", "STACKCI_PYTHON_IMAGE=python:3.12-slim"]
    for name, value in (env or {}).items():
        cmd += ["--env", f"{name}={value}"]
    for name in secrets or {}:
        cmd += ["--secret", name]  # by name: the value comes from act's environment
    if event is not None:
        event_file = repo.parent / "event.json"
        event_file.write_text(json.dumps(event))
        cmd += ["--eventpath", str(event_file)]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, **(secrets or {})})
    return ActRun(proc.returncode, proc.stdout + proc.stderr, results)
