"""The Docker engine and Compose: projects, containers, events, logs and copies, and
the retry policy for engine calls. docker-py is imported only where it is used."""
