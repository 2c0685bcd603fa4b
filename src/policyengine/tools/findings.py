"""A finding of lint or check: where, which code, what; one class both report with, and
the one reading of the `# lint: ignore CODE -- why` comments that silence deliberate ones."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Location


@dataclass(frozen=True)
class Finding:
    location: Location | None
    code: str
    message: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.message}" if self.location else f"{self.code}: {self.message}"

    def to_dict(self) -> dict:
        loc = self.location
        return {"path": loc.path if loc else None, "line": loc.line if loc else None,
                "col": loc.col if loc else None, "code": self.code, "message": self.message,
                "severity": self.severity}


_IGNORE = re.compile(r"#\s*(?:lint|check):\s*ignore\s+(PE\d{3}(?:\s*,\s*PE\d{3}|\s+PE\d{3})*)")


class Ignores:
    """`# lint: ignore CODE -- why` (or `# check: ignore`) on the line a finding points at, or
    on a comment line just above it, silences that code there.  Files are read once."""

    def __init__(self):
        self.files: dict[str, list[str]] = {}

    def line(self, path: str, n: int) -> str:
        if path not in self.files:
            try:
                self.files[path] = Path(path).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self.files[path] = []
        lines = self.files[path]
        return lines[n - 1] if 0 < n <= len(lines) else ""

    def __call__(self, finding) -> bool:
        loc = finding.location
        if loc is None:
            return False
        here, above = self.line(loc.path, loc.line), self.line(loc.path, loc.line - 1)
        for text in [here] + ([above] if above.lstrip().startswith("#") else []):
            m = _IGNORE.search(text)
            if m and finding.code in re.split(r"[\s,]+", m.group(1)):
                return True
        return False
