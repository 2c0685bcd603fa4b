"""What an installed package needs ships inside it: the JSON Schemas (read through
importlib.resources, so a wheel validates as an editable install does), and the pytest
plugin that collects YAML decision tests (the `pytest11` entry point).  The top-level
schemas/ folder is the editors' copy (policy files point their language server at it)."""
import json
from importlib import metadata, resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_editors_schemas_are_the_packaged_ones():
    packaged = {p.name: p.read_text(encoding="utf-8") for p in (resources.files("policyengine") / "schemas").iterdir()
                if p.name.endswith(".json")}
    editors = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "schemas").glob("*.json")}
    assert packaged == editors and set(packaged) == {"policy.schema.json", "test.schema.json",
                                                     "pl06_performance_pay_report.schema.json"}
    for text in packaged.values():
        json.loads(text)


def test_the_yaml_test_plugin_is_registered():
    plugins = {e.name: e.value for e in metadata.entry_points(group="pytest11")}
    assert plugins.get("policyengine") == "policyengine.tools.pytest_plugin"
    assert not (ROOT / "conftest.py").exists()  # collection comes from the installed plugin, not the checkout
