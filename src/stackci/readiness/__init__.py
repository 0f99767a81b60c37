"""Readiness for compose-up-and-wait: what ready means (spec), the project as Compose
resolves it (stack), the checks (probes), the watcher, and the report."""
