"""The exceptions the library raises for what a user can fix; the CLI, the studio and ``watch``
read their fields, never their wording.

A message names the library's parameters in backticks, as Python spells them
(`` `device='cpu'` ``, `` `allow_missing_labels=True` ``); :meth:`DoodleError.render` spells each
one as the caller shows it (the command line as its flags). ``path`` is the file at fault, if a
file is; ``hint`` another way out, which a caller that cannot offer it leaves off (:attr:`message`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from semantic_maps import MapError

__all__ = ["DoodleError", "PaintingStopped", "Cancelled", "map_errors", "Spelling", "as_python"]

_PARAMETER = re.compile(r"`(\w+)(?:=([^`]*))?`")  # `name` or `name=value`
Spelling = Callable[[str, str | None], str]  # (parameter name, value as written or None) -> shown text


class DoodleError(Exception):
    """A problem the user can fix: a missing file, a bad option, weights that cannot be had.

    ``str(error)`` is the whole message (with its hint); ``message`` without the hint.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike | None = None,
        parameter: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message if hint is None else f"{message}, {hint}")
        self.message, self.hint = message, hint
        self.path = None if path is None else os.fspath(path)
        named = _PARAMETER.findall(str(self))
        self.parameter = parameter if parameter is not None else (named[0][0] if named else None)

    def render(self, spell: Spelling, *, hint: bool = True) -> str:
        """The message with every `` `name` `` or `` `name=value` `` shown as ``spell(name, value)``."""

        def shown(match: re.Match) -> str:
            return spell(match.group(1), match.group(2))

        return _PARAMETER.sub(shown, str(self) if hint else self.message)


def as_python(name: str, value: str | None) -> str:
    """The plain spelling: ``name`` or ``name=value``."""
    return name if value is None else f"{name}={value}"


class PaintingStopped(DoodleError):
    """The painting could not go on (its loss stopped being a finite number).

    ``image`` (a PIL image at the output size) is the last image a step reached, to keep; None
    when the very first evaluation failed.
    """

    def __init__(self, message: str, image) -> None:
        super().__init__(message)
        self.image = image


class Cancelled(Exception):
    """A paint asked to stop (its ``stop`` check said so) stopped: between iterations, or at a step of
    its setup (the start image, each phase's objective), not only once it is painting."""


@contextmanager
def map_errors() -> Iterator[None]:
    """Raise :class:`semantic_maps.MapError` (bad map or image file) as a :class:`DoodleError`, its
    file and hint kept."""
    try:
        yield
    except MapError as error:
        raise DoodleError(error.message, path=error.path, hint=error.hint) from None
