"""label-gate's feature: the rules and the decision (`rules`), what the gate looked at
and its Markdown (`report`), both pure; reading a pull request's state (`pulls`, through
the GitHub session). Importing this package imports nothing of GitHub."""

from stackci.labels.report import (
    Outcome,
    PullInfo,
    Report,
    failure_message,
    outcome_of,
    render_comment,
    render_details,
    render_summary,
    when,
    without_pull,
)
from stackci.labels.rules import (
    RULES,
    PrLabel,
    PushTime,
    Rules,
    Verdict,
    evaluate,
    explain,
    glob_matches,
    judge_freshness,
    latest_push,
    matches_any,
    name_list,
    plain,
    split_labels,
)

__all__ = [
    "RULES", "Outcome", "PrLabel", "PullInfo", "PushTime", "Report", "Rules", "Verdict",
    "evaluate", "explain", "failure_message", "glob_matches", "judge_freshness",
    "latest_push", "matches_any", "name_list", "outcome_of", "plain", "render_comment",
    "render_details", "render_summary", "split_labels", "when", "without_pull",
]
