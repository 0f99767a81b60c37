"""Collecting from the engine: which project, its containers' logs, events, ps,
inspect and network data, and copies out of containers."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import docker.errors
import requests

from stackci.collect.model import (
    OWN_NAMES,
    Collection,
    CollectOptions,
    Found,
    container_labels,
    copy_suffix,
    safe_name,
)
from stackci.core.engine.compose import (
    ComposeError,
    ComposeProject,
    default_compose_files,
    docker_client,
)
from stackci.core.engine.containers import ContainerState
from stackci.core.engine.copy import Landings, copy_out
from stackci.core.engine.events import ContainerEvent
from stackci.core.engine.logs import stream_logs
from stackci.core.engine.project import (
    project_containers,
    project_events,
    project_exists,
    project_networks,
)
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.errors import BadInputs, InputError
from stackci.core.text.redact import env_secrets, redact_inspect

# Streams in parallel; below docker-py's connection pool size (10), so none is discarded.
LOG_WORKERS = 8


def connect() -> tuple[docker.DockerClient | None, str]:
    try:
        return docker_client(), ""
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return None, f"the Docker engine does not answer: {exc}; nothing could be collected"


def job_project(default: str, settings: CollectOptions,
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


def local_project(settings: CollectOptions) -> str:
    """Compose's default project name, as on a laptop; bad input when there is none."""
    name, problem = compose_default_name(settings)
    if name is None:
        raise BadInputs([InputError(
            "project-name", f"a project name: none was given and Compose could not work "
            f"one out ({problem})")])
    return name


def compose_default_name(settings: CollectOptions) -> tuple[str | None, str]:
    """Compose's own project name for the files in the working directory, or why not."""
    files = settings.compose_files or default_compose_files(settings.working_directory)
    if not files:
        return None, f"no compose file in {settings.working_directory}"
    try:
        return ComposeProject(None, settings.working_directory, files).resolved_name(), ""
    except (ComposeError, OSError) as exc:
        return None, str(exc)


def collect(client: docker.DockerClient, settings: CollectOptions, collection: Collection,
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


def write_logs(client: docker.DockerClient, settings: CollectOptions, collection: Collection,
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
            for raw in project_events(client, collection.project, since):
                # The file keeps the engine's own JSON; the counting reads the one model.
                out.write((json.dumps(raw, sort_keys=True) + "\n").encode())
                event = ContainerEvent.from_raw(raw)
                if event is None:
                    continue
                if event.action == "oom":
                    ooms[event.container_id] += 1
                if event.action in ("stop", "kill"):
                    stopped.add(event.container_id)
                if first is None:
                    first = event.time or None
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


def copy_files(settings: CollectOptions, collection: Collection, folder: OutputFolder,
               containers: list[Any]) -> None:
    """Each copy entry from each container of its service. An entry with a destination
    lands there when the service has one container; with several (replicas, `compose
    run` containers), each container's copy gets the suffix its log file has
    (`-2`, `-run-<id>`): `results/junit-2.xml`."""
    by_id = {c.id: c for c in containers}
    landings = Landings(OWN_NAMES)
    for spec in settings.copy:
        sources = [f for f in collection.found if f.record.service == spec.service]
        if not sources:
            collection.warnings.append(f"copy {spec}: the project has no container of "
                                       f"service {spec.service!r}")
            continue
        for found in sources:
            suffix = copy_suffix(found) if spec.dest is not None and len(sources) > 1 else ""
            result = copy_out(by_id[found.record.id], spec, folder, f"files/{found.label}",
                              suffix=suffix, landings=landings)
            collection.copies.append(result)
            if result.missing:
                collection.warnings.append(f"copy {spec}: no such file or folder in "
                                           f"{found.record.name}")
            elif result.taken:
                shown = ", ".join(result.taken[:3]) + (", ..." if len(result.taken) > 3
                                                        else "")
                collection.warnings.append(
                    f"copy {spec} from {found.record.name}: {len(result.taken)} file(s) "
                    f"not copied, another copy had written their destination: {shown}")
            elif not result.files:
                collection.warnings.append(f"copy {spec} from {found.record.name}: "
                                           + "; ".join(result.notes))
