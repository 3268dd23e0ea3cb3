"""The studio's web side: a Starlette app serving the page (shipped in ``static/``) and a small JSON API.

Nothing here takes a path from the page: images come as uploaded bytes, label maps as label indices.

==========================================  ============================================================
``GET  /``                                  the page
``GET  /api/state``                         the painting, its palette, the defaults, whether a paint runs
``GET  /api/painting.png`` ``/map.png``     the painting and its map
``GET  /api/swatch/{k}.png``                what label ``k`` looks like in the painting
``GET  /api/labels?width=&height=``         the painting's own map as indices, at a doodle's size
``POST /api/painting``                      open another painting (with its map, or one proposed by segment)
``POST /api/map``                           an uploaded map as indices (its labels checked, snapped)
``POST /api/paint``                         paint a doodle; 409 while another paint runs
``POST /api/preview``                       the doodle painted by the trained painter (JPEG), at once
``GET  /api/jobs/{id}/events``              the paint's progress and previews, as server-sent events
``POST /api/stop``                          stop the running paint
``GET  /api/jobs/{id}/result.png``          the result
==========================================  ============================================================
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import semantic_maps

from ..errors import DoodleError
from ..settings import format_iterations, parse_iterations
from .session import (
    MAX_OUTPUT_SIDE,
    MAX_UPLOAD_BYTES,
    Busy,
    Painting,
    Session,
    decode_image,
    encode_png,
    scale_indices,
)

__all__ = ["create_app", "closing"]

STATIC = Path(__file__).parent / "static"
_MAX_BODY = 2 * (MAX_UPLOAD_BYTES * 4 // 3 + 1024)  # two images, base64-encoded, in one JSON body
_POLL_SECONDS = 0.05


class _TooLarge(DoodleError):
    pass


async def _json(request: Request) -> dict:
    """The request's JSON object, read up to :data:`_MAX_BODY` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > _MAX_BODY:
        raise _TooLarge(f"the upload is {int(declared) / 2**20:.0f} MB; at most {MAX_UPLOAD_BYTES // 2**20} MB a file")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            raise _TooLarge(
                f"the upload is over {_MAX_BODY // 2**20} MB; at most {MAX_UPLOAD_BYTES // 2**20} MB a file"
            )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise DoodleError("the request is not JSON") from None
    if not isinstance(data, dict):
        raise DoodleError("the request is not a JSON object")
    return data


def _bytes(value: object, what: str) -> bytes:
    """A data URL (``data:image/png;base64,...``) or plain base64 -> bytes."""
    if not isinstance(value, str) or not value:
        raise DoodleError(f"{what}: missing")
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DoodleError(f"{what}: not base64 data") from None


def _whole(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DoodleError(f"{what} must be a whole number")
    try:
        number = int(value)
    except (ValueError, OverflowError):  # (JSON's 1e400 is infinity)
        raise DoodleError(f"{what} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise DoodleError(f"{what} must be from {low} to {high}, got {number}")
    return number


def _size(values) -> tuple[int, int]:
    """``(width, height)`` from a request's ``width`` and ``height`` (JSON body or query)."""
    return tuple(_whole(values.get(name), name, 1, MAX_OUTPUT_SIDE) for name in ("width", "height"))


def _labels_json(labels: np.ndarray) -> dict:
    height, width = labels.shape
    return {"width": width, "height": height, "labels": base64.b64encode(labels.tobytes()).decode("ascii")}


def _doodle(data: dict) -> np.ndarray:
    """The doodle a request sends: ``labels`` (base64 bytes, one label index a pixel), ``width``,
    ``height``. -> ``(height, width) uint8``."""
    width, height = _size(data)
    raw = _bytes(data.get("labels"), "doodle")
    if len(raw) != width * height:
        raise DoodleError(f"doodle: {len(raw)} labels for a {width}x{height} image")
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width)


def _options(data: object) -> dict:
    """The paint settings the page may choose, checked: the rest come from ``doodle studio``'s options."""
    if not isinstance(data, dict):
        raise DoodleError("options must be an object")
    unknown = set(data) - {"iterations", "style_weight", "semantic_weight", "position_guide", "random_seed"}
    if unknown:
        raise DoodleError(f"unknown option(s): {', '.join(sorted(unknown))}")
    options = {}
    if "iterations" in data:
        options["iterations"] = parse_iterations(str(data["iterations"]))
    for name in ("style_weight", "semantic_weight", "position_guide"):
        if name in data:
            try:
                options[name] = float(data[name])
            except (TypeError, ValueError):
                raise DoodleError(f"{name.replace('_', ' ')} must be a number, got {data[name]!r}") from None
            if not math.isfinite(options[name]):  # (JSON's 1e400 is infinity)
                raise DoodleError(f"{name.replace('_', ' ')} must be a finite number, got {data[name]!r}")
    if "random_seed" in data:
        options["random_seed"] = _whole(data["random_seed"], "seed", 0, 2**31 - 1)
    return options


def _session(request: Request) -> Session:
    return request.app.state.session


def _painting(request: Request) -> Painting:
    session = _session(request)
    if session.painting is None:
        raise DoodleError("no painting yet: open one first")
    return session.painting


def state(request: Request) -> JSONResponse:
    session = _session(request)
    settings = session.settings
    current = session.painting
    described = None
    if current is not None:
        height, width = current.map.shape[:2]
        described = {
            "name": current.name,
            "width": width,
            "height": height,
            "palette": [semantic_maps.to_hex(colour) for colour in current.palette],
            "scaled_from": current.original,
        }
    size = settings.output_size or (None if current is None else (described["width"], described["height"]))
    job = session.job
    return JSONResponse(
        {
            "painting": described,
            "busy": session.busy,
            "preview": session.can_preview,
            "job": None if job is None else job.id,
            "defaults": {
                "width": None if size is None else size[0],
                "height": None if size is None else size[1],
                "iterations": format_iterations(settings.iterations),
                "style_weight": settings.style_weight,
                "semantic_weight": settings.semantic_weight,
                "position_guide": settings.position_guide,
                "random_seed": settings.random_seed,
            },
        }
    )


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


def painting_png(request: Request) -> Response:
    return _png(encode_png(_painting(request).image))


def map_png(request: Request) -> Response:
    return _png(encode_png(_painting(request).map))


def swatch_png(request: Request) -> Response:
    current = _painting(request)
    label = _whole(request.path_params["label"], "label", 0, len(current.palette) - 1)
    return _png(encode_png(current.swatch(label)))


def painting_labels(request: Request) -> JSONResponse:
    return JSONResponse(_labels_json(scale_indices(_painting(request).map_indices, _size(request.query_params))))


async def open_painting(request: Request) -> JSONResponse:
    session = _session(request)
    data = await _json(request)
    name = str(data.get("name") or "uploaded painting")[:80]
    image = decode_image(_bytes(data.get("image"), name), what=name)
    map_rgb = decode_image(_bytes(data["map"], f"{name} map"), what=f"{name} map") if data.get("map") else None
    labels = _whole(data.get("labels", 5), "labels", 2, 12)
    session.set_painting(await run_in_threadpool(Painting.open, image, map_rgb, name, labels=labels))
    return state(request)


async def upload_map(request: Request) -> JSONResponse:
    data = await _json(request)
    current = _painting(request)
    name = str(data.get("name") or "uploaded map")[:80]
    size = _size(data)
    rgb = decode_image(_bytes(data.get("image"), name), what=name)
    try:
        semantic_maps.shared_palette(current.map, rgb, target_name=name, style_name=f"{current.name} map")
    except semantic_maps.MapError as error:
        # (a doodle here is label indices: a colour outside the palette has nowhere to go: no hint)
        raise DoodleError(error.message, path=error.path) from None
    return JSONResponse(_labels_json(scale_indices(current.label_indices(rgb), size)))


async def paint(request: Request) -> JSONResponse:
    session = _session(request)
    data = await _json(request)
    job = session.start(_doodle(data), _options(data.get("options", {})))
    return JSONResponse({"job": job.id})


async def preview(request: Request) -> Response:
    session = _session(request)
    data = await _json(request)
    seed = _options({"random_seed": data.get("random_seed", 0)})["random_seed"]
    image = await run_in_threadpool(session.preview, _doodle(data), seed)
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def _job_of(request: Request):
    job = _session(request).job
    if job is None or str(job.id) != request.path_params["job"]:
        raise DoodleError("no such painting (a newer one replaced it)")
    return job


async def events(request: Request) -> StreamingResponse:
    job = _job_of(request)
    closing = request.app.state.closing

    async def stream():
        # Ends with the paint, or as the server shuts down (Ctrl-C): uvicorn waits for open responses.
        index = 0
        while not closing.is_set():
            while index < len(job.events):
                yield f"data: {json.dumps(job.events[index])}\n\n"
                index += 1
            if job.finished and index >= len(job.events):
                break
            await asyncio.sleep(_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def stop(request: Request) -> JSONResponse:
    session = _session(request)
    return JSONResponse({"stopping": session.stop()})


def result(request: Request) -> Response:
    job = _job_of(request)
    if job.result is None:
        raise DoodleError("this painting has no result (yet)")
    return _png(job.result)


def page(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def refuse(request: Request, error: Exception) -> JSONResponse:
    status = 409 if isinstance(error, Busy) else 413 if isinstance(error, _TooLarge) else 400
    return JSONResponse({"error": str(error)}, status_code=status)


def create_app(session: Session) -> Starlette:
    """The studio's ASGI app around ``session`` (see :class:`~doodle.studio.session.Session`).
    :func:`closing` tells it the server is shutting down."""

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        # A running paint ends at its next stop check (within seconds); the server waits for it.
        await run_in_threadpool(session.close)

    routes = [
        Route("/", page),
        Route("/api/state", state),
        Route("/api/painting.png", painting_png),
        Route("/api/map.png", map_png),
        Route("/api/swatch/{label}.png", swatch_png),
        Route("/api/labels", painting_labels),
        Route("/api/painting", open_painting, methods=["POST"]),
        Route("/api/map", upload_map, methods=["POST"]),
        Route("/api/paint", paint, methods=["POST"]),
        Route("/api/preview", preview, methods=["POST"]),
        Route("/api/stop", stop, methods=["POST"]),
        Route("/api/jobs/{job}/events", events),
        Route("/api/jobs/{job}/result.png", result),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={DoodleError: refuse}, lifespan=lifespan)
    app.state.session = session
    app.state.closing = threading.Event()
    return app


def closing(app: Starlette) -> None:
    """The server is shutting down: end the event streams (the server would wait for them) and ask
    the running paint to stop."""
    app.state.closing.set()
    app.state.session.stop()
