"""Experimental design for scaling studies: where to place the runs whose losses a law is fitted to.

:func:`chinchilla_design` lays out training runs on IsoFLOP lines, the design of Hoffmann et al.
:cite:`hoffmann2022training`, with losses simulated from a known Chinchilla law, so that a fit can be checked
against the truth. Fitting is :mod:`helpers.scaling`, which re-exports :func:`chinchilla_design` so that
``from helpers.scaling import chinchilla_design`` keeps working.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers._validate import as_positive_array, finite_output, finite_scalar, positive_int
from helpers._validate import seed as _seed


def chinchilla_design(
    *,
    E: float, A: float, B: float, alpha: float, beta: float,  # noqa: N803
    budgets: Any = None,
    models_per_budget: int = 24,
    span: float = 30.0,
    noise_sd: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated training runs on IsoFLOP lines: a design like Chinchilla's, with losses from a known law.

    This is a **simulation** for teaching and testing. For each compute budget ``C`` it places
    ``models_per_budget`` model sizes log-evenly over a factor ``span`` around the law's compute-optimal size
    (``span`` wide in total), sets ``D = C / (6 N)``, and draws the loss from
    :func:`helpers.scaling.chinchilla_loss` times ``exp(noise)`` with Gaussian noise of standard deviation
    ``noise_sd`` on the log scale (so the noise is multiplicative, as the fitting objective assumes).

    Parameters
    ----------
    E, A, B, alpha, beta : float
        The true law.
    budgets : array-like, optional
        Compute budgets in FLOPs; default ten budgets log-evenly from ``1e18`` to ``1e22`` (a choice of this
        book, not the original paper's grid).
    models_per_budget : int, default 24
        Models per budget (the default design has 240 runs, the size of the data refitted by
        :cite:`besiroglu2024chinchilla`).
    span : float, default 30.0
        Ratio of the largest to the smallest model on each IsoFLOP line.
    noise_sd : float, default 0.0
        Standard deviation of the log-loss noise.
    seed : int, default 0
        Seed of the noise.

    Returns
    -------
    DataFrame
        Columns ``C``, ``N``, ``D``, ``loss`` (noisy), ``true_loss``.

    Examples
    --------
    >>> from helpers.design import chinchilla_design
    >>> runs = chinchilla_design(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    >>> len(runs), bool(((6 * runs.N * runs.D / runs.C).round(9) == 1).all())
    (240, True)
    """
    E = finite_scalar(E, "E", low=0.0, example=1.69)  # noqa: N806
    # The design is centred on the compute-optimal size, which exists only for positive scales and exponents.
    A = finite_scalar(A, "A", low=0.0, low_open=True, example=406.4)  # noqa: N806
    B = finite_scalar(B, "B", low=0.0, low_open=True, example=410.7)  # noqa: N806
    alpha = finite_scalar(alpha, "alpha", low=0.0, low_open=True, example=0.34)
    beta = finite_scalar(beta, "beta", low=0.0, low_open=True, example=0.28)
    # Imported here, not at the top: helpers.scaling imports this module to re-export chinchilla_design.
    from helpers.scaling import ChinchillaFit

    truth = ChinchillaFit(E, A, B, alpha, beta, n=0, huber_delta=np.nan, objective=np.nan, ci={})
    budgets = np.geomspace(1e18, 1e22, 10) if budgets is None else as_positive_array(budgets, "budgets")
    # 10,000 models per budget is far beyond any real sweep and keeps the design's memory small.
    k = positive_int(models_per_budget, "models_per_budget", minimum=2, maximum=10_000)
    if budgets.size * k > 10_000_000:
        raise ValueError(f"The design would have {budgets.size * k:,} runs; pass fewer budgets or models_per_budget.")
    span = finite_scalar(span, "span", low=1.0, low_open=True, example=30.0)
    noise_sd = finite_scalar(noise_sd, "noise_sd", low=0.0, example=0.02)
    seed = _seed(seed)
    centre = truth.compute_optimal(budgets)["N_opt"].to_numpy()
    factors = np.exp(np.linspace(-0.5, 0.5, k) * np.log(span))  # span**0.5 overflows for a huge span
    C = np.repeat(budgets, k)  # noqa: N806
    N = (centre[:, None] * factors[None, :]).ravel()  # noqa: N806
    D = C / (6 * N)  # noqa: N806
    finite_output(np.concatenate([N, D]), "The design's model and data sizes", inputs="constants, budgets and span")
    true = truth.predict(N, D)
    noise = np.random.default_rng(seed).normal(0.0, noise_sd, size=true.size) if noise_sd else 0.0
    return pd.DataFrame({"C": C, "N": N, "D": D, "loss": true * np.exp(noise), "true_loss": true})
