"""Auditors' side: the decision log, replay, and the public (redacted) view."""
from .log import DecisionLog, LogError  # noqa: F401
from .records import SUBJECT, Replay, record, record_many, replay  # noqa: F401
