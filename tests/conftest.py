"""Shared fixtures. Helper code lives in tests/support (on sys.path through pytest's
`pythonpath`), never in a package named `tests`: actions-toolkit's wheel installs a
top-level `tests` package, and the two must not shadow each other."""

pytest_plugins = ["stackci_testing.fixtures", "stackci_testing.golden", "fake_github.fixtures",
                  "stackci_testing.smtp"]
