"""What made an image: doodle's version, every setting, the random seed, and each input's path and hash.

The record travels with the image: a paint's :class:`~doodle.painter.Result` makes it, and writers
put it in the PIL image's ``info``, which :func:`~doodle.images.save_atomic` writes into a PNG's text
(key ``doodle``, JSON).
`doodle info OUT.png` prints it; `doodle paint --from OUT.png` paints the same job again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DoodleError
from .images import RECORD_KEY, ImageInput
from .plan import DEFAULT_CONTENT_LAYERS, SEED_KEYWORDS, TEXTURE_LAYERS, Plan
from .record_check import check_record
from .settings import PaintSettings
from .version import __version__

__all__ = [
    "KEY",
    "job_record",
    "with_record",
    "as_frame",
    "differing_inputs",
    "read_record",
    "settings_from_record",
    "input_state",
    "input_paths",
    "entries",
]

KEY = RECORD_KEY  # the PNG text key
FORMAT_VERSION = 1
_TUPLES = ("output_size", "iterations", "style_layers", "content_layers", "style_blend", "guide_weights")


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, modified: int) -> str:
    """A file's SHA-256, by (path, size, modification time): watch, the studio and animate record the
    same weights (tens to hundreds of MB) and paintings on every paint; a file is read again only if
    it changed, and only the 64 latest are kept."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _sha256(source: ImageInput | Path) -> str:
    if isinstance(source, (str, os.PathLike)):
        status = os.stat(source)
        return _file_digest(os.path.abspath(source), status.st_size, status.st_mtime_ns)
    pixels = np.asarray(source.convert("RGB") if isinstance(source, Image.Image) else source)
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def _input(source: ImageInput | Path, *, found: bool = False) -> dict:
    """``{'path': absolute path or None (an image in memory), 'sha256': of the file or the pixels}``."""
    path = os.path.abspath(source) if isinstance(source, (str, os.PathLike)) else None
    return dict(path=path, sha256=_sha256(source), **({"found": True} if found else {}))


def _inputs(source) -> dict | list[dict]:
    """One input's entry, or a list of them (several paintings; guide pairs, source then target)."""
    if isinstance(source, (list, tuple)):
        return [_input(part) for one in source for part in (one if isinstance(one, (list, tuple)) else [one])]
    return _input(source)


def entries(record: dict) -> list[tuple[str, dict]]:
    """Each recorded input as ``(name, entry)``; several paintings are ``style 1``, ``style 2`` ..., guide
    pairs ``guides 1 source``, ``guides 1 target`` ..."""
    flat = []
    for name, value in record["inputs"].items():
        many = isinstance(value, list)
        for i, entry in enumerate(value if many else [value], 1):
            if name == "guides":  # (sources and targets in turn)
                flat.append((f"guides {(i + 1) // 2} {'source' if i % 2 else 'target'}", entry))
            else:
                flat.append((f"{name} {i}" if many else name, entry))
    return flat


def differing_inputs(record: dict, inputs: dict[str, ImageInput | list | None]) -> list[str]:
    """The names of ``inputs`` (None ones left out) whose files or pixels ``record`` does not hold, by
    their SHA-256."""

    def digests(entry) -> list | None:
        return None if entry is None else [one.get("sha256") for one in (entry if isinstance(entry, list) else [entry])]

    recorded = record.get("inputs") or {}
    return [
        name
        for name, source in inputs.items()
        if source is not None and digests(_inputs(source)) != digests(recorded.get(name))
    ]


def job_record(
    command: str,
    settings: PaintSettings,
    inputs: dict[str, ImageInput | None],
    *,
    plan: Plan | None = None,
    found: dict[str, Path | list[Path]] | None = None,
) -> dict:
    """The record of one job: ``inputs`` by parameter name (``style``, ``target_map``, ...), None
    where not given; ``found``: maps found beside their images (``X_sem.png``), recorded as such.
    The weights and a start image file are recorded as inputs too; ``plan``: what the paint did."""
    record_inputs = {name: _inputs(source) for name, source in inputs.items() if source is not None}
    for name, paths in (found or {}).items():
        if inputs.get(name) is None:
            record_inputs[name] = (
                [_input(p, found=True) for p in paths] if isinstance(paths, list) else _input(paths, found=True)
            )
    for name in ("weights", "seed"):
        value = getattr(settings, name)
        if value is not None and str(value) not in SEED_KEYWORDS and Path(value).is_file():
            record_inputs[name] = _input(Path(value))
    values = {
        field.name: _plain(getattr(settings, field.name))
        for field in dataclasses.fields(settings)
        if field.name not in ("weights", "seed") or record_inputs.get(field.name) is None
    }
    record = dict(format=FORMAT_VERSION, doodle=__version__, command=command, settings=values, inputs=record_inputs)
    if plan is not None:
        record["plan"] = plan.describe()
    return record


def as_frame(record: dict, frame: dict) -> dict:
    """A paint's ``record`` as a frame of ``doodle animate``'s: its command becomes ``animate`` and
    ``frame`` (index, count, the frame it is tied to, ...) is added to it."""
    return dict(record, command="animate", frame=frame)


def with_record(image: Image.Image, record: dict) -> Image.Image:
    """``image``, carrying ``record`` in its ``info`` (written into the PNG by ``save_atomic``)."""
    image.info[KEY] = json.dumps(record)
    return image


def _plain(value):
    if isinstance(value, tuple):
        return list(value)
    return str(value) if isinstance(value, os.PathLike) else value


def read_record(path: str | os.PathLike) -> dict:
    """The record in a PNG written by doodle; a :class:`DoodleError` naming the file otherwise."""
    try:
        with Image.open(path) as image:
            text = getattr(image, "text", {}).get(KEY)
    except FileNotFoundError:
        raise DoodleError(f"{path}: not found", path=path) from None
    except OSError as error:
        raise DoodleError(f"{path}: not an image ({error})", path=path) from None
    except ValueError:  # Pillow's: a text chunk that inflates past its limit
        raise DoodleError(f"{path}: its doodle record is damaged (larger than a record can be)", path=path) from None
    if text is None:
        raise DoodleError(f"{path}: holds no doodle record (only PNGs written by doodle 0.1 or later do)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        raise DoodleError(f"{path}: its doodle record is damaged (not JSON)") from None
    found = record.get("format") if isinstance(record, dict) else None
    if found != FORMAT_VERSION:
        raise DoodleError(f"{path}: its doodle record is of format {found}; this doodle reads format {FORMAT_VERSION}")
    return check_record(record, path)


def settings_from_record(record: dict, path: str | os.PathLike) -> PaintSettings:
    """The settings a record names (its weights and start image files included)."""
    values = dict(record["settings"])
    for name in ("weights", "seed"):
        if name in record["inputs"]:
            values[name] = record["inputs"][name]["path"]
    if values.get("weights") is not None:
        values["weights"] = Path(values["weights"])  # as the command line gives it
    for name in _TUPLES:
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    if isinstance(values.get("iterations"), tuple) and len(values["iterations"]) == 1:
        values["iterations"] = values["iterations"][0]
    if record.get("doodle") in ("0.1.0", "0.2.0"):
        _as_then(values, record["doodle"], record["inputs"])
    if record.get("doodle") in ("0.1.0", "0.2.0", "0.3.0"):
        values["finish"] = "neural"  # before 0.4 the network painted every pixel
    if record.get("doodle") == "0.4.0":
        values["last_vote"] = 5  # 0.4's pixel finish voted with all of each patch to the end
    known = {field.name for field in dataclasses.fields(PaintSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DoodleError(f"{path}: made with settings this doodle does not know ({', '.join(unknown)})")
    return PaintSettings(**values)


def _as_then(values: dict, version: str, inputs: dict) -> None:
    """Settings recorded by doodle 0.1 or 0.2 as this version reads them, to paint as they painted then.

    Before 0.3 a setting equal to its default was the default: the default content layers, and a
    texture's default patch layers, are "not given" now. Before 0.2, ``auto`` never started from a
    collage.
    """
    if values.get("content_layers") == DEFAULT_CONTENT_LAYERS:
        values["content_layers"] = None
    texture = "content" not in inputs and "target_map" not in inputs
    if texture and values.get("style_loss") == "both" and values.get("style_layers") == TEXTURE_LAYERS:
        values["style_layers"] = None
    if version == "0.1.0" and values.get("seed") == "auto":
        values["seed"] = "content" if "content" in inputs else "labels" if "target_map" in inputs else "noise"


def input_paths(record: dict, path: str | os.PathLike) -> dict[str, Path | None]:
    """The image inputs to paint again: paths by parameter name (None where the map was found beside
    its image, as it will be again); an input that was an image in memory cannot be read again."""
    for name, entry in entries(record):
        if entry["path"] is None:
            raise DoodleError(f"{path}: its {name} was an image in memory, not a file; give it again")

    def path_of(entry: dict) -> Path | None:
        return None if entry.get("found") else Path(entry["path"])

    paths = {}
    for name, value in record["inputs"].items():
        if name == "guides":  # (source, target) pairs
            paths[name] = [(path_of(value[i]), path_of(value[i + 1])) for i in range(0, len(value), 2)]
        elif name not in ("weights", "seed"):
            paths[name] = [path_of(e) for e in value] if isinstance(value, list) else path_of(value)
            if isinstance(value, list) and all(p is None for p in paths[name]):
                paths[name] = None  # found beside each painting, as they will be again
    return paths


LARGEST_CHECKED = 2 * 10**9  # bytes: a larger file is not hashed to tell whether it changed


def input_state(entry: dict) -> str:
    """A recorded input now: ``unchanged``, ``changed`` (its sha256 differs), ``gone``, ``in memory``,
    or ``not checked`` (over :data:`LARGEST_CHECKED` bytes: any file can be named in a record)."""
    if entry["path"] is None:
        return "in memory"
    if not os.path.isfile(entry["path"]):
        return "gone"
    if os.path.getsize(entry["path"]) > LARGEST_CHECKED:
        return "not checked: over 2 GB"
    return "unchanged" if _sha256(Path(entry["path"])) == entry["sha256"] else "changed"
