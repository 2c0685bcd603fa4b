"""YAML test cases for decisions: one case, one decision, one expectation.

Used by pytest (see conftest.py) and usable from any runner: `load_cases` reads and
checks a test file, `run_case` evaluates one case and says what differs.
"""
from __future__ import annotations

import json
from decimal import Decimal
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

from ..errors import InputError, NotInForceError, PolicyError, Problem
from ..policies import load
from ..source.loader import SCHEMA_DIR, schema_problems, written
from ..values import plain
from ..source.yamlsource import SourceError, decode, load_yaml, read_source

_CACHE: dict = {}


@dataclass
class Case:
    name: str
    decision: str
    as_of: object
    facts: dict
    expect: dict
    file: str
    line: int
    policies_dir: Path = field(default=None)
    presume: bool = True


def test_files(paths) -> list[Path]:
    """The YAML test files named, or found in `tests/` folders under the folders named."""
    out = []
    for p in map(Path, paths or ["policies"]):
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(f for f in p.rglob("*.y*ml") if f.parent.name == "tests" and f.suffix in (".yaml", ".yml")))
    return out


def policies_for(path: Path) -> Path:
    for parent in path.resolve().parents:
        if parent.name == "policies":
            return parent
    return path.resolve().parents[2]


_VALIDATOR = None


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = json.loads((SCHEMA_DIR / "test.schema.json").read_text())
        _VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return _VALIDATOR


def load_cases(path: str | Path, policies: str | Path | None = None) -> list[Case]:
    """The cases of a test file, or PolicyError with every problem at path:line:col (worded as the
    policy loader words them: unknown keys with "did you mean", values as written).  The cases
    run against the file's own `policies:` folder, else `policies`, else the enclosing one."""
    path = Path(path)
    try:  # the same bounds as policy files: a regular file, of bounded size, in UTF-8
        text = decode(read_source(path), str(path))
    except SourceError as exc:
        raise PolicyError([exc.problem]) from None
    data, smap, problems = load_yaml(text, str(path))
    if problems:
        raise PolicyError(problems)
    if data is None:
        raise PolicyError([Problem(smap.at(()), "empty test file: write tests: [...]")])
    errors = schema_problems(data, smap, _validator())
    if errors:
        raise PolicyError(errors)
    if data.get("policies"):
        root = (path.parent / data["policies"]).resolve()
    else:
        root = Path(policies).resolve() if policies else policies_for(path)
    return [Case(t["name"], t["decision"], t["as_of"], t.get("facts") or {}, t["expect"], str(path),
                 smap.at(("tests", i)).line, root, t.get("presume", True)) for i, t in enumerate(data["tests"])]


def policies(root: Path):
    key = str(root)
    if key not in _CACHE:
        _CACHE[key] = load(root)
    return _CACHE[key]


def _same(want, got) -> bool:
    """Equal as policy values: 64497 (YAML int) equals Decimal('64497'), True is not 1."""
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    if isinstance(want, (int, Decimal)) and isinstance(got, (int, Decimal)):
        return Decimal(want) == Decimal(got)
    return plain(want) == plain(got)


def _shown(value) -> str:
    """A value as the test file writes it: 93500 and 2.5, not '93500' or Decimal('2.5'); True and
    False as YAML also writes them."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    return written(value)


def _names(items) -> str:
    """Ids or names, as a YAML flow list writes them: ['ldp.B.12', 'ldp.B.13'], [] for none."""
    return "[" + ", ".join(f"'{x}'" for x in items) + "]"


def run_case(case: Case, observe=None) -> list[str]:
    """Evaluate the case; return the differences from what it expects (empty when it passes).
    `observe(decision)` sees each decision made (the coverage report uses it)."""
    exp = case.expect
    try:
        d = policies(case.policies_dir).evaluate(case.decision, case.facts, as_of=case.as_of, presume=case.presume)
        if observe is not None:
            observe(d)
    except NotInForceError as exc:
        return [] if exp.get("error") == "not_in_force" else [f"raised not-in-force: {exc}"]
    except InputError as exc:
        return [] if exp.get("error") == "input" else [f"raised input error: {exc}"]
    if "error" in exp:
        return [f"expected a {exp['error']} error, got {d.status} {_shown(d.value)}"]
    diffs = []
    status = exp.get("status", "decided" if "value" in exp else None)
    if status and d.status != status:
        why = [f"missing {', '.join(d.missing)}"] if d.missing else []
        why += [f"{m['kind']} under {m['citation']}: {m['en']}" for m in d.messages]
        diffs.append(f"status: expected {status}, got {d.status}" + (f" ({'; '.join(why)})" if why else ""))
    if "value" in exp:
        want, got = exp["value"], d.value
        if isinstance(want, dict) and isinstance(got, dict):
            for k, v in want.items():
                if not _same(v, got.get(k)):
                    diffs.append(f"value.{k}: expected {_shown(v)}, got {_shown(got.get(k))}")
        elif not _same(want, got):
            diffs.append(f"value: expected {_shown(want)}, got {_shown(got)}")
    for cid in exp.get("clauses", []):
        if cid not in (d.clauses or []):
            diffs.append(f"clauses: expected {cid} among {_names(d.clauses or [])}")
    if "missing" in exp and sorted(exp["missing"]) != d.missing:
        diffs.append(f"missing: expected {_names(sorted(exp['missing']))}, got {_names(d.missing)}")
    if "assumptions" in exp:
        got = [a["fact"] for a in d.assumptions]
        if sorted(exp["assumptions"]) != sorted(got):
            diffs.append(f"assumptions: expected {_names(sorted(exp['assumptions']))}, got {_names(sorted(got))}")
    if "refused_by" in exp:
        got = [m["clause"] for m in d.messages if m["kind"] == "refused"]
        if sorted(exp["refused_by"]) != sorted(got):
            diffs.append(f"refused_by: expected {_names(exp['refused_by'])}, got {_names(got)}")
    if diffs:
        diffs.append("trace:\n" + d.explain("en"))
    return diffs
