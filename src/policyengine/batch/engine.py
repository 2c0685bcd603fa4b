"""evaluate_batch: one decision for many cases, as one Arrow table with a row per case.

The steps: each input column is reduced to its distinct values, each checked once by the
fact's own converter (a bad value is an error on the rows that hold it, never a stop);
rows are split by period of validity (the days on which no instrument, rule or table
version changes); each period's rows are decided column-wise (batch/compiler.py); one row
of each evaluation path is decided by the scalar engine, which gives the path's status,
clauses, missing facts and presumptions, and checks the column's value.  A construct the
compiler does not vectorise sends its period's rows to the scalar engine, once per
distinct case, and the result's metadata says so.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import time
import weakref

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import limits
from ..errors import InputError, PolicyEngineError, did_you_mean
from ..runtime.evaluator import SUBJECT
from ..runtime.facts import Bad, as_date, converter, whole_numbers
from .arrow import to_arrow, value_columns
from . import compiler
from .columns import FAILED, MISSING, POOL, Col, DCol, Distinct, WholeNumbers, _combined, intern, value_key
from .compiler import Closures, PathBook, PeriodCompiler, Unsupported, path_keys
from . import numbers
from .answers import NUMERIC, Codes, Numbers
from .numbers import LIMIT, Num, Rec

STATUSES = ("decided", "undetermined", "refused", "conflict", "error")
CHUNK_ROWS = 1 << 16  # rows decided together: the compiler's columns are this long at most (periods decided
# together make full chunks: 2^17 was ~10 % faster but lifted performance pay's first-call RSS to 2.00x the input;
# with one-byte codes it is 1 % faster, at 1.85x against 1.68x)
SLICE_ROWS = 1 << 18  # rows of the input read (codes, dates, periods) at a time: with the domain and the paths
# shared across slices a smaller slice costs little time (~5 % on 1M performance-pay rows) and bounds the peak
CASE_KEYS = 4096  # a slice's cases are named (to take an earlier slice's answers) when at most this many
CASES_KEPT = 1 << 16  # cases whose answers the later slices of a call take, at most
_LIST = pa.list_(pa.string())
_ERRORS = pa.list_(pa.struct([("fact", pa.string()), ("problem", pa.string())]))
_MESSAGE_FIELDS = ("kind", "rule", "clause", "citation", "en", "fr")  # Decision.messages, per refusal or conflict
_MESSAGES = pa.list_(pa.struct([(k, pa.string()) for k in _MESSAGE_FIELDS]))


class _Bad:
    __slots__ = ("problem",)

    def __init__(self, problem):
        self.problem = problem


def evaluate_batch(policies, decision: str, data, as_of=None, as_of_column: str | None = None,
                   known_on=None, known_on_column: str | None = None, presume: bool = True,
                   scheduler=None, row_offset: int = 0, input_errors: dict | None = None,
                   _keep: bool = False) -> pa.Table:
    """Decide `decision` for every row of `data` (a mapping of column -> sequence, a list of
    fact dicts, a pandas or Polars DataFrame, or an Arrow table) as of `as_of` or each row's
    `as_of_column`, and as known on `known_on` / `known_on_column` when given.

    Returns an Arrow table, one row per input row in order: `row` (counting from 1 +
    row_offset), `status`, `value` (or `value.FIELD`), `clauses`, `missing`, `assumptions`,
    `errors`, `messages` (why a row was refused or in conflict, citing the clause, en and fr),
    and `subject_id` when the input has it.  Its schema metadata (JSON under
    b"policyengine") gives the decision, the policy hash and how the rows were computed.
    With `scheduler` (a dask.distributed Client), the rows are split across its workers.
    `input_errors` ({row index: [(fact or None, problem)]}) are problems a file reader found
    on rows (a line that is not JSON): those rows are reported with them, not decided.
    """
    if scheduler is not None:
        raise InputError(["a scheduler is taken by policyengine.batch.evaluate_batch, which hands the rows to it"])
    started = time.perf_counter()
    rule = policies.rule(decision)
    if (as_of is None) == (as_of_column is None):
        raise InputError(["give as_of (one date for every row) or as_of_column (the column of each row's date)"])
    if known_on is not None and known_on_column is not None:
        raise InputError(["give known_on or known_on_column, not both"])
    n, raw = _columns(data)
    for name in (as_of_column, known_on_column):
        if name is not None and name not in raw:
            raise InputError([f"no column '{name}' in the input{did_you_mean(name, raw)}"])
    batch = _Batch(policies, rule, n, presume, own_books=_keep)
    outcome, value = batch.outcome, batch.value
    # Slice by slice: a slice's codes and working columns are all the memory there is beyond
    # the input and the answer (two integers a row); answers are shared across slices.
    for start in range(0, n, SLICE_ROWS):
        m = min(SLICE_ROWS, n - start)
        part = {k: v.slice(start, m) if isinstance(v, (pa.Array, pa.ChunkedArray)) else v[start:start + m]
                for k, v in raw.items()}
        batch.n, batch.outcome, batch.value = m, outcome[start:start + m], value[start:start + m]
        batch.errors, batch.offset, batch.own_errors = {}, start, []
        batch.facts, batch.day, batch.known = {}, None, None  # the last slice's columns go before this one's come
        batch.read_facts(part, {as_of_column, known_on_column} - {None})
        for r, problems in (input_errors or {}).items():
            if start <= r < start + m:
                batch.errors.setdefault(r - start, []).extend(problems)
                batch.own_errors.append(r - start)
        batch.read_days(part, as_of, as_of_column, known_on, known_on_column)
        batch.decide()
        batch.input_errors += len(batch.errors)
    batch.n, batch.outcome, batch.value = n, outcome, value
    batch.facts = batch.day = batch.known = None
    table = batch.table(row_offset, raw.get(SUBJECT))
    batch.meta["seconds"] = round(time.perf_counter() - started, 6)
    table = table.replace_schema_metadata({b"policyengine": json.dumps(batch.meta).encode()})
    return table if not _keep else (table, Rows(batch))


class Rows:
    """Each row's answer as Python objects, for callers inside the engine that need more than
    the table holds (retro: the versions a trace used): the row's own value, and the Decision
    the scalar engine gave for one row of the same path (status, clauses, missing facts,
    messages, presumptions, gaps and versions are the path's; its value and facts are not this
    row's)."""

    def __init__(self, batch: "_Batch"):
        self._b = batch

    def value(self, i: int):
        vid = int(self._b.value[i])
        if vid == NUMERIC:  # held as numbers: read back from the result's exact columns
            cols = self._b.value_columns
            if "value" in cols:
                return cols["value"][i].as_py()
            return {name[len("value."):]: arr[i].as_py() for name, arr in cols.items()}
        return None if vid < 0 else self._b.values[vid]

    def path_decision(self, i: int):
        return self._b.decisions.get(int(self._b.outcome[i]))

    def status(self, i: int) -> str:
        return self._b.outcomes[self._b.outcome[i]][0]

    def errors(self, i: int) -> list:
        return list(self._b.outcomes[self._b.outcome[i]][4])


def metadata(table: pa.Table) -> dict:
    """The metadata evaluate_batch put on its result."""
    return json.loads((table.schema.metadata or {}).get(b"policyengine", b"{}"))


# -- input ----------------------------------------------------------------------------------
def _columns(data) -> tuple[int, dict]:
    """(rows, {column: Arrow array or Python list}) from any supported input."""
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        return data.num_rows, {name: data.column(name) for name in data.column_names}
    module = type(data).__module__.split(".")[0]
    if module == "polars":
        return _columns(data.to_arrow())
    if module == "pandas":
        return _columns(pa.Table.from_pandas(data, preserve_index=False))
    if isinstance(data, dict):
        cols = {str(k): v if isinstance(v, (pa.Array, pa.ChunkedArray)) else list(v) for k, v in data.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise InputError([f"columns of different lengths: {', '.join(f'{k} has {len(v)}' for k, v in cols.items())}"])
        return (lengths.pop() if lengths else 0), cols
    if isinstance(data, (list, tuple)):
        names: dict = {}
        for i, row in enumerate(data):
            if not isinstance(row, dict):
                raise InputError([f"row {i + 1}: expected a mapping of fact names to values, got {type(row).__name__}"])
            names.update(dict.fromkeys(map(str, row)))
        return len(data), {k: [row.get(k, None) for row in data] for k in names}
    raise InputError([f"batch input: expected a mapping of columns, a list of fact mappings, a DataFrame or an "
                      f"Arrow table, got {type(data).__name__}"])


def _distinct(column, expected=(), ranges: dict | None = None) -> tuple[np.ndarray, list]:
    """(codes, distinct values) of a column; None stands for a null.  `expected`: the texts
    the column should hold (an enum's values), looked up rather than hashed.  `ranges`: the
    value lists of short ranges met before (each slice's days), to give the same list again."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        arr = _one_array(column)
        small = _small_range(arr, ranges)
        if small is not None:
            return small
        if expected and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return _in_set(arr, list(expected))
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr, memory_pool=POOL)
        uniq = arr.dictionary.to_pylist() + [None]
        indices = pc.fill_null(arr.indices, len(uniq) - 1) if arr.indices.null_count else arr.indices
        codes = indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        return codes, uniq
    uniq, codes = intern(column)
    return codes, uniq


def _one_array(column) -> pa.Array:
    """A column as one Arrow array: a chunked column of one chunk (a slice of a table) is
    that chunk, not a copy (combine_chunks copies even one chunk)."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _in_set(arr, expected: list):
    """(codes, values) of texts looked up among the expected ones: a hash table of the few
    expected texts, not one of the column (which Arrow's allocator keeps as resident memory
    after the encoding).  What is not among them, a null included, is encoded apart."""
    if len(arr) > 1024 and not arr.null_count:  # one text throughout (every row PL-06): a comparison, not a hash
        first = arr[0]
        if first.as_py() in expected and pc.all(pc.equal(arr.slice(0, 1024), first)).as_py() \
                and pc.all(pc.equal(arr, first, memory_pool=POOL)).as_py():
            return np.full(len(arr), expected.index(first.as_py()), dtype=np.int32), expected + [None]
    found = pc.index_in(arr, value_set=pa.array(expected, type=arr.type), memory_pool=POOL)
    if not found.null_count:
        return found.to_numpy().astype(np.int32, copy=False), expected + [None]
    other = pc.is_null(found, memory_pool=POOL)
    rest = pc.dictionary_encode(pc.filter(arr, other, memory_pool=POOL), memory_pool=POOL)
    extra = rest.dictionary.to_pylist()
    codes = pc.fill_null(found, 0).to_numpy(zero_copy_only=False).astype(np.int32)
    sub = pc.fill_null(rest.indices, len(extra)).to_numpy(zero_copy_only=False).astype(np.int32)
    codes[other.to_numpy(zero_copy_only=False)] = sub + len(expected)
    return codes, expected + extra + [None]


_SMALL_RANGE = 4096  # values converted a slice, present or not
_EPOCH, _LAST_DAY = dt.date(1970, 1, 1).toordinal(), dt.date.max.toordinal()


def _small_range(arr, ranges: dict | None = None):
    """(codes, values) of whole numbers or dates spanning a short range, by subtraction
    rather than hashing (steps, days).  Every value of the range is listed, present or not
    (a value no row holds is a value no row's error can name), unless few are present (the
    April 1sts among five years of days): then those, the codes compacted by one gather."""
    typ = arr.type
    if not (pa.types.is_integer(typ) or pa.types.is_date32(typ)) or len(arr) == 0:
        return None
    ints = arr.view(pa.int32()) if pa.types.is_date32(typ) else arr
    bounds = pc.min_max(ints, memory_pool=POOL)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if lo is None or hi - lo >= min(_SMALL_RANGE, len(arr)):
        return None
    values = (pc.fill_null(ints, lo) if ints.null_count else ints).to_numpy(zero_copy_only=False)
    codes = np.empty(len(values), dtype=np.int32)
    np.subtract(values, lo, out=codes, casting="unsafe")  # one pass; the difference is below 4096
    span = hi - lo + 1
    offsets = range(span)
    if span > 64 and 4 * len(np.unique(codes[:4096])) < span:  # few present in the first rows: count them all
        present = np.flatnonzero(np.bincount(codes, minlength=span))
        if 4 * len(present) < span:
            remap = np.zeros(span, dtype=np.int32)
            remap[present] = np.arange(len(present), dtype=np.int32)
            codes = np.take(remap, codes)
            offsets = present.tolist()
    date = pa.types.is_date32(typ)
    key = (date, lo, span, None if isinstance(offsets, range) else tuple(offsets))
    uniq = None if ranges is None else ranges.get(key)
    if uniq is not None:
        pass
    elif date:  # days since 1970-01-01
        first = _EPOCH + lo
        if first < 1 or first + span - 1 > _LAST_DAY:
            return None  # beyond Python's calendar: the values are read one by one, and refused
        uniq = [dt.date.fromordinal(first + k) for k in offsets] + [None]
    else:
        uniq = [lo + k for k in offsets] + [None]
    if ranges is not None and len(ranges) < 64:
        ranges.setdefault(key, uniq)
    if arr.null_count:
        codes[np.asarray(arr.is_null())] = len(uniq) - 1
    return codes, uniq


def _absent(v) -> bool:
    return v is None or (type(v) is float and math.isnan(v))


class _Batch:
    def __init__(self, policies, rule, n, presume, own_books: bool = False):
        self.policies, self.rule, self.n, self.presume = policies, rule, n, presume is not False
        self.decision = rule.id
        self.errors: dict[int, list] = {}  # row of the slice -> [(fact, problem)]
        self.input_errors = 0  # rows with input errors, all slices
        self.facts: dict[str, Col] = {}
        self.outcomes: list = []  # distinct (status, clauses, missing, assumptions, errors, messages)
        self.decisions: dict = {}  # outcome -> the Decision of one row with it (see Rows)
        self._outcome_index: dict = {}
        self._distinct = Distinct()
        self.values = self._distinct.values  # the distinct values decided (a row's value id is its index)
        self.outcome = np.full(n, -1, dtype=np.int32)
        self.value = np.full(n, -1, dtype=np.int32)
        self.own_errors: list = []  # rows of the slice whose errors are their own (a reader's), not their facts'
        self.answers = None  # value field -> its store (batch/answers.py), once a chunk's values are numbers
        # period key -> the paths decided in it (compiler.PathBook): for every slice, and every call on
        # these policies (paths are the policies', not the input's), unless the caller needs each
        # path's Decision (Rows): then the call's own
        self.own_books = own_books
        self.books: dict = {} if own_books else _books(policies, rule.id, self.presume)
        self.closures = Closures()  # the rules' and nodes' scalar closures, for every period
        self.domains: dict = {}  # period key -> (facts, combination -> place, their DCols, shared columns)
        self.domain_facts: dict = {}  # the few facts' names -> (combination -> place, their DCols): any period's
        self.total = n
        self.num_memo: dict = {}  # distinct values -> fixed-point form, for the slice
        self.weight = self.origin = None  # while distinct cases stand for the slice's rows: rows each stands for, and one
        self.scalar_cases = None  # while cases are decided: which of them the scalar engine decided
        self.case_answers: dict = {}  # what a case is (_case_keys) -> (outcome, value, the meta count of its rows): every slice's
        self.meta = {"decision": rule.id, "policy_hash": policies.policy_hash, "rows": n, "columnar_rows": 0,
                     "scalar_rows": 0, "numeric_rows": 0, "paths": 0, "scalar_evaluations": 0, "fallbacks": []}

    # -- reading ---------------------------------------------------------------------------------
    def read_facts(self, raw: dict, date_columns: set) -> None:
        self.date_columns = date_columns
        converters = self.__dict__.get("converters")
        if converters is None:
            self.converters = converters = self._converters()
            decls = {d.name: d for d in (self.policies.facts[f] for f in self.policies.graph.facts_of(self.decision))}
            self.texts = {name: [v for v in d.type.values if type(v) is str] for name, d in decls.items()
                          if d.type.kind == "enum"}
            self.kinds = {name: d.type.kind for name, d in decls.items()}
            self.readers = {name: r for name, r in ((n, whole_numbers(d)) for n, d in decls.items()) if r is not None}
            self.fact_names = {d.name for d in self.policies.facts.values()}  # every decision's
        self.num_memo = {}  # distinct values -> their fixed-point form, for the slice
        known = self.fact_names
        for name, column in raw.items():
            if name in date_columns or name == SUBJECT:
                continue
            conv = converters.get(name)
            if conv is None and name in known:
                continue  # a fact of another decision is left aside, as evaluate() does
            many = self._many_numbers(name, column) if conv is not None else None
            if many is not None:  # many whole numbers, every one sound: kept as numbers
                self.facts[name] = many
                continue
            codes, uniq = _distinct(column, self.texts.get(name, ()))
            if conv is None:
                problem = f"unknown fact '{name}'{did_you_mean(name, converters)}"
                given = [i for i, v in enumerate(uniq) if not _absent(v)]
                self._bad_rows(codes, given, lambda i: (name, problem))
                continue
            self.facts[name] = Col(codes, self._one_by_one(name, conv, codes, uniq))

    def _one_by_one(self, name: str, conv, codes, uniq: list) -> list:
        """Each distinct value converted, a bad one's rows given its problem (and MISSING)."""
        checked = []
        for v in uniq:
            if _absent(v):
                checked.append(MISSING)
                continue
            try:
                checked.append(conv(v))
            except Bad as exc:
                checked.append(_Bad(f"fact '{name}': {exc}"))
        bad = [i for i, v in enumerate(checked) if isinstance(v, _Bad)]
        self._bad_rows(codes, bad, lambda i: (name, checked[i].problem))
        return [MISSING if isinstance(v, _Bad) else v for v in checked]

    def _many_numbers(self, name: str, column):
        """The Col of a numeric fact given as many distinct whole numbers (salaries), its values
        kept as numbers (columns.WholeNumbers) with their fixed-point form for the kernels: no
        Python value is made for each.  None: read value by value (few values, not all whole
        numbers, or one out of bounds: each is then refused with its own problem)."""
        maker = self.readers.get(name)
        if maker is None or len(column) <= compiler.VARIED:
            return None
        if not isinstance(column, (pa.Array, pa.ChunkedArray)):
            try:
                column = pa.array(column, from_pandas=False)
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                return None  # not all whole numbers (a bool, a text, beyond int64)
        arr = _one_array(column)
        if not pa.types.is_integer(arr.type) or arr.null_count == len(arr):
            return None
        bounds = pc.min_max(arr, memory_pool=POOL)
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        if hi - lo < compiler.VARIED:
            return None  # few values, whatever they are
        make = maker(lo, hi)
        if make is None or max(-lo, hi) >= LIMIT:
            return None
        ints = arr.cast(pa.int64()) if arr.type != pa.int64() else arr
        if hi - lo < len(arr):  # a range no longer than the column: coded by subtraction, not hashed
            values = np.arange(lo, hi + 1, dtype=np.int64)
            raw = (pc.fill_null(ints, lo) if ints.null_count else ints).to_numpy(zero_copy_only=False)
            codes = np.empty(len(raw), dtype=np.int32)
            np.subtract(raw, lo, out=codes, casting="unsafe")
        else:
            encoded = pc.dictionary_encode(ints, memory_pool=POOL)
            values = encoded.dictionary.to_numpy(zero_copy_only=False)
            indices = pc.fill_null(encoded.indices, 0) if arr.null_count else encoded.indices
            codes = indices.to_numpy(zero_copy_only=False).astype(np.int32)  # (the nulls' codes are set below)
        if len(values) <= compiler.VARIED:
            return None
        null = bool(arr.null_count)
        if null:
            codes[np.asarray(arr.is_null())] = len(values)
        uniq = WholeNumbers(values, make, null, lo if hi - lo < len(arr) else None)
        table = np.append(values, 0) if null else values
        state = None
        if null:
            state = np.zeros(len(table), dtype=np.int8)
            state[-1] = numbers.UNKNOWN
        self.num_memo[id(uniq)] = (uniq, (table, 0, self.kinds[name] == "integer", state))
        return Col(codes, uniq)

    def _converters(self):
        """The decision's facts, each with its converter (the ones evaluate() uses)."""
        g = self.policies.graph
        return {self.policies.facts[f].name: converter(self.policies.facts[f]) for f in g.facts_of(self.decision)}

    def _bad_rows(self, codes, bad_codes, problem) -> None:
        """Each row holding one of the bad values gets its problem (one pass over the rows)."""
        if not bad_codes:
            return
        rows = np.flatnonzero(np.isin(codes, np.asarray(bad_codes, dtype=codes.dtype)))
        for r, i in zip(rows.tolist(), codes[rows].tolist()):
            self.errors.setdefault(r, []).append(problem(i))

    def read_days(self, raw, as_of, as_of_column, known_on, known_on_column) -> None:
        if len(self.__dict__.get("marks", ())) > 64:
            self.marks = {}  # (each entry holds its days: an earlier slice's range may come again)
        self.day = self._days(raw, as_of, as_of_column, "as_of")
        self.known = None if known_on is None and known_on_column is None else \
            self._days(raw, known_on, known_on_column, "known_on")

    def _days(self, raw, value, column, name) -> Col:
        if column is None:
            return Col.const(as_date(value, name))  # one date for all: a bad one is the caller's error
        given = raw[column]
        codes, uniq = _distinct(given, ranges=self.__dict__.setdefault("ranges", {}))
        no_nulls = isinstance(given, (pa.Array, pa.ChunkedArray)) and not given.null_count
        known = self.__dict__.setdefault("day_lists", {}).get((id(uniq), no_nulls))
        if known is not None and known[0] is uniq:  # the days of a range an earlier slice had: read already
            return Col(codes, known[1])
        days = []
        for i, v in enumerate(uniq):
            if type(v) is dt.date:  # (a date32 column's days: nothing to read)
                days.append(v)
                continue
            try:
                days.append(as_date(v, column) if not _absent(v) else
                            None if no_nulls else _Bad(f"{column}: no date given"))  # (no row without a date)
            except InputError as exc:
                days.append(_Bad(_message(exc)))
        bad = [i for i, v in enumerate(days) if isinstance(v, _Bad)]
        self._bad_rows(codes, bad, lambda i: (column, days[i].problem))
        col = Col(codes, [None if isinstance(v, _Bad) else v for v in days])
        if not bad and any(uniq is u for u in self.ranges.values()):  # a range's days: a later slice may have them
            self.day_lists[(id(uniq), no_nulls)] = (uniq, col.uniq)
        return col

    # -- deciding --------------------------------------------------------------------------------
    def decide(self) -> None:
        """The slice's answers, each distinct case decided once when the cases repeat: rows with
        the same facts, as-of and known-on dates are the same case (a workforce has a few
        hundred levels, steps and dates), so only one row of each is decided and the others
        take its answer by one gather."""
        cases = self._cases()
        if cases is None:
            self._decide_rows()
            return
        case_of, reps, sizes, when = cases
        keys = self._case_keys(reps, when)
        outcome = np.full(len(reps), -1, dtype=np.int32)
        value = np.full(len(reps), -1, dtype=np.int32)
        fresh = np.ones(len(reps), dtype=bool)  # the cases no earlier slice decided
        for i, k in enumerate(keys or ()):
            got = self.case_answers.get(k)
            if got is not None:
                outcome[i], value[i], by = got
                fresh[i] = False
                if by is not None:
                    self.meta[by] += int(sizes[i])
        if fresh.any():
            new = np.flatnonzero(fresh)
            outcome[new], value[new], scalar = self._decide_cases(reps[new], sizes[new])
            for i, was_scalar in zip(new.tolist(), scalar.tolist()):
                if keys is not None and len(self.case_answers) < CASES_KEPT:
                    by = "scalar_rows" if was_scalar else None if int(reps[i]) in self.errors else "columnar_rows"
                    self.case_answers[keys[i]] = (int(outcome[i]), int(value[i]), by)
        key, case = case_of  # each row's combination, each combination's case: one gather a row of each answer
        np.take(np.take(outcome, case), key, out=self.outcome)  # straight into the answer: no row-long temporary
        np.take(np.take(value, case), key, out=self.value)

    def _decide_cases(self, reps: np.ndarray, sizes: np.ndarray):
        """(outcome, value, whether the scalar engine decided it) of each case, `reps` a row of
        each, `sizes` the rows each stands for: the cases decided as the slice's rows would be."""
        whole = (self.n, self.outcome, self.value, self.facts, self.day, self.known, self.errors)
        self.n, self.weight, self.origin = len(reps), sizes, reps
        self.outcome, self.value = np.full(len(reps), -1, dtype=np.int32), np.full(len(reps), -1, dtype=np.int32)
        self.scalar_cases = np.zeros(len(reps), dtype=bool)
        self.facts = {name: col.take(reps) for name, col in whole[3].items()}
        self.day = whole[4].take(reps)
        self.known = None if whole[5] is None else whole[5].take(reps)
        self.errors = {i: whole[6][r] for i, r in enumerate(reps.tolist()) if r in whole[6]}
        try:
            self._decide_rows()
            return self.outcome, self.value, self.scalar_cases
        finally:
            self.n, self.outcome, self.value, self.facts, self.day, self.known, self.errors = whole
            self.weight = self.origin = self.scalar_cases = None

    def _case_keys(self, reps: np.ndarray, when):
        """What each case is, the same in every slice (its facts' values, the period or dates
        its answer rests on - `when`, each case's - and its input errors), so that a case an
        earlier slice decided is not decided again; None when the cases are too many to name
        one by one."""
        if len(reps) > CASE_KEYS:
            return None
        at = reps.tolist()
        parts = []
        for col in self.facts.values():
            if col.codes is None:
                parts.append([value_key(col.uniq[0])] * len(at))
            else:
                keys = [value_key(v) for v in col.uniq] if len(col.uniq) <= 4 * len(at) else None
                parts.append([keys[c] if keys is not None else value_key(col.uniq[c])
                              for c in np.take(col.codes, reps).tolist()])
        parts.append(when(reps))
        errors = self.errors  # (a row's input errors are its answer: a bad value and a missing one read alike)
        parts.append([tuple(errors[r]) if r in errors else () for r in at])
        return list(zip(*parts))

    def _cases(self):
        """((each row's combination of facts and dates, each combination's case), one row of
        each case, rows of each case, what each case's dates mean), or None when the
        combinations possible are not far fewer than the rows (salaries: nearly every row is
        its own case, and finding that out would cost more than it saves)."""
        if math.prod(len(c.uniq) for c in self.facts.values() if c.codes is not None) > self.n // 2:
            return None  # known before the key is computed: too many combinations possible
        when, meaning = self._when()
        cols = list(self.facts.values()) + [when]
        if math.prod(len(c.uniq) for c in cols if c.codes is not None) > self.n // 2:
            return None
        key, dense, size = _combined(cols)
        if key is None or not dense or size > self.n // 2:
            return None
        if self.own_errors:  # a row with a reader's error is a case of its own
            key = key.astype(np.int64, copy=True)
            key[self.own_errors] = size + np.arange(len(self.own_errors))
            size += len(self.own_errors)
        counts = np.bincount(key, minlength=size)
        present = np.flatnonzero(counts)
        case = np.zeros(size, dtype=np.int32)  # each combination's case (0 for one no row has)
        case[present] = np.arange(len(present), dtype=np.int32)
        reps = np.full(len(present), -1, dtype=np.int64)
        head = min(self.n, 8 * len(present) + 1024)  # a row of each case, found among the first rows mostly
        reps[np.take(case, key[:head])] = np.arange(head)  # (of equal indices the last write wins)
        if (reps < 0).any():
            reps[np.take(case, key)] = np.arange(self.n, dtype=np.int32)
        return (key, case), reps, counts[present], meaning

    def _when(self):
        """What of a row's dates its answer can depend on, as a column, and a function giving
        what it is at given rows, the same in every slice (for _case_keys).  Every day
        of a period of validity sees the same versions, so when the decision reads no `as_of`
        and is in force, the period is all that counts; otherwise (and outside force, where
        evaluate() names the day) the dates themselves."""
        day, known = self.day, self.known

        def dates(rows):
            return [("dates", _at(day, r), None if known is None else _at(known, r)) for r in rows.tolist()]
        if day.codes is None and (known is None or known.codes is None):
            return Col.const(0), dates
        if self._reads_as_of() or (known is not None and known.codes is not None):
            key, _, size = _combined([c for c in (day, known) if c is not None])
            return Col(key.astype(np.int32, copy=False), range(size)), dates
        # one known-on date for all rows (or none): each distinct day stands for its period,
        # if the decision is in force then, or for itself
        marks = self._marks(day.uniq, self._bounds()[0])
        on = None if known is None else known.uniq[0]
        periods, first = np.unique(marks, return_index=True)
        ok = np.zeros(len(periods), dtype=bool)  # is the decision in force in each period met
        for j, (mark, i) in enumerate(zip(periods.tolist(), first.tolist())):
            ok[j] = mark >= 0 and self.policies.plan_for(self.decision, day.uniq[i], "none", self.presume,
                                                         on).error is None
        in_force = np.take(ok, np.searchsorted(periods, marks))
        stands_for = np.where(in_force, marks, -1 - np.arange(len(marks)))  # its period, or the day itself
        kinds, per_day = np.unique(stands_for, return_inverse=True)
        meanings = [("period", k, on) if k >= 0 else ("dates", day.uniq[-1 - k], on) for k in kinds.tolist()]
        when = Col(np.take(per_day.astype(np.int32).reshape(-1), day.codes), range(len(kinds)))

        def meaning(rows):
            return [meanings[c] for c in np.take(when.codes, rows).tolist()]
        return when, meaning

    def _reads_as_of(self) -> bool:
        """Whether the decision, or a rule it depends on, reads the date it is asked as of."""
        got = self.__dict__.get("reads_as_of")
        if got is None:
            from ..expr import ast
            from ..model import walk
            rules = self.policies.rules
            ids = [self.decision] + [i for kind, i in self.policies.graph.dependencies("rule", self.decision)
                                     if kind == "rule"]
            got = self.reads_as_of = any(
                isinstance(node, ast.Name) and node.ref is not None and node.ref[0] == "as_of"
                for rid in ids for _, _, expr in walk.expressions(rules[rid]) for node in ast.walk(expr.node))
        return got

    def _count(self, rows) -> int:
        """The input rows that `rows` stand for."""
        return len(rows) if self.weight is None else int(self.weight[rows].sum())

    def _decide_rows(self) -> None:
        """Each row's period, then its answer.  As evaluate() checks them: a bad date first,
        then whether the decision is in force, then the facts."""
        period_of = self._periods()
        # a many-valued fact (salaries) is taken once, at each chunk's rows, from the slice; the
        # few-valued ones as one key (their combination), at each period's rows, for its domain
        many = {name for name, col in self.facts.items() if col.codes is not None and len(col.uniq) > compiler.VARIED}
        combined = self._domain_key(many)
        keys = (np.flatnonzero(np.bincount(period_of + 1)) - 1).tolist()
        if not keys:
            return
        one_row = _a_row_of_each(period_of + 1, keys[-1] + 2, len(keys))
        groups: dict = {}  # what the periods' rules are -> the periods in force that share it
        for key in keys:
            if key < 0:
                self._errors_of(np.flatnonzero(period_of == key), dates_only=True)
                continue
            day, known = self._days_at(int(one_row[key + 1]))
            plan = self.policies.plan_for(self.decision, day, "none", self.presume, known)
            if plan.error is not None:
                self._scalar_rows(np.flatnonzero(period_of == key))  # not in force on these days: evaluate() says so, per day
                continue
            same = self._alike(plan, day, known) if combined is not None and PERIODS_TOGETHER else ("period", key)
            groups.setdefault(same, []).append((key, day, known))
        for same, periods in groups.items():
            if len(periods) == 1:
                rows, at = np.flatnonzero(period_of == periods[0][0]), None  # (a pass a period: periods are few)
            else:  # periods told apart by their tables alone: decided together, the period a domain fact
                place = np.full(keys[-1] + 2, -1, dtype=np.int32)
                place[[k + 1 for k, _, _ in periods]] = np.arange(len(periods), dtype=np.int32)
                at = np.take(place, period_of + 1)
                rows = np.arange(self.n) if len(periods) == len(keys) else np.flatnonzero(at >= 0)
                at = at if len(rows) == self.n else at[rows]
            if self.errors:
                bad = np.fromiter((r in self.errors for r in rows.tolist()), dtype=bool, count=len(rows))
                self._errors_of(rows[bad])
                rows = rows[~bad]
                at = None if at is None else at[~bad]
            if not len(rows):
                continue
            self._decide_group(rows, at, periods, combined, many, same)

    def _decide_group(self, rows, at, periods: list, combined, many: set, same=None) -> None:
        """Rows of one period, or of periods that differ in their tables alone (`at`: each
        row's place among `periods`, their (key, day, known on); `same`: what they share, which
        names their domain and paths for every slice, whichever of the periods it holds),
        chunk by chunk."""
        book_key = periods[0][0] if at is None else ("alike", same)
        period = None
        if combined is None:
            got = None
        elif at is None:
            got = self._domain(combined[0], np.take(combined[1], rows), combined[2], book_key)
        else:  # the period is the domain's last fact: each combination is of one period
            few = dict(combined[0])
            few[_PERIOD] = Col(None, [k for k, _, _ in periods])
            key = np.take(combined[1], rows).astype(np.int64)
            key *= len(periods)
            key += at
            got = self._domain(few, key, combined[2] * len(periods), book_key)
            if got is not None:
                period = (got[1][_PERIOD], {k: (d, kn) for k, d, kn in periods})
        if got is None and at is not None:  # no domain to hold the period in: each period on its own
            for i in range(len(periods)):
                self._decide_group(rows[at == i], None, periods[i:i + 1], combined, many)
            return
        domain, dcols, shared = (None, {}, {}) if got is None else got
        every = len(rows) == self.n  # (sorted distinct rows: every row of the slice, in order)
        facts = {name: dcols[name] if name in dcols else col if name in many or every else col.take(rows)
                 for name, col in self.facts.items()}
        book = self.books.setdefault((book_key, self.weight is None), PathBook())
        for start in range(0, len(rows), CHUNK_ROWS):  # bounded working memory, whatever the input
            part = slice(start, start + CHUNK_ROWS)
            mine = _span(rows[part])  # (contiguous rows: a slice, and the columns views, not copies)
            chunk = {k: c if isinstance(c, DCol) else c.take(mine if k in many else part) for k, c in facts.items()}
            self._decide_period(rows[part], chunk, None if domain is None else (domain[0][part], domain[1]),
                                shared, book, period)

    def _alike(self, plan, day, known):
        """What a period's answers rest on besides its tables: the version of each rule the
        decision uses and the presumptions (and whether the decision reads its date).  Periods
        alike in this are decided together, each table lookup by its row's period."""
        if self._reads_as_of():
            return ("as_of", day, known)
        rules = self.policies.rules
        ids = self.__dict__.get("rule_ids")
        if ids is None:
            ids = self.rule_ids = [self.decision] + sorted(
                i for kind, i in self.policies.graph.dependencies("rule", self.decision) if kind == "rule")
        versions = tuple(id(rules[i].version_at(day, known)) for i in ids)
        presumed = tuple(sorted((name, value_key(p.value)) for name, (_, p) in (plan.presumptions or {}).items()))
        return versions, presumed, known is None

    def _errors_of(self, rows, dates_only=False) -> None:
        for r in rows.tolist():
            errs = self.errors[r]
            if dates_only:
                errs = [e for e in errs if e[0] in self.date_columns] or errs
            self.outcome[r] = self._intern_outcome(("error", (), (), (), tuple(errs), ()))

    def _days_at(self, r: int):
        return _at(self.day, r), None if self.known is None else _at(self.known, r)

    def _bounds(self) -> list:
        """The days period() places a day among (as of, as known on), as day numbers."""
        if "bounds" not in self.__dict__:
            self.bounds = [np.asarray([d.toordinal() for d in b], dtype=np.int64) for b in self.policies.period_bounds()]
        return self.bounds

    def _periods(self) -> np.ndarray:
        """A period key per row (as of, and as known on), -1 where a day is bad."""
        bounds = self._bounds()
        radix = max(len(b) for b in bounds) + 2
        keys = np.zeros(self.n, dtype=np.int32)
        bad = np.zeros(self.n, dtype=bool)
        for col, bounds in ((self.day, bounds[0]), (self.known, bounds[1])):
            if col is None:
                continue
            marks = self._marks(col.uniq, bounds)
            per_row = np.full(self.n, marks[0]) if col.codes is None else np.take(marks, col.codes)
            bad |= per_row < 0
            keys = keys * radix + per_row + 1
        keys[bad] = -1
        return keys

    def _marks(self, days: list, bounds: np.ndarray) -> np.ndarray:
        """The period of each distinct day (period() for many days at once), -1 for a bad one;
        kept (a slice's days are placed again once its cases are found, a later slice's range may be the same)."""
        cache = self.__dict__.setdefault("marks", {})
        got = cache.get((id(days), len(bounds)))
        if got is None or got[0] is not days:
            at = np.asarray([0 if d is None else d.toordinal() for d in days], dtype=np.int64)  # None: a bad day
            marks = np.searchsorted(bounds, at, side="right").astype(np.int32)
            marks[at == 0] = -1
            got = cache[(id(days), len(bounds))] = (days, marks)
        return got[1]

    def _decide_period(self, rows: np.ndarray, facts: dict, domain, shared: dict, book: PathBook,
                       periods=None) -> None:
        """Rows of one period (a chunk of them): `facts` taken at them (the domain's as DCols
        over `domain`), `shared` the domain's columns between the period's chunks, `book` the
        paths the period has decided (each path's row is evaluated once a period, not once a
        chunk); `periods`, for periods told apart by their tables alone: (the domain's column
        of each combination's period, each period's day and known-on date)."""
        day, known = self._days_at(int(rows[0]))
        plan = self.policies.plan_for(self.decision, day, "none", self.presume, known)
        presumed = {name: p.value for name, (_, p) in (plan.presumptions or {}).items()}
        numeric = self.weight is None  # (where cases stand for rows: codes only)
        as_of = self.day.take(rows) if self._reads_as_of() else Col.const(day)  # (the column only for a rule that reads it)
        pcomp = PeriodCompiler(self.policies.rules, day, known, facts, len(rows), as_of, presumed,
                               numeric=numeric, memo=self.num_memo, domain=domain, shared=shared,
                               closures=self.closures, periods=periods)
        try:
            col = pcomp._rows(pcomp.rule(self.rule))
            if np.max(pcomp.visits, initial=0) > limits.MAX_STEPS // 2:  # the step budget might bind: decide exactly
                raise Unsupported("lists long enough that the evaluation's step budget may run out")
            path, rep = pcomp.paths(len(rows))
            pcomp.share()
        except (Unsupported, RecursionError) as exc:
            if not pcomp.reuse:
                shared.clear()  # a first chunk that did not finish shares nothing: the next one starts afresh
            reason = str(exc) if isinstance(exc, Unsupported) else "rules nested too deeply for the batch compiler"
            self.meta["fallbacks"].append({"rows": self._count(rows), "reason": reason})
            self._scalar_rows(rows)
            return
        self.meta["paths"] += len(rep)
        numeric = isinstance(col, (Num, Rec))
        if not numeric:
            value_ids = np.asarray([self._intern_value(v) for v in col.uniq], dtype=np.int32)
            local = np.zeros(len(rows), dtype=np.int32) if col.codes is None else col.codes
        path_outcome = np.empty(len(rep), dtype=np.int32)
        redo = []
        keys = path_keys(pcomp, rep, book)
        for p, r in enumerate(rep.tolist()):
            known_path = _UNSEEN if keys is None else book.outcomes.get(keys[p], _UNSEEN)
            if known_path is not _UNSEEN:
                if known_path is None:  # an error or a disagreement: decided row by row
                    path_outcome[p] = -1
                    redo.append(p)
                else:
                    path_outcome[p] = self._intern_outcome(*known_path)
                continue
            g = int(rows[r])
            outcome, value, d = self._scalar(g)
            self.meta["scalar_evaluations"] += 1
            mine = col.at(r) if numeric else col.uniq[local[r]]
            expected = {"decided": None, "undetermined": MISSING}.get(outcome[0], FAILED)
            agree = _same_number(mine, value)
            if outcome[0] == "error" or (expected is None and not agree) \
                    or (expected is not None and mine is not expected):
                redo.append(p)  # errors say something of each row; a disagreement is decided row by row
                path_outcome[p] = -1
                if outcome[0] != "error":
                    row = g if self.origin is None else int(self.origin[g])
                    self.meta["fallbacks"].append({"rows": 0, "reason": f"batch and scalar disagree on row {row + self.offset + 1}"})
            else:
                path_outcome[p] = self._intern_outcome(outcome, d)
            if keys is not None:  # (a book kept across calls keeps no Decision: it holds a row's facts)
                book.keep(keys[p], None if path_outcome[p] < 0 else (outcome, d if self.own_books else None))
        at = _span(rows)  # (contiguous rows: written through a slice)
        self.outcome[at] = np.take(path_outcome, path)
        decided = np.asarray([o >= 0 and self.outcomes[o][0] == "decided" for o in path_outcome.tolist()])
        every = bool(decided.all())  # (every path decided: no row-long mask to make)
        row_decided = None if every else decided[path]
        if numeric:
            mine = None if every else np.flatnonzero(row_decided)
            where = (slice(at.start + self.offset, at.stop + self.offset) if isinstance(at, slice) else
                     rows + self.offset) if every else rows[mine] + self.offset
            if not self._store(where, col if every else col.take(mine)):  # beyond int64 at the field's scale
                self.meta["fallbacks"].append({"rows": len(rows), "reason": "numbers too large for the fixed-point store"})
                self._scalar_rows(rows)
                return
            self.value[at] = NUMERIC if every else np.where(row_decided, NUMERIC, -1)
            self.meta["numeric_rows"] += len(rows) if every else len(mine)
        else:
            self.value[at] = value_ids[local] if every else np.where(row_decided, value_ids[local], -1)
        if redo:
            redone = np.isin(path, np.asarray(redo))
            again = rows[redone]
            if numeric:
                self.meta["numeric_rows"] -= int(row_decided[redone].sum())  # (a path redone is not decided: not every)
            self._scalar_rows(again)
            self.meta["columnar_rows"] -= self._count(again)
        self.meta["columnar_rows"] += self._count(rows)

    def _domain_key(self, many: set):
        """(few-valued facts, each row's combination of them as one key, the key's size) for
        the slice, or None: a domain is worth finding when a fact has many values (salaries)
        beside few-valued ones, and the combinations possible are bounded."""
        few = {k: c for k, c in self.facts.items() if c.codes is not None and k not in many}
        if self.weight is not None or not few or not many:
            return None  # (every varying fact few-valued: the cases (decide) already found them)
        key, dense, size = _combined(list(few.values()))
        return (few, key, size) if dense and size <= 1 << 22 else None

    def _domain(self, few: dict, key: np.ndarray, size: int, period):
        """((each row's place, size), the few facts as columns over it, shared), or None: the
        period's domain - the distinct combinations of its few-valued facts (`key`: each of its
        rows'), when they are far fewer than the rows - with those facts as columns over it
        (columns.DCol), so what reads only them is computed once per combination; `shared`
        holds those columns for the period's chunks.  A slice whose combinations the period's
        domain already has (the same levels and ratings again) places its rows in that domain
        and shares its columns, computed once for the whole input."""
        n = len(key)
        counts = np.bincount(key, minlength=size)
        present = np.flatnonzero(counts)
        if len(present) > DOMAIN_SHARE * n:
            return None
        remap = np.empty(size, dtype=np.int32)
        remap[present] = np.arange(len(present), dtype=np.int32)
        dom = np.take(remap, key)
        digits, rest = [], present  # each combination's codes, read off its key (mixed radix, as _combined made it)
        for c in reversed(list(few.values())):
            rest, digit = np.divmod(rest, len(c.uniq))
            digits.append(digit)
        keys = [[value_key(v) for v in c.uniq] for c in few.values()]  # (each distinct value's key once)
        combos = list(zip(*([k[i] for i in d.tolist()] for k, d in zip(keys, reversed(digits)))))
        names = tuple(few)

        def places_in(places: dict):
            got = [places.get(x) for x in combos]
            return None if None in got else got
        known = self.domains.get(period)
        place = None if known is None or known[0] != names else places_in(known[1])
        if place is None:
            # another period's domain of these facts, if it has these combinations: the same
            # fact columns, so what reads them alone is computed once (compiler.Closures.columns)
            base = self.domain_facts.get(names)
            place = None if base is None else places_in(base[0])
            if place is not None:
                known = self.domains[period] = (names, base[0], base[1], {})
        if place is not None:
            return (np.take(np.asarray(place, dtype=np.int32), dom), len(known[1])), known[2], known[3]
        dcols = {k: DCol(d.astype(np.int32), c.uniq) for (k, c), d in zip(few.items(), reversed(digits))}
        shared: dict = {}  # the domain's columns, computed by the first chunk for the others
        places = {x: i for i, x in enumerate(combos)}
        self.domains[period] = (names, places, dcols, shared)
        self.domain_facts[names] = (places, dcols)
        return (dom, len(present)), dcols, shared

    def _facts_at(self, r: int) -> dict:
        out = {}
        for name, col in self.facts.items():
            v = _at(col, r)
            if v is not MISSING:
                out[name] = v
        return out

    def _scalar(self, r: int):
        """The scalar engine's answer for row r: (outcome, value, the Decision or None)."""
        day, known = self._days_at(r)
        try:
            d = self.policies.evaluate(self.decision, self._facts_at(r), day, trace="audit",
                                                    presume=self.presume, known_on=known)
        except PolicyEngineError as exc:
            return ("error", (), (), (), ((None, _message(exc)),), ()), None, None
        messages = tuple(tuple(m[k] for k in _MESSAGE_FIELDS) for m in d.messages)
        return (d.status, tuple(d.clauses), tuple(d.missing), tuple(a["fact"] for a in d.assumptions), (),
                messages), d.value, d

    def _scalar_rows(self, rows: np.ndarray) -> None:
        """Rows decided by the scalar engine, once per distinct case (same facts, same days)."""
        cols = [c.take(rows) for c in self.facts.values()] + [self.day.take(rows)] + \
               ([self.known.take(rows)] if self.known is not None else [])
        key, _, _ = _combined(cols)
        if key is None:
            key = np.zeros(len(rows), dtype=np.int64)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        outs, vals = [], []
        for i in first.tolist():
            outcome, value, d = self._scalar(int(rows[i]))
            outs.append(self._intern_outcome(outcome, d))
            vals.append(self._intern_value(value) if outcome[0] == "decided" else -1)
        self.meta["scalar_evaluations"] += len(first)
        self.outcome[rows] = np.asarray(outs, dtype=np.int32)[inverse]
        self.value[rows] = np.asarray(vals, dtype=np.int32)[inverse]
        self.meta["scalar_rows"] += self._count(rows)
        if self.scalar_cases is not None:  # (cases standing for the rows: which the scalar engine decided)
            self.scalar_cases[rows] = True

    def _intern_outcome(self, outcome, decision=None) -> int:
        i = self._outcome_index.get(outcome)
        if i is not None and decision is not None:
            self.decisions.setdefault(i, decision)
        if i is None:
            if decision is not None:
                self.decisions[len(self.outcomes)] = decision
            i = self._outcome_index[outcome] = len(self.outcomes)
            self.outcomes.append(outcome)
        return i

    def _intern_value(self, v) -> int:
        return self._distinct.index(v)

    # -- the result ------------------------------------------------------------------------------
    def _fields(self):
        """(column name, type, record field or None) of the value."""
        t = self.rule.type
        return [("value", t, None)] if t.kind != "record" else [(f"value.{n}", ft, n) for n, ft in t.fields]

    def _store(self, rows, col) -> bool:
        """A chunk's values held as numbers, into each field's store (batch/answers.py); `rows`
        the result's rows (indices, or a slice)."""
        count = rows.stop - rows.start if isinstance(rows, slice) else len(rows)
        if self.answers is None:
            self.answers = {name: Numbers(self.total, ftype.kind) if ftype.kind in ("money", "decimal", "integer")
                            else Codes(self.total) for name, ftype, _ in self._fields()}
        for name, _, field in self._fields():
            part = col if field is None else col.fields[field]
            store = self.answers[name]
            if isinstance(store, Numbers):
                num = part if isinstance(part, Num) else numbers.of(part, count, {})
                if num is None or not store.write(rows, num):
                    return False
            else:
                store.write(rows, part.col() if isinstance(part, Num) else part)
        return True

    def _answer_columns(self, columns: dict) -> None:
        """The stored fields merged with the rows of value ids, into the value columns."""
        every = bool((self.value == NUMERIC).all())  # (every row's value in the stores: nothing to merge)
        for name, ftype, field in self._fields():
            theirs = [v if field is None or v is None else v.get(field) for v in self.values]
            store = self.answers[name]
            got = store.column(self.value, theirs, every) if isinstance(store, Numbers) else \
                store.column(self.value, theirs, ftype, every)
            if got is None:  # a number the store cannot hold: each row's own Python value, as the others are
                values = [None if i == -1 else store.value(r) if i == NUMERIC else theirs[i]
                          for r, i in enumerate(self.value.tolist())]
                got = to_arrow(values, ftype)
            columns[name] = got

    def table(self, row_offset: int, subject) -> pa.Table:
        n = self.n
        wide = row_offset + n >= 2 ** 31
        columns = {"row": pa.array(np.arange(row_offset + 1, row_offset + n + 1, dtype=np.int64 if wide else np.int32),
                                   type=pa.int64() if wide else pa.int32())}
        values = value_columns(self.values, self.rule.type)
        outcome_ids = pa.array(self.outcome)
        # per-row columns that follow from the path are dictionaries over the distinct outcomes:
        # 4 bytes a row, whatever the lists hold (Parquet output decodes them: batch/io.py)
        def per_outcome(values, typ):
            return pa.DictionaryArray.from_arrays(outcome_ids, pa.array(values, type=typ), safe=False)  # ids made here
        columns["status"] = per_outcome([o[0] for o in self.outcomes], pa.string())
        if self.answers is not None:  # (every value field has its store: the stores make the columns)
            self._answer_columns(columns)
        else:
            undecided = self.value < 0
            vids = pa.array(self.value, mask=undecided) if undecided.any() else pa.array(self.value)  # no copy when all decided
            del undecided
            for name, arr in values.items():
                columns[name] = pa.DictionaryArray.from_arrays(vids, arr, safe=False)  # value ids made here: no bounds pass
        self.value_columns = {k: columns[k] for k in values}
        for i, name in ((1, "clauses"), (2, "missing"), (3, "assumptions")):
            columns[name] = per_outcome([list(o[i]) for o in self.outcomes], _LIST)
        columns["errors"] = per_outcome([[{"fact": f, "problem": p} for f, p in o[4]] for o in self.outcomes], _ERRORS)
        columns["messages"] = per_outcome([[dict(zip(_MESSAGE_FIELDS, m)) for m in o[5]] for o in self.outcomes],
                                          _MESSAGES)
        if subject is not None:
            columns[SUBJECT] = subject if isinstance(subject, (pa.Array, pa.ChunkedArray)) else pa.array(
                [None if v is None else str(v) for v in subject], type=pa.string())
        by_status = dict.fromkeys(STATUSES, 0)
        counts = np.zeros(len(self.outcomes), dtype=np.int64)
        for start in range(0, n, SLICE_ROWS):  # a slice at a time: np.bincount copies the ids to int64
            counts += np.bincount(self.outcome[start:start + SLICE_ROWS], minlength=len(self.outcomes))
        for o, c in enumerate(counts.tolist()):
            by_status[self.outcomes[o][0]] += c
        self.meta["statuses"] = by_status
        self.meta["input_errors"] = self.input_errors
        return pa.table(columns)


DOMAIN_SHARE = 0.25  # a domain is used when its combinations are at most this share of the rows
_UNSEEN = object()  # a path no book has
_BOOKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # policies -> (decision, presume) -> books


def _books(policies, decision: str, presume: bool) -> dict:
    """The path books of a decision on these policies, kept while the policies are."""
    return _BOOKS.setdefault(policies, {}).setdefault((decision, presume), {})
PERIODS_TOGETHER = True  # periods whose rules are alike decided as one (their tables told apart per combination)
_PERIOD = ("period",)  # the domain's fact of periods decided together (no fact name is a tuple)


def _a_row_of_each(codes: np.ndarray, size: int, present: int) -> np.ndarray:
    """A row holding each of the `present` codes (-1 for a code no row holds), looked for
    among the first rows first: the codes are few (periods)."""
    rows = np.full(size, -1, dtype=np.int64)
    head = min(len(codes), 4096)
    rows[codes[:head]] = np.arange(head)  # (of equal indices the last write wins: any row will do)
    if int((rows >= 0).sum()) < present:
        rows[codes] = np.arange(len(codes))
    return rows


def _span(rows: np.ndarray):
    """Sorted distinct rows as a slice when they are contiguous (writes and reads are then
    views), else the rows themselves."""
    if len(rows) and int(rows[-1]) - int(rows[0]) + 1 == len(rows):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows
def _same_number(mine, value) -> bool:
    """A value computed column-wise against the scalar engine's: numbers by type and value
    (the exponent of a Decimal aside: the result's decimal128 column holds the number),
    records field by field, anything else as value_key tells values apart."""
    if isinstance(mine, dict):
        return isinstance(value, dict) and mine.keys() == value.keys() and all(
            _same_number(mine[k], value[k]) for k in mine)
    if type(mine) in (int, Decimal) and type(value) in (int, Decimal):
        return type(mine) is type(value) and mine == value
    return value_key(mine) == value_key(value)


def _at(col: Col, r: int):
    return col.uniq[0] if col.codes is None else col.uniq[col.codes[r]]


def _message(exc: PolicyEngineError) -> str:
    problems = getattr(exc, "problems", None)
    if problems:
        return "; ".join(str(p) for p in problems)
    return str(exc)
