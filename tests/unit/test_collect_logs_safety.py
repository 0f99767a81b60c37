"""collect-logs' safety without an engine: secrets from container environments masked
in every place they show up, an output folder that cannot be redirected by symlinks a
checkout brought, and files handed to the folder's owner when running as root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackci.core.files.folder import OutputFolder
from stackci.core.text.redact import Secrets, env_secrets, redact_env, redact_inspect

PASSWORD = "r00t-Pa55"

MYSQL = {
    "Id": "1",
    "Args": ["--default-authentication-plugin", f"-p{PASSWORD}"],
    "Config": {
        "Env": [f"MYSQL_ROOT_PASSWORD={PASSWORD}", "DB_PASS=hunter22",
                "DATABASE_URL=postgres://app:s3cr%2Ft@db:5432/app", "MYSQL_PORT=3306",
                "PWD=/var/lib/mysql", "CONN_MAX=100", "FEATURE_KEY_ENABLED=true"],
        "Cmd": ["mysqld", f"--password={PASSWORD}"],
        "Healthcheck": {"Test": ["CMD-SHELL", f"mysqladmin ping -p{PASSWORD}"]},
    },
    "State": {"Health": {"Log": [{"Output": f"mysqladmin: [Warning] -p{PASSWORD} is insecure"
                                            " hunter22 s3cr/t"}]}},
}


def written_inspect(tmp_path: Path) -> str:
    folder = OutputFolder(tmp_path / "out", Secrets([]))
    folder.prepare()
    folder.secrets.add(env_secrets(MYSQL))
    folder.write_json("inspect/db.json", redact_inspect(MYSQL))
    folder.write_text("logs/db.log", f"started with {PASSWORD} and hunter22 and s3cr/t\n")
    return (tmp_path / "out/inspect/db.json").read_text() + \
        (tmp_path / "out/logs/db.log").read_text()


def test_env_secrets_are_masked_everywhere_in_inspect_and_logs(tmp_path: Path) -> None:
    text = written_inspect(tmp_path)
    for secret in (PASSWORD, "hunter22", "s3cr%2Ft", "s3cr/t"):
        assert secret not in text
    assert "postgres://app:***@db:5432/app" in text
    # Settings and the shell's working directory are not secrets.
    assert "MYSQL_PORT=3306" in text
    assert "PWD=/var/lib/mysql" in text
    assert "CONN_MAX=***" in text  # masked in Env, but `100` is not blanked elsewhere
    assert "FEATURE_KEY_ENABLED=***" in text


@pytest.mark.parametrize("name", ["DB_PASS", "MYSQL_PWD", "SENTRY_DSN", "DB_CONNECTION",
                                  "GCP_CREDENTIALS"])
def test_more_secret_looking_names(name: str) -> None:
    assert redact_env([f"{name}=abc123"]) == [f"{name}=***"]


def test_a_secret_with_quotes_is_masked_inside_json(tmp_path: Path) -> None:
    attrs = {"Config": {"Env": ['API_TOKEN=a"b\\c-long'], "Cmd": ['use a"b\\c-long']}}
    folder = OutputFolder(tmp_path, Secrets([]))
    folder.secrets.add(env_secrets(attrs))
    folder.write_json("x.json", redact_inspect(attrs))
    assert "a\\\"b" not in (tmp_path / "x.json").read_text()


def test_tiny_values_are_not_secrets() -> None:
    assert env_secrets({"Config": {"Env": ["API_KEY=ab", "URL=http://u:pw@h/"]}}) == []


# -- symlinks in the folder -------------------------------------------------------------
def test_a_symlinked_subfolder_is_replaced_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "ws" / "stackci-logs"
    root.mkdir(parents=True)
    (root / "logs").symlink_to(elsewhere)
    (root / "index.md").symlink_to(elsewhere / "index.md")
    folder = OutputFolder(root, Secrets([]))
    folder.prepare()
    folder.write_text("logs/api.log", "hello\n")
    folder.write_text("index.md", "# index\n")
    assert list(elsewhere.iterdir()) == []
    assert not (root / "logs").is_symlink()
    assert not (root / "index.md").is_symlink()
    assert (root / "logs/api.log").read_text() == "hello\n"
    assert folder.written == ["logs/api.log", "index.md"]
    assert not folder.failures


def test_a_folder_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "stackci-logs").symlink_to(elsewhere)
    with pytest.raises(OSError, match="symlink"):
        OutputFolder(tmp_path / "stackci-logs", Secrets([])).prepare()
    assert list(elsewhere.iterdir()) == []


# -- ownership --------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_files_go_to_the_owner_of_the_parent_folder(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    os.chown(workspace, 1234, 1234)
    root = workspace / "stackci-logs"
    root.mkdir()
    theirs = root / "theirs.txt"  # not ours: left as it is
    theirs.write_text("x")
    folder = OutputFolder(root, Secrets([]))
    folder.prepare()
    folder.write_text("logs/api.log", "hello\n")
    folder.write_json("ps.json", [])
    folder.give_to_parent_owner()
    for path in [root / "logs", root / "logs/api.log", root / "ps.json"]:
        assert (path.stat().st_uid, path.stat().st_gid) == (1234, 1234), path
    assert theirs.stat().st_uid == 0
    assert root.stat().st_uid == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_folder_made_by_the_run_goes_to_the_parent_owner_too(tmp_path: Path) -> None:
    os.chown(tmp_path, 1234, 1234)
    folder = OutputFolder(tmp_path / "a" / "out", Secrets([]))
    folder.prepare()
    folder.write_text("index.md", "x\n")
    folder.give_to_parent_owner()
    assert (tmp_path / "a" / "out").stat().st_uid == 1234
    assert (tmp_path / "a" / "out" / "index.md").stat().st_uid == 1234


def test_removing_a_previous_collection_never_leaves_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep")
    root = tmp_path / "logs"
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "old.log").write_text("old")
    (root / "via").symlink_to(outside)
    (root / "link.txt").symlink_to(outside / "precious.txt")
    (root / "files.txt").write_text(
        "logs/old.log\nvia/precious.txt\n../outside/precious.txt\n"
        f"{outside}/precious.txt\nlink.txt\n")
    removed = OutputFolder(root, Secrets([])).remove_previous("files.txt")
    assert removed == 2  # logs/old.log and the symlink link.txt itself
    assert (outside / "precious.txt").read_text() == "keep"
    assert not (root / "logs").exists()  # emptied, so removed
    assert (root / "via").is_symlink()
