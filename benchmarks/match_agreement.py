"""How often the fast matcher picks what the exact one would, at every search of a real run.

Paints once with the fast matcher; beside every search it also runs the exact search on the same
features (which makes the run slow: no timings here) and prints, per layer and per label, the share
of output patches whose fast match is the exact best, and the regret (how far the fast matches'
mean score falls below the exact best's, as a share of the latter). Run from the repository root:

    python benchmarks/match_agreement.py --size 512x384 --seed 0
"""

from __future__ import annotations

import argparse
import sys

import torch
from bench_doodle import WEIGHTS, load_pair

import semantic_maps
from doodle import PaintSettings, build_scene, load_vgg, paint_scene
from doodle import mrf as mrf_module
from doodle.matching import FastMatcher
from doodle.patches import extract_patches, match_keys
from doodle.settings import parse_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pair", default="Monet:Coastline", help="PAINTING:DOODLE, as in bench_doodle.py")
    parser.add_argument("--size", default="512x384")
    parser.add_argument("--phases", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not WEIGHTS.is_file():
        print(f"error: {WEIGHTS} not found; this benchmark needs ../shared", file=sys.stderr)
        return 1
    painting, style_map, doodle_map = load_pair(args.pair)
    size = parse_size(args.size)
    scene = build_scene(painting, style_map=style_map, target_map=doodle_map, output_size=size)
    network = load_vgg(weights=WEIGHTS)
    fast_match = mrf_module.MRFLoss.match
    searches: dict[tuple[int, ...], int] = {}  # by (channels, height, width): one layer of one phase
    labels = " ".join(semantic_maps.to_hex(colour) for colour in scene.palette)
    print(f"{args.pair}, {args.size}, seed {args.seed}; per label ({labels}): share on the exact best / regret")

    def compared(loss: mrf_module.MRFLoss, features: torch.Tensor) -> torch.Tensor:
        found = fast_match(loss, features)
        matcher = loss.matcher
        if not isinstance(matcher, FastMatcher) or matcher.query_labels is None:
            return found
        exact = matcher.exact
        with torch.no_grad():
            patches = extract_patches(features.detach(), loss.size)
            queries = match_keys(patches, exact.target_label_patches, exact.semantic_weight)
            best = exact(patches, loss.patch_grid(features.shape[-2:]))
            best_score = (queries * exact.keys[best]).sum(1)
            shortfall = best_score - (queries * exact.keys[found]).sum(1)
        grid = tuple(features.shape[-3:])
        searches[grid] = searches.get(grid, 0) + 1
        parts = []
        for label in range(len(scene.palette)):
            chosen = matcher.query_labels == label
            if chosen.any():
                parts.append(
                    f"{(found == best)[chosen].float().mean():.2f}/"
                    f"{shortfall[chosen].mean() / best_score[chosen].mean() * 100:.2f}%"
                )
            else:
                parts.append("-")
        print(
            f"{grid[0]:>4} channels {grid[2]:>4}x{grid[1]:<4} search {searches[grid]:>2}: " + " ".join(parts),
            flush=True,
        )
        return found

    mrf_module.MRFLoss.match = compared
    paint_scene(
        scene, PaintSettings(output_size=size, phases=args.phases, random_seed=args.seed, matcher="fast"), network
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
