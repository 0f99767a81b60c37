"""collect-logs: everything needed to debug a Compose stack, in one folder, with an
optional teardown.

The stack is found by its project label, so it works on whatever compose-up-and-wait or
plain `docker compose` left behind, half-started or not. It records what it finds and
never fails because a container is gone: exit 1 only when the folder cannot be written,
exit 2 for bad input."""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from stackci.core.engine.compose import (
    ComposeError,
    ComposeProject,
    default_compose_files,
    default_project_name,
    docker_client,
)
from stackci.core.engine.containers import ContainerState
from stackci.core.engine.copy import (
    CopyResult,
    CopySpec,
    copy_out,
    parse_copy_spec,
    split_copy_entries,
)
from stackci.core.engine.logs import PRINT_TAIL_LINES, stream_logs, tail_lines
from stackci.core.engine.project import (
    Teardown,
    compose_down,
    project_containers,
    project_events,
    project_exists,
    project_networks,
)
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed, BadInputs, InputError
from stackci.core.runner.inputs import InputReader, parse_duration, parse_lines
from stackci.core.text import markdown as md
from stackci.core.text.redact import MIN_SECRET_LENGTH, Secrets, env_secrets, redact_inspect
from stackci.core.text.times import parse_time

PRINT_MODES = ("failed", "all", "none")
# Streams in parallel; below docker-py's connection pool size (10), so none is discarded.
LOG_WORKERS = 8
# The `files` output lists at most this many (GitHub caps a step's outputs at 1 MB);
# `files.txt` in the folder has them all.
MAX_FILES_OUTPUT = 1000
# Set by the launcher: the host folders mounted into its container at the same paths,
# one per line. Anything written elsewhere is lost with the container.
MOUNTS_ENV = "STACKCI_MOUNTS"


@dataclass(frozen=True)
class Settings:
    project_name: str | None
    default_project: str | None
    working_directory: Path
    compose_files: tuple[Path, ...]
    path: Path
    services: tuple[str, ...]
    tail: int | None
    since: float | None
    timestamps: bool
    copy: tuple[CopySpec, ...]
    print_mode: str
    teardown: bool
    remove_volumes: bool
    redact: tuple[str, ...]

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        project = inputs.project_name()
        workdir = inputs.path("working-directory", ctx.workspace, must_exist=False) \
            or ctx.workspace
        files = tuple(workdir / f for f in inputs.file_names("compose-file"))
        redact = parse_lines(inputs.secret("redact"))
        if any(len(value) < MIN_SECRET_LENGTH for value in redact):
            # The value itself stays out of the message: it is a secret.
            inputs.fail("redact", f"strings of at least {MIN_SECRET_LENGTH} characters, one "
                        "per line (a shorter one would mask it everywhere in the files)")
        return cls(
            project_name=project,
            default_project=default_project_name(ctx),
            working_directory=workdir,
            compose_files=files,
            path=_read_path(inputs, ctx),
            services=inputs.items("services"),
            tail=_read_tail(inputs),
            since=_read_since(inputs),
            timestamps=inputs.boolean("timestamps", default=True),
            copy=_read_copy(inputs),
            print_mode=inputs.choice("print", PRINT_MODES, "failed"),
            teardown=inputs.boolean("teardown", default=False),
            remove_volumes=inputs.boolean("remove-volumes", default=True),
            redact=redact,
        )


def _read_path(inputs: InputReader, ctx: RunContext) -> Path:
    """The output folder, absolute but with its symlinks NOT resolved: a checkout may
    bring a symlink at `path` (or above it) that points out of the workspace."""
    workspace = ctx.workspace
    text = inputs.text("path", "stackci-logs")
    # Not `.resolve()`: that would follow the symlinks this is looking for.
    path = Path(os.path.normpath(workspace / text))
    if path.is_symlink():
        inputs.fail("path", "a folder, not a symlink (it would take the files elsewhere)",
                    text)
    elif _inside(path, workspace) and not _inside(path.resolve(), workspace.resolve()):
        inputs.fail("path", "a folder inside the workspace; a symlink on the way takes "
                    f"it to {path.resolve()}", text)
    mounts = [Path(m) for m in ctx.env.get(MOUNTS_ENV, "").splitlines() if m.strip()]
    if mounts and not any(_inside(path.resolve(), m.resolve()) or _inside(path, m)
                          for m in mounts):
        inputs.fail("path", "a folder under the workspace or RUNNER_TEMP: StackCI runs in "
                    "a container that only sees those, and anything written elsewhere is "
                    "lost with it", text)
    return path


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _read_tail(inputs: InputReader) -> int | None:
    text = inputs.text("tail", "all")
    if text == "all":
        return None
    if not text.isdigit():
        inputs.fail("tail", "a number of lines (0 or more) or `all`", text)
        return None
    return int(text)


def _read_since(inputs: InputReader) -> float | None:
    """Epoch seconds, as the engine takes them: `10m` back from now, an RFC 3339 time or
    Unix seconds (a bare number is a time, as for `docker logs --since`)."""
    text = inputs.optional_text("since")
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        return time.time() - parse_duration(text)
    except ValueError:
        pass
    stamp = parse_time(text, naive_is_utc=False)
    if stamp is None and parse_time(text) is not None:
        inputs.fail("since", "a time with its zone, such as 2024-05-01T12:00:00Z", text)
    elif stamp is None:
        inputs.fail("since", "a duration such as 10m or 1h30m, an RFC 3339 time such as "
                    "2024-05-01T12:00:00Z, or Unix seconds", text)
    return stamp


def _read_copy(inputs: InputReader) -> tuple[CopySpec, ...]:
    specs = []
    for entry in inputs.items("copy", split_copy_entries):
        try:
            specs.append(parse_copy_spec(entry))
        except ValueError as exc:
            inputs.fail("copy", str(exc), entry)
    return tuple(specs)


# -- what was found --------------------------------------------------------------------
@dataclass
class Found:
    """One container and what was collected from it."""

    record: ContainerState
    label: str  # `<service>`, `<service>-<n>` when scaled, `<service>-run-<id>` one-off
    selected: bool
    oom_events: int = 0
    stopped: bool = False  # the engine recorded a `stop` or `kill` for it
    log: str | None = None
    log_bytes: int = 0
    note: str = ""

    @property
    def problems(self) -> list[str]:
        return self.record.problems(self.oom_events, stopped=self.stopped)

    def as_json(self) -> dict[str, Any]:
        data = self.record.to_json()
        data.update(problems=self.problems, failed=bool(self.problems), log=self.log,
                    log_bytes=self.log_bytes, note=self.note or None)
        return data


@dataclass
class Collection:
    project: str
    found: list[Found] = field(default_factory=list)
    copies: list[CopyResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    teardown: Teardown | None = None

    @property
    def selected(self) -> list[Found]:
        return [f for f in self.found if f.selected]

    @property
    def failed(self) -> list[Found]:
        return [f for f in self.selected if f.problems]

    fallback: bool = False  # the project is Compose's default, not this job's own
    secrets: list[str] = field(default_factory=list)

    @property
    def failed_services(self) -> list[str]:
        """Services with a failed container; a `compose run` one-off container that
        failed does not mark its service (it is a command run in it, reported apart)."""
        return sorted({f.record.service for f in self.failed if not f.record.one_off})

    @property
    def failed_runs(self) -> list[Found]:
        return [f for f in self.failed if f.record.one_off]


# -- the action ------------------------------------------------------------------------
def run(settings: Settings, run: ActionRun) -> None:
    # The project-name input, else the name compose-up-and-wait uses in this job, else
    # (not in a workflow) Compose's default: a missing one is bad input, found first.
    project = settings.project_name or settings.default_project or local_project(settings)
    client, engine_problem = connect()
    fallback = False
    if client is not None and not settings.project_name and settings.default_project:
        project, fallback = job_project(settings.default_project, settings, client)
    collection = Collection(project, fallback=fallback)
    if engine_problem:
        collection.warnings.append(engine_problem)
    folder = OutputFolder(settings.path, Secrets(settings.redact))
    run.wf.log(f"collect-logs: project {project}, writing to {settings.path}")
    try:
        folder.prepare()
        unwritable = ""
    except OSError as exc:
        unwritable = f"cannot write the folder {settings.path}: {exc.strerror or exc}"
    if client is not None:
        if not unwritable:
            collect(client, settings, collection, folder)
            for secret in collection.secrets:
                run.wf.add_mask(secret)
            print_logs(settings, collection, folder, run)
        if settings.teardown and collection.fallback:
            # Compose's default name may be another stack on a shared engine.
            collection.warnings.append(
                f"teardown skipped: {project!r} is Compose's default project name for the "
                "compose files, not this job's stack; set `project-name` to tear it down")
        elif settings.teardown:  # also when nothing could be written: it is cleanup
            collection.teardown = compose_down(client, project, settings.remove_volumes)
            report_teardown(collection, run)
    try:
        report(settings, collection, folder, run, unwritable)
    finally:
        folder.give_to_parent_owner()


def connect() -> tuple[docker.DockerClient | None, str]:
    try:
        return docker_client(), ""
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return None, f"the Docker engine does not answer: {exc}; nothing could be collected"


def report(settings: Settings, collection: Collection, folder: OutputFolder, run: ActionRun,
           unwritable: str) -> None:
    """Warnings, index.md (in the folder and the job summary), outputs; exit 1 when
    the folder, or part of it, could not be written."""
    for warning in collection.warnings:
        run.wf.warning(warning, title="collect-logs")
    if not unwritable:
        write_file_list(folder)
    index = index_markdown(settings, collection, folder)
    if not unwritable:
        folder.write_text("index.md", index + "\n")
    run.wf.summary.add(index)
    set_outputs(settings, collection, folder, run)
    if unwritable:
        raise ActionFailed(unwritable)
    if folder.failures:
        raise ActionFailed(
            f"could not write {len(folder.failures)} file(s) in {settings.path}",
            "\n".join(f"- {md.escape(f)}" for f in folder.failures))


def job_project(default: str, settings: Settings,
                client: docker.DockerClient) -> tuple[str, bool]:
    """In a workflow without a project-name input: the name compose-up-and-wait gives
    this job's stack, when anything of it exists (containers, or only a network or
    volume when `up` failed early); else, when Compose's default for the compose files
    in the working directory has containers (a stack started by plain `docker compose
    up`), that one, flagged as a fallback: it is never torn down."""
    if project_exists(client, default):
        return default, False
    compose_default, _ = compose_default_name(settings)
    if compose_default and project_containers(client, compose_default):
        return compose_default, True
    return default, False  # reported as "no containers"


def local_project(settings: Settings) -> str:
    """Compose's default project name, as on a laptop; bad input when there is none."""
    name, problem = compose_default_name(settings)
    if name is None:
        raise BadInputs([InputError(
            "project-name", f"a project name: none was given and Compose could not work "
            f"one out ({problem})")])
    return name


def compose_default_name(settings: Settings) -> tuple[str | None, str]:
    """Compose's own project name for the files in the working directory, or why not."""
    files = settings.compose_files or default_compose_files(settings.working_directory)
    if not files:
        return None, f"no compose file in {settings.working_directory}"
    try:
        return ComposeProject(None, settings.working_directory, files).resolved_name(), ""
    except (ComposeError, OSError) as exc:
        return None, str(exc)


def collect(client: docker.DockerClient, settings: Settings, collection: Collection,
            folder: OutputFolder) -> None:
    containers = project_containers(client, collection.project)
    if not containers:
        collection.warnings.append(
            f"no containers of Compose project {collection.project!r} were found: nothing "
            "was started, it was already torn down, or the project name differs "
            "(set `project-name`)")
    # Secrets in any container's environment are masked in every file from here on.
    collection.secrets = sorted({s for c in containers for s in env_secrets(c.attrs)})
    folder.secrets.add(collection.secrets)
    records = [ContainerState.from_inspect(c.attrs) for c in containers]
    labels = container_labels(records, collection.project)
    wanted = set(settings.services)
    collection.found = [Found(r, labels[r.id], not wanted or r.service in wanted)
                        for r in records]
    present = {r.service for r in records}
    for service in settings.services:
        if records and service not in present:
            collection.warnings.append(
                f"services: the project has no container of service {service!r} "
                f"(it has: {', '.join(sorted(present))})")
    write_events(client, collection, folder, records)
    write_logs(client, settings, collection, folder)
    attrs = {c.id: c.attrs for c in containers}
    for found in collection.selected:
        folder.write_json(f"inspect/{safe_name(found.record.name)}.json",
                          redact_inspect(attrs[found.record.id]))
    write_ps(collection, folder)
    write_networks(client, collection, folder, containers)
    copy_files(settings, collection, folder, containers)


def container_labels(records: Iterable[ContainerState], project: str) -> dict[str, str]:
    """File names for containers: the service's name, numbered when it is scaled."""
    records = list(records)
    per_service = Counter(r.service for r in records if not r.one_off)
    labels: dict[str, str] = {}
    for r in records:
        if r.one_off:
            label = r.name.removeprefix(f"{project}-") or r.name
        elif per_service[r.service] > 1:
            label = f"{r.service}-{r.number}"
        else:
            label = r.service
        label = safe_name(label)
        if label in labels.values():
            label = f"{label}-{r.id[:12]}"
        labels[r.id] = label
    return labels


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".") or "_"


def write_logs(client: docker.DockerClient, settings: Settings, collection: Collection,
               folder: OutputFolder) -> None:
    """Every selected container's log, streamed to its file, several at a time."""

    def one(found: Found) -> None:
        relative = f"logs/{found.label}.log"
        with folder.open(relative) as out:
            try:
                stream_logs(client, found.record.id, out, timestamps=settings.timestamps,
                            tail=settings.tail, since=settings.since, tty=found.record.tty)
            except docker.errors.NotFound:
                found.note = "the container was removed while its log was read"
            except docker.errors.APIError as exc:
                found.note = f"the engine cannot give this log: {exc.explanation or exc}"
            except requests.RequestException as exc:
                found.note = f"reading the log stopped: {exc}"
        size = folder.size(relative)
        if found.note and not size:
            folder.discard(relative)  # the warning says why there is no log
        elif relative in folder.written:
            found.log, found.log_bytes = relative, size

    with ThreadPoolExecutor(max_workers=LOG_WORKERS, thread_name_prefix="logs") as pool:
        list(pool.map(one, collection.selected))
    for found in collection.selected:
        if found.note:
            collection.warnings.append(f"{found.record.name}: {found.note}")


def write_events(client: docker.DockerClient, collection: Collection, folder: OutputFolder,
                 records: list[ContainerState]) -> None:
    """events.jsonl: the engine's life-cycle events for the project since its first
    container was created."""
    created = [r.created_at for r in records if r.created_at is not None]
    if not created:
        return
    since = min(created) - 1
    ooms: Counter[str] = Counter()
    stopped: set[str] = set()
    first: float | None = None
    try:
        with folder.open("events.jsonl") as out:
            for event in project_events(client, collection.project, since):
                if event.get("Action") == "oom":
                    ooms[str(event.get("id", ""))] += 1
                if event.get("Action") in ("stop", "kill"):
                    stopped.add(str(event.get("id", "")))
                if first is None:
                    first = float(event.get("timeNano", 0)) / 1e9 or None
                out.write((json.dumps(event, sort_keys=True) + "\n").encode())
    except (docker.errors.APIError, requests.RequestException) as exc:
        collection.notes.append(f"the engine's events could not be read: {exc}")
    for found in collection.found:
        found.oom_events = ooms[found.record.id]
        found.stopped = found.record.id in stopped
    if first is None or first > min(created) + 2:
        collection.notes.append(
            "events.jsonl starts after the stack was created: the engine keeps only its "
            "last 256 events; `restarts` and `OOM` in the table come from the containers "
            "themselves and are complete")


def write_ps(collection: Collection, folder: OutputFolder) -> None:
    folder.write_json("ps.json", [f.as_json() for f in collection.found])
    rows = [("NAME", "SERVICE", "STATE", "EXIT", "HEALTH", "RESTARTS", "OOM", "IMAGE",
             "PORTS")]
    for f in collection.found:
        r = f.record
        rows.append((r.name, r.service, r.status, "" if r.exit_code is None else str(r.exit_code),
                     r.health or "", str(r.restarts), "yes" if r.oom_killed or f.oom_events else "",
                     r.image, ", ".join(r.port_texts())))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
    folder.write_text("ps.txt", text + "\n")


def write_networks(client: docker.DockerClient, collection: Collection, folder: OutputFolder,
                   containers: list[Any]) -> None:
    attached = sorted({name for c in containers
                       for name in ((c.attrs.get("NetworkSettings") or {}).get("Networks")
                                    or {})})
    try:
        networks = project_networks(client, collection.project, tuple(attached))
    except (docker.errors.APIError, requests.RequestException) as exc:
        collection.notes.append(f"the networks could not be read: {exc}")
        networks = []
    folder.write_json("networks.json", networks)


def copy_files(settings: Settings, collection: Collection, folder: OutputFolder,
               containers: list[Any]) -> None:
    by_id = {c.id: c for c in containers}
    for spec in settings.copy:
        sources = [f for f in collection.found if f.record.service == spec.service]
        if not sources:
            collection.warnings.append(f"copy {spec}: the project has no container of "
                                       f"service {spec.service!r}")
            continue
        for found in sources:
            result = copy_out(by_id[found.record.id], spec, folder, f"files/{found.label}")
            collection.copies.append(result)
            if result.missing:
                collection.warnings.append(f"copy {spec}: no such file or folder in "
                                           f"{found.record.name}")
            elif not result.files:
                collection.warnings.append(f"copy {spec} from {found.record.name}: "
                                           + "; ".join(result.notes))


def print_logs(settings: Settings, collection: Collection, folder: OutputFolder,
               run: ActionRun) -> None:
    """The end of the chosen services' logs in the job log, one group each."""
    if settings.print_mode == "none":
        return
    chosen = collection.failed if settings.print_mode == "failed" else collection.selected
    if settings.print_mode == "failed" and not chosen and collection.selected:
        run.wf.log("collect-logs: no service failed")
    for found in chosen:
        why = "; ".join(found.problems) or found.record.status
        with run.wf.group(f"{found.label}: last {PRINT_TAIL_LINES} log lines ({why})"):
            if found.log is None:
                run.wf.log(f"(no log: {found.note or 'not collected'})")
                continue
            lines = tail_lines(folder.path(found.log))
            for line in lines or ["(the log is empty)"]:
                run.wf.log(line)


def report_teardown(collection: Collection, run: ActionRun) -> None:
    result = collection.teardown
    if result is None:
        return
    if result.error:
        collection.warnings.append(f"teardown: docker compose down failed: {result.error}")
    if result.left:
        collection.warnings.append(
            f"teardown: {len(result.left)} thing(s) of project {collection.project!r} are "
            "still on the engine: " + ", ".join(result.left))
    if result.clean:
        run.wf.log(f"collect-logs: torn down; nothing of project {collection.project} is left")


# -- reporting -------------------------------------------------------------------------
def index_markdown(settings: Settings, collection: Collection, folder: OutputFolder) -> str:
    parts = [f"### StackCI collect-logs: {md.inline_code(collection.project)}"]
    selected = collection.selected
    failed = collection.failed_services
    line = f"{len(selected)} container(s) collected into {md.inline_code(str(settings.path))}"
    line += (f"; failed: {', '.join(md.escape(s) for s in failed)}." if failed
             else "; none failed.")
    parts.append(line)
    if selected:
        parts.append(md.table(["service", "container", "state", "exit code", "restarts",
                               "health", "OOM", "log size", "log", "problems"],
                              [container_row(f) for f in selected]))
    if collection.copies:
        rows = [copy_row(c) for c in collection.copies]
        parts.append("**Copied files**\n\n" + md.table(["copy", "container", "files"], rows))
    if collection.teardown is not None:
        parts.append(teardown_markdown(settings, collection))
    notes = collection.warnings + collection.notes + [
        f"could not write {f}" for f in folder.failures]
    if collection.failed_runs:
        names = ", ".join(f.record.name for f in collection.failed_runs)
        notes.append(f"one-off `compose run` container(s) failed: {names}; they do not "
                     "count their service in failed-services")
    written = len(set(folder.written) | {"index.md"})
    if written > MAX_FILES_OUTPUT:
        notes.append(f"{written} files were written: the `files` output lists "
                     f"{MAX_FILES_OUTPUT} of them (the top-level ones first); files.txt "
                     "has them all")
    if notes:
        parts.append("**Notes**\n\n" + "\n".join(f"- {md.escape(n)}" for n in notes))
    return "\n\n".join(parts)


def container_row(found: Found) -> tuple[str, ...]:
    r = found.record
    return (("❌ " if found.problems else "") + md.cell(r.service), md.cell(r.name),
            md.cell(r.status), "" if r.exit_code is None else str(r.exit_code),
            str(r.restarts), md.cell(r.health or "-"),
            "yes" if r.oom_killed or found.oom_events else "",
            human_size(found.log_bytes) if found.log else "-",
            md.inline_code(found.log) if found.log else md.cell(found.note or "-"),
            md.cell("; ".join(found.problems)))


def copy_row(result: CopyResult) -> tuple[str, ...]:
    """The files copied, then what was skipped (symlinks, devices) or went wrong."""
    if result.missing:
        files = "missing"
    else:
        files = "<br>".join([md.inline_code(f) for f in result.files]
                            + [md.cell(n) for n in result.notes])
    return (md.inline_code(str(result.spec)), md.cell(result.container), files)


def teardown_markdown(settings: Settings, collection: Collection) -> str:
    result = collection.teardown
    assert result is not None
    what = "containers, networks and volumes" if settings.remove_volumes else \
        "containers and networks (volumes kept)"
    if result.clean:
        return f"**Teardown**: done; no {what} of the project are left."
    lines = ["**Teardown**: ⚠️ not clean."]
    if result.error:
        lines.append(md.code_block(result.error))
    if result.left:
        lines.append("Still there: " + ", ".join(md.inline_code(x) for x in result.left))
    return "\n\n".join(lines)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def write_file_list(folder: OutputFolder) -> None:
    """files.txt: every file of the folder written by this run, one per line."""
    names = sorted(set(folder.written) | {"files.txt", "index.md"})
    folder.write_text("files.txt", "".join(f"{name}\n" for name in names))


def files_output(written: Iterable[str], limit: int = MAX_FILES_OUTPUT) -> list[str]:
    """The files written, sorted; past `limit`, the top-level ones (index.md, ps.json,
    ...) and then the first of the rest."""
    names = sorted(set(written))
    if len(names) <= limit:
        return names
    top = [n for n in names if "/" not in n]
    return sorted(top + [n for n in names if "/" in n][:max(0, limit - len(top))])


def set_outputs(settings: Settings, collection: Collection, folder: OutputFolder,
                run: ActionRun) -> None:
    run.wf.set_output("path", str(settings.path))
    run.wf.set_output("files", files_output(folder.written))
    run.wf.set_output("failed-services", collection.failed_services)
    run.wf.set_output("containers", [f.as_json() for f in collection.found])

