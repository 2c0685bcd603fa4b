"""The decision API: an ASGI application (FastAPI) over one loaded set of policies.

FastAPI rather than bare Starlette because its OpenAPI 3.1 document is generated from the
same pydantic types that check the requests, so the published contract cannot drift from
what the server accepts; it runs on Starlette, so the app mounts in any ASGI server.

`app(policies_dir, log=..., keys=...)` builds it; `policyengine serve` runs it under
uvicorn (server.py).  Policies are loaded once; `reload()` swaps them atomically: a request
takes the current policies when it starts and keeps them to its end, and a broken policy
folder is refused with its problems while the old policies stay.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections import OrderedDict
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request as PlainRequest
from starlette.routing import Match

from .. import audit
from ..audit.chain import LogError, parse_head
from ..audit.group import WriterProcess
from ..audit.log import DecisionLog
from ..audit.records import as_record
from ..audit.redact import view as redacted
from ..errors import InputError, PolicyEngineError, PolicyError, did_you_mean
from ..policies import Policies, load
from ..present.explain import explain_record
from ..present.explain_html import render
from ..tools.reference import facts_schema
from ..values import plain
from ..version import __version__
from . import keys as keyring
from .middleware import Limits, RequestContext
from .problems import PROBLEM, Problem, from_engine, install, problem_response

try:  # optional: renders a decision with its audit trace ~15x faster than json (benchmarks/README.md, HTTP)
    import orjson
except ImportError:  # pragma: no cover - the json module gives the same JSON values
    orjson = None

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MAX_BATCH = 10_000  # cases in one batch request
LOGGED_POLICIES = 4  # policy versions of older records kept loaded, for the log endpoints
LOG = logging.getLogger("policyengine.http")
DAY = {"format": "date"}  # in the OpenAPI document: a calendar date, not just the YYYY-MM-DD shape
DECISION = PathParam(description="A public decision id (GET /v1/decisions)", examples=["ldp.pay.annual_rate"])


class _Name(Convertor):
    """A decision or rule id in a path: no ':' so `{decision}:evaluate` and `{decision}` never
    take each other's requests (a GET on `...:evaluate` is a 405, not an unknown decision)."""
    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value) -> str:
        return str(value)


class _Hex(_Name):
    """A log record id (or a prefix of one) in a path: hex digits, so `/v1/log/verify` is never
    read as the record 'verify'."""
    regex = "[0-9A-Fa-f]+"


register_url_convertor("pe_name", _Name())
register_url_convertor("pe_hex", _Hex())


class State:
    """What the app serves: the policies (swapped whole on reload), the log, the keys."""

    def __init__(self, root: Path, policies: Policies, log: str | None, keys):
        self.root, self.policies, self.log, self.keys = root, policies, log, keys
        self._lock = threading.Lock()
        # one writer process per server process owns the log: concurrent requests share its
        # commits, and its JSON, hashing and SQL run on another core (audit/group.py)
        self.writer = WriterProcess(log) if log else None
        self._logged: OrderedDict[str, Policies] = OrderedDict()  # policy_hash -> policies read back from the log
        self._logged_lock = threading.Lock()

    def serving(self, request: Request) -> Policies:
        """The policies this request is answered under: taken once, when it starts, and kept to
        its end whatever a reload does meanwhile; their hash goes out as X-Policy-Hash."""
        p = self.policies
        request.state.policy_hash = p.policy_hash
        return p

    def logged_policies(self, dl, policy_hash: str):
        """The policies a record was decided under: the serving ones when the hash is theirs
        (same hash, same files), else loaded from the files stored in the log (kept for reuse:
        loading them takes a second or more)."""
        current = self.policies
        if current.policy_hash == policy_hash:
            return current
        with self._logged_lock:
            found = self._logged.get(policy_hash)
            if found is not None:
                self._logged.move_to_end(policy_hash)
                return found
        loaded = audit.records._policies_from_log(dl, policy_hash)
        with self._logged_lock:
            self._logged[policy_hash] = loaded
            while len(self._logged) > LOGGED_POLICIES:
                self._logged.popitem(last=False)
        return loaded

    def send(self, p: Policies, decided: dict, subject, request_id) -> asyncio.Future:
        """Send a decision (its to_dict()) to the log now, with whom it is about and the request
        that asked; the future gives its record id once the transaction holding it has
        committed, so a request is never acknowledged with a record that could still be lost.
        It keeps nothing of the decision, so the caller can let go of it while it waits."""
        return self.writer.log(p, as_record(decided, subject, {"request_id": request_id}))

    async def record(self, p: Policies, decided: dict, subject, request_id) -> str:
        """send(), and wait for the record id."""
        return await self.send(p, decided, subject, request_id)

    def record_now(self, p: Policies, d, subject, request_id) -> None:
        """The same from a thread (a batch's rows): waits for the commit."""
        if self.writer:
            d.log_id = self.writer.append(p, as_record(d.to_dict(), subject, {"request_id": request_id}))

    def reload(self) -> Policies:
        """Load the folder again; on success the new policies serve every request that starts
        after it.  A broken folder raises PolicyError and changes nothing."""
        with self._lock:
            fresh = load(self.root)
            self.policies = fresh
            return fresh


# -- request and response types (the OpenAPI document is generated from these) ------------------
class EvaluateRequest(BaseModel):
    # strict: what the schema says is what is accepted (presume: 0 is not a boolean)
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"examples": [
        {"facts": {"level": "PL-03", "step": 1}, "as_of": "2009-06-01", "known_on": "2009-04-10"}]})
    facts: dict[str, Any] = Field(default_factory=dict, description="Fact name -> value (see GET /v1/decisions/{id})")
    as_of: str = Field(pattern=DATE, json_schema_extra=DAY, description="Evaluation date, YYYY-MM-DD")
    known_on: str | None = Field(None, pattern=DATE, json_schema_extra=DAY,
                                 description="Decide as known on this date (approved versions only)")
    trace: Literal["none", "audit", "full"] = "audit"
    lang: Literal["en", "fr"] | None = Field(None, description="Also return a readable explanation in this language")
    presume: bool = Field(True, description="false: presumed facts not given are missing facts")
    subject_id: str | None = Field(None, max_length=200, description="Whom the decision is about (kept in the log)")


class BatchCase(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    facts: dict[str, Any] = Field(default_factory=dict)
    as_of: str = Field(pattern=DATE, json_schema_extra=DAY)
    known_on: str | None = Field(None, pattern=DATE, json_schema_extra=DAY)
    subject_id: str | None = Field(None, max_length=200)


class DecisionOut(BaseModel):
    """Decision.to_dict(), plus the log record id when the decision was logged."""
    model_config = ConfigDict(extra="allow")
    decision: str
    as_of: str
    known_on: str | None = None
    status: Literal["decided", "undetermined", "refused", "conflict"]
    value: Any = None
    clauses: list[str] | None = None
    missing: list[str] = []
    gaps: list[Any] = []
    assumptions: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    facts: dict[str, Any] = {}
    trace_level: str
    trace: list[dict[str, Any]] | None = None
    policy_hash: str
    engine_version: str
    log_id: str | None = None
    explanation: str | None = None


class DecisionSummary(BaseModel):
    id: str
    instrument: str
    citation: str
    label: dict[str, str]
    facts: list[str]


class DecisionDescription(DecisionSummary):
    text: str
    note: str | None = None
    facts_schema: dict[str, Any]
    policy_hash: str


class RuleDescription(BaseModel):
    id: str
    instrument: str
    clause: str
    citation: str
    text: str
    label: dict[str, str]
    note: str | None = None
    decision: bool
    versions: list[dict[str, Any]]
    policy_hash: str


class Verified(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None
    head: str | None = None


class Health(BaseModel):
    status: str
    policy_hash: str | None = None
    engine_version: str
    log: str | None = None
    problems: list[str] = []


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; each kind adds its own members (problems, citation, instrument...)."""
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


PROBLEM_SCHEMA = ProblemDetails.model_json_schema()
PROBLEM_RESPONSES = {code: {"description": what, "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}
                     for code, what in ((400, "Malformed JSON"), (401, "Missing or unknown API key"),
                                        (403, "The key's role does not allow this"), (404, "Unknown decision, rule or record"),
                                        (409, "Refused by a cited clause"), (413, "Body too large"),
                                        (422, "Bad facts, not in force, or cannot be computed"),
                                        (503, "The decision log is unavailable"))}


def app(policies: str | Path | Policies = "policies", log: str | None = None, keys=None,
        max_body: int = Limits.max_body) -> FastAPI:
    """The decision API over `policies` (a folder, or policies already loaded), appending to
    `log` (a path or postgresql:// URL) when given, with `keys` (from keys.load) or none."""
    if isinstance(policies, Policies):
        root, loaded = Path(policies.root), policies
    else:
        root = Path(policies)
        loaded = load(root)
    state = State(root, loaded, log, keys)

    @asynccontextmanager
    async def lifespan(_):
        yield
        if state.writer:  # the requests are done (uvicorn drains them first): commit anything left, close
            await asyncio.get_running_loop().run_in_executor(None, state.writer.close)

    api = FastAPI(title="policyengine decision API", version=__version__, lifespan=lifespan,
                  description="Decisions of Government of Canada HR policy encoded as data, each with the clauses "
                              "that produced it. Errors are RFC 9457 problem details.",
                  responses=PROBLEM_RESPONSES,
                  # FastAPI's OpenTelemetry hook asks the global providers on every request
                  # (~5 µs); this app configures none, so it is off
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    api.state.engine = state
    install(api)
    key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="A key from the server's key file (see README, HTTP API)")

    # dependencies and the evaluate endpoint are coroutines: none blocks, and each sync one
    # would cost a thread hand-off per request (benchmarks/README.md, "HTTP")
    async def caller(request: Request, key: str | None = Depends(key_header)) -> keyring.Caller:
        auth = request.headers.get("authorization", "")
        presented = key or (auth[7:].strip() if auth.lower().startswith("bearer ") else None)
        who = keyring.identify(state.keys, presented)
        if who is None:
            raise Problem(401, "unauthorized", "Missing or unknown API key",
                          "send a key in the X-API-Key header (or Authorization: Bearer KEY)",
                          headers={"WWW-Authenticate": 'Bearer realm="policyengine"'})
        request.state.caller = who
        return who

    def require(role: str):
        async def check(who: keyring.Caller = Depends(caller)) -> keyring.Caller:
            if not who.may(role):
                raise Problem(403, "forbidden", "The key's role does not allow this",
                              f"this needs the {role} role; the key has {who.role}")
            return who
        return check

    def rule_of(p: Policies, rid: str, public_only: bool):
        rule = p.rules.get(rid)
        if rule is None or (public_only and not rule.decision):
            pool = p.decisions if public_only else p.rules
            raise Problem(404, "unknown-decision" if public_only else "unknown-rule",
                          "Unknown decision" if public_only else "Unknown rule",
                          f"no {'decision' if public_only else 'rule'} '{rid}'{did_you_mean(rid, pool)}")
        return rule

    def open_log():
        if not state.log:
            raise Problem(404, "no-log", "This server keeps no decision log", "start it with --log PATH|URL")
        try:
            return DecisionLog.open(state.log)
        except PolicyEngineError as exc:
            raise from_engine(exc) from None

    # -- decisions -----------------------------------------------------------------------------
    @api.post("/v1/decisions/{decision:pe_name}:evaluate", response_model=DecisionOut, response_model_exclude_none=True,
              tags=["decisions"], summary="Decide one case")
    async def evaluate(body: EvaluateRequest, request: Request, decision: str = DECISION,
                       who: keyring.Caller = Depends(require("service"))):
        # reached only by requests the plain path (below) hands on: FastAPI and pydantic word their problems
        return await decide(request.scope, state.serving(request), decision, body.facts, body.as_of, body.known_on,
                            body.trace, body.presume, body.lang, body.subject_id)

    async def decide(scope, p: Policies, decision: str, facts, as_of, known_on, trace, presume, lang, subject_id):
        rule_of(p, decision, public_only=True)
        try:  # evaluation is CPU-bound and short: on the loop; the log's commit is awaited, not blocked on
            d = p.evaluate(decision, facts, as_of, trace=trace, presume=presume, known_on=known_on)
            out = d.to_dict()
            if state.writer and not lang and d.status != "refused":
                # the usual logged answer: rendered, and its record sent, before the commit is
                # awaited, so that no object of the trace outlives that wait (each would be
                # walked again by the garbage collector: ~25 µs a request at 32 in flight)
                pending = state.send(p, out, subject_id, scope["state"].get("request_id"))
                rendered = DecisionJSON(out).body
                del d, out
                return _with_log_id(rendered, await pending)
            if state.writer:
                d.log_id = await state.record(p, out, subject_id, scope["state"].get("request_id"))
        except PolicyEngineError as exc:
            raise from_engine(exc) from None
        if d.log_id:
            out["log_id"] = d.log_id
        if lang:
            out["explanation"] = explain_record(out, p, lang)
        headers = {"Location": f"/v1/log/{d.log_id}"} if d.log_id else None
        if d.status == "refused":  # logged too: the record id and its Location, as for a decision
            first = out["messages"][0] if out["messages"] else {}
            extra = {"log_id": d.log_id} if d.log_id else {}
            return problem_response(Problem(409, "refused", "Refused by a cited clause", first.get("en"),
                                            headers=headers, citation=first.get("citation"),
                                            clause=first.get("clause"), **extra, decision_record=out),
                                    PlainRequest(scope))
        return DecisionJSON(out, headers=headers)

    # The plain path: the route above documents the endpoint (its OpenAPI operation comes from
    # EvaluateRequest and DecisionOut) and answers whatever is unusual; a request that is plainly
    # valid (a JSON body that EvaluateRequest accepts, a key with the service role) is answered by
    # RequestContext calling this first, without FastAPI's routing, dependency solving and pydantic
    # model: ~100 µs of a ~450 µs request (benchmarks/README.md, HTTP).
    route = next(r for r in api.router.routes if getattr(r, "endpoint", None) is evaluate)

    async def plain_evaluate(scope, receive, send, rest):
        match, child = route.matches(scope)
        if match is not Match.FULL:
            return await rest(scope, receive, send)
        messages, body, failed = [], b"", None
        try:
            while True:
                m = await receive()
                messages.append(m)
                if m["type"] != "http.request":
                    break
                body += m.get("body", b"")
                if not m.get("more_body", False):
                    break
        except Exception as exc:  # noqa: BLE001 - e.g. the body limit: handed on, raised where it was
            failed = exc
        fields = None if failed or m["type"] != "http.request" else _plain_request(scope["headers"], body, state.keys)
        if fields is None:  # the documented route decides, and words any problem, from the same messages
            async def replay():
                if messages:
                    return messages.pop(0)
                if failed:
                    raise failed
                return await receive()
            return await rest(scope, replay, send)
        who, facts, as_of, known_on, trace, presume, lang, subject_id = fields
        p = state.policies  # taken once, kept to the end (as State.serving)
        scope_state = scope.setdefault("state", {})
        scope_state["policy_hash"], scope_state["caller"] = p.policy_hash, who
        try:
            response = await decide(scope, p, child["path_params"]["decision"], facts, as_of, known_on, trace,
                                    presume, lang, subject_id)
        except Problem as exc:
            response = problem_response(exc, PlainRequest(scope))
        await response(scope, receive, send)

    api.add_middleware(RequestContext, max_body=max_body, policy_hash=lambda: state.policies.policy_hash,
                       direct=plain_evaluate)

    @api.post("/v1/decisions/{decision:pe_name}:batch", tags=["decisions"], summary="Decide many cases",
              response_class=StreamingResponse,
              responses={200: {"description": "One JSON line per case, in order: the decision, or a problem",
                               "content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"type": "array", "maxItems": MAX_BATCH, "items": {"anyOf": [
                      BatchCase.model_json_schema(),
                      {"description": "anything else: answered with that row's problem, the other rows decided"}]}}},
                  "application/x-ndjson": {"schema": {"type": "string"}}}}})
    async def batch(request: Request, decision: str = DECISION, who: keyring.Caller = Depends(require("service")),
                    view: Literal["decision", "rows"] = Query(
                        "decision", description="decision: each case's Decision.to_dict() with its audit trace "
                        "(and log record); rows: one compact line per case (status, value, clauses, missing, "
                        "assumptions, messages), decided together by the batch backend, not logged")):
        p = state.serving(request)
        rule_of(p, decision, public_only=True)
        cases = _cases(await request.body(), request.headers.get("content-type", ""))
        if view == "rows":
            if state.writer:
                raise Problem(422, "rows-view-not-logged", "The rows view is not logged",
                              "this server logs every decision: ask view=decision")
            out = await asyncio.get_running_loop().run_in_executor(None, _rows_view, p, decision, cases)
            return StreamingResponse((json.dumps(line, ensure_ascii=False) + "\n" for line in out),
                                     media_type="application/x-ndjson")

        def lines():
            for row, case in enumerate(cases, 1):
                out = _one(state, p, decision, row, case, request)
                yield json.dumps(out, ensure_ascii=False) + "\n"
        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @api.get("/v1/decisions", response_model=list[DecisionSummary], tags=["decisions"],
             summary="The public decisions")
    def decisions(request: Request, who: keyring.Caller = Depends(require("service"))):
        p = state.serving(request)
        return [_summary(p, did) for did in p.decisions]

    @api.get("/v1/decisions/{decision:pe_name}", response_model=DecisionDescription, tags=["decisions"],
             summary="One public decision, with its facts as JSON Schema")
    def describe(request: Request, decision: str = DECISION, who: keyring.Caller = Depends(require("service"))):
        p = state.serving(request)
        rule = rule_of(p, decision, public_only=True)
        return {**_summary(p, decision), "text": rule.text, "note": rule.note,
                "facts_schema": facts_schema(p, decision), "policy_hash": p.policy_hash}

    @api.get("/v1/rules/{rule}", response_model=RuleDescription, tags=["rules"],
             summary="A rule: citation, source text, labels, versions")
    def rule(rule: str, request: Request, who: keyring.Caller = Depends(require("service"))):
        p = state.serving(request)
        r = rule_of(p, rule, public_only=False)
        return {"id": r.id, "instrument": r.instrument, "clause": r.clause, "citation": r.citation, "text": r.text,
                "label": {"en": r.label.en, "fr": r.label.fr}, "note": r.note, "decision": r.decision,
                "versions": [{"effective": plain(v.effective), "approved": plain(v.approved),
                              "to": plain(v.end) if v.end is None else plain(v.end.fromordinal(v.end.toordinal() - 1)),
                              "text": v.text} for v in r.versions],
                "policy_hash": p.policy_hash}

    # -- the log -------------------------------------------------------------------------------
    @api.get("/v1/log/{record_id:pe_hex}", tags=["log"], summary="A logged decision (public view unless auditor)",
             response_model=dict[str, Any])
    def log_record(record_id: str, request: Request, who: keyring.Caller = Depends(require("service"))):
        record, policies = _record(state, open_log, record_id)
        return _viewed(record, policies, who)

    @api.get("/v1/log/{record_id:pe_hex}/explain", tags=["log"], summary="A logged decision, explained",
             response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}},
                                          "text/html": {"schema": {"type": "string"}}}}})
    def log_explain(record_id: str, lang: Literal["en", "fr"] = "en", format: Literal["text", "html"] = "text",
                    who: keyring.Caller = Depends(require("service"))):
        record, policies = _record(state, open_log, record_id)
        shown = _viewed(record, policies, who)
        if format == "html":
            return HTMLResponse(render(shown, lang, policies))
        return PlainTextResponse(explain_record(shown, policies, lang))

    @api.get("/v1/log", tags=["log"], summary="Logged decisions matching every filter",
             response_model=list[dict[str, Any]])
    def log_list(decision: str | None = None, subject: str | None = None,
                 from_: str | None = Query(None, alias="from", pattern=DATE, json_schema_extra=DAY,
                                           description="Made on or after this day (UTC)"),
                 to: str | None = Query(None, pattern=DATE, json_schema_extra=DAY,
                                        description="Made on or before this day (UTC)"),
                 limit: int = Query(1000, ge=0, le=10_000),
                 who: keyring.Caller = Depends(require("service"))):
        for name, value in (("from", from_), ("to", to)):
            if value is not None:
                _day(name, value)
        with open_log() as dl:
            try:
                rows = dl.list(decision=decision, subject=subject, since=from_, until=to, limit=limit)
            except PolicyEngineError as exc:
                raise from_engine(exc) from None
        if not who.may("auditor"):  # a summary's value may be a specific salary: 6.3.1
            rows = [{**r, "value": "[withheld]" if r.get("value") is not None else None} for r in rows]
        return rows

    @api.post("/v1/log/verify", response_model=Verified, tags=["log"], summary="Verify the log's chain")
    def log_verify(head: str | None = Query(None, pattern=r"^[0-9]{1,18}:[0-9A-Fa-f]{64}$",
                                            description="SEQ:HASH filed earlier from the log's head"),
                   who: keyring.Caller = Depends(require("service"))):
        if head is not None:
            try:
                parse_head(head)
            except LogError as exc:  # the caller's mistake, not the log's
                raise Problem(422, "bad-request", "The request does not match the API", str(exc),
                              problems=[{"where": "query.head", "problem": str(exc)}]) from None
        with open_log() as dl:
            try:
                v = dl.verify(head=head)
                seq, digest = dl.head()
            except PolicyEngineError as exc:
                raise from_engine(exc) from None
        return {"ok": v.ok, "checked": v.checked, "first_bad_seq": v.first_bad_seq, "first_bad_id": v.first_bad_id,
                "problem": v.problem, "head": f"{seq}:{digest}"}

    # -- operations ----------------------------------------------------------------------------
    @api.post("/v1/admin/reload", response_model=Health, tags=["operations"],
              summary="Load the policy folder again (atomically; a broken folder is refused)")
    def reload(who: keyring.Caller = Depends(require("admin"))):
        try:
            fresh = state.reload()
        except PolicyError as exc:
            raise Problem(422, "bad-policies", "The policy folder is not valid; the old policies are kept", None,
                          problems=[str(p) for p in exc.problems]) from None
        return {"status": "reloaded", "policy_hash": fresh.policy_hash, "engine_version": __version__,
                "log": _public_log(state)}

    @api.get("/healthz", response_model=Health, tags=["operations"], summary="Alive")
    def healthz():
        return {"status": "alive", "engine_version": __version__}

    @api.get("/readyz", response_model=Health, tags=["operations"], summary="Policies loaded, log writable",
             responses={503: {"description": "Not ready", "content": {"application/json": {"schema": {"type": "object"}}}}})
    def readyz():
        problems = []
        if state.log:
            try:
                with DecisionLog.open(state.log) as dl:
                    dl.head()
                    if isinstance(dl, DecisionLog):  # writable: take the write lock, write nothing
                        dl._write(lambda tx: None)
            except PolicyEngineError as exc:
                problems.append(str(exc))
        body = {"status": "ready" if not problems else "not ready", "policy_hash": state.policies.policy_hash,
                "engine_version": __version__, "log": _public_log(state), "problems": problems}
        return JSONResponse(body, status_code=200 if not problems else 503)

    return api


# -- helpers -------------------------------------------------------------------------------------
class DecisionJSON(JSONResponse):
    """A decision as JSON: by orjson when installed (a decision with its audit trace is 2-8 KB,
    which json.dumps takes 20-60 µs to write and orjson 1-4), else as JSONResponse does.  The
    JSON value is the same: the engine refuses non-finite numbers in facts, and anything
    orjson cannot write (an integer past 64 bits) goes to json."""

    def render(self, content) -> bytes:
        if orjson is not None:
            try:
                return orjson.dumps(content)
            except TypeError:  # orjson.JSONEncodeError is one
                pass
        return super().render(content)


def _with_log_id(rendered: bytes, log_id: str) -> Response:
    """DecisionJSON({**out, "log_id": log_id}) from DecisionJSON(out).body, with its Location: the
    same bytes, since both renderings are compact and log_id comes last."""
    return Response(rendered[:-1] + b',"log_id":"' + log_id.encode("ascii") + b'"}', media_type=DecisionJSON.media_type,
                    headers={"Location": f"/v1/log/{log_id}"})


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # DATE, as pydantic applies it (no newline before the end)
_EVALUATE_FIELDS = frozenset(EvaluateRequest.model_fields)
assert _EVALUATE_FIELDS == {"facts", "as_of", "known_on", "trace", "lang", "presume", "subject_id"}, \
    "EvaluateRequest changed: change _plain_request with it"


def _plain_request(headers, body: bytes, keys):
    """(caller, facts, as_of, known_on, trace, presume, lang, subject_id) of an evaluate request
    that FastAPI would pass as it is: a JSON body that EvaluateRequest (strict, no extra fields)
    accepts, and a key with the service role.  None for anything else, which then goes to the
    documented route, so pydantic stays the one judge of what is wrong and how it is worded.
    This check only ever says yes where pydantic says yes (tests/test_http.py compares them)."""
    ctype = key = auth = None
    for name, value in headers:
        if name == b"content-type" and ctype is None:
            ctype = value
        elif name == b"x-api-key" and key is None:
            key = value
        elif name == b"authorization" and auth is None:
            auth = value
    if ctype is None or ctype.split(b";", 1)[0].strip().lower() != b"application/json":
        return None
    presented = key.decode("latin-1") if key else None  # as APIKeyHeader: an empty header is none
    if not presented and auth:
        text = auth.decode("latin-1")
        presented = text[7:].strip() if text.lower().startswith("bearer ") else None
    who = keyring.identify(keys, presented)
    if who is None or not who.may("service"):
        return None
    try:
        b = json.loads(body)  # what Request.json() does
    except (ValueError, RecursionError):
        return None
    if type(b) is not dict or not b.keys() <= _EVALUATE_FIELDS:
        return None
    facts, as_of, known_on = b.get("facts", {}), b.get("as_of"), b.get("known_on")
    trace, lang, presume, subject = b.get("trace", "audit"), b.get("lang"), b.get("presume", True), b.get("subject_id")
    if (type(facts) is not dict or type(as_of) is not str or not _DAY.fullmatch(as_of)
            or not (known_on is None or type(known_on) is str and _DAY.fullmatch(known_on))
            or type(trace) is not str or trace not in ("none", "audit", "full")
            or not (lang is None or type(lang) is str and lang in ("en", "fr"))
            or type(presume) is not bool
            or not (subject is None or type(subject) is str and len(subject) <= 200 and _text(subject))):
        return None
    return who, dict(facts), as_of, known_on, trace, presume, lang, subject


def _text(s: str) -> bool:
    """pydantic refuses a string with a lone surrogate (JSON can write one as \\ud800)."""
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _public_log(state: State) -> str | None:
    if not state.log:
        return None
    from ..audit.postgres_log import _public
    return _public(str(state.log))


def _summary(p: Policies, did: str) -> dict:
    r = p.rules[did]
    return {"id": did, "instrument": r.instrument, "citation": r.citation,
            "label": {"en": r.label.en, "fr": r.label.fr}, "facts": p.facts_of(did)}


def _record(state: State, open_log, record_id: str):
    with open_log() as dl:
        try:
            record = dl.get(record_id)
        except LogError as exc:  # what the id names (or does not): the caller's side, not the log's
            text = str(exc)
            if "more than one record" in text:
                raise Problem(422, "ambiguous-record-id", "The record id prefix matches more than one record",
                              text) from None
            if any(s in text for s in ("no record with id", "is not a record id", "is too short")):
                raise Problem(404, "unknown-record", "No such log record", text) from None
            raise from_engine(exc) from None
        try:
            policies = state.logged_policies(dl, record["policy_hash"])
        except PolicyEngineError as exc:
            raise from_engine(exc) from None
    return record, policies


def _day(name: str, value: str) -> None:
    """A query date that has the shape YYYY-MM-DD but is no date is the caller's mistake (422)."""
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise Problem(422, "bad-request", "The request does not match the API", f"{name}: {value!r}: {exc}",
                      problems=[{"where": f"query.{name}", "problem": f"{value!r} is not a date: {exc}"}]) from None


def _viewed(record: dict, policies, who: keyring.Caller) -> dict:
    """The record as this caller may see it: full for auditors, else the public view (6.3.1)."""
    return redacted(record, policies, "full" if who.may("auditor") else "public")


class _Unreadable:
    """A line of a JSON-lines batch that is not JSON: reported as its row, the others decided."""

    def __init__(self, why: str):
        self.why = why


def _cases(body: bytes, content_type: str) -> list:
    """The cases of a batch body: a JSON array, or JSON lines; each checked like one request."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "malformed-json", "The body is not UTF-8 text") from None
    if "ndjson" in content_type or "jsonl" in content_type:
        items = []
        for line in text.splitlines():
            if line.strip():
                try:
                    items.append(json.loads(line))
                except (ValueError, RecursionError) as exc:
                    items.append(_Unreadable(str(exc)[:200]))
    else:
        try:
            items = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise Problem(400, "malformed-json", "The body is not valid JSON", str(exc)[:200]) from None
    if not isinstance(items, list):
        raise Problem(422, "bad-request", "A batch is a JSON array of cases, or JSON lines")
    if len(items) > MAX_BATCH:
        # 422, not 413: the body may be small; the count breaks the declared maxItems
        raise Problem(422, "batch-too-large", "Too many cases in one batch",
                      f"{len(items)} cases; at most {MAX_BATCH} per request")
    return items


def _case(row: int, raw):
    """(BatchCase, None) or (None, the row's problem line)."""
    if isinstance(raw, _Unreadable):
        return None, {"row": row, "problem": {"status": 400, "title": "The line is not valid JSON", "detail": raw.why}}
    try:
        return BatchCase.model_validate(raw), None
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError, reported as the row's problem
        errors = getattr(exc, "errors", lambda: [])()
        return None, {"row": row, "problem": {"status": 422, "title": "The case does not match the API",
                                              "problems": [{"where": ".".join(map(str, e.get("loc", ()))),
                                                            "problem": e.get("msg", "")} for e in errors]}}


_DAY_COLUMN, _KNOWN_COLUMN = "\0as_of", "\0known_on"  # no fact can be named so


def _rows_view(p: Policies, decision: str, raw_cases: list) -> list[dict]:
    """The rows view of a batch: every valid case decided together by evaluate_batch (cases
    with and without known_on in two calls), each line in the order of the body."""
    from ..batch.engine import evaluate_batch
    lines: list = [None] * len(raw_cases)
    groups: dict = {False: [], True: []}
    for row, raw in enumerate(raw_cases, 1):
        case, problem = _case(row, raw)
        if problem is not None:
            lines[row - 1] = problem
        else:
            groups[case.known_on is not None].append((row, case))
    for known, cases in groups.items():
        if not cases:
            continue
        data = [{**c.facts, _DAY_COLUMN: c.as_of, **({_KNOWN_COLUMN: c.known_on} if known else {})} for _, c in cases]
        table, rows = evaluate_batch(p, decision, data, as_of_column=_DAY_COLUMN,
                                     known_on_column=_KNOWN_COLUMN if known else None, _keep=True)
        cols = table.to_pydict()
        for i, (row, c) in enumerate(cases):
            if cols["status"][i] == "error":
                lines[row - 1] = {"row": row, "problem": {
                    "status": 422, "title": "The case cannot be decided",
                    "problems": [{"fact": e["fact"], "problem": e["problem"]} for e in cols["errors"][i]]}}
                continue
            lines[row - 1] = {"row": row, "decision": decision, "as_of": c.as_of, "known_on": c.known_on,
                              "status": cols["status"][i], "value": plain(rows.value(i)),
                              "clauses": cols["clauses"][i], "missing": cols["missing"][i],
                              "assumptions": cols["assumptions"][i], "messages": cols["messages"][i],
                              "subject_id": c.subject_id, "policy_hash": p.policy_hash}
    return lines


def _one(state: State, p: Policies, decision: str, row: int, raw, request: Request) -> dict:
    """One case of a batch: its decision, or the problem with it, never an interruption."""
    case, problem = _case(row, raw)
    if problem is not None:
        return problem
    try:
        d = p.evaluate(decision, case.facts, case.as_of, trace="audit", known_on=case.known_on)
        state.record_now(p, d, case.subject_id, getattr(request.state, "request_id", None))
    except Exception as exc:  # noqa: BLE001 - one row's failure never stops the others
        if not isinstance(exc, PolicyEngineError):
            LOG.exception("request %s: batch row %s failed", getattr(request.state, "request_id", "?"), row)
        pr = from_engine(exc)
        return {"row": row, "problem": {"status": pr.status, "title": pr.title, "detail": pr.detail,
                                        **({"problems": pr.extra["problems"]} if "problems" in pr.extra else {})}}
    out = d.to_dict()
    if d.log_id:
        out["log_id"] = d.log_id
    return {"row": row, **out}


__all__ = ["app", "State", "InputError"]
