"""Content, Gram style and smoothness losses: a pure function each, plus a module holding its target.

Every loss is divided by the mean square of its target, so its weight does not depend on the
layer, the preprocessing (Caffe features are ~100x torchvision's) or the image size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["gram_matrix", "label_grams", "total_variation", "out_of_range", "ContentLoss", "GramLoss", "LabelGramLoss"]

# Weight of :func:`out_of_range`: a soft bound keeping pixels in [0, 1] (L-BFGS's line search needs a
# smooth objective, not a clamp; a generator's sigmoid output would saturate and stop learning).
RANGE_WEIGHT = 10.0


def gram_matrix(features: Tensor) -> Tensor:
    """Channel correlations averaged over positions (Gatys et al. 2015). ``(1, C, H, W)`` -> ``(C, C)``.

    Its gradient is one matrix product, in the features' own memory layout (channels-last on the CPU):
    autograd's own took two products, their sum and copies between layouts: a quarter of a texture's
    full-size evaluation on a float32 CPU (benchmarks/README.md, issue 11)."""
    return _Gram.apply(features)


def _as_matrix(features: Tensor) -> tuple[Tensor, bool]:
    """A ``(1, C, H, W)`` tensor as a matrix sharing its memory where it can: ``(H * W, C)`` for
    channels-last memory (True), else ``(C, H * W)`` (False)."""
    if features.shape[1] > 1 and features.is_contiguous(memory_format=torch.channels_last):
        return features[0].permute(1, 2, 0).reshape(-1, features.shape[1]), True
    return features.reshape(features.shape[1], -1), False


class _Gram(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features: Tensor) -> Tensor:
        ctx.save_for_backward(features)
        flat, by_position = _as_matrix(features)
        return (flat.t() @ flat if by_position else flat @ flat.t()) / (features.shape[2] * features.shape[3])

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (features,) = ctx.saved_tensors
        flat, by_position = _as_matrix(features)
        symmetric = (grad + grad.t()) / (features.shape[2] * features.shape[3])
        out = torch.empty_like(features)  # the features' layout
        out_flat, _ = _as_matrix(out)
        torch.mm(flat, symmetric, out=out_flat) if by_position else torch.mm(symmetric, flat, out=out_flat)
        return out


def label_grams(features: Tensor, labels: Tensor) -> Tensor:
    """One Gram matrix per label, over the positions weighted by that label.

    ``features (1, C, H, W)``, ``labels (1, K, H, W)`` (pooled to the features' size) -> ``(K, C, C)``.
    """
    flat, weights = features.flatten(2)[0], labels.flatten(2)[0]  # (C, N), (K, N)
    sums = weights.sum(dim=1).clamp_min(1e-6)
    return torch.stack([(flat * w) @ flat.t() / total for w, total in zip(weights, sums, strict=True)])


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

    def __init__(self, style: Tensor, paintings: Tensor | None = None, weights: Tensor | None = None) -> None:
        """``paintings (1, P, Hs, Ws)`` (pooled to the style's size) and ``weights (P,)`` summing to 1:
        the style is several paintings side by side, and the target mixes their Gram matrices by weight."""
        super().__init__()
        with torch.no_grad():
            if paintings is None:
                target = gram_matrix(style)
            else:
                target = torch.einsum("p,pij->ij", weights.to(style), label_grams(style, paintings))
        self.register_buffer("target", target)
        self.register_buffer("scale", target.pow(2).mean().clamp_min(1e-8))

    def forward(self, features: Tensor) -> Tensor:
        return _relative_mse(gram_matrix(features), self.target, self.scale)


class LabelGramLoss(nn.Module):
    """Gram matrices per label (a semantic Gram loss): each region of the output takes the channel
    correlations of its own label's region of the painting, whatever share of the image it covers.

    ``style (1, C, Hs, Ws)`` with its ``style_labels (1, K, Hs, Ws)`` pooled to that size.
    Shape: ``forward(features (1, C, H, W), labels (1, K, H, W)) -> scalar``: each label's error
    weighted by its share of the output (a label the output lacks costs nothing).
    """

    def __init__(self, style: Tensor, style_labels: Tensor) -> None:
        super().__init__()
        with torch.no_grad():
            target = label_grams(style, style_labels)
        self.register_buffer("target", target)
        self.register_buffer("scale", target.pow(2).mean(dim=(1, 2)).clamp_min(1e-8))

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        shares = labels.mean(dim=(0, 2, 3))  # (K,)
        errors = (label_grams(features, labels) - self.target).pow(2).mean(dim=(1, 2)) / self.scale
        return (shares * errors).sum() / shares.sum().clamp_min(1e-8)
