"""The model cache saves time and nothing else: a hit is the same model, any change to the
files misses, and an entry or folder someone else could have written is ignored."""
import os

import pytest

import policyengine
from policyengine.source import cache
from helpers import write_policies

RULES = """\
rules:
  rate:
    decision: true
    citation: "Appendix B, 12"
    text: t
    label: {en: Rate, fr: Taux}
    value: salary
"""


@pytest.fixture
def cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("POLICYENGINE_CACHE", raising=False)
    return write_policies(tmp_path, RULES), tmp_path / "cache" / "policyengine"


def entries(where):
    return sorted(p.name for p in where.glob("*.model"))


def test_a_second_load_comes_from_the_cache(cached, monkeypatch):
    root, where = cached
    first = policyengine.load(root)
    assert len(entries(where)) == 1
    calls = []
    monkeypatch.setattr("policyengine.source.loader.load_yaml", lambda *a: calls.append(a))
    again = policyengine.load(root)  # no YAML parsed
    assert calls == [] and again.policy_hash == first.policy_hash
    assert again.evaluate("demo.rate", {"salary": 5}, "2010-01-01").value == 5
    assert oct(os.stat(where).st_mode & 0o777) == "0o700"


def test_a_changed_file_misses(cached):
    root, where = cached
    policyengine.load(root)
    (root / "demo" / "rules.yaml").write_text((root / "demo" / "rules.yaml").read_text().replace("Taux", "Taux annuel"))
    assert policyengine.load(root).rules["demo.rate"].label.fr == "Taux annuel"
    assert len(entries(where)) == 2


def test_a_tampered_entry_is_ignored(cached):
    root, where = cached
    policyengine.load(root)
    (entry,) = where.glob("*.model")
    blob = bytearray(entry.read_bytes())
    blob[-5] ^= 0xFF  # the pickle changed, its HMAC not
    entry.write_bytes(bytes(blob))
    assert policyengine.load(root).rules["demo.rate"].label.en == "Rate"  # loaded from the files


def test_a_folder_others_may_write_is_not_trusted(cached):
    root, where = cached
    policyengine.load(root)
    os.chmod(where, 0o777)
    assert cache.get(next(where.glob("*.model")).stem) is None
    os.chmod(where, 0o700)
    assert cache.get(next(where.glob("*.model")).stem) is not None


def test_the_cache_can_be_turned_off(cached, monkeypatch):
    root, where = cached
    monkeypatch.setenv("POLICYENGINE_CACHE", "off")
    policyengine.load(root)
    assert not where.exists() or entries(where) == []


def test_a_broken_folder_is_never_cached(cached):
    root, where = cached
    (root / "demo" / "rules.yaml").write_text("format: policyengine/1\ninstrument: demo\nrules: [")
    with pytest.raises(policyengine.PolicyError):
        policyengine.load(root)
    assert not where.exists() or entries(where) == []


def test_only_the_most_recent_models_are_kept(cached, monkeypatch):
    root, where = cached
    monkeypatch.setattr(cache, "KEEP", 2)
    for n in range(4):
        (root / "demo" / "rules.yaml").write_text((root / "demo" / "rules.yaml").read_text() + f"# {n}\n")
        policyengine.load(root)
    assert len(entries(where)) == 2
