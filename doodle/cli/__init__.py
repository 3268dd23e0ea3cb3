"""``doodle`` command line: thin commands that collect options and call the library.

Each command is a module here (``paint`` and ``watch``, ``studio``, ``train`` and ``render``,
``animate``, ``info``, ``palette`` and ``segment``), sharing the option declarations of
:mod:`doodle.cli.options`; the library's messages name its parameters (`` `device='cpu'` ``) and
are shown as flags (``--device cpu``).
"""

from .app import app, main
from .common import cli_words

__all__ = ["app", "main", "cli_words"]
