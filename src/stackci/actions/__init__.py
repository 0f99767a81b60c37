"""One module per action, named after the action (`compose-up-and-wait` lives in
`compose_up_and_wait`). Each has a frozen `Settings` dataclass and a `run` function."""
