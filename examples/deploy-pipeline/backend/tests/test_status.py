from app import VERSION
from app.server import check, status


def test_the_version_is_semantic() -> None:
    assert [part.isdigit() for part in VERSION.split(".")] == [True, True, True]


def test_an_unreachable_service_is_named() -> None:
    def refuses(host: str) -> bool:
        raise ConnectionRefusedError(f"{host} refused")

    assert check(refuses, "db") == "unreachable: db refused"


def test_the_environment_defaults_to_development(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("APP_ENV", raising=False)
    assert status()["environment"] == "development"
