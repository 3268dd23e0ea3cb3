"""The artist's controls: the start image blended with noise, colour preservation, and the record of
what made an image (`doodle info`, `doodle paint --from`)."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle import DoodleError, Painter, PaintSettings, build_scene, paint
from doodle.cli import app
from doodle.colors import match_colors, rgb_to_yiq, yiq_to_rgb
from doodle.provenance import read_record
from doodle.starts import label_colours
from doodle.studio.session import encode_png

from .conftest import first_image, needs_shared, one_line_error, quadrants, tiny_run

runner = CliRunner()


def _photo_and_painting(tmp_path, size=48):
    """A warm photo (orange and red bands) and a cool painting (blue and teal noise)."""
    rng = np.random.default_rng(1)
    photo = np.zeros((size, size, 3), np.uint8)
    photo[: size // 2] = (230, 120, 40)
    photo[size // 2 :] = (180, 40, 30)
    painting = np.stack(
        [rng.integers(0, 60, (size, size)), rng.integers(60, 160, (size, size)), rng.integers(150, 255, (size, size))],
        axis=-1,
    ).astype(np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(painting).save(tmp_path / "painting.png")
    return tmp_path / "photo.png", tmp_path / "painting.png"


# -- the start image ---------------------------------------------------------------------------------


def test_noise_ratio_blends_the_seed_with_noise(tmp_path):
    photo, painting = _photo_and_painting(tmp_path)
    scene = build_scene(painting, content=photo)
    content = scene.content
    shape = scene.shape
    noise = first_image(scene, PaintSettings(seed="noise"), shape)
    assert torch.equal(first_image(scene, PaintSettings(seed="content"), shape), content)
    assert torch.equal(first_image(scene, PaintSettings(seed="content", noise_ratio=0.0), shape), content)
    assert torch.allclose(first_image(scene, PaintSettings(seed="content", noise_ratio=1.0), shape), noise)
    blend = first_image(scene, PaintSettings(seed="content", noise_ratio=0.9), shape)
    assert torch.allclose(blend, 0.9 * noise + 0.1 * content)
    # auto is the content here, so auto blends the same way; a start image file blends too
    assert torch.allclose(first_image(scene, PaintSettings(noise_ratio=0.9), shape), blend)
    assert torch.allclose(first_image(scene, PaintSettings(seed=str(photo), noise_ratio=0.9), shape), blend)


def test_noise_ratio_in_a_doodle_blends_thelabel_colours(inputs):
    scene = build_scene(inputs / "style.png", style_map=inputs / "style_sem.png", target_map=inputs / "doodle.png")
    labels = first_image(scene, PaintSettings(seed="labels"), scene.shape)
    colours = first_image(scene, PaintSettings(seed="labels", noise_ratio=0.0), scene.shape)
    assert torch.equal(colours, label_colours(scene, scene.shape))  # each label's mean colour in the painting
    assert (labels - colours).abs().mean() > 0.05  # labels adds noise to them
    noise = first_image(scene, PaintSettings(seed="noise"), scene.shape)
    half = first_image(scene, PaintSettings(seed="labels", noise_ratio=0.5), scene.shape)
    assert torch.allclose(half, (noise + colours) / 2)
    collage = first_image(scene, PaintSettings(seed="collage"), scene.shape)
    assert torch.equal(first_image(scene, PaintSettings(), scene.shape), collage)  # auto, with one painting


def test_a_collage_start_cuts_the_painting_by_the_doodle(tmp_path):
    # A painting of four flat colours (its own map's, plus noise); the doodle mirrors the map, so
    # each quadrant of the start must come from the painting's opposite quadrant.
    rng = np.random.default_rng(0)
    flat = quadrants(96, antialias=False).astype(int)
    Image.fromarray(np.clip(flat + rng.integers(-20, 20, flat.shape), 0, 255).astype(np.uint8)).save(tmp_path / "p.png")
    Image.fromarray(quadrants(96)).save(tmp_path / "p_sem.png")
    Image.fromarray(quadrants(96)[:, ::-1].copy()).save(tmp_path / "doodle.png")
    scene = build_scene(tmp_path / "p.png", style_map=tmp_path / "p_sem.png", target_map=tmp_path / "doodle.png")
    start = first_image(scene, PaintSettings(seed="collage"), scene.shape)[0]
    mirrored = torch.from_numpy(flat[:, ::-1].copy()).permute(2, 0, 1).float() / 255
    for rows in (slice(6, 42), slice(54, 90)):  # inside the quadrants, away from the map's blurred edges
        for cols in (slice(6, 42), slice(54, 90)):
            assert (start[:, rows, cols] - mirrored[:, rows, cols]).abs().mean() < 0.06
    again = first_image(scene, PaintSettings(seed="collage", random_seed=1), scene.shape)
    assert not torch.equal(start, again[0])  # the random seed picks another cut


@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_noise_ratio_outside_0_1_is_refused(ratio):
    with pytest.raises(DoodleError, match="noise_ratio"):
        PaintSettings(noise_ratio=ratio)


def test_each_start_paints_from_the_command_line(inputs, random_weights):
    starts = (
        ["--seed", "noise"],
        ["--seed", "auto", "--noise-ratio", "0.9"],
        ["--noise-ratio", "0"],
        ["--seed", "collage"],
    )
    for extra in starts:
        output = inputs / "o.png"
        result = runner.invoke(app, tiny_run("paint", inputs, random_weights, "-o", str(output), "-q", *extra))
        assert result.exit_code == 0, result.output
        assert Image.open(output).size == (48, 48)


# -- colour preservation -----------------------------------------------------------------------------


def test_yiq_round_trip_and_luminance_range():
    image = torch.rand(1, 3, 5, 7)
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(image)), image, atol=1e-5)
    white = rgb_to_yiq(torch.ones(1, 3, 1, 1))
    assert torch.allclose(white[0, :, 0, 0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-3)


def test_match_colors_gives_the_reference_mean_and_covariance():
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 40, 40, generator=generator) * torch.tensor([0.3, 0.5, 0.2])[:, None, None] + 0.2
    reference = torch.rand(1, 3, 30, 30, generator=generator) * torch.tensor([0.2, 0.1, 0.4])[:, None, None] + 0.3
    matched = match_colors(image, reference)
    pixels, wanted = matched[0].flatten(1), reference[0].flatten(1)
    assert torch.allclose(pixels.mean(1), wanted.mean(1), atol=1e-3)
    assert torch.allclose(torch.cov(pixels), torch.cov(wanted), atol=1e-3)


def _chroma(image: Image.Image) -> torch.Tensor:
    """Mean I and Q of an image."""
    tensor = torch.from_numpy(np.asarray(image.convert("RGB"), np.float32) / 255).permute(2, 0, 1)[None]
    return rgb_to_yiq(tensor)[0, 1:].mean((1, 2))


@pytest.mark.parametrize("method", ["luminance", "histogram"])
def test_preserved_colours_follow_the_content_not_the_painting(tmp_path, tiny_net, method):
    photo, painting = _photo_and_painting(tmp_path)
    options = dict(content=photo, network=tiny_net, style_loss="gram", phases=1, iterations=15, seed="noise")
    plain = paint(painting, **options).image
    kept = paint(painting, preserve_colors=method, **options).image
    wanted, painting_chroma = _chroma(Image.open(photo)), _chroma(Image.open(painting))
    distance = (_chroma(kept) - wanted).norm()
    assert distance < (_chroma(kept) - painting_chroma).norm()  # nearer the photo's colours than the painting's
    assert distance < 0.5 * (_chroma(plain) - wanted).norm()  # and far nearer than without
    if method == "luminance":
        assert distance < 0.02  # the photo's chroma itself


def test_preserve_colors_needs_a_content_photo(inputs, tiny_net):
    with pytest.raises(DoodleError, match="preserve_colors=luminance.*give `content`"):
        paint(
            inputs / "style.png",
            target_map=inputs / "doodle.png",
            network=tiny_net,
            preserve_colors="luminance",
            phases=1,
            iterations=1,
        )


def test_a_painter_keeps_the_painting_between_paints_that_keep_the_photo_s_colours(tmp_path, tiny_net):
    # The painting's features are those of the painting prepared for the photo's colours: the same
    # inputs again return the last image, and another random seed reuses the features.
    photo, painting = _photo_and_painting(tmp_path)
    options = dict(preserve_colors="luminance", phases=1, iterations=2, style_layers=("1_1", "2_1"))
    painter = Painter(network=tiny_net, **options)
    first = painter.paint(painting, content=photo).image
    features = painter.memory.objectives[1.0].style
    steps = []
    again = painter.paint(painting, content=photo, callback=steps.append).image
    assert not steps and np.array_equal(np.asarray(first), np.asarray(again))
    painter.paint(painting, content=photo, settings=painter.settings.replace(random_seed=1), callback=steps.append)
    assert steps and painter.memory.objectives[1.0].style is features


# -- what made an image ------------------------------------------------------------------------------


def test_a_record_gives_back_every_setting(tmp_path):
    from doodle.provenance import job_record, settings_from_record

    from .test_cli import EVERY_SETTING

    settings = PaintSettings(**{name: value for name, (_, value) in EVERY_SETTING.items()})
    record = json.loads(json.dumps(job_record("paint", settings, {})))  # as written and read
    assert settings_from_record(record, tmp_path / "x.png") == settings


def test_a_record_of_doodle_0_1_keeps_its_start(tmp_path):
    # Before 0.2.0, `auto` started a doodle from its label colours and a texture from noise.
    from doodle.provenance import settings_from_record

    def start(version: str, inputs: tuple[str, ...]) -> str:
        record = dict(doodle=version, settings=dict(seed="auto"), inputs=dict.fromkeys(inputs, {}))
        return settings_from_record(record, tmp_path / "x.png").seed

    assert start("0.1.0", ("style", "target_map")) == "labels"
    assert start("0.1.0", ("style",)) == "noise"
    assert start("0.1.0", ("style", "content", "target_map")) == "content"
    assert start("0.2.0", ("style", "target_map")) == "auto"


def test_a_record_of_doodle_0_2_paints_its_default_layers_as_defaults(tmp_path):
    # Before 0.3 a record held the default layers as values, and a value equal to the default was the
    # default: the full-size phase of a photo moved its content to relu3_1, a texture left out relu1_1.
    from doodle.provenance import settings_from_record

    def layers(version: str, inputs: tuple[str, ...], **settings) -> tuple:
        record = dict(doodle=version, settings=settings, inputs=dict.fromkeys(inputs, {}))
        read = settings_from_record(record, tmp_path / "x.png")
        return read.style_layers, read.content_layers

    texture = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    assert layers("0.2.0", ("style", "content"), content_layers=["relu4_2"]) == (None, None)
    assert layers("0.2.0", ("style",), style_loss="both", style_layers=texture) == (None, None)
    assert layers("0.2.0", ("style", "target_map"), style_loss="both", style_layers=texture)[0] == tuple(texture)
    assert layers("0.3.0", ("style", "content"), content_layers=["relu4_2"]) == (None, ("relu4_2",))  # given


def test_a_record_of_doodle_0_3_or_before_paints_with_the_network_alone(tmp_path):
    """Before 0.4 the network painted every pixel: a replay of such an image paints it so again."""
    from doodle.provenance import settings_from_record

    def finish(version: str, **settings) -> str | None:
        record = dict(doodle=version, settings=settings, inputs=dict.fromkeys(("style", "target_map"), {}))
        return settings_from_record(record, tmp_path / "x.png").finish

    assert finish("0.1.0") == finish("0.2.0") == finish("0.3.0") == "neural"
    assert finish("0.4.0", finish="pixels") == "pixels"


def test_a_record_of_doodle_0_4_votes_as_0_4_did(tmp_path):
    """0.4's pixel finish voted with all of each patch to the end; a replay of its image does so again."""
    from doodle.provenance import settings_from_record

    def last_vote(version: str) -> int:
        record = dict(doodle=version, settings=dict(finish="pixels"), inputs=dict.fromkeys(("style", "target_map"), {}))
        return settings_from_record(record, tmp_path / "x.png").last_vote

    assert last_vote("0.4.0") == 5 and last_vote("0.5.0") == 3


def test_errors_name_their_file_and_parameters_in_fields():
    from doodle.errors import as_python
    from semantic_maps import MapError, shared_palette

    from .conftest import quadrants

    error = DoodleError("use `device='cpu'` or a smaller `output_size`", path="x.png", hint="or `allow_missing_labels`")
    assert error.path == "x.png" and error.parameter == "device"
    assert str(error) == "use `device='cpu'` or a smaller `output_size`, or `allow_missing_labels`"
    assert error.render(as_python, hint=False) == "use device='cpu' or a smaller output_size"
    assert (
        error.render(lambda name, value: name.upper()) == "use DEVICE or a smaller OUTPUT_SIZE, or ALLOW_MISSING_LABELS"
    )
    other = quadrants(32, colours=np.array([[0, 255, 0], [255, 51, 31], [0, 0, 255], [192, 0, 0]], np.uint8))
    with pytest.raises(MapError) as caught:
        shared_palette(quadrants(32), other, target_name="d.png", style_name="style map")
    assert caught.value.path == "d.png" and "allow_missing_labels" in caught.value.hint
    assert "allow_missing_labels" not in caught.value.message and str(caught.value).endswith(caught.value.hint)


def test_every_png_carries_its_job_and_doodle_info_prints_it(inputs, random_weights):
    output = inputs / "o.png"
    command = tiny_run("paint", inputs, random_weights, "-o", str(output), "-q", "--random-seed", "7")
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    record = read_record(output)
    assert record["command"] == "paint" and record["doodle"]
    assert record["settings"]["random_seed"] == 7 and record["settings"]["iterations"] == 2
    assert set(record["inputs"]) == {"style", "style_map", "target_map", "weights"}
    assert record["inputs"]["style_map"]["found"]  # found beside style.png, not given
    info = runner.invoke(app, ["info", str(output)])
    assert info.exit_code == 0, info.output
    assert "--random-seed" in info.output and " 7\n" in info.output
    assert str(inputs / "doodle.png") in info.output and "(unchanged)" in info.output
    assert "plan: doodle, from collage\n  phase 1  48x48  2 iterations  patches 1_1,2_1\n" in info.output
    assert "  finish   48x48  the painting's own pixels" in info.output
    # The finish's settings and guides are the plan's, recorded and printed (its size alone before).
    assert "levels 6,6,4,3 iterations; patches 5x5; uniformity 0.02; last vote 3x3" in info.output
    assert "guides: labels 2\n" in info.output


def test_the_plan_decides_the_pixel_finish_s_guides_and_weights():
    from doodle import Mode, make_plan

    def finish(settings=None, **options):
        given = dict(mode=Mode.DOODLE, shape=(96, 128), content=False, paintings=1, model="vgg16") | options
        return make_plan(settings or PaintSettings(), **given).finish.weights()

    assert finish() == {"labels": 2.0}
    photo = dict(mode=Mode.SEMANTIC_TRANSFER, content=True)
    assert finish(**photo) == {"labels": 2.0, "network's result": 0.5, "photo's luminance": 0.5}
    # A luminance guide set weighs both stages (a guide of the scene), the photo's own left out: one rule.
    assert finish(PaintSettings(luminance_guide=1.0), **photo) == {"labels": 2.0, "network's result": 0.5,
                                                                   "luminance": 1.0}  # fmt: skip
    guided = dict(mode=Mode.GUIDED, guide_pairs=2)
    assert finish(PaintSettings(guide_weights=(3.0, 0.5), position_guide=1.0), **guided) == {
        "guide 1": 3.0, "guide 2": 0.5, "position": 1.0}  # fmt: skip
    assert finish(follows_frame=True, temporal_weight=10.0) == {"frame before": 4.0, "labels": 2.0}
    assert finish(follows_frame=True, temporal_weight=0.0) == {"labels": 2.0}
    assert make_plan(PaintSettings(finish="neural"), mode=Mode.DOODLE, shape=(96, 128), content=False, paintings=1,
                     model="vgg16").finish is None  # fmt: skip


def _with_record(source, target, change) -> None:
    """``source``'s image with its record changed by ``change(record)`` (a hand edit), at ``target``."""
    from PIL import PngImagePlugin

    record = json.loads(Image.open(source).text["doodle"])
    info = PngImagePlugin.PngInfo()
    info.add_text("doodle", json.dumps(change(record)))
    Image.open(source).save(target, pnginfo=info)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r["settings"].update(phases="3") or r, "settings.phases: a whole number expected, found str"),
        (lambda r: r["settings"].update(style_weight=[1]) or r, "settings.style_weight: a number expected, found list"),
        (lambda r: r["settings"].update(output_size=[40]) or r, "settings.output_size: [width, height] expected"),
        (lambda r: r["settings"].update(smoothness=-2) or r, "settings.smoothness: smoothness must be 0 or more"),
        (lambda r: dict(r, settings=[]) or r, "settings: an object expected, found list"),
        (lambda r: {k: v for k, v in r.items() if k != "inputs"}, "inputs: missing"),
        (lambda r: r["inputs"].update(target_map=[]) or r, "inputs.target_map: an object expected, found list"),
        (lambda r: r["inputs"]["style"].update(sha256=7) or r, "inputs.style.sha256: 64 hexadecimal digits expected"),
        (lambda r: dict(r, frame={"index": "1"}), "frame.index: a whole number of at least 1 expected"),
        (lambda r: dict(r, plan={"mode": "doodle", "start": "collage", "phases": {}}), "plan.phases: a list expected"),
    ],
)
def test_a_damaged_record_is_one_line_naming_the_field(inputs, random_weights, change, field):
    painted, damaged = inputs / "o.png", inputs / "damaged.png"
    assert runner.invoke(app, tiny_run("paint", inputs, random_weights, "-o", str(painted), "-q")).exit_code == 0
    _with_record(painted, damaged, change)
    message = f"{damaged}: its doodle record is damaged ({field}"
    one_line_error(runner.invoke(app, ["info", str(damaged)]), message)
    one_line_error(runner.invoke(app, ["paint", "--from", str(damaged), "-o", str(inputs / "again.png")]), message)
    assert not (inputs / "again.png").exists()


def test_a_record_that_inflates_past_any_record_s_size_is_one_line(inputs):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("doodle", " " * (20 * 2**20), zip=True)  # 20 KB in the file, 20 MB inflated
    Image.new("RGB", (4, 4)).save(inputs / "bomb.png", pnginfo=info)
    one_line_error(runner.invoke(app, ["info", str(inputs / "bomb.png")]), "bomb.png: its doodle record is damaged")


def test_paint_from_an_image_repaints_it_pixel_for_pixel_and_takes_overrides(inputs, random_weights):
    first, again, other = inputs / "first.png", inputs / "again.png", inputs / "other.png"
    assert runner.invoke(app, tiny_run("paint", inputs, random_weights, "-o", str(first), "-q")).exit_code == 0
    result = runner.invoke(app, ["paint", "--from", str(first), "-o", str(again), "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == ""  # no warning: nothing changed
    assert np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(again)))
    result = runner.invoke(app, ["paint", "--from", str(first), "--random-seed", "3", "-o", str(other), "-q"])
    assert result.exit_code == 0, result.output
    assert read_record(other)["settings"]["random_seed"] == 3
    assert read_record(other)["settings"]["iterations"] == 2  # the rest from the record
    assert not np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(other)))


def test_paint_from_warns_when_an_input_changed(inputs, random_weights):
    first = inputs / "first.png"
    assert runner.invoke(app, tiny_run("paint", inputs, random_weights, "-o", str(first), "-q")).exit_code == 0
    doodle = np.asarray(Image.open(inputs / "doodle.png")).copy()
    doodle[:8, :8] = doodle[-1, -1]
    Image.fromarray(doodle).save(inputs / "doodle.png")
    result = runner.invoke(app, ["paint", "--from", str(first), "-o", str(inputs / "again.png"), "-q"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "doodle.png (target_map) has changed since" in lines[0], result.output
    assert "(changed)" in runner.invoke(app, ["info", str(first)]).output


def test_from_and_info_on_images_without_a_record_are_one_line(inputs):
    Image.new("RGB", (8, 8)).save(inputs / "plain.png")
    one_line_error(runner.invoke(app, ["info", str(inputs / "plain.png")]), "plain.png", "holds no doodle record")
    one_line_error(runner.invoke(app, ["info", str(inputs / "nope.png")]), "nope.png", "not found")
    output = inputs / "o.png"
    output.write_bytes(b"precious")
    result = runner.invoke(app, ["paint", "--from", str(inputs / "plain.png"), "-o", str(output)])
    one_line_error(result, "plain.png", "holds no doodle record")
    assert output.read_bytes() == b"precious"
    damaged = Image.new("RGB", (8, 8))
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("doodle", json.dumps({"format": 99}))
    damaged.save(inputs / "future.png", pnginfo=info)
    one_line_error(runner.invoke(app, ["info", str(inputs / "future.png")]), "future.png", "format 99")


def test_paint_needs_a_style_or_a_record(inputs):
    one_line_error(runner.invoke(app, ["paint", "-o", str(inputs / "o.png")]), "--style")


def test_the_studio_download_carries_the_record(inputs, tiny_net):
    image = paint(
        inputs / "style.png", target_map=inputs / "doodle.png", network=tiny_net, phases=1, iterations=1
    ).recorded()
    path = inputs / "download.png"
    path.write_bytes(encode_png(image))
    assert read_record(path)["inputs"]["target_map"]["path"] == str(inputs / "doodle.png")


# -- texture synthesis on flat paper -----------------------------------------------------------------


@needs_shared
def test_texture_synthesis_keeps_flat_paper_its_own_colour(real_net):
    """Ink shapes on light paper (samples/paper_shapes.png): the paper stays untinted (its light pixels'
    chroma within 1.3x of the painting's: 1.19 here from the quilted painting, 1.12 from noise; 1.47 from
    noise with relu1_1 in the Gram term alone)."""
    from doodle.colors import rgb_to_yiq
    from doodle.images import load_rgb, to_tensor

    painting = Path(__file__).resolve().parents[1] / "samples" / "paper_shapes.png"

    def light_chroma(image: torch.Tensor) -> float:
        y, i, q = rgb_to_yiq(image)[0]
        return float(torch.hypot(i, q)[y > 0.8].mean())

    result = paint(painting, network=real_net, output_size=(128, 128)).image  # the defaults, 17 s
    ratio = light_chroma(to_tensor(result)) / light_chroma(to_tensor(load_rgb(painting)))
    assert ratio < 1.3, ratio


# -- several paintings -------------------------------------------------------------------------------


def _second_painting(inputs):
    """A second 40x56 noise painting with the same quadrant labels (style2.png, style2_sem.png)."""
    from .conftest import quadrants

    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (56, 40, 3), dtype=np.uint8)).save(inputs / "style2.png")
    Image.fromarray(quadrants(56)[:, :40].copy()).save(inputs / "style2_sem.png")
    return inputs / "style2.png"


def test_side_by_side_mirrors_the_shorter_painting_down():
    from doodle.inputs import side_by_side

    tall, short = np.arange(6 * 2 * 1).reshape(6, 2, 1), np.arange(4 * 3 * 1).reshape(4, 3, 1) + 100
    atlas, owner = side_by_side([tall, short])
    assert atlas.shape == (6, 5, 1) and list(owner) == [0, 0, 1, 1, 1]
    assert np.array_equal(atlas[:, :2], tall) and np.array_equal(atlas[:4, 2:], short)
    assert np.array_equal(atlas[4:, 2:], short[::-1][:2])  # mirrored below


def test_a_blend_of_one_and_zero_paints_as_the_first_painting_alone(inputs, tiny_net):
    second = _second_painting(inputs)
    options = dict(target_map=inputs / "doodle.png", network=tiny_net, phases=1, iterations=3)
    alone = paint(inputs / "style.png", **options).image
    blended = paint([inputs / "style.png", second], style_blend=(1, 0), **options).image
    assert np.array_equal(np.asarray(alone), np.asarray(blended))
    texture = build_scene([inputs / "style.png", second])  # (no target: a texture of the first one's size)
    assert texture.shape == (48, 48) and texture.style.shape[-2:] == (56, 88)
    both = paint([inputs / "style.png", second], **options).image  # equal weights: another image
    assert both.size == alone.size and not np.array_equal(np.asarray(alone), np.asarray(both))


def test_the_gram_target_of_a_blend_mixes_the_paintings_by_weight():
    from doodle.losses import GramLoss, gram_matrix

    first, second = torch.rand(1, 4, 6, 5), torch.rand(1, 4, 6, 3) * 2
    paintings = torch.zeros(1, 2, 6, 8)
    paintings[:, 0, :, :5], paintings[:, 1, :, 5:] = 1, 1
    loss = GramLoss(torch.cat([first, second], dim=3), paintings, torch.tensor([0.7, 0.3]))
    assert torch.allclose(loss.target, 0.7 * gram_matrix(first) + 0.3 * gram_matrix(second), atol=1e-5)


def test_the_heavier_painting_wins_more_matches():
    """Patches are matched among all paintings, each painting's score raised by its weight's log."""
    from doodle.mrf import MRFLoss, blend_bias

    generator = torch.Generator().manual_seed(0)
    style = torch.rand(1, 8, 10, 20, generator=generator)  # two paintings of 10x10, side by side
    paintings = torch.zeros(1, 2, 10, 20)
    paintings[:, 0, :, :10], paintings[:, 1, :, 10:] = 1, 1
    output = torch.rand(1, 8, 12, 12, generator=generator)
    shares = []
    for weights in ([0.9, 0.1], [0.5, 0.5], [0.1, 0.9]):
        bias = blend_bias(paintings, torch.tensor(weights), 3)
        loss = MRFLoss(style, size=3, matcher="exact", key_bias=bias)
        columns = loss.match(output) % 18  # the key grid is 8 x 18: centres of columns 0..8 are the first's
        shares.append(float((columns <= 8).float().mean()))
    assert shares[0] > shares[1] > shares[2], shares
    assert shares[0] > 0.8 and shares[2] < 0.1, shares


def test_several_paintings_from_the_command_line_and_their_record(inputs, random_weights):
    second = _second_painting(inputs)
    output = inputs / "o.png"
    args = tiny_run("paint", inputs, random_weights, "--style", str(second), "-o", str(output), "-q")
    result = runner.invoke(app, [*args, "--style-blend", "0.6,0.4"])
    assert result.exit_code == 0, result.output
    record = read_record(output)
    assert [entry["path"] for entry in record["inputs"]["style"]] == [str(inputs / "style.png"), str(second)]
    assert all(entry["found"] for entry in record["inputs"]["style_map"])  # found beside each
    assert record["settings"]["style_blend"] == [0.6, 0.4]
    again = inputs / "again.png"
    assert runner.invoke(app, ["paint", "--from", str(output), "-o", str(again), "-q"]).exit_code == 0
    assert np.array_equal(np.asarray(Image.open(output)), np.asarray(Image.open(again)))
    info = runner.invoke(app, ["info", str(output)]).output
    assert "style 2" in info and "--style-blend" in info


def test_several_paintings_bad_inputs_are_one_line(inputs, random_weights):
    second = _second_painting(inputs)
    output = inputs / "o.png"
    output.write_bytes(b"precious")
    base = tiny_run("paint", inputs, random_weights, "--style", str(second), "-o", str(output))
    one_line_error(runner.invoke(app, [*base, "--style-blend", "0.5"]), "--style-blend", "1 weights for 2 paintings")
    one_line_error(runner.invoke(app, [*base, "--style-blend", "a,b"]), "--style-blend", "not a list of weights")
    one_line_error(runner.invoke(app, [*base, "--style-blend", "0,0"]), "--style-blend", "not all 0")
    one_line_error(
        runner.invoke(app, [*base, "--style-map", str(inputs / "style_sem.png")]),
        "1 style maps",
        "one --style-map per --style",
    )
    (inputs / "style2_sem.png").unlink()
    one_line_error(runner.invoke(app, base), "style2.png", "has no label map")
    assert output.read_bytes() == b"precious"
