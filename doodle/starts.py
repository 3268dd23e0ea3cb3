"""The image a paint starts from (:class:`~doodle.plan.Start`): noise, the content photo, the label
colours, a collage of the painting, an image file, or a trained painter's rendering."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .collage import Collage
from .errors import DoodleError
from .generator import TrainedPainter
from .guides import LABEL_WEIGHT
from .images import load_rgb, resize, to_tensor
from .plan import Plan, Start
from .scene import Scene
from .synthesis import DEFAULT_SYNTHESIS, synthesize

__all__ = ["start_image", "plan_start", "label_colours"]


def label_colours(scene: Scene, shape: tuple[int, int]) -> Tensor:
    """The target map painted with each label's mean colour in the style. -> ``(1, 3, h, w)``."""
    labels = resize(scene.style_labels, tuple(scene.style.shape[-2:]))[0]  # (K, Hs, Ws)
    means = torch.einsum("khw,chw->kc", labels, scene.style[0]) / labels.sum((1, 2)).clamp_min(1e-6)[:, None]
    return torch.einsum("khw,kc->chw", resize(scene.target_labels, shape)[0], means)[None]


def start_image(
    scene: Scene, start: Start, shape: tuple[int, int], *, random_seed: int, noise_ratio: float | None, file=None
) -> Tensor:
    """The first phase's image at ``shape = (h, w)``: noise, the content, the label colours plus noise,
    a collage, an image ``file``, or a trained painter's rendering of the doodle (a ``.pt`` ``file``);
    with ``noise_ratio``, that start blended with noise. -> ``(1, 3, *shape)``."""
    generator = torch.Generator().manual_seed(random_seed)
    uniform = torch.rand((1, 3) + shape, generator=generator)
    noise = uniform * 0.5 + 0.25
    if start == Start.NOISE:
        image = noise
    elif start == Start.CONTENT:
        if scene.content is None:
            raise DoodleError("`seed='content'` needs `content`; use `seed='noise'` or an image path")
        image = resize(scene.content, shape)
    elif start == Start.LABELS:
        if scene.target_labels is None:
            raise DoodleError("`seed='labels'` needs `target_map`; use `seed='noise'` or an image path")
        image = label_colours(scene, shape)
        if noise_ratio is None:
            return (image + (uniform - 0.5) * 0.5).clamp(0, 1)
    elif start == Start.COLLAGE:
        image = resize(_collage(scene, random_seed), shape)
    elif start == Start.PAINTER:
        image = resize(_rendered(scene, Path(file), random_seed), shape)
    elif start == Start.IMAGE:
        image = resize(to_tensor(load_rgb(Path(file), what="seed image")), shape)
    else:
        raise ValueError(f"no start image for {start}")  # (an animation's frame is carried, not made)
    return image if noise_ratio is None else noise_ratio * noise + (1 - noise_ratio) * image


def plan_start(scene: Scene, plan: Plan, shape: tuple[int, int]) -> Tensor:
    """The plan's start at ``shape``."""
    settings = plan.settings
    return start_image(
        scene,
        plan.start,
        shape,
        random_seed=settings.random_seed,
        noise_ratio=settings.noise_ratio,
        file=plan.start_file,
    )


def _collage(scene: Scene, random_seed: int) -> Tensor:
    """The doodle filled with pieces of the painting cut where it has the same labels, or, for a
    texture, the painting quilted anew (:class:`~doodle.collage.Collage`), at full size; with guides,
    the painting's pixels put where the guides and labels say (:func:`~doodle.synthesis.synthesize`).
    -> ``(1, 3, H, W)``."""
    if scene.target_guides is not None and scene.paintings is None:
        generator = torch.Generator().manual_seed(random_seed)
        image, _ = synthesize(
            scene.style[0], scene.pixel_guides(LABEL_WEIGHT), scene.shape, DEFAULT_SYNTHESIS, generator=generator
        )
        return image[None].clamp(0, 1)
    texture = scene.target_labels is None
    if scene.paintings is not None or (texture and scene.content is not None):
        raise DoodleError("`seed='collage'` needs one painting, and with a `content` photo a `target_map`")
    if texture:
        painting_labels, labels = torch.ones(1, *scene.style.shape[-2:]), torch.ones(1, 1, *scene.shape)
    else:
        painting_labels, labels = scene.style_labels[0].cpu(), scene.target_labels.cpu()
    collage = Collage(scene.style[0].cpu(), painting_labels, layout=not texture)
    return collage(labels, torch.Generator().manual_seed(random_seed))


def _rendered(scene: Scene, path: Path, random_seed: int) -> Tensor:
    """The doodle painted by a trained painter (``doodle train``), at full size. -> ``(1, 3, H, W)``."""
    trained = TrainedPainter.load(path)
    if scene.target_labels is None:
        raise DoodleError(f"`seed` {path}: a trained painter paints doodles; give `target_map`")
    trained.check_palette(scene.palette, name=f"`seed` {path}", whose="the style map's")
    return trained.render(scene.target_labels, seed=random_seed)
