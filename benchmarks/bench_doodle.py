"""Benchmark a doodle run: seconds per phase, per-iteration network / matching / other, peak RSS, quality.

Uses the real HED VGG16 trunk and paintings in ../shared. Run from the repository root:

    python benchmarks/bench_doodle.py --size 256x192
    python benchmarks/bench_doodle.py --pair Renoir:Landscape --size 512x320 --iterations 50

Figures are for one process on this machine; compare ratios inside one run, not across runs.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

import semantic_maps
from doodle import PaintSettings, build_scene, load_vgg, paint_scene
from doodle import mrf as mrf_module
from doodle.images import to_pil
from doodle.quality import label_agreement
from doodle.settings import parse_size

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _time_searches(totals: dict) -> None:
    """Count the seconds spent in patch searches (``MRFLoss.match``), whatever matcher runs inside."""
    original = mrf_module.MRFLoss.match

    def timed(self, features):
        start = time.perf_counter()
        result = original(self, features)
        totals["matching"] += time.perf_counter() - start
        totals["matches"] += 1
        return result

    mrf_module.MRFLoss.match = timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pair", default="Monet:Coastline", help="STYLE:DOODLE names in ../shared/data")
    parser.add_argument("--size", default="512x384", help="output WIDTHxHEIGHT")
    parser.add_argument("--iterations", type=int, default=PaintSettings.iterations)
    parser.add_argument("--phases", type=int, default=PaintSettings.phases)
    parser.add_argument("--match-every", type=int, default=PaintSettings.match_every)
    parser.add_argument("--output", help="also save the result here")
    args = parser.parse_args()
    weights = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
    if not weights.is_file():
        print(f"error: {weights} not found; the benchmark needs ../shared", file=sys.stderr)
        return 1
    style_name, doodle_name = args.pair.split(":")
    data = SHARED / "data"
    painting = data / "paintings" / f"{style_name}.jpg"
    style_map = semantic_maps.read_map(data / "maps" / f"{style_name}_sem.png")
    doodle_map = semantic_maps.read_map(data / "maps" / f"{doodle_name}_sem.png")
    settings = PaintSettings(output_size=parse_size(args.size), iterations=args.iterations, phases=args.phases,
                             match_every=args.match_every)
    network = load_vgg(weights=weights)
    scene = build_scene(painting, style_map=style_map, target_map=doodle_map, output_size=settings.output_size)

    totals = {"matching": 0.0, "matches": 0}
    _time_searches(totals)
    phases: dict[int, dict] = {}

    def record(step) -> None:
        phases[step.phase] = dict(step.seconds, size=step.size, iterations=step.iteration,
                                  matching=totals["matching"], matches=totals["matches"])

    print(f"{style_name} -> {doodle_name}, {args.size}, {settings.phases} phases x {settings.iterations} iterations, "
          f"match every {settings.match_every}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    start = time.perf_counter()
    image = paint_scene(scene, settings, network, callback=record)
    total = time.perf_counter() - start
    previous_matching = 0.0
    print(f"{'phase':>5} {'size':>9} {'seconds':>8} {'it/s':>6} {'net s/it':>9} {'match s/it':>10} "
          f"{'other s/it':>10} {'match/net':>9}")
    for number, p in sorted(phases.items()):
        matching = p["matching"] - previous_matching
        previous_matching = p["matching"]
        per = p["iterations"]
        other = p["total"] - p["network"] - matching
        print(f"{number:>5} {p['size'][0]:>4}x{p['size'][1]:<4} {p['total']:>8.1f} {per / p['total']:>6.2f} "
              f"{p['network'] / per:>9.3f} {matching / per:>10.3f} {other / per:>10.3f} "
              f"{matching / max(p['network'], 1e-9):>9.2f}")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    result = to_pil(image)
    agreement = label_agreement(network, result, painting, style_map, doodle_map)
    print(f"total {total:.1f} s, peak RSS {peak_rss:.2f} GB, {totals['matches']} searches")
    print("quality (share of each region that looks like its own label): "
          + " ".join(f"{semantic_maps.to_hex(c)}={a:.2f}" for c, a in
                     zip(semantic_maps.shared_palette(style_map, doodle_map)[0], agreement.diagonal()))
          + f"  min={agreement.diagonal().min():.2f}")
    if args.output:
        result.save(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
