import json

from app.main import health, http_get


def get(url: str) -> tuple[int, object]:
    status, body = http_get(url)
    return status, json.loads(body)


def test_the_running_api_is_healthy() -> None:
    assert get("http://localhost:8000/health") == (200, {"status": "ok"})


def test_every_dependency_answers() -> None:
    assert health() == {"llm": "ok", "cache": "ok", "metrics": "ok"}


def test_full_health(api: str) -> None:
    status, body = get(f"{api}/api/v1/health")
    assert (status, body["status"]) == (200, "ok")


def test_metrics_are_exposed(api: str) -> None:
    status, body = http_get(f"{api}/metrics")
    assert status == 200
    assert b"ffe_http_requests_total" in body


def test_unknown_paths_are_404(api: str) -> None:
    assert get(f"{api}/nope") == (404, {"detail": "Not Found"})
