"""Is the number measuring what we think it measures? Tools for measurement validity.

A benchmark score is an *operationalisation*: one chosen way of turning a
contested construct ("reasoning", "agreeableness", "verbal aggression") into a
number. This module gives the book the standard instruments for asking how good
that choice is:

* **reliability** -- does the number hold still? Cronbach's alpha
  (:func:`cronbach_alpha`, :func:`item_total_correlations`) for items that are
  meant to measure one thing, and Krippendorff's alpha
  (:func:`krippendorff_alpha`) for agreement between raters;
* **differential item functioning** -- does an item behave differently for two
  groups of people who are matched on the overall score? The Mantel-Haenszel
  procedure with the ETS A/B/C classes (:func:`mantel_haenszel_dif`,
  :func:`dif_table`);
* **which group "scores higher"?** -- the mean scale-score gap between two
  groups with a bootstrap interval (:func:`score_gap`), to re-run with and
  without the items flagged for DIF;
* **the metric changes the story** -- Schaeffer, Miranda and Koyejo (2023)
  showed that a per-token accuracy that improves smoothly with scale looks like
  a sudden "emergent" jump under exact match over ``L`` tokens (``p**L``) and
  smooth again under edit distance (:func:`token_accuracy_from_loss`,
  :func:`exact_match_from_token_accuracy`,
  :func:`edit_distance_from_token_accuracy`, :func:`metric_curves`);
* **do two metrics order the models the same way?** Kendall's tau-b with a
  bootstrap interval and the count of pairs whose order flips
  (:func:`rank_agreement`);
* **the definition of the outcome changes the story** -- the same data and
  the same classifier, with the binary label cut at different quantiles, give
  different base rates and error rates per group (:func:`threshold_sensitivity`).

Reliability is not validity: a perfectly reliable number can still measure the
wrong thing. These functions quantify the parts that can be quantified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from helpers._docs import fill_doc
from helpers._stats import OVERALL, conf_int_frame, interval, wilson_interval
from helpers._validate import (
    MAX_COUNT,
    as_float_array,
    as_positive_array,
    confidence_level,
    finite_output,
    finite_scalar,
    flag,
    has_columns,
    min_points,
    one_of,
    positive_int,
    probability,
    same_length,
    sequence,
)
from helpers._validate import label as _label
from helpers._validate import seed as _seed

#: ETS delta scale factor: MH D-DIF = -2.35 ln(alpha_MH) (Holland & Thayer 1988).
ETS_DELTA_SCALE = 2.35
MISSING_POLICIES = ("drop", "raise")
KRIPPENDORFF_LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Docstring pieces shared by several functions, set in by ``@_doc`` (helpers/_docs.py).
_DOCS = {
    # The bootstrap's coverage and seed mean the same in every function that resamples.
    "confidence_seed": """\
        confidence : float, default 0.95
            Coverage of the interval.
        seed : int, default 0
            Seed for :func:`numpy.random.default_rng`.""",
    # The metrics of per-token accuracy check p and length alike (_over_tokens).
    "token_metric_raises": """\
        Raises
        ------
        ValueError
            If ``p`` is outside ``[0, 1]`` or not finite, or ``length`` is not a positive integer.""",
}
_doc = fill_doc(_DOCS)


# --------------------------------------------------------------------------- shared checks


def _one_row(result: Any) -> pd.DataFrame:
    """A result's fields as one row, its ``ci`` as ``ci_low``/``ci_high`` (NaN without bootstrap), without draws."""
    row = {f.name: getattr(result, f.name) for f in fields(result) if f.name not in ("ci", "boot")}
    # ci holds one entry (the result's estimate) or none without a bootstrap.
    low, high = next(iter(result.ci.values()), (np.nan, np.nan))
    return pd.DataFrame([{**row, "ci_low": low, "ci_high": high}])


def _defined(name: str, draws: np.ndarray) -> pd.DataFrame:
    """The draws of the resamples on which the statistic is defined, kept for ``conf_int``.

    A degenerate resample (e.g. all rows identical) gives NaN; the intervals leave it out (``omit_nan``), so the
    kept draws do too and stay finite.
    """
    return pd.DataFrame({name: draws[~np.isnan(draws)]})


def _resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """How often each of ``n`` rows appears in each of ``n_boot`` resamples (shape n_boot x n)."""
    idx = rng.integers(0, n, size=(n_boot, n))
    # bincount of (resample, row) pairs turns index arrays into counts without a Python loop.
    flat = idx + n * np.arange(n_boot)[:, None]
    return np.bincount(flat.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


# --------------------------------------------------------------------------- reliability


@dataclass(frozen=True)
class ReliabilityResult:
    """Cronbach's alpha with the sample it was computed on.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha, ``k/(k-1) * (1 - sum(item variances) / variance(total))``.
    n_items : int
        Number of items ``k``.
    n_respondents : int
        Respondents (rows) used, after dropping incomplete rows.
    n_dropped : int
        Rows dropped because at least one item was missing.
    ci : dict
        ``{"alpha": (low, high)}``, the percentile bootstrap interval over respondents; ``{}`` when ``n_boot=0``
        (the library's one convention: see :meth:`helpers.scaling.PowerLawFit.conf_int`).
    confidence : float
        Nominal coverage of ``ci``.
    n_boot : int
        Number of bootstrap resamples (0 = none).
    boot : DataFrame or None
        The bootstrap draws of ``alpha`` (one column; degenerate resamples left out), kept for :meth:`conf_int`;
        ``None`` when ``n_boot=0``.
    """

    alpha: float
    n_items: int
    n_respondents: int
    n_dropped: int
    ci: dict[str, tuple[float, float]]
    confidence: float
    n_boot: int
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The interval of Cronbach's alpha at coverage ``1 - alpha`` (the argument), from the stored draws.

        The table of :meth:`helpers.scaling.PowerLawFit.conf_int` with one row, ``parameter == "alpha"``;
        ``conf_int(1 - confidence)`` gives ``ci``. A result computed with ``n_boot=0`` raises a ``ValueError``.

        Examples
        --------
        >>> from helpers.measurement import cronbach_alpha
        >>> res = cronbach_alpha([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [2, 3, 3], [5, 4, 5]], n_boot=500,
        ...                      confidence=0.9)
        >>> res.conf_int(0.1)[["ci_low", "ci_high"]].iloc[0].tolist() == list(res.ci["alpha"])
        True
        """
        return conf_int_frame({"alpha": self.alpha}, self.boot, alpha, refit="cronbach_alpha", omit_nan=True)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with ``ci_low`` / ``ci_high`` columns (NaN without bootstrap)."""
        return _one_row(self)


def _matrix_with_nan(values: Any, name: str, layout: str) -> np.ndarray:
    """``values`` as a 2-d float array in which NaN (a missing entry) may stand; ``layout`` says what rows are."""
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        x = as_float_array(values, name, ndim=2)  # raises the library's "must be numeric" message
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional ({layout}); got shape {x.shape}.")
    return x


def _item_matrix(items: Any, missing: str) -> tuple[np.ndarray, list[str], int]:
    """Items as a complete float matrix, the item labels, and the number of rows dropped."""
    one_of(missing, MISSING_POLICIES, "missing policy")
    names = [str(c) for c in items.columns] if isinstance(items, pd.DataFrame) else None
    raw = _matrix_with_nan(items, "items", "rows = respondents, columns = items")
    incomplete = np.isnan(raw).any(axis=1)
    if missing == "raise":
        as_float_array(raw, "items", ndim=2)  # raises on NaN, naming the first position
    if incomplete.all():
        raise ValueError("Every row has at least one missing item, so no complete respondent is left; impute first.")
    x = as_float_array(raw[~incomplete], "items", ndim=2)  # still raises on inf
    min_points(x.shape[1], 2, "Cronbach's alpha (items, i.e. columns)")
    min_points(x.shape[0], 2, "Cronbach's alpha (complete respondents, i.e. rows)")
    return x, names or [str(j) for j in range(x.shape[1])], int(incomplete.sum())


def _alpha_from_variances(k: int, sum_item_var: np.ndarray, total_var: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return k / (k - 1) * (1 - sum_item_var / total_var)


@_doc
def cronbach_alpha(
    items: pd.DataFrame | ArrayLike,
    *,
    missing: str = "drop",
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> ReliabilityResult:
    """Cronbach's alpha of a set of items meant to measure one construct.

    ``alpha = k/(k-1) * (1 - sum_i var(item_i) / var(sum of items))`` (Cronbach
    1951), with sample variances (``ddof=1``). Alpha is a lower bound on
    reliability under classical test theory; it says nothing about *what* the
    items measure.

    Parameters
    ----------
    items : pandas.DataFrame or 2-d array
        Rows are respondents, columns are items, all numeric. Reverse-keyed items
        must already be reversed.
    missing : {"drop", "raise"}, default "drop"
        ``"drop"`` removes every row with a missing (NaN) item (listwise deletion;
        the count is reported in ``n_dropped``); ``"raise"`` refuses missing values.
    n_boot : int, default 0
        Bootstrap resamples of respondents for a percentile interval; 0 skips it.
    {{confidence_seed}}

    Returns
    -------
    ReliabilityResult
        ``alpha``, sample sizes, and ``ci`` (``{}`` when ``n_boot=0``).

    Raises
    ------
    ValueError
        If items are not numeric or 2-d, contain inf (or NaN with
        ``missing="raise"``), there are fewer than 2 items or 2 complete rows, the
        total score has zero variance, or an option is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]])
    >>> round(cronbach_alpha(x).alpha, 3)  # 3/2 * (1 - (5/3 + 4/3 + 19/12) / (49/4))
    0.939
    >>> res = cronbach_alpha(x, n_boot=200, seed=1)
    >>> low, high = res.ci["alpha"]
    >>> bool(low <= res.alpha <= high)
    True
    """
    x, _, n_dropped = _item_matrix(items, missing)
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    confidence, seed = confidence_level(confidence), _seed(seed)
    n, k = x.shape
    total = x.sum(axis=1)
    total_var = total.var(ddof=1)
    if total_var == 0:
        raise ValueError("The total score has zero variance, so alpha is undefined; check that the items vary.")
    alpha = float(_alpha_from_variances(k, x.var(axis=0, ddof=1).sum(), total_var))
    ci, boot = {}, None
    if n_boot:
        w = _resample_counts(np.random.default_rng(seed), n, n_boot)
        # Weighted first and second moments of every item and of the total, for all resamples in one matmul.
        cols = np.column_stack([x, total])
        cols = cols - cols.mean(axis=0)  # centre first: raw moments of large values cancel badly
        s1, s2 = w @ cols, w @ cols**2
        var = (s2 - s1**2 / n) / (n - 1)
        draws = _alpha_from_variances(k, var[:, :k].sum(axis=1), var[:, k])
        ci, boot = {"alpha": interval(draws, confidence, omit_nan=True)}, _defined("alpha", draws)
    return ReliabilityResult(alpha, k, n, n_dropped, ci, confidence, n_boot, boot)


def item_total_correlations(items: pd.DataFrame | ArrayLike, *, missing: str = "drop") -> pd.DataFrame:
    """Corrected item-total correlation and alpha-if-deleted for every item.

    The corrected correlation compares each item with the sum of the *other*
    items, so an item is not correlated with itself. A low or negative value
    flags an item that does not move with the rest (or was not reverse-keyed).

    Parameters
    ----------
    items : pandas.DataFrame or 2-d array
        Rows are respondents, columns are items (at least 3).
    missing : {"drop", "raise"}, default "drop"
        Listwise deletion of rows with a missing item, or refuse them.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item`` (column label as text; position for arrays),
        ``item_total_r`` (Pearson correlation of the item with the rest score) and
        ``alpha_if_deleted`` (Cronbach's alpha of the other ``k-1`` items).

    Raises
    ------
    ValueError
        As :func:`cronbach_alpha`, and if there are fewer than 3 items or an item
        (or rest score) is constant.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5], "c": [1, 3, 2, 5, 4]})
    >>> out = item_total_correlations(df)
    >>> list(out["item"])
    ['a', 'b', 'c']
    >>> float(out.loc[out["item"] == "c", "item_total_r"].round(3).iloc[0])  # c vs. a + b
    0.58
    """
    x, names, _ = _item_matrix(items, missing)
    min_points(x.shape[1], 3, "item_total_correlations (items, i.e. columns)")
    k = x.shape[1]
    centred = x - x.mean(axis=0)
    cov = centred.T @ centred / (x.shape[0] - 1)
    item_var = np.diag(cov)
    cov_with_total = cov.sum(axis=1)
    rest_var = cov.sum() - 2 * cov_with_total + item_var
    tiny = 1e-12 * item_var.sum()  # rounding leaves ~1e-16 where a variance is exactly 0
    if (item_var <= tiny).any() or (rest_var <= tiny).any():
        raise ValueError("An item or its rest score is constant, so its correlation is undefined; drop that item.")
    r = (cov_with_total - item_var) / np.sqrt(item_var * rest_var)
    alpha_del = _alpha_from_variances(k - 1, item_var.sum() - item_var, rest_var)
    return pd.DataFrame({"item": names, "item_total_r": r, "alpha_if_deleted": alpha_del})


# --------------------------------------------------------------------------- DIF


@dataclass(frozen=True)
class DIFResult:
    """Mantel-Haenszel DIF statistics for one item.

    Attributes
    ----------
    item : str
        The studied item.
    focal, reference : str
        Group labels (``reference`` is ``"all other groups"`` when several groups were pooled).
    alpha_mh : float
        Mantel-Haenszel common odds ratio, odds of a 1 for the reference group over the
        odds for the focal group, within strata of the matching score. 1 = no DIF.
    delta_mh : float
        ETS MH D-DIF, ``-2.35 ln(alpha_mh)``. Negative: the item is harder (less
        often 1) for the focal group than for matched reference members.
    delta_se : float
        Standard error of ``delta_mh`` (2.35 times the Robins-Breslow-Greenland
        standard error of ``ln(alpha_mh)``).
    chi2 : float
        MH chi-square with continuity correction (1 degree of freedom).
    p_value : float
        Upper-tail chi-square(1) probability of ``chi2``.
    ets_class : str
        ``"A"`` (negligible), ``"B"`` (moderate) or ``"C"`` (large); see :func:`mantel_haenszel_dif`.
    n_reference, n_focal : int
        Respondents used in each group.
    n_strata : int
        Strata (matching-score values) containing both groups, i.e. that contribute.
    n_dropped : int
        Rows dropped for missing values.
    """

    item: str
    focal: str
    reference: str
    alpha_mh: float
    delta_mh: float
    delta_se: float
    chi2: float
    p_value: float
    ets_class: str
    n_reference: int
    n_focal: int
    n_strata: int
    n_dropped: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of all fields."""
        return pd.DataFrame([asdict(self)])


def _dichotomous(values: pd.Series, name: str, threshold: float | None) -> np.ndarray:
    x = as_float_array(values.to_numpy(), f"item column {name!r}")
    threshold = None if threshold is None else finite_scalar(threshold, "threshold", example=4)
    if threshold is not None:
        return (x >= threshold).astype(float)
    if not np.isin(x, (0.0, 1.0)).all():
        raise ValueError(
            f"Item column {name!r} must be coded 0/1; found values {sorted(set(np.unique(x)) - {0.0, 1.0})[:5]}. "
            f"Pass threshold= to dichotomise (1 when value >= threshold), e.g. threshold=4 on a 1-6 scale."
        )
    return x


def _check_item_list(items: Any) -> None:
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise ValueError(f"items must be a list of column names, e.g. items=['A1', 'A2']; got {items!r}.")


def _complete_rows(responses: pd.DataFrame, columns: list[str], missing: str) -> tuple[pd.DataFrame, int]:
    """The rows of ``columns`` without missing values, and how many rows were dropped."""
    columns = list(dict.fromkeys(columns))
    incomplete = responses[columns].isna().any(axis=1).to_numpy()
    if incomplete.any() and missing == "raise":
        raise ValueError(
            f"{int(incomplete.sum())} row(s) have missing values in {columns}; drop them or use missing='drop'."
        )
    return responses.loc[~incomplete, columns], int(incomplete.sum())


def _two_groups(df: pd.DataFrame, group: str, focal: Any, reference: Any) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Rows of the focal and reference groups, a focal mask over them, and the reference label."""
    focal, reference = _label(focal, "focal"), _label(reference, "reference", allow_none=True)
    if reference is not None and reference == focal:
        raise ValueError(f"reference and focal are both {focal!r}; pick two different values of {group!r}.")
    is_focal = (df[group] == focal).to_numpy()
    is_ref = ~is_focal if reference is None else (df[group] == reference).to_numpy()
    for label, mask in (("focal", is_focal), ("reference", is_ref)):
        if not mask.any():
            raise ValueError(
                f"The {label} group is empty in column {group!r} (after dropping missing rows); "
                f"its values are {sorted(map(str, df[group].unique()))[:10]}."
            )
    if reference is None:
        others = df.loc[is_ref, group].unique()
        reference = others[0] if len(others) == 1 else "all other groups"
    keep = is_focal | is_ref
    return df.loc[keep], is_focal[keep], str(reference)


def _mh_statistics(score: np.ndarray, is_focal: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """MH odds ratio, RBG variance of its log, and continuity-corrected chi-square.

    Hand-written because statsmodels (whose StratifiedTable does this) is not in the
    book's environment and the formulas are a few array lines.
    """
    _, stratum = np.unique(score, return_inverse=True)
    cells = np.bincount(stratum * 4 + is_focal * 2 + y.astype(int), minlength=4 * (stratum.max() + 1))
    b, a, d, c = cells.reshape(-1, 4).T.astype(float)  # ref wrong, ref right, focal wrong, focal right
    n = a + b + c + d
    n_ref, n_foc, m1, m0 = a + b, c + d, a + c, b + d
    # Strata with an empty group have a*d = b*c = 0 and zero variance, so they add nothing to any sum.
    r, s = a * d / n, b * c / n
    big_r, big_s = r.sum(), s.sum()
    if big_r == 0 or big_s == 0:
        raise ValueError(
            "alpha_MH is 0 or infinite: within every stratum one group never (or always) scores 1. "
            "DIF size cannot be estimated; use a coarser matching score, or check the item, the groups and (if "
            "given) the threshold that dichotomises the answers."
        )
    p, q = (a + d) / n, (b + c) / n
    var_log = ((p * r).sum() / (2 * big_r**2) + (p * s + q * r).sum() / (2 * big_r * big_s)
               + (q * s).sum() / (2 * big_s**2))
    expected = n_ref * m1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var_a = np.where(n > 1, n_ref * n_foc * m1 * m0 / (n**2 * (n - 1)), 0.0)
    # Clamp at 0 so the continuity correction can only shrink the statistic.
    chi2 = max(abs(a.sum() - expected.sum()) - 0.5, 0.0) ** 2 / var_a.sum()
    return {"alpha_mh": big_r / big_s, "se_log": float(np.sqrt(var_log)), "chi2": float(chi2),
            "n_strata": int(((n_ref > 0) & (n_foc > 0)).sum())}


def _ets_class(delta: float, se: float, p_value: float, significance: float) -> str:
    if abs(delta) < 1 or p_value >= significance:
        return "A"
    if abs(delta) >= 1.5 and (abs(delta) - 1) / se > stats.norm.ppf(1 - significance):
        return "C"
    return "B"


def mantel_haenszel_dif(
    responses: pd.DataFrame,
    *,
    item: str,
    group: str,
    focal: Any,
    reference: Any = None,
    matching: str | None = None,
    items: Sequence[str] | None = None,
    include_studied: bool = True,
    threshold: float | None = None,
    missing: str = "drop",
    significance: float = 0.05,
) -> DIFResult:
    """Mantel-Haenszel differential item functioning (DIF) for one dichotomous item.

    Respondents are stratified by a matching score; within each stratum ``k`` the
    2x2 table (reference/focal x 0/1) gives ``A_k`` (reference, 1), ``B_k``
    (reference, 0), ``C_k`` (focal, 1), ``D_k`` (focal, 0), total ``N_k``. Then
    (Mantel & Haenszel 1959; Holland & Thayer 1988)

    * ``alpha_MH = sum(A D / N) / sum(B C / N)``;
    * ``chi2 = (|sum A - sum E(A)| - 0.5)^2 / sum Var(A)`` with
      ``E(A) = n_ref m_1 / N`` and ``Var(A) = n_ref n_foc m_1 m_0 / (N^2 (N-1))``,
      referred to chi-square with 1 df (clamped at 0 if the correction overshoots);
    * ``delta_MH = -2.35 ln(alpha_MH)`` (ETS delta metric), with standard error
      ``2.35 * SE(ln alpha_MH)`` from Robins, Breslow & Greenland (1986).

    Strata in which either group is empty contribute nothing to any of these sums
    (their products ``A D`` and ``B C`` and their variance are zero); ``n_strata``
    counts the strata that do contribute.

    ETS classes, as summarised by Zwick (2012, ETS RR-12-08), implemented exactly as:

    * **A** if ``|delta_MH| < 1`` or the MH chi-square is not significant
      (``p_value >= significance``);
    * **C** if ``|delta_MH| >= 1.5`` and ``|delta_MH|`` is significantly greater
      than 1, read here as the one-sided z-test
      ``(|delta_MH| - 1) / delta_se > z_(1 - significance)``;
    * **B** otherwise.

    Parameters
    ----------
    responses : pandas.DataFrame
        Wide data, one row per respondent: item columns, a group column and
        optionally a matching-score column. (For long data such as
        ``lme4::VerbAgg``, pivot first: ``df.pivot(index="id", columns="item", values=...)``.)
    item : str
        Column of the studied item, coded 0/1 (or dichotomised with ``threshold``).
    group : str
        Column holding group membership.
    focal : scalar
        Value of ``group`` that marks the focal group.
    reference : scalar, optional
        Value marking the reference group; ``None`` pools every non-focal row.
    matching : str, optional
        Column holding a ready-made matching score (e.g. a total score). Give
        either ``matching`` or ``items``, not both.
    items : sequence of str, optional
        Item columns (0/1, or dichotomised with ``threshold``) whose sum is the
        matching score, the usual number-correct criterion.
    include_studied : bool, default True
        With ``items``: count the studied item in the matching score (added if not
        listed, removed if listed and False). Including it is the Holland & Thayer
        (1988) practice; ``False`` gives the rest score.
    threshold : float, optional
        For polytomous items (e.g. ``psych::bfi``, 1-6): code every item column
        (studied and ``items``) as 1 when ``value >= threshold`` else 0, e.g. 4 =
        "agree". A ``matching`` column is used as given. Reverse-keyed items must be
        reversed before calling.
    missing : {"drop", "raise"}, default "drop"
        Drop rows with a missing value in any column used (counted in
        ``n_dropped``), or refuse them.
    significance : float, default 0.05
        Level of both tests in the ETS rule.

    Returns
    -------
    DIFResult

    Raises
    ------
    ValueError
        Unknown column; both or neither of ``matching`` / ``items``; item not 0/1
        without ``threshold``; an empty focal or reference group; missing values
        with ``missing="raise"``; or ``alpha_MH`` undefined (0 or infinite).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "score": [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1],
    ...     "g":     ["r", "r", "f", "f", "r", "r", "f", "f", "r", "f", "r", "f"],
    ...     "y":     [1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0],
    ... })
    >>> res = mantel_haenszel_dif(df, item="y", group="g", focal="f", matching="score")
    >>> round(res.alpha_mh, 3), res.n_strata, res.ets_class
    (10.0, 2, 'A')
    """
    has_columns(responses, [item, group], what="responses")
    if (matching is None) == (items is None):
        raise ValueError(
            "Give exactly one matching criterion: matching='<score column>' or items=[<item columns to sum>]."
        )
    one_of(missing, MISSING_POLICIES, "missing policy")
    significance = probability(significance, "significance", strict=True, example=0.05)
    include_studied = flag(include_studied, "include_studied")
    if threshold is not None:
        threshold = finite_scalar(threshold, "threshold", example=4)
    if matching is not None:
        has_columns(responses, [matching], what="responses")
        score_items: list[str] = []
    else:
        _check_item_list(items)
        score_items = [c for c in dict.fromkeys(items) if c != item] + ([item] if include_studied else [])
        has_columns(responses, score_items, what="responses")
        min_points(len(score_items), 1, "the matching score (items to sum)")
    matched = [matching] if matching is not None else score_items
    df, n_dropped = _complete_rows(responses, [item, group, *matched], missing)

    df, is_focal, ref_label = _two_groups(df, group, focal, reference)
    y = _dichotomous(df[item], item, threshold)
    if matching is not None:
        score = as_float_array(df[matching].to_numpy(), f"matching column {matching!r}")
    else:
        score = np.sum([_dichotomous(df[c], c, threshold) for c in score_items], axis=0)
    mh = _mh_statistics(score, is_focal.astype(int), y)

    delta = -ETS_DELTA_SCALE * np.log(mh["alpha_mh"])
    delta_se = ETS_DELTA_SCALE * mh["se_log"]
    p_value = float(stats.chi2.sf(mh["chi2"], df=1))
    return DIFResult(
        item=str(item), focal=str(focal), reference=ref_label, alpha_mh=float(mh["alpha_mh"]),
        delta_mh=float(delta), delta_se=float(delta_se), chi2=mh["chi2"], p_value=p_value,
        ets_class=_ets_class(delta, delta_se, p_value, significance),
        n_reference=int((~is_focal).sum()), n_focal=int(is_focal.sum()),
        n_strata=mh["n_strata"], n_dropped=n_dropped,
    )


def dif_table(
    responses: pd.DataFrame,
    *,
    items: Sequence[str],
    group: str,
    focal: Any,
    reference: Any = None,
    matching: str | None = None,
    include_studied: bool = True,
    threshold: float | None = None,
    missing: str = "drop",
    significance: float = 0.05,
) -> pd.DataFrame:
    """Mantel-Haenszel DIF for every item of a test, one row per item.

    Each item in ``items`` is studied in turn. Without ``matching`` the matching
    score is the sum of ``items`` (see ``include_studied``), so every item is
    judged against the same test; rows missing any item are dropped once, for all.

    Parameters
    ----------
    responses : pandas.DataFrame
        Wide data, one row per respondent.
    items : sequence of str
        Item columns to study (at least 2).
    group, focal, reference, matching, include_studied, threshold, missing, significance
        As in :func:`mantel_haenszel_dif`.

    Returns
    -------
    pandas.DataFrame
        The fields of :class:`DIFResult`, one row per item, in the order given.

    Raises
    ------
    ValueError
        As :func:`mantel_haenszel_dif`; fewer than 2 items or repeated item names.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=400)
    >>> df = pd.DataFrame({f"i{j}": (rng.random(400) < 1 / (1 + np.exp(-(theta - b)))).astype(int)
    ...                    for j, b in enumerate([-1, 0, 1])})
    >>> df["sex"] = np.where(np.arange(400) % 2 == 0, "F", "M")
    >>> out = dif_table(df, items=["i0", "i1", "i2"], group="sex", focal="F")
    >>> list(out["item"]), len(out)
    (['i0', 'i1', 'i2'], 3)
    """
    _check_item_list(items)
    items = list(items)
    min_points(len(items), 2, "dif_table (items)")
    if len(set(items)) != len(items):
        raise ValueError(f"items contains repeated names {items}; list each item once.")
    matched = [matching] if matching is not None else []
    has_columns(responses, [*items, group, *matched], what="responses")
    one_of(missing, MISSING_POLICIES, "missing policy")
    complete, n_dropped = _complete_rows(responses, [*items, group, *matched], missing)
    rows = []
    for it in items:
        res = mantel_haenszel_dif(
            complete, item=it, group=group, focal=focal, reference=reference, matching=matching,
            items=None if matching is not None else items, include_studied=include_studied, threshold=threshold,
            missing="raise", significance=significance,
        )
        rows.append({**asdict(res), "n_dropped": n_dropped})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- group score gaps


@dataclass(frozen=True)
class ScoreGap:
    """Difference in mean scale score between two groups, with a bootstrap interval.

    Attributes
    ----------
    focal, reference : str
        Group labels (``reference`` is ``"all other groups"`` when several groups were pooled).
    focal_mean, reference_mean : float
        Mean over respondents of each respondent's mean item score.
    difference : float
        ``focal_mean - reference_mean``.
    ci : dict
        ``{"difference": (low, high)}``, the percentile bootstrap interval of ``difference``; ``{}`` when
        ``n_boot=0``.
    confidence : float
        Nominal coverage of ``ci``.
    n_focal, n_reference : int
        Respondents used in each group.
    n_items : int
        Items averaged into the score.
    n_dropped : int
        Rows dropped because an item or the group was missing.
    n_boot : int
        Bootstrap resamples (0 = none).
    boot : DataFrame or None
        The bootstrap draws of ``difference`` (one column), kept for :meth:`conf_int`; ``None`` when ``n_boot=0``.
    """

    focal: str
    reference: str
    focal_mean: float
    reference_mean: float
    difference: float
    ci: dict[str, tuple[float, float]]
    confidence: float
    n_focal: int
    n_reference: int
    n_items: int
    n_dropped: int
    n_boot: int
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The interval of the gap at coverage ``1 - alpha``, from the stored draws (no new resampling).

        One row, ``parameter == "difference"``, laid out as :meth:`helpers.scaling.PowerLawFit.conf_int`;
        ``conf_int(1 - confidence)`` gives ``ci``, and ``n_boot=0`` leaves no draws (a ``ValueError``).

        Examples
        --------
        >>> import pandas as pd
        >>> from helpers.measurement import score_gap
        >>> df = pd.DataFrame({"x": [1, 2, 2, 3, 4, 5, 4, 5], "g": list("aaaabbbb")})
        >>> gap = score_gap(df, items=["x"], group="g", focal="b", n_boot=400)
        >>> table = gap.conf_int(0.5)
        >>> low, high = gap.ci["difference"]
        >>> bool(low <= table["ci_low"].iloc[0] <= gap.difference <= table["ci_high"].iloc[0] <= high)
        True
        """
        return conf_int_frame({"difference": self.difference}, self.boot, alpha, refit="score_gap", omit_nan=True)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with ``ci_low`` / ``ci_high`` columns (NaN without bootstrap)."""
        return _one_row(self)


@_doc
def score_gap(
    responses: pd.DataFrame,
    *,
    items: Sequence[str],
    group: str,
    focal: Any,
    reference: Any = None,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    missing: str = "drop",
) -> ScoreGap:
    """Which group "scores higher"? Mean scale score of a focal group minus a reference group.

    Each respondent's score is the mean of ``items`` (so scales of different
    lengths share the items' units); the gap is the difference of the two group
    means. The bootstrap resamples respondents *within* each group, so the group
    sizes stay as observed. Re-running it on a subset of items (say, without the
    items flagged for DIF) shows how much the conclusion rests on those items.

    Parameters
    ----------
    responses : pandas.DataFrame
        Wide data, one row per respondent: item columns and a group column.
        Reverse-keyed items must already be reversed.
    items : sequence of str
        Item columns averaged into the score (at least 1, no repeats).
    group : str
        Column holding group membership.
    focal : scalar
        Value of ``group`` for the focal group (the first term of the difference).
    reference : scalar, optional
        Value of the reference group; ``None`` pools every non-focal row.
    n_boot : int, default 2000
        Bootstrap resamples; 0 skips the interval.
    {{confidence_seed}}
    missing : {"drop", "raise"}, default "drop"
        Drop rows with a missing item or group (counted in ``n_dropped``), or refuse them.

    Returns
    -------
    ScoreGap

    Raises
    ------
    ValueError
        Unknown column, an empty or repeated item list, non-numeric or infinite
        item values, missing values with ``missing="raise"``, an empty focal or
        reference group, a group with a single respondent (no interval possible),
        or invalid options.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [3, 4, 5, 6], "g": ["x", "x", "y", "y"]})
    >>> res = score_gap(df, items=["a", "b"], group="g", focal="y", n_boot=0)
    >>> res.focal_mean, res.reference_mean, res.difference  # row means y: 4, 5; x: 2, 3
    (4.5, 2.5, 2.0)
    """
    _check_item_list(items)
    items = list(items)
    min_points(len(items), 1, "score_gap (items)")
    if len(set(items)) != len(items):
        raise ValueError(f"items contains repeated names {items}; list each item once.")
    has_columns(responses, [*items, group], what="responses")
    one_of(missing, MISSING_POLICIES, "missing policy")
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    confidence, seed = confidence_level(confidence), _seed(seed)
    complete, n_dropped = _complete_rows(responses, [*items, group], missing)
    df, is_focal, ref_label = _two_groups(complete, group, focal, reference)
    score = as_float_array(df[items].to_numpy(dtype=float), "items", ndim=2).mean(axis=1)
    groups = (score[is_focal], score[~is_focal])
    if n_boot and min(len(g) for g in groups) < 2:
        raise ValueError("Each group needs at least 2 respondents for a bootstrap interval; pass n_boot=0.")
    means = [float(g.mean()) for g in groups]
    ci, draws = {}, None
    if n_boot:
        rng = np.random.default_rng(seed)
        # Resample each group separately, so every resample keeps the observed group sizes.
        boot = [(_resample_counts(rng, len(g), n_boot) @ g) / len(g) for g in groups]
        ci = {"difference": interval(boot[0] - boot[1], confidence, omit_nan=True)}
        draws = _defined("difference", boot[0] - boot[1])
    return ScoreGap(
        focal=str(focal), reference=ref_label, focal_mean=means[0], reference_mean=means[1],
        difference=means[0] - means[1], ci=ci, confidence=confidence, n_focal=len(groups[0]),
        n_reference=len(groups[1]), n_items=len(items), n_dropped=n_dropped, n_boot=n_boot, boot=draws,
    )


# --------------------------------------------------------------------------- rater agreement


@dataclass(frozen=True)
class KrippendorffResult:
    """Krippendorff's alpha with the ratings it was computed on.

    Attributes
    ----------
    alpha : float
        Krippendorff's alpha, ``1 - D_o / D_e`` (observed over expected disagreement).
    level : str
        Level of measurement the disagreements were weighed at.
    n_raters : int
        Raters (rows) of the ratings.
    n_units : int
        Units (columns) rated by at least two raters: the only ones that enter alpha.
    n_pairable : int
        Ratings in those units (the ``n`` of Krippendorff's formulas).
    ci : dict
        ``{"alpha": (low, high)}``, the percentile bootstrap interval over units; ``{}`` when ``n_boot=0`` (the
        library's one convention: see :meth:`helpers.scaling.PowerLawFit.conf_int`).
    confidence : float
        Nominal coverage of ``ci``.
    n_boot : int
        Number of bootstrap resamples (0 = none).
    boot : DataFrame or None
        The bootstrap draws of ``alpha`` (one column; degenerate resamples left out), kept for :meth:`conf_int`.

    Notes
    -----
    ``float(result)`` is ``result.alpha``: until this release the function returned the bare float, and code that
    rounds or compares it keeps working through ``float()``.
    """

    alpha: float
    level: str
    n_raters: int
    n_units: int
    n_pairable: int
    ci: dict[str, tuple[float, float]]
    confidence: float
    n_boot: int
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def __float__(self) -> float:
        return float(self.alpha)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """The interval of Krippendorff's alpha at coverage ``1 - alpha`` (the argument), from the stored draws.

        Laid out as :meth:`ReliabilityResult.conf_int`; ``conf_int(1 - confidence)`` gives ``ci``. A result
        computed with ``n_boot=0`` raises a ``ValueError``.

        Examples
        --------
        >>> import numpy as np
        >>> from helpers.measurement import krippendorff_alpha
        >>> r = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, 5], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5], [1, 3, 3, 3, 2, 3, 4, 2, 2, 5]])
        >>> res = krippendorff_alpha(r, level="interval", n_boot=300, seed=2)
        >>> res.conf_int(0.05)[["ci_low", "ci_high"]].iloc[0].tolist() == list(res.ci["alpha"])
        True
        """
        return conf_int_frame({"alpha": self.alpha}, self.boot, alpha, refit="krippendorff_alpha", omit_nan=True)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with ``ci_low`` / ``ci_high`` columns (NaN without bootstrap)."""
        return _one_row(self)


def _pairable_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct codes, and how often each unit (column) holds each code, for the units with two or more
    ratings (the pairable ones): shapes ``(V,)`` and ``(units, V)``."""
    rated = ~np.isnan(x)
    x = x[:, rated.sum(axis=0) >= 2]
    values, codes = np.unique(x[~np.isnan(x)], return_inverse=True)
    units = np.nonzero(~np.isnan(x))[1]  # the unit of each rating, in the order of x[~isnan(x)] (row-major)
    counts = np.bincount(units * len(values) + codes, minlength=x.shape[1] * len(values))
    return values, counts.reshape(x.shape[1], len(values)).astype(float)


def _distances(values: np.ndarray, level: str) -> np.ndarray:
    """Krippendorff's squared distance between every two codes, for the levels whose distance does not depend
    on the codes' frequencies (all but ordinal)."""
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = ((c - k) / (c + k)) ** 2
    return np.where(c + k == 0, 0.0, ratio)


def _alpha_draws(counts: np.ndarray, values: np.ndarray, level: str, weights: np.ndarray) -> np.ndarray:
    """Krippendorff's alpha of every resample of units at once; ``weights[b, u]`` is how often resample ``b``
    holds unit ``u``.

    Written here rather than calling :func:`krippendorff.alpha` per resample, which would be one Python call (and
    one coincidence matrix) per draw. The coincidences are sums over units, so a resample's are its weights times
    the units' (Krippendorff 2011, section E): ``o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)``, the
    marginals ``n_c = sum_k o_ck`` and ``alpha = 1 - (n - 1) sum o_ck d_ck / sum n_c n_k d_ck``. With every weight
    1 it is the package's alpha (tested).
    """
    m = counts.sum(axis=1)
    n_c = weights @ counts  # (B, V): each code's pairable count in each resample
    n = n_c.sum(axis=1)
    if level == "ordinal":
        # The ordinal distance depends on the marginals, so each resample has its own: (sum_{g=c..k} n_g -
        # (n_c + n_k) / 2)^2, from running sums (symmetric in c and k).
        cum = np.cumsum(n_c, axis=1)
        scaled = counts / (m - 1)[:, None]
        observed = np.empty(len(weights))
        expected = np.empty(len(weights))
        for start in range(0, len(weights), 256):  # (256, V, V) at a time keeps memory flat
            w, nb, cb = weights[start:start + 256], n_c[start:start + 256], cum[start:start + 256]
            d = (cb[:, None, :] - cb[:, :, None] + (nb[:, :, None] - nb[:, None, :]) / 2) ** 2
            o = np.einsum("bu,uc,uk->bck", w, scaled, counts, optimize=True)
            o -= np.einsum("bu,uc,ck->bck", w, scaled, np.eye(len(values)), optimize=True)
            observed[start:start + 256] = (o * d).sum(axis=(1, 2))
            expected[start:start + 256] = np.einsum("bc,bk,bck->b", nb, nb, d)
    else:
        d = _distances(values, level)
        # The diagonal distance is 0, so the [c = k] term of o drops out and each unit adds one number.
        per_unit = np.einsum("uc,ck,uk->u", counts, d, counts) / (m - 1)
        observed = weights @ per_unit
        expected = np.einsum("bc,ck,bk->b", n_c, d, n_c)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * observed / expected, np.nan)


@_doc
def krippendorff_alpha(
    ratings: pd.DataFrame | ArrayLike,
    *,
    level: str,
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> KrippendorffResult:
    """Krippendorff's alpha for agreement between raters, with missing ratings allowed.

    The estimate is :func:`krippendorff.alpha`'s, with the inputs validated. ``alpha = 1 - D_o / D_e``
    (observed over expected disagreement); 1 is perfect agreement, 0 is agreement at chance level. The level of
    measurement decides which disagreements count as large, so it is a required choice.

    Parameters
    ----------
    ratings : pandas.DataFrame or 2-d array
        Rows are raters (coders), columns are units; NaN marks a missing rating.
        Values are numeric codes.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement of the codes.
    n_boot : int, default 0
        Bootstrap resamples of units (columns) for a percentile interval; 0 skips it. The units are what is
        sampled from a population of things to code, so they are what the bootstrap resamples. This is the plain
        percentile bootstrap used across the library, not Hayes and Krippendorff's own resampling of pairs.
    {{confidence_seed}}

    Returns
    -------
    KrippendorffResult
        ``alpha``, the counts behind it and ``ci`` (``{}`` when ``n_boot=0``); ``float(result)`` is ``alpha``.

    Raises
    ------
    ValueError
        If ratings are not numeric and 2-d, contain inf, have fewer than 2 raters,
        no unit rated by at least 2 raters, fewer than 2 distinct values, or
        ``level`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([[1, 2, 3, 3, np.nan], [1, 2, 3, 2, 1], [1, 2, 2, 3, 1]])
    >>> res = krippendorff_alpha(r, level="nominal")
    >>> round(res.alpha, 3), res.n_units, res.n_pairable
    (0.6, 5, 14)
    """
    one_of(level, KRIPPENDORFF_LEVELS, "level")
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    confidence, seed = confidence_level(confidence), _seed(seed)
    x = _matrix_with_nan(ratings, "ratings", "rows = raters, columns = units")
    if np.isinf(x).any():
        raise ValueError("ratings contain inf; use NaN for a missing rating and finite numeric codes otherwise.")
    min_points(x.shape[0], 2, "Krippendorff's alpha (raters, i.e. rows)")
    if not ((~np.isnan(x)).sum(axis=0) >= 2).any():
        raise ValueError("No unit (column) is rated by at least 2 raters, so there is nothing to compare.")
    if np.unique(x[~np.isnan(x)]).size < 2:
        raise ValueError("All ratings take a single value, so expected disagreement is 0 and alpha is undefined.")
    alpha = float(krippendorff.alpha(reliability_data=x, level_of_measurement=level))
    per_unit = (~np.isnan(x)).sum(axis=0)
    pairable = per_unit[per_unit >= 2]
    ci, boot = {}, None
    if n_boot:
        # the units-by-codes counts are built only here: with many distinct codes they are the large array
        values, counts = _pairable_counts(x)
        w = _resample_counts(np.random.default_rng(seed), len(counts), n_boot)
        draws = _alpha_draws(counts, values, level, w)
        ci, boot = {"alpha": interval(draws, confidence, omit_nan=True)}, _defined("alpha", draws)
    return KrippendorffResult(alpha, level, x.shape[0], len(pairable), int(pairable.sum()), ci, confidence, n_boot,
                              boot)


# --------------------------------------------------------------------------- Schaeffer et al. transforms


def _probabilities(p: ArrayLike) -> np.ndarray:
    arr = as_float_array(p, "p")
    if ((arr < 0) | (arr > 1)).any():
        raise ValueError(
            f"p is a per-token accuracy and must lie in [0, 1]; got values from {arr.min():g} to {arr.max():g}."
        )
    return arr


def _over_tokens(p: ArrayLike, length: int, metric: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """``metric(p, length)`` of a per-token accuracy ``p`` over ``length`` tokens, both checked (length first)."""
    length = positive_int(length, "length", maximum=MAX_COUNT)
    return metric(_probabilities(p), length)


def token_accuracy_from_loss(loss: ArrayLike) -> np.ndarray:
    """Per-token probability of the correct token from per-token cross-entropy: ``p = exp(-loss)``.

    Schaeffer, Miranda & Koyejo (2023) model the loss as ``(N/c)**alpha`` so that
    ``p = exp(-(N/c)**alpha)`` rises smoothly with model size ``N``.

    Parameters
    ----------
    loss : float or array-like
        Per-token cross-entropy in nats, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        1-d array of ``p`` in ``(0, 1]`` (a scalar input gives a length-1 array).

    Raises
    ------
    ValueError
        If ``loss`` has NaN/inf or negative values.

    Examples
    --------
    >>> token_accuracy_from_loss([0.0, 1.0]).round(4).tolist()
    [1.0, 0.3679]
    """
    arr = as_float_array(loss, "loss")
    if (arr < 0).any():
        raise ValueError(f"loss is a cross-entropy and must be >= 0; found {int((arr < 0).sum())} negative value(s).")
    return np.exp(-arr)


@_doc
def exact_match_from_token_accuracy(p: ArrayLike, *, length: int) -> np.ndarray:
    """Exact-match accuracy over ``length`` tokens if tokens are right independently: ``p**length``.

    This is the nonlinear metric that turns a smooth per-token improvement into
    an apparently sudden jump (Schaeffer, Miranda & Koyejo 2023).

    Parameters
    ----------
    p : float or array-like
        Per-token accuracy in ``[0, 1]``.
    length : int
        Number of tokens ``L >= 1`` that must all be right.

    Returns
    -------
    numpy.ndarray
        1-d array of ``p**length``.

    {{token_metric_raises}}

    Examples
    --------
    >>> exact_match_from_token_accuracy([0.5, 0.9], length=2).round(3).tolist()
    [0.25, 0.81]
    """
    return _over_tokens(p, length, lambda acc, n: acc**n)


@_doc
def edit_distance_from_token_accuracy(p: ArrayLike, *, length: int) -> np.ndarray:
    """Expected token edit distance over ``length`` tokens: ``length * (1 - p)``.

    Linear in ``p``, so it stays as smooth in model size as the per-token accuracy
    (Schaeffer, Miranda & Koyejo 2023). Lower is better.

    Parameters
    ----------
    p : float or array-like
        Per-token accuracy in ``[0, 1]``.
    length : int
        Target length ``L >= 1`` in tokens.

    Returns
    -------
    numpy.ndarray
        1-d array of ``length * (1 - p)``.

    {{token_metric_raises}}

    Examples
    --------
    >>> edit_distance_from_token_accuracy([0.5, 0.9], length=10).round(3).tolist()
    [5.0, 1.0]
    """
    return _over_tokens(p, length, lambda acc, n: n * (1 - acc))


def metric_curves(N: ArrayLike, *, c: float, alpha: float, lengths: Sequence[int]) -> pd.DataFrame:  # noqa: N803
    """The three metrics of Schaeffer et al. (2023) for a family of models, as a tidy frame.

    Loss ``(N/c)**alpha`` (``alpha < 0``, so loss falls with size ``N``), per-token
    accuracy ``exp(-loss)``, exact match ``p**L`` and edit distance ``L (1 - p)``.

    Parameters
    ----------
    N : array-like
        Model sizes (parameters), ``N > 0``.
    c : float
        Scale constant ``c > 0``.
    alpha : float
        Exponent, negative (Schaeffer et al.'s convention). For a Kaplan-style
        ``(c/N)**a`` with ``a > 0`` pass ``alpha=-a``.
    lengths : sequence of int
        Target lengths ``L`` (each ``>= 1``).

    Returns
    -------
    pandas.DataFrame
        Columns ``N``, ``length``, ``metric`` (``"token_accuracy"``,
        ``"exact_match"``, ``"edit_distance"``) and ``value``; one row per
        ``N x length x metric``.

    Raises
    ------
    ValueError
        If sizes or ``c`` are not positive and finite, ``alpha >= 0``, or a length is not a positive integer.

    Examples
    --------
    >>> out = metric_curves([1e8, 1e10], c=1e9, alpha=-0.5, lengths=[1, 5])
    >>> out.shape
    (12, 4)
    >>> sorted(out["metric"].unique())
    ['edit_distance', 'exact_match', 'token_accuracy']
    """
    n = as_positive_array(N, "N (model sizes)")
    c_arr = as_float_array(c, "c")
    if c_arr.size != 1 or c_arr[0] <= 0:
        raise ValueError(f"c must be a single number > 0; got {c!r}.")
    a_arr = as_float_array(alpha, "alpha")
    if a_arr.size != 1 or a_arr[0] >= 0:
        raise ValueError(
            f"alpha must be a single negative number so that loss (N/c)**alpha falls with N; got {alpha!r}. "
            f"For a Kaplan-style (c/N)**a pass alpha=-a."
        )
    lengths = [positive_int(v, "each length", maximum=10**6) for v in sequence(lengths, "lengths", example="[1, 5]")]
    min_points(len(lengths), 1, "metric_curves (lengths)")
    with np.errstate(over="ignore", under="ignore"):
        loss = (n / c_arr[0]) ** a_arr[0]
    p = token_accuracy_from_loss(finite_output(loss, "The loss (N / c)**alpha", inputs="N, c and alpha"))
    frames = []
    for L in lengths:
        for metric, value in (
            ("token_accuracy", p),
            ("exact_match", exact_match_from_token_accuracy(p, length=L)),
            ("edit_distance", edit_distance_from_token_accuracy(p, length=L)),
        ):
            frames.append(pd.DataFrame({"N": n, "length": L, "metric": metric, "value": value}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- rank agreement


@dataclass(frozen=True)
class RankAgreement:
    """How far two score vectors agree on the order of the same items.

    Attributes
    ----------
    tau : float
        Kendall's tau-b (ties handled as in Kendall 1945).
    p_value : float
        Two-sided p-value of :func:`scipy.stats.kendalltau` for ``tau = 0``.
    n_items : int
        Items compared.
    n_pairs : int
        All item pairs, ``n (n-1) / 2``.
    n_discordant : int
        Pairs ordered one way by ``a`` and the other way by ``b``.
    flip_share : float
        ``n_discordant / n_pairs``: share of all pairs whose order flips.
    ci : dict
        ``{"tau": (low, high)}``, the percentile bootstrap interval of ``tau`` over items; ``{}`` when ``n_boot=0``.
    confidence : float
        Nominal coverage of ``ci``.
    n_boot : int
        Bootstrap resamples (0 = none).
    boot : DataFrame or None
        The bootstrap draws of ``tau`` (one column; resamples without a defined tau left out), kept for
        :meth:`conf_int`; ``None`` when ``n_boot=0``.
    """

    tau: float
    p_value: float
    n_items: int
    n_pairs: int
    n_discordant: int
    flip_share: float
    ci: dict[str, tuple[float, float]]
    confidence: float
    n_boot: int
    boot: pd.DataFrame | None = field(default=None, repr=False, compare=False)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Kendall's tau with its percentile interval at coverage ``1 - alpha``, recomputed from the kept draws.

        A one-row table (``parameter == "tau"``) in the layout of :meth:`helpers.scaling.PowerLawFit.conf_int`.
        ``conf_int(1 - confidence)`` is ``ci``; without draws (``n_boot=0``) a ``ValueError`` says so.

        Examples
        --------
        >>> from helpers.measurement import rank_agreement
        >>> res = rank_agreement(list(range(12)), [0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10], n_boot=300)
        >>> list(res.conf_int(0.2).columns)
        ['parameter', 'estimate', 'ci_low', 'ci_high']
        """
        return conf_int_frame({"tau": self.tau}, self.boot, alpha, refit="rank_agreement", omit_nan=True)

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame with ``ci_low`` / ``ci_high`` columns (NaN without bootstrap)."""
        return _one_row(self)


def _paired_scores(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        if not a.index.is_unique or not b.index.is_unique or set(a.index) != set(b.index):
            raise ValueError(
                "a and b are Series with different (or duplicated) index labels; they must score the same items. "
                "Align them first, e.g. a, b = a.align(b, join='inner')."
            )
        b = b.reindex(a.index)
    x, y = as_float_array(a, "a"), as_float_array(b, "b")
    same_length(a=x, b=y)
    min_points(len(x), 3, "rank_agreement")
    for name, v in (("a", x), ("b", y)):
        if np.ptp(v) == 0:
            raise ValueError(f"{name} is constant, so it defines no order and tau is undefined.")
    return x, y


def _bootstrap_tau_b(sa: np.ndarray, sb: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Tau-b of every resample from pair-sign matrices and resample counts ``w`` (n_boot x n).

    A resample holding item i ``w_i`` times has ``w_i w_j`` copies of pair (i, j), so
    every pair count is a quadratic form in ``w``; copies of one item are tied in both scores.
    """
    def quad(mat: np.ndarray) -> np.ndarray:
        return np.einsum("bi,ij,bj->b", w, mat, w, optimize=True)

    m = w.sum(axis=1)
    s = quad(sa * sb) / 2
    total = m * (m - 1) / 2
    ties_a = (quad((sa == 0).astype(float)) - m) / 2
    ties_b = (quad((sb == 0).astype(float)) - m) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return s / np.sqrt((total - ties_a) * (total - ties_b))


@_doc
def rank_agreement(
    a: pd.Series | ArrayLike,
    b: pd.Series | ArrayLike,
    *,
    n_boot: int = 0,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankAgreement:
    """Kendall's tau-b between two scorings of the same items, and how many pairs flip.

    Typical use: the same models scored under two metrics (exact match vs. edit
    distance). Tau-b is computed by :func:`scipy.stats.kendalltau`; the bootstrap
    resamples items with replacement and recomputes tau-b for all resamples at
    once. Pair counting uses ``n x n`` sign matrices, fine for a few thousand items.

    Parameters
    ----------
    a, b : pandas.Series or array-like
        Scores, one per item. Two Series are aligned on their index (which must hold
        the same unique labels); otherwise the order of entries pairs them.
    n_boot : int, default 0
        Bootstrap resamples of items; 0 skips the interval.
    {{confidence_seed}}

    Returns
    -------
    RankAgreement

    Raises
    ------
    ValueError
        NaN/inf, mismatched lengths or Series indexes, fewer than 3 items, a
        constant score vector, or invalid options.

    Examples
    --------
    >>> res = rank_agreement([1, 2, 3, 4], [1, 3, 2, 4])
    >>> round(res.tau, 3), res.n_discordant, round(res.flip_share, 3)
    (0.667, 1, 0.167)
    """
    x, y = _paired_scores(a, b)
    n_boot = positive_int(n_boot, "n_boot", minimum=0, maximum=MAX_COUNT)
    confidence, seed = confidence_level(confidence), _seed(seed)
    tau, p_value = stats.kendalltau(x, y)
    sa, sb = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    n = len(x)
    n_pairs = n * (n - 1) // 2
    n_disc = int((sa * sb < 0).sum()) // 2
    ci, boot = {}, None
    if n_boot:
        w = _resample_counts(np.random.default_rng(seed), n, n_boot)
        draws = _bootstrap_tau_b(sa, sb, w)
        ci, boot = {"tau": interval(draws, confidence, omit_nan=True)}, _defined("tau", draws)
    return RankAgreement(float(tau), float(p_value), n, n_pairs, n_disc, n_disc / n_pairs, ci, confidence, n_boot,
                         boot)


# --------------------------------------------------------------------------- definitions of the outcome


def _design_matrix(df: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Numeric features as they are, categorical ones as 0/1 indicators (first level dropped)."""
    categorical = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    x = pd.get_dummies(df[features], columns=categorical, drop_first=True, dtype=float)
    return as_float_array(x.to_numpy(dtype=float), "features", ndim=2)


def _error_rates(y: np.ndarray, pred: np.ndarray, labels: np.ndarray, confidence: float) -> pd.DataFrame:
    """Confusion-matrix rates per label of ``labels`` (plus ``OVERALL``), from one vectorised bincount."""
    names, codes = np.unique(labels, return_inverse=True)
    names = np.append(names.astype(str), OVERALL)
    cells = np.bincount(codes * 4 + y * 2 + pred, minlength=4 * (len(names) - 1)).reshape(-1, 4)
    cells = np.vstack([cells, cells.sum(axis=0)]).astype(float)
    tn, fp, fn, tp = cells.T
    n, pos, neg = cells.sum(axis=1), fn + tp, tn + fp
    with np.errstate(divide="ignore", invalid="ignore"):
        fnr, fpr = fn / pos, fp / neg
    err_lo, err_hi = wilson_interval((fp + fn) / n, n, confidence)
    fnr_lo, fnr_hi = wilson_interval(fnr, pos, confidence)
    return pd.DataFrame({
        "group": names, "n": n.astype(int), "n_positive": pos.astype(int), "base_rate": pos / n,
        "predicted_rate": (tp + fp) / n, "error_rate": (fp + fn) / n, "error_low": err_lo, "error_high": err_hi,
        "fnr": fnr, "fnr_low": fnr_lo, "fnr_high": fnr_hi, "fpr": fpr, "balanced_error": (fnr + fpr) / 2,
    })


def threshold_sensitivity(
    df: pd.DataFrame,
    *,
    outcome: str,
    quantiles: Sequence[float],
    features: Sequence[str],
    group: str,
    test_size: float = 0.3,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """How a classifier's error rates per group change with the cut-off that defines the label.

    A binary outcome is often made from a continuous one ("high wage" = wage above
    some percentile). For each quantile level ``q`` the label is
    ``outcome > quantile_q(outcome)`` (the quantile of the whole sample: the label's
    definition belongs to the population, not to the model); a standardised
    logistic regression (scikit-learn) is trained on ``features`` in a training
    split and evaluated on the held-out rows, predicting 1 when its probability is
    at least 0.5. The same split is used for every cut-off, so differences between
    cut-offs come from the definition of the label alone.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per unit.
    outcome : str
        Numeric column to cut.
    quantiles : sequence of float
        Quantile levels in ``(0, 1)`` defining the cut-offs, e.g. ``[0.5, 0.75, 0.9]``.
    features : sequence of str
        Predictor columns. Numeric columns enter as they are (add transformed
        columns such as a square yourself); other columns become 0/1 indicators
        with the first level dropped.
    group : str
        Column whose values get separate rows (not used as a predictor unless listed in ``features``).
    test_size : float, default 0.3
        Share of rows held out for evaluation.
    confidence : float, default 0.95
        Coverage of the Wilson intervals for the error rate and the false negative rate.
    seed : int, default 0
        Seed of the train/test split (:func:`numpy.random.default_rng`).

    Returns
    -------
    pandas.DataFrame
        One row per quantile level and group, plus a group ``"overall"`` per level:
        ``quantile``, ``cutoff`` (value of ``outcome``), ``group``, ``n`` (test
        rows), ``n_positive``, ``base_rate``, ``predicted_rate`` (share predicted
        1), ``error_rate`` with ``error_low`` / ``error_high``, ``fnr`` (false
        negative rate, share of true 1s predicted 0) with ``fnr_low`` /
        ``fnr_high``, ``fpr`` (false positive rate) and ``balanced_error``
        (``(fnr + fpr) / 2``). Rates with an empty denominator are NaN. The
        intervals reflect test-set sampling only, for the one fitted model.

    Raises
    ------
    ValueError
        Unknown column, missing values in a used column, a non-numeric or constant
        outcome, a quantile outside ``(0, 1)`` or repeated, no features, a
        ``test_size`` outside ``(0, 1)``, a split leaving fewer than 10 rows on a
        side, or a training split holding only one class at some cut-off.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=500)
    >>> df = pd.DataFrame({"x": x, "y": x + rng.normal(size=500), "g": np.where(x > 0, "hi", "lo")})
    >>> out = threshold_sensitivity(df, outcome="y", quantiles=[0.5, 0.9], features=["x"], group="g")
    >>> sorted(out["group"].unique()), len(out)
    (['hi', 'lo', 'overall'], 6)
    >>> out.loc[out["group"] == "overall", "base_rate"].round(1).tolist()
    [0.5, 0.1]
    """
    from sklearn.linear_model import LogisticRegression  # imported lazily: only this function needs it
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check_item_list(features)
    features = list(dict.fromkeys(features))
    min_points(len(features), 1, "threshold_sensitivity (features)")
    has_columns(df, [outcome, *features, group], what="df")
    used = list(dict.fromkeys([outcome, *features, group]))
    if df[used].isna().any().any():
        raise ValueError(f"Missing values in {df[used].columns[df[used].isna().any()].tolist()}; drop them first.")
    if isinstance(quantiles, (str, float, int)):
        raise ValueError(f"quantiles must be a list of levels in (0, 1), e.g. [0.5, 0.9]; got {quantiles!r}.")
    quantiles = sequence(quantiles, "quantiles", example="[0.5, 0.9]")
    levels = [probability(q, "each quantile", strict=True, example=0.75) for q in quantiles]
    min_points(len(levels), 1, "threshold_sensitivity (quantiles)")
    if len(set(levels)) != len(levels):
        raise ValueError(f"quantiles contains repeated levels {levels}; list each once.")
    test_size = probability(test_size, "test_size", strict=True, example=0.3)
    confidence = confidence_level(confidence)
    y_all = as_float_array(df[outcome].to_numpy(), f"outcome column {outcome!r}")
    if np.ptp(y_all) == 0:
        raise ValueError(f"The outcome {outcome!r} is constant, so no cut-off separates two classes.")
    x_all = _design_matrix(df, features)
    labels = df[group].astype(str).to_numpy()
    n = len(df)
    n_test = int(round(test_size * n))
    if min(n_test, n - n_test) < 10:
        raise ValueError(f"test_size={test_size} leaves {n_test} test and {n - n_test} training rows; need 10+ each.")
    test = np.zeros(n, dtype=bool)
    test[np.random.default_rng(_seed(seed)).permutation(n)[:n_test]] = True

    frames = []
    for q, cutoff in zip(levels, np.quantile(y_all, levels)):
        y = (y_all > cutoff).astype(int)
        if np.unique(y[~test]).size < 2:
            raise ValueError(f"At quantile {q} the training split holds only one class; choose a less extreme level.")
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_all[~test], y[~test])
        pred = model.predict(x_all[test]).astype(int)
        rates = _error_rates(y[test], pred, labels[test], confidence)
        frames.append(rates.assign(quantile=q, cutoff=float(cutoff)))
    out = pd.concat(frames, ignore_index=True)
    return out[["quantile", "cutoff", *[c for c in out.columns if c not in ("quantile", "cutoff")]]]
