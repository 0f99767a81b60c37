"""Write requirements.txt: the exact versions of stackci's runtime dependencies
(the transitive closure, platform markers evaluated for Linux), as installed in the
current environment. Run after changing dependencies: `.venv/bin/python scripts/lock.py`."""

from __future__ import annotations

import importlib.metadata as md
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
ENV = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


def closure(roots: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({**ENV, "extra": ""}):
            continue
        dist = md.distribution(req.name)
        key = dist.metadata["Name"]
        if key in found:
            continue
        found[key] = dist.version
        todo += [Requirement(r) for r in dist.requires or []]
    return found


def main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = closure(project["dependencies"])
    lines = ["# Runtime dependencies of stackci, pinned exactly; the image installs these.",
             "# Regenerate with: .venv/bin/python scripts/lock.py"]
    ordered = sorted(pins.items(), key=lambda pin: pin[0].lower())
    lines += [f"{name}=={version}" for name, version in ordered]
    (ROOT / "requirements.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
