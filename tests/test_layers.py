"""The package's stages import one way only: no module, through any chain of imports
(function-local ones included), imports itself back.  This is what keeps the loader, the
runtime and the decision log separable (see src/policyengine/policies.py)."""
import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "policyengine"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every policyengine module `path` imports, anywhere in its body."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("policyengine"):
                continue
            for alias in node.names:  # `from . import x` may name a module
                sub = f"{target}.{alias.name}"
                found.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                          or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("policyengine"))
    return found - {me}


def test_no_import_cycles():
    graph = nx.DiGraph()
    for path in PACKAGE.rglob("*.py"):
        for target in imports(path):
            graph.add_edge(module_name(path), target)
    # the top-level package re-exports `load`; importing it from inside is a reference to the
    # public API, not a layer, so edges into "policyengine" itself are left out
    graph.remove_node("policyengine") if "policyengine" in graph else None
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_the_lower_layers_never_import_the_facade():
    """source/, model/, expr/, runtime/ and audit/ work without policies.py (the facade)."""
    for layer in ("source", "model", "expr", "runtime", "audit"):
        for path in (PACKAGE / layer).rglob("*.py"):
            assert "policyengine.policies" not in imports(path), path
