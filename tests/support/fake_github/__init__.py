"""A fake GitHub REST API: a real loopback HTTP server with in-memory state, so PyGithub
(or anything else speaking HTTP) runs unmodified against it through `base_url`.

    with FakeGitHub() as gh:
        gh.state.add_token("ghs_x", "stackci-bot")
        gh.state.add_repo("octo/app")
        gh.fail_next(2, status=502)
        Github(auth=Auth.Token("ghs_x"), base_url=gh.url).get_repo("octo/app")
"""

from fake_github.faults import Fault, Faults, LoggedRequest, RequestLog
from fake_github.seed import dump_state, load_seed
from fake_github.server import FakeGitHub
from fake_github.state import GitHubState, NotFoundError, fake_sha

__all__ = [
    "FakeGitHub",
    "Fault",
    "Faults",
    "GitHubState",
    "LoggedRequest",
    "NotFoundError",
    "RequestLog",
    "dump_state",
    "fake_sha",
    "load_seed",
]
