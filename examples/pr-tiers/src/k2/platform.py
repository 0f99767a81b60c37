"""The platform's backing services, each asked over its own protocol: PostgreSQL (the
query store), Kafka (the trade stream) and MinIO (the cold store)."""

from __future__ import annotations

import http.client
import os
import socket
import struct


def postgres_ok(host: str, port: int) -> bool:
    """The server answers an SSLRequest with one byte, S or N."""
    with socket.create_connection((host, port), timeout=3) as conn:
        conn.sendall(struct.pack("!ii", 8, 80877103))
        return conn.recv(1) in (b"S", b"N")


def kafka_ok(servers: str) -> bool:
    host, _, port = servers.split(",", 1)[0].rpartition(":")
    with socket.create_connection((host, int(port)), timeout=3):
        return True


def minio_ready(endpoint: str) -> bool:
    host, _, port = endpoint.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=3)
    try:
        conn.request("GET", "/minio/health/ready")
        return conn.getresponse().status == 200
    finally:
        conn.close()


def services() -> dict[str, bool]:
    env = os.environ
    return {
        "postgres": postgres_ok(env.get("POSTGRES_HOST", "postgres"), int(env.get("POSTGRES_PORT", "5432"))),
        "kafka": kafka_ok(env.get("KAFKA_BOOTSTRAP_SERVERS", "kafka:29092")),
        "minio": minio_ready(env.get("MINIO_ENDPOINT", "minio:9000")),
    }
