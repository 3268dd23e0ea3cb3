"""The speed targets of the default settings, each beside the same run of an earlier version ("before").

Every figure is a fresh `doodle paint` process, timed from process start to file written, with the
default settings (plus `--weights` for the HED VGG16 in ../shared):

- doodle: Monet -> Coastline, 512x384;
- portrait: semantic style transfer of a 352x512 photo (NASA's astronaut portrait from scikit-image,
  public domain, with a label map drawn here) in the style of Van Gogh's self-portrait and its map;
- texture: Renoir, 384x384;
- repaint: in one process, a `doodle.Painter` paints the doodle, then an edited doodle (a new rock
  in the sea), then the edited doodle again; each repaint's time against the first paint's, and the
  quality of the repainted edit against a fresh paint of the edited doodle.

The quality measure (`doodle/quality.py`: for each region, the share of its patches that look like
their own label) is printed for every doodle and portrait run, and for the portrait how far it
drifted from the photo (the relative distance of their relu4_2 features); `--seeds N` paints seeds 0..N-1
and compares the means. "Before" is a git revision (`--before REV`, checked out in a temporary
worktree and run with its own code), or this code with the old settings (`--iterations 100
--precision float32`) when no revision is given.

    python benchmarks/bench_speed.py --before 73cbc6f            # ~15 min on 2 CPU cores
    python benchmarks/bench_speed.py --before 73cbc6f --seeds 6 --only doodle,portrait
    python benchmarks/bench_speed.py --before HEAD --seeds 6 --only doodle \
        --now-options "--seed collage --phases 2 --iterations 20,40"   # a start against the default
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
WEIGHTS = SHARED / "weights" / "vgg16_hed_caffe_fp16.pth"
TARGETS = {"doodle": 60.0, "portrait": 90.0, "texture": 60.0, "repaint": 0.5}
OLD_SETTINGS = ["--iterations", "100", "--precision", "float32"]

# Gogh_sem.png's labels.
BACKGROUND, CLOTHES, FACE, HAIR, EYES = "#ff0000", "#0000ff", "#00ff00", "#ffff00", "#bfbfbf"


def make_portrait(folder: Path) -> tuple[Path, Path]:
    """The astronaut photo (scikit-image, NASA, public domain), 352x512, and its map in Gogh's labels."""
    from skimage import data

    photo = Image.fromarray(data.astronaut())
    labels = Image.new("RGB", photo.size, BACKGROUND)
    draw = ImageDraw.Draw(labels)
    suit = [(112, 200), (125, 160), (160, 148), (280, 148), (305, 175), (310, 240), (350, 290), (362, 512)]
    draw.polygon(suit + [(18, 512), (22, 330), (50, 262), (108, 235)], fill=CLOTHES)
    draw.ellipse((275, 335, 515, 560), fill=CLOTHES)  # the helmet she holds
    draw.ellipse((150, 12, 304, 150), fill=HAIR)
    draw.ellipse((176, 72, 274, 188), fill=FACE)
    draw.ellipse((190, 101, 212, 113), fill=EYES)
    draw.ellipse((238, 101, 260, 113), fill=EYES)
    box = (49, 0, 401, 512)
    paths = folder / "astronaut.png", folder / "astronaut_sem.png"
    photo.crop(box).save(paths[0])
    labels.crop(box).save(paths[1])
    return paths


def edited_coastline(folder: Path) -> Path:
    """Coastline_sem.png with a new rock stack (the cliffs' colour) standing in the sea."""
    doodle = Image.open(DATA / "maps" / "Coastline_sem.png").convert("RGB")
    ImageDraw.Draw(doodle).ellipse((380, 250, 450, 330), fill="#ff331f")
    path = folder / "Coastline_edited_sem.png"
    doodle.save(path)
    return path


def cases(folder: Path) -> dict[str, dict]:
    """Inputs of each case: CLI arguments, and what the quality measure compares (or None)."""
    paintings, maps = DATA / "paintings", DATA / "maps"
    photo, photo_map = make_portrait(folder)
    return {
        "doodle": dict(
            args=["--style", paintings / "Monet.jpg", "--style-map", maps / "Monet_sem.png"]
            + ["--map", maps / "Coastline_sem.png"],
            quality=(paintings / "Monet.jpg", maps / "Monet_sem.png", maps / "Coastline_sem.png"),
        ),
        "portrait": dict(
            args=["--style", paintings / "Gogh.jpg", "--style-map", maps / "Gogh_sem.png"]
            + ["--content", photo, "--content-map", photo_map],
            quality=(paintings / "Gogh.jpg", maps / "Gogh_sem.png", photo_map),
            content=photo,
        ),
        "texture": dict(args=["--style", paintings / "Renoir.jpg", "--output-size", "384x384"], quality=None),
    }


def paint_once(code: Path, args: list, output: Path, extra: list[str]) -> float:
    """Seconds for one `doodle paint` process (start to file written) running ``code``'s package."""
    env = dict(os.environ, PYTHONPATH=str(code))
    command = [sys.executable, "-m", "doodle", "paint", *map(str, args), "--weights", str(WEIGHTS)]
    command += ["-o", str(output), "--quiet", *extra]
    start = time.perf_counter()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, cwd=code)
    seconds = time.perf_counter() - start
    if finished.returncode != 0 or not output.is_file():
        raise SystemExit(f"error: {' '.join(command)} failed:\n{finished.stderr.strip()}")
    return seconds


def quality(network, output: Path, measured: tuple) -> np.ndarray:
    """For each label present in the output's map, the share of its patches that look like it."""
    import semantic_maps
    from doodle.quality import label_agreement

    painting, painting_map, output_map = measured
    agreement = label_agreement(
        network, output, painting, semantic_maps.read_map(painting_map), semantic_maps.read_map(output_map)
    )
    return agreement.diagonal()[agreement.sum(axis=1) > 0]  # labels of the painting the output has


def content_distance(network, output: Path, photo: Path) -> float:
    """How far the painting drifted from the photo: ||F(output) - F(photo)|| / ||F(photo)||, F at relu4_2."""
    import torch

    from doodle.images import load_rgb, to_tensor

    with torch.no_grad():
        painted, wanted = (network(to_tensor(load_rgb(path)), ["relu4_2"])["relu4_2"] for path in (output, photo))
    return float((painted - wanted).norm() / wanted.norm())


def repaint_times(folder: Path) -> dict[str, float]:
    """A Painter paints the doodle, the edited doodle, then the edited doodle again (this code only)."""
    import doodle

    paintings, maps = DATA / "paintings", DATA / "maps"
    edited = edited_coastline(folder)
    painter = doodle.Painter(weights=WEIGHTS)
    times = {}
    for name, doodle_map in (("first", maps / "Coastline_sem.png"), ("edited", edited), ("same", edited)):
        start = time.perf_counter()
        image = painter.paint(paintings / "Monet.jpg", style_map=maps / "Monet_sem.png", target_map=doodle_map)
        times[name] = time.perf_counter() - start
        image.save(folder / f"repaint_{name}.png")
    fresh_start = time.perf_counter()
    doodle.Painter(weights=WEIGHTS).paint(
        paintings / "Monet.jpg", style_map=maps / "Monet_sem.png", target_map=edited
    ).save(folder / "repaint_fresh.png")
    times["fresh"] = time.perf_counter() - fresh_start
    return times


def cpu_name() -> str:
    """The processor's model name (Linux), or the platform's word for it: figures depend on it."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        import platform

        return platform.processor() or platform.machine()


def _row(name: str, now: float, before: float, ratio: float, target: str, met: bool) -> None:
    print(f"{name:30} {now:8.3f} {before:8.3f} {ratio:7.2f}   {target:9} {'met' if met else 'MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="git revision to compare with (default: this code, old settings)")
    parser.add_argument("--seeds", type=int, default=1, help="random seeds 0..N-1 for doodle and portrait")
    parser.add_argument("--only", default="doodle,portrait,texture,repaint", help="comma-separated cases")
    parser.add_argument("--keep", help="a folder to keep the images in")
    parser.add_argument(
        "--now-options",
        default="",
        help="options added to this code's runs only, e.g. '--seed collage --phases 2 --iterations 20,40' "
        "(with --before this revision: the options against the defaults)",
    )
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; the benchmark needs ../shared", file=sys.stderr)
        return 1
    import torch

    from doodle import load_vgg
    from doodle.devices import network_dtype

    only = args.only.split(",")
    results, times = {}, {}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)
        folder.mkdir(parents=True, exist_ok=True)
        before_code, before_extra = ROOT, OLD_SETTINGS
        if args.before:
            before_code, before_extra = Path(temporary) / "before", []
            subprocess.run(["git", "worktree", "add", "--detach", str(before_code), args.before], cwd=ROOT, check=True)
        try:
            before_name = args.before or "this code, old settings"
            print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; before = {before_name}")
            print(f"now: this code{', with ' + args.now_options if args.now_options else ''}")
            print(f"CPU: {cpu_name()}; network on the CPU in {network_dtype('auto', torch.device('cpu'))}")
            network = load_vgg(weights=WEIGHTS)
            for name, case in cases(folder).items():
                if name not in only:
                    continue
                seeds = range(args.seeds if case["quality"] else 1)
                now_extra = args.now_options.split()
                for version, code, extra in (("before", before_code, before_extra), ("now", ROOT, now_extra)):
                    runs = []
                    for seed in seeds:
                        output = folder / f"{name}_{version}_{seed}.png"
                        seconds = paint_once(code, case["args"], output, [*extra, "--random-seed", str(seed)])
                        agreement = None if case["quality"] is None else quality(network, output, case["quality"])
                        runs.append((seconds, agreement))
                        shown = "" if agreement is None else f"  worst region {agreement.min():.3f}"
                        shown += "" if agreement is None else f", mean of regions {agreement.mean():.3f}"
                        if "content" in case:
                            shown += f", content distance {content_distance(network, output, case['content']):.3f}"
                        print(f"{name:8} {version:6} seed {seed}: {seconds:6.1f} s{shown}", flush=True)
                    mean_quality = None if case["quality"] is None else np.mean([q for _, q in runs], axis=0)
                    results[name, version] = (np.mean([s for s, _ in runs]), mean_quality)
            if "repaint" in only:
                times = repaint_times(folder)
                print("repaint (one Painter): " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()), flush=True)
                measured = (DATA / "paintings" / "Monet.jpg", DATA / "maps" / "Monet_sem.png", edited_coastline(folder))
                for kind in ("edited", "fresh"):
                    agreement = quality(network, folder / f"repaint_{kind}.png", measured)
                    print(f"repaint {kind:6}: worst region {agreement.min():.3f}, mean {agreement.mean():.3f}")
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(before_code)], cwd=ROOT, check=False)
    print(f"\n{'target':30} {'now':>8} {'before':>8} {'ratio':>7}   {'target':9} ")
    for name in ("doodle", "portrait", "texture"):
        if (name, "now") not in results:
            continue
        (now, q_now), (before, q_before) = results[name, "now"], results[name, "before"]
        _row(f"{name}, seconds", now, before, now / before, f"<= {TARGETS[name]:.0f} s", now <= TARGETS[name])
        if q_now is not None:
            for label, pick in (("worst region", np.min), ("mean of regions", np.mean)):
                ratio = pick(q_now) / pick(q_before)
                _row(f"{name}, {label}", pick(q_now), pick(q_before), ratio, ">= 0.98x", ratio >= 0.98)
    if times:
        for kind, label in (("edited", "repaint, edited doodle"), ("same", "repaint, same doodle")):
            ratio = times[kind] / times["first"]
            _row(label, times[kind], times["first"], ratio, "<= 0.50x", ratio <= TARGETS["repaint"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
