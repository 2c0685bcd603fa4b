"""The arguments every command shares, defined once: the policy folder, formats, languages,
facts (--facts/--fact), NAME=VALUE pairs, and the exit codes.

One grammar for the policy folder: every command that reads policies takes `--policies DIR`
and, as its last positional argument, `DIR` alone (what `validate`, `lint` and `test` always
took), with the same default.  `resolve_policies` turns either into `args.policies` once the
command line is parsed.
"""
from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

from ..errors import InputError

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_NOT_IN_FORCE = 0, 1, 2, 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader went away
DEFAULT_POLICIES = "policies"
FOLDER = "folder"  # dest of the positional policy folder
_FOLDER_HELP = f"policy folder, the same as --policies DIR (default: {DEFAULT_POLICIES})"


# -- the policy folder ---------------------------------------------------------------------------------
def add_policies(parser: argparse.ArgumentParser, folder_dest: str | None = None,
                 positional: bool = True, help: str | None = None) -> argparse.ArgumentParser:
    """`--policies DIR`, and the policy folder as a trailing positional DIR, on `parser`.

    `folder_dest` names a positional the parser already has for the folder (lint's `dir`,
    test's `paths`); otherwise a trailing optional DIR is added (unless positional=False).
    Works on the parsers other modules build too: an existing `--policies` is kept."""
    if "--policies" not in parser._option_string_actions:
        parser.add_argument("--policies", default=DEFAULT_POLICIES if folder_dest is None else None, metavar="DIR",
                            help=help or f"policy folder (default: {DEFAULT_POLICIES})")
    if folder_dest is None and positional:
        parser.add_argument(FOLDER, nargs="?", default=None, metavar="DIR", help=_FOLDER_HELP)
        folder_dest = FOLDER
    elif folder_dest is not None:
        for action in parser._actions:  # an existing positional folder: tell "not given" from the default
            if action.dest == folder_dest and not action.option_strings and action.nargs == "?":
                action.default = None
                action.help = _FOLDER_HELP
    parser.set_defaults(_folder_dest=folder_dest)
    return parser


def resolve_policies(args: argparse.Namespace) -> None:
    """args.policies from --policies DIR or the positional DIR (the same folder, given either way)."""
    dest = getattr(args, "_folder_dest", None)
    if dest is None or not hasattr(args, "policies"):
        return
    given = getattr(args, dest, None)
    if isinstance(given, list):  # `test PATHS...`: test files or folders, resolved by the command
        return
    option = args.policies
    if given is not None and option not in (None, DEFAULT_POLICIES) and Path(option) != Path(given):
        raise InputError([f"the policy folder is given twice, as {given} and as --policies {option}: give one"])
    folder = given or option or DEFAULT_POLICIES
    args.policies = folder
    setattr(args, dest, folder)


# -- options many commands share ---------------------------------------------------------------------------
def add_format(parser, choices=("text", "json"), default=None, help=None) -> None:
    default = default or choices[0]
    parser.add_argument("--format", choices=choices, default=default,
                        help=help or "output format (default: %(default)s)")


def add_lang(parser, what: str = "text output") -> None:
    parser.add_argument("--lang", choices=("en", "fr"), default="en", help=f"language of {what} (default: %(default)s)")


def add_facts(parser) -> None:
    """--facts FILE and --fact NAME=VALUE (read by read_facts)."""
    parser.add_argument("--facts", metavar="FILE", help="JSON or YAML mapping of facts; '-' reads standard input")
    parser.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                        help="one fact (repeatable); VALUE is read as JSON when it can be, else as text")


def pairs(items: list[str], option: str) -> list[tuple[str, str]]:
    """NAME=VALUE items of a repeatable option, or InputError naming the one written wrong."""
    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            shown = item if len(item) <= 60 else item[:60] + "…"
            raise InputError([f"{option} {shown}: write NAME=VALUE"])
        out.append((name.strip(), value))
    return out


# -- facts --------------------------------------------------------------------------------------------------
_BOM = "\ufeff"


def read_facts(args) -> dict:
    """The facts of --facts FILE (JSON or YAML) and of each --fact NAME=VALUE.

    Files are read as policy files are (regular, bounded, UTF-8, YAML through the
    bounded loader), so a facts file cannot hang or exhaust the command either; the
    values are checked by the decision's converters, like those given to evaluate().
    Text that looks like JSON is read as JSON, and when it is not valid JSON the JSON
    error is reported, with its line and column; a YAML flow mapping ({level: PL-06})
    is still read, as YAML, when the file is not named .json.
    """
    from ..source.files import SourceError, decode, read_source

    facts: dict = {}
    if args.facts:
        name = "<stdin>" if args.facts == "-" else args.facts
        try:
            if args.facts == "-":
                from ..limits import MAX_FILE_BYTES
                stdin = getattr(sys.stdin, "buffer", None)
                raw = stdin.read(MAX_FILE_BYTES + 1) if stdin else sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8")
                if len(raw) > MAX_FILE_BYTES:
                    raise InputError([f"--facts {name}: more than {MAX_FILE_BYTES:,} bytes"])
            else:
                raw = read_source(Path(args.facts))
        except SourceError as exc:  # the file as a whole: no line to point to
            raise InputError([f"--facts {name}: {exc.problem.message}"]) from None
        try:
            text = decode(raw, name)
        except SourceError as exc:  # path:line:col of the first byte that is not UTF-8
            raise InputError([f"--facts {exc.problem}"]) from None
        bom = text.startswith(_BOM)  # Windows editors start UTF-8 files with one: it is not content
        body = text[1:] if bom else text
        suffix = Path(name).suffix.lower()
        looks_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and body.lstrip()[:1] in ("{", "["))
        data, json_problem = None, None
        if looks_json:
            try:
                data = json.loads(body, parse_float=Decimal, parse_int=_json_int)
            except json.JSONDecodeError as exc:
                col = exc.colno + (1 if bom and exc.lineno == 1 else 0)
                json_problem = f"--facts {name}:{exc.lineno}:{col}: JSON error: {exc.msg}"
            except RecursionError:
                json_problem = f"--facts {name}: JSON nested too deeply"
        if not looks_json or (json_problem and suffix != ".json"):  # YAML (a flow mapping looks like JSON)
            from ..source.yamlsource import load_yaml
            data, _, problems = load_yaml(text, name)
            if problems:
                raise InputError([json_problem] if json_problem else [f"--facts {p}" for p in problems])
            json_problem = None
        if json_problem:
            raise InputError([json_problem])
        if not isinstance(data, dict):
            raise InputError([f"--facts {name}: expected a mapping of fact names to values"])
        facts.update(data)
    for name, raw in pairs(args.fact, "--fact"):
        try:
            facts[name] = json.loads(raw, parse_float=Decimal, parse_int=_json_int)
        except RecursionError:
            raise InputError([f"fact '{name}': nested too deeply"]) from None
        except ValueError:  # not JSON: the text itself, read by the fact's converter
            facts[name] = raw
    return facts


def _json_int(text: str):
    """A JSON integer: int, except -0 and very long ones, kept exact as Decimals so that the
    fact's converter can refuse them (int() would lose the sign, or refuse 4,300 digits)."""
    return int(text) if len(text) < 40 and text != "-0" else Decimal(text)


# -- loading ---------------------------------------------------------------------------------------------------
def load_policies(path):
    """The policies of a folder, through cli.main._load: the one place that loads them (tests
    replace it to load once)."""
    import importlib
    return importlib.import_module("policyengine.cli.main")._load(path)


def default_log() -> str:
    from ..audit.log import default_path
    return str(default_path())
