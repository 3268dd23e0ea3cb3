"""A record read back from a PNG is input from anyone: checked here, in one place, before anything reads it.

Each problem is one :class:`~doodle.errors.DoodleError` naming the file and the field
(``settings.phases``, ``inputs.style.sha256``, ``frame.index``).
"""

from __future__ import annotations

import dataclasses
import os
import re

from .errors import DoodleError
from .settings import PaintSettings

__all__ = ["check_record"]

_COMMANDS = ("paint", "render", "animate")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FIELDS = {field.name for field in dataclasses.fields(PaintSettings)}
_INPUTS = ("style", "style_map", "target_map", "content", "guides", "weights", "seed", "painter")


def _fail(path, field: str, problem: str) -> None:
    raise DoodleError(f"{path}: its doodle record is damaged ({field}: {problem})", path=path)


def _kind(path, field: str, value, kinds: tuple, what: str) -> None:
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        _fail(path, field, f"{what} expected, found {type(value).__name__}")


def _entry(path, field: str, entry) -> None:
    """One input: ``{"path": str or null, "sha256": 64 hex digits, "found": true}``."""
    _kind(path, field, entry, (dict,), "an object")
    unknown = sorted(set(entry) - {"path", "sha256", "found"})
    if unknown:
        _fail(path, field, f"unknown key {unknown[0]}")
    if "path" not in entry or "sha256" not in entry:
        _fail(path, field, "its path and sha256 are both needed")
    if entry["path"] is not None:
        _kind(path, f"{field}.path", entry["path"], (str,), "a file name")
    if not isinstance(entry["sha256"], str) or not _SHA256.fullmatch(entry["sha256"]):
        _fail(path, f"{field}.sha256", "64 hexadecimal digits expected")


def _inputs(path, inputs) -> None:
    _kind(path, "inputs", inputs, (dict,), "an object")
    for name, value in inputs.items():
        if name not in _INPUTS:
            _fail(path, "inputs", f"unknown input {name}")
        if name == "guides" and not (isinstance(value, list) and value and len(value) % 2 == 0):
            _fail(path, "inputs.guides", "a list of sources and targets, in pairs, expected")
        entries = value if isinstance(value, list) and name in ("style", "style_map", "guides") else [value]
        for number, entry in enumerate(entries, start=1):
            _entry(path, f"inputs.{name}" + (f".{number}" if len(entries) > 1 else ""), entry)


_WHOLE = ("phases", "patch_size", "match_every", "random_seed", "working_size", "last_vote")
_NUMBER = ("style_weight", "content_weight", "semantic_weight", "smoothness", "style_scale", "noise_ratio")
_NUMBER += ("position_guide", "luminance_guide")
_TEXT = ("style_loss", "matcher", "optimizer", "seed", "preserve_colors", "model", "weights", "preprocess")
_TEXT += ("pooling", "device", "precision", "finish")
_ITEMS = {"output_size": int, "iterations": int, "style_layers": str, "content_layers": str, "style_blend": float}
_ITEMS["guide_weights"] = float


def _value_kind(path, name: str, value) -> None:
    """A setting's value of its kind: a whole number, a number, text, true/false or a list of them."""
    field = f"settings.{name}"
    if value is None:
        return
    if name in _WHOLE:
        _kind(path, field, value, (int,), "a whole number")
    elif name in _NUMBER:
        _kind(path, field, value, (int, float), "a number")
    elif name in _TEXT:
        _kind(path, field, value, (str,), "text")
    elif name == "allow_missing_labels":
        _kind(path, field, value, (bool,), "true or false")
    elif name in _ITEMS:
        kinds = (int, float) if _ITEMS[name] is float else (_ITEMS[name],)
        items = [value] if name == "iterations" and isinstance(value, int) else value
        if not isinstance(items, list) or not all(isinstance(v, kinds) and not isinstance(v, bool) for v in items):
            _fail(path, field, f"a list of {'numbers' if _ITEMS[name] is not str else 'layer names'} expected")
        if name == "output_size" and (len(items) != 2 or min(items) < 1):
            _fail(path, field, "[width, height] expected")


def _settings(path, settings) -> None:
    """Each setting, of a known name, a value of its kind and in its range (as the settings check it)."""
    _kind(path, "settings", settings, (dict,), "an object")
    for name, value in settings.items():
        if name not in _FIELDS:
            continue  # (a newer doodle's setting: `--from` says so with the names)
        _value_kind(path, name, value)
        value = tuple(value) if isinstance(value, list) else value
        try:
            PaintSettings(**{name: value})
        except (TypeError, ValueError, DoodleError) as error:
            _fail(path, f"settings.{name}", str(error).replace("`", ""))


def _frame(path, frame) -> None:
    _kind(path, "frame", frame, (dict,), "an object")
    for key in ("index", "count"):
        if not isinstance(frame.get(key), int) or isinstance(frame.get(key), bool) or frame[key] < 1:
            _fail(path, f"frame.{key}", "a whole number of at least 1 expected")
    tied = frame.get("tied")
    if tied is not None:
        _kind(path, "frame.tied", tied, (dict,), "an object")
        _kind(path, "frame.tied.after", tied.get("after"), (str,), "a file name")
        _kind(path, "frame.tied.temporal_weight", tied.get("temporal_weight"), (int, float), "a number")


def _plan(path, plan) -> None:
    _kind(path, "plan", plan, (dict,), "an object")
    _kind(path, "plan.mode", plan.get("mode"), (str,), "text")
    _kind(path, "plan.start", plan.get("start"), (str,), "text")
    _kind(path, "plan.phases", plan.get("phases"), (list,), "a list")
    for number, phase in enumerate(plan["phases"], start=1):
        field = f"plan.phases.{number}"
        _kind(path, field, phase, (dict,), "an object")
        size = phase.get("size")
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) for n in size)):
            _fail(path, f"{field}.size", "[width, height] expected")
        _kind(path, f"{field}.iterations", phase.get("iterations"), (int,), "a whole number")
        for key in ("mrf_layers", "gram_layers", "content_layers"):
            layers = phase.get(key)
            if not (isinstance(layers, list) and all(isinstance(layer, str) for layer in layers)):
                _fail(path, f"{field}.{key}", "a list of layer names expected")
    finish = plan.get("finish")
    if finish is not None:
        _kind(path, "plan.finish", finish, (dict,), "an object")
        size = finish.get("size")
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) for n in size)):
            _fail(path, "plan.finish.size", "[width, height] expected")
        guides = finish.get("guides", {})  # (0.6 on: the finish's guides and settings; before, its size alone)
        if not (isinstance(guides, dict) and all(isinstance(w, int | float) for w in guides.values())):
            _fail(path, "plan.finish.guides", "an object of weights by name expected")
        iterations = finish.get("iterations", [])
        if not (isinstance(iterations, list) and all(isinstance(n, int) for n in iterations)):
            _fail(path, "plan.finish.iterations", "a list of whole numbers expected")
        for key in ("patch_size", "uniformity", "last_vote"):
            if key in finish:
                _kind(path, f"plan.finish.{key}", finish[key], (int, float), "a number")


def check_record(record, path: str | os.PathLike) -> dict:
    """``record`` (a PNG's, as JSON) if every field is of its kind; else one :class:`DoodleError` naming
    the file and the field."""
    _kind(path, "the record", record, (dict,), "an object")
    for key in ("doodle", "command", "settings", "inputs"):
        if key not in record:
            _fail(path, key, "missing")
    _kind(path, "doodle", record["doodle"], (str,), "a version")
    if record["command"] not in _COMMANDS:
        _fail(path, "command", f"one of {', '.join(_COMMANDS)} expected")
    _settings(path, record["settings"])
    _inputs(path, record["inputs"])
    if record.get("frame") is not None:
        _frame(path, record["frame"])
    if record.get("plan") is not None:
        _plan(path, record["plan"])
    return record
