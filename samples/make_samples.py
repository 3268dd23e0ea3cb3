"""Make the bundled sample inputs: a brush-stroke seaside "painting", its map, a new doodle, the same
seaside at sunset (a second painter for blends), ink shapes on light paper (for textures), the
keyframes of a rock rising from the sea and a camera's pan across the astronaut photo (animations),
and a StyLit-style pair for guides: a painted sphere, its render passes, and a new shape's passes.

Everything here is drawn by this script, so it is ours to ship; the pan is cut from scikit-image's
public-domain astronaut photo (samples/astronaut.png).
Run from the repository root: ``python samples/make_samples.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from semantic_maps import grow_upward

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 256, 192
LABELS = {"sky": "#ffffff", "sea": "#0000ff", "cliffs": "#ff331f", "beach": "#ffff00"}
# base colours each region's strokes are drawn around (RGB), and the strokes' main direction
STROKES = {
    "sky": ([(120, 160, 215), (185, 205, 235), (235, 235, 240)], 0.0, 0.5),
    "sea": ([(30, 70, 140), (60, 110, 170), (20, 50, 100)], 0.0, 0.1),
    "cliffs": ([(150, 110, 80), (200, 170, 120), (90, 70, 60)], 1.4, 0.6),
    "beach": ([(215, 185, 130), (190, 150, 100), (235, 215, 170)], 0.3, 0.8),
}


# The same seaside at sunset: another painter of the same scene type, for blends (--style-blend).
SUNSET_STROKES = {
    "sky": ([(240, 150, 90), (250, 200, 120), (210, 110, 120)], 0.0, 0.3),
    "sea": ([(70, 50, 110), (120, 70, 110), (40, 30, 80)], 0.0, 0.1),
    "cliffs": ([(110, 50, 40), (160, 80, 50), (60, 30, 35)], 1.4, 0.6),
    "beach": ([(230, 160, 90), (200, 120, 70), (250, 190, 120)], 0.3, 0.8),
}


def _layout(kind: str) -> Image.Image:
    """A label map: ``painting`` (the painting's layout) or ``doodle`` (a new scene)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), LABELS["sky"])
    draw = ImageDraw.Draw(canvas)
    if kind == "painting":
        draw.rectangle([0, 100, WIDTH, HEIGHT], fill=LABELS["sea"])
        draw.polygon([(0, 40), (40, 30), (85, 55), (100, 110), (90, 150), (0, 160)], fill=LABELS["cliffs"])
        draw.polygon([(110, HEIGHT), (170, 150), (WIDTH, 135), (WIDTH, HEIGHT)], fill=LABELS["beach"])
    else:
        draw.rectangle([0, 115, WIDTH, HEIGHT], fill=LABELS["sea"])
        draw.polygon([(WIDTH, 25), (200, 35), (170, 80), (160, 130), (180, 170), (WIDTH, 175)], fill=LABELS["cliffs"])
        draw.ellipse([60, 95, 120, 135], fill=LABELS["cliffs"])  # a rock island
        draw.polygon([(0, 150), (60, 160), (130, HEIGHT), (0, HEIGHT)], fill=LABELS["beach"])
    return canvas


def _paint(layout: Image.Image, rng: np.random.Generator, strokes: dict = STROKES) -> Image.Image:
    """Cover each region with short, jittered brush strokes of its colours."""
    labels = np.asarray(layout)
    canvas = Image.new("RGB", layout.size, (128, 128, 128))
    draw = ImageDraw.Draw(canvas)
    for _ in range(9000):
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        name = next(
            n for n, c in LABELS.items() if tuple(labels[y, x]) == tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))
        )
        colours, angle, spread = strokes[name]
        base = np.array(colours[rng.integers(len(colours))], float)
        colour = tuple(int(v) for v in np.clip(base + rng.normal(0, 12, 3), 0, 255))
        theta = angle + rng.normal(0, spread)
        length = rng.uniform(4, 12)
        dx, dy = np.cos(theta) * length / 2, np.sin(theta) * length / 2
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=colour, width=int(rng.integers(2, 5)))
    return canvas.filter(ImageFilter.SMOOTH)


PAPER = (242, 240, 234)  # the light, flat paper of the shapes painting
INKS = [(30, 40, 90), (170, 60, 40), (40, 35, 30), (60, 110, 70)]


def shapes_on_paper(rng: np.random.Generator, size: int = 192) -> Image.Image:
    """Ink shapes (rings, dots, short strokes) on light, nearly flat paper: the kind of painting whose
    texture synthesis must keep the paper its own colour."""
    grain = rng.normal(0, 2.5, (size, size, 1))
    canvas = Image.fromarray(np.clip(np.array(PAPER, float) + grain, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for _ in range(28):
        ink = INKS[rng.integers(len(INKS))]
        x, y, radius = (int(v) for v in (rng.integers(0, size), rng.integers(0, size), rng.integers(5, 16)))
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=ink, width=3)
        elif kind == 1:
            draw.ellipse([x - radius // 2, y - radius // 2, x + radius // 2, y + radius // 2], fill=ink)
        else:
            angle = rng.uniform(0, np.pi)
            dx, dy = np.cos(angle) * radius, np.sin(angle) * radius
            draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=ink, width=4)
    return canvas.filter(ImageFilter.SMOOTH)


# The StyLit-style pair (Fišer et al. 2016): one light from the upper left, a sphere and a new shape
# (a snowman of three spheres) rendered as passes, and the sphere painted in brush strokes by its shading.
LIGHT = np.array([-0.5, -0.6, 0.62]) / np.linalg.norm([-0.5, -0.6, 0.62])
SPHERE = [(96, 96, 72)]
SNOWMAN = [(96, 140, 46), (96, 82, 34), (96, 38, 24)]
SHADES = [(40, 30, 70), (120, 50, 60), (200, 100, 50), (240, 190, 110)]  # dark to light, as painted
BACKDROP = [(225, 215, 190), (210, 200, 175), (235, 228, 205)]


def render_passes(spheres: list[tuple[int, int, int]], size: int = 192) -> tuple[np.ndarray, np.ndarray]:
    """Spheres ``(x, y, radius)`` lit by :data:`LIGHT`, as passes: ``(size, size, 3)`` floats, red the
    diffuse light, green the highlight, blue where the object is; and its normals ``(size, size, 3)``."""
    ys, xs = np.mgrid[0:size, 0:size].astype(float)
    depth, normals = np.full((size, size), -np.inf), np.zeros((size, size, 3))
    for x, y, radius in spheres:
        inside = (xs - x) ** 2 + (ys - y) ** 2 < radius**2
        z = np.sqrt(np.clip(radius**2 - (xs - x) ** 2 - (ys - y) ** 2, 0, None))
        nearer = inside & (z > depth)
        depth[nearer] = z[nearer]
        normals[nearer] = np.stack([xs - x, ys - y, z], 2)[nearer] / radius
    mask = np.isfinite(depth)
    diffuse = np.clip(normals @ LIGHT, 0, 1)
    reflected = 2 * (normals @ LIGHT)[..., None] * normals - LIGHT
    highlight = np.clip(reflected[..., 2], 0, 1) ** 24
    passes = np.stack([diffuse * mask, highlight * mask, mask.astype(float)], 2)
    return passes, normals


def painted_sphere(rng: np.random.Generator, size: int = 192) -> Image.Image:
    """The sphere of :func:`render_passes` painted in short strokes: their colour by its light (dark
    violet to warm yellow, white in the highlight), their direction along its surface; the backdrop in
    light strokes."""
    passes, normals = render_passes(SPHERE, size)
    canvas = Image.new("RGB", (size, size), BACKDROP[0])
    draw = ImageDraw.Draw(canvas)
    for _ in range(7000):
        x, y = int(rng.integers(0, size)), int(rng.integers(0, size))
        diffuse, highlight, inside = passes[y, x]
        if inside:
            shade = min(int(diffuse * len(SHADES) + rng.normal(0, 0.3)), len(SHADES) - 1)
            base = np.array((250, 245, 235) if highlight > 0.5 else SHADES[max(shade, 0)], float)
            theta = np.arctan2(normals[y, x, 1], normals[y, x, 0]) + np.pi / 2 + rng.normal(0, 0.3)
        else:
            base = np.array(BACKDROP[rng.integers(len(BACKDROP))], float)
            theta = 0.4 + rng.normal(0, 0.5)
        colour = tuple(int(v) for v in np.clip(base + rng.normal(0, 10, 3), 0, 255))
        length = rng.uniform(4, 10)
        dx, dy = np.cos(theta) * length / 2, np.sin(theta) * length / 2
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=colour, width=int(rng.integers(2, 4)))
    return canvas.filter(ImageFilter.SMOOTH)


def rising_rock(height: int) -> Image.Image:
    """A keyframe of the animated sample: sea and sky, the beach, and a rock stack ``height`` pixels
    above the sea line (0: not yet risen)."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), LABELS["sky"])
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([0, 120, WIDTH, HEIGHT], fill=LABELS["sea"])
    draw.polygon([(0, 160), (90, 170), (150, HEIGHT), (0, HEIGHT)], fill=LABELS["beach"])
    if height > 0:
        draw.polygon([(150, 135), (160, 120 - height), (195, 125 - height), (205, 135)], fill=LABELS["cliffs"])
    return canvas


# The clip of the animated style transfer sample: a camera panning across the astronaut photo (this
# many pixels right and down a frame), frames of this size.
PAN_STEP, PAN_FRAMES, PAN_SIZE = (3, 6), 8, (192, 160)


def astronaut_pan(index: int) -> Image.Image:
    """Frame ``index`` (from 0) of a pan across samples/astronaut.png (scikit-image's public-domain
    astronaut): the window moves ``PAN_STEP`` (down, right) pixels a frame."""
    top, left = 8 + PAN_STEP[0] * index, 8 + PAN_STEP[1] * index
    return Image.open(HERE / "astronaut.png").convert("RGB").crop((left, top, left + PAN_SIZE[0], top + PAN_SIZE[1]))


def raise_sea_line(map_path: Path, output: Path, pixels: int = 30) -> None:
    """The edit of the "edit an existing painting" workflow: the sea (the label at the bottom
    middle) grows ``pixels`` upward over whatever lies above it, column by column."""
    rgb = np.asarray(Image.open(map_path).convert("RGB"))
    height, width = rgb.shape[:2]
    Image.fromarray(grow_upward(rgb, rgb[int(height * 0.7), width // 2], pixels)).save(output)


def main() -> None:
    rng = np.random.default_rng(2016)
    painting_map = _layout("painting")
    _paint(painting_map, rng).save(HERE / "seaside.png")
    painting_map.save(HERE / "seaside_sem.png")
    _layout("doodle").save(HERE / "doodle_sem.png")
    shapes_on_paper(np.random.default_rng(7)).save(HERE / "paper_shapes.png")
    _paint(painting_map, np.random.default_rng(1872), SUNSET_STROKES).save(HERE / "seaside_sunset.png")
    (HERE / "rising_rock").mkdir(exist_ok=True)  # keyframes of the animated sample (doodle animate)
    for index, height in enumerate((0, 45, 90), start=1):
        rising_rock(height).save(HERE / "rising_rock" / f"key{index}.png")
    painted_sphere(np.random.default_rng(2016)).save(HERE / "sphere_painted.png")  # guides: StyLit's pair
    for name, spheres in (("sphere", SPHERE), ("snowman", SNOWMAN)):
        passes = render_passes(spheres)[0]
        Image.fromarray((passes * 255).round().astype(np.uint8)).save(HERE / f"{name}_passes.png")
    (HERE / "astronaut_pan").mkdir(exist_ok=True)  # the clip of the animated style transfer sample
    for index in range(PAN_FRAMES):
        astronaut_pan(index).save(HERE / "astronaut_pan" / f"frame{index + 1}.png")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["raise-sea-line"]:
        raise_sea_line(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
