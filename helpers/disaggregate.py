"""Disaggregated scaling laws: one law per group, and the evaluation population as a third axis.

A scaling law is usually fitted to one aggregate curve. :func:`fit_by_group` fits the same law to every group
of a tidy results table as well as to the aggregate, with bootstrap intervals, and says which groups differ from
the aggregate and which do not improve at all. :func:`third_axis` makes the proposal of Diaz and Madaio
:cite:`diaz2024scaling` computable: it grows the evaluation population one community at a time and reports, for
every size of the population, how clean the aggregate law looks and what share of the included communities it
actually describes.

The input is the same for both: a tidy frame with one row per measured point (a size, a group, a metric value,
and optionally the number of evaluation examples behind the value). The metric must be *lower is better* and
positive (a loss or an error rate); convert accuracies to errors first.
"""

from __future__ import annotations

import contextlib
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from helpers._validate import has_columns, one_of, positive_int
from helpers.scaling import (
    CI_LEVEL,
    ChinchillaFit,
    PowerLawFit,
    _fit_power_curves,
    fit_chinchilla,
    fit_power_law,
)

#: Label of the aggregate in every table this module returns.
OVERALL = "overall"
_TAIL = 100 * (1 - CI_LEVEL) / 2


# --------------------------------------------------------------------------- input checks


def _size_columns(size: str | Sequence[str]) -> tuple[str, ...]:
    cols = (size,) if isinstance(size, str) else tuple(size)
    if len(cols) not in (1, 2) or not all(isinstance(c, str) for c in cols):
        raise ValueError(
            f"size must be one column name (a power law) or a pair of column names (N, D) for the Chinchilla "
            f"form; got {size!r}."
        )
    return cols


def _tidy_points(
    df: pd.DataFrame, sizes: tuple[str, ...], metric: str, group: str, n_examples: str | None
) -> pd.DataFrame:
    """Validated copy with columns group, the size columns, metric and n_examples (1 per row when absent)."""
    cols = [group, *sizes, metric] + ([n_examples] if n_examples else [])
    has_columns(df, cols, what="the results frame")
    if len(df) == 0:
        raise ValueError("The results frame is empty; pass one row per measured point.")
    if df[group].isna().any():
        raise ValueError(
            f"{int(df[group].isna().sum())} row(s) have no {group!r}; drop them or give them a group label."
        )
    out = pd.DataFrame({"group": df[group].astype(str).to_numpy()}, index=df.index)
    _check_labels(out["group"], group)
    for col in (*sizes, metric) + ((n_examples,) if n_examples else ()):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            raise ValueError(
                f"Column {col!r} must be numeric and complete; {int(values.isna().sum())} value(s) are missing or "
                f"not numbers (first at row {values.index[values.isna()][0]!r})."
            )
        if not np.isfinite(values).all():
            raise ValueError(f"Column {col!r} contains inf; pass finite values.")
        out[col] = values.astype(float)
    for col in sizes:
        bad = out[col] <= 0
        if bad.any():
            first = out.index[bad.to_numpy()][0]
            raise ValueError(
                f"Size column {col!r} must be > 0 (laws are fitted on log size); found {int(bad.sum())} value(s) "
                f"<= 0, the first at row {first!r} ({out.at[first, col]:g}). Drop those rows or correct the sizes "
                f"(a model or data size of 0 has no place on a log axis)."
            )
    bad = out[metric] <= 0
    if bad.any():
        raise ValueError(
            f"Column {metric!r} must be > 0 (laws are fitted on a log scale); found {int(bad.sum())} "
            f"value(s) <= 0. A metric must be lower-is-better and positive: use an error or a loss."
        )
    if n_examples:
        bad = out[n_examples] <= 0
        if bad.any():
            first = out.index[bad.to_numpy()][0]
            raise ValueError(
                f"Column n_examples={n_examples!r} counts the evaluation examples behind each value and must be "
                f"> 0; found {int(bad.sum())} row(s) with {out[n_examples].min():g} or fewer, the first at row "
                f"{first!r}. A value measured on no examples is not a measurement: drop those rows."
            )
        out = out.rename(columns={n_examples: "n_examples"})
    else:
        out["n_examples"] = 1.0
    return out.reset_index(drop=True)


def _visible(label: str) -> str:
    """The label as a reader sees it: without control or format characters, without surrounding space."""
    return "".join(ch for ch in label if unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def _check_labels(labels: pd.Series, group: str) -> None:
    """Labels that print the same would silently become separate groups (``'A'`` and ``'A\\x00'``)."""
    distinct = pd.unique(labels)
    seen: dict[str, list[str]] = {}
    for label in distinct:
        seen.setdefault(_visible(label), []).append(label)
    clashes = [raw for raw in seen.values() if len(raw) > 1]
    if clashes:
        shown = "; ".join(" and ".join(repr(r) for r in sorted(raw)) for raw in clashes[:5])
        raise ValueError(
            f"Group labels in column group={group!r} differ only by control characters or surrounding "
            f"whitespace: {shown}. They would be fitted as separate groups that look identical in the report. "
            f"Clean the column first, e.g. df[{group!r}] = df[{group!r}].str.replace(r'[\\x00-\\x1f\\x7f]', "
            f"'', regex=True).str.strip(), or give the groups distinct names."
        )


def _group_labels(df: pd.DataFrame, group: str) -> list[str]:
    """Every level of the group column, including unobserved categories (they are reported, not dropped)."""
    col = df[group]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [str(c) for c in col.cat.categories]
    return sorted(col.dropna().astype(str).unique())


class NumericalWarning(UserWarning):
    """The fit ran into floating-point overflow or invalid values (typically sizes spanning hundreds of decades)."""


@contextlib.contextmanager
def _numerics(where: str, sizes: tuple[str, ...], points: pd.DataFrame, notes: list[str]):
    """Turn numpy's raw RuntimeWarnings inside a fit into one message that says what to do, kept in ``notes``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    raw = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if raw:
        span = " and ".join(
            f"{c} from {points[c].min():.3g} to {points[c].max():.3g} "
            f"({np.log10(points[c].max()) - np.log10(points[c].min()):.0f} decades)" for c in sizes)
        msg = (f"{where}: floating-point overflow or invalid values ({len(raw)} numpy warning(s), e.g. "
               f"'{raw[0].message}'); the sizes run {span}. Treat the fitted laws with caution; rescaling the "
               f"sizes (e.g. to millions) or dropping implausible rows usually removes this.")
        if msg not in notes:
            notes.append(msg)
            warnings.warn(msg, NumericalWarning, stacklevel=4)


def _pooled(points: pd.DataFrame, sizes: tuple[str, ...], metric: str) -> pd.DataFrame:
    """Example-weighted mean of the metric over all rows at each size: the aggregate curve."""
    weight = points["n_examples"].where(points["n_examples"] > 0)
    if weight.isna().all():
        raise ValueError("Every row has n_examples = 0, so no aggregate can be formed.")
    tmp = points.assign(_w=weight.fillna(0.0), _wy=weight.fillna(0.0) * points[metric])
    agg = tmp.groupby(list(sizes), sort=True)[["_w", "_wy"]].sum()
    agg = agg[agg["_w"] > 0]
    return pd.DataFrame({**{c: agg.index.get_level_values(c) for c in sizes}, metric: (agg["_wy"] / agg["_w"]).to_numpy(),
                         "n_examples": agg["_w"].to_numpy(), "group": OVERALL})


# --------------------------------------------------------------------------- fitting by group

_POWER_PARAMS = ("a", "b", "c")
_CHIN_PARAMS = ("E", "A", "B", "alpha", "beta")


@dataclass(frozen=True)
class GroupScalingFit:
    """One scaling law per group and one for the aggregate.

    Attributes
    ----------
    form : str
        ``"power_law"`` (one size column) or ``"chinchilla"`` (two).
    size : tuple of str
        The size column(s).
    metric : str
        The metric column.
    overall : PowerLawFit or ChinchillaFit
        The law fitted to the aggregate curve.
    fits : dict
        Group label to its fitted law, for every group with enough points.
    by_group : DataFrame
        One row per group, fitted or not: ``group``, the parameters with ``_low``/``_high`` interval bounds,
        ``n_points``, ``n_examples``, ``size_min``, ``size_max`` and ``status`` (``"ok"`` or why it was not fitted).
    n_boot : int
        Bootstrap resamples behind the intervals (0 = none).
    points : DataFrame
        The points that were fitted, including the aggregate curve (``group == "overall"``).
    notes : tuple of str
        Numerical trouble met while fitting (floating-point overflow on extreme sizes), in words; also issued
        once as a :class:`NumericalWarning`.
    """

    form: str
    size: tuple[str, ...]
    metric: str
    overall: PowerLawFit | ChinchillaFit
    fits: dict[str, PowerLawFit | ChinchillaFit]
    by_group: pd.DataFrame
    n_boot: int
    points: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the fitted parameters."""
        return _POWER_PARAMS if self.form == "power_law" else _CHIN_PARAMS

    def to_frame(self) -> pd.DataFrame:
        """:attr:`by_group` with the aggregate as its first row (``group == "overall"``)."""
        first = _summary_row(OVERALL, self.overall, self.points[self.points["group"] == OVERALL], self.size,
                             self.parameters)
        return pd.concat([pd.DataFrame([first]), self.by_group], ignore_index=True)

    def _draws(self, label: str, parameter: str) -> np.ndarray | None:
        fit = self.overall if label == OVERALL else self.fits.get(label)
        return None if fit is None or fit.boot is None else fit.boot[parameter].to_numpy()

    def difference(self, parameter: str | None = None) -> pd.DataFrame:
        """How far the groups' exponents spread, and how far each group is from the aggregate.

        Parameters
        ----------
        parameter : str, optional
            Parameter to compare; default the exponent (``"b"``, or ``"beta"`` for the Chinchilla form).

        Returns
        -------
        DataFrame
            Columns ``comparison``, ``group``, ``parameter``, ``estimate``, ``ci_low``, ``ci_high``. The first row,
            ``comparison == "range"``, is the largest minus the smallest group value; then one row per fitted
            group, ``"group - overall"``. Intervals are percentile intervals of the differences of independent
            bootstrap draws (NaN when ``n_boot=0``); the group and aggregate fits share data, so the interval of a
            group-minus-overall difference is conservative.

        Raises
        ------
        ValueError
            If ``parameter`` is not a parameter of the fitted form, or fewer than two groups were fitted.
        """
        parameter = parameter or ("b" if self.form == "power_law" else "beta")
        one_of(parameter, self.parameters, "parameter")
        labels = list(self.fits)
        if len(labels) < 2:
            raise ValueError(f"difference() needs at least two fitted groups; only {labels} could be fitted.")
        values = {g: getattr(self.fits[g], parameter) for g in labels}
        hi, lo = max(values, key=values.get), min(values, key=values.get)
        draws = {g: self._draws(g, parameter) for g in [*labels, OVERALL]}
        have_draws = all(d is not None for d in draws.values())
        rows = []
        spread = np.array([draws[g] for g in labels]) if have_draws else None
        rows.append(_difference_row("range", f"{hi} - {lo}", parameter, values[hi] - values[lo],
                                    spread.max(axis=0) - spread.min(axis=0) if have_draws else None))
        overall = getattr(self.overall, parameter)
        for g in labels:
            rows.append(_difference_row("group - overall", g, parameter, values[g] - overall,
                                        draws[g] - draws[OVERALL] if have_draws else None))
        return pd.DataFrame(rows)

    def improvement(self, *, seed: int = 0) -> pd.DataFrame:
        """How much each group improves over its own measured range, and whether that is distinguishable from zero.

        The question is about the data, not about the law's extrapolation, so it is answered with the simplest
        model that can: a robust straight line of log metric on log size (``fit_power_law(irreducible=False)``;
        for the Chinchilla form, on log ``N * D``), fitted to the group's points with the same number of bootstrap
        resamples as the laws. A law with a floor is a poor judge here: fitted to a flat, noisy curve it can put
        a tiny reducible term on the boundary and report a small, confidently positive "improvement".

        Parameters
        ----------
        seed : int, default 0
            Seed of the bootstrap of the lines.

        Returns
        -------
        DataFrame
            One row per group (aggregate first): ``group``, ``improvement`` (the line's value at the smallest size
            minus at the largest; positive when the metric falls), ``ci_low``, ``ci_high`` (NaN without bootstrap),
            ``relative_improvement`` (as a share of the value at the smallest size) and ``non_improving``
            (``True`` when the interval reaches zero or below, or, without bootstrap, when the estimate is not
            positive; missing for groups that could not be fitted).
        """
        rows = []
        labels = [OVERALL, *self.by_group["group"]]
        seeds = np.random.default_rng(positive_int(seed, "seed", minimum=0)).integers(0, 2**31 - 1, len(labels))
        for label, s in zip(labels, seeds):
            if label != OVERALL and label not in self.fits:
                rows.append({"group": label, "improvement": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                             "relative_improvement": np.nan, "non_improving": pd.NA})
                continue
            pts = self.points[self.points["group"] == label]
            x = pts[self.size[0]] if self.form == "power_law" else pts[self.size[0]] * pts[self.size[1]]
            line = fit_power_law(x, pts[self.metric], irreducible=False, n_boot=self.n_boot, seed=int(s))
            ends = np.array([x.min(), x.max()])
            start, end = line.predict(ends)
            low = high = np.nan
            if line.boot is not None:
                b = line.boot
                vals = b["a"].to_numpy()[:, None] * ends[None, :] ** (-b["b"].to_numpy()[:, None])
                low, high = np.percentile(vals[:, 0] - vals[:, 1], [_TAIL, 100 - _TAIL])
            est = float(start - end)
            rows.append({"group": label, "improvement": est, "ci_low": float(low), "ci_high": float(high),
                         "relative_improvement": est / float(start),
                         "non_improving": bool(est <= 0) if np.isnan(low) else bool(low <= 0)})
        out = pd.DataFrame(rows)
        out["non_improving"] = out["non_improving"].astype("boolean")
        return out

    def non_improving(self, *, seed: int = 0) -> pd.DataFrame:
        """The groups whose improvement over the measured range is negative or not distinguishable from zero.

        Parameters
        ----------
        seed : int, default 0
            Passed to :meth:`improvement`.

        Returns
        -------
        DataFrame
            The rows of :meth:`improvement` for those groups (the aggregate is included if it qualifies), with a
            ``reason``: ``"gets worse"`` or ``"interval includes zero"``.
        """
        table = self.improvement(seed=seed)
        flat = table[table["non_improving"].fillna(False).astype(bool)].copy()
        flat["reason"] = np.where(flat["improvement"] <= 0, "gets worse", "interval includes zero")
        return flat.reset_index(drop=True)

    def predict(self, x: Any, *, group: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Fitted values at new sizes, for some or all groups and the aggregate.

        Parameters
        ----------
        x : array-like or DataFrame
            Sizes; for the Chinchilla form a DataFrame with the two size columns.
        group : str or list of str, optional
            Groups to predict for (``"overall"`` for the aggregate); default every fitted group and the aggregate.

        Returns
        -------
        DataFrame
            Columns ``group``, the size column(s) and ``prediction``.
        """
        labels = [OVERALL, *self.fits] if group is None else ([group] if isinstance(group, str) else list(group))
        unknown = [g for g in labels if g != OVERALL and g not in self.fits]
        if unknown:
            raise ValueError(f"No fitted law for group(s) {unknown}; fitted groups are {list(self.fits)}.")
        if self.form == "chinchilla":
            has_columns(x, self.size, what="x (a frame with both size columns)")
            grid = pd.DataFrame({c: np.asarray(x[c], dtype=float) for c in self.size})
        else:
            grid = pd.DataFrame({self.size[0]: np.atleast_1d(np.asarray(x, dtype=float))})
        frames = []
        for g in labels:
            fit = self.overall if g == OVERALL else self.fits[g]
            frames.append(grid.assign(group=g, prediction=_predict(fit, grid, self.size)))
        return pd.concat(frames, ignore_index=True)[["group", *self.size, "prediction"]]

    def curves(self, *, n_grid: int = 50) -> pd.DataFrame:
        """Fitted curves on each group's measured range, with pointwise 95% bootstrap bands, ready to plot.

        Returns
        -------
        DataFrame
            Columns ``group``, the size column, the metric column (the fitted value), ``low`` and ``high``
            (NaN without bootstrap). Power-law fits only.

        Raises
        ------
        ValueError
            For Chinchilla-form fits (a curve needs one size axis).
        """
        if self.form != "power_law":
            raise ValueError("curves() draws one size axis; for the Chinchilla form use predict() on a grid.")
        n_grid = positive_int(n_grid, "n_grid", minimum=2)
        x = self.size[0]
        frames = []
        for label in [OVERALL, *self.fits]:
            fit = self.overall if label == OVERALL else self.fits[label]
            band = fit.band(np.geomspace(*fit.x_range, n_grid))
            frames.append(pd.DataFrame({"group": label, x: band["x"], self.metric: band["fit"], "low": band["low"],
                                        "high": band["high"]}))
        return pd.concat(frames, ignore_index=True)


def _predict(fit: PowerLawFit | ChinchillaFit, grid: pd.DataFrame, sizes: tuple[str, ...]) -> np.ndarray:
    if isinstance(fit, ChinchillaFit):
        return fit.predict(grid[sizes[0]], grid[sizes[1]])
    return fit.predict(grid[sizes[0]])


def _difference_row(comparison: str, group: str, parameter: str, estimate: float,
                    draws: np.ndarray | None) -> dict[str, Any]:
    low, high = (np.nan, np.nan) if draws is None else np.percentile(draws, [_TAIL, 100 - _TAIL])
    return {"comparison": comparison, "group": group, "parameter": parameter, "estimate": float(estimate),
            "ci_low": float(low), "ci_high": float(high)}


def _summary_row(label: str, fit: PowerLawFit | ChinchillaFit | None, pts: pd.DataFrame, sizes: tuple[str, ...],
                 params: tuple[str, ...], status: str = "ok") -> dict[str, Any]:
    row: dict[str, Any] = {"group": label}
    for p in params:
        row[p] = getattr(fit, p) if fit is not None else np.nan
        low, high = fit.ci.get(p, (np.nan, np.nan)) if fit is not None else (np.nan, np.nan)
        row[f"{p}_low"], row[f"{p}_high"] = low, high
    size_values = pts[sizes[0]] if len(sizes) == 1 else pts[sizes[0]] * pts[sizes[1]]
    row.update(n_points=int(len(pts)), n_examples=float(pts["n_examples"].sum()),
               size_min=float(size_values.min()) if len(pts) else np.nan,
               size_max=float(size_values.max()) if len(pts) else np.nan, status=status)
    return row


def _too_few(pts: pd.DataFrame, sizes: tuple[str, ...], needed: int) -> str | None:
    if len(pts) == 0:
        return "no points"
    if len(pts) < needed:
        return f"too few points ({len(pts)} < {needed})"
    distinct = len(pts.drop_duplicates(list(sizes)))
    if distinct < (needed if len(sizes) == 2 else 2):
        return f"too few distinct sizes ({distinct})"
    return None


def fit_by_group(
    df: pd.DataFrame,
    *,
    size: str | Sequence[str],
    metric: str,
    group: str,
    n_examples: str | None = None,
    overall: str | None = None,
    irreducible: bool = True,
    loss: str = "huber",
    huber_delta: float = 1e-3,
    n_boot: int = 0,
    seed: int = 0,
) -> GroupScalingFit:
    """Fit a scaling law to the aggregate and to every group of a tidy results table, in one call.

    Parameters
    ----------
    df : DataFrame
        One row per measured point (repeated seeds are separate rows).
    size : str or pair of str
        The size column (a power law ``a x^-b + c``, see :func:`helpers.scaling.fit_power_law`), or two columns
        ``(N, D)`` for the Chinchilla form (:func:`helpers.scaling.fit_chinchilla`).
    metric : str
        A positive, lower-is-better metric column (a loss or an error rate).
    group : str
        The column that names each row's group. Unobserved levels of a categorical column are reported.
    n_examples : str, optional
        Column with the number of evaluation examples behind each value; summed in :attr:`~GroupScalingFit.by_group`
        and used as weights when the aggregate is pooled.
    overall : str, optional
        The group label whose rows *are* the aggregate (e.g. ``"overall"`` in :mod:`helpers.experiments`
        results). By default the aggregate is pooled: at each size, the example-weighted mean of the metric over
        all rows, which equals the aggregate metric for means such as error rate or log loss.
    irreducible, loss, huber_delta
        Passed to :func:`~helpers.scaling.fit_power_law` (the Chinchilla form always has its floor ``E``).
    n_boot : int, default 0
        Bootstrap resamples, per group and for the aggregate.
    seed : int, default 0
        Seed; each group gets its own stream derived from it.

    Returns
    -------
    GroupScalingFit

    Raises
    ------
    ValueError
        On a missing column, an empty frame, rows without a group, group labels that differ only by control
        characters or surrounding whitespace (``"A"`` and ``"A\\x00"``), non-numeric, non-finite or non-positive
        sizes and metrics, example counts that are not > 0, a ``size`` that is neither one nor two columns, or an
        ``overall`` label that is not in the data. Groups with too few points are not an error: they appear in
        ``by_group`` with their status.

    Warns
    -----
    NumericalWarning
        Once, in words, when the fits meet floating-point overflow (sizes spanning hundreds of decades); the
        message is also kept in :attr:`GroupScalingFit.notes`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from helpers.disaggregate import fit_by_group
    >>> n = np.logspace(2, 5, 8)
    >>> df = pd.concat([pd.DataFrame({"n": n, "error": 2 * n**-0.5 + 0.05, "group": "A"}),
    ...                 pd.DataFrame({"n": n, "error": 2 * n**-0.1 + 0.05, "group": "B"})])
    >>> res = fit_by_group(df, size="n", metric="error", group="group")
    >>> res.by_group[["group", "b"]].round(3).to_dict("records")
    [{'group': 'A', 'b': 0.5}, {'group': 'B', 'b': 0.1}]
    """
    sizes = _size_columns(size)
    positive_int(n_boot, "n_boot", minimum=0)
    positive_int(seed, "seed", minimum=0)
    points = _tidy_points(df, sizes, metric, group, n_examples)
    labels = _group_labels(df, group)
    if overall is not None:
        if overall not in set(points["group"]):
            raise ValueError(f"overall={overall!r} is not a label in {group!r}; labels are {sorted(set(points['group']))}.")
        agg = points[points["group"] == overall].assign(group=OVERALL)
        points = points[points["group"] != overall]
        labels = [g for g in labels if g != overall]
    else:
        agg = _pooled(points, sizes, metric)
    form = "power_law" if len(sizes) == 1 else "chinchilla"
    needed = 5 if form == "chinchilla" else (3 if irreducible else 2)
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=len(labels) + 1)

    def fit_one(pts: pd.DataFrame, s: int) -> PowerLawFit | ChinchillaFit:
        if form == "chinchilla":
            return fit_chinchilla(pts[sizes[0]], pts[sizes[1]], pts[metric], huber_delta=huber_delta,
                                  n_boot=n_boot, seed=int(s))
        return fit_power_law(pts[sizes[0]], pts[metric], irreducible=irreducible, loss=loss,
                             huber_delta=huber_delta, n_boot=n_boot, seed=int(s))

    reason = _too_few(agg, sizes, needed)
    if reason:
        raise ValueError(f"The aggregate curve cannot be fitted: {reason}. Measure more sizes.")
    notes: list[str] = []
    params = _POWER_PARAMS if form == "power_law" else _CHIN_PARAMS
    fits: dict[str, PowerLawFit | ChinchillaFit] = {}
    rows = []
    with _numerics("fit_by_group", sizes, points, notes):
        overall_fit = fit_one(agg, seeds[0])
        for label, s in zip(labels, seeds[1:]):
            pts = points[points["group"] == label]
            reason = _too_few(pts, sizes, needed)
            if reason is None:
                fits[label] = fit_one(pts, s)
            rows.append(_summary_row(label, fits.get(label), pts, sizes, params, status=reason or "ok"))
    if not fits:
        raise ValueError(f"No group has enough points to fit a law (each needs {needed}); see the group sizes.")
    return GroupScalingFit(form=form, size=sizes, metric=metric, overall=overall_fit, fits=fits,
                           by_group=pd.DataFrame(rows), n_boot=n_boot,
                           points=pd.concat([agg, points], ignore_index=True), notes=tuple(notes))


# --------------------------------------------------------------------------- the third axis


@dataclass(frozen=True)
class ThirdAxisResult:
    """The aggregate law as the evaluation population grows, community by community.

    Attributes
    ----------
    curve : DataFrame
        One row per number of included communities ``k``: ``share_described`` (share of the included
        communities whose observed curve the aggregate law predicts within ``tolerance`` at every measured
        size) with ``share_low``/``share_high`` (percentile interval over random orders; equal to the share for a
        fixed order), ``share_exponent_consistent`` (share whose own exponent interval contains the aggregate
        exponent), ``aggregate_b`` and ``aggregate_rmse`` (root mean square log residual of the aggregate fit:
        how clean the aggregate law looks), each averaged over orders.
    membership : DataFrame
        One row per (order, k, included community): ``max_relative_error`` of the aggregate law on that
        community's curve, ``described`` and ``exponent_consistent``.
    group_fits : GroupScalingFit
        The per-community fits behind ``exponent_consistent``.
    order : str
        ``"size"``, ``"random"`` or ``"given"``.
    tolerance : float
        The relative error allowed.
    """

    curve: pd.DataFrame
    membership: pd.DataFrame
    group_fits: GroupScalingFit = field(repr=False)
    order: str
    tolerance: float

    def to_frame(self) -> pd.DataFrame:
        """:attr:`curve`."""
        return self.curve.copy()


def _orders(labels: list[str], weights: pd.Series, order: Any, n_perm: int, seed: int) -> tuple[str, np.ndarray]:
    if isinstance(order, str):
        one_of(order, ("size", "random"), "order")
        if order == "size":
            ranked = sorted(labels, key=lambda g: (-weights[g], g))
            return "size", np.array([[labels.index(g) for g in ranked]])
        rng = np.random.default_rng(seed)
        return "random", np.array([rng.permutation(len(labels)) for _ in range(positive_int(n_perm, "n_perm"))])
    given = [str(g) for g in order]
    unknown = [g for g in given if g not in labels]
    if unknown or len(set(given)) != len(given) or not given:
        raise ValueError(
            f"order must be 'size', 'random' or a list of distinct community labels from the data; "
            f"unknown: {unknown}, duplicated: {sorted({g for g in given if given.count(g) > 1})}."
        )
    return "given", np.array([[labels.index(g) for g in given]])


def third_axis(
    df: pd.DataFrame,
    *,
    size: str,
    metric: str,
    group: str,
    n_examples: str | None = None,
    order: str | Sequence[str] = "size",
    n_perm: int = 20,
    tolerance: float = 0.1,
    irreducible: bool = True,
    n_boot: int = 200,
    seed: int = 0,
) -> ThirdAxisResult:
    """Grow the evaluation population one community at a time and ask what the aggregate law still describes.

    For every ordering of the communities and every ``k``, the first ``k`` communities form the evaluation
    population. Their aggregate curve (at each size, the example-weighted mean of their metric) is fitted with a
    power law; the law *describes* a community when it predicts the community's observed mean metric within a
    relative error of ``tolerance`` at every size the community was measured at, and is *exponent-consistent*
    with it when the aggregate exponent lies inside the community's own 95% bootstrap interval.

    Parameters
    ----------
    df : DataFrame
        Tidy results: one row per (size, community[, seed]) with a positive, lower-is-better metric.
    size, metric, group : str
        Columns.
    n_examples : str, optional
        Evaluation examples behind each value: weights of the communities in the aggregate (default equal).
    order : {"size", "random"} or list of str, default "size"
        ``"size"`` adds the largest communities first (by total ``n_examples``, or rows), as a convenience sample
        would; ``"random"`` averages over ``n_perm`` random orders and reports an interval; a list gives the order
        explicitly (for example the order in which a sampling frame reaches communities, see
        :func:`helpers.sampling.platform_growth_sample`), and may name a subset.
    n_perm : int, default 20
        Random orders (``order="random"`` only).
    tolerance : float, default 0.1
        Largest relative error of the aggregate law on a community's curve for it to count as described.
    irreducible : bool, default True
        Fit a floor in every law.
    n_boot : int, default 200
        Bootstrap resamples for the communities' exponent intervals.
    seed : int, default 0
        Seed of the random orders and the bootstrap.

    Returns
    -------
    ThirdAxisResult

    Raises
    ------
    ValueError
        On bad input (see :func:`fit_by_group`), an unknown ``order``, a tolerance that is not positive, or
        fewer than two communities.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from helpers.disaggregate import third_axis
    >>> n = np.logspace(2, 5, 6)
    >>> df = pd.concat([pd.DataFrame({"n": n, "loss": 3 * n**-0.4 + 0.1, "g": "big", "m": 100}),
    ...                 pd.DataFrame({"n": n, "loss": 3 * n**-0.4 + 0.1, "g": "mid", "m": 50}),
    ...                 pd.DataFrame({"n": n, "loss": np.full(6, 0.9), "g": "small", "m": 1})])
    >>> res = third_axis(df, size="n", metric="loss", group="g", n_examples="m", n_boot=0)
    >>> res.curve[["k", "share_described"]].round(2).to_dict("records")
    [{'k': 1, 'share_described': 1.0}, {'k': 2, 'share_described': 1.0}, {'k': 3, 'share_described': 0.67}]
    """
    tol = float(tolerance)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tolerance must be a positive relative error such as 0.1; got {tolerance!r}.")
    fits = fit_by_group(df, size=size, metric=metric, group=group, n_examples=n_examples, irreducible=irreducible,
                        n_boot=n_boot, seed=seed)
    points = fits.points[fits.points["group"] != OVERALL]
    labels = sorted(points["group"].unique())
    if len(labels) < 2:
        raise ValueError(f"third_axis needs at least two communities; found {labels}.")
    tmp = points.assign(_wy=points["n_examples"] * points[metric])
    table = tmp.groupby(["group", size])[["n_examples", "_wy"]].sum()
    sizes = np.sort(points[size].unique())
    W = table["n_examples"].unstack(size).reindex(index=labels, columns=sizes).fillna(0.0).to_numpy()  # noqa: N806
    M = (table["_wy"].unstack(size).reindex(index=labels, columns=sizes).to_numpy()  # noqa: N806
         / np.where(W > 0, W, np.nan))
    present = ~np.isnan(M)
    if (W[present] == 0).all():
        W = present.astype(float)  # noqa: N806  (no example counts: every community weighs the same)
    kind, perms = _orders(labels, pd.Series(W.sum(axis=1), index=labels), order, n_perm, seed)
    ci = fits.by_group.set_index("group")
    b_low, b_high = ci["b_low"].reindex(labels).to_numpy(), ci["b_high"].reindex(labels).to_numpy()

    # Every (order, k) aggregate curve is one row of one batched fit.
    k_max = perms.shape[1]
    agg_w = np.zeros((len(perms), k_max, len(sizes)))
    agg_y = np.zeros_like(agg_w)
    Mz = np.nan_to_num(M)  # noqa: N806
    for p, perm in enumerate(perms):
        cw = np.cumsum(W[perm] * present[perm], axis=0)
        cy = np.cumsum(W[perm] * Mz[perm] * present[perm], axis=0)
        agg_w[p], agg_y[p] = cw, np.where(cw > 0, cy / np.where(cw > 0, cw, 1), 0.0)
    mask = agg_w > 0
    flat_y, flat_m = agg_y.reshape(-1, len(sizes)), mask.reshape(-1, len(sizes)).astype(float)
    with _numerics("third_axis", (size,), points, list(fits.notes)):
        laws = _fit_power_curves(sizes, flat_y, flat_m, irreducible=irreducible, delta=1e-3)
        a, b, c = (laws[col].to_numpy().reshape(len(perms), k_max) for col in ("a", "b", "c"))
        pred = a[..., None] * sizes[None, None, :] ** (-b[..., None]) + c[..., None]  # (P, K, S)
        resid = np.where(mask, np.log(np.where(mask, pred, 1)) - np.log(np.where(mask, agg_y, 1)), 0.0)
    rmse = np.sqrt((resid**2).sum(axis=2) / mask.sum(axis=2))

    rows = []
    for p, perm in enumerate(perms):
        for k in range(1, k_max + 1):
            for g in perm[:k]:
                rel = np.abs(pred[p, k - 1][present[g]] / M[g][present[g]] - 1)
                rows.append({"order": p, "k": k, "group": labels[g], "max_relative_error": float(rel.max()),
                             "described": bool(rel.max() <= tol),
                             "exponent_consistent": bool(b_low[g] <= b[p, k - 1] <= b_high[g])
                             if not np.isnan(b_low[g]) else np.nan})
    membership = pd.DataFrame(rows)
    per_order = membership.groupby(["order", "k"]).agg(
        share_described=("described", "mean"),
        share_exponent_consistent=("exponent_consistent", lambda s: s.astype(float).mean()),
    ).reset_index()
    per_order["aggregate_b"] = b[per_order["order"], per_order["k"] - 1]
    per_order["aggregate_rmse"] = rmse[per_order["order"], per_order["k"] - 1]
    curve = per_order.groupby("k").agg(
        share_described=("share_described", "mean"),
        share_low=("share_described", lambda s: np.percentile(s, _TAIL)),
        share_high=("share_described", lambda s: np.percentile(s, 100 - _TAIL)),
        share_exponent_consistent=("share_exponent_consistent", "mean"),
        aggregate_b=("aggregate_b", "mean"),
        aggregate_rmse=("aggregate_rmse", "mean"),
    ).reset_index()
    return ThirdAxisResult(curve=curve, membership=membership, group_fits=fits, order=kind, tolerance=tol)
