"""``helpers.sampling.frame_sample``: the random and convenience frames the experiments and the local designs draw
their samples with. A file of its own beside ``test_sampling.py`` so that the test runner's workers (one file
each) share the slow inclusion-rate simulation with the rest of that module's tests."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.sampling import frame_sample


def _inclusion_ratio(frame: str, n_seeds: int = 1000) -> float:
    labels = np.array(["major"] * 5000 + ["minor"] * 5000)
    draws = np.concatenate([labels[frame_sample(labels, 100, frame=frame, majority_weight=4.0, seed=s)]
                            for s in range(n_seeds)])
    # Both groups have 5000 members, so the ratio of counts is the ratio of inclusion rates.
    return (draws == "major").sum() / (draws == "minor").sum()


def test_convenience_frame_overdraws_the_majority_by_its_weight() -> None:
    # 1000 samples of 100 from a 50/50 pool of 10,000: ~80,000 majority vs ~20,000 minority draws. The ratio
    # T / S_minor - 1 has sd ~ T * sd(S_minor) / S_minor^2 = 1e5 * sqrt(1e5 * .8 * .2) / 2e4^2 ~ 0.03, and
    # depletion of the majority (1 % sampling fraction) lowers the expectation to 3.976 (successive sampling:
    # (1 - exp(-4t)) / (1 - exp(-t)) with t = 100 / 25,000). Tolerance 0.15 = 0.024 bias + ~4 sd.
    assert abs(_inclusion_ratio("convenience") - 4.0) < 0.15
    # Random frame: ratio 1, sd ~ 0.01, same 4-sd margin.
    assert abs(_inclusion_ratio("random") - 1.0) < 0.05


def test_frame_samples_are_nested_and_exhaust_the_pool() -> None:
    labels = np.repeat(["a", "b"], [300, 100])
    small = frame_sample(labels, 50, frame="convenience", seed=3)
    large = frame_sample(labels, 200, frame="convenience", seed=3)
    full = frame_sample(labels, 400, frame="convenience", seed=3)
    assert (large[:50] == small).all()
    assert np.array_equal(np.sort(full), np.arange(400))


def test_frame_sample_old_size_keyword_still_works_for_one_release_with_a_warning() -> None:
    labels = np.repeat(["a", "b"], 50)
    with pytest.warns(FutureWarning, match="size was renamed n"):
        old = frame_sample(labels, size=20, frame="convenience", seed=2)
    np.testing.assert_array_equal(old, frame_sample(labels, 20, frame="convenience", seed=2))
    with pytest.raises(ValueError, match="size=200 exceeds the pool"):
        with pytest.warns(FutureWarning):
            frame_sample(labels, size=200)
    with pytest.raises(ValueError, match="n is required"):
        frame_sample(labels)
