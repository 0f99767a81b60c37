"""Everything StackCI says to the runner goes through `Workflow`.

This is the only module that writes workflow-command syntax (`::error::` and friends),
using actions-toolkit's `Command` for the escaping and its delimiter logic for outputs.
On a laptop (no `GITHUB_ACTIONS`), the same calls print plain text to stderr and the
outputs are printed once, as a JSON object, on stdout, so scripts can pipe the result.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from actions_toolkit.command import Command
from actions_toolkit.file_command import prepare_key_value_message

MASK = "***"
# The longest line the job log gets: a container may print megabytes without a newline
# (a progress bar), which would flood the log and the browser showing it. The files an
# action writes (collect-logs' logs) keep every line whole.
MAX_LOG_LINE = 4096
# GitHub refuses a step summary over 1 MiB; keep a margin for the truncation note.
SUMMARY_LIMIT = 1024 * 1024
_SUMMARY_NOTE = "\n\n> [!NOTE]\n> The summary was cut at GitHub's 1 MiB limit.\n"


class SecretRegistry:
    """Values that must never be shown. Redaction replaces longer secrets first, so a
    secret containing another is masked whole."""

    def __init__(self) -> None:
        self._values: list[str] = []

    def add(self, value: str) -> list[str]:
        """Register a secret; return the new strings the runner must mask."""
        new = []
        # A multi-line secret is masked whole and line by line, as the runner does.
        lines = [line.strip() for line in value.splitlines()] if "\n" in value else []
        for part in [value, *lines]:
            if len(part) >= 3 and part not in self._values:
                self._values.append(part)
                new.append(part)
        self._values.sort(key=len, reverse=True)
        return new

    def redact(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._values)


class RedactingFilter(logging.Filter):
    """Second line of defence: library log records (PyGithub, urllib3, docker) are
    redacted too, whatever they format into their messages."""

    def __init__(self, secrets: SecretRegistry) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self._secrets.redact(record.getMessage())
            record.args = None
        return True


class _WorkflowLogHandler(logging.Handler):
    """Sends library log records to the job log through the Workflow."""

    def __init__(self, wf: Workflow) -> None:
        super().__init__(logging.DEBUG if wf.debug_enabled else logging.WARNING)
        self._wf = wf

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.levelno >= logging.WARNING:
            self._wf.log(f"{record.levelname.lower()}: {text}")
        else:
            self._wf.debug(text)


class Workflow:
    """The runner's side of an action run: log lines, annotations, groups, masks,
    outputs and the job summary."""

    def __init__(
        self,
        env: Mapping[str, str],
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.in_actions = env.get("GITHUB_ACTIONS") == "true"
        self.debug_enabled = env.get("RUNNER_DEBUG") == "1"
        self._stdout = stdout or sys.stdout
        self._stderr = stderr or sys.stderr
        self._output_file = env.get("GITHUB_OUTPUT") or None
        self._env_file = env.get("GITHUB_ENV") or None
        self.exported: dict[str, str] = {}
        self.secrets = SecretRegistry()
        self.outputs: dict[str, str] = {}
        self._json_outputs: set[str] = set()  # set from a value that is not a string
        self.summary = JobSummary(env.get("GITHUB_STEP_SUMMARY") or None, self.secrets)
        self._log_filter = RedactingFilter(self.secrets)

    # -- plain lines ---------------------------------------------------------------------
    @property
    def _log_stream(self) -> TextIO:
        # In a workflow the runner reads stdout; on a laptop stdout is for the JSON result.
        return self._stdout if self.in_actions else self._stderr

    def _write(self, stream: TextIO, line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    def _command(self, name: str, message: str, **properties: Any) -> None:
        # Properties are escaped as data is (and `:` `,` too), and redacted: a title or
        # a file name may come from outside (a test's name in a JUnit file).
        props = {k: self.secrets.redact(str(v)) for k, v in properties.items()
                 if v is not None}
        text = str(Command(name, props, self.secrets.redact(message)))
        self._write(self._stdout, text)

    def log(self, message: str) -> None:
        # The runner splits lines on a lone CR too: `progress\r::error::x` would be a
        # command, so CRs are line breaks before commands are neutralized.
        text = self.secrets.redact(message.replace("\r\n", "\n").replace("\r", "\n"))
        if self.in_actions:
            # A line from a container or a PR must not be taken for a command.
            text = neutralize_commands(text)
        self._write(self._log_stream, cap_lines(text, MAX_LOG_LINE))

    def debug(self, message: str) -> None:
        if not self.debug_enabled:
            return
        if self.in_actions:
            self._command("debug", message)
        else:
            self._write(self._stderr, "debug: " + self.secrets.redact(message))

    # -- annotations ---------------------------------------------------------------------
    def _annotate(self, kind: str, message: str, title: str | None,
                  file: str | None = None, line: int | None = None) -> None:
        """`file` (relative to the repository) and `line` (from 1) place the annotation
        on a line of a file; text from outside (a test's name or failure) may be given
        as any of them: the escaping keeps it one command and the data of that one."""
        if line is not None and file is None:
            line = None  # a line means nothing without its file
        if self.in_actions:
            self._command(kind, message, file=file, line=line, title=title)
        else:
            where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
            prefix = f"{kind}: {where}{title}: " if title else f"{kind}: {where}"
            self._write(self._stderr, self.secrets.redact(prefix + message))

    def error(self, message: str, title: str | None = None, *, file: str | None = None,
              line: int | None = None) -> None:
        self._annotate("error", message, title, file, line)

    def warning(self, message: str, title: str | None = None) -> None:
        self._annotate("warning", message, title)

    def notice(self, message: str, title: str | None = None) -> None:
        self._annotate("notice", message, title)

    # -- groups --------------------------------------------------------------------------
    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        if self.in_actions:
            self._command("group", title)
        else:
            self._write(self._stderr, f"── {self.secrets.redact(title)}")
        try:
            yield
        finally:
            if self.in_actions:
                self._write(self._stdout, "::endgroup::")

    # -- secrets -------------------------------------------------------------------------
    def add_mask(self, secret: str) -> None:
        for value in self.secrets.add(secret):
            if self.in_actions:
                # The runner must see the value itself to mask it.
                self._write(self._stdout, str(Command("add-mask", {}, value)))

    @contextmanager
    def redacting_logs(self) -> Iterator[None]:
        """For the run's duration, library log records (PyGithub's retries, urllib3,
        docker) reach the job log through this Workflow, redacted and unable to issue
        commands: warnings always, everything with RUNNER_DEBUG=1. Handlers a host
        program configured get the redacting filter too."""
        root = logging.getLogger()
        ours = _WorkflowLogHandler(self)
        handlers = [*root.handlers, ours]
        for handler in handlers:
            handler.addFilter(self._log_filter)
        root.addHandler(ours)
        old_level = root.level
        if self.debug_enabled:
            root.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            root.removeHandler(ours)
            root.setLevel(old_level)
            for handler in handlers:
                handler.removeFilter(self._log_filter)

    # -- outputs -------------------------------------------------------------------------
    def set_output(self, name: str, value: object) -> None:
        """Set an output. Non-strings are written as JSON. A random delimiter per value
        means no value (newlines, fake delimiters) can inject another output."""
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        text = self.secrets.redact(text)
        self.outputs[name] = text
        if isinstance(value, str):
            self._json_outputs.discard(name)
        else:
            self._json_outputs.add(name)
        if self._output_file:
            with Path(self._output_file).open("a", encoding="utf-8", newline="") as handle:
                handle.write(prepare_key_value_message(name, text) + "\n")

    def export_variable(self, name: str, value: str) -> bool:
        """Set an environment variable for the job's later steps (GITHUB_ENV), written
        as outputs are, with a random delimiter. False where there is no later step (a
        laptop): the caller says what to export instead."""
        text = self.secrets.redact(value)
        self.exported[name] = text
        if not self._env_file:
            return False
        with Path(self._env_file).open("a", encoding="utf-8", newline="") as handle:
            handle.write(prepare_key_value_message(name, text) + "\n")
        return True

    def finish(self) -> None:
        """On a laptop, print the outputs as one JSON object on stdout. An output set
        from a list, a mapping, a number or a boolean is a JSON value there (`jq
        .services.api` works); on the runner every output is a string, as GitHub
        requires."""
        if not self._output_file:
            result = {name: _json_or_text(text) if name in self._json_outputs else text
                      for name, text in self.outputs.items()}
            self._write(self._stdout, json.dumps(result, indent=2, sort_keys=True))
        self.summary.flush()


def _json_or_text(text: str) -> Any:
    # Redaction may have cut into the JSON (a secret spanning a quote): then the text.
    try:
        return json.loads(text)
    except ValueError:
        return text


class JobSummary:
    """Markdown for `GITHUB_STEP_SUMMARY`, kept under GitHub's 1 MiB limit."""

    def __init__(self, path: str | None, secrets: SecretRegistry) -> None:
        self._path = path
        self._secrets = secrets
        self._parts: list[str] = []

    def add(self, markdown: str) -> None:
        self._parts.append(markdown.rstrip("\n") + "\n\n")

    def text(self) -> str:
        return self._secrets.redact("".join(self._parts))

    def flush(self) -> None:
        if not self._path or not self._parts:
            return
        path = Path(self._path)
        used = path.stat().st_size if path.exists() else 0
        body = fit_utf8(self.text(), SUMMARY_LIMIT - used, _SUMMARY_NOTE)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(body)
        self._parts.clear()


def cap_lines(text: str, limit: int) -> str:
    """Each line cut to `limit` characters, with a marker saying how much was cut."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > limit:
            lines[i] = (f"{line[:limit]} [… {len(line) - limit:,} more characters of "
                        "this line cut]")
    return "\n".join(lines)


def fit_utf8(text: str, limit: int, note: str) -> str:
    """Cut `text` at a line boundary so that it plus `note` fits in `limit` bytes."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = max(limit - len(note.encode("utf-8")), 0)
    cut = data[:room].decode("utf-8", errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rfind("\n") + 1]
    return cut + note if room else ""


_COMMAND_START = re.compile(r"^(\s*)(::|##\[)", re.MULTILINE)


def neutralize_commands(text: str) -> str:
    """Break a leading `::` or `##[` on every line, so untrusted text (a container's log,
    a PR title) cannot issue workflow commands."""
    return _COMMAND_START.sub(
        lambda m: m.group(1) + m.group(2)[0] + "\u200b" + m.group(2)[1:], text
    )
