"""`policyengine requirements`: a group's standard as encoded, for a statement of merit criteria."""
import json

from policyengine.cli import main


def test_requirements_text_and_acquired_rights(capsys):
    assert main(["requirements", "AC"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Qualification standard: AC")
    assert "Sixty (60) course credits from the Society of Actuaries" in out
    assert "since <= 1999-10-01" in out  # the AC acquired right, date recovered from a public copy


def test_requirements_show_gaps_in_french(capsys):
    assert main(["requirements", "CT-FIN", "--level", "1", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "ABSENT DU TEXTE SOURCE" in out and "292" in out


def test_no_standard_and_unknown_groups(capsys):
    assert main(["requirements", "GL", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"group": "GL", "no_standard_prescribed": True}
    assert main(["requirements", "XY"]) == 2
    assert "no qualification standard encoded for group 'XY'" in capsys.readouterr().err
