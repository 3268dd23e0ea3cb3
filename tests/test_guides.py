"""Guides (doodle.guides): any image pair, weighted, in the network's patch scores and the pixel finish."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle import DoodleError, paint
from doodle.cli import app

from .conftest import one_line_error, small_edit

runner = CliRunner()


@pytest.fixture
def noise_style():
    return np.random.default_rng(1).integers(0, 255, (40, 64, 3), dtype=np.uint8)


def halves(size: int = 48) -> np.ndarray:
    """A painting: its left half red, its right half blue, with some noise. ``(size, size, 3)`` uint8."""
    rng = np.random.default_rng(0)
    image = np.zeros((size, size, 3), np.uint8)
    image[:, : size // 2] = (220, 30, 30)
    image[:, size // 2 :] = (30, 30, 220)
    return np.clip(image.astype(int) + rng.integers(-20, 20, image.shape), 0, 255).astype(np.uint8)


def gradient(width: int, height: int, flip: bool = False) -> np.ndarray:
    """A greyscale left-to-right gradient ``(height, width)`` uint8 (right to left with ``flip``)."""
    row = np.linspace(0, 255, width)
    return np.tile(row[::-1] if flip else row, (height, 1)).round().astype(np.uint8)


def test_guide_files_of_any_mode_read_as_values_in_0_1(tmp_path):
    from doodle.guides import read_guides

    deep = (np.arange(32 * 16).reshape(16, 32) * 120).astype(np.uint16)  # 16-bit greyscale
    Image.fromarray(deep).save(tmp_path / "deep.png")
    Image.fromarray(gradient(32, 16)).convert("P").save(tmp_path / "palette.png")
    Image.fromarray(gradient(32, 16)).save(tmp_path / "grey.png")
    pairs = read_guides(
        [(tmp_path / "deep.png", tmp_path / "grey.png"), (tmp_path / "grey.png", tmp_path / "palette.png")], None
    )
    assert pairs[0].source.shape == (16, 32, 1) and pairs[0].source.max() == pytest.approx(deep.max() / 65535)
    assert pairs[1].source.shape == pairs[1].target.shape == (16, 32, 3)  # greyscale beside colour: colour
    assert pairs[0].weight == pairs[1].weight == 1.0
    assert pairs[1].target.min() >= 0 and pairs[1].target.max() == 1.0


def test_guide_columns_score_minus_the_weighted_mean_squared_distance():
    """A query's columns dotted with a key's, plus the key's bias, is -w * msd up to a constant per
    query: the key it picks is the one of least weighted guide distance."""
    from doodle.mrf import guide_columns

    generator = torch.Generator().manual_seed(0)
    keys_map, queries_map = torch.rand(1, 3, 9, 9, generator=generator), torch.rand(1, 3, 6, 6, generator=generator)
    groups = ((1, 0.5), (2, 10.0))
    key_columns, bias = guide_columns(keys_map, groups, 3)
    query_columns, _ = guide_columns(queries_map, groups, 3)
    score = query_columns @ key_columns.T + bias[None]
    from doodle.patches import extract_patches

    k, q = extract_patches(keys_map, 3), extract_patches(queries_map, 3)
    distance = torch.zeros(q.shape[0], k.shape[0])
    for first, (channels, weight) in zip((0, 1), groups, strict=True):
        part = slice(first * 9, (first + channels) * 9)
        distance += weight * torch.cdist(q[:, part], k[:, part]).square() / (channels * 9)
    constant = score + distance
    assert torch.allclose(constant, constant[:, :1].expand_as(constant), atol=1e-4)
    assert torch.equal(score.argmax(1), distance.argmin(1))


def test_a_guided_synthesis_takes_the_size_of_its_first_target_and_follows_the_guides(tmp_path, tiny_net):
    """Guides alone: the mode is guided synthesis, the output the target guide's size, and where the target
    guide says "right", the output takes the painting's right half (blue), mirrored."""
    Image.fromarray(halves()).save(tmp_path / "painting.png")
    Image.fromarray(gradient(48, 48)).save(tmp_path / "source.png")
    Image.fromarray(gradient(64, 40, flip=True)).save(tmp_path / "target.png")
    result = paint(
        tmp_path / "painting.png",
        guides=[(tmp_path / "source.png", tmp_path / "target.png")],
        guide_weights=(10.0,),
        network=tiny_net,
        iterations=2,
    )
    assert str(result.plan.mode) == "guided synthesis" and result.image.size == (64, 40)
    image = np.asarray(result.image).astype(int)
    left, right = image[:, :24], image[:, -24:]
    assert left[..., 2].mean() > left[..., 0].mean() + 100  # blue on the left now
    assert right[..., 0].mean() > right[..., 2].mean() + 100
    unguided = np.asarray(paint(tmp_path / "painting.png", network=tiny_net, iterations=2, output_size=(64, 40)).image)
    assert not np.array_equal(unguided, np.asarray(result.image))


def test_a_position_guide_keeps_the_painting_s_layout(tmp_path, tiny_net):
    """A texture from a half-red, half-blue painting puts red anywhere; with a heavy position guide, red
    stays on the left and blue on the right."""
    Image.fromarray(halves()).save(tmp_path / "painting.png")
    result = paint(tmp_path / "painting.png", network=tiny_net, iterations=2, position_guide=20.0)
    image = np.asarray(result.image).astype(int)
    assert image[:, :20, 0].mean() > image[:, :20, 2].mean() + 100
    assert image[:, -20:, 2].mean() > image[:, -20:, 0].mean() + 100
    assert result.plan.settings.position_guide == 20.0


@pytest.mark.parametrize("matcher", ["exact", "fast"])
def test_guides_enter_the_network_s_patch_scores(matcher):
    """Features alone match each patch to itself; a heavy guide whose target is mirrored makes each patch
    match the mirrored position instead (both matchers, searched from scratch and refreshed)."""
    from doodle.mrf import MRFLoss

    generator = torch.Generator().manual_seed(0)
    features = torch.rand(1, 8, 12, 12, generator=generator)
    x = torch.linspace(0, 1, 12)[None, None, None, :].expand(1, 1, 12, 12)

    def matched_columns(weight: float) -> torch.Tensor:
        loss = MRFLoss(
            features, style_guides=x, target_guides=x.flip(-1), guide_groups=((1, weight),), matcher=matcher,
            generator=torch.Generator().manual_seed(0),
        )  # fmt: skip
        loss(features)
        loss.refresh()
        loss(features)
        return (loss.matches.indices % 10).view(10, 10).float()

    columns = torch.arange(10.0)[None].expand(10, 10)
    assert torch.equal(matched_columns(0.0), columns)
    assert (matched_columns(50.0) - columns.flip(-1)).abs().mean() < 1.0


def test_a_record_keeps_the_guides_and_paints_them_again(tmp_path, tiny_net):
    from doodle import provenance

    Image.fromarray(halves()).save(tmp_path / "painting.png")
    Image.fromarray(gradient(48, 48)).save(tmp_path / "source.png")
    Image.fromarray(gradient(40, 32, flip=True)).save(tmp_path / "target.png")
    guides = [(tmp_path / "source.png", tmp_path / "target.png")]
    first = paint(tmp_path / "painting.png", guides=guides, guide_weights=(3.0,), network=tiny_net, iterations=2)
    first.save(tmp_path / "out.png")
    record = provenance.read_record(tmp_path / "out.png")
    assert [entry["path"] for entry in record["inputs"]["guides"]] == [str(p) for p in guides[0]]
    assert record["settings"]["guide_weights"] == [3.0]
    again = paint(
        tmp_path / "painting.png",
        guides=provenance.input_paths(record, tmp_path / "out.png")["guides"],
        settings=provenance.settings_from_record(record, tmp_path / "out.png"),
        network=tiny_net,
    )
    assert np.array_equal(np.asarray(again.image), np.asarray(first.image))


def test_the_luminance_guide_needs_a_photo(noise_style, tiny_net):
    with pytest.raises(DoodleError, match="luminance_guide"):
        paint(noise_style, network=tiny_net, luminance_guide=1.0)


@pytest.fixture
def guide_files(tmp_path):
    Image.fromarray(halves()).save(tmp_path / "painting.png")
    Image.fromarray(gradient(48, 48)).save(tmp_path / "source.png")
    Image.fromarray(gradient(48, 48, flip=True)).save(tmp_path / "target.png")
    (tmp_path / "out.png").write_bytes(b"an earlier result")
    return tmp_path


@pytest.mark.parametrize(
    "extra, fragments",
    [
        (["--guide", "source.png", "missing.png"], ["missing.png", "guide target file not found"]),
        (["--guide", "source.png", "target.png", "--guide-weight", "1", "--guide-weight", "2"],
         ["2 guide weight(s) for 1 guide(s)", "--guide-weight"]),
        (["--guide", "source.png", "target.png", "--guide-weight", "nan"], ["--guide-weight", "from 0 to"]),
        (["--guide", "source.png", "target.png", "--guide-weight", "-1"], ["--guide-weight", "from 0 to"]),
        (["--guide-weight", "1"], ["1 guide weight(s) for 0 guide(s)"]),
        (["--luminance-guide", "1"], ["--luminance-guide", "--content"]),
        # Huge but finite: a LinAlgError traceback (1e308 overflows float32) before.
        (["--position-guide", "1e308"], ["--position-guide", "from 0 to 1e+06"]),
        (["--guide", "source.png", "target.png", "--guide-weight", "1e308"], ["--guide-weight", "from 0 to 1e+06"]),
        (["--guide", "source.png", "tiny.png"], ["tiny.png: 1x1 is too small to lay out an output"]),
        (["--guide", "source.png", "tiny.png", "--output-size", "64x48"], ["tiny.png: 1x1 is too small to lay out"]),
    ],
)  # fmt: skip
def test_bad_guides_are_one_line_and_write_nothing(guide_files, random_weights, extra, fragments, monkeypatch):
    monkeypatch.chdir(guide_files)
    Image.new("L", (1, 1), 128).save(guide_files / "tiny.png")
    arguments = ["paint", "--style", "painting.png", "--weights", str(random_weights), "-o", "out.png", *extra]
    one_line_error(runner.invoke(app, arguments), *fragments)
    assert (guide_files / "out.png").read_bytes() == b"an earlier result"
    names = sorted(p.name for p in guide_files.iterdir())
    assert names == ["out.png", "painting.png", "source.png", "target.png", "tiny.png"]


@pytest.mark.parametrize(
    "guide, fragment",
    [
        (["source.png"], "--guide"),
        # `-o` was read as the guide's target, then "Got unexpected extra argument(s) (out.png)".
        (["source.png", "-o", "out.png"], "SOURCE TARGET; source.png is followed by the option -o"),
    ],
)
def test_a_guide_source_without_its_target_is_one_line(guide_files, monkeypatch, capsys, guide, fragment):
    from doodle.cli import main

    monkeypatch.chdir(guide_files)
    monkeypatch.setattr("sys.argv", ["doodle", "paint", "--style", "painting.png", "--guide", *guide])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert (guide_files / "out.png").read_bytes() == b"an earlier result"


def test_a_guide_from_the_command_line_paints(guide_files, random_weights, monkeypatch):
    monkeypatch.chdir(guide_files)
    arguments = ["paint", "--style", "painting.png", "--weights", str(random_weights), "-o", "guided.png", "-q"]
    arguments += ["--guide", "source.png", "target.png", "--guide-weight", "10", "--iterations", "2"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    image = np.asarray(Image.open(guide_files / "guided.png").convert("RGB")).astype(int)
    assert image[:, :20, 2].mean() > image[:, :20, 0].mean() + 100


@pytest.mark.parametrize("kind", ["soft target", "noise"])
def test_a_map_of_soft_shades_points_to_guides(tmp_path, noise_style, kind):
    """Given as a label map: a soft segmentation (its edges blurred wide, dithered: thousands of colours,
    none the style's) is an error; noise, without one flat pixel, too. Each says such a map is a guide."""
    from scipy.ndimage import gaussian_filter

    from doodle.inputs import read_inputs

    from .conftest import quadrants

    rng = np.random.default_rng(0)
    hard = quadrants(48, antialias=False)
    maps = {
        "soft target": (hard, gaussian_filter(255 - hard.astype(float), (6, 6, 0)) + rng.uniform(-3, 3, hard.shape)),
        "noise": (hard, rng.uniform(0, 255, hard.shape)),
    }
    style_map, target_map = maps[kind]
    Image.fromarray(style_map.clip(0, 255).astype(np.uint8)).save(tmp_path / "style_map.png")
    Image.fromarray(target_map.clip(0, 255).astype(np.uint8)).save(tmp_path / "target_map.png")

    def read():
        return read_inputs(noise_style, style_map=tmp_path / "style_map.png", target_map=tmp_path / "target_map.png")

    with pytest.raises(DoodleError) as error:
        read()
    assert "is a guide: pass it with `guides`" in str(error.value)


def test_a_small_edit_with_a_position_guide_is_painted_again_only_around_it(tiny_net, noise_style):
    """The watch loop's repaint of a box cuts the output's guides to the box too: the position guide
    there is the box's own part of the whole image's (a guide made for the box alone would say 0 to 1)."""
    from doodle import Painter

    style_map, doodle, edited = small_edit()
    options = dict(output_size=(256, 96), phases=2, iterations=4, style_layers=("1_1", "2_1"), finish="neural")
    painter = Painter(network=tiny_net, position_guide=2.0, **options)
    first = np.asarray(painter.paint(noise_style, style_map=style_map, target_map=doodle).image).astype(int)
    sizes = set()
    second = painter.paint(noise_style, style_map=style_map, target_map=edited, callback=lambda s: sizes.add(s.size))
    second = np.asarray(second.image).astype(int)
    assert sizes == {(114, 96), (57, 48)}  # the box, not the whole image
    assert np.array_equal(second[:, :142], first[:, :142])
    from doodle import PaintSettings
    from doodle.guides import position_guide
    from doodle.inputs import read_inputs
    from doodle.repaint import crop_scene
    from doodle.scene import encode_scene

    settings = PaintSettings(output_size=(256, 96), position_guide=2.0)
    scene = encode_scene(read_inputs(noise_style, style_map=style_map, target_map=edited, settings=settings))
    box = crop_scene(scene, (0, 142, 96, 114))
    assert torch.equal(box.target_guides, position_guide((96, 256))[..., 142:])
