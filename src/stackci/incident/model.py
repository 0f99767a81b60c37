"""The key of the issue failure-issue keeps, and the markers it finds its writing by
(the run itself is `core.github.run_facts.RunFacts`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from stackci.core.github.run_facts import PLACEHOLDERS
from stackci.core.github.sticky import hidden_marker

__all__ = ["PLACEHOLDERS", "IssueKey", "run_marker"]

NAMESPACE = "failure-issue"
RUN_NAMESPACE = "failure-issue-run"


@dataclass(frozen=True)
class IssueKey:
    """One issue per repository, workflow and branch (and failed job, by job)."""

    repository: str
    workflow: str
    branch: str
    job: str = ""

    @property
    def marker(self) -> str:
        parts = [self.repository, self.workflow, self.branch] + ([self.job] if self.job else [])
        return hidden_marker(NAMESPACE, "|".join(parts))

    def job_of(self, marker: str) -> str | None:
        """The job of a marker of this key's workflow and branch ("" for the whole
        workflow's); None for any other marker."""
        base = IssueKey(self.repository, self.workflow, self.branch).marker
        if marker == base:
            return ""
        head = base.removesuffix(" -->") + quote("|")
        if not (marker.startswith(head) and marker.endswith(" -->")):
            return None
        return unquote(marker[len(head):].removesuffix(" -->"))


def run_marker(run_id: int | str) -> str:
    """Marks what one run wrote (the issue body's run line, or its comment): a re-run
    attempt finds it and edits it instead of writing again."""
    return hidden_marker(RUN_NAMESPACE, str(run_id))
