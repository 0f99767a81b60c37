"""Container logs, streamed from the engine straight into a file.

docker-py's own log stream reads every log line with two small reads through urllib3's
chunked-transfer decoder (the engine sends one HTTP chunk per line), which costs more
than the engine itself on large logs. Here the response is read in 64 KiB blocks and the
two layers, HTTP chunks and the engine's stdout/stderr frames, are taken apart in one
pass: memory is one block, however large the log."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import docker

BLOCK = 1 << 16
# How many lines of a failing service's log the job log shows (the whole log is a file);
# the same number compose-up-and-wait shows on failure.
PRINT_TAIL_LINES = 100
# ... and at most this much of its end, so one endless line cannot flood the job log.
PRINT_TAIL_BYTES = 64 * 1024
_FRAME_HEADER = struct.Struct(">BxxxL")  # stream (1 stdout, 2 stderr), 3 unused, length


class Sink(Protocol):
    def write(self, data: bytes, /) -> Any: ...


def stream_logs(client: docker.DockerClient, container_id: str, sink: Sink, *,
                timestamps: bool = True, tail: int | None = None,
                since: float | None = None, tty: bool = False) -> int:
    """Write the container's stdout and stderr, interleaved in the order the engine
    recorded them, to `sink`; return the number of bytes written. Raises
    docker.errors.NotFound when the container is gone, APIError when its log driver
    cannot be read back."""
    api = client.api
    params: dict[str, Any] = {
        "stdout": 1, "stderr": 1, "follow": 0, "timestamps": int(timestamps),
        "tail": "all" if tail is None else str(tail),
    }
    if since is not None:
        params["since"] = f"{since:.9f}"
    response = api._get(api._url("/containers/{0}/logs", container_id), params=params,
                        stream=True)
    try:
        api._raise_for_status(response)
        # As docker-py does for its own streams: a quiet stretch is not an error.
        api._disable_socket_timeout(api._get_raw_response_socket(response))
        written = 0
        # A TTY container's output is one raw stream; otherwise it comes in frames.
        for data in _response_payloads(response, framed=not tty):
            sink.write(data)
            written += len(data)
        return written
    finally:
        response.close()


def _response_payloads(response: Any, framed: bool) -> Iterator[bytes]:
    raw = response.raw._fp  # http.client.HTTPResponse, as docker-py itself uses it
    reader = raw.fp
    if reader is None:
        return
    if getattr(raw, "chunked", False):
        yield from _chunked_payloads(reader, framed)
        return
    frames = _Frames()
    while block := reader.read1(BLOCK):
        yield b"".join(frames.feed(block)) if framed else block


class _Frames:
    """Takes the engine's stdout/stderr frames apart, whatever pieces they come in."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._rest + data if self._rest else data
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while end - pos >= 8:
            _, size = _FRAME_HEADER.unpack_from(buf, pos)
            if end - pos - 8 < size:
                break
            out.append(buf[pos + 8:pos + 8 + size])
            pos += 8 + size
        self._rest = buf[pos:]
        return out

    @property
    def carrying(self) -> bool:
        return bool(self._rest)


def _chunked_payloads(reader: Any, framed: bool) -> Iterator[bytes]:
    """Undo chunked transfer encoding and, when `framed`, the frames inside, in one
    pass. The engine sends one HTTP chunk per frame, so the fast path is a chunk that
    holds exactly one whole frame; anything else goes through `_Frames`."""
    unpack = _FRAME_HEADER.unpack_from
    frames = _Frames()
    carrying = False  # `frames` holds part of a frame
    buf = b""
    while block := reader.read1(BLOCK):
        buf = buf + block if buf else block
        out: list[bytes] = []
        pos, end = 0, len(buf)
        while (eol := buf.find(b"\r\n", pos)) >= 0:
            try:
                size = int(buf[pos:eol], 16)
            except ValueError:  # a chunk extension (`1f;name=value`), never seen in practice
                size = int(buf[pos:eol].split(b";", 1)[0], 16)
            start, stop = eol + 2, eol + 2 + size
            if stop + 2 > end:
                break  # the rest of this chunk (or its CRLF) is in the next block
            if size == 0:  # the last chunk
                if out:
                    yield b"".join(out)
                return
            if not framed:
                out.append(buf[start:stop])
            elif not carrying and size >= 8 and unpack(buf, start)[1] == size - 8:
                out.append(buf[start + 8:stop])
            else:
                out += frames.feed(buf[start:stop])
                carrying = frames.carrying
            pos = stop + 2
        buf = buf[pos:]
        if out:
            yield b"".join(out)


def tail_lines(path: Path, lines: int = PRINT_TAIL_LINES,
               max_bytes: int = PRINT_TAIL_BYTES) -> list[str]:
    """The last `lines` lines of a file, reading at most `max_bytes` from its end."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            start = max(0, size - max_bytes)
            handle.seek(start)
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    found = text.splitlines()
    if start > 0 and found:
        found = found[1:]  # the first line is probably cut
    return found[-lines:] if lines else []
