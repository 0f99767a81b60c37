"""PostgreSQL and Redis, spoken to over their own protocols with the standard library
only (a team would use psycopg and redis-py; the example builds with no extra wheels)."""

from __future__ import annotations

import os
import socket
import struct


class DatabaseError(Exception):
    pass


class Database:
    """PostgreSQL's simple query protocol, for a server that trusts the connection."""

    def __init__(self, host: str = "", user: str = "", database: str = "") -> None:
        env = os.environ
        self.conn = socket.create_connection(
            (host or env.get("DATABASE_HOST", "postgres"), 5432), timeout=5
        )
        user = user or env.get("DATABASE_USER", "postgres")
        params = (
            f"user\0{user}\0database\0{database or env.get('DATABASE_NAME', user)}\0\0"
        )
        body = struct.pack("!i", 196608) + params.encode()
        self.conn.sendall(struct.pack("!i", len(body) + 4) + body)
        self._until_ready()

    def _message(self) -> tuple[bytes, bytes]:
        head = self._read(5)
        kind, size = head[:1], struct.unpack("!i", head[1:])[0]
        return kind, self._read(size - 4)

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            if not chunk:
                raise DatabaseError("the server closed the connection")
            data += chunk
        return data

    def _until_ready(self) -> list[tuple[str | None, ...]]:
        rows: list[tuple[str | None, ...]] = []
        error = ""
        while True:
            try:
                kind, body = self._message()
            except DatabaseError:
                if not error:
                    raise
                raise DatabaseError(error) from None  # it said why, then hung up
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise DatabaseError("only trust authentication is supported here")
            if kind == b"E":
                fields = {f[:1]: f[1:] for f in body.split(b"\0") if f}
                error = fields.get(b"M", b"error").decode()
            elif kind == b"D":
                rows.append(self._row(body))
            elif kind == b"Z":
                if error:
                    raise DatabaseError(error)
                return rows

    @staticmethod
    def _row(body: bytes) -> tuple[str | None, ...]:
        count, at, values = struct.unpack("!h", body[:2])[0], 2, []
        for _ in range(count):
            size = struct.unpack("!i", body[at : at + 4])[0]
            at += 4
            values.append(None if size < 0 else body[at : at + size].decode())
            at += max(size, 0)
        return tuple(values)

    def query(self, sql: str) -> list[tuple[str | None, ...]]:
        data = sql.encode() + b"\0"
        self.conn.sendall(b"Q" + struct.pack("!i", len(data) + 4) + data)
        return self._until_ready()

    def close(self) -> None:
        self.conn.sendall(b"X" + struct.pack("!i", 4))
        self.conn.close()


class Cache:
    """Redis commands in RESP."""

    def __init__(self, host: str = "") -> None:
        address = (host or os.environ.get("REDIS_HOST", "redis"), 6379)
        self.conn = socket.create_connection(address, timeout=5)
        self.reader = self.conn.makefile("rb")

    def command(self, *args: str | int) -> object:
        parts = [str(a).encode() for a in args]
        wire = b"*%d\r\n" % len(parts) + b"".join(
            b"$%d\r\n%s\r\n" % (len(p), p) for p in parts
        )
        self.conn.sendall(wire)
        return self._reply()

    def _reply(self) -> object:
        line = self.reader.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:].decode()
        if kind == b"-":
            raise ConnectionError(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            return (
                None if rest == "-1" else self.reader.read(int(rest) + 2)[:-2].decode()
            )
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        return rest

    def close(self) -> None:
        self.conn.close()


SCHEMA = (
    "CREATE TABLE IF NOT EXISTS portfolios (id serial PRIMARY KEY, name text NOT NULL)"
)


def migrate() -> None:
    db = Database()
    try:
        db.query(SCHEMA)
    finally:
        db.close()
