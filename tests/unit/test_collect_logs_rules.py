"""collect-logs' rules without an engine: which project it may tear down, where `path`
may point (symlinks, the launcher's mounts), hard links in copies, what counts as a
failed service (one-off runs, containers stopped on purpose), the `files` output cap."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from stackci.actions import collect_logs
from stackci.collect import gather, render
from stackci.collect.gather import job_project
from stackci.collect.model import Collection, Found
from stackci.collect.render import copy_row, files_output, index_markdown
from stackci.core.engine.containers import ContainerState
from stackci.core.engine.copy import copy_out, parse_copy_spec
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci.core.text.redact import Secrets
from stackci_testing.runner import run_action, workflow_env


def settings(raw: dict[str, str], workspace: Path = Path("/ws")) -> collect_logs.Settings:
    reader = InputReader(raw, load_manifest("collect-logs"))
    ctx = RunContext.from_env({"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "77",
                               "GITHUB_JOB": "it", "GITHUB_WORKSPACE": str(workspace)})
    parsed = collect_logs.Settings.from_inputs(reader, ctx)
    reader.done()
    return parsed


def record(name: str, service: str, one_off: bool = False, **state: Any) -> ContainerState:
    labels = {"com.docker.compose.project": "p", "com.docker.compose.service": service,
              "com.docker.compose.oneoff": "True" if one_off else "False"}
    return ContainerState.from_inspect({
        "Id": name + "0" * 64, "Name": "/" + name, "Config": {"Labels": labels},
        "State": {"Status": "running", "ExitCode": 0, "OOMKilled": False, "Error": "",
                  **state}})


# -- which project --------------------------------------------------------------------------
def test_the_jobs_project_with_only_a_network_is_still_the_jobs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `up` failed after creating the network: no containers, but the project is there.
    monkeypatch.setattr(gather, "project_exists", lambda _c, name: name == "job")
    monkeypatch.setattr(gather, "project_containers",
                        lambda _c, name: ["x"] if name == "other" else [])
    monkeypatch.setattr(gather, "compose_default_name", lambda _s: ("other", ""))
    assert job_project("job", settings({}), None) == ("job", False)  # type: ignore[arg-type]


def test_compose_default_project_is_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gather, "project_exists", lambda _c, _name: False)
    monkeypatch.setattr(gather, "project_containers",
                        lambda _c, name: ["x"] if name == "other" else [])
    monkeypatch.setattr(gather, "compose_default_name", lambda _s: ("other", ""))
    assert job_project("job", settings({}), None) == ("other", True)  # type: ignore[arg-type]


class FakeClient:
    pass


def test_a_fallback_project_is_never_torn_down(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    downs: list[str] = []
    monkeypatch.setattr(collect_logs, "connect", lambda: (FakeClient(), ""))
    monkeypatch.setattr(collect_logs, "job_project", lambda *_a: ("other", True))
    monkeypatch.setattr(collect_logs, "collect", lambda *_a: None)
    monkeypatch.setattr(collect_logs, "compose_down", lambda _c, p, _v: downs.append(p))

    warnings: list[str] = []
    quiet = SimpleNamespace(log=lambda *_a, **_k: None, add_mask=lambda *_a: None,
                            set_output=lambda *_a: None,
                            warning=lambda m, **_k: warnings.append(m),
                            summary=SimpleNamespace(add=lambda *_a: None))
    s = settings({"teardown": "true", "path": str(tmp_path / "out")}, tmp_path)
    collect_logs.run(s, SimpleNamespace(wf=quiet))  # type: ignore[arg-type]
    assert downs == []
    assert any(w.startswith("teardown skipped: 'other' is Compose's default")
               for w in warnings)


# -- where `path` may point -------------------------------------------------------------------
def test_path_that_is_a_symlink_out_of_the_workspace_is_bad_input(tmp_path: Path) -> None:
    env = workflow_env(tmp_path / "runner")
    workspace = Path(env["GITHUB_WORKSPACE"])
    workspace.mkdir(parents=True, exist_ok=True)
    (tmp_path / "elsewhere").mkdir()
    (workspace / "out").symlink_to(tmp_path / "elsewhere")
    for path in ("out", "out/logs"):
        result = run_action("collect-logs", {"project-name": "p", "path": path}, env)
        assert result.code == 2, result
        (error,) = result.errors()
        assert "input 'path'" in error.message
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_path_outside_the_launchers_mounts_is_bad_input(tmp_path: Path) -> None:
    env = workflow_env(tmp_path / "runner")
    env["STACKCI_MOUNTS"] = f"{env['GITHUB_WORKSPACE']}\n{tmp_path / 'temp'}\n"
    result = run_action("collect-logs", {"project-name": "p", "path": str(tmp_path / "x")},
                        env)
    assert result.code == 2, result
    (error,) = result.errors()
    assert "input 'path'" in error.message
    assert "under the workspace or RUNNER_TEMP" in error.message
    assert not (tmp_path / "x").exists()


def test_path_inside_the_launchers_mounts_is_fine(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKCI_MOUNTS", f"{tmp_path / 'ws'}\n{tmp_path / 'temp'}")
    assert settings({"path": str(tmp_path / "temp/logs")}, tmp_path / "ws").path == \
        tmp_path / "temp/logs"
    assert settings({}, tmp_path / "ws").path == tmp_path / "ws/stackci-logs"


# -- hard links in copies ---------------------------------------------------------------------
class ArchiveContainer:
    name = "p-api-1"

    def get_archive(self, _path: str) -> tuple[Any, dict[str, Any]]:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("results/a.xml")
            info.size = 6
            tar.addfile(info, io.BytesIO(b"<a/>\n\n"))
            for name, target in (("results/b.xml", "results/a.xml"),
                                 ("results/c.xml", "elsewhere/z.xml")):
                link = tarfile.TarInfo(name)
                link.type, link.linkname = tarfile.LNKTYPE, target
                tar.addfile(link)
            sym = tarfile.TarInfo("results/s.xml")
            sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(sym)
        return iter([buf.getvalue()]), {}


def test_a_hard_link_is_copied_as_its_target(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path, Secrets([]))
    result = copy_out(ArchiveContainer(), parse_copy_spec("api:/results"), folder, "f")
    assert result.files == ["f/results/a.xml", "f/results/b.xml"]
    assert (tmp_path / "f/results/b.xml").read_bytes() == b"<a/>\n\n"
    assert result.notes == ["skipped hard link /results/c.xml (its target elsewhere/z.xml "
                            "was not copied)", "skipped symlink /results/s.xml"]
    row = copy_row(result)[2]
    assert "f/results/b.xml" in row
    assert "skipped symlink /results/s.xml" in row  # also when files were copied


# -- what counts as failed --------------------------------------------------------------------
@pytest.mark.parametrize(("state", "stopped", "failed"), [
    ({"Status": "exited", "ExitCode": 137}, True, False),
    ({"Status": "exited", "ExitCode": 143}, True, False),
    ({"Status": "exited", "ExitCode": 137}, False, True),  # killed, by whom?
    ({"Status": "exited", "ExitCode": 137, "OOMKilled": True}, True, True),
    ({"Status": "exited", "ExitCode": 1}, True, True),
])
def test_stopped_on_purpose_is_not_failed(state: dict[str, Any], stopped: bool,
                                          failed: bool) -> None:
    assert bool(record("p-api-1", "api", **state).problems(stopped=stopped)) is failed


def test_a_failed_one_off_run_does_not_fail_its_service(tmp_path: Path) -> None:
    run = Found(record("p-api-run-1", "api", one_off=True, Status="exited", ExitCode=2),
                "api-run-1", True)
    api = Found(record("p-api-1", "api"), "api", True)
    collection = Collection("p", found=[api, run])
    assert collection.failed_services == []
    assert run.as_json()["failed"] is True
    text = index_markdown(settings({}), collection, OutputFolder(tmp_path, Secrets([])))
    assert "run\\` container(s) failed: p-api-run-1" in text


# -- the files output -------------------------------------------------------------------------
def test_the_files_output_is_capped_and_files_txt_has_them_all(tmp_path: Path) -> None:
    names = [f"files/api/n/{i:05}.js" for i in range(3000)] + ["ps.json", "index.md"]
    capped = files_output(names, limit=1000)
    assert len(capped) == 1000
    assert "ps.json" in capped
    assert "index.md" in capped
    folder = OutputFolder(tmp_path, Secrets([]))
    folder.written.extend(names)
    render.write_file_list(folder)
    listed = (tmp_path / "files.txt").read_text().splitlines()
    assert len(listed) == 3003
    text = index_markdown(settings({}), Collection("p"), folder)
    assert "output lists 1000 of them" in text
