"""The failures the top-level handler knows how to report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputError:
    name: str
    expected: str
    got: str | None = None
    # The environment variable the value came from, when the input itself was empty
    # (COMPOSE_FILE for compose-file): the message names what the user has to fix.
    via: str | None = None

    def message(self) -> str:
        got = "" if self.got is None else f", got {_shorten(self.got)!r}"
        where = f" (empty; {self.via} was used)" if self.via else ""
        return f"input '{self.name}'{where}: expected {self.expected}{got}"


class BadInputs(Exception):  # noqa: N818 - reads as what it is
    """One or more inputs are malformed: exit 2, nothing done."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__("; ".join(e.message() for e in errors))
        self.errors = errors


class ActionFailed(Exception):  # noqa: N818
    """The action's check failed (a service not ready, a gate closed): exit 1.

    `message` is plain text: it becomes an annotation as it is and is escaped where it
    enters the job summary, so a path or an API message in it cannot render as
    Markdown. `summary` is Markdown the action built itself, added below it."""

    def __init__(self, message: str, summary: str = "", annotated: bool = False) -> None:
        super().__init__(message)
        self.summary = summary
        # True when the action already wrote its own annotations (one per service, say).
        self.annotated = annotated


def _shorten(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"
