"""doodle beside EbSynth, in one run: time, peak memory, fine detail kept ("crisp") and label quality.

Builds EbSynth (Jamriška et al. 2019) from ../shared/peers/ebsynth with its build.sh into a folder of
this run's own, then paints each case with:

- doodle: `doodle paint` with the default settings (the pixel finish);
- neural: `doodle paint --finish neural`, the network alone (doodle 0.3's way), for reference;
- ebsynth: EbSynth with its default settings, on the same painting and guides.

Cases (`--only` picks some):

- coastline: Monet -> Coastline 512x384, a doodle (EbSynth's guide: the two label maps);
- landscape: Renoir -> Landscape 512x320;
- portrait: the astronaut photo (352x512, its map drawn by bench_speed.py) painted as Van Gogh's
  self-portrait (EbSynth's guides: the maps, greyscale appearance 0.5 and position 10 weighted as its
  FaceStyle example; the portrait's worst region in the network's eyes, doodle.quality.label_agreement);
- texture: Renoir as a 384x384 texture (EbSynth: a blank guide pair), and flat paper's tint;
- large: Monet -> Coastline at 2048x1536 (the painting and maps scaled x4); `--huge` adds 4096x3072
  (doodle only, `--output-size`).

Figures: seconds (process start to file written), peak RSS of the process (GB), crisp (mean
|Laplacian| of the output over the painting's, doodle.quality.crispness), quality (share of interior
pixels whose 5x5 patch is most like the painting's in the label the map asks for,
doodle.quality.patch_agreement). Sheets (doodle | EbSynth | neural) are written to --out.

    python benchmarks/bench_peer.py                      # ~5 min on 2 CPU cores
    python benchmarks/bench_peer.py --only large --huge  # the sizes
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import DATA, SHARED, WEIGHTS, make_portrait  # noqa: E402

import semantic_maps  # noqa: E402
from doodle.images import load_rgb, to_tensor  # noqa: E402
from doodle.quality import crispness, patch_agreement  # noqa: E402

EBSYNTH = SHARED / "peers" / "ebsynth"


def run(command: list, output: Path) -> tuple[float, float]:
    """Seconds and peak RSS (GB) of one process that writes ``output``. The peak is the process's own
    high-water mark (``VmHWM``, read every 10 ms: the forking Python's pages do not count)."""
    start = time.perf_counter()
    process = subprocess.Popen([str(part) for part in command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
        except (OSError, IndexError, ValueError):
            pass
        time.sleep(0.01)
    seconds = time.perf_counter() - start
    error = process.stderr.read().decode()
    if process.returncode != 0 or not output.is_file():
        raise SystemExit(f"error: {' '.join(map(str, command))} failed:\n{error.strip()}")
    return seconds, peak * 1024 / 1e9


def doodle_command(args: list, output: Path, extra: list) -> list:
    return [sys.executable, "-m", "doodle", "paint", *args, "--weights", WEIGHTS, "-o", output, "--quiet", *extra]


def ebsynth_command(binary: Path, style: Path, guides: list[tuple[Path, Path, float]], output: Path) -> list:
    command = [binary, "-style", style]
    for source, target, weight in guides:
        command += ["-guide", source, target, "-weight", weight]
    return command + ["-output", output]


def labels_of(path: Path, palette: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """A map's label per pixel at ``shape = (H, W)``, -1 on edges (no label over 0.99)."""
    rgb = np.asarray(Image.open(path).convert("RGB").resize((shape[1], shape[0]), Image.NEAREST))
    weights = torch.from_numpy(semantic_maps.encode_labels(rgb, palette))
    labels = weights.argmax(0)
    labels[weights.max(0).values < 0.99] = -1
    return labels


def png(path: Path, folder: Path, size: tuple[int, int] | None = None, grey: bool = False) -> Path:
    """``path`` as a PNG (EbSynth reads PNG), resized (nearest: maps stay flat) or greyscale."""
    image = Image.open(path).convert("L" if grey else "RGB")
    if size is not None and image.size != size:
        image = image.resize(size, Image.BILINEAR)  # maps keep their anti-aliased edges
    name = f"{path.stem}{'_grey' if grey else ''}{'' if size is None else f'_{size[0]}x{size[1]}'}.png"
    image.convert("RGB").save(folder / name)
    return folder / name


def position(size: tuple[int, int], folder: Path, name: str) -> Path:
    """A positional guide: x in red, y in green, as EbSynth's examples draw it."""
    width, height = size
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    Image.fromarray(np.stack([x, y, np.zeros_like(x)], -1).astype(np.uint8)).save(folder / name)
    return folder / name


def cases(folder: Path, only: set[str], huge: bool) -> dict[str, dict]:
    paintings, maps = DATA / "paintings", DATA / "maps"
    monet, renoir, gogh = (png(paintings / f"{name}.jpg", folder) for name in ("Monet", "Renoir", "Gogh"))
    found = {}
    for name, painting, painting_map, doodle_map in (
        ("coastline", monet, maps / "Monet_sem.png", maps / "Coastline_sem.png"),
        ("landscape", renoir, maps / "Renoir_sem.png", maps / "Landscape_sem.png"),
    ):
        found[name] = dict(
            args=["--style", painting, "--style-map", painting_map, "--map", doodle_map],
            guides=[(png(painting_map, folder), png(doodle_map, folder), 1.0)],
            painting=painting,
            maps=(painting_map, doodle_map),
        )
    if "portrait" in only:
        photo, photo_map = make_portrait(folder)
        size = Image.open(photo).size
        found["portrait"] = dict(
            args=[
                "--style",
                gogh,
                "--style-map",
                maps / "Gogh_sem.png",
                "--content",
                photo,
                "--content-map",
                photo_map,
            ],
            guides=[
                (png(maps / "Gogh_sem.png", folder), photo_map, 1.5),
                (png(gogh, folder, grey=True), png(photo, folder, grey=True), 0.5),
                (position(Image.open(gogh).size, folder, "gogh_xy.png"), position(size, folder, "photo_xy.png"), 10.0),
            ],
            painting=gogh,
            maps=(maps / "Gogh_sem.png", photo_map),
        )
    if "texture" in only:
        blank_source = Image.new("RGB", Image.open(renoir).size, "#808080")
        blank_source.save(folder / "blank_renoir.png")
        Image.new("RGB", (384, 384), "#808080").save(folder / "blank_384.png")
        found["texture"] = dict(
            args=["--style", renoir, "--output-size", "384x384"],
            guides=[(folder / "blank_renoir.png", folder / "blank_384.png", 1.0)],
            painting=renoir,
            maps=None,
        )
    for name, factor in (("large", 4), ("huge", 8)):
        if name == "huge" and not huge:
            continue
        size = (512 * factor, 384 * factor)
        painting = folder / f"Monet_x{factor}.png"
        Image.open(monet).resize(size, Image.BICUBIC).save(painting)
        painting_map = png(maps / "Monet_sem.png", folder, size)
        doodle_map = png(maps / "Coastline_sem.png", folder, size)
        # At x4 both get the scaled files; at x8 the maps' anti-aliased edges, scaled, are wide enough to
        # read as labels of their own: doodle scales the painting and maps itself (--output-size).
        args = ["--style", painting, "--style-map", painting_map, "--map", doodle_map]
        if factor == 8:
            args = ["--style", monet, "--style-map", maps / "Monet_sem.png", "--map", maps / "Coastline_sem.png"]
            args += ["--output-size", f"{size[0]}x{size[1]}"]
        found[name] = dict(
            args=args,
            guides=[(painting_map, doodle_map, 1.0)],
            painting=painting,
            maps=(painting_map, doodle_map),
            neural=False,
            ebsynth=name == "large",
        )
    return {name: case for name, case in found.items() if name in only or (name == "huge" and huge)}


def light_chroma(path: Path) -> float:
    from doodle.colors import rgb_to_yiq

    y, i, q = rgb_to_yiq(to_tensor(load_rgb(path)))[0]
    return float(torch.hypot(i, q)[y > 0.8].mean())


def measure(case: dict, output: Path, network) -> dict:
    """crisp, quality (with maps), the worst region (a portrait) and the paper's tint (a texture)."""
    image, painting = to_tensor(load_rgb(output))[0], to_tensor(load_rgb(case["painting"]))[0]
    figures = dict(crisp=crispness(image, painting))
    if case["maps"] is not None:
        palette, _ = semantic_maps.shared_palette(*(semantic_maps.read_map(path) for path in case["maps"]))
        painting_labels = labels_of(case["maps"][0], palette, tuple(painting.shape[-2:]))
        target_labels = labels_of(case["maps"][1], palette, tuple(image.shape[-2:]))
        figures["quality"] = patch_agreement(image, painting, painting_labels, target_labels)
    if case.get("worst") and network is not None:
        from bench_speed import quality

        figures["worst region"] = float(quality(network, output, (case["painting"], *case["maps"])).min())
    return figures


def print_table(rows: dict[str, dict], keys: list[str]) -> None:
    """A Markdown table: one row per method, one column per figure (3 significant digits)."""
    print("| | " + " | ".join(keys) + " |")
    print("| --- |" + " --- |" * len(keys))
    for method, row in rows.items():
        print(f"| {method} | " + " | ".join(f"{row.get(key, float('nan')):.3g}" for key in keys) + " |")


def sheet(paths: list[Path], output: Path) -> None:
    images = [Image.open(path).convert("RGB") for path in paths]
    height = min(image.height for image in images)
    images = [image.resize((round(image.width * height / image.height), height)) for image in images]
    canvas = Image.new("RGB", (sum(image.width for image in images), height))
    left = 0
    for image in images:
        canvas.paste(image, (left, 0))
        left += image.width
    canvas.save(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="coastline,landscape,portrait,texture,large")
    parser.add_argument("--huge", action="store_true", help="also 4096x3072 (doodle only; about 12 GB)")
    parser.add_argument("--no-neural", action="store_true", help="skip the --finish neural reference")
    parser.add_argument("--out", type=Path, default=None, help="where the images and sheets go (default: a temp dir)")
    parser.add_argument("--extra", default="", help="options added to every doodle paint")
    options = parser.parse_args()
    if not WEIGHTS.is_file() or not EBSYNTH.is_dir():
        raise SystemExit(f"error: needs {WEIGHTS} and {EBSYNTH}")
    out = options.out or Path(tempfile.mkdtemp(prefix="bench_peer_"))
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", EBSYNTH / "build.sh", out / "ebsynth-build"], check=True, capture_output=True)
    binary = out / "ebsynth-build" / "ebsynth"
    only = set(options.only.split(","))
    from doodle.vgg import load_vgg

    network = load_vgg("vgg16", WEIGHTS, preprocess="caffe") if "portrait" in only else None
    print(f"torch threads {torch.get_num_threads()}, out {out}")
    for name, case in cases(out, only, options.huge).items():
        case["worst"] = name == "portrait"
        rows, paths = {}, []
        methods = ["doodle"]
        methods += ["ebsynth"] if case.get("ebsynth", True) else []
        methods += ["neural"] if case.get("neural", True) and not options.no_neural else []
        for method in methods:
            output = out / f"{name}_{method}.png"
            output.unlink(missing_ok=True)
            if method == "ebsynth":
                command = ebsynth_command(binary, case["painting"], case["guides"], output)
            else:
                extra = options.extra.split() + (["--finish", "neural"] if method == "neural" else [])
                command = doodle_command(case["args"], output, extra)
            seconds, peak = run(command, output)
            rows[method] = dict(seconds=seconds, peak=peak, **measure(case, output, network))
            paths.append(output)
        if name == "texture":
            paper = light_chroma(Path(case["painting"]))
            for method in rows:
                rows[method]["paper tint"] = light_chroma(out / f"{name}_{method}.png") / paper
        sheet(paths, out / f"{name}_sheet.png")
        print(f"\n{name} ({', '.join(methods)}; sheet {out / f'{name}_sheet.png'})")
        print_table(rows, list(rows["doodle"]))
        if "ebsynth" in rows:
            ratio = rows["doodle"]["seconds"] / rows["ebsynth"]["seconds"]
            print(f"time doodle / ebsynth: {ratio:.2f}")


if __name__ == "__main__":
    main()
