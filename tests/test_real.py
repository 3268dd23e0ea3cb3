"""Real features (HED VGG16 from ../shared): does the output obey the map, in the painter's look?"""

import pytest
from PIL import Image

import semantic_maps
from doodle import paint
from doodle.quality import label_agreement

from .conftest import DATA, needs_shared

pytestmark = needs_shared


@pytest.fixture(scope="module")
def monet():
    return (
        Image.open(DATA / "paintings" / "Monet.jpg"),
        semantic_maps.read_map(DATA / "maps" / "Monet_sem.png"),
        semantic_maps.read_map(DATA / "maps" / "Coastline_sem.png"),
    )


def test_monet_on_coastline_every_region_takes_its_own_labels_look(real_net, monet):
    """Sky, cliffs, sea, grass and rocks of the doodle each look like that label of the painting.

    Seeded with noise so the map, not the start image, must put every look in its place; the same
    run without label channels must fail the measure, or the measure would prove nothing.
    """
    painting, painting_map, coastline = monet
    options = dict(network=real_net, output_size=(128, 96), seed="noise", iterations=60)
    output = paint(painting, style_map=painting_map, target_map=coastline, **options).image
    agreement = label_agreement(real_net, output, painting, painting_map, coastline)
    assert agreement.diagonal().min() >= 0.5, agreement.round(2)

    blind = paint(painting, style_map=painting_map, target_map=coastline, semantic_weight=0.0, **options).image
    blind_agreement = label_agreement(real_net, blind, painting, painting_map, coastline)
    assert blind_agreement.diagonal().min() < 0.3, blind_agreement.round(2)
