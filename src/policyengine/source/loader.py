"""YAML files -> schema check -> checked model, reporting every problem with file:line:col.

Loading is all-or-nothing: either every file is valid and a `Policies` object comes
back, or `PolicyError` lists every problem found (schema, syntax, names, types, cycles).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import Location, PolicyError, Problem, did_you_mean
from ..runtime.facts import Bad, bound_problems, converter
from ..model.elements import (SCALARS, Catalogue, Condition, ConditionsBody, Entry, ExceptionClause, Expr, FactDecl,
                              GapBody, Instrument, Label, Presumption, Query, RecordBody, Rule, RuleVersion, Section,
                              SelectBody, Table, TableKey, TableVersion, Type, ValueBody)
from ..model.policy import PolicyModel
from . import cache
from .files import SourceError, SourceMap, decode, read_source

FORMAT = "policyengine/1"
_CITATION = re.compile(r"(?:Appendix\s+([A-Z])(?:\s*,\s*|\s+))?(?:(?:s\.|section)\s*)?([0-9]+(?:\.[0-9]+)*)?((?:\([0-9a-z]+\))*)")


def _schemas():
    """The package's schemas (package data: found in any installation)."""
    from importlib import resources  # here, not above: not needed to load a model from the cache
    return resources.files("policyengine") / "schemas"


def __getattr__(name: str):
    """SCHEMA_DIR, made when first asked for (see _schemas)."""
    if name == "SCHEMA_DIR":
        globals()[name] = _schemas()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_yaml(text: str, file: str):
    """yamlsource.load_yaml, imported on first use: PyYAML is not needed for a model from the cache."""
    from .yamlsource import load_yaml as parse
    return parse(text, file)


def policy_files(root: Path) -> list[Path]:
    """The policy YAML files under root, leaving out test folders.

    Every entry named *.yaml or *.yml is listed, whatever it is: reading refuses what is
    not a regular file, so a FIFO or a device is reported rather than silently skipped.
    """
    if not root.is_dir():
        return [root]
    return sorted(p for p in root.rglob("*.y*ml")
                  if p.suffix in (".yaml", ".yml") and "tests" not in p.relative_to(root).parts[:-1])


def policy_hash(sources: dict[str, bytes]) -> str:
    """SHA-256 over the files' relative paths and contents, in path order."""
    digest = hashlib.sha256()
    for rel in sorted(sources):
        digest.update(rel.encode() + b"\0" + sources[rel] + b"\0")
    return "sha256:" + digest.hexdigest()


def _jsonable(value):
    """A copy for JSON Schema: dates as ISO strings, decimals as numbers."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


_VALIDATOR = None


def schema_validator() -> jsonschema.Draft202012Validator:
    global _VALIDATOR
    if _VALIDATOR is None:
        import jsonschema  # here, not above: a model from the cache is never schema-checked again
        schema = json.loads((_schemas() / "policy.schema.json").read_text())
        _VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return _VALIDATOR


def schema_problems(data: Any, smap: SourceMap, validator=None) -> list[Problem]:
    """The schema problems of one YAML document, worded as people write YAML (unknown keys with
    "did you mean", values as written), each at its path:line:col.  `validator` checks another
    schema (test files) in the same words; the default is the policy file schema."""
    problems = []
    for err in (validator or schema_validator()).iter_errors(_jsonable(data)):
        problems.extend(_explain_schema_error(err, smap))
    return problems


def _explain_schema_error(err, smap: SourceMap) -> list[Problem]:
    return [Problem(smap.at(path, key=at_key), message)
            for path, at_key, message in describe_schema_error(err, _where)]


def _where(path: tuple) -> str:
    return "/".join(str(p) for p in path) or "the file"


_TYPE_WORDS = {"string": "text", "number": "a number", "integer": "a whole number", "boolean": "true or false",
               "array": "a list", "object": "a mapping", "null": "nothing"}


def written(value) -> str:
    """A value as a person writes it in YAML or JSON, not as Python shows it: 2.5 and 93500 (not
    Decimal('2.5') or '93500'), text in quotes, null, true and false, lists in brackets; cut short."""
    from ..values import plain
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + (value if len(value) <= 60 else value[:60] + "…") + "'"
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        text = str(plain(value)) if isinstance(value, Decimal) else str(value)
        return text if len(text) <= 40 else text[:40] + "…"
    if isinstance(value, (list, tuple)):
        items = [written(v) for v in value[:10]]
        return "[" + ", ".join(items) + (", …" if len(value) > 10 else "") + "]"
    if isinstance(value, dict):
        items = [f"{k}: {written(v)}" for k, v in list(value.items())[:10]]
        return "{" + ", ".join(items) + (", …" if len(value) > 10 else "") + "}"
    text = str(plain(value))
    return text if len(text) <= 60 else text[:60] + "…"


def describe_schema_error(err, where_of=_where, noun: str = "key") -> list[tuple[tuple, bool, str]]:
    """(path, at the key?, message) for one jsonschema error, in the engine's words: the loader's
    for policy files, and the same for test files and report rows (`where_of` names the place,
    `noun` what a property is called there: a YAML key, a report field)."""
    path = tuple(err.absolute_path)
    where = where_of(path)
    v, value = err.validator, err.validator_value
    if v == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
        out = []
        for key in extra:
            hint = did_you_mean(key, allowed) or (f" (allowed: {', '.join(allowed)})" if allowed else "")
            out.append((path + (key,), True, f"unknown {noun} '{key}' in {where}{hint}"))
        return out
    if v == "required":
        m = re.fullmatch(r"'(.+)' is a required property", err.message)  # one error per missing key
        missing = [m.group(1)] if m else [k for k in value if isinstance(err.instance, dict) and k not in err.instance]
        return [(path + (k,), False, f"{where}: missing {noun} '{k}' (required)") for k in missing[:1]]
    if v in ("anyOf", "oneOf") and err.context:
        options = [e.schema.get("const") for e in err.context if e.validator == "const"]
        if v == "oneOf" and len(options) == len(err.context):  # a code list: say which codes there are
            titles = {e.schema.get("const"): e.schema.get("title") for e in err.context}
            shown = ", ".join(f"{written(o)}" + (f" ({titles[o]})" if titles.get(o) else "") for o in options)
            return [(path, False, f"{where}: {written(err.instance)} is not one of {shown}")]
        # report the branch that got furthest: usually the mapping form
        best = max(err.context, key=lambda e: len(e.absolute_path))
        return describe_schema_error(best, where_of, noun)
    if v == "pattern":
        return [(path, True, f"'{err.instance}' is not a valid name here: use lower-case letters, digits, '_' "
                             "(and '.' between parts)")]
    if v == "format" and value == "date":
        return [(path, False, f"{where}: {written(err.instance)} is not a date (write YYYY-MM-DD)")]
    if v == "type":
        kinds = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_WORDS.get(k, k) for k in kinds)
        return [(path, False, f"{where}: expected {wanted}, got {written(err.instance)}")]
    if v == "enum":
        hint = did_you_mean(err.instance, [x for x in value if isinstance(x, str)]) if isinstance(err.instance, str) else ""
        return [(path, False, f"{where}: {written(err.instance)} is not one of "
                              f"{', '.join(str(x) if isinstance(x, str) else written(x) for x in value)}{hint}")]
    if v == "const":
        return [(path, False, f"{where}: expected {written(value)}, got {written(err.instance)}")]
    if v in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        word = {"minimum": "below the minimum", "exclusiveMinimum": "not above", "maximum": "above the maximum",
                "exclusiveMaximum": "not below"}[v]
        return [(path, False, f"{where}: {written(err.instance)} is {word} {written(value)}")]
    if v in ("minLength", "minItems", "minProperties") and value == 1:
        return [(path, False, f"{where}: must not be empty")]
    if v == "minItems":
        return [(path, False, f"{where}: needs at least {value} items, found {len(err.instance)}")]
    return [(path, False, f"{where}: {err.message}")]


def clause_id(citation: str) -> str | None:
    """'Appendix B, 10.7(12)' -> 'B.10.7.12'; None when the citation has no simple form."""
    m = _CITATION.fullmatch(citation.strip())
    if not m or not (m.group(1) or m.group(2)):
        return None
    parts = [m.group(1)] if m.group(1) else []
    if m.group(2):
        parts.extend(m.group(2).split("."))
    parts.extend(re.findall(r"\(([0-9a-z]+)\)", m.group(3) or ""))
    return ".".join(parts)


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _presumed(decl: FactDecl):
    """What a presumption says, without where it was written: two declarations must agree on it."""
    p = decl.presumption
    return None if p is None else (p.value, p.clause, p.reason)


def _label(raw) -> Label:
    raw = raw or {}
    return Label(str(raw.get("en", "")), str(raw.get("fr", "")))


class _Builder:
    """Turns validated file data into model objects, collecting problems."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.instruments: dict[str, Instrument] = {}
        self.facts: dict[str, FactDecl] = {}
        self.rules: dict[str, Rule] = {}
        self.tables: dict[str, Table] = {}
        self.catalogues: dict[str, Catalogue] = {}
        self.queries: dict[str, Query] = {}
        self.files: list[tuple[dict, SourceMap]] = []

    def error(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc, message))

    # -- instruments -------------------------------------------------------------
    def add_instrument(self, raw: dict, smap: SourceMap) -> None:
        iid = raw["id"]
        loc = smap.at(("instrument", "id"))
        if iid in self.instruments:
            self.error(loc, f"instrument '{iid}' is already defined at {self.instruments[iid].location}")
            return
        force = raw.get("in_force") or {}
        start = _date(force.get("from"))  # None: the source gives no date, so the instrument is open-ended
        rescinded = _date(force.get("rescinded"))
        to = _date(force.get("to"))
        if to and rescinded:
            self.error(smap.at(("instrument", "in_force")), "give either 'to' (last day) or 'rescinded', not both")
        end = rescinded or (to + dt.timedelta(days=1) if to else None)
        if end and start and end <= start:
            self.error(smap.at(("instrument", "in_force")), f"instrument '{iid}' ends ({end}) before it starts ({start})")
        self.instruments[iid] = Instrument(
            id=iid, kind=raw["kind"], title=_label(raw["title"]), source=dict(raw["source"]), start=start,
            end=end, rescinded=rescinded, replaces=list(raw.get("replaces", [])), status=raw.get("status"),
            location=loc, disclosure=dict(raw.get("disclosure") or {}))

    # -- common pieces -------------------------------------------------------------
    def expr(self, raw, smap: SourceMap, path: tuple) -> Expr | None:
        source = raw if isinstance(raw, str) else ("true" if raw is True else "false" if raw is False else str(raw))
        from ..expr.parser import ExprSyntaxError, parse  # lark: only when files are read, not from the cache
        try:
            node = parse(source)
        except ExprSyntaxError as exc:
            self.error(smap.inside(path, exc.line, exc.col), f"syntax error: {exc}")
            return None
        return Expr(source, node, smap, path)

    def clause_meta(self, raw: dict, smap: SourceMap, path: tuple, iid: str, full_id: str, inherit=None) -> dict:
        citation = raw.get("citation") or (inherit.citation if inherit else "")
        text = raw.get("text") or (inherit.text if inherit and not raw.get("citation") else "")
        explicit = raw.get("clause")
        derived = explicit or clause_id(citation) if citation else None
        if derived is None and inherit is not None:
            cid = inherit.clause
        elif derived is None:
            self.error(smap.at(path + ("citation",)),
                       f"cannot derive a clause id from citation '{citation}': add 'clause:' (e.g. 'B.10.7.12')")
            cid = f"{iid}.?"
        else:
            cid = derived if derived.startswith(iid + ".") else f"{iid}.{derived}"
        label = _label(raw.get("label")) if raw.get("label") else (inherit.label if inherit else Label("", ""))
        return dict(id=full_id, clause=cid, instrument=iid, citation=citation, text=text, label=label,
                    location=smap.at(path, key=True), note=raw.get("note"))

    def add_section(self, inst: Instrument, sid: str, raw: dict, smap: SourceMap) -> None:
        loc = smap.at(("sections", sid), key=True)
        if sid in inst.sections:
            self.error(loc, f"section '{sid}' is listed twice (first at {inst.sections[sid].location})")
            return
        operative = raw["status"] == "operative"
        if not operative and not raw.get("reason"):
            self.error(loc, f"informative section '{sid}' needs a 'reason' (why no rule encodes it)")
        inst.sections[sid] = Section(sid, raw["title"], operative, raw.get("reason"), loc)

    # -- facts ----------------------------------------------------------------------
    def add_fact(self, name: str, raw: dict, smap: SourceMap, iid: str) -> None:
        decl = self.fact_decl(name, raw, smap, ("facts", name), iid)
        prior = self.facts.get(decl.id)
        if prior is not None:  # the same fact may be declared in two files of an instrument, identically
            if prior.type != decl.type:
                self.error(decl.location, f"fact '{name}' is declared as {decl.type} here but as {prior.type} "
                                          f"at {prior.location}")
            elif _presumed(prior) != _presumed(decl):
                self.error(decl.location, f"fact '{name}' is presumed differently here and at {prior.location}: "
                                          f"a fact has one presumption")
            return
        self.facts[decl.id] = decl

    def fact_decl(self, name: str, raw: dict, smap: SourceMap, path: tuple, iid: str) -> FactDecl:
        """A typed declaration (of a fact, or of a catalogue field)."""
        kind = raw["type"]
        if kind == "enum":
            if not raw.get("values"):
                self.error(smap.at(path), f"enum fact '{name}' needs 'values'")
            ftype = Type("enum", tuple(raw.get("values", ())))
        elif kind == "list":
            item = raw.get("items", "text")
            if item == "record":
                fields = tuple((n, self.fact_decl(n, f, smap, path + ("fields", n), iid).type)
                               for n, f in (raw.get("fields") or {}).items())
                if not fields:
                    self.error(smap.at(path), f"list of records '{name}' needs 'fields'")
                of = Type("record", fields=fields)
            else:
                if item == "enum" and not raw.get("values"):
                    self.error(smap.at(path), f"list of enums '{name}' needs 'values'")
                of = Type("enum", tuple(raw["values"])) if raw.get("values") else SCALARS.get(item, Type(item))
            ftype = Type("list", of=of)
        else:
            if kind == "duration":  # no converter reads one: a caller could not give it
                self.error(smap.at(path + ("type",)), f"fact '{name}' is a duration, but facts cannot be durations: "
                                                      "declare an integer with a unit such as months")
            ftype = SCALARS[kind]
        decl = FactDecl(name, ftype, _label(raw["label"]), iid, raw.get("unit"), raw.get("min"), raw.get("max"),
                        smap.at(path, key=True), raw.get("description"), raw.get("disclosure"))
        for key, message in bound_problems(decl):  # read min and max as the fact's own values, now
            self.error(smap.at(path + (key,)), message)
        if "presumed" in raw:
            decl.presumption = self.presumption(decl, raw["presumed"], smap, path + ("presumed",), iid)
        return decl

    def presumption(self, decl: FactDecl, raw: dict, smap: SourceMap, path: tuple, iid: str):
        """The presumed value, checked as the fact's own value now, and the clause it rests on."""
        if path[0] != "facts":
            self.error(smap.at(path, key=True), f"'{decl.name}' is a field, not a fact: only facts can be presumed")
            return None
        try:
            value = converter(decl)(raw["value"])
        except Bad as exc:
            self.error(smap.at(path + ("value",)), f"presumed value of fact '{decl.name}': {exc}")
            return None
        citation = raw.get("citation")
        clause = None
        if citation:
            derived = raw.get("clause") or clause_id(citation)
            if derived is None:
                self.error(smap.at(path + ("citation",)), f"cannot derive a clause id from citation '{citation}': "
                                                          "add 'clause:'")
            else:
                clause = derived if derived.startswith(iid + ".") else f"{iid}.{derived}"
        return Presumption(value, citation, clause, _label(raw["reason"]), smap.at(path, key=True))

    # -- catalogues and queries ------------------------------------------------------------
    _ENTRY_META = {"id", "citation", "clause", "text", "label", "note", "uncertain"}

    def add_catalogue(self, local: str, raw: dict, smap: SourceMap, iid: str) -> None:
        path = ("catalogues", local)
        full = f"{iid}.{local}"
        cat = Catalogue(**self.clause_meta(raw, smap, path, iid, full))
        cat.fields = {n: self.fact_decl(n, f, smap, path + ("fields", n), iid) for n, f in raw["fields"].items()}
        convert = {n: converter(d) for n, d in cat.fields.items()}
        seen = set()
        for i, e in enumerate(raw["entries"]):
            epath = path + ("entries", i)
            eid = f"{full}.{e['id']}"
            if eid in seen:
                self.error(smap.at(epath + ("id",)), f"entry '{e['id']}' appears twice in catalogue '{full}'")
            seen.add(eid)
            entry = Entry(**self.clause_meta(e, smap, epath, iid, eid, inherit=cat))
            for key, value in e.items():
                if key in self._ENTRY_META:
                    continue
                if key not in cat.fields:
                    self.error(smap.at(epath + (key,), key=True), f"'{key}' is not a field of catalogue '{full}'"
                                                                 f"{did_you_mean(key, cat.fields)}")
                    continue
                try:
                    entry.values[key] = convert[key](value)
                except Bad as exc:
                    self.error(smap.at(epath + (key,)), f"field '{key}': {exc}")
            unsure = dict(e.get("uncertain") or {})
            entry.uncertain_note = unsure.pop("note", None)
            for key, value in unsure.items():
                if key not in cat.fields or cat.fields[key].type.kind != "list":
                    self.error(smap.at(epath + ("uncertain", key), key=True),
                               f"uncertain values need a list field of catalogue '{full}', not '{key}'")
                    continue
                try:
                    entry.uncertain[key] = convert[key](value)
                except Bad as exc:
                    self.error(smap.at(epath + ("uncertain", key)), f"uncertain '{key}': {exc}")
            cat.entries.append(entry)
        self.catalogues[full] = cat

    def add_query(self, local: str, raw: dict, smap: SourceMap, iid: str) -> None:
        path = ("queries", local)
        full = f"{iid}.{local}"
        params = {n: tuple(p["fields"]) for n, p in raw["parameters"].items()}
        self.queries[full] = Query(full, iid, _label(raw["label"]), raw["catalogue"], params, raw.get("note"),
                                   smap.at(path, key=True))

    def check_queries(self) -> None:
        for q in self.queries.values():
            cat = self.catalogues.get(f"{q.instrument}.{q.catalogue}") or self.catalogues.get(q.catalogue)
            if cat is None:
                self.error(q.location, f"query '{q.id}': unknown catalogue '{q.catalogue}'"
                                       f"{did_you_mean(q.catalogue, self.catalogues)}")
                continue
            q.catalogue = cat.id
            for name, fields in q.parameters.items():
                for f in fields:
                    if f not in cat.fields:
                        self.error(q.location, f"query '{q.id}', parameter '{name}': '{f}' is not a field of "
                                               f"'{cat.id}'{did_you_mean(f, cat.fields)}")

    # -- tables ---------------------------------------------------------------------
    def add_table(self, local: str, raw: dict, smap: SourceMap, iid: str) -> None:
        path = ("tables", local)
        full = f"{iid}.{local}"
        if full in self.tables or full in self.rules:
            self.error(smap.at(path, key=True), f"'{full}' is defined twice")
            return
        keys = [TableKey(k["name"], tuple(k["values"])) for k in raw["keys"]]
        table = Table(**self.clause_meta(raw, smap, path, iid, full), keys=keys, value_type=SCALARS[raw["value"]],
                      approved=_date(raw.get("approved")))
        def effective(v):
            return _date(v.get("effective"))

        versions = sorted(enumerate(raw["versions"]), key=lambda iv: effective(iv[1]) or dt.date.min)
        if len(versions) > 1 and any(effective(v) is None for _, v in versions):
            self.error(smap.at(path + ("versions",)), f"table '{full}' has several versions: each needs 'effective'")
        for n, (i, v) in enumerate(versions):
            vpath = path + ("versions", i)
            cells: dict = {}
            self._cells(v["rows"], keys, (), cells, smap, vpath + ("rows",), table.value_type)
            nxt = effective(versions[n + 1][1]) if n + 1 < len(versions) else None
            eff = effective(v)
            if nxt is not None and nxt == eff:
                self.error(smap.at(vpath), f"table '{full}' has two versions effective {eff}")
            table.versions.append(TableVersion(eff, nxt, _date(v.get("approved")) or table.approved, cells,
                                               v.get("label"), smap.at(vpath)))
        self.tables[full] = table

    def _cells(self, rows, keys, prefix, cells, smap, path, vtype) -> None:
        key = keys[len(prefix)]
        last = len(prefix) == len(keys) - 1
        if isinstance(rows, list):
            if len(rows) != len(key.values):
                self.error(smap.at(path), f"expected {len(key.values)} values, one per {key.name} "
                                          f"({', '.join(map(str, key.values))}), found {len(rows)}")
            items = list(zip(key.values, rows, range(len(rows))))
        elif isinstance(rows, dict):
            items = []
            for k, v in rows.items():
                kv = k
                if k not in key.values and str(k) in map(str, key.values):
                    kv = next(x for x in key.values if str(x) == str(k))
                if kv not in key.values:
                    self.error(smap.at(path + (k,), key=True),
                               f"'{k}' is not a value of key '{key.name}'{did_you_mean(str(k), map(str, key.values))}")
                    continue
                items.append((kv, v, k))
        else:
            self.error(smap.at(path), f"expected rows keyed by {key.name}")
            return
        for kv, v, pk in items:
            if last:
                cells[prefix + (kv,)] = self._cell(v, vtype, smap, path + (pk,))
            else:
                self._cells(v, keys, prefix + (kv,), cells, smap, path + (pk,), vtype)

    def _cell(self, v, vtype, smap, path):
        if vtype.numeric:
            if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
                self.error(smap.at(path), f"table cell must be a number, found {written(v)}")
                return None
            return Decimal(v) if vtype.kind in ("money", "decimal") else v
        return v

    # -- rules ----------------------------------------------------------------------
    def add_rule(self, local: str, raw: dict, smap: SourceMap, iid: str, path: tuple, parent: Rule | None = None) -> Rule | None:
        full = f"{iid}.{local}"
        if full in self.rules or full in self.tables:
            self.error(smap.at(path, key=True), f"'{full}' is defined twice")
            return None
        meta = self.clause_meta(raw, smap, path, iid, full, inherit=parent)
        if parent is None and not raw.get("text"):
            self.error(smap.at(path, key=True), f"rule '{full}' has no 'text': quote the source clause it encodes")
        declared = raw.get("type")
        rule = Rule(**meta, decision=bool(raw.get("decision")),
                    declared_type=(SCALARS.get(declared) or Type(declared)) if declared else None,
                    message=_label(raw["message"]) if raw.get("message") else None,
                    parent=parent.id if parent else None, disclosure=raw.get("disclosure"))
        self.rules[full] = rule
        if "versions" in raw:
            if any(k in raw for k in ("value", "all", "any", "record", "gap", "select", "exceptions", "requires")):
                self.error(smap.at(path, key=True), f"rule '{full}' has 'versions': put value/all/any/record, exceptions and requires inside each version")
            versions = sorted(enumerate(raw["versions"]), key=lambda iv: _date(iv[1]["effective"]))
            for n, (i, v) in enumerate(versions):
                vpath = path + ("versions", i)
                nxt = _date(versions[n + 1][1]["effective"]) if n + 1 < len(versions) else None
                to = _date(v.get("to"))
                end = to + dt.timedelta(days=1) if to else nxt
                if nxt and end and end > nxt:
                    self.error(smap.at(vpath), f"version of '{full}' effective {v['effective']} overlaps the next one ({nxt})")
                rv = self._version(v, smap, vpath, iid, rule, _date(v["effective"]), end)
                if rv:
                    rule.versions.append(rv)
        else:
            rv = self._version(raw, smap, path, iid, rule, None, None)
            if rv:
                rule.versions.append(rv)
        return rule

    def _version(self, raw, smap, path, iid, rule: Rule, effective, end) -> RuleVersion | None:
        kinds = [k for k in ("value", "all", "any", "record", "gap", "select") if k in raw]
        if len(kinds) != 1:
            what = "none" if not kinds else " and ".join(kinds)
            self.error(smap.at(path, key=True),
                       f"rule '{rule.id}' needs exactly one of value, all, any, record, gap, select (found {what})")
            return None
        kind = kinds[0]
        if kind == "value":
            body = ValueBody(self.expr(raw["value"], smap, path + ("value",)))
        elif kind == "gap":
            body = GapBody(dict(raw["gap"]))
        elif kind == "select":
            sel, spath = raw["select"], path + ("select",)
            body = SelectBody(self.expr(sel["by"], smap, spath + ("by",)))
            for key, src in sel["cases"].items():
                e = self.expr(src, smap, spath + ("cases", key))
                if e:
                    body.cases[key] = e
            if "default" in sel:
                body.default = self.expr(sel["default"], smap, spath + ("default",))
        elif kind == "record":
            body = RecordBody()
            for name, src in raw["record"].items():
                e = self.expr(src, smap, path + ("record", name))
                if e:
                    body.fields[name] = e
        else:
            body = ConditionsBody(kind)
            for i, item in enumerate(raw[kind]):
                ipath = path + (kind, i)
                if isinstance(item, dict):
                    local = rule.id.split(".", 1)[1] + "." + item["id"]
                    sub = self.add_rule(local, item, smap, iid, ipath, parent=rule)
                    if sub:
                        body.items.append(Condition(rule=sub))
                else:
                    e = self.expr(item, smap, ipath)
                    if e:
                        body.items.append(Condition(expr=e))
        exceptions = []
        for i, ex in enumerate(raw.get("exceptions", [])):
            epath = path + ("exceptions", i)
            meta = self.clause_meta(ex, smap, epath, iid, f"{iid}.{ex['id']}")
            exceptions.append(ExceptionClause(**meta, when=self.expr(ex["when"], smap, epath + ("when",)),
                                              value=self.expr(ex["value"], smap, epath + ("value",))))
        requires = [(name, smap.at(path + ("requires", i))) for i, name in enumerate(raw.get("requires", []))]
        return RuleVersion(effective, end, _date(raw.get("approved")), body, exceptions, requires,
                           text=raw.get("text") if effective else None,
                           citation=raw.get("citation") if effective else None)


def load_model(root: str | Path = "policies", use_cache: bool = True) -> PolicyModel:
    """Load and check every policy file under root; raise PolicyError listing every problem.
    An unchanged folder comes from the model cache (cache.py) unless use_cache is False."""
    root = Path(root)
    if not root.exists():
        raise PolicyError([Problem(None, f"{root}: no such file or directory")])
    files = policy_files(root)
    if not files:
        raise PolicyError([Problem(None, f"{root}: no policy files (*.yaml) found")])
    b = _Builder()
    sources: dict[str, bytes] = {}  # relative path -> bytes: hashed, and kept for the decision log
    raws = []
    unread: dict[str, tuple[Problem, set | None]] = {}  # file not built -> (its first problem, names it may define)
    for f in files:
        try:  # bounded: regular files only, at most MAX_FILE_BYTES
            raw = read_source(f)
        except SourceError as exc:
            b.problems.append(exc.problem)
            unread[str(f)] = (exc.problem, None)
            continue
        sources[f.relative_to(root).as_posix() if root.is_dir() else f.name] = raw
        raws.append((f, raw))
    entry = None
    if use_cache and not b.problems:  # the same files, from the same folder, under the same engine: the same model
        entry = cache.key(root, policy_hash(sources))
        cached = cache.get(entry)
        if cached is not None:
            cached.sources = sources  # the files just read, whose hash is in the entry's key: kept out of it
            return cached
    parsed = []
    shapeless = False  # a file failed its schema: names it defines are unknown, so skip name checks
    for f, raw in raws:
        try:  # UTF-8
            text = decode(raw, str(f))
        except SourceError as exc:
            b.problems.append(exc.problem)
            unread[str(f)] = (exc.problem, _names_in(raw.decode("utf-8", errors="replace")))
            continue
        data, smap, problems = load_yaml(text, str(f))
        b.problems.extend(problems)
        if data is None:
            if not problems:
                b.error(Location(str(f), 1, 1), "empty policy file")
            unread[str(f)] = (b.problems[-1], _names_in(text))
            continue
        if not isinstance(data, dict):
            b.error(smap.at(()), "a policy file is a mapping with 'format' and 'instrument' at the top")
            unread[str(f)] = (b.problems[-1], _names_in(text))
            continue
        schema = schema_problems(data, smap)
        # a value the YAML reader refused (e.g. the date 2006-13-02) is already reported: the schema's
        # complaint about what was left in its place (null) on the same spot says nothing more
        reported = {p.location for p in problems}
        b.problems.extend(p for p in schema if p.location not in reported)
        if schema:
            unread[str(f)] = (next((p for p in schema if p.location not in reported), schema[0]), _names_in(text))
            shapeless = True
        else:
            parsed.append((data, smap))
    for data, smap in parsed:
        if isinstance(data["instrument"], dict):
            b.add_instrument(data["instrument"], smap)
    for data, smap in parsed:
        iid = data["instrument"] if isinstance(data["instrument"], str) else data["instrument"]["id"]
        if iid not in b.instruments:
            b.error(smap.at(("instrument",)), f"unknown instrument '{iid}'{did_you_mean(iid, b.instruments)}: "
                                              "define it with a mapping (id, kind, title, source, in_force) in one file")
            continue
        b.instruments[iid].files.append(smap.file)
        for sid, raw in (data.get("sections") or {}).items():
            b.add_section(b.instruments[iid], sid, raw, smap)
        for name, raw in (data.get("facts") or {}).items():
            b.add_fact(name, raw, smap, iid)
        for name, raw in (data.get("tables") or {}).items():
            b.add_table(name, raw, smap, iid)
        for name, raw in (data.get("rules") or {}).items():
            b.add_rule(name, raw, smap, iid, ("rules", name))
        for name, raw in (data.get("catalogues") or {}).items():
            b.add_catalogue(name, raw, smap, iid)
        for name, raw in (data.get("queries") or {}).items():
            b.add_query(name, raw, smap, iid)
    b.check_queries()
    graph = None
    if not shapeless:
        from ..expr import typecheck
        graph, problems = typecheck.check(b.instruments, b.facts, b.rules, b.tables)
        b.problems.extend(problems)
    if b.problems:
        raise PolicyError(_sorted(_without_follow_ons(b.problems, unread)))
    model = PolicyModel(root, b.instruments, b.facts, b.rules, b.tables, graph, policy_hash(sources),
                        b.catalogues, b.queries, sources)
    if entry is not None:
        model.sources = {}  # a hit reads the files anyway (their hash is the key) and puts them back
        try:
            cache.put(entry, model)
        finally:
            model.sources = sources
    return model


_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?([A-Za-z_][A-Za-z0-9_.]*)[ \t]*:(?=\s|$)", re.M)
_ID_VALUE = re.compile(r"^[ \t]*(?:-[ \t]+)?id[ \t]*:[ \t]*['\"]?([A-Za-z_][A-Za-z0-9_.]*)", re.M)
_UNKNOWN = re.compile(r"\bunknown (?:name|table|rule|instrument|catalogue) '([^']+)'")


def _names_in(text: str) -> set:
    """The names a policy file may define, read from its text alone (it could not be built):
    every key and every id written (an instrument's, an exception's), so a file that does not parse still says
    which of the unknown names elsewhere it would have defined."""
    return set(_KEY.findall(text)) | set(_ID_VALUE.findall(text))


def _without_follow_ons(problems: list[Problem], unread: dict) -> list[Problem]:
    """The problems, less those that follow from a file not being built.

    A file that cannot be read, decoded, parsed, or that fails its schema defines nothing, so
    other files' references to what it defines come out as unknown names, tables, rules or
    instruments (with a misleading "did you mean").  Those are left out when the file that was
    not built may define the name, and that file's first problem says so, once."""
    if not unread:
        return problems
    kept, skipped = [], {}
    for p in problems:
        m = _UNKNOWN.search(p.message)
        source = _defined_in(m.group(1), unread, p.location.path if p.location else None) if m else None
        if source is None:
            kept.append(p)
        else:
            skipped[source] = skipped.get(source, 0) + 1
    for file, n in skipped.items():
        first = unread[file][0]
        kept.append(Problem(first.location or Location(file, 1, 1),
                            f"this file could not be used, so the names it defines are unknown elsewhere: "
                            f"{n} problem(s) in other files that may follow from it were not reported; "
                            "fix this file and check again"))
    return kept


def _defined_in(name: str, unread: dict, where: str | None) -> str | None:
    """The unbuilt file (other than `where`) that may define `name` (or its tail: ldp.pay.job_rate,
    pay.job_rate, job_rate), or None.  A file that could not be read at all may define anything
    its instrument's folder uses."""
    parts = name.split(".")
    tails = {".".join(parts[i:]) for i in range(len(parts))}
    for file, (_, names) in unread.items():
        if file == where:
            continue
        if names is None and where is not None and Path(where).parent == Path(file).parent:
            return file
        if names is not None and tails & names:
            return file
    return None


def _sorted(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return sorted(out, key=lambda p: (p.location.path, p.location.line, p.location.col) if p.location else ("", 0, 0))
