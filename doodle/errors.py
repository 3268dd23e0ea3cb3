"""The one exception type the library raises for bad input; the CLI turns it into one line."""

__all__ = ["DoodleError"]


class DoodleError(Exception):
    """A problem the user can fix: a missing file, a bad option, weights that cannot be had."""
