"""Builds small policy folders for tests of load errors."""
import textwrap
from pathlib import Path

INSTRUMENT = """\
format: policyengine/1
instrument:
  id: demo
  kind: directive
  title: {en: Demo, fr: Démo}
  source: {seed: none.txt}
  in_force: {from: 2006-04-02, rescinded: 2012-04-03}
facts:
  level:
    type: enum
    values: [PL-01, PL-02]
    label: {en: Level, fr: Niveau}
  salary:
    type: money
    label: {en: Salary, fr: Salaire}
"""


def write_policies(tmp_path: Path, rules_yaml: str, instrument: str = INSTRUMENT) -> Path:
    root = tmp_path / "policies"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "instrument.yaml").write_text(instrument)
    (root / "demo" / "rules.yaml").write_text("format: policyengine/1\ninstrument: demo\n" + textwrap.dedent(rules_yaml))
    return root
