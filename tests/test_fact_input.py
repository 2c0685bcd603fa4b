"""Facts are read strictly, never guessed, from Python and from the command line alike.

Each bad input is an InputError naming the fact and what was wrong (the CLI prints it
and exits 2), never a Python exception, a hang, or a value guessed from a typo such as a
French decimal comma.  Every call here completes at once; none is timed.
"""
import datetime as dt
import importlib
import json
from decimal import Decimal

import pytest

import policyengine
from policyengine import limits
from policyengine.cli import main
from policyengine.runtime.facts import as_date

PAY = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}
AS_OF = "2008-04-01"


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.fixture(autouse=True)
def loaded_once(policies, monkeypatch):
    """The command line loads the policies once for this module, not once per test."""
    monkeypatch.setattr(importlib.import_module("policyengine.cli.main"), "_load", lambda path: policies)


def refused(policies, decision, facts, as_of=AS_OF) -> list[str]:
    with pytest.raises(policyengine.InputError) as info:
        policies.evaluate(decision, facts, as_of=as_of)
    text = str(info.value)
    assert "Decimal(" not in text and "Traceback" not in text and len(text) < 300, text
    return info.value.problems


def pay(policies, **facts) -> list[str]:
    return refused(policies, "ldp.performance_pay", {**PAY, **facts})


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["eval", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# -- non-finite numbers ---------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [("NaN", "NaN"), (float("nan"), "NaN"), (Decimal("NaN"), "NaN"),
                                          (Decimal("sNaN"), "sNaN"), ("Infinity", "Infinity"), ("inf", "inf"),
                                          (float("inf"), "Infinity"), (Decimal("-Infinity"), "-Infinity")])
def test_non_finite_money_is_refused(policies, value, shown):
    assert pay(policies, salary=value) == [f"fact 'salary': {shown} is not a finite number"]


def test_non_finite_decimal_is_refused(policies):
    assert pay(policies, increase_pct="nan") == ["fact 'increase_pct': nan is not a finite number"]


# -- enums given a list or a mapping ---------------------------------------------------

@pytest.mark.parametrize("value, shown", [(["met_all"], "a list of 1 item"), ({"met_all": 1}, "a mapping")])
def test_enum_given_a_list_or_mapping(policies, value, shown):
    assert pay(policies, rating=value) == [
        f"fact 'rating': expected one of surpassed, met_all, met_most, did_not_meet, unable_to_assess, got {shown}"]


def test_enum_given_a_wrong_value_still_says_which(policies):
    assert pay(policies, rating="met_al")[0].startswith("fact 'rating': 'met_al' is not one of surpassed")


# -- lists: no deeper than records, bounded in length --------------------------------

def test_deeply_nested_list_is_refused(policies):
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    assert refused(policies, "qs.meets_standard", {"group": "CR", "incumbencies": deep}, "2024-01-01") == [
        "fact 'incumbencies': item 1: expected a record with group, level, since, indeterminate, got a list of 1 item"]


def test_list_of_lists_of_text_is_refused(policies):
    assert refused(policies, "qs.meets_standard", {"group": "CR", "certifications": [["a"]]}, "2024-01-01") == [
        "fact 'certifications': item 1: expected text, got a list of 1 item"]


def test_too_long_a_list_is_refused(policies):
    items = ["x"] * (limits.MAX_LIST_ITEMS + 1)
    assert refused(policies, "qs.meets_standard", {"group": "CR", "certifications": items}, "2024-01-01") == [
        f"fact 'certifications': a list of {limits.MAX_LIST_ITEMS + 1:,} items: at most {limits.MAX_LIST_ITEMS:,}"]


def test_a_bad_record_field_names_the_item_and_the_field(policies):
    rows = [{"group": "CR", "level": 4, "since": "2008-02-01", "indeterminate": True},
            {"group": "CR", "level": 4, "since": "20080201", "indeterminate": True}]
    assert refused(policies, "qs.meets_standard", {"group": "CR", "incumbencies": rows}, "2024-01-01") == [
        "fact 'incumbencies': item 2: field 'since': expected a date (YYYY-MM-DD), got '20080201'"]


def test_a_list_of_records_is_still_read(policies):
    rows = [{"group": "CR", "level": 4, "since": "2008-02-01", "indeterminate": True}]
    d = policies.evaluate("qs.meets_standard", {"group": "CR", "incumbencies": rows}, as_of="2024-01-01")
    assert d.status == "decided"


# -- numbers too large to hold -------------------------------------------------------

@pytest.mark.parametrize("step", ["1e10000000", Decimal("1e10000000"), 1e300, 10 ** 5000, "9" * 5000],
                         ids=["text", "Decimal", "float", "int", "5000 digits"])
def test_huge_integer_is_refused_at_once(policies, step):
    [msg] = refused(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": step})
    assert msg.startswith("fact 'step': ") and ("too many digits" in msg or "too long for a number" in msg), msg
    assert str(limits.MAX_FACT_DIGITS) in msg or str(limits.MAX_INTEGER_DIGITS) in msg


def test_money_with_too_many_digits_is_refused(policies):
    digits = "1" * (limits.MAX_FACT_DIGITS + 1)
    assert pay(policies, salary=Decimal(digits)) == [
        f"fact 'salary': {digits} has too many digits: at most {limits.MAX_FACT_DIGITS}"]


def test_whole_number_written_with_a_point_is_still_an_integer(policies):
    assert policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": "2.0"}, as_of="2008-06-01").value == 64497


# -- commas: thousands grouping only -------------------------------------------------

@pytest.mark.parametrize("fact, value, hint", [("salary", "8900,0", "8900.0"), ("increase_pct", "5,5", "5.5"),
                                               ("salary", "$8900,50", "$8900.50"), ("salary", "89.000,50", "89000.50")])
def test_decimal_comma_is_refused_with_a_hint(policies, fact, value, hint):
    assert pay(policies, **{fact: value}) == [
        f"fact '{fact}': '{value}': commas may only group thousands, as in 89,000; a decimal comma? write {hint}"]


def test_decimal_comma_in_an_entry_rate(policies):
    assert refused(policies, "ldp.ab_initio.allowance", {"entry_rate": "1,5"}) == [
        "fact 'entry_rate': '1,5': commas may only group thousands, as in 89,000; a decimal comma? write 1.5"]


def test_misplaced_grouping_commas_are_refused(policies):
    assert pay(policies, salary="8,90,000") == [
        "fact 'salary': '8,90,000': commas may only group thousands, as in 89,000"]


@pytest.mark.parametrize("salary, new, increase", [("89,000", "93500", "4500"), ("$89,000.50", "93500", "4499.50"),
                                                   ("$89000", "93500", "4500"), (Decimal("89000"), "93500", "4500")])
def test_grouped_and_dollar_amounts_are_read_exactly(policies, salary, new, increase):
    d = policies.evaluate("ldp.performance_pay", {**PAY, "salary": salary}, as_of=AS_OF)
    assert d.value["new_salary"] == Decimal(new) and d.value["increase"] == Decimal(increase)
    assert str(d.value["increase"]) == increase


def test_grouped_entry_rate_is_read_exactly(policies):
    assert policies.evaluate("ldp.ab_initio.allowance", {"entry_rate": "1,234,567.50"}, as_of=AS_OF).value == \
        Decimal("987654.000")


def test_dollar_sign_is_for_money_only(policies):
    assert pay(policies, increase_pct="$5") == ["fact 'increase_pct': expected a number, got '$5'"]


# -- dates: YYYY-MM-DD exactly ---------------------------------------------------------

@pytest.mark.parametrize("text", ["20080201", "2008W231", "2008-W05-5", "2008-4-1", "08-04-01"])
def test_other_iso_forms_are_not_dates(policies, text):
    rows = [{"group": "CR", "level": 4, "since": text, "indeterminate": True}]
    assert refused(policies, "qs.meets_standard", {"group": "CR", "incumbencies": rows}, "2024-01-01") == [
        f"fact 'incumbencies': item 1: field 'since': expected a date (YYYY-MM-DD), got '{text}'"]
    assert refused(policies, "ldp.performance_pay", PAY, as_of=text) == [
        f"as_of: expected a date (YYYY-MM-DD), got '{text}'"]


def test_impossible_date_says_why(policies):
    assert refused(policies, "ldp.performance_pay", PAY, as_of="2008-02-30") == [
        "as_of: '2008-02-30' is not a valid date: day is out of range for month"]


def test_as_date_takes_dates_and_exact_strings():
    assert as_date("2008-04-01") == dt.date(2008, 4, 1) == as_date(dt.date(2008, 4, 1))
    assert as_date(dt.datetime(2008, 4, 1, 12, 30)) == dt.date(2008, 4, 1)
    for bad, shown in [(20080401, "20080401"), (["2008-04-01"], "a list of 1 item"), (None, "null")]:
        with pytest.raises(policyengine.InputError, match="^as_of: expected a date") as info:
            as_date(bad)
        assert str(info.value) == f"as_of: expected a date (YYYY-MM-DD), got {shown}"


def test_exact_date_is_still_read(policies):
    assert policies.evaluate("ldp.performance_pay", PAY, as_of="2008-04-01").value["new_salary"] == 93500


# -- negative zero ---------------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [("-0", "-0"), (Decimal("-0"), "-0"), (-0.0, "-0.0"), ("-0.00", "-0.00")])
def test_negative_zero_is_refused(policies, value, shown):
    assert pay(policies, salary=value) == [f"fact 'salary': {shown} is not a valid amount: write 0"]


def test_negative_zero_integer_is_refused(policies):
    assert refused(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": "-0"}) == [
        "fact 'step': -0 is not a valid whole number: write 0"]


# -- booleans and text -----------------------------------------------------------------

@pytest.mark.parametrize("value, shown", [(1, "1"), ("true", "'true'"), (Decimal("1"), "1")])
def test_booleans_are_not_numbers_or_strings(policies, value, shown):
    facts = {"group": "CR", "specialization_acceptable": value}
    assert refused(policies, "qs.meets_standard", facts, "2024-01-01") == [
        f"fact 'specialization_acceptable': expected true or false, got {shown}"]


def test_numbers_are_not_booleans(policies):
    assert pay(policies, salary=True) == ["fact 'salary': expected an amount, got true"]


def test_text_is_bounded(policies):
    long = ["x" * (limits.MAX_TEXT_LENGTH + 1)]
    assert refused(policies, "qs.meets_standard", {"group": "CR", "certifications": long}, "2024-01-01") == [
        f"fact 'certifications': item 1: text of {limits.MAX_TEXT_LENGTH + 1:,} characters: "
        f"at most {limits.MAX_TEXT_LENGTH:,}"]


def test_messages_show_values_not_python_reprs(policies):
    assert pay(policies, rating=Decimal("2.5")) == [
        "fact 'rating': 2.5 is not one of surpassed, met_all, met_most, did_not_meet, unable_to_assess"]


# -- the command line: --fact ----------------------------------------------------------

def pay_args(**facts):
    args = []
    for k, v in {**PAY, **facts}.items():
        args += ["--fact", f"{k}={v}"]
    return ["ldp.performance_pay", *args, "--as-of", AS_OF]


@pytest.mark.parametrize("facts, message", [
    ({"salary": "8900,0"}, "fact 'salary': '8900,0': commas may only group thousands, as in 89,000; "
                           "a decimal comma? write 8900.0"),
    ({"increase_pct": "5,5"}, "fact 'increase_pct': '5,5': commas may only group thousands, as in 89,000; "
                              "a decimal comma? write 5.5"),
    ({"salary": "NaN"}, "fact 'salary': NaN is not a finite number"),
    ({"salary": "Infinity"}, "fact 'salary': Infinity is not a finite number"),
    ({"salary": "-0"}, "fact 'salary': -0 is not a valid amount: write 0"),
    ({"salary": "-0.0"}, "fact 'salary': -0.0 is not a valid amount: write 0"),
    ({"rating": '["met_all"]'}, "fact 'rating': expected one of surpassed, met_all, met_most, did_not_meet, "
                                "unable_to_assess, got a list of 1 item"),
    ({"rating": '{"a": 1}'}, "fact 'rating': expected one of surpassed, met_all, met_most, did_not_meet, "
                             "unable_to_assess, got a mapping"),
    ({"salary": "true"}, "fact 'salary': expected an amount, got true"),
])
def test_cli_fact_is_read_strictly(capsys, facts, message):
    code, out, err = cli(capsys, *pay_args(**facts))
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_cli_huge_step_is_refused_at_once(capsys):
    code, _, err = cli(capsys, "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=1e10000000",
                       "--as-of", "2008-06-01")
    assert code == 2 and err == f"error: fact 'step': 1E+10000000 has too many digits: at most {limits.MAX_FACT_DIGITS}\n"


def test_cli_deep_list_is_refused(capsys):
    code, _, err = cli(capsys, "qs.meets_standard", "--fact", "group=CR", "--fact",
                       "incumbencies=" + "[" * 1000 + "]" * 1000, "--as-of", "2024-01-01")
    assert code == 2 and err.startswith("error: fact 'incumbencies': ")


def test_cli_bad_as_of_is_refused(capsys):
    code, _, err = cli(capsys, *pay_args()[:-1], "20080401")
    assert (code, err) == (2, "error: as_of: expected a date (YYYY-MM-DD), got '20080401'\n")


def test_cli_grouped_salary_is_read_exactly(capsys):
    code, out, _ = cli(capsys, *pay_args(salary="$89,000.50"), "--format", "json")
    assert code == 0
    value = json.loads(out)["value"]
    assert value["new_salary"] == "93500" and value["increase"] == "4499.50"


# -- the command line: --facts FILE ----------------------------------------------------

def test_cli_facts_file_not_utf8(capsys, tmp_path):
    for name in ("f.yaml", "f.json"):
        path = tmp_path / name
        raw = b'{"level": "PL-06", "rating": "m\xe9t_all"}'
        path.write_bytes(raw)
        code, out, err = cli(capsys, "ldp.performance_pay", "--facts", str(path), "--as-of", AS_OF)
        assert (code, out) == (2, "")
        assert err == f"error: --facts {path}:1:{raw.index(0xe9) + 1}: not UTF-8 text (byte 0xe9 at offset {raw.index(0xe9)})\n"


def test_cli_facts_yaml_alias_bomb_is_refused_at_once(capsys, tmp_path):
    from test_load_limits import bomb
    path = tmp_path / "f.yaml"
    path.write_text(bomb())
    code, _, err = cli(capsys, "ldp.performance_pay", "--facts", str(path), "--as-of", AS_OF)
    assert code == 2
    assert err == (f"error: --facts {path}:7:8: alias '*f' makes more than {limits.MAX_YAML_NODES:,} values "
                   "once aliases are expanded\n")


def test_cli_malformed_json_facts_is_a_json_error(capsys, tmp_path):
    path = tmp_path / "f.json"
    path.write_text('{"level": "PL-06",\n "salary": 89000,,\n}')
    code, _, err = cli(capsys, "ldp.performance_pay", "--facts", str(path), "--as-of", AS_OF)
    assert (code, err) == (2, f"error: --facts {path}:2:18: JSON error: Expecting property name enclosed in "
                              "double quotes\n")


def test_cli_facts_file_must_be_a_regular_file(capsys, tmp_path):
    code, _, err = cli(capsys, "ldp.performance_pay", "--facts", "/dev/zero", "--as-of", AS_OF)
    assert (code, err) == (2, "error: --facts /dev/zero: not a regular file\n")


def test_cli_facts_files_are_checked_like_facts(capsys, tmp_path):
    yaml_file = tmp_path / "f.yaml"
    yaml_file.write_text("level: PL-06\nsalary: '8900,0'\nrating: met_all\nincrease_pct: 5\n")
    code, _, err = cli(capsys, "ldp.performance_pay", "--facts", str(yaml_file), "--as-of", AS_OF)
    assert code == 2 and "fact 'salary': '8900,0': commas may only group thousands" in err
    json_file = tmp_path / "f.json"
    json_file.write_text('{"level": "PL-06", "salary": -0, "rating": "met_all", "increase_pct": NaN}')
    code, _, err = cli(capsys, "ldp.performance_pay", "--facts", str(json_file), "--as-of", AS_OF)
    assert code == 2 and err.splitlines() == ["error: fact 'salary': -0 is not a valid amount: write 0",
                                              "error: fact 'increase_pct': NaN is not a finite number"]


def test_cli_yaml_and_json_facts_files_still_work(capsys, tmp_path):
    for name, text in [("f.yaml", "level: PL-06\nsalary: 89,000\nrating: met_all\nincrease_pct: 5.0\n"),
                       ("f.json", '{"level": "PL-06", "salary": "89,000", "rating": "met_all", "increase_pct": 5.0}'),
                       ("f.txt", "{level: PL-06, salary: 89000, rating: met_all, increase_pct: 5}")]:
        path = tmp_path / name
        path.write_text(text)
        code, out, err = cli(capsys, "ldp.performance_pay", "--facts", str(path), "--as-of", AS_OF)
        assert (code, err) == (0, ""), name
        assert json.loads(out)["value"]["new_salary"] == "93500"


# -- facts the decision does not read ----------------------------------------------------------

def test_a_fact_of_another_decision_is_left_aside_not_echoed(policies):
    """`step` belongs to the pay table, not to performance pay: it is neither read nor kept,
    so a huge value cannot reach the record (to_dict) or the log."""
    d = policies.evaluate("ldp.performance_pay", {**PAY, "step": Decimal("1e10000000")}, as_of=AS_OF)
    out = d.to_dict()
    assert out["status"] == "decided" and "step" not in out["facts"]
    assert out["facts"]["salary"] == "89000"


def test_cli_fact_of_another_decision_is_no_traceback(capsys):
    code, out, err = cli(capsys, "ldp.performance_pay", "--fact", "level=PL-06", "--fact", "salary=89000",
                         "--fact", "rating=met_all", "--fact", "increase_pct=5", "--fact", "step=1e10000000",
                         "--as-of", AS_OF, "--format", "json")
    assert code == 0 and json.loads(out)["value"]["new_salary"] == "93500"


def test_whole_numbers_read_at_once_as_the_converter_reads_each(policies):
    """The batch reads a column's many distinct salaries at once (facts.whole_numbers): for
    every numeric fact of the bundled policies, around its bounds and its digit limit, the
    values are the converter's own, type and digits alike, or None exactly where the
    converter would refuse one of them (then each is read, and refused, one by one)."""
    from policyengine.runtime.facts import Bad, converter, whole_numbers
    numeric = [d for d in policies.facts.values() if d.type.kind in ("money", "decimal", "integer")]
    assert len(numeric) > 10
    for decl in numeric:
        read, conv = whole_numbers(decl), converter(decl)
        edges = [0, 1, -1, 10 ** 15, -10 ** 15, 10 ** 40]
        for bound in (decl.minimum, decl.maximum):
            if bound is not None and Decimal(str(bound)) == int(Decimal(str(bound))):
                edges += [int(Decimal(str(bound))) + k for k in (-1, 0, 1)]
        for ints in [edges[:1], edges[:3], [e for e in edges if abs(e) < 10 ** 10], edges] + [[e] for e in edges]:
            make = read(min(ints), max(ints))
            got = None if make is None else [make(v) for v in ints]
            try:
                expected = [conv(v) for v in ints]
            except Bad:
                assert got is None, (decl.name, ints)
                continue
            assert got is not None and [(type(v), str(v)) for v in got] == [(type(v), str(v)) for v in expected], \
                (decl.name, ints)
