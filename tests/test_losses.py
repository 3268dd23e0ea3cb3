import pytest
import torch

from doodle import PaintSettings, build_scene, paint_scene
from doodle.losses import ContentLoss, GramLoss, LabelGramLoss, gram_matrix, label_grams, total_variation


def test_gram_matrix_values():
    x = torch.tensor([[1.0, 2.0], [0.0, 3.0]]).view(1, 2, 1, 2)  # channel 0: [1, 2], channel 1: [0, 3]
    assert gram_matrix(x).tolist() == [[2.5, 3.0], [3.0, 4.5]]


def test_gram_loss_is_size_independent():
    style = torch.rand(1, 4, 8, 8)
    tiled = style.repeat(1, 1, 2, 2)  # same statistics, four times the positions
    assert GramLoss(style)(tiled).item() == pytest.approx(0.0, abs=1e-6)


def test_content_loss_zero_at_target_and_relative():
    target = torch.rand(1, 3, 5, 5) * 100
    loss = ContentLoss(target)
    assert loss(target).item() == 0.0
    assert loss(target * 1.1).item() == pytest.approx(0.01, rel=1e-3)  # 10% error -> 0.01 whatever the scale


def test_total_variation():
    assert total_variation(torch.full((1, 3, 6, 6), 0.3)).item() == 0.0
    stripes = torch.zeros(1, 3, 4, 4)
    stripes[..., ::2] = 1.0
    assert total_variation(stripes).item() == pytest.approx(1.0)


def test_pure_gram_run_reduces_the_gram_loss(tiny_net):
    torch.manual_seed(0)
    style = (torch.rand(24, 24, 3) * 255).byte().numpy()
    settings = PaintSettings(
        style_loss="gram",
        phases=1,
        iterations=30,
        output_size=(32, 32),
        seed="noise",
        smoothness=0.0,
        style_layers=("1_1", "2_1", "3_1"),
    )
    scene = build_scene(style, output_size=settings.output_size)
    layers = ["relu1_1", "relu2_1", "relu3_1"]
    with torch.no_grad():
        targets = tiny_net(scene.style, layers)
    losses = [GramLoss(targets[n]) for n in layers]

    def gram_loss(image):
        with torch.no_grad():
            features = tiny_net(image, layers)
            return sum(loss(features[n]) for loss, n in zip(losses, layers, strict=True)).item()

    start = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 0.5 + 0.25
    result = paint_scene(scene, settings, tiny_net)
    assert gram_loss(result) < 0.5 * gram_loss(start)


def test_label_grams_of_one_label_everywhere_is_the_gram_matrix():
    features = torch.rand(1, 6, 5, 7)
    assert torch.allclose(label_grams(features, torch.ones(1, 1, 5, 7))[0], gram_matrix(features), atol=1e-6)


def test_label_gram_loss_compares_each_region_with_its_own_label():
    # The style: label 0 on the left with small values, label 1 on the right with large ones.
    style = torch.cat([torch.rand(1, 4, 8, 8) * 0.1, torch.rand(1, 4, 8, 8) * 5], dim=3)
    labels = torch.zeros(1, 2, 8, 16)
    labels[:, 0, :, :8], labels[:, 1, :, 8:] = 1, 1
    loss = LabelGramLoss(style, labels)
    assert float(loss(style, labels)) < 1e-6
    # An output of label 0 alone, with label 0's statistics: no cost, though its global Gram differs.
    only_left = torch.zeros(1, 2, 8, 8)
    only_left[:, 0] = 1
    assert float(loss(style[..., :8], only_left)) < 1e-6
    assert float(GramLoss(style)(style[..., :8])) > 0.5
    # The same output called label 1: it lacks label 1's large values.
    assert float(loss(style[..., :8], only_left.flip(1))) > 0.5


def test_gram_matrix_gradient_in_both_memory_layouts():
    """The Gram matrix's own backward (one product) is the true gradient, and keeps the layout."""
    torch.manual_seed(0)
    for layout in (torch.contiguous_format, torch.channels_last):
        x = torch.randn(1, 6, 5, 7, dtype=torch.float64).contiguous(memory_format=layout).requires_grad_(True)
        assert torch.autograd.gradcheck(gram_matrix, (x,))
        (gram_matrix(x) * torch.randn(6, 6, dtype=torch.float64)).sum().backward()
        assert x.grad.is_contiguous(memory_format=layout)
