"""What one paint leaves for the next in the same process (:class:`~doodle.painter.Painter`), and
the keys that say when it can be reused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .matching import Matches
from .objective import Objective
from .pixel_plan import PixelFinish
from .plan import Plan
from .scene import Scene
from .settings import PaintSettings
from .vgg import VGGFeatures

__all__ = ["Memory", "Finished", "style_key", "target_of"]


@dataclass
class Memory:
    """What one paint leaves for the next in the same process: each phase's objective (its style
    features and patch keys), the plan's settings, what was painted (labels or content), the result
    (as painted, before colours are restored), and the full-size phase's patch matches by MRF layer
    (where an animation's next frame starts its search)."""

    key: tuple
    objectives: dict[float, Objective]
    settings: PaintSettings
    target: Tensor
    image: Tensor
    matches: dict[str, Matches] | None = None


class Finished(NamedTuple):
    """What the last pixel finish left: the ``network``'s result it finished (kept by identity: the
    same object when the network's stage was not painted again), its plan (``finish``), the output
    ``image (1, 3, H, W)`` and its ``matches (H * W,)`` (where an animation's next frame starts)."""

    network: Tensor
    finish: PixelFinish | None
    image: Tensor
    matches: Tensor


def _fingerprint(tensor: Tensor | None) -> str:
    if tensor is None:
        return ""
    return hashlib.blake2b(tensor.detach().cpu().contiguous().numpy().tobytes(), digest_size=16).hexdigest()


def style_key(scene: Scene, plan: Plan, network: VGGFeatures) -> tuple:
    """Equal for two paints whose style side (features, keys) is the same: the network's stage's own
    inputs and settings (a change of the pixel finish alone keeps them)."""
    return (
        id(network),
        _fingerprint(scene.style),
        _fingerprint(scene.style_labels),
        _fingerprint(scene.style_guides),
        scene.guide_groups,
        scene.shape,
        None if scene.palette is None else scene.palette.tobytes(),
        scene.content is None,  # (which phases are laid out)
        plan.from_collage,
        plan.network_settings.replace(random_seed=0, seed="auto", noise_ratio=None),
    )


def target_of(scene: Scene) -> Tensor:
    """What is painted besides the style: the target labels, guides and the content. ``(1, C, H, W)``."""
    parts = [part for part in (scene.target_labels, scene.target_guides, scene.content) if part is not None]
    return torch.cat(parts, dim=1) if parts else torch.zeros((1, 0) + scene.shape)
