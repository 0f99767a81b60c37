"""Typed inputs: every type parses its good forms and names the input on bad ones."""

from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackci.core.runner.action import ActionRun, execute
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import (
    InputReader,
    parse_bool,
    parse_duration,
    parse_list,
    raw_inputs_from_env,
)
from stackci.core.runner.manifest import ActionManifest, InputDecl
from stackci_testing.runner import Result, parse_output_file


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("2m", 120), ("1h", 3600), ("1m30s", 90), ("250ms", 0.25),
     ("1.5s", 1.5), ("0", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "-5", "-5s", "5x", "m", "1 m", "five", "5s5", "1e3"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_booleans_take_only_yaml_core_forms() -> None:
    assert [parse_bool(t) for t in ("true", "True", "TRUE", "false", "False", "FALSE")] == [
        True, True, True, False, False, False]
    for text in ("yes", "on", "1", "tRue", "y"):
        with pytest.raises(ValueError):
            parse_bool(text)


def test_lists_split_on_newlines_and_commas() -> None:
    assert parse_list("a, b\nc\n\n ,d") == ("a", "b", "c", "d")


def _manifest(**inputs: str | None) -> ActionManifest:
    decls = {n.replace("_", "-"): InputDecl(n.replace("_", "-"), f"the {n}", d, False)
             for n, d in inputs.items()}
    return ActionManifest("probe", "a probe action", decls, {})


def test_env_inputs_accept_hyphens_underscores_and_the_packed_json() -> None:
    manifest = _manifest(fail_fast="true", timeout="5m", logs_on_failure="100")
    env = {"STACKCI_INPUTS": '{"fail-fast": "false", "timeout": "1m"}',
           "INPUT_TIMEOUT": "2m", "INPUT_LOGS_ON_FAILURE": "7"}
    assert raw_inputs_from_env(env, manifest) == {
        "fail-fast": "false", "timeout": "2m", "logs-on-failure": "7"}


def test_defaults_come_from_the_manifest_and_unexpanded_expressions_are_no_value() -> None:
    reader = InputReader({"token": "${{ github.token }}"},
                         _manifest(timeout="5m", token="${{ github.token }}"))
    assert reader.duration("timeout", 1) == 300
    assert reader.secret("token") == ""
    reader.done()


# -- the bad-input table: every input type, through the real top-level handler ----------

@dataclass(frozen=True)
class ProbeSettings:
    values: dict[str, Any]

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> ProbeSettings:
        return cls({
            "flag": inputs.boolean("flag"),
            "count": inputs.integer("count", 3, minimum=1, maximum=10),
            "timeout": inputs.duration("timeout", 60),
            "grace": inputs.duration("grace", 0, allow_zero=True),
            "mode": inputs.choice("mode", ["fast", "slow"], "fast"),
            "payload": inputs.json_value("payload"),
            "wait": inputs.yaml_mapping("wait"),
            "config": inputs.path("config", Path.cwd(), must_exist=True),
            "name": inputs.text("name"),
            "token": inputs.secret("token"),
        })


def _probe_run(settings: ProbeSettings, run: ActionRun) -> None:
    run.wf.set_output("ran", "yes")


PROBE = types.SimpleNamespace(Settings=ProbeSettings, run=_probe_run)
PROBE_MANIFEST = ActionManifest("probe", "", {
    n: InputDecl(n, "", d, req) for n, d, req in [
        ("flag", "false", False), ("count", "3", False), ("timeout", "60s", False),
        ("grace", "0", False), ("mode", "fast", False), ("payload", None, False),
        ("wait", None, False), ("config", None, False), ("name", None, True),
        ("token", None, False)]}, {"ran": ""})


def run_probe(inputs: dict[str, str], env: dict[str, str]) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = execute(PROBE, PROBE_MANIFEST, {"name": "x", **inputs}, env,  # type: ignore[arg-type]
                   stdout=out, stderr=err)
    outputs = parse_output_file(Path(env["GITHUB_OUTPUT"]).read_text())
    return Result(code, out.getvalue(), err.getvalue(), outputs)


BAD_INPUTS = [
    ("flag", "yes", "true or false"),
    ("flag", "1", "true or false"),
    ("count", "0", "a whole number from 1 to 10"),
    ("count", "11", "a whole number from 1 to 10"),
    ("count", "three", "a whole number from 1 to 10"),
    ("count", "2.5", "a whole number from 1 to 10"),
    ("timeout", "-5s", "a duration"),
    ("timeout", "soon", "a duration"),
    ("timeout", "0", "a duration above zero"),
    ("grace", "1 minute", "a duration"),
    ("mode", "turbo", "one of fast, slow"),
    ("payload", "{not json", "valid JSON"),
    ("wait", "db: [healthy", "a YAML mapping; the YAML is invalid"),
    ("wait", "- a\n- b", "a YAML mapping, not a list"),
    ("config", "missing.yml", "an existing file or folder"),
    ("name", "", "a value (this input is required)"),
]


@pytest.mark.parametrize(("name", "value", "expected"), BAD_INPUTS,
                         ids=[f"{n}={v!r}" for n, v, _ in BAD_INPUTS])
def test_bad_input_table(name: str, value: str, expected: str, wf_env: dict[str, str]) -> None:
    result = run_probe({name: value}, wf_env)
    assert result.code == 2, result
    errors = result.errors()
    assert len(errors) == 1, result
    assert errors[0].message.startswith(f"input '{name}': expected {expected}"), errors[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert result.outputs == {}, "nothing may be done on bad input"


def test_every_bad_input_is_reported_at_once(wf_env: dict[str, str]) -> None:
    result = run_probe({"flag": "yes", "count": "0", "mode": "turbo"}, wf_env)
    assert result.code == 2
    assert sorted(e.message.split("'")[1] for e in result.errors()) == ["count", "flag", "mode"]


def test_good_inputs_run(wf_env: dict[str, str]) -> None:
    result = run_probe({"flag": "TRUE", "count": "10", "timeout": "1m30s"}, wf_env)
    assert (result.code, result.outputs) == (0, {"ran": "yes"}), result


def test_a_secret_is_masked_before_anything_else_is_said(wf_env: dict[str, str]) -> None:
    result = run_probe({"token": "hunter2-secret", "flag": "hunter2-secret"}, wf_env)
    lines = result.stdout.splitlines()
    assert lines[0] == "::add-mask::hunter2-secret"
    # The bad value of `flag` is the secret: the error must not repeat it.
    assert "hunter2-secret" not in "\n".join(lines[1:])
    assert "***" in result.errors()[0].message


def test_an_unexpected_error_is_one_annotation_and_the_traceback_only_in_debug(
        wf_env: dict[str, str]) -> None:
    def boom(settings: ProbeSettings, run: ActionRun) -> None:
        raise RuntimeError("kaput")

    module = types.SimpleNamespace(Settings=ProbeSettings, run=boom)
    for debug, expect_trace in (("0", False), ("1", True)):
        out = io.StringIO()
        code = execute(module, PROBE_MANIFEST, {"name": "x"},  # type: ignore[arg-type]
                       {**wf_env, "RUNNER_DEBUG": debug}, stdout=out, stderr=io.StringIO())
        assert code == 1
        assert out.getvalue().count("::error") == 1
        assert "RuntimeError: kaput" in out.getvalue()
        assert ("Traceback" in out.getvalue()) is expect_trace
    assert sys.exc_info() == (None, None, None)


def test_markdown_text_is_read_raw() -> None:
    manifest = ActionManifest("demo", "", {"body": InputDecl("body", "", "", False)}, {})
    read = InputReader({"body": "  ${{ x }}\n"}, manifest)
    assert read.markdown_text("body") == "  ${{ x }}\n"
    assert read.read == {"body"}
    assert InputReader({"body": " \n"}, manifest).markdown_text("body") is None
    assert InputReader({}, manifest).markdown_text("body") is None
