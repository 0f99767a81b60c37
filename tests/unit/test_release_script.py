"""scripts/release.py: the version set everywhere it is shown, CHANGELOG's [Unreleased]
moved under the release, and the release workflow's first check."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stackci_testing.scripts import load_script

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 5, 4)


release = load_script("release")

CHANGELOG = textwrap.dedent("""\
    # Changelog

    Intro text.

    ## [Unreleased]

    ### Added
    - notify-email.

    ### Changed

    ## [0.1.0] - 2026-01-02

    ### Added
    - compose-up-and-wait.

    [Unreleased]: https://github.com/stackci/stackci/compare/v0.1.0...HEAD
    [0.1.0]: https://github.com/stackci/stackci/releases/tag/v0.1.0
    """)

README = textwrap.dedent("""\
    # StackCI
    Use `stackci/stackci/actions/compose-up-and-wait@v0`, or `stackci/stackci@v0.1`,
    or `stackci/stackci@v0.1.0`, image `ghcr.io/stackci/stackci:0.1.0`,
    `pip install stackci==0.1.0`.
    Not ours: `actions/checkout@v4`, and `stackci/stackci@<sha>` stays.
    Ahead of 1.0: `stackci/stackci/actions/label-gate@v1`.
    """)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "src" / "stackci").mkdir(parents=True)
    (tmp_path / "launcher").mkdir()
    (tmp_path / "src" / "stackci" / "__init__.py").write_text(
        '"""Doc."""\n\n__version__ = "0.1.0"\n')
    (tmp_path / "launcher" / "release-image").write_text("ghcr.io/stackci/stackci:0.1.0\n")
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    (tmp_path / "README.md").write_text(README)
    return tmp_path


def test_bump_sets_the_version_in_every_place(root: Path) -> None:
    written = release.bump(root, "0.2.0", TODAY)
    assert sorted(str(p) for p in written) == ["CHANGELOG.md", "README.md",
                                               "launcher/release-image",
                                               "src/stackci/__init__.py"]
    assert (root / "src/stackci/__init__.py").read_text() == '"""Doc."""\n\n__version__ = "0.2.0"\n'
    assert (root / "launcher/release-image").read_text() == "ghcr.io/stackci/stackci:0.2.0\n"
    readme = (root / "README.md").read_text()
    assert "compose-up-and-wait@v0`" in readme
    assert "label-gate@v1`" in readme  # before 1.0 a major tag in README is left alone
    assert "`stackci/stackci@v0.2`" in readme
    assert "`stackci/stackci@v0.2.0`" in readme
    assert "ghcr.io/stackci/stackci:0.2.0" in readme
    assert "stackci==0.2.0" in readme
    assert "actions/checkout@v4" in readme
    assert "stackci/stackci@<sha>" in readme
    assert release.current_version(root) == "0.2.0"


def test_a_new_major_moves_the_major_tag_in_readme(root: Path) -> None:
    release.bump(root, "1.0.0", TODAY)
    readme = (root / "README.md").read_text()
    assert "compose-up-and-wait@v1`" in readme
    assert "`stackci/stackci@v1.0`" in readme
    assert release.readme_versions(readme) == ["1.0.0", "1", "1.0", "1.0.0", "1", "1.0.0"]


def test_from_1_0_on_a_new_major_rewrites_the_major_tags(root: Path) -> None:
    release.bump(root, "1.0.0", TODAY)
    (root / "CHANGELOG.md").write_text((root / "CHANGELOG.md").read_text().replace(
        "### Added\n\n### Changed", "### Added\n- more.\n\n### Changed", 1))
    release.bump(root, "2.0.0", TODAY)
    readme = (root / "README.md").read_text()
    assert "compose-up-and-wait@v2`" in readme
    assert "label-gate@v2`" in readme
    assert set(release.readme_versions(readme)) == {"2.0.0", "2", "2.0"}


def test_bump_moves_unreleased_under_the_new_version(root: Path) -> None:
    release.bump(root, "0.2.0", TODAY)
    assert (root / "CHANGELOG.md").read_text() == textwrap.dedent("""\
        # Changelog

        Intro text.

        ## [Unreleased]

        ### Added

        ### Changed

        ## [0.2.0] - 2026-05-04

        ### Added
        - notify-email.

        ## [0.1.0] - 2026-01-02

        ### Added
        - compose-up-and-wait.

        [Unreleased]: https://github.com/stackci/stackci/compare/v0.2.0...HEAD
        [0.2.0]: https://github.com/stackci/stackci/compare/v0.1.0...v0.2.0
        [0.1.0]: https://github.com/stackci/stackci/releases/tag/v0.1.0
        """)
    assert release.changelog_section((root / "CHANGELOG.md").read_text(), "0.2.0") == \
        "### Added\n- notify-email.\n"


def test_the_real_changelog_and_readme_survive_a_bump(tmp_path: Path) -> None:
    for name in ("CHANGELOG.md", "README.md", "src/stackci/__init__.py",
                 "launcher/release-image"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((REPO / name).read_text())
    major, minor, _ = release.parse_version(release.current_version(REPO))
    new = f"{major}.{minor + 1}.0"
    release.bump(tmp_path, new, TODAY)
    changelog = (tmp_path / "CHANGELOG.md").read_text()
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{new}] - 2026-05-04")
    assert release.changelog_section(changelog, new).strip()
    readme = (tmp_path / "README.md").read_text()
    shown = release.readme_versions(readme)
    assert new in shown
    # Before 1.0 the examples' major tag (`@v1`) is left alone, as README says.
    assert all(release.shown_version_agrees(v, new) for v in shown if "." in v or major)
    # Nothing but versions changed in README.
    before = (REPO / "README.md").read_text().splitlines()
    after = readme.splitlines()
    assert len(before) == len(after)


@pytest.mark.parametrize(("version", "message"), [
    ("0.1.0", "0.1.0 is not newer than the current version 0.1.0"),
    ("0.0.9", "is not newer"),
    ("1.2", "'1.2' is not a version of the form X.Y.Z"),
    ("v1.2.3", "is not a version"),
])
def test_bump_refuses_bad_versions(root: Path, version: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message):
        release.bump(root, version, TODAY)
    assert release.current_version(root) == "0.1.0"


def test_bump_refuses_an_empty_unreleased(root: Path) -> None:
    release.bump(root, "0.2.0", TODAY)
    with pytest.raises(release.ReleaseError, match="nothing under \\[Unreleased\\]"):
        release.bump(root, "0.3.0", TODAY)
    assert release.current_version(root) == "0.2.0"


def test_check_passes_a_prepared_release(root: Path) -> None:
    release.bump(root, "0.2.0", TODAY)
    plan = release.plan(root, "v0.2.0", ["v0.1.0"])
    assert plan.outputs() == (
        "version=0.2.0\n"
        "image-tags=ghcr.io/stackci/stackci:0.2.0,ghcr.io/stackci/stackci:0.2,"
        "ghcr.io/stackci/stackci:0\n"
        "git-tags=v0.2 v0\n")


def test_an_older_line_does_not_take_the_moving_tags_back(root: Path) -> None:
    release.bump(root, "0.2.1", TODAY)
    plan = release.plan(root, "v0.2.1", ["v0.2.0", "v0.3.0"])
    assert plan.image_tags == ["0.2.1", "0.2"]
    assert plan.git_tags == ["v0.2"]
    assert release.plan(root, "v0.2.1", ["v0.2.5"]).git_tags == []


@pytest.mark.parametrize(("tag", "message"), [
    ("v0.2.0", "tag v0.2.0 but src/stackci/__init__.py says 0.1.0"),
    ("0.1.0", "tag '0.1.0' is not of the form vX.Y.Z"),
    ("v0.1.0-rc1", "is not of the form"),
])
def test_check_stops_with_a_reason(root: Path, tag: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=message):
        release.plan(root, tag, [])


def test_check_wants_the_release_image_and_a_changelog_section(root: Path) -> None:
    (root / "launcher/release-image").write_text("ghcr.io/stackci/stackci:0.0.9\n")
    with pytest.raises(release.ReleaseError, match=r"launcher/release-image names .*0\.0\.9"):
        release.plan(root, "v0.1.0", [])
    (root / "launcher/release-image").write_text("ghcr.io/stackci/stackci:0.1.0\n")
    (root / "CHANGELOG.md").write_text(CHANGELOG.replace("## [0.1.0] - 2026-01-02", "## Old"))
    with pytest.raises(release.ReleaseError, match=r"no section for 0.1.0"):
        release.plan(root, "v0.1.0", [])


def test_the_command_line_reports_one_line() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "release.py"), "check",
                           "v99.0.0"], capture_output=True, text=True, check=False, cwd=REPO)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("release: tag v99.0.0 but src/stackci/__init__.py says ")
