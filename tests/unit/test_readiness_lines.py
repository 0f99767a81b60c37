"""The `log` check's line splitting: bounded in memory however long a line is."""

from __future__ import annotations

from stackci.readiness.probes import MAX_LINE, _lines


def test_lines_across_chunk_boundaries() -> None:
    chunks = [b"one\ntw", b"o\n", b"", b"thr", b"ee\nfour"]
    assert list(_lines(iter(chunks))) == ["one", "two", "three", "four"]


def test_a_huge_line_without_newline_is_cheap_and_bounded() -> None:
    # 40 MB of a progress bar with no newline, then the line the check waits for.
    chunks = [b"x" * 65536] * 640 + [b"\rconsumer started\nnext\n"]
    lines = list(_lines(iter(chunks)))
    assert lines[0].endswith("\rconsumer started")
    assert len(lines[0]) <= MAX_LINE
    assert lines[1:] == ["next"]
