import json
import os
from http.client import HTTPConnection
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.api
BASE = urlparse(os.environ.get("API_URL", "http://localhost:8000"))


def get(path: str) -> tuple[int, dict[str, object]]:
    conn = HTTPConnection(BASE.hostname or "localhost", BASE.port or 80, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_the_root_names_the_api() -> None:
    assert get("/")[1]["name"] == "AlphaVelocity"


def test_momentum_is_computed_then_cached() -> None:
    status, first = get("/api/v1/momentum/MSFT")
    assert status == 200
    assert "overall_momentum_score" in first
    assert get("/api/v1/momentum/MSFT")[1]["cached"] is True


def test_the_database_is_connected() -> None:
    assert get("/database/status")[1]["status"] == "connected"
