"""doodle animate: frame order, in-between maps, the frames' painting (later frames from the one
before, resume), the animation files, and bad inputs."""

import dataclasses
import importlib.util

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage
from typer.testing import CliRunner

import doodle.animation
import semantic_maps
from doodle import DoodleError, Painter
from doodle.animation import frame_paths, in_betweens, paint_frames, write_animation
from doodle.cli import app
from doodle.matching import Matches
from doodle.temporal import FrameGuide, guide_from, motion_from_flow, motion_from_labels

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
    before, after = np.zeros((40, 40), np.uint8), np.zeros((40, 40), np.uint8)
    before[10:20, 5:15], after[13:23, 11:21] = 1, 1  # the object moves 3 down and 6 right
    image = np.random.default_rng(0).random((40, 40, 3))
    motion = motion_from_labels(before, after)
    carried, known = motion.carry(image), motion.known
    assert np.array_equal(carried[13:23, 11:21], image[10:20, 5:15]) and known[13:23, 11:21].all()
    assert not known[10:13, 5:11].any()  # where it was and is no more: unknown (painted afresh)
    assert np.array_equal(carried[25:, :], image[25:, :]) and known[25:, :].all()  # the rest stays put


def test_optical_flow_finds_a_known_shift_and_marks_what_came_into_view():
    rng = np.random.default_rng(0)
    scene = ndimage.gaussian_filter(rng.random((70, 90, 3)), (1.5, 1.5, 0))
    scene = (scene - scene.min()) / np.ptp(scene)
    before, after = scene[5:55, 5:75], scene[3:53, 2:72]  # the camera moves 2 up and 3 left
    motion = motion_from_flow(before, after)
    inner = (slice(8, -8), slice(8, -8))
    rows, columns = np.indices(after.shape[:2])
    assert np.mean(motion.rows[inner] == rows[inner] - 2) > 0.9
    assert np.mean(motion.columns[inner] == columns[inner] - 3) > 0.9
    assert motion.known[inner].mean() > 0.9
    assert motion.known[:2].mean() < 0.5  # the rows that came into view at the top
    assert np.abs(motion.carry(before) - after)[inner].mean() < 0.02


def test_a_clip_s_disoccluded_pixels_start_from_the_known_ones_mirrored_into_them():
    previous = np.broadcast_to(np.arange(8, dtype=np.float32)[None, :, None] / 7, (8, 8, 3)).copy()
    before = np.zeros((8, 8), np.uint8)
    motion = motion_from_labels(before, before)
    known = np.ones((8, 8), bool)
    known[:, 6:] = False  # the right edge came into view
    motion = dataclasses.replace(motion, known=known)
    fresh = torch.full((1, 3, 8, 8), 0.5)
    plain = guide_from(previous, motion, weight=1.0, matches=None, margin=0)
    assert torch.equal(plain.start(fresh)[..., 6:], fresh[..., 6:])  # a doodle's new label: the fresh start
    filled = guide_from(previous, motion, weight=1.0, matches=None, margin=0, fill=True)
    start = filled.start(fresh)[0, 0, 0] * 7
    assert torch.allclose(start, torch.tensor([0, 1, 2, 3, 4, 5, 4, 3.0]))  # mirrored across column 5
    assert filled.known[..., 6:].eq(0).all()  # still free of the temporal loss
    sharp = filled.keep_known(torch.zeros(1, 3, 8, 8))
    assert torch.equal(sharp[..., :6], filled.carried[..., :6]) and sharp[..., 6:].eq(0).all()


def test_carried_matches_follow_the_motion():
    before = np.zeros((64, 64), np.uint8)
    motion = motion_from_labels(before, before)
    motion = dataclasses.replace(motion, rows=np.clip(motion.rows - 8, 0, 63))  # everything moved 8 pixels down
    grid = (14, 14)  # a 16x16 layer of stride 4, 3x3 patches
    previous = Matches(torch.arange(196), grid, (30, 30))
    guide = FrameGuide(torch.zeros(1, 3, 64, 64), torch.ones(1, 1, 64, 64), motion, matches={"relu3_1": previous})
    indices, known = guide.seeds("relu3_1", grid, (30, 30), 4, 3)
    indices, known = indices.view(grid), known.view(grid)
    assert torch.equal(indices[2:], previous.indices.view(grid)[:-2])  # two patch rows down
    assert not known[:2].any() and known[2:].all()  # the top had nothing above it
    assert guide.seeds("relu3_1", grid, (31, 30), 4, 3) is None  # matches into another painting's grid: none
    cropped = guide.cropped((16, 8, 32, 32))
    indices, _ = cropped.seeds("relu3_1", (6, 6), (30, 30), 4, 3)
    assert torch.equal(indices.view(6, 6), previous.indices.view(grid)[2:8, 2:8])


def _frames(folder, count=3):
    """Frame maps: the quadrants with a square of the second label moving right."""
    folder.mkdir(exist_ok=True)
    for index in range(count):
        rgb = quadrants(48).copy()
        rgb[20:30, 5 + 8 * index : 15 + 8 * index] = rgb[0, -1]
        Image.fromarray(rgb).save(folder / f"frame{index + 1}.png")
    return sorted(folder.iterdir())


def test_later_frames_are_short_paints_and_resume_keeps_what_was_painted(inputs, tiny_net):
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps")]
    painter = Painter(network=tiny_net, phases=1, iterations=3)
    folder = inputs / "frames"
    files = paint_frames(painter, inputs / "style.png", None, maps, folder)
    assert [f.name for f in files] == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    from doodle.provenance import read_record

    first, later = read_record(files[0]), read_record(files[1])
    assert first["settings"]["iterations"] == 3 and first["frame"] == dict(index=1, count=3, tied=None)
    assert later["settings"]["iterations"] == 40 and later["settings"]["phases"] == 1
    assert later["command"] == "animate" and later["frame"]["tied"]["after"] == "frame_0001.png"
    assert later["plan"]["start"] == "frame" and [p["iterations"] for p in later["plan"]["phases"]] == [40]
    assert painter.settings.iterations == 3 and painter.settings.phases == 1  # a later frame's settings are its own
    info = runner.invoke(app, ["info", str(files[1])])
    assert info.exit_code == 0 and "frame 2 of 3, tied to frame_0001.png (temporal weight 10.0)" in info.output
    assert "--from" not in info.output
    one_line_error(runner.invoke(app, ["paint", "--from", str(files[1])]), "doodle animate")
    stamps = [f.stat().st_mtime_ns for f in files]
    files[2].unlink()
    paint_frames(painter, inputs / "style.png", None, maps, folder, resume=True)
    assert [f.stat().st_mtime_ns for f in files[:2]] == stamps[:2]  # kept, not painted again
    assert files[2].is_file()


def _guided(inputs, tiny_net, weight: float, **options) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame 2 of the moving square painted with a guide from a flat dark frame 1 (the noise painting's
    labels are all grey) -> frame 2, the carried frame 1 and where it is known (``(H, W, 3)`` floats,
    ``(H, W)`` bool)."""
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps", count=2)]
    palette = semantic_maps.find_palette(np.concatenate(maps, axis=1))
    labels = [semantic_maps.encode_labels(m, palette).argmax(axis=0) for m in maps]
    dark = np.full((48, 48, 3), 0.1, np.float32)
    guide = guide_from(dark, motion_from_labels(*labels), weight=weight, matches=None)
    painter = Painter(network=tiny_net, phases=1, finish="neural", **options)  # the network's stage's own ties
    image = painter.paint(inputs / "style.png", target_map=maps[1], frame=guide).image
    return np.asarray(image, np.float64) / 255, dark, guide.known[0, 0].numpy() > 0


def test_a_later_frame_starts_from_the_frame_before_where_known(inputs, tiny_net):
    image, dark, known = _guided(inputs, tiny_net, 0.0, optimizer="adam", iterations=1)  # one small step
    assert np.abs(image - dark)[known].max() < 0.05
    assert np.abs(image - dark)[~known].mean() > 0.3  # the new place of the square: the painting's colour


def test_the_temporal_loss_pulls_known_pixels_toward_the_frame_before(inputs, tiny_net):
    free, dark, known = _guided(inputs, tiny_net, 0.0, iterations=40)
    pulled, _, _ = _guided(inputs, tiny_net, 1000.0, iterations=40)
    assert np.abs(pulled - dark)[known].mean() < min(0.01, 0.2 * np.abs(free - dark)[known].mean())


def test_the_pixel_finish_of_a_later_frame_keeps_the_patches_of_the_frame_before(inputs, tiny_net, monkeypatch):
    """A still doodle, two frames, the default pixel finish: frame 2 keeps frame 1's patches (its
    matches carried by the motion, the carried frame a guide), where a finish painted as a first
    frame draws the painting's patches anew."""
    import doodle.painter

    ys, xs = np.mgrid[0:64, 0:64]
    waves = np.stack([np.sin(xs / 3.0 + ys / 5.0), np.cos(ys / 2.5), np.sin((xs - ys) / 4.0)], axis=-1)
    Image.fromarray(((waves + 1) * 127.5).astype(np.uint8)).save(inputs / "waves.png")
    Image.fromarray(quadrants(64)).save(inputs / "waves_sem.png")
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps", count=1)] * 2
    real_finish = doodle.painter.finish_pixels
    changes = {}
    for tied in (True, False):
        if not tied:  # every frame's finish as a first frame's: no frame before, no matches carried
            monkeypatch.setattr(
                doodle.painter, "finish_pixels", lambda *a, **k: real_finish(*a, **{**k, "frame": None, "before": None})
            )
        painter = Painter(network=tiny_net, phases=1, iterations=3, style_layers=("2_1", "3_1"))
        files = paint_frames(painter, inputs / "waves.png", None, maps, inputs / f"still{tied}")
        first, second = (np.asarray(Image.open(path), np.float64) / 255 for path in files)
        changes[tied] = np.abs(second - first).mean()
    assert changes[True] < 0.5 * changes[False], changes


def test_a_temporal_weight_of_0_turns_the_tie_off_in_the_pixel_finish_too(inputs, tiny_net, monkeypatch):
    # `--temporal-weight 0` ("0: none") left the finish's tie to the frame before at a fixed 4.0.
    import doodle.pixels

    real_guides, weights = doodle.pixels.pixel_guides, {}

    def spy(scene, neural, finish, frame=None):
        guides = real_guides(scene, neural, finish, frame)
        if frame is not None:
            weights[frame.weight] = [guide.weight for guide in guides]
        return guides

    monkeypatch.setattr(doodle.pixels, "pixel_guides", spy)
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps", count=2)]
    for weight in (0.0, 10.0):
        painter = Painter(network=tiny_net, phases=1, iterations=2, style_layers=("2_1",))
        paint_frames(painter, inputs / "style.png", None, maps, inputs / f"tie{weight}", temporal_weight=weight)
    assert weights[10.0] == [4.0, *weights[0.0]], weights  # the default's tie as before; none at 0


def test_a_later_frame_searches_from_the_frame_before_s_matches(inputs, tiny_net, monkeypatch):
    from doodle.matching import ExactMatcher

    searched = []  # patches searched in full, call by call
    real_call = ExactMatcher.__call__
    # Every label of these tiny maps is small enough to be searched exactly after each PatchMatch (the
    # fast matcher's rule for small regions): counted here is only what the frame before leaves unknown.
    monkeypatch.setattr("doodle.matching._EXACT_PAIRS", 0)
    monkeypatch.setattr(ExactMatcher, "__call__", lambda self, p, *a: searched.append(len(p)) or real_call(self, p, *a))
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps", count=2)]
    frame_two = {}
    real_guide = doodle.animation.guide_from
    for seeded in (True, False):
        if not seeded:  # the frame before's matches withheld: every search starts afresh
            monkeypatch.setattr(
                doodle.animation, "guide_from", lambda *a, **k: real_guide(*a, **{**k, "matches": None})
            )
        painter = Painter(network=tiny_net, phases=1, iterations=3, style_layers=("2_1", "3_1"))
        calls = []
        paint_frames(
            painter, inputs / "style.png", None, maps, inputs / f"frames{seeded}",
            on_frame=lambda index, count, calls=calls: calls.append(len(searched)),
        )  # fmt: skip
        frame_two[seeded] = searched[calls[1] :]
    assert len(frame_two[False]) == 2  # one search of every patch per layer
    assert len(frame_two[True]) == 2 and sum(frame_two[True]) < 0.25 * sum(frame_two[False])  # where the square went


def test_a_still_frame_is_the_frame_before(inputs, tiny_net):
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps", count=2)]
    files = paint_frames(Painter(network=tiny_net, phases=1, iterations=3), inputs / "style.png", None,
                         [maps[0], maps[1], maps[1]], inputs / "frames")  # fmt: skip
    assert np.array_equal(np.asarray(Image.open(files[1])), np.asarray(Image.open(files[2])))


def _without_ffmpeg(monkeypatch) -> None:
    """Imports of imageio_ffmpeg fail from here on, as without the video extra."""
    import builtins

    real_import = builtins.__import__

    def no_ffmpeg(name, *args, **kwargs):
        if name == "imageio_ffmpeg":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ffmpeg)


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
    if importlib.util.find_spec("imageio_ffmpeg") is not None:  # (the video extra, in the test extra)
        import imageio.v3 as iio

        write_animation(frames, tmp_path / "a.mp4", fps=5)
        assert iio.imread(tmp_path / "a.mp4", index=None).shape[:3] == (3, 40, 40)
        (tmp_path / "a.mp4").unlink()
    _without_ffmpeg(monkeypatch)
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


def _clip(folder, count=3, size=48):
    """Photo frames: a smooth random scene that the camera pans across, 2 pixels a frame."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(1)
    scene = ndimage.gaussian_filter(rng.random((size, size + 2 * count, 3)), (2, 2, 0))
    scene = ((scene - scene.min()) / np.ptp(scene) * 255).astype(np.uint8)
    paths = []
    for index in range(count):
        paths.append(folder / f"photo{index + 1}.png")
        Image.fromarray(scene[:, 2 * index : 2 * index + size].copy()).save(paths[-1])
    return paths


def test_animate_refuses_an_output_that_is_no_animation_before_painting(inputs, random_weights):
    _frames(inputs / "maps")
    for name in ("out.avi", "out.png"):
        result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(inputs / name)), str(inputs / "maps")])
        one_line_error(result, f"{name}: an animation is a folder, .gif, .webp or .mp4")
    assert not (inputs / "out_frames").exists()


@pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None, reason="needs the video extra")
def test_animate_command_writes_an_mp4(inputs, random_weights):
    import imageio.v3 as iio

    _frames(inputs / "maps")
    output = inputs / "out.mp4"
    result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output)), str(inputs / "maps")])
    assert result.exit_code == 0, result.output
    assert iio.imread(output, index=None).shape[0] == 3


def test_frame_maps_that_are_photos_are_one_line_naming_the_frame(tmp_path):
    from doodle.animation import read_maps

    colours = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(colours).resize((256, 256), Image.NEAREST).save(tmp_path / "photo.png")  # 256 flat colours
    Image.fromarray(quadrants(256)).save(tmp_path / "map.png")
    with pytest.raises(DoodleError, match="colours fill regions") as caught:
        read_maps([tmp_path / "map.png", tmp_path / "photo.png"])  # (a MapError traceback before)
    assert str(caught.value).startswith(f"{tmp_path / 'photo.png'}:") and caught.value.path == str(
        tmp_path / "photo.png"
    )


def test_resume_keeps_only_the_frames_this_animation_painted(inputs, random_weights):
    _frames(inputs / "maps")
    folder = inputs / "frames"
    folder.mkdir()
    Image.fromarray(quadrants(48)).save(folder / "frame_0001.png")  # an image of the right size, not a frame
    command = [*_animate(inputs, random_weights, "-o", str(folder), "--resume"), str(inputs / "maps")]
    one_line_error(runner.invoke(app, command), "frame_0001.png: is not frame 1 of 3 of this animation")
    assert sorted(p.name for p in folder.iterdir()) == ["frame_0001.png"]


def test_resume_refuses_the_frames_of_another_animation(inputs, tiny_net):
    maps = [np.asarray(Image.open(path)) for path in _frames(inputs / "maps")]
    painter = Painter(network=tiny_net, phases=1, iterations=2)
    folder = inputs / "frames"
    files = paint_frames(painter, inputs / "style.png", None, maps[:2], folder)
    before = [f.read_bytes() for f in files]
    others = [np.ascontiguousarray(m[:, ::-1]) for m in maps[:2]]  # other doodles, of the same size and count
    with pytest.raises(DoodleError) as caught:
        paint_frames(painter, inputs / "style.png", None, others, folder, resume=True)
    assert "frame_0001.png: is a frame of another animation (its `target_map` differs)" in str(caught.value)
    assert [f.read_bytes() for f in files] == before and sorted(folder.iterdir()) == files


def test_animate_paints_a_clip_of_photo_frames_with_maps_or_without(inputs, random_weights):
    _clip(inputs / "clip")
    _frames(inputs / "maps")
    for maps, output in (([], inputs / "plain"), ([str(inputs / "maps")], inputs / "semantic")):
        result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output), "--content",
                                               str(inputs / "clip")), *maps])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in output.iterdir()) == ["frame_0001.png", "frame_0002.png", "frame_0003.png"]
    from doodle.provenance import read_record

    assert "sha256" in read_record(inputs / "semantic" / "frame_0003.png")["inputs"]["content"]  # painted from a photo


def test_a_clip_keeps_its_colours_with_preserve_colors(inputs, random_weights):
    from doodle.colors import rgb_to_yiq
    from doodle.images import to_tensor

    photos = _clip(inputs / "clip")
    output = inputs / "kept"
    result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output), "--content",
                                           str(inputs / "clip"), "--preserve-colors", "luminance")])  # fmt: skip
    assert result.exit_code == 0, result.output
    for index in (1, 3):  # the first frame and a later one (tied to the frame before)
        chroma = rgb_to_yiq(to_tensor(Image.open(output / f"frame_000{index}.png")))[:, 1:]
        wanted = rgb_to_yiq(to_tensor(Image.open(photos[index - 1])))[:, 1:]
        assert (chroma - wanted).abs().mean() < 0.005  # (without the option: 0.06)


def test_animate_reads_a_video_clip(inputs, random_weights):
    iio = pytest.importorskip("imageio.v3", reason="the video extra (imageio) is not installed")
    pytest.importorskip("imageio_ffmpeg", reason="the video extra (imageio-ffmpeg) is not installed")
    frames = [np.asarray(Image.open(p)) for p in _clip(inputs / "clip", size=48)]
    iio.imwrite(inputs / "clip.mp4", np.stack(frames), fps=4)
    output = inputs / "out.gif"
    result = runner.invoke(app, [*_animate(inputs, random_weights, "-o", str(output), "--content",
                                           str(inputs / "clip.mp4"))])  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(output) as animation:
        assert animation.n_frames == 3


def test_animate_bad_clips_are_one_line_and_write_nothing(inputs, random_weights, monkeypatch):
    _clip(inputs / "clip")
    _frames(inputs / "maps", count=2)
    output = inputs / "out.gif"
    output.write_bytes(b"precious")
    command = [*_animate(inputs, random_weights, "-o", str(output))]
    result = runner.invoke(app, [*command, "--content", str(inputs / "clip"), str(inputs / "maps")])
    one_line_error(result, "2 frame maps for a clip of 3 frames")
    result = runner.invoke(app, [*command, "--content", str(inputs / "clip"), "--between", "2"])
    one_line_error(result, "already")
    one_line_error(runner.invoke(app, command), "no frame maps given")
    (inputs / "broken.mp4").write_bytes(b"not a video")
    one_line_error(runner.invoke(app, [*command, "--content", str(inputs / "broken.mp4")]), "broken.mp4")
    _without_ffmpeg(monkeypatch)
    one_line_error(runner.invoke(app, [*command, "--content", str(inputs / "broken.mp4")]), "doodle[video]")
    assert output.read_bytes() == b"precious"
    assert not (inputs / "out_frames").exists()


def test_matches_of_a_repainted_box_are_pasted_into_the_whole_frame_s():
    from doodle.repaint import pasted_matches

    whole = {"relu3_1": Matches(torch.zeros(14 * 14, dtype=torch.long), (14, 14), (30, 30))}
    part = {"relu3_1": Matches(torch.ones(6 * 5, dtype=torch.long), (6, 5), (30, 30))}
    pasted = pasted_matches(whole, part, (8, 4))["relu3_1"]  # (stride 4: 2 rows, 1 column of patches)
    grid = pasted.indices.view(14, 14)
    assert grid[2:8, 1:6].eq(1).all() and grid.sum() == 30 and pasted.query_grid == (14, 14)
    other = {"relu3_1": Matches(torch.ones(30, dtype=torch.long), (6, 5), (31, 30))}  # another painting's
    assert torch.equal(pasted_matches(whole, other, (8, 4))["relu3_1"].indices, whole["relu3_1"].indices)
