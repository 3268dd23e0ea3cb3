"""What the studio holds between requests, apart from the web: the painting with its map and
palette, one :class:`~doodle.Painter`, and the one paint that may be under way.

Label maps travel between the page and here as label indices, one byte per pixel
(``(H, W) uint8``, an index into the painting's palette), never as anti-aliased colours.
"""

from __future__ import annotations

import base64
import io
import itertools
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

import semantic_maps

from ..errors import Cancelled, DoodleError, as_python
from ..generator import TrainedPainter
from ..images import png_record, to_pil
from ..painter import Painter, Step
from ..settings import MIN_SIZE, PaintSettings

__all__ = [
    "Painting",
    "StudioPaint",
    "Session",
    "Busy",
    "decode_image",
    "encode_png",
    "MAX_UPLOAD_BYTES",
    "MAX_SIDE",
    "scale_indices",
    "default_memory_limit",
]

MAX_UPLOAD_BYTES = 16 * 2**20  # one uploaded image file
MAX_SIDE = 4096  # an uploaded painting or map, either side
MAX_OUTPUT_SIDE = 2048  # the doodle the page sends
WORKING_SIDE = 1024  # a larger painting is scaled down to this, its longest side, when opened
SWATCH = 48  # side of the crop of the painting that shows a label in the palette
PREVIEW_SECONDS = 1.0  # at most one preview image this often (and one at the end of every phase)
PROGRESS_SECONDS = 0.2  # at most one progress event this often


def default_memory_limit() -> int:
    """Half of this machine's memory: the studio's bound on one paint unless ``--max-memory`` says."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


class Busy(DoodleError):
    """A paint is under way; the studio paints one at a time."""


def decode_image(data: bytes, *, what: str) -> np.ndarray:
    """An uploaded image file -> ``(H, W, 3) uint8``, refused with a :class:`DoodleError` when it is
    too large, not an image, or more than :data:`MAX_SIDE` pixels on a side (checked from its header)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DoodleError(f"{what}: the file is {len(data) / 2**20:.1f} MB; at most {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            if max(image.size) > MAX_SIDE:
                raise DoodleError(
                    f"{what}: {image.width}x{image.height} is too large; at most {MAX_SIDE} pixels a side"
                )
            image.load()
            return semantic_maps.to_rgb(image.copy(), name=what)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        if isinstance(error, DoodleError):
            raise
        raise DoodleError(f"{what}: not an image file this studio can read (PNG, JPEG, WebP ...)") from None


def encode_png(rgb: np.ndarray | Image.Image) -> bytes:
    """``(H, W, 3) uint8`` (or a PIL image) -> PNG bytes, with the record of what made a painted image."""
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **png_record(image))
    return buffer.getvalue()


def _data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def scale_indices(indices: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(H, W)`` label indices scaled (nearest: no label is invented) to ``size = (width, height)``."""
    if size == (indices.shape[1], indices.shape[0]):
        return indices
    return np.asarray(Image.fromarray(indices).resize(size, Image.Resampling.NEAREST))


@dataclass
class Painting:
    """The style painting ``(H, W, 3) uint8``, its map (same shape) and the map's palette ``(K, 3)``."""

    image: np.ndarray
    map: np.ndarray
    palette: np.ndarray
    name: str
    original: tuple[int, int] | None = None  # (width, height) before it was scaled down, if it was

    @classmethod
    def open(cls, image: np.ndarray, map_rgb: np.ndarray | None, name: str, *, labels: int = 5) -> Painting:
        """A painting as the studio uses it: scaled to at most :data:`WORKING_SIDE` pixels on its longest
        side (its map with it, nearest), with its map, or one proposed by ``segment`` with ``labels``."""
        height, width = image.shape[:2]
        original = None
        if max(width, height) > WORKING_SIDE:
            if map_rgb is not None and map_rgb.shape != image.shape:
                cls.from_arrays(image, map_rgb, name)  # the size mismatch, reported at the sizes given
            scale = WORKING_SIDE / max(width, height)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
            if map_rgb is not None:
                map_rgb = np.asarray(Image.fromarray(map_rgb).resize(size, Image.Resampling.NEAREST))
            original = (width, height)
        if map_rgb is None:
            from semantic_maps.segment import segment

            map_rgb = segment(image, labels)
        painting = cls.from_arrays(image, map_rgb, name)
        painting.original = original
        return painting

    @classmethod
    def from_arrays(cls, image: np.ndarray, map_rgb: np.ndarray, name: str) -> Painting:
        """Check the two belong together; the palette is the one ``doodle paint`` finds."""
        if image.shape != map_rgb.shape:
            raise DoodleError(
                f"{name}: the painting is {image.shape[1]}x{image.shape[0]} but its map is "
                f"{map_rgb.shape[1]}x{map_rgb.shape[0]}; they must be the same size"
            )
        try:
            palette = semantic_maps.find_palette(map_rgb, name=f"{name} map")
        except semantic_maps.MapError as error:
            raise DoodleError(str(error)) from None
        return cls(image, map_rgb, palette, name)

    def label_indices(self, rgb: np.ndarray) -> np.ndarray:
        """A map in this painting's colours -> ``(H, W) uint8`` indices (each pixel its strongest label)."""
        return semantic_maps.encode_labels(rgb, self.palette).argmax(axis=0).astype(np.uint8)

    @cached_property
    def map_indices(self) -> np.ndarray:
        """The painting's own map as indices, found once."""
        return self.label_indices(self.map)

    def swatch(self, label: int) -> np.ndarray:
        """What ``label`` looks like: the largest square of the painting inside its region (at most
        :data:`SWATCH` pixels a side, centred where the region is deepest), shown :data:`SWATCH` a side."""
        inside = self.map_indices == label
        depth = ndimage.distance_transform_cdt(np.pad(inside, 1), metric="chessboard")[1:-1, 1:-1]
        y, x = np.unravel_index(np.argmax(depth), depth.shape)
        height, width = inside.shape
        side = int(min(SWATCH, height, width, max(4, 2 * depth[y, x] - 1)))
        top, left = np.clip(y - side // 2, 0, height - side), np.clip(x - side // 2, 0, width - side)
        crop = Image.fromarray(self.image[top : top + side, left : left + side])
        return np.asarray(crop.resize((SWATCH, SWATCH), Image.Resampling.BICUBIC))

    def colours(self, labels: np.ndarray) -> np.ndarray:
        """``(H, W)`` indices -> ``(H, W, 3) uint8`` map in the palette's colours."""
        if labels.size and int(labels.max()) >= len(self.palette):
            raise DoodleError(f"the doodle uses label {int(labels.max())}; this painting has {len(self.palette)}")
        return self.palette[labels]


@dataclass
class StudioPaint:
    """One paint: its events (in order, for every page that listens), its result, a Stop flag."""

    id: int
    size: tuple[int, int]
    events: list[dict] = field(default_factory=list)
    result: bytes | None = None  # PNG
    finished: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.perf_counter)

    def publish(self, kind: str, **data) -> None:
        self.events.append({"type": kind, **data})  # list.append is atomic: readers poll by index


class Session:
    """The painting, a :class:`~doodle.Painter` kept between paints, and at most one paint at a time.

    ``settings``: every paint's settings; the page chooses ``output_size`` (the doodle's),
    ``iterations``, ``style_weight``, ``semantic_weight``, ``position_guide`` and ``random_seed``.
    """

    def __init__(
        self,
        settings: PaintSettings,
        *,
        network=None,
        painting: Painting | None = None,
        trained: TrainedPainter | None = None,
        memory_limit: int | None = None,
    ) -> None:
        """``trained``: a painter from ``doodle train`` for the live preview (of a painting in its labels).
        ``memory_limit`` (bytes): the most one paint may take (:func:`default_memory_limit`); a page that
        asks for more is refused with the size that fits, so no visitor can take the machine."""
        self.settings = settings
        self.painter = Painter(settings, network=network, memory_limit=memory_limit)
        self.painting = painting
        self.trained = trained
        self.job: StudioPaint | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()
        self._thread: threading.Thread | None = None  # the last paint's

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.finished

    def set_painting(self, painting: Painting) -> None:
        with self._lock:
            if self.busy:
                raise Busy("a painting is under way; press Stop or wait before changing the painting")
            self.painting = painting

    def start(self, labels: np.ndarray, options: dict) -> StudioPaint:
        """Start painting the doodle ``labels`` ``(H, W) uint8`` in a thread; ``options`` are settings
        the page chose. Raises :class:`Busy` while another paint runs, :class:`DoodleError` for bad input."""
        if self.painting is None:
            raise DoodleError("no painting yet: open one first")
        height, width = labels.shape
        if min(height, width) < MIN_SIZE or max(height, width) > MAX_OUTPUT_SIDE:
            raise DoodleError(f"a doodle is {MIN_SIZE} to {MAX_OUTPUT_SIDE} pixels a side, got {width}x{height}")
        doodle = self.painting.colours(labels)
        settings = self.settings.replace(output_size=None, **options)
        with self._lock:
            if self.busy:
                raise Busy("a painting is under way; press Stop, or wait for it to finish")
            job = self.job = StudioPaint(next(self._ids), (width, height))
        thread = threading.Thread(target=self._run, args=(job, self.painting, doodle, settings), daemon=True)
        self._thread = thread
        thread.start()
        return job

    @property
    def can_preview(self) -> bool:
        """Whether the trained painter paints this painting's labels (the same palette, in order)."""
        return self.trained is not None and self.painting is not None and self.trained.paints(self.painting.palette)

    def preview(self, labels: np.ndarray, random_seed: int = 0) -> bytes:
        """The doodle ``labels (H, W) uint8`` painted by the trained painter, in one pass. -> JPEG bytes."""
        if not self.can_preview:
            raise DoodleError("no live preview: start the studio with --painter, trained on this painting")
        height, width = labels.shape
        if min(height, width) < MIN_SIZE or max(height, width) > MAX_OUTPUT_SIDE:
            raise DoodleError(f"a doodle is {MIN_SIZE} to {MAX_OUTPUT_SIDE} pixels a side, got {width}x{height}")
        if labels.max() >= len(self.trained.palette):
            raise DoodleError(f"doodle: label {labels.max()} is not one of the {len(self.trained.palette)} labels")
        one_hot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), len(self.trained.palette))
        with self._render_lock:  # one render at a time: they would only slow each other down
            try:
                image = self.trained.render(one_hot.permute(2, 0, 1)[None].float(), seed=random_seed)
            except (RuntimeError, MemoryError) as error:  # torch's failures (out of memory, a broken file)
                raise DoodleError(f"the live preview failed: {str(error).splitlines()[0][:200]}") from None
        buffer = io.BytesIO()
        to_pil(image).save(buffer, format="JPEG", quality=90)
        return buffer.getvalue()

    def close(self, timeout: float = 60.0) -> None:
        """Stop the running paint and wait for its thread to end (a thread still inside torch when the
        interpreter exits aborts the process: Ctrl-C during a paint ended in SIGABRT)."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> bool:
        """Ask the running paint to stop (it stops after its current iteration). False if none runs."""
        job = self.job
        if job is None or job.finished:
            return False
        job.cancel.set()
        return True

    def _run(self, job: StudioPaint, painting: Painting, doodle: np.ndarray, settings: PaintSettings) -> None:
        timing = {"progress": 0.0, "preview": 0.0}

        def callback(step: Step) -> None:
            now = time.perf_counter()
            last = step.iteration == step.iterations
            if last or now - timing["progress"] >= PROGRESS_SECONDS:
                timing["progress"] = now
                job.publish(
                    "progress",
                    phase=step.phase,
                    phases=step.phases,
                    iteration=step.iteration,
                    iterations=step.iterations,
                    loss=step.loss,
                    seconds=round(now - job.started, 1),
                )
            if last or now - timing["preview"] >= PREVIEW_SECONDS:
                timing["preview"] = now
                job.publish("preview", image=_data_url(to_pil(step.image)))

        try:
            job.publish("started", size=list(job.size))
            result = self.painter.paint(
                painting.image,
                style_map=painting.map,
                target_map=doodle,
                settings=settings,
                callback=callback,
                stop=job.cancel.is_set,  # (asked in the setup too: Stop need not wait for it)
            )
            job.result = encode_png(result.recorded())
            job.publish(
                "done",
                url=f"/api/jobs/{job.id}/result.png",
                seconds=round(time.perf_counter() - job.started, 1),
                notes=list(result.notes),
            )
        except Cancelled:
            job.publish("stopped")
        except DoodleError as error:
            job.publish("error", message=error.render(as_python))
        except Exception as error:  # noqa: BLE001 - the page gets a line, never a server traceback
            job.publish("error", message=f"painting failed: {type(error).__name__}: {error}")
        finally:
            job.finished = True
