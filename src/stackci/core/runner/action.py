"""What an action module provides, and the top-level handler that runs one.

An action module (`stackci.actions.<name>`) has a frozen `Settings` dataclass with
`from_inputs(inputs, ctx)` and a `run(settings, run)` function. The handler here turns
its outcome into the runner's language: exit 0, 1 (the check failed) or 2 (bad input)."""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TextIO

from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed, BadInputs
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import ActionManifest, load_manifest
from stackci.core.runner.workflow import Workflow
from stackci.core.text import markdown as md

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class ActionRun:
    """What a running action may use: the run context and the runner."""

    ctx: RunContext
    wf: Workflow

    @property
    def env(self) -> Mapping[str, str]:
        """The environment, as the run context read it (one copy, not two)."""
        return self.ctx.env


class SettingsType(Protocol):
    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Any: ...


def action_module(name: str) -> ModuleType:
    return importlib.import_module("stackci.actions." + name.replace("-", "_"))


def run_action(
    name: str,
    raw_inputs: Mapping[str, str],
    env: Mapping[str, str],
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the action called `name` (its module and its action.yml)."""
    return execute(action_module(name), load_manifest(name), raw_inputs, env,
                   stdout=stdout, stderr=stderr)


def execute(
    module: ModuleType,
    manifest: ActionManifest,
    raw_inputs: Mapping[str, str],
    env: Mapping[str, str],
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Parse settings, run the action, report. Never raises; returns the exit code."""
    name = manifest.name
    wf = Workflow(env, stdout, stderr)
    code = EXIT_OK
    with wf.redacting_logs():
        # What the shell launcher had to say (it writes no workflow commands itself).
        for note in env.get("STACKCI_LAUNCHER_NOTES", "").splitlines():
            wf.warning(note, title="StackCI launcher")
        try:
            ctx = RunContext.from_env(env)
            reader = InputReader(raw_inputs, manifest)
            try:
                settings = module.Settings.from_inputs(reader, ctx)
            finally:
                for secret in reader.secrets:
                    wf.add_mask(secret)
            reader.done()
            module.run(settings, ActionRun(ctx, wf))
        except BadInputs as exc:
            for error in exc.errors:
                wf.error(error.message(), title="Bad input")
            return EXIT_USAGE  # nothing was done, so there is nothing to report
        except ActionFailed as exc:
            if not exc.annotated:
                wf.error(str(exc), title=f"{name} failed")
            wf.summary.add(f"### ❌ {name} failed\n\n{md.escape(str(exc))}\n\n"
                           f"{exc.summary}".rstrip())
            code = EXIT_FAILED
        except KeyboardInterrupt:
            wf.error(f"{name} was interrupted", title=f"{name} failed")
            code = 130
        except Exception as exc:  # noqa: BLE001 - the one place every failure ends up
            wf.error(f"{name} stopped on an unexpected error: {type(exc).__name__}: {exc}",
                     title=f"{name} crashed")
            wf.debug(traceback.format_exc())
            wf.summary.add(f"### ❌ {name} crashed\n\n`{type(exc).__name__}`: "
                           f"{md.escape(str(exc))}")
            code = EXIT_FAILED
        wf.finish()
    return code
