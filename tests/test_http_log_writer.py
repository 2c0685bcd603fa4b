"""A logged server's answers with the decision log in a writer process of its own: the body is
the decision with its log_id (the same bytes as before), and a writer process that dies under
a request is a 503, never an acknowledgement, the next request starting another."""
import asyncio
import os
import signal
import threading
from pathlib import Path

import pytest

import policyengine
import policyengine.http
from policyengine.audit.log import DecisionLog

httpx = pytest.importorskip("httpx")
orjson = pytest.importorskip("orjson")

ROOT = Path(__file__).resolve().parents[1] / "policies"
PATH = "/v1/decisions/ldp.pay.annual_rate:evaluate"
PL03 = {"facts": {"level": "PL-03", "step": 2}, "as_of": "2008-06-01", "trace": "audit"}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(ROOT)


def test_a_logged_answer_is_the_decision_with_its_log_id(policies, tmp_path):
    api = policyengine.http.app(policies, log=str(tmp_path / "d.sqlite"))

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
            return await asyncio.gather(*(c.post(PATH, json={**PL03, "subject_id": f"E{i}"}) for i in range(8)))
    answers = asyncio.run(main())
    api.state.engine.writer.close()
    expected = policies.evaluate("ldp.pay.annual_rate", PL03["facts"], PL03["as_of"], trace="audit").to_dict()
    with DecisionLog(tmp_path / "d.sqlite") as log:
        for i, r in enumerate(answers):
            assert r.status_code == 200 and r.headers["content-type"] == "application/json"
            rid = r.json()["log_id"]
            assert r.headers["location"] == f"/v1/log/{rid}"
            assert r.content == orjson.dumps({**expected, "log_id": rid})  # as DecisionJSON renders it
            assert {k: v for k, v in log.get(rid).items() if k in expected} == expected
            assert log.get(rid)["subject"] == f"E{i}"
        assert log.verify().ok and log.head()[0] == 8


def test_a_dead_writer_process_is_a_503_and_the_next_request_is_logged(policies, tmp_path):
    target = tmp_path / "d.sqlite"
    api = policyengine.http.app(policies, log=str(target))
    writer = api.state.engine.writer
    entered, release = threading.Event(), threading.Event()

    def hold():  # the log's lock, held elsewhere: the writer process waits with the request's record
        with DecisionLog(target) as log:
            log._write(lambda tx: (entered.set(), release.wait(30)))

    async def main():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
            first = await c.post(PATH, json=PL03)
            holder = threading.Thread(target=hold, daemon=True)
            holder.start()
            assert entered.wait(30)
            pending = asyncio.ensure_future(c.post(PATH, json=PL03))
            while not writer._link.waiting:
                await asyncio.sleep(0.01)
            os.kill(writer._link.proc.pid, signal.SIGKILL)  # only the process this test started
            lost = await pending
            release.set()
            holder.join(30)
            return first, lost, await c.post(PATH, json=PL03)
    first, lost, after = asyncio.run(main())
    writer.close()
    assert first.status_code == 200 and after.status_code == 200
    assert lost.status_code == 503 and lost.headers["content-type"] == "application/problem+json"
    assert lost.json()["type"].endswith("log-unavailable") and "writer process stopped" in lost.json()["detail"]
    assert "log_id" not in lost.json()
    with DecisionLog(target) as log:
        assert log.verify().ok and log.head()[0] == 2
        assert [log.get(r.json()["log_id"])["seq"] for r in (first, after)] == [1, 2]
