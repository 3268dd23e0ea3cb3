"""The library entry points on the tiny network: determinism, optimisers, start images, API input checks."""

import numpy as np
import pytest
import torch
from PIL import Image

from doodle import DoodleError, PaintSettings, build_scene, paint, paint_scene
from doodle.images import load_rgb
from doodle.plan import Mode, iterations_per_phase, make_plan
from doodle.settings import format_iterations, parse_iterations

from .conftest import small_edit


@pytest.fixture
def noise_style():
    return np.random.default_rng(1).integers(0, 255, (40, 64, 3), dtype=np.uint8)


def test_same_seed_same_image(tiny_net, noise_style):
    settings = PaintSettings(
        output_size=(48, 48), phases=1, iterations=5, seed="noise", random_seed=3, style_layers=("1_1", "2_1")
    )
    scene = build_scene(noise_style, output_size=settings.output_size)
    first, second = paint_scene(scene, settings, tiny_net), paint_scene(scene, settings, tiny_net)
    assert torch.equal(first, second)
    assert not torch.equal(first, paint_scene(scene, settings.replace(random_seed=4), tiny_net))
    assert first.shape == (1, 3, 48, 48)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_each_optimiser_lowers_the_loss(tiny_net, noise_style, optimizer):
    losses = []
    paint(
        noise_style,
        network=tiny_net,
        output_size=(32, 32),
        phases=1,
        iterations=8,
        seed="noise",
        style_layers=("1_1", "2_1"),
        optimizer=optimizer,
        finish="neural",
        callback=lambda step: losses.append(step.loss),
    )
    assert len(losses) == 8
    assert losses[-1] < losses[0]


def test_a_start_image_file_is_where_painting_starts(tiny_net, noise_style, tmp_path):
    """With nothing pulling the pixels (no style, no smoothness), the result is the start image itself."""
    start = np.zeros((24, 32, 3), np.uint8)
    start[:, :16] = (200, 40, 90)
    Image.fromarray(start).save(tmp_path / "start.png")
    result = paint(
        noise_style,
        network=tiny_net,
        output_size=(32, 24),
        phases=1,
        iterations=2,
        seed=tmp_path / "start.png",
        style_weight=0.0,
        smoothness=0.0,
        style_layers=("1_1",),
        finish="neural",
    )
    assert np.abs(np.asarray(result.image).astype(int) - start).max() <= 1


def test_unknown_option_is_named_and_a_type_error_inside_is_not_hidden(tiny_net, noise_style):
    with pytest.raises(DoodleError, match="unknown option.*iteration"):
        paint(noise_style, network=tiny_net, iteration=5)


def test_float_arrays_in_zero_to_one_are_read_as_images_not_black():
    grey = np.full((8, 8, 3), 0.5, np.float32)
    assert np.asarray(load_rgb(grey)).min() == 128
    with pytest.raises(DoodleError, match=r"values in \[0, 1\], got \[0, 255\]"):
        load_rgb(np.linspace(0, 255, 8 * 8 * 3).reshape(8, 8, 3))
    assert np.asarray(load_rgb(np.full((8, 8, 3), 200, np.int64))).min() == 200
    with pytest.raises(DoodleError, match="got int64 values"):
        load_rgb(np.full((8, 8, 3), 300, np.int64))


def test_library_messages_name_parameters_not_flags(tiny_net, noise_style):
    with pytest.raises(DoodleError, match="`seed='content'` needs `content`"):
        paint(noise_style, network=tiny_net, output_size=(32, 32), phases=1, iterations=1, seed="content")


def _two_doodles() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A style map, a doodle in its labels, and the doodle with its right third changed."""
    style_map = np.zeros((40, 64, 3), np.uint8)
    style_map[:, 32:] = 255
    doodle = np.zeros((48, 96, 3), np.uint8)
    doodle[24:] = 255
    edited = doodle.copy()
    edited[:, 64:] = 255 - edited[:, 64:]
    return style_map, doodle, edited


def test_a_painter_reuses_the_painting_and_its_last_image(tiny_net, noise_style, monkeypatch):
    from doodle import Painter, mrf

    style_map, doodle, edited = _two_doodles()
    built = []
    original = mrf.MRFLoss.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(mrf.MRFLoss, "__init__", counting)
    options = dict(output_size=(96, 48), phases=2, iterations=4, style_layers=("1_1", "2_1"))
    painter = Painter(network=tiny_net, **options)
    steps = []

    def paint_with(target, painter=painter) -> np.ndarray:
        steps.clear()
        result = painter.paint(noise_style, style_map=style_map, target_map=target, callback=steps.append)
        return np.asarray(result.image)

    first = paint_with(doodle)
    assert len(built) == 4 and steps  # 2 layers x 2 phases
    edited_image = paint_with(edited)
    assert len(built) == 4 and steps  # painted, with the painting's features and keys reused
    fresh = paint_with(edited, painter=Painter(network=tiny_net, **options))
    assert np.array_equal(edited_image, fresh)  # reusing changes nothing in the result
    assert len(built) == 8  # (the fresh painter built its own)
    again = paint_with(edited)
    assert np.array_equal(again, edited_image) and not steps  # the same inputs: the last image, no painting
    painter.paint(noise_style, style_map=style_map, target_map=doodle)
    assert len(built) == 8 and not np.array_equal(first, edited_image)
    # Another painting: nothing is reused.
    painter.paint(np.flipud(noise_style).copy(), style_map=style_map, target_map=edited)
    assert len(built) == 12


def test_a_first_paint_of_a_painter_is_the_plain_paint(tiny_net, noise_style):
    from doodle import Painter

    style_map, _, edited = _two_doodles()
    options = dict(output_size=(96, 48), phases=2, iterations=4, style_layers=("1_1", "2_1"))
    inputs = dict(style_map=style_map, target_map=edited)
    fresh = Painter(network=tiny_net, **options).paint(noise_style, **inputs).image
    assert np.array_equal(
        np.asarray(fresh), np.asarray(paint(noise_style, network=tiny_net, **inputs, **options).image)
    )


def test_the_schedule_follows_the_start_unless_given():
    def schedule(seed: str, mode: Mode = Mode.DOODLE, **given) -> tuple:
        content = mode in (Mode.TRANSFER, Mode.SEMANTIC_TRANSFER)
        settings = PaintSettings(seed=seed, **given)
        plan = make_plan(settings, mode=mode, shape=(64, 64), content=content, paintings=1, model="vgg16")
        return plan.settings.phases, plan.settings.iterations

    assert schedule("labels") == (3, (100, 100, 70))
    assert schedule("collage") == (2, (20, 40))  # from a collage the layout is set: two short phases
    assert schedule("collage", iterations=(100, 100, 70)) == (3, (100, 100, 70))  # a list sets the phases
    assert schedule("collage", iterations=30) == (2, 30)
    assert schedule("labels", phases=1) == (1, (100, 100, 70))
    assert schedule("content", Mode.SEMANTIC_TRANSFER) == (3, (100, 60, 40))  # a photo, with patches
    assert schedule("content", Mode.TRANSFER, style_loss="gram") == (3, (100, 100, 70))
    assert schedule("auto", Mode.TRANSFER) == (3, (100, 60, 40))  # auto: the photo
    assert parse_iterations("auto") is None and format_iterations(None) == "auto"


def test_iterations_are_given_per_phase_coarse_to_fine():
    assert iterations_per_phase((100, 80, 50), 3) == (100, 80, 50)
    assert iterations_per_phase((100, 80, 50), 2) == (80, 50)  # a small image loses its coarsest phases first
    assert iterations_per_phase((100, 80, 50), 5) == (100, 100, 100, 80, 50)
    assert iterations_per_phase(7, 3) == (7, 7, 7)
    for bad in (0, (), (10, 0)):
        with pytest.raises(DoodleError, match="`iterations` must be"):
            PaintSettings(iterations=bad)
    with pytest.raises(DoodleError, match=r"`iterations` \(2.5,\) is not a whole number or a list of whole numbers"):
        PaintSettings(iterations=(2.5,))


def test_phases_run_their_own_iteration_counts(tiny_net, noise_style):
    seen = {}
    paint(
        noise_style,
        network=tiny_net,
        output_size=(64, 64),
        phases=2,
        iterations=(3, 5),
        style_layers=("1_1",),
        finish="neural",
        callback=lambda step: seen.__setitem__(step.phase, (step.iteration, step.iterations)),
    )
    assert seen == {1: (3, 3), 2: (5, 5)}


def test_a_small_edit_is_painted_again_only_around_it(tiny_net, noise_style):
    from doodle import Painter

    style_map, doodle, edited = small_edit()  # a small white square in the black, near the right edge
    options = dict(output_size=(256, 96), phases=2, iterations=4, style_layers=("1_1", "2_1"), finish="neural")
    painter = Painter(network=tiny_net, **options)
    first = np.asarray(painter.paint(noise_style, style_map=style_map, target_map=doodle).image).astype(int)
    sizes = set()
    second = painter.paint(
        noise_style, style_map=style_map, target_map=edited, callback=lambda step: sizes.add(step.size)
    )
    second = np.asarray(second.image).astype(int)
    # The box: the square, a 24 px margin (columns 206-255 painted) and 32 px of context, slid back
    # inside the image at its right edge (columns 142-255).
    assert sizes == {(114, 96), (57, 48)}
    assert np.array_equal(second[:, :142], first[:, :142])  # outside the box, nothing moved
    assert np.array_equal(second[:, 142:200], first[:, 142:200])  # the context inside the box is kept
    assert np.abs(second[10:20, 230:240] - first[10:20, 230:240]).mean() > 10  # the edit was painted


def test_a_small_edit_started_from_an_image_starts_from_that_image_s_own_part(
    tiny_net, noise_style, tmp_path, monkeypatch
):
    """A repaint of a small edit paints a box: a start image file gives the box its own part of the
    image (it used to be the whole start image squeezed into the box)."""
    import doodle.phases
    from doodle import Painter

    style_map, doodle_map, edited = small_edit()
    start = np.random.default_rng(0).integers(0, 255, (96, 256, 3), dtype=np.uint8)
    Image.fromarray(start).save(tmp_path / "start.png")
    painter = Painter(
        network=tiny_net,
        output_size=(256, 96),
        phases=1,
        iterations=2,
        seed=str(tmp_path / "start.png"),
        finish="neural",
    )
    painter.paint(noise_style, style_map=style_map, target_map=doodle_map)
    starts = []
    optimise = doodle.phases.optimise
    monkeypatch.setattr(
        doodle.phases,
        "optimise",
        lambda objective, image, *a, **k: starts.append(image) or optimise(objective, image, *a, **k),
    )
    painter.paint(noise_style, style_map=style_map, target_map=edited)
    (box,) = starts
    assert box.shape[-2:] == (96, 114)  # the box of the test above, columns 142-255
    free = box[0, :, 10:20, 230 - 142 : 240 - 142]  # inside the edit: the start image's own pixels
    assert torch.allclose(free, torch.from_numpy(start[10:20, 230:240]).permute(2, 0, 1).float() / 255, atol=1e-6)


def _objectives(tiny_net, settings: PaintSettings, style, **inputs) -> dict:
    """Each phase's objective by scale, of one paint by a painter."""
    from doodle import Painter

    painter = Painter(settings, network=tiny_net)
    painter.paint(style, **inputs)
    return painter.memory.objectives


def test_a_phase_after_the_first_leaves_out_relu4_1_of_the_default_layers(inputs, tiny_net):
    def layers(settings: PaintSettings, content=None) -> dict[float, list[str]]:
        objectives = _objectives(
            tiny_net, settings, inputs / "style.png", target_map=inputs / "doodle.png", content=content
        )
        return {factor: objective.mrf_layers for factor, objective in objectives.items()}

    two = PaintSettings(phases=2, iterations=2, seed="labels")
    assert layers(two) == {0.5: ["relu2_1", "relu3_1", "relu4_1"], 1.0: ["relu2_1", "relu3_1"]}
    # A collage start (auto's, for a doodle of one painting) sets the layout before the first phase.
    assert layers(two.replace(seed="auto")) == {0.5: ["relu2_1", "relu3_1"], 1.0: ["relu2_1", "relu3_1"]}
    three = layers(two.replace(phases=3, output_size=(96, 96)))  # the first phase sets the layout
    assert three == {0.25: ["relu2_1", "relu3_1", "relu4_1"], 0.5: ["relu2_1", "relu3_1"], 1.0: ["relu2_1", "relu3_1"]}
    assert layers(two.replace(phases=1)) == {1.0: ["relu2_1", "relu3_1", "relu4_1"]}  # nothing set the layout
    # With a content photo only the full-size phase is laid out (the content keeps its deep layers before).
    with_photo = layers(two, content=inputs / "style.png")
    assert with_photo == {0.5: ["relu2_1", "relu3_1", "relu4_1"], 1.0: ["relu2_1", "relu3_1"]}
    chosen = layers(two.replace(style_layers=("3_1", "4_1")))
    assert chosen == {0.5: ["relu3_1", "relu4_1"], 1.0: ["relu3_1", "relu4_1"]}  # given layers: every phase
    texture_layers = ("1_1", "2_1", "3_1", "4_1")  # a doodle given a texture's layers keeps them too
    assert layers(two.replace(style_layers=texture_layers))[1.0] == ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
    given_default = layers(two.replace(style_layers=("2_1", "3_1", "4_1")))  # the default layers, given: kept
    assert given_default == {0.5: ["relu2_1", "relu3_1", "relu4_1"], 1.0: ["relu2_1", "relu3_1", "relu4_1"]}


def test_a_photos_full_size_phase_holds_the_content_at_relu3_1(inputs, tiny_net):
    # There, with relu4_1 out of the patches, the network stops at relu3_1 (half its cost at full size).
    def deepest(settings: PaintSettings) -> dict[float, tuple[list[str], str]]:
        objectives = _objectives(
            tiny_net, settings, inputs / "style.png", target_map=inputs / "doodle.png", content=inputs / "style.png"
        )
        return {factor: (o.content_layers, o.layers[-1]) for factor, o in objectives.items()}

    two = PaintSettings(phases=2, iterations=2)
    assert deepest(two) == {0.5: (["relu4_2"], "relu4_2"), 1.0: (["relu3_1"], "relu3_1")}
    assert deepest(two.replace(content_layers=("4_2",)))[1.0] == (["relu4_2"], "relu4_2")  # given: kept
    assert deepest(two.replace(content_layers=("relu4_2",)))[1.0] == (["relu4_2"], "relu4_2")  # the default, given
    assert deepest(two.replace(style_loss="gram"))[1.0][0] == ["relu4_2"]  # Gram transfer: kept


def test_a_laid_out_texture_phase_leaves_out_relu1_1_patches_and_relu4_1(inputs, tiny_net):
    def layers(settings: PaintSettings) -> dict:
        objectives = _objectives(tiny_net, settings, inputs / "style.png")
        return {factor: (o.mrf_layers, o.gram_layers) for factor, o in objectives.items()}

    settings = PaintSettings(phases=2, iterations=2, seed="noise", output_size=(64, 64))
    texture = layers(settings)
    assert texture[0.5] == (["relu1_1", "relu2_1", "relu3_1", "relu4_1"], ["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    assert texture[1.0] == (["relu2_1", "relu3_1"], ["relu1_1", "relu2_1", "relu3_1"])
    laid_out = (["relu2_1", "relu3_1"], ["relu1_1", "relu2_1", "relu3_1"])
    assert layers(settings.replace(seed="auto")) == {0.5: laid_out, 1.0: laid_out}  # auto: the painting quilted
    given = layers(settings.replace(style_layers=("1_1", "2_1", "3_1", "4_1")))  # a texture's layers, given: kept
    assert given[1.0] == (["relu1_1", "relu2_1", "relu3_1", "relu4_1"], ["relu1_1", "relu2_1", "relu3_1", "relu4_1"])


def test_the_plan_says_what_a_paint_does_and_its_record_keeps_it(inputs, tiny_net):
    from doodle import Painter, Start

    result = Painter(network=tiny_net, output_size=(64, 64)).paint(
        inputs / "style.png", target_map=inputs / "doodle.png"
    )
    plan = result.plan
    assert plan.mode == Mode.DOODLE and plan.start == Start.COLLAGE
    assert [(p.scale, p.shape, p.iterations) for p in plan.phases] == [(0.5, (32, 32), 20), (1.0, (64, 64), 40)]
    assert result.record["plan"] == plan.describe()
    assert result.record["plan"]["phases"][1]["mrf_layers"] == ["relu2_1", "relu3_1"]
    assert result.record["settings"]["seed"] == "collage" and result.record["settings"]["content_layers"] is None


def test_a_change_of_the_finish_alone_paints_the_finish_alone_again(inputs, tiny_net, monkeypatch):
    # `--last-vote` changed the settings the painting's features were kept by: the network's stage was
    # painted again; and the finish kept by identity would have returned the last vote's output.
    import doodle.painter
    from doodle import Painter

    painter = Painter(network=tiny_net, output_size=(64, 64), phases=1, iterations=2)
    first = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png")
    painted = []
    real = doodle.painter.paint_phases
    monkeypatch.setattr(doodle.painter, "paint_phases", lambda *a, **k: painted.append(1) or real(*a, **k))
    five = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png", settings=PaintSettings(last_vote=5,
                         output_size=(64, 64), phases=1, iterations=2))  # fmt: skip
    assert painted == [] and five.record["plan"]["finish"]["last_vote"] == 5
    assert five.image.tobytes() != first.image.tobytes()  # the finish painted again, with its own vote
    again = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png")
    assert painted == [] and again.image.tobytes() == first.image.tobytes()
    seeded = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png", settings=PaintSettings(
                           random_seed=1, output_size=(64, 64), phases=1, iterations=2))  # fmt: skip
    assert painted == [1] and seeded.image.tobytes() != first.image.tobytes()  # the network's own setting


def test_a_paint_asked_to_stop_stops_in_its_setup_too(inputs, tiny_net):
    # The studio's Stop pressed while a large paint sets up (its collage, the painting's patch keys)
    # used to wait for the whole setup: the stop check is asked at each of its steps.
    from doodle import Painter
    from doodle.errors import Cancelled

    for asked in (1, 2, 3, 4):  # after reading the inputs, before the start image, before, after the objective
        calls, steps = [], []
        painter = Painter(network=tiny_net, output_size=(64, 64), finish="neural")
        with pytest.raises(Cancelled):
            painter.paint(
                inputs / "style.png",
                target_map=inputs / "doodle.png",
                callback=steps.append,
                stop=lambda calls=calls, asked=asked: calls.append(1) or len(calls) >= asked,
            )
        assert len(calls) == asked and not steps
    steps.clear()
    painter.paint(inputs / "style.png", target_map=inputs / "doodle.png", callback=steps.append, stop=lambda: False)
    assert len(steps) == 60  # (20 and 40 iterations: a stop that never says so changes nothing)


def test_the_default_finish_lays_out_at_the_working_size_and_paints_the_output_from_the_painting(inputs, tiny_net):
    """The network's phases run at --working-size; the last step, the pixel finish, is the output's size,
    and every output pixel is a blend of the painting's own pixels (none darker than its darkest)."""
    from doodle import Painter
    from doodle.errors import Cancelled

    steps = []
    painter = Painter(network=tiny_net, output_size=(160, 128), working_size=64)
    result = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png", callback=steps.append)
    assert result.image.size == (160, 128) and result.plan.settings.finish == "pixels"
    network_sizes = {step.size for step in steps[:-1] if step.phase < step.phases}
    assert max(max(size) for size in network_sizes) == 64
    assert steps[-1].size == (160, 128) and steps[-1].phase == steps[-1].phases == len(result.plan.phases) + 1
    painting = np.asarray(Image.open(inputs / "style.png").convert("RGB")).astype(int)
    assert np.asarray(result.image).astype(int).min() >= painting.min()
    again = painter.paint(inputs / "style.png", target_map=inputs / "doodle.png")
    assert np.array_equal(np.asarray(again.image), np.asarray(result.image))  # the same inputs: the same image
    fresh = []
    with pytest.raises(Cancelled):  # the studio's Stop reaches the pixel finish too
        painter.paint(
            inputs / "style.png",
            target_map=inputs / "doodle.png",
            settings=painter.settings.replace(random_seed=1),
            callback=fresh.append,
            stop=lambda: bool(fresh) and fresh[-1].phase == fresh[-1].phases,
        )
    assert fresh[-1].phase == fresh[-1].phases and fresh[-1].iteration < fresh[-1].iterations


def test_a_gram_transfer_of_a_small_output_leaves_out_phases_too_small_for_its_deepest_layer(tiny_net, noise_style):
    """relu5_1 is 1/16 of the image: a 64x96 transfer's quarter-size phase (16x24) had no position
    there and failed inside torch; it now starts at half size."""
    photo = np.random.default_rng(2).integers(0, 255, (96, 64, 3), dtype=np.uint8)
    result = paint(noise_style, content=photo, network=tiny_net, style_loss="gram", output_size=(64, 96), iterations=2)
    assert result.image.size == (64, 96)
    assert [phase.shape for phase in result.plan.phases] == [(48, 32), (96, 64)]
    assert not result.plan.pixels  # a Gram transfer keeps the network's result
