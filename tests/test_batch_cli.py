"""`policyengine batch` over files, and evaluate_batch across a Dask LocalCluster."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

import policyengine  # noqa: E402
from policyengine.batch.engine import metadata  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASES = "subject_id,level,step,day\ne1,PL-03,2,2008-06-01\ne2,PL-06,1,2008-06-01\ne3,PL-9,1,2009-05-01\n" \
        "e4,,2,2010-05-01\ne5,PL-05,3,2010-05-01\n"


def _batch(*args, cwd):
    return subprocess.run([sys.executable, "-c", "from policyengine.cli import run; run()", "batch", *args, "--policies",
                           str(ROOT / "policies")], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(ROOT / "policies")


def test_csv_in_csv_out_keeps_order_and_lists_bad_rows(tmp_path):
    (tmp_path / "in.csv").write_text(CASES)
    r = _batch("ldp.pay.annual_rate", "--in", "in.csv", "--out", "out.csv", "--as-of-column", "day", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [x["row"] for x in rows] == ["1", "2", "3", "4", "5"]
    assert [x["subject_id"] for x in rows] == ["e1", "e2", "e3", "e4", "e5"]
    assert [x["status"] for x in rows] == ["decided", "refused", "error", "undetermined", "decided"]
    # Appendix B, 12: PL-03 step 2 in rates B (2008-04-02); PL-05 step 3 in rates D (2010-04-02)
    assert Decimal(rows[0]["value"]) == 64497 and Decimal(rows[4]["value"]) == 86513
    assert rows[0]["clauses"] == "ldp.B.12" and rows[3]["missing"] == "level"
    assert "'PL-9' is not one of" in rows[2]["errors"]
    assert "5 rows: 2 decided, 1 undetermined, 1 refused" in r.stderr and "rows/s" in r.stderr


def test_jsonl_and_parquet_in_small_chunks(tmp_path):
    lines = [json.dumps({"level": "PL-0" + str(1 + i % 5), "step": 1 + i % 3}) for i in range(25)]
    lines.insert(7, "{not json")
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    r = _batch("ldp.pay.annual_rate", "--in", "in.jsonl", "--out", "out.parquet", "--as-of", "2008-06-01",
               "--chunk-size", "4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    t = pq.read_table(tmp_path / "out.parquet")
    assert t.num_rows == 26 and t.column("row").to_pylist() == list(range(1, 27))
    assert t.column("status").to_pylist()[7] == "error"
    assert "line 8" in t.column("errors").to_pylist()[7][0]["problem"]
    assert t.column("value").to_pylist()[0] == Decimal("50661")  # PL-01 step 1, rates B
    # the Parquet result read back as input to another batch (typed columns)
    pq.write_table(pa.table({"level": ["PL-02"], "step": [3]}), tmp_path / "typed.parquet")
    r = _batch("ldp.pay.annual_rate", "--in", "typed.parquet", "--out", "typed.jsonl", "--as-of", "2008-06-01",
               cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "typed.jsonl").read_text())["value"] == "59601.00"


def test_log_one_record_per_row(tmp_path):
    (tmp_path / "in.csv").write_text(CASES)
    r = _batch("ldp.pay.annual_rate", "--in", "in.csv", "--out", "out.csv", "--as-of-column", "day",
               "--log", str(tmp_path / "log.db"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    from policyengine.audit.log import DecisionLog
    log = DecisionLog.open(str(tmp_path / "log.db"))
    try:
        check = log.verify()
        assert check.ok and check.checked == 4
        records = log.list()
    finally:
        log.close()
    assert len(records) == 4  # the row with a bad level is listed in the output, not logged
    assert sorted(r.get("subject") for r in records) == ["e1", "e2", "e4", "e5"]


def test_bad_command_lines_are_clear(tmp_path):
    (tmp_path / "in.csv").write_text(CASES)
    r = _batch("ldp.pay.anual_rate", "--in", "in.csv", "--out", "o.csv", "--as-of", "2008-06-01", cwd=tmp_path)
    assert r.returncode == 2 and "did you mean 'ldp.pay.annual_rate'" in r.stderr and "Traceback" not in r.stderr
    r = _batch("ldp.pay.annual_rate", "--in", "in.txt", "--out", "o.csv", "--as-of", "2008-06-01", cwd=tmp_path)
    assert r.returncode == 2 and "unknown format" in r.stderr
    (tmp_path / "latin.csv").write_bytes("level,step\nPL-03,\xe9\n".encode("latin-1"))
    r = _batch("ldp.pay.annual_rate", "--in", "latin.csv", "--out", "o.csv", "--as-of", "2008-06-01", cwd=tmp_path)
    assert r.returncode == 2 and "not UTF-8" in r.stderr and "Traceback" not in r.stderr


def test_dask_local_cluster_of_two_equals_one_process(policies):
    distributed = pytest.importorskip("dask.distributed")
    rows = [{"level": f"PL-0{1 + i % 6}", "step": 1 + i % 3, "day": ["2007-05-01", "2009-05-01"][i % 2]}
            for i in range(400)]
    rows[13]["step"] = "x"
    one = policies.evaluate_batch("ldp.pay.annual_rate", rows, as_of_column="day")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        two = policies.evaluate_batch("ldp.pay.annual_rate", rows, as_of_column="day", scheduler=client)
        again = policies.evaluate_batch("ldp.pay.annual_rate", rows, as_of_column="day", scheduler=client)
    assert metadata(two)["parts"] == 2
    assert again.to_pylist() == one.to_pylist()  # a second call on the same client (the policies re-sent)
    assert two.to_pylist() == one.to_pylist()


def test_jsonl_out_is_each_rows_json_with_records_and_bad_rows(tmp_path):
    """The JSON lines writer encodes a dictionary column's values once (batch/io.py): each line
    must still be the row's own json.dumps, records as value.FIELD, money as exact text."""
    from policyengine.batch.io import _json_default
    lines = [{"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5},   # 10.7(12): 93,450 -> 93,500
             {"level": "PL-06", "salary": 97000, "rating": "surpassed", "increase_pct": 6},  # capped at the job rate
             {"level": "PL-06", "salary": "lots", "rating": "met_all", "increase_pct": 5},   # a bad fact: listed
             {"level": "PL-06", "salary": 89050, "rating": "met_most", "increase_pct": 0}]   # a half: up to 89,100
    (tmp_path / "in.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    r = _batch("ldp.performance_pay", "--in", "in.jsonl", "--out", "out.jsonl", "--as-of", "2009-04-01",
               "--chunk-size", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out.jsonl").read_text()
    got = [json.loads(x) for x in text.splitlines()]
    assert [g["row"] for g in got] == [1, 2, 3, 4, 5]
    assert [g["status"] for g in got] == ["decided", "decided", "error", "decided", "error"]
    assert [g["value.new_salary"] for g in got] == ["93500.00", "97703.00", None, "89100.00", None]
    assert got[0]["value.increase"] == "4500.00" and got[1]["value.award_eligible"] is True
    assert "salary" in got[2]["errors"][0]["fact"] and "line 5" in got[4]["errors"][0]["problem"]
    table = policyengine.load(ROOT / "policies").evaluate_batch(
        "ldp.performance_pay", lines[:2] + [{}] + lines[3:], as_of="2009-04-01")
    for want, line in zip(table.to_pylist(), text.splitlines()):
        if want["status"] == "decided":  # the same row's own encoding, byte for byte
            assert line == json.dumps(want, default=_json_default, ensure_ascii=False)
