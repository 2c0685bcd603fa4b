"""Decisions as readable accounts, in English or French.

The same trace feeds both languages: labels come from the policy (each has en and fr),
the engine's own words from the catalogue (words.py), values from the formatter (format.py).
Source text is quoted as the seed gives it (English only), and the French account says so.
"""
from __future__ import annotations

from ..values import plain
from .format import Formatter, version_label
from .words import WORDS


def _known(v: dict, w: dict) -> str:
    """A version's dates, as evaluation "as known on" read them."""
    return f"{w['version']} {v['effective']}, {w['known_from']} {v['known_from']} ({w[v['known_by']]})"


def explain_text(d, lang: str = "en") -> str:
    return explain_record(d.to_dict(), d._policies, lang)


def explain_record(r: dict, policies, lang: str = "en") -> str:
    """A readable account of a decision record (live, logged or redacted)."""
    w = WORDS.get(lang, WORDS["en"])
    lang = w.lang
    rule = policies.rules.get(r["decision"]) if policies is not None else None
    f = Formatter(lang, policies if rule else None, r["decision"])
    title = rule.label.get(lang) if rule else (r.get("trace") or [{}])[0].get("label", {}).get(lang, r["decision"])
    known = f", {w['known_on']} {r['known_on']}" if r.get("known_on") else ""
    lines = [f"{w['decision']}{w['colon']} {title} ({r['decision']}), {w['as_of']} {r['as_of']}{known}",
             f"{w['outcome']}{w['colon']} {w[r['status']]}"
             + (f" – {f.value(r['value'], f.outcome_type())}" if r["status"] == "decided" else "")]
    if r.get("view") == "public" and r.get("redaction", {}).get("basis"):
        lines.append(f"{w['view_public']} {f.cite(r['redaction']['basis']['citation'])}")
    for g in r.get("gaps") or []:
        lines.append(f"{w['gap']} [{f.cite(g['citation'])}]: {g.get('missing', '')}"
                     + (f" ({g['where']})" if g.get("where") else ""))
    decl = (lambda n: policies.fact_decl(r["decision"], n)) if rule else (lambda n: None)
    if r.get("assumptions"):
        lines.append(f"{w['presumptions']}:")
        for a in r["assumptions"]:
            label = f" ({decl(a['fact']).label.get(lang)})" if decl(a["fact"]) else ""
            cite = f" [{f.cite(a['citation'])}]" if a.get("citation") else ""
            lines.append(f"  - {a['fact']}{label} = {f.fact(a['fact'], a['value'])}{cite}: "
                         f"{a['reason'].get(lang) or a['reason']['en']}")
    elif r.get("presume") is False:
        lines.append(w["strict"])
    if r.get("versions_excluded"):
        lines.append(f"{w['excluded']}:")
        for x in r["versions_excluded"]:
            used = x["used"]
            lines.append(f"  - {x['id']} [{f.cite(x['citation'])}]: {_known(x['excluded'], w)}; {w['used_instead']}{w['colon']} "
                         + (_known(used, w) if used else w["none_known"]))
    if r.get("missing"):
        labels = [f"{n} ({decl(n).label.get(lang)})" if decl(n) else n for n in r["missing"]]
        lines.append(f"{w['missing']}{w['colon']} " + ", ".join(labels))
    for m in r.get("messages") or []:
        lines.append(f"{w['refusal'] if m['kind'] == 'refused' else w['conflict']} {f.cite(m['citation'])}{w['colon']} "
                     f"{m[lang]}")
    if r.get("trace") is None:
        lines.append(w["not_recorded"])
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{w['clauses']}{w['source_lang']}:")
    quoted: set = set()
    steps = _Steps(policies)
    for node in r["trace"]:
        _node(node, lines, f, 1, quoted, steps)
    failed = list(_failed(r["trace"])) if r["value"] is False else []
    if failed:
        lines.append("")
        lines.append(f"{w['why_not']}:")
        for node in failed:
            what = node.get("expression") or node.get("label", {}).get(lang) or node.get("id")
            facts = node.get("facts_read")
            read = f" ({w['facts_read']}{w['colon']} {f.facts(facts)})" if facts else ""
            lines.append(f"  - {what}{read}")
    lines.append("")
    lines.append(f"{w['policy']}{w['colon']} {r['policy_hash']}")
    return "\n".join(lines)


def _node(n: dict, lines: list, f: Formatter, depth: int, quoted: set, steps=None) -> None:
    """One trace node; each source text is quoted once, at its first appearance.  At trace level
    full, the value of each step of its expressions follows (what `full` adds to `audit`)."""
    pad = "  " * depth
    kind = n["kind"]
    w, lang = f.w, f.lang
    cite = f" [{f.cite(n.get('citation'))}]"
    if kind == "condition":
        presumed = f" ({w['presumed']}{w['colon']} {', '.join(n['presumed'])})" if n.get("presumed") else ""
        lines.append(f"{pad}- {n['expression']}: {f.value(n.get('outcome')) if 'outcome' in n else '?'}{presumed}")
        if n.get("steps") and steps is not None:
            steps.lines(n, lines, f, pad)
    elif kind == "ref":
        lines.append(f"{pad}- {n['label'][lang]}{cite} = {f.value(n.get('value'), f.node_type(n))}")
    elif kind == "exception" and not n.get("outcome"):
        if "missing" in n:  # its condition is unknown: say so, and with what it would be known
            lines.append(f"{pad}- {n['label'][lang]}{cite} ({w['exception_unknown']} "
                         f"{', '.join(n['missing']) or w['source_gap']})")
        return
    else:
        head = f"{pad}- {n['label'][lang]}{cite}"
        if kind == "exception":
            head += f" ({w['exception_applied']})"
        if "value" in n:
            head += f" = {f.value(n['value'], f.node_type(n))}"
        elif "keys" in n:
            head += f" [{f.facts(n['keys'])}]"
        lines.append(head)
        if n.get("version"):
            v = n["version"]
            extra = f", {w['approved']} {v['approved']}" if v.get("approved") else ""
            label = f" – {version_label(v['label'], lang)[0]}" if v.get("label") else ""
            lines.append(f"{pad}  {w['version']} {v['effective']}{extra}{label}")
            if v.get("known_by"):
                lines.append(f"{pad}  {w['known_from']} {v['known_from']} ({w[v['known_by']]})")
        if kind == "table" and "keys" in n:
            lines.append(f"{pad}  {f.facts(n['keys'])} -> {f.value(n.get('value'), f.node_type(n))}")
        if n.get("text") and n["text"] not in quoted:
            quoted.add(n["text"])
            lines.append(f"{pad}  \"{n['text']}\"")
        if n.get("facts_read"):
            presumed = f" ({w['presumed']}{w['colon']} {', '.join(n['presumed'])})" if n.get("presumed") else ""
            lines.append(f"{pad}  {w['facts_read']}{w['colon']} {f.facts(n['facts_read'])}{presumed}")
        if n.get("exceptions_unknown_unchanged"):
            lines.append(f"{pad}  {w['unchanged']}{w['colon']} {', '.join(n['exceptions_unknown_unchanged'])}")
        if n.get("steps") and steps is not None:
            steps.lines(n, lines, f, pad)
    for c in n.get("children", []):
        _node(c, lines, f, depth + 1, quoted, steps)


def _failed(nodes):
    """Conditions and rules that came out false: the "why not" of a negative outcome."""
    for n in nodes:
        children = n.get("children", [])
        if n.get("outcome") is False and n["kind"] in ("condition", "rule"):
            sub = list(_failed(children))
            if sub:
                yield from sub
            else:
                yield n
        else:
            yield from _failed(children)


# -- trace level full: the value of each expression step ---------------------------------------------------------
class _Steps:
    """Writes a frame's `steps` (trace level full: each expression node's value, in evaluation
    order, as {"at": "line:col", "node": class, "value"}) as the sub-expression and its value.

    A step names its node by position inside its expression; the expressions come from the
    condition itself, or from the policies (the rule's version, the exception), and each node is
    written back as source text.  A step that cannot be placed is shown by position."""

    def __init__(self, policies):
        self.policies = policies
        self._exceptions = None

    def lines(self, n: dict, lines: list, f: Formatter, pad: str) -> None:
        index = _StepIndex(self._expressions(n))
        lines.append(f"{pad}  {f.w['steps']}:")
        for step in n["steps"]:
            text = index.text(step) or f"{step.get('node', '?')} at {step.get('at', '?')}"
            lines.append(f"{pad}    {text} = {f.value(step.get('value'))}")

    def _expressions(self, n: dict) -> list:
        """The syntax trees of the expressions whose steps the frame recorded."""
        from ..expr.parser import parse
        if n["kind"] == "condition":
            try:
                return [parse(n["expression"])]
            except Exception:  # noqa: BLE001 - a logged expression this engine no longer parses: by position
                return []
        if self.policies is None:
            return []
        if n["kind"] == "exception":
            ex = self._exception(n.get("id"))
            return [e.node for e in (ex.when, ex.value) if e is not None] if ex else []
        rule = self.policies.rules.get(n.get("id")) if hasattr(self.policies, "rules") else None
        if rule is None:
            return []
        from ..model import walk
        effective = (n.get("version") or {}).get("effective")
        versions = [v for v in rule.versions if effective is None or plain(v.effective) == effective] or rule.versions
        return [e.node for v in versions for _, e in walk.body_expressions(v.body)]

    def _exception(self, eid):
        if self._exceptions is None:
            self._exceptions = {ex.id: ex for r in self.policies.rules.values() for v in r.versions
                                for ex in v.exceptions}
        return self._exceptions.get(eid)


class _StepIndex:
    """Places steps in their expressions.  Positions repeat across the expressions of one frame
    (each field of a record starts at 1:1), so a step is placed in the expression the steps
    before it were in, until that expression's own value (its root) has been recorded, and else
    in the first expression whose value has not been recorded yet."""

    def __init__(self, roots: list):
        from ..expr import ast
        self.at: dict = {}  # (line, col, class) -> [(expression number, node)]
        self.roots = roots
        for i, root in enumerate(roots):
            for node in ast.walk(root):
                self.at.setdefault((node.line, node.col, type(node).__name__), []).append((i, node))
        self.current = None
        self.done: set = set()

    def text(self, step: dict) -> str | None:
        line, _, col = str(step.get("at", "")).partition(":")
        try:
            key = (int(line), int(col), step.get("node"))
        except ValueError:
            return None
        found = self.at.get(key)
        if not found:
            return None
        mine = [f for f in found if f[0] == self.current]
        fresh = [f for f in found if f[0] not in self.done]  # expressions are evaluated one after another
        i, node = (mine or fresh or found)[0]
        if node is self.roots[i]:
            self.current = None
            self.done.add(i)
        else:
            self.current = i
        return _source(node)


_PREC = {"If": 0, "Logic:or": 1, "Logic:and": 2, "Unary:not": 3, "Compare": 4, "Membership": 4,
         "Binary:+": 5, "Binary:-": 5, "Binary:*": 6, "Binary:/": 6, "Unary:-": 7}


def _prec(node) -> int:
    name = type(node).__name__
    return _PREC.get(f"{name}:{getattr(node, 'op', '')}", _PREC.get(name, 8))


def _source(node) -> str:
    """An expression node written back as policy expression text (brackets only where needed)."""
    from ..expr import ast

    def sub(child, least: int) -> str:
        text = _source(child)
        return f"({text})" if _prec(child) < least else text

    if isinstance(node, ast.Literal):
        v = node.value
        if node.kind == "text":
            return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
        if node.kind == "money":
            return f"${plain(v)}"
        if node.kind == "boolean":
            return "true" if v else "false"
        return str(plain(v))
    if isinstance(node, ast.ListExpr):
        return "[" + ", ".join(_source(x) for x in node.items) + "]"
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Unary):
        return f"not {sub(node.operand, 3)}" if node.op == "not" else f"-{sub(node.operand, 7)}"
    if isinstance(node, (ast.Binary, ast.Compare)):
        p = _prec(node)
        return f"{sub(node.left, p)} {node.op} {sub(node.right, p + 1)}"
    if isinstance(node, ast.Logic):
        p = _prec(node)
        return f" {node.op} ".join(sub(x, p + 1) for x in node.items)
    if isinstance(node, ast.Membership):
        return f"{sub(node.item, 5)} {'not in' if node.negated else 'in'} {sub(node.collection, 5)}"
    if isinstance(node, ast.If):
        return f"if {_source(node.condition)} then {_source(node.then)} else {_source(node.otherwise)}"
    if isinstance(node, ast.Call):
        args = [_source(a) for a in node.args] + [f"{k}={_source(v)}" for k, v in node.kwargs.items()]
        return f"{node.function}({', '.join(args)})"
    if isinstance(node, ast.Lookup):
        return f"{node.table}[{', '.join(_source(k) for k in node.keys)}]"
    return type(node).__name__
