"""doctor: check and report what the StackCI actions need on this runner."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import docker.errors
import requests

from stackci import __version__
from stackci.core.engine import retry
from stackci.core.engine.compose import ComposeError, compose_binary, docker_client
from stackci.core.github import retry as github_retry
from stackci.core.runner.action import ActionRun
from stackci.core.runner.context import RunContext
from stackci.core.runner.errors import ActionFailed
from stackci.core.runner.inputs import InputReader
from stackci.core.text import markdown as md

FILE_COMMANDS = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_STATE",
                 "GITHUB_PATH")


@dataclass(frozen=True)
class Settings:
    github_token: str
    check_github: bool

    @classmethod
    def from_inputs(cls, inputs: InputReader, ctx: RunContext) -> Settings:
        return cls(
            github_token=inputs.secret("github-token"),
            check_github=inputs.boolean("check-github", default=True),
        )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


def check_docker(env: Mapping[str, str]) -> list[Check]:
    host = env.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return [Check("docker", False,
                      f"no Docker socket at {host.removeprefix('unix://')}: the actions need "
                      "the engine's socket (the launcher mounts /var/run/docker.sock; on a "
                      "laptop, start Docker or set DOCKER_HOST)")]
    try:
        client = docker_client()
        version = client.version()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        return [Check("docker", False, f"the engine at {host} does not answer: {exc}")]
    checks = [Check("docker", True, f"engine {version.get('Version')} (API "
                    f"{version.get('ApiVersion')}) at {host}")]
    try:
        out = retry.call_with(retry.DOCKER, _compose_version)
        checks.append(Check("compose", True, f"Docker Compose {out} ({compose_binary()})"))
    except (ComposeError, OSError) as exc:
        checks.append(Check("compose", False, str(exc)))
    return checks


def _compose_version() -> str:
    import subprocess  # noqa: PLC0415 - only doctor runs compose this way

    proc = subprocess.run([compose_binary(), "version", "--short"], capture_output=True,
                          text=True, check=False, timeout=30)
    if proc.returncode != 0:
        raise ComposeError(f"compose does not run: {proc.stderr.strip()}")
    return proc.stdout.strip()


def check_mounts(run: ActionRun) -> list[Check]:
    if not run.ctx.in_actions:
        return [Check("workspace", True, f"not in a workflow; working in {Path.cwd()}")]
    checks = []
    workspace = run.ctx.workspace
    writable = workspace.is_dir() and os.access(workspace, os.W_OK)
    checks.append(Check("workspace", writable,
                        f"{workspace} is {'mounted and writable' if writable else 'missing'}"))
    for var in FILE_COMMANDS:
        value = run.env.get(var)
        if not value:
            continue
        present = Path(value).parent.is_dir()
        checks.append(Check(var, present, f"{value} {'reachable' if present else 'not mounted'}"))
    return checks


def check_github(settings: Settings, run: ActionRun) -> list[Check]:
    api = run.ctx.api_url
    headers = {"Accept": "application/vnd.github+json", "User-Agent": "stackci"}
    if settings.github_token:
        headers["Authorization"] = f"token {settings.github_token}"
    try:
        resp = github_retry.call_with(github_retry.HTTP, requests.get, f"{api}/rate_limit",
                                      headers=headers, timeout=10)
    except requests.RequestException as exc:
        return [Check("github-api", False, f"{api} cannot be reached: {exc}")]
    if resp.status_code == 401:
        return [Check("github-api", False, f"{api} refused the token (401 Bad credentials)")]
    checks = [Check("github-api", resp.ok, f"{api} answered {resp.status_code}; rate limit "
                    f"{resp.headers.get('X-RateLimit-Remaining', '?')}/"
                    f"{resp.headers.get('X-RateLimit-Limit', '?')} left")]
    if settings.github_token and run.ctx.repository:
        repo = requests.get(f"{api}/repos/{run.ctx.repository}", headers=headers, timeout=10)
        perms = repo.json().get("permissions") if repo.ok else None
        scopes = repo.headers.get("X-OAuth-Scopes")
        detail = (f"permissions on {run.ctx.repository}: "
                  + (", ".join(k for k, v in sorted(perms.items()) if v) if perms else
                     f"not listed (HTTP {repo.status_code})")
                  + (f"; scopes: {scopes}" if scopes else ""))
        checks.append(Check("github-token", repo.ok, detail))
    return checks


def run(settings: Settings, run: ActionRun) -> None:
    wf = run.wf
    ctx = run.ctx
    checks = check_docker(run.ctx.env) + check_mounts(run)
    if settings.check_github and (ctx.in_actions or settings.github_token):
        checks += check_github(settings, run)
    header = [
        f"stackci {__version__}",
        f"workflow: {ctx.workflow or '-'}; job: {ctx.job or '-'}; event: {ctx.event_name or '-'}",
        f"repository: {ctx.repository or '-'}; branch: {ctx.branch or '-'}",
    ]
    report = "\n".join(header + [c.line() for c in checks])
    with wf.group("stackci doctor"):
        wf.log(report)
    healthy = all(c.ok for c in checks)
    wf.set_output("healthy", "true" if healthy else "false")
    wf.set_output("report", report)
    wf.set_output("checks", [c.__dict__ for c in checks])
    rows = [("✅" if c.ok else "❌", md.cell(c.name), md.cell(c.detail)) for c in checks]
    wf.summary.add("### StackCI doctor\n\n" + md.table(["", "check", "detail"], rows))
    failed = [c for c in checks if not c.ok]
    if failed:
        for check in failed:
            wf.error(check.detail, title=f"doctor: {check.name}")
        raise ActionFailed(f"{len(failed)} check(s) failed: "
                           + ", ".join(c.name for c in failed), annotated=True)
