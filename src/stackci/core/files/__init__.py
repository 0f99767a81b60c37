"""The output folder an action writes into (logs, inspect data, copied files)."""
