"""One version, shown alike everywhere: the package's (src/stackci/__init__.py, which
pyproject.toml reads), `stackci.__version__`, the launcher's release image and every
version README shows for StackCI. (The tests that moved here from
test_declared_read_documented: the release image and pyproject's version.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import stackci
from stackci_testing.scripts import load_script

REPO = Path(__file__).resolve().parents[2]


release = load_script("release")
VERSION = release.current_version(REPO)


def test_the_version_is_kept_in_one_place() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "src/stackci/__init__.py"
    init = (REPO / "src" / "stackci" / "__init__.py").read_text()
    assert len(re.findall(r"^__version__ = ", init, re.M)) == 1
    release.parse_version(VERSION)  # X.Y.Z


def test_dunder_version_is_the_package_version() -> None:
    assert stackci.__version__ == VERSION


def test_the_release_image_is_of_this_version() -> None:
    assert (REPO / "launcher" / "release-image").read_text() == \
        f"ghcr.io/stackci/stackci:{VERSION}\n"


def test_every_version_readme_shows_is_this_one() -> None:
    readme = (REPO / "README.md").read_text()
    shown = release.readme_versions(readme)
    # README shows the full version at least once (Versions and pinning).
    assert VERSION in shown
    full = {v for v in shown if v.count(".") == 2}
    assert full == {VERSION}, f"README shows {sorted(full)}; the package is {VERSION}"
    minors = {v for v in shown if v.count(".") == 1}
    assert minors <= {VERSION.rsplit(".", 1)[0]}, minors
    # The major tag in README's examples (`@v1`) is one and the same throughout, and
    # from 1.0.0 on it is the package's. Before 1.0 the examples name the v1 line ahead
    # of time (scripts/release.py X.Y.Z rewrites them to vX whichever X it is).
    majors = {v for v in shown if "." not in v}
    assert len(majors) <= 1, majors
    major = VERSION.split(".", 1)[0]
    if major != "0":
        assert majors <= {major}, f"README shows @v{sorted(majors)}; the package is {VERSION}"


def test_the_changelog_has_an_unreleased_section_on_top() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    sections = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert sections[0] == "Unreleased"
    assert VERSION in sections
