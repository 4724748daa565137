"""Benchmark: ``helpers.disaggregate.fit_by_group`` and ``third_axis`` at the sizes the book promises.

The requirement (issue 8): 1,000 bootstrap resamples for 10 groups "in a few seconds". The data are simulated:
10 groups whose laws are perturbations of the data-scaling part of the Besiroglu et al. (2024) refit
(``L(D) = E + B / D**beta`` at a fixed model size), measured at 8 data sizes with 3 seeds each (24 points per
group) and log-normal noise; and 51 communities (the number of CCES states) for ``third_axis``, added in random
order.

Not part of the default test run. From the repository root::

    python tests/benchmarks/bench_disaggregate.py              # default: n_boot=1000, 10 groups; 51 communities
    python tests/benchmarks/bench_disaggregate.py --budget 5   # fail if fit_by_group takes longer than 5 s

It prints the wall-clock times (best of ``--repeats`` runs) and exits with status 1 if ``fit_by_group`` with
1,000 resamples for 10 groups takes longer than ``--budget`` seconds. The machine's load inflates the times:
report them with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

from helpers.disaggregate import fit_by_group, third_axis
from helpers.scaling import power_law

# Besiroglu et al. (2024) refit: E, B, beta; the floor adds A / N**alpha at N = 1e11 parameters.
E, A, B, ALPHA, BETA = 1.817, 482.01, 2085.43, 0.348, 0.366
FLOOR = E + A / 1e11**ALPHA
SIZES = np.geomspace(1e9, 4e11, 8)


def simulate(n_groups: int, *, seeds: int = 3, noise: float = 0.01, rng_seed: int = 0) -> pd.DataFrame:
    """One row per (group, size, seed): laws with floors, scales and exponents spread around the refit."""
    rng = np.random.default_rng(rng_seed)
    floors = FLOOR + rng.uniform(0.0, 0.5, n_groups)
    scales = B * rng.uniform(0.5, 1.5, n_groups)
    exponents = BETA + rng.uniform(-0.05, 0.05, n_groups)
    frames = []
    for g in range(n_groups):
        mean = power_law(SIZES, a=scales[g], b=exponents[g], c=floors[g])
        loss = mean * np.exp(rng.normal(0.0, noise, size=(seeds, SIZES.size)))
        frames.append(pd.DataFrame({"D": np.tile(SIZES, seeds), "loss": loss.ravel(), "group": f"g{g:02d}",
                                    "seed": np.repeat(np.arange(seeds), SIZES.size),
                                    "n_eval": float(rng.integers(100, 5000))}))
    return pd.concat(frames, ignore_index=True)


def best_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--communities", type=int, default=51)
    parser.add_argument("--n-perm", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="time each call this many times, keep the best")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds allowed for fit_by_group (default 5)")
    args = parser.parse_args(argv)

    df = simulate(args.groups)
    t_fit, fit = best_time(lambda: fit_by_group(df, size="D", metric="loss", group="group", n_examples="n_eval",
                                                n_boot=args.n_boot, seed=1), args.repeats)
    table = fit.by_group
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (times are inflated by load)")
    print(f"fit_by_group: {args.groups} groups x {len(SIZES)} sizes x 3 seeds, n_boot={args.n_boot}: "
          f"{t_fit:.2f} s (best of {args.repeats}); {t_fit / (args.groups + 1):.3f} s per law "
          f"({args.groups} groups + the aggregate)")
    print(f"    exponent interval widths: median {np.median(table['b_high'] - table['b_low']):.3f}; "
          f"groups fitted: {int((table['status'] == 'ok').sum())}")

    communities = simulate(args.communities, rng_seed=1)
    for n_boot in (0, 200):
        t_axis, res = best_time(lambda: third_axis(communities, size="D", metric="loss", group="group",
                                                   n_examples="n_eval", order="random", n_perm=args.n_perm,
                                                   n_boot=n_boot, seed=2), args.repeats)
        last = res.curve.iloc[-1]
        print(f"third_axis: {args.communities} communities, random order, n_perm={args.n_perm}, n_boot={n_boot}: "
              f"{t_axis:.2f} s (best of {args.repeats}); {args.n_perm * args.communities} aggregate laws; "
              f"with all included: share described {last['share_described']:.2f}, "
              f"aggregate RMS log residual {last['aggregate_rmse']:.4f}")

    ok = t_fit <= args.budget
    print("PASS" if ok else f"FAIL: fit_by_group with n_boot={args.n_boot} for {args.groups} groups took "
                            f"{t_fit:.2f} s > {args.budget:g} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
