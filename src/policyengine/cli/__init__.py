"""The `policyengine` command: main.py parses and dispatches; args.py holds the arguments every
command shares; each other module registers one group of commands (check: validate, lint,
inventory, decisions; eval: eval, query, retro; report; log; test; diff; docs: docs,
requirements, graph, impact; serve)."""
from .main import main, run  # noqa: F401
