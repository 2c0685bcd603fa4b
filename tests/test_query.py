"""Queries over cited catalogues, with uncertain values flagged rather than guessed."""
import pytest

import policyengine
from policyengine.cli import main
from helpers import write_policies

PLAN = """\
catalogues:
  plan:
    citation: "Annex 1"
    clause: annex1
    label: {en: Action plan, fr: Plan d'action}
    fields:
      pillar: {type: enum, values: [Demographics, Labour Relations], label: {en: Pillar, fr: Pilier}}
      lead: {type: list, items: text, label: {en: Lead, fr: Responsable}}
      partners: {type: list, items: text, label: {en: Partners, fr: Partenaires}}
      years: {type: list, values: ["2007/2008", "2008/2009", Long Term], label: {en: Years, fr: Années}}
    entries:
      - id: a1
        citation: "Annex 1, Demographics, activity 1"
        clause: annex1.demographics.1
        text: Update IT Community demographics
        label: {en: Update IT demographics, fr: Mettre à jour les données démographiques TI}
        pillar: Demographics
        lead: [ORO]
        partners: [CPSA]
        years: ["2007/2008"]
        uncertain: {years: ["2008/2009"], note: second mark's column cannot be read}
      - id: a2
        citation: "Annex 1, Labour Relations, activity 1"
        clause: annex1.labour.1
        text: Consult unions
        label: {en: Consult, fr: Consulter}
        pillar: Labour Relations
        lead: [Communities]
        partners: []
        years: [Long Term]
queries:
  activities:
    catalogue: plan
    label: {en: Activities, fr: Activités}
    parameters:
      actor: {fields: [lead, partners]}
      fiscal_year: {fields: [years]}
      pillar: {fields: [pillar]}
"""


@pytest.fixture
def policies(tmp_path):
    return policyengine.load(write_policies(tmp_path, PLAN))


def test_query_filters_by_any_field_of_a_parameter(policies):
    assert [m.entry.id for m in policies.query("demo.activities", actor="CPSA").matches] == ["demo.plan.a1"]
    assert [m.entry.id for m in policies.query("demo.activities", actor="Communities").matches] == ["demo.plan.a2"]
    assert len(policies.query("demo.activities").matches) == 2


def test_uncertain_match_is_flagged_not_dropped(policies):
    r = policies.query("demo.activities", fiscal_year="2008/2009")
    [m] = r.matches
    assert m.uncertain == ["fiscal_year"]
    d = r.to_dict()
    assert d["uncertain_count"] == 1
    assert d["entries"][0]["uncertain"] == {"values": {"years": ["2008/2009"]}, "note": "second mark's column cannot be read"}
    assert "matches only through an uncertain value: fiscal_year" in r.explain("en")
    assert "correspond seulement par une valeur incertaine" in r.explain("fr")
    certain = policies.query("demo.activities", fiscal_year="2007/2008").matches
    assert [m.uncertain for m in certain] == [[]]


def test_bad_parameters(policies):
    with pytest.raises(policyengine.InputError, match="unknown parameter 'actr'.*did you mean 'actor'"):
        policies.query("demo.activities", actr="ORO")
    with pytest.raises(policyengine.InputError, match="'2010/2011' is not one of"):
        policies.query("demo.activities", fiscal_year="2010/2011")
    with pytest.raises(policyengine.NotInForceError):
        policies.query("demo.activities", as_of="2013-01-01")


def test_entry_fields_are_checked_at_load(tmp_path):
    bad = PLAN.replace("pillar: Labour Relations\n", "pillar: Labor Relations\n").replace("        partners: []\n", "        partner: []\n")
    with pytest.raises(policyengine.PolicyError) as info:
        policyengine.load(write_policies(tmp_path, bad))
    text = str(info.value)
    assert "field 'pillar': 'Labor Relations' is not one of Demographics, Labour Relations" in text
    assert "'partner' is not a field of catalogue 'demo.plan' (did you mean 'partners'?)" in text


def test_query_command(tmp_path, capsys):
    root = write_policies(tmp_path, PLAN)
    assert main(["query", "demo.activities", "--where", "actor=ORO", "--policies", str(root), "--format", "text"]) == 0
    assert "Update IT demographics [Annex 1, Demographics, activity 1]" in capsys.readouterr().out
