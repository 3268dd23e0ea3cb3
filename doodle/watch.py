"""The paint-program loop: repaint whenever the doodle file changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from .errors import DoodleError
from .images import save_atomic

__all__ = ["watch"]


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def watch(
    map_path: str | Path,
    render: Callable[[], Image.Image],
    output: str | Path,
    *,
    poll: float = 0.5,
    settle: float = 0.2,
    max_renders: int | None = None,
    report: Callable[[str], None] = print,
) -> int:
    """Render and write ``output`` now and after every change of ``map_path``, until interrupted.

    A change is acted on once the file has stopped changing for ``settle`` seconds. A map that
    cannot be used (half-written by the paint program, or a bad edit: an error whose ``path`` is
    the map's) is reported and retried at the next change. Any other error (a missing
    painting, bad weights) is one no edit of the map can fix: it is raised. Every result is written
    atomically.

    Returns the number of images written (when ``max_renders`` ends the loop).
    """
    map_path, written, done, announced = Path(map_path), 0, None, False
    while max_renders is None or written < max_renders:
        stamp = _stamp(map_path)
        if stamp is None and not announced:
            report(f"waiting for {map_path} to be saved")
            announced = True
        if stamp is not None and stamp != done:
            time.sleep(settle)
            if _stamp(map_path) != stamp:
                continue  # still being written
            try:
                image = render()
            except DoodleError as error:
                if error.path is None or Path(error.path) != map_path:
                    raise  # nothing an edit of the map can fix
                report(f"waiting for a usable map: {error}")
            else:
                save_atomic(image, output)
                written += 1
                report(f"wrote {output} ({image.width}x{image.height}); watching {map_path} for changes")
            done = stamp
        else:
            time.sleep(poll)
    return written
