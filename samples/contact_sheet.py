"""Put images side by side with a caption under each: ``python samples/contact_sheet.py A.png B.png -o sheet.png``."""

from __future__ import annotations

import argparse

from PIL import Image, ImageDraw

HEIGHT, CAPTION, GAP = 192, 16, 4


def contact_sheet(paths: list[str], captions: list[str] | None = None) -> Image.Image:
    """Images scaled to a common height, left to right, each captioned with its file name."""
    images = [Image.open(p).convert("RGB") for p in paths]
    images = [im.resize((round(im.width * HEIGHT / im.height), HEIGHT)) for im in images]
    sheet = Image.new("RGB", (sum(im.width for im in images) + GAP * (len(images) - 1), HEIGHT + CAPTION), "white")
    draw, x = ImageDraw.Draw(sheet), 0
    for image, caption in zip(images, captions or [p.rsplit("/", 1)[-1] for p in paths], strict=True):
        sheet.paste(image, (x, 0))
        draw.text((x + 3, HEIGHT + 2), caption, fill="black")
        x += image.width + GAP
    return sheet


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("images", nargs="+")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--captions", help="comma-separated captions")
    args = parser.parse_args()
    contact_sheet(args.images, args.captions.split(",") if args.captions else None).save(args.output)
