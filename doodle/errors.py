"""The one exception type the library raises for bad input; the CLI turns it into one line.

Messages name the library's parameters in backticks, as Python would spell them
(`` `device='cpu'` ``, `` `allow_missing_labels=True` ``); the command line shows them as its flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from semantic_maps import MapError

__all__ = ["DoodleError", "PaintingStopped", "map_errors"]


class DoodleError(Exception):
    """A problem the user can fix: a missing file, a bad option, weights that cannot be had."""


class PaintingStopped(DoodleError):
    """The painting could not go on (its loss stopped being a finite number).

    ``image`` (a PIL image at the output size) is the last good image, to keep.
    """

    def __init__(self, message: str, image) -> None:
        super().__init__(message)
        self.image = image


@contextmanager
def map_errors() -> Iterator[None]:
    """Raise :class:`semantic_maps.MapError` (bad map or image file) as a :class:`DoodleError`."""
    try:
        yield
    except MapError as error:
        raise DoodleError(str(error)) from None
