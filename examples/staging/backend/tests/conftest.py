import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from app.main import Handler


@pytest.fixture(scope="session")
def api() -> Iterator[str]:
    """The API's handler in this process (so coverage sees it), talking to the real
    LLM server, cache and Prometheus of the staging stack."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
