"""The checked policy model: instruments, facts, clauses, rules, versions and tables.

One model feeds everything (evaluation, explanation, graph, docs, coverage), so it
keeps each element's citation, verbatim text, bilingual label and source location.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..errors import Location


@dataclass(frozen=True)
class Type:
    kind: str  # boolean integer decimal money date duration text enum list record
    values: tuple = ()  # enum values
    of: "Type | None" = None  # list item type
    fields: tuple = ()  # record: ((name, Type), ...)
    unit: str | None = None  # duration: "days" | "months" (None: either), since the two never mix

    def __str__(self) -> str:
        if self.kind == "enum":
            return "one of " + ", ".join(map(str, self.values))
        if self.kind == "list":
            return f"list of {self.of}"
        if self.kind == "record":
            return "record {" + ", ".join(f"{n}: {t}" for n, t in self.fields) + "}"
        return self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("integer", "decimal", "money")


BOOLEAN, INTEGER, DECIMAL, MONEY = Type("boolean"), Type("integer"), Type("decimal"), Type("money")
DATE, DURATION, TEXT = Type("date"), Type("duration"), Type("text")
DAYS, MONTHS = Type("duration", unit="days"), Type("duration", unit="months")  # weeks are days, years months
SCALARS = {t.kind: t for t in (BOOLEAN, INTEGER, DECIMAL, MONEY, DATE, DURATION, TEXT)}


@dataclass
class Label:
    en: str
    fr: str

    def get(self, lang: str) -> str:
        return self.fr if lang == "fr" else self.en


@dataclass
class Instrument:
    id: str
    kind: str
    title: Label
    source: dict
    start: dt.date | None  # None: the source gives no in-force date (open-ended)
    end: dt.date | None  # first day no longer in force (exclusive)
    rescinded: dt.date | None
    replaces: list[str]
    status: str | None
    location: Location
    files: list[str] = field(default_factory=list)
    disclosure: dict = field(default_factory=dict)  # {"rule": ..., "salary_range": ...}
    sections: dict[str, "Section"] = field(default_factory=dict)

    def in_force(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def force_text(self) -> str:
        if self.start is None:
            return "open-ended: the source gives no in-force date" + (
                f"; rescinded {self.rescinded}" if self.rescinded else "")
        if self.rescinded:
            return f"in force from {self.start} and rescinded {self.rescinded}"
        if self.end:
            return f"in force from {self.start} to {self.end - dt.timedelta(days=1)}"
        return f"in force from {self.start}"


@dataclass
class Section:
    """A numbered section or paragraph of an instrument, for the clause inventory."""

    id: str  # clause id without the instrument prefix, e.g. B.10.7.12
    title: str
    operative: bool
    reason: str | None
    location: Location


@dataclass
class FactDecl:
    name: str
    type: Type
    label: Label
    instrument: str
    unit: str | None
    minimum: Any
    maximum: Any
    location: Location
    description: str | None = None
    disclosure: str | None = None  # kind of personal information, for redacted views
    presumption: "Presumption | None" = None  # the value assumed when the caller gives none


    @property
    def id(self) -> str:
        """Facts belong to their instrument: ldp.level and etm.level are different facts."""
        return f"{self.instrument}.{self.name}"


@dataclass
class Presumption:
    """A declared, cited value for a fact callers rarely give: a decision that relies on it
    says so, and strict evaluation (presume=False) treats the fact as missing instead."""

    value: Any  # already converted to the fact's type
    citation: str | None  # lint flags a presumption without one
    clause: str | None  # clause id derived from the citation, e.g. ldp.B.10.7.5
    reason: Label
    location: Location


@dataclass
class Clause:
    """Anything an auditor can cite: a rule, an exception, a table."""

    id: str  # full id, e.g. ldp.pay.annual_rate
    clause: str  # clause id from the citation, e.g. ldp.B.12
    instrument: str
    citation: str
    text: str
    label: Label
    location: Location
    note: str | None = None


@dataclass
class Expr:
    """One expression of a policy, with where it was written."""

    source: str
    node: Any  # ast.Node
    smap: Any  # yamlsource.SourceMap of the file it was written in
    path: tuple  # YAML path of the string, to locate errors inside it

    def locate(self, node=None) -> Location:
        """Where a node of this expression (or the expression itself) is written."""
        if node is None:
            return self.smap.at(self.path)
        return self.smap.inside(self.path, node.line, node.col)


class Body:
    """What a rule version computes.  One typed variant per kind of body; walk them with
    `model.walk` (a visitor per variant) rather than switching on `kind`."""

    kind = ""  # the YAML key that wrote it: value | all | any | record | gap | select


@dataclass
class ValueBody(Body):
    """`value: EXPR`: the rule is the expression's value."""

    expr: Expr | None
    kind = "value"


@dataclass
class ConditionsBody(Body):
    """`all: [...]` / `any: [...]`: conditions combined with Kleene and / or."""

    kind: str  # "all" | "any"
    items: list["Condition"] = field(default_factory=list)


@dataclass
class RecordBody(Body):
    """`record: {field: EXPR}`: a record of named values."""

    fields: dict[str, Expr] = field(default_factory=dict)
    kind = "record"


@dataclass
class GapBody(Body):
    """`gap: {...}`: the source text lost this clause; every decision needing it is undetermined."""

    gap: dict = field(default_factory=dict)
    kind = "gap"


@dataclass
class SelectBody(Body):
    """`select: {by, cases, default}`: only the case picked by a value is evaluated."""

    on: Expr | None = None
    cases: dict = field(default_factory=dict)  # case value -> Expr
    default: Expr | None = None
    kind = "select"


@dataclass
class Condition:
    """An item of an all/any set: a bare expression, or a cited sub-rule."""

    expr: Expr | None = None
    rule: "Rule | None" = None


@dataclass
class ExceptionClause(Clause):
    when: Expr | None = None
    value: Expr | None = None


def known_from(version) -> tuple[dt.date | None, str]:
    """When a version could first be known, and on what basis: its approval date, else (the
    source giving none) its effective date, as published.  Never an invented approval date."""
    if version.approved is not None:
        return version.approved, "approved"
    return version.effective, "effective"


def version_at(versions, day: dt.date, known_on: dt.date | None = None):
    """The version in force on `day`; with `known_on`, as it was known on that date: only
    versions known by then count, each running until the next *known* one takes effect."""
    if known_on is None:
        for v in versions:
            if (v.effective is None or v.effective <= day) and (v.end is None or day < v.end):
                return v
        return None
    unknown_starts = set()
    chosen = None
    for v in versions:  # in order of effective date
        start = known_from(v)[0]
        if start is not None and start > known_on:
            unknown_starts.add(v.effective)
        elif v.effective is None or v.effective <= day:
            chosen = v
    if chosen is None or chosen.end is None or day < chosen.end or chosen.end in unknown_starts:
        return chosen  # an end set only by a successor not yet known does not end it
    return None


def version_dict(version) -> dict:
    """A version's dates as records and traces state them: when it took effect, when it was
    approved (None: the source gives no date), and from when it counts as known, and why."""
    when, basis = known_from(version)
    return {"effective": None if version.effective is None else version.effective.isoformat(),
            "approved": None if version.approved is None else version.approved.isoformat(),
            "known_from": None if when is None else when.isoformat(),
            "known_by": "approval date" if basis == "approved" else
                        "effective date (the source gives no approval date)"}


def versions_text(versions, known_on: dt.date | None = None) -> str:
    """The versions of a rule or table, for an error saying none applies."""
    out = []
    for v in versions:
        text = f"from {v.effective}" + (f" to {v.end - dt.timedelta(days=1)}" if v.end else "")
        if known_on is not None:
            when, basis = known_from(v)
            text += f" (known from {when}, its {'approval' if basis == 'approved' else 'effective'} date)"
        out.append(text)
    return ", ".join(out)


@dataclass
class RuleVersion:
    effective: dt.date | None
    end: dt.date | None  # exclusive
    approved: dt.date | None
    body: Body
    exceptions: list[ExceptionClause]
    requires: list[tuple[str, Location]]
    text: str | None = None
    citation: str | None = None


@dataclass
class Rule(Clause):
    decision: bool = False
    declared_type: Type | None = None
    message: Label | None = None
    versions: list[RuleVersion] = field(default_factory=list)
    type: Type | None = None  # inferred result type
    parent: str | None = None  # for condition sub-rules
    disclosure: Any = None  # kind of personal information of the value (or {field: kind})

    def version_at(self, day: dt.date, known_on: dt.date | None = None) -> RuleVersion | None:
        return version_at(self.versions, day, known_on)


@dataclass
class TableKey:
    name: str
    values: tuple


@dataclass
class TableVersion:
    effective: dt.date | None  # None: an undated table, in force with its instrument
    end: dt.date | None
    approved: dt.date | None
    cells: dict[tuple, Any]
    label: str | None
    location: Location


@dataclass
class Table(Clause):
    keys: list[TableKey] = field(default_factory=list)
    value_type: Type = MONEY
    versions: list[TableVersion] = field(default_factory=list)
    approved: dt.date | None = None

    def version_at(self, day: dt.date, known_on: dt.date | None = None) -> TableVersion | None:
        return version_at(self.versions, day, known_on)


@dataclass
class Entry(Clause):
    """One cited item of a catalogue (an obligation, a plan activity)."""

    values: dict = field(default_factory=dict)
    uncertain: dict = field(default_factory=dict)  # field -> values the source does not show with certainty
    uncertain_note: str | None = None


@dataclass
class Catalogue(Clause):
    fields: dict = field(default_factory=dict)  # name -> FactDecl
    entries: list = field(default_factory=list)


@dataclass
class Query:
    """A named filter over a catalogue: each parameter matches any of its fields."""

    id: str
    instrument: str
    label: Label
    catalogue: str
    parameters: dict  # name -> tuple of field names
    note: str | None
    location: Location
