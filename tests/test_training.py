"""doodle train / render: training doodles, the generator, the painter file, training itself, the commands."""

import os

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from doodle import PaintSettings, paint_scene
from doodle.cli import app
from doodle.errors import DoodleError
from doodle.generator import Generator, TrainedPainter
from doodle.layouts import LayoutSampler
from doodle.provenance import read_record
from doodle.scene import build_scene
from doodle.training import PainterLoss, train_painter

from .conftest import COLOURS, first_image, one_line_error, plan_of, quadrants

runner = CliRunner()


def _labels(rgb: np.ndarray) -> torch.Tensor:
    import semantic_maps

    return torch.from_numpy(semantic_maps.encode_labels(rgb, COLOURS))[None]


def test_crops_are_windows_of_the_map_at_scale_one():
    labels = _labels(quadrants(64, antialias=False))
    sampler = LayoutSampler(labels, 24, synthetic=0.0, scales=(1.0, 1.0), warp=0.0,
                            generator=torch.Generator().manual_seed(1))  # fmt: skip
    for crop in sampler(8):
        hard = crop.argmax(0)
        assert torch.allclose(crop.sum(0), torch.ones(24, 24), atol=1e-5)
        found = False  # the crop is some 24x24 window of the map, or its mirror (bilinear: off by < 1 px)
        for top in range(41):
            for left in range(41):
                window = labels[0, :, top : top + 24, left : left + 24].argmax(0)
                if (window == hard).float().mean() > 0.97 or (window.flip(1) == hard).float().mean() > 0.97:
                    found = True
                    break
            if found:
                break
        assert found


def test_blob_maps_use_the_painting_labels_and_sum_to_one():
    rgb = quadrants(64, antialias=False)
    rgb[:48, :48] = COLOURS[0]  # label 0 is the most common
    labels = _labels(rgb)
    sampler = LayoutSampler(labels, 32, synthetic=1.0, generator=torch.Generator().manual_seed(0))
    maps = sampler(16)
    assert maps.shape == (16, 4, 32, 32)
    assert torch.allclose(maps.sum(1), torch.ones(16, 32, 32), atol=1e-5)
    present = (maps.argmax(1)[:, None] == torch.arange(4)[None, :, None, None]).flatten(2).any(2)
    assert present[:, 0].all()  # never without the most common label
    assert present.sum(1).float().mean() > 1.5  # mostly more than one region


@pytest.mark.parametrize("shape", [(32, 32), (37, 53), (8, 9)])
def test_generator_paints_any_size(shape):
    generator = Generator(3, width=4)
    labels = torch.rand(2, 3, *shape)
    image = generator(labels, generator.noise(labels), torch.rand(2, 3, *shape))
    assert image.shape == (2, 3, *shape) and torch.isfinite(image).all()


def test_an_untrained_generator_paints_the_collage():
    generator = Generator(2, width=4)
    labels, collage = torch.rand(1, 2, 24, 40), torch.rand(1, 3, 24, 40)
    assert torch.equal(generator(labels, generator.noise(labels), collage), collage)


def test_generator_uses_the_noise_the_labels_and_the_collage():
    generator = Generator(2, width=4)
    torch.nn.init.normal_(generator.to_rgb.weight, std=0.5)  # as if trained: not the collage alone
    labels, collage = torch.zeros(1, 2, 32, 32), torch.full((1, 3, 32, 32), 0.5)
    labels[:, 0] = 1
    noise = generator.noise(labels, torch.Generator().manual_seed(0))
    flat = generator(labels, noise, collage)
    assert flat[..., 8:24, 8:24].std() > 0  # a flat region is not painted flat
    assert (generator(labels.flip(1), noise, collage) - flat).abs().max() > 1e-4  # the labels change it
    assert (generator(labels, noise, collage + 0.1) - flat - 0.1).abs().max() > 1e-4  # so does the collage


@pytest.fixture
def painting(tmp_path):
    """A 64x64 painting whose four quadrants differ in colour, and its map."""
    rng = np.random.default_rng(0)
    rgb = np.zeros((64, 64, 3), np.uint8)
    for (top, left), colour in zip([(0, 0), (0, 32), (32, 0), (32, 32)], COLOURS, strict=True):
        rgb[top : top + 32, left : left + 32] = np.clip(colour * 0.6 + rng.normal(0, 30, (32, 32, 3)), 0, 255)
    Image.fromarray(rgb).save(tmp_path / "style.png")
    Image.fromarray(quadrants(64)).save(tmp_path / "style_sem.png")
    return tmp_path


def test_training_notes_what_paint_notes_on_the_map(painting, tiny_net):
    rows, columns = np.mgrid[0:96, 0:128]
    shades = np.stack([columns * 2, rows * 2, np.full_like(rows, 128)], -1).astype(np.uint8)
    Image.fromarray(shades).save(painting / "soft_sem.png")  # a continuous map, cut into labels
    Image.open(painting / "style.png").resize((128, 96)).save(painting / "soft.png")
    notes = []
    train_painter(painting / "soft.png", size=32, steps=1, network=tiny_net, on_notes=notes.extend)
    shaded = [note for note in notes if "shades between its colours" in note]
    assert len(shaded) == 1, notes  # (none before; once, though the map is the painting's and the doodles')


def test_training_lowers_the_loss_on_doodles_it_did_not_see(painting, tiny_net):
    settings = PaintSettings(style_layers=("relu1_1", "relu2_1"))
    scene = build_scene(painting / "style.png", target_map=painting / "style_sem.png")
    plan = plan_of(scene, settings)
    held_out = LayoutSampler(scene.style_labels, 48, generator=torch.Generator().manual_seed(123))(4)
    noise_seed = torch.Generator().manual_seed(7)

    def loss_of(trained: TrainedPainter) -> float:
        loss = PainterLoss(tiny_net, scene.style, scene.style_labels, plan, torch.device("cpu"),
                           torch.Generator().manual_seed(0))  # fmt: skip
        with torch.no_grad():
            random = noise_seed.manual_seed(7)
            noise, collage = trained.generator.noise(held_out, random), trained.collage(held_out, random)
            return float(loss(trained.generator(held_out, noise, collage), held_out))

    untrained = TrainedPainter(
        Generator(4).requires_grad_(False), scene.palette, scene.style[0], scene.style_labels[0], {}
    )
    trained = train_painter(
        painting / "style.png", settings=settings, size=48, steps=60, network=tiny_net, learning_rate=3e-3
    )
    assert trained.steps == 60
    assert loss_of(trained) < 0.7 * loss_of(untrained)


def test_painter_file_round_trip_and_bad_files(tmp_path, painting, tiny_net):
    settings = PaintSettings(style_layers=("relu1_1",))
    trained = train_painter(painting / "style.png", settings=settings, size=32, steps=2, network=tiny_net)
    path = trained.save(tmp_path / "p.pt")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # a normal file, not the temporary file's 0600
    assert not list(tmp_path.glob(".p.*"))  # no temporary file left
    loaded = TrainedPainter.load(path)
    assert loaded.steps == 2 and (loaded.palette == trained.palette).all()
    assert loaded.settings["size"] == 32 and loaded.settings["style_layers"] == ["relu1_1"]
    labels = _labels(quadrants(40))
    assert torch.equal(loaded.render(labels, seed=3), trained.render(labels, seed=3))
    assert not torch.equal(loaded.render(labels, seed=3), loaded.render(labels, seed=4))

    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    torch.save({"some": "dict"}, tmp_path / "other.pt")
    state = torch.load(path, weights_only=True)
    state["version"] = 99
    torch.save(state, tmp_path / "future.pt")
    state = torch.load(path, weights_only=True)
    layer, weight = next(iter(state["weights"].items()))
    state["weights"][layer] = torch.full_like(weight, float("nan"))
    torch.save(state, tmp_path / "nan.pt")  # (rendered an all-black image before)
    state = torch.load(path, weights_only=True)
    state["weights"] = {name: weight * 1e30 for name, weight in state["weights"].items()}
    torch.save(state, tmp_path / "huge.pt")  # finite, but overflows: rendered an all-black image, exit 0
    state = torch.load(path, weights_only=True)
    state["steps"] = "many"
    torch.save(state, tmp_path / "steps.pt")  # (a ValueError traceback before)
    for name, fragment in [
        ("missing.pt", "not found"),
        ("junk.pt", "not a painter file"),
        ("other.pt", "not a painter file"),
        ("future.pt", "format version 99"),
        ("nan.pt", f"damaged painter file \\(its weights {layer} hold NaN or infinite values\\)"),
        ("steps.pt", "damaged painter file \\(ValueError: invalid literal for int"),
        ("huge.pt", "damaged painter file \\(its weights are out of range: it paints NaN or infinity\\)"),
    ]:
        with pytest.raises(DoodleError, match=fragment):
            TrainedPainter.load(tmp_path / name)


def test_interrupted_training_keeps_its_weights_and_resumes(tmp_path, painting, tiny_net):
    settings = PaintSettings(style_layers=("relu1_1",))
    path = tmp_path / "p.pt"

    def stop_at_three(step):
        if step.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_painter(painting / "style.png", settings=settings, size=32, steps=10, network=tiny_net,
                      save=lambda p: p.save(path), callback=stop_at_three)  # fmt: skip
    saved = TrainedPainter.load(path)
    assert saved.steps == 3 and saved.optimiser  # the optimiser's state too, to resume
    resumed = train_painter(painting / "style.png", settings=settings, size=32, steps=5, network=tiny_net,
                            resume=saved)  # fmt: skip
    assert resumed.steps == 5


def test_paint_can_start_from_a_painter(tmp_path, painting, tiny_net):
    trained = train_painter(painting / "style.png", settings=PaintSettings(style_layers=("relu1_1",)), size=32,
                            steps=1, network=tiny_net)  # fmt: skip
    trained.save(tmp_path / "p.pt")
    Image.fromarray(quadrants(64)[::-1].copy()).save(tmp_path / "doodle.png")
    scene = build_scene(painting / "style.png", target_map=tmp_path / "doodle.png")
    settings = PaintSettings(seed=str(tmp_path / "p.pt"), random_seed=5)
    start = first_image(scene, settings, (32, 32))
    expected = torch.nn.functional.interpolate(trained.render(scene.target_labels, seed=5), size=(32, 32),
                                               mode="area")  # fmt: skip
    assert torch.allclose(start, expected, atol=1e-6)
    painted = paint_scene(scene, settings.replace(phases=1, iterations=2, style_layers=("relu1_1",)), tiny_net)
    assert painted.shape == (1, 3, 64, 64)  # the rendered start, optimised at full size

    other = quadrants(64, colours=np.array([[0, 255, 0], [255, 51, 31], [0, 0, 255], [192, 0, 0]], np.uint8))
    Image.fromarray(other).save(tmp_path / "other_sem.png")
    Image.fromarray(other).save(tmp_path / "other_doodle.png")
    scene = build_scene(painting / "style.png", style_map=tmp_path / "other_sem.png",
                        target_map=tmp_path / "other_doodle.png")  # fmt: skip
    with pytest.raises(DoodleError, match="that painter's labels"):
        first_image(scene, settings, (32, 32))


def _train_args(painting, weights, *extra):
    return ["train", "--style", str(painting / "style.png"), "--weights", str(weights), "--size", "32",
            "--style-layers", "1_1,2_1", "-q", *extra]  # fmt: skip


def test_train_and_render_commands(painting, random_weights):
    painter = painting / "p.pt"
    result = runner.invoke(app, _train_args(painting, random_weights, "--steps", "2", "-o", str(painter)))
    assert result.exit_code == 0, result.output
    assert TrainedPainter.load(painter).steps == 2
    result = runner.invoke(app, _train_args(painting, random_weights, "--steps", "3", "--resume", "-o", str(painter)))
    assert result.exit_code == 0, result.output
    assert TrainedPainter.load(painter).steps == 3

    Image.fromarray(quadrants(48)[:, ::-1].copy()).save(painting / "doodle.png")
    out = painting / "out.png"
    result = runner.invoke(app, ["render", str(painter), "--map", str(painting / "doodle.png"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (48, 48)
    result = runner.invoke(
        app, ["render", str(painter), "--map", str(painting / "doodle.png"), "-o", str(out), "--output-size", "70x30"]
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (70, 30)
    record = read_record(out)  # what made it, as every PNG doodle writes
    assert record["command"] == "render" and record["settings"]["output_size"] == [70, 30]
    assert record["inputs"]["painter"]["path"] == str(painter)
    result = runner.invoke(app, ["paint", "--from", str(out), "-o", str(painting / "again.png")])
    one_line_error(result, "made by doodle render")


def test_train_and_render_bad_inputs_are_one_line(painting, random_weights, monkeypatch):
    painter = painting / "p.pt"
    one_line_error(runner.invoke(app, _train_args(painting, random_weights, "-o", str(painting / "p.png"))), ".pt")
    one_line_error(
        runner.invoke(app, _train_args(painting, random_weights, "--resume", "-o", str(painter))), "nothing to resume"
    )
    (painting / "style_sem.png").rename(painting / "elsewhere.png")
    one_line_error(runner.invoke(app, _train_args(painting, random_weights, "-o", str(painter))), "label map")
    (painting / "elsewhere.png").rename(painting / "style_sem.png")

    runner.invoke(app, _train_args(painting, random_weights, "--steps", "1", "-o", str(painter)))
    out = painting / "out.png"
    out.write_bytes(b"precious")
    bad = quadrants(48, colours=np.array([[0, 255, 0], [255, 51, 31], [0, 0, 255], [192, 0, 0]], np.uint8))
    Image.fromarray(bad).save(painting / "bad.png")
    (painting / "junk.pt").write_bytes(b"junk")
    Image.fromarray(quadrants(48)[:1, :1].copy()).save(painting / "tiny.png")  # (rendered as a 1x1 PNG before)
    for args, fragments in [
        ([str(painter), "--map", str(painting / "bad.png")], ("bad.png", "#00ff00", "not one of this painter's")),
        ([str(painting / "junk.pt"), "--map", str(painting / "style_sem.png")], ("junk.pt", "not a painter file")),
        ([str(painter), "--map", str(painting / "nope.png")], ("nope.png", "not found")),
        ([str(painter), "--map", str(painting / "style_sem.png"), "--output-size", "3x3"], ("too small",)),
        ([str(painter), "--map", str(painting / "tiny.png")], ("tiny.png: 1x1 is too small to paint",)),
        (
            [str(painter), "--map", str(painting / "style_sem.png"), "--output-size", "20000x20000"],
            ("--output-size: rendering 20000x20000 needs about", "fits)"),
        ),
    ]:
        one_line_error(runner.invoke(app, ["render", *args, "-o", str(out)]), *fragments)
    assert out.read_bytes() == b"precious"

    calls = []

    def interrupt_second_step(self, batch):
        calls.append(batch)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, batch)

    original = LayoutSampler.__call__
    monkeypatch.setattr(LayoutSampler, "__call__", interrupt_second_step)
    result = runner.invoke(app, _train_args(painting, random_weights, "--steps", "5", "-o", str(painter)))
    one_line_error(result, "interrupted at step 1", "--resume")
    assert TrainedPainter.load(painter).steps == 1
    saved = painter.read_bytes()
    # Resuming to as many steps as it has trained would rewrite the file having trained nothing.
    one_line_error(
        runner.invoke(app, _train_args(painting, random_weights, "--resume", "--steps", "1", "-o", str(painter))),
        "--resume: the painter has trained 1 steps already; give --steps above 1",
    )
    assert painter.read_bytes() == saved
    # A batch holds every doodle's activations at once: the estimate counts them all.
    big = _train_args(painting, random_weights, "--batch", "100000", "--size", "256", "-o", str(painting / "big.pt"))
    one_line_error(runner.invoke(app, big), "training on --batch 100000 doodles of --size 256 needs about")
    assert not (painting / "big.pt").exists()
    # Interrupted while setting up: nothing was written, and the message says so.
    calls.clear()
    monkeypatch.setattr(LayoutSampler, "__init__", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    result = runner.invoke(app, _train_args(painting, random_weights, "-o", str(painting / "new.pt")))
    one_line_error(result, "interrupted before the first step;", "new.pt was not written")
    assert not (painting / "new.pt").exists()
