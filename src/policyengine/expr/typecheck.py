"""Load-time checking of expressions: resolve every name, build the dependency graph,
reject cycles, and infer and check types, so that evaluation never meets a type error.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .. import limits
from ..errors import Problem, did_you_mean
from . import ast
from ..model import walk
from ..model.graph import DependencyGraph
from ..model.elements import BOOLEAN, DATE, DECIMAL, DURATION, INTEGER, MONEY, TEXT, Expr, Rule, Type

ANY = Type("any")
FUNCTIONS = {"min", "max", "round", "floor", "abs", "months_between", "days_between", "given", "any", "all"}
QUANTIFIERS = {"any", "all"}  # any(records, condition): the condition reads each record's fields by name
KEYWORDS = {"as_of"}
MONTH_NOT_DAYS = "a month is not a fixed number of days"


def _units_clash(a: Type, b: Type) -> bool:
    """Both durations, one in days and one in months: they never add, compare or mix."""
    return a.kind == b.kind == "duration" and None not in (a.unit, b.unit) and a.unit != b.unit


class _Checker:
    def __init__(self, instruments, facts, rules, tables):
        self.instruments, self.facts, self.rules, self.tables = instruments, facts, rules, tables
        self.problems: list[Problem] = []
        self.graph = DependencyGraph()

    def error(self, expr: Expr, node, message: str) -> None:
        self.problems.append(Problem(expr.locate(node), message))

    # -- name resolution -------------------------------------------------------------
    def resolve_name(self, name: str, instrument: str):
        if name == "as_of":
            return ("as_of", None)
        if "." not in name and f"{instrument}.{name}" in self.facts:
            return ("fact", self.facts[f"{instrument}.{name}"])
        for full in (f"{instrument}.{name}", name):
            if full in self.rules:
                return ("rule", self.rules[full])
            if full in self.tables:
                return ("table", self.tables[full])
        return None

    def candidates(self, instrument: str) -> list[str]:
        local = [r.split(".", 1)[1] for r in list(self.rules) + list(self.tables) if r.startswith(instrument + ".")]
        facts = [f.name for f in self.facts.values() if f.instrument == instrument]
        return facts + local + list(self.rules) + list(self.tables) + sorted(FUNCTIONS) + ["as_of"]

    def resolve(self, expr: Expr, owner: Rule) -> None:
        self._resolve(expr, owner, expr.node, {})

    def _resolve(self, expr: Expr, owner: Rule, node, fields: dict) -> None:
        """Resolve names under `node`; inside any()/all() a record's field names come first."""
        if isinstance(node, ast.Call) and node.function in QUANTIFIERS:
            if len(node.args) != 2 or node.kwargs:
                self.error(expr, node, f"{node.function}() takes a list of records and a condition, "
                                       f"e.g. {node.function}(incumbencies, group == \"AC\")")
                return
            self._resolve(expr, owner, node.args[0], fields)
            ref = node.args[0].ref if isinstance(node.args[0], ast.Name) else None
            t = ref[1].type if ref and ref[0] == "fact" else None
            if t is None or t.kind != "list" or t.of is None or t.of.kind != "record":
                self.error(expr, node.args[0], f"{node.function}() needs a list-of-records fact first")
                return
            self._resolve(expr, owner, node.args[1], {**fields, **dict(t.of.fields)})
            return
        self._resolve_one(expr, owner, node, fields)
        for child in ast.children(node):
            self._resolve(expr, owner, child, fields)

    def _resolve_one(self, expr: Expr, owner: Rule, n, fields: dict) -> None:
        me = ("rule", owner.id)
        if isinstance(n, ast.Name) and n.name in fields:
            n.ref = ("field", n.name, fields[n.name])
        elif isinstance(n, ast.Name):
            ref = self.resolve_name(n.name, owner.instrument)
            if ref is None:
                self.error(expr, n, f"unknown name '{n.name}'"
                                    f"{did_you_mean(n.name, self.candidates(owner.instrument) + list(fields))}")
                return
            if ref[0] == "table":
                self.error(expr, n, f"'{n.name}' is a table: look a value up with {n.name}[key, ...]")
                return
            n.ref = ref
            if ref[0] in ("fact", "rule"):
                used = ("fact", ref[1].id) if ref[0] == "fact" else ("rule", ref[1].id)
                self.graph.link(used, me, expr.locate(n))
        elif isinstance(n, ast.Lookup):
            ref = self.resolve_name(n.table, owner.instrument)
            if ref is None or ref[0] != "table":
                tables = [t.split(".", 1)[1] for t in self.tables if t.startswith(owner.instrument + ".")] + list(self.tables)
                self.error(expr, n, f"unknown table '{n.table}'{did_you_mean(n.table, tables)}")
                return
            n.ref = ref[1]
            self.graph.link(("table", n.ref.id), me, expr.locate(n))
        elif isinstance(n, ast.Call) and n.function not in FUNCTIONS:
            self.error(expr, n, f"unknown function '{n.function}'{did_you_mean(n.function, FUNCTIONS)}")

    # -- types -------------------------------------------------------------------------
    def infer(self, expr: Expr, node) -> Type:
        t = self._infer(expr, node)
        node.type = t
        return t

    def _infer(self, e: Expr, n) -> Type:
        if isinstance(n, ast.Literal):
            if n.kind == "duration":
                return Type("duration", unit=n.value.unit)
            return {"boolean": BOOLEAN, "integer": INTEGER, "decimal": DECIMAL, "money": MONEY, "text": TEXT,
                    "date": DATE}[n.kind]
        if isinstance(n, ast.Name):
            if n.ref is None:
                return ANY
            kind, obj = n.ref[0], n.ref[1]
            if kind == "as_of":
                return DATE
            if kind == "field":
                return n.ref[2]
            if kind == "fact":
                return obj.type
            return obj.type or ANY
        if isinstance(n, ast.ListExpr):
            items = [self.infer(e, x) for x in n.items]
            of = items[0] if items else ANY
            for x, t in zip(n.items[1:], items[1:]):
                of = self.unify(e, x, of, t, "list items")
            return Type("list", of=of)
        if isinstance(n, ast.Unary):
            t = self.infer(e, n.operand)
            if n.op == "not":
                self.expect_bool(e, n.operand, t, "'not'")
                return BOOLEAN
            if not (t.numeric or t.kind in ("duration", "any")):
                self.error(e, n, f"cannot negate {t}")
            return t
        if isinstance(n, ast.Logic):
            for x in n.items:
                self.expect_bool(e, x, self.infer(e, x), f"'{n.op}'")
            return BOOLEAN
        if isinstance(n, ast.Binary):
            return self.arithmetic(e, n, self.infer(e, n.left), self.infer(e, n.right))
        if isinstance(n, ast.Compare):
            self.comparison(e, n, self.infer(e, n.left), self.infer(e, n.right))
            return BOOLEAN
        if isinstance(n, ast.Membership):
            it, ct = self.infer(e, n.item), self.infer(e, n.collection)
            if ct.kind not in ("list", "any"):
                self.error(e, n.collection, f"'in' needs a list, found {ct}")
            elif ct.kind == "list":
                if isinstance(n.collection, ast.ListExpr):
                    for x in n.collection.items:
                        self.comparable(e, x, it, x.type, "==")
                else:
                    self.comparable(e, n.item, ct.of, it, "==")
            return BOOLEAN
        if isinstance(n, ast.If):
            self.expect_bool(e, n.condition, self.infer(e, n.condition), "'if'")
            return self.unify(e, n, self.infer(e, n.then), self.infer(e, n.otherwise), "the two branches of 'if'")
        if isinstance(n, ast.Call):
            return self.call(e, n)
        if isinstance(n, ast.Lookup):
            if n.ref is None:
                for k in n.keys:
                    self.infer(e, k)
                return ANY
            table = n.ref
            if len(n.keys) != len(table.keys):
                self.error(e, n, f"table '{n.table}' has {len(table.keys)} keys "
                                 f"({', '.join(k.name for k in table.keys)}), {len(n.keys)} given")
            for key_node, key in zip(n.keys, table.keys):
                kt = self.infer(e, key_node)
                if isinstance(key_node, ast.Literal) and key_node.value not in key.values:
                    self.error(e, key_node, f"{key_node.value!r} is not a '{key.name}' of table '{n.table}'"
                                            f"{did_you_mean(str(key_node.value), map(str, key.values))}")
                elif kt.kind == "enum" and not set(kt.values) & set(key.values):
                    self.error(e, key_node, f"no value of {kt} is a '{key.name}' of table '{n.table}'")
                elif kt.kind not in ("enum", "any") and not any(_is_a(kt, v) for v in key.values):
                    self.error(e, key_node, f"no {kt} is a '{key.name}' of table '{n.table}' "
                                            f"({', '.join(map(str, key.values))})")
            return table.value_type
        return ANY

    def expect_bool(self, e, node, t: Type, where: str) -> None:
        if t.kind not in ("boolean", "any"):
            self.error(e, node, f"{where} needs a true/false value, found {t}")

    def arithmetic(self, e, n, a: Type, b: Type) -> Type:
        op = n.op
        if ANY in (a, b):
            return ANY
        if op in "+-":
            if a.kind == "date" and b.kind == "duration":
                return DATE
            if a.kind == "date" and b.kind == "date":
                self.error(e, n, f"cannot {'add' if op == '+' else 'subtract'} dates: "
                                 f"use days_between(a, b) or months_between(a, b)")
                return ANY
            if _units_clash(a, b):
                self.error(e, n, f"cannot {'add' if op == '+' else 'subtract'} {a.unit} and {b.unit}: {MONTH_NOT_DAYS}")
                return ANY
            if a.kind == b.kind == "duration":
                return a if a == b else DURATION
            if a.kind == b.kind == "money":
                return MONEY
            if "money" in (a.kind, b.kind) and a.numeric and b.numeric:
                self.error(e, n, f"cannot {'add' if op == '+' else 'subtract'} money and a plain number "
                                 f"({a} {op} {b}): write an amount as $100")
                return MONEY
            if a.numeric and b.numeric:
                return INTEGER if a.kind == b.kind == "integer" else DECIMAL
        elif op == "*":
            if a.numeric and b.numeric:
                if a.kind == b.kind == "money":
                    self.error(e, n, "cannot multiply money by money")
                    return MONEY
                if "money" in (a.kind, b.kind):
                    return MONEY
                return INTEGER if a.kind == b.kind == "integer" else DECIMAL
        elif op == "/":
            if a.numeric and b.numeric:
                if isinstance(n.right, ast.Literal) and n.right.value == 0:
                    self.error(e, n, "division by zero")
                    return ANY
                if a.kind == "money":
                    return DECIMAL if b.kind == "money" else MONEY
                if b.kind == "money":
                    self.error(e, n, "cannot divide a plain number by money")
                    return DECIMAL
                return DECIMAL
        self.error(e, n, f"cannot apply '{op}' to {a} and {b}")
        return ANY

    def comparable(self, e, n, a: Type, b: Type, op: str) -> None:
        if ANY in (a, b):
            return
        if a.numeric and b.numeric:
            return
        if a.kind == "enum" or b.kind == "enum":
            enum, other = (a, b) if a.kind == "enum" else (b, a)
            if op not in ("==", "!="):
                self.error(e, n, f"'{op}' does not order values of {enum}; use == or 'in'")
            if other.kind == "text":
                lit = n if isinstance(n, ast.Literal) else (n.right if isinstance(getattr(n, "right", None), ast.Literal)
                                                            else getattr(n, "left", None))
                if isinstance(lit, ast.Literal) and lit.value not in enum.values:
                    self.error(e, lit, f"{lit.value!r} is not one of {', '.join(map(str, enum.values))}"
                                       f"{did_you_mean(str(lit.value), map(str, enum.values))}")
                return
            if other.kind == "enum" or (other.kind == "integer" and all(isinstance(v, int) for v in enum.values)):
                return
        elif a.kind == b.kind and a.kind in ("date", "boolean", "text"):
            if a.kind in ("boolean", "text") and op not in ("==", "!="):
                self.error(e, n, f"'{op}' does not order {a} values")
            return
        elif _units_clash(a, b):
            self.error(e, n, f"cannot compare {a.unit} with {b.unit}: {MONTH_NOT_DAYS}")
            return
        elif a.kind == b.kind == "duration":
            return
        self.error(e, n, f"cannot compare {a} with {b}")

    def comparison(self, e, n, a: Type, b: Type) -> None:
        self.comparable(e, n, a, b, n.op)

    def unify(self, e, n, a: Type, b: Type, what: str) -> Type:
        if a == ANY:
            return b
        if b == ANY or a == b:
            return a
        if a.numeric and b.numeric:
            for kind in ("money", "decimal", "integer"):
                if kind in (a.kind, b.kind):
                    return Type(kind)
        if {a.kind, b.kind} <= {"enum", "text"}:
            return TEXT if TEXT in (a, b) else Type("enum", tuple(dict.fromkeys(a.values + b.values)))
        if _units_clash(a, b):
            self.error(e, n, f"{what} mix {a.unit} and {b.unit}: {MONTH_NOT_DAYS}")
            return ANY
        if a.kind == b.kind == "duration":  # one of unknown unit
            return DURATION
        self.error(e, n, f"{what} have different types: {a} and {b}")
        return ANY

    def call(self, e, n) -> Type:
        fn = n.function
        if fn in QUANTIFIERS:
            if len(n.args) == 2:
                self.infer(e, n.args[0])
                self.expect_bool(e, n.args[1], self.infer(e, n.args[1]), f"the condition of {fn}()")
            return BOOLEAN
        if fn == "given":
            arg = n.args[0] if len(n.args) == 1 else None
            if arg is None or not isinstance(arg, ast.Name) or (arg.ref and arg.ref[0] != "fact"):
                self.error(e, n, "given() takes one fact name, e.g. given(notice_date)")
            elif arg.ref:
                arg.type = arg.ref[1].type
            return BOOLEAN
        args = [self.infer(e, a) for a in n.args]
        kwargs = {k: self.infer(e, v) for k, v in n.kwargs.items()}
        allowed = {"round": {"to"}}.get(fn, set())
        for k in kwargs:
            if k not in allowed:
                self.error(e, n.kwargs[k], f"{fn}() has no argument '{k}'{did_you_mean(k, allowed)}")
        if fn in ("min", "max"):
            if len(args) < 2:
                self.error(e, n, f"{fn}() needs at least two values, e.g. {fn}(a, b)")
                return args[0] if args else ANY
            t = args[0]
            for a, at in zip(n.args[1:], args[1:]):
                if _units_clash(t, at):
                    self.error(e, a, f"cannot compare {t.unit} with {at.unit}: {MONTH_NOT_DAYS}")
                    return ANY
                t = self.unify(e, a, t, at, f"the values of {fn}()")
            if not (t.numeric or t.kind in ("date", "duration", "any")):
                self.error(e, n, f"{fn}() needs numbers, amounts, dates or durations, found {t}")
            return t
        if fn in ("round", "floor", "abs"):
            if len(args) != 1:
                self.error(e, n, f"{fn}() takes one value" + (" (and to=STEP)" if fn == "round" else ""))
                return ANY
            if not (args[0].numeric or args[0] == ANY):
                self.error(e, n.args[0], f"{fn}() needs a number or an amount, found {args[0]}")
            if "to" in kwargs:
                step = n.kwargs["to"]
                if not isinstance(step, ast.Literal) or step.kind not in ("integer", "decimal", "money") or step.value <= 0:
                    self.error(e, step, "round(..., to=STEP) needs a positive number, e.g. to=100")
                elif not _sane_step(Decimal(step.value)):
                    self.error(e, step, f"round(..., to=STEP) needs a step of at most {limits.PRECISION} digits, "
                                        f"from 1E-{limits.PRECISION - 1} to 1E+{limits.PRECISION - 1}: "
                                        f"a finer or coarser step cannot be computed exactly")
            return args[0]
        if fn in ("months_between", "days_between"):
            if len(args) != 2:
                self.error(e, n, f"{fn}() takes two dates: {fn}(start, end)")
                return INTEGER
            for a, at in zip(n.args, args):
                if at.kind not in ("date", "any"):
                    self.error(e, a, f"{fn}() needs dates, found {at}")
            return INTEGER
        return ANY

    # -- rules --------------------------------------------------------------------------
    def exprs_of(self, rule: Rule):
        return (e for _, _, e in walk.expressions(rule))

    def type_rule(self, rule: Rule) -> None:
        result = None
        for v in rule.versions:
            t = _BodyTyper(self).visit(v.body)
            for ex in v.exceptions:
                if ex.when:
                    self.expect_bool(ex.when, ex.when.node, self.infer(ex.when, ex.when.node), "an exception's 'when'")
                if ex.value:
                    et = self.infer(ex.value, ex.value.node)
                    t = self.unify(ex.value, ex.value.node, t, et, f"rule '{rule.id}' and its exception '{ex.id}'")
            for name, loc in v.requires:
                req = self.rules.get(f"{rule.instrument}.{name}") or self.rules.get(name)
                if req is not None and req.type not in (BOOLEAN, ANY, None):
                    self.problems.append(Problem(loc, f"required rule '{name}' must be true/false, found {req.type}"))
            result = t if result is None else self._unify_versions(rule, result, t)
        rule.type = result or ANY
        declared = rule.declared_type
        loose = declared is not None and (declared.kind in ("list", "enum")  # declared by kind only
                                          or declared == DURATION)  # `type: duration`: days or months
        if declared and rule.type != ANY and (declared.kind != rule.type.kind if loose else declared != rule.type) \
                and not (declared.kind == "text" and rule.type.kind == "enum"):
            shown = declared.kind if loose else declared
            self.problems.append(Problem(rule.location, f"rule '{rule.id}' is declared {shown} but computes {rule.type}"))

    def _unify_versions(self, rule, a, b):
        if a == b or b == ANY:
            return a
        if a == ANY:
            return b
        if _units_clash(a, b):
            self.problems.append(Problem(rule.location, f"versions of rule '{rule.id}' mix {a.unit} and {b.unit}: "
                                                        f"{MONTH_NOT_DAYS}"))
            return a
        if a.kind == b.kind == "duration":  # one of unknown unit
            return DURATION
        self.problems.append(Problem(rule.location, f"versions of rule '{rule.id}' compute different types: {a} and {b}"))
        return a

    def run(self) -> DependencyGraph:
        g = self.graph
        for fid in self.facts:
            g.add("fact", fid)
        for tid in self.tables:
            g.add("table", tid)
        for rid in self.rules:
            g.add("rule", rid)
        for rule in self.rules.values():
            for e in self.exprs_of(rule):
                self.resolve(e, rule)
            if rule.parent:
                g.link(("rule", rule.id), ("rule", rule.parent), rule.location)
            for v in rule.versions:
                for name, loc in v.requires:
                    target = self.rules.get(f"{rule.instrument}.{name}") or self.rules.get(name)
                    if target is None:
                        self.problems.append(Problem(loc, f"unknown rule '{name}' in requires"
                                                          f"{did_you_mean(name, self.candidates(rule.instrument))}"))
                    else:
                        g.link(("rule", target.id), ("rule", rule.id), loc)
        cycles = g.cycles()
        if cycles:
            self.problems.extend(cycles)
            return g
        self.problems.extend(g.too_deep())
        for kind, name in g.order():
            if kind == "rule":
                self.type_rule(self.rules[name])
        return g


class _BodyTyper(walk.BodyVisitor):
    """The type a rule body computes (checking its conditions on the way)."""

    def __init__(self, checker: _Checker):
        self.c = checker

    def visit_value(self, b) -> Type:
        return self.c.infer(b.expr, b.expr.node) if b.expr else ANY

    def visit_gap(self, b) -> Type:
        return ANY

    def visit_record(self, b) -> Type:
        return Type("record", fields=tuple((k, self.c.infer(x, x.node)) for k, x in b.fields.items()))

    def visit_conditions(self, b) -> Type:
        c = self.c
        for item in b.items:
            if item.expr:
                c.expect_bool(item.expr, item.expr.node, c.infer(item.expr, item.expr.node), f"a condition of '{b.kind}'")
            elif item.rule and item.rule.type not in (BOOLEAN, None, ANY):
                c.problems.append(Problem(item.rule.location, f"condition '{item.rule.id}' must be true/false, "
                                                              f"found {item.rule.type}"))
        return BOOLEAN

    def visit_select(self, b) -> Type:
        """The cases' common type; case keys are checked against the values `on` can take."""
        c = self.c
        on = c.infer(b.on, b.on.node) if b.on else ANY
        allowed = on.values if on.kind == "enum" else None
        t = ANY
        for key, e in b.cases.items():
            if allowed is not None and key not in allowed:
                c.error(e, None, f"case '{key}' is not a value of {on}{did_you_mean(str(key), map(str, allowed))}")
            t = c.unify(e, e.node, t, c.infer(e, e.node), "the cases of 'select'")
        if b.default is not None:
            t = c.unify(b.default, b.default.node, t, c.infer(b.default, b.default.node), "the cases of 'select'")
        return t


def _is_a(t: Type, value) -> bool:
    """Whether a value of type `t` can equal `value` (a table key), so a lookup can find it."""
    if isinstance(value, bool) or t.kind == "boolean":
        return isinstance(value, bool) and t.kind == "boolean"
    if t.kind == "text":
        return isinstance(value, str)
    if t.numeric:
        return isinstance(value, (int, Decimal))
    return t.kind == "date" and isinstance(value, dt.date)


def _sane_step(step: Decimal) -> bool:
    """A step whose quotients fit the decimal context: x / 1E-40 has more digits than it keeps."""
    return len(step.as_tuple().digits) <= limits.PRECISION and abs(step.adjusted()) < limits.PRECISION


def check(instruments, facts, rules, tables):
    """Resolve, link and type every rule; return (graph, problems)."""
    c = _Checker(instruments, facts, rules, tables)
    graph = c.run()
    return graph, c.problems
