"""What reaches the runner: outputs that cannot be injected, masks, escaping,
groups, the job summary limit, and the laptop mode."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest

from stackci.core.runner.workflow import SUMMARY_LIMIT, Workflow
from stackci_testing.runner import Result, parse_output_file


def _wf(env: dict[str, str]) -> tuple[Workflow, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Workflow(env, out, err), out, err


def test_output_values_cannot_inject_other_outputs(wf_env: dict[str, str]) -> None:
    wf, _, _ = _wf(wf_env)
    evil = "line1\nEOF\nghadelimiter_00000000-0000-0000-0000-000000000000\ninjected=yes\n"
    wf.set_output("value", evil)
    wf.set_output("data", {"b": [1, 2], "a": "x"})
    outputs = parse_output_file(Path(wf_env["GITHUB_OUTPUT"]).read_text())
    assert outputs == {"value": evil, "data": '{"a": "x", "b": [1, 2]}'}


def test_annotations_escape_their_data(wf_env: dict[str, str]) -> None:
    wf, out, _ = _wf(wf_env)
    wf.error("50% done\nsecond line", title="api: step, one")
    assert out.getvalue() == "::error title=api%3A step%2C one::50%25 done%0Asecond line\n"
    assert Result(0, out.getvalue(), "").errors()[0].message == "50% done\nsecond line"


def test_masked_values_never_appear_again(wf_env: dict[str, str]) -> None:
    wf, out, _ = _wf(wf_env)
    wf.add_mask("s3cr3t-value\nsecond-line")
    wf.log("token is s3cr3t-value")
    wf.warning("and second-line too")
    wf.set_output("leak", "s3cr3t-value")
    wf.summary.add("summary s3cr3t-value")
    wf.summary.flush()
    printed = out.getvalue().splitlines()
    assert printed[:3] == ["::add-mask::s3cr3t-value%0Asecond-line", "::add-mask::s3cr3t-value",
                           "::add-mask::second-line"]
    rest = "\n".join(printed[3:]) + Path(wf_env["GITHUB_OUTPUT"]).read_text()
    rest += Path(wf_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "s3cr3t" not in rest
    assert "second-line" not in rest
    assert rest.count("***") == 4


def test_library_logs_are_redacted(wf_env: dict[str, str]) -> None:
    wf, _, _ = _wf(wf_env)
    wf.add_mask("ghp_abcdefgh")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    try:
        with wf.redacting_logs():
            logging.getLogger("github.Requester").warning("Authorization: token %s", "ghp_abcdefgh")
    finally:
        logging.getLogger().removeHandler(handler)
    assert stream.getvalue() == "Authorization: token ***\n"


def test_library_warnings_reach_the_job_log_redacted_even_with_no_handler(
        wf_env: dict[str, str]) -> None:
    # A CLI run configures no logging: records must not fall to Python's last-resort
    # handler, which would print them unredacted.
    wf, out, _ = _wf(wf_env)
    wf.add_mask("ghp_topsecret")
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        with wf.redacting_logs():
            logging.getLogger("github.GithubRetry").warning("retrying ghp_topsecret\n::error::x")
            logging.getLogger("urllib3").info("not shown without RUNNER_DEBUG")
    finally:
        root.handlers[:] = saved
    lines = out.getvalue().splitlines()[1:]  # after the add-mask line
    assert lines[0] == "warning: github.GithubRetry: retrying ***"
    assert lines[1].startswith(":\u200b:error::x")
    assert len(lines) == 2


def test_untrusted_log_lines_cannot_issue_commands(wf_env: dict[str, str]) -> None:
    wf, out, _ = _wf(wf_env)
    wf.log("ok\n::error::fake\n  ::set-output name=x::y\n##[group]fake")
    assert not any(line.lstrip().startswith(("::", "##[")) for line in out.getvalue().splitlines())


def test_a_carriage_return_cannot_start_a_command(wf_env: dict[str, str]) -> None:
    # The runner splits lines on a lone CR too.
    wf, out, _ = _wf(wf_env)
    wf.log("progress 10%\r::error title=forged::x\r\n##[warning]y")
    assert not any(line.lstrip().startswith(("::", "##["))
                   for line in re.split(r"\r\n|\r|\n", out.getvalue()))


def test_groups_close_even_on_error(wf_env: dict[str, str]) -> None:
    wf, out, _ = _wf(wf_env)
    def fail_inside_group() -> None:
        with wf.group("db logs"):
            wf.log("inside")
            raise ValueError

    with pytest.raises(ValueError):
        fail_inside_group()
    assert out.getvalue() == "::group::db logs\ninside\n::endgroup::\n"


def test_debug_only_when_runner_debug(wf_env: dict[str, str]) -> None:
    quiet, out1, _ = _wf(wf_env)
    quiet.debug("hidden")
    loud, out2, _ = _wf({**wf_env, "RUNNER_DEBUG": "1"})
    loud.debug("shown")
    assert (out1.getvalue(), out2.getvalue()) == ("", "::debug::shown\n")


def test_summary_stays_under_githubs_limit(wf_env: dict[str, str]) -> None:
    wf, _, _ = _wf(wf_env)
    line = "| a row of a large table with some text in it |\n"
    wf.summary.add(line * (2 * SUMMARY_LIMIT // len(line)))
    wf.summary.flush()
    text = Path(wf_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert len(text.encode()) <= SUMMARY_LIMIT
    assert text.endswith("The summary was cut at GitHub's 1 MiB limit.\n")
    assert text.split("\n\n> [!NOTE]")[0].endswith("|\n")  # cut at a line boundary


def test_on_a_laptop_outputs_are_json_on_stdout_and_the_rest_on_stderr() -> None:
    wf, out, err = _wf({})
    wf.log("progress")
    wf.error("bad thing", title="db")
    wf.set_output("project-name", "demo")
    wf.finish()
    assert json.loads(out.getvalue()) == {"project-name": "demo"}
    assert err.getvalue() == "progress\nerror: db: bad thing\n"


def test_on_a_laptop_json_valued_outputs_are_json_values() -> None:
    # Was: {"services": "{\"api\": ...}"}, so `jq .services.api` found nothing.
    out, err = io.StringIO(), io.StringIO()
    wf = Workflow({}, stdout=out, stderr=err)
    wf.set_output("services", {"api": {"ready": True, "ports": {"80/tcp": "127.0.0.1:1"}}})
    wf.set_output("failed", [])
    wf.set_output("ready-seconds", "1.25")
    wf.finish()
    printed = json.loads(out.getvalue())
    assert printed == {"services": {"api": {"ready": True, "ports": {"80/tcp": "127.0.0.1:1"}}},
                       "failed": [], "ready-seconds": "1.25"}


def test_in_a_workflow_json_valued_outputs_stay_strings(wf_env: dict[str, str]) -> None:
    wf = Workflow(wf_env, stdout=io.StringIO(), stderr=io.StringIO())
    wf.set_output("failed", ["api"])
    wf.finish()
    outputs = parse_output_file(Path(wf_env["GITHUB_OUTPUT"]).read_text())
    assert outputs == {"failed": '["api"]'}


def test_a_huge_line_is_capped_in_the_job_log_with_a_marker(wf_env: dict[str, str]) -> None:
    # Was: a 3 MB line without newlines reached the job log whole.
    out = io.StringIO()
    wf = Workflow(wf_env, stdout=out, stderr=io.StringIO())
    wf.log("short\n" + "x" * 3_000_000 + "\nafter")
    lines = out.getvalue().splitlines()
    assert lines[0] == "short"
    assert lines[2] == "after"
    assert lines[1].startswith("x" * 4096 + " [… 2,995,904 more characters")
    assert len(lines[1]) < 4200
