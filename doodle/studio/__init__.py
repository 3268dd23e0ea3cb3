"""doodle studio: paint a doodle in the browser beside the painting, and watch it being painted.

A local web server (Starlette on uvicorn, the ``studio`` extra) around one :class:`~doodle.Painter`,
so the network and the painting's features stay loaded between paints::

    pip install -e ".[studio]"
    doodle studio --style samples/seaside.png
"""

from __future__ import annotations

import asyncio
import logging
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
    """Serve the studio for ``session`` (a :class:`~doodle.studio.session.Session`) on ``sock`` until Ctrl-C.

    Ctrl-C ends the page's event streams and asks the running paint to stop at once, waits for its
    thread (within seconds: it stops at its next check), then raises :class:`KeyboardInterrupt`."""
    import uvicorn

    from .app import closing, create_app

    app = create_app(session)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            closing(app)  # (uvicorn waits for open responses: an event stream would be cut off with a traceback)
            await super().shutdown(sockets)
            if self.force_exit:  # a second Ctrl-C: uvicorn leaves out the app's shutdown, which waits for the paint
                await self.lifespan.shutdown()

    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=_GRACE_SECONDS, lifespan="on")
    quiet = _QuietCancel()
    logger = logging.getLogger("uvicorn.error")
    logger.addFilter(quiet)
    try:
        Server(config).run(sockets=[sock])
    finally:
        logger.removeFilter(quiet)
        session.close()  # (done by the app's shutdown, unless the server failed)


_GRACE_SECONDS = 1.0  # a request still running this long after Ctrl-C (an upload, a preview) is cut off


class _QuietCancel(logging.Filter):
    """Drops uvicorn's report of the requests it cuts off at shutdown (a traceback each): Ctrl-C meant it."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info is not None and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not cancelled and "timeout graceful shutdown exceeded" not in record.getMessage()
