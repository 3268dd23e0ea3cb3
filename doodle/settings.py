"""All the knobs of one painting, in one frozen dataclass; validated once, here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import DoodleError

__all__ = ["PaintSettings", "StyleLoss", "parse_size", "DEFAULT_MRF_LAYERS", "DEFAULT_GRAM_LAYERS"]

StyleLoss = Literal["mrf", "gram", "both"]
DEFAULT_MRF_LAYERS = ("relu2_1", "relu3_1", "relu4_1")
DEFAULT_GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def parse_size(text: str) -> tuple[int, int]:
    """``'512x384'`` -> ``(512, 384)`` as (width, height)."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise DoodleError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 512x384") from None
    if width < 16 or height < 16:
        raise DoodleError(f"size {text!r} is too small; use at least 16x16")
    return width, height


@dataclass(frozen=True)
class PaintSettings:
    """How to paint. Every field has a default that works; see ``doodle paint --help``.

    ``output_size`` is (width, height); ``None`` means the target map's or content's size (or the
    style's in texture synthesis). ``style_loss`` ``None`` means ``"mrf"``, or ``"both"`` in texture
    synthesis (patches alone collapse onto a few regions of the painting; the Gram term keeps its
    mix). Layers accept ``relu4_1``, ``conv4_1`` or the short ``4_1``. ``precision`` ``auto`` runs
    the network in float16 on CUDA (with loss scaling) and in float32 elsewhere.
    """

    output_size: tuple[int, int] | None = None
    phases: int = 3
    iterations: int = 100
    style_loss: StyleLoss | None = None
    style_layers: tuple[str, ...] | None = None
    content_layers: tuple[str, ...] = ("relu4_2",)
    style_weight: float = 1.0
    content_weight: float = 0.5
    semantic_weight: float = 2.0
    smoothness: float = 2.0
    style_scale: float = 1.0
    allow_missing_labels: bool = False
    patch_size: int = 3
    match_every: int = 10
    matcher: Literal["exact", "fast"] = "fast"
    optimizer: Literal["lbfgs", "adam"] = "lbfgs"
    seed: str | Path = "auto"
    random_seed: int = 0
    model: Literal["vgg16", "vgg19"] | None = None
    weights: str | Path | None = None
    preprocess: Literal["torchvision", "caffe"] | None = None
    pooling: Literal["avg", "max"] = "avg"
    device: str = "auto"
    precision: Literal["auto", "float32", "float16"] = "auto"

    def __post_init__(self) -> None:
        checks = [
            (self.phases >= 1, f"phases must be at least 1, got {self.phases}"),
            (self.iterations >= 1, f"iterations must be at least 1, got {self.iterations}"),
            (self.style_loss in (None, "mrf", "gram", "both"), f"style loss {self.style_loss!r} is not mrf, gram or both"),
            (self.optimizer in ("lbfgs", "adam"), f"optimizer {self.optimizer!r} is not lbfgs or adam"),
            (self.patch_size in (1, 3, 5), f"patch size must be 1, 3 or 5, got {self.patch_size}"),
            (self.matcher in ("exact", "fast"), f"matcher {self.matcher!r} is not exact or fast"),
            (self.match_every >= 1, f"match every must be at least 1, got {self.match_every}"),
            (self.style_scale > 0, f"style scale must be positive, got {self.style_scale}"),
            (self.precision in ("auto", "float32", "float16"),
             f"precision {self.precision!r} is not auto, float32 or float16"),
            (self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:"),
             f"device {self.device!r} is not auto, cpu, cuda or mps"),
        ]
        for name in ("style_weight", "content_weight", "semantic_weight", "smoothness"):
            value = getattr(self, name)
            checks.append((value >= 0, f"{name.replace('_', ' ')} must be 0 or more, got {value}"))
        for ok, message in checks:
            if not ok:
                raise DoodleError(message)

    def replace(self, **changes) -> "PaintSettings":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def for_mode(self, mode: str) -> "PaintSettings":
        """These settings with the mode's default style loss filled in."""
        if self.style_loss is not None:
            return self
        return self.replace(style_loss="both" if mode == "texture synthesis" else "mrf")

    def mrf_layers(self) -> tuple[str, ...]:
        if self.style_loss == "gram":
            return ()
        return self.style_layers or DEFAULT_MRF_LAYERS

    def gram_layers(self) -> tuple[str, ...]:
        if self.style_loss in (None, "mrf"):
            return ()
        return self.style_layers or DEFAULT_GRAM_LAYERS
