"""The retry policy for calls to the Docker engine."""

from __future__ import annotations

from tenacity import retry_if_exception, stop_after_attempt, wait_exponential_jitter

from stackci.core.runner.retrying import call_with

__all__ = ["DOCKER", "call_with"]


def _is_transient_docker(exc: BaseException) -> bool:
    # Imported here, not above: an engine module must be importable before docker-py
    # is (see core.engine.compose); this runs only once a call has failed.
    import docker.errors  # noqa: PLC0415
    import requests  # noqa: PLC0415

    if isinstance(exc, docker.errors.NotFound | docker.errors.ImageNotFound):
        return False
    if isinstance(exc, docker.errors.APIError):
        return bool(exc.is_server_error())
    return isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError)


DOCKER = {"retry": retry_if_exception(_is_transient_docker), "stop": stop_after_attempt(4),
          "wait": wait_exponential_jitter(multiplier=0.2, max=3, jitter=0.2)}
