"""failure-issue: the run as an issue tells it (model), its rendering, and the issues
it keeps on GitHub (tracker)."""
