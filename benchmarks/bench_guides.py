"""Guides, doodle beside EbSynth on the same guide files, in one run: time, peak memory, fine detail
kept ("crisp") and how well the output keeps what the guides ask for.

Builds EbSynth from ../shared/peers/ebsynth (its build.sh) into a folder of this run's own. Cases
(`--only` picks some):

- face: Van Gogh's self-portrait restyling the astronaut photo (352x512, scikit-image, public domain)
  with FaceStyle's three guides, weighed as EbSynth's FaceStyle example (Fišer et al. 2017):
  appearance 0.5 (greyscale, histogram-equalised; the painting's blurred by 0.85 px first, so its
  brush strokes are not read as shading), a soft segmentation 1.5 (the label maps blurred by 6 px)
  and position 10 (x/y; the photo's warped so its eyes land on the painting's eyes, blending into the
  plain gradient away from the face). "likeness": the correlation of the output's luminance with the
  photo's inside the face (face and eyes labels), doodle.quality.luminance_correlation. doodle runs
  `--seeds` random seeds;
- snowman: the StyLit-style sample (samples/make_samples.py): the painted sphere and its render passes
  -> a snowman's passes, weight 2. "likeness": the output's luminance against the snowman's light
  (the passes' red plus green), inside the snowman.

`--before REF` also paints two label-map doodles (the README's quick start, Monet -> Coastline at
256x192) with the code of git revision REF and with this code, and says whether they are the same
bytes: a doodle with only its label maps must paint as it did before guides.

    python benchmarks/bench_guides.py --out DIR                # ~2 min on 2 CPU cores
    python benchmarks/bench_guides.py --before badd5f1         # and the label-map check (the commit before guides)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.exposure import equalize_hist

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_peer import EBSYNTH, doodle_command, ebsynth_command, print_table, run, sheet  # noqa: E402
from bench_speed import DATA, ROOT, WEIGHTS, make_portrait  # noqa: E402

from doodle.images import load_rgb, to_tensor  # noqa: E402
from doodle.quality import crispness, luminance_correlation  # noqa: E402

SAMPLES = ROOT / "samples"
# The eyes' centres (x, y): the astronaut photo's, as bench_speed.make_portrait draws them, and the
# self-portrait's, from the eyes label of Gogh_sem.png.
PHOTO_EYES, PAINTING_EYES = [(152, 107), (200, 107)], [(162, 184), (216, 183)]


def _save(values: np.ndarray, path: Path) -> Path:
    Image.fromarray((np.clip(values, 0, 1) * 255).round().astype(np.uint8)).save(path)
    return path


def grey(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("L"), dtype=float) / 255


def face_positions(size: tuple[int, int], eyes, painting_size: tuple[int, int], painting_eyes) -> np.ndarray:
    """FaceStyle's positional guide for the photo: each pixel's position in the painting, by the
    similarity that takes the photo's eyes onto the painting's near the face, blending (Gaussian,
    40 px) into the whole photo laid over the whole painting away from it. ``(H, W, 3)``: x, y, 0."""
    (width, height), (painting_width, painting_height) = size, painting_size
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    (a, b), (c, d) = np.array(eyes, float), np.array(painting_eyes, float)
    scale = np.linalg.norm(d - c) / np.linalg.norm(b - a)
    middle, painted = (a + b) / 2, (c + d) / 2
    near = np.exp(-((xs - middle[0]) ** 2 + (ys - middle[1] - 23) ** 2) / (2 * 40.0**2))
    x = near * (painted[0] + scale * (xs - middle[0])) + (1 - near) * xs * (painting_width - 1) / (width - 1)
    y = near * (painted[1] + scale * (ys - middle[1])) + (1 - near) * ys * (painting_height - 1) / (height - 1)
    return np.stack([x / (painting_width - 1), y / (painting_height - 1), np.zeros_like(x)], 2)


def face_case(folder: Path) -> dict:
    photo, photo_map = make_portrait(folder)
    painting = folder / "gogh.png"
    Image.open(DATA / "paintings" / "Gogh.jpg").convert("RGB").save(painting)  # (EbSynth reads PNG)
    size, painting_size = Image.open(photo).size, Image.open(painting).size
    appearance = (
        _save(equalize_hist(gaussian_filter(grey(painting), 0.85)), folder / "gogh_appearance.png"),
        _save(equalize_hist(grey(photo)), folder / "photo_appearance.png"),
    )
    segmentation = tuple(
        _save(gaussian_filter(np.asarray(Image.open(m).convert("RGB"), float) / 255, (6, 6, 0)), folder / name)
        for m, name in (
            (DATA / "maps" / "Gogh_sem.png", "gogh_segmentation.png"),
            (photo_map, "photo_segmentation.png"),
        )
    )
    xs, ys = np.meshgrid(np.linspace(0, 1, painting_size[0]), np.linspace(0, 1, painting_size[1]))
    positions = (
        _save(np.stack([xs, ys, np.zeros_like(xs)], 2), folder / "gogh_position.png"),
        _save(face_positions(size, PHOTO_EYES, painting_size, PAINTING_EYES), folder / "photo_position.png"),
    )
    labels = np.asarray(Image.open(photo_map).convert("RGB")).astype(int)
    face = (np.abs(labels - [0, 255, 0]).sum(2) < 30) | (np.abs(labels - [191, 191, 191]).sum(2) < 30)
    return dict(
        painting=painting,
        guides=[(*appearance, 0.5), (*segmentation, 1.5), (*positions, 10.0)],
        reference=to_tensor(load_rgb(photo))[0],
        where=torch.from_numpy(face),
    )


def snowman_case() -> dict:
    passes = np.asarray(Image.open(SAMPLES / "snowman_passes.png").convert("RGB"), float) / 255
    light = np.clip(passes[..., 0] + passes[..., 1], 0, 1)
    return dict(
        painting=SAMPLES / "sphere_painted.png",
        guides=[(SAMPLES / "sphere_passes.png", SAMPLES / "snowman_passes.png", 2.0)],
        reference=torch.from_numpy(np.repeat(light[None], 3, 0)).float(),
        where=torch.from_numpy(passes[..., 2] > 0.5),
    )


def doodle_guides(guides: list) -> list:
    arguments = []
    for source, target, weight in guides:
        arguments += ["--guide", source, target, "--guide-weight", weight]
    return arguments


def measure(case: dict, output: Path) -> dict:
    image, painting = to_tensor(load_rgb(output))[0], to_tensor(load_rgb(case["painting"]))[0]
    return dict(
        crisp=crispness(image, painting), likeness=luminance_correlation(image, case["reference"], case["where"])
    )


def same_as_before(reference: str, folder: Path) -> None:
    """Paint two label-map doodles with ``reference``'s code and this code; say whether they are equal."""
    before = folder / "before"
    subprocess.run(["git", "worktree", "add", "--detach", str(before), reference], cwd=ROOT, check=True)
    monet, maps = DATA / "paintings" / "Monet.jpg", DATA / "maps"
    jobs = {
        "quick start": ["--style", SAMPLES / "seaside.png", "--map", SAMPLES / "doodle_sem.png"],
        "coastline": ["--style", monet, "--style-map", maps / "Monet_sem.png", "--map", maps / "Coastline_sem.png"]
        + ["--output-size", "256x192"],
    }
    try:
        for name, arguments in jobs.items():
            outputs = []
            for version, code in (("before", before), ("now", ROOT)):
                output = folder / f"labels_{name.replace(' ', '_')}_{version}.png"
                command = [sys.executable, "-m", "doodle", "paint", *map(str, arguments), "--weights", str(WEIGHTS)]
                environment = dict(
                    os.environ, PYTHONPATH=str(code)
                )  # run from `code`: its package, not the installed one
                subprocess.run([*command, "-o", str(output), "-q"], env=environment, cwd=code, check=True)
                outputs.append(np.asarray(Image.open(output)))
            same = outputs[0].shape == outputs[1].shape and np.array_equal(*outputs)
            print(f"label maps only, {name}: {'the same pixels' if same else 'DIFFERENT'} as {reference}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="face,snowman")
    parser.add_argument("--seeds", type=int, default=3, help="doodle's random seeds in the face case")
    parser.add_argument("--before", help="a git revision: check label-map doodles paint as they did there")
    parser.add_argument("--out", help="keep the guides, outputs and sheets here")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        out = Path(options.out or temporary)
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["bash", EBSYNTH / "build.sh", out / "ebsynth-build"], check=True, capture_output=True)
        binary = out / "ebsynth-build" / "ebsynth"
        print(f"torch threads {torch.get_num_threads()}, out {out}")
        only = options.only.split(",")
        for name in only:
            case = face_case(out) if name == "face" else snowman_case()
            rows, paths = {}, []
            seeds = range(options.seeds if name == "face" else 1)
            for method, seed in [("ebsynth", None)] + [("doodle", seed) for seed in seeds]:
                label = method if seed is None else f"doodle seed {seed}"
                output = out / f"{name}_{label.replace(' ', '_')}.png"
                output.unlink(missing_ok=True)
                if method == "ebsynth":
                    command = ebsynth_command(binary, case["painting"], case["guides"], output)
                else:
                    arguments = ["--style", case["painting"], *doodle_guides(case["guides"])]
                    command = doodle_command(arguments, output, ["--random-seed", str(seed)])
                seconds, peak = run(command, output)
                rows[label] = dict(seconds=seconds, peak=peak, **measure(case, output))
                paths.append(output)
            sheet(paths[:2], out / f"{name}_sheet.png")
            print(f"\n{name} (sheet {out / f'{name}_sheet.png'}: EbSynth | doodle)")
            keys = list(rows["ebsynth"])
            print_table(rows, keys)
            doodles = [row for label, row in rows.items() if label.startswith("doodle")]
            mean = {key: float(np.mean([row[key] for row in doodles])) for key in keys}
            print(
                f"doodle, mean of {len(doodles)}: likeness {mean['likeness']:.3f}, crisp {mean['crisp']:.3f}, "
                f"time doodle / ebsynth {mean['seconds'] / rows['ebsynth']['seconds']:.2f}"
            )
        if options.before:
            same_as_before(options.before, out)


if __name__ == "__main__":
    main()
