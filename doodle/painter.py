"""The library's front: :func:`paint` for one image, :class:`Painter` for many from one process.

A paint reads its inputs (:mod:`doodle.inputs`), loads the network once, decides its
:class:`~doodle.plan.Plan`, checks the memory, encodes the inputs (:mod:`doodle.scene`) and paints
the plan's phases (:mod:`doodle.phases`). It returns a :class:`Result`: the image, the notes on its
inputs and what made it; writers attach the record (:meth:`Result.save`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from . import colors
from .budget import check_memory
from .devices import network_dtype, resolve_device
from .errors import Cancelled, DoodleError
from .guides import luminance_weights
from .images import ImageInput, save_atomic, to_pil
from .inputs import Inputs, read_inputs
from .matching import Matches
from .memory import Finished, Memory, style_key, target_of
from .phases import Callback, Step, paint_phases
from .pixels import finish_pixels, pixel_steps
from .plan import WORKING_SIZES, Plan, Start, check_painting_scale, make_plan
from .provenance import job_record, with_record
from .repaint import changed_region, crop_scene, pasted_matches
from .scene import Scene, encode_scene, scene_at
from .settings import PaintSettings
from .starts import plan_start, start_image
from .temporal import FrameGuide
from .vgg import VGGFeatures, load_vgg

_NETWORK_SETTINGS = ("model", "weights", "preprocess", "pooling", "device")  # a painter's own, whatever a paint asks

__all__ = [
    "paint",
    "Painter",
    "paint_scene",
    "plan_scene",
    "record_of",
    "Result",
    "Memory",
    "Step",
    "Callback",
    "load_network",
]


def load_network(settings: PaintSettings) -> VGGFeatures:
    """The settings' network (``model``, ``weights``, ``preprocess``, ``pooling``), on their device."""
    network = load_vgg(settings.model, settings.weights, preprocess=settings.preprocess, pooling=settings.pooling)
    return network.to(resolve_device(settings.device))


@dataclass
class Result:
    """One paint's outcome: ``image`` (RGB), ``notes`` on its inputs (a map resized, labels missing,
    stray specks), the ``plan`` it painted and its ``inputs``. :attr:`record` is what made it;
    :meth:`save` writes the image with it (``doodle info``, ``doodle paint --from`` read it back)."""

    image: Image.Image
    notes: tuple[str, ...]
    plan: Plan
    inputs: Inputs

    @cached_property
    def record(self) -> dict:
        """The record of this paint (its inputs hashed when first asked for)."""
        return record_of(self.inputs, self.plan)

    def recorded(self) -> Image.Image:
        """The image, carrying its record (as a PNG written by :func:`~doodle.images.save_atomic` keeps it)."""
        return with_record(self.image.copy(), self.record)

    def save(self, path: str | Path) -> None:
        """Write the image with its record, atomically."""
        save_atomic(self.recorded(), path)


def record_of(inputs: Inputs, plan: Plan) -> dict:
    """The record of a paint of ``inputs`` by ``plan``: what :meth:`Result.save` writes into the PNG."""
    return job_record("paint", plan.settings, inputs.given, plan=plan, found=inputs.found)


def paint(
    style: ImageInput | Sequence[ImageInput],
    *,
    style_map: ImageInput | Sequence[ImageInput | None] | None = None,
    target_map: ImageInput | None = None,
    content: ImageInput | None = None,
    guides: Sequence[tuple[ImageInput, ImageInput]] | None = None,
    settings: PaintSettings | None = None,
    network: VGGFeatures | None = None,
    callback: Callback | None = None,
    **options,
) -> Result:
    """Paint an image in the style of ``style``: a doodle, a style transfer or a texture.

    Parameters
    ----------
    style : path, PIL image or (H, W, 3) uint8 array, or a list of them
        The painting whose style is used; several are blended (``style_blend`` weighs them).
    style_map, target_map : same types, optional
        Label maps of the style (one per painting) and of the output (the doodle, or the content's
        map). Found beside their images as ``X_sem.png`` when not given.
    content : same types, optional
        A photo whose layout the output keeps.
    guides : list of (source, target) pairs of the same types, optional
        Guide images beside the painting and beside the output, any number of shades (a soft
        segmentation, a render pass, a gradient), weighed by ``guide_weights`` (:mod:`doodle.guides`).
        Without a map or content, the output takes the first target's size.
    settings : PaintSettings, optional; ``**options`` override its fields (e.g. ``iterations=50``).
    network : VGGFeatures, optional
        A loaded network to reuse (then the ``model``, ``weights``, ``preprocess`` and ``pooling``
        settings are not used); by default one is loaded from the settings.
    callback : called with a :class:`Step` after every iteration.

    Returns
    -------
    Result
        ``result.image`` (PIL, RGB), ``result.notes``, ``result.plan``; ``result.save(path)`` writes a
        PNG with the record of what made it.

    Raises
    ------
    DoodleError
        Bad inputs or settings, no weights, or a painting that would not fit in memory (checked
        before anything large is allocated, see :mod:`doodle.budget`).
    PaintingStopped
        The loss stopped being a finite number; its ``image`` is the last good one.

    Example
    -------
    >>> result = doodle.paint("Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png",
    ...                       weights="vgg16_hed_caffe_fp16.pth", output_size=(256, 192))  # doctest: +SKIP
    >>> result.save("coastline.png")  # doctest: +SKIP
    """
    painter = Painter(settings, network=network, **options)
    return painter.paint(
        style, style_map=style_map, target_map=target_map, content=content, guides=guides, callback=callback
    )


def plan_scene(scene: Scene, settings: PaintSettings, network: VGGFeatures) -> Plan:
    """The plan of painting a prepared ``scene`` with ``settings`` on ``network``."""
    paintings = 1 if scene.paintings is None else scene.paintings.shape[1]
    both_stages = luminance_weights(settings.luminance_guide, scene.content is not None)[0]
    made = (settings.position_guide > 0) + (both_stages > 0)
    return make_plan(
        settings,
        mode=scene.mode,
        shape=scene.shape,
        content=scene.content is not None,
        paintings=paintings,
        model=network.model,
        guide_pairs=len(scene.guide_groups) - made,  # (the guides given: those the settings make aside)
    )


def paint_scene(
    scene: Scene, settings: PaintSettings, network: VGGFeatures, *, callback: Callback | None = None
) -> Tensor:
    """Paint a prepared scene (no memory check, no reuse). -> the image ``(1, 3, H, W)`` in ``[0, 1]``
    on the CPU. The network runs on the settings' device and is returned to its own afterwards."""
    plan = plan_scene(scene, settings, network)
    device, home = resolve_device(settings.device), next(network.parameters()).device
    prepared = scene if settings.preserve_colors is None else colors.prepare(scene, settings.preserve_colors)
    try:
        working = scene_at(prepared, plan.working_shape)
        image = paint_phases(working, plan, network.to(device), device, callback=callback)[0]
        if plan.pixels:
            image = finish_pixels(prepared, image, plan, device, progress=pixel_steps(plan, callback))[0]
    finally:
        network.to(home)
    return image if settings.preserve_colors is None else colors.finish(image, scene, settings.preserve_colors)


class Painter:
    """Paints again and again in one process (``doodle watch``, the studio, an animation, a script).

    Keeps the network, and after each paint what it computed of the painting: a paint of the same
    painting at the same size and settings (the random seed aside) reuses the painting's features
    and patch keys; the very same inputs return the last image at once; a doodle changed in a small
    part is painted again only there (:mod:`doodle.repaint`). What is kept (the painting's patch
    keys, about 0.4 GB at 512x384) lives until :meth:`reset` or another painting.

    ``settings`` and ``**options`` as for :func:`paint`: every paint's settings unless the call gives
    its own; ``network`` is loaded on the first paint when not given. The network settings
    (``model``, ``weights``, ``preprocess``, ``pooling``) and ``device`` are those of the painter's.
    ``incremental=False`` paints every doodle whole, as :func:`paint` would (the painting's features
    are still reused): for a batch of jobs, where a small edit is no edit of the one before.
    ``memory_limit`` (bytes): refuse a paint whose estimate exceeds it (a server's own bound), as one
    that exceeds the memory free is refused.

    >>> painter = doodle.Painter(weights="vgg16_hed_caffe_fp16.pth")  # doctest: +SKIP
    >>> first = painter.paint("Monet.jpg", target_map="Coastline_sem.png")  # doctest: +SKIP
    >>> second = painter.paint("Monet.jpg", target_map="Coastline_edited_sem.png")  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: PaintSettings | None = None,
        *,
        network: VGGFeatures | None = None,
        incremental: bool = True,
        memory_limit: int | None = None,
        **options,
    ) -> None:
        self.settings = (settings or PaintSettings()).replace(**options)
        self.device = resolve_device(self.settings.device)
        network_dtype(self.settings.precision, self.device)  # an unavailable device fails before any loading
        self.network, self.incremental, self.memory_limit = network, incremental, memory_limit
        self.memory: Memory | None = None
        # The last network result, its pixel finish and that finish's matches (an animation's next frame's start)
        self.finished: Finished | None = None

    def reset(self) -> None:
        """Forget what was kept of the last paint (the network stays)."""
        self.memory = self.finished = None

    def paint(
        self,
        style: ImageInput | Sequence[ImageInput],
        *,
        style_map: ImageInput | Sequence[ImageInput | None] | None = None,
        target_map: ImageInput | None = None,
        content: ImageInput | None = None,
        guides: Sequence[tuple[ImageInput, ImageInput]] | None = None,
        settings: PaintSettings | None = None,
        callback: Callback | None = None,
        frame: FrameGuide | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Result:
        """Paint the inputs of :func:`paint` with ``settings`` (default: the painter's). ``frame``: ties
        to the frame before, for an animation's later frame (:mod:`doodle.temporal`). ``stop()``: asked
        at each step of the setup and after every iteration; when it says so the paint raises
        :class:`~doodle.errors.Cancelled` (the studio's Stop)."""
        inputs, plan = self.plan(
            style,
            style_map=style_map,
            target_map=target_map,
            content=content,
            guides=guides,
            settings=settings,
            frame=frame,
        )
        if stop is not None and stop():
            raise Cancelled
        check_memory(
            self.network,
            plan,
            inputs.shape,
            inputs.style_shape,
            inputs.side_channels,
            self.device,
            limit=self.memory_limit,
        )
        scene = encode_scene(inputs)
        method = plan.settings.preserve_colors
        if method is None:
            image = self._finished(scene, plan, callback, frame, stop)
        else:
            frame = None if frame is None else colors.prepare_frame(frame, method)
            painted = self._finished(colors.prepare(scene, method), plan, callback, frame, stop)
            image = colors.finish(painted, scene, method)
        return Result(to_pil(image), tuple(inputs.notes), plan, inputs)

    def _finished(
        self,
        scene: Scene,
        plan: Plan,
        callback: Callback | None,
        frame: FrameGuide | None,
        stop: Callable[[], bool] | None,
    ) -> Tensor:
        """The network's stage at the plan's working size, then under a pixel finish the output made of
        the painting's pixels (the last one again when the network's result is the last one's)."""
        image = self._paint(scene_at(scene, plan.working_shape), plan, callback, frame, stop)
        if not plan.pixels:
            return image
        last = self.finished
        if last is not None and last.network is image and last.finish == plan.finish:
            return last.image
        if stop is not None and stop():
            raise Cancelled
        progress = pixel_steps(plan, callback)
        before = None if frame is None or last is None else last.matches
        finished, matches = finish_pixels(
            scene, image, plan, self.device, frame=frame, before=before, progress=progress, stop=stop
        )
        self.finished = Finished(image, plan.finish, finished, matches)
        return finished

    def plan(
        self,
        style: ImageInput | Sequence[ImageInput],
        *,
        style_map: ImageInput | Sequence[ImageInput | None] | None = None,
        target_map: ImageInput | None = None,
        content: ImageInput | None = None,
        guides: Sequence[tuple[ImageInput, ImageInput]] | None = None,
        settings: PaintSettings | None = None,
        frame: FrameGuide | None = None,
    ) -> tuple[Inputs, Plan]:
        """The inputs read and the plan decided of :meth:`paint` with the same arguments, without
        painting (the network is loaded: its layers name the plan's)."""
        network_settings = {name: getattr(self.settings, name) for name in _NETWORK_SETTINGS}
        settings = self.settings if settings is None else settings.replace(**network_settings)
        inputs = read_inputs(
            style, style_map=style_map, target_map=target_map, content=content, guides=guides, settings=settings
        )
        if self.network is None:  # once the inputs are read: their errors come first, then the weights'
            self.network = load_network(self.settings)
        plan = make_plan(
            settings,
            mode=inputs.mode,
            shape=inputs.shape,
            content=inputs.content is not None,
            paintings=inputs.painting_count,
            model=self.network.model,
            follows_frame=frame is not None,
            style_shape=inputs.style_shape,
            guide_pairs=len(inputs.guides),
            temporal_weight=0.0 if frame is None else frame.weight,
        )
        check_painting_scale(plan, inputs.style_shape, inputs.names["style"])
        if settings.working_size is None and plan.pixels and plan.settings.working_size > WORKING_SIZES[plan.mode]:
            inputs.notes.append(
                f"{inputs.names['style']}: small at this output's scale ({inputs.style_shape[1]}x"
                f"{inputs.style_shape[0]}), it is matched at a `working_size` of {plan.settings.working_size} "
                f"(not {WORKING_SIZES[plan.mode]}) to keep its patches"
            )
        if plan.start_file is not None and not plan.start_file.is_file():  # (a keyword mistyped, say)
            raise DoodleError(
                f"{plan.start_file}: seed image file not found; `seed` is auto, noise, content, labels, "
                "collage, an image file or a painter file (.pt)",
                path=plan.start_file,
            )
        return inputs, plan

    def _paint(
        self,
        scene: Scene,
        plan: Plan,
        callback: Callback | None,
        frame: FrameGuide | None,
        stop: Callable[[], bool] | None,
    ) -> Tensor:
        """Paint ``scene`` as ``plan`` says, reusing what the last paint left where it can. -> ``(1, 3, H, W)``."""
        network, settings = self.network, plan.network_settings
        key = style_key(scene, plan, network)
        if self.memory is not None and self.memory.key != key:
            self.memory = None  # another painting: free what was kept before painting it
        start = None  # (1, 3, H, W): the start image, where it is not the plan's
        if frame is not None:
            fresh = None if frame.filled else _fresh_start(scene, settings)
            start = frame.start(fresh)
        same, target, region = self.memory, target_of(scene), None
        from_file = plan.start in (Start.IMAGE, Start.PAINTER)  # a start file may have changed on disk
        if same is not None and same.settings == settings and same.target.shape == target.shape:
            # Deterministic: the same inputs and settings paint the same image (with a start image file,
            # only for an animation's frame: a still one is the frame before).
            if (not from_file or frame is not None) and torch.equal(same.target, target):
                return same.image
            smallest = plan.smallest * 2 ** (settings.phases - 1)  # at the coarsest phase
            region = changed_region(same.target, target, smallest=smallest) if self.incremental else None
        home = next(network.parameters()).device
        try:
            network.to(self.device)
            if region is None:
                previous = None if same is None else same.objectives
                image, objectives, matches = paint_phases(
                    scene,
                    plan,
                    network,
                    self.device,
                    callback=callback,
                    previous=previous,
                    frame=frame,
                    start=start,
                    stop=stop,
                )
                self.memory = Memory(key, objectives, settings, target, image, matches)
                return image
            image, matches = self._repaint(scene, plan, region, callback, frame, start, stop)
            self.memory = Memory(key, same.objectives, settings, target, image, matches)
            return image
        finally:
            network.to(home)

    def _repaint(
        self, scene: Scene, plan: Plan, region, callback, frame, start, stop
    ) -> tuple[Tensor, dict[str, Matches]]:
        """The last image with ``region``'s box painted again, and the matches with the box's pasted in."""
        same = self.memory
        top, left, height, width = box = region.box
        kept = same.image[..., top : top + height, left : left + width]
        if start is None and plan.start == Start.IMAGE:
            start = plan_start(scene, plan, scene.shape)
        if start is not None:  # the start image's own part of the box
            start = start[..., top : top + height, left : left + width]
        part, _, matches = paint_phases(
            crop_scene(scene, box),
            plan.for_shape((height, width)),
            self.network,
            self.device,
            callback=callback,
            previous=same.objectives,
            frame=None if frame is None else frame.cropped(box),
            context=(kept, region.free),
            start=start,
            stop=stop,
        )
        image = same.image.clone()
        image[..., top : top + height, left : left + width] = part
        return image, pasted_matches(same.matches, matches, (top, left))


def _fresh_start(scene: Scene, settings: PaintSettings) -> Tensor:
    """What an animation frame's newly revealed parts start from: the content, the label colours or noise."""
    start = (
        Start.CONTENT if scene.content is not None else Start.LABELS if scene.target_labels is not None else Start.NOISE
    )
    return start_image(scene, start, scene.shape, random_seed=settings.random_seed, noise_ratio=0.0)
