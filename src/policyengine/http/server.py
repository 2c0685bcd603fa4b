"""`policyengine serve`: the decision API under uvicorn.

Without API keys the server binds to loopback only and says so; SIGHUP reloads the
policies (as POST /v1/admin/reload does); SIGTERM stops accepting connections and lets the
requests in flight finish, so no acknowledged log record is lost.
"""
from __future__ import annotations

import gc
import ipaddress
import logging
import os
import signal
import sys
import threading

from ..errors import InputError, PolicyError
from . import keys as keyring

LOOPBACK = ("127.0.0.1", "::1", "localhost")
_ENV = {k: f"POLICYENGINE_SERVE_{k.upper()}" for k in ("policies", "log", "keys", "max_body")}


LOG_FORMAT = "%(asctime)s %(name)s %(message)s"
# the same for one process or N workers: policyengine.http.access writes the one access line
# per request (with its request id), so uvicorn's own is off; Nagle off in workers too (nodelay.py)
UVICORN = {"log_level": "info", "access_log": False, "timeout_graceful_shutdown": 30,
           "http": "policyengine.http.nodelay:NoDelayProtocol"}


def _logging() -> None:
    """INFO to stderr, as cheaply as the logging module allows: the format names no thread,
    process or source line, so they are not looked up for every record (the logging HOWTO,
    "Optimization"); one access line per request costs ~30 µs instead of ~40."""
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def _factory():
    """The app of one worker process, when `serve --workers N` runs several: set up as the
    single process is (logging, and the loaded policies kept out of garbage collection)."""
    from .api import app
    _logging()
    api = app(os.environ[_ENV["policies"]], log=os.environ.get(_ENV["log"]) or None,
              keys=keyring.load(os.environ.get(_ENV["keys"]) or None), max_body=int(os.environ[_ENV["max_body"]]))
    gc.freeze()
    return api


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_parser(subparsers, default_policies: str) -> None:
    s = subparsers.add_parser("serve", help="serve the decision API over HTTP (OpenAPI at /openapi.json, docs at /docs)",
                              description="Serve the decision API (see README, HTTP API). Policies are loaded once; "
                                          "SIGHUP or POST /v1/admin/reload reloads them atomically.")
    s.add_argument("--policies", default=default_policies, metavar="DIR", help="policy folder (default: %(default)s)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s; without --keys, "
                                                        "loopback only)")
    s.add_argument("--port", type=int, default=8080, help="port (default: %(default)s)")
    s.add_argument("--log", metavar="PATH|URL", help="append every decision to this decision log (SQLite file or "
                                                     "postgresql:// URL)")
    s.add_argument("--keys", metavar="FILE", help=f"API keys and roles, one 'KEY ROLE [NAME]' per line (or ${keyring.ENV})")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default: %(default)s)")
    s.add_argument("--max-body", type=int, default=8 * 1024 * 1024, metavar="BYTES",
                   help="largest request body accepted (default: %(default)s)")


def run(args) -> int:
    try:
        import uvicorn
    except ImportError:
        print("error: `serve` needs the http extra: pip install 'policyengine[http]'", file=sys.stderr)
        return 2
    keys = keyring.load(args.keys)
    if keys is None and not _is_loopback(args.host):
        raise InputError([f"--host {args.host}: without --keys the server binds to loopback only "
                          f"(127.0.0.1 or ::1); give --keys FILE to serve other hosts"])
    _logging()
    log = logging.getLogger("policyengine.http")
    if keys is None:
        log.warning("no API keys: serving loopback only, every caller has the service role (public views)")
    from .api import app
    try:
        api = app(args.policies, log=args.log, keys=keys, max_body=args.max_body)
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    state = api.state.engine

    def reload_now():
        try:
            fresh = state.reload()
            gc.unfreeze()  # let the old policies go once the requests using them are done,
            gc.collect()
            gc.freeze()  # and keep the new ones out of every collection
            log.info("policies reloaded: %s", fresh.policy_hash)
        except PolicyError as exc:
            log.error("reload refused, old policies kept:\n%s", exc)
        except Exception:  # noqa: BLE001 - a reload that fails for any reason keeps the old policies
            log.exception("reload failed, old policies kept")

    def reload(*_):
        # Off the signal handler: the handler runs on the event loop's thread, and a second
        # SIGHUP arriving during a load would wait forever for the lock the first one holds.
        threading.Thread(target=reload_now, name="policyengine-reload", daemon=True).start()

    if args.workers > 1:  # uvicorn's supervisor restarts workers on SIGHUP; each loads the folder anew
        os.environ.update({_ENV["policies"]: str(args.policies), _ENV["log"]: args.log or "",
                           _ENV["keys"]: args.keys or "", _ENV["max_body"]: str(args.max_body)})
        uvicorn.run(f"{__name__}:_factory", factory=True, host=args.host, port=args.port, workers=args.workers,
                    **UVICORN)
        return 0
    gc.freeze()  # the loaded policies live as long as the server: keep them out of every collection
    server = uvicorn.Server(uvicorn.Config(api, host=args.host, port=args.port, **UVICORN))

    def stop(*_):
        # SIGTERM/SIGINT before uvicorn takes over (it then never starts serving), and again
        # when uvicorn re-raises the signal it handled after its graceful shutdown: without
        # this handler that re-raise kills the process (-15, or a KeyboardInterrupt traceback)
        # although every request in flight finished; with it, the exit status is 0.
        server.should_exit = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    log.info("serving %s on http://%s:%s (policies %s)", args.policies, args.host, args.port,
             state.policies.policy_hash)
    server.run()
    return 0
