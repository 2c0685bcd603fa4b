"""The `policyengine` command: check, evaluate, explain, log, test and document cited policy rules.

Exit codes: 0 decided or undetermined; 1 policy files invalid (or, for `log verify` and
`log replay`, a broken chain or a different decision); 2 bad input (facts, dates, unknown
decision, unreadable log) or a case refused by a cited clause; 3 not in force; 141 the
output's reader went away before it was all written (`policyengine ... | head`).

One grammar and one dispatch: each command group is a module of this package with a
`register(subparsers)` that builds its parsers (with the shared arguments of args.py) and
sets `func` on each; main() parses, resolves the policy folder, and calls `args.func(args)`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__
from ..errors import InputError, NotInForceError, PolicyEngineError, PolicyError
from .args import (DEFAULT_POLICIES, EXIT_BROKEN_PIPE, EXIT_INPUT, EXIT_NOT_IN_FORCE, EXIT_OK,  # noqa: F401
                   EXIT_POLICY, FOLDER, read_facts, resolve_policies)

_read_facts = read_facts  # the name audit/retro.py and its tests know the reader of --facts/--fact by
# Each group: (module of this package, its register function), in the order `--help` lists them.
GROUPS = {"check": ("check", "register"), "eval": ("eval", "register"), "retro": ("eval", "register_retro"),
          "report": ("report", "register"), "log": ("log", "register"), "test": ("test", "register"),
          "diff": ("diff", "register"), "docs": ("docs", "register"), "serve": ("serve", "register"), "batch": ("batch", "register")}
# Each command and its group.  A command line naming one builds (and imports) only that group, so
# that `eval` starts without what `check`, `docs` or `serve` need (z3, networkx, the HTTP stack).
COMMANDS = {"validate": "check", "check": "check", "lint": "check", "inventory": "check", "decisions": "check",
            "eval": "eval", "explain-diff": "eval", "query": "eval", "retro": "retro", "report": "report",
            "log": "log", "test": "test", "diff": "diff", "docs": "docs", "requirements": "docs", "graph": "docs",
            "impact": "docs", "serve": "serve", "batch": "batch"}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: with every command, or with only the group of `command`."""
    p = argparse.ArgumentParser(prog="policyengine", description=__doc__.split("\n\n")[0],
                                epilog="Exit codes: 0 decided/undetermined, 1 invalid policies, "
                                       "2 bad input or refused, 3 not in force. Every command that reads "
                                       f"policies takes the folder as --policies DIR or as DIR (default: "
                                       f"{DEFAULT_POLICIES}).")
    p.add_argument("--version", action="version", version=f"policyengine {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for group in ([COMMANDS[command]] if command in COMMANDS else GROUPS):
        module, register = GROUPS[group]
        getattr(importlib.import_module(f"{__package__}.{module}"), register)(sub)
    return p


def _load(path: str):
    """The one loader of the command line (args.load_policies calls it; tests replace it)."""
    from ..policies import load
    return load(path)


def _parse(argv):
    """Parse argv.  argparse gives an optional positional (the policy folder) nothing when an
    option comes between it and the positionals before it (`eval ID --as-of D policies`), and
    calls the folder unrecognized: it is put where it belongs here."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args, extra = parser.parse_known_args(argv)
    if extra:
        leaf = getattr(args, "_parser", parser)
        folder_dest = getattr(args, "_folder_dest", None)
        if (len(extra) == 1 and not extra[0].startswith("-") and folder_dest == FOLDER
                and getattr(args, FOLDER, None) is None):
            setattr(args, FOLDER, extra[0])
        else:
            leaf.error(f"unrecognized arguments: {' '.join(extra)}")
    return parser, args


def main(argv: list[str] | None = None) -> int:
    parser, args = _parse(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_INPUT
    try:
        resolve_policies(args)
        return args.func(args)
    except PolicyError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return EXIT_POLICY
    except NotInForceError as exc:
        print(f"not in force: {exc}", file=sys.stderr)
        return EXIT_NOT_IN_FORCE
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return EXIT_INPUT
    except PolicyEngineError as exc:  # e.g. a decision log that is not one, or an evaluation error
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT


def run() -> None:
    """Console entry point.  `policyengine ... | head` ends without a traceback, but not as a
    success: output cut short is an incomplete run, so the exit code is the command's own when
    it failed, else 141 (128 + SIGPIPE, what the shell reports for a command killed by it)."""
    code = None
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        code = code or EXIT_BROKEN_PIPE
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
