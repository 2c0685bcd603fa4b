"""Documents and views of the policies: `docs` (the HTML site), `requirements` (a group's
qualification standard), `graph` and `impact` (the dependency graph)."""
from __future__ import annotations

from .args import add_policies


def register(sub) -> None:
    from ..gc import requirements
    from ..tools import graph_views, site
    site.add_parser(sub)
    requirements.add_parser(sub)
    graph_views.add_parsers(sub)  # sets func: run_graph, run_impact
    for name, run in (("docs", site.run), ("requirements", requirements.run), ("graph", None), ("impact", None)):
        p = sub.choices[name]
        add_policies(p)
        p.set_defaults(_parser=p, **({"func": run} if run else {}))
