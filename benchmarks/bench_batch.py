"""`doodle batch`'s throughput: jobs per hour with 1 and 2 workers on this machine, beside the same jobs
painted by one `doodle paint` process each.

The jobs: Monet -> Coastline (../shared) at 256x192 with random seeds 0..N-1, the default settings and
the HED VGG16 weights: one painting, so each worker computes its features once. Run from the
repository root (needs the batch extra):

    python benchmarks/bench_batch.py            # 8 jobs, about 6 minutes on 2 CPU cores
    python benchmarks/bench_batch.py --jobs 4 --workers 1,2,4
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
DATA = SHARED / "data"


def _jobs(folder: Path, count: int, size: str) -> Path:
    path = folder / "jobs.jsonl"
    common = dict(
        style=str(DATA / "paintings" / "Monet.jpg"),
        style_map=str(DATA / "maps" / "Monet_sem.png"),
        map=str(DATA / "maps" / "Coastline_sem.png"),
        output_size=size,
        weights=str(WEIGHTS),
    )
    lines = [json.dumps(dict(common, random_seed=seed, output=f"out/{seed}.png")) for seed in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=8, help="how many jobs (random seeds)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, e.g. 1,2")
    parser.add_argument("--size", default="256x192", help="each job's --output-size")
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    doodle = [sys.executable, "-m", "doodle"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        jobs = _jobs(folder, args.jobs, args.size)
        paint = doodle + ["paint", "--style", str(DATA / "paintings" / "Monet.jpg"), "--style-map",
                          str(DATA / "maps" / "Monet_sem.png"), "--map", str(DATA / "maps" / "Coastline_sem.png"),
                          "--output-size", args.size, "--weights", str(WEIGHTS), "-q"]  # fmt: skip
        one = [_seconds(paint + ["--random-seed", str(seed), "-o", str(folder / f"p{seed}.png")]) for seed in range(2)]
        per_process = sum(one) / len(one)
        print(f"Monet -> Coastline {args.size}, {args.jobs} jobs")
        print(f"{'how':34} {'seconds':>8} {'jobs/hour':>10}")
        print(f"{'one doodle paint process a job':34} {per_process * args.jobs:8.1f} {3600 / per_process:10.0f}")
        for workers in (int(w) for w in args.workers.split(",")):
            for output in (folder / "out").glob("*.png"):
                output.unlink()
            seconds = _seconds(doodle + ["batch", str(jobs), "--workers", str(workers), "-q"])
            print(f"{f'doodle batch --workers {workers}':34} {seconds:8.1f} {3600 * args.jobs / seconds:10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
