"""The canonical JSON a record is stored and hashed as is json.dumps's text, byte for byte,
whichever writer produced it: a log written before orjson was used must still verify, and
`log verify` recomputes every hash from the stored text."""
import collections
import enum
import json

import pytest
from hypothesis import given, settings, strategies as st

from policyengine.audit import chain
from policyengine.audit.chain import canonical

orjson = pytest.importorskip("orjson")


def reference(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def outcome(write, value):
    try:
        return "text", write(value)
    except Exception as exc:  # noqa: BLE001 - the kind of refusal must be the same too
        return "refused", type(exc)


class Level(enum.IntEnum):
    PL_03 = 3


class Name(str):
    pass


SPECIAL = "\x00\x01\x08\x09\x0a\x0b\x0c\x0d\x1f\x20\x7f\x80\x9f\xa0\xad\u2028\u2029\ufeff\uffff\"\\/é中\U0001f600"
# every code point, lone surrogates included, with the ones writers treat specially drawn often
CHARS = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()),
                  st.sampled_from(SPECIAL + "\ud800\udbff\udc00\udfff\U00010000\U0010ffff"))
TEXT = st.text(CHARS, max_size=12)
INTS = st.one_of(st.integers(), st.sampled_from([0, -1, 2**53, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
                                                 2**64 - 1, 2**64, -2**64, 10**30, -10**30]))
FLOATS = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1e-05, 1e-4, 1.5e-06, 1e16, 1e15, 1e22, 5e-324,
                                                 1.7976931348623157e308, float("nan"), float("inf"), -float("inf")]))
ODD = st.sampled_from([Level.PL_03, Name("sub"), collections.OrderedDict(b=1, a=2), True, False, None])


def values(leaves):
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(TEXT, inner, max_size=5),
        st.dictionaries(st.one_of(TEXT, st.integers(-5, 5)), inner, max_size=3)), max_leaves=25)


PLAIN = values(st.one_of(st.none(), st.booleans(), INTS, TEXT))
ANY = values(st.one_of(st.none(), st.booleans(), INTS, TEXT, FLOATS, ODD))


@settings(max_examples=300, deadline=None, derandomize=True)  # reproducible in CI
@given(ANY)
def test_canonical_is_json_dumps_byte_for_byte(value):
    assert outcome(canonical, value) == outcome(reference, value)


@settings(max_examples=300, deadline=None, derandomize=True)  # reproducible in CI
@given(PLAIN)
def test_where_canonical_takes_orjson_orjson_writes_json_dumps_text(value):
    """The fast path is really taken, and agrees: not only the fallback is being tested."""
    if not chain._plain(value):  # a dict with an int key
        return
    try:
        fast = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # a lone surrogate, an int past 64 bits: json writes those
        return
    assert fast == reference(value)


@pytest.mark.parametrize("value, text", [
    ({"x": 1e-05}, '{"x":1e-05}'),  # orjson: 0.00001
    ([1.5e-06], "[1.5e-06]"),  # orjson: 1.5e-6
    ({"b": 2**64, "a": "\u2028"}, '{"a":"\u2028","b":18446744073709551616}'),
    ({"é": 1, "e": 2, "\U0001f600": 3, "\uffff": 4}, '{"e":2,"é":1,"\uffff":4,"\U0001f600":3}'),
    ({"level": Level.PL_03, "who": Name("x")}, '{"level":3,"who":"x"}'),
    ("\x00\x1f\x7f\b\f\n\r\t\"\\", '"\\u0000\\u001f\x7f\\b\\f\\n\\r\\t\\"\\\\"'),
])
def test_values_that_differ_between_writers_are_written_as_json_writes_them(value, text):
    assert canonical(value) == text == reference(value)


@pytest.mark.parametrize("value, error", [({"x": float("nan")}, ValueError), ([float("inf")], ValueError),
                                          ({"x": object()}, TypeError), ({1: "a", "b": 2}, TypeError)])
def test_what_json_refuses_is_refused(value, error):
    with pytest.raises(error):
        canonical(value)
    with pytest.raises(error):
        reference(value)


def test_a_records_stored_text_is_the_json_text_of_what_it_holds(tmp_path):
    """The text a log stores (and hashes) for a decision with its trace is what json alone
    would have written: logs written before and after orjson are the same chain."""
    import policyengine
    from pathlib import Path
    from policyengine.audit import record
    from policyengine.audit.log import DecisionLog
    policies = policyengine.load(Path(__file__).resolve().parents[1] / "policies")
    d = policies.evaluate("qs.meets_standard", {"group": "PE", "level": 1, "education": "degree",
                                                "specialization_acceptable": True}, "2024-01-01", trace="audit")
    with DecisionLog(tmp_path / "log.sqlite") as log:
        rid = record(policies, d, log, subject="E1", extra={"request_id": "r1"})
        (text,) = log._read("SELECT body FROM records WHERE id = ?", (rid,))[0]
        assert text == reference(json.loads(text))
        assert chain._plain(json.loads(text))  # written by orjson
        assert log.verify().ok
