import json
from urllib.request import urlopen

from backend.app import health


def get(path: str) -> tuple[int, object]:
    with urlopen(f"http://localhost:8000{path}", timeout=5) as response:
        return response.status, json.load(response)


def test_health_endpoint() -> None:
    assert get("/health") == (200, {"status": "ok"})


def test_every_dependency_answers() -> None:
    assert health() == {"database": "ok", "cache": "ok", "broker": "ok"}
