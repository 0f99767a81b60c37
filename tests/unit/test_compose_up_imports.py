"""compose-up-and-wait starts `docker compose up` before it imports docker-py and
requests (about 0.1 s), so that import overlaps with Compose's own start: nothing on
the way to `up` may pull them in again."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("docker", "requests", "urllib3", "stackci.readiness.watcher")


def test_nothing_before_compose_up_imports_docker_py() -> None:
    code = (
        "import sys, stackci.cli, stackci.actions.compose_up_and_wait as action\n"
        "from stackci.readiness import stack\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == ""
