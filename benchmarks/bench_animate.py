"""`doodle animate`'s figures: flicker and cost of coherent painting against independent frames, in one run.

The sample animation (samples/rising_rock: three keyframes, ``--between`` in-betweens) in the style
of samples/seaside.png, with the HED VGG16 in ../shared:

- coherent: as `doodle animate` paints (each later frame from the one before it);
- independent: every frame painted as a first frame, from its own start;
- flicker: mean absolute change (0..255) between consecutive frames over the pixels whose label did
  not change, at least 6 pixels from any label edge;
- cost: each later frame's seconds against the first frame's (coherent painting);
- quality: `doodle/quality.py`'s worst region and mean of regions of every frame, averaged over frames.

    python benchmarks/bench_animate.py --between 3 --keep /tmp/animate     # ~6 min on 2 CPU cores
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT.parent / "shared" / "weights" / "vgg16_hed_caffe_fp16.pth"
EDGE = 6  # pixels kept away from label edges


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--between", type=int, default=3)
    parser.add_argument("--keep", help="a folder to keep the frames in")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    import semantic_maps
    from doodle import Painter
    from doodle.animation import frame_paths, paint_frames, read_maps, with_in_betweens
    from doodle.images import load_rgb
    from doodle.quality import label_agreement

    paths = frame_paths([ROOT / "samples" / "rising_rock"])
    maps = read_maps(paths)
    palette = semantic_maps.find_palette(np.concatenate(maps, axis=1))
    maps = with_in_betweens(maps, args.between, palette)
    folder = Path(args.keep or tempfile.mkdtemp())
    style = ROOT / "samples" / "seaside.png"
    painting_map = semantic_maps.read_map(ROOT / "samples" / "seaside_sem.png")
    results = {}
    for name, independent in (("coherent", False), ("independent", True)):
        painter = Painter(weights=WEIGHTS)
        seconds = []

        def on_frame(index: int, count: int, seconds=seconds) -> None:
            seconds.append(time.perf_counter())

        files = paint_frames(painter, style, None, maps, folder / name, independent=independent, on_frame=on_frame)
        seconds.append(time.perf_counter())
        times = np.diff(seconds)
        frames = [np.asarray(load_rgb(f)) for f in files]
        agreements = [
            label_agreement(painter.network, frame, load_rgb(style), painting_map, doodle)
            for frame, doodle in zip(frames, maps, strict=True)
        ]
        present = [a.diagonal()[a.sum(axis=1) > 0] for a in agreements]
        worst, mean = np.mean([p.min() for p in present]), np.mean([p.mean() for p in present])
        results[name] = dict(
            flicker=flicker(frames, maps), first=times[0], later=times[1:].mean(), worst=worst, mean=mean
        )
        print(
            f"{name:12} flicker {results[name]['flicker']:6.2f}   first frame {times[0]:6.1f} s   "
            f"later frames {times[1:].mean():6.1f} s ({times[1:].mean() / times[0]:.2f} of the first)   "
            f"quality worst {worst:.3f} mean {mean:.3f}",
            flush=True,
        )
    ratio = results["independent"]["flicker"] / results["coherent"]["flicker"]
    print(f"flicker, independent / coherent: {ratio:.2f} (goal >= 3)")
    print(f"later frame / first frame (coherent): {results['coherent']['later'] / results['coherent']['first']:.2f} "
          "(goal <= 0.35)")  # fmt: skip
    for key in ("worst", "mean"):
        change = results["coherent"][key] / results["independent"][key] - 1
        print(f"quality, {key} region, coherent against independent: {100 * change:+.1f} % (goal within 2 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
