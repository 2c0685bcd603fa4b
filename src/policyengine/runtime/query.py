"""Queries over catalogues: "the obligations of a deputy head", "ORO's activities in 2008/2009".

Each entry is cited like a clause.  Where the source cannot be read with certainty (a
scraped table that lost its columns), an entry that matches only through an uncertain
value is still returned, flagged as uncertain with the reason, never silently dropped
or silently asserted.
"""
from __future__ import annotations

from dataclasses import dataclass

from .facts import as_date
from ..errors import InputError, NotInForceError, did_you_mean
from .facts import Bad, converter
from ..values import plain


@dataclass
class Match:
    entry: object
    uncertain: list  # parameter names matched only through uncertain values


@dataclass
class QueryResult:
    policies: object
    query: object
    parameters: dict
    matches: list

    def to_dict(self) -> dict:
        return {
            "query": self.query.id,
            "parameters": plain(self.parameters),
            "count": len(self.matches),
            "uncertain_count": sum(bool(m.uncertain) for m in self.matches),
            "entries": [_entry_dict(m) for m in self.matches],
            "policy_hash": self.policies.policy_hash,
        }

    def explain(self, lang: str = "en") -> str:
        fr = lang == "fr"
        shown = ", ".join(f"{k} = {v}" for k, v in self.parameters.items()) or ("aucun filtre" if fr else "no filter")
        out = [f"{self.query.label.get(lang)} ({self.query.id}) — {shown}",
               (f"{len(self.matches)} résultat(s)" if fr else f"{len(self.matches)} result(s)")]
        for m in self.matches:
            e = m.entry
            out.append(f"- {e.label.get(lang)} [{e.citation}]")
            if e.text:
                out.append(f"  \"{e.text}\"")
            for k, v in e.values.items():
                out.append(f"  {k}: {', '.join(map(str, v)) if isinstance(v, tuple) else v}")
            if e.uncertain:
                what = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in e.uncertain.items())
                out.append(("  incertain (illisible dans la source) : " if fr else "  uncertain (not legible in the source): ")
                           + what + (f" — {e.uncertain_note}" if e.uncertain_note else ""))
            if m.uncertain:
                out.append("  ! " + ("correspond seulement par une valeur incertaine : " if fr
                                     else "matches only through an uncertain value: ") + ", ".join(m.uncertain))
        return "\n".join(out)


def _entry_dict(m: Match) -> dict:
    e = m.entry
    d = {"id": e.id, "clause": e.clause, "citation": e.citation, "text": e.text,
         "label": {"en": e.label.en, "fr": e.label.fr}, "fields": plain(e.values)}
    if e.uncertain:
        d["uncertain"] = {"values": plain(e.uncertain), "note": e.uncertain_note}
    if m.uncertain:
        d["matched_only_through_uncertain"] = m.uncertain
    return d


def _matches(entry, fields, value) -> tuple[bool, bool]:
    """(certain match, match through an uncertain value)."""
    certain = unsure = False
    for f in fields:
        v = entry.values.get(f)
        if v == value or (isinstance(v, tuple) and value in v):
            certain = True
        if value in entry.uncertain.get(f, ()):
            unsure = True
    return certain, unsure


def run(policies, query_id: str, parameters: dict, as_of=None) -> QueryResult:
    q = policies.queries.get(query_id)
    if q is None:
        raise InputError([f"unknown query '{query_id}'{did_you_mean(query_id, policies.queries)}"])
    cat = policies.catalogues[q.catalogue]
    if as_of is not None:
        inst = policies.instruments[q.instrument]
        day = as_date(as_of)
        if not inst.in_force(day):
            raise NotInForceError(f"{inst.id} ({inst.title.en}) is not in force on {day}: {inst.force_text()}", inst.id)
    problems, given = [], {}
    for name, value in parameters.items():
        if value is None:
            continue
        if name not in q.parameters:
            problems.append(f"unknown parameter '{name}' of query '{q.id}'{did_you_mean(name, q.parameters)}")
            continue
        decl = cat.fields[q.parameters[name][0]]
        item = decl.type.of if decl.type.kind == "list" else decl.type
        try:
            given[name] = converter(type(decl)(decl.name, item, decl.label, decl.instrument, None, None, None,
                                               decl.location))(value)
        except Bad as exc:
            problems.append(f"parameter '{name}': {exc}")
    if problems:
        raise InputError(problems)
    matches = []
    for entry in cat.entries:
        unsure, keep = [], True
        for name, value in given.items():
            certain, maybe = _matches(entry, q.parameters[name], value)
            if not certain:
                if maybe:
                    unsure.append(name)
                else:
                    keep = False
                    break
        if keep:
            matches.append(Match(entry, unsure))
    return QueryResult(policies, q, given, matches)
