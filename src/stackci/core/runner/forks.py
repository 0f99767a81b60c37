"""What a workflow run from a fork may do, and what to do about it: plain text shared by
every action that writes to GitHub and by the reports that show what it would have
written (so they agree, and `report/` needs nothing of GitHub to say it)."""

from __future__ import annotations

FORK_COMMENT_ADVICE = (
    "A `pull_request` run from a fork gets a read-only token. To publish comments on fork "
    "PRs safely, upload what the comment needs as an artifact and post it from a separate "
    "workflow triggered by `workflow_run` (it gets a write token and runs none of the PR's "
    "code); never use `pull_request_target` with a checkout of the PR's code."
)
