"""The shared core every action stands on, in layers (see ARCHITECTURE.md):
`runner` (the runner protocol), `text`, `files`, `github`, `engine` and `mail`."""
