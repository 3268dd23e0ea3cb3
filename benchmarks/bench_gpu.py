"""The GPU figures of issue 11: Monet -> Coastline at 2048x1536 on one GPU, the largest size that fits,
and the peak GPU memory per megapixel.

- process: `doodle paint` processes with the default settings (plus `--weights` for the HED VGG16 in
  ../shared), timed from process start to file written, at 512x384, 1024x768 and 2048x1536;
- inside: the same paints in a child process, the paint alone timed (network loaded, scene built),
  with the peak of GPU memory allocated by torch and the estimate of ``doodle/budget.py``;
- ladder: ever larger sizes painted with one iteration per phase (the last phase holds the peak),
  each in its own process, until one runs out of GPU memory or is refused by the estimate.

    python benchmarks/bench_gpu.py --keep /tmp/gpu        # on a machine with CUDA, ~5 min on an H100
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
WEIGHTS = ROOT.parent / "shared" / "weights" / "vgg16_hed_caffe_fp16.pth"
STYLE, STYLE_MAP = DATA / "paintings" / "Monet.jpg", DATA / "maps" / "Monet_sem.png"
DOODLE = DATA / "maps" / "Coastline_sem.png"
SIZES = ["512x384", "1024x768", "2048x1536"]
LADDER = ["2048x1536", "2896x2172", "4096x3072", "5008x3756", "5792x4344", "7096x5322", "8192x6144"]
TARGET = 20.0  # seconds for 2048x1536 on one H100


def _child(size: str, iterations: str | None, output: str | None) -> None:
    """Paint one size in this process; print a JSON line with seconds, peak GPU bytes and the estimate."""
    import torch

    import doodle
    from doodle import budget
    from doodle.settings import parse_iterations, parse_size

    device = torch.device("cuda")
    settings = doodle.PaintSettings(output_size=parse_size(size), weights=WEIGHTS, device="cuda")
    if iterations:
        settings = dataclasses.replace(settings, iterations=parse_iterations(iterations))
    network = doodle.load_vgg(weights=WEIGHTS).to(device)
    scene = doodle.build_scene(STYLE, style_map=STYLE_MAP, target_map=DOODLE, output_size=settings.output_size)
    plan = doodle.plan_scene(scene, settings, network)
    estimate = budget.estimate_memory(
        network, plan, scene.shape, tuple(scene.style.shape[-2:]), scene.target_labels.shape[1]
    )
    free, total = torch.cuda.mem_get_info(device)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        image = doodle.paint_scene(scene, settings, network)
    except torch.OutOfMemoryError:
        print(json.dumps(dict(oom=True, estimate=estimate.total, free=free, total=total)))
        return
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if output:
        from doodle.images import to_pil

        to_pil(image).save(output)
    print(
        json.dumps(
            dict(
                seconds=seconds,
                peak=torch.cuda.max_memory_allocated(),
                reserved=torch.cuda.max_memory_reserved(),
                estimate=estimate.total,
                free=free,
                total=total,
                style=list(scene.style.shape[-2:]),
            )
        )
    )


def _run_child(size: str, iterations: str | None, output: Path | None = None) -> dict:
    command = [sys.executable, __file__, "--case", size] + (["--iterations", iterations] if iterations else [])
    command += ["--output", str(output)] if output else []
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1:] or ["no output"]
        return dict(failed=last[0])
    return json.loads(run.stdout.strip().splitlines()[-1])


def _process_seconds(size: str, output: Path) -> float:
    command = [sys.executable, "-m", "doodle", "paint", "--style", STYLE, "--style-map", STYLE_MAP]
    command += ["--map", DOODLE, "--output-size", size, "--weights", WEIGHTS, "--device", "cuda", "-o", output]
    start = time.perf_counter()
    run = subprocess.run(list(map(str, command)), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"error: doodle paint at {size} failed:\n{run.stderr.strip()}")
    return seconds


def _megapixels(size: str) -> float:
    width, height = map(int, size.split("x"))
    return width * height / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # paint one size (in the child process)
    parser.add_argument("--iterations", help=argparse.SUPPRESS)  # the default settings' when absent
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--keep", help="a folder to keep the images in")
    parser.add_argument("--only", default="process,inside,ladder", help="comma-separated parts")
    args = parser.parse_args()
    if args.case:
        _child(args.case, args.iterations, args.output)
        return 0
    import torch

    if not torch.cuda.is_available():
        print("error: this benchmark needs a CUDA device", file=sys.stderr)
        return 1
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    folder = Path(args.keep or "/tmp/bench_gpu")
    folder.mkdir(parents=True, exist_ok=True)
    parts = args.only.split(",")
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    if "process" in parts:
        print(f"\n{'doodle paint process (default settings)':42} {'seconds':>8}")
        for size in SIZES:
            seconds = _process_seconds(size, folder / f"process_{size}.png")
            verdict = ("met" if seconds <= TARGET else "MISSED") if size == "2048x1536" else ""
            print(f"{size:42} {seconds:8.2f}   {verdict}", flush=True)
    if "inside" in parts:
        print(f"\n{'paint alone':12} {'seconds':>8} {'peak GB':>8} {'GB/MP':>6} {'estimate':>8} {'style':>10}")
        for size in SIZES:
            found = _run_child(size, None, folder / f"inside_{size}.png")
            if "seconds" not in found:
                print(f"{size:12} {found}", flush=True)
                continue
            peak = found["peak"] / 1e9
            print(
                f"{size:12} {found['seconds']:8.2f} {peak:8.2f} {peak / _megapixels(size):6.2f} "
                f"{found['estimate'] / 1e9:8.2f} {found['style'][1]:>4}x{found['style'][0]}",
                flush=True,
            )
    if "ladder" in parts:
        print(f"\n{'ladder (1 it/phase)':20} {'peak GB':>8} {'GB/MP':>6} {'estimate':>8} {'free GB':>8}")
        for size in LADDER:
            found = _run_child(size, "1")
            if "peak" not in found:
                print(f"{size:20} does not fit: {found}", flush=True)
                break
            peak = found["peak"] / 1e9
            print(
                f"{size:20} {peak:8.2f} {peak / _megapixels(size):6.2f} {found['estimate'] / 1e9:8.2f} "
                f"{found['free'] / 1e9:8.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
