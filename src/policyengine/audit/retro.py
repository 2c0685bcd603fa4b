"""`policyengine retro`: retroactive remuneration (LDP Appendix B, 10.3), the amount a
revision owes, case by case.

A revision such as the 2009 PL rates takes effect on one date (2009-04-02) and is approved
on a later one (2009-04-23).  Pay administered in between used the rates then known; once
the revision is known, the difference is owed, and 10.3(2) has the home organization pay it
within 90 days of PSHRMAC's notification of the revised salary range.  This module asks the
engine the same question twice, as of one date but *as known on* two dates, and subtracts:
nothing here re-reads a table or re-implements a rule, so the amounts are the decisions'
own, with the clauses and table versions behind each.

Readings (docs/retro.md says more):

- The difference is after − before of the decision's money amount.  For a record-valued
  decision one money field is the amount owed (ldp.performance_pay: `new_salary`, the base
  salary after the in-range increase); every money field's difference is reported too.
- ldp.pay.annual_rate and ldp.performance_pay's new_salary are annual rates, so their
  difference is per annum.  The seed gives no period to pay it over (10.3(1) defers to the
  Retroactive Remuneration Directives, which it does not include): nothing is pro-rated.
- A case that is undetermined, refused or in conflict on either side has no difference,
  never a zero one; bad facts are reported with their row, never dropped.
- The payment deadline is computed only from a notification date the caller gives
  (ldp.retroactive_pay.administration: notification + 90 days); none is invented.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field as _field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from ..errors import EvaluationError, InputError, NotInForceError, PolicyEngineError, PolicyError, did_you_mean
from ..runtime.evaluator import SUBJECT
from ..runtime.facts import as_date
from ..values import plain

# The money field of a record-valued decision whose difference is the amount owed.
OWED_FIELDS = {"ldp.performance_pay": "new_salary"}
# Decisions whose amount is an annual rate: the difference is per annum.
PER_ANNUM = {"ldp.pay.annual_rate", "ldp.performance_pay", "ldp.pay.job_rate", "ldp.appointment_rate"}
# Per instrument: the rule that administers retroactive payments, the rule naming the
# directives that govern them, and the fact holding the notification date.
PAYMENT_RULES = {"ldp": ("ldp.retroactive_pay.administration", "ldp.retroactive_pay.governed_by",
                         "revision_notification_date")}
STATUSES = ("decided", "undetermined", "refused", "conflict", "bad", "error")
_API_NAMES = {"as_of": "as_of", "known_before": "known_before", "known_after": "known_after",
              "field": "field", "notified": "notified"}


# -- what one side (before or after) of a case says --------------------------------------------
_UNSET = object()


@dataclass
class Side:
    """One decision, summarized: the value as known on one date and what it rests on."""

    known_on: dt.date
    status: str
    value: Any  # the decision's value (a record for record-valued decisions)
    amount: Decimal | None  # the money amount compared (the owed field of a record)
    clauses: list
    versions_used: list  # each rule or table version the trace shows, with when it was known
    versions_excluded: list  # versions in force on as_of but not yet known on known_on
    missing: list = _field(default_factory=list)
    messages: list = _field(default_factory=list)
    assumptions: list = _field(default_factory=list)
    gaps: list = _field(default_factory=list)

    @classmethod
    def of(cls, d, owed: str | None, value=_UNSET) -> "Side":
        """The side of Decision d; with `value`, of a case on d's path with that value (batch)."""
        value = d.value if value is _UNSET else value
        amount = value.get(owed) if owed and isinstance(value, dict) else (None if owed else value)
        if d.status != "decided" or not isinstance(amount, Decimal):
            amount = None
        return cls(d.known_on, d.status, value, amount, list(d.clauses or ()), _versions_used(d.trace or ()),
                   list(d.versions_excluded), list(d.missing), d.messages, list(d.assumptions), list(d.gaps))

    def to_dict(self) -> dict:
        return {"known_on": plain(self.known_on), "status": self.status, "value": plain(self.value),
                "amount": plain(self.amount), "clauses": self.clauses, "versions_used": self.versions_used,
                "versions_excluded": self.versions_excluded, "missing": self.missing, "messages": self.messages,
                "assumptions": self.assumptions, "gaps": self.gaps}


def _versions_used(trace) -> list[dict]:
    """Each dated rule, table or exception version the trace read, once, in trace order."""
    out, seen, stack = [], set(), list(reversed(trace))
    while stack:
        f = stack.pop()
        v = f.get("version")
        if v is not None and f.get("kind") in ("rule", "table", "exception"):
            key = (f["kind"], f["id"], v.get("effective"))
            if key not in seen:
                seen.add(key)
                out.append({"kind": f["kind"], "id": f["id"], "clause": f.get("clause"),
                            "citation": f.get("citation"), **v})
        stack.extend(reversed(f.get("children", ())))
    return out


def _version_key(v: dict) -> tuple:
    return v["kind"], v["id"], v.get("effective")


# -- one case -------------------------------------------------------------------------------------
@dataclass
class RetroCase:
    """The amount known before and after a revision, and the difference owed."""

    decision: str
    as_of: dt.date
    known_before: dt.date
    known_after: dt.date
    field: str | None  # the owed money field of a record-valued decision; None for a money decision
    status: str  # decided | undetermined | refused | conflict | bad | error
    before: Side | None = None
    after: Side | None = None
    difference: Decimal | None = None  # after − before of the owed amount; None unless both are decided
    differences: dict = _field(default_factory=dict)  # every money field of a record: after − before
    revision: list = _field(default_factory=list)  # versions used after and not before: the revision
    basis: list = _field(default_factory=list)  # the clauses behind the difference, with citations
    payment: dict = _field(default_factory=dict)  # 10.3(2): who pays it, by when (if notified is given)
    per_annum: bool = False
    row: int | None = None  # 1-based row of a population
    subject_id: Any = None
    errors: list = _field(default_factory=list)  # bad facts or what could not be computed

    @property
    def clauses(self) -> list[str]:
        return [b["clause"] for b in self.basis]

    def to_dict(self) -> dict:
        out = {}
        if self.row is not None:
            out["row"] = self.row
        if self.subject_id is not None:
            out["subject_id"] = plain(self.subject_id)
        out.update({
            "decision": self.decision, "as_of": plain(self.as_of), "known_before": plain(self.known_before),
            "known_after": plain(self.known_after), "status": self.status, "field": self.field,
            "difference": plain(self.difference), "per_annum": self.per_annum,
            "differences": plain(self.differences), "clauses": self.clauses if self.difference is not None else [],
            "basis": self.basis if self.difference is not None else [], "revision": self.revision,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "errors": self.errors,
        })
        if self.row is None:
            out["payment"] = self.payment
        return out

    def detail(self) -> str:
        """Why there is no difference, in one line: the errors, or each side's missing facts,
        gaps and refusals (said once when both sides say the same)."""
        if self.errors:
            return "; ".join(self.errors)
        said = {}
        for name, side in (("before", self.before), ("after", self.after)):
            if side is not None and side.status != "decided":
                said[name] = _why(side)
        if not said and self.status == "decided" and self.difference is None:
            return "no money amount to compare"
        if len(said) == 2 and said["before"] == said["after"]:
            said = {"before and after": said["before"]}
        return "; ".join(f"{name} {why}" for name, why in said.items())


def _why(side: Side) -> str:
    parts = []
    if side.missing:
        parts.append(f"{side.status}: missing {', '.join(side.missing)}")
    for g in side.gaps:
        parts.append(f"{side.status}: the source text is lost at {g.get('citation')} ({g.get('rule')})"
                     if isinstance(g, dict) else f"{side.status}: gap {g}")
    for m in side.messages:
        parts.append(f"{m['kind']}: {m['en']} [{m['citation']}]")
    return "; ".join(dict.fromkeys(parts)) or side.status


class _Retro:
    """One decision, one date and two dates of knowledge, checked once for many cases."""

    def __init__(self, policies, decision, as_of, known_before, known_after, field=None, notified=None,
                 presume=True, names=_API_NAMES):
        self.policies, self.presume = policies, presume
        self.as_of = as_date(as_of, names["as_of"])
        self.before = as_date(known_before, names["known_before"])
        self.after = as_date(known_after, names["known_after"])
        _ordered(self.before, self.after, names)
        self.notified = None if notified is None else as_date(notified, names["notified"])
        rule = policies.rule(decision)  # UnknownDecisionError, with "did you mean"
        self.decision, self.rule = rule.id, rule
        self.field = _owed_field(rule, field, names["field"])
        t = rule.type
        self.money_fields = [k for k, ft in t.fields if ft.kind == "money"] if t is not None and t.kind == "record" else []
        self.per_annum = rule.id in PER_ANNUM
        self.payment, self._payment_basis = self._payment()
        # A date outside the instrument's force, or before it was known, concerns every case:
        # asking once here reports it once, not as a bad row per person.
        for known in (self.before, self.after):
            _probe(policies, self.decision, self.as_of, known, presume)

    def _payment(self):
        names = PAYMENT_RULES.get(self.rule.instrument)
        if not names or names[0] not in self.policies.rules:
            return {}, []
        admin = self.policies.rules[names[0]]
        governed = self.policies.rules.get(names[1])
        basis = [_cite(x) for x in (governed, admin) if x is not None]
        payment = {"clause": admin.clause, "citation": admin.citation, "text": admin.text,
                   "governed_by": _cite(governed, text=True) if governed is not None else None,
                   "notified": plain(self.notified), "deadline": None, "administered_by": None}
        if self.notified is not None:
            d = self.policies.evaluate(admin.id, {names[2]: self.notified}, self.notified, trace="none")
            if d.status == "decided" and isinstance(d.value, dict):
                payment["administered_by"] = plain(d.value.get("administered_by"))
                payment["deadline"] = plain(d.value.get("deadline"))
        return payment, basis

    def _new_case(self, facts, row):
        """(the case, its facts without subject_id); a row that is no mapping is a bad case."""
        subject = None
        if isinstance(facts, dict) and SUBJECT in facts:
            facts = dict(facts)
            subject = facts.pop(SUBJECT)
        c = RetroCase(self.decision, self.as_of, self.before, self.after, self.field, "decided",
                      per_annum=self.per_annum, row=row, subject_id=subject, payment=self.payment)
        if not isinstance(facts, dict):
            c.status, c.errors = "bad", ["a row must be a mapping of fact names to values"]
        return c, facts

    def case(self, facts, row=None) -> RetroCase:
        c, facts = self._new_case(facts, row)
        if c.errors:
            return c
        sides = []
        for known in (self.before, self.after):
            try:
                d = self.policies.evaluate(self.decision, facts, self.as_of, trace="audit", presume=self.presume,
                                           known_on=known)
            except InputError as exc:
                c.status, c.errors = "bad", list(dict.fromkeys(c.errors + list(exc.problems)))
                continue
            except EvaluationError as exc:
                c.status, c.errors = "error", list(dict.fromkeys(c.errors + [str(exc)]))
                continue
            sides.append(Side.of(d, self.field))
        return self._compared(c, sides)

    def cases(self, rows: list) -> list:
        """case() for every row, each side decided for all rows at once by the batch backend."""
        from ..batch.engine import evaluate_batch
        out, facts, where = [], [], []
        for n, row in enumerate(rows, 1):
            c, row = self._new_case(row, n)
            out.append(c)
            if not c.errors:
                facts.append(row)
                where.append(c)
        if not facts:
            return out
        sides = [evaluate_batch(self.policies, self.decision, facts, as_of=self.as_of, known_on=known,
                                presume=self.presume, _keep=True)[1] for known in (self.before, self.after)]
        for j, c in enumerate(where):
            got = []
            for rows_of in sides:
                if rows_of.status(j) == "error":  # bad facts name their fact; an evaluation error names none
                    errors = rows_of.errors(j)
                    c.status = "bad" if any(f is not None for f, _ in errors) else "error"
                    c.errors = list(dict.fromkeys(c.errors + [p for _, p in errors]))
                    continue
                got.append(Side.of(rows_of.path_decision(j), self.field, rows_of.value(j)))
            self._compared(c, got)
        return out

    def _compared(self, c, sides) -> "RetroCase":
        """The case with its two sides: the differences, the revision, the basis."""
        if c.errors:
            return c
        c.before, c.after = sides
        statuses = {c.before.status, c.after.status}
        c.status = next((s for s in ("conflict", "refused", "undetermined") if s in statuses), "decided")
        if c.status != "decided":
            return c
        if self.field is not None:
            for k in self.money_fields:
                a, b = c.before.value.get(k), c.after.value.get(k)
                if isinstance(a, Decimal) and isinstance(b, Decimal):
                    c.differences[k] = b - a
        if c.before.amount is not None and c.after.amount is not None:
            c.difference = c.after.amount - c.before.amount
        used = {_version_key(v) for v in c.before.versions_used}
        c.revision = [v for v in c.after.versions_used if _version_key(v) not in used]
        basis = [_cite(self.rule)]
        for v in c.revision:
            basis.append({"clause": v["clause"], "citation": v["citation"]})
        c.basis = list({b["clause"]: b for b in basis + self._payment_basis}.values())
        return c


def _ordered(before, after, names) -> None:
    if not before < after:
        raise InputError([f"{names['known_before']} ({before}) must be before {names['known_after']} ({after}): "
                          f"the first is the date the amount paid was known, the second the date the revision was"])


def _probe(policies, decision, as_of, known, presume):
    """Raise NotInForceError (or the decision's own plan error) before any case is decided.

    Evaluating with no facts reaches the plan, whose errors do not depend on the facts; the
    decision itself (undetermined, most likely) is not used."""
    try:
        policies.evaluate(decision, {}, as_of, trace="none", presume=presume, known_on=known)
    except (InputError, EvaluationError):
        pass  # about the (absent) facts: each case reports its own


def _cite(rule, text=False) -> dict:
    out = {"clause": rule.clause, "citation": rule.citation}
    if text:
        out["text"] = rule.text
    return out


def _owed_field(rule, field, name) -> str | None:
    t = rule.type
    kind = t.kind if t is not None else None
    if kind == "record":
        money = [k for k, ft in t.fields if ft.kind == "money"]
        if not money:
            raise InputError([f"decision '{rule.id}' gives a record with no money field: nothing to pay"])
        if field is None:
            field = OWED_FIELDS.get(rule.id) or (money[0] if len(money) == 1 else None)
            if field is None:
                raise InputError([f"{name}: decision '{rule.id}' gives several amounts ({', '.join(money)}): "
                                  f"name the one owed"])
        if field not in money:
            raise InputError([f"{name}: '{field}' is not a money field of '{rule.id}' (its money fields: "
                              f"{', '.join(money)}){did_you_mean(str(field), money)}"])
        return field
    if field is not None:
        raise InputError([f"{name}: decision '{rule.id}' gives one amount, not a record"])
    if kind not in (None, "money", "any"):
        raise InputError([f"decision '{rule.id}' gives {t}, not a money amount: there is no difference to pay"])
    return None


def retro(policies, decision: str, facts: dict, as_of, known_before, known_after, *, field: str | None = None,
          notified=None, presume: bool = True) -> RetroCase:
    """The amount of `decision` for `facts` as of `as_of`, as known on `known_before` and on
    `known_after`, and the difference owed (after − before).

    Bad facts raise InputError, dates outside the instrument NotInForceError, as evaluate()
    does.  `field` names the money field owed of a record-valued decision (default: see
    OWED_FIELDS, or the only money field); `notified` (PSHRMAC's notification of the revised
    salary range) gives the payment deadline of 10.3(2).
    """
    c = _Retro(policies, decision, as_of, known_before, known_after, field, notified, presume).case(facts)
    if c.status == "bad":
        raise InputError(c.errors)
    if c.status == "error":
        raise EvaluationError(c.errors[0])
    return c


# -- a population -----------------------------------------------------------------------------------
@dataclass
class RetroPopulation:
    """One RetroCase per input row, in order, and the total owed."""

    decision: str
    as_of: dt.date
    known_before: dt.date
    known_after: dt.date
    field: str | None
    per_annum: bool
    cases: list
    payment: dict

    @property
    def total(self) -> Decimal:
        """The sum of the differences over the rows decided on both sides."""
        return sum((c.difference for c in self.cases if c.difference is not None), Decimal(0))

    @property
    def counts(self) -> dict:
        out = dict.fromkeys(STATUSES, 0)
        for c in self.cases:
            out[c.status] += 1
        out["rows"] = len(self.cases)
        out["with_difference"] = sum(1 for c in self.cases if c.difference)
        return out

    @property
    def bad_rows(self) -> list[RetroCase]:
        return [c for c in self.cases if c.status in ("bad", "error")]

    def to_dict(self) -> dict:
        return {"decision": self.decision, "as_of": plain(self.as_of), "known_before": plain(self.known_before),
                "known_after": plain(self.known_after), "field": self.field, "per_annum": self.per_annum,
                "total": plain(self.total), "counts": self.counts, "payment": self.payment,
                "rows": [c.to_dict() for c in self.cases]}


def retro_population(policies, decision: str, rows: Iterable, as_of, known_before, known_after, *,
                     field: str | None = None, notified=None, presume: bool = True) -> RetroPopulation:
    """retro() for each row (a mapping of facts; a `subject_id` is passed through): one case
    per row, numbered from 1.  A row with bad facts is a case with status "bad" and its
    errors, never left out; the total sums the differences of the rows decided."""
    r = _Retro(policies, decision, as_of, known_before, known_after, field, notified, presume)
    return _population(r, rows)


def _population(r: _Retro, rows) -> RetroPopulation:
    rows = list(rows)
    try:
        cases = r.cases(rows)
    except ImportError:  # without the batch extra (numpy, pyarrow): case by case
        cases = [r.case(row, n) for n, row in enumerate(rows, 1)]
    return RetroPopulation(r.decision, r.as_of, r.before, r.after, r.field, r.per_annum, cases, r.payment)


def read_population(path) -> list:
    """The rows of a CSV file (header row), JSON array or JSON lines, read by the project's
    readers: `diff --population`'s (CSV cells read as JSON where they can be, so `true`
    and `2` are a boolean and a number) and, for a JSON array, the PL-06 report's."""
    from ..tools.diff import read_population as read_csv_or_lines
    path = Path(path)
    try:
        if path.suffix.lower() != ".csv" and _is_json_array(path):
            from ..gc.report import read_rows
            try:
                return [row for _, row in read_rows(path)]
            except InputError as exc:
                raise InputError([f"--population {p}" for p in exc.problems]) from None
        return read_csv_or_lines(path)
    except RecursionError:
        raise InputError([f"--population {path}: JSON nested too deeply"]) from None


def _is_json_array(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False  # the reader reports it
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["


# -- output -------------------------------------------------------------------------------------------
CSV_COLUMNS = ("row", "subject_id", "decision", "as_of", "known_before", "known_after", "status", "field",
               "before", "after", "difference", "before_status", "after_status", "differences", "clauses",
               "before_versions", "before_excluded", "after_versions", "presumed", "detail")


def _versions_text(versions) -> str:
    return " ".join(f"{v['id']}@{v['effective']}" for v in versions)


def _excluded_text(versions) -> str:
    return " ".join(f"{v['id']}@{v['excluded']['effective']}" for v in versions)


def csv_row(c: RetroCase) -> dict:
    b, a = c.before, c.after
    presumed = sorted({x["fact"] for s in (b, a) if s for x in s.assumptions})
    return {
        "row": c.row if c.row is not None else 1, "subject_id": plain(c.subject_id) if c.subject_id is not None else "",
        "decision": c.decision, "as_of": plain(c.as_of), "known_before": plain(c.known_before),
        "known_after": plain(c.known_after), "status": c.status, "field": c.field or "",
        "before": _cell(b.amount if b else None), "after": _cell(a.amount if a else None),
        "difference": _cell(c.difference), "before_status": b.status if b else "", "after_status": a.status if a else "",
        "differences": " ".join(f"{k}={plain(v)}" for k, v in c.differences.items()),
        "clauses": " ".join(c.clauses) if c.difference is not None else "",
        "before_versions": _versions_text(b.versions_used) if b else "",
        "before_excluded": _excluded_text(b.versions_excluded) if b else "",
        "after_versions": _versions_text(a.versions_used) if a else "",
        "presumed": " ".join(presumed), "detail": c.detail(),
    }


def _cell(v) -> str:
    return "" if v is None else plain(v)


def to_csv(result) -> str:
    """CSV of a RetroCase or RetroPopulation: one line per row; a population ends with a
    `total` line (the sum of the differences, and the counts in `detail`)."""
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    cases = result.cases if isinstance(result, RetroPopulation) else [result]
    for c in cases:
        w.writerow(csv_row(c))
    if isinstance(result, RetroPopulation):
        counts = result.counts
        w.writerow({"row": "total", "decision": result.decision, "as_of": plain(result.as_of),
                    "known_before": plain(result.known_before), "known_after": plain(result.known_after),
                    "field": result.field or "", "difference": plain(result.total),
                    "detail": ", ".join(f"{k} {counts[k]}" for k in ("rows",) + STATUSES)})
    return out.getvalue()


def _head(r) -> str:
    what = f"{r.decision}" + (f" ({r.field})" if r.field else "")
    unit = " a year" if r.per_annum else ""
    return (f"{what} as of {r.as_of}: known on {r.known_before} (before) and on {r.known_after} (after); "
            f"difference = after - before{', per annum (an annual rate, not pro-rated)' if unit else ''}")


def _case_lines(c: RetroCase, indent="") -> list[str]:
    who = ""
    if c.row is not None:
        who = f"row {c.row}" + (f" ({plain(c.subject_id)})" if c.subject_id is not None else "") + ": "
    unit = " a year" if c.per_annum else ""
    if c.status in ("bad", "error"):
        return [f"{indent}{who}{'bad facts' if c.status == 'bad' else 'error'}: {'; '.join(c.errors)}"]
    if c.status != "decided" or c.difference is None:
        return [f"{indent}{who}{c.detail()}"]
    b, a = c.before, c.after
    cites = "; ".join(x["citation"] for x in c.basis)
    lines = [f"{indent}{who}{plain(b.amount)} -> {plain(a.amount)}, difference {plain(c.difference)}{unit} [{cites}]"]
    if c.row is None:
        for name, s in (("before", b), ("after", a)):
            used = ", ".join(f"{v['id']} {v['effective']} (known from {v.get('known_from', v['effective'])})"
                             for v in s.versions_used if v["kind"] == "table") or "-"
            left = ", ".join(f"{v['id']} {v['excluded']['effective']} (known from {v['excluded']['known_from']})"
                             for v in s.versions_excluded) or "none"
            shown = json.dumps(plain(s.value), ensure_ascii=False) if c.field else plain(s.amount)
            lines.append(f"{indent}  {name}, known on {s.known_on}: {shown}"
                         f"; clauses {' '.join(s.clauses)}; tables used {used}; left out {left}")
            if s.assumptions:
                lines.append(f"{indent}    presumed: " + ", ".join(f"{x['fact']}={json.dumps(x['value'])}"
                                                                   for x in s.assumptions))
        if c.differences:
            lines.append(f"{indent}  differences: " + ", ".join(f"{k} {plain(v)}" for k, v in c.differences.items()))
    return lines


def _payment_line(payment: dict) -> list[str]:
    if not payment:
        return []
    line = (f"paid under {payment['citation']}: {payment['text']}")
    if payment.get("deadline"):
        line += f" Notified {payment['notified']}: pay by {payment['deadline']}."
    else:
        line += " (No notification date given: --notified DATE gives the deadline.)"
    out = [line]
    if payment.get("governed_by"):
        out.append(f"governed by {payment['governed_by']['citation']}: {payment['governed_by']['text']}")
    return out


def to_text(result) -> str:
    if isinstance(result, RetroCase):
        lines = [_head(result)] + _case_lines(result) + _payment_line(result.payment)
        return "\n".join(lines) + "\n"
    lines = [_head(result)]
    for c in result.cases:
        lines += _case_lines(c, "  ")
    counts = result.counts
    unit = " a year" if result.per_annum else ""
    lines.append(f"total: {plain(result.total)}{unit} over {counts['decided']} decided row(s) of {counts['rows']}; "
                 + ", ".join(f"{counts[k]} {k}" for k in STATUSES[1:]))
    return "\n".join(lines + _payment_line(result.payment)) + "\n"


# -- command -------------------------------------------------------------------------------------------
_CLI_NAMES = {"as_of": "--as-of", "known_before": "--known-before", "known_after": "--known-after",
              "field": "--field", "notified": "--notified"}


def add_parser(subparsers) -> None:
    r = subparsers.add_parser(
        "retro", help="retroactive remuneration (LDP 10.3): the amount known before and after a revision, "
                      "and the difference owed",
        description="Decide DECISION as of --as-of twice: as known on --known-before (the rates then approved) "
                    "and as known on --known-after (once the revision was approved), and give the difference "
                    "owed (after - before), each amount with the clauses and table versions behind it. For one "
                    "case (--facts/--fact) or a population (--population: CSV with a header row, JSON array or "
                    "JSON lines; one output row per input row, numbered from 1, a subject_id column passed "
                    "through, bad rows listed with their errors, and the total). Annual rates give a per annum "
                    "difference, not pro-rated. 10.3(2): the home organization pays retroactive payments within "
                    "90 days of PSHRMAC's notification of the revised salary range.",
        epilog="Exit codes: 0 done; 2 bad input (dates, facts, a population with bad rows) or a single case "
               "refused; 3 not in force (or not yet known).")
    r.add_argument("decision", help="decision id, e.g. ldp.pay.annual_rate or ldp.performance_pay")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--facts", metavar="FILE", help="JSON or YAML mapping of facts for one case; '-' reads standard input")
    src.add_argument("--population", metavar="FILE", help="CSV (header row), JSON array or JSON lines: one case a row")
    r.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="one fact of the single case (repeatable); VALUE is read as JSON when it can be")
    r.add_argument("--as-of", required=True, metavar="DATE", help="the date the pay is for, YYYY-MM-DD "
                   "(for PL-06 performance pay, the April 1 it is administered)")
    r.add_argument("--known-before", required=True, metavar="DATE",
                   help="date of knowledge of the amount paid: only versions approved by then count")
    r.add_argument("--known-after", required=True, metavar="DATE",
                   help="date of knowledge once the revision is approved (after --known-before)")
    r.add_argument("--field", metavar="NAME", help="for a record-valued decision, the money field owed "
                   "(default: new_salary for ldp.performance_pay, else the only money field)")
    r.add_argument("--notified", metavar="DATE", help="date of PSHRMAC's notification of the revised salary range: "
                   "gives the 10.3(2) deadline (notification + 90 days); none is assumed")
    r.add_argument("--no-presume", dest="presume", action="store_false",
                   help="strict: a presumed fact not given is missing instead of taking its presumed value")
    r.add_argument("--policies", default="policies", metavar="DIR", help="policy folder (default: %(default)s)")
    r.add_argument("--format", choices=("text", "json", "csv"), default="text",
                   help="text (for people), json, or csv (one line per row, then the total; default: %(default)s)")


def run(args, read_facts=None) -> int:
    """The `retro` command; prints its errors as `error: ...` and returns the exit code.

    `read_facts(args)` reads --facts/--fact as `eval` does (cli.main._read_facts): it is
    passed in because this module cannot import the command line, which imports it."""
    import sys
    try:
        return _run(args, read_facts)
    except PolicyError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    except NotInForceError as exc:
        print(f"not in force: {exc}", file=sys.stderr)
        return 3
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    except PolicyEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _load_policies(path):
    """The policies of --policies, loaded as the audit layer loads them (see records.py)."""
    from ..runtime.evaluator import PolicyEvaluator
    from ..source.loader import load_model
    return PolicyEvaluator(load_model(path))


def _run(args, read_facts) -> int:
    # the dates first: a mistyped one is reported before anything is loaded
    for opt, value in (("--as-of", args.as_of), ("--known-before", args.known_before),
                       ("--known-after", args.known_after), ("--notified", args.notified)):
        if value is not None:
            as_date(value, opt)
    _ordered(as_date(args.known_before), as_date(args.known_after), _CLI_NAMES)
    if args.population and args.fact:
        raise InputError(["--fact gives the facts of one case: put them in the --population file's columns"])
    if not (args.population or args.facts or args.fact):
        raise InputError(["give the case: --facts FILE or --fact NAME=VALUE, or --population FILE"])
    rows = read_population(args.population) if args.population else None
    facts = None
    if rows is None:
        if read_facts is None:
            raise PolicyEngineError("retro.run(args, read_facts=...) needs the command line's reader of "
                                    "--facts/--fact (policyengine.cli.main._read_facts)")
        facts = read_facts(args)
    policies = _load_policies(args.policies)
    r = _Retro(policies, args.decision, args.as_of, args.known_before, args.known_after, args.field,
               args.notified, args.presume, _CLI_NAMES)
    if rows is not None:
        result = _population(r, rows)
        code = 2 if result.bad_rows else 0
    else:
        result = r.case(facts)
        if result.status == "bad":
            raise InputError(result.errors)
        if result.status == "error":
            raise EvaluationError(result.errors[0])
        code = 2 if result.status == "refused" else 0
    if args.format == "json":
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        print(to_csv(result), end="")
    else:
        print(to_text(result), end="")
    return code
