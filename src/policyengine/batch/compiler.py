"""The batch compiler: a decision's rules over columns, for one period of validity.

Each expression node and each rule becomes one column (batch/columns.py), computed from
its operands' columns by the very closure the scalar backend compiles for it
(runtime/compile.py and runtime/rules.py), its operands read from slots instead of
evaluated: so both backends share one meaning, defined once in runtime/semantics.py.

Besides values, the compiler records every column's outcome class (unknown, failed,
true, false, a value; the key of a `select`, by value).  Rows whose classes agree on
every column follow the same path through the rules in the scalar engine, so they share
their status, deciding clauses, missing facts and presumptions: the engine evaluates one
row of each path with the scalar engine and gives its answer to every row of the path.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..errors import PolicyEngineError
from ..expr import ast
from ..model.elements import RecordBody, SelectBody, ValueBody
from ..runtime.compile import AS_OF, KNOWN_ON, PRESUMED, ExprCompiler
from ..runtime.rules import RuleCompiler
from ..runtime.semantics import Conflict, Missing, Refused
from . import numbers as N
from .columns import FAILED, MISSING, Col, DCol, apply, classes, combination, factorize, intern, value_key
from .numbers import Num, Rec

_PERIOD_SLOT = ("period",)  # the env slot of a lookup's period (periods decided together)
VARIED = 256  # an operand with more distinct numbers than this is computed by the fixed-point kernels


class Unsupported(Exception):
    """A construct the batch compiler does not vectorise: its rows go to the scalar engine."""


class _Failed(PolicyEngineError):
    """An operand that failed: the scalar semantics treat it as any failure."""


def _reader(slot):
    def read(env):
        v = env[slot]
        if v is MISSING:
            raise Missing()
        if v is FAILED:
            raise _Failed()
        return v
    return read


def _outcome(fn, env):
    try:
        return fn(env)
    except Missing:
        return MISSING
    except (Refused, Conflict, PolicyEngineError):
        return FAILED
    except Exception:  # noqa: BLE001 - the scalar engine reports it (as an internal error) for the row
        return FAILED


class _OneNode(ExprCompiler):
    """The scalar compiler for one node, whose operands are read from slots."""

    def compile(self, node):
        if isinstance(node, ast.Literal):
            return self._Literal(node)
        return _reader(id(node))


class _RuleSlots(RuleCompiler):
    """The scalar rule compiler, with each expression and referenced rule read from a slot."""

    def __init__(self, rules, day, known_on, record):
        super().__init__(rules, day, "none", None, known_on)
        self.record = record

    def exprs(self, expr):
        self.record.append(("expr", expr))
        return _reader(id(expr))

    def rule(self, rule):
        self.record.append(("rule", rule))
        return _reader(("rule", rule.id))


class PeriodCompiler:
    """Columns of one decision's rules for rows of one period (and one "as known on" period)."""

    def __init__(self, rules, day, known_on, facts: dict, n: int, as_of: Col, presumed: dict,
                 numeric: bool = False, memo: dict | None = None, domain=None, shared: dict | None = None,
                 closures: "Closures | None" = None, periods=None):
        self.rules, self.day, self.known_on, self.n = rules, day, known_on, n
        # periods decided together (their rules alike, their tables not): (the domain column of
        # each combination's period, each period's day and known-on date); None: one period
        self.periods = periods
        self.closures = closures  # the batch's scalar closures, and their results over few values
        # the domain's columns and the constants are the same for every chunk of the period: the
        # first chunk computes them (and lists them for the paths), the others take them from `shared`
        self.shared = shared if domain is not None and shared is not None else {}
        self.reuse = "seen" in self.shared  # the period's first chunk has shared its columns (share())
        self.dom, self.nd = domain if domain is not None else (None, 0)  # each row's place in the domain, its size
        self._lifted: dict = {}
        self._derived: dict = {}  # id -> a row column whose outcome follows from its operands' (see _apply)
        self._nums: dict = {}
        self.numeric = numeric  # may a column be a Num (or Rec): numbers kept as numbers
        self.memo = {} if memo is None else memo  # distinct values -> their fixed-point form
        self.visits = 0  # at most this many quantifier visits per row (limits.MAX_STEPS): 0, or per row once a list is met
        self.facts = facts  # fact name -> Col of the values given (MISSING where not)
        self.presumed = presumed  # fact name -> presumed value (presumptions applied)
        self.as_of = as_of
        self.nodes: dict = {}
        self.rule_cols: dict = {}
        self.fact_cols: dict = {}
        self.seen: list = []  # (Col, by_value, what it is): every column this chunk made or read, for the paths
        self.by_value: set = set()  # ids of expressions whose value picks a path (select keys)
        self.domain_signature = None  # the domain signature of paths() (its columns, each element's signature)
        self.env = {AS_OF: day} if known_on is None else {AS_OF: day, KNOWN_ON: known_on}
        if periods is not None:
            self._saw((periods[0], True, ("period",)))  # rows of two periods never share a path: their tables differ

    # -- values ------------------------------------------------------------------------------
    def rule(self, rule) -> Col:
        col = self.rule_cols.get(rule.id)
        if col is None and self.reuse:
            col = self.shared["rules"].get(rule.id)
            if col is not None:  # already on the paths' list (shared "seen")
                self.rule_cols[rule.id] = col
                return col
        if col is None:
            record = []
            rc = _RuleSlots(self.rules, self.day, self.known_on, record)
            version = rule.version_at(self.day, self.known_on)
            if version is not None and isinstance(version.body, SelectBody) and version.body.on is not None:
                self.by_value.add(id(version.body.on))
            col = self._numeric_rule(rule, version) if self.numeric and version is not None else None
            if col is None:
                ident = ("rule", rule.id, None if version is None else id(version))
                fn, record = self._compiled(ident, lambda: (rc._rule(rule), record))
                slots, cols = [], []
                for kind, obj in record:
                    if kind == "expr":
                        slots.append(id(obj))
                        cols.append(_plain(self.expr(obj)))
                    else:
                        slots.append(("rule", obj.id))
                        cols.append(_plain(self.rule(obj)))
                col = self._apply(self._runner(fn, slots), cols, ident)
            self.rule_cols[rule.id] = col
            self._saw((col, False, ("rule", rule.id)))
            if self.dom is not None and _of_the_period(col):
                self.shared.setdefault("rules", {})[rule.id] = col
        return col

    def share(self) -> None:
        """After the period's first chunk: its domain columns, for the chunks after it."""
        if self.dom is not None and not self.reuse:
            self.shared.setdefault("rules", {})
            self.shared.setdefault("nodes", {})
            self.shared["seen"] = [x for x in self.seen if isinstance(x[0], DCol)]
            self.shared["listed"] = {(id(x[0]), x[1]) for x in self.shared["seen"]}

    def _saw(self, entry) -> None:
        """A column on this chunk's list for the paths; a domain column a later chunk made (or
        read: a fact) goes on the period's list too, once, for the chunks that take it from
        `shared` without its subtree.  A row column whose outcome follows from its operands'
        values, each of them an outcome class of its own, tells no rows apart that they do
        not: it is left off."""
        if entry[0] is self._derived.get(id(entry[0])) and not entry[1]:
            return
        self.seen.append(entry)
        if self.reuse and isinstance(entry[0], DCol) and (id(entry[0]), entry[1]) not in self.shared["listed"]:
            self.shared["listed"].add((id(entry[0]), entry[1]))
            self.shared["seen"].append(entry)

    def domain_columns(self) -> list:
        """The domain columns the paths are told apart by: a later chunk takes the period's
        whole list (every domain column any chunk of it made: one it took from `shared` may
        stand for a subtree it never visited; telling rows apart by more columns than they
        read is safe, by fewer is not), the first chunk its own."""
        if self.reuse:
            return self.shared["seen"]
        return [x for x in self.seen if isinstance(x[0], DCol)]

    def _compiled(self, key, compile_it):
        """A scalar closure compiled once for the batch (see Closures)."""
        if self.closures is None:
            return compile_it()
        got = self.closures.compiled.get(key)
        if got is None:
            got = self.closures.compiled[key] = compile_it()
        return got

    def _apply(self, fn, cols, ident):
        """apply() once per combination: over the domain when every operand that varies is a
        domain column, else over the rows (domain columns gathered to them).  `ident` (what
        is computed: a closure's key, see Closures) names its results over few values."""
        results = None if self.closures is None else self.closures.results
        varying = [c for c in cols if c.codes is not None]
        if varying and all(isinstance(c, DCol) for c in varying):
            # the same closure over the very same domain columns (another period's, whose levels
            # and ratings the domain shares) is the same column: computed once (Closures.columns)
            key = None if self.closures is None else \
                (ident, tuple(id(c) if c.codes is not None else ("const", value_key(c.uniq[0])) for c in cols))
            got = None if key is None else self.closures.columns.get(key)
            if got is not None and all(a is b for a, b in zip(got[1], varying)):
                return got[0]
            out = apply(fn, cols, results, ident)
            out = out if out.codes is None else DCol(out.codes, out.uniq)
            if key is not None:
                self.closures.columns[key] = (out, varying)  # (its operands kept: their ids stay theirs)
            return out
        out = apply(fn, [self._rows(c) for c in cols], results, ident)
        out = self._local(out) if varying else out
        if varying and all(_outcomes_only(c) for c in cols):  # on the paths' list already, by outcome
            self._derived[id(out)] = out
        return out

    def _local(self, col):
        """A column computed from the rows: one value for every row of this chunk is not a
        constant of the period (another chunk may differ), so it keeps its codes.  Only a
        literal's, or a domain column's, can be shared by the period's chunks."""
        return col if col.codes is not None else Col(np.zeros(self.n, dtype=np.int32), col.uniq)

    def _num(self, col):
        """A column as a Num (made once per column), or None."""
        got = self._nums.get(id(col))
        if got is None:
            if isinstance(col, DCol):  # over the domain, then to the rows: one row-long gather, not two
                nums = self.shared.setdefault("nums", {})  # (the domain's numbers, for the period's chunks)
                over = nums.get(id(col))
                if over is None or over[0] is not col:
                    over = nums[id(col)] = (col, N.of(col, len(col.codes), self.memo))
                num = None if over[1] is None else over[1].take(self.dom)
            else:
                num = N.of(self._rows(col), self.n, self.memo)
            got = self._nums[id(col)] = (col, num)
        return got[1]

    def _rows(self, col):
        """A column over the rows (a domain column gathered once; any other as it is)."""
        if not isinstance(col, DCol):
            return col
        got = self._lifted.get(id(col))
        if got is None:
            got = self._lifted[id(col)] = (col, Col(np.take(col.codes, self.dom), col.uniq))
        return got[1]

    def _numeric_rule(self, rule, version):
        """A value or record rule whose value is a Num (or has one among its fields), with its
        requirements: refused where one fails or has failed, unknown where one is unknown
        (semantics.requiring), else the body's outcome.  None: the general path."""
        body = version.body
        if version.exceptions:
            return None
        if isinstance(body, ValueBody):
            value = self.expr(body.expr)
            if not isinstance(value, Num):
                return None
        elif isinstance(body, RecordBody):
            fields = {name: self._rows(self.expr(e)) for name, e in body.fields.items()}
            if not any(isinstance(c, Num) for c in fields.values()) or any(isinstance(c, Rec) for c in fields.values()):
                return None
            value = Rec(fields, N._first(*(N.state_of(c, self.n) for c in fields.values())))
        else:
            return None
        # 0 every requirement holds, 1 one is unknown, 2 one fails or failed: for the requirements
        # that are constants, over the domain (a row-long pass only if one does not hold), per row
        worst, over_domain, held = 0, None, None
        for name, _ in version.requires:
            req = self.rule(self.rules.get(f"{rule.instrument}.{name}") or self.rules[name])
            if not isinstance(req, Col) or any(type(v) is not bool and v is not MISSING and v is not FAILED
                                               for v in req.uniq):
                return None
            marks = np.asarray([0 if v is True else 1 if v is MISSING else 2 for v in req.uniq], dtype=np.int8)
            if req.codes is None:
                worst = max(worst, int(marks[0]))
            elif isinstance(req, DCol):
                per = np.take(marks, req.codes)
                over_domain = per if over_domain is None else np.maximum(over_domain, per)
            else:
                holds = np.flatnonzero(marks == 0)
                if len(holds) == 1 and (req.codes == holds[0]).all():
                    continue  # (it holds on every row, the common case: one comparison, no gather)
                per = np.take(marks, req.codes)
                held = per if held is None else np.maximum(held, per)
        if over_domain is not None and over_domain.any():
            per = np.take(over_domain, self.dom)
            held = per if held is None else np.maximum(held, per)
        if worst:
            held = np.full(self.n, worst, dtype=np.int8) if held is None else np.maximum(held, np.int8(worst))
        if held is None or not held.any():
            return value
        own = value.state if value.state is not None else np.zeros(self.n, dtype=np.int8)
        state = np.where(held > 0, held, own).astype(np.int8)
        if isinstance(value, Rec):
            return Rec(value.fields, state)
        return Num(np.where(state == N.VALUE, value.ints, 0), value.scale, value.is_int, state, value._bound)

    def expr(self, expr) -> Col:
        col = self._node(expr.node, expr.locate)
        if id(expr) in self.by_value:
            self._saw((_plain(col), True, ("by", id(expr))))
        return col

    def _runner(self, fn, slots):
        base = self.env

        def run(values):
            env = dict(base)
            env.update(zip(slots, values))
            return _outcome(fn, env)
        return run

    def _node(self, node, where) -> Col:
        col = self.nodes.get(id(node))
        if col is not None:
            return col
        if self.reuse:
            col = self.shared["nodes"].get(id(node))
            if col is not None:
                self.nodes[id(node)] = col
                return col
        if isinstance(node, ast.Literal):
            col = Col.const(node.value)
        elif isinstance(node, ast.Name):
            col = self._name(node)
        elif isinstance(node, ast.Call) and node.function == "given":
            col = self._given(node.args[0].ref[1].name)
        elif isinstance(node, ast.Call) and node.function in ("any", "all"):
            nested = any(isinstance(x, ast.Call) and x.function in ("any", "all") for x in ast.walk(node.args[1]))
            col = self._island(node, where) if nested else self._quantified(node, where)
        else:
            col = self._kernel(node, where) if self.numeric else None
            if col is None and isinstance(node, ast.Lookup) and self.periods is not None:
                col = self._lookup_by_period(node, where)
            elif col is None:
                ident = (id(node), id(self._table_version(node.ref))) if isinstance(node, ast.Lookup) else id(node)
                fn = self._node_closure(node, where, ident, self.day, self.known_on)
                kids = [k for k in ast.children(node) if not isinstance(k, ast.Literal)]
                col = self._apply(self._runner(fn, [id(k) for k in kids]), [_plain(self._node(k, where)) for k in kids],
                                  ident)
        self.nodes[id(node)] = col
        self._saw((col, False, id(node)))
        if self.dom is not None and _of_the_period(col):
            self.shared.setdefault("nodes", {})[id(node)] = col
        return col

    def _node_closure(self, node, where, ident, day, known_on):
        """The scalar closure of one node, its operands read from slots (kept for the batch: it
        holds no column of this chunk); `day` and `known_on` pick a lookup's table version."""
        return self._compiled(ident, lambda: getattr(
            _OneNode("none", None, _versions_on(day, known_on), where, None), "_" + type(node).__name__)(node))

    def _period_days(self, key):
        """(day, known-on date) of a period decided together: any of a period no row of this
        chunk is in (no row reads its lookups)."""
        return self.periods[1].get(key, (self.day, self.known_on))

    def _lookup_by_period(self, node, where) -> Col:
        """A table lookup for periods decided together: each combination looked up in the
        version of its own period (the period column is one more operand)."""
        column = self.periods[0]
        kids = [k for k in ast.children(node) if not isinstance(k, ast.Literal)]
        by_period, versions = {}, []
        for key in column.uniq:
            day, known = self._period_days(key)
            version = node.ref.version_at(day, known)
            versions.append(id(version))
            by_period[key] = self._node_closure(node, where, (id(node), id(version)), day, known)

        def lookup(env):
            return by_period[env[_PERIOD_SLOT]](env)
        return self._apply(self._runner(lookup, [_PERIOD_SLOT] + [id(k) for k in kids]),
                           [column] + [_plain(self._node(k, where)) for k in kids], (id(node), tuple(versions)))

    def _kernel(self, node, where):
        """The node by the fixed-point kernels (batch/numbers.py) when an operand is a column of
        numbers too varied for the general path (salaries); None: the general path."""
        if isinstance(node, ast.Binary) and not {"duration", "date"} & {node.left.type.kind, node.right.type.kind}:
            parts = [node.left, node.right]
        elif isinstance(node, ast.Compare):
            parts = [node.left, node.right]
        elif isinstance(node, ast.Unary) and node.op == "-":
            parts = [node.operand]
        elif isinstance(node, ast.Call) and node.function in ("min", "max") and len(node.args) == 2 and not node.kwargs:
            parts = node.args
        elif isinstance(node, ast.Call) and node.function == "round" and len(node.args) == 1 \
                and set(node.kwargs) <= {"to"} and all(isinstance(v, ast.Literal) for v in node.kwargs.values()):
            parts = node.args
        elif isinstance(node, ast.If):
            parts = [node.then, node.otherwise]
        else:
            return None
        cols = [self._node(k, where) for k in parts]
        if not any(isinstance(c, Num) or (type(c) is Col and len(c.uniq) > VARIED) for c in cols):
            return None  # few numbers, or the domain's: once per combination is cheaper
        nums = [self._num(c) for c in cols]
        if any(x is None for x in nums):
            return None
        if isinstance(node, ast.Binary):
            return N.divide(*nums) if node.op == "/" else N.arith(node.op, *nums)
        if isinstance(node, ast.Compare):
            return N.compare(node.op, *nums)
        if isinstance(node, ast.Unary):
            return N.negate(nums[0])
        if isinstance(node, ast.If):
            cond = self._rows(self._node(node.condition, where))
            return N.choose(cond, *nums) if isinstance(cond, Col) else None
        if node.function == "round":
            return N.round_to(nums[0], node.kwargs["to"].value if node.kwargs else 1)
        return N.extreme(node.function, *nums)

    def _count_visits(self, records: Col) -> np.ndarray:
        """Each row's list length (0 when not known), added to the row's bound on visits."""
        per_row = self._list_facts(records)[0]
        self.visits = self.visits + per_row
        return per_row

    def _list_facts(self, records: Col):
        """(length, state: 0 a list, 1 unknown, 2 failed) of each row's list, worked out once per column."""
        records = self._rows(records)
        cache = self.__dict__.setdefault("_lists", {})
        got = cache.get(id(records))
        if got is None:
            lengths = np.asarray([len(v) if isinstance(v, tuple) else 0 for v in records.uniq], dtype=np.int64)
            state = np.asarray([0 if isinstance(v, tuple) else 1 if v is MISSING else 2 for v in records.uniq])
            if records.codes is None:
                got = (np.full(self.n, lengths[0]), np.full(self.n, state[0]))
            else:
                got = (lengths[records.codes], state[records.codes])
            cache[id(records)] = got
        return got

    def _quantified(self, node, where) -> Col:
        """any()/all() column-wise: each row's records laid out one item a row, the condition
        computed over the items (their fields, and the row's facts and rules), then Kleene over
        each row's items (semantics.kleene: one that decides decides; else unknown; else the
        failure).  The items visited, up to the first that decides, each with its own path,
        make the row's path."""
        records = self._rows(self._node(node.args[0], where))
        stop = node.function == "any"
        lengths = self._count_visits(records)
        inner = self._items(records, lengths)
        mark = len(inner.seen)
        cond = inner._node(node.args[1], where)
        n_items = len(inner.item_row)
        item_paths = inner.paths(n_items, inner.seen[mark:])[0] if n_items else np.zeros(0, dtype=np.int64)
        cls = classes(cond, False)
        item_cls = np.full(n_items, cls[0]) if cond.codes is None else cls[cond.codes]
        decides = item_cls == (2 if stop else 3)
        row = inner.item_row
        has = [np.bincount(row, weights=mask, minlength=self.n) > 0 for mask in (decides, item_cls == 0, item_cls == 1)]
        codes = np.where(has[0], 0, np.where(has[1], 1, np.where(has[2], 2, 3))).astype(np.int32)
        per_row_state = self._list_facts(records)[1]
        codes[per_row_state == 1], codes[per_row_state == 2] = 1, 2  # the list not given, or failed
        # the path: each position's item path, for the items visited (up to the first that decides)
        starts = np.cumsum(lengths) - lengths
        first = np.full(self.n, -1, dtype=np.int64)
        hit = np.flatnonzero(decides)
        first[row[hit][::-1]] = hit[::-1]  # each row's first deciding item (among equal indices the last write wins)
        visited = np.where(first >= 0, first - starts + 1, lengths)
        positions = []
        for k in range(int(visited.max(initial=0))):
            at = np.minimum(starts + k, max(n_items - 1, 0))
            positions.append(Col(np.where(k < visited, item_paths[at] + 1, 0).astype(np.int32),
                                 list(range(int(item_paths.max(initial=0)) + 2))))
        if positions:
            self.seen.append((combination(positions), "exact", None))  # which items: this chunk's own numbering
        return Col(codes, [stop, MISSING, FAILED, not stop])

    def _items(self, records: Col, lengths: np.ndarray) -> "_ItemCompiler":
        """The items of a list column, one row each (shared by every quantifier over it)."""
        cache = self.__dict__.setdefault("_layouts", {})
        inner = cache.get(id(records))
        if inner is None:
            lists = [v if isinstance(v, tuple) else () for v in records.uniq]
            offsets = np.cumsum([0] + [len(v) for v in lists])
            item_row = np.repeat(np.arange(self.n, dtype=np.int64), lengths)
            codes = np.zeros(self.n, dtype=np.int64) if records.codes is None else records.codes
            starts = np.cumsum(lengths) - lengths
            # which item of which distinct list each item row is
            source = offsets[codes[item_row]] + (np.arange(len(item_row)) - starts[item_row])
            inner = cache[id(records)] = _ItemCompiler(self, item_row, [x for v in lists for x in v], source)
        return inner

    def _island(self, node, where) -> Col:
        """any()/all() over each row's list of records: the scalar closure of the whole
        quantifier, once per distinct combination of the facts, rules and date it reads.
        Which records decide it is a path of its own, so each combination is one."""
        facts, rules, as_of = {}, {}, False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.ref is not None:
                kind, obj = sub.ref[0], sub.ref[1]
                if kind == "fact":
                    facts[obj.name] = self.facts.get(obj.name, Col.const(MISSING))
                elif kind == "rule":
                    rules[obj.id] = self.rule(obj)
                elif kind == "as_of":
                    as_of = True
        rules = {k: _plain(c) for k, c in rules.items()}
        presumed = {k: v for k, v in self.presumed.items() if k in facts}

        def compiled(versions):
            return ExprCompiler("none", lambda r: _reader(("rule", r.id)), versions, where, presumed).compile(node)
        names = list(facts) + [("rule", r) for r in rules] + ([AS_OF] if as_of else [])
        cols = [self._rows(c) for c in list(facts.values()) + list(rules.values())] + ([self.as_of] if as_of else [])
        if self.periods is not None and any(isinstance(sub, ast.Lookup) for sub in ast.walk(node)):
            column = self.periods[0]  # periods decided together: each combination's own tables
            by_period = {key: compiled(_versions_on(*self._period_days(key))) for key in column.uniq}
            names.append(_PERIOD_SLOT)
            cols.append(self._rows(column))

            def fn(env):
                return by_period[env[_PERIOD_SLOT]](env)
        else:
            fn = compiled(self._table_version)
        base = self.env

        def run(values):
            env = dict(base)
            env[PRESUMED] = {}
            env.update((k, v) for k, v in zip(names, values) if v is not MISSING or type(k) is not str)
            return _outcome(fn, env)
        for name in facts:
            self._fact(name)  # given or not: on the path
        records = self._node(node.args[0], where)
        self._count_visits(records)
        self.seen.append((combination(cols), True, None))  # this chunk's own numbering of combinations
        return self._local(apply(run, cols)) if any(c.codes is not None for c in cols) else apply(run, cols)

    def _table_version(self, table):
        return table.version_at(self.day, self.known_on)

    def _name(self, n) -> Col:
        kind, obj = n.ref[0], n.ref[1]
        if kind == "as_of":
            return self.as_of
        if kind == "rule":
            return self.rule(obj)
        if kind == "field":
            raise Unsupported("a record field outside any()/all()")
        return self._fact(obj.name)

    def _fact(self, name) -> Col:
        col = self.fact_cols.get(name)
        if col is None:
            given = self.facts.get(name, Col.const(MISSING))
            self._saw((given, False, ("fact", name)))  # given or not is a path of its own
            col = given
            if name in self.presumed:
                value = self.presumed[name]
                key = ("presumed", id(given), value_key(value))
                got = None if self.closures is None or not isinstance(given, DCol) else self.closures.columns.get(key)
                if got is not None and got[1][0] is given:  # a domain's fact presumed: one column for every period
                    col = got[0]
                else:
                    col = type(given)(given.codes, [value if v is MISSING else v for v in given.uniq])
                    if self.closures is not None and isinstance(given, DCol):
                        self.closures.columns[key] = (col, [given])
            self.fact_cols[name] = col
        return col

    def _given(self, name) -> Col:
        given = self.facts.get(name, Col.const(MISSING))
        return type(given)(given.codes, [v is not MISSING for v in given.uniq])

    # -- paths ---------------------------------------------------------------------------------
    def paths(self, n: int, seen=None):
        """(path of each row, one row of each path): rows of a path share their status,
        clauses, missing facts and presumptions."""
        seen = self.seen if seen is None else seen
        sig, size = np.zeros(n, dtype=np.int64), 1
        of_domain = self.domain_columns() if self.dom is not None and seen is self.seen else []
        if of_domain:  # the domain's columns, once a combination
            which = tuple(id(x[0]) for x in of_domain)
            got = self.shared.get("signature")
            if got is None or got[0] != which:  # the period's chunks share their domain columns, so this
                per, size = _signature(of_domain, np.zeros(self.nd, dtype=np.int64), 1, self.memo)
                per, _, size = factorize(per)  # at most nd signatures: the rows' part starts that small
                # (the columns kept: their ids stay theirs), and each signature's content, once asked (path_keys)
                got = (which, per, size, of_domain, {})
                self.shared["signature"] = got
            per, size = got[1], got[2]
            self.domain_signature = got
            sig = np.take(per, self.dom)
        sig, size = _signature([x for x in seen if not isinstance(x[0], DCol)], sig, size, self.memo)
        if size <= 4 * n:  # few signatures possible: counted, not sorted (a longer count costs more than a sort)
            counts = np.bincount(sig, minlength=size)
            present = np.flatnonzero(counts)
            remap = np.empty(size, dtype=np.int64)
            remap[present] = np.arange(len(present))
            path = np.take(remap, sig)
            rep = np.empty(len(present), dtype=np.int64)
            rep[path] = np.arange(n)
            return path, rep
        path, rep, _ = factorize(sig)
        return path, rep


class PathBook:
    """The paths a period of validity has decided, across its chunks, the input's slices and
    (batch/engine.py) the calls on the same policies: each path's answer under a key that
    names columns by what they are and their outcome classes, not by this chunk's numbering,
    so a path met again is not evaluated again."""

    LIMIT = 1 << 16  # paths kept at most (a book that fills up answers what it has, and adds nothing)

    def __init__(self):
        self.places: dict = {}  # what a column is (its node, rule or fact) -> its place in a key
        self.values: dict = {}  # a select key's value (value_key) -> its number in a key
        self.outcomes: dict = {}  # key -> (the path's outcome, a Decision of it or None), or None: row by row
        self._numbers = itertools.count()

    def keep(self, key, answer) -> None:
        if len(self.outcomes) < self.LIMIT:
            self.outcomes[key] = answer

    def number(self, table: dict, key) -> int:
        """The number of a place or value: distinct numbers even when two threads deciding
        on the same policies number at once (next() and setdefault are each atomic)."""
        got = table.get(key)
        return got if got is not None else table.setdefault(key, next(self._numbers))


class Closures:
    """The scalar closures of a batch's rules and nodes, each compiled once for every chunk
    and period that shares what it depends on: a rule's closure on the rule's version in
    force (what it reads comes from slots), a node's on nothing but a table lookup's version.
    With them, apply()'s results over few distinct values, which are the closure's too."""

    def __init__(self):
        self.compiled: dict = {}  # ("rule", id, its version's id), a node's id (and a lookup's version's) -> closure
        self.results: dict = {}  # (closure key, its operands' values) -> apply()'s distinct results and mapping
        self.columns: dict = {}  # (closure key, its domain columns' ids) -> the domain column it makes (and them)


def path_keys(pc: "PeriodCompiler", rep: np.ndarray, book: PathBook):
    """A key for each path (`rep`: one row of each) that is the same in every chunk of the
    period and every call on the same policies: the outcome class, at the path's row, of
    every column that varies, by what the column is - the domain's columns by their classes
    at the path's combination (_domain_contents).  Rows whose columns agree in class follow
    one path (see paths()), whichever chunk or call holds them.  None when a column's classes
    are numbered for this chunk alone (which items of a list decided, an island's
    combinations)."""
    places, parts, done = [], [], set()
    domain = [b""] * len(rep) if pc.domain_signature is None else _domain_contents(pc, rep, book)
    for col, by_value, ident in [x for x in pc.seen if not isinstance(x[0], DCol)]:
        if ident is None:
            if col.codes is None:
                continue
            return None
        if ident in done:
            continue
        done.add(ident)
        if isinstance(col, (Num, Rec)):
            at = np.full(len(rep), N._CLASS[N.VALUE]) if col.state is None else N._CLASS[col.state[rep]]
        elif col.codes is None:
            continue  # a constant of the period: the same in every chunk
        else:
            codes = col.codes[rep]
            if by_value:  # by the value itself, which a select key picks a branch by
                at = np.asarray([book.number(book.values, value_key(col.uniq[c])) for c in codes.tolist()],
                                dtype=np.int64)
            else:
                at = _classes(col, False, pc.memo)[codes]
        places.append(book.number(book.places, ident))
        parts.append(at)
    if not parts:
        return [(d, b"") for d in domain]
    order = np.argsort(places)
    head = np.asarray(places, dtype=np.int64)[order].tobytes()
    matrix = np.ascontiguousarray(np.stack([parts[i] for i in order], axis=1).astype(np.int64))
    return [(d, head + row.tobytes()) for d, row in zip(domain, matrix)]


def _domain_contents(pc: "PeriodCompiler", rep: np.ndarray, book: PathBook) -> list:
    """The domain part of each path's key: the outcome class (or, for a select key, the value)
    of every domain column at the path's combination, each column by its place - what the
    domain signature numbers for this call alone, spelled out so that another call's equal
    signature has the equal key.  Worked out once per signature (kept with it)."""
    _, per, size, of_domain, contents = pc.domain_signature
    sigs = per[pc.dom[rep]]
    wanted = [s for s in dict.fromkeys(sigs.tolist()) if s not in contents]
    if wanted:
        element = np.full(size, -1, dtype=np.int64)
        element[per[::-1]] = np.arange(len(per) - 1, -1, -1)  # a combination of each signature
        for s in wanted:
            e, entries = int(element[s]), {}
            for col, by_value, ident in of_domain:
                code = int(col.codes[e])
                if by_value:
                    cls = 8 + book.number(book.values, value_key(col.uniq[code]))
                else:
                    cls = int(_classes(col, False, pc.memo)[code])
                entries[book.number(book.places, ("domain", ident, by_value))] = cls
            contents[s] = np.asarray(sorted(entries.items()), dtype=np.int64).tobytes()
    return [contents[s] for s in sigs.tolist()]


def _classes(col, by_value, memo: dict):
    key = ("classes", id(col.uniq), by_value)
    got = memo.get(key)
    if got is None or got[0] is not col.uniq:
        got = memo[key] = (col.uniq, classes(col, by_value))
    return got[1]


_COMPACT: dict = {}  # classes of a column's values -> (how many, each value's class numbered from 0, or None: its own)


def _compact(cm: np.ndarray):
    """The classes of a column's distinct values numbered 0..k-1 (None where each value is a
    class of its own, so the codes are the classes), and k; memoized: columns are few in kind."""
    key = cm.tobytes()
    got = _COMPACT.get(key)
    if got is None:
        kinds = sorted(set(cm.tolist()))
        place = {c: i for i, c in enumerate(kinds)}
        got = (len(kinds), None if len(kinds) == len(cm) else np.asarray([place[c] for c in cm.tolist()]))
        if len(_COMPACT) < 4096:
            _COMPACT[key] = got
    return got


def _signature(cols, sig, size, memo: dict):
    """Each row's (or domain element's) signature extended by the outcome classes of `cols`."""
    done = set()
    for col, by_value, _ in cols:
        if (id(col), by_value) in done:
            continue
        done.add((id(col), by_value))
        if isinstance(col, (Num, Rec)):  # by outcome class: its state (value, unknown or failed)
            if col.state is None or not col.state.any():
                continue
            per_row, kinds = col.state, range(3)
        elif col.codes is None:
            continue
        else:
            if by_value == "exact":
                kinds, per_row = range(len(col.uniq)), col.codes
            else:
                k, cm = _compact(_classes(col, by_value, memo))
                if k <= 1:
                    continue  # (one class, as every row of a column of salaries has: no gather)
                # a class per distinct value (a flag's true / false / unknown): the codes are the classes
                kinds, per_row = range(k), col.codes if cm is None else np.take(cm, col.codes)
        k = len(kinds)
        if k <= 1:
            continue
        if size * k >= 1 << 62:
            sig, _, size = factorize(sig)
        wide = size * k >= 1 << 31  # int32 while the signatures fit: half the memory traffic
        if wide and sig.dtype != np.int64:
            sig = sig.astype(np.int64)
        elif not sig.flags.writeable or sig.dtype not in (np.int32, np.int64):
            sig = sig.astype(np.int64 if wide else np.int32)
        sig *= k  # in place: no row-long temporaries
        sig += per_row
        size *= k
    return sig, size


class _ItemCompiler(PeriodCompiler):
    """The columns of a quantifier's condition, one row per item of the rows' records: the
    item's fields, and its row's facts, rules and date."""

    def __init__(self, outer: PeriodCompiler, item_row: np.ndarray, distinct_items: list, source: np.ndarray):
        facts = {name: outer._rows(col).take(item_row) for name, col in outer.facts.items()}
        periods = None if outer.periods is None else (outer._rows(outer.periods[0]).take(item_row), outer.periods[1])
        super().__init__(outer.rules, outer.day, outer.known_on, facts, len(item_row), outer.as_of.take(item_row),
                         outer.presumed, periods=periods)
        self.outer, self.item_row = outer, item_row
        self.distinct_items, self.source = distinct_items, source  # the items of the distinct lists; each row's
        self.fields: dict = {}

    def rule(self, rule) -> Col:
        col = self.rule_cols.get(rule.id)
        if col is None:
            col = self.rule_cols[rule.id] = self.outer._rows(self.outer.rule(rule)).take(self.item_row)
            self.seen.append((col, False, ("rule", rule.id)))
        return col

    def _name(self, n) -> Col:
        if n.ref[0] != "field":
            return super()._name(n)
        col = self.fields.get(n.ref[1])
        if col is None:
            if not len(self.source):
                col = Col.const(MISSING)
            else:
                uniq, codes = intern([item[n.ref[1]] for item in self.distinct_items])
                col = Col(codes[self.source], uniq)
            self.fields[n.ref[1]] = col
        return col


def _outcomes_only(col) -> bool:
    """Whether a column's values are outcomes only (true, false, unknown, failed), so that its
    value is its outcome class: whatever is computed from such columns alone has an outcome
    that follows from theirs."""
    return type(col) in (Col, DCol) and all(v is True or v is False or v is MISSING or v is FAILED for v in col.uniq)


def _versions_on(day, known_on):
    """The table versions of a period, for a closure the period's book keeps."""
    return lambda table: table.version_at(day, known_on)


def _of_the_period(col) -> bool:
    """Whether a column is the same for every chunk of the period: a domain column, or a
    constant (a column computed from the rows keeps its codes even when it has one value:
    PeriodCompiler._local)."""
    return isinstance(col, DCol) or (type(col) is Col and col.codes is None)


def _plain(col):
    """A column as codes into distinct values, whatever holds it (the general path's form)."""
    if isinstance(col, Num):
        return col.col()
    if isinstance(col, Rec):
        return _record_col(col)
    return col


def _rows_of(rec: Rec) -> int:
    for c in rec.fields.values():
        if isinstance(c, Num):
            return len(c.ints)
    return 0


def _record_col(rec: Rec) -> Col:
    """A Rec as codes into distinct records (each field's value, or the row's outcome)."""
    fields = {k: _plain(c) for k, c in rec.fields.items()}
    state = Col(None, [0]) if rec.state is None else Col(rec.state.astype(np.int32), [0, 1, 2])
    def build(values):
        s = values[-1]
        if s:
            return MISSING if s == N.UNKNOWN else FAILED
        return dict(zip(fields, values[:-1]))
    out = apply(build, list(fields.values()) + [state])
    # a Rec has a Num among its fields: it is of the rows, so a single record is not a constant
    return out if out.codes is not None else Col(np.zeros(_rows_of(rec), dtype=np.int32), out.uniq)
