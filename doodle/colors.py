"""Colour preservation in style transfer (Gatys et al. 2017, "Controlling perceptual factors in neural
style transfer"): the output keeps the content's colours and takes the painting's strokes.

- ``luminance``: the painting and the content are painted as their luminance alone (the painting's
  luminance given the content's mean and spread), and the result's luminance is joined to the
  content's chroma (YIQ).
- ``histogram``: the painting's colours are first given the content's mean and covariance by a
  linear map (the symmetric square roots of both covariances), then painted as usual.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from .colorspace import luminance, rgb_to_yiq, yiq_to_rgb
from .errors import DoodleError
from .images import resize
from .scene import Scene
from .settings import PreserveColors
from .temporal import FrameGuide

__all__ = ["match_colors", "prepare", "prepare_frame", "finish"]


def _matrix_power(covariance: Tensor, power: float) -> Tensor:
    values, vectors = torch.linalg.eigh(covariance)
    return vectors @ torch.diag(values.clamp_min(1e-6) ** power) @ vectors.T


def match_colors(image: Tensor, reference: Tensor) -> Tensor:
    """``image (1, 3, H, W)`` with the colour mean and covariance of ``reference (1, 3, H', W')``."""
    pixels, wanted = image[0].flatten(1).double(), reference[0].flatten(1).double()  # (3, N)
    mean, wanted_mean = pixels.mean(1, keepdim=True), wanted.mean(1, keepdim=True)
    transform = _matrix_power(torch.cov(wanted), 0.5) @ _matrix_power(torch.cov(pixels), -0.5)
    matched = transform @ (pixels - mean) + wanted_mean
    return matched.reshape(image.shape).to(image.dtype).clamp(0.0, 1.0)


def prepare(scene: Scene, method: PreserveColors) -> Scene:
    """The scene to paint so that the result can keep the content's colours (see :func:`finish`)."""
    if scene.content is None:
        raise DoodleError(
            f"`preserve_colors={method}` keeps the colours of a content photo; give `content` (in {scene.mode} "
            "there is none)"
        )
    if method == "histogram":
        return dataclasses.replace(scene, style=match_colors(scene.style, scene.content))
    content, style = luminance(scene.content), luminance(scene.style)
    style = (style - style.mean()) / style.std().clamp_min(1e-6) * content.std() + content.mean()
    grey = dict(style=style.clamp(0.0, 1.0).expand(-1, 3, -1, -1), content=content.expand(-1, 3, -1, -1))
    return dataclasses.replace(scene, **grey)


def prepare_frame(frame: FrameGuide, method: PreserveColors) -> FrameGuide:
    """An animation frame's ties to the frame before (in its finished colours) in the colours that
    :func:`prepare` paints in: for ``luminance``, the frame before's luminance."""
    if method == "histogram":
        return frame
    return dataclasses.replace(frame, carried=luminance(frame.carried).expand(-1, 3, -1, -1).contiguous())


def finish(image: Tensor, scene: Scene, method: PreserveColors) -> Tensor:
    """The painted ``image (1, 3, H, W)`` with the content's colours: for ``luminance``, its
    luminance joined to the content's chroma; ``histogram`` needs nothing more."""
    if method == "histogram":
        return image
    chroma = rgb_to_yiq(resize(scene.content, tuple(image.shape[-2:])))[:, 1:]
    return yiq_to_rgb(torch.cat([luminance(image), chroma], dim=1)).clamp(0.0, 1.0)
