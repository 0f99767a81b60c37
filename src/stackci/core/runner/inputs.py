"""Typed, validated inputs.

An action's settings dataclass is built from an `InputReader` over a plain mapping of
input names to strings (the environment in production, a dict in tests). Every problem
is collected, so a user fixes all their inputs in one go; `InputReader.done()` raises
`BadInputs` when there were any.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from stackci.core.runner.errors import BadInputs, InputError
from stackci.core.runner.jobs import NEEDS_EXPECTED, JobResult, parse_needs
from stackci.core.runner.manifest import ActionManifest

T = TypeVar("T")

TRUE_FORMS = frozenset({"true", "True", "TRUE"})
FALSE_FORMS = frozenset({"false", "False", "FALSE"})
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
# Compose's rule for project names.
PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
# The longest a job may run on GitHub's hosted runners: no wait in StackCI is longer.
MAX_TIMEOUT = 6 * 3600.0
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def raw_inputs_from_env(env: Mapping[str, str], manifest: ActionManifest) -> dict[str, str]:
    """Collect the inputs of `manifest` from the environment.

    A composite action hands its inputs over as one JSON object (`STACKCI_INPUTS`,
    from `toJSON(inputs)`), because composite steps get no `INPUT_*` variables. A plain
    `INPUT_<NAME>` variable, with hyphens kept as the runner writes them or turned into
    underscores, is read too and wins (it is what a person sets by hand)."""
    raw: dict[str, str] = {}
    packed = env.get("STACKCI_INPUTS", "").strip()
    if packed:
        try:
            data = json.loads(packed)
        except json.JSONDecodeError:
            data = {}
        if isinstance(data, dict):
            raw.update({k: "" if v is None else str(v) for k, v in data.items()})
    for name in manifest.inputs:
        upper = name.upper()
        for key in (f"INPUT_{upper}", f"INPUT_{upper.replace('-', '_')}"):
            if key in env:
                raw[name] = env[key]
    return raw


def parse_bool(text: str) -> bool:
    if text in TRUE_FORMS:
        return True
    if text in FALSE_FORMS:
        return False
    raise ValueError("true or false")


def parse_duration(text: str) -> float:
    """Seconds from `90`, `90s`, `1.5s`, `250ms`, `2m`, `1h` or `1m30s`."""
    text = text.strip()
    pos, total = 0, 0.0
    parts = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos, parts = match.end(), parts + 1
        if match.group(2) is None and parts > 1:  # `5s5`: a bare number only stands alone
            pos = -1
            break
    if not text or pos != len(text):
        raise ValueError("a duration such as 90, 90s, 2m or 1h")
    return total


def format_duration(seconds: float) -> str:
    """`6h`, `1h30m`, `90s`: a duration as the inputs take it."""
    whole = int(seconds)
    if whole != seconds or whole < 60:
        return f"{seconds:g}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return "".join(f"{v}{u}" for v, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if v)


def parse_list(text: str) -> tuple[str, ...]:
    """Items separated by newlines or commas; blanks dropped."""
    return tuple(item.strip() for item in re.split(r"[\n,]", text) if item.strip())


def parse_lines(text: str) -> tuple[str, ...]:
    """Items one per line (for values that may themselves hold commas)."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def is_unset(text: str | None) -> bool:
    # An unexpanded `${{ ... }}` default (seen when action.yml is read by the CLI) is no value.
    return text is None or not text.strip() or text.strip().startswith("${{")


class InputReader:
    """Reads each input once, typed; remembers every error and every name read."""

    def __init__(self, raw: Mapping[str, str], manifest: ActionManifest) -> None:
        self._raw = raw
        self._manifest = manifest
        self.errors: list[InputError] = []
        self.read: set[str] = set()
        self.secrets: list[str] = []

    # -- plumbing -----------------------------------------------------------------------
    def _text(self, name: str) -> str | None:
        if name not in self._manifest.inputs:
            raise KeyError(f"{name!r} is not declared in {self._manifest.name}/action.yml")
        self.read.add(name)
        value = self._raw.get(name)
        if is_unset(value):
            value = self._manifest.inputs[name].default
        if is_unset(value):
            if self._manifest.inputs[name].required:
                self.fail(name, "a value (this input is required)")
            return None
        assert value is not None
        return value.strip()

    def fail(self, name: str, expected: str, got: str | None = None,
             via: str | None = None) -> None:
        """Record a bad value: `expected` says what a good one looks like; `via`, the
        environment variable it came from when the input was empty."""
        self.errors.append(InputError(name, expected, got, via))

    def _typed(self, name: str, parse: Callable[[str], T], fallback: T) -> T:
        text = self._text(name)
        if text is None:
            return fallback
        try:
            return parse(text)
        except ValueError as exc:
            self.fail(name, str(exc), text)
            return fallback

    # -- types --------------------------------------------------------------------------
    def text(self, name: str, default: str = "") -> str:
        value = self._text(name)
        return default if value is None else value

    def optional_text(self, name: str) -> str | None:
        return self._text(name)

    def markdown_text(self, name: str) -> str | None:
        """Text kept exactly as given (Markdown: leading spaces make a code block, and
        `${{` may be what the text is about). None when absent or blank. No default
        from action.yml applies: only an input whose default is empty may be read so."""
        if name not in self._manifest.inputs:
            raise KeyError(f"{name!r} is not declared in {self._manifest.name}/action.yml")
        self.read.add(name)
        value = self._raw.get(name)
        return value if value is not None and value.strip() else None

    def secret(self, name: str) -> str:
        """A secret: registered for masking the moment it is read."""
        value = self._text(name) or ""
        if value:
            self.secrets.append(value)
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        return self._typed(name, parse_bool, default)

    def integer(self, name: str, default: int, minimum: int | None = None,
                maximum: int | None = None) -> int:
        def parse(text: str) -> int:
            bounds = _bounds_text(minimum, maximum)
            if not re.fullmatch(r"-?\d+", text):
                raise ValueError(f"a whole number{bounds}")
            value = int(text)
            if (minimum is not None and value < minimum) or (
                maximum is not None and value > maximum
            ):
                raise ValueError(f"a whole number{bounds}")
            return value

        return self._typed(name, parse, default)

    def duration(self, name: str, default: float, allow_zero: bool = False,
                 maximum: float = MAX_TIMEOUT) -> float:
        """Seconds; negative values never parse, zero only where `allow_zero`, nothing
        above `maximum` (each duration input documents its own)."""

        def parse(text: str) -> float:
            seconds = parse_duration(text)
            if seconds == 0 and not allow_zero:
                raise ValueError("a duration above zero, such as 90, 90s, 2m or 1h")
            if seconds > maximum:
                raise ValueError(f"a duration of at most {format_duration(maximum)}")
            return seconds

        return self._typed(name, parse, default)

    def size(self, name: str, default: int, maximum: int) -> int:
        """Bytes, written as `500KB`, `10MB` or `1GB` (powers of 1024) or a plain number."""

        def parse(text: str) -> int:
            found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?B?)", text.strip(), re.IGNORECASE)
            if found is None:
                raise ValueError("a size such as 500KB, 10MB or 1GB")
            unit = found.group(2).upper().rstrip("B")
            value = int(float(found.group(1)) * {"": 1, "K": 1024, "M": 1024**2,
                                                 "G": 1024**3}[unit])
            if value > maximum:
                raise ValueError(f"a size of at most {maximum // 1024**2}MB")
            return value

        return self._typed(name, parse, default)

    def items(self, name: str, split: Callable[[str], tuple[str, ...]] = parse_list
              ) -> tuple[str, ...]:
        return self._typed(name, split, ())

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        def parse(text: str) -> str:
            if text not in options:
                raise ValueError("one of " + ", ".join(options))
            return text

        return self._typed(name, parse, default)

    def json_value(self, name: str) -> Any:
        def parse(text: str) -> Any:
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"valid JSON ({exc.msg} at line {exc.lineno})") from exc

        return self._typed(name, parse, None)

    def yaml_list(self, name: str) -> list[Any]:
        def parse(text: str) -> list[Any]:
            data = _load_yaml(text, "a YAML list")
            if data is None:
                return []
            if not isinstance(data, list):
                raise ValueError(f"a YAML list, not a {type(data).__name__}")  # noqa: TRY004
            return data

        return self._typed(name, parse, [])

    def yaml_mapping(self, name: str) -> dict[str, Any]:
        def parse(text: str) -> dict[str, Any]:
            data = _load_yaml(text, "a YAML mapping")
            if data is None:
                return {}
            if not isinstance(data, dict):
                raise ValueError(f"a YAML mapping, not a {type(data).__name__}")  # noqa: TRY004
            return {str(k): v for k, v in data.items()}

        return self._typed(name, parse, {})

    def path(self, name: str, base: Path, must_exist: bool = False,
             kind: str = "file or folder") -> Path | None:
        text = self._text(name)
        if text is None:
            return None
        path = (base / text).resolve() if not Path(text).is_absolute() else Path(text)
        if must_exist and not path.exists():
            self.fail(name, f"an existing {kind}; {path} does not exist", text)
        return path

    # -- shared readers (one per kind of input several actions take) --------------------
    def project_name(self, name: str = "project-name") -> str | None:
        """A Compose project name, checked against Compose's rule; None when not given."""
        value = self.optional_text(name)
        if value is not None and not PROJECT_NAME.fullmatch(value):
            self.fail(name, "a Compose project name: lowercase letters, digits, '-' and "
                      "'_', starting with a letter or digit", value)
        return value

    def file_names(self, name: str) -> tuple[str, ...]:
        """File names, one per line or separated by commas: the one way every action
        splits a list of files (`compose-file`, `env-file`)."""
        return self.items(name, parse_list)

    def existing_files(self, name: str, base: Path) -> tuple[Path, ...]:
        """`file_names`, relative to `base` unless absolute, each of which must exist."""
        given = self.file_names(name)
        files = tuple(base / item for item in given)
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            self.fail(name, "existing files; not found: " + ", ".join(missing),
                      ", ".join(given))
        return files

    def markdown_or_file(self, text_name: str, file_name: str, base: Path,
                         max_bytes: int) -> str | None:
        """Markdown given inline (`text_name`, kept exactly as given) or in a UTF-8 file
        (`file_name`, relative to `base`), not both; None when neither is."""
        body = self.markdown_text(text_name)
        given = self.optional_text(file_name)
        if given is None:
            return body
        if body is not None:
            self.fail(file_name, f"either {text_name} or {file_name}, not both", given)
            return body
        path = Path(given) if Path(given).is_absolute() else base / given
        try:
            if path.stat().st_size > max_bytes:
                self.fail(file_name, f"a Markdown file of at most "
                          f"{max_bytes // 1024 // 1024} MiB", given)
                return None
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.fail(file_name, f"an existing file; {path} does not exist", given)
        except IsADirectoryError:
            self.fail(file_name, f"a file; {path} is a folder", given)
        except UnicodeDecodeError:
            self.fail(file_name, "a UTF-8 text file", given)
        except OSError as exc:
            self.fail(file_name, f"a readable file ({exc.strerror})", given)
        return None

    def needs(self, name: str = "needs") -> tuple[JobResult, ...] | None:
        """The `needs` context as JSON (`${{ toJSON(needs) }}`); None when not given."""
        text = self.optional_text(name)
        if text is None:
            return None
        try:
            return parse_needs(json.loads(text))
        except json.JSONDecodeError as exc:
            self.fail(name, f"{NEEDS_EXPECTED} (invalid JSON: {exc.msg})", text)
        except ValueError as exc:
            self.fail(name, str(exc), text)
        return None

    def done(self) -> None:
        if self.errors:
            raise BadInputs(self.errors)


def _load_yaml(text: str, expected: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ValueError(f"{expected}; the YAML is invalid{where}") from exc


def _bounds_text(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f" of at least {minimum}"
    if maximum is not None:
        return f" of at most {maximum}"
    return ""
