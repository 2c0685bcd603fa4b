"""Per request, before any endpoint: a request id (X-Request-ID, generated if absent), a
bound on the body, and one access-log line.  Plain ASGI, so streaming responses pass through."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.exceptions import HTTPException

ACCESS = logging.getLogger("policyengine.http.access")
LOG = logging.getLogger("policyengine.http")
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BASE = "https://policyengine.example/problems/"


class Limits:
    max_body = 8 * 1024 * 1024  # bytes of one request body


def _problem(status: int, kind: str, title: str, detail: str, rid: str) -> tuple[dict, bytes]:
    body = json.dumps({"type": BASE + kind, "title": title, "status": status, "detail": detail,
                       "request_id": rid}).encode()
    return {"type": "http.response.start", "status": status,
            "headers": [(b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode())]}, body


class _TooLarge(HTTPException):
    """Raised from `receive` when the body passes the limit.  An HTTPException, so the body
    parsers re-raise it as it is and the app's handler answers 413 as problem details (a plain
    exception there would become FastAPI's "400 error parsing the body", or a 500)."""

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


class RequestContext:
    """`direct(scope, receive, send, rest)`, when given, sees each request first and answers it
    or hands it to `rest` (the app's own stack: routing, dependencies, exception handlers)."""

    def __init__(self, app, max_body: int = Limits.max_body, policy_hash=lambda: "", direct=None):
        self.app, self.max_body = app, max_body
        self.policy_hash = policy_hash  # the hash of the policies serving now, for X-Policy-Hash
        self.direct = direct

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        start, status, started = time.perf_counter(), [0], [False]
        limit = self.max_body

        async def answer(status_code: int, kind: str, title: str, detail: str) -> None:
            head, body = _problem(status_code, kind, title, detail, rid)
            await tagged_send(head)
            await tagged_send({"type": "http.response.body", "body": body})

        async def bounded_receive():
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise _TooLarge(limit)
            return message

        async def tagged_send(message):
            if message["type"] == "http.response.start":
                status[0], started[0] = message["status"], True
                # the hash of the policies this request was answered under (set by the endpoint), else current
                served = scope["state"].get("policy_hash") or self.policy_hash()
                message = {**message, "headers": list(message.get("headers", [])) + [
                    (b"x-request-id", rid.encode()), (b"x-policy-hash", served.encode())]}
            await send(message)

        seen = [0]
        length = headers.get(b"content-length")
        try:
            if length is not None and length.strip().isdigit() and int(length) > limit:
                await answer(413, "body-too-large", "Body too large", f"the request body is larger than {limit} bytes")
            elif self.direct is not None:
                await self.direct(scope, bounded_receive, tagged_send, self.app)
            else:
                await self.app(scope, bounded_receive, tagged_send)
        except _TooLarge:  # only if it got past the app's handlers
            if started[0]:
                raise
            await answer(413, "body-too-large", "Body too large", f"the request body is larger than {limit} bytes")
        except Exception:  # noqa: BLE001 - never a stack trace in a response; the log has it, with the request id
            LOG.exception("request %s failed", rid)
            if started[0]:  # a streamed response already under way: the client sees it cut short
                ACCESS.info("%s %s %s %s %.1fms (failed while streaming)", rid, scope.get("method"),
                            scope.get("path"), status[0], (time.perf_counter() - start) * 1000)
                raise
            await answer(500, "internal", "Internal error",
                         "The server could not answer; the error was logged with the request id.")
        ACCESS.info("%s %s %s %s %.1fms", rid, scope.get("method"), scope.get("path"), status[0],
                    (time.perf_counter() - start) * 1000)
