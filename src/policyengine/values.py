"""Runtime value helpers shared by every compiler: durations, dates, exact rounding.

Money and decimals are `decimal.Decimal`; rounding is always explicit and half-up,
because pay rules say "rounded to the nearest $100" and mean it (93,450 -> 93,500).
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

UNIT_BASE = {"day": ("days", 1), "week": ("days", 7), "month": ("months", 1), "year": ("months", 12)}


@dataclass(frozen=True)
class Duration:
    """A length of time in days or in months (weeks and years are normalised into them).

    Days and months do not compare: a month is not a fixed number of days, and guessing
    would make date rules disagree with the law.  The type checker refuses mixing them at
    load; adding, subtracting or ordering them here raises ValueError as a safety net.
    (`==` stays structural, so durations remain hashable set members and dict keys.)
    """

    amount: int
    unit: str  # "days" | "months"

    @classmethod
    def of(cls, amount: int, unit: str) -> "Duration":
        base, factor = UNIT_BASE[unit.rstrip("s")]
        return cls(int(amount) * factor, base)

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}"

    def _same_unit(self, other, verb: str) -> bool:
        """True for a duration of the same unit, False for a non-duration; raises for the other unit."""
        if not isinstance(other, Duration):
            return False
        if other.unit != self.unit:
            raise ValueError(f"cannot {verb} {self.unit} with {other.unit}: a month is not a fixed number of days")
        return True

    def __neg__(self) -> "Duration":
        return Duration(-self.amount, self.unit)

    def __add__(self, other):
        return Duration(self.amount + other.amount, self.unit) if self._same_unit(other, "add") else NotImplemented

    def __sub__(self, other):
        return Duration(self.amount - other.amount, self.unit) if self._same_unit(other, "subtract") else NotImplemented

    def __lt__(self, other):
        return self.amount < other.amount if self._same_unit(other, "compare") else NotImplemented

    def __le__(self, other):
        return self.amount <= other.amount if self._same_unit(other, "compare") else NotImplemented

    def __gt__(self, other):
        return self.amount > other.amount if self._same_unit(other, "compare") else NotImplemented

    def __ge__(self, other):
        return self.amount >= other.amount if self._same_unit(other, "compare") else NotImplemented


def add_duration(day: dt.date, d: Duration, sign: int = 1) -> dt.date:
    """Date plus (or minus) a duration; month arithmetic clamps to the month's last day."""
    if d.unit == "days":
        return day + dt.timedelta(days=sign * d.amount)
    months = day.year * 12 + (day.month - 1) + sign * d.amount
    year, month = divmod(months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole months from start to end (negative if end is earlier)."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if months > 0 and end.day < start.day and not _is_month_end_catchup(start, end):
        months -= 1
    elif months < 0 and end.day > start.day:
        months += 1
    return months


def _is_month_end_catchup(start: dt.date, end: dt.date) -> bool:
    # 31 Jan -> 28 Feb counts as a whole month: the later month has no 31st.
    return end.day == calendar.monthrange(end.year, end.month)[1] and start.day > end.day


def days_between(start: dt.date, end: dt.date) -> int:
    return (end - start).days


def floor(value: Decimal | int) -> Decimal:
    return Decimal(value).to_integral_value(rounding=ROUND_FLOOR)


def plain(value):
    """A JSON-ready form: Decimals as exact strings, dates as ISO, durations as text.

    For machines (records, JSON); what people read is formatted by present.format."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    if isinstance(value, (dt.date, Duration)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [plain(v) for v in value]
    return value
