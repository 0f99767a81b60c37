"""collect-logs: everything needed to debug a Compose stack, in one folder, with an
optional teardown.

The stack is found by its project label, so it works on whatever compose-up-and-wait or
plain `docker compose` left behind, half-started or not. It records what it finds and
never fails because a container is gone: exit 1 only when the folder cannot be written,
exit 2 for bad input."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from stackci.collect.gather import collect, connect, job_project, local_project
from stackci.collect.model import Collection, destination_problems
from stackci.collect.render import (
    index_markdown,
    print_logs,
    report_teardown,
    set_outputs,
    write_file_list,
)
from stackci.core.engine import compose_vars
from stackci.core.engine.compose import (
    default_project_name,
)
from stackci.core.engine.copy import (
    CopySpec,
    parse_copy_spec,
    split_copy_entries,
)
from stackci.core.engine.project import (
    compose_down,
)
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.inputs import InputReader, format_duration, parse_duration, parse_lines
from stackci.core.text import markdown as md
from stackci.core.text.redact import MIN_SECRET_LENGTH, Secrets
from stackci.core.text.times import parse_time

PRINT_MODES = ("failed", "all", "none")
# Set by the launcher: the host folders mounted into its container at the same paths,
# one per line. Anything written elsewhere is lost with the container.
MOUNTS_ENV = "STACKCI_MOUNTS"
# `since` as a duration reaches back at most a year: the engine keeps logs, not ages.
MAX_SINCE = 366 * 24 * 3600.0


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
        # Inputs first, then Compose's own variables (what compose-up-and-wait handed
        # over, or a workflow's env), as `docker compose` in a shell step reads them.
        project = compose_vars.project_name(inputs, ctx.env)
        workdir = inputs.path("working-directory", ctx.workspace, must_exist=False) \
            or ctx.workspace
        files = compose_vars.compose_files(inputs, ctx.env, workdir, must_exist=False)
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
        back = parse_duration(text)
    except ValueError:
        back = None
    if back is not None:
        if back > MAX_SINCE:
            inputs.fail("since", f"a duration of at most {format_duration(MAX_SINCE)}", text)
            return None
        return time.time() - back
    stamp = parse_time(text, naive_is_utc=False)
    if stamp is None and parse_time(text) is not None:
        inputs.fail("since", "a time with its zone, such as 2024-05-01T12:00:00Z", text)
    elif stamp is None:
        inputs.fail("since", "a duration such as 10m or 1h30m, an RFC 3339 time such as "
                    "2024-05-01T12:00:00Z, or Unix seconds", text)
    return stamp


def _read_copy(inputs: InputReader) -> tuple[CopySpec, ...]:
    """The copy entries; a bad one, or a destination that is collect-logs' own or
    another entry's, is bad input naming the entry as it was written."""
    entries: list[tuple[str, CopySpec]] = []
    for entry in inputs.items("copy", split_copy_entries):
        try:
            entries.append((entry, parse_copy_spec(entry)))
        except ValueError as exc:
            inputs.fail("copy", str(exc), entry)
    written = {id(spec): entry for entry, spec in entries}
    for spec, expected in destination_problems(spec for _, spec in entries):
        inputs.fail("copy", expected, written[id(spec)])
    return tuple(spec for _, spec in entries)




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
        # A second collection into the same folder replaces the first, not mixes with it.
        removed = folder.remove_previous("files.txt")
        if removed:
            run.wf.log(f"collect-logs: removed {removed} file(s) of the previous collection "
                       f"in {settings.path} (those its files.txt lists; other files are "
                       "left alone)")
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
