"""What every command shares: errors shown in one line with flags for parameters, notes, progress
bars."""

from __future__ import annotations

import dataclasses

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import DoodleError
from ..settings import PaintSettings

__all__ = ["fail", "flag_spelling", "cli_words", "note", "bars"]

_QUOTES = "'\""
# The options of `doodle paint`, `studio` and `train`, by parameter name: the library's parameters.
FLAGGED = frozenset(field.name for field in dataclasses.fields(PaintSettings)) | {
    "style",
    "style_map",
    "target_map",
    "content",
    "guides",
    "output",
    "from_",
    "quiet",
    "save_every",
    "host",
    "port",
    "painter",
    "max_memory",
    "resume",
    "steps",
    "batch",
    "size",
    "learning_rate",
    "collage_weight",
}


# A parameter's flag is its name with dashes (`output_size` -> --output-size), but for these. (The
# commands declare their flags in options.py; a test holds this table to what they declare.)
_FLAG_NAMES = {"target_map": "--map", "from_": "--from", "guides": "--guide", "guide_weights": "--guide-weight"}


def _flag(name: str) -> str:
    return _FLAG_NAMES.get(name, "--" + name.replace("_", "-"))


def flag_spelling(name: str, value: str | None) -> str:
    """A library parameter as the command line spells it: ``device``, ``'cpu'`` -> ``--device cpu``;
    one that is no option of ``doodle paint``, ``studio`` or ``train`` stays as it is."""
    if name not in FLAGGED:
        return name if value is None else f"{name}={value}"
    if value is None or value == "True":
        return _flag(name)
    return f"{_flag(name)} {value.strip(_QUOTES)}"


def cli_words(message: str) -> str:
    """A library message with its parameter names as flags: `` `device='cpu'` `` -> ``--device cpu``."""
    return DoodleError(message).render(flag_spelling)


def fail(error: DoodleError | str) -> None:
    """Print ``error: ...`` in one line, with flags for parameters, and exit with code 1."""
    error = error if isinstance(error, DoodleError) else DoodleError(error)
    typer.echo(f"error: {error.render(flag_spelling)}", err=True)
    raise typer.Exit(1)


def note(message: str) -> None:
    """Print ``note: ...`` (a library note, with flags for parameters)."""
    typer.echo(f"note: {cli_words(message)}", err=True)


def bars(quiet: bool, *fields: TextColumn) -> Progress | None:
    """Progress bars on stderr (None when ``quiet``): each task's description, its bar, done/total,
    ``fields``, the time elapsed."""
    if quiet:
        return None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), *fields, TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True))
