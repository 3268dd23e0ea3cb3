"""The collage a trained painter paints over: the doodle filled with the painting's own pieces."""

import os
import signal

import pytest
import torch

import doodle.collage as collages_module
from doodle.collage import Collage


def _two_labels(height: int, width: int, split: int) -> torch.Tensor:
    """Label 0 above row ``split``, label 1 below. -> ``(2, height, width)``."""
    labels = torch.zeros(2, height, width)
    labels[0, :split], labels[1, split:] = 1, 1
    return labels


def test_each_region_is_cut_from_its_own_label():
    # A painting red above, blue below (with texture); a doodle with the labels the other way round.
    texture = torch.rand(1, 96, 96, generator=torch.Generator().manual_seed(0)) * 0.2
    painting = torch.cat(
        [texture + 0.8 * (torch.arange(96) < 48)[:, None], texture, texture + 0.8 * (torch.arange(96) >= 48)[:, None]]
    )
    doodle = _two_labels(80, 120, 20).flip(0)[None]  # label 1 above, label 0 below
    collage = Collage(painting, _two_labels(96, 96, 48), block=32)(doodle, torch.Generator().manual_seed(1))
    assert collage.shape == (1, 3, 80, 120)
    above, below = collage[0, :, :20], collage[0, :, 20:]
    assert (above[2] > above[0] + 0.4).all()  # blue, as the painting's label 1
    assert (below[0] > below[2] + 0.4).all()  # red, as its label 0


def test_a_region_is_a_coherent_copy_of_the_painting_not_a_blur():
    texture = torch.rand(3, 160, 160, generator=torch.Generator().manual_seed(0))
    collage = Collage(texture, torch.ones(1, 160, 160), block=32)(
        torch.ones(1, 1, 96, 96), torch.Generator().manual_seed(2)
    )[0]
    # Most pixels are the painting's own, shifted by one offset: copies, not averages of blocks.
    same = []
    for dy in range(8, 57):
        for dx in range(8, 57):
            shifted = texture[:, dy : dy + 96, dx : dx + 96]
            same.append(float(((collage - shifted).abs().max(0).values < 1e-4).float().mean()))
    assert max(same) > 0.5
    assert collage.std() > 0.9 * texture.std()  # the painting's contrast is kept


def test_any_size_a_batch_and_a_label_the_painting_lacks():
    painting = torch.rand(3, 40, 50, generator=torch.Generator().manual_seed(0))
    labels = torch.zeros(3, 40, 50)
    labels[0, :, :25], labels[1, :, 25:] = 1, 1  # label 2: none in the painting
    collage = Collage(painting, labels)  # blocks smaller than the default, as the painting is
    doodle = torch.zeros(2, 3, 37, 91)
    doodle[:, 0, :, :30], doodle[:, 1, :, 30:60], doodle[:, 2, :, 60:] = 1, 1, 1
    first = collage(doodle, torch.Generator().manual_seed(0))
    assert first.shape == (2, 3, 37, 91) and torch.isfinite(first).all()
    assert torch.allclose(first[:, :, :, 60:], torch.tensor(0.5))  # a label it lacks: grey
    assert not torch.equal(first, collage(doodle, torch.Generator().manual_seed(1)))  # the seed decides
    assert torch.equal(first, collage(doodle, torch.Generator().manual_seed(0)))


def test_blocks_beyond_the_painting_are_chosen_to_agree_with_their_neighbours(monkeypatch):
    # A painting of smooth colour (a sky's gradients), and a region larger than it: most blocks
    # cannot come from the one shifted painting. Chosen by how well they agree with the blocks
    # already pasted, they leave smaller jumps of colour between blocks than chosen at random.
    y, x = torch.meshgrid(torch.linspace(0, 1, 96), torch.linspace(0, 1, 96), indexing="ij")
    painting = torch.stack([y, x, 0.5 + 0.3 * torch.sin(6 * x) * torch.cos(5 * y)])
    doodle = torch.ones(1, 1, 200, 240)

    def jumps(image: torch.Tensor) -> float:  # mean colour change between neighbouring 8-pixel squares
        coarse = torch.nn.functional.avg_pool2d(image, 8)
        return float((coarse.diff(dim=-2).abs().mean() + coarse.diff(dim=-1).abs().mean()) / 2)

    def collage(seed: int) -> torch.Tensor:
        return Collage(painting, torch.ones(1, 96, 96), block=32)(doodle, torch.Generator().manual_seed(seed))

    agreeing = [jumps(collage(seed)) for seed in range(3)]
    first_random = collages_module._NEIGHBOURS.shape[0]  # options: 8 continuations, then random places
    monkeypatch.setattr(Collage, "_agreeing", lambda self, small, label, options, corners: options[:, first_random])
    at_random = [jumps(collage(seed)) for seed in range(3)]
    assert all(a < 0.85 * r for a, r in zip(agreeing, at_random, strict=True)), (agreeing, at_random)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork: POSIX only")
def test_a_forked_process_cuts_collages_too():
    # The labels are filled in a pool of threads; a child forked after a collage has none of them.
    collage = Collage(torch.rand(3, 96, 96, generator=torch.Generator().manual_seed(0)), torch.ones(1, 96, 96))
    doodle = torch.ones(1, 1, 64, 64)
    first = collage(doodle, torch.Generator().manual_seed(0))
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's result is its exit code)
        signal.alarm(30)  # a child waiting on threads it does not have dies instead of hanging
        os._exit(0 if torch.equal(collage(doodle, torch.Generator().manual_seed(0)), first) else 3)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_texture_collage_quilts_the_painting_anew():
    # Without a layout to keep (texture synthesis), blocks come from anywhere in the painting: no one
    # shifted copy of it fills the canvas, as it does with a layout (the test above), yet the pixels
    # are the painting's own, not a blur.
    texture = torch.rand(3, 160, 160, generator=torch.Generator().manual_seed(0))
    collage = Collage(texture, torch.ones(1, 160, 160), block=32, layout=False)(
        torch.ones(1, 1, 96, 96), torch.Generator().manual_seed(2)
    )[0]
    largest_copy = max(
        float(((collage - texture[:, dy : dy + 96, dx : dx + 96]).abs().max(0).values < 1e-4).float().mean())
        for dy in range(0, 65, 4)
        for dx in range(0, 65, 4)
    )
    assert largest_copy < 0.2  # (0.04: one block's own part)
    assert collage.std() > 0.85 * texture.std()  # (0.94)
