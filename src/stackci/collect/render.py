"""What people read of a collection: index.md, the job log's printed logs and
teardown, the job summary and the outputs."""

from __future__ import annotations

from collections.abc import Iterable

from stackci.collect.model import Collection, CollectOptions, Found
from stackci.core.engine.copy import CopyResult
from stackci.core.engine.logs import PRINT_TAIL_LINES, tail_lines
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.action import ActionRun
from stackci.core.text import markdown as md

# The `files` output lists at most this many (GitHub caps a step's outputs at 1 MB);
# `files.txt` in the folder has them all.
MAX_FILES_OUTPUT = 1000


def print_logs(settings: CollectOptions, collection: Collection, folder: OutputFolder,
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


def index_markdown(settings: CollectOptions, collection: Collection, folder: OutputFolder) -> str:
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
    copied = len(copied_files(collection, folder))
    if copied > MAX_FILES_OUTPUT:
        notes.append(f"{copied} files were copied: the `copied` output lists the first "
                     f"{MAX_FILES_OUTPUT} of them; the table above and files.txt have "
                     "them all")
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
    """The files copied (where they landed, relative to the folder), then what was
    skipped (symlinks, devices, a destination another copy took) or went wrong. Names
    come from the container: code spans with `|` escaped, so none adds a column."""
    if result.missing:
        files = "missing"
    else:
        files = "<br>".join([md.cell_code(f) for f in result.files]
                            + [md.cell(n) for n in result.notes])
    return (md.cell_code(str(result.spec)), md.cell(result.container), files)


def teardown_markdown(settings: CollectOptions, collection: Collection) -> str:
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


def copied_files(collection: Collection, folder: OutputFolder) -> list[str]:
    """The files copied out of containers that are in the folder, relative to it."""
    written = set(folder.written)
    return [f for f in collection.copied if f in written]


def copied_output(settings: CollectOptions, collection: Collection, folder: OutputFolder,
                  limit: int = MAX_FILES_OUTPUT) -> str:
    """The `copied` output: one absolute path a line, as `path` is given, at most
    `limit` of them. No name has a line break (those files are never written)."""
    return "\n".join(str(settings.path / name)
                     for name in copied_files(collection, folder)[:limit])


def set_outputs(settings: CollectOptions, collection: Collection, folder: OutputFolder,
                run: ActionRun) -> None:
    run.wf.set_output("path", str(settings.path))
    run.wf.set_output("files", files_output(folder.written))
    run.wf.set_output("copied", copied_output(settings, collection, folder))
    run.wf.set_output("failed-services", collection.failed_services)
    run.wf.set_output("containers", [f.as_json() for f in collection.found])
