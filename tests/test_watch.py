import threading
import time

import numpy as np
import pytest
from PIL import Image

from doodle import DoodleError
from doodle.errors import map_errors
from doodle.watch import watch
from semantic_maps import read_map


def test_watch_repaints_on_change_and_survives_a_half_written_map(tmp_path):
    doodle, output = tmp_path / "doodle.png", tmp_path / "out.png"
    first, second = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    Image.fromarray(first).save(doodle)
    lines: list[str] = []

    def render():
        with map_errors():  # as the library reads a map: the error names the file at fault in its path
            return Image.fromarray(read_map(doodle))

    def edit():
        time.sleep(0.4)
        doodle.write_bytes(doodle.read_bytes()[:20])  # the paint program is half-way through saving
        time.sleep(0.4)
        Image.fromarray(second).save(doodle)

    editor = threading.Thread(target=edit)
    editor.start()
    result = {}
    watcher = threading.Thread(
        target=lambda: result.update(
            n=watch(doodle, render, output, poll=0.02, settle=0.05, max_renders=2, report=lines.append)
        )
    )
    watcher.start()
    watcher.join(timeout=20)
    editor.join()
    assert not watcher.is_alive(), lines
    assert result["n"] == 2
    assert (np.asarray(Image.open(output)) == 255).all()  # the second doodle's image
    assert any(line.startswith("waiting for a usable map: ") and "doodle.png" in line for line in lines), lines


def test_watch_stops_at_an_error_no_edit_of_the_map_can_fix(tmp_path):
    doodle, output = tmp_path / "doodle.png", tmp_path / "out.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(doodle)

    def render():  # a message that starts with the map's name, about another file: the path decides
        raise DoodleError(f"{doodle}: painted from weights that are damaged", path=tmp_path / "weights.pth")

    with pytest.raises(DoodleError, match="damaged"):
        watch(doodle, render, output, poll=0.01, settle=0.01, max_renders=1, report=lambda line: None)
    assert not output.exists()
