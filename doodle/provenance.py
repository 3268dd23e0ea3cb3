"""What made an image: doodle's version, every setting, the random seed, and each input's path and hash.

The record travels with the image: :class:`~doodle.Painter` puts it in the PIL image's ``info``,
and :func:`~doodle.images.save_atomic` writes it into a PNG's text (key ``doodle``, JSON).
`doodle info OUT.png` prints it; `doodle paint --from OUT.png` paints the same job again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DoodleError
from .images import RECORD_KEY, ImageInput
from .scene import found_map
from .settings import SEED_KEYWORDS, PaintSettings

__all__ = [
    "KEY",
    "job_record",
    "with_record",
    "as_frame",
    "read_record",
    "settings_from_record",
    "input_state",
    "input_paths",
    "entries",
]

KEY = RECORD_KEY  # the PNG text key
FORMAT_VERSION = 1
_TUPLES = ("output_size", "iterations", "style_layers", "content_layers", "style_blend")


# File digests by (path, size, modification time): watch, the studio and animate record the same
# weights (tens to hundreds of MB) and paintings on every paint; a file is read again only if it changed.
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _sha256(source: ImageInput | Path) -> str:
    if isinstance(source, (str, os.PathLike)):
        status = os.stat(source)
        key = (os.path.abspath(source), status.st_size, status.st_mtime_ns)
        if key not in _DIGESTS:
            with open(source, "rb") as file:
                _DIGESTS[key] = hashlib.file_digest(file, "sha256").hexdigest()
        return _DIGESTS[key]
    pixels = np.asarray(source.convert("RGB") if isinstance(source, Image.Image) else source)
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def _input(source: ImageInput | Path, *, found: bool = False) -> dict:
    """``{'path': absolute path or None (an image in memory), 'sha256': of the file or the pixels}``."""
    path = os.path.abspath(source) if isinstance(source, (str, os.PathLike)) else None
    return dict(path=path, sha256=_sha256(source), **({"found": True} if found else {}))


def _inputs(source) -> dict | list[dict]:
    """One input's entry, or a list of them (several paintings)."""
    return [_input(one) for one in source] if isinstance(source, (list, tuple)) else _input(source)


def entries(record: dict) -> list[tuple[str, dict]]:
    """Each recorded input as ``(name, entry)``; several paintings are ``style 1``, ``style 2`` ..."""
    flat = []
    for name, value in record["inputs"].items():
        many = isinstance(value, list)
        flat += [(f"{name} {i}" if many else name, entry) for i, entry in enumerate(value if many else [value], 1)]
    return flat


def job_record(command: str, settings: PaintSettings, inputs: dict[str, ImageInput | None]) -> dict:
    """The record of one job: ``inputs`` by parameter name (``style``, ``target_map``, ...), None
    where not given. Maps found beside their images (``X_sem.png``) are recorded as ``found``;
    the weights and a start image file are recorded as inputs too."""
    from . import __version__  # (here: the package imports this module before it defines its version)

    record_inputs = {name: _inputs(source) for name, source in inputs.items() if source is not None}
    for name, beside in (("style_map", "style"), ("target_map", "content")):
        if name in inputs and inputs[name] is None:
            images = inputs.get(beside) if isinstance(inputs.get(beside), (list, tuple)) else [inputs.get(beside)]
            found = [found_map(image) for image in images]
            if all(path is not None for path in found):
                beside_each = [_input(path, found=True) for path in found]
                record_inputs[name] = beside_each if isinstance(inputs.get(beside), (list, tuple)) else beside_each[0]
    for name in ("weights", "seed"):
        value = getattr(settings, name)
        if value is not None and str(value) not in SEED_KEYWORDS and Path(value).is_file():
            record_inputs[name] = _input(Path(value))
    values = {
        field.name: _plain(getattr(settings, field.name))
        for field in dataclasses.fields(settings)
        if field.name not in ("weights", "seed") or record_inputs.get(field.name) is None
    }
    return dict(format=FORMAT_VERSION, doodle=__version__, command=command, settings=values, inputs=record_inputs)


def as_frame(image: Image.Image, frame: dict) -> Image.Image:
    """``image`` (with a record) as a frame of ``doodle animate``: its record's command becomes
    ``animate`` and ``frame`` (index, count, the frame it is tied to, ...) is added to it."""
    record = json.loads(image.info[KEY])
    return with_record(image, dict(record, command="animate", frame=frame))


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
        raise DoodleError(f"{path}: not found") from None
    except OSError as error:
        raise DoodleError(f"{path}: not an image ({error})") from None
    if text is None:
        raise DoodleError(f"{path}: holds no doodle record (only PNGs written by doodle 0.1 or later do)")
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        raise DoodleError(f"{path}: its doodle record is damaged (not JSON)") from None
    found = record.get("format") if isinstance(record, dict) else None
    if found != FORMAT_VERSION:
        raise DoodleError(f"{path}: its doodle record is of format {found}; this doodle reads format {FORMAT_VERSION}")
    return record


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
    if record.get("doodle") == "0.1.0" and values.get("seed") == "auto":
        # (before 0.2.0, `auto` never started from a collage)
        inputs = record["inputs"]
        values["seed"] = "content" if "content" in inputs else "labels" if "target_map" in inputs else "noise"
    known = {field.name for field in dataclasses.fields(PaintSettings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DoodleError(f"{path}: made with settings this doodle does not know ({', '.join(unknown)})")
    return PaintSettings(**values)


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
        if name not in ("weights", "seed"):
            paths[name] = [path_of(e) for e in value] if isinstance(value, list) else path_of(value)
            if isinstance(value, list) and all(p is None for p in paths[name]):
                paths[name] = None  # found beside each painting, as they will be again
    return paths


def input_state(entry: dict) -> str:
    """A recorded input now: ``unchanged``, ``changed`` (its sha256 differs), ``gone``, or ``in memory``."""
    if entry["path"] is None:
        return "in memory"
    if not os.path.isfile(entry["path"]):
        return "gone"
    return "unchanged" if _sha256(Path(entry["path"])) == entry["sha256"] else "changed"
