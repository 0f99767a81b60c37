"""Stand-in images under public names (tests/standins/<folder>: a Dockerfile and TAGS),
built once and cached by the folder's content: an image carries the hash of what it was
built from in a label, and is rebuilt only when that changes. An image of that name
without our label (a real one, pulled) is left as it is."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import docker
import docker.errors

from stackci_testing.runner import REPO

STANDINS = REPO / "tests" / "standins"
HASH_LABEL = "org.stackci.standin-hash"


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def tags_of(folder: Path) -> list[str]:
    return [t.strip() for t in (folder / "TAGS").read_text().splitlines() if t.strip()]


def folder_for(image: str) -> Path:
    for folder in sorted(STANDINS.iterdir()):
        if (folder / "TAGS").is_file() and image in tags_of(folder):
            return folder
    raise LookupError(f"no stand-in for {image} under {STANDINS}")


def ensure(client: docker.DockerClient, images: list[str]) -> None:
    """Make each of `images` exist: a real one is kept, a stand-in built or reused."""
    for folder in dict.fromkeys(folder_for(image) for image in images):
        wanted = content_hash(folder)
        # Only names that are missing or a stale build of ours get the new build: a real
        # image under another of the folder's names (a pulled postgres:15) stays.
        stale = [tag for tag in tags_of(folder) if not _current(client, tag, wanted)]
        if not stale:
            continue
        build = f"stackci-standin/{folder.name}:{wanted}"
        proc = subprocess.run(
            ["docker", "build", "--network", "host", "--label", f"{HASH_LABEL}={wanted}",
             "--label", "org.stackci.standin=true", "--tag", build, str(folder)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"building the stand-in {folder.name} failed:\n"
                               f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        image = client.images.get(build)
        for tag in stale:
            repository, _, version = tag.rpartition(":")
            image.tag(repository, version)


def _current(client: docker.DockerClient, tag: str, wanted: str) -> bool:
    """The image is there and is either real (not ours) or our build of this content."""
    try:
        labels = client.images.get(tag).labels or {}
    except docker.errors.ImageNotFound:
        return False
    return labels.get(HASH_LABEL, wanted) == wanted
