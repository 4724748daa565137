"""Disaggregated scaling laws: one law per group, and the evaluation population as a third axis.

A scaling law is usually fitted to one aggregate curve. :func:`fit_by_group` fits the same law to every group
of a tidy results table as well as to the aggregate, with bootstrap intervals, and says which groups differ from
the aggregate and which do not improve at all. :func:`third_axis` is the book's operationalisation of the
argument of Diaz and Madaio :cite:`diaz2024scaling` (their paper makes no computations): it grows the evaluation
population one community at a time and reports, for every size of the population, how clean the aggregate law
looks and what share of the included communities it actually describes.

The input is the same for both: a tidy frame with one row per measured point (a size, a group, a metric value,
and optionally the number of evaluation examples behind the value). The metric is *lower is better* and
positive (a loss or an error rate) by default; an accuracy, a win rate or any other score on a 0-1 scale goes in
as it is with ``higher_is_better=True`` (the error ``1 - score`` is fitted inside, and predictions come back as
scores), and a stated ``chance`` level bounds the error from above (see :func:`fit_by_group`).
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

from helpers import _batchfit, _solver
from helpers._docs import fill_doc
from helpers._solver import fit_power_curves
from helpers._stats import OVERALL, conf_int_frame, percentile_interval
from helpers._validate import (
    MAX_COUNT,
    as_float_array,
    finite_scalar,
    flag,
    has_columns,
    label as valid_label,
    one_of,
    positive_int,
    sequence,
)
from helpers._validate import seed as valid_seed
from helpers.scaling import (
    CI_LEVEL,
    ChinchillaFit,
    PowerLawFit,
    fit_chinchilla,
)

#: Above this many (order, k, community) combinations :func:`third_axis` keeps only ``k = 1`` and the full
#: population in its ``membership`` table.
MEMBERSHIP_ROWS = 200_000


# --------------------------------------------------------------------------- the metric's direction and bounds

#: How the error is fitted: ``"log"`` (a power law of the error, the default) or ``"logit"`` (a power law of the
#: odds of the chance-normalised error, which respects both bounds).
SCALES = ("log", "logit")
#: On the logit scale, normalised errors are kept inside ``[_LOGIT_EPS, 1 - _LOGIT_EPS]``: a point at or worse
#: than chance has infinite odds, which no law can fit.
_LOGIT_EPS = 1e-3


#: The two-group example data of the docstrings (helpers._docs): group A improves as n**-0.5, B as n**-0.1.
_doc = fill_doc({"two_groups": """
>>> import numpy as np, pandas as pd
>>> from helpers.disaggregate import fit_by_group
>>> n = np.logspace(2, 5, 8)
>>> df = pd.concat([pd.DataFrame({"n": n, "error": 2 * n**-0.5 + 0.05, "group": "A"}),
...                 pd.DataFrame({"n": n, "error": 2 * n**-0.1 + 0.05, "group": "B"})])"""})


@dataclass(frozen=True)
class _MetricScale:
    """The way between the user's metric and the quantity the laws are fitted to.

    ``error`` is the lower-is-better metric (``1 - metric`` for a higher-is-better score on a 0-1 scale);
    ``ceiling`` is the error at chance, when stated; the fitted quantity is the error itself (``"log"``) or the
    odds ``e / (ceiling - e)`` of the chance-normalised error (``"logit"``).
    """

    higher_is_better: bool = False
    chance: float | None = None
    scale: str = "log"

    @property
    def ceiling(self) -> float | None:
        if self.chance is None:
            return 1.0 if self.higher_is_better and self.scale == "logit" else None
        return 1.0 - self.chance if self.higher_is_better else self.chance

    @property
    def default(self) -> bool:
        return not self.higher_is_better and self.chance is None and self.scale == "log"

    def error(self, y: Any) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        return 1.0 - y if self.higher_is_better else y

    def to_fit(self, e: Any) -> np.ndarray:
        """Error to fitted quantity."""
        e = np.asarray(e, dtype=float)
        if self.scale == "log":
            return e
        u = self.ceiling
        share = np.clip(e / u, _LOGIT_EPS, 1 - _LOGIT_EPS)
        return share / (1 - share)

    def to_error(self, f: Any) -> np.ndarray:
        """Fitted quantity to error, never above the error at chance."""
        f = np.asarray(f, dtype=float)
        e = f if self.scale == "log" else self.ceiling * f / (1 + f)
        return e if self.ceiling is None else np.minimum(e, self.ceiling)

    def to_user(self, f: Any) -> np.ndarray:
        """Fitted quantity to the user's metric."""
        return self.error(self.to_error(f))  # 1 - e is its own inverse

    def fitted_quantity(self, metric: str) -> str:
        err = f"1 - {metric}" if self.higher_is_better else metric
        if self.scale == "log":
            return err
        u = f"{self.ceiling:g}"
        return f"({err}) / ({u} - ({err}))" if self.higher_is_better else f"{err} / ({u} - {err})"

    def check(self, values: pd.Series, metric: str) -> None:
        """The metric's values are possible for this direction and scale (raises otherwise)."""
        if self.higher_is_better:
            bad = (values < 0) | (values > 1)
            if bad.any():
                raise ValueError(
                    f"Column {metric!r} must lie in [0, 1] with higher_is_better=True (a score such as an "
                    f"accuracy or a win rate; the error 1 - {metric} is fitted); found {int(bad.sum())} value(s) "
                    f"outside, from {values.min():g} to {values.max():g}. Divide percentages by 100, or turn "
                    f"another score into a positive lower-is-better error yourself and pass "
                    f"higher_is_better=False.")
            perfect = values >= 1
            if perfect.any():
                raise ValueError(
                    f"Column {metric!r} is 1 (a perfect score) in {int(perfect.sum())} row(s): its error "
                    f"1 - {metric} is 0, which a law fitted on a log scale cannot take. Drop those rows, or "
                    f"replace a perfect score measured on m examples by 1 - 1/(2m).")
            return
        bad = values <= 0
        if bad.any():
            raise ValueError(
                f"Column {metric!r} must be > 0 (laws are fitted on a log scale); found {int(bad.sum())} "
                f"value(s) <= 0. A metric must be lower-is-better and positive (an error or a loss); for an "
                f"accuracy or another score on a 0-1 scale pass higher_is_better=True.")


def _metric_scale(higher_is_better: Any, chance: Any, scale: Any) -> _MetricScale:
    """Validated direction, chance level and scale."""
    hib = flag(higher_is_better, "higher_is_better")
    one_of(scale, SCALES, "scale")
    if chance is not None:
        if hib:
            chance = finite_scalar(chance, "chance", low=0.0, high=1.0, high_open=True, example=0.5)
        else:
            chance = finite_scalar(chance, "chance", low=0.0, low_open=True, example=0.5)
    if scale == "logit" and chance is None and not hib:
        raise ValueError(
            "scale='logit' needs the metric's upper bound: pass chance= (the value of the lower-is-better metric "
            "a model gets by guessing, e.g. chance=0.5 for the error of a two-choice task), or use scale='log'.")
    return _MetricScale(hib, chance, str(scale))


# --------------------------------------------------------------------------- input checks


def _size_columns(size: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(size, str):
        cols: tuple[Any, ...] = (size,)
    elif isinstance(size, (Sequence, np.ndarray, pd.Index)) and not isinstance(size, bytes):
        cols = tuple(size)
    else:
        cols = ()
    if len(cols) not in (1, 2) or not all(isinstance(c, str) for c in cols):
        raise ValueError(
            f"size must be one column name (a power law) or a pair of column names (N, D) for the Chinchilla "
            f"form; got {size!r}."
        )
    return cols


def _require_positive(values: pd.Series, rule: str, fix: str) -> None:
    """Raise ``rule``, the count and first row of the values <= 0, and ``fix``, unless every value is > 0."""
    bad = (values <= 0).to_numpy()
    if bad.any():
        # positions, not labels: a row label may repeat
        raise ValueError(f"{rule}; found {int(bad.sum())} value(s) <= 0, the first at row {values.index[bad][0]!r} "
                         f"({values.to_numpy()[bad][0]:g}). {fix}")


def _tidy_points(
    df: pd.DataFrame, sizes: tuple[str, ...], metric: str, group: str, n_examples: str | None,
    scale: _MetricScale | None = None,
) -> pd.DataFrame:
    """Validated copy with columns group, the size columns, metric and n_examples (1 per row when absent)."""
    cols = [group, *sizes, metric] + ([n_examples] if n_examples is not None else [])
    has_columns(df, cols, what="the results frame")
    if len(df) == 0:
        raise ValueError("The results frame is empty; pass one row per measured point.")
    if df[group].isna().any():
        raise ValueError(
            f"{int(df[group].isna().sum())} row(s) have no {group!r}; drop them or give them a group label."
        )
    out = pd.DataFrame({"group": df[group].astype(str).to_numpy()}, index=df.index)
    _check_labels(out["group"], group)
    for col in (*sizes, metric) + ((n_examples,) if n_examples is not None else ()):
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
        _require_positive(out[col], f"Size column {col!r} must be > 0 (laws are fitted on log size)",
                          "Drop those rows or correct the sizes (a model or data size of 0 has no place on a log axis).")
    (scale or _MetricScale()).check(out[metric], metric)
    if n_examples is not None:
        _require_positive(out[n_examples], f"Column n_examples={n_examples!r} counts the evaluation examples behind "
                          "each value and must be > 0", "A value measured on no examples is not a measurement: drop "
                          "those rows.")
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


def _fit_options(irreducible: Any, loss: Any, huber_delta: Any, n_boot: Any, seed: Any,
                 progress: Any) -> tuple[bool, str, float, int, int, bool | None]:
    """The fitting options of :func:`fit_by_group` and :func:`third_axis`, checked at the entry point."""
    irreducible = flag(irreducible, "irreducible")
    one_of(loss, ("huber", "squared"), "loss")
    huber_delta = finite_scalar(huber_delta, "huber_delta", example=1e-3)
    if huber_delta <= 0:
        raise ValueError(f"huber_delta must be > 0 (the Huber threshold on log residuals); got {huber_delta!r}.")
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    seed = valid_seed(seed)
    progress = None if progress is None else flag(progress, "progress")
    return irreducible, str(loss), huber_delta, n_boot, seed, progress


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
        The law fitted to the aggregate curve, a law of :attr:`fitted_quantity` (the metric itself by default).
    fits : dict
        Group label to its fitted law, for every group with enough points (laws of :attr:`fitted_quantity`).
    by_group : DataFrame
        One row per group, fitted or not: ``group``, the parameters (of the law of :attr:`fitted_quantity`) with
        ``_low``/``_high`` interval bounds,
        ``n_points``, ``n_examples``, ``size_min``, ``size_max`` and ``status`` (``"ok"`` or why it was not fitted).
    n_boot : int
        Bootstrap resamples behind the intervals (0 = none).
    points : DataFrame
        The points that were fitted, on the user's scale (an accuracy stays an accuracy), including the aggregate
        curve (``group == "overall"``).
    notes : tuple of str
        Numerical trouble met while fitting (floating-point overflow on extreme sizes), in words; also issued
        once as a :class:`NumericalWarning`.
    seed : int
        The seed of :func:`fit_by_group`; ``group_seeds`` holds the seed each fit (``"overall"`` included) drew
        its resamples from.
    loss, huber_delta, irreducible
        The fitting options, reused by :func:`third_axis` when it is given this fit.
    improvement_table : DataFrame or None
        :meth:`improvement`, computed once from the same resamples as the laws.
    higher_is_better, chance, scale
        How the metric was turned into the fitted quantity (see :func:`fit_by_group`); :meth:`predict` and
        :meth:`curves` undo it, so they answer on the metric's own scale.
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
    seed: int = 0
    loss: str = "huber"
    huber_delta: float = 1e-3
    irreducible: bool = True
    group_seeds: dict[str, int] = field(default_factory=dict, repr=False)
    improvement_table: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    higher_is_better: bool = False
    chance: float | None = None
    scale: str = "log"

    @property
    def _ms(self) -> _MetricScale:
        return _MetricScale(self.higher_is_better, self.chance, self.scale)

    @property
    def fitted_quantity(self) -> str:
        """What the laws (:attr:`fits`, :attr:`overall`, the parameters in :attr:`by_group`) are laws of.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from helpers.disaggregate import fit_by_group
        >>> n = np.logspace(2, 5, 6)
        >>> df = pd.DataFrame({"n": np.tile(n, 2), "acc": 1 - 0.4 * np.tile(n, 2) ** -0.2, "g": ["A"] * 6 + ["B"] * 6})
        >>> fit_by_group(df, size="n", metric="acc", group="g", higher_is_better=True).fitted_quantity
        '1 - acc'
        """
        return self._ms.fitted_quantity(self.metric)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the fitted parameters."""
        return _POWER_PARAMS if self.form == "power_law" else _CHIN_PARAMS

    def to_frame(self) -> pd.DataFrame:
        """:attr:`by_group` with the aggregate as its first row (``group == "overall"``)."""
        first = _summary_row(OVERALL, self.overall, self.points[self.points["group"] == OVERALL], self.size,
                             self.parameters)
        return pd.concat([pd.DataFrame([first]), self.by_group], ignore_index=True)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Percentile bootstrap intervals of every fitted law at coverage ``1 - alpha``, from the stored draws.

        One block per law of :meth:`helpers.scaling.PowerLawFit.conf_int` (or ``ChinchillaFit``'s), with a
        ``group`` column first: the aggregate (``"overall"``), then every fitted group. ``alpha=0.05`` gives the
        bounds in :attr:`by_group`; nothing is refitted, and a fit with ``n_boot=0`` raises a ``ValueError``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from helpers.disaggregate import fit_by_group
        >>> n = np.logspace(2, 5, 8)
        >>> noise = np.exp(np.random.default_rng(0).normal(0, 0.02, 16))
        >>> df = pd.DataFrame({"n": np.tile(n, 2), "error": np.r_[2 * n**-0.5, 2 * n**-0.1] * noise + 0.05,
        ...                    "group": np.repeat(["A", "B"], 8)})
        >>> table = fit_by_group(df, size="n", metric="error", group="group", n_boot=50).conf_int(0.10)
        >>> table.loc[table["parameter"] == "b", "group"].tolist()
        ['overall', 'A', 'B']
        """
        laws = [(OVERALL, self.overall), *self.fits.items()]
        frames = [conf_int_frame({p: getattr(law, p) for p in self.parameters}, law.boot, alpha, refit="fit_by_group")
                  .assign(group=label) for label, law in laws]
        return pd.concat(frames, ignore_index=True)[["group", "parameter", "estimate", "ci_low", "ci_high"]]

    def _draws(self, label: str, parameter: str) -> np.ndarray | None:
        fit = self.overall if label == OVERALL else self.fits.get(label)
        return None if fit is None or fit.boot is None else fit.boot[parameter].to_numpy()

    def difference(self, parameter: str | None = None, *, paired: bool = False) -> pd.DataFrame:
        """How far the groups' exponents spread, and how far each group is from the aggregate.

        Parameters
        ----------
        parameter : str, optional
            Parameter to compare; default the exponent (``"b"``, or ``"beta"`` for the Chinchilla form).
        paired : bool, default False
            Pair the bootstrap draws across groups. By default each group's draws come from its own resamples
            (those behind its interval in :attr:`by_group`), so the intervals of a difference treat the groups
            as measured independently. When the groups were measured at the same sizes (the same models,
            checkpoints or seeds evaluated on every group), whatever is particular to one size (a lucky
            checkpoint, a badly tuned run) moves every group together, and independent draws count it twice.
            With ``paired=True`` the *sizes* are resampled (the distinct sizes of the aggregate, with
            replacement, from the fit's ``seed``), and every group and the aggregate are refitted on the same
            resample, each keeping all its rows at the drawn sizes (repeated seeds at a size move together).
            Groups measured at only some of the sizes take part with the sizes they have. The laws are
            refitted with the fit's options, so this costs one more bootstrap of every group. For the
            Chinchilla form the distinct (N, D) runs are resampled the same way.

        Returns
        -------
        DataFrame
            Columns ``comparison``, ``group``, ``parameter``, ``estimate``, ``ci_low``, ``ci_high``. The first row,
            ``comparison == "range"``, is the largest minus the smallest group value; then one row per fitted
            group, ``"group - overall"``. Intervals are percentile intervals of the differences of bootstrap
            draws (NaN when ``n_boot=0``): independent draws by default, so that, as the group and aggregate
            fits share data, the interval of a group-minus-overall difference is conservative; paired draws
            with ``paired=True``.

        Raises
        ------
        ValueError
            If ``parameter`` is not a parameter of the fitted form, or fewer than two groups were fitted.

        Examples
        --------
        Two groups measured at the same eight sizes, each size with its own perturbation common to both (a
        checkpoint that happens to be good or bad for everyone):

        >>> import numpy as np, pandas as pd
        >>> from helpers.disaggregate import fit_by_group
        >>> rng = np.random.default_rng(0)
        >>> n = np.logspace(2, 5, 8)
        >>> shared = np.exp(rng.normal(0, 0.05, n.size))
        >>> df = pd.concat([pd.DataFrame({"n": n, "err": (2 * n**-b + 0.05) * shared, "g": g})
        ...                 for g, b in (("A", 0.5), ("B", 0.3))])
        >>> fit = fit_by_group(df, size="n", metric="err", group="g", n_boot=200)
        >>> width = {p: float(np.diff(fit.difference(paired=p).iloc[0][["ci_low", "ci_high"]])[0])
        ...          for p in (False, True)}
        >>> width[True] < width[False]
        True
        """
        if parameter is None:
            parameter = "b" if self.form == "power_law" else "beta"
        one_of(parameter, self.parameters, "parameter")
        paired = flag(paired, "paired")
        labels = list(self.fits)
        if len(labels) < 2:
            raise ValueError(f"difference() needs at least two fitted groups; only {labels} could be fitted.")
        values = {g: getattr(self.fits[g], parameter) for g in labels}
        hi, lo = max(values, key=values.get), min(values, key=values.get)
        if paired and self.n_boot:
            boots = self._paired_boot()
            draws = {g: boots[g][parameter].to_numpy() for g in [*labels, OVERALL]}
        else:
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

    def _paired_boot(self) -> dict[str, pd.DataFrame]:
        """Bootstrap draws of every fitted group and the aggregate, all refitted on one resample of the sizes."""
        if self.form == "chinchilla":
            return self._paired_boot_chinchilla()
        every = self._error_points()
        x = every[self.size[0]].to_numpy(dtype=float)
        sizes, code = np.unique(x, return_inverse=True)
        counts = _batchfit.resample_weights(len(sizes), self.n_boot, self.seed)  # (n_boot, sizes)
        where = every.groupby("group", sort=False).indices
        labels = [OVERALL, *self.fits]
        y = self._ms.to_fit(every[self.metric].to_numpy(dtype=float))
        # Each design gets the counts of its own sizes (np.unique order, as design() expects).
        designs = [_batchfit.design(x[where[g]], y[where[g]], self.group_seeds.get(g, self.seed),
                                    size_w=counts[:, np.unique(code[where[g]])]) for g in labels]
        notes = list(self.notes)
        with _numerics("difference(paired=True)", self.size, self.points, notes):
            done = _batchfit.fit_groups(designs, irreducible=self.irreducible, loss=self.loss,
                                        delta=self.huber_delta if self.loss == "huber" else None,
                                        n_boot=self.n_boot, progress=False, lines=False)
        return {g: r.law.boot for g, r in zip(labels, done)}

    def _paired_boot_chinchilla(self) -> dict[str, pd.DataFrame]:
        """:meth:`_paired_boot` for the Chinchilla form: the distinct (N, D) runs are resampled jointly.

        Every group and the aggregate are refitted on one resample of the runs, warm-started at their own fit,
        with the fit's Huber threshold, as :func:`helpers.scaling.fit_chinchilla` bootstraps a single law.
        """
        every = self._error_points()
        nd = every[list(self.size)].to_numpy(dtype=float)
        runs, code = np.unique(nd, axis=0, return_inverse=True)
        code = code.ravel()
        counts = _batchfit.resample_weights(len(runs), self.n_boot, self.seed)  # (n_boot, runs)
        where = every.groupby("group", sort=False).indices
        y = self._ms.to_fit(every[self.metric].to_numpy(dtype=float))
        out: dict[str, pd.DataFrame] = {}
        notes = list(self.notes)
        with _numerics("difference(paired=True)", self.size, self.points, notes):
            for g in [OVERALL, *self.fits]:
                rows = where[g]
                prob = _solver.Problem.make(np.log(nd[rows]), np.log(y[rows]), const=True, delta=self.huber_delta)
                theta, _ = _solver.fit(prob)
                draws, _ = _solver.polish(prob, np.repeat(theta[None, :], self.n_boot, axis=0),
                                          counts[:, code[rows]], prob.logy[0], max_iter=200)
                out[g] = pd.DataFrame(_solver.chinchilla_params(prob, draws))
        return out

    def improvement(self, *, seed: int | None = None) -> pd.DataFrame:
        """How much each group improves over its own measured range, and whether that is distinguishable from zero.

        The question is about the data, not about the law's extrapolation, so it is answered with the simplest
        model that can: a robust straight line of log metric on log size (``irreducible=False``, with the fit's
        ``loss`` and ``huber_delta``; for the Chinchilla form, on log ``N * D``), fitted to the group's points.
        Its interval comes from the *same* bootstrap resamples as the group's law (drawn once, from
        :attr:`group_seeds`). A law with a floor is a poor judge here: fitted to a flat, noisy curve it can put a
        tiny reducible term on the boundary and report a small, confidently positive "improvement".

        Parameters
        ----------
        seed : int, optional
            Deprecated and ignored (it used to re-run the bootstrap with a seed the fit did not record): the
            resamples are the fit's own, set by the ``seed`` of :func:`fit_by_group`.

        Returns
        -------
        DataFrame
            One row per group (aggregate first): ``group``, ``improvement`` (the line's value at the smallest size
            minus at the largest; positive when the metric falls), ``ci_low``, ``ci_high`` (NaN without bootstrap),
            ``relative_improvement`` (as a share of the value at the smallest size) and ``non_improving``
            (``True`` when the interval reaches zero or below, or, without bootstrap, when the estimate is not
            positive; missing for groups that could not be fitted).
        """
        if valid_seed(seed, allow_none=True) is not None:
            warnings.warn("improvement(seed=...) is deprecated and ignored: the interval uses the fit's own "
                          f"bootstrap resamples (fit_by_group(seed={self.seed})). Drop the argument.",
                          DeprecationWarning, stacklevel=2)
        if self.improvement_table is None:
            raise ValueError("This fit has no improvement table; make it with fit_by_group().")
        out = self.improvement_table.copy()
        out["non_improving"] = out["non_improving"].astype("boolean")
        return out

    def non_improving(self, *, seed: int | None = None) -> pd.DataFrame:
        """The groups whose improvement over the measured range is negative or not distinguishable from zero.

        Parameters
        ----------
        seed : int, optional
            Deprecated and ignored, as in :meth:`improvement`.

        Returns
        -------
        DataFrame
            The rows of :meth:`improvement` for those groups (the aggregate is included if it qualifies), with a
            ``reason``: ``"gets worse"`` when the whole interval lies below zero (without bootstrap: when the
            estimate is negative), otherwise ``"interval includes zero"``: such a group is said neither to
            improve nor to get worse.
        """
        if valid_seed(seed, allow_none=True) is not None:
            warnings.warn("non_improving(seed=...) is deprecated and ignored: the fit's own bootstrap resamples "
                          "are used. Drop the argument.", DeprecationWarning, stacklevel=2)
        table = self.improvement()
        flat = table[table["non_improving"].fillna(False).astype(bool)].copy()
        worse = np.where(flat["ci_high"].isna(), flat["improvement"] < 0, flat["ci_high"] < 0)
        flat["reason"] = np.where(worse, "gets worse", "interval includes zero")
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
            Columns ``group``, the size column(s) and ``prediction``, on the metric's own scale (an accuracy for
            ``higher_is_better=True``, never worse than a stated ``chance`` level).
        """
        labels = self._labels(group)
        if self.form == "chinchilla":
            has_columns(x, self.size, what="x (a frame with both size columns)")
            grid = pd.DataFrame({c: as_float_array(x[c], f"x[{c!r}]") for c in self.size})
        else:
            grid = pd.DataFrame({self.size[0]: as_float_array(x, "x")})
        frames = []
        for g in labels:
            fit = self.overall if g == OVERALL else self.fits[g]
            frames.append(grid.assign(group=g, prediction=self._ms.to_user(_predict(fit, grid, self.size))))
        return pd.concat(frames, ignore_index=True)[["group", *self.size, "prediction"]]

    def curves(self, *, n_grid: int = 50, group: str | Sequence[str] | None = None) -> pd.DataFrame:
        """Fitted curves on each group's measured range, with pointwise 95% bootstrap bands, ready to plot.

        Parameters
        ----------
        n_grid : int, default 50
            Points per curve.
        group : str or list of str, optional
            Groups to draw (``"overall"`` for the aggregate); default the aggregate and every fitted group.

        Returns
        -------
        DataFrame
            Columns ``group``, the size column, the metric column (the fitted value, on the metric's own scale),
            ``low`` and ``high`` (NaN without bootstrap). Power-law fits only.

        Raises
        ------
        ValueError
            For Chinchilla-form fits (a curve needs one size axis).
        """
        if self.form != "power_law":
            raise ValueError("curves() draws one size axis; for the Chinchilla form use predict() on a grid.")
        n_grid = positive_int(n_grid, "n_grid", minimum=2, maximum=MAX_COUNT)
        x = self.size[0]
        ms = self._ms
        frames = []
        for label in self._labels(group):
            fit = self.overall if label == OVERALL else self.fits[label]
            band = fit.band(np.geomspace(*fit.x_range, n_grid))
            # 1 - e reverses the order of the band's ends.
            ends = np.sort(np.column_stack([ms.to_user(band["low"]), ms.to_user(band["high"])]), axis=1)
            frames.append(pd.DataFrame({"group": label, x: band["x"], self.metric: ms.to_user(band["fit"]),
                                        "low": ends[:, 0], "high": ends[:, 1]}))
        return pd.concat(frames, ignore_index=True)

    # ----------------------------------------------------------------------- holdout checks

    @_doc
    def holdout(self, k: int = 1, *, n_boot: int | None = None) -> pd.DataFrame:
        """Refit every law without its largest ``k`` sizes and score its prediction at the sizes held out.

        Each fitted group and the aggregate is refitted (same form, loss, floor, direction and scale, and the
        same bootstrap seed) on all its points but those at its ``k`` largest distinct sizes (for the Chinchilla
        form, the largest ``N * D``), and predicts those sizes. This is the check a scaling claim is really
        about: does the law fitted on small models predict the large ones?

        Parameters
        ----------
        k : int, default 1
            Distinct sizes held out, from the largest down.
        n_boot : int, optional
            Bootstrap resamples of each refit, for the interval of its prediction; default the fit's own
            ``n_boot`` (0: no intervals).

        Returns
        -------
        DataFrame
            One row per (group, held-out size), the aggregate first: ``group``, the size column(s),
            ``observed`` (the example-weighted mean of the metric at that size), ``prediction``, ``ci_low`` and
            ``ci_high`` (the 95% percentile interval of the refitted law's prediction over its bootstrap draws,
            NaN without; it is the law's uncertainty and leaves out the scatter of a new measurement), all on
            the metric's own scale; ``residual`` (prediction minus observed), ``relative_error`` (predicted
            error / observed error - 1, signed, on the error as in :func:`third_axis`), ``log_ratio``
            (``log(predicted error / observed error)``, the log residual the laws are fitted on: symmetric, so
            a prediction twice too high and one half too low score the same ``|log 2|``), ``extrapolation`` (decades of size beyond the refit's range), ``covered`` (observed inside the
            interval; missing without bootstrap), ``n_train`` (points refitted) and ``status`` (``"ok"``, or why
            the law could not be refitted, with missing predictions).

        Raises
        ------
        ValueError
            If ``k`` or ``n_boot`` is not a non-negative whole number (``k`` at least 1).

        Examples
        --------
        {{two_groups}}
        >>> check = fit_by_group(df, size="n", metric="error", group="group").holdout(k=1)
        >>> check[["group", "n"]].to_dict("list")
        {'group': ['overall', 'A', 'B'], 'n': [100000.0, 100000.0, 100000.0]}
        >>> check.set_index("group")["relative_error"].abs().round(2).to_dict()
        {'overall': 0.02, 'A': 0.0, 'B': 0.0}

        Each group follows its law exactly, so its law predicts its largest size; their mean does not follow a
        power law, so the aggregate's does not quite.
        """
        k = positive_int(k, "k", maximum=MAX_COUNT)
        n_boot = self.n_boot if n_boot is None else positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
        every = self._error_points()
        x = self._x(every)
        where = every.groupby("group", sort=False).indices
        labels = [OVERALL, *self.fits]
        held = np.zeros(len(every), dtype=bool)
        for label in labels:
            idx = where[label]
            distinct = np.unique(x[idx])
            held[idx] = x[idx] >= (distinct[-k] if len(distinct) > k else -np.inf)
        rest = ~held
        cols = {c: every[c].to_numpy(dtype=float) for c in self.size}
        y = every[self.metric].to_numpy(dtype=float)
        train, reasons = [], {}
        for label in labels:
            idx = where[label][rest[where[label]]]
            reason = _too_few_arrays([cols[c][idx] for c in self.size], self._needed)
            if reason:
                reasons[label] = f"not refitted without the {k} largest size(s): {reason}"
            else:
                train.append((label, [cols[c][idx] for c in self.size], y[idx]))
        observed = _cell_means(every[held & every["group"].isin(labels).to_numpy()], self.size, self.metric)
        return self._scored(labels, observed, train, self._refit(train, n_boot), reasons)


    def leave_one_group_out(self, *, n_boot: int | None = None) -> pd.DataFrame:
        """How well the law of the other groups, pooled, predicts each group.

        For every fitted group, the rows of all other groups are pooled the way the aggregate is (at each size,
        the example-weighted mean), the law is fitted to that curve with the fit's options and the group's
        bootstrap seed, and it predicts the left-out group's mean metric at each of its sizes. A group the
        others' law predicts badly is one the aggregate claim does not transfer to.

        Parameters
        ----------
        n_boot : int, optional
            Bootstrap resamples of each pooled fit, for prediction intervals; default the fit's own ``n_boot``.

        Returns
        -------
        DataFrame
            One row per (group, size of that group), with the columns of :meth:`holdout`; ``extrapolation`` is
            the distance in decades outside the sizes the others were measured at, and ``n_train`` the points
            of the others' pooled curve. ``table["log_ratio"].abs().groupby(table["group"]).max()`` gives one
            number per group.

        Raises
        ------
        ValueError
            If fewer than two groups were fitted, or ``n_boot`` is not a non-negative whole number.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from helpers.disaggregate import fit_by_group
        >>> n = np.logspace(2, 5, 8)
        >>> df = pd.concat([pd.DataFrame({"n": n, "err": 2 * n**-0.4 + 0.05, "g": g}) for g in "ABC"]
        ...                + [pd.DataFrame({"n": n, "err": 2 * n**-0.1 + 0.05, "g": "D"})])
        >>> logo = fit_by_group(df, size="n", metric="err", group="g").leave_one_group_out()
        >>> logo["log_ratio"].abs().groupby(logo["group"]).max().idxmax()
        'D'
        """
        n_boot = self.n_boot if n_boot is None else positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
        labels = list(self.fits)
        if len(labels) < 2:
            raise ValueError(f"leave_one_group_out() needs at least two fitted groups; only {labels} could be "
                             f"fitted.")
        rows = self._error_points()
        rows = rows[rows["group"] != OVERALL]
        # Sums per (group, size) once; the others' curve is the total minus the group's, so the cost stays
        # linear in the number of groups (pooling the others' rows afresh for each group is quadratic).
        cells = _cell_means(rows, self.size, self.metric)
        g_code, g_names = pd.factorize(cells["group"])
        keys = cells[list(self.size)].drop_duplicates().sort_values(list(self.size)).reset_index(drop=True)
        s_code = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(cells[list(self.size)]))
        W = np.zeros((len(g_names), len(keys)))  # noqa: N806
        WY = np.zeros_like(W)  # noqa: N806
        W[g_code, s_code] = cells["n_examples"].to_numpy()
        WY[g_code, s_code] = cells["n_examples"].to_numpy() * cells[self.metric].to_numpy()
        others_w, others_wy = W.sum(axis=0)[None, :] - W, WY.sum(axis=0)[None, :] - WY
        # A size only this group was measured at leaves the others nothing there (up to rounding).
        keep = others_w > 1e-9 * W.sum(axis=0)[None, :]
        key_cols = [keys[c].to_numpy(dtype=float) for c in self.size]
        pos = {g: i for i, g in enumerate(g_names)}
        train, reasons = [], {}
        for g in labels:
            m = keep[pos[g]]
            size_cols = [c[m] for c in key_cols]
            reason = _too_few_arrays(size_cols, self._needed)
            if reason:
                reasons[g] = f"the other groups' curve cannot be fitted: {reason}"
            else:
                train.append((g, size_cols, others_wy[pos[g], m] / others_w[pos[g], m]))
        observed = cells[cells["group"].isin(labels)]
        return self._scored(labels, observed, train, self._refit(train, n_boot), reasons)

    @property
    def _needed(self) -> int:
        return 5 if self.form == "chinchilla" else (3 if self.irreducible else 2)

    def _error_points(self) -> pd.DataFrame:
        """:attr:`points` with the metric as an error."""
        return self.points.assign(**{self.metric: self._ms.error(self.points[self.metric])})

    def _x(self, pts: pd.DataFrame) -> np.ndarray:
        x = pts[self.size[0]].to_numpy(dtype=float)
        return x if self.form == "power_law" else x * pts[self.size[1]].to_numpy(dtype=float)

    def _refit(self, curves: list[tuple[str, list[np.ndarray], np.ndarray]],
               n_boot: int) -> dict[str, PowerLawFit | ChinchillaFit]:
        """The law of each (label, size columns, errors), with this fit's options and each label's seed."""
        ms, notes = self._ms, list(self.notes)
        seeds = [self.group_seeds.get(label, self.seed) for label, _, _ in curves]
        with _numerics("refit", self.size, self.points, notes):
            if self.form == "power_law":
                designs = [_batchfit.design(sizes[0], ms.to_fit(y), s) for (_, sizes, y), s in zip(curves, seeds)]
                done = _batchfit.fit_groups(designs, irreducible=self.irreducible, loss=self.loss,
                                            delta=self.huber_delta if self.loss == "huber" else None,
                                            n_boot=n_boot, progress=False, lines=False) if designs else []
                return {label: r.law for (label, _, _), r in zip(curves, done)}
            return {label: fit_chinchilla(sizes[0], sizes[1], ms.to_fit(y), huber_delta=self.huber_delta,
                                          n_boot=n_boot, seed=s)
                    for (label, sizes, y), s in zip(curves, seeds)}

    def _scored(self, labels: list[str], observed: pd.DataFrame,
                train: list[tuple[str, list[np.ndarray], np.ndarray]],
                laws: dict[str, PowerLawFit | ChinchillaFit], reasons: dict[str, str]) -> pd.DataFrame:
        """Each law's predictions at the per-size ``observed`` errors of its label, scored, labels in order."""
        ms = self._ms
        observed = observed.assign(_order=observed["group"].map({g: i for i, g in enumerate(labels)}))
        observed = observed.sort_values(["_order", *self.size], kind="stable").reset_index(drop=True)
        m = len(observed)
        obs_e = observed[self.metric].to_numpy(dtype=float)
        cols = [observed[c].to_numpy(dtype=float) for c in self.size]
        x = cols[0] if len(cols) == 1 else cols[0] * cols[1]
        pred_e, low, high, extra = (np.full(m, np.nan) for _ in range(4))
        covered = np.zeros(m, dtype=bool)
        has_ci = np.zeros(m, dtype=bool)
        n_train = np.zeros(m, dtype=int)
        status = np.full(m, "ok", dtype=object)
        fitted_x = {label: (sizes[0] if len(sizes) == 1 else sizes[0] * sizes[1]) for label, sizes, _ in train}
        for label, idx in observed.groupby("group", sort=False).indices.items():
            law = laws.get(label)
            if law is None:
                status[idx] = reasons.get(label, "not fitted")
                continue
            grid = [c[idx] for c in cols]
            fx = fitted_x[label]
            n_train[idx] = len(fx)
            pred_e[idx] = ms.to_error(_law_values(law, grid))
            extra[idx] = np.log10(np.maximum(np.maximum(x[idx] / fx.max(), fx.min() / x[idx]), 1.0))
            draws = _law_draws(law, grid)
            if draws is not None:
                ends = np.sort(percentile_interval(ms.to_user(draws), omit_nan=True), axis=0)
                low[idx], high[idx] = ends
                obs_u = ms.error(obs_e[idx])
                covered[idx] = (ends[0] <= obs_u) & (obs_u <= ends[1])
                has_ci[idx] = True
        obs, pred = ms.error(obs_e), ms.error(pred_e)
        covered_or_na = pd.array(covered, dtype="boolean")
        covered_or_na[~has_ci] = pd.NA
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = pred_e / obs_e
        return pd.DataFrame({"group": observed["group"].to_numpy(), **{c: v for c, v in zip(self.size, cols)},
                             "observed": obs, "prediction": pred, "ci_low": low, "ci_high": high,
                             "residual": pred - obs, "relative_error": ratio - 1, "log_ratio": np.log(ratio),
                             "extrapolation": extra, "covered": covered_or_na,
                             "n_train": n_train, "status": status})


    def _labels(self, group: str | Sequence[str] | None) -> list[str]:
        """The requested fitted groups (``"overall"`` for the aggregate), checked; default all of them."""
        if group is None:
            labels = [OVERALL, *self.fits]
        elif isinstance(group, str):
            labels = [group]
        elif isinstance(group, (Sequence, np.ndarray, pd.Series, pd.Index)) and not isinstance(group, bytes):
            labels = sequence(group, "group", example="['A', 'B']", hashable=True)
            if not labels:
                raise ValueError(f"group is empty; name at least one fitted group (fitted: {list(self.fits)}) or "
                                 f"pass group=None for all of them.")
        else:
            raise ValueError(f"group must be a group label (a string, e.g. group={OVERALL!r}) or a list of labels; "
                             f"got {group!r}.")
        unknown = [g for g in labels if g != OVERALL and g not in self.fits]
        if unknown:
            raise ValueError(f"No fitted law for group(s) {unknown}; fitted groups are {list(self.fits)}.")
        return labels


def _predict(fit: PowerLawFit | ChinchillaFit, grid: pd.DataFrame, sizes: tuple[str, ...]) -> np.ndarray:
    if isinstance(fit, ChinchillaFit):
        return fit.predict(grid[sizes[0]], grid[sizes[1]])
    return fit.predict(grid[sizes[0]])


def _law_values(fit: PowerLawFit | ChinchillaFit, sizes: list[np.ndarray]) -> np.ndarray:
    """``fit`` at the sizes (one array, or N and D)."""
    return fit.predict(*sizes) if isinstance(fit, ChinchillaFit) else fit.predict(sizes[0])


def _law_draws(fit: PowerLawFit | ChinchillaFit, sizes: list[np.ndarray]) -> np.ndarray | None:
    """(n_boot, points) values of every bootstrap draw of ``fit`` at the sizes, or ``None`` without draws."""
    if fit.boot is None:
        return None
    b = {c: fit.boot[c].to_numpy()[:, None] for c in fit.boot.columns}
    # Draws at the fitter's exponent bounds overflow at extreme sizes; they become inf, the percentile's concern.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if isinstance(fit, ChinchillaFit):
            N, D = (v[None, :] for v in sizes)  # noqa: N806
            return b["E"] + b["A"] * N ** -b["alpha"] + b["B"] * D ** -b["beta"]
        return b["a"] * sizes[0][None, :] ** -b["b"] + b["c"]


def _cell_means(rows: pd.DataFrame, sizes: tuple[str, ...], metric: str) -> pd.DataFrame:
    """Example-weighted mean metric per (group, size): every group's curve, in one pass."""
    w = rows["n_examples"].to_numpy(dtype=float)
    cols = ["group", *sizes]
    sums = (pd.DataFrame({**{c: rows[c].to_numpy() for c in cols}, "_w": w,
                          "_wy": w * rows[metric].to_numpy(dtype=float)})
            .groupby(cols, sort=True)[["_w", "_wy"]].sum().reset_index())
    sums = sums[sums["_w"] > 0]
    return pd.DataFrame({**{c: sums[c].to_numpy() for c in cols}, metric: (sums["_wy"] / sums["_w"]).to_numpy(),
                         "n_examples": sums["_w"].to_numpy()})


def _difference_row(comparison: str, group: str, parameter: str, estimate: float,
                    draws: np.ndarray | None) -> dict[str, Any]:
    low, high = (np.nan, np.nan) if draws is None else percentile_interval(draws)
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


@_doc
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
    progress: bool | None = None,
    higher_is_better: bool = False,
    chance: float | None = None,
    scale: str = "log",
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
        A positive, lower-is-better metric column (a loss or an error rate), or with ``higher_is_better=True`` a
        score on a 0-1 scale (an accuracy, a win rate, a pass rate), as measured.
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
        Seed; each group gets its own stream derived from it (recorded in :attr:`GroupScalingFit.group_seeds`).
        The resamples are drawn once: the law's intervals, :meth:`~GroupScalingFit.difference`,
        :meth:`~GroupScalingFit.improvement` and :func:`third_axis` all use them.
    progress : bool, optional
        Show a progress bar on standard error; default only when it is a terminal (and the fit takes over a
        second).
    higher_is_better : bool, default False
        The metric is a score on a 0-1 scale where higher is better. Inside, the laws are fitted to the error
        ``e = 1 - metric`` (the only general way from a score to a positive lower-is-better quantity needs its
        best value, and for a 0-1 score that is 1; a score on another scale must be rescaled to 0-1 first, e.g.
        a percentage divided by 100). The law then reads ``metric = 1 - (a x^-b + c)``: ``c`` is the error that
        never goes away, so ``1 - c`` is the score the law approaches, and the parameters in
        :attr:`~GroupScalingFit.by_group` are those of the error's law (named by
        :attr:`~GroupScalingFit.fitted_quantity`). :attr:`~GroupScalingFit.points`,
        :meth:`~GroupScalingFit.predict` and :meth:`~GroupScalingFit.curves` answer in the score; the
        improvement (fall of the error) is the score's rise.
    chance : float, optional
        The metric's value for a model that guesses, on the metric's own scale: 0.5 for the accuracy of a
        two-choice task, 1/3 for three choices (with ``higher_is_better=True``), or the error or loss at chance
        for a lower-is-better metric. Chance bounds the *error from above*, not from below: on a two-choice task
        the error of a model that does better than guessing lies in ``[0, 0.5]``, so the floor ``c`` keeps its
        meaning (the error no size removes) and does not absorb the chance level. With ``scale="log"`` the
        fitted law of the error is unchanged by ``chance`` (dividing the error by its ceiling rescales ``a`` and
        ``c`` and leaves the exponent and every prediction as they are); what changes is that predictions are
        capped at chance (an extrapolation to small sizes returns the chance level, not a score below it) and
        that rows at or worse than chance are counted in :attr:`~GroupScalingFit.notes`. With
        ``scale="logit"`` the bound enters the law itself.
    scale : {"log", "logit"}, default "log"
        ``"log"``: a power law of the error, fitted on log residuals (the book's default). ``"logit"``: a power
        law of the odds ``e / (u - e)`` of the error relative to its ceiling ``u`` (the error at chance, or 1 for
        a 0-1 score without a stated chance), i.e. a law on the logit scale of the chance-normalised error
        ``e / u``. Its curves start at chance for small sizes and end at ``u c / (1 + c)``, so they never leave
        the metric's range. Normalised errors are kept within ``[0.001, 0.999]`` (a point at or worse than
        chance has infinite odds) and such points are counted in the notes. A lower-is-better metric needs
        ``chance`` for this scale.

    Returns
    -------
    GroupScalingFit

    Raises
    ------
    ValueError
        On a missing column, an empty frame, rows without a group, group labels that differ only by control
        characters or surrounding whitespace (``"A"`` and ``"A\\x00"``), non-numeric, non-finite or non-positive
        sizes and metrics, example counts that are not > 0, a ``size`` that is neither one nor two columns, an
        ``overall`` label that is not in the data, a higher-is-better metric outside ``[0, 1]`` or equal to 1 (no
        error to fit on a log scale), a ``chance`` outside ``[0, 1)`` (higher is better) or not > 0 (lower is
        better), an unknown ``scale``, or ``scale="logit"`` for a lower-is-better metric without ``chance``.
        Groups with too few points are not an error: they appear in ``by_group`` with their status.

    Warns
    -----
    NumericalWarning
        Once, in words, when the fits meet floating-point overflow (sizes spanning hundreds of decades); the
        message is also kept in :attr:`GroupScalingFit.notes`.

    Examples
    --------
    {{two_groups}}
    >>> res = fit_by_group(df, size="n", metric="error", group="group")
    >>> res.by_group[["group", "b"]].round(3).to_dict("records")
    [{'group': 'A', 'b': 0.5}, {'group': 'B', 'b': 0.1}]

    An accuracy on a two-choice task goes in as it is; predictions come back as accuracies, never below chance:

    >>> acc = df.assign(accuracy=1 - df["error"] / 4)
    >>> res = fit_by_group(acc, size="n", metric="accuracy", group="group", higher_is_better=True, chance=0.5)
    >>> res.fitted_quantity, round(res.fits["A"].b, 3), round(res.fits["A"].c, 4)
    ('1 - accuracy', 0.5, 0.0125)
    >>> res.predict([1e4, 1.0], group="A")["prediction"].round(4).tolist()
    [0.9825, 0.5]
    """
    sizes = _size_columns(size)
    irreducible, loss, huber_delta, n_boot, seed, progress = _fit_options(irreducible, loss, huber_delta, n_boot,
                                                                          seed, progress)
    overall = valid_label(overall, "overall", allow_none=True)
    ms = _metric_scale(higher_is_better, chance, scale)
    points = _tidy_points(df, sizes, metric, group, n_examples, ms)
    # Everything below works on the error; what is stored and returned is on the user's scale again.
    points[metric] = ms.error(points[metric])
    labels = _group_labels(df, group)
    if overall is not None:
        if overall not in set(points["group"]):
            raise ValueError(f"overall={overall!r} is not a label in {group!r}; labels are {sorted(set(points['group']))}.")
        agg = points[points["group"] == overall].assign(group=OVERALL)
        points = points[points["group"] != overall].reset_index(drop=True)
        labels = [g for g in labels if g != overall]
    else:
        agg = _pooled(points, sizes, metric)
    form = "power_law" if len(sizes) == 1 else "chinchilla"
    needed = 5 if form == "chinchilla" else (3 if irreducible else 2)
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=len(labels) + 1)
    delta = huber_delta if loss == "huber" else None

    reason = _too_few(agg, sizes, needed)
    if reason:
        raise ValueError(f"The aggregate curve cannot be fitted: {reason}. Measure more sizes.")
    notes: list[str] = []
    params = _POWER_PARAMS if form == "power_law" else _CHIN_PARAMS
    # Positions of each group's rows, found once (a boolean mask per group is quadratic in the groups).
    where = points.groupby("group", sort=False).indices
    empty = np.array([], dtype=int)
    cols = {c: points[c].to_numpy() for c in (*sizes, metric, "n_examples")}
    todo: list[tuple[str, np.ndarray, int]] = [(OVERALL, np.arange(len(agg)), int(seeds[0]))]
    status: dict[str, str] = {}
    for label, s in zip(labels, seeds[1:]):
        idx = where.get(label, empty)
        reason = _too_few_arrays([cols[c][idx] for c in sizes], needed)
        status[label] = reason or "ok"
        if reason is None:
            todo.append((label, idx, int(s)))
    if len(todo) == 1:
        raise ValueError(f"No group has enough points to fit a law (each needs {needed}); see the group sizes.")

    def values(label: str, idx: np.ndarray, col: str) -> np.ndarray:
        return agg[col].to_numpy(dtype=float) if label == OVERALL else cols[col][idx]

    def x_of(label: str, idx: np.ndarray) -> np.ndarray:
        x = values(label, idx, sizes[0])
        return x if form == "power_law" else x * values(label, idx, sizes[1])

    with _numerics("fit_by_group", sizes, points, notes):
        designs = [_batchfit.design(x_of(g, idx), ms.to_fit(values(g, idx, metric)), s) for g, idx, s in todo]
        lines = _batchfit.fit_groups(designs, irreducible=irreducible, loss=loss, delta=delta, n_boot=n_boot,
                                     progress=progress, laws=form == "power_law",
                                     to_error=ms.to_error if ms.scale == "logit" else None)
        laws: dict[str, PowerLawFit | ChinchillaFit] = {}
        for (g, idx, s), res in zip(todo, lines):
            if form == "power_law":
                laws[g] = res.law
            else:
                laws[g] = fit_chinchilla(values(g, idx, sizes[0]), values(g, idx, sizes[1]),
                                         ms.to_fit(values(g, idx, metric)), huber_delta=huber_delta,
                                         n_boot=n_boot, seed=s)
    compressed = [g for (g, _, _), d in zip(todo, designs) if d.compressed]
    if compressed:
        notes.append(f"{_count(compressed, 'group')} with more than {_batchfit.COMPRESS_ABOVE:,} rows "
                     f"({', '.join(map(str, compressed[:5]))}{', ...' if len(compressed) > 5 else ''}) "
                     f"{'was' if len(compressed) == 1 else 'were'} fitted to the mean log {metric} at each size, "
                     f"weighted by its rows (the same law as all rows for the squared loss; for the Huber loss a "
                     f"robust fit to the per-size means); the bootstrap still resamples rows.")
    notes.extend(_chance_notes(points[metric].to_numpy(), ms, metric))
    overall_fit = laws.pop(OVERALL)
    fits = laws
    rows = []
    for label in labels:
        idx = where.get(label, empty)
        rows.append(_summary_row_arrays(label, fits.get(label), [cols[c][idx] for c in sizes],
                                        cols["n_examples"][idx], params, status[label]))
    improvement = pd.DataFrame([
        {"group": g, "improvement": r.improvement, "ci_low": r.improvement_low, "ci_high": r.improvement_high,
         "relative_improvement": r.improvement / r.start}
        for (g, _, _), r in zip(todo, lines)])
    improvement = (pd.DataFrame({"group": [OVERALL, *labels]})
                   .merge(improvement, on="group", how="left"))
    improvement["non_improving"] = _flag_non_improving(improvement)
    fitted = pd.concat([agg, points], ignore_index=True)
    fitted[metric] = ms.error(fitted[metric])  # back to the user's scale
    return GroupScalingFit(form=form, size=sizes, metric=metric, overall=overall_fit, fits=fits,
                           by_group=pd.DataFrame(rows), n_boot=n_boot, points=fitted, notes=tuple(notes),
                           seed=seed, loss=loss, huber_delta=huber_delta, irreducible=bool(irreducible),
                           group_seeds={g: s for g, _, s in todo}, improvement_table=improvement,
                           higher_is_better=ms.higher_is_better, chance=ms.chance, scale=ms.scale)


def _chance_notes(error: np.ndarray, ms: _MetricScale, metric: str) -> list[str]:
    """What a stated chance level did to the rows: those at or worse than chance are named, never dropped."""
    if ms.chance is None:
        return []
    worse = int((error > ms.ceiling).sum())
    if not worse:
        return []
    how = ("fitted as they are (the law of the error is not bounded; its predictions are capped at chance)"
           if ms.scale == "log" else
           f"fitted as if just better than chance (normalised error {1 - _LOGIT_EPS:g}), since the odds of a "
           f"point at chance are infinite")
    side = "below" if ms.higher_is_better else "above"
    return [f"{worse} row(s) of {metric} lie {side} the chance level {ms.chance:g}: those models do no better "
            f"than guessing there. They are {how}."]


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _flag_non_improving(table: pd.DataFrame) -> pd.Series:
    """True when the improvement interval reaches zero or below (without bootstrap: the estimate is not > 0)."""
    est, low = table["improvement"], table["ci_low"]
    flag = pd.Series(np.where(low.isna(), est <= 0, low <= 0), index=table.index).astype("boolean")
    flag[est.isna()] = pd.NA
    return flag


def _too_few_arrays(size_values: list[np.ndarray], needed: int) -> str | None:
    n = len(size_values[0])
    if n == 0:
        return "no points"
    if n < needed:
        return f"too few points ({n} < {needed})"
    distinct = len(np.unique(np.column_stack(size_values), axis=0))
    if distinct < (needed if len(size_values) == 2 else 2):
        return f"too few distinct sizes ({distinct})"
    return None


def _summary_row_arrays(label: str, fit: PowerLawFit | ChinchillaFit | None, size_values: list[np.ndarray],
                        n_ex: np.ndarray, params: tuple[str, ...], status: str) -> dict[str, Any]:
    row: dict[str, Any] = {"group": label}
    for p in params:
        row[p] = getattr(fit, p) if fit is not None else np.nan
        low, high = fit.ci.get(p, (np.nan, np.nan)) if fit is not None else (np.nan, np.nan)
        row[f"{p}_low"], row[f"{p}_high"] = low, high
    x = size_values[0] if len(size_values) == 1 else size_values[0] * size_values[1]
    row.update(n_points=int(len(x)), n_examples=float(n_ex.sum()),
               size_min=float(x.min()) if len(x) else np.nan, size_max=float(x.max()) if len(x) else np.nan,
               status=status)
    return row


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
        return "random", np.array([rng.permutation(len(labels)) for _ in range(n_perm)])
    if not isinstance(order, (Sequence, np.ndarray, pd.Series, pd.Index)) or isinstance(order, bytes):
        raise ValueError(f"order must be 'size', 'random' or a list of distinct community labels from the data; "
                         f"got {order!r}.")
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
    loss: str = "huber",
    huber_delta: float = 1e-3,
    group_fits: GroupScalingFit | None = None,
    progress: bool | None = None,
    higher_is_better: bool = False,
    chance: float | None = None,
    scale: str = "log",
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
    loss, huber_delta
        Loss of every fit, the communities' and the aggregate curves' (see :func:`fit_by_group`).
    group_fits : GroupScalingFit, optional
        The communities' fits from :func:`fit_by_group` on the same rows; reused (its ``irreducible``, ``loss``
        and ``huber_delta`` and its bootstrap intervals) instead of fitting and bootstrapping them again.
    progress : bool, optional
        Progress bar on standard error (default: only on a terminal).
    higher_is_better, chance, scale
        How the metric becomes the fitted quantity (see :func:`fit_by_group`; taken from ``group_fits`` when it
        is given). Relative errors and the ``tolerance`` are then on the error (``1 - metric`` for a score).

    Returns
    -------
    ThirdAxisResult
        With more than :data:`MEMBERSHIP_ROWS` (order, k, community) combinations, ``membership`` keeps only
        ``k = 1`` and the full population, so that memory stays linear in the number of communities.

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
    if not isinstance(size, str):
        raise ValueError(f"third_axis fits a power law of one size column: size must be one column name; got "
                         f"{size!r}.")
    tol = finite_scalar(tolerance, "tolerance", example=0.1)
    if tol <= 0:
        raise ValueError(f"tolerance must be a positive relative error such as 0.1; got {tolerance!r}.")
    n_perm = positive_int(n_perm, "n_perm", maximum=MAX_COUNT)  # checked even when the order is not random
    # The fitting options are checked here too, so that they are refused even when group_fits replaces them.
    _fit_options(irreducible, loss, huber_delta, n_boot, seed, progress)
    _metric_scale(higher_is_better, chance, scale)
    if group_fits is None:
        fits = fit_by_group(df, size=size, metric=metric, group=group, n_examples=n_examples,
                            irreducible=irreducible, loss=loss, huber_delta=huber_delta, n_boot=n_boot, seed=seed,
                            progress=progress, higher_is_better=higher_is_better, chance=chance, scale=scale)
    else:
        if not isinstance(group_fits, GroupScalingFit) or group_fits.form != "power_law" \
                or group_fits.size != (size,) or group_fits.metric != metric:
            raise ValueError(f"group_fits must be the fit_by_group result of these rows with size={size!r} and "
                             f"metric={metric!r} (a power law); pass group_fits=None to fit them here.")
        fits = group_fits
    irreducible, loss, huber_delta = fits.irreducible, fits.loss, fits.huber_delta
    delta = huber_delta if loss == "huber" else None
    ms = fits._ms
    points = fits.points[fits.points["group"] != OVERALL]
    points = points.assign(**{metric: ms.error(points[metric])})
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
    n_perm_, k_max = perms.shape
    agg_w = np.zeros((n_perm_, k_max, len(sizes)))
    agg_y = np.zeros_like(agg_w)
    Mz = np.nan_to_num(M)  # noqa: N806
    for p, perm in enumerate(perms):
        cw = np.cumsum(W[perm] * present[perm], axis=0)
        cy = np.cumsum(W[perm] * Mz[perm] * present[perm], axis=0)
        agg_w[p], agg_y[p] = cw, np.where(cw > 0, cy / np.where(cw > 0, cw, 1), 0.0)
    mask = agg_w > 0
    flat_y, flat_m = agg_y.reshape(-1, len(sizes)), mask.reshape(-1, len(sizes)).astype(float)
    notes = list(fits.notes)
    with _numerics("third_axis", (size,), points, notes):
        laws = fit_power_curves(sizes, ms.to_fit(flat_y), flat_m, irreducible=irreducible, delta=delta)
        a, b, c = (laws[col].to_numpy().reshape(n_perm_, k_max) for col in ("a", "b", "c"))
        pred = ms.to_error(a[..., None] * sizes[None, None, :] ** (-b[..., None]) + c[..., None])  # (P, K, S)
        resid = np.where(mask, np.log(np.where(mask, pred, 1)) - np.log(np.where(mask, agg_y, 1)), 0.0)
    rmse = np.sqrt((resid**2).sum(axis=2) / mask.sum(axis=2))

    # Errors of every aggregate law on every community, a block of k at a time: memory stays linear in the
    # number of communities (a full (order, k, community) table grows with its square).
    n_groups = len(labels)
    M_safe = np.where(present, M, 1.0)  # noqa: N806
    have_ci = ~np.isnan(b_low)
    share = np.zeros((n_perm_, k_max))
    share_exp = np.full((n_perm_, k_max), np.nan)
    full_membership = n_perm_ * k_max * (k_max + 1) // 2 <= MEMBERSHIP_ROWS
    keep_k = np.arange(1, k_max + 1) if full_membership else np.unique([1, k_max])
    rows: list[pd.DataFrame] = []
    block = max(1, 2_000_000 // max(1, n_groups * len(sizes)))
    for p, perm in enumerate(perms):
        for lo in range(0, k_max, block):
            ks = np.arange(lo, min(lo + block, k_max))  # 0-based k - 1
            # Only the communities included by the block's largest k: the others count for no k of the block.
            cand = perm[:ks[-1] + 1]
            rel = np.abs(pred[p, ks][:, None, :] / M_safe[cand][None, :, :] - 1)  # (kb, c, S)
            err = np.where(present[cand][None], rel, -np.inf).max(axis=2)  # (kb, c)
            included = np.arange(len(cand))[None, :] <= ks[:, None]
            described = err <= tol
            share[p, ks] = (described & included).sum(axis=1) / (ks + 1)
            consistent = (b_low[cand][None, :] <= b[p, ks][:, None]) & (b[p, ks][:, None] <= b_high[cand][None, :])
            valid = included & have_ci[cand][None, :]
            n_valid = valid.sum(axis=1)
            share_exp[p, ks] = np.where(n_valid > 0, (consistent & valid).sum(axis=1) / np.maximum(n_valid, 1),
                                        np.nan)
            for j, k0 in enumerate(ks):
                if k0 + 1 not in keep_k:
                    continue
                members = perm[:k0 + 1]
                rows.append(pd.DataFrame({
                    "order": p, "k": k0 + 1, "group": np.asarray(labels, dtype=object)[members],
                    "max_relative_error": err[j, :k0 + 1], "described": described[j, :k0 + 1],
                    "exponent_consistent": [bool(v) if h else np.nan
                                            for v, h in zip(consistent[j, :k0 + 1], have_ci[members])]}))
    membership = pd.concat(rows, ignore_index=True)
    per_order = pd.DataFrame({
        "order": np.repeat(np.arange(n_perm_), k_max), "k": np.tile(np.arange(1, k_max + 1), n_perm_),
        "share_described": share.ravel(), "share_exponent_consistent": share_exp.ravel(),
        "aggregate_b": b.ravel(), "aggregate_rmse": rmse.ravel()})
    # Summaries over the orders, per k, on the (order, k) arrays (a groupby with quantile lambdas took seconds).
    # Means by pandas' grouped mean (compiled, NaN-skipping, compensated sums), the quantiles along the orders.
    means = per_order.groupby("k")[["share_described", "share_exponent_consistent", "aggregate_b",
                                    "aggregate_rmse"]].mean()
    share_low, share_high = percentile_interval(share, axis=0)
    curve = pd.DataFrame({"k": means.index.to_numpy(), "share_described": means["share_described"].to_numpy(),
                          "share_low": share_low, "share_high": share_high,
                          **{n: means[n].to_numpy() for n in ("share_exponent_consistent", "aggregate_b",
                                                              "aggregate_rmse")}})
    return ThirdAxisResult(curve=curve, membership=membership, group_fits=fits, order=kind, tolerance=tol)
