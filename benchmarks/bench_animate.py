"""`doodle animate`'s figures: flicker, cost and quality of coherent painting against independent
frames, each part of the coherence on its own, in one run.

The sample animation (samples/rising_rock: three keyframes, ``--between`` in-betweens) in the style
of samples/seaside.png, with the HED VGG16 in ../shared, painted as:

- independent: every frame painted as a first frame, from its own start;
- start: each later frame a short paint from the frame before, carried by the maps' motion;
- start+matches: also its patch search started from the frame before's matches;
- start+temporal: also pulled toward the carried frame before (``--temporal-weight``);
- all: the three, as `doodle animate` paints.

Flicker: mean absolute change (0..255) between consecutive frames over the pixels whose label did
not change, at least 6 pixels from any label edge. Cost: the later frames' mean seconds against the
first frame's. Quality: `doodle/quality.py`'s worst region and mean of regions of every frame,
averaged over frames.

    python benchmarks/bench_animate.py --between 3 --keep /tmp/animate     # ~12 min on 2 CPU cores
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT.parent / "shared" / "weights" / "vgg16_hed_caffe_fp16.pth"
EDGE = 6  # pixels kept away from label edges
# name: (temporal weight, matches seeded from the frame before, every frame painted alone)
CONFIGS = {
    "independent": (0.0, False, True),
    "start": (0.0, False, False),
    "start+matches": (0.0, True, False),
    "start+temporal": (None, False, False),
    "all": (None, True, False),
}


def flicker(frames: list[np.ndarray], maps: list[np.ndarray]) -> float:
    """Mean absolute change between consecutive frames where the label stayed, away from edges."""
    changes = []
    for before, after, map_before, map_after in zip(frames, frames[1:], maps, maps[1:], strict=False):
        edges = np.zeros(map_after.shape[:2], bool)
        for axis in (0, 1):
            edges |= (np.diff(map_after.astype(int), axis=axis, prepend=0) != 0).any(axis=-1)
        still = ~ndimage.binary_dilation(edges | (map_before != map_after).any(axis=-1), iterations=EDGE)
        changes.append(np.abs(after.astype(float) - before.astype(float))[still].mean())
    return float(np.mean(changes))


def pan_flicker(frames: list[np.ndarray]) -> float:
    """Mean absolute change between consecutive frames of the pan sample, each pixel against where it
    was in the frame before (the pan's known step), away from the edges."""
    sys.path.insert(0, str(ROOT / "samples"))
    from make_samples import PAN_STEP

    down, right = PAN_STEP
    changes = [
        np.abs(after[EDGE : -EDGE - down, EDGE : -EDGE - right].astype(float)
               - before[EDGE + down : -EDGE, EDGE + right : -EDGE].astype(float)).mean()
        for before, after in zip(frames, frames[1:], strict=False)
    ]  # fmt: skip
    return float(np.mean(changes))


def _paint_independently(painter, style, maps, contents, folder: Path, on_frame) -> list[Path]:
    """Every frame painted as a first frame, from its own start (no ties to the frame before)."""
    count = len(contents) if contents is not None else len(maps)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index in range(count):
        on_frame(index, count)
        result = painter.paint(
            style,
            target_map=maps[index] if maps else None,
            content=None if contents is None else contents[index],
        )
        files.append(folder / f"frame_{index + 1:04d}.png")
        result.save(files[-1])
    return files


@contextlib.contextmanager
def _matches_withheld(withheld: bool):
    """With ``withheld``, every later frame's patch search starts afresh, not from the frame before's matches."""
    import doodle.animation

    original = doodle.animation.guide_from
    if withheld:
        doodle.animation.guide_from = lambda *args, **kwargs: original(*args, **{**kwargs, "matches": None})
    try:
        yield
    finally:
        doodle.animation.guide_from = original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--between", type=int, default=3)
    parser.add_argument("--keep", help="a folder to keep the frames in")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="which ways to paint, of " + ", ".join(CONFIGS))
    parser.add_argument("--weight", type=float, help="the temporal weight where one is used (default: animate's)")
    parser.add_argument("--clip", action="store_true", help="the style transfer of a clip: the astronaut pan sample")
    parser.add_argument("--finish", choices=("pixels", "neural"), help="the paint's finish (default: the plan's)")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    import semantic_maps
    from doodle import Painter
    from doodle.animation import TEMPORAL_WEIGHT, frame_paths, paint_frames, read_clip, read_maps, with_in_betweens
    from doodle.images import load_rgb
    from doodle.quality import label_agreement

    folder = Path(args.keep or tempfile.mkdtemp())
    contents, options = None, {}
    if args.clip:  # the README's clip sample: Starry Night's brush strokes at half scale
        maps, contents = [], read_clip([ROOT / "samples" / "astronaut_pan"])
        style = ROOT.parent / "shared" / "data" / "paintings" / "starry_night.jpg"
        options = dict(style_scale=0.5)
    else:
        maps = read_maps(frame_paths([ROOT / "samples" / "rising_rock"]))
        maps = with_in_betweens(maps, args.between, semantic_maps.find_palette(np.concatenate(maps, axis=1)))
        style = ROOT / "samples" / "seaside.png"
        painting_map = semantic_maps.read_map(ROOT / "samples" / "seaside_sem.png")
    results = {}
    for name in args.configs.split(","):
        weight, seeded, independent = CONFIGS[name]
        painter = Painter(weights=WEIGHTS, finish=args.finish, **options)
        seconds = []

        def on_frame(index: int, count: int, seconds=seconds) -> None:
            seconds.append(time.perf_counter())

        if independent:
            files = _paint_independently(painter, style, maps, contents, folder / name, on_frame)
        else:
            with _matches_withheld(not seeded):
                files = paint_frames(
                    painter,
                    style,
                    None,
                    maps,
                    folder / name,
                    contents=contents,
                    temporal_weight=(args.weight or TEMPORAL_WEIGHT) if weight is None else weight,
                    on_frame=on_frame,
                )
        seconds.append(time.perf_counter())
        times = np.diff(seconds)
        frames = [np.asarray(load_rgb(f)) for f in files]
        results[name] = result = dict(first=times[0], later=times[1:].mean())
        line = f"{name:16} first frame {times[0]:6.1f} s   later frames {times[1:].mean():6.1f} s "
        line += f"({times[1:].mean() / times[0]:.2f} of the first)"
        if args.clip:
            result["flicker"] = pan_flicker(frames)
        else:
            agreements = [
                label_agreement(painter.network, frame, load_rgb(style), painting_map, doodle)
                for frame, doodle in zip(frames, maps, strict=True)
            ]
            present = [a.diagonal()[a.sum(axis=1) > 0] for a in agreements]
            result.update(
                flicker=flicker(frames, maps),
                worst=np.mean([p.min() for p in present]),
                mean=np.mean([p.mean() for p in present]),
            )
            line += f"   quality worst {result['worst']:.3f} mean {result['mean']:.3f}"
        print(f"{line}   flicker {result['flicker']:6.2f}", flush=True)
    if "independent" in results:
        alone = results["independent"]
        for name, result in results.items():
            if name == "independent":
                continue
            line = (
                f"{name:16} flicker, independent / this: {alone['flicker'] / result['flicker']:5.2f} (goal >= 3)   "
                f"later / first frame: {result['later'] / result['first']:.2f} (goal <= 0.35)"
            )
            if "worst" in result:
                line += (
                    f"   quality against independent: worst {100 * (result['worst'] / alone['worst'] - 1):+.1f} %, "
                    f"mean {100 * (result['mean'] / alone['mean'] - 1):+.1f} % (goal within 2 %)"
                )
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
