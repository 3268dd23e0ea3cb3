"""Real features (HED VGG16 from ../shared): does the output obey the map, in the painter's look?"""

import numpy as np
import pytest
import torch
from PIL import Image

import semantic_maps
from doodle import PaintSettings, build_scene, paint, paint_scene
from doodle.quality import label_agreement
from doodle.images import to_pil

from .conftest import DATA, needs_shared

pytestmark = needs_shared


@pytest.fixture(scope="module")
def monet():
    return (Image.open(DATA / "paintings" / "Monet.jpg"), semantic_maps.read_map(DATA / "maps" / "Monet_sem.png"),
            semantic_maps.read_map(DATA / "maps" / "Coastline_sem.png"))


def test_monet_on_coastline_every_region_takes_its_own_labels_look(real_net, monet):
    """Sky, cliffs, sea, grass and rocks of the doodle each look like that label of the painting.

    Seeded with noise so the map, not the start image, must put every look in its place; the same
    run without label channels must fail the measure, or the measure would prove nothing.
    """
    painting, painting_map, coastline = monet
    options = dict(network=real_net, output_size=(128, 96), seed="noise", iterations=60)
    output = paint(painting, style_map=painting_map, target_map=coastline, **options)
    agreement = label_agreement(real_net, output, painting, painting_map, coastline)
    assert agreement.diagonal().min() >= 0.5, agreement.round(2)

    blind = paint(painting, style_map=painting_map, target_map=coastline, semantic_weight=0.0, **options)
    blind_agreement = label_agreement(real_net, blind, painting, painting_map, coastline)
    assert blind_agreement.diagonal().min() < 0.3, blind_agreement.round(2)


def test_same_seed_same_image(real_net):
    style = np.asarray(Image.open(DATA / "paintings" / "Renoir.jpg").resize((64, 40)))
    settings = PaintSettings(output_size=(48, 48), phases=1, iterations=5, seed="noise", random_seed=3)
    scene = build_scene(style, output_size=settings.output_size)
    first, second = paint_scene(scene, settings, real_net), paint_scene(scene, settings, real_net)
    assert torch.equal(first, second)
    other = paint_scene(scene, settings.replace(random_seed=4), real_net)
    assert not torch.equal(first, other)
    assert to_pil(first).size == (48, 48)
