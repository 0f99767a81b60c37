"""Compose's own variables, read as Compose reads them, beneath the inputs.

Every Docker action picks its stack the way `docker compose` in a shell step would: an
input wins; an empty input falls back to `COMPOSE_FILE`, `COMPOSE_PROJECT_NAME`,
`COMPOSE_PROFILES` or `COMPOSE_ENV_FILES` from the step's environment (a workflow's
`env:`, or what compose-up-and-wait handed over through GITHUB_ENV), split as Compose
splits them. An error about a value that came from a variable names the variable.

`handover` is the other direction: what compose-up-and-wait writes to GITHUB_ENV so
that later steps (plain `docker compose exec`, collect-logs without inputs) reach the
stack it started."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from stackci.core.runner.inputs import PROJECT_NAME, InputReader

FILE = "COMPOSE_FILE"
PROJECT = "COMPOSE_PROJECT_NAME"
PROFILES = "COMPOSE_PROFILES"
ENV_FILES = "COMPOSE_ENV_FILES"
PATH_SEPARATOR = "COMPOSE_PATH_SEPARATOR"
# What an action hands to the calling shell: every one of them, so a second stack in the
# same job replaces all of the first's (an empty value clears, as Compose reads it).
HANDED_OVER = (PROJECT, FILE, PROFILES, ENV_FILES)
SELECTION = frozenset(HANDED_OVER)


def path_separator(env: Mapping[str, str]) -> str:
    """Compose's separator for COMPOSE_FILE: COMPOSE_PATH_SEPARATOR, else the
    platform's (`:` on Linux, where the actions run)."""
    return env.get(PATH_SEPARATOR) or os.pathsep


def _split_commas(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _variable(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def compose_file_names(inputs: InputReader, env: Mapping[str, str],
                       name: str = "compose-file") -> tuple[tuple[str, ...], str | None]:
    """The compose files named by the input, else by COMPOSE_FILE; with the variable's
    name when that is where they came from."""
    given = inputs.file_names(name)
    if given:
        return given, None
    text = _variable(env, FILE)
    separator = path_separator(env)
    return tuple(p.strip() for p in text.split(separator) if p.strip()), (FILE if text else None)


def compose_files(inputs: InputReader, env: Mapping[str, str], base: Path,
                  name: str = "compose-file", must_exist: bool = True) -> tuple[Path, ...]:
    """`compose_file_names` as paths relative to `base`; each must exist when asked."""
    names, via = compose_file_names(inputs, env, name)
    files = tuple(base / item for item in names)
    if must_exist:
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            inputs.fail(name, "existing files; not found: " + ", ".join(missing),
                        (separator_joined(names, env) if via else ", ".join(names)), via=via)
    return files


def separator_joined(names: tuple[str, ...], env: Mapping[str, str]) -> str:
    return path_separator(env).join(names)


def project_name(inputs: InputReader, env: Mapping[str, str],
                 name: str = "project-name") -> str | None:
    """The project-name input, else COMPOSE_PROJECT_NAME, checked against Compose's rule;
    None when neither is given."""
    given = inputs.project_name(name)
    if given is not None or any(e.name == name for e in inputs.errors):
        return given
    value = _variable(env, PROJECT)
    if not value:
        return None
    if not PROJECT_NAME.fullmatch(value):
        inputs.fail(name, "a Compose project name: lowercase letters, digits, '-' and "
                    "'_', starting with a letter or digit", value, via=PROJECT)
        return None
    return value


def profiles(inputs: InputReader, env: Mapping[str, str],
             name: str = "profiles") -> tuple[str, ...]:
    """The profiles input, else COMPOSE_PROFILES (comma-separated, as Compose reads it)."""
    return inputs.items(name) or _split_commas(_variable(env, PROFILES))


def env_files(inputs: InputReader, env: Mapping[str, str], base: Path,
              name: str = "env-file") -> tuple[Path, ...]:
    """The env-file input, else COMPOSE_ENV_FILES (comma-separated), relative to `base`;
    each must exist."""
    if inputs.file_names(name):
        return inputs.existing_files(name, base)
    text = _variable(env, ENV_FILES)
    files = tuple(base / item for item in _split_commas(text))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        inputs.fail(name, "existing files; not found: " + ", ".join(missing), text,
                    via=ENV_FILES)
    return files


def handover(project: str, files: tuple[Path, ...], profile_names: tuple[str, ...],
             env_file_paths: tuple[Path, ...], env: Mapping[str, str]) -> dict[str, str]:
    """The variables that make a later step's `docker compose` mean this stack: absolute
    paths, so a step with another working directory reaches it too."""
    return {
        PROJECT: project,
        FILE: path_separator(env).join(str(f.absolute()) for f in files),
        PROFILES: ",".join(profile_names),
        ENV_FILES: ",".join(str(f.absolute()) for f in env_file_paths),
    }
