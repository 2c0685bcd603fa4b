"""Tracing observes evaluation and never changes it: every bundled YAML test case gives the
same answer at trace levels none, audit and full.

"The same answer" is the status, the value (as `plain()`, i.e. `to_dict()["value"]`, compared
as JSON so that true is not 1 and "1" is not 1), the missing facts, the gaps and the
refusal/conflict messages; or, when evaluation raises, the same error class with the same
message.  The expectations of the cases are not checked here (pytest runs them through
conftest.py); only that the three levels agree, whatever the answer is.

The cases are read with the project's own loader (`policyengine.tools.testing.load_cases`),
and the policies come from its cache (`testing.policies`), so this sees exactly what the
YAML test runner sees.  The ~1,150 cases at three levels take about a second once the
policies are loaded, so there is one test per instrument's test folder rather than one per
case, and each reports every disagreeing case in one assertion message.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policyengine.tools import testing
from policyengine.values import plain

LEVELS = ("none", "audit", "full")
POLICIES = Path(__file__).resolve().parents[1] / "policies"
TEST_DIRS = sorted(p for p in POLICIES.glob("*/tests") if p.is_dir())


def _json(v) -> str:
    return json.dumps(plain(v), sort_keys=True, default=repr)


def outcome(policies, decision, facts, as_of, trace) -> tuple:
    """What an evaluation at one trace level ends in, comparable across levels."""
    try:
        d = policies.evaluate(decision, facts, as_of=as_of, trace=trace)
    except Exception as exc:  # noqa: BLE001 - the error class and message are the answer
        return ("raised", type(exc).__name__, str(exc))
    return ("answered", d.status, _json(d.value), tuple(d.missing), _json(d.gaps), _json(d.messages))


def outcomes(policies, decision, facts, as_of) -> dict:
    """The outcome at each trace level."""
    return {level: outcome(policies, decision, facts, as_of, level) for level in LEVELS}


# What evaluation may raise: the package's own errors, never a Python exception.
ENGINE_ERRORS = {"InputError", "UnknownDecisionError", "NotInForceError", "EvaluationError", "BudgetExceeded"}


def test_there_are_cases_to_compare():
    assert {p.parent.name for p in TEST_DIRS} >= {"cap", "etm", "ldp", "qs"}


@pytest.mark.parametrize("tests_dir", TEST_DIRS, ids=lambda p: p.parent.name)
def test_every_case_gives_the_same_answer_at_every_trace_level(tests_dir):
    files = testing.test_files([tests_dir])
    # Query cases have no trace levels (query() takes no `trace`).  The test-file schema has
    # no query cases (every case names a `decision`), so nothing is skipped today; the
    # filter keeps this test about decisions if query cases are ever added to the loader.
    cases = [c for f in files for c in testing.load_cases(f) if getattr(c, "decision", None)
             and not getattr(c, "query", None)]
    assert cases, f"no cases under {tests_dir}"
    report, crashed = [], []
    for case in cases:
        got = outcomes(testing.policies(case.policies_dir), case.decision, case.facts, case.as_of)
        where = f"{case.file}:{case.line}: {case.name} ({case.decision})"
        if len(set(got.values())) > 1:
            report.append(where + "".join(f"\n    {level}: {got[level]}" for level in LEVELS))
        crashed += [f"{where} at {level}: {o[1]}: {o[2]}" for level, o in got.items()
                    if o[0] == "raised" and o[1] not in ENGINE_ERRORS]
    assert not report, f"{len(report)} of {len(cases)} cases differ across trace levels:\n" + "\n".join(report)
    assert not crashed, "evaluation raised something other than the package's errors:\n" + "\n".join(crashed)
