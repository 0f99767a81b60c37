"""GitHub's REST API through PyGithub: the client, the session every GitHub action
shares, pull requests and sticky comments."""
