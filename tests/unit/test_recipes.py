"""README's Recipes table stays true: one row per example folder, and each row's YAML
and shell line counts are what the example's workflow files hold."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from stackci_testing import examples
from stackci_testing.runner import REPO

EXAMPLES = REPO / "examples"


def workflow_files(example: Path) -> list[Path]:
    return sorted((example / ".github" / "workflows").glob("*.y*ml"))


def yaml_lines(path: Path) -> int:
    return len(examples.yaml_lines(path))


def shell_lines(path: Path) -> int:
    workflow = yaml.safe_load(path.read_text())
    scripts = [step["run"] for job in workflow.get("jobs", {}).values()
               for step in job.get("steps", []) if "run" in step]
    return sum(1 for script in scripts for line in str(script).splitlines() if line.strip())


def recipes() -> dict[str, tuple[int, int]]:
    text = (REPO / "README.md").read_text()
    table = text.split("<!-- recipes -->", 1)[1].split("<!-- end -->", 1)[0]
    rows = {}
    for line in table.splitlines():
        found = re.match(r"\| \[`([\w-]+)`\]\(examples/\1\) \| .+ \| (\d+) \| (\d+) \|$", line)
        if found:
            rows[found.group(1)] = (int(found.group(2)), int(found.group(3)))
    return rows


def test_every_example_pipeline_is_a_recipe_with_true_counts() -> None:
    examples = {p.name: p for p in EXAMPLES.iterdir() if workflow_files(p)}
    rows = recipes()
    assert sorted(rows) == sorted(examples)
    for name, example in examples.items():
        files = workflow_files(example)
        counted = (sum(map(yaml_lines, files)), sum(map(shell_lines, files)))
        assert rows[name] == counted, name
