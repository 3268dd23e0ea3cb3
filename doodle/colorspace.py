"""Colour spaces: RGB to YIQ and back, and luminance (Rec. 601), for tensors of images."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rgb_to_yiq", "yiq_to_rgb", "luminance"]

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def rgb_to_yiq(image: Tensor) -> Tensor:
    """``(N, 3, H, W)`` RGB -> YIQ (Y is the luminance, in ``[0, 1]`` for RGB in ``[0, 1]``)."""
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: Tensor) -> Tensor:
    """The inverse of :func:`rgb_to_yiq`."""
    return torch.einsum("ij,njhw->nihw", torch.linalg.inv(_RGB_TO_YIQ).to(image), image)


def luminance(image: Tensor) -> Tensor:
    """``(1, 3, H, W)`` -> ``(1, 1, H, W)``."""
    return rgb_to_yiq(image)[:, :1]
