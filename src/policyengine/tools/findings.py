"""A finding of lint or check: where, which code, what; one class both report with."""
from __future__ import annotations

from dataclasses import dataclass

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
