"""collect-logs' index.md for fixed collections, against golden files
(tests/golden/collect-logs/; scripts/regen-golden.sh rewrites them). Built from fixed
container data, no engine: what changes here is the rendering alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stackci.actions.collect_logs import Settings
from stackci.collect.model import Collection, Found
from stackci.collect.render import index_markdown
from stackci.core.engine.containers import ContainerState
from stackci.core.engine.copy import CopyResult, CopySpec
from stackci.core.engine.project import Teardown
from stackci.core.files.folder import OutputFolder
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import load_manifest
from stackci.core.text.redact import Secrets
from stackci_testing.golden import Golden


def settings(raw: dict[str, str]) -> Settings:
    reader = InputReader(raw, load_manifest("collect-logs"))
    ctx = RunContext.from_env({"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "77",
                               "GITHUB_JOB": "it", "GITHUB_WORKSPACE": "/ws"})
    parsed = Settings.from_inputs(reader, ctx)
    reader.done()
    return parsed


def state(name: str, service: str, number: int = 1, one_off: bool = False,
          **fields: Any) -> ContainerState:
    labels = {"com.docker.compose.project": "shop", "com.docker.compose.service": service,
              "com.docker.compose.container-number": str(number),
              "com.docker.compose.oneoff": "True" if one_off else "False"}
    return ContainerState.from_inspect({
        "Id": f"{name}{'0' * 64}"[:64], "Name": "/" + name,
        "Created": "2024-05-01T12:00:00.5Z", "RestartCount": fields.pop("restarts", 0),
        "Config": {"Labels": labels, "Image": fields.pop("image", "busybox:1.36")},
        "State": {"Status": "running", "Running": True, "ExitCode": 0, "OOMKilled": False,
                  "Error": "", "StartedAt": "2024-05-01T12:00:01.1Z",
                  "FinishedAt": "0001-01-01T00:00:00Z", **fields},
    })


def found(record: ContainerState, label: str, **extra: Any) -> Found:
    return Found(record, label, True, log=f"logs/{label}.log", log_bytes=2048, **extra)


def exited(code: int, **fields: Any) -> dict[str, Any]:
    return {"Status": "exited", "Running": False, "ExitCode": code,
            "FinishedAt": "2024-05-01T12:00:09Z", **fields}


def collections() -> dict[str, tuple[dict[str, str], Collection]]:
    green = Collection("shop", found=[
        found(state("shop-db-1", "db", Health={"Status": "healthy"}), "db"),
        found(state("shop-api-1", "api", 1), "api-1"),
        found(state("shop-api-2", "api", 2), "api-2"),
        found(state("shop-migrate-1", "migrate", **exited(0)), "migrate"),
    ])
    failed = Collection("shop", found=[
        found(state("shop-db-1", "db", Health={"Status": "unhealthy"}), "db"),
        found(state("shop-api-1", "api", restarts=3, **exited(137, OOMKilled=True)), "api",
              oom_events=1),
        found(state("shop-web-1", "web", **exited(137)), "web", stopped=True),
    ])
    one_off = Collection("shop", found=[
        found(state("shop-api-1", "api"), "api"),
        found(state("shop-api-run-0123abcd", "api", one_off=True, **exited(2)),
              "api-run-0123abcd"),
    ])
    copies = Collection("shop", found=[found(state("shop-api-1", "api"), "api")], copies=[
        CopyResult(CopySpec("api", "/reports/junit.xml"), "shop-api-1",
                   files=["files/api/reports/junit.xml"]),
        CopyResult(CopySpec("api", "/reports/*.cov"), "shop-api-1", missing=True),
    ], warnings=["copy api:/reports/*.cov from shop-api-1: nothing matched"])
    renamed = Collection("shop", found=[found(state("shop-api-1", "api", 1), "api-1"),
                                        found(state("shop-api-2", "api", 2), "api-2")],
                         copies=[
        CopyResult(CopySpec("api", "/reports/junit.xml", "results/junit.xml"), "shop-api-1",
                   files=["results/junit-1.xml"]),
        CopyResult(CopySpec("api", "/reports/junit.xml", "results/junit.xml"), "shop-api-2",
                   files=["results/junit-2.xml"]),
        CopyResult(CopySpec("api", "/cov/*.xml", "results", into=True), "shop-api-1",
                   taken=["results/junit-1.xml"],
                   notes=["skipped /cov/junit.xml: results/junit-1.xml was already written "
                          "by api:/reports/junit.xml -> results/junit.xml from shop-api-1"]),
    ], warnings=["copy api:/cov/*.xml -> results/ from shop-api-1: 1 file(s) not copied, "
                 "another copy had written their destination: results/junit-1.xml"])
    left = Collection("shop", found=[found(state("shop-db-1", "db", **exited(0)), "db")],
                      teardown=Teardown(error="", left=["network shop_default"]))
    hostile = Collection("shop", found=[
        found(state("shop-x-1", "x", image="evil/<img src=x>", **exited(
            1, Error="@team [link](http://evil.example) | pipe ::error::x")), "x"),
    ], warnings=["copy x:/a: <b>missing</b> #12"])
    return {
        "all-green": ({}, green),
        "failed-oom-restarts": ({}, failed),
        "one-off-failed": ({}, one_off),
        "copies-missing": ({"copy": "api:/reports/junit.xml\napi:/reports/*.cov"}, copies),
        "copies-renamed": ({"copy": "api:/reports/junit.xml -> results/junit.xml\n"
                                     "api:/cov/*.xml -> results/"}, renamed),
        "teardown-left-something": ({"teardown": "true"}, left),
        "hostile-names": ({}, hostile),
    }


@pytest.mark.parametrize("case", sorted(collections()))
def test_index_md(case: str, golden: Golden, tmp_path: Path) -> None:
    raw, collection = collections()[case]
    folder = OutputFolder(tmp_path, Secrets([]))
    text = index_markdown(settings(raw), collection, folder)
    golden(f"collect-logs/{case}.md", text.replace(str(tmp_path), "<tmp>") + "\n")
