"""The loader refuses what it cannot bound: each case is a located problem, quickly.

Alias bombs, values that contain themselves, deep nesting, FIFOs, devices, huge files,
undecodable bytes, duration facts and unreadable min/max would otherwise hang the
loader, exhaust memory, raise RecursionError, or validate and fail at evaluation.
"""
import os
import re

import pytest

import policyengine
from helpers import INSTRUMENT, write_policies
from policyengine import limits
from policyengine.cli import main
from policyengine.source.yamlsource import load_yaml

RULE = """\
rules:
  r:
    citation: "Appendix B, 12"
    text: t
    label: {en: R, fr: R}
    value: salary
"""


def problems(root) -> list[str]:
    with pytest.raises(policyengine.PolicyError) as info:
        policyengine.load(root)
    lines = str(info.value).splitlines()
    for line in lines:
        assert re.match(r"^.+:\d+:\d+: ", line), line
        assert len(line) < 300, line  # short: never the whole document, never a traceback
    return lines


def bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each anchor's list repeats the previous alias `width` times."""
    names = "abcdefghijklmnop"[:levels]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


def with_fact(decl: str) -> str:
    """INSTRUMENT with one more fact, `extra`, declared by the YAML lines in decl."""
    return INSTRUMENT + "  extra:\n" + "".join(f"    {line}\n" for line in decl.splitlines())


# -- YAML: aliases, self-reference, nesting ----------------------------------------------

def test_alias_bomb_is_refused_at_the_alias(tmp_path):
    text = bomb()
    assert len(text) < 600
    root = write_policies(tmp_path, RULE + "extras:\n" + "".join(f"  {line}\n" for line in text.splitlines()))
    [line] = problems(root)  # completes in milliseconds (unbounded: 80 s and 3.3 GB)
    # g's first *f is where the document passes a million values (f alone stands for 597,871)
    assert re.search(r"rules\.yaml:16:10: alias '\*f' makes more than 1,000,000 values once aliases are expanded",
                     line), line


def test_alias_bomb_in_load_yaml_is_one_located_problem():
    data, _, found = load_yaml(bomb(), "b.yaml")
    assert data is None
    assert [str(p) for p in found] == [
        "b.yaml:7:8: alias '*f' makes more than 1,000,000 values once aliases are expanded"]


def test_aliases_within_the_bounds_still_load():
    data, _, found = load_yaml("a: &a {x: 1}\nb: *a\nc: [*a, *a]\n", "ok.yaml")
    assert found == [] and data == {"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 1}]}


def test_recursive_alias_is_reported(tmp_path):
    root = write_policies(tmp_path, "rules: &r {a: *r}\n")
    [line] = problems(root)
    assert "rules.yaml:3:15: recursive alias '*r': the value contains itself" in line


def test_recursive_merge_is_reported():
    _, _, found = load_yaml("base: &b\n  x: 1\n  <<: *b\n", "m.yaml")
    assert [str(p) for p in found] == ["m.yaml:3:7: recursive alias '*b': the value contains itself"]


def test_merging_a_non_mapping_is_reported_not_raised():
    _, _, found = load_yaml("a: {<<: 1}\n", "m.yaml")
    assert [str(p) for p in found] == [
        "m.yaml:1:9: cannot merge: expected a mapping or list of mappings for merging, but found scalar"]


def test_deep_nesting_is_refused_where_it_passes_the_limit(tmp_path):
    deep = "[" * 500 + "]" * 500
    root = write_policies(tmp_path, f"rules: {deep}\n")
    [line] = problems(root)  # no RecursionError
    col = len("rules: ") + limits.MAX_YAML_DEPTH  # the top mapping is level 1, the first '[' level 2
    assert f"rules.yaml:3:{col}: nested deeper than {limits.MAX_YAML_DEPTH} levels" in line


def test_deep_nesting_through_an_alias_is_refused_at_the_alias():
    half = limits.MAX_YAML_DEPTH // 2 + 2
    text = "a: &a " + "[" * half + "1" + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    _, _, found = load_yaml(text, "d.yaml")
    assert [str(p) for p in found] == [
        f"d.yaml:2:{4 + half}: alias '*a' nests values deeper than {limits.MAX_YAML_DEPTH} levels once expanded"]


def test_bundled_policies_are_well_within_the_yaml_limits():
    from policyengine.source.yamlsource import _Composer
    for path in policyengine.source.loader.policy_files(policyengine.source.loader.Path("policies")):
        loader = _Composer(path.read_text(encoding="utf-8"))
        loader.get_single_node()
        assert loader.expanded < limits.MAX_YAML_NODES // 100, path
        assert os.path.getsize(path) < limits.MAX_FILE_BYTES // 10, path


# -- files: only regular, bounded, UTF-8 -----------------------------------------------

def test_fifo_is_not_read(tmp_path):
    root = write_policies(tmp_path, RULE)
    os.mkfifo(root / "demo" / "x.yaml")
    lines = problems(root)  # does not block
    assert lines == [f"{root / 'demo' / 'x.yaml'}:1:1: not a regular file"]


def test_symlink_to_dev_zero_is_not_read(tmp_path):
    root = write_policies(tmp_path, RULE)
    os.symlink("/dev/zero", root / "demo" / "zero.yaml")
    assert problems(root) == [f"{root / 'demo' / 'zero.yaml'}:1:1: not a regular file"]


def test_symlink_to_a_regular_file_is_read(tmp_path):
    root = write_policies(tmp_path, RULE)
    (tmp_path / "elsewhere.yaml").write_text((root / "demo" / "rules.yaml").read_text())
    (root / "demo" / "rules.yaml").unlink()
    os.symlink(tmp_path / "elsewhere.yaml", root / "demo" / "rules.yaml")
    assert "demo.r" in policyengine.load(root).rules


def test_a_fifo_given_as_the_root_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "p.yaml")
    assert problems(tmp_path / "p.yaml") == [f"{tmp_path / 'p.yaml'}:1:1: not a regular file"]


def test_file_over_the_size_limit_is_refused_without_reading_it(tmp_path):
    root = write_policies(tmp_path, RULE)
    big = root / "demo" / "big.yaml"
    with open(big, "wb") as fh:  # sparse: the size is there, the bytes are not
        fh.truncate(limits.MAX_FILE_BYTES + 1)
    [line] = problems(root)
    assert line == (f"{big}:1:1: file too large: {limits.MAX_FILE_BYTES + 1:,} bytes, "
                    f"the limit is {limits.MAX_FILE_BYTES:,}")


def test_non_utf8_policy_file_names_the_line_and_column(tmp_path):
    root = write_policies(tmp_path, RULE)
    path = root / "demo" / "rules.yaml"
    raw = path.read_bytes().replace(b"text: t", b"text: caf\xe9")
    path.write_bytes(raw)
    [line] = problems(root)
    assert raw.splitlines()[5] == b"    text: caf\xe9"  # line 6; the bad byte is its 14th character
    offset = raw.index(b"\xe9")
    assert line == f"{path}:6:14: not UTF-8 text (byte 0xe9 at offset {offset})"


def test_nul_character_is_located(tmp_path):
    root = write_policies(tmp_path, RULE.replace("text: t", "text: t\x00"))
    [line] = problems(root)
    assert line.endswith("rules.yaml:6:12: character 0x00 is not allowed in YAML text")


def test_validate_prints_the_problem_and_fails(tmp_path, capsys):
    root = write_policies(tmp_path, RULE + "extras:\n" + "".join(f"  {line}\n" for line in bomb().splitlines()))
    os.mkfifo(root / "demo" / "fifo.yaml")
    assert main(["validate", str(root)]) == 1
    err = capsys.readouterr().err
    assert f"{root / 'demo' / 'fifo.yaml'}:1:1: not a regular file" in err
    assert "rules.yaml:16:10: alias '*f' makes more than 1,000,000 values" in err
    assert "Traceback" not in err and len(err) < 1000


# -- fact declarations ----------------------------------------------------------------

def test_duration_fact_is_rejected_at_load(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: duration\nlabel: {en: E, fr: E}"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:17:11: fact 'extra' is a duration, but facts cannot be durations: "
                         "declare an integer with a unit such as months")


def test_unreadable_min_is_located(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: money\nlabel: {en: E, fr: E}\nmin: abc"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:19:10: 'min' of fact 'extra': expected an amount, got 'abc'")


def test_unreadable_max_is_located(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: integer\nlabel: {en: E, fr: E}\nmax: 2.5"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:19:10: 'max' of fact 'extra': expected a whole number, got 2.5")


def test_min_above_max_is_reported(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: decimal\nlabel: {en: E, fr: E}\nmin: 10\nmax: 5"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:19:10: 'min' 10 of fact 'extra' is above its 'max' 5")


def test_min_on_a_date_is_read_as_a_date(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: date\nlabel: {en: E, fr: E}\nmin: '20080230'"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:19:10: 'min' of fact 'extra': expected a date (YYYY-MM-DD), "
                         "got '20080230'")


def test_min_on_a_boolean_is_reported(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: boolean\nlabel: {en: E, fr: E}\nmin: 1"))
    [line] = problems(root)
    assert line.endswith("instrument.yaml:19:10: 'min' applies to numbers and dates, not to boolean")


def test_valid_min_and_max_still_load(tmp_path):
    root = write_policies(tmp_path, RULE, with_fact("type: money\nlabel: {en: E, fr: E}\nmin: 0\nmax: '$1,000'"))
    decl = policyengine.load(root).facts["demo.extra"]
    assert (decl.minimum, decl.maximum) == (0, "$1,000")
