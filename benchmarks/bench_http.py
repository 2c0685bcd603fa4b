"""A bounded load test of `policyengine serve` on loopback, beside a bare Starlette floor.

    .venv/bin/python benchmarks/bench_http.py                         # 2000 requests at 32, 3 repeats
    .venv/bin/python benchmarks/bench_http.py --requests 1000 --client raw --diagnose --profile 500
    .venv/bin/python benchmarks/bench_http.py --json /tmp/http.json   # also write every figure as JSON
    .venv/bin/python benchmarks/bench_http.py --json                  # JSON on stdout instead of the table
    .venv/bin/python benchmarks/bench_http.py --help

Servers, each its own subprocess on 127.0.0.1 with a free port, all under uvicorn with the same options
(policyengine.http.server.UVICORN: asyncio loop and h11, or whatever this interpreter has, no uvicorn access
line, 30 s graceful shutdown) and the same number of worker processes (`--workers`, default 1):

  floor          a bare Starlette app: one POST endpoint that parses the JSON body and returns
                 a small JSON object; no access log.  Throughput ratios are against this row.
  floor+access   the same app writing one access line per request at INFO (a pure-ASGI
                 middleware and logging), as `policyengine serve` does; a reference row that shows
                 what the logging alone costs.
  serve          `policyengine serve --policies policies --port P --workers N` (run as
                 `python -c "from policyengine.cli import run; run()" serve ...`, what the
                 console script runs, so that the process measured is the server itself)
  serve+log      the same with `--log <tmp>/serve-log.sqlite`

`policyengine serve` configures logging at INFO itself and has no option to change it, so it is
measured as it ships: one `policyengine.http.access` line per request, to a file (each server's
stdout and stderr go to one file in the temporary folder, as they would to a log file or journald).

The requests: for each decision a pool of `--cases` distinct cases (PL level, step and date; QS group,
level, education, specialization, foreign credentials and date; each with its own subject_id), drawn
with a fixed seed and decided in-process first for the value each must get (refused and out-of-force
cases are left out).  The client sends them in turn, so no two requests in a row are alike and no
cached answer could pass the value check.  The floor is sent the ldp bodies.

`--diagnose` adds rows (d:...) for the same app under the same settings (one process) with one thing
changed inside the server process only (nothing in src/ is touched): without the access line; with
every request through FastAPI's dependency solving and pydantic model (the plain path off); with the
json module rendering responses instead of orjson; and serve+log with one transaction per decision
(no group commit).  They are not judged against the targets.

Client (`--client`): `--concurrency` worker coroutines, each with its own connection, in a
closed loop (each sends its next request as soon as its last one is answered); `--warmup`
requests first, then `--requests` timed ones, per row and repeat.

  httpx        one httpx.AsyncClient per worker, pool of one connection each
  httpx-pool   one httpx.AsyncClient shared by all workers, pool limited to --concurrency
               (httpcore's pool does O(connections x queued requests) work per event, so this
               costs the client several times more CPU at 32 in flight)
  raw          (default) keep-alive HTTP/1.1 over asyncio streams, written here: a tenth of httpx's
               CPU per request, so that the floor measures the server rather than the client

Latency is per request, from the send to the full response body.  A request is an error if it
raises, its status is not 2xx, or its `value` is not the expected one (and, on a logged server,
if it has no `log_id`).  Throughput is requests / wall time of the timed batch.  Each repeat runs
every row once, the order rotated per repeat; the table shows the median of the repeats (min-max
of throughput beside it).  The client and the servers share this machine's cores, so the CPU
time per request of the client and of the server (from /proc) are reported as well, and their
"busy" share of a core: when the client is near 1.0 on the floor row, the client, not the server,
bounds the floor, a throughput ratio that passes is then reported INCONCLUSIVE.  The server's
figures are given for all its processes together ("srv") and for the busiest one alone ("top"):
a logged server's decision log is written by a process of its own, beside the one that serves.

At the end each decision log is checked (its head seq must equal the number of decisions its
server acknowledged, and its chain must verify) and each server's output is searched for
tracebacks, ERROR lines and 4xx/5xx access lines; any of these fails the 0-errors target.

`--profile N` then profiles the request path in-process, without HTTP: the ASGI apps are called
directly with a hand-built scope, N sequential requests each; it prints wall and CPU µs per
request for the floor app, the engine alone (evaluate, to_dict, json.dumps) and the app (as
served, with the access line), then cProfile self time by area and
the top functions, from the event loop thread and inside any threadpool call.

Exit status 1 if any request was an error, else 0 (missed targets are reported, not fatal).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import math
import os
import platform
import pstats
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"

CASES = {
    "ldp.pay.annual_rate": ({"facts": {"level": "PL-03", "step": 2}, "as_of": "2008-06-01", "trace": "audit"},
                            "64497"),
    "qs.meets_standard": ({"facts": {"group": "PE", "level": 1, "education": "degree",
                                     "specialization_acceptable": True}, "as_of": "2024-01-01", "trace": "audit"},
                          "met"),
}
FLOOR_DECISION = "ldp.pay.annual_rate"  # the floor is sent this body; it returns {"value": "ok"}

# The floor: defined once, run as a server (FLOOR_SERVER: the module below, imported by uvicorn with the same
# worker count and options as `policyengine serve`) and exec'd in-process for --profile.
FLOOR_APP = '''
import logging
import os
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def evaluate(request):
    body = await request.json()
    return JSONResponse({"decision": request.path_params["decision"], "as_of": body.get("as_of"), "value": "ok"})

async def root(request):
    return JSONResponse({"status": "alive"})

floor = Starlette(routes=[Route("/", root), Route("/v1/decisions/{decision}:evaluate", evaluate, methods=["POST"])])

ACCESS = logging.getLogger("floor.access")

class AccessLine:  # one logging line per request, like policyengine.http.middleware.RequestContext
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        import time
        start, status = time.perf_counter(), [0]

        async def tagged(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
        await self.app(scope, receive, tagged)
        ACCESS.info("%s %s %s %.1fms", scope.get("method"), scope.get("path"), status[0],
                    (time.perf_counter() - start) * 1000)

if os.environ.get("BENCH_FLOOR_ACCESS") == "1":  # set in each worker process, as serve's logging is
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = AccessLine(floor)
else:
    app = floor
'''
FLOOR_SERVER = '''
import os, sys
import uvicorn
from policyengine.http.server import UVICORN
folder, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, folder)
os.environ["PYTHONPATH"] = folder + os.pathsep + os.environ.get("PYTHONPATH", "")  # for spawned workers
uvicorn.run("bench_floor:app", host="127.0.0.1", port=port, workers=workers, **UVICORN)
'''
CLI = "from policyengine.cli import run; run()"  # what the `policyengine` console script runs

# --diagnose: the same app under the same uvicorn settings as `policyengine serve` (server.py: UVICORN, logging,
# gc.freeze), one process, with one thing changed in that process only (nothing in src/ is touched), to see what
# that thing buys.
DIAG_SERVER = '''
import gc, logging, sys
import uvicorn
from policyengine.http import app
from policyengine.http.server import LOG_FORMAT, UVICORN
policies, port, variant, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] or None
logging.basicConfig(level=logging.WARNING if variant == "quiet" else logging.INFO, format=LOG_FORMAT)
if variant == "each":  # one transaction (one commit) per logged decision: no group commit
    import policyengine.audit.group
    policyengine.audit.group.MAX_GROUP = 1
if variant == "json":  # the stdlib json module renders the responses, as JSONResponse does
    import policyengine.http.api
    policyengine.http.api.orjson = None
api = app(policies, log=log)
if variant == "fastapi":  # every request through FastAPI's routing, dependency solving and pydantic model
    for m in api.user_middleware:
        m.kwargs["direct"] = None
gc.freeze()
uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, **UVICORN)).run()
'''
DIAGNOSTICS = {  # name: (variant, logged, what it shows)
    "d:quiet": ("quiet", False, "serve without its access line"),
    "d:fastapi": ("fastapi", False, "serve with every request through FastAPI's dependencies and pydantic model"),
    "d:json": ("json", False, "serve rendering responses with the json module instead of orjson"),
    "d:log-each": ("each", True, "serve+log with one transaction per decision (no group commit)"),
}

# -- the cases: a pool of distinct requests per decision, each with the value it must get -----------------------
POOL = 400  # distinct cases per decision, sent in turn: consecutive requests differ, no answer can be replayed
QS_GROUPS = ("AS", "CR", "EC", "PE", "PM", "IT", "CO", "EN", "FB", "PG", "SO", "ED", "LS", "BI", "PC", "SE")
QS_EDUCATION = ("none", "two_years_secondary", "secondary_school_diploma", "two_years_post_secondary", "degree",
                "masters", "doctorate")


def _day(rng, first: date, last: date) -> str:
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal())).isoformat()


def _random_case(decision: str, rng) -> dict:
    if decision == "ldp.pay.annual_rate":
        facts = {"level": f"PL-0{rng.randint(1, 5)}", "step": rng.randint(1, 3)}
        return {"facts": facts, "as_of": _day(rng, date(2006, 4, 2), date(2012, 4, 2)), "trace": "audit"}
    facts = {"group": rng.choice(QS_GROUPS), "level": rng.randint(1, 4), "education": rng.choice(QS_EDUCATION),
             "specialization_acceptable": rng.random() < 0.7}
    if rng.random() < 0.3:
        facts["foreign_credentials"] = True
        facts["credentials_assessed_comparable"] = rng.random() < 0.5
    return {"facts": facts, "as_of": _day(rng, date(2015, 1, 1), date(2025, 12, 31)), "trace": "audit"}


def case_pool(policies, decision: str, n: int = POOL, seed: int = 14) -> list[tuple[bytes, object]]:
    # n distinct bodies and the value each must get, decided in-process first; cases that are refused (409) or
    # cannot be decided on their date (422) are left out, as they are not the 2xx path the targets are about
    import random
    rng, seen, out = random.Random(f"{seed}:{decision}"), set(), []
    for _ in range(n * 100):
        if len(out) == n:
            break
        req = _random_case(decision, rng)
        key = json.dumps(req, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        try:
            d = policies.evaluate(decision, req["facts"], req["as_of"], trace="audit")
        except Exception:  # noqa: BLE001 - not in force on that day, or facts the decision refuses
            continue
        if d.status != "refused":
            req["subject_id"] = f"bench-{decision}-{len(out)}"
            out.append((json.dumps(req).encode(), d.to_dict()["value"]))
    if len(out) < n:
        raise SystemExit(f"only {len(out)} distinct cases found for {decision}")
    return out


PROBLEM_LINE = re.compile(r"Traceback|\bERROR\b|Exception|HTTP/1\.1\" [45]\d\d| [45]\d\d \d+\.\dms$")

# -- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, tmp: Path, env: dict | None = None):
        self.name, self.port, self.ready_path = name, port, ready_path
        self.out_path = tmp / f"{name.replace(':', '-')}.out"
        self._out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=self._out, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})})  # uvicorn's
        # access lines go to stdout, policyengine's to stderr: both to one file
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}:\n{self.output_tail()}")
            try:
                if httpx.get(self.base + self.ready_path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"{self.name} not ready after {timeout}s:\n{self.output_tail()}")

    def cpu_seconds(self) -> dict[int, float] | None:
        """user+system CPU so far of the server process and of each live descendant (the workers
        of --workers N, the decision log's writer process), pid -> seconds, from Linux /proc, or None."""
        out, todo = {}, [self.proc.pid]
        try:
            while todo:
                pid = todo.pop()
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            return out
        except (OSError, ValueError, IndexError):
            return None

    def output_tail(self, n: int = 20) -> str:
        self._out.flush()
        return "\n".join(self.out_path.read_text(errors="replace").splitlines()[-n:])

    def output_lines(self) -> int:
        self._out.flush()
        with open(self.out_path, "rb") as f:
            return sum(1 for _ in f)

    def problems(self) -> tuple[int, list[str]]:
        """Lines of the server's output that report a failure (a traceback, an ERROR line, or an
        access line with a 4xx/5xx status): how many, and the first few."""
        self._out.flush()
        bad = [line for line in self.out_path.read_text(errors="replace").splitlines() if PROBLEM_LINE.search(line)]
        return len(bad), bad[:5]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: uvicorn drains and exits
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def start_servers(tmp: Path, names: list[str], workers: int) -> tuple[dict[str, Server], dict[str, Path]]:
    py = sys.executable
    logs = {name: tmp / f"{name.replace(':', '-').replace('+', '-')}.sqlite" for name in names
            if name == "serve+log" or (name in DIAGNOSTICS and DIAGNOSTICS[name][1])}
    (tmp / "bench_floor.py").write_text(FLOOR_APP)
    w = str(workers)
    argvs = {"floor": ([py, "-c", FLOOR_SERVER, str(tmp), "{port}", w], "/", {}),
             "floor+access": ([py, "-c", FLOOR_SERVER, str(tmp), "{port}", w], "/", {"BENCH_FLOOR_ACCESS": "1"}),
             "serve": ([py, "-c", CLI, "serve", "--policies", str(POLICIES), "--port", "{port}", "--workers", w],
                       "/healthz", {}),
             "serve+log": ([py, "-c", CLI, "serve", "--policies", str(POLICIES), "--port", "{port}", "--workers", w,
                            "--log", str(logs.get("serve+log"))], "/healthz", {})}
    for name, (variant, logged, _) in DIAGNOSTICS.items():
        argvs[name] = ([py, "-c", DIAG_SERVER, str(POLICIES), "{port}", variant,
                        str(logs.get(name, "")) if logged else ""], "/healthz", {})
    servers: dict[str, Server] = {}
    try:
        for name in names:
            argv, ready, env = argvs[name]
            port = free_port()
            servers[name] = Server(name, [a.replace("{port}", str(port)) for a in argv], port, ready, tmp, env)
        for s in servers.values():
            s.wait_ready()
    except BaseException:
        for s in servers.values():
            s.stop()
        raise
    return servers, logs


# -- client --------------------------------------------------------------------------------------
HEADERS = {"content-type": "application/json"}


class RawSlot:
    """One keep-alive HTTP/1.1 connection over asyncio streams: the lightest async client, so
    that the floor measures the server rather than the client."""

    def __init__(self, host: str, port: int):
        self.host, self.port, self.streams = host, port, None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(b"POST %s HTTP/1.1\r\nhost: %s:%d\r\ncontent-type: application/json\r\n"
                         b"content-length: %d\r\n\r\n%s" % (path.encode(), self.host.encode(), self.port,
                                                              len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            status = int(lines[0].split()[1])
            fields = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
            fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
            if b"content-length" not in fields:
                raise ValueError("response without content-length")
            data = await reader.readexactly(int(fields[b"content-length"]))
            if fields.get(b"connection", b"").lower() == b"close":
                await self.aclose()
            return status, data
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self):
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            try:
                await writer.wait_closed()
            except (OSError, ConnectionError):
                pass


class HttpxSlot:
    """One in-flight request slot on an httpx.AsyncClient (its own, or one shared by all)."""

    def __init__(self, base: str, client, owned: bool):
        self.base, self.client, self.owned = base, client, owned

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        r = await self.client.post(self.base + path, content=body, headers=HEADERS)
        return r.status_code, r.content

    async def aclose(self):
        if self.owned:
            await self.client.aclose()


def open_slots(kind: str, server: "Server", concurrency: int) -> list:
    """`concurrency` request slots, never more connections than that."""
    if kind == "raw":
        return [RawSlot("127.0.0.1", server.port) for _ in range(concurrency)]
    import httpx
    timeout = httpx.Timeout(60.0)
    if kind == "httpx-pool":  # one client, one pool of `concurrency` connections
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=concurrency,
                                                       max_keepalive_connections=concurrency), timeout=timeout)
        return [HttpxSlot(server.base, client, owned=i == 0) for i in range(concurrency)]
    # "httpx": a client of one connection per slot (httpcore's pool costs O(connections x queued) per event)
    return [HttpxSlot(server.base, httpx.AsyncClient(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                                                     timeout=timeout), owned=True) for _ in range(concurrency)]


def _problem(status: int, raw: bytes, expect: str, need_log_id: bool) -> str | None:
    if not 200 <= status < 300:
        return f"HTTP {status}"
    try:
        out = json.loads(raw)
    except ValueError:
        return "response is not JSON"
    if out.get("value") != expect:
        return f"value {out.get('value')!r} (expected {expect!r})"
    if need_log_id and not out.get("log_id"):
        return "no log_id"
    return None


async def _drive(slots: list, path: str, cases: list, n: int, need_log_id: bool, latencies: list[float],
                 errors: Counter, start: int = 0) -> int:
    """n POSTs, one worker per slot (closed loop), the cases in turn from `start`; returns how many
    were acknowledged (2xx)."""
    ticket = itertools.count()
    ok = [0]

    async def worker(slot):
        while (i := next(ticket)) < n:
            body, expect = cases[(start + i) % len(cases)]
            t = time.perf_counter()
            try:
                status, raw = await slot.post(path, body)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and named
                latencies.append(time.perf_counter() - t)
                errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                continue
            latencies.append(time.perf_counter() - t)
            if 200 <= status < 300:
                ok[0] += 1
            problem = _problem(status, raw, expect, need_log_id)
            if problem:
                errors[problem] += 1

    await asyncio.gather(*(worker(slot) for slot in slots))
    return ok[0]


def _pct(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


async def _batch(server: Server, decision: str, cases: list, args, need_log_id: bool) -> dict:
    path = f"/v1/decisions/{decision}:evaluate"
    slots = open_slots(args.client, server, args.concurrency)
    try:
        errors: Counter = Counter()
        acked = await _drive(slots, path, cases, args.warmup, need_log_id, [], errors)
        latencies: list[float] = []
        s0, c0, t0 = server.cpu_seconds(), time.process_time(), time.perf_counter()
        acked += await _drive(slots, path, cases, args.requests, need_log_id, latencies, errors, start=args.warmup)
        wall, client_cpu, s1 = time.perf_counter() - t0, time.process_time() - c0, server.cpu_seconds()
    finally:
        for slot in slots:
            await slot.aclose()
    latencies.sort()
    return {"rps": args.requests / wall, "p50_ms": _pct(latencies, 0.50) * 1000, "p99_ms": _pct(latencies, 0.99) * 1000,
            "max_ms": latencies[-1] * 1000, "errors": sum(errors.values()), "error_kinds": dict(errors),
            "acknowledged": acked, "wall_s": wall, "client_cpu_us": client_cpu / args.requests * 1e6,
            "client_busy": client_cpu / wall,
            **_server_cpu(s0, s1, args.requests, wall)}


def _server_cpu(s0: dict | None, s1: dict | None, n: int, wall: float) -> dict:
    """CPU per request and busy share of a core: of the server's processes together, and of the
    busiest one alone (the one that serves; a logged server's writer process runs beside it)."""
    if s0 is None or s1 is None:
        return {"server_cpu_us": None, "server_busy": None, "server_top_cpu_us": None, "server_top_busy": None}
    used = [s1[pid] - s0.get(pid, 0.0) for pid in s1]
    return {"server_cpu_us": sum(used) / n * 1e6, "server_busy": sum(used) / wall,
            "server_top_cpu_us": max(used) / n * 1e6, "server_top_busy": max(used) / wall}


def plan(diagnose: bool) -> list[tuple[str, str]]:
    """(server, decision) of every row, the floor first."""
    servers = ["serve", "serve+log"] + (list(DIAGNOSTICS) if diagnose else [])
    return [("floor", FLOOR_DECISION), ("floor+access", FLOOR_DECISION)] + [
        (server, decision) for server in servers for decision in CASES]


def load_test(args) -> tuple[list[dict], dict]:
    rows_plan = plan(args.diagnose)
    from policyengine.policies import load
    policies = load(POLICIES)
    pools = {decision: case_pool(policies, decision, args.cases) for decision in CASES}
    floor_pool = [(body, "ok") for body, _ in pools[FLOOR_DECISION]]  # the floor parses the same bodies
    with tempfile.TemporaryDirectory(prefix="bench_http-") as tmp_name:
        tmp = Path(args.keep) if args.keep else Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"starting servers (their output in {tmp}) ...", file=sys.stderr)
        servers, logs = start_servers(tmp, list(dict.fromkeys(name for name, _ in rows_plan)), args.workers)
        runs: dict[tuple, list[dict]] = {row: [] for row in rows_plan}
        try:
            for rep in range(args.repeats):
                k = rep % len(rows_plan)
                for name, decision in rows_plan[k:] + rows_plan[:k]:
                    cases = floor_pool if name.startswith("floor") else pools[decision]
                    r = asyncio.run(_batch(servers[name], decision, cases, args, need_log_id=name in logs))
                    runs[(name, decision)].append(r)
                    print(f"  repeat {rep + 1}/{args.repeats}  {name:<14} {decision:<20} {r['rps']:6.0f} req/s  "
                          f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}",
                          file=sys.stderr)
            extra: dict = {"output_lines_per_request": {}, "logs": {}}
            sent = (args.warmup + args.requests) * args.repeats
            for name, s in servers.items():
                n_decisions = sent * (1 if name.startswith("floor") else len(CASES))
                extra["output_lines_per_request"][name] = round(s.output_lines() / n_decisions, 2)
                count, first = s.problems()
                if count:
                    extra.setdefault("server_problems", {})[name] = {"lines": count, "first": first}
        finally:
            for s in servers.values():
                s.stop()
        from policyengine.audit.log import DecisionLog
        for name, path in logs.items():
            acked = sum(r["acknowledged"] for (server, _), rs in runs.items() if server == name for r in rs)
            with DecisionLog.open(str(path)) as dl:
                seq, _ = dl.head()
                v = dl.verify()
            extra["logs"][name] = {"acknowledged": acked, "head_seq": seq, "verify_ok": v.ok, "checked": v.checked,
                                   "problem": v.problem}
    rows = []
    for name, decision in rows_plan:
        rs = runs[(name, decision)]
        med = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms", "client_cpu_us",
                                                                  "client_busy")}
        scpu, sbusy, tcpu, tbusy = ([r[k] for r in rs if r[k] is not None] for k in (
            "server_cpu_us", "server_busy", "server_top_cpu_us", "server_top_busy"))
        kinds: Counter = Counter()
        for r in rs:
            kinds.update(r["error_kinds"])
        rows.append({"server": name, "decision": decision if not name.startswith("floor") else "(floor)",
                     "log": name in logs, "diagnostic": name in DIAGNOSTICS, **med,
                     "rps_min": min(r["rps"] for r in rs), "rps_max": max(r["rps"] for r in rs),
                     "server_cpu_us": statistics.median(scpu) if scpu else None,
                     "server_busy": statistics.median(sbusy) if sbusy else None,
                     "server_top_cpu_us": statistics.median(tcpu) if tcpu else None,
                     "server_top_busy": statistics.median(tbusy) if tbusy else None,
                     "errors": sum(r["errors"] for r in rs), "error_kinds": dict(kinds), "repeats": rs})
    floor = rows[0]["rps"]
    for row in rows:
        row["ratio"] = row["rps"] / floor
    return rows, extra


# -- report --------------------------------------------------------------------------------------
CLIENT_BOUND = 0.8  # the client used this much of a core on the floor row: the floor measures the client


def targets(rows: list[dict], extra: dict, concurrency: int) -> list[tuple[str, str, str]]:
    """(target, PASS|FAIL|INCONCLUSIVE, detail) for the issue's targets, on the rows of `policyengine serve`
    (the diagnostic rows are not judged, but an error anywhere counts).  A throughput ratio that passes
    against a client-bound floor is INCONCLUSIVE: the floor then understates what the server can do."""
    out = []
    client_bound = rows[0]["client_busy"] > CLIENT_BOUND
    total = sum(r["errors"] for r in rows)
    logs_ok = all(v["verify_ok"] and v["head_seq"] == v["acknowledged"] for v in extra["logs"].values())
    server_bad = sum(v["lines"] for v in extra.get("server_problems", {}).values())
    out.append(("0 errors", "PASS" if total == 0 and logs_ok and not server_bad else "FAIL",
                f"{total} errors, {server_bad} failure lines in the servers' output" + "".join(f"; {r['server']} {r['decision']}: {r['error_kinds']}"
                                            for r in rows if r["errors"]) +
                "".join(f"; {name} log: {v['acknowledged']} acknowledged, head seq {v['head_seq']}, verify "
                        f"{'ok' if v['verify_ok'] else 'FAILED: ' + str(v['problem'])}"
                        for name, v in extra["logs"].items())))
    for r in rows:
        if r["server"] == "serve":
            verdict = "FAIL" if r["ratio"] < 0.5 else "INCONCLUSIVE" if client_bound else "PASS"
            out.append((f">= 0.5x floor throughput, {r['decision']}, audit, no log", verdict,
                        f"{r['rps']:.0f} / {rows[0]['rps']:.0f} req/s = {r['ratio']:.2f}x"
                        + (" (the floor is client-bound)" if client_bound else "")))
    at = "" if concurrency == 32 else f" (defined at 32; this run used {concurrency})"
    for r in rows:
        if r["server"] in ("serve", "serve+log"):
            out.append((f"p99 < 20 ms at {concurrency}, {r['decision']}, {'log' if r['log'] else 'no log'}{at}",
                        "PASS" if r["p99_ms"] < 20.0 else "FAIL", f"p99 {r['p99_ms']:.1f} ms"))
    return out


def print_table(rows: list[dict], extra: dict, args) -> None:
    print(f"\n{args.requests} requests at concurrency {args.concurrency} (after {args.warmup} warm-up), "
          f"client {args.client}, {args.workers} worker process(es) per server, {args.cases} distinct cases per "
          f"decision in turn, median of {args.repeats} repeats; trace=audit")
    print(f"{'server':<14} {'decision':<20} {'req/s':>6} {'(min-max)':>11} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'x floor':>7} {'srv µs':>7} {'srv busy':>8} {'top µs':>7} {'top busy':>8} {'cli µs':>7} {'cli busy':>8} "
          f"{'errors':>6}")

    def fig(r, key, form):
        return format(r[key], form) if r[key] is not None else "n/a"
    for r in rows:
        print(f"{r['server']:<14} {r['decision']:<20} {r['rps']:6.0f} {r['rps_min']:5.0f}-{r['rps_max']:<5.0f} "
              f"{r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {r['ratio']:7.2f} {fig(r, 'server_cpu_us', '.0f'):>7} "
              f"{fig(r, 'server_busy', '.2f'):>8} {fig(r, 'server_top_cpu_us', '.0f'):>7} "
              f"{fig(r, 'server_top_busy', '.2f'):>8} {r['client_cpu_us']:7.0f} {r['client_busy']:8.2f} "
              f"{r['errors']:6d}")
    print("srv/cli µs: CPU time of the server's processes together / of this client per request; top: of the "
          "server's busiest process alone (the one that serves; a logged server's writer process runs beside it); "
          "busy: that CPU time / wall time, in cores (medians)")
    print("server output lines (stdout+stderr) per request:",
          ", ".join(f"{k} {v}" for k, v in extra["output_lines_per_request"].items()))
    for name, v in extra.get("server_problems", {}).items():
        print(f"{name}: {v['lines']} output line(s) report a failure, the first: " + " | ".join(v["first"]))
    floor = rows[0]
    if floor["client_busy"] > CLIENT_BOUND:
        print(f"WARNING: the client used {floor['client_busy']:.2f} of a core on the floor row, the server "
              f"{floor['server_busy'] if floor['server_busy'] is not None else float('nan'):.2f}: the client, not the "
              f"server, bounds the floor, so the throughput ratios understate the server's overhead (try --client raw)")
    if any(r["diagnostic"] for r in rows):
        print("diagnostic rows (not judged; nothing in src/ is changed, the server process patches itself):")
        for name, (_, _, what) in DIAGNOSTICS.items():
            print(f"  {name:<14} {what}")
    print("\ntargets:")
    for what, verdict, detail in targets(rows, extra, args.concurrency):
        print(f"  {verdict:<4}  {what}: {detail}")


# -- in-process profile --------------------------------------------------------------------------
def _scope(path: str, body: bytes) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080)}


async def _asgi_call(app, path: str, body: bytes) -> tuple[int, bytes]:
    sent = [False]
    out: list[dict] = []

    async def receive():
        if not sent[0]:
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message):
        out.append(message)
    await app(_scope(path, body), receive, send)
    return out[0]["status"], b"".join(m.get("body", b"") for m in out[1:])


async def _asgi_loop(app, path: str, body: bytes, n: int, expect: str) -> tuple[float, float]:
    """µs per request: wall time and CPU time (every thread of this process)."""
    for _ in range(20):  # warm-up
        status, raw = await _asgi_call(app, path, body)
        assert status == 200 and json.loads(raw)["value"] == expect, (status, raw[:300])
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        await _asgi_call(app, path, body)
    return (time.perf_counter() - t) / n * 1e6, (time.process_time() - c) / n * 1e6


def _timed(fn, n: int) -> tuple[float, float]:
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6, (time.process_time() - c) / n * 1e6


class ThreadpoolProfiler:
    """cProfile inside every anyio threadpool call (where FastAPI runs sync endpoints and
    dependencies), one Profile per worker thread, merged at the end."""

    def __init__(self):
        self.profiles: list[cProfile.Profile] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def __enter__(self):
        import anyio.to_thread
        self._orig = anyio.to_thread.run_sync
        orig, local, me = self._orig, self._local, self

        def run_sync(func, *args, **kwargs):
            def profiled(*a):
                prof = getattr(local, "prof", None)
                if prof is None:
                    prof = local.prof = cProfile.Profile()
                    with me._lock:
                        me.profiles.append(prof)
                prof.enable()
                try:
                    return func(*a)
                finally:
                    prof.disable()
            return orig(profiled, *args, **kwargs)
        anyio.to_thread.run_sync = run_sync
        return self

    def __exit__(self, *exc):
        import anyio.to_thread
        anyio.to_thread.run_sync = self._orig


AREAS = (("policyengine/http/", "policyengine.http (api, middleware)"), ("policyengine/", "policyengine engine"),
         ("fastapi/", "fastapi"), ("pydantic", "pydantic"), ("starlette/", "starlette"), ("anyio/", "anyio threadpool"),
         ("asyncio/", "asyncio loop"), ("threading.py", "threads, queue"), ("queue.py", "threads, queue"),
         ("concurrent/", "threads, queue"), ("selectors.py", "asyncio loop"), ("json/", "json"),
         ("logging/", "logging"), ("bench_http.py", "this benchmark's ASGI driver"))


WAIT = "the event loop waiting in epoll (for the threadpool)"


def _area(func: tuple) -> str:
    filename, _, name = func
    if filename == "~":  # a builtin: name it by what it is
        if "epoll" in name or "poll" in name:
            return WAIT
        for key, area in (("_json", "json"), ("pydantic", "pydantic"), ("lock", "threads, queue"),
                          ("thread", "threads, queue"), ("socket", "asyncio loop"), ("_contextvars", "asyncio loop")):
            if key in name:
                return area
        return "other builtins"
    for key, area in AREAS:
        if key in filename:
            return area
    return "other"


def _short(func: tuple) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})"


def profile(n: int, top: int, out=sys.stdout) -> dict:
    import logging
    from policyengine.http import app as build
    from policyengine.policies import load
    ns: dict = {}
    exec(FLOOR_APP, ns)  # noqa: S102 - our own floor app, defined above
    floor = ns["floor"]
    policies = load(POLICIES)
    api = build(policies)
    results: dict = {"n": n, "us_per_request": {}, "areas": {}, "top": {}}

    def med(fn) -> tuple[float, float]:
        runs = [fn() for _ in range(3)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    print(f"\nin-process, no HTTP, one request at a time: µs per request, wall and CPU, {n} requests (median of 3)",
          file=out)
    fpath = f"/v1/decisions/{FLOOR_DECISION}:evaluate"
    fbody = json.dumps(CASES[FLOOR_DECISION][0]).encode()
    t_floor = med(lambda: asyncio.run(_asgi_loop(floor, fpath, fbody, n, "ok")))
    results["us_per_request"]["floor app"] = t_floor
    print(f"  {'':<62} {'wall':>7} {'CPU':>7}", file=out)
    print(f"  {'bare Starlette floor app':<62} {t_floor[0]:7.1f} {t_floor[1]:7.1f}", file=out)
    for decision, (req, expect) in CASES.items():
        path, body = f"/v1/decisions/{decision}:evaluate", json.dumps(req).encode()
        rows = {}
        rows["evaluate(trace=audit)"] = med(lambda: _timed(
            lambda: policies.evaluate(decision, req["facts"], req["as_of"], trace="audit"), n))
        rows["evaluate(trace=audit) + to_dict()"] = med(lambda: _timed(
            lambda: policies.evaluate(decision, req["facts"], req["as_of"], trace="audit").to_dict(), n))
        rows["  + json.dumps as JSONResponse renders it"] = med(lambda: _timed(
            lambda: json.dumps(policies.evaluate(decision, req["facts"], req["as_of"], trace="audit").to_dict(),
                               ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode(), n))
        rows["policyengine app as served, no logging"] = med(
            lambda: asyncio.run(_asgi_loop(api, path, body, n, expect)))


        def logged():
            root = logging.getLogger()
            handler = logging.FileHandler(os.devnull)
            handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
            level = root.level
            root.addHandler(handler)
            root.setLevel(logging.INFO)
            try:
                return asyncio.run(_asgi_loop(api, path, body, n, expect))
            finally:
                root.removeHandler(handler)
                root.setLevel(level)
                handler.close()
        rows["  same as served, with its access line at INFO (to /dev/null)"] = med(logged)
        print(f" {decision}", file=out)
        for k, (w, c) in rows.items():
            print(f"  {k:<62} {w:7.1f} {c:7.1f}", file=out)
        results["us_per_request"][decision] = rows

        main = cProfile.Profile()
        with ThreadpoolProfiler() as tp:
            main.enable()
            asyncio.run(_asgi_loop(api, path, body, n, expect))
            main.disable()
        stats = pstats.Stats(main)
        for p in tp.profiles:
            stats.add(p)
        calls = n + 20
        areas: Counter = Counter()
        for func, (_, _, tt, _, _) in stats.stats.items():
            areas[_area(func)] += tt
        wait = areas.pop(WAIT, 0.0)
        total = sum(areas.values())
        print(f"\n cProfile, {decision} as served: self time by area, µs per request ({calls} requests; event loop "
              f"thread + {len(tp.profiles)} threadpool thread(s); cProfile inflates call-heavy Python code)", file=out)
        for area, tt in areas.most_common():
            print(f"  {area:<58} {tt / calls * 1e6:7.1f}  {tt / total:4.0%}", file=out)
        print(f"  {'(total busy)':<58} {total / calls * 1e6:7.1f}", file=out)
        print(f"  {'(not busy: ' + WAIT + ')':<58} {wait / calls * 1e6:7.1f}", file=out)
        results["areas"][decision] = {a: tt / calls * 1e6 for a, tt in areas.items()}
        ranked = sorted(((tt, ct, nc, func) for func, (_, nc, tt, ct, _) in stats.stats.items()
                         if _area(func) != WAIT), reverse=True)[:top]
        print(f"\n top {top} functions by self time, µs per request (self, cumulative; calls per request, where "
              f"each resumption of a coroutine counts as a call)", file=out)
        results["top"][decision] = []
        for tt, ct, nc, func in ranked:
            print(f"  {tt / calls * 1e6:7.1f} {ct / calls * 1e6:7.1f} {nc / calls:6.1f}  {_short(func)}", file=out)
            results["top"][decision].append({"function": _short(func), "self_us": tt / calls * 1e6,
                                             "cum_us": ct / calls * 1e6, "calls": nc / calls})
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="timed requests per row and repeat (default: %(default)s)")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight (default: %(default)s)")
    ap.add_argument("--warmup", type=int, default=100, help="untimed requests before each batch (default: %(default)s)")
    ap.add_argument("--workers", type=int, default=1,
                    help="worker processes of every server, the floor's too (default: %(default)s; the d: rows use 1)")
    ap.add_argument("--cases", type=int, default=POOL,
                    help="distinct cases per decision, sent in turn (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3, help="repeats; the median is reported (default: %(default)s)")
    ap.add_argument("--client", choices=("httpx", "httpx-pool", "raw"), default="raw",
                    help="httpx: an httpx.AsyncClient of one connection per in-flight request; httpx-pool: one "
                         "AsyncClient whose pool is limited to --concurrency; raw: keep-alive HTTP/1.1 over asyncio "
                         "streams (default: %(default)s)")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="also write every figure as JSON to FILE (or, with no FILE, print JSON instead of the table)")
    ap.add_argument("--keep", metavar="DIR", help="keep the servers' output and the decision logs in DIR")
    ap.add_argument("--diagnose", action="store_true",
                    help="also time the diagnostic servers (d:... rows): serve without its access line, through "
                         "FastAPI only, with json instead of orjson, and serve+log without group commit")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="then profile N in-process requests per decision (cProfile, no HTTP)")
    ap.add_argument("--top", type=int, default=25, help="functions listed per profile (default: %(default)s)")
    args = ap.parse_args(argv)
    if min(args.concurrency, args.requests, args.repeats, args.workers, args.cases) < 1 or args.warmup < 0:
        ap.error("--requests, --concurrency, --repeats, --workers and --cases must be >= 1, --warmup >= 0")
    sys.path.insert(0, str(ROOT / "src"))
    import fastapi
    import httpx
    import starlette
    import uvicorn
    rows, extra = load_test(args)
    report = {"date": date.today().isoformat(), "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                                            "python": platform.python_version()},
              "versions": {"fastapi": fastapi.__version__, "starlette": starlette.__version__,
                           "uvicorn": uvicorn.__version__, "httpx": httpx.__version__},
              "settings": {k: getattr(args, k) for k in ("requests", "concurrency", "warmup", "repeats", "client",
                                                                  "diagnose", "workers", "cases")},
              "rows": rows, **extra,
              "targets": [{"target": t, "verdict": v, "detail": d} for t, v, d in targets(rows, extra, args.concurrency)]}
    if args.json != "-":
        print(f"{report['date']}, {report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
              + ", ".join(f"{k} {v}" for k, v in report["versions"].items()))
        print_table(rows, extra, args)
    if args.profile:
        report["profile"] = profile(args.profile, args.top, sys.stderr if args.json == "-" else sys.stdout)
    if args.json == "-":
        print(json.dumps(report, indent=2, default=str))
    elif args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))
    return 1 if sum(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
