"""pr-comment's report (the comment and the job summary), assembled from what the run
produced: the user's Markdown, the jobs' results, the JUnit and Cobertura files its
patterns find, and the verdict on them. The files that could not be used, and the
patterns that found none, come back as problems for the action to warn about, the
failed tests for their annotations (this package writes no workflow commands)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from stackci.core.runner.context import RunContext
from stackci.core.runner.jobs import Allowances, JobResult
from stackci.report.comment import CommentData, Footer, Unmatched, judge, render_comment
from stackci.report.coverage import read_coverage
from stackci.report.files import expand_globs
from stackci.report.junit import Failure, read_junit
from stackci.report.needs import NO_ALLOWANCES, Verdict


@dataclass(frozen=True)
class Problem:
    section: str  # "junit" or "coverage"
    message: str  # plain text, one line


@dataclass(frozen=True)
class Assembled:
    text: str  # the comment's full Markdown, before fitting under GitHub's limit
    problems: tuple[Problem, ...] = ()
    verdict: Verdict | None = None  # None: neither jobs nor tests to judge
    failures: tuple[Failure, ...] = ()  # the failed tests, for their annotations


def assemble(body: str | None, jobs: tuple[JobResult, ...] | None, *, junit: tuple[str, ...],
             coverage: tuple[str, ...], workspace: Path, footer: Footer,
             allowances: Allowances = NO_ALLOWANCES, for_pull: bool = True) -> Assembled:
    """Read the result files `junit` and `coverage` (globs, relative to `workspace`),
    judge the jobs and tests, and render the report."""
    data = CommentData(body=body, jobs=jobs, footer=footer, allowances=allowances,
                       for_pull=for_pull)
    problems: list[Problem] = []
    unmatched = Unmatched()
    if junit:
        found = expand_globs(junit, workspace)
        tests = read_junit(found.paths, workspace)
        unmatched = Unmatched(junit=found.unmatched)
        problems += [Problem("junit", f"{name} is not usable JUnit XML: {why}")
                     for name, why in tests.unreadable]
        data = replace(data, tests=tests)
    if coverage:
        found = expand_globs(coverage, workspace)
        cov = read_coverage(found.paths, workspace)
        unmatched = Unmatched(unmatched.junit, found.unmatched)
        problems += [Problem("coverage", f"{name} is not usable Cobertura XML: {why}")
                     for name, why in cov.unreadable]
        data = replace(data, coverage=cov)
    for section, patterns in (("junit", unmatched.junit), ("coverage", unmatched.coverage)):
        problems += [Problem(section, f"no file matched {pattern!r} (relative to {workspace})")
                     for pattern in patterns]
    data = replace(data, unmatched=unmatched)
    failures = data.tests.failures if data.tests is not None else ()
    return Assembled(render_comment(data), tuple(problems), judge(data), failures)


def footer_of(ctx: RunContext) -> Footer:
    """The run that wrote the comment, and the commit it judged: a PR run's GITHUB_SHA
    is the merge commit, so the PR's head is taken from the event when it has one."""
    head = (ctx.event.get("pull_request") or {}).get("head") or {}
    sha = str(head.get("sha") or ctx.sha)
    return Footer(ctx.run_url, ctx.run_number, ctx.workflow, sha)
