"""Logging decisions, and the log commands: list, show, verify, replay."""
import json
import sqlite3

import pytest

import policyengine
from policyengine import audit
from policyengine.cli import main

FACTS = {"subject_id": "E123", "level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}


@pytest.fixture
def logged(tmp_path, monkeypatch):
    path = tmp_path / "log.sqlite"
    monkeypatch.setenv("POLICYENGINE_LOG", str(path))
    p = policyengine.load("policies")
    a = p.evaluate("ldp.performance_pay", FACTS, as_of="2009-04-01", log=path)
    b = p.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01", log=path)
    return path, a, b


def test_evaluate_with_log_records_subject_and_policy(logged):
    path, a, b = logged
    with audit.DecisionLog(path) as dl:
        rec = dl.get(a.log_id)
        assert rec["subject"] == "E123" and "subject_id" not in rec["facts"]
        assert rec["value"]["new_salary"] == "93500" and rec["policy_hash"] == a.policy_hash
        assert "ldp/performance_pay.yaml" in dl.policy_files(rec["policy_hash"])
        assert [r["id"] for r in dl.list(clause="ldp.B.10.7.12")] == [a.log_id]


def test_replay_under_logged_policies_is_identical(logged):
    path, a, _ = logged
    assert audit.replay(path, a.log_id).same


def test_replay_current_shows_what_a_policy_change_changes(logged, tmp_path):
    import shutil
    path, a, _ = logged
    changed = tmp_path / "policies"
    shutil.copytree("policies", changed)
    pay = changed / "ldp" / "performance_pay.yaml"
    pay.write_text(pay.read_text().replace("to=100)", "to=1000)"))  # hypothetical amendment: nearest $1,000
    r = audit.replay(path, a.log_id, current=policyengine.load(changed))
    # 93,450 rounds to 93,000 at the nearest $1,000 instead of 93,500 at the nearest $100
    assert not r.same and any(d.startswith("value:") and "'93000'" in d for d in r.differences)


def test_log_commands(logged, capsys):
    path, a, _ = logged
    assert main(["log", "list", "--subject", "E123"]) == 0
    out = capsys.readouterr().out
    assert a.log_id[:12] in out and "1 record(s)" in out
    assert main(["log", "show", a.log_id[:8], "--format", "json", "--view", "public"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == a.log_id and shown["facts"]["rating"] == "[withheld]" and "subject" in shown
    assert main(["log", "show", a.log_id, "--format", "html", "--lang", "fr"]) == 0
    assert '<html lang="fr">' in capsys.readouterr().out
    assert main(["log", "verify"]) == 0
    assert "ok: 2 records verified" in capsys.readouterr().out
    assert main(["log", "replay", a.log_id]) == 0
    assert "same decision" in capsys.readouterr().out


def test_verify_finds_an_altered_record(logged, capsys):
    path, a, _ = logged
    db = sqlite3.connect(path)
    for (name,) in db.execute("select name from sqlite_master where type='trigger'").fetchall():
        db.execute(f"drop trigger {name}")
    db.execute("update records set body = replace(body, '93500', '99999') where seq = 1")
    db.commit()
    db.close()
    assert main(["log", "verify"]) == 1
    out = capsys.readouterr().out
    assert "record 1" in out and "altered" in out


def test_not_a_log_is_a_clear_error(tmp_path, capsys):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    assert main(["log", "list", "--log", str(bogus)]) == 2
    assert "not a policyengine decision log" in capsys.readouterr().err
    assert bogus.read_text() == "hello"
