"""Checks an annual PL-06 performance pay report (Appendix B, s. 14) row by row.

Each row is checked against the report's JSON Schema (fields, rating codes 0-4, reasons
1-4 for "unable to assess"); with the date the pay was administered, each row is also
re-decided under the policy (ldp.performance_pay), so a wrong percentage, final salary or
performance award is reported with the clause it breaks.  The report does not say who is paid
on the previous plan's scale (Appendix C, 3.4.1): a percentage only that scale allows is
reported as such.  Due date: July 15 (6.2.1 and s. 14).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import jsonschema

from ..errors import InputError
from ..source.loader import SCHEMA_DIR, describe_schema_error
from ..source.yamlsource import SourceError, decode
from ..values import plain

SCHEMA = SCHEMA_DIR / "pl06_performance_pay_report.schema.json"
CODES_TABLE = "ldp.report_rating_codes"  # s. 14 rating codes, read from the policy


@dataclass
class RowProblem:
    row: int  # 1-based data row
    line: int  # line in the file
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}): {self.field}: {self.message}"


def read_text(path: Path, option: str = "") -> str:
    """The UTF-8 text of a data file (a byte-order mark dropped), or InputError naming the file
    and, when it is not UTF-8, the line:col of the first bad byte.  `option` (e.g. "--population ")
    starts each message, saying which argument named the file."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError([f"{option}{path}: cannot read: {exc.strerror or exc}"]) from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = decode(raw, str(path))
    except SourceError as exc:
        raise InputError([f"{option}{exc.problem}"]) from None
    return text[1:] if bom else text


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line, record) pairs from a CSV (header row), JSON array, or JSON-lines file."""
    text = read_text(path)
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        return [(reader.line_num, {k.strip(): v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""})
                for row in reader]
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            data = json.loads(text, parse_float=Decimal)
            return [(i + 1, r) for i, r in enumerate(data)]
        return [(n, json.loads(line, parse_float=Decimal)) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    except json.JSONDecodeError as exc:
        raise InputError([f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]) from None


def _coerce(record: dict, schema: dict) -> dict:
    """CSV cells are text: read numbers and JSON lists as the schema's types say."""
    props = schema.get("properties", {})
    out = {}
    for k, v in record.items():
        kind = props.get(k, {}).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if isinstance(v, str):
            try:
                if "integer" in kinds and v.lstrip("-").isdigit():
                    v = int(v)
                elif "number" in kinds:
                    v = float(Decimal(v.replace(",", "").lstrip("$")))
                elif "array" in kinds or "object" in kinds:
                    v = json.loads(v)
            except (ArithmeticError, ValueError):
                pass
        elif isinstance(v, Decimal):
            v = float(v)
        out[k] = v
    return out


def check(path: Path, policies=None, as_of: dt.date | None = None, submitted: dt.date | None = None) -> tuple[int, list[str]]:
    """Return (number of rows, problems).  Policy checks run when `policies` and `as_of` are given."""
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    rows = read_rows(path)
    problems: list[str] = []
    if as_of and submitted:
        due = dt.date(as_of.year, 7, 15)
        if submitted > due:
            problems.append(f"report submitted {submitted}, after the July 15 due date ({due}) "
                            f"[6.2.1; Appendix B, 14]")
    checked = []  # (n, line, record) of the rows whose decisions are checked
    per_row: list[list[str]] = []
    for n, (line, raw) in enumerate(rows, 1):
        found: list[str] = []
        per_row.append(found)
        if not isinstance(raw, dict):
            found.append(str(RowProblem(n, line, "-", "a row must be a record of fields")))
            continue
        record = _coerce(raw, schema)
        errors = sorted(validator.iter_errors(record), key=lambda e: [str(p) for p in e.absolute_path])
        for e in errors:
            for field, message in _schema_messages(e):
                found.append(str(RowProblem(n, line, field, message)))
        if not errors and policies is not None and as_of is not None:
            checked.append((n, line, record))
    if checked:
        for (n, line, record), outcomes in zip(checked, _decide_rows(policies, [r for _, _, r in checked], as_of)):
            per_row[n - 1].extend(str(p) for p in _policy_problems(n, line, record, *outcomes))
    problems.extend(p for found in per_row for p in found)
    return len(rows), problems


def _row_where(path: tuple) -> str:
    return "/".join(map(str, path)) or "the row"


def _schema_messages(err) -> list[tuple[str, str]]:
    """(field, message) for one schema error of a row, in the policy loader's words (an unknown
    field with "did you mean", values as written) without repeating the field."""
    out = []
    prefix = _row_where(tuple(err.absolute_path)) + ": "
    for path, _, message in describe_schema_error(err, _row_where, noun="field"):
        if err.validator == "required":
            field, message = path[-1] if path else "-", "missing (the report must give it)"
        else:
            field = "/".join(map(str, path)) or "-"
            message = message[len(prefix):] if message.startswith(prefix) else message
        out.append((str(field), message))
    return out


# The report does not say whether a participant is a CAP participant covered by Appendix C
# (appointed on or before 2006-04-01), whose performance pay follows the previous plan's scale
# (Appendix C, 3.4 and 3.4.1) rather than s. 13.  When only that is missing, the row is re-decided
# both ways: outside the transition, and covered by it.
TRANSITION_FACTS = {"program", "appointment_date", "language_training_start"}
NOT_COVERED = {"program": "CAP", "appointment_date": dt.date(2006, 4, 2)}
COVERED = {"program": "CAP", "appointment_date": dt.date(2006, 4, 1)}
DECISION = "ldp.performance_pay"


def _facts(r, ratings) -> dict:
    """The row as facts of ldp.performance_pay.

    A row rated "unable to assess" gives one of the four reasons s. 14 lists; a participant on
    language training for three months or more is not among them, being rated "met most" for
    that period instead (10.7(7)).  Such a row is therefore checked as one to which 10.7(7) did
    not apply: under three months of language training (any figure under three decides alike).
    The eligibility conditions of 10.7(5), (6) and (8) that the report does not show are the
    policy's presumptions, listed in each decision's assumptions.
    """
    facts = {"level": "PL-06", "salary": Decimal(str(r["march31_salary"])), "rating": ratings[r["rating"]],
             "increase_pct": Decimal(str(r.get("rating_pct", 0)))}
    if facts["rating"] == "unable_to_assess":
        facts["months_on_language_training"] = Decimal(0)
    return facts


def _refusals(d) -> list[tuple[str, str]]:
    return [(m["en"], m["citation"]) for m in d.messages if m["kind"] == "refused"]


class _Outcome:
    """One row's decision as the batch result gives it (what _policy_problems reads)."""
    __slots__ = ("status", "value", "missing", "messages")

    def __init__(self, status, value, missing, messages):
        self.status, self.value, self.missing, self.messages = status, value, missing, messages


def _outcomes(policies, facts: list, as_of) -> list[_Outcome]:
    if not facts:
        return []
    t = policies.evaluate_batch(DECISION, facts, as_of=as_of).to_pydict()
    fields = [c for c in t if c.startswith("value.")]
    return [_Outcome(status, {f[len("value."):]: t[f][i] for f in fields} if status == "decided" else None,
                     t["missing"][i], t["messages"][i]) for i, status in enumerate(t["status"])]


def _decide_rows(policies, records: list, as_of):
    """(decision, outside the transition, covered by it) for each row, all rows at once (batch);
    the last two only where the transition facts alone are missing, else None."""
    version = policies.tables[CODES_TABLE].version_at(as_of)
    ratings = {code: key[0] for key, code in version.cells.items()}
    facts = [_facts(r, ratings) for r in records]
    decided = _outcomes(policies, facts, as_of)
    both = [i for i, d in enumerate(decided) if d.status == "undetermined" and set(d.missing) <= TRANSITION_FACTS]
    out = _outcomes(policies, [{**facts[i], **NOT_COVERED} for i in both], as_of)
    cov = _outcomes(policies, [{**facts[i], **COVERED} for i in both], as_of)
    hypothetical = dict(zip(both, zip(out, cov)))
    return [(d, facts[i], *hypothetical.get(i, (None, None))) for i, d in enumerate(decided)]


def _policy_problems(n, line, r, d, facts, out, cov):
    """Compare the row's decision under ldp.performance_pay with what was reported."""
    if out is not None:
        if out.status == "refused" and cov.status == "refused":
            for en, citation in dict.fromkeys(_refusals(out) + _refusals(cov)):
                yield RowProblem(n, line, "rating_pct", f"{en} [{citation}]")
            return
        if out.status == "refused" and cov.status == "decided":
            yield RowProblem(n, line, "rating_pct",
                             f"{plain(facts['increase_pct'])} % is outside what Appendix B, s. 13 sets for this rating; "
                             f"only a CAP participant appointed on or before 2006-04-01, paid on the previous salary "
                             f"administration plan's scale, may receive it, and the report does not show one "
                             f"[Appendix B, 13; Appendix C, 3.4 and 3.4.1]")
            d = cov  # the rest of the row is checked as for such a participant
        elif out.status == "decided" and cov.status == "decided" and out.value == cov.value:
            d = out
    if d.status == "refused":
        for en, citation in _refusals(d):
            yield RowProblem(n, line, "rating_pct", f"{en} [{citation}]")
        return
    if d.status != "decided":
        return
    v = d.value
    award = Decimal(str(r.get("performance_award_lump_sum", 0) or 0))
    final = r.get("final_salary_april1")
    if final is not None and Decimal(str(final)) != v["new_salary"]:
        final = Decimal(str(final))
        if award and final == v["new_salary"] + award:
            yield RowProblem(n, line, "final_salary_april1",
                             f"reported {plain(final)}, but the policy gives {plain(v['new_salary'])}: the performance award "
                             f"({plain(award)}) was added to base salary, and a performance award does not increase "
                             f"base pay [Appendix A, Performance award; Appendix B, 10.7(12)]")
        else:
            yield RowProblem(n, line, "final_salary_april1",
                             f"reported {plain(final)}, but the policy gives {plain(v['new_salary'])} "
                             f"(rounded to the nearest $100 up to the job rate) [Appendix B, 10.7(12)]")
    if not v["eligible"] and Decimal(str(r.get("base_salary_increase", 0) or 0)) != 0:
        yield RowProblem(n, line, "base_salary_increase",
                         "an in-range increase was reported for a participant who is not eligible for performance pay "
                         "[Appendix B, 10.7(1) and 10.7(5) to (8)]")
    if award and not v["award_eligible"]:
        yield RowProblem(n, line, "performance_award_lump_sum",
                         f"a performance award of {plain(award)} was reported, but 10.7(4) allows one only to an "
                         f"eligible participant at the job rate or whose full in-range increase would exceed it "
                         f"[Appendix B, 10.7(4)]")
    elif award and award != award.quantize(Decimal(1)):
        yield RowProblem(n, line, "performance_award_lump_sum",
                         f"reported {plain(award)}: performance awards are rounded to the nearest dollar "
                         f"[Appendix B, 10.7(13)]")
