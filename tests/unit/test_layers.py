"""The import edges allowed between StackCI's layers (ARCHITECTURE.md). Every import
counts, also one inside a function or under TYPE_CHECKING: a layer that must not know
Docker must not name it anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
DOCKER = ("docker", "compose")
GITHUB = ("github", "requests", "urllib3")
SMTP = ("smtplib", "aiosmtpd")
ENGINE, GITHUB_LAYER, MAIL = "stackci.core.engine", "stackci.core.github", "stackci.core.mail"
FEATURES = ("stackci.actions", "stackci.readiness", "stackci.report", "stackci.labels",
            "stackci.collect", "stackci.cli")

# package -> (prefixes it must not import, StackCI prefixes it may import or None for any)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None]] = {
    "stackci.core.text": ((*DOCKER, *GITHUB, *SMTP), ("stackci.core.text",)),
    "stackci.core.runner": ((*DOCKER, *GITHUB, *SMTP), ("stackci.core.runner",
                                                          "stackci.core.text")),
    "stackci.core.files": ((*DOCKER, *GITHUB, *SMTP), ("stackci.core.files",
                                                         "stackci.core.text")),
    "stackci.report": ((*DOCKER, *GITHUB, *SMTP, ENGINE, GITHUB_LAYER, MAIL), None),
    ENGINE: ((*GITHUB[:1], *SMTP, GITHUB_LAYER, MAIL, *FEATURES), None),
    GITHUB_LAYER: ((*DOCKER, *SMTP, ENGINE, MAIL, *FEATURES), None),
    MAIL: ((*DOCKER, *GITHUB, ENGINE, GITHUB_LAYER, *FEATURES), None),
    "stackci.core": (FEATURES, None),
}
# The wait's state machine and its words: testable with no engine, so nothing that
# talks to one (the probes and the loop do).
_PURE_WAIT = ((*DOCKER, *GITHUB, *SMTP, GITHUB_LAYER, MAIL, "stackci.readiness.probes",
               "stackci.readiness.watcher", "stackci.readiness.report"), None)
for _module in ("machine", "state", "verdicts"):
    RULES[f"stackci.readiness.{_module}"] = _PURE_WAIT
# A feature package serves actions; it never imports one (not even a Settings type).
for _feature in ("readiness", "report", "labels", "collect"):
    RULES.setdefault(f"stackci.{_feature}", ((), None))
    RULES[f"stackci.{_feature}"] = ((*RULES[f"stackci.{_feature}"][0], "stackci.actions"),
                                    RULES[f"stackci.{_feature}"][1])


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, imported: set[str]) -> list[str]:
    found = []
    for package, (forbidden, allowed) in RULES.items():
        if not under(module, package):
            continue
        for name in sorted(imported):
            if any(under(name, bad) for bad in forbidden):
                found.append(f"{module} imports {name} (forbidden in {package})")
            elif allowed is not None and under(name, "stackci") and \
                    not any(under(name, ok) for ok in allowed):
                found.append(f"{module} imports {name} ({package} may import only "
                             f"{', '.join(allowed)})")
    return found


def test_every_import_edge_is_allowed() -> None:
    found = []
    for path in sorted((SRC / "stackci").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += violations(module_name(path), imports_of(tree))
    assert found == []


@pytest.mark.parametrize(("module", "code"), [
    ("stackci.core.text.markdown", "from stackci.core.runner.inputs import InputReader"),
    ("stackci.core.runner.inputs", "def f():\n    import docker"),
    ("stackci.core.runner.context", "from stackci.core.engine.compose import x"),
    ("stackci.report.comment", "from stackci.core.github.pulls import FORK_COMMENT_ADVICE"),
    ("stackci.report.junit", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    from github import Github"),
    ("stackci.core.engine.project", "from stackci.actions import collect_logs"),
    ("stackci.core.github.session", "import smtplib"),
    ("stackci.readiness.machine", "from stackci.readiness.probes import Attempt"),
    ("stackci.readiness.verdicts", "import docker.errors"),
    ("stackci.collect.render", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                               "    from stackci.actions.collect_logs import Settings"),
])
def test_a_forbidden_edge_is_found(module: str, code: str) -> None:
    assert violations(module, imports_of(ast.parse(code))) != []


def test_allowed_edges_pass() -> None:
    assert violations("stackci.core.runner.action",
                      imports_of(ast.parse("from stackci.core.text import markdown"))) == []
    assert violations("stackci.readiness.watcher",
                      imports_of(ast.parse("import docker\nimport requests"))) == []


def test_no_action_or_feature_reads_the_environment_itself() -> None:
    # The environment is RunContext.env; only the command line's entry point reads it.
    readers = []
    for path in sorted((SRC / "stackci").rglob("*.py")):
        if module_name(path) in ("stackci.cli", "stackci.core.engine.compose"):
            continue  # the entry point; ComposeProject's default for callers off Actions
        if "os.environ" in path.read_text(encoding="utf-8"):
            readers.append(module_name(path))
    assert readers == []
