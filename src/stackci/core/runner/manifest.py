"""An action's action.yml, read as the one source of truth for its inputs, their
descriptions and defaults (the CLI help and the input reader both come from here)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from stackci.core.text.yamltext import load_yaml

# Inputs every action.yml declares that the shell launcher consumes before Python runs.
LAUNCHER_INPUTS = frozenset({"image"})


@dataclass(frozen=True)
class InputDecl:
    name: str
    description: str
    default: str | None
    required: bool


@dataclass(frozen=True)
class ActionManifest:
    name: str
    description: str
    inputs: dict[str, InputDecl]
    outputs: dict[str, str]

    @property
    def python_inputs(self) -> dict[str, InputDecl]:
        """The inputs the Python side reads (all but the launcher's own)."""
        return {k: v for k, v in self.inputs.items() if k not in LAUNCHER_INPUTS}


def manifest_dir() -> Path:
    """Where the action.yml files are: packaged as `stackci/_actions` in a wheel, or
    the repository's `actions/` folder in a source checkout. Found from this file, not
    with importlib.resources, which imports tempfile, shutil and more (about 4 ms of
    every start): the wheel installs the package as plain files."""
    here = Path(__file__).resolve()
    packaged = here.parents[2] / "_actions"  # stackci/core/runner/manifest.py
    if packaged.is_dir():
        return packaged
    return here.parents[4] / "actions"


def action_names() -> list[str]:
    return sorted(p.parent.name for p in manifest_dir().glob("*/action.yml"))


@cache
def load_manifest(action: str) -> ActionManifest:
    path = manifest_dir() / action / "action.yml"
    data: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    inputs = {
        name: InputDecl(
            name=name,
            description=" ".join(str(spec.get("description", "")).split()),
            default=None if spec.get("default") is None else str(spec["default"]),
            required=bool(spec.get("required", False)),
        )
        for name, spec in (data.get("inputs") or {}).items()
    }
    outputs = {
        name: " ".join(str(spec.get("description", "")).split())
        for name, spec in (data.get("outputs") or {}).items()
    }
    return ActionManifest(action, str(data.get("description", "")), inputs, outputs)
