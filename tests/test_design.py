"""Tests of helpers.design: the simulated runs sit where the design puts them, judged by the law's closed-form
compute-optimal size and the noise level the runs were drawn with."""

from __future__ import annotations

import numpy as np
import pytest

import helpers.scaling
from helpers.design import chinchilla_design
from helpers.scaling import ChinchillaFit

HOFFMANN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def test_design_sits_on_isoflop_lines_around_the_optimum():
    runs = chinchilla_design(**HOFFMANN, models_per_budget=9, span=10.0)
    assert len(runs) == 90
    np.testing.assert_allclose(6 * runs["N"] * runs["D"], runs["C"])
    truth = ChinchillaFit(**HOFFMANN, n=0, huber_delta=1e-3, objective=0.0, ci={})
    for C, line in runs.groupby("C"):
        # the middle model is the optimum, so it has the lowest loss on its line
        assert line["true_loss"].idxmin() == line.index[4]
        assert line["N"].iloc[4] == pytest.approx(truth.compute_optimal([C])["N_opt"].iloc[0])
    noisy = chinchilla_design(**HOFFMANN, noise_sd=0.05, seed=1)
    assert np.std(np.log(noisy["loss"] / noisy["true_loss"])) == pytest.approx(0.05, rel=0.15)


def test_scaling_still_exports_the_design():
    # Chapters import the design from helpers.scaling; it must be the same function, not a copy.
    assert helpers.scaling.chinchilla_design is chinchilla_design


@pytest.mark.parametrize("bad, match", [({"A": 0.0}, "A must be > 0"), ({"span": 1.0}, "span must be > 1"),
                                        ({"models_per_budget": 1}, "models_per_budget must be >= 2"),
                                        ({"seed": 1.5}, "seed must be an integer")])
def test_bad_design_raises_the_library_error(bad, match):
    with pytest.raises(ValueError, match=match):
        chinchilla_design(**{**HOFFMANN, **bad})
