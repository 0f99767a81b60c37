import json
import os
from http.client import HTTPConnection
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.e2e

BASE = urlparse(os.environ.get("BASE_URL", "http://localhost:8000"))


def get(path: str) -> tuple[int, dict[str, str]]:
    conn = HTTPConnection(BASE.hostname or "localhost", BASE.port or 80, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_staging_is_up_and_says_so() -> None:
    code, body = get("/api/v1/status/")
    assert code == 200
    assert body["environment"] == "staging"


def test_every_dependency_answers() -> None:
    _, body = get("/api/v1/status/")
    assert (body["database"], body["cache"]) == ("ok", "ok")


def test_an_unknown_page_is_a_404() -> None:
    assert get("/api/v1/nope/")[0] == 404
