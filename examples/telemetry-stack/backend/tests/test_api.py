from backend.tests.test_health import get


def test_streams_are_listed() -> None:
    status, streams = get("/api/v1/streams")
    assert status == 200
    assert isinstance(streams, list)


def test_full_health_is_ok() -> None:
    status, body = get("/api/v1/health")
    assert (status, body["status"]) == (200, "ok")
