from app.server import postgres_ok, redis_ok


def test_the_database_answers() -> None:
    assert postgres_ok("db")


def test_the_cache_answers() -> None:
    assert redis_ok("redis")
