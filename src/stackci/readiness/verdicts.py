"""The words of the wait: why a service is ready, why it failed, why it is not ready
yet. Pure functions of the state; the machine decides, this module only says it."""

from __future__ import annotations

from stackci.readiness.spec import AUTO, Check
from stackci.readiness.state import HEALTHCHECK, ContainerWatch, ServiceWatch


def seconds(value: float) -> str:
    value = max(value, 0.0)
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def check_subject(check: Check) -> str:
    if check.kind == "exec":
        return f"`{check.target}`"
    if check.kind == "tcp" and ":" not in check.target:
        return f"port {check.target}"
    return check.target


def state_text(container: ContainerWatch) -> str:
    if container.running:
        return "running"
    if container.exit_code is not None:
        return f"exited with code {container.exit_code}"
    return "created"


def pending_log(service: ServiceWatch, container: ContainerWatch) -> str:
    """The pattern of the first `log` check this container has not passed, or ""."""
    for index, check in enumerate(service.checks):
        if check.kind == "log" and index not in container.passed:
            return check.target
    return ""


def ready_only_by_running(service: ServiceWatch) -> bool:
    """Whether nothing but a running container tells that the service is ready: every
    check is `running`, or the default rule for a container without a healthcheck."""
    return all(c.kind == "running" or (c.kind == AUTO and not any(
        w.has_health for w in service.containers.values())) for c in service.checks)


def exit_reason(service: ServiceWatch, container: ContainerWatch, lived: float) -> str | None:
    """Why the end of the container's last run fails the service, or None when it may
    count as ready (a one-shot that completed). `lived`: how long that run lasted."""
    ran = f"after running {seconds(lived)}"
    code = container.exit_code
    if container.oom and code in (137, -1, None):
        return f"was killed for running out of memory {ran}"
    if container.oom:
        # The kernel killed a process in it, not the container's own.
        return f"exited with code {code} {ran}; a process in it was killed for running " \
            "out of memory"
    if code != 0:
        return f"exited with code {code} {ran}"
    if any(c.needs_running or (c.kind == AUTO and container.has_health)
           for c in service.checks):
        return f"exited with code 0 {ran}, but it has to keep running"
    pattern = pending_log(service, container)
    if container.log_ended and pattern:
        return f"exited with code 0 {ran} before /{pattern}/ appeared in its log"
    return None


def ready_detail(service: ServiceWatch) -> str:
    """What made the service ready, one part per check: "healthy", "running", ..."""
    parts = []
    first = service.ordered_containers()[0]
    for index, check in enumerate(service.checks):
        if check.kind == AUTO and not first.has_health:
            parts.append("running" if first.running else "completed (exit 0)")
        elif check.kind in ("healthy", AUTO):
            # Known from the healthcheck that StackCI ran, before the engine said so.
            early = any(c.health != "healthy" for c in service.containers.values())
            parts.append("healthcheck passed" if early else "healthy")
        elif check.kind == "running":
            parts.append(check.kind)
        elif check.kind == "completed":
            parts.append("completed (exit 0)")
        else:
            progress = [p for (_, i), p in service.progress.items() if i == index]
            detail = progress[-1].detail if progress else "passed"
            parts.append(f"{check_subject(check)} {detail}")
    return ", ".join(parts)


def pending_reason(service: ServiceWatch, *, now: float, started: float,
                   starting: str, settle: float) -> str:
    """Why `service` is not ready yet, in the words of its first pending check.
    `started`: when the wait began; `starting`: the Compose command still starting the
    stack (`docker compose up`, or `create` in the staged start), "" once it ended;
    `settle`: how long a service ready only by running has to run."""
    up_done = not starting
    containers = service.ordered_containers()
    begin = service.first_start if service.own_timeout and service.first_start else started
    waited = seconds(now - begin)
    running = [c.started_at or started for c in containers if c.running]
    if running and service.is_ready() and ready_only_by_running(service):
        reason = (f"had run only {seconds(now - max(running))} when the wait ended; ready "
                  f"only by running, it has to keep running {seconds(settle)}")
        return reason + (f"; earlier it {service.problem}" if service.problem else "")
    if not containers:
        still = f" ({starting} is still running)" if starting else ""
        return f"no container was started within {waited}{still}"
    if len(containers) < service.plan.replicas:
        return (f"only {len(containers)} of {service.plan.replicas} containers were "
                f"started within {waited}")
    reason = ""
    for index, check in enumerate(service.checks):
        reason = _check_pending(service, containers, index, check, now=now, waited=waited,
                                up_done=up_done)
        if reason:
            break
    if service.problem and reason:
        reason += f"; earlier it {service.problem}"
    return reason or f"not ready after {waited}"


def _check_pending(service: ServiceWatch, containers: list[ContainerWatch], index: int,
                   check: Check, *, now: float, waited: str, up_done: bool) -> str:
    pending = [c for c in containers if not c.passes(check, index)]
    if check.per_container and not pending:
        return ""
    if not check.per_container and index in service.passed:
        return ""
    first = pending[0] if pending else containers[0]
    kind = check.kind
    if kind == AUTO:
        kind = "healthy" if first.has_health else "running"
    if kind == "healthy" and first.starts:
        ran = service.progress.get((first.id, HEALTHCHECK))
        said = f"; its healthcheck, run by StackCI, {ran.detail}" if ran else ""
        return f"not healthy after {waited} (health: {first.health or 'none'}{said})"
    if kind in ("healthy", "running"):
        state = state_text(first)
        if state == "created" and not up_done and service.plan.depends_on:
            state += ", not started yet: it waits for " + ", ".join(service.plan.depends_on)
        elif state == "created":
            state += ", never started"
        return f"not {kind} after {waited} ({state})"
    if kind == "completed":
        return f"had not exited after {waited}; it has to complete with exit code 0"
    progress = service.progress.get((first.id if check.per_container else "", index))
    if kind == "log":
        return f"/{check.target}/ did not appear in its log within {waited}"
    if progress is None and index in (first.probes if check.per_container else service.probes):
        # Its probe runs, but no attempt has ended yet.
        if kind == "exec":
            return f"{check_subject(check)} did not finish its first attempt within {waited}"
        return f"{check_subject(check)} did not answer its first attempt within {waited}"
    if progress is None:
        return f"{check_subject(check)} was never checked within {waited}"
    return f"{check_subject(check)} {progress.detail} for {seconds(now - progress.since)}"
