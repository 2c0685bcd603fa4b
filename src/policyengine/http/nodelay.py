"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, whatever socket it came from.

asyncio turns Nagle off only on sockets it creates itself.  With `serve --workers N` uvicorn's
supervisor binds the socket and hands it to the workers, asyncio leaves Nagle on, and a response
written as head then body waits for the client's delayed ACK: ~40 ms per request on a keep-alive
connection (benchmarks/README.md, HTTP).  Same protocol otherwise: httptools if installed, else h11.
"""
from __future__ import annotations

import socket

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Base
except ImportError:  # no httptools: uvicorn's "auto" is h11 too
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Base


class NoDelayProtocol(_Base):
    def connection_made(self, transport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        super().connection_made(transport)
