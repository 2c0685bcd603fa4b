"""The pytest plugin: collects the YAML decision tests under policies/*/tests/ as pytest items.

Registered through the `pytest11` entry point, so any repository of policies gets its YAML
cases collected by `pytest` once policyengine is installed; no conftest.py is needed."""
from pathlib import Path

import pytest

from .testing import load_cases, run_case


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "tests" and "policies" in file_path.parts:
        return PolicyTestFile.from_parent(parent, path=file_path)
    return None


class PolicyTestFile(pytest.File):
    def collect(self):
        for case in load_cases(self.path):
            yield PolicyCase.from_parent(self, name=case.name, case=case)


class PolicyCase(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        diffs = run_case(self.case)
        if diffs:
            raise PolicyCaseFailure(diffs)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, PolicyCaseFailure):
            return f"{self.case.file}:{self.case.line}: {self.case.name}\n" + "\n".join(excinfo.value.args[0])
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.case.line - 1, f"{self.case.decision}: {self.case.name}"


class PolicyCaseFailure(Exception):
    pass
