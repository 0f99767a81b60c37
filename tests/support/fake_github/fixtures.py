"""The `fake_github` pytest fixture (loaded through `pytest_plugins` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fake_github.server import FakeGitHub
from fake_github.state import GitHubState

REPO = "octo/app"
BOT = "stackci-bot"
FORK_USER = "fork-user"
WRITER_TOKEN = "ghs_writer"
READONLY_TOKEN = "ghs_readonly"


def seed_defaults(state: GitHubState) -> None:
    """One repo, a bot with a write token (like a GITHUB_TOKEN), and a fork contributor
    whose token is read-only (like the GITHUB_TOKEN of a `pull_request` run from a fork)."""
    state.add_repo(REPO)
    state.add_user(BOT, "Bot")
    state.add_token(WRITER_TOKEN, BOT, "write")
    state.add_token(READONLY_TOKEN, FORK_USER, "read")


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        seed_defaults(server.state)
        yield server
    # A 500 from the fake is a bug in the fake, not a behaviour under test.
    assert not server.errors, "fake_github crashed:\n" + "\n".join(server.errors)
