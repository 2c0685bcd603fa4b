"""Every clause's `text` quotes its seed: auditors read it as the source, so it must be.

Each fragment between "[...]" omissions (or [bracketed] insertions) must appear in the
seed word for word and in one piece: spacing, bullets, letter case and punctuation aside
(encoders join a heading and its line with a full stop, which the scraped text lays out
as separate lines). Skipping seed material without marking "[...]" fails. Text recovered from other public copies of a page (see
shared/research/qs-gaps.md) is exempt when the clause's note says so.
"""
import re
from pathlib import Path

import pytest

import policyengine
from policyengine.tools import inventory

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
INSTRUMENTS = {"ldp": "004_97dea53b88530bd6.txt", "qs": "003_0ba08fb8089ac98d.txt",
               "cap": "000_9e487fc287e76d42.txt", "etm": "002_2d64b864a6f8d3d6.txt"}


def norm(text: str) -> str:
    """The words of a text, lower case, without punctuation: what must match the seed."""
    text = text.replace("’", "'").replace("‘", "'").lower()
    return re.sub(r"\s+", " ", re.sub(r"[^\w%$'\[\].…]+", " ", text)).strip()


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.mark.parametrize("instrument", sorted(INSTRUMENTS))
def test_clause_texts_quote_the_seed(policies, instrument):
    seed_file = SEEDS / INSTRUMENTS[instrument]
    if not seed_file.exists():
        pytest.skip("the seeds are not beside this checkout")
    seed = re.sub(r"\s+", " ", re.sub(r"[.\[\]]", " ", norm(seed_file.read_text(encoding="utf-8"))))
    wrong = []
    for c in inventory.clauses_of(policies, instrument):
        if "recovered" in (c.note or "").lower() or "recovered" in (c.text or "").lower():
            continue
        # "[...]" marks an omission and any other [bracketed text] is an editor's insertion
        sentences = re.split(r"\[[^\]]*\]|\.\.\.|…", c.text or "")
        pieces = [norm(x) for x in sentences]
        for piece in (re.sub(r"[.\[\]]", " ", p) for p in pieces):
            piece = re.sub(r"\s+", " ", piece).strip()
            if len(piece) > 15 and piece not in seed:
                wrong.append(f"{c.id} ({c.location}): {piece[:80]!r}")
                break
    assert wrong == []
