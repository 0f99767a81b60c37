"""`stackci <action> [--<input> VALUE]...`: the actions as a command line.

The flags, their help and their defaults come from each action's action.yml, the same
file the runner reads, so the CLI and the action cannot drift apart."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping, Sequence

from stackci import __version__
from stackci.core.runner.action import EXIT_USAGE, run_action
from stackci.core.runner.inputs import raw_inputs_from_env
from stackci.core.runner.manifest import action_names, load_manifest


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line and exit 2, as for any bad input; no usage dump.
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        raise SystemExit(EXIT_USAGE)


def _top_parser(names: Sequence[str]) -> _Parser:
    parser = _Parser(
        prog="stackci",
        description="Reusable GitHub Actions for Docker Compose stacks, as a command line.",
        epilog="Run `stackci <action> --help` for an action's inputs.",
    )
    parser.add_argument("--version", action="version", version=f"stackci {__version__}")
    parser.add_argument("action", choices=names, help="one of: " + ", ".join(names))
    return parser


def action_parser(name: str) -> _Parser:
    manifest = load_manifest(name)
    parser = _Parser(
        prog=f"stackci {name}",
        description=manifest.description,
        epilog="Every input may also come from the environment as INPUT_<NAME>. "
        "Repeat a flag to give several values to a list input. "
        "Outputs are printed as one JSON object on stdout; progress goes to stderr. "
        "Exit codes: 0 success, 1 the check failed, 2 bad input.",
    )
    for decl in manifest.python_inputs.values():
        default = "" if decl.default is None else decl.default
        extra = f" (default: {default})" if default and not default.startswith("${{") else ""
        parser.add_argument(
            f"--{decl.name}", dest=decl.name, metavar="VALUE", action="append",
            help=decl.description.replace("%", "%%") + extra,
        )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    names = action_names()
    if not args or args[0].startswith("-"):
        _top_parser(names).parse_args(args or ["--help"])
        return EXIT_USAGE
    name = args[0]
    if name not in names:
        _top_parser(names).parse_args(args)  # reports the unknown action, exits 2
    # The root action passes CLI-style arguments in one variable, split like a shell.
    extra = env.pop("STACKCI_ARGS", "")
    try:
        args += shlex.split(extra)
    except ValueError as exc:
        sys.stderr.write(f"stackci: error: input 'args': expected shell-style words ({exc})\n")
        return EXIT_USAGE
    parsed = vars(action_parser(name).parse_args(args[1:]))
    raw = raw_inputs_from_env(env, load_manifest(name))
    raw.update({k: "\n".join(v) for k, v in parsed.items() if v is not None})
    return run_action(name, raw, env)


if __name__ == "__main__":
    raise SystemExit(main())
