"""pr-comment's annotations of failed tests: where each is placed (a file of the
workspace and a line, only when known), and that what a test printed can never become a
workflow command of its own, read back as the runner reads the job log."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from stackci.core.runner.workflow import Workflow
from stackci.report.junit import Failure, read_junit
from stackci.report.locate import (
    annotation_text,
    failure_notes,
    in_workspace,
    locate,
    more_note,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pr-comment"


def runner_commands(stdout: str) -> list[tuple[str, dict[str, str], str]]:
    """The workflow commands in `stdout`, parsed as the runner parses them
    (actions/runner ActionCommand.TryParseV2): a line starting `::`, the command up to
    the next `::`, properties split on `,` and then on the first `=`, data unescaped."""

    def unescape(text: str) -> str:
        return (text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":")
                .replace("%2C", ",").replace("%25", "%"))

    found = []
    for raw in stdout.split("\n"):
        line = raw.rstrip("\r")
        if not line.startswith("::"):
            continue
        end = line.find("::", 2)
        if end < 0:
            continue
        info = line[2:end]
        name, _, props_text = info.partition(" ")
        props = {}
        for prop in filter(None, props_text.strip().split(",")):
            key, _, value = prop.partition("=")
            props[key] = unescape(value)
        found.append((name, props, unescape(line[end + 2:])))
    return found


def workflow() -> tuple[Workflow, io.StringIO]:
    out = io.StringIO()
    return Workflow({"GITHUB_ACTIONS": "true"}, stdout=out, stderr=io.StringIO()), out


def pytest_workspace(tmp_path: Path) -> Path:
    (tmp_path / "tests").mkdir(parents=True)
    shutil.copy(DATA / "pytest-xunit1" / "test_x.py.txt", tmp_path / "tests" / "test_x.py")
    shutil.copy(DATA / "pytest-xunit1" / "junit.xml", tmp_path / "junit.xml")
    return tmp_path


# ----- where ---------------------------------------------------------------------------------


def test_pytest_xunit1_failures_land_on_the_line_that_failed(tmp_path: Path) -> None:
    workspace = pytest_workspace(tmp_path)
    totals = read_junit([workspace / "junit.xml"], workspace)
    places = {f.name: locate(f, workspace) for f in totals.failures}
    # The traceback's line in the test's file: the assert, the raise, the fixture's raise.
    assert places == {"tests.test_x.test_a": ("tests/test_x.py", 15),
                      "tests.test_x.TestK.test_b": ("tests/test_x.py", 20),
                      "tests.test_x.test_setup": ("tests/test_x.py", 6)}
    source = (workspace / "tests" / "test_x.py").read_text().splitlines()
    assert source[15 - 1].strip() == "assert x == 2"
    # pytest's `line` attribute counts from 0; read, it is the `def` line.
    [test_a] = [f for f in totals.failures if f.name.endswith("test_a")]
    assert test_a.line == 13
    assert source[13 - 1] == "def test_a():"


def test_the_line_attribute_when_the_traceback_names_no_line(tmp_path: Path) -> None:
    workspace = pytest_workspace(tmp_path)
    plain = Failure("t", "failed", "boom", "no line here", "r.xml",
                    source="tests/test_x.py", line=13)
    assert locate(plain, workspace) == ("tests/test_x.py", 13)
    # A PHPUnit-style file (not pytest's): its `line` is taken as written.
    (workspace / "phpunit.xml").write_text(
        '<testsuites><testsuite name="App"><testcase name="t" class="T" '
        f'file="{workspace}/tests/test_x.py" line="9"><failure>x</failure></testcase>'
        "</testsuite></testsuites>")
    [php] = read_junit([workspace / "phpunit.xml"], workspace).failures
    assert (php.line, locate(php, workspace)) == (9, ("tests/test_x.py", 9))


def test_classname_as_a_path_only_when_one_file_fits(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_api.py").write_text("")
    details = 'Traceback:\n  File "/app/tests/test_api.py", line 7, in test_x\n'
    by_class = Failure("tests.test_api.TestA.test_x", "failed", "m", details, "r.xml",
                       classname="tests.test_api.TestA")
    assert locate(by_class, tmp_path) == ("tests/test_api.py", 7)  # a longer path ends in it
    java = Failure("com.example.ApiTest.status", "failed", "m",
                   "at org.junit.Assert.fail(Assert.java:89)\n"
                   "at com.example.ApiTest.status(ApiTest.java:42)\n"
                   "at com.example.ApiTest.helper(ApiTest.java:12)\n", "r.xml",
                   classname="com.example.ApiTest")
    assert locate(java, tmp_path) == (None, None)  # no such file: no place
    folder = tmp_path / "src" / "test" / "java" / "com" / "example"
    folder.mkdir(parents=True)
    (folder / "ApiTest.java").write_text("")
    # The innermost frame of the file: a JVM trace lists the innermost first.
    assert locate(java, tmp_path) == ("src/test/java/com/example/ApiTest.java", 42)
    (tmp_path / "com" / "example").mkdir(parents=True)
    (tmp_path / "com" / "example" / "ApiTest.py").write_text("")
    assert locate(java, tmp_path) == (None, None)  # two files fit: ambiguous, no place


@pytest.mark.parametrize("source", [
    "../outside.py", "tests/../../outside.py", "/etc/passwd", "missing.py", "tests",
    "tests/test_x.py\x00", "", "x" * 2000,
])
def test_a_file_outside_the_workspace_or_absent_is_no_place(tmp_path: Path,
                                                          source: str) -> None:
    workspace = pytest_workspace(tmp_path / "ws")
    (tmp_path / "outside.py").write_text("")
    failure = Failure("t", "failed", "m", f"{source}:3: boom", "r.xml", source=source,
                      line=3)
    assert locate(failure, workspace) == (None, None)


def test_an_absolute_path_in_the_workspace_is_made_relative(tmp_path: Path) -> None:
    workspace = pytest_workspace(tmp_path)
    assert in_workspace(str(workspace / "tests" / "test_x.py"), workspace) == "tests/test_x.py"
    assert in_workspace("./tests/./test_x.py", workspace) == "tests/test_x.py"


def test_hostile_line_numbers_are_no_line(tmp_path: Path) -> None:
    (tmp_path / "r.xml").write_text(
        '<testsuite><testcase name="a" file="f.py" line="-3"><failure/></testcase>'
        '<testcase name="b" file="f.py" line="²"><failure/></testcase>'
        f'<testcase name="c" file="f.py" line="{"9" * 5000}"><failure/></testcase>'
        '<testcase name="d" file="f.py" line="12"><failure/></testcase></testsuite>')
    (tmp_path / "f.py").write_text("")
    lines = [f.line for f in read_junit([tmp_path / "r.xml"], tmp_path).failures]
    assert lines == [None, None, None, 12]


# ----- what, and how many ------------------------------------------------------------------


def test_the_text_is_the_message_and_the_end_of_the_traceback() -> None:
    details = "\n".join(f"frame {i}" for i in range(30)) + "\nE   assert 1 == 2"
    text = annotation_text(Failure("t", "failed", "assert 1 == 2", details, "r.xml"))
    assert text.startswith("assert 1 == 2\n\n… (19 lines above)\nframe 19\n")
    assert text.endswith("E   assert 1 == 2")
    assert annotation_text(Failure("t", "error", "", "", "r.xml")) == "(the test error)"
    assert annotation_text(Failure("t", "failed", "same", "same", "r.xml")) == "same"


def test_at_most_the_limit_then_how_many_more() -> None:
    failures = tuple(Failure(f"t{i}", "failed", "m", "", "r.xml") for i in range(23))
    found = failure_notes(failures, Path("/nonexistent"), 9)
    assert [a.title for a in found.shown] == [f"t{i} failed" for i in range(9)]
    assert found.more == 14
    assert more_note(14, 23, 10, "https://x/run/1", 50) == (
        "14 more failed tests are not annotated (GitHub shows 10 error annotations per "
        "step): all 23 are in the job summary (https://x/run/1).")
    assert more_note(70, 79, 10, "", 50).endswith(
        "all 79 are in the job summary (the first 50 there; the JUnit files have them all).")


# ----- escaping ----------------------------------------------------------------------------

HOSTILE_NAMES = [
    "test_x::error::pwned",
    "name,file=evil.py,line=1",
    "a\n::error file=x.py::injected",
    "a\r::warning::cr",
    "100%0A::error::percent-encoded newline",
    "title=x::add-mask::y",
    "::set-output name=x::y",
]
HOSTILE_MESSAGES = [
    "line 1\n::error::second line\n::stop-commands::token\n",
    "a\r::notice::cr alone",
    "%0A::error::pre-escaped",
    "::endgroup::",
    "##[error]old style\n##[group]x",
    "\u2028::error::line separator",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("message", HOSTILE_MESSAGES)
def test_test_output_never_becomes_a_command(name: str, message: str) -> None:
    wf, out = workflow()
    failure = Failure(name, "failed", message, message, "r.xml")
    [note] = failure_notes((failure,), Path("/nonexistent"), 9).shown
    wf.error(note.message, title=note.title, file="tests/a,b:c.py", line=3)
    commands = runner_commands(out.getvalue())
    assert len(out.getvalue().splitlines()) == 1  # one line: one command
    [(command, props, data)] = commands
    assert command == "error"
    assert props == {"file": "tests/a,b:c.py", "line": "3", "title": note.title}
    assert data == note.message
    assert not {"\n", "\r"} & set(note.title)


def test_a_secret_in_a_test_name_is_masked_in_the_title_too() -> None:
    wf, out = workflow()
    wf.add_mask("s3cr3t-value")
    wf.error("it printed s3cr3t-value", title="test_login[s3cr3t-value] failed",
             file="t.py", line=1)
    assert "s3cr3t-value" not in out.getvalue().split("\n", 1)[1]
    [(_, props, data)] = runner_commands(out.getvalue())[1:]
    assert props["title"] == "test_login[***] failed"
    assert data == "it printed ***"
