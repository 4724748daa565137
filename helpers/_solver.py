"""The batched solver behind every power-law and Chinchilla fit of :mod:`helpers`.

:mod:`helpers.scaling` explains the method (variable-projection starts, then a batched Levenberg-Marquardt
iteration on the Huber majoriser, with bootstrap resamples as point weights). This module is its implementation,
shared by :mod:`helpers.scaling`, :mod:`helpers._batchfit`, :mod:`helpers.disaggregate` and :mod:`helpers.audit`.
It is private to the package: nothing here validates its input, so callers check arguments first (the public
functions of :mod:`helpers.scaling` do).

Internal interface
------------------
The names below are the contract between the modules of the package; everything else here is an implementation
detail of them.

``Problem.make(log_x, logy, *, const, delta)``
    One or more curves measured at the same sizes: log sizes (n, k) and log metrics (R, n). ``const`` adds the
    irreducible term; ``delta`` is the Huber threshold, ``None`` for the squared loss.
``fit(prob)``, ``fit_batch(prob, w)``
    The best fit of the single curve, or of every curve with point weights ``w`` (R, n): parameter vectors
    ``theta`` and objectives.
``polish(prob, theta, w, logy, *, max_iter, rtol)``
    Levenberg-Marquardt from given starts; row b of ``theta`` is fitted to row b of ``logy`` with weights ``w[b]``.
``resample_weights(n, n_boot, seed)``, ``bootstrap(prob, theta, n_boot, seed)``
    Bootstrap counts of n points, and the parameter draws of those resamples, warm-started at ``theta``.
``power_params(prob, theta)``, ``chinchilla_params(prob, theta)``
    The parameters of a law from ``theta``: ``(a, b, c)``, or ``{"E", "A", "B", "alpha", "beta"}``.
``fit_power_curves(x, Y, W, *, irreducible, delta)``
    One power law per row of ``Y``, as a frame with columns ``a``, ``b``, ``c`` and ``objective``.
``EXPONENT_RANGE``, ``LOG_COEF_RANGE``
    The bounds the solver keeps exponents and log-coefficients in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import huber

# Log-coefficients are kept in this range: exp(-60) is zero for any loss a reader will fit, and the cap stops a
# vanishing term from drifting to -inf, where its gradient is zero and the linear algebra becomes singular.
LOG_COEF_RANGE = (-60.0, 60.0)
EXPONENT_RANGE = (-5.0, 20.0)


@dataclass(frozen=True)
class Problem:
    """``log yhat = LSE_j(c_j - e_j * L_j) [+ e0]`` with centred log sizes ``L`` (n, k).

    Parameter vector theta = (c_1..c_k, e_1..e_k[, e0]); centring ``L`` decorrelates each scale from its
    exponent, which keeps the Levenberg-Marquardt normal equations well conditioned. ``logy`` holds one or more
    curves measured at the same sizes, shape (R, n); every row of theta is fitted to one of them.
    """

    L: np.ndarray
    centre: np.ndarray
    logy: np.ndarray
    const: bool
    delta: float | None

    @classmethod
    def make(cls, log_x: np.ndarray, logy: np.ndarray, *, const: bool, delta: float | None) -> Problem:
        centre = log_x.mean(axis=0)
        return cls(log_x - centre, centre, np.atleast_2d(logy), const, delta)

    @property
    def k(self) -> int:
        return self.L.shape[1]

    @property
    def p(self) -> int:
        return 2 * self.k + int(self.const)

    def rho(self, r: np.ndarray) -> np.ndarray:
        return 0.5 * r**2 if self.delta is None else huber(self.delta, r)

    def irls_weights(self, r: np.ndarray) -> np.ndarray:
        """psi(r) / r: the weights that make a weighted quadratic touch the loss from above at r."""
        if self.delta is None:
            return np.ones_like(r)
        return np.minimum(1.0, self.delta / np.maximum(np.abs(r), 1e-300))

    @cached_property
    def exp_is_safe(self) -> bool:
        """Whether exp of every term stays between 1e-300 and 1e300 for all parameters within the clip ranges.

        A term is ``c - e * L`` with ``|c| <= 60`` and ``-5 <= e <= 20``: at most ``60 + 20 max|L|``, below 690
        unless the sizes span more than about 27 decades.
        """
        bound = max(abs(v) for v in LOG_COEF_RANGE) + max(abs(v) for v in EXPONENT_RANGE) * float(np.abs(self.L).max())
        return bound < 690.0

    @cached_property
    def point_columns(self) -> list[np.ndarray]:
        """The centred log sizes as k columns (n, 1): the iteration broadcasts them against (n, rows) arrays."""
        return [self.L[:, j][:, None] for j in range(self.k)]

    def log_prediction(self, theta: np.ndarray) -> np.ndarray:
        """Log prediction (B, n) of every row of ``theta`` (B, p)."""
        return _log_prediction_t(self, np.ascontiguousarray(theta.T), self.point_columns)[0].T

    def objective(self, theta: np.ndarray, w: np.ndarray, logy: np.ndarray) -> np.ndarray:
        r = self.log_prediction(theta) - logy
        return np.sum(w * self.rho(r), axis=1)


def fit(prob: Problem) -> tuple[np.ndarray, float]:
    """Fit the single curve of ``prob``."""
    theta, obj = fit_batch(prob, np.ones_like(prob.logy))
    return theta[0], float(obj[0])


def fit_batch(prob: Problem, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fit every curve (row of ``prob.logy``, with point weights ``w`` of the same shape) at once.

    A straight line with squared loss has a closed form; everything else starts from variable-projection
    starts (or the least-squares line) and is polished, all rows and starts together.
    """
    R = prob.logy.shape[0]  # noqa: N806
    line = ols_lines(prob, w)
    if not prob.const and prob.delta is None:
        return line, prob.objective(line, w, prob.logy)
    starts = line[:, None, :] if not prob.const else projection_starts(prob, w)  # (R, S, p)
    S = starts.shape[1]  # noqa: N806
    rows = np.repeat(np.arange(R), S)
    # A tight tolerance here is cheap (a handful of starts per curve) and makes the reported minimum exact.
    theta, obj = polish(prob, starts.reshape(R * S, -1), w[rows], prob.logy[rows], rtol=1e-15)
    best = np.argmin(obj.reshape(R, S), axis=1)
    pick = np.arange(R) * S + best
    return theta[pick], obj[pick]


def ols_lines(prob: Problem, w: np.ndarray) -> np.ndarray:
    """Weighted least-squares line of log y on the first centred log size, per row: (R, 2) = (intercept, slope)."""
    x = prob.L[:, 0]
    sw = w.sum(axis=1)
    mx = (w * x).sum(axis=1) / sw
    my = (w * prob.logy).sum(axis=1) / sw
    sxx = (w * (x - mx[:, None]) ** 2).sum(axis=1)
    sxy = (w * (x - mx[:, None]) * (prob.logy - my[:, None])).sum(axis=1)
    slope = sxy / sxx
    return np.column_stack([my - slope * mx, -slope])


def exponent_grid() -> np.ndarray:
    # Log-spaced, so that small exponents (Kaplan's 0.05-0.1) are as well resolved as large ones.
    return np.geomspace(0.01, 3.0, 40)


def projection_starts(prob: Problem, w: np.ndarray, n_starts: int = 8, chunk: int = 32) -> np.ndarray:
    """(R, n_starts, p): best exponent grid points per curve, coefficients by exact non-negative least squares.

    The design for grid point (e_1, ..., e_k) has the columns ``[1,] x_1**-e_1, ..., x_k**-e_k`` scaled by
    ``sqrt(w) / y``, so its normal equations are sums over points of ``u a b`` with ``u = w / y**2`` for two basis
    columns ``a`` and ``b``. A basis column depends on one exponent only, so those sums are formed per exponent
    (and per pair of exponents for two sizes) and then gathered for the whole grid, instead of building the
    (grid x points x columns) design itself.
    """
    grid = exponent_grid()
    k = prob.k
    index = [ix.ravel() for ix in np.meshgrid(*[np.arange(len(grid))] * k, indexing="ij")]  # grid position per dim
    expo = np.stack([grid[ix] for ix in index], axis=-1)  # (G, k)
    G = len(expo)  # noqa: N806
    basis = [np.exp(-grid[:, None] * prob.L[None, :, j]) for j in range(k)]  # k arrays (len(grid), n)
    m = k + int(prob.const)
    out = []
    for lo in range(0, prob.logy.shape[0], chunk):  # chunks bound the memory of the (rows, G, m, m) equations
        y = np.exp(prob.logy[lo:lo + chunk])  # (r, n)
        wr = w[lo:lo + chunk]
        u, v = wr / y**2, wr / y
        r = len(y)
        # Columns in the order [const,] basis_1, ..., basis_k; entry (G, col) of each as a gather from small tables.
        cols: list[tuple[str, int]] = ([("c", -1)] if prob.const else []) + [("b", j) for j in range(k)]
        gram = np.empty((r, G, m, m))
        rhs = np.empty((r, G, m))
        for p_, (kind_p, jp) in enumerate(cols):
            rhs[:, :, p_] = (v.sum(axis=1)[:, None] if kind_p == "c" else (v @ basis[jp].T)[:, index[jp]])
            for q_ in range(p_, m):
                kind_q, jq = cols[q_]
                if kind_p == "c" and kind_q == "c":
                    val = np.broadcast_to(u.sum(axis=1)[:, None], (r, G))
                elif kind_p == "c":
                    val = (u @ basis[jq].T)[:, index[jq]]
                elif jp == jq:
                    val = (u @ (basis[jp] ** 2).T)[:, index[jp]]
                else:
                    cross = np.matmul(u[:, None, :] * basis[jp][None], basis[jq].T)  # (r, len(grid), len(grid))
                    val = cross[:, index[jp], index[jq]]
                gram[:, :, p_, q_] = gram[:, :, q_, p_] = val
        tt = np.repeat(wr.sum(axis=1), G)
        coef, sse = nnls_normal(gram.reshape(r * G, m, m), rhs.reshape(r * G, m), tt)
        order = np.argsort(sse.reshape(r, G), axis=1)[:, :n_starts]  # (r, S)
        best = coef.reshape(r, G, -1)[np.arange(r)[:, None], order]  # (r, S, m)
        floor = 1e-12 * y.min(axis=1)[:, None, None]
        logc = np.log(np.maximum(best, floor))
        e = expo[order]  # (r, S, k)
        out.append(np.concatenate([logc[..., 1:], e, logc[..., :1]], axis=2) if prob.const
                   else np.concatenate([logc, e], axis=2))
    return np.concatenate(out, axis=0)


def nnls_normal(gram: np.ndarray, rhs: np.ndarray, tt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least squares from the normal equations ``X'X`` (G, m, m), ``X't`` (G, m) and ``t't`` (G,),
    by enumerating active sets.

    For m <= 3 there are at most seven candidate supports, and the non-negative solution is the best
    least-squares solution among the supports whose coefficients are all positive (KKT), so enumerating them
    is exact and fully vectorised, unlike a loop over scipy.optimize.nnls.
    """
    G, m = rhs.shape  # noqa: N806
    best_sse = np.full(G, np.inf)
    best = np.zeros((G, m))
    for mask in range(1, 2**m):
        idx = [i for i in range(m) if mask >> i & 1]
        sub = gram[:, idx][:, :, idx]
        ridge = 1e-12 * np.trace(sub, axis1=1, axis2=2)[:, None, None] * np.eye(len(idx))
        b = np.linalg.solve(sub + ridge, rhs[:, idx][:, :, None])[:, :, 0]
        sse = tt - 2 * np.einsum("gi,gi->g", b, rhs[:, idx]) + np.einsum("gi,gij,gj->g", b, sub, b)
        ok = (b > 0).all(axis=1) & (sse < best_sse)
        best_sse = np.where(ok, sse, best_sse)
        full = np.zeros((G, m))
        full[:, idx] = b
        best = np.where(ok[:, None], full, best)
    return best, best_sse


def polish(
    prob: Problem, theta: np.ndarray, w: np.ndarray, logy: np.ndarray, *, max_iter: int = 400,
    rtol: float = 1e-10, atol: float = 1e-24,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Levenberg-Marquardt on the IRLS majoriser of the loss; row b of ``theta`` is fitted to row b of
    ``logy`` with point weights ``w[b]``.

    A step is kept only if the real objective falls, so each row's objective is monotone; rows stop when
    the relative decrease falls below ``rtol`` or their damping grows past any useful size.

    The iteration works on the transposed problem, points by rows (n, B), and keeps only the rows still
    running: each reduction over the n points is then a sum of n contiguous vectors of length B, and the
    p x p damped normal equations are solved by a Cholesky factorisation written out over the batch
    (:func:`_solve_spd`). Both are several times faster than numpy's batched ``einsum`` and ``linalg.solve``
    on matrices this small (``tests/benchmarks/bench_solver.py`` measures it against the row-major version).
    """
    theta = clip_t(prob, np.array(theta, dtype=float).T).T.copy()
    B = len(theta)  # noqa: N806
    w_all = np.ascontiguousarray(np.asarray(w, dtype=float).T)  # (n, B)
    y_all = np.ascontiguousarray(np.broadcast_to(logy, (B, prob.L.shape[0])).T)
    L = prob.point_columns  # noqa: N806
    idx = np.arange(B)  # the original row of each running row
    th = np.ascontiguousarray(theta.T)  # (p, b) for the running rows
    wr, yr = w_all, y_all
    pred, soft = _log_prediction_t(prob, th, L)
    obj_all = _column_dot(wr, prob.rho(pred - yr))
    obj = obj_all.copy()
    wsum = wr.sum(axis=0)
    lam = np.full(B, 1e-3)
    p = prob.p
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for _ in range(max_iter):
            if len(idx) == 0:
                break
            J = _jacobian_t(prob, soft, L)  # noqa: N806  p arrays (n, b)
            r = pred - yr
            omega = wr * prob.irls_weights(r)
            Jw = [j * omega for j in J]  # noqa: N806
            H = {(a, c): _column_dot(Jw[a], J[c]) for a in range(p) for c in range(a, p)}  # noqa: N806
            g = [_column_dot(Jw[a], r) for a in range(p)]
            for a in range(p):
                H[a, a] = H[a, a] + lam * (H[a, a] + 1e-12)
            step = _solve_spd(H, g, p)
            cand = clip_t(prob, th - step)
            cand_pred, cand_soft = _log_prediction_t(prob, cand, L)
            new = _column_dot(wr, prob.rho(cand_pred - yr))
            better = new < obj
            gain = np.where(better, (obj - new) / np.maximum(obj, 1e-300), 0.0)
            # In place: these are the loop's largest arrays, and fresh copies of them cost more than the test.
            np.copyto(th, cand, where=better)
            np.copyto(obj, new, where=better)
            np.copyto(pred, cand_pred, where=better)
            for s_, cs in zip(soft, cand_soft):
                np.copyto(s_, cs, where=better)
            lam = np.where(better, np.maximum(lam / 3, 1e-12), lam * 4)
            done = (better & (gain < rtol)) | (lam > 1e12) | (obj <= atol * wsum)
            if done.any():
                theta[idx[done]] = th[:, done].T
                obj_all[idx[done]] = obj[done]
                keep = ~done
                idx, th, obj, lam, wsum = idx[keep], th[:, keep], obj[keep], lam[keep], wsum[keep]
                wr, yr, pred = wr[:, keep], yr[:, keep], pred[:, keep]
                soft = [s_[:, keep] for s_ in soft]
    theta[idx] = th.T
    obj_all[idx] = obj
    return theta, obj_all


def _column_dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sum(x * y, axis=0)`` of two (n, b) arrays without the (n, b) product: einsum multiplies and adds in one
    pass, 2-3 times faster at the sizes of a bootstrap (240 points by 1,000 rows: 165 against 400 us)."""
    return np.einsum("nb,nb->b", x, y)


def _log_prediction_t(prob: Problem, th: np.ndarray, L: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:  # noqa: N803
    """``log yhat = LSE_j(c_j - e_j * L_j) [+ e0]`` for parameters ``th`` (p, b): (n, b), and the softmax weight of
    each term, k (+1) arrays (n, b), which are the Jacobian's building blocks.

    Points by rows, so that the reductions over points in :func:`polish` are sums of contiguous vectors.
    """
    k = prob.k
    t = [th[j] - th[k + j] * L[j] for j in range(k)]
    if prob.exp_is_safe:
        # Every term is within exp's range for any parameters the clip allows, so no shift is needed, and the
        # floor's term is the exponential of a vector rather than of a (points, rows) array.
        e = [np.exp(tj) for tj in t] + ([np.exp(th[2 * k])] if prob.const else [])
        total = e[0]
        for ej in e[1:]:
            total = total + ej
        inv = 1.0 / total
        return np.log(total), [ej * inv for ej in e]
    if prob.const:
        t.append(np.broadcast_to(th[2 * k], t[0].shape))
    m = t[0]
    for tj in t[1:]:
        m = np.maximum(m, tj)
    e = [np.exp(tj - m) for tj in t]
    total = e[0]
    for ej in e[1:]:
        total = total + ej
    return m + np.log(total), [ej / total for ej in e]


def _jacobian_t(prob: Problem, soft: list[np.ndarray], L: list[np.ndarray]) -> list[np.ndarray]:  # noqa: N803
    """The p rows (n, b) of the Jacobian of the log prediction, in the order of theta."""
    k = prob.k
    rows = soft[:k] + [-soft[j] * L[j] for j in range(k)]
    if prob.const:
        rows.append(soft[k])
    return rows


def clip_t(prob: Problem, th: np.ndarray) -> np.ndarray:
    """Parameters (p, b) clipped to :data:`LOG_COEF_RANGE` and :data:`EXPONENT_RANGE`."""
    k = prob.k
    out = np.empty_like(th)
    out[:k] = np.clip(th[:k], *LOG_COEF_RANGE)
    out[k:2 * k] = np.clip(th[k:2 * k], *EXPONENT_RANGE)
    if prob.const:
        out[2 * k:] = np.clip(th[2 * k:], *LOG_COEF_RANGE)
    return out


def _solve_spd(H: dict[tuple[int, int], np.ndarray], g: list[np.ndarray], p: int) -> np.ndarray:  # noqa: N803
    """Solve ``H s = g`` for a batch of symmetric positive-definite p x p systems by Cholesky, as (p, b).

    ``H`` holds the upper triangle, entry (a, c) with a <= c, each a vector over the batch. A system that is not
    numerically positive definite yields NaN in its column; the caller then rejects that step, as it rejects any
    step that does not lower the objective.
    """
    Lc: dict[tuple[int, int], np.ndarray] = {}  # noqa: N806  lower factor, entry (row, col) with col <= row
    for j in range(p):
        d = H[j, j] - sum(Lc[j, m] ** 2 for m in range(j))
        Lc[j, j] = np.sqrt(d)
        for i in range(j + 1, p):
            Lc[i, j] = (H[j, i] - sum(Lc[i, m] * Lc[j, m] for m in range(j))) / Lc[j, j]
    z: list[np.ndarray] = []
    for i in range(p):  # forward: Lc z = g
        z.append((g[i] - sum(Lc[i, m] * z[m] for m in range(i))) / Lc[i, i])
    s: list[np.ndarray] = [np.empty(0)] * p
    for i in reversed(range(p)):  # back: Lc' s = z
        s[i] = (z[i] - sum(Lc[m, i] * s[m] for m in range(i + 1, p))) / Lc[i, i]
    return np.stack(s)


def resample_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n) bootstrap counts of n points, drawn from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)


def bootstrap(prob: Problem, theta: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Parameter draws from ``n_boot`` resamples of the points, each a weighted refit warm-started at ``theta``."""
    w = resample_weights(prob.logy.shape[1], n_boot, seed)
    # Well-determined resamples converge in well under 100 iterations; the cap only stops rows of a law the data do
    # not pin down (e.g. a flat curve, whose exponent drifts towards its bound), which would otherwise set the pace.
    draws, _ = polish(prob, np.repeat(theta[None, :], n_boot, axis=0), w, prob.logy[0], max_iter=200)
    return draws


def fit_power_curves(
    x: np.ndarray, Y: np.ndarray, W: np.ndarray, *, irreducible: bool, delta: float | None  # noqa: N803
) -> pd.DataFrame:
    """Fit one power law per row of ``Y`` (R, n), all measured at sizes ``x`` (n,), with point weights ``W``.

    Zero weights mark points a curve does not have, so curves with gaps can share one batch. Used by
    :mod:`helpers.disaggregate` to fit many aggregate curves in one call.
    """
    prob = Problem.make(np.log(x)[:, None], np.log(np.where(W > 0, Y, 1.0)), const=irreducible, delta=delta)
    theta, obj = fit_batch(prob, W)
    a, b, c = power_params(prob, theta)
    return pd.DataFrame({"a": a, "b": b, "c": c, "objective": obj})


def power_params(prob: Problem, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = theta[:, 1]
    a = np.exp(theta[:, 0] + b * prob.centre[0])
    c = np.exp(theta[:, 2]) if prob.const else np.zeros(len(theta))
    # A floor pinned at the bottom of its range is no floor: report it as exactly zero.
    c = np.where(theta[:, 2] <= LOG_COEF_RANGE[0] + 1e-9, 0.0, c) if prob.const else c
    return a, b, c


def chinchilla_params(prob: Problem, theta: np.ndarray) -> dict[str, np.ndarray]:
    alpha, beta = theta[:, 2], theta[:, 3]
    return {
        "E": np.exp(theta[:, 4]),
        "A": np.exp(theta[:, 0] + alpha * prob.centre[0]),
        "B": np.exp(theta[:, 1] + beta * prob.centre[1]),
        "alpha": alpha,
        "beta": beta,
    }
