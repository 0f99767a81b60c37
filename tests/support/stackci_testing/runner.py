"""Run a StackCI action the way the runner would and read back what it produced:
exit code, outputs (parsed from GITHUB_OUTPUT exactly as the runner parses them),
annotations, the job summary."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stackci_testing.docker import SESSION

REPO = Path(__file__).resolve().parents[3]
LAUNCHER = REPO / "launcher" / "launch.sh"
_ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


@dataclass(frozen=True)
class Annotation:
    kind: str
    title: str
    message: str


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def annotations(self) -> list[Annotation]:
        found = []
        for line in self.stdout.splitlines():
            match = _ANNOTATION.match(line)
            if match:
                props = dict(p.split("=", 1) for p in (match.group(2) or "").split(",") if "=" in p)
                found.append(Annotation(match.group(1), unescape(props.get("title", "")),
                                        unescape(match.group(3))))
        return found

    def errors(self) -> list[Annotation]:
        return [a for a in self.annotations if a.kind == "error"]

    def json_output(self, name: str) -> object:
        return json.loads(self.outputs[name])

    def __str__(self) -> str:  # shown by pytest when an assertion on a Result fails
        return (f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}\n"
                f"--- outputs\n{self.outputs}")


def unescape(text: str) -> str:
    return (text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":")
            .replace("%2C", ",").replace("%25", "%"))


def parse_output_file(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT as the runner does: `name=value` or heredoc `name<<DELIM`."""
    outputs: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        i += 1
    return outputs


def workflow_env(tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A runner-like environment: file-command files in `tmp`, Actions mode on."""
    tmp.mkdir(parents=True, exist_ok=True)
    files = {}
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE",
                "GITHUB_PATH"):
        path = tmp / var.lower()
        path.touch()
        files[var] = str(path)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "STACKCI_"))}
    env.update(files)
    # A run id of its own per call, and the session token in the job name: the default
    # project name (stackci-<run>-<attempt>-<job>) is then unique and leak-checked.
    env.update({"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": "octo/app",
                "GITHUB_RUN_ID": str(random.randrange(10**9, 10**10)),
                "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": f"test-{SESSION}",
                "GITHUB_WORKFLOW": "ci", "GITHUB_WORKSPACE": str(tmp),
                "RUNNER_TEMP": str(tmp)})
    env.update(extra or {})
    return env


def run_action(action: str, inputs: Mapping[str, str], env: Mapping[str, str],
               cwd: Path | None = None, timeout: float = 600,
               launcher: bool = False) -> Result:
    """Run `action` with `inputs` as the runner would: a separate process, inputs in
    `STACKCI_INPUTS` as `toJSON(inputs)` hands them over. With `launcher`, through the
    shared launcher script and the StackCI image."""
    env = dict(env)
    env["STACKCI_INPUTS"] = json.dumps(dict(inputs))
    if launcher:
        env.setdefault("STACKCI_IMAGE", "build")
        env.setdefault("STACKCI_PYTHON_IMAGE", "python:3.12-slim")
        cmd = ["bash", str(LAUNCHER), action]
    else:
        cmd = [sys.executable, "-m", "stackci", action]
    proc = subprocess.run(cmd, env=env, cwd=cwd or env.get("GITHUB_WORKSPACE"),
                          capture_output=True, text=True, timeout=timeout, check=False)
    outputs: dict[str, str] = {}
    summary = ""
    if env.get("GITHUB_OUTPUT"):
        outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
        Path(env["GITHUB_OUTPUT"]).write_text("")
    if env.get("GITHUB_STEP_SUMMARY"):
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        Path(env["GITHUB_STEP_SUMMARY"]).write_text("")
    return Result(proc.returncode, proc.stdout, proc.stderr, outputs, summary)


def assert_one_bad_input(result: Result, name: str, secret: str = "") -> None:
    """The bad-input rule, as users see it: exit 2, one error annotation naming `name`,
    no traceback, no outputs, and `secret` only where the runner masks it."""
    assert result.code == 2, result
    errors = result.errors()
    assert len(errors) == 1, result
    assert errors[0].message.startswith(f"input '{name}': expected "), errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert result.outputs == {}
    if secret:
        for line in (result.stdout + result.stderr).splitlines():
            assert secret not in line or line == f"::add-mask::{secret}", line
