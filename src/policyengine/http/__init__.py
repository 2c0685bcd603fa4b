"""The decision API over HTTP: `policyengine.http.app(policies, log=..., keys=...)` builds the
ASGI application (api.py), `policyengine serve` runs it (server.py).  Needs the `http` extra
(FastAPI, uvicorn); nothing here is imported until it is used, so the CLI starts without it."""


def app(policies="policies", log=None, keys=None, **options):
    """The decision API as an ASGI app, to run under any ASGI server or mount in another app."""
    from .api import app as build
    return build(policies, log=log, keys=keys, **options)
