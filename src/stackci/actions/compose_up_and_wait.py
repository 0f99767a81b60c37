"""compose-up-and-wait: start a compose stack and know, fast and for sure, when every
service is ready, or exactly why one is not."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from stackci.core.engine import compose_vars
from stackci.core.engine.compose import (
    ComposeError,
    ComposeProject,
    default_compose_files,
    default_project_name,
    start_compose,
)
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed, BadInputs, InputError
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.workflow import Workflow
from stackci.readiness.smoke import SmokeCheck, parse_smoke, unknown_services
from stackci.readiness.spec import (
    AUTO,
    RUNNING_SETTLE,
    Check,
    ServiceWait,
    WaitSpecError,
    merge,
    parse_wait,
)
from stackci.readiness.stack import BadExtension, StackModel, UnknownServices, load_stack

# The watching and reporting side needs docker-py and requests, which take about 0.1 s
# to import: `run` imports it only once `docker compose up` is on its way, so that the
# import overlaps with Compose's own start instead of delaying it. The wait's machine
# (machine.py, state.py, verdicts.py, about 10 ms) likewise: before the start, only what
# reads and checks the inputs is imported.
if TYPE_CHECKING:
    import docker

    from stackci.readiness.machine import ServiceSetup
    from stackci.readiness.report import ServiceReport
    from stackci.readiness.state import WaitResult
    from stackci.readiness.up import ComposeUp

NAME = "compose-up-and-wait"
PULL_POLICIES = ("missing", "always", "never")
DEFAULT_TIMEOUT = 300.0
DEFAULT_LOG_LINES = 100
MAX_SETTLE = 600.0
_COMPOSE_FILES = "compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml"


@dataclass(frozen=True)
class Settings:
    working_directory: Path
    compose_files: tuple[Path, ...]
    project_name: str | None
    profiles: tuple[str, ...]
    env_files: tuple[Path, ...]
    services: tuple[str, ...]
    build: bool
    pull: str
    timeout: float
    wait: dict[str, ServiceWait]
    fail_fast: bool
    settle: float
    start_mode: str
    run_healthchecks: bool
    logs_on_failure: int
    export_env: bool
    smoke: tuple[SmokeCheck, ...]

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        directory = inputs.path("working-directory", ctx.workspace, must_exist=True,
                                kind="folder") or ctx.workspace
        directory_ok = directory.is_dir()
        if directory.exists() and not directory_ok:
            inputs.fail("working-directory", "a folder", str(directory))
        env = ctx.env
        return cls(
            working_directory=directory,
            compose_files=_compose_files(inputs, env, directory, check=directory_ok),
            project_name=compose_vars.project_name(inputs, env) or default_project_name(ctx),
            profiles=compose_vars.profiles(inputs, env),
            env_files=compose_vars.env_files(inputs, env, directory),
            services=inputs.items("services"),
            build=inputs.boolean("build", default=False),
            pull=inputs.choice("pull", PULL_POLICIES, default="missing"),
            timeout=inputs.duration("timeout", default=DEFAULT_TIMEOUT),
            wait=_wait(inputs),
            fail_fast=inputs.boolean("fail-fast", default=True),
            settle=inputs.duration("settle", default=RUNNING_SETTLE, maximum=MAX_SETTLE,
                                   allow_zero=True),
            start_mode=inputs.choice("start-mode", ("ready", "compose"), "ready"),
            run_healthchecks=inputs.boolean("run-healthchecks", default=True),
            logs_on_failure=inputs.integer("logs-on-failure", DEFAULT_LOG_LINES, minimum=0),
            export_env=inputs.boolean("export-env", default=True),
            smoke=_smoke(inputs),
        )

    def compose_project(self, run: ActionRun) -> ComposeProject:
        # Compose's own rule: the project directory is the first compose file's folder,
        # so relative bind mounts, env_file and build contexts resolve as they always do.
        return ComposeProject(self.project_name, self.compose_files[0].parent,
                              self.compose_files, self.env_files, self.profiles, dict(run.env))

    def up_arguments(self) -> list[str]:
        return ["up", "--detach", "--pull", self.pull, *(["--build"] if self.build else []),
                *self.services]

    def create_arguments(self) -> list[str]:
        """The dependency-aware start's first step: everything created as `up` would
        create it (networks, volumes, containers), nothing started."""
        return ["create", "--pull", self.pull, *(["--build"] if self.build else []),
                *self.services]


def _compose_files(inputs: InputReader, env: Mapping[str, str], directory: Path,
                   check: bool) -> tuple[Path, ...]:
    """The compose-file input, else COMPOSE_FILE, else what Compose picks itself."""
    given, _ = compose_vars.compose_file_names(inputs, env)
    if not check:
        return ()
    if not given:
        found = default_compose_files(directory)
        if not found:
            inputs.fail("compose-file", f"a compose file; there is no {_COMPOSE_FILES} in "
                        f"{directory} (and {compose_vars.FILE} is not set)")
        return found
    return compose_vars.compose_files(inputs, env, directory)


def _wait(inputs: InputReader) -> dict[str, ServiceWait]:
    mapping = inputs.yaml_mapping("wait")
    try:
        return parse_wait(mapping)
    except WaitSpecError as exc:
        inputs.fail("wait", f"a wait mapping as documented ({exc})")
        return {}


def _smoke(inputs: InputReader) -> tuple[SmokeCheck, ...]:
    try:
        return parse_smoke(inputs.yaml_list("smoke") or None)
    except WaitSpecError as exc:
        inputs.fail("smoke", f"smoke checks as documented ({exc})")
        return ()


# -- the action -----------------------------------------------------------------------

def run(settings: Settings, run: ActionRun) -> None:
    wf = run.wf
    project = settings.compose_project(run)
    model = _load_model(project, settings)
    _check_wait_names(settings, model)
    project = replace(project, name=model.name)
    wf.set_output("project-name", model.name)
    if settings.export_env:
        hand_over(run, settings, model.name)

    count = len(model.services)
    with wf.group(f"Starting {model.name} and waiting for {count} service"
                  f"{'' if count == 1 else 's'}"):
        started = time.time()
        staged = settings.start_mode == "ready" and model.has_start_conditions()
        arguments = settings.create_arguments() if staged else settings.up_arguments()
        proc = start_compose(project, *arguments)
        from stackci.readiness.up import ComposeUp  # noqa: PLC0415 - see the imports

        up = ComposeUp(proc, arguments[0])
        client, result = _watch(wf, settings, model, up, started,
                                start=_starter(project) if staged else None)
        if result.up_output.strip() and wf.debug_enabled:
            wf.debug(f"docker compose {result.up_command} said:\n" + result.up_output.rstrip())
    from stackci.readiness.report import build_reports, summary_table  # noqa: PLC0415

    reports = build_reports(result, client)
    _set_outputs(wf, result, reports)
    if result.ok:
        wf.summary.add(f"### ✅ {model.name}: all {count} services ready in "
                       f"{_ready_seconds(result):.1f} s\n\n{summary_table(reports)}")
        if settings.smoke:
            smoke_test(wf, settings.smoke, client, model)
        return
    from stackci.readiness.report import explain_failure  # noqa: PLC0415

    raise explain_failure(wf, result, reports, client, settings.logs_on_failure)


def hand_over(run: ActionRun, settings: Settings, project: str) -> None:
    """Before the start, so that a later step (`docker compose exec`, collect-logs with
    no inputs, an `if: always()` teardown) reaches the stack even when the wait fails."""
    variables = compose_vars.handover(project, settings.compose_files, settings.profiles,
                                      settings.env_files, run.env)
    written = [run.wf.export_variable(name, value) for name, value in variables.items()]
    if all(written):
        run.wf.log(f"Later steps of this job reach {project} with plain `docker compose` "
               f"({', '.join(variables)} set for them).")


def smoke_test(wf: Workflow, checks: tuple[SmokeCheck, ...], client: docker.DockerClient,
               model: StackModel) -> None:
    """Each smoke check once, now that every service is ready; any failure fails."""
    from stackci.readiness.smoke import run_smoke, smoke_table  # noqa: PLC0415

    with wf.group(f"Smoke checks ({len(checks)})"):
        results = run_smoke(checks, client, model.name, tuple(model.services))
        for result in results:
            wf.log(result.line())
    wf.set_output("smoke", {r.smoke.name: {"ok": r.ok, "detail": r.detail,
                                           "answer": r.excerpt} for r in results})
    failed = [r for r in results if not r.ok]
    for result in failed:
        wf.error(result.line(), title=f"smoke check {result.smoke.name} failed")
    passed = len(results) - len(failed)
    mark = "✅" if not failed else "❌"
    wf.summary.add(f"### {mark} Smoke checks: {passed} of {len(results)} passed\n\n"
                   f"{smoke_table(results)}")
    if failed:
        raise ActionFailed("smoke check" + ("s " if len(failed) > 1 else " ")
                           + ", ".join(f"{r.smoke.name} ({r.detail})" for r in failed)
                           + " failed", annotated=True)


def _starter(project: ComposeProject) -> Callable[[tuple[str, ...]], tuple[int, str]]:
    """Starts services of the created project without their dependencies: their
    conditions were judged by the wait. Through Compose (about 0.5 s a call here), not
    the engine API, so what Compose does at start (lifecycle hooks, its labels'
    bookkeeping) is not skipped."""
    def start(services: tuple[str, ...]) -> tuple[int, str]:
        proc = start_compose(project, "up", "--detach", "--no-deps", "--no-build",
                             "--pull", "never", *services)
        out, _ = proc.communicate()
        return proc.returncode, out or ""

    return start


def _watch(wf: Workflow, settings: Settings, model: StackModel, up: ComposeUp,
           started: float, *, start: Callable[[tuple[str, ...]], tuple[int, str]] | None
           ) -> tuple[docker.DockerClient, WaitResult]:
    """Watch the stack that `up` is starting until every service is ready, one cannot
    be (fail fast), or time runs out. The watcher replays the engine's events from
    `started` on, so subscribing only now misses none."""
    try:
        # Only now, see the module's imports; the report's too, so that it is not
        # imported between the last service ready and the exit.
        import stackci.readiness.report  # noqa: F401, PLC0415
        from stackci.core.engine.events import lookup_client, stream_client  # noqa: PLC0415
        from stackci.readiness.watcher import StackWatcher  # noqa: PLC0415

        # What exists now (modules, settings, the compose model) lives until the exit:
        # no garbage collection needs to walk it again, neither during the wait nor the
        # interpreter's last one at exit (measured: 40-90 ms less from ready to exit).
        gc.freeze()
        streams = stream_client()
        client = lookup_client(streams)
        watcher = StackWatcher(
            client=client, streams=streams, project=model.name, setups=_setups(settings, model),
            timeout=settings.timeout, fail_fast=settings.fail_fast, say=wf.log,
            debug=wf.debug, run_healthchecks=settings.run_healthchecks,
            settle=settings.settle, start=start)
    except BaseException:
        up.stop(wf.log)  # the watcher, which would stop it, never got it
        raise
    return client, watcher.run(up, started)


def _load_model(project: ComposeProject, settings: Settings) -> StackModel:
    """The project as Compose sees it; any problem with it is bad input (exit 2)."""
    try:
        return load_stack(project, settings.services)
    except UnknownServices as exc:
        raise BadInputs([InputError("services", "services of this project ("
                                    + ", ".join(exc.known) + ")", ", ".join(exc.unknown))]
                        ) from exc
    except BadExtension as exc:
        raise BadInputs([InputError("compose-file", f"a valid x-stackci-wait field ({exc})")]
                        ) from exc
    except ComposeError as exc:
        said = " ".join(exc.stderr.split())[:300] or str(exc)
        raise BadInputs([InputError("compose-file", "a compose project that docker compose "
                                    f"config accepts; it said: {said}")]) from exc


def _check_wait_names(settings: Settings, model: StackModel) -> None:
    if not model.services:
        # Compose would start nothing and say "no service selected" only after `up`.
        raise BadInputs([InputError("compose-file", "a compose project with a service to "
                                    "start; it has none (`services:` is empty, or every "
                                    "service is scaled to 0 or in a profile not enabled)")])
    unknown_smoke = unknown_services(settings.smoke, tuple(model.services))
    if unknown_smoke:
        raise BadInputs([InputError(
            "smoke", "exec checks in services that this run starts ("
            + ", ".join(sorted(model.services)) + ")", ", ".join(unknown_smoke))])
    unknown = sorted(set(settings.wait) - set(model.services))
    if unknown:
        raise BadInputs([InputError(
            "wait", "services that this run starts (" + ", ".join(sorted(model.services)) + ")",
            ", ".join(unknown))])


def _setups(settings: Settings, model: StackModel) -> list[ServiceSetup]:
    """Per service: its plan, its checks (the input's over the compose file's), its
    time limit and its probe interval. A one-shot that another service names with
    `service_completed_successfully` has to complete, not merely run."""
    from stackci.readiness.machine import ServiceSetup  # noqa: PLC0415 - see the imports

    setups = []
    must_complete = model.must_complete()
    for name, plan in model.services.items():
        wait = merge(plan.wait, settings.wait.get(name))
        checks = wait.effective_checks
        if name in must_complete and checks == (Check(AUTO),):
            checks = (Check("completed"),)
        setups.append(ServiceSetup(plan, checks, wait.timeout, wait.interval))
    return setups


def _ready_seconds(result: WaitResult) -> float:
    times = [s.ready_at for s in result.services.values() if s.ready_at is not None]
    return max(times, default=result.started) - result.started


def _set_outputs(wf: Workflow, result: WaitResult, reports: list[ServiceReport]) -> None:
    wf.set_output("services", {r.name: r.output() for r in reports})
    wf.set_output("ready-seconds", f"{_ready_seconds(result):.2f}" if result.ok else "")
