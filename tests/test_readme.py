"""The README renders as it reads: every table, rendered by a CommonMark + GFM-tables
renderer, has every row its source has (a blank line inside a table once turned its last
rows into a paragraph of pipes)."""
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).resolve().parents[1] / "README.md"


def source_tables(text: str) -> list[list[str]]:
    """Runs of consecutive lines starting with '|', outside fenced code."""
    tables, run, fenced = [], [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("|"):
            run.append(line)
            continue
        if run:
            tables.append(run)
            run = []
    if run:
        tables.append(run)
    return tables


def test_every_readme_table_renders_whole():
    text = README.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rendered = []
    rows = None
    for t in tokens:
        if t.type == "table_open":
            rows = 0
        elif t.type == "tr_open" and rows is not None:
            rows += 1
        elif t.type == "table_close":
            rendered.append(rows)
            rows = None
    expected = [len(run) - 1 for run in source_tables(text)]  # every line but the delimiter row
    assert rendered == expected
    assert all(not (t.type == "inline" and t.content.startswith("| `")) for t in tokens), \
        "a table row rendered as a paragraph"
