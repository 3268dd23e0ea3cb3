"""Content, Gram style and smoothness losses: a pure function each, plus a module holding its target.

Every loss is divided by the mean square of its target, so its weight does not depend on the
layer, the preprocessing (Caffe features are ~100x torchvision's) or the image size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["gram_matrix", "total_variation", "out_of_range", "ContentLoss", "GramLoss"]

# Weight of :func:`out_of_range`: a soft bound keeping pixels in [0, 1] (L-BFGS's line search needs a
# smooth objective, not a clamp; a generator's sigmoid output would saturate and stop learning).
RANGE_WEIGHT = 10.0


def gram_matrix(features: Tensor) -> Tensor:
    """Channel correlations averaged over positions (Gatys et al. 2015). ``(1, C, H, W)`` -> ``(C, C)``."""
    flat = features.flatten(2)[0]
    return flat @ flat.t() / flat.shape[1]


def total_variation(image: Tensor) -> Tensor:
    """Mean squared difference between neighbouring pixels. ``(B, 3, H, W)`` -> scalar."""
    return (image[..., 1:, :] - image[..., :-1, :]).pow(2).mean() + (image[..., :, 1:] - image[..., :, :-1]).pow(
        2
    ).mean()


def out_of_range(image: Tensor) -> Tensor:
    """Mean squared distance of the pixels outside ``[0, 1]`` to it, times :data:`RANGE_WEIGHT`. -> scalar."""
    return RANGE_WEIGHT * (image - image.clamp(0.0, 1.0)).pow(2).mean()


def _relative_mse(value: Tensor, target: Tensor, scale: Tensor) -> Tensor:
    return (value - target).pow(2).mean() / scale


class ContentLoss(nn.Module):
    """Mean squared error to the content image's activations. ``(1, C, H, W)`` -> scalar."""

    def __init__(self, target: Tensor) -> None:
        super().__init__()
        self.register_buffer("target", target.detach())
        self.register_buffer("scale", target.detach().pow(2).mean().clamp_min(1e-8))

    def forward(self, features: Tensor) -> Tensor:
        return _relative_mse(features, self.target, self.scale)


class GramLoss(nn.Module):
    """Mean squared error between Gram matrices: position-free style. ``(1, C, H, W)`` -> scalar.

    The Gram matrix is a mean over positions, so style and output sizes may differ.
    """

    def __init__(self, style: Tensor) -> None:
        super().__init__()
        with torch.no_grad():
            target = gram_matrix(style)
        self.register_buffer("target", target)
        self.register_buffer("scale", target.pow(2).mean().clamp_min(1e-8))

    def forward(self, features: Tensor) -> Tensor:
        return _relative_mse(gram_matrix(features), self.target, self.scale)
