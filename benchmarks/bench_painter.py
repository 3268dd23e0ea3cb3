"""The feed-forward painter's targets (`doodle train` / `doodle render`), in one run.

For each pair, painting -> doodle (Monet -> Coastline 512x384; Renoir -> Landscape 512x320, a painter
the network and its settings were not tuned on):

- train: a `doodle train` process with the default settings (plus `--weights` for the HED VGG16 in
  ../shared), timed from process start to the painter file written;
- render: `TrainedPainter.paint` of the doodle in this process, the median of 5 after a warm-up
  (process start and loading excluded, as the target says);
- collage: the painter's collage alone (its network's output left out): what the network adds;
- paint: a `doodle paint` process with the default settings, the reference;
- seeded: `doodle paint --seed PAINTER.pt` with fewer iterations (``--seeded-iterations``): the
  optimisation started from the painter's rendering;
- quality: `doodle/quality.py`'s share of each region's patches that look like their own label, worst
  region and mean of regions, for the render, the collage and the seeded paint against `doodle paint`'s;
  the render and the collage are measured at ``--render-seeds`` seeds (their mean), since one render
  costs a fraction of a second.

    python benchmarks/bench_painter.py --keep /tmp/painter     # ~35 min on 2 CPU cores
    python benchmarks/bench_painter.py --only monet --steps 300
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "samples"))
from contact_sheet import contact_sheet  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WEIGHTS = ROOT.parent / "shared" / "weights" / "vgg16_hed_caffe_fp16.pth"
PAIRS = {
    "monet": ("Monet.jpg", "Monet_sem.png", "Coastline_sem.png"),
    "renoir": ("Renoir.jpg", "Renoir_sem.png", "Landscape_sem.png"),
}
TARGETS = {"train": 15 * 60.0, "render": 0.2, "quality": 0.85}


def timed(command: list) -> float:
    """Seconds for one process, start to exit; its error is this script's."""
    start = time.perf_counter()
    finished = subprocess.run([sys.executable, "-m", "doodle", *map(str, command)], capture_output=True, text=True)
    if finished.returncode != 0:
        raise SystemExit(f"error: doodle {' '.join(map(str, command))} failed:\n{finished.stderr.strip()}")
    return time.perf_counter() - start


def quality(network, output: Path, painting: Path, painting_map: Path, doodle: Path) -> np.ndarray:
    """For each label present in the doodle, the share of its patches that look like it."""
    import semantic_maps
    from doodle.quality import label_agreement

    agreement = label_agreement(
        network, output, painting, semantic_maps.read_map(painting_map), semantic_maps.read_map(doodle)
    )
    return agreement.diagonal()[agreement.sum(axis=1) > 0]


def render_seconds(painter_file: Path, doodle: Path) -> float:
    """Median seconds of one render (the painter loaded and warmed up first)."""
    from doodle.generator import TrainedPainter

    painter = TrainedPainter.load(painter_file)
    painter.paint(doodle)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        painter.paint(doodle)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def renders(painter_file: Path, doodle: Path, folder: Path, name: str, seeds: int) -> dict[str, list[Path]]:
    """The painter's renders of ``doodle`` at seeds 0.., and its collages alone (the network's
    output left out) at the same seeds."""
    from doodle.generator import TrainedPainter

    painter, collage_only = TrainedPainter.load(painter_file), TrainedPainter.load(painter_file)
    for parameter in collage_only.generator.to_rgb.parameters():  # the network's output is 0: the collage
        parameter.zero_()
    paths = {"render": [], "collage": []}
    for kind, source in (("render", painter), ("collage", collage_only)):
        for seed in range(seeds):
            paths[kind].append(folder / f"{name}_{kind}_{seed}.png")
            source.paint(doodle, seed=seed).save(paths[kind][-1])
    return paths


def _row(label: str, value: float, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else "met" if met else "MISSED"
    print(f"{label:42} {value:9.3f}   {target:9} {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="monet,renoir", help="comma-separated pairs")
    parser.add_argument("--steps", type=int, help="training steps (default: doodle train's)")
    parser.add_argument("--seeded-iterations", default="40", help="--iterations of the seeded paint")
    parser.add_argument("--render-seeds", type=int, default=3, help="seeds the render and collage are measured at")
    parser.add_argument("--keep", help="a folder to keep the painters and images in")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; the benchmark needs ../shared", file=sys.stderr)
        return 1
    import torch

    from doodle import load_vgg

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    network = load_vgg(weights=WEIGHTS)
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        for name in args.only.split(","):
            painting_name, map_name, doodle_name = PAIRS[name]
            painting, painting_map = DATA / "paintings" / painting_name, DATA / "maps" / map_name
            doodle = DATA / "maps" / doodle_name
            inputs = ["--style", painting, "--style-map", painting_map, "--weights", WEIGHTS, "--quiet"]
            painter = folder / f"{name}.pt"
            steps = [] if args.steps is None else ["--steps", args.steps]
            train = timed(["train", *inputs, "-o", painter, *steps])
            print(f"{name}: trained in {train:.1f} s", flush=True)
            painted, seeded = (folder / f"{name}_{kind}.png" for kind in ("paint", "seeded"))
            render = render_seconds(painter, doodle)
            rendered = renders(painter, doodle, folder, name, args.render_seeds)
            paint = timed(["paint", *inputs, "--map", doodle, "-o", painted])
            seeded_paint = timed(
                ["paint", *inputs, "--map", doodle, "-o", seeded, "--seed", painter]
                + ["--phases", "1", "--iterations", args.seeded_iterations]
            )
            measured = {
                kind: [quality(network, path, painting, painting_map, doodle) for path in paths]
                for kind, paths in (("paint", [painted]), *rendered.items(), ("seeded", [seeded]))
            }
            for kind, values in measured.items():
                for seed, value in enumerate(values):
                    print(f"{name}: {kind:7} {seed}: worst region {value.min():.3f}, mean {value.mean():.3f}")
            measured = {  # worst region and mean of regions, each the mean over seeds
                kind: (statistics.mean(v.min() for v in values), statistics.mean(v.mean() for v in values))
                for kind, values in measured.items()
            }
            print(f"{name}: render {render:.3f} s, paint {paint:.1f} s, seeded paint {seeded_paint:.1f} s", flush=True)
            contact_sheet(
                [str(p) for p in (doodle, painted, rendered["render"][0], rendered["collage"][0], seeded)],
                ["doodle", "paint", "render", "collage alone", "seeded paint"],
            ).save(folder / f"{name}_sheet.png")
            rows.append((name, train, render, paint, seeded_paint, measured))
    print(f"\n{'figure':42} {'value':>9}   target")
    for name, train, render, paint, seeded_paint, measured in rows:
        (paint_worst, paint_mean) = measured["paint"]
        worst = measured["render"][0] / paint_worst
        _row(f"{name}, training (s)", train, "<= 900", train <= TARGETS["train"])
        _row(f"{name}, render (s)", render, "<= 0.2", render <= TARGETS["render"])
        _row(f"{name}, render worst region / paint's", worst, ">= 0.85", worst >= TARGETS["quality"])
        _row(f"{name}, render mean of regions / paint's", measured["render"][1] / paint_mean)
        _row(f"{name}, collage alone: worst region / paint's", measured["collage"][0] / paint_worst)
        _row(f"{name}, collage alone: mean of regions / paint's", measured["collage"][1] / paint_mean)
        _row(f"{name}, seeded paint worst region / paint's", measured["seeded"][0] / paint_worst)
        _row(f"{name}, seeded paint time / paint's", seeded_paint / paint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
