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
from pathlib import Path

import numpy as np
import torch

import semantic_maps
from doodle import PaintSettings, build_scene, load_vgg, paint_scene, plan_scene
from doodle import mrf as mrf_module
from doodle.devices import device_clock, network_dtype, resolve_device
from doodle.images import to_pil
from doodle.objective import Objective
from doodle.quality import label_agreement
from doodle.settings import format_iterations, parse_iterations, parse_size

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"


SEARCHES = {"matching": 0.0, "matches": 0, "evaluating": 0.0, "terms": 0.0}


def _timed(owner, name: str, total: str, count: str | None = None) -> None:
    """Add the seconds every call of ``owner.name`` takes (the device's queued work included) to
    ``SEARCHES[total]``: timing injected here, off the library's own path."""
    original = getattr(owner, name)

    def timed(self, *args):
        start = device_clock(args[0].device)
        result = original(self, *args)
        SEARCHES[total] += device_clock(args[0].device) - start
        if count is not None:
            SEARCHES[count] += 1
        return result

    setattr(owner, name, timed)


def _time_searches() -> None:
    """Count the seconds spent in patch searches (``MRFLoss.match``), whatever matcher runs inside, in
    evaluations of the objective (the network's forward and backward passes, and the terms) and in the
    terms alone."""
    _timed(mrf_module.MRFLoss, "match", "matching", "matches")
    _timed(Objective, "evaluate", "evaluating")
    _timed(Objective, "losses", "terms")


def run(scene, settings: PaintSettings, network, painting, style_map, doodle_map) -> dict:
    """Paint once; print the per-phase table; return total seconds, peak RSS and quality."""
    totals = SEARCHES
    totals.update(matching=0.0, matches=0, evaluating=0.0, terms=0.0)
    phases: dict[int, dict] = {}

    def record(step) -> None:
        phases[step.phase] = dict(
            step.seconds,
            size=step.size,
            iterations=step.iteration,
            matching=totals["matching"],
            matches=totals["matches"],
            network=totals["evaluating"] - totals["terms"],  # (cumulative: the phase's own below)
        )

    device = resolve_device(settings.device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = device_clock(device)
    image = paint_scene(scene, settings, network, callback=record)
    total = device_clock(device) - start
    print(
        f"matcher {settings.matcher}, {device.type}, network in "
        f"{str(network_dtype(settings.precision, device)).removeprefix('torch.')}"
    )
    print(
        f"{'phase':>5} {'size':>9} {'seconds':>8} {'setup':>6} {'it/s':>6} {'net s/it':>9} {'match s/it':>10} "
        f"{'other s/it':>10} {'match/net':>9}"
    )
    previous_matching = matching = previous_network = 0.0
    for number, p in sorted(phases.items()):
        matching = p["matching"] - previous_matching
        previous_matching = p["matching"]
        p["network"], previous_network = p["network"] - previous_network, p["network"]
        per = p["iterations"]
        other = p["total"] - p["setup"] - p["network"] - matching
        print(
            f"{number:>5} {p['size'][0]:>4}x{p['size'][1]:<4} {p['total']:>8.1f} {p['setup']:>6.1f} "
            f"{per / p['total']:>6.2f} "
            f"{p['network'] / per:>9.3f} {matching / per:>10.3f} {other / per:>10.3f} "
            f"{matching / max(p['network'], 1e-9):>9.2f}"
        )
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    result = to_pil(image)
    if doodle_map is None:  # texture synthesis: no regions to measure
        print(f"total {total:.1f} s, peak RSS so far {peak_rss:.2f} GB, {totals['matches']} searches")
        return {"total": total, "quality": np.ones(1), "image": result, "last_matching": matching}
    agreement = label_agreement(network, result, painting, style_map, doodle_map).diagonal()
    palette = semantic_maps.shared_palette(style_map, doodle_map)[0]
    gpu = (
        "" if device.type != "cuda" else f", peak GPU memory {torch.cuda.max_memory_allocated(device) / 1024**3:.2f} GB"
    )
    print(f"total {total:.1f} s, peak RSS so far {peak_rss:.2f} GB{gpu}, {totals['matches']} searches")
    print(
        "quality (share of each region that looks like its own label): "
        + " ".join(f"{semantic_maps.to_hex(c)}={a:.2f}" for c, a in zip(palette, agreement, strict=True))
        + f"  min={agreement.min():.2f}"
    )
    return {"total": total, "quality": agreement, "image": result, "last_matching": matching}


def load_pair(pair: str) -> tuple[Path, np.ndarray | None, np.ndarray | None]:
    """``"Monet:Coastline"`` -> the painting's path, its map and the doodle's map (from ../shared/data);
    ``"Renoir"`` -> the painting's path alone (texture synthesis, no maps).

    Exits with one error line when ``pair`` is malformed or names files that are not there.
    """
    names = pair.split(":")
    if len(names) not in (1, 2):
        raise SystemExit(f"error: --pair {pair!r} is not STYLE:DOODLE or STYLE, e.g. Monet:Coastline")
    data = SHARED / "data"
    painting = data / "paintings" / f"{names[0]}.jpg"
    if len(names) == 1:
        if not painting.is_file():
            raise SystemExit(f"error: {painting} not found (--pair names files in {data})")
        return painting, None, None
    style_map, doodle_map = (data / "maps" / f"{name}_sem.png" for name in names)
    for path in (painting, style_map, doodle_map):
        if not path.is_file():
            raise SystemExit(f"error: {path} not found (--pair names files in {data})")
    return painting, semantic_maps.read_map(style_map), semantic_maps.read_map(doodle_map)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pair", default="Monet:Coastline", help="STYLE:DOODLE names in ../shared/data; STYLE alone: a texture"
    )
    parser.add_argument("--size", default="512x384", help="output WIDTHxHEIGHT")
    parser.add_argument(
        "--iterations", type=parse_iterations, default=None, help="per phase, e.g. 100,100,80 (default: the start's)"
    )
    parser.add_argument("--phases", type=int, default=None, help="default: the start's")
    parser.add_argument("--match-every", type=int, default=PaintSettings.match_every)
    parser.add_argument(
        "--matcher",
        choices=["exact", "fast", "both"],
        default="both",
        help="both: exact then fast in this process, with their ratio",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="paint with random seeds 0..N-1 and compare mean qualities (the measure varies by a few %%)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--precision", default="auto", choices=PaintSettings.choices("precision"))
    parser.add_argument("--output", help="also save the result here (NAME_exact.png / NAME_fast.png)")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; the benchmark needs ../shared", file=sys.stderr)
        return 1
    painting, style_map, doodle_map = load_pair(args.pair)
    style_name, doodle_name = (args.pair.split(":") + ["(texture)"])[:2]
    settings = PaintSettings(
        output_size=parse_size(args.size),
        iterations=args.iterations,
        phases=args.phases,
        match_every=args.match_every,
        device=args.device,
        precision=args.precision,
    )
    network = load_vgg(weights=WEIGHTS)
    _time_searches()
    scene = build_scene(painting, style_map=style_map, target_map=doodle_map, output_size=settings.output_size)
    plan = plan_scene(scene, settings, network)  # the start's schedule where --phases, --iterations are not given
    painted = plan.settings
    print(
        f"{style_name} -> {doodle_name}, {args.size}, start {plan.start}, {painted.phases} phases, "
        f"iterations {format_iterations(painted.iterations)}, "
        f"match every {settings.match_every}, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    if resolve_device(settings.device).type == "cuda":  # start-up (kernels, libraries) out of the timings
        paint_scene(
            build_scene(painting, style_map=style_map, target_map=doodle_map, output_size=(128, 96)),
            settings.replace(output_size=(128, 96), iterations=10, phases=1, matcher="fast"),
            network,
        )
    matchers = ["exact", "fast"] if args.matcher == "both" else [args.matcher]
    results = {}
    for matcher in matchers:
        runs = [
            run(scene, settings.replace(matcher=matcher, random_seed=seed), network, painting, style_map, doodle_map)
            for seed in range(args.seeds)
        ]
        results[matcher] = dict(
            runs[0],
            total=sum(r["total"] for r in runs) / len(runs),
            quality=np.mean([r["quality"] for r in runs], axis=0),
        )
        if args.seeds > 1:
            print(
                f"{matcher}: mean of {args.seeds} seeds: total {results[matcher]['total']:.1f} s, quality "
                + " ".join(f"{a:.3f}" for a in results[matcher]["quality"])
                + f"  min={results[matcher]['quality'].min():.3f} mean={results[matcher]['quality'].mean():.3f}"
            )
        if args.output:
            stem = Path(args.output)
            runs[0]["image"].save(stem.with_name(f"{stem.stem}_{matcher}{stem.suffix}"))
    if len(results) == 2:
        exact, fast = results["exact"], results["fast"]
        worst = fast["quality"].min() / exact["quality"].min()
        mean = fast["quality"].mean() / exact["quality"].mean()
        print(
            f"ratio fast/exact: total {fast['total'] / exact['total']:.2f}, last-phase search "
            f"{fast['last_matching'] / max(exact['last_matching'], 1e-9):.2f}, "
            f"worst-region quality {worst:.3f} ({100 * (worst - 1):+.1f} %), "
            f"mean-region quality {mean:.3f} ({100 * (mean - 1):+.1f} %)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
