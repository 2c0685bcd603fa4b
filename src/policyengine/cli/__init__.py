"""The `policyengine` command."""
from .main import main, run  # noqa: F401
