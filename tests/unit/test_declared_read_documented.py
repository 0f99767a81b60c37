"""For every action, the inputs declared in action.yml, read by its Settings, listed
by the CLI help and documented in README.md are the same set; outputs likewise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stackci.core.runner.action import action_module
from stackci.core.runner.context import RunContext
from stackci.core.runner.inputs import InputReader
from stackci.core.runner.manifest import LAUNCHER_INPUTS, action_names, load_manifest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
ACTIONS = action_names()


def documented(kind: str, action: str) -> set[str]:
    """Names in README's table between `<!-- {kind}:{action} -->` and `<!-- end -->`."""
    match = re.search(rf"<!-- {kind}:{re.escape(action)} -->(.*?)<!-- end -->", README, re.S)
    assert match, f"README.md has no {kind} table for {action}"
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", match.group(1), re.M))


def test_the_expected_actions_exist() -> None:
    assert "doctor" in ACTIONS


@pytest.mark.parametrize("action", ACTIONS)
def test_inputs_declared_read_and_documented_agree(action: str) -> None:
    manifest = load_manifest(action)
    reader = InputReader({}, manifest)
    action_module(action).Settings.from_inputs(reader, RunContext.from_env({}))
    declared = set(manifest.inputs)
    assert reader.read == declared - LAUNCHER_INPUTS
    assert documented("inputs", action) == declared


@pytest.mark.parametrize("action", ACTIONS)
def test_outputs_declared_and_documented_agree(action: str) -> None:
    manifest = load_manifest(action)
    assert documented("outputs", action) == set(manifest.outputs)
    spec = yaml.safe_load((REPO / "actions" / action / "action.yml").read_text())
    for name, out in spec.get("outputs", {}).items():
        assert out["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


@pytest.mark.parametrize("path", [*sorted(REPO.glob("actions/*/action.yml")), REPO / "action.yml"],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_the_image_input_leaves_the_choice_to_the_launcher(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())
    # Empty, and passed under its own name: a job's STACKCI_IMAGE is not overwritten.
    assert spec["inputs"]["image"]["default"] == ""
    assert spec["runs"]["using"] == "composite"
    [step] = spec["runs"]["steps"]
    assert "launcher/launch.sh" in step["run"]
    assert step["env"]["STACKCI_IMAGE_INPUT"] == "${{ inputs.image }}"
    assert "STACKCI_IMAGE" not in step["env"]


def test_root_action_offers_every_action_and_their_outputs() -> None:
    root = yaml.safe_load((REPO / "action.yml").read_text())
    for action in ACTIONS:
        assert action in root["inputs"]["command"]["description"]
        assert set(load_manifest(action).outputs) <= set(root["outputs"])


def test_actions_toolkit_tests_package_and_ours_do_not_shadow_each_other() -> None:
    # actions-toolkit installs a top-level `tests` package. Ours is not a package, and
    # pytest imports it in importlib mode, so neither can stand in for the other:
    # from the repository root, `import tests` is still the wheel's package ...
    probe = subprocess.run([sys.executable, "-c", "import tests; print(tests.__file__)"],
                           cwd=REPO, capture_output=True, text=True, check=True)
    assert "site-packages" in probe.stdout
    assert not (REPO / "tests" / "__init__.py").exists()
    # ... and this module was loaded from our own file.
    assert Path(__file__).resolve() == REPO / "tests" / "unit" / Path(__file__).name
