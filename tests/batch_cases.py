"""Random cases for a decision, drawn from its fact declarations, for the batch sameness tests.

Each fact is drawn from its declared type: enum values, bounds and the days either side of
them, amounts with rounding ties (.5 of a cent and of a dollar), the days around every date
on which a version changes, lists of records; a fact is left out a fifth of the time, and
now and then given a value its converter must refuse.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

_AMOUNTS = [Decimal(x) for x in ("0", "1", "0.5", "0.005", "99.995", "1000", "48790", "64497", "64497.50",
                                 "84665", "93450", "94095", "100657", "120000.125", "250000")]
_NUMBERS = [0, 1, 2, 3, 4, 5, 6, 10, 12, 20, 24, 36, 52, 100]


class CaseMaker:
    def __init__(self, policies, decision: str, seed: int = 0):
        self.p, self.decision = policies, decision
        self.rng = random.Random(f"{decision}:{seed}")
        self.decls = [policies.fact_decl(decision, name) for name in policies.facts_of(decision)]
        change = policies.change_dates() + policies.known_dates()
        self.days = sorted({d + dt.timedelta(days=k) for d in change for k in (-1, 0, 1)
                            if dt.date(1990, 1, 1) < d < dt.date(2030, 1, 1)})
        inst = policies.instruments[policies.rule(decision).instrument]
        lo = inst.start or dt.date(2000, 1, 1)
        hi = inst.end or dt.date(2020, 12, 31)
        self.span = (lo - dt.timedelta(days=30), hi + dt.timedelta(days=30))

    def day(self) -> dt.date:
        if self.days and self.rng.random() < 0.5:
            return self.rng.choice(self.days)
        lo, hi = self.span
        return lo + dt.timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def value(self, t, decl=None):
        r = self.rng
        k = t.kind
        if k == "enum":
            return r.choice(list(t.values))
        if k == "boolean":
            return r.random() < 0.5
        if k == "integer":
            pool = list(_NUMBERS)
            if decl is not None:
                for b in (decl.minimum, decl.maximum):
                    if isinstance(b, int):
                        pool += [b - 1, b, b + 1]
            return r.choice(pool)
        if k in ("money", "decimal"):
            return r.choice(_AMOUNTS)
        if k == "date":
            return self.day()
        if k == "text":
            return r.choice(["a", "CS-02", "degree", "", "engineering"])
        if k == "record":
            return {name: self.value(ft) for name, ft in t.fields}
        if k == "list":
            return [self.value(t.of) for _ in range(r.choice([0, 1, 1, 2, 3]))]
        return None

    def case(self) -> dict:
        facts = {}
        for decl in self.decls:
            x = self.rng.random()
            if x < 0.2:
                continue
            if x < 0.22:
                facts[decl.name] = "not-a-value" if decl.type.kind != "text" else 12
                continue
            facts[decl.name] = self.value(decl.type, decl)
        return facts

    def cases(self, n: int):
        """(facts of each case, as_of of each case)."""
        return [self.case() for _ in range(n)], [self.day() for _ in range(n)]


def scalar(policies, decision, facts, day):
    """What evaluate() says of a case, in the batch result's terms."""
    from policyengine.errors import PolicyEngineError
    try:
        d = policies.evaluate(decision, facts, day, trace="audit")
    except PolicyEngineError as exc:
        problems = getattr(exc, "problems", None)
        return {"status": "error", "problems": sorted(map(str, problems)) if problems else [str(exc)]}
    return {"status": d.status, "value": d.value if d.status == "decided" else None, "clauses": d.clauses,
            "missing": d.missing, "assumptions": [a["fact"] for a in d.assumptions]}


def batch_rows(table, decision_type=None):
    """The batch result's rows in the same terms (values read back as evaluate() gives them)."""
    out = []
    cols = table.to_pydict()
    fields = [c for c in cols if c.startswith("value.")]
    for i in range(table.num_rows):
        status = cols["status"][i]
        if status == "error":
            out.append({"status": "error", "problems": sorted(e["problem"] for e in cols["errors"][i])})
            continue
        if fields:
            value = {f[len("value."):]: cols[f][i] for f in fields} if status == "decided" else None
        else:
            value = cols["value"][i]
        out.append({"status": status, "value": value, "clauses": cols["clauses"][i], "missing": cols["missing"][i],
                    "assumptions": cols["assumptions"][i]})
    return out


def same(expected: dict, got: dict) -> bool:
    """Equal, with values compared as the batch column holds them (JSON text for lists)."""
    if expected.keys() != got.keys():
        return False
    for k in expected:
        a, b = expected[k], got[k]
        if k == "value" and a is not None:
            if isinstance(a, dict):
                if not isinstance(b, dict) or a.keys() != b.keys() or any(not _same_value(a[f], b[f]) for f in a):
                    return False
                continue
            if not _same_value(a, b):
                return False
        elif a != b:
            return False
    return True


def _same_value(a, b) -> bool:
    import json

    from policyengine.values import plain
    if isinstance(a, (tuple, list, dict)) or a.__class__.__name__ == "Duration":
        return json.dumps(plain(a), ensure_ascii=False) == b
    if type(a) is bool or type(b) is bool:
        return a is b
    if isinstance(b, Decimal):  # a decimal column holds every number of the rule as a Decimal, exactly
        return isinstance(a, (int, Decimal)) and a == b
    return a == b and type(a) is type(b)
