"""Batch files: CSV, JSON lines and Parquet in, the same out, chunk by chunk.

Input and output formats follow the file's extension.  Files are read in chunks, so a file
larger than memory is decided with memory bounded by the chunk size.  A CSV cell is read
as a `--fact NAME=VALUE` value is (JSON when it parses as JSON, else the text itself, for
the fact's converter to read); an empty cell is a fact not given.  JSON lines are read
with exact decimals; a line that is not a JSON object is an error on its row.
"""
from __future__ import annotations

import csv

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def file_format(path: str, role: str) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError([f"{role} {path}: unknown format; name it .csv, .jsonl or .parquet"])
    return fmt


def _json_int(text: str):
    return int(text) if len(text) < 40 and text != "-0" else Decimal(text)


def cell_value(text):
    """A CSV cell as a fact value: JSON if it parses (numbers exact), else the text."""
    if text is None or text == "":
        return None
    try:
        return json.loads(text, parse_float=Decimal, parse_int=_json_int)
    except (ValueError, RecursionError):
        return text


def read_chunks(path: str, chunk_rows: int):
    """Yield (columns, {row index in chunk: [(None, problem)]}) chunk by chunk."""
    fmt = file_format(path, "--in")
    p = Path(path)
    if not p.is_file():
        raise InputError([f"--in {path}: no such file"])
    if fmt == "parquet":
        import pyarrow.parquet as pq
        try:
            f = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError([f"--in {path}: not a readable Parquet file ({exc})"]) from None
        for b in f.iter_batches(batch_size=chunk_rows):
            yield pa.Table.from_batches([b]), {}
    elif fmt == "csv":
        yield from _csv_chunks(p, chunk_rows)
    else:
        yield from _jsonl_chunks(p, chunk_rows)


def _csv_chunks(p: Path, chunk_rows: int):
    with p.open("r", encoding="utf-8-sig", newline="", errors="strict") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise InputError([f"--in {p}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
        names = [h.strip() for h in header]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputError([f"--in {p}:1: column(s) named twice: {', '.join(dupes)}"])
        rows, errors, line = [], {}, 1
        try:
            for rec in reader:
                line += 1
                if len(rec) != len(names):
                    errors[len(rows)] = [(None, f"line {line}: {len(rec)} cells where the header has {len(names)}")]
                    rec = [""] * len(names)
                rows.append(rec)
                if len(rows) == chunk_rows:
                    yield _csv_columns(names, rows), errors
                    rows, errors = [], {}
        except UnicodeDecodeError as exc:
            raise InputError([f"--in {p}: line {line + 1}: not UTF-8 text ({exc.reason})"]) from None
        except csv.Error as exc:
            raise InputError([f"--in {p}: line {line + 1}: {exc}"]) from None
        if rows:
            yield _csv_columns(names, rows), errors


def _csv_columns(names, rows) -> dict:
    """Columns of parsed cells, each distinct cell text parsed once."""
    out = {}
    for i, name in enumerate(names):
        parsed: dict = {}
        col = []
        for r in rows:
            t = r[i]
            v = parsed.get(t, parsed)
            if v is parsed:
                v = parsed[t] = cell_value(t)
            col.append(v)
        out[name] = col
    return out


def _jsonl_chunks(p: Path, chunk_rows: int):
    with p.open("rb") as f:
        rows, errors, line = [], {}, 0
        for raw in f:
            line += 1
            if not raw.strip():
                continue
            try:
                v = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_int=_json_int)
                if not isinstance(v, dict):
                    raise ValueError("expected a JSON object of fact names to values")
            except UnicodeDecodeError as exc:
                v, errors[len(rows)] = {}, [(None, f"line {line}: not UTF-8 text ({exc.reason})")]
            except (ValueError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or "nested too deeply"
                v, errors[len(rows)] = {}, [(None, f"line {line}: {msg}")]
            rows.append(v)
            if len(rows) == chunk_rows:
                yield rows, errors
                rows, errors = [], {}
        if rows:
            yield rows, errors


class Writer:
    """Writes result chunks to a CSV, JSON lines or Parquet file, in input order."""

    def __init__(self, path: str):
        self.path, self.fmt = path, file_format(path, "--out")
        self._pq = None
        self._f = None

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq
            table = _plain_nested(table)
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema)
            elif not table.schema.equals(self._pq.schema, check_metadata=False):
                try:
                    table = table.cast(self._pq.schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise InputError([f"--out {self.path}: a later chunk's values do not fit the first chunk's "
                                      f"columns ({exc}); write CSV or JSON lines instead"]) from None
            self._pq.write_table(table)
            return
        if self._f is None:
            self._f = open(self.path, "w", encoding="utf-8", newline="")
            if self.fmt == "csv":
                self._csv = csv.writer(self._f)
                self._csv.writerow(table.column_names)
        if self.fmt == "csv":
            self._csv.writerows(_csv_rows(table))
        else:
            self._f.writelines(_jsonl_lines(table))

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._f is not None:
            self._f.close()


def _json_default(v):
    if isinstance(v, Decimal):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _plain_nested(table: pa.Table) -> pa.Table:
    """Dictionary columns of lists as plain lists: Parquet cannot write nested dictionaries."""
    for i, name in enumerate(table.column_names):
        col = table.column(name)
        if pa.types.is_dictionary(col.type) and pa.types.is_nested(col.type.value_type):
            plain = pa.chunked_array([c.dictionary.take(c.indices) for c in col.chunks], type=col.type.value_type)
            table = table.set_column(i, name, plain)
    return table


def _text_of(values: pa.Array, name: str) -> list:
    """Each value of a column as CSV text."""
    if pa.types.is_list(values.type) and pa.types.is_string(values.type.value_type):
        return pc.binary_join(values, ";").to_pylist()
    if name == "errors":
        return [" | ".join(p["problem"] for p in e) if e else "" for e in values.to_pylist()]
    return ["" if v is None else ("true" if v is True else "false" if v is False else str(v))
            for v in values.to_pylist()]


def _json_texts(col, name: str) -> list:
    """Each value of a column as JSON text; a dictionary column's distinct values encoded once
    and gathered (a row's lists of clauses and messages are a few distinct values, made into
    Python objects row by row they were most of the time spent writing)."""
    def encode(values):
        return [json.dumps(v, default=_json_default, ensure_ascii=False) for v in values]
    if pa.types.is_dictionary(col.type):
        texts = encode(col.dictionary.to_pylist())
        return ["null" if i is None else texts[i] for i in col.indices.to_pylist()]
    if pa.types.is_integer(col.type) and not col.null_count:
        return [str(v) for v in col.to_pylist()]
    if pa.types.is_decimal(col.type):  # a money column: Arrow's text of each, as str(Decimal) gives it
        return ["null" if v is None else f'"{v}"' for v in pc.cast(col, pa.string()).to_pylist()]
    return encode(col.to_pylist())


def _jsonl_lines(table: pa.Table):
    """The rows as JSON lines, the text json.dumps gives each row's dict (same separators)."""
    names = [json.dumps(n, ensure_ascii=False).replace("{", "{{").replace("}", "}}") for n in table.column_names]
    template = "{{" + ", ".join(f"{n}: {{}}" for n in names) + "}}\n"
    cols = [_json_texts(table.column(name).combine_chunks(), name) for name in table.column_names]
    return (template.format(*vals) for vals in zip(*cols))


def _csv_rows(table: pa.Table):
    """Rows of text: lists joined with ';', errors' problems joined with ' | '.  A dictionary
    column's distinct values are written once and gathered."""
    cols = []
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        if pa.types.is_dictionary(col.type):
            texts = _text_of(col.dictionary, name)
            cols.append(["" if i is None else texts[i] for i in col.indices.to_pylist()])
        else:
            cols.append(_text_of(col, name))
    return zip(*cols)



