"""``python -m doodle`` runs the command line."""

from .cli import main

main()
