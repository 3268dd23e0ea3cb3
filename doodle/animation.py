"""A sequence of doodles, or a clip, painted as one steady animation (`doodle animate`).

Frame maps come from files, folders and glob patterns, in natural order (``frame2`` before
``frame10``); ``between`` in-between maps morph each label's region from one doodle to the next
through its signed distance field. A clip (``content``) is photo frames or a video, painted with
its maps or without. The first frame is painted as ``doodle paint`` paints; every later frame is a
short paint at full size tied to the frame before it (:mod:`doodle.temporal`): it starts from that
frame moved as the maps (or the clip's optical flow) move, starts its patch search from that frame's
matches, and is pulled toward it where the scene did not change. So what does not move stays where
it was, at a fraction of the first frame's cost. Frames are written as PNGs as they are painted, so
an interrupted animation resumes from the last one.
"""

from __future__ import annotations

import functools
import glob
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

import semantic_maps

from .errors import DoodleError, map_errors
from .images import check_output_path, load_rgb, save_atomic, write_via_temporary
from .painter import Painter, Step
from .provenance import as_frame, differing_inputs, read_record, with_record
from .settings import PaintSettings
from .temporal import TEMPORAL_WEIGHT, Motion, guide_from, motion_from_flow, motion_from_labels

__all__ = [
    "animate",
    "frame_paths",
    "read_maps",
    "read_clip",
    "in_betweens",
    "with_in_betweens",
    "frames_folder",
    "paint_frames",
    "write_animation",
    "LATER_FRAME",
    "LATER_CLIP_FRAME",
    "TEMPORAL_WEIGHT",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# A later frame: one phase at full size, from the frame before it. A clip's later frame has a half-size
# phase first: what came into view (a pan's edge) starts as a photo, and 40 full-size iterations
# leave it one.
LATER_FRAME = dict(phases=1, iterations=40)
LATER_CLIP_FRAME = dict(phases=2, iterations=(40, 30))


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


CHANGE_MARGIN = 1  # pixels around an unknown one (a new label, a disocclusion) that start afresh too


def frames_folder(output: Path) -> Path:
    """Where the frames of ``output`` are kept: ``output`` itself when it is a folder (no suffix),
    else ``OUTPUT_frames`` beside it (kept for --resume)."""
    return output if output.suffix == "" else output.with_name(f"{output.stem}_frames")


def _output_shape(settings: PaintSettings, maps: list, contents: list | None) -> tuple[int, int]:
    """``(H, W)`` of the painted frames: the settings' output size, else the content's or the map's."""
    if settings.output_size is not None:
        return settings.output_size[1], settings.output_size[0]
    return (contents or maps)[0].shape[:2]


def _motions(maps: list, contents: list | None, shape: tuple[int, int]) -> Callable[[int], Motion]:
    """``motion(index)``: where frame ``index``'s pixels were in the frame before, at the output's
    ``shape``: from the photo frames' optical flow (and their maps' labels, if any), else from the maps."""
    height, width = shape
    palette = None
    if maps[0] is not None:
        with map_errors():
            palette = semantic_maps.find_palette(np.concatenate(maps, axis=1), name="the frame maps together")

    @functools.lru_cache(maxsize=2)  # (each frame is the "after" of one pair, then the "before" of the next)
    def labels(index: int) -> np.ndarray:
        indices = semantic_maps.encode_labels(maps[index], palette).argmax(axis=0).astype(np.uint8)
        return np.asarray(Image.fromarray(indices).resize((width, height), Image.NEAREST))

    @functools.lru_cache(maxsize=2)
    def photo(index: int) -> np.ndarray:
        return np.asarray(Image.fromarray(contents[index]).resize((width, height), Image.BICUBIC), np.float64) / 255

    def motion(index: int) -> Motion:
        if contents is None:
            return motion_from_labels(labels(index - 1), labels(index))
        pair = None if palette is None else (labels(index - 1), labels(index))
        return motion_from_flow(photo(index - 1), photo(index), pair)

    return motion


def _check_painted_frame(path: Path, index: int, count: int, inputs: dict) -> None:
    """``path`` must be frame ``index`` of ``count`` that `doodle animate` painted from ``inputs`` (by
    parameter name: the painting, its map, the frame's doodle and photo), to be kept by ``resume``."""
    try:
        record = read_record(path)
    except DoodleError:
        record = {}
    frame = record.get("frame") or {}
    if frame.get("index") != index or frame.get("count") != count:
        raise DoodleError(
            f"{path}: is not frame {index} of {count} of this animation; move it away, or paint without --resume",
            path=path,
        )
    differing = [f"`{name}`" for name in differing_inputs(record, inputs)]
    if differing:
        verb = "differ" if len(differing) > 1 else "differs"
        message = f"is a frame of another animation (its {' and '.join(differing)} {verb})"
        raise DoodleError(f"{path}: {message}; move it away, or paint without --resume", path=path)


def paint_frames(
    painter: Painter,
    style,
    style_map,
    maps: list[np.ndarray | None],
    folder: Path,
    *,
    contents: list[np.ndarray] | None = None,
    settings: PaintSettings | None = None,
    temporal_weight: float = TEMPORAL_WEIGHT,
    resume: bool = False,
    on_frame: Callable[[int, int], None] | None = None,
    on_notes: Callable[[tuple[str, ...]], None] | None = None,
    callback: Callable[[Step], None] | None = None,
) -> list[Path]:
    """Paint the doodles ``maps`` (``(H, W, 3)`` uint8), or the photo frames ``contents`` with their
    maps or without (an empty ``maps``), in order into ``folder/frame_0001.png``, ...; -> the files.

    The first frame is painted with ``settings`` (default: the painter's; the network's stage of a
    pixel finish at the frame's size). Each later one
    (:data:`LATER_FRAME`, :data:`LATER_CLIP_FRAME`) starts from the frame before it carried by the
    motion between them (:mod:`doodle.temporal`), is pulled toward it where known by
    ``temporal_weight``, and starts its patch search from the frame before's matches. With
    ``resume``, frames already in the folder are kept and painting goes on after the last.
    ``on_frame(index, count)`` is called before each frame is painted, ``on_notes(notes)`` with
    each frame's notes on its inputs.
    """
    settings = settings or painter.settings
    count = len(maps) if contents is None else len(contents)
    maps = list(maps) if maps else [None] * count
    shape = _output_shape(settings, maps, contents)
    # The network's stage paints the frame's own size: its ties to the frame before (the carried
    # frame, its matches, the motion) are at that size.
    settings = settings.replace(working_size=max(shape)) if settings.finish != "neural" else settings
    later = settings.replace(**(LATER_FRAME if contents is None else LATER_CLIP_FRAME))
    motion = _motions(maps, contents, shape)
    paths = [folder / f"frame_{index:04d}.png" for index in range(1, count + 1)]
    previous = matches = None
    for index, path in enumerate(paths):
        if resume and path.is_file():
            content = None if contents is None else contents[index]
            inputs = dict(style=style, style_map=style_map, target_map=maps[index], content=content)
            _check_painted_frame(path, index + 1, count, inputs)
            previous, matches = path, None
            continue
        if on_frame is not None:
            on_frame(index, count)
        frame = None
        if previous is not None:
            kept = np.asarray(load_rgb(previous, what="frame"), np.float32) / 255
            moved = motion(index)
            if kept.shape[:2] != moved.shape:
                raise DoodleError(f"{previous}: is not of this animation's size; paint it again without --resume")
            frame = guide_from(
                kept, moved, weight=temporal_weight, matches=matches, margin=CHANGE_MARGIN, fill=contents is not None
            )
        result = painter.paint(
            style,
            style_map=style_map,
            target_map=maps[index],
            content=None if contents is None else contents[index],
            settings=settings if frame is None else later,
            callback=callback,
            frame=frame,
        )
        if on_notes is not None:
            on_notes(result.notes)
        tie = None if frame is None else dict(after=previous.name, temporal_weight=temporal_weight, matches=True)
        record = as_frame(result.record, dict(index=index + 1, count=count, tied=tie))
        folder.mkdir(parents=True, exist_ok=True)  # (only once a frame is painted: bad inputs leave nothing)
        save_atomic(with_record(result.image, record), path)
        previous = path
        matches = None if painter.memory is None else painter.memory.matches
    return paths


def check_animation_output(output: Path) -> None:
    """Fail before any frame is painted if ``output`` cannot take an animation: a folder (no suffix),
    a ``.gif``, ``.webp`` or ``.mp4`` (with the video extra) in a folder that can be written."""
    suffix = output.suffix.lower()
    if suffix == "":
        if output.exists() and not output.is_dir():
            raise DoodleError(
                f"{output}: is a file; give a folder for the frames, or a .gif, .webp or .mp4", path=output
            )
        return
    if suffix not in (".gif", ".webp", ".mp4"):
        raise DoodleError(f"{output}: an animation is a folder, .gif, .webp or .mp4", path=output)
    check_output_path(output, image=suffix != ".mp4")
    if suffix == ".mp4":
        _video_writer(output)


def _video_writer(output: Path):
    """imageio's v3 API, with its ffmpeg plugin (the video extra), or one line saying how to get it."""
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg  # noqa: F401  (imageio's MP4 writer)
    except ImportError:
        raise DoodleError(
            f"{output}: MP4 needs the video extra; pip install 'doodle[video]' (or write .gif or .webp)"
        ) from None
    return iio


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
        iio = _video_writer(output)

        def encode(stream) -> None:
            frames = np.stack([np.asarray(i) for i in images])
            iio.imwrite(stream, frames, extension=".mp4", fps=fps, macro_block_size=2)  # (even sides stay as they are)

        write_via_temporary(encode, output, output.parent, f".{output.stem}.", ".mp4")
    else:
        raise DoodleError(f"{output}: an animation is a folder, .gif, .webp or .mp4")


def _check_frames(maps: list[np.ndarray], paths: list, what: str = "frame map") -> None:
    """Every frame of the first one's size (one line naming the first that is not)."""
    height, width = maps[0].shape[:2]
    for path, rgb in zip(paths, maps, strict=True):
        if rgb.shape[:2] != (height, width):
            raise DoodleError(
                f"{path}: is {rgb.shape[1]}x{rgb.shape[0]}, and the first frame {paths[0]} is {width}x{height}; "
                f"every {what} must have the same size"
            )


def read_maps(paths: list[Path]) -> list[np.ndarray]:
    """The frame maps as ``(H, W, 3)`` uint8 arrays, checked to be of one size."""
    maps = [np.asarray(load_rgb(path, what="frame map")) for path in paths]
    _check_frames(maps, paths)
    with map_errors():  # a photo or noise given as a frame map: one line naming it
        for path, rgb in zip(paths, maps, strict=True):
            semantic_maps.find_palette(rgb, name=str(path))
    return maps


VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


def read_clip(sources: Sequence[str | Path]) -> list[np.ndarray]:
    """Photo frames as ``(H, W, 3)`` uint8 arrays, of one size: from image files, folders and patterns
    (as :func:`frame_paths`), or from one video file (imageio with ffmpeg: ``pip install 'doodle[video]'``)."""
    if len(sources) == 1 and Path(sources[0]).suffix.lower() in VIDEO_EXTENSIONS:
        return _read_video(Path(sources[0]))
    paths = frame_paths(sources)
    frames = [np.asarray(load_rgb(path, what="content frame")) for path in paths]
    _check_frames(frames, paths, "content frame")
    return frames


def _read_video(path: Path) -> list[np.ndarray]:
    if not path.is_file():
        raise DoodleError(f"{path}: not found")
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg  # noqa: F401  (imageio's video reader)
    except ImportError:
        raise DoodleError(f"{path}: reading a video needs the video extra; pip install 'doodle[video]'") from None
    try:
        frames = [np.asarray(frame)[..., :3] for frame in iio.imiter(path)]
    except Exception as error:  # (imageio and ffmpeg raise many kinds)
        raise DoodleError(f"{path}: not a video this tool can read ({type(error).__name__})") from None
    if not frames:
        raise DoodleError(f"{path}: a video with no frames")
    return frames


def animate(
    style,
    frames: Sequence[str | Path],
    output: Path,
    *,
    style_map=None,
    content: Sequence[str | Path] | None = None,
    between: int = 0,
    fps: float = 8.0,
    temporal_weight: float = TEMPORAL_WEIGHT,
    resume: bool = False,
    settings: PaintSettings | None = None,
    painter: Painter | None = None,
    on_frame: Callable[[int, int], None] | None = None,
    on_notes: Callable[[tuple[str, ...]], None] | None = None,
    callback: Callable[[Step], None] | None = None,
) -> list[Path]:
    """Paint the doodles ``frames`` (files, folders, patterns) as one animation written to ``output``
    (a folder of PNGs, ``.gif``, ``.webp`` or ``.mp4``); with ``content`` (photo frames: files, folders,
    patterns or one video file), a style transfer of that clip, with ``frames`` as its maps or, when
    empty, without maps. -> the frame files."""
    check_animation_output(output)
    contents = None if not content else read_clip(content)
    if not frames and contents is None:
        raise DoodleError("no frame maps given; give the doodles (or --content, a clip of photo frames)")
    maps, paths = [], []
    if frames:
        paths = frame_paths(frames)
        maps = read_maps(paths)
    if contents is not None:
        if between > 0:
            raise DoodleError("`between` makes in-between doodles; a clip (`content`) has all its frames already")
        if maps and len(maps) != len(contents):
            raise DoodleError(f"{len(maps)} frame maps for a clip of {len(contents)} frames; give one map per frame")
    if between > 0:
        with map_errors():
            palette = semantic_maps.find_palette(np.concatenate(maps, axis=1), name=str(paths[0]))
        maps = with_in_betweens(maps, between, palette)
    painter = painter or Painter(settings)
    folder = frames_folder(output)
    files = paint_frames(
        painter,
        style,
        style_map,
        maps,
        folder,
        contents=contents,
        settings=settings,
        temporal_weight=temporal_weight,
        resume=resume,
        on_frame=on_frame,
        on_notes=on_notes,
        callback=callback,
    )
    write_animation(files, output, fps)
    return files
