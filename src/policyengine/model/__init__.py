"""The checked policy model: what the loader builds and every later stage reads."""
from .elements import *  # noqa: F401,F403
