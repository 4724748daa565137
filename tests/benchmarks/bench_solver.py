"""Benchmark: the batched Levenberg-Marquardt ``helpers._solver.polish`` against its earlier row-major version.

Until commit ``eff8a99`` the iteration kept rows by points (B, n), formed the normal equations with ``einsum``
and solved them with ``numpy.linalg.solve``. The current one works on points by rows (n, B), drops rows that
have stopped, and solves the small systems by a Cholesky factorisation written out over the batch. This script
loads the earlier module from git (``git show eff8a99:helpers/_solver.py``), runs both on the same warm-started
bootstrap problems and prints CPU seconds and how often the objectives differ. Not part of the default test run::

    python tests/benchmarks/bench_solver.py

The problems are the ones the audit meets most: 200 resamples each of simulated five-size groups (a power law
with a floor, Huber loss) and of straight lines, and Chinchilla fits of two sizes. It exits 1 if the new version
is slower on any problem, or if its objective is worse than the old one by more than 1e-6 (relative) on more
than 1% of the rows: rows may stop at different points of a flat valley, which the percentile intervals do
not see, but the new version must not stop early as a rule.
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from helpers import _solver as new  # noqa: E402
from helpers.scaling import chinchilla_design  # noqa: E402

OLD_REV = "eff8a99"


def old_module() -> types.ModuleType:
    src = subprocess.run(["git", "show", f"{OLD_REV}:helpers/_solver.py"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    mod = types.ModuleType("solver_old")
    sys.modules["solver_old"] = mod  # dataclasses look their module up here
    exec(compile(src, "solver_old", "exec"), mod.__dict__)
    return mod


def power_groups(groups: int, n_boot: int, *, const: bool, delta: float | None, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e3, 1e6, 5)
    b, c = rng.uniform(0.1, 0.5, groups), rng.uniform(0.02, 0.2, groups)
    y = (3 * x[None, :] ** -b[:, None] + c[:, None]) * np.exp(rng.normal(0, 0.05, (groups, 5)))
    prob = new.Problem.make(np.log(x)[:, None], np.log(y), const=const, delta=delta)
    theta, _ = new.fit_batch(prob, np.ones_like(prob.logy))
    w = np.concatenate([new.resample_weights(5, n_boot, g) for g in range(groups)])
    return prob, np.repeat(theta, n_boot, axis=0), w, np.repeat(prob.logy, n_boot, axis=0)


def chinchilla(n_boot: int, seed: int = 0):
    # Close to Besiroglu et al.'s (2024) estimates (rounded), 8 budgets x 5 models, 2% log-normal noise.
    design = chinchilla_design(E=1.82, A=482.0, B=2085.0, alpha=0.35, beta=0.37,
                               budgets=np.geomspace(1e18, 1e21, 8), models_per_budget=5, noise_sd=0.02, seed=seed)
    N, D, y = (design[c].to_numpy() for c in ("N", "D", "loss"))  # noqa: N806
    prob = new.Problem.make(np.log(np.column_stack([N, D])), np.log(y), const=True, delta=1e-3)
    theta, _ = new.fit(prob)
    w = new.resample_weights(len(N), n_boot, seed)
    return prob, np.repeat(theta[None], n_boot, axis=0), w, np.repeat(prob.logy, n_boot, axis=0)


def timed(module, prob, theta, w, logy):
    prob = module.Problem.make(prob.L + prob.centre, prob.logy, const=prob.const, delta=prob.delta)
    t0 = time.process_time()
    out, obj = module.polish(prob, theta, w, logy, max_iter=200)
    return time.process_time() - t0, obj


def main() -> int:
    old = old_module()
    cases = {
        "power law + floor, Huber (40,000 rows)": power_groups(200, 200, const=True, delta=1e-3),
        "power law + floor, squared (40,000 rows)": power_groups(200, 200, const=True, delta=None),
        "straight line, Huber (40,000 rows)": power_groups(200, 200, const=False, delta=1e-3),
        "Chinchilla, Huber (2,000 rows of 40 points)": chinchilla(2000),
    }
    failed = False
    print(f"{'problem':46s} {'old CPU s':>9s} {'new CPU s':>9s} {'speed-up':>8s} {'worse':>7s} {'better':>7s}")
    for name, (prob, theta, w, logy) in cases.items():
        t_old, o_old = timed(old, prob, theta, w, logy)
        t_new, o_new = timed(new, prob, theta, w, logy)
        tol = 1e-6 * np.maximum(o_old, 1e-12)
        worse, better = np.mean(o_new - o_old > tol), np.mean(o_old - o_new > tol)
        print(f"{name:46s} {t_old:9.2f} {t_new:9.2f} {t_old / t_new:7.1f}x {worse:7.2%} {better:7.2%}")
        failed |= t_new > t_old or worse > 0.01
    return int(failed)


if __name__ == "__main__":
    raise SystemExit(main())
