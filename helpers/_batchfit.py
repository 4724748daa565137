"""Many power laws at once: the laws, bootstrap draws and improvement lines of every group, in shared batches.

:func:`helpers.disaggregate.fit_by_group` used to call :func:`helpers.scaling.fit_power_law` once per group and
then, for the improvement table and the third axis, bootstrap every group again. Here each group is one row of a
batched solve: groups measured at the same sizes (in the same order) share one problem, the bootstrap resamples
of all of them are polished together, and the improvement line of every resample reuses the *same* resample
weights as the law, drawn once from the group's recorded seed. Per group the arithmetic is that of
``fit_power_law`` (same starts, same resample weights for the same seed, same solver), so results agree with it.

A group with more than :data:`COMPRESS_ABOVE` rows is fitted to its mean log metric at each distinct size,
weighted by the number of rows there. For the squared loss this is exactly the fit to every row (the sum of
squares splits into within-size and between-size parts); for the Huber loss it is a robust fit to the per-size
means. Its bootstrap still resamples rows: each resample's counts and means per size are recomputed.

It drives the solver through the internal interface of :mod:`helpers._solver`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers._solver import Problem, fit_batch, polish, power_params, resample_weights
from helpers._stats import percentile_interval
from helpers.scaling import PowerLawFit

#: Above this many rows a group is fitted to its per-size means (see the module documentation).
COMPRESS_ABOVE = 2000
#: Resample rows polished together; bounds the memory of the (rows, points, parameters) Jacobian.
CHUNK_ROWS = 40_000


@dataclass(frozen=True)
class Design:
    """One curve to fit: sizes ``x`` (m,), log metric ``logy`` (m,) and point weights ``w`` (m,).

    ``inverse``/``row_logy`` are set when the rows were compressed to per-size means: the size index and log
    metric of every original row, needed to recompute the means of a resample. ``boot_w``, when set, replaces
    the resample counts drawn from ``seed`` (paired resamples shared by several designs): counts of the rows
    (n_boot, rows), or for a compressed design counts of its sizes (n_boot, m).
    """

    x: np.ndarray
    logy: np.ndarray
    w: np.ndarray
    n_rows: int
    seed: int
    inverse: np.ndarray | None = None
    row_logy: np.ndarray | None = None
    boot_w: np.ndarray | None = None

    @property
    def compressed(self) -> bool:
        return self.inverse is not None


def design(x: np.ndarray, y: np.ndarray, seed: int, size_w: np.ndarray | None = None) -> Design:
    """The curve of one group's rows, compressed to per-size means above :data:`COMPRESS_ABOVE` rows.

    ``size_w`` (n_boot, distinct sizes of ``x`` in increasing order) resamples whole sizes instead of rows: every
    row of a size carries that size's count. It replaces the row counts drawn from ``seed``; it is given per
    size, not per row, so that a paired resample of a million rows costs (n_boot, sizes), not (n_boot, rows).
    """
    x = np.asarray(x, dtype=float)
    logy = np.log(np.asarray(y, dtype=float))
    if len(x) <= COMPRESS_ABOVE:
        boot_w = None if size_w is None else size_w[:, np.unique(x, return_inverse=True)[1]]
        return Design(x, logy, np.ones(len(x)), len(x), int(seed), boot_w=boot_w)
    sizes, inverse = np.unique(x, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(sizes)).astype(float)
    means = np.bincount(inverse, weights=logy, minlength=len(sizes)) / counts
    # Whole sizes resampled: a size's rows all come along, so its mean is unchanged and its weight scales.
    boot_w = None if size_w is None else size_w * counts[None, :]
    return Design(sizes, means, counts, len(x), int(seed), inverse, logy, boot_w)


def _resampled(d: Design, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    """Point weights and log metrics (n_boot, m) of every resample of ``d``."""
    if d.compressed and d.boot_w is not None:
        return d.boot_w, np.broadcast_to(d.logy, d.boot_w.shape)
    w = resample_weights(d.n_rows, n_boot, d.seed) if d.boot_w is None else d.boot_w
    if not d.compressed:
        return w, np.broadcast_to(d.logy, w.shape)
    m = len(d.x)
    offsets = (np.arange(n_boot) * m)[:, None] + d.inverse[None, :]
    counts = np.bincount(offsets.ravel(), weights=w.ravel(), minlength=n_boot * m).reshape(n_boot, m)
    sums = np.bincount(offsets.ravel(), weights=(w * d.row_logy[None, :]).ravel(),
                       minlength=n_boot * m).reshape(n_boot, m)
    return counts, np.where(counts > 0, sums / np.where(counts > 0, counts, 1), 0.0)


@dataclass(frozen=True)
class GroupResult:
    """The law of one group, and the improvement of its straight line over the measured range."""

    law: PowerLawFit
    improvement: float
    improvement_low: float
    improvement_high: float
    start: float


def _layouts(designs: list[Design]) -> Iterator[list[int]]:
    """Indices of designs that share sizes (in order), so that they can share one problem."""
    by_key: dict[tuple[int, bytes], list[int]] = {}
    for i, d in enumerate(designs):
        by_key.setdefault((len(d.x), d.x.tobytes()), []).append(i)
    yield from by_key.values()


def _polish_chunks(prob: Problem, theta: np.ndarray, w: np.ndarray, logy: np.ndarray, bar,
                   represents: int | None = None) -> np.ndarray:
    """Polish the rows in chunks of :data:`CHUNK_ROWS`; the bar advances by ``represents`` rows in all."""
    out = np.empty_like(theta)
    total = len(theta) if represents is None else represents
    for lo in range(0, len(theta), CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, len(theta))
        # Same cap as helpers._solver.bootstrap: only rows of a law the data do not pin down run that long.
        out[lo:hi], _ = polish(prob, theta[lo:hi], w[lo:hi], logy[lo:hi], max_iter=200)
        if bar is not None and len(theta):
            bar.update(total * hi // len(theta) - total * lo // len(theta))
    return out


def _distinct_resamples(w: np.ndarray, n_designs: int, n_boot: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of ``w`` (n_designs * n_boot, m) that are distinct within their design, and the map back to all rows.

    A design of m points has only C(2m - 1, m) distinct resamples (126 for five sizes), so 200 draws repeat
    many of them (about 82 distinct on average for five sizes) and each distinct one need be fitted only once:
    a row's iteration does not depend on the other rows of its batch, so the result is the same. Only for
    integer counts whose codes fit in 62 bits (small m, where repeats happen); otherwise ``None``.
    """
    if not len(w) or not np.array_equal(w, np.round(w)) or w.min() < 0:
        return None
    base, m = int(w.max()) + 1, w.shape[1]
    if base**m * max(n_designs, 1) >= 2**62:
        return None
    code = (w.astype(np.int64) * np.int64(base) ** np.arange(m, dtype=np.int64)).sum(axis=1)
    code += np.repeat(np.arange(n_designs, dtype=np.int64), n_boot) * np.int64(base) ** m
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return first, inverse


def fit_groups(designs: list[Design], *, irreducible: bool, loss: str, delta: float | None, n_boot: int,
               progress: bool | None = None, laws: bool = True,
               to_error: Callable[[np.ndarray], np.ndarray] | None = None,
               lines: bool = True) -> list[GroupResult | None]:
    """Fit a power law (``laws=True``) and an improvement line to every design; results in the order given.

    With ``laws=False`` only the lines are fitted (the Chinchilla form, whose laws are fitted elsewhere); the
    returned ``law`` is then the line itself. ``to_error`` maps the fitted quantity back to the error when the
    designs hold a transform of it (the logit scale), so that the improvement is in the metric's units. With
    ``lines=False`` (refits that need only the law) no line is fitted and the improvement fields are NaN.
    """
    if not (laws or lines):
        raise ValueError("fit_groups needs laws=True or lines=True.")
    consts = (irreducible, False) if laws and lines else ((irreducible,) if laws else (False,))
    total = len(designs) * (1 + n_boot) * len(set(consts))
    bar = _bar(total, progress)
    results: list[GroupResult | None] = [None] * len(designs)
    try:
        for idx in _layouts(designs):
            ds = [designs[i] for i in idx]
            log_x = np.log(ds[0].x)[:, None]
            logy = np.stack([d.logy for d in ds])
            w0 = np.stack([d.w for d in ds])
            boot = [_resampled(d, n_boot) for d in ds] if n_boot else []
            bw = np.concatenate([b[0] for b in boot]) if boot else None
            by = np.concatenate([b[1] for b in boot]) if boot else None
            # Repeated resamples are fitted once; with row-resampled compressed designs the counts per size do
            # not determine the resample (which rows were drawn sets the means), so they are all fitted.
            distinct = (_distinct_resamples(bw, len(ds), n_boot)
                        if boot and not any(d.compressed and d.boot_w is None for d in ds) else None)
            fitted: dict[bool, tuple[np.ndarray, np.ndarray, np.ndarray | None, Problem]] = {}
            for const in consts:
                prob = Problem.make(log_x, logy, const=const, delta=delta)
                theta, obj = fit_batch(prob, w0)
                if bar is not None:
                    bar.update(len(ds))
                draws = None
                if n_boot:
                    starts = np.repeat(theta, n_boot, axis=0)
                    if distinct is None:
                        draws = _polish_chunks(prob, starts, bw, by, bar)
                    else:
                        first, inverse = distinct
                        draws = _polish_chunks(prob, starts[first], bw[first], by[first], bar,
                                               represents=len(starts))[inverse]
                fitted[const] = (theta, obj, draws, prob)
                if laws and const is False and irreducible is False:
                    break  # the law is the line; nothing more to fit
            law_key = irreducible if laws else False
            for i, r in zip(idx, _results(ds, fitted[law_key], fitted.get(False), n_boot, loss=loss,
                                          irreducible=irreducible if laws else False, to_error=to_error)):
                results[i] = r
    finally:
        if bar is not None:
            bar.close()
    return results


def _results(ds: list[Design], law, line, n_boot: int, *, loss: str, irreducible: bool,
             to_error: Callable[[np.ndarray], np.ndarray] | None = None) -> list[GroupResult]:
    """The results of designs that share one layout; intervals for all of them in one quantile call each."""
    theta, obj, draws, prob = law
    G = len(ds)  # noqa: N806
    a, b, c = power_params(prob, theta)
    boot = lo = hi = None
    if draws is not None:
        boot = np.stack(power_params(prob, draws)).reshape(3, G, n_boot)
        lo, hi = percentile_interval(boot, axis=2)  # (3, G), as interval_dict computes it per group
    imp = np.full(G, np.nan), np.full(G, np.nan), np.full(G, np.nan), np.full(G, np.nan)
    if line is not None:
        ltheta, _, ldraws, lprob = line
        ends = np.array([ds[0].x.min(), ds[0].x.max()])  # one layout: the same sizes for every design
        back = to_error or (lambda v: v)
        la, lb, _ = power_params(lprob, ltheta)
        start_end = back(la[:, None] * ends[None, :] ** (-lb[:, None]))
        imp[0][:], imp[3][:] = start_end[:, 0] - start_end[:, 1], start_end[:, 0]
        if ldraws is not None:
            da, db, _ = power_params(lprob, ldraws)
            vals = back(da[:, None] * ends[None, :] ** (-db[:, None]))
            imp[1][:], imp[2][:] = percentile_interval((vals[:, 0] - vals[:, 1]).reshape(G, n_boot), axis=1)
    out = []
    for j, d in enumerate(ds):
        ci: dict[str, tuple[float, float]] = {}
        frame = None
        if boot is not None:
            frame = pd.DataFrame({"a": boot[0, j], "b": boot[1, j], "c": boot[2, j]})
            ci = {p: (float(lo[k, j]), float(hi[k, j])) for k, p in enumerate("abc")}
        fit = PowerLawFit(a=float(a[j]), b=float(b[j]), c=float(c[j]), n=int(d.n_rows), loss=loss,
                          irreducible=bool(irreducible), objective=float(obj[j]),
                          ci=ci, x_range=(float(d.x.min()), float(d.x.max())), boot=frame)
        out.append(GroupResult(fit, float(imp[0][j]), float(imp[1][j]), float(imp[2][j]), float(imp[3][j])))
    return out


def _bar(total: int, progress: bool | None):
    """A tqdm bar on standard error: when asked, or by default when it is a terminal (never in a notebook log)."""
    show = sys.stderr.isatty() if progress is None else bool(progress)
    if not show:
        return None
    from tqdm.auto import tqdm

    # delay: a fit that takes under a second never flashes a bar.
    return tqdm(total=total, desc="fitting groups", unit="fit", file=sys.stderr, delay=1.0, leave=False)
