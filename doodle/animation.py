"""A sequence of doodles painted as one steady animation (`doodle animate`).

Frame maps come from files, folders and glob patterns, in natural order (``frame2`` before
``frame10``); ``between`` in-between maps morph each label's region from one doodle to the next
through its signed distance field. The first frame is painted as ``doodle paint`` paints; every
later frame starts from the frame before it and needs only a short optimisation at full size, so
what does not move stays where it was (and costs a fraction of the first frame). Frames are written
as PNGs as they are painted, so an interrupted animation resumes from the last one.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage

import semantic_maps

from .errors import DoodleError
from .images import check_output_path, load_rgb, save_atomic, to_pil, write_via_temporary
from .painter import Painter, Step, initial_image
from .scene import build_scene
from .settings import PaintSettings

__all__ = [
    "animate",
    "frame_paths",
    "read_maps",
    "in_betweens",
    "with_in_betweens",
    "frames_folder",
    "paint_frames",
    "write_animation",
    "warp_by_labels",
    "LATER_FRAME",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# A later frame: one phase at full size, from the frame before it.
LATER_FRAME = dict(phases=1, iterations=40)


def _natural(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def frame_paths(sources: Sequence[str | Path]) -> list[Path]:
    """The frame maps named by ``sources`` (files, folders of images, glob patterns), in order:
    sources as given, a folder's or a pattern's images in natural order."""
    paths: list[Path] = []
    for source in map(str, sources):
        if Path(source).is_dir():
            found = [p for p in Path(source).iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS]
            if not found:
                raise DoodleError(f"{source}: a folder with no images in it")
            paths += sorted(found, key=_natural)
        elif glob.has_magic(source):
            found = [Path(p) for p in glob.glob(source) if Path(p).suffix.lower() in IMAGE_EXTENSIONS]
            if not found:
                raise DoodleError(f"{source}: no image matches this pattern")
            paths += sorted(found, key=_natural)
        elif Path(source).is_file():
            paths.append(Path(source))
        else:
            raise DoodleError(f"{source}: not found")
    if not paths:
        raise DoodleError("no frame maps given")
    return paths


def _signed_distances(indices: np.ndarray, labels: int) -> np.ndarray:
    """For each label, the signed distance to its region's edge (negative inside). -> ``(K, H, W)``."""
    far = float(sum(indices.shape))
    fields = np.empty((labels,) + indices.shape)
    for label in range(labels):
        inside = indices == label
        if not inside.any():
            fields[label] = far  # (a label that is not there is far from everywhere)
        else:
            fields[label] = ndimage.distance_transform_edt(~inside) - ndimage.distance_transform_edt(inside)
    return fields


def in_betweens(first: np.ndarray, last: np.ndarray, count: int, palette: np.ndarray) -> list[np.ndarray]:
    """``count`` maps morphing ``first`` into ``last`` (``(H, W, 3)`` uint8, colours of ``palette (K, 3)``):
    each label's signed distance field is interpolated (and moved with the region's centre), and each
    pixel takes the label it is deepest in."""
    if first.shape != last.shape:
        raise DoodleError(
            f"keyframes of different sizes ({first.shape[1]}x{first.shape[0]} and {last.shape[1]}x{last.shape[0]})"
        )
    a = _signed_distances(semantic_maps.encode_labels(first, palette).argmax(axis=0), len(palette))
    b = _signed_distances(semantic_maps.encode_labels(last, palette).argmax(axis=0), len(palette))
    for label in range(len(palette)):  # a label only at one end grows from (shrinks to) its deepest point
        a_has, b_has = (a[label] < 0).any(), (b[label] < 0).any()
        if b_has and not a_has:
            a[label] = b[label] - b[label].min()
        elif a_has and not b_has:
            b[label] = a[label] - a[label].min()
    # A region that moves is carried along: its fields are shifted by their share of the move of the
    # region's centre (fields interpolated in place would make two apart positions meet halfway empty).
    # Labels are laid down largest first, so a small region moving over a large one stays whole.
    moves = [
        _centre(b[label]) - _centre(a[label]) if (a[label] < 0).any() and (b[label] < 0).any() else np.zeros(2)
        for label in range(len(palette))
    ]
    order = np.argsort([-(a[label] < 0).sum() - (b[label] < 0).sum() for label in range(len(palette))])
    frames = []
    for t in [(step + 1) / (count + 1) for step in range(count)]:
        indices = ((1 - t) * a + t * b).argmin(axis=0)
        for label in order:
            moved = (1 - t) * ndimage.shift(a[label], t * moves[label], order=1, mode="nearest")
            moved += t * ndimage.shift(b[label], (t - 1) * moves[label], order=1, mode="nearest")
            indices[moved < 0] = label
        frames.append(palette[indices])
    return frames


def _centre(field: np.ndarray) -> np.ndarray:
    """The centre (row, column) of the region where a signed distance field is negative."""
    return np.argwhere(field < 0).mean(axis=0)


def with_in_betweens(maps: list[np.ndarray], between: int, palette: np.ndarray) -> list[np.ndarray]:
    """The maps with ``between`` in-betweens after each but the last."""
    if between <= 0:
        return list(maps)
    frames = []
    for first, last in zip(maps, maps[1:], strict=False):
        frames += [first, *in_betweens(first, last, between, palette)]
    return frames + [maps[-1]]


CHANGE_MARGIN = 1  # pixels around a change of label that start afresh too


OBJECT_SHARE = 0.25  # a label covering less of the frame than this is an object, moved with its centre


def warp_by_labels(image: np.ndarray, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame ``image (H, W, C)`` of label map ``before (H, W)`` carried to label map ``after``.

    A pixel whose label stays keeps its place; an object (a label covering less than
    :data:`OBJECT_SHARE` of the frame) moves with its region's centre, so its texture travels with
    it. -> the carried image, and where it is known ``(H, W)`` bool (False: the label there is new,
    or was not at the place it would come from).
    """
    carried, known = image.copy(), before == after
    rows, columns = np.indices(after.shape)
    for label in np.unique(after):
        was, now = before == label, after == label
        if not was.any() or now.mean() >= OBJECT_SHARE:
            continue
        move = np.round(np.argwhere(now).mean(axis=0) - np.argwhere(was).mean(axis=0)).astype(int)
        if not move.any():
            continue
        source_rows, source_columns = rows - move[0], columns - move[1]
        inside = (source_rows >= 0) & (source_rows < after.shape[0]) & (source_columns >= 0)
        inside &= source_columns < after.shape[1]
        take = now & inside
        take[take] = was[source_rows[take], source_columns[take]]
        carried[take] = image[source_rows[take], source_columns[take]]
        known[now] = take[now]
    return carried, known


def _next_start(style, style_map, before: np.ndarray, doodle: np.ndarray, previous: Path, settings: PaintSettings):
    """A later frame's start: the frame before it, carried to this frame's map (:func:`warp_by_labels`);
    where that leaves a pixel unknown (and ``CHANGE_MARGIN`` around), the first frame's kind of start,
    the painting's colour of the label. -> an RGB image."""
    scene = build_scene(
        style,
        style_map=style_map,
        target_map=doodle,
        output_size=settings.output_size,
        style_scale=settings.style_scale,
        allow_missing_labels=settings.allow_missing_labels,
    )
    fresh = initial_image(scene, settings.replace(seed="auto", noise_ratio=0.0), scene.shape)
    height, width = scene.shape
    palette = semantic_maps.find_palette(np.concatenate([before, doodle], axis=1))

    def labels(rgb: np.ndarray) -> np.ndarray:
        indices = semantic_maps.encode_labels(rgb, palette).argmax(axis=0).astype(np.uint8)
        return np.asarray(Image.fromarray(indices).resize((width, height), Image.NEAREST))

    kept = np.asarray(load_rgb(previous, what="frame").resize((width, height)), np.float32) / 255
    carried, known = warp_by_labels(kept, labels(before), labels(doodle))
    unknown = ndimage.binary_dilation(~known, iterations=CHANGE_MARGIN)
    carried = torch.from_numpy(carried).permute(2, 0, 1)[None]
    return to_pil(torch.where(torch.from_numpy(unknown)[None, None], fresh, carried))


def frames_folder(output: Path) -> Path:
    """Where the frames of ``output`` are kept: ``output`` itself when it is a folder (no suffix),
    else ``OUTPUT_frames`` beside it (kept for --resume)."""
    return output if output.suffix == "" else output.with_name(f"{output.stem}_frames")


def paint_frames(
    painter: Painter,
    style,
    style_map,
    maps: list[np.ndarray],
    folder: Path,
    *,
    resume: bool = False,
    independent: bool = False,
    on_frame: Callable[[int, int], None] | None = None,
    callback: Callable[[Step], None] | None = None,
) -> list[Path]:
    """Paint ``maps`` in order into ``folder/frame_0001.png``, ...; -> the frame files.

    The first frame is painted with the painter's settings; each later one starts from the frame
    before it with :data:`LATER_FRAME` (``independent``: every frame as the first, for comparison).
    With ``resume``, frames already in the folder are kept and painting goes on after the last.
    ``on_frame(index, count)`` is called before each frame is painted.
    """
    settings = painter.settings
    later = settings.replace(**LATER_FRAME)
    paths = [folder / f"frame_{index:04d}.png" for index in range(1, len(maps) + 1)]
    previous = None
    for index, (path, doodle) in enumerate(zip(paths, maps, strict=True)):
        if resume and path.is_file():
            previous = path
            continue
        if on_frame is not None:
            on_frame(index, len(maps))
        if previous is None or independent:
            painter.settings = settings
        else:  # (the folder exists: the frame before is in it)
            start = folder / ".start.png"
            save_atomic(_next_start(style, style_map, maps[index - 1], doodle, previous, settings), start)
            painter.settings = later.replace(seed=str(start))
        image = painter.paint(style, style_map=style_map, target_map=doodle, callback=callback)
        folder.mkdir(parents=True, exist_ok=True)  # (only once a frame is painted: bad inputs leave nothing)
        save_atomic(image, path)
        previous = path
    if folder.is_dir():
        (folder / ".start.png").unlink(missing_ok=True)
    painter.settings = settings
    return paths


def write_animation(frames: list[Path], output: Path, fps: float) -> None:
    """The frame files as one animation: an animated GIF or WebP (Pillow) or an MP4 (imageio with
    ffmpeg: ``pip install 'doodle[video]'``); for a folder the frames already are the result."""
    suffix = output.suffix.lower()
    if suffix == "":
        return
    images = [load_rgb(frame, what="frame") for frame in frames]
    if suffix in (".gif", ".webp"):
        check_output_path(output)
        duration = round(1000 / fps)
        first, rest = images[0], images[1:]
        save_atomic(first, output, save_all=True, append_images=rest, duration=duration, loop=0)
    elif suffix == ".mp4":
        try:
            import imageio.v3 as iio
            import imageio_ffmpeg  # noqa: F401  (imageio's MP4 writer)
        except ImportError:
            raise DoodleError(
                f"{output}: MP4 needs the video extra; pip install 'doodle[video]' (or write .gif or .webp)"
            ) from None

        def encode(stream) -> None:
            iio.imwrite(stream, np.stack([np.asarray(i) for i in images]), extension=".mp4", fps=fps)

        write_via_temporary(encode, output, output.parent, f".{output.stem}.", ".mp4")
    else:
        raise DoodleError(f"{output}: an animation is a folder, .gif, .webp or .mp4")


def _check_frames(maps: list[np.ndarray], paths: list[Path]) -> None:
    """Every frame map of the first one's size (one line naming the first that is not)."""
    height, width = maps[0].shape[:2]
    for path, rgb in zip(paths, maps, strict=True):
        if rgb.shape[:2] != (height, width):
            raise DoodleError(
                f"{path}: is {rgb.shape[1]}x{rgb.shape[0]}, and the first frame {paths[0]} is {width}x{height}; "
                "every frame map must have the same size"
            )


def read_maps(paths: list[Path]) -> list[np.ndarray]:
    """The frame maps as ``(H, W, 3)`` uint8 arrays, checked to be of one size."""
    maps = [np.asarray(load_rgb(path, what="frame map")) for path in paths]
    _check_frames(maps, paths)
    return maps


def animate(
    style,
    frames: Sequence[str | Path],
    output: Path,
    *,
    style_map=None,
    between: int = 0,
    fps: float = 8.0,
    resume: bool = False,
    settings: PaintSettings | None = None,
    painter: Painter | None = None,
    on_frame: Callable[[int, int], None] | None = None,
    callback: Callable[[Step], None] | None = None,
) -> list[Path]:
    """Paint the doodles ``frames`` (files, folders, patterns) as one animation written to ``output``
    (a folder of PNGs, ``.gif``, ``.webp`` or ``.mp4``). -> the frame files."""
    paths = frame_paths(frames)
    maps = read_maps(paths)
    if between > 0:
        palette = semantic_maps.find_palette(np.concatenate(maps, axis=1), name=str(paths[0]))
        maps = with_in_betweens(maps, between, palette)
    painter = painter or Painter(settings)
    folder = frames_folder(output)
    files = paint_frames(painter, style, style_map, maps, folder, resume=resume, on_frame=on_frame, callback=callback)
    write_animation(files, output, fps)
    return files
