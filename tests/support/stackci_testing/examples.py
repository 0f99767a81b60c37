"""Run an example pipeline (examples/<name>/) under act exactly as a team would have it:
the example's files committed in a consumer repository of their own, its workflow file
as written, `stackci/stackci@v1` mapped to a repository holding this checkout's actions
(`--local-repository`), and upload/download-artifact mapped, by the SHA the example
pins, to the stand-ins in tests/e2e/standin-actions (artifacts kept on disk)."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker

from stackci_testing.act import act_binary, make_repo
from stackci_testing.docker import SESSION, leftovers
from stackci_testing.runner import REPO

EXAMPLES = REPO / "examples"
STANDIN_ACTIONS = REPO / "tests" / "e2e" / "standin-actions"
# A remote action with a stand-in folder of the same name (tests/e2e/standin-actions/
# <name>): actions/upload-artifact, actions/setup-python, ... actions/checkout is act's own.
_REMOTE = re.compile(r"uses:\s*([\w.-]+/([\w.-]+))@([0-9a-f]{40}|v\d\S*)")
_JOB_END = re.compile(r"^\[[^\]]*?/([^\]/]+)\]\s+🏁\s+Job (succeeded|failed)", re.MULTILINE)


@dataclass(repr=False)
class ExampleRun:
    code: int
    log: str
    artifacts: Path
    repo: Path
    # The run id act was given: every default compose project of the run is
    # `stackci-<run id>-<attempt>-<job>`.
    run_id: str = ""

    @property
    def project_prefix(self) -> str:
        return f"stackci-{self.run_id}-"

    @property
    def jobs(self) -> dict[str, str]:
        """Each job that ran and how it ended: `succeeded` or `failed`. act pads the names
        of jobs that run side by side (`[wf/quality   ]`): the padding is not the name."""
        return {name.rstrip(): end for name, end in _JOB_END.findall(self.log)}

    def __str__(self) -> str:
        return f"act exit {self.code}\n{self.log[-12000:]}"

    __repr__ = __str__  # what pytest shows of a failed assertion: the log's end


def yaml_lines(path: Path) -> list[str]:
    """A workflow's lines as README's Recipes count them: not blank, not a comment."""
    return [line for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


# What a thin caller never holds: papering over a failure, waiting or polling by hand,
# log capture or teardown by hand.
THIN_SMELLS = ("continue-on-error", "|| true", "sleep", "outcome", "while ", "for ",
               "until ", "curl", "docker compose logs", "docker compose down")


def smells(text: str, *more: str) -> list[str]:
    """Which of THIN_SMELLS (and `more`, an example's own) `text` holds."""
    return [smell for smell in (*THIN_SMELLS, *more) if smell in text]


def left_behind(client: docker.DockerClient, result: ExampleRun) -> list[str]:
    """What the run's own compose projects left on the engine (containers, networks,
    volumes): a pipeline that tears down leaves nothing."""
    return [thing for thing in leftovers(client) if result.project_prefix in thing]


def remove_built_images(client: docker.DockerClient, result: ExampleRun) -> None:
    """The images the run's projects built (`<project>-<service>`): teardown keeps
    images, as `docker compose down` does, and each run's project name is new."""
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(result.project_prefix):
                client.images.remove(tag)  # this tag only: the layers may be shared


def _commit(folder: Path) -> None:
    git = ["git", "-c", "user.email=e2e@stackci.test", "-c", "user.name=e2e"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run(["git", "remote", "add", "origin", "https://github.com/octo/app.git"],
                   cwd=folder, check=True)
    subprocess.run([*git, "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=folder, check=True)


def consumer_repo(tmp: Path, example: str,
                  change: Callable[[Path], None] | None = None) -> Path:
    """The example's files as a repository of their own; `change` edits them first (a
    failing test, a crashing service) without touching the workflow."""
    repo = tmp / "consumer"
    source = EXAMPLES / example  # an absolute path: a folder of its own
    for relative in committable(source):
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / relative, repo / relative)
    if change is not None:
        change(repo)
    _commit(repo)
    return repo


def committable(folder: Path) -> list[str]:
    """The files below `folder` that a clean clone has (tracked, or new and not
    ignored), relative to it: a file .gitignore keeps out is not the example's, though it
    may lie in this checkout (a built `dist/`, caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
        cwd=folder, capture_output=True, text=True, check=True).stdout
    return sorted(name for name in listed.split("\0") if name and (folder / name).is_file())


def stackci_repo(tmp: Path) -> Path:
    """This checkout's actions and its reusable workflows (.github/workflows), as the
    repository `stackci/stackci@v1` names."""
    return make_repo(tmp, {".github/workflows": REPO / ".github" / "workflows"})


def run_example(tmp: Path, repo: Path, workflow: str, event_name: str = "push",
                env: Mapping[str, str] | None = None,
                variables: Mapping[str, str] | None = None,
                secrets: Mapping[str, str] | None = None,
                event: Mapping[str, object] | None = None,
                timeout: float = 900,
                runners: Sequence[str] = ()) -> ExampleRun:
    """Run `repo`'s .github/workflows/<workflow> for `event_name` (with `event` as the
    payload when given). `env` and `variables` (`vars.*`) are passed to act; `secrets`
    by name only, their values through act's environment. Each call of a test gets a
    fresh `tmp` (several runs in one test: a sub-folder each). `runners` are more
    `runs-on` labels run on this host too (a self-hosted `staging` runner, say)."""
    tmp.mkdir(parents=True, exist_ok=True)
    run_id = f"{SESSION}{random.randrange(10**6)}"
    actions = stackci_repo(tmp / "stackci")  # what `stackci/stackci@v1` resolves to
    artifacts = tmp / "artifacts"
    artifacts.mkdir()
    workflow_file = repo / ".github" / "workflows" / workflow
    cmd = [act_binary(), event_name, "--workflows", str(workflow_file),
           "--platform", "ubuntu-latest=-self-hosted",
           *[arg for label in runners for arg in ("--platform", f"{label}=-self-hosted")],
           "--local-repository", f"stackci/stackci@v1={actions}",
           "--env", f"GITHUB_RUN_ID={run_id}",
           "--env", f"STANDIN_ARTIFACTS={artifacts}",
           # No registry here: the actions run this checkout's image, built once.
           "--env", "STACKCI_IMAGE=build",
           "--env", "STACKCI_PYTHON_IMAGE=python:3.12-slim"]
    # The remote actions of the consumer's workflows and of StackCI's reusable ones.
    texts = [p.read_text() for folder in (repo, actions)
             for p in (folder / ".github" / "workflows").glob("*.y*ml")]
    for action, name, ref in sorted({m for t in texts for m in _REMOTE.findall(t)}):
        if action.startswith("stackci/") or not (STANDIN_ACTIONS / name).is_dir():
            continue
        standin = tmp / "standins" / f"{name}@{ref}"
        if not standin.exists():
            shutil.copytree(STANDIN_ACTIONS / name, standin)
            _commit(standin)
        cmd += ["--local-repository", f"{action}@{ref}={standin}"]
    for name, value in (env or {}).items():
        cmd += ["--env", f"{name}={value}"]
    for name, value in (variables or {}).items():
        cmd += ["--var", f"{name}={value}"]
    for name in secrets or {}:
        cmd += ["--secret", name]  # by name: the value comes from act's environment
    if event is not None:
        event_file = tmp / "event.json"
        event_file.write_text(json.dumps(event))
        cmd += ["--eventpath", str(event_file)]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, **(secrets or {})})
    result = ExampleRun(proc.returncode, proc.stdout + proc.stderr, artifacts, repo, run_id)
    (tmp / "act.log").write_text(result.log)  # whole, for whoever reads a failure
    remove_built_images(docker.from_env(), result)
    return result
