"""The ``doodle`` program: its commands, each in a module of its own, and :func:`main`."""

from __future__ import annotations

import typer
from typer.exceptions import TyperException

from .animate import animate_command
from .batch import batch_command
from .info import info_command
from .maps import palette_command, segment_command
from .options import PairedGuides
from .paint import WATCH_HELP, paint_command
from .studio import studio_command
from .train import render_command, train_command

__all__ = ["app", "main"]

app = typer.Typer(
    help="Semantic, patch-based neural style transfer: paint a doodle, a photo or a texture in a painter's style.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("paint", cls=PairedGuides)(paint_command)
app.command("watch", help=WATCH_HELP, cls=PairedGuides)(
    paint_command
)  # one command, two names: watch takes paint's options
app.command("studio")(studio_command)
app.command("train")(train_command)
app.command("animate")(animate_command)
app.command("render")(render_command)
app.command("batch")(batch_command)
app.command("info")(info_command)
app.command("palette")(palette_command)
app.command("segment")(segment_command)


def main() -> None:
    """The ``doodle`` program: as ``app``, with a mistyped command line reported in one line too."""
    try:
        code = app(prog_name="doodle", standalone_mode=False)
    except TyperException as error:  # usage errors: unknown option, bad value, missing argument
        message = error.format_message() if hasattr(error, "format_message") else str(error)
        if message:  # (no message: the help was shown, as for a bare `doodle`)
            typer.echo(f"error: {message} (see doodle --help)", err=True)
        code = getattr(error, "exit_code", 2)
    raise SystemExit(code or 0)
