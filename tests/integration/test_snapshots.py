"""Golden snapshots of what each action shows its users on fixed inputs: the exit code,
every output (JSON-valued ones pretty-printed), the annotations and the job summary,
plus what an action leaves elsewhere (collect-logs' folder, pr-comment's comment).

They pin today's behaviour so that a refactor can prove it changed nothing a user sees.
Only what varies between runs is normalized (ids, project names, timings, ports, IPs,
temporary paths); names of fields, null against "", lists against objects, the order of
lists and of object keys all stay in the snapshot. Rewrite them after an intended change
with scripts/regen-golden.sh and review the diff.

This module deliberately imports nothing from `stackci`: it talks to the actions only
as users do, through `python -m stackci <action>`."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import textwrap
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import docker
import pytest

from fake_github import FakeGitHub
from fake_github.fixtures import BOT, REPO, WRITER_TOKEN
from fake_github.state import Issue
from stackci_testing.docker import SESSION, Stack
from stackci_testing.golden import GOLDEN_DIR, Golden
from stackci_testing.runner import Result, run_action, workflow_env

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"
RUN_ID = "4242424242"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)

# Outputs whose value is JSON, by action; any other output is kept as a plain string.
JSON_OUTPUTS = {
    "compose-up-and-wait": {"services"},
    "collect-logs": {"files", "failed-services", "containers"},
    "label-gate": {"labels", "matched"},
    "pr-comment": set(),
}


# ----- normalizing ---------------------------------------------------------------------------

class Normalizer:
    """Replaces what differs between two runs of the same case, and nothing else.

    Text: literal replacements first (temporary folders, the project name, the session
    token), then patterns. A placeholder keeps the form of what it replaces where that
    form is stable: `<timestamp>` is an RFC 3339 time with a fraction and `Z`, any other
    form says what it is (`<timestamp:space,no-fraction,+hh:mm>`); the engine's "never"
    (0001-01-01T00:00:00Z) is left alone; full and short container ids differ
    (`<container-id>`, `<short-id>`); `<secs>` is `1.3 s`, another form of a duration
    keeps its shape (`<secs:N ms>`), and so do sizes (`<bytes>` is `123 B`).
    JSON: walked value by value, so types and structure stay as they are; numbers that
    vary (timings, host ports, sizes, by key) become strings no real value is, such as
    "<number:secs>", so a number turning into a string still shows.
    """

    TIMESTAMP = re.compile(r"(?!0001-01-01)\d{4}-\d\d-\d\d(?P<sep>[T ])\d\d:\d\d:\d\d"
                           r"(?P<frac>\.\d+)?(?P<zone>Z|[+-]\d\d:?\d\d)?")
    CONTAINER_ID = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{64}|[0-9a-f]{12})(?![0-9a-f])")
    IP = re.compile(r"(?<![\d.])(?!127\.0\.0\.1(?![\d.]))(?!0\.0\.0\.0(?![\d.]))"
                    r"\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
    HOST_PORT = re.compile(r"(127\.0\.0\.1|0\.0\.0\.0|localhost|\[::\]|<ip>):\d{2,5}\b")
    DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)? ?(?:ms|s)\b")
    BYTES = re.compile(r"(?<![\w.])\d+(?:\.\d+)? ?(?:B|KiB|MiB|GiB|kB|KB|MB)\b")
    NUMBER_KEYS: ClassVar[Mapping[str, str]] = {
        "seconds-to-ready": "secs", "ready-seconds": "secs", "seconds": "secs",
        "duration": "secs", "host_port": "port", "HostPort": "port",
        "log_bytes": "bytes", "bytes": "bytes", "size": "bytes",
    }
    TIMING_KEYS = frozenset(k for k, kind in NUMBER_KEYS.items() if kind == "secs")

    def __init__(self, literals: Mapping[str, str], durations: bool = True,
                 sizes: bool = False) -> None:
        # Longest first, so a path inside another path is replaced as the longer one.
        self.literals = sorted(literals.items(), key=lambda kv: -len(kv[0]))
        self.durations = durations
        self.sizes = sizes

    @staticmethod
    def _timestamp(match: re.Match[str]) -> str:
        zone = match["zone"]
        form = ("T" if match["sep"] == "T" else "space",
                "fraction" if match["frac"] else "no-fraction",
                "Z" if zone == "Z" else "no-zone" if zone is None else "+hh:mm")
        return "<timestamp>" if form == ("T", "fraction", "Z") else \
            "<timestamp:" + ",".join(form) + ">"

    @staticmethod
    def _shaped(name: str, canonical: str) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            shape = re.sub(r"\d+", "N", match[0])
            return f"<{name}>" if shape == canonical else f"<{name}:{shape}>"
        return replace

    def text(self, value: str) -> str:
        for old, new in self.literals:
            value = value.replace(old, new)
        value = self.TIMESTAMP.sub(self._timestamp, value)
        value = self.CONTAINER_ID.sub(
            lambda m: "<container-id>" if len(m[0]) == 64 else "<short-id>", value)
        value = self.IP.sub("<ip>", value)
        value = self.HOST_PORT.sub(r"\1:<port>", value)
        if self.durations:
            value = self.DURATION.sub(self._shaped("secs", "N.N s"), value)
        if self.sizes:
            value = self.BYTES.sub(self._shaped("bytes", "N B"), value)
        return value

    def json(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            # Keys are normalized too: `ports` is keyed by "8000/tcp", and a container
            # name (holding the project name) may be a key.
            return {self.text(k): self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, key) for v in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            kind = self.NUMBER_KEYS.get(key) or ("time" if key.endswith(("_at", "-at")) else "")
            if kind and (self.durations or kind != "secs"):
                return f"<number:{kind}>"
            return value
        if isinstance(value, str):
            return self.text(value)
        raise TypeError(f"not a JSON value: {value!r}")

    def output(self, name: str, value: str, is_json: bool) -> str:
        """One output as the snapshot shows it: JSON pretty-printed, anything else as a
        JSON string (so "" and a missing output differ visibly)."""
        if is_json:
            try:
                parsed = json.loads(value)
            except ValueError:
                return "(not JSON) " + json.dumps(self.text(value), ensure_ascii=False)
            return json.dumps(self.json(parsed), indent=2, ensure_ascii=False)
        if self.durations and name in self.TIMING_KEYS and re.fullmatch(r"\d+(\.\d+)?", value):
            return '"<secs>"'
        return json.dumps(self.text(value), ensure_ascii=False)


def snapshot(action: str, result: Result, norm: Normalizer,
             extra: Iterable[tuple[str, str]] = ()) -> str:
    """The whole user-visible result of one run as one text file."""
    parts = [f"## exit code\n{result.code}"]
    outputs = [f"### {name}\n{norm.output(name, value, name in JSON_OUTPUTS[action])}"
               for name, value in sorted(result.outputs.items())]
    parts.append("## outputs\n" + ("\n".join(outputs) if outputs else "(none)"))
    annotations = [json.dumps({"kind": a.kind, "title": norm.text(a.title),
                               "message": norm.text(a.message)}, ensure_ascii=False)
                   for a in result.annotations]
    parts.append("## annotations\n" + ("\n".join(annotations) if annotations else "(none)"))
    parts.append(section("job summary", norm.text(result.summary)))
    parts.extend(section(title, norm.text(body)) for title, body in extra)
    return "\n\n".join(parts) + "\n"


def check(golden: Golden, name: str, text: str) -> None:
    """`golden`, failing with a unified diff against the golden file."""
    try:
        golden(f"snapshots/{name}", text)
    except AssertionError:
        pass  # reported below, outside the handler, with the diff alone
    else:
        return
    expected = (GOLDEN_DIR / "snapshots" / name).read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                        text.splitlines(keepends=True),
                                        f"tests/golden/snapshots/{name}", "this run"))
    pytest.fail(f"the snapshot {name} changed:\n{diff}\nIf that is intended, run "
                "scripts/regen-golden.sh and commit the reviewed diff.", pytrace=False)


def section(title: str, body: str) -> str:
    """A verbatim block; the markers make a missing or extra trailing newline visible."""
    return f"## {title}\n<<<<<<<<\n{body}>>>>>>>>"


# ----- compose stacks ------------------------------------------------------------------------

ACTIONS_TIMEOUT = "40s"

# One of each kind of service: healthcheck, plain, one-shot, scaled, published port.
# Every long-running one stops on SIGKILL so that teardown is instant.
SMALL_STACK = """
services:
  db:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "sleep 0.3; touch /tmp/ready; exec sleep 300"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 200ms
      timeout: 30s
      retries: 1000
  app:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "echo app started > /tmp/app.txt; echo app started; exec sleep 300"]
  migrate:
    image: busybox:1.36
    command: ["sh", "-c", "echo migrated 3 tables"]
  worker:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "echo worker up; exec sleep 300"]
    deploy:
      replicas: 2
  web:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "exec httpd -f -p 8000"]
    ports: ["127.0.0.1::8000"]
"""

# A one-shot that exits 3 after a second, a service that is running long before that,
# and one that never gets healthy (it is left pending when fail-fast stops the wait).
FAILING_STACK = """
services:
  crash:
    image: busybox:1.36
    command: ["sh", "-c", "echo about to crash; sleep 1; echo 'fatal: no database' >&2; exit 3"]
  app:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "exec sleep 300"]
  slow:
    image: busybox:1.36
    stop_signal: SIGKILL
    command: ["sh", "-c", "exec sleep 300"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/never"]
      interval: 200ms
      timeout: 30s
      retries: 1000
"""


def runner_env(tmp_path: Path, name: str = "runner", **extra: str) -> dict[str, str]:
    """workflow_env with the run id fixed (it shows in links and default names)."""
    return workflow_env(tmp_path / name, {"GITHUB_RUN_ID": RUN_ID, **extra})


def docker_normalizer(stack: Stack, tmp_path: Path) -> Normalizer:
    return Normalizer({str(tmp_path.resolve()): "<tmp>", str(tmp_path): "<tmp>",
                       stack.name: "<project>", SESSION: "<session>"}, sizes=True)


def compose_up(stack: Stack, env: dict[str, str], **inputs: str) -> Result:
    values = {"working-directory": str(stack.directory), "project-name": stack.name,
              "timeout": ACTIONS_TIMEOUT, **inputs}
    return run_action("compose-up-and-wait", values, env, timeout=120)


@pytest.mark.docker
def test_compose_up_and_wait_ready(stack: Stack, tmp_path: Path, golden: Golden,
                                   docker_client: docker.DockerClient) -> None:
    stack.write(SMALL_STACK)
    result = compose_up(stack, runner_env(tmp_path))
    assert result.code == 0, result
    check(golden, "compose-up-and-wait-ready.txt",
          snapshot("compose-up-and-wait", result, docker_normalizer(stack, tmp_path)))


@pytest.mark.docker
def test_compose_up_and_wait_fail_fast(stack: Stack, tmp_path: Path, golden: Golden,
                                       docker_client: docker.DockerClient) -> None:
    stack.write(FAILING_STACK)
    started = time.monotonic()
    result = compose_up(stack, runner_env(tmp_path), **{"fail-fast": "true"})
    assert result.code == 1, result
    assert time.monotonic() - started < 20, "fail-fast did not stop the wait early"
    check(golden, "compose-up-and-wait-fail-fast.txt",
          snapshot("compose-up-and-wait", result, docker_normalizer(stack, tmp_path)))


@pytest.mark.docker
def test_collect_logs_after_up_with_copy_and_teardown(
        stack: Stack, tmp_path: Path, golden: Golden,
        docker_client: docker.DockerClient) -> None:
    stack.write(SMALL_STACK)
    env = runner_env(tmp_path)
    up = compose_up(stack, env)
    assert up.code == 0, up
    # The one-shot and the scaled service have written their only log line by now
    # (the wait saw them ready); collect what a user would upload.
    result = run_action("collect-logs", {"project-name": stack.name, "copy": "app:/tmp/app.txt",
                                         "teardown": "true"}, env, timeout=120)
    assert result.code == 0, result
    folder = Path(result.outputs["path"])
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    norm = docker_normalizer(stack, tmp_path)
    check(golden, "collect-logs-teardown.txt", snapshot("collect-logs", result, norm, [
        ("files written (sorted)", "".join(f"{name}\n" for name in written)),
        ("index.md", (folder / "index.md").read_text(encoding="utf-8")),
        ("files/app/tmp/app.txt", (folder / "files/app/tmp/app.txt").read_text()),
    ]))


# ----- label-gate ----------------------------------------------------------------------------

def pull_request_env(fake: FakeGitHub, tmp_path: Path, pr: Issue, action: str,
                     **extra: str) -> dict[str, str]:
    """A `pull_request` run on `pr`, its event payload as GitHub sends it."""
    assert pr.pull is not None
    event = tmp_path / "event.json"
    event.write_text(json.dumps({
        "action": action, "number": pr.number,
        "pull_request": {"number": pr.number,
                         "head": {"sha": pr.pull.head_sha, "ref": pr.pull.head_ref},
                         "labels": [{"name": n} for n in pr.labels]},
    }))
    return runner_env(tmp_path, **{
        "GITHUB_API_URL": fake.url, "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": pr.pull.head_sha, **extra})


def github_normalizer(fake: FakeGitHub, tmp_path: Path) -> Normalizer:
    # Times come from the fixed data; durations and sizes are part of the result there.
    return Normalizer({fake.url: "<fake-github>", str(tmp_path.resolve()): "<tmp>",
                       str(tmp_path): "<tmp>", SESSION: "<session>"}, durations=False)


LABEL_GATE_CASES: dict[str, tuple[list[str], dict[str, str]]] = {
    "open": (["bug", "Ready-For-Merge"],
             {"all-of": "ready-for-merge", "none-of": "do-not-merge"}),
    "skip": (["bug", "do-not-test"],
             {"all-of": "ready-for-merge", "none-of": "do-not-*", "on-mismatch": "skip"}),
}


@pytest.mark.parametrize("case", sorted(LABEL_GATE_CASES))
def test_label_gate(case: str, fake_github: FakeGitHub, tmp_path: Path,
                    golden: Golden) -> None:
    labels, inputs = LABEL_GATE_CASES[case]
    pr = fake_github.state.add_pull(REPO, title="Importer", labels=labels, at=T0)
    env = pull_request_env(fake_github, tmp_path, pr, "labeled")
    result = run_action("label-gate", {"github-token": WRITER_TOKEN, **inputs}, env)
    assert result.code == 0, result
    check(golden, f"label-gate-{case}.txt",
          snapshot("label-gate", result, github_normalizer(fake_github, tmp_path)))


# ----- pr-comment ----------------------------------------------------------------------------

def test_pr_comment_pipeline_report(fake_github: FakeGitHub, tmp_path: Path,
                                    golden: Golden) -> None:
    pr = fake_github.state.add_pull(REPO, at=T0)
    env = pull_request_env(fake_github, tmp_path, pr, "synchronize",
                           GITHUB_WORKFLOW="CI", GITHUB_JOB="summary", GITHUB_RUN_NUMBER="7")
    results = Path(env["GITHUB_WORKSPACE"]) / "results"
    results.mkdir()
    for name in ("junit-failures.xml", "coverage.xml"):
        shutil.copy(DATA / name, results / name)
    needs = {"build": {"result": "success", "outputs": {}},
             "integration": {"result": "failure", "outputs": {}}}
    result = run_action("pr-comment", {
        "github-token": WRITER_TOKEN, "needs": json.dumps(needs),
        "junit": "results/junit-failures.xml", "coverage": "results/coverage.xml"}, env)
    assert result.code == 0, result
    comments = fake_github.state.comments(REPO, pr.number)
    assert [c.user for c in comments] == [BOT]
    check(golden, "pr-comment-report.txt", snapshot(
        "pr-comment", result, github_normalizer(fake_github, tmp_path),
        [("comment posted on the pull request", comments[0].body)]))


# ----- the normalizer itself -----------------------------------------------------------------

NORMALIZER_CASES: list[tuple[str, Callable[[Normalizer], object], object]] = [
    ("timings", lambda n: n.text("ready after 1.3 s, in 250ms"),
     "ready after <secs>, in <secs:Nms>"),
    ("ids", lambda n: n.text("id " + "ab12" * 16 + " / " + "0a1b2c3d4e5f"),
     "id <container-id> / <short-id>"),
    ("not an id", lambda n: n.text("sha " + "ab12" * 10), "sha " + "ab12" * 10),
    ("other timings", lambda n: n.text("1.25 s, 3s, 250 ms"),
     "<secs>, <secs:Ns>, <secs:N ms>"),
    ("sizes", lambda n: n.text("| 43 B | 1.5 KiB |"), "| <bytes> | <bytes:N.N KiB> |"),
    ("addresses", lambda n: n.text("172.18.0.3 127.0.0.1:49153 0.0.0.0:8000 127.0.0.1"),
     "<ip> 127.0.0.1:<port> 0.0.0.0:<port> 127.0.0.1"),
    ("time", lambda n: n.text("at 2024-05-01T10:00:00.123456789Z"), "at <timestamp>"),
    ("other times", lambda n: n.text("2024-05-01 10:00:00+00:00, 2024-05-01T10:00:00"),
     "<timestamp:space,no-fraction,+hh:mm>, <timestamp:T,no-fraction,no-zone>"),
    ("never", lambda n: n.text("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z"),
    ("literals", lambda n: n.text("/tmp/x/y proj-db-1"), "<tmp>/y <project>-db-1"),
    ("null stays", lambda n: n.output("o", '{"a": null, "b": ""}', True),
     '{\n  "a": null,\n  "b": ""\n}'),
    ("list stays", lambda n: n.output("o", '["a"]', True), '[\n  "a"\n]'),
    ("timing number", lambda n: n.json({"seconds-to-ready": 1.5, "restarts": 0}),
     {"seconds-to-ready": "<number:secs>", "restarts": 0}),
    ("port number", lambda n: n.json({"host_port": 32768, "port": 8000}),
     {"host_port": "<number:port>", "port": 8000}),
    ("timing string", lambda n: n.json({"seconds-to-ready": "1.5"}),
     {"seconds-to-ready": "1.5"}),
    ("empty output", lambda n: n.output("ready-seconds", "", False), '""'),
]


@pytest.mark.parametrize(("case", "call", "expected"), NORMALIZER_CASES,
                         ids=[c[0] for c in NORMALIZER_CASES])
def test_the_normalizer_keeps_what_matters(case: str, call: Callable[[Normalizer], object],
                                           expected: object) -> None:
    norm = Normalizer({"/tmp/x": "<tmp>", "proj": "<project>"}, sizes=True)
    assert call(norm) == expected


def test_the_snapshot_format_is_readable() -> None:
    """A sample of the format, so that a reviewer of a golden diff knows what is what."""
    result = Result(0, "::warning title=t::a%0Ab\n", "", {"x": "", "labels": "[]"}, "Hi\n")
    text = snapshot("label-gate", result, Normalizer({}))
    assert text == textwrap.dedent("""\
        ## exit code
        0

        ## outputs
        ### labels
        []
        ### x
        ""

        ## annotations
        {"kind": "warning", "title": "t", "message": "a\\nb"}

        ## job summary
        <<<<<<<<
        Hi
        >>>>>>>>
        """)
