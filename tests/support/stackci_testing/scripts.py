"""The repository's scripts (scripts/*.py are not a package), imported for their tests."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from stackci_testing.runner import REPO


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module, loaded once."""
    module_name = f"stackci_scripts_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, REPO / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module
