import pytest
from app.store import Cache, Database

pytestmark = pytest.mark.integration


@pytest.fixture
def db():  # type: ignore[no-untyped-def]
    database = Database()
    yield database
    database.close()


def test_a_portfolio_is_stored(db: Database) -> None:
    db.query("INSERT INTO portfolios (name) VALUES ('growth')")
    rows = db.query("SELECT name FROM portfolios ORDER BY id DESC LIMIT 1")
    assert rows == [("growth",)]


def test_the_server_is_postgresql(db: Database) -> None:
    [(version,)] = db.query("SHOW server_version")
    assert version
    assert version.split(".")[0].isdigit()


def test_the_cache_keeps_a_value_for_its_ttl() -> None:
    cache = Cache()
    try:
        assert cache.command("SET", "probe", "42", "EX", 30) == "OK"
        assert cache.command("GET", "probe") == "42"
        assert 0 < int(str(cache.command("TTL", "probe"))) <= 30
    finally:
        cache.close()
