"""`docker compose up`, running while the wait watches: how it ends is read in a
thread of its own, and the one routine that stops it lives here."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable

from stackci.readiness.machine import UpDone

# How long `up` gets to end after a terminate (then a kill) when the wait stops it.
UP_STOP_GRACE = 5.0


class ComposeUp:
    """`command`: what `proc` runs (`up`, or `create` in the staged start), for what
    is said about it."""

    def __init__(self, proc: subprocess.Popen[str], command: str = "up") -> None:
        self.proc = proc
        self.command = command
        self.ended: UpDone | None = None  # as the reading thread saw it end
        self._reader: threading.Thread | None = None

    def watch(self, on_end: Callable[[UpDone], None]) -> None:
        """Read `up`'s output until it ends, then hand how it ended to `on_end`."""
        def read() -> None:
            out, _ = self.proc.communicate()
            self.ended = UpDone(self.proc.returncode, out or "", time.time())
            on_end(self.ended)

        self._reader = threading.Thread(target=read, daemon=True, name="up")
        self._reader.start()

    def stop(self, say: Callable[[str], None]) -> bool:
        """Stop `up` if it is still running, and wait until its end is read; True when
        it had to be stopped."""
        stopped = self.proc.poll() is None
        if stopped:
            say(f"stopping docker compose {self.command}, which was still running")
            self.proc.terminate()
        if self._reader is None:  # the watch broke off before it began
            self.watch(lambda _: None)
        assert self._reader is not None
        self._reader.join(UP_STOP_GRACE)
        if self._reader.is_alive():
            self.proc.kill()
            self._reader.join(UP_STOP_GRACE)
        return stopped
