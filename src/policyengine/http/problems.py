"""Errors as RFC 9457 problem details (`application/problem+json`), in the categories the
command line uses: the engine's own errors become a status, a title and the problems one
by one; nothing else ever shows a stack trace."""
from __future__ import annotations

import re

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..audit.chain import LogError
from ..errors import (EvaluationError, InputError, NotInForceError, PolicyEngineError, PolicyError,
                      UnknownDecisionError)

PROBLEM = "application/problem+json"
BASE = "https://policyengine.example/problems/"  # types are documented in README.md, "HTTP API"
_FACT = re.compile(r"^(?:fact '([^']+)'|unknown fact '([^']+)')")


class Problem(Exception):
    """A problem to send: raised by the endpoints, rendered by `problem_response`."""

    def __init__(self, status: int, kind: str, title: str, detail: str | None = None,
                 headers: dict[str, str] | None = None, **extra):
        super().__init__(detail or title)
        self.status, self.kind, self.title, self.detail, self.extra = status, kind, title, detail, extra
        self.headers = dict(headers or {})  # e.g. Allow on a 405, WWW-Authenticate on a 401


def problem_body(p: Problem, request: Request | None = None) -> dict:
    """The problem details object (RFC 9457) of `p`."""
    body = {"type": BASE + p.kind, "title": p.title, "status": p.status}
    if p.detail:
        body["detail"] = p.detail
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    body.update(p.extra)
    return body


def problem_response(p: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(problem_body(p, request), status_code=p.status, media_type=PROBLEM, headers=p.headers)


def fact_problems(problems: list[str]) -> list[dict]:
    """Each input problem with the fact it names, so a client can mark the field."""
    out = []
    for text in problems:
        m = _FACT.match(text)
        out.append({"fact": (m.group(1) or m.group(2)) if m else None, "problem": text})
    return out


def from_engine(exc: Exception) -> Problem:
    """The engine's error as the problem a client is told."""
    if isinstance(exc, UnknownDecisionError):
        return Problem(404, "unknown-decision", "Unknown decision", str(exc))
    if isinstance(exc, InputError):
        return Problem(422, "bad-facts", "The facts are not valid", "; ".join(exc.problems),
                       problems=fact_problems(exc.problems))
    if isinstance(exc, NotInForceError):
        return Problem(422, "not-in-force", "Not in force on that date", str(exc), instrument=exc.instrument)
    if isinstance(exc, EvaluationError):
        return Problem(422, "cannot-compute", "The decision cannot be computed for these facts", str(exc))
    if isinstance(exc, PolicyError):
        return Problem(422, "bad-policies", "The policy files are not valid", None,
                       problems=[str(p) for p in exc.problems])
    if isinstance(exc, LogError):
        return Problem(503, "log-unavailable", "The decision log cannot do what was asked", str(exc))
    return Problem(500, "internal", "Internal error", "The server could not answer; the error was logged "
                                                      "with the request id.")


def install(app) -> None:
    """Every error the app can meet, as problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(PolicyEngineError)
    async def _engine(request: Request, exc: PolicyEngineError):  # an engine error no endpoint caught
        return problem_response(from_engine(exc), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"where": ".".join(str(x) for x in e.get("loc", ())), "problem": e.get("msg", "")}
                  for e in exc.errors()]
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            why = "; ".join(str((e.get("ctx") or {}).get("error") or e.get("msg", "")) for e in exc.errors()
                            if e.get("type") == "json_invalid")
            return problem_response(Problem(400, "malformed-json", "The body is not valid JSON", why), request)
        return problem_response(Problem(422, "bad-request", "The request does not match the API",
                                        "; ".join(f"{e['where']}: {e['problem']}" for e in errors),
                                        problems=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        kinds = {404: ("not-found", "Not found"), 405: ("method-not-allowed", "Method not allowed"),
                 413: ("body-too-large", "Body too large")}
        kind, title = kinds.get(exc.status_code, ("http", "HTTP error"))
        return problem_response(Problem(exc.status_code, kind, title, str(exc.detail),
                                        headers=getattr(exc, "headers", None)), request)

    @app.exception_handler(Exception)
    async def _any(request: Request, exc: Exception):
        import logging
        logging.getLogger("policyengine.http").exception("request %s failed",
                                                        getattr(request.state, "request_id", "?"))
        return problem_response(from_engine(exc), request)
