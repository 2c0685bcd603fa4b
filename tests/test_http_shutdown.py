"""`policyengine serve` as a real process: SIGTERM in the middle of a stream of logged
decisions loses no acknowledged record (every 200 with a log_id is in the log, and the log
verifies), and the server exits 0; SIGHUP reloads the policies while it keeps serving, and a
broken folder is refused with the old policies kept."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from policyengine.audit.log import DecisionLog  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / "policies"
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("policyengine")  # the console script, policyengine.cli:run
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "policyengine.cli.main"]


class Server:
    def __init__(self, tmp_path: Path, policies: Path, log: Path | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = tmp_path / "server.out"
        self.out = open(self.out_path, "w", encoding="utf-8")
        args = _command() + ["serve", "--policies", str(policies), "--port", str(self.port)]
        if log is not None:
            args += ["--log", str(log)]
        env = {k: v for k, v in os.environ.items() if k != "POLICYENGINE_API_KEYS"}
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, env=env)
        self.wait_for(lambda: self._healthy(), "the server to answer /healthz")

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited {self.proc.returncode}:\n{self.output()}")
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        if not self.out.closed:
            self.out.flush()
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, ok, what: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ok():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=40)
        finally:
            self.out.close()

    def kill(self) -> None:  # only the process this test started, by its id
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if not self.out.closed:
            self.out.close()


@pytest.fixture
def started(tmp_path):
    servers = []

    def start(policies=ROOT, log=None):
        servers.append(Server(tmp_path, policies, log))
        return servers[-1]

    yield start
    for s in servers:
        s.kill()


def test_sigterm_mid_stream_loses_no_acknowledged_record(tmp_path, started):
    log = tmp_path / "decisions.sqlite"
    server = started(log=log)
    assert "no API keys: serving loopback only" in server.output()
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()
    sent_after_term = [0]
    term_sent = threading.Event()

    errors = []

    def stream(worker: int):
        try:
            send(worker)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            errors.append(repr(exc))

    def send(worker: int):
        with httpx.Client(base_url=server.url, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                facts = {"level": f"PL-0{1 + n % 5}", "step": 1 + n % 3, "subject_id": f"W{worker}-{n}"}
                try:
                    r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                                    json={"facts": {k: v for k, v in facts.items() if k != "subject_id"},
                                          "as_of": "2009-06-01", "subject_id": facts["subject_id"]},
                                    headers={"X-Request-ID": f"w{worker}-{n}"})
                except httpx.HTTPError:
                    if term_sent.is_set():
                        return  # the server stopped taking requests: nothing was acknowledged
                    raise
                if r.status_code == 200 and r.json().get("log_id"):
                    with lock:
                        acknowledged.append((r.json()["log_id"], f"w{worker}-{n}", r.json()["value"]))
                        if term_sent.is_set():
                            sent_after_term[0] += 1
                else:
                    raise AssertionError(f"{r.status_code}: {r.text}")

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    server.wait_for(lambda: len(acknowledged) >= 40, "40 acknowledged decisions")
    term_sent.set()
    server.proc.send_signal(signal.SIGTERM)
    code = server.stop()
    stop.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()

    assert not errors, errors
    assert code == 0, server.output()
    assert "Shutting down" in server.output()
    with DecisionLog(log) as dl:
        for log_id, request_id, value in acknowledged:
            record = dl.get(log_id)  # raises if an acknowledged record were lost
            assert (record["request_id"], record["value"]) == (request_id, value)
        verified = dl.verify()
        assert verified.ok, verified
        assert verified.checked >= len(acknowledged)


def test_sighup_reloads_while_serving(tmp_path, started):
    root = tmp_path / "policies"
    shutil.copytree(ROOT, root)
    server = started(policies=root)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = client.get("/readyz").json()["policy_hash"]
        questionnaires = root / "etm" / "questionnaires.yaml"
        questionnaires.write_text(questionnaires.read_text(encoding="utf-8") + "\n# amended\n", encoding="utf-8")
        server.proc.send_signal(signal.SIGHUP)
        server.wait_for(lambda: "policies reloaded" in server.output(), "'policies reloaded'")
        after = client.get("/readyz").json()["policy_hash"]
        assert after != before and f"policies reloaded: {after}" in server.output()
        r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                        json={"facts": {"level": "PL-03", "step": 1}, "as_of": "2009-06-01"})
        assert r.status_code == 200 and r.headers["x-policy-hash"] == after

        pay = root / "ldp" / "pay.yaml"
        pay.write_text(pay.read_text(encoding="utf-8") + "\nrules: [unclosed\n", encoding="utf-8")
        server.proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)  # (two signals sent at once may arrive as one)
        server.proc.send_signal(signal.SIGHUP)  # the second during the first reload: no deadlock, both refused
        server.wait_for(lambda: server.output().count("reload refused, old policies kept") >= 2, "the refusals")
        assert "pay.yaml" in server.output()
        r = client.post("/v1/decisions/ldp.pay.annual_rate:evaluate",
                        json={"facts": {"level": "PL-03", "step": 1}, "as_of": "2009-06-01"})
        assert r.status_code == 200 and r.headers["x-policy-hash"] == after
    assert server.stop() == 0
