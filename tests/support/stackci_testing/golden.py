"""Golden files for rendered Markdown (comments, summaries, issues, emails).

`golden("pr-comment/all-green.md", text)` compares `text` with tests/golden/<name>. Run
`scripts/regen-golden.sh` (STACKCI_REGEN_GOLDEN=1) to rewrite them after an intended
change, then review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden"


class Golden:
    def __init__(self, regenerate: bool) -> None:
        self.regenerate = regenerate

    def __call__(self, name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if self.regenerate:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"no golden file {path}; run scripts/regen-golden.sh", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden file"


@pytest.fixture
def golden() -> Golden:
    return Golden(os.environ.get("STACKCI_REGEN_GOLDEN") == "1")
