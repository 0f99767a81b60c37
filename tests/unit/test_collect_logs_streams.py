"""collect-logs' stream handling without an engine: the log stream decoder (HTTP chunks
and the engine's stdout/stderr frames, cut anywhere), line-wise redaction of streams
(a secret cut in two is still caught), inspect redaction, and reading a log's tail."""

from __future__ import annotations

import io
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from stackci.core.engine.logs import _chunked_payloads, _Frames, tail_lines
from stackci.core.files.folder import OutputFolder
from stackci.core.text.redact import LineRedactor, Secrets, redact_env, redact_inspect


class Reads:
    """A reader whose read1() hands out the data in the given piece sizes."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = io.BytesIO(data)
        self._sizes = sizes

    def read1(self, limit: int) -> bytes:
        size = self._sizes.pop(0) if self._sizes else limit
        return self._data.read(min(size, limit))


def frame(payload: bytes, stream: int = 1) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, pos = [], 0
    for size in sizes:
        piece = body[pos:pos + size]
        if piece:
            out.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
        pos += size
    if pos < len(body):
        out.append(b"%x\r\n" % (len(body) - pos) + body[pos:] + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


LINES = [f"line {i} {'x' * (i % 37)}\n".encode() for i in range(300)]


def test_one_frame_per_chunk_as_the_engine_sends_them() -> None:
    body = b"".join(b"%x\r\n" % len(frame(p)) + frame(p) + b"\r\n" for p in LINES) + b"0\r\n\r\n"
    out = b"".join(_chunked_payloads(Reads(body, []), framed=True))
    assert out == b"".join(LINES)


@pytest.mark.parametrize("seed", range(40))
def test_frames_and_chunks_cut_anywhere(seed: int) -> None:
    rng = random.Random(seed)
    frames = b"".join(frame(p, rng.choice([1, 2])) for p in LINES)
    body = chunked(frames, [rng.randint(1, 300) for _ in range(len(frames))])
    reads = [rng.randint(1, 200) for _ in range(len(body))]
    out = b"".join(_chunked_payloads(Reads(body, reads), framed=True))
    assert out == b"".join(LINES)


@pytest.mark.parametrize("seed", range(10))
def test_a_tty_stream_is_raw(seed: int) -> None:
    rng = random.Random(seed)
    raw = b"".join(LINES)
    body = chunked(raw, [rng.randint(1, 500) for _ in range(len(raw))])
    reads = [rng.randint(1, 100) for _ in range(len(body))]
    assert b"".join(_chunked_payloads(Reads(body, reads), framed=False)) == raw


def test_frames_fed_in_pieces() -> None:
    data = b"".join(frame(p) for p in LINES)
    frames, out = _Frames(), []
    for i in range(0, len(data), 7):
        out += frames.feed(data[i:i + 7])
    assert b"".join(out) == b"".join(LINES)
    assert not frames.carrying


# -- redaction --------------------------------------------------------------------------
SECRETS = Secrets(["hunter2-secret", "abc", "hunter2"])


@pytest.mark.parametrize("cut", range(1, 60))
def test_a_secret_split_between_two_pieces_is_still_redacted(cut: int) -> None:
    text = b"start\nthe password is hunter2-secret, ok\nabc and hunter2\nend"
    redactor = LineRedactor(SECRETS)
    out = redactor.feed(text[:cut]) + redactor.feed(text[cut:]) + redactor.flush()
    assert out == b"start\nthe password is ***, ok\n*** and ***\nend"


def test_the_longest_secret_wins() -> None:
    assert SECRETS.redact(b"hunter2-secret") == b"***"


def test_an_endless_line_is_redacted_in_bounded_pieces() -> None:
    redactor = LineRedactor(Secrets(["s3cr3t-value"]), max_line=64)
    data = (b"y" * 50 + b"s3cr3t-value") * 200  # no newline at all
    out, largest = [], 0
    for i in range(0, len(data), 13):
        piece = redactor.feed(data[i:i + 13])
        out.append(piece)
        largest = max(largest, len(redactor._pending))
    out.append(redactor.flush())
    assert b"".join(out) == (b"y" * 50 + b"***") * 200
    assert largest < 64 + 13


def test_no_secrets_means_bytes_pass_untouched() -> None:
    redactor = LineRedactor(Secrets([]))
    assert redactor.feed(b"partial line") == b"partial line"
    assert redactor.flush() == b""


def test_short_strings_are_not_secrets() -> None:
    assert not Secrets(["ab", ""])


@pytest.mark.parametrize("name", ["DB_PASSWORD", "api_token", "Secret", "AWS_SECRET_ACCESS_KEY",
                                  "SSH_PRIVATE_KEY", "GOOGLE_CREDENTIALS", "MYSQL_ROOT_PASSWD",
                                  "BASIC_AUTH", "apikey"])
def test_secret_looking_env_names_are_masked(name: str) -> None:
    assert redact_env([f"{name}=v=al:ue"]) == [f"{name}=***"]


@pytest.mark.parametrize("entry", ["PATH=/usr/bin", "GREETING=hello", "EMPTY", "PORT=8080"])
def test_other_env_entries_are_kept(entry: str) -> None:
    assert redact_env([entry]) == [entry]


def test_inspect_redaction_leaves_the_original_alone() -> None:
    attrs = {"Config": {"Env": ["API_TOKEN=t0k", "A=b"], "Image": "x"}, "Id": "1"}
    assert redact_inspect(attrs)["Config"]["Env"] == ["API_TOKEN=***", "A=b"]
    assert attrs["Config"]["Env"] == ["API_TOKEN=t0k", "A=b"]
    assert redact_inspect({"Id": "2"}) == {"Id": "2"}


# -- the output folder ------------------------------------------------------------------
def test_folder_redacts_lists_and_records_failures(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path / "out", Secrets(["t0ps3cret"]))
    folder.prepare()
    folder.write_text("logs/a.log", "x t0ps3cret y\n")
    with folder.open("files/blob.bin", redact=False) as out:
        out.write(b"\0t0ps3cret")
    (tmp_path / "out" / "blocker").write_text("a file where a folder should be")
    folder.write_text("blocker/inside.txt", "nope")
    assert (tmp_path / "out/logs/a.log").read_text() == "x *** y\n"
    assert (tmp_path / "out/files/blob.bin").read_bytes() == b"\0t0ps3cret"
    assert folder.written == ["logs/a.log", "files/blob.bin"]
    assert len(folder.failures) == 1
    assert folder.failures[0].startswith("blocker/inside.txt: ")


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", ""])
def test_folder_refuses_paths_outside_it(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="inside the folder"):
        OutputFolder(tmp_path, Secrets([])).path(bad)


# -- tails ------------------------------------------------------------------------------
def test_tail_lines(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(500)))
    assert tail_lines(log, 3) == ["line 497", "line 498", "line 499"]
    assert tail_lines(log, 3, max_bytes=20) == ["line 498", "line 499"]
    assert tail_lines(tmp_path / "missing.log") == []
    (tmp_path / "bin.log").write_bytes(b"ok\n\xff\xfe\n")
    assert tail_lines(tmp_path / "bin.log") == ["ok", "\ufffd\ufffd"]


# -- copies from a tar stream ------------------------------------------------------------
class FakeContainer:
    """Answers get_archive like the engine: a tar of the path, in uneven chunks."""

    name = "p-api-1"

    def __init__(self, files: dict[str, bytes], links: dict[str, str]) -> None:
        self.files, self.links = files, links

    def get_archive(self, path: str) -> tuple[Any, dict[str, Any]]:
        import tarfile  # noqa: PLC0415

        base = path.rstrip("/") or "/"
        top = base.rsplit("/", 1)[-1]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            found = False
            for inside, data in {**self.files, **dict.fromkeys(self.links, b"")}.items():
                if inside != base and not inside.startswith(base.rstrip("/") + "/"):
                    continue
                found = True
                info = tarfile.TarInfo(top + inside[len(base):] if top else inside.lstrip("/"))
                if inside in self.links:
                    info.type, info.linkname = tarfile.SYMTYPE, self.links[inside]
                else:
                    info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            evil = tarfile.TarInfo("../../escape.txt")
            evil.size = 4
            tar.addfile(evil, io.BytesIO(b"evil"))
        if not found:
            import docker.errors  # noqa: PLC0415

            raise docker.errors.NotFound("Could not find the file", explanation="no file")
        data = buf.getvalue()
        rng = random.Random(len(data))
        chunks, pos = [], 0
        while pos < len(data):
            size = rng.choice([0, 1, 7, 512, 3000])
            chunks.append(data[pos:pos + size])
            pos += size
        return iter(chunks), {"name": top}


FILES = {"/app/results/junit.xml": b"<ok token='t0ps3cret'/>\n",
         "/app/results/sub/deep.txt": b"deep\n",
         "/app/results/cov.xml": b"<cov/>\n",
         "/app/results/blob.bin": b"\0t0ps3cret"}


@pytest.mark.parametrize(("entry", "written"), [
    ("api:/app/results/junit.xml", ["files/api/app/results/junit.xml"]),
    ("api:/app/results", ["files/api/app/results/junit.xml", "files/api/app/results/sub/deep.txt",
                          "files/api/app/results/cov.xml", "files/api/app/results/blob.bin"]),
    ("api:/app/results/*.xml", ["files/api/app/results/junit.xml",
                                "files/api/app/results/cov.xml"]),
    ("api:/app/*/sub", ["files/api/app/results/sub/deep.txt"]),
])
def test_copy_out_of_a_tar_stream(tmp_path: Path, entry: str, written: list[str]) -> None:
    from stackci.core.engine.copy import copy_out, parse_copy_spec  # noqa: PLC0415

    folder = OutputFolder(tmp_path, Secrets(["t0ps3cret"]))
    result = copy_out(FakeContainer(FILES, {"/app/results/link": "/etc"}),
                      parse_copy_spec(entry), folder, "files/api")
    assert sorted(result.files) == sorted(written)
    assert not result.missing
    assert not (tmp_path.parent / "escape.txt").exists()
    for relative in written:
        inside = "/" + relative.removeprefix("files/api/")
        expected = FILES[inside]
        if b"\0" not in expected:  # text is redacted, binary copied as it is
            expected = expected.replace(b"t0ps3cret", b"***")
        assert (tmp_path / relative).read_bytes() == expected


def test_copy_out_missing_and_skipped(tmp_path: Path) -> None:
    from stackci.core.engine.copy import copy_out, parse_copy_spec  # noqa: PLC0415

    folder = OutputFolder(tmp_path, Secrets([]))
    container = FakeContainer(FILES, {"/app/results/link": "/etc"})
    assert copy_out(container, parse_copy_spec("api:/nope"), folder, "f").missing
    assert copy_out(container, parse_copy_spec("api:/app/results/*.none"), folder, "f").missing
    link = copy_out(container, parse_copy_spec("api:/app/results/link"), folder, "f")
    assert (link.missing, link.files, link.notes) == (
        False, [], ["skipped symlink /app/results/link"])


@pytest.mark.parametrize(("entry", "suffix", "written"), [
    ("api:/app/results/junit.xml -> results/junit.xml", "", {"results/junit.xml": "junit.xml"}),
    ("api:/app/results/junit.xml -> results/", "", {"results/junit.xml": "junit.xml"}),
    ("api:/app/results/junit.xml -> results/junit.xml", "-2",
     {"results/junit-2.xml": "junit.xml"}),
    ("api:/app/results -> out", "", {"out/junit.xml": "junit.xml", "out/cov.xml": "cov.xml",
                                     "out/sub/deep.txt": "sub/deep.txt",
                                     "out/blob.bin": "blob.bin"}),
    ("api:/app/results -> out/", "-run-0123abcd",
     {"out/results-run-0123abcd/junit.xml": "junit.xml",
      "out/results-run-0123abcd/cov.xml": "cov.xml",
      "out/results-run-0123abcd/sub/deep.txt": "sub/deep.txt",
      "out/results-run-0123abcd/blob.bin": "blob.bin"}),
    ("api:/app/results/*.xml -> ./", "", {"junit.xml": "junit.xml", "cov.xml": "cov.xml"}),
    ("api:/app/*/sub -> flat/", "", {"flat/results/sub/deep.txt": "sub/deep.txt"}),
])
def test_copy_out_to_a_destination(tmp_path: Path, entry: str, suffix: str,
                                   written: dict[str, str]) -> None:
    from stackci.core.engine.copy import Landings, copy_out, parse_copy_spec  # noqa: PLC0415

    folder = OutputFolder(tmp_path, Secrets([]))
    result = copy_out(FakeContainer(FILES, {"/app/results/link": "/etc"}),
                      parse_copy_spec(entry), folder, "files/api", suffix=suffix,
                      landings=Landings(("index.md", "files")))
    assert sorted(result.files) == sorted(written)
    assert not (tmp_path / "files").exists()  # nothing under the default layout
    for relative, inside in written.items():
        assert (tmp_path / relative).read_bytes() == FILES[f"/app/results/{inside}"]


def test_a_destination_another_copy_wrote_is_not_written_over(tmp_path: Path) -> None:
    from stackci.core.engine.copy import Landings, copy_out, parse_copy_spec  # noqa: PLC0415

    folder = OutputFolder(tmp_path, Secrets([]))
    container = FakeContainer(FILES, {})
    landings = Landings()
    first = copy_out(container, parse_copy_spec("api:/app/results/junit.xml -> r/x.xml"),
                     folder, "f", landings=landings)
    assert first.files == ["r/x.xml"]
    second = copy_out(container, parse_copy_spec("api:/app/results/cov.xml -> r/x.xml"),
                      folder, "f", landings=landings)
    assert (second.files, second.taken) == ([], ["r/x.xml"])
    assert (tmp_path / "r/x.xml").read_bytes() == FILES["/app/results/junit.xml"]
    # A folder where a copy wrote a file is refused too, not a crash.
    third = copy_out(container, parse_copy_spec("api:/app/results -> r/x.xml"), folder, "f",
                     landings=landings)
    assert third.files == []
    assert len(third.taken) == 4


@pytest.mark.parametrize(("name", "suffix", "expected"), [
    ("junit.xml", "-2", "junit-2.xml"), ("report.tar.gz", "-2", "report-2.tar.gz"),
    (".coverage", "-2", ".coverage-2"), ("reports", "-run-ab", "reports-run-ab"),
    ("junit.xml", "", "junit.xml"),
])
def test_suffixed(name: str, suffix: str, expected: str) -> None:
    from stackci.core.engine.copy import suffixed  # noqa: PLC0415

    assert suffixed(name, suffix) == expected


def test_a_name_with_a_line_break_is_never_written(tmp_path: Path) -> None:
    from stackci.core.engine.copy import copy_out, parse_copy_spec  # noqa: PLC0415

    folder = OutputFolder(tmp_path, Secrets([]))
    files = {"/r/ok.xml": b"ok", "/r/evil\nx.xml": b"no", "/r/bad\udcffy.xml": b"no"}
    result = copy_out(FakeContainer(files, {}), parse_copy_spec("api:/r/*.xml -> out/"),
                      folder, "f")
    assert result.files == ["out/ok.xml"]
    assert sorted(result.notes) == [
        "skipped /r/bad?y.xml (a control character in its name)",  # not UTF-8 there
        "skipped /r/evil?x.xml (a control character in its name)"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ok.xml"]
