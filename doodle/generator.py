"""A feed-forward painter: a small U-Net that turns a label map into one painting's style.

It paints over a *collage* (:class:`~doodle.collage.Collage`): the doodle filled, label by label,
with blocks of the painting itself. At each of four scales the network reads the label map, the
collage and a few channels of fresh noise (as Ulyanov et al.'s texture networks), all
average-pooled to that scale, and its output is added to the collage: the painting's own brush
strokes come from the collage, and what the network learns is to mend the seams between blocks and
paint the edges between regions as the painting does. It has no normalisation layers, so an output
pixel depends on the labels, collage and noise around it, not on the whole doodle's label
proportions: the painter renders any size in the painting's brush scale. 0.21 M parameters (0.8 MB)
for five labels.
"""

from __future__ import annotations

import os
from copy import deepcopy as copy_module
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

import semantic_maps

from .budget import available_memory
from .collage import Collage
from .devices import network_dtype
from .errors import DoodleError, map_errors
from .images import ImageInput, load_rgb, resize, save_atomic, to_pil, write_via_temporary
from .settings import MIN_SIZE

__all__ = ["Generator", "TrainedPainter", "render_to_file", "FORMAT", "FORMAT_VERSION"]

FORMAT = "doodle painter"  # the kind of file, so another .pt file is named as such
FORMAT_VERSION = 2  # 2: the painter paints over a collage of the painting, which the file holds

NOISE_CHANNELS = 4
# Peak bytes a pixel of a render adds (the network's activations, the collage, the image), measured
# as peak RSS at 512x512 to 2048x2048 (420 to 240 bytes a pixel with 4 labels): the larger, for a margin.
_RENDER_BYTES_PER_PIXEL = 400


def _block(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, padding=1, padding_mode="replicate"),
        nn.LeakyReLU(0.2),
        nn.Conv2d(outputs, outputs, 3, padding=1, padding_mode="replicate"),
        nn.LeakyReLU(0.2),
    )


class Generator(nn.Module):
    """Label map + collage + noise -> RGB image, in ``[0, 1]`` once trained (the output is not
    clamped: the training loss penalises values outside, as ``doodle paint``'s does;
    :meth:`TrainedPainter.render` clamps). Untrained, it returns the collage.

    Parameters
    ----------
    labels : int
        ``K``, the painting's number of labels.
    width : int
        Channels at full resolution; they double at each of the three coarser scales.

    Shape: ``forward(labels (B, K, H, W), noise, collage (B, 3, H, W)) -> (B, 3, H, W)``, with
    ``H`` and ``W`` any sizes (scales are rounded); ``noise`` is a list of
    ``(B, NOISE_CHANNELS, h_s, w_s)`` tensors from :meth:`noise`.
    """

    scales = 4

    def __init__(self, labels: int, width: int = 8) -> None:
        super().__init__()
        self.labels, self.width = labels, width
        extra = labels + 3 + NOISE_CHANNELS  # at every scale: labels, collage, noise
        channels = [width * 2**s for s in range(self.scales)]  # 8, 16, 32, 64 by default
        self.down = nn.ModuleList(
            [_block(extra + (channels[s - 1] if s else 0), channels[s]) for s in range(self.scales)]
        )
        self.middle = _block(channels[-1], channels[-1])
        self.up = nn.ModuleList([_block(channels[s + 1] + channels[s], channels[s]) for s in range(self.scales - 1)])
        self.to_rgb = nn.Conv2d(channels[0], 3, 1)
        nn.init.zeros_(self.to_rgb.weight)  # untrained, the painter paints the collage
        nn.init.zeros_(self.to_rgb.bias)

    def noise(self, labels: Tensor, generator: torch.Generator | None = None) -> list[Tensor]:
        """Fresh uniform noise in ``[-1, 1]`` at every scale for ``labels (B, K, H, W)``."""
        shapes = _scale_shapes(tuple(labels.shape[-2:]), self.scales)
        batch = labels.shape[0]
        return [
            (torch.rand((batch, NOISE_CHANNELS) + shape, generator=generator) * 2 - 1).to(labels.device)
            for shape in shapes
        ]

    def forward(self, labels: Tensor, noise: list[Tensor], collage: Tensor) -> Tensor:
        shapes = _scale_shapes(tuple(labels.shape[-2:]), self.scales)
        guide = torch.cat([labels, collage], dim=1)
        skips, x = [], None
        for s, (block, shape) in enumerate(zip(self.down, shapes, strict=True)):
            pooled = guide if s == 0 else F.adaptive_avg_pool2d(guide, shape)
            inputs = [pooled, noise[s]] if x is None else [F.adaptive_avg_pool2d(x, shape), pooled, noise[s]]
            x = block(torch.cat(inputs, dim=1))
            skips.append(x)
        x = x + self.middle(x)
        for s in reversed(range(self.scales - 1)):
            x = F.interpolate(x, size=shapes[s], mode="bilinear", align_corners=False)
            x = self.up[s](torch.cat([x, skips[s]], dim=1))
        return collage + self.to_rgb(x)  # unbounded: training keeps it in [0, 1] (a sigmoid saturates)


def _paints_finite(generator: Generator) -> bool:
    """Whether ``generator`` paints finite values (a flat map of each label in turn, at the smallest size,
    in float32): weights that are finite but huge overflow (every weight x 1e30 painted black)."""
    labels = torch.eye(generator.labels)[:, :, None, None].expand(-1, -1, MIN_SIZE, MIN_SIZE)
    random = torch.Generator().manual_seed(0)
    with torch.no_grad():
        image = generator(
            labels, generator.noise(labels, random), torch.full((generator.labels, 3, MIN_SIZE, MIN_SIZE), 0.5)
        )
    return bool(torch.isfinite(image).all())


def _as_bytes(values: Tensor) -> Tensor:
    """Values in ``[0, 1]`` (or uint8 already) as uint8."""
    if values.dtype == torch.uint8:
        return values
    return (values.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8)


def _scale_shapes(shape: tuple[int, int], scales: int) -> list[tuple[int, int]]:
    """``(H, W)``, then halved (rounded up) at each coarser scale."""
    shapes = [shape]
    for _ in range(scales - 1):
        shapes.append(((shapes[-1][0] + 1) // 2, (shapes[-1][1] + 1) // 2))
    return shapes


@dataclass
class TrainedPainter:
    """A trained generator and what it was trained on: the painting's ``palette (K, 3)`` uint8, the
    painting ``(3, Hs, Ws)`` in ``[0, 1]`` and its ``painting_labels (K, Hs, Ws)`` at the scale it
    paints (the collage is cut from them), the training ``settings`` (a dict of
    :class:`~doodle.settings.PaintSettings` fields and the training options) and the ``steps``
    done. ``optimiser`` holds the optimiser's state for ``--resume`` (empty in a file saved for
    rendering only)."""

    generator: Generator
    palette: np.ndarray
    painting: Tensor
    painting_labels: Tensor
    settings: dict
    steps: int = 0
    optimiser: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # As the file holds them (8 bits), so a painter paints the same before and after saving.
        self.painting = _as_bytes(self.painting).float() / 255
        self.painting_labels = _as_bytes(self.painting_labels).float() / 255

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (a temporary file in the same folder, then a rename)."""
        path = Path(path)
        if not path.parent.is_dir():
            raise DoodleError(f"{path}: output folder {path.parent} does not exist")
        state = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "labels": self.generator.labels,
            "width": self.generator.width,
            "weights": self.generator.state_dict(),
            "palette": torch.from_numpy(self.palette.astype(np.uint8)),
            "painting": _as_bytes(self.painting),  # 8 bits a channel: a file of about a megabyte
            "painting_labels": _as_bytes(self.painting_labels),
            "settings": self.settings,
            "steps": self.steps,
            "optimiser": self.optimiser,
        }
        return write_via_temporary(lambda stream: torch.save(state, stream), path, path.parent, f".{path.stem}.", ".pt")

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedPainter:
        """Read a file written by :meth:`save`; anything else is a one-line :class:`DoodleError`."""
        path = Path(path)
        if not path.is_file():
            raise DoodleError(f"{path}: painter file not found")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch.load raises many kinds for a file that is not its own
            raise DoodleError(f"{path}: not a painter file made by `doodle train` ({type(error).__name__})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise DoodleError(f"{path}: not a painter file made by `doodle train`")
        if state.get("version") != FORMAT_VERSION:
            raise DoodleError(
                f"{path}: a painter file of format version {state.get('version')}; this doodle reads version "
                f"{FORMAT_VERSION}: train it again with this version"
            )
        try:
            for name, value in state["weights"].items():  # a file is input from anyone: NaN paints black
                if not bool(torch.isfinite(value).all()):
                    raise DoodleError(f"{path}: damaged painter file (its weights {name} hold NaN or infinite values)")
            generator = Generator(int(state["labels"]), int(state["width"]))
            generator.load_state_dict(state["weights"])
            palette = state["palette"].numpy().astype(np.uint8).reshape(-1, 3)
            painting, painting_labels = state["painting"], state["painting_labels"]
            if (
                painting.dim() != 3
                or painting.shape[0] != 3
                or painting_labels.shape != (len(palette),) + painting.shape[1:]
            ):
                raise ValueError("the painting and its labels do not fit the palette")
            if not bool(torch.isfinite(painting).all()):
                raise ValueError("the painting holds NaN or infinite values")
            settings, steps, optimiser = dict(state["settings"]), int(state["steps"]), dict(state["optimiser"])
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as error:
            detail = f": {str(error).splitlines()[0][:120]}" if isinstance(error, ValueError | KeyError) else ""
            raise DoodleError(f"{path}: damaged painter file ({type(error).__name__}{detail})") from None
        generator.eval().requires_grad_(False)
        if not _paints_finite(generator):
            raise DoodleError(f"{path}: damaged painter file (its weights are out of range: it paints NaN or infinity)")
        return cls(generator, palette, painting, painting_labels, settings, steps, optimiser)

    @property
    def collage(self) -> Collage:
        """The :class:`~doodle.collage.Collage` of this painter's painting (made once)."""
        if getattr(self, "_collage", None) is None:
            self._collage = Collage(self.painting, self.painting_labels)
        return self._collage

    def paints(self, palette: np.ndarray | None) -> bool:
        """Whether this painter's labels are ``palette``'s ``(K, 3)``, in the same order."""
        return palette is not None and palette.shape == self.palette.shape and bool((palette == self.palette).all())

    def check_palette(self, palette: np.ndarray | None, *, name: str, whose: str) -> None:
        """A :class:`DoodleError` naming both palettes unless this painter :meth:`paints` ``palette``."""
        if not self.paints(palette):
            ours = " ".join(semantic_maps.to_hex(c) for c in self.palette)
            theirs = "none" if palette is None else " ".join(semantic_maps.to_hex(c) for c in palette)
            raise DoodleError(f"{name}: that painter's labels ({ours}) are not {whose} ({theirs})")

    def render(self, labels: Tensor, *, seed: int = 0) -> Tensor:
        """One forward pass. ``labels (1, K, H, W)`` -> image ``(1, 3, H, W)`` in ``[0, 1]``.

        In bfloat16 on a CPU that has it natively, float16 on CUDA (as ``doodle paint``'s network
        with ``precision='auto'``), else float32.
        """
        device = next(self.generator.parameters()).device
        dtype = network_dtype("auto", device)
        model = self._inference_copy(device, dtype)
        random = torch.Generator().manual_seed(seed)
        collage, noise = self.collage(labels, random), self.generator.noise(labels, random)
        labels, collage, *noise = (
            x.to(device, dtype).contiguous(memory_format=torch.channels_last) for x in [labels, collage, *noise]
        )
        with torch.no_grad():
            return model(labels, noise, collage).float().clamp(0, 1).cpu().contiguous()  # (not channels-last)

    def _inference_copy(self, device: torch.device, dtype: torch.dtype) -> nn.Module:
        """The generator cast to ``dtype`` and channels-last, made once (a third faster than autocast)."""
        key = (device, dtype, self.steps, id(self.generator))
        if getattr(self, "_copy_key", None) != key:
            copy = copy_module(self.generator).requires_grad_(False).eval()
            self._copy = copy.to(device, dtype).to(memory_format=torch.channels_last)
            self._copy_key = key
        return self._copy

    def labels_of(self, doodle: ImageInput, *, shape: tuple[int, int] | None = None, name: str = "map") -> Tensor:
        """A doodle's label weights, its colours checked against the painter's palette (as
        ``doodle paint`` checks a doodle against the painting's map). -> ``(1, K, H, W)``, at
        ``shape = (H, W)`` if given."""
        rgb = np.asarray(load_rgb(doodle, what="map"))
        with map_errors():
            missing = semantic_maps.missing_labels(self.palette, rgb, target_name=name)
        if len(missing):
            known = " ".join(semantic_maps.to_hex(c) for c in self.palette)
            raise DoodleError(
                f"{name}: label colour {semantic_maps.to_hex(missing[0])} is not one of this painter's "
                f"labels ({known}); repaint it with one of those"
            )
        labels = torch.from_numpy(semantic_maps.encode_labels(rgb, self.palette))[None]
        return labels if shape is None else resize(labels, shape)

    def paint(self, doodle: ImageInput, *, size: tuple[int, int] | None = None, seed: int = 0) -> Image.Image:
        """Render a doodle (a path, PIL image or array) at ``size = (width, height)`` (default: its own),
        refused before anything large is allocated when it is too small, or too large for the memory."""
        name = str(doodle) if isinstance(doodle, (str, os.PathLike)) else "map"
        rgb = np.asarray(load_rgb(doodle, what="map"))
        shape = rgb.shape[:2] if size is None else (size[1], size[0])
        self.check_size(shape, name=name if size is None else "`output_size`")
        labels = self.labels_of(rgb, shape=shape, name=name)
        return to_pil(self.render(labels, seed=seed))

    def check_size(self, shape: tuple[int, int], *, name: str) -> None:
        """A :class:`DoodleError` naming ``name`` unless a render of ``shape = (H, W)`` is at least
        :data:`~doodle.settings.MIN_SIZE` a side and fits in the memory free on the painter's device."""
        height, width = shape
        if min(shape) < MIN_SIZE:
            raise DoodleError(f"{name}: {width}x{height} is too small to paint (at least {MIN_SIZE}x{MIN_SIZE})")
        device = next(self.generator.parameters()).device
        per_pixel = _RENDER_BYTES_PER_PIXEL + 16 * len(self.palette)  # (the labels, the collage's canvas)
        need, free = height * width * per_pixel, available_memory(device)
        if need > 0.9 * free:
            side = (0.9 * free / need) ** 0.5
            raise DoodleError(
                f"{name}: rendering {width}x{height} needs about {need / 1e9:.1f} GB, and {free / 1e9:.1f} GB is "
                f"free; use a smaller `output_size` (about {int(width * side)}x{int(height * side)} fits)"
            )


def render_to_file(
    painter_file: str | os.PathLike, target_map: ImageInput, output: str | os.PathLike, settings
) -> Image.Image:
    """``target_map`` rendered by the painter in ``painter_file`` at ``settings.output_size`` (default:
    the map's), with ``settings.random_seed`` on ``settings.device``, and written to ``output``
    atomically with its record (`doodle render`, and a batch's render jobs). -> the image."""
    from .devices import resolve_device
    from .provenance import job_record, with_record

    painter = TrainedPainter.load(painter_file)
    painter.generator.to(resolve_device(settings.device))
    image = painter.paint(target_map, size=settings.output_size, seed=settings.random_seed)
    record = job_record("render", settings, dict(painter=painter_file, target_map=target_map))
    save_atomic(with_record(image, record), output)
    return image
