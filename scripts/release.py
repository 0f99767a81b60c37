"""Prepare and check a StackCI release.

    python scripts/release.py X.Y.Z          set the version everywhere it is shown:
                                             src/stackci/__init__.py (its one place),
                                             launcher/release-image, README's examples,
                                             and CHANGELOG.md's [Unreleased] moved under
                                             [X.Y.Z] with today's date
    python scripts/release.py check vX.Y.Z   what .github/workflows/release.yml runs first:
                                             tag, version, release image and CHANGELOG
                                             agree; prints name=value lines (for
                                             $GITHUB_OUTPUT), or one line saying why not
    python scripts/release.py notes X.Y.Z    prints CHANGELOG.md's section for X.Y.Z

Dependabot cannot bump the image reference (dependabot-core#6892): this script owns it.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "ghcr.io/stackci/stackci"
REPOSITORY_URL = "https://github.com/stackci/stackci"
VERSION_FILE = Path("src/stackci/__init__.py")
RELEASE_IMAGE_FILE = Path("launcher/release-image")

_SEMVER = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_VERSION_LINE = re.compile(r'^__version__ = "([^"]*)"$', re.M)
# What README may show of a version: the image, a `uses:` of StackCI at a tag, the PyPI pin.
_README_IMAGE = re.compile(rf"{re.escape(IMAGE)}:(\d+\.\d+\.\d+)\b")
_README_USES = re.compile(r"(stackci/stackci(?:/[\w.\-/]*)?@v)(\d+(?:\.\d+){0,2})(?![\w.])")
_README_PIP = re.compile(r"(stackci==)(\d+\.\d+\.\d+)\b")
_SECTION = re.compile(r"^## \[([^\]]+)\].*$", re.M)
_SUBSECTION = re.compile(r"^### .*$", re.M)
UNRELEASED_TEMPLATE = "## [Unreleased]\n\n### Added\n\n### Changed\n\n"


class ReleaseError(Exception):
    """A release step that cannot be done; the message is one line."""


def parse_version(text: str) -> tuple[int, int, int]:
    match = _SEMVER.fullmatch(text)
    if not match:
        raise ReleaseError(f"{text!r} is not a version of the form X.Y.Z")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def current_version(root: Path) -> str:
    match = _VERSION_LINE.search((root / VERSION_FILE).read_text())
    if not match:
        raise ReleaseError(f"{VERSION_FILE} has no __version__ line")
    return match.group(1)


def release_image(root: Path) -> str:
    return (root / RELEASE_IMAGE_FILE).read_text().strip()


def readme_versions(text: str) -> list[str]:
    """Every version README shows for StackCI, as written (`1`, `1.2` or `1.2.3`)."""
    found = [m.group(1) for m in _README_IMAGE.finditer(text)]
    found += [m.group(2) for m in _README_USES.finditer(text)]
    found += [m.group(2) for m in _README_PIP.finditer(text)]
    return found


def shown_version_agrees(shown: str, version: str) -> bool:
    """`1`, `1.2` and `1.2.3` agree with 1.2.3: a major or minor tag, or the version."""
    return version == shown or version.startswith(f"{shown}.")


def set_readme_versions(text: str, version: str) -> str:
    major, minor, _ = parse_version(version)

    def uses(match: re.Match[str]) -> str:
        parts = match.group(2).count(".")
        if parts == 0 and major == 0:
            # Before 1.0 README's examples name the v1 line ahead of time (it says so).
            return match.group(0)
        shown = (str(major), f"{major}.{minor}", version)[parts]
        return f"{match.group(1)}{shown}"

    text = _README_IMAGE.sub(f"{IMAGE}:{version}", text)
    text = _README_USES.sub(uses, text)
    return _README_PIP.sub(rf"\g<1>{version}", text)


def _sections(text: str) -> list[tuple[str, int, int]]:
    """CHANGELOG's `## [name]` sections: name, start of heading, end of section."""
    heads = list(_SECTION.finditer(text))
    ends = [h.start() for h in heads[1:]]
    # The last section ends where the link references begin (or at the end).
    links = re.search(r"^\[[^\]]+\]: ", text, re.M)
    last_end = links.start() if links and heads and links.start() > heads[-1].start() \
        else len(text)
    ends.append(last_end)
    return [(h.group(1), h.start(), end) for h, end in zip(heads, ends, strict=True)]


def _drop_empty_subsections(body: str) -> str:
    parts = _SUBSECTION.split(body)
    heads = _SUBSECTION.findall(body)
    kept = [parts[0].strip("\n")]
    for head, content in zip(heads, parts[1:], strict=True):
        if content.strip():
            kept.append(f"{head}\n{content.strip(chr(10))}")
    return "\n\n".join(part for part in kept if part)


def changelog_section(text: str, version: str) -> str:
    """The body of the `## [version]` section (without its heading)."""
    for name, start, end in _sections(text):
        if name == version:
            body = text[start:end].split("\n", 1)[1] if "\n" in text[start:end] else ""
            return _drop_empty_subsections(body).strip() + "\n"
    raise ReleaseError(f"CHANGELOG.md has no section for {version} ('## [{version}]')")


def move_unreleased(text: str, version: str, today: dt.date) -> str:
    sections = _sections(text)
    names = [name for name, _, _ in sections]
    if version in names:
        raise ReleaseError(f"CHANGELOG.md already has a section for {version}")
    if "Unreleased" not in names:
        raise ReleaseError("CHANGELOG.md has no '## [Unreleased]' section to release")
    _, start, end = sections[names.index("Unreleased")]
    body = _drop_empty_subsections(text[start:end].split("\n", 1)[1])
    if not body.strip():
        raise ReleaseError("CHANGELOG.md: nothing under [Unreleased] to release")
    released = f"## [{version}] - {today.isoformat()}\n\n{body}\n\n"
    text = text[:start] + UNRELEASED_TEMPLATE + released + text[end:]
    return _move_links(text, version, names)


def _move_links(text: str, version: str, names: list[str]) -> str:
    """Keep a Changelog's link references: [Unreleased] compares from the new tag."""
    earlier = [n for n in names if _SEMVER.fullmatch(n)]
    new_link = (f"[{version}]: {REPOSITORY_URL}/compare/v{earlier[0]}...v{version}"
                if earlier else f"[{version}]: {REPOSITORY_URL}/releases/tag/v{version}")
    unreleased = f"[Unreleased]: {REPOSITORY_URL}/compare/v{version}...HEAD"
    pattern = re.compile(r"^\[Unreleased\]: .*$", re.M)
    if pattern.search(text):
        return pattern.sub(lambda _: f"{unreleased}\n{new_link}", text, count=1)
    return text.rstrip("\n") + f"\n\n{unreleased}\n{new_link}\n"


def bump(root: Path, version: str, today: dt.date) -> list[Path]:
    """Set `version` everywhere it is shown; the files written, relative to root."""
    new = parse_version(version)
    old = current_version(root)
    if new <= parse_version(old):
        raise ReleaseError(f"{version} is not newer than the current version {old}")
    changelog = move_unreleased((root / "CHANGELOG.md").read_text(), version, today)
    init = (root / VERSION_FILE).read_text()
    edits = {
        VERSION_FILE: _VERSION_LINE.sub(f'__version__ = "{version}"', init, count=1),
        RELEASE_IMAGE_FILE: f"{IMAGE}:{version}\n",
        Path("README.md"): set_readme_versions((root / "README.md").read_text(), version),
        Path("CHANGELOG.md"): changelog,
    }
    for path, text in edits.items():
        (root / path).write_text(text)
    return list(edits)


@dataclass(frozen=True)
class Plan:
    """What a release of one tag publishes."""

    version: str
    image_tags: list[str]
    git_tags: list[str]

    def outputs(self) -> str:
        return "\n".join([
            f"version={self.version}",
            f"image-tags={','.join(f'{IMAGE}:{tag}' for tag in self.image_tags)}",
            f"git-tags={' '.join(self.git_tags)}",
        ]) + "\n"


def plan(root: Path, tag: str, existing_tags: list[str]) -> Plan:
    """Check that a release of `tag` may go ahead: the ReleaseError says why not.

    The moving tags (X.Y and X, image and git) move only when no later release of that
    line exists, so a patch release of an older line never takes them backwards."""
    if not re.fullmatch(r"v\d+\.\d+\.\d+", tag):
        raise ReleaseError(f"tag {tag!r} is not of the form vX.Y.Z")
    version = tag[1:]
    major, minor, _ = parse_version(version)
    package = current_version(root)
    if package != version:
        raise ReleaseError(f"tag {tag} but {VERSION_FILE} says {package} "
                           f"(run scripts/release.py {version} and tag that commit)")
    image = release_image(root)
    if image != f"{IMAGE}:{version}":
        raise ReleaseError(f"tag {tag} but {RELEASE_IMAGE_FILE} names {image}")
    changelog_section((root / "CHANGELOG.md").read_text(), version)
    others = [parse_version(t[1:]) for t in existing_tags
              if re.fullmatch(r"v\d+\.\d+\.\d+", t) and t != tag]
    mine = parse_version(version)
    image_tags, git_tags = [version], []
    if not [o for o in others if o[:2] == (major, minor) and o > mine]:
        image_tags.append(f"{major}.{minor}")
        git_tags.append(f"v{major}.{minor}")
    if not [o for o in others if o[0] == major and o > mine]:
        image_tags.append(str(major))
        git_tags.append(f"v{major}")
    return Plan(version, image_tags, git_tags)


def _git_tags(root: Path) -> list[str]:
    out = subprocess.run(["git", "tag", "--list", "v*"], cwd=root, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 2 and argv[0] == "check":
            sys.stdout.write(plan(ROOT, argv[1], _git_tags(ROOT)).outputs())
        elif len(argv) == 2 and argv[0] == "notes":
            sys.stdout.write(changelog_section((ROOT / "CHANGELOG.md").read_text(), argv[1]))
        elif len(argv) == 1 and not argv[0].startswith("-"):
            for path in bump(ROOT, argv[0], dt.date.today()):
                print(f"release: wrote {path}")
            print(f"release: now commit, then tag v{argv[0]} and push the tag")
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
