"""``python -m doodle`` runs the command line."""

from .cli import app

app(prog_name="doodle")
