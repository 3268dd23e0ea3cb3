"""The optimiser loop: one phase's pixels fitted to its objective."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .objective import Objective

__all__ = ["optimise"]


def optimise(
    objective: Objective,
    image: Tensor,
    iterations: int,
    on_step: Callable[[int, float, Tensor], None],
    *,
    method: str = "lbfgs",
    match_every: int = 10,
) -> Tensor:
    """Fit the pixels of ``image (1, 3, h, w)`` for ``iterations`` steps; ``on_step(iteration, loss,
    image)`` after every one. -> the image, clamped to ``[0, 1]``.

    L-BFGS with a strong-Wolfe line search (a fixed step overshoots on the quartic Gram loss);
    patch matches are refreshed before every ``match_every`` iterations, never inside a line search.
    """
    image = image.clone().requires_grad_(True)
    if method == "adam":
        return _adam(objective, image, iterations, on_step, match_every)
    optimiser = torch.optim.LBFGS(
        [image], lr=1.0, history_size=50, line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0
    )
    progress = {"reported": 0, "loss": float("nan"), "block_start": True}

    def report(completed: int) -> None:
        while progress["reported"] < completed:
            on_step(progress["reported"], progress["loss"], image.detach())
            progress["reported"] += 1

    def closure() -> Tensor:
        # LBFGS counts iterations in its state; the first evaluation of a call precedes its first iteration.
        iteration = optimiser.state[image].get("n_iter", 0)
        report(iteration if progress["block_start"] else iteration - 1)
        progress["block_start"] = False
        loss = objective.evaluate(image)
        progress["loss"] = float(loss.detach())
        return loss

    # One L-BFGS call per block of ``match_every`` iterations, each on fixed matches; the curvature
    # history carries over (the matches change little from one block to the next).
    done = 0
    while done < iterations:
        objective.refresh_matches()
        block = min(match_every, iterations - done)
        optimiser.param_groups[0].update(max_iter=block, max_eval=2 * block)
        progress["block_start"] = True
        optimiser.step(closure)
        if optimiser.state[image]["n_iter"] == done:
            break  # converged
        done = optimiser.state[image]["n_iter"]
    report(iterations)  # the last iteration, or all remaining ones if converged early
    return image.detach().clamp(0.0, 1.0)


def _adam(objective: Objective, image: Tensor, iterations: int, on_step, match_every: int) -> Tensor:
    optimiser = torch.optim.Adam([image], lr=0.02)
    for iteration in range(iterations):
        if iteration % match_every == 0:
            objective.refresh_matches()
        loss = objective.evaluate(image)
        optimiser.step()
        on_step(iteration, float(loss.detach()), image.detach())
    return image.detach().clamp(0.0, 1.0)
