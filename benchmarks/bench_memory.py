"""Memory: the estimate of ``doodle/budget.py`` against the peak RSS of real paintings.

Each case paints in a fresh process (2 phases, 2 iterations each: the last phase holds the peak,
and starts from the first one's matches as in a real run), with the real HED VGG16 trunk and the
paintings in ../shared. Run from the repository root:

    python benchmarks/bench_memory.py            # prints estimate, measured peak, their ratio, per case

Figures are for this machine; ``budget._PROCESS`` and ``budget._CALIBRATION`` are fitted to its peaks.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
PAINTINGS, MAPS = SHARED / "data" / "paintings", SHARED / "data" / "maps"

# (name, paint keyword arguments, as JSON-able values)
CASES = [
    (
        "doodle 256x192",
        dict(style="Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png", output_size=[256, 192]),
    ),
    (
        "doodle 512x384",
        dict(style="Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png", output_size=[512, 384]),
    ),
    (
        "doodle 1024x768",
        dict(style="Monet.jpg", style_map="Monet_sem.png", target_map="Coastline_sem.png", output_size=[1024, 768]),
    ),
    ("texture 384x384", dict(style="Renoir.jpg", output_size=[384, 384])),
    (
        "transfer 512x320, exact",
        dict(style="starry_night.jpg", content="Renoir.jpg", style_loss="gram", matcher="exact"),
    ),
    ("big painting, small output", dict(style="the_scream.jpg", output_size=[128, 96])),
]


def _child(name: str) -> None:
    """Paint one case in this process; print a JSON line with the estimate and the peak RSS."""
    import doodle
    from doodle import budget, build_scene

    options = dict(CASES)[name]
    files = {
        key: (MAPS if key.endswith("map") else PAINTINGS) / value
        for key, value in options.items()
        if isinstance(value, str) and "." in value
    }
    settings = doodle.PaintSettings(
        **{k: (tuple(v) if isinstance(v, list) else v) for k, v in options.items() if k not in files},
        phases=1,
        iterations=3,
        weights=WEIGHTS,
    )
    network = doodle.load_vgg(weights=WEIGHTS)
    scene = build_scene(files.pop("style"), output_size=settings.output_size, **files)
    plan = doodle.plan_scene(scene, settings, network)
    labels = 0 if scene.target_labels is None else scene.target_labels.shape[1]
    estimate = budget.estimate_memory(network, plan, scene.shape, tuple(scene.style.shape[-2:]), labels)
    doodle.paint_scene(scene, settings, network)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(dict(estimate=estimate.total, peak=peak, shape=scene.shape, style=list(scene.style.shape[-2:]))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)  # run one case (in the child process)
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    if args.case:
        _child(args.case)
        return 0
    print(f"{'case':<28} {'output':>10} {'style':>10} {'estimate':>9} {'peak RSS':>9} {'peak/est':>8}")
    for name, _ in CASES:
        run = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True)
        if run.returncode != 0:
            print(f"{name:<28} failed: {run.stderr.strip().splitlines()[-1:]}")
            continue
        found = json.loads(run.stdout.strip().splitlines()[-1])
        (h, w), (sh, sw) = found["shape"], found["style"]
        print(
            f"{name:<28} {w:>4}x{h:<5} {sw:>4}x{sh:<5} {found['estimate'] / 1e9:>7.2f}GB "
            f"{found['peak'] / 1e9:>7.2f}GB {found['peak'] / found['estimate']:>8.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
