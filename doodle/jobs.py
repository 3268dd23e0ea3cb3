"""A file of jobs (`doodle batch`): one JSON object a line, read and checked into :class:`Job`\\ s.

A paint job's keys are `doodle paint`'s long option names with underscores (``style``, ``style_map``,
``map``, ``content``, ``output_size``, ``random_seed``, ``weights`` ...) and ``output``; values as
typed on the command line (``"512x384"``, ``"100,60,40"``) or as JSON (``[512, 384]``, ``[100, 60,
40]``, ``3``, ``true``). A render job (``"command": "render"``) takes ``painter``, ``map``,
``output``, ``output_size``, ``random_seed`` and ``device``. Relative paths are relative to the jobs
file's folder. A line that cannot be a job is a job that failed, with its reason: the others run.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from semantic_maps.io import map_path_for

from .errors import DoodleError
from .images import refuse_to_overwrite_inputs
from .plan import SEED_KEYWORDS
from .settings import TEXT_PARSERS, PaintSettings

__all__ = ["Job", "read_jobs", "job_spelling"]

_SETTINGS = {f.name for f in dataclasses.fields(PaintSettings)}
_PAINT_INPUTS = {"style": "style", "style_map": "style_map", "map": "target_map", "content_map": "target_map"}
_PAINT_KEYS = {"command", "output", "content", "guides", *_PAINT_INPUTS, *_SETTINGS}
_RENDER_KEYS = {"command", "output", "painter", "map", "output_size", "random_seed", "device"}
_PATHS = ("style", "style_map", "target_map", "content", "painter")


@dataclass(frozen=True)
class Job:
    """One line of a jobs file: its ``line`` number, ``command`` (``paint`` or ``render``), ``output``,
    its image inputs by parameter name (``style``, ``style_map``, ``target_map``, ``content``,
    ``guides``; ``painter`` for a render), its settings, and ``problem``: why it cannot run, if it
    cannot (its fields, parameter and path, kept: they cross to the command line whole)."""

    line: int
    command: str = "paint"
    output: Path | None = None
    inputs: dict = field(default_factory=dict)
    settings: PaintSettings = field(default_factory=PaintSettings)
    problem: DoodleError | None = None

    def name(self, jobs_file: str | Path) -> str:
        """``jobs.jsonl:3 (out.png)``: the job in messages."""
        return f"{jobs_file}:{self.line}" + ("" if self.output is None else f" ({self.output})")

    @property
    def painting(self) -> tuple:
        """Equal for jobs whose painting (and network) is the same: a worker that has painted one of
        them paints the others without computing the painting's features again."""
        network = tuple(getattr(self.settings, name) for name in ("model", "weights", "preprocess", "pooling"))
        key = self.inputs.get("painter") if self.command == "render" else self.inputs.get("style")
        return self.command, str(key), str(self.inputs.get("style_map")), network


def job_spelling(name: str, value: str | None) -> str:
    """A library parameter as a jobs file names it: `` `target_map` `` -> ``map``."""
    key = "map" if name == "target_map" else name
    return key if value is None else f"{key}={value}"


def _path(value, folder: Path, key: str) -> Path | list[Path]:
    """A path (or a list of them) relative to the jobs file's folder."""
    if isinstance(value, list) and key in ("style", "style_map"):
        return [_path(one, folder, key) for one in value]
    if not isinstance(value, str) or not value:
        raise DoodleError(f"`{key}` must be a file name, got {value!r}")
    return folder / value


def _guides(value, folder: Path) -> list[tuple[Path, Path]]:
    """``guides``: ``[[source, target], ...]``, each a file name relative to the jobs file's folder."""
    if not isinstance(value, list) or not all(isinstance(pair, list) and len(pair) == 2 for pair in value):
        raise DoodleError("`guides` must be a list of [source, target] pairs of file names")
    return [(_path(source, folder, "guides"), _path(target, folder, "guides")) for source, target in value]


def _setting(key: str, value):
    """A setting's value from JSON: text as the command line reads it (lists become tuples in
    :class:`~doodle.settings.PaintSettings`)."""
    if isinstance(value, str) and key in TEXT_PARSERS:
        return TEXT_PARSERS[key](value)
    return value


def _job(line: int, data: dict, folder: Path) -> Job:
    """One job from its JSON object, or a :class:`DoodleError` saying what is wrong with it."""
    command = data.get("command", "paint")
    if command not in ("paint", "render"):
        raise DoodleError(f"`command` {command!r} is not paint or render")
    unknown = sorted(set(data) - (_PAINT_KEYS if command == "paint" else _RENDER_KEYS))
    if unknown:
        raise DoodleError(f"unknown key(s) {', '.join(unknown)} for a {command} job")
    if "output" not in data:
        raise DoodleError("no `output`: every job names the file it writes")
    output = _path(data["output"], folder, "output")
    inputs = {}
    for key, value in data.items():
        name = _PAINT_INPUTS.get(key, key)
        if name in _PATHS or (command == "render" and key == "map"):
            inputs[name] = _path(value, folder, key)
        elif key == "guides":
            inputs[key] = _guides(value, folder)
    values = {key: _setting(key, value) for key, value in data.items() if key in _SETTINGS}
    for key in ("weights", "seed"):  # files, unless a keyword
        if isinstance(values.get(key), str) and values[key] not in SEED_KEYWORDS:
            values[key] = folder / values[key]
    try:
        settings = PaintSettings(**values)
    except TypeError as error:  # a value of the wrong kind, e.g. a list where a number belongs
        raise DoodleError(f"a value of the wrong kind ({error})") from None
    if command == "paint" and "style" not in inputs:
        raise DoodleError("no `style`: the painting whose style to use")
    if command == "render" and ("painter" not in inputs or "target_map" not in inputs):
        raise DoodleError("a render job needs `painter` and `map`")
    return Job(line, command, output, inputs, settings)


def read_jobs(path: str | Path) -> list[Job]:
    """The jobs of a jobs file, in order; a line that cannot be a job comes back with its ``problem``.
    Blank lines and lines starting with ``#`` are left out. Raises :class:`DoodleError` for a file
    that cannot be read, or that holds no job."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DoodleError(f"{path}: jobs file not found", path=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DoodleError(f"{path}: cannot read the jobs file ({error})", path=path) from None
    jobs, outputs = [], {}
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise DoodleError("not a JSON object")
            job = _job(number, data, path.parent)
        except json.JSONDecodeError as error:
            job = Job(number, problem=DoodleError(f"not JSON ({error.msg}, column {error.colno})"))
        except DoodleError as error:
            output = data.get("output") if isinstance(data, dict) and isinstance(data.get("output"), str) else None
            job = Job(number, output=None if output is None else path.parent / output, problem=error)
        if job.output is not None and job.problem is None:
            first = outputs.setdefault(job.output.resolve(), number)
            if first != number:
                job = dataclasses.replace(job, problem=DoodleError(f"the same `output` as line {first}"))
        jobs.append(job)
    if not jobs:
        raise DoodleError(f"{path}: holds no job (one JSON object a line)", path=path)
    return _refuse_outputs_read_as_inputs(jobs)


def _input_files(job: Job) -> list[Path]:
    """The files ``job`` reads: its images (a painting's map found beside it too), guides, weights,
    seed image and painter."""
    files = []
    for name, value in job.inputs.items():
        for item in value if isinstance(value, list) else [value]:
            files.extend(item if isinstance(item, tuple) else [item])
            if name == "style" or name == "content":
                files.append(map_path_for(item))
    files += [Path(value) for value in (job.settings.weights, job.settings.seed) if isinstance(value, Path)]
    return files


def _refuse_outputs_read_as_inputs(jobs: list[Job]) -> list[Job]:
    """``jobs`` with those whose output is an input, of their own or of another job, failed: a batch
    never paints over a file it reads (jobs run in any order)."""
    files = {job.line: _input_files(job) for job in jobs if job.problem is None}
    readers = {}
    for line, read in files.items():
        for file in read:
            readers.setdefault(os.path.realpath(file), line)
    checked = []
    for job in jobs:
        if job.problem is None:
            try:
                refuse_to_overwrite_inputs(job.output, files[job.line], found_beside=[])
            except DoodleError as error:
                problem = DoodleError(error.message.removeprefix(f"{job.output}: "), path=job.output)
                job = dataclasses.replace(job, problem=problem)
            else:
                reader = readers.get(os.path.realpath(job.output))
                if reader is not None:
                    problem = DoodleError(f"its `output` is an input of line {reader}; choose another", path=job.output)
                    job = dataclasses.replace(job, problem=problem)
        checked.append(job)
    return checked
