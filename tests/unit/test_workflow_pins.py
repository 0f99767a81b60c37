"""Every third-party action the repository's own workflows use is pinned by a full
commit SHA, with a comment naming its version (zizmor offline cannot tell a SHA from a
tag). Local actions (`./...`) and StackCI's own (`stackci/stackci...`, pinned by
release tag in the reusable workflow, as users are told to) are exempt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


def uses_of(spec: object) -> list[str]:
    """Every `uses:` value anywhere in a parsed workflow (jobs and their steps)."""
    found: list[str] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "uses" and isinstance(value, str):
                found.append(value)
            else:
                found += uses_of(value)
    elif isinstance(spec, list):
        for item in spec:
            found += uses_of(item)
    return found


def third_party(ref: str) -> bool:
    return not (ref.startswith(("./", "docker://")) or ref.startswith("stackci/stackci"))


def test_there_are_workflows() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "release.yml", "smoke.yml"} <= names


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_sha(path: Path) -> None:
    refs = [ref for ref in uses_of(yaml.safe_load(path.read_text())) if third_party(ref)]
    unpinned = [ref for ref in refs if not PINNED.match(ref)]
    assert not unpinned, f"{path.name}: pin these by full commit SHA: {unpinned}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_pin_says_its_version(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = USES_LINE.match(line)
        if match and third_party(match.group(1)):
            assert re.fullmatch(r"\s*# v\d+(\.\d+)*\s*", match.group(2)), \
                f"{path.name}: {line.strip()!r} needs a '# vX.Y.Z' comment"


@pytest.mark.parametrize(("ref", "ok"), [
    ("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", True),
    ("docker/build-push-action@v6", False),
    ("actions/checkout@11bd719", False),
    ("github/codeql-action/init@" + "a" * 40, True),
    ("owner/repo@main", False),
])
def test_what_counts_as_pinned(ref: str, ok: bool) -> None:
    assert bool(PINNED.match(ref)) is ok
    assert third_party(ref)


def test_own_and_local_actions_are_exempt() -> None:
    assert not third_party("./actions/collect-logs")
    assert not third_party("stackci/stackci/actions/collect-logs@v1")


@pytest.mark.parametrize("name", ["release.yml", "smoke.yml"])
def test_each_job_has_its_own_permissions_and_a_timeout(name: str) -> None:
    spec = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
    assert spec["permissions"] == {}  # nothing by default: each job says what it needs
    for job_id, job in spec["jobs"].items():
        assert "permissions" in job, f"{name}: job {job_id} has no permissions"
        assert isinstance(job.get("timeout-minutes"), int), f"{name}: {job_id} has no timeout"


@pytest.mark.parametrize("name", ["release.yml", "smoke.yml"])
def test_no_expression_is_expanded_inside_run(name: str) -> None:
    spec = yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())
    for job_id, job in spec["jobs"].items():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), \
                f"{name}: {job_id}: pass values to run: through env:, {step}"


def test_only_the_publishing_and_attesting_jobs_may_mint_an_oidc_token() -> None:
    spec = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    minting = {job_id for job_id, job in spec["jobs"].items()
               if job["permissions"].get("id-token") == "write"}
    # PyPI's trusted publishing, and Sigstore's signature of the build attestation.
    assert minting == {"pypi", "attest"}
    assert spec["jobs"]["pypi"]["permissions"] == {"id-token": "write"}
