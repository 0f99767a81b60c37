"""Against the compose stack: run inside the app container (`docker compose exec -T app`)."""

import json
import os
import threading
from http.server import ThreadingHTTPServer
from urllib.request import urlopen

import pytest

from k2.platform import kafka_ok, minio_ready, postgres_ok, services
from k2.query import Handler

pytestmark = pytest.mark.integration


def test_postgres_accepts_connections() -> None:
    assert postgres_ok(os.environ["POSTGRES_HOST"], 5432)


def test_kafka_broker_answers() -> None:
    assert kafka_ok(os.environ["KAFKA_BOOTSTRAP_SERVERS"])


def test_minio_is_ready() -> None:
    assert minio_ready(os.environ["MINIO_ENDPOINT"])


def test_the_running_query_engine_is_healthy() -> None:
    with urlopen("http://localhost:8000/health", timeout=5) as response:
        assert json.load(response) == {"status": "ok"}


@pytest.mark.slow
def test_the_query_engine_sees_every_service() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urlopen(f"http://127.0.0.1:{server.server_address[1]}/v1/services", timeout=10) as response:
            assert json.load(response) == services() == {"postgres": True, "kafka": True, "minio": True}
    finally:
        server.shutdown()
