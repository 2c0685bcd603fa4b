"""Each class of load error is reported as path:line:col: message, all at once."""
import re

import pytest

import policyengine
from helpers import write_policies


def problems(root) -> list[str]:
    with pytest.raises(policyengine.PolicyError) as info:
        policyengine.load(root)
    lines = str(info.value).splitlines()
    for line in lines:
        assert re.match(r"^.+:\d+:\d+: ", line), line
    return lines


def one_rule(body: str) -> str:
    return "rules:\n  r:\n    citation: \"Appendix B, 12\"\n    text: t\n    label: {en: R, fr: R}\n" + body


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    root = write_policies(tmp_path, "rules:\n  r: [unclosed\n")
    [line] = problems(root)
    assert "rules.yaml:" in line and "YAML syntax error" in line


def test_unknown_key_suggests_the_right_one(tmp_path):
    root = write_policies(tmp_path, one_rule("    vaule: salary\n"))
    lines = problems(root)
    assert any("rules.yaml:8:5: unknown key 'vaule'" in l and "did you mean 'value'" in l for l in lines)


def test_duplicate_key_is_an_error(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: salary\n    value: $1\n"))
    assert any("duplicate key 'value'" in l for l in problems(root))


def test_expression_syntax_error_points_inside_the_expression(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: salary * * 2\n"))
    [line] = problems(root)
    # line 8; 'value: ' starts at column 5, the expression at 12, the second '*' at 21
    assert ":8:21: syntax error: unexpected '*'" in line


def test_unknown_name_suggests_the_fact(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: salery * 2\n"))
    [line] = problems(root)
    assert ":8:12: unknown name 'salery' (did you mean 'salary'?)" in line


def test_type_error_names_both_types(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: salary + 100\n"))
    [line] = problems(root)
    assert "cannot add money and a plain number" in line and "$100" in line


def test_enum_literal_is_checked(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: level == \"PL-3\"\n"))
    [line] = problems(root)
    assert "'PL-3' is not one of PL-01, PL-02" in line


def test_cycle_names_each_link_and_where(tmp_path):
    rules = """\
    rules:
      a:
        citation: "Appendix B, 1"
        text: t
        label: {en: A, fr: A}
        value: b + $1
      b:
        citation: "Appendix B, 2"
        text: t
        label: {en: B, fr: B}
        value: a + $1
    """
    lines = problems(write_policies(tmp_path, rules))
    cycle = [l for l in lines if "cycle:" in l]
    assert len(cycle) == 1
    assert "'demo.a' uses 'demo.b' at" in cycle[0] and "'demo.b' uses 'demo.a' at" in cycle[0]
    assert "rules.yaml:8:" in cycle[0] and "rules.yaml:13:" in cycle[0]


def test_all_errors_are_reported_at_once(tmp_path):
    rules = """\
    rules:
      a:
        citation: "Appendix B, 1"
        text: t
        label: {en: A, fr: A}
        value: salery
      b:
        citation: "Appendix B, 2"
        text: t
        label: {en: B, fr: B}
        value: level == "PL-9"
    """
    lines = problems(write_policies(tmp_path, rules))
    assert len(lines) == 2
    assert "salery" in lines[0] and "PL-9" in lines[1]


def test_missing_french_label_is_a_schema_error(tmp_path):
    root = write_policies(tmp_path, "rules:\n  r:\n    citation: \"Appendix B, 1\"\n    text: t\n    label: {en: R}\n    value: salary\n")
    [line] = problems(root)
    assert "label: missing key 'fr' (required)" in line


def test_rule_needs_exactly_one_body(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: salary\n    all: [true]\n"))
    assert any("needs exactly one of value, all, any, record, gap, select (found value and all)" in l for l in problems(root))


def test_table_row_width_is_checked(tmp_path):
    tables = """\
    tables:
      rates:
        citation: "Appendix B, 12"
        label: {en: Rates, fr: Taux}
        keys:
          - {name: level, values: [PL-01, PL-02]}
          - {name: step, values: [1, 2, 3]}
        value: money
        versions:
          - effective: 2006-04-02
            rows:
              PL-01: [1, 2, 3]
              PL-2: [1, 2]
    """
    lines = problems(write_policies(tmp_path, tables))
    assert any("'PL-2' is not a value of key 'level' (did you mean 'PL-02'?)" in l for l in lines)


def test_citation_without_a_clause_id_asks_for_one(tmp_path):
    root = write_policies(tmp_path, "rules:\n  r:\n    citation: \"Appendix C, 2.1 and 3.1\"\n    text: t\n"
                                    "    label: {en: R, fr: R}\n    value: salary\n")
    [line] = problems(root)
    assert "cannot derive a clause id" in line and "add 'clause:'" in line


def test_unknown_instrument_is_reported(tmp_path):
    root = write_policies(tmp_path, "")
    (root / "demo" / "other.yaml").write_text("format: policyengine/1\ninstrument: dmeo\n")
    [line] = problems(root)
    assert "unknown instrument 'dmeo' (did you mean 'demo'?)" in line


def test_no_code_in_policies(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: !!python/object/apply:os.system ['echo hi']\n"))
    lines = problems(root)
    assert any("YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in l for l in lines)


def test_expressions_cannot_call_python(tmp_path):
    root = write_policies(tmp_path, one_rule("    value: __import__(\"os\")\n"))
    assert any("unknown function '__import__'" in l for l in problems(root))


def test_missing_folder(tmp_path):
    with pytest.raises(policyengine.PolicyError, match="no such file"):
        policyengine.load(tmp_path / "nope")


def test_comma_in_an_unquoted_flow_label_is_reported_not_a_crash(tmp_path):
    root = write_policies(tmp_path, "rules:\n  r:\n    citation: \"Appendix B, 1\"\n    text: t\n"
                                    "    label: {en: Before April 1, 2006, fr: Avant}\n    value: salary\n")
    assert any("unknown key '2006'" in l for l in problems(root))


def test_impossible_date_is_reported_not_a_crash(tmp_path):
    inst = __import__("helpers").INSTRUMENT.replace("from: 2006-04-02", "from: 2006-13-02")
    lines = problems(write_policies(tmp_path, "", inst))
    assert any("'2006-13-02' is not a valid value: month must be in 1..12" in l for l in lines)


def test_yaml_merge_keys_are_overridden_not_duplicates(tmp_path):
    from policyengine.source.yamlsource import load_yaml
    data, _, problems = load_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", "f.yaml")
    assert problems == [] and data["c"] == {"x": 1, "y": 3}


def test_declared_list_type_is_checked(tmp_path):
    root = write_policies(tmp_path, one_rule("    type: list\n    value: salary\n"))
    assert any("is declared list but computes money" in l for l in problems(root))
