"""What a person reads when a GitHub API call fails (`describe_api_error`): one line,
from the status and GitHub's message, never the request (which carries the token)."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from stackci.core.github.client import describe_api_error


@pytest.mark.parametrize(("exc", "expected"), [
    (GithubException(401, {"message": "Bad credentials"}),
     "GitHub refused the token (is it valid, and not expired?) (HTTP 401: Bad credentials)"),
    (GithubException(404, {"message": "Not Found"}),
     "not found: it does not exist, or the token cannot see it (HTTP 404: Not Found)"),
    (GithubException(403, {"message": "Must have admin rights"}),
     "the token may not do this (check the job's `permissions:`) (HTTP 403: Must have admin "
     "rights)"),
    (GithubException(422, None),
     "GitHub refused the request (HTTP 422: no message)"),
    (requests.exceptions.RetryError("Max retries exceeded with url: /user?token=ghs_x"),
     "GitHub kept answering with server errors (HTTP 5xx), also after retries"),
    (requests.exceptions.ConnectionError("refused"),
     "the GitHub API at https://ghe.example/api/v3 could not be reached (ConnectionError)"),
])
def test_api_errors_in_one_line(exc: Exception, expected: str) -> None:
    assert describe_api_error(exc, "https://ghe.example/api/v3") == expected
