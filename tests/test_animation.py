"""doodle animate: frame order, in-between maps, the frames' painting (later frames from the one
before, resume), the animation files, and bad inputs."""

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from doodle import DoodleError, Painter
from doodle.animation import frame_paths, in_betweens, paint_frames, write_animation
from doodle.cli import app

from .conftest import one_line_error, quadrants

runner = CliRunner()
WHITE, RED = np.array([255, 255, 255], np.uint8), np.array([255, 0, 0], np.uint8)
PALETTE = np.stack([WHITE, RED])


def _square(left: int, size: int = 40, side: int = 10) -> np.ndarray:
    rgb = np.full((size, size, 3), 255, np.uint8)
    rgb[15 : 15 + side, left : left + side] = RED
    return rgb


def test_frames_come_in_natural_order_from_folders_patterns_and_lists(tmp_path):
    for name in ("f10.png", "f2.png", "f1.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    expected = [tmp_path / "f1.png", tmp_path / "f2.png", tmp_path / "f10.png"]
    assert frame_paths([tmp_path]) == expected
    assert frame_paths([str(tmp_path / "f*.png")]) == expected
    assert frame_paths([tmp_path / "f10.png", tmp_path / "f1.png"]) == [tmp_path / "f10.png", tmp_path / "f1.png"]


def test_frames_that_are_not_there_are_one_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DoodleError, match="a folder with no images"):
        frame_paths([tmp_path / "empty"])
    with pytest.raises(DoodleError, match="no image matches"):
        frame_paths([str(tmp_path / "*.png")])
    with pytest.raises(DoodleError, match="not found"):
        frame_paths([tmp_path / "nope.png"])


def test_in_betweens_move_a_region_smoothly():
    first, last = _square(2), _square(26)
    middle = in_betweens(first, last, 3, PALETTE)
    assert len(middle) == 3
    lefts = [np.nonzero((frame == RED).all(axis=-1))[1].min() for frame in middle]
    assert lefts == sorted(lefts) and abs(lefts[1] - 14) <= 1  # halfway at the middle one
    areas = [int((frame == RED).all(axis=-1).sum()) for frame in middle]
    assert all(80 <= area <= 120 for area in areas), areas  # the square keeps its size on the way


def test_a_region_only_in_the_last_keyframe_grows_from_its_deepest_point():
    first, last = np.full((40, 40, 3), 255, np.uint8), _square(15, side=12)
    areas = [int((frame == RED).all(axis=-1).sum()) for frame in in_betweens(first, last, 3, PALETTE)]
    assert 0 <= areas[0] < areas[1] < areas[2] < 144, areas
    grown = in_betweens(first, last, 3, PALETTE)[2]
    assert (grown[21, 21] == RED).all()  # around the square's centre


def test_a_known_shift_moves_an_object_by_that_shift():
    from doodle.animation import warp_by_labels

    before, after = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    before[10:20, 5:15], after[13:23, 11:21] = 1, 1  # the object moves 3 down and 6 right
    image = np.random.default_rng(0).random((40, 40, 3))
    carried, known = warp_by_labels(image, before, after)
    assert np.array_equal(carried[13:23, 11:21], image[10:20, 5:15]) and known[13:23, 11:21].all()
    assert not known[10:13, 5:11].any()  # where it was and is no more: unknown (painted afresh)
    assert np.array_equal(carried[25:, :], image[25:, :]) and known[25:, :].all()  # the rest stays put


def _frames(folder, count=3):
    """Frame maps: the quadrants with a square of the second label moving right."""
    folder.mkdir()
    for index in range(count):
        rgb = quadrants(48).copy()
        rgb[20:30, 5 + 8 * index : 15 + 8 * index] = rgb[0, -1]
        Image.fromarray(rgb).save(folder / f"frame{index + 1}.png")
    return sorted(folder.iterdir())


def test_later_frames_start_from_the_one_before_and_resume_keeps_what_was_painted(inputs, tiny_net):
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps")]
    painter = Painter(network=tiny_net, phases=1, iterations=3)
    folder = inputs / "frames"
    files = paint_frames(painter, inputs / "style.png", None, maps, folder)
    assert [f.name for f in files] == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    from doodle.provenance import read_record

    assert read_record(files[0])["settings"]["phases"] == 1 and read_record(files[0])["settings"]["seed"] == "auto"
    later = read_record(files[1])
    assert later["settings"]["iterations"] == 40 and later["inputs"]["seed"]["path"].endswith(".start.png")
    assert not (folder / ".start.png").exists()
    stamps = [f.stat().st_mtime_ns for f in files]
    files[2].unlink()
    paint_frames(painter, inputs / "style.png", None, maps, folder, resume=True)
    assert [f.stat().st_mtime_ns for f in files[:2]] == stamps[:2]  # kept, not painted again
    assert files[2].is_file()


def test_animations_are_written_as_gif_webp_or_a_clear_line_for_mp4(tmp_path, monkeypatch):
    frames = []
    for index in range(3):
        path = tmp_path / f"f{index}.png"
        Image.fromarray(_square(2 + 10 * index)).save(path)
        frames.append(path)
    for suffix in (".gif", ".webp"):
        write_animation(frames, tmp_path / f"a{suffix}", fps=5)
        with Image.open(tmp_path / f"a{suffix}") as animation:
            assert animation.n_frames == 3
    import builtins

    real_import = builtins.__import__

    def no_ffmpeg(name, *args, **kwargs):
        if name == "imageio_ffmpeg":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ffmpeg)
    with pytest.raises(DoodleError, match=r"pip install 'doodle\[video\]'"):
        write_animation(frames, tmp_path / "a.mp4", fps=5)
    assert not (tmp_path / "a.mp4").exists()


def _animate(inputs, weights, *extra):
    return ["animate", "--style", str(inputs / "style.png"), "--weights", str(weights), "--phases", "1",
            "--iterations", "2", "--style-layers", "1_1,2_1", "-q", *extra]  # fmt: skip


def test_animate_command_writes_a_gif_and_its_frames(inputs, random_weights):
    _frames(inputs / "maps")
    output = inputs / "out.gif"
    result = runner.invoke(
        app, [*_animate(inputs, random_weights, "-o", str(output), "--between", "1"), str(inputs / "maps")]
    )
    assert result.exit_code == 0, result.output
    with Image.open(output) as animation:
        assert animation.n_frames == 5  # 3 doodles and an in-between after each of the first two
    assert len(list((inputs / "out_frames").glob("frame_*.png"))) == 5


def test_animate_bad_frames_are_one_line_and_write_nothing(inputs, random_weights):
    paths = _frames(inputs / "maps")
    output = inputs / "out.gif"
    output.write_bytes(b"precious")
    Image.fromarray(quadrants(40)).save(paths[1])  # another size
    result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output)), str(inputs / "maps")])
    one_line_error(result, "frame2.png", "40x40", "same size")
    (inputs / "empty").mkdir()
    one_line_error(
        runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output)), str(inputs / "empty")]), "no images"
    )
    bad = quadrants(48, colours=np.array([[0, 255, 0], [1, 2, 3], [0, 0, 255], [255, 255, 255]], dtype=np.uint8))
    Image.fromarray(bad).save(inputs / "bad.png")
    result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output)), str(inputs / "bad.png")])
    one_line_error(result, "#010203", "is not in the")
    assert output.read_bytes() == b"precious"
    assert not (inputs / "out_frames").exists()
