"""doodle studio: paint a doodle in the browser beside the painting, and watch it being painted.

A local web server (Starlette on uvicorn, the ``studio`` extra) around one :class:`~doodle.Painter`,
so the network and the painting's features stay loaded between paints::

    pip install -e ".[studio]"
    doodle studio --style samples/seaside.png
"""

from __future__ import annotations

import socket

from ..errors import DoodleError

__all__ = ["serve", "bind"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or a :class:`DoodleError` saying why not."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as error:
        reason = (
            "is in use; choose another with `port`" if error.errno == 98 else f"cannot be opened ({error.strerror})"
        )
        raise DoodleError(f"{host}:{port} {reason}") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def serve(session, sock: socket.socket) -> None:
    """Serve the studio for ``session`` (a :class:`~doodle.studio.session.Session`) on ``sock`` until Ctrl-C."""
    import uvicorn

    from .app import create_app

    config = uvicorn.Config(create_app(session), log_level="warning", timeout_graceful_shutdown=3, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
