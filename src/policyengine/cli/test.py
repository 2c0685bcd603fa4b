"""`policyengine test`: the YAML decision tests and their clause coverage (tools/coverage.py)."""
from __future__ import annotations

from .args import add_policies


def register(sub) -> None:
    from ..tools import coverage
    coverage.add_parser(sub)
    t = sub.choices["test"]
    # `test DIR` or `test --policies DIR`: the tests under a policy folder; with PATHs, the policies they run against
    add_policies(t, folder_dest="paths",
                 help="policy folder: run the tests under it, or, with PATHs, run their tests against it "
                      "(default: the 'policies' folder above each test file)")
    t.set_defaults(func=coverage.run, _parser=t)
