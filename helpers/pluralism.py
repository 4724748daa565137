"""Whose answer is the "good" answer? Opinion distributions, representativeness and social choice.

Communities differ in what they consider a good answer. This module gives the
book the few tools it needs to show that on real survey data and to connect it
with the theory of aggregating preferences:

* :func:`group_distributions` turns a survey item into one answer distribution
  per community (with 95% intervals for each share);
* :func:`representativeness` scores how well one distribution stands in for
  another, using the measure of Santurkar et al. (2023, "Whose Opinions Do
  Language Models Reflect?"): ``1 - W1 / (N - 1)``, where ``W1`` is the
  1-Wasserstein (earth mover's) distance between the two distributions with the
  ``N`` ordered answer options placed at ``1, ..., N``. It is 1 for identical
  distributions and 0 when all mass sits on opposite extremes;
* :func:`representativeness_by_group` scores one reference answer (by default
  the pooled distribution, what a single system tuned to "the average" would
  say) against every community, and :func:`coverage_curve` grows the evaluated
  population one community at a time and tracks the share of communities the
  pooled answer still represents well (Diaz & Madaio's argument that a bigger
  evaluation population means more communities whose notion of "good" differs);
* :func:`majority_agreement` scores a second construct of a good answer: one
  answer, which serves a community when it is that community's majority answer;
* :func:`representativeness_null` and :func:`coverage_null` show how much of
  that is sampling noise: they shuffle answers across respondents, which keeps
  group sizes but removes real differences, and score the shuffled data;
* :func:`representativeness_matrix` scores several candidate answers (say,
  models tuned to different populations) for every community, which gives each
  community's preferences over the candidates;
* :func:`aggregate_rankings`, :func:`pairwise_majority`, :func:`condorcet_winner`,
  :func:`majority_cycles`, :func:`ranking_disagreement` and
  :func:`disagreement_curve` aggregate rankings of candidates (models, answers,
  policies) across communities with the classic voting rules, expose Condorcet
  cycles -- the everyday face of Arrow's theorem -- and measure how contested
  the candidates become as more communities are consulted.

Options are treated as *ordered* wherever a Wasserstein distance is used; for
nominal answers the measure depends on the arbitrary order chosen.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from helpers._docs import fill_doc
from helpers._stats import percentile_interval, wilson_interval
from helpers._validate import (MAX_COUNT, as_float_array, finite_scalar, flag, has_columns, min_points,
                               nonnegative_weights, one_of, positive_int, probability, same_length, sequence)
from helpers._validate import seed as _seed

__all__ = [
    "AggregateResult",
    "DisagreementResult",
    "aggregate_rankings",
    "condorcet_winner",
    "coverage_curve",
    "coverage_null",
    "disagreement_curve",
    "group_distributions",
    "majority_agreement",
    "majority_cycles",
    "pairwise_majority",
    "ranking_disagreement",
    "representativeness",
    "representativeness_by_group",
    "representativeness_matrix",
    "representativeness_null",
]

#: Voting rules understood by :func:`aggregate_rankings`.
RULES = ("plurality", "borda", "mean", "maximin", "simpson_kramer", "kemeny")
#: Largest number of candidates for the brute-force Kemeny search (8! = 40,320 orders).
MAX_KEMENY_CANDIDATES = 8
# Identical distributions pooled from different counts can differ in the last bit.
_TOL = 1e-12

#: Type of ``weights`` of the ranking functions: one weight per voter, or None for equal weights.
Weights = Sequence[float] | np.ndarray | pd.Series | None

# Parameter descriptions shared by several docstrings, set in by ``@_doc`` (helpers/_docs.py).
_DF = """\
df : pandas.DataFrame
    One row per respondent."""
_WEIGHTS = """\
weights : array-like or pandas.Series, optional
    One non-negative weight per voter (e.g. group size); a Series is
    matched to the rows by index. Default: equal weights."""
_HIGHER_IS_BETTER = """\
higher_is_better : bool
    Whether values are scores (higher = better) rather than ranks."""
_DOCS = {
    "df": _DF,
    "survey_parameters": _DF + "\nitem, group, weight, options\n    As in :func:`group_distributions`.",
    # The permutation nulls shuffle unweighted answers, so they take no weight.
    "unweighted_survey_parameters": _DF + "\nitem, group, options\n    As in :func:`group_distributions`.",
    "weights": _WEIGHTS,
    "higher_is_better": _HIGHER_IS_BETTER,
    # The whole Parameters section of the functions that take a preference profile and nothing else.
    "profile_parameters": "\n".join([
        "Parameters",
        "----------",
        "preferences : pandas.DataFrame",
        "    As ``rankings`` in :func:`aggregate_rankings`.",
        _WEIGHTS,
        _HIGHER_IS_BETTER,
    ]),
    "profile_raises": "Raises\n------\nValueError\n    As :func:`aggregate_rankings`.",
}
_doc = fill_doc(_DOCS)


# ---------------------------------------------------------------------------
# Distributions per group
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Counts:
    """Answer counts per group, the shared input of every distribution-level function."""

    labels: pd.Index  # one label per group (a MultiIndex for several group columns)
    options: list[Any]
    weighted: np.ndarray  # (groups, options); equals ``unweighted`` without weights
    unweighted: np.ndarray  # (groups, options)
    sum_w2: np.ndarray  # (groups,) sum of squared weights, for Kish's effective n
    n_missing: np.ndarray  # (groups,) rows with the item missing

    @property
    def shares(self) -> np.ndarray:
        return self.weighted / self.weighted.sum(axis=1, keepdims=True)


def _group_columns(group: str | Sequence[str]) -> list[str]:
    cols = [group] if isinstance(group, str) else sequence(group, "group", example="['state', 'race']", hashable=True)
    if not cols:
        raise ValueError("group is empty; pass a column name or a list of column names, e.g. ['state', 'race'].")
    if len(set(cols)) != len(cols):
        raise ValueError(f"group lists a column twice ({cols}); list each column once.")
    return cols


def _default_options(values: pd.Series, options: Sequence[Any] | None) -> list[Any]:
    if options is not None:
        opts = sequence(options, "options", example="['agree', 'disagree']", hashable=True)
        if not opts:
            raise ValueError("options is empty; pass the ordered list of answer options.")
        if len(set(opts)) != len(opts):
            raise ValueError(f"options contains duplicates ({opts}); list each answer option once.")
        return opts
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        return list(values.dtype.categories)
    try:
        return sorted(values.dropna().unique().tolist())
    except TypeError:
        raise ValueError(
            f"Cannot sort the answers of {values.name!r} (mixed types); pass options=[...] in their order."
        ) from None


def _counts(
    df: pd.DataFrame,
    item: str,
    group: str | Sequence[str],
    weight: str | None,
    options: Sequence[Any] | None,
) -> _Counts:
    cols = _group_columns(group)
    has_columns(df, [item, *cols, *([weight] if weight is not None else [])], what="df")
    if item in cols:
        raise ValueError(f"item {item!r} is also a group column; group by other columns.")
    opts = _default_options(df[item], options)
    labelled = df[cols].notna().all(axis=1).to_numpy()
    if not labelled.any():
        raise ValueError(f"No row (of {len(df)}) has every group column {cols} filled in; pass labelled rows.")
    keys = df.loc[labelled, cols]
    by_group = keys.groupby(cols, observed=True, sort=True)
    gid = by_group.ngroup().to_numpy()
    labels = by_group.size().index
    answers = df.loc[labelled, item]
    answered = answers.notna().to_numpy()
    codes = pd.Index(opts).get_indexer(answers[answered])
    if (codes < 0).any():
        unknown = sorted(map(repr, set(answers[answered][codes < 0])))[:5]
        raise ValueError(f"{item!r} has answers not among options {opts}: {', '.join(unknown)}; add them to options.")
    w = np.ones(codes.size)
    if weight is not None:
        w = nonnegative_weights(df.loc[labelled, weight][answered].to_numpy(), f"weight column {weight!r}",
                                require_positive=False)
    n_groups, n_opts = len(labels), len(opts)
    flat = gid[answered] * n_opts + codes
    size = n_groups * n_opts
    unweighted = np.bincount(flat, minlength=size).reshape(n_groups, n_opts).astype(float)
    weighted = np.bincount(flat, weights=w, minlength=size).reshape(n_groups, n_opts)
    empty = weighted.sum(axis=1) <= 0
    if empty.any():
        bad = [labels[i] for i in np.flatnonzero(empty)][:5]
        raise ValueError(
            f"{int(empty.sum())} group(s) have no (positively weighted) answers to {item!r}, e.g. {bad}; "
            f"drop them first, e.g. df.dropna(subset=[{item!r}])."
        )
    return _Counts(
        labels=labels,
        options=opts,
        weighted=weighted,
        unweighted=unweighted,
        sum_w2=np.bincount(gid[answered], weights=w**2, minlength=n_groups),
        n_missing=np.bincount(gid[~answered], minlength=n_groups),
    )


def _label_frame(labels: pd.Index, repeat: int = 1) -> pd.DataFrame:
    return labels.repeat(repeat).to_frame(index=False)


@_doc
def group_distributions(
    df: pd.DataFrame,
    *,
    item: str,
    group: str | Sequence[str],
    weight: str | None = None,
    options: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Answer distribution of one survey item in each group, with 95% intervals.

    Parameters
    ----------
    {{df}}
    item : str
        Column holding the answer. Rows where it is missing are dropped (and
        counted in ``n_missing``).
    group : str or list of str
        Column(s) defining the groups, e.g. ``"race"`` or ``["state", "race"]``.
        Rows with a missing group value are dropped; unused categories of a
        categorical column are ignored.
    weight : str, optional
        Column of survey weights (finite, >= 0). Counts and shares are then
        weighted.
    options : sequence, optional
        The ordered answer options; options nobody chose appear with share 0.
        Default: the categories of an *ordered* categorical ``item``, otherwise
        its sorted unique values.

    Returns
    -------
    pandas.DataFrame
        One row per group and option: the group column(s), ``option`` (an
        ordered categorical in option order), ``count`` (weighted if
        ``weight``), ``n_unweighted`` (respondents), ``share`` (sums to 1 within
        a group), ``low`` and ``high`` (95% Wilson interval for the share),
        ``n_eff`` (the group's sample size used in the interval) and
        ``n_missing`` (the group's respondents with ``item`` missing).
        Without weights ``n_eff`` is the number of answers; with weights it is
        Kish's effective sample size ``(sum w)^2 / sum w^2`` of the group, put
        in place of ``n`` in Wilson's formula. That accounts for the variance
        added by unequal weights only, not for clustering or stratification.

    Raises
    ------
    ValueError
        Unknown column, answers outside ``options``, duplicate options,
        negative or non-finite weights, or a group without any answer.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "a", "b"], "x": [1, 2, 2, 3]})
    >>> out = group_distributions(df, item="x", group="g")
    >>> out.loc[out.g == "a", "share"].round(3).tolist()
    [0.333, 0.667, 0.0]
    """
    counts = _counts(df, item, group, weight, options)
    n_groups, n_opts = counts.weighted.shape
    total = counts.weighted.sum(axis=1)
    n_eff = total**2 / counts.sum_w2
    share = counts.shares
    low, high = wilson_interval(share, n_eff[:, None])
    out = _label_frame(counts.labels, n_opts)
    out["option"] = pd.Categorical(np.tile(np.asarray(counts.options, dtype=object), n_groups),
                                   categories=counts.options, ordered=True)
    out["count"] = counts.weighted.ravel()
    out["n_unweighted"] = counts.unweighted.ravel().astype(int)
    out["share"] = share.ravel()
    out["low"] = low.ravel()
    out["high"] = high.ravel()
    out["n_eff"] = np.repeat(n_eff, n_opts)
    out["n_missing"] = np.repeat(counts.n_missing, n_opts)
    return out


# ---------------------------------------------------------------------------
# Representativeness (Santurkar et al. 2023)
# ---------------------------------------------------------------------------


def _distribution(values: Any, name: str) -> np.ndarray:
    p = as_float_array(values, name)
    if (p < 0).any():
        raise ValueError(f"{name} has {int((p < 0).sum())} negative share(s); shares and counts must be >= 0.")
    total = p.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to 0; pass counts or shares with a positive total.")
    return p / total


def _alignment(cdf_a: np.ndarray, cdf_b: np.ndarray) -> np.ndarray:
    """1 - W1/(N-1) from cumulative distributions (last axis = options); broadcasts."""
    n_opts = cdf_a.shape[-1]
    return 1 - np.abs(cdf_a - cdf_b).sum(axis=-1) / (n_opts - 1)


def representativeness(
    p: Sequence[float] | np.ndarray | pd.Series,
    q: Sequence[float] | np.ndarray | pd.Series,
) -> float:
    """How well distribution ``q`` stands in for ``p``: ``1 - W1(p, q) / (N - 1)``.

    This is the opinion alignment of Santurkar et al. (2023). The ``N`` answer
    options are ordered and placed at ``1, ..., N``; ``W1`` is the
    1-Wasserstein distance, which for such options equals
    ``sum_k |P(k) - Q(k)|`` over the cumulative distributions ``P`` and ``Q``.
    Dividing by ``N - 1``, the largest possible ``W1``, puts the score in
    ``[0, 1]``: 1 for identical distributions, 0 when all of ``p`` sits on one
    extreme option and all of ``q`` on the other. The score is symmetric.

    Parameters
    ----------
    p, q : array-like
        Shares (or counts) over the same ordered options, non-negative. Each is
        divided by its total, so counts work as well as shares.

    Returns
    -------
    float
        Representativeness in ``[0, 1]``.

    Raises
    ------
    ValueError
        Non-finite or negative entries, a zero total, lengths that differ, or
        fewer than two options.

    Examples
    --------
    >>> representativeness([1, 0, 0], [0, 0, 1])
    0.0
    >>> round(representativeness([0.2, 0.3, 0.5], [20, 30, 50]), 3)
    1.0
    >>> round(representativeness([0.5, 0.5], [0.8, 0.2]), 3)
    0.7
    """
    p_arr = _distribution(p, "p")
    q_arr = _distribution(q, "q")
    n_opts = same_length(p=p_arr, q=q_arr)
    min_points(n_opts, 2, "representativeness (a distance between ordered options)")
    return float(np.clip(_alignment(np.cumsum(p_arr), np.cumsum(q_arr)), 0.0, 1.0))


def _reference_shares(reference: Any, counts: _Counts) -> np.ndarray | None:
    """Shares of a fixed reference, or None for "pool the groups"."""
    if isinstance(reference, str) and reference == "pooled":
        return None
    n_opts = len(counts.options)
    if isinstance(reference, pd.Series):
        pos = pd.Index(counts.options).get_indexer(reference.index)
        if len(reference) != n_opts or (pos < 0).any() or len(set(pos)) != n_opts:
            raise ValueError(
                f"reference Series is indexed by {list(reference.index)}; index it by the options {counts.options}."
            )
        values = np.empty(n_opts)
        values[pos] = as_float_array(reference.to_numpy(), "reference")
        return _distribution(values, "reference")
    if isinstance(reference, (np.ndarray, list)):
        shares = _distribution(reference, "reference")
        same_length(reference=shares, options=counts.options)
        return shares
    try:
        pos = counts.labels.get_indexer([reference])
    except (TypeError, ValueError):
        pos = np.array([-1])
    if pos[0] < 0:
        raise ValueError(
            f"Unknown reference {reference!r}; pass 'pooled', a distribution over the options "
            f"(list, array or Series), or a group label such as {list(counts.labels[:3])}."
        )
    return counts.shares[pos[0]]


@_doc
def representativeness_by_group(df: pd.DataFrame, *, item: str, group: str | Sequence[str], reference: Any = "pooled",
                                weight: str | None = None, options: Sequence[Any] | None = None) -> pd.DataFrame:
    """Representativeness of one reference answer distribution for every group.

    Parameters
    ----------
    {{survey_parameters}}
    reference : "pooled", array-like, pandas.Series or group label
        The distribution playing "the model's answer". ``"pooled"`` (default):
        all answered rows pooled (weighted if ``weight``), i.e. the single
        answer fitted to the average respondent. A list or array gives shares in
        option order; a Series is matched to the options by its index. Any other
        value (a scalar, or a tuple for several group columns) names a group
        whose distribution is the reference. The string ``"pooled"`` always
        means pooling, even if a group is called that.

    Returns
    -------
    pandas.DataFrame
        The group column(s), ``n`` (unweighted number of answers) and
        ``representativeness`` (see :func:`representativeness`).

    Raises
    ------
    ValueError
        As :func:`group_distributions`; also an unknown reference group, a
        reference of the wrong length or with bad shares, or fewer than two
        options.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [0, 0, 1, 1]})
    >>> representativeness_by_group(df, item="x", group="g")["representativeness"].tolist()
    [0.5, 0.5]
    >>> representativeness_by_group(df, item="x", group="g", reference="a")["representativeness"].tolist()
    [1.0, 0.0]
    """
    counts = _counts(df, item, group, weight, options)
    min_points(len(counts.options), 2, "representativeness (a distance between ordered options)")
    ref = _reference_shares(reference, counts)
    if ref is None:
        ref = counts.weighted.sum(axis=0) / counts.weighted.sum()
    rep = _alignment(np.cumsum(counts.shares, axis=1), np.cumsum(ref))
    out = _label_frame(counts.labels)
    out["n"] = counts.unweighted.sum(axis=1).astype(int)
    out["representativeness"] = np.clip(rep, 0.0, 1.0)
    return out



@_doc
def majority_agreement(df: pd.DataFrame, *, item: str, group: str | Sequence[str], reference: Any = "pooled",
                       weight: str | None = None, options: Sequence[Any] | None = None) -> pd.DataFrame:
    """Whether one answer is each group's majority answer: a second construct of "a good answer".

    :func:`representativeness_by_group` counts an answer as good for a group
    when its *distribution* mirrors the group's. Many communities would instead
    want a system to give one answer, the one most of them give. Here the
    reference gives a single answer, its most common option, and a group is
    served when that option is (one of) the group's most common. The two
    constructs can disagree: a distribution close to a group's can still put its
    peak on another option, and a single answer can match a group's majority
    while ignoring a large minority.

    Parameters
    ----------
    {{survey_parameters}}
    reference : "pooled", array-like, pandas.Series or group label
        As in :func:`representativeness_by_group`; its most common option is
        the single answer given.

    Returns
    -------
    pandas.DataFrame
        The group column(s), ``n`` (unweighted answers), ``group_answer`` (the
        group's most common option; the first in option order if several tie),
        ``answer`` (the reference's single answer), ``agrees`` (the answer is
        among the group's most common options) and ``share_agreeing`` (the
        group's share of answers equal to it).

    Raises
    ------
    ValueError
        As :func:`representativeness_by_group`; also a reference whose largest
        share is tied between options, so that it names no single answer.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 4, "x": [0, 0, 1, 0, 1, 1, 1]})
    >>> out = majority_agreement(df, item="x", group="g")
    >>> out[["g", "group_answer", "answer", "agrees"]].to_dict(orient="list")
    {'g': ['a', 'b'], 'group_answer': [0, 1], 'answer': [1, 1], 'agrees': [False, True]}
    >>> out["share_agreeing"].round(3).tolist()
    [0.333, 0.75]
    """
    counts = _counts(df, item, group, weight, options)
    ref = _reference_shares(reference, counts)
    if ref is None:
        ref = counts.weighted.sum(axis=0) / counts.weighted.sum()
    top = np.flatnonzero(ref >= ref.max() - _TOL)
    if top.size > 1:
        tied = [counts.options[i] for i in top]
        raise ValueError(
            f"reference gives the largest share to several options ({tied}), so it names no single answer; "
            f"pass a reference with one most common option."
        )
    answer = int(top[0])
    shares = counts.shares
    group_max = shares.max(axis=1)
    out = _label_frame(counts.labels)
    out["n"] = counts.unweighted.sum(axis=1).astype(int)
    out["group_answer"] = [counts.options[i] for i in shares.argmax(axis=1)]
    out["answer"] = [counts.options[answer]] * len(out)
    out["agrees"] = shares[:, answer] >= group_max - _TOL
    out["share_agreeing"] = shares[:, answer]
    return out

def _group_order(order: Any, counts: _Counts, n_perm: int, seed: int) -> np.ndarray:
    """Rows = orders in which groups are added (one row unless order="random")."""
    n_groups = len(counts.labels)
    if isinstance(order, str):
        one_of(order, ["size", "random"], "order")
        if order == "size":
            return np.argsort(-counts.weighted.sum(axis=1), kind="stable")[None, :]
        rng = np.random.default_rng(seed)
        return np.argsort(rng.random((n_perm, n_groups)), axis=1)
    if not isinstance(order, (list, tuple, pd.Index, np.ndarray, pd.Series)) or len(order) == 0:
        raise ValueError(f"order must be 'size', 'random' or a non-empty list of group labels; got {order!r}.")
    pos = counts.labels.get_indexer(sequence(order, "order", example="['a', 'b']", hashable=True))
    if (pos < 0).any():
        bad = [lab for lab, p in zip(order, pos, strict=True) if p < 0][:5]
        raise ValueError(f"order names unknown group(s) {bad}; known groups include {list(counts.labels[:5])}.")
    if len(set(pos)) != len(pos):
        raise ValueError("order lists a group more than once; list each group once.")
    return np.asarray(pos)[None, :]


def _coverage_block(
    perms: np.ndarray, counts: _Counts, ref: np.ndarray | None, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share represented, mean and min representativeness for each order and k."""
    n_k = perms.shape[1]
    cdf = np.cumsum(counts.shares, axis=1)[perms]  # (orders, k, options)
    if ref is None:
        pooled = np.cumsum(counts.weighted[perms], axis=1)  # pooled counts of the first k groups
        ref_cdf = np.cumsum(pooled / pooled.sum(axis=2, keepdims=True), axis=2)
        rep = _alignment(ref_cdf[:, :, None, :], cdf[:, None, :, :])  # (orders, k, group)
    else:
        rep = np.broadcast_to(_alignment(np.cumsum(ref), cdf)[:, None, :], (len(perms), n_k, n_k))
    included = np.tri(n_k, dtype=bool)  # group j is in the population at step k when j <= k
    k = np.arange(1, n_k + 1)
    share = ((rep >= threshold - _TOL) & included).sum(axis=2) / k
    mean_rep = np.where(included, rep, 0.0).sum(axis=2) / k
    min_rep = np.where(included, rep, np.inf).min(axis=2)
    return share, np.clip(mean_rep, 0, 1), np.clip(min_rep, 0, 1)


@_doc
def coverage_curve(df: pd.DataFrame, *, item: str, group: str | Sequence[str], threshold: float,
                   order: str | Sequence[Any] = "size", n_perm: int = 50, seed: int = 0, reference: Any = "pooled",
                   weight: str | None = None, options: Sequence[Any] | None = None) -> pd.DataFrame:
    """Share of groups represented well as the evaluated population grows.

    Groups are added one at a time. After ``k`` groups, the reference answer is
    recomputed as the pooled distribution of *the included groups only* (what
    one system tuned to that population's average would say), and every
    included group is scored with :func:`representativeness`. A group counts as
    represented when its score is ``>= threshold``.

    Parameters
    ----------
    {{survey_parameters}}
    threshold : float
        Representativeness in ``[0, 1]`` a group needs to count as represented.
    order : "size", "random" or list of group labels
        ``"size"``: largest group first (by weighted number of answers; ties in
        group order). ``"random"``: ``n_perm`` random orders, summarised by the
        mean and a 2.5-97.5 percentile band. A list: that order, which may be a
        subset of the groups (the curve then stops at its length).
    n_perm : int
        Number of random orders (used only with ``order="random"``).
    seed : int
        Seed of ``numpy.random.default_rng`` for the random orders.
    reference : "pooled", array-like, pandas.Series or group label
        ``"pooled"`` (default) re-pools over the included groups at each step;
        anything else fixes the reference as in
        :func:`representativeness_by_group`.

    Returns
    -------
    pandas.DataFrame
        One row per ``k``: ``k`` (groups included), ``share_represented``,
        ``low`` and ``high`` (2.5 and 97.5 percentiles over random orders;
        equal to the share for a fixed order), ``min_rep`` and ``mean_rep``
        (smallest and mean representativeness among the included groups;
        averaged over random orders), and ``added`` (the group added at step
        ``k``; ``None`` for random orders).

    Raises
    ------
    ValueError
        As :func:`representativeness_by_group`; also a threshold outside
        ``[0, 1]``, an unknown ``order`` or unknown/duplicate labels in it, or a
        bad ``n_perm``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": list("aaaabbc"), "x": [0, 0, 0, 0, 0, 1, 1]})
    >>> curve = coverage_curve(df, item="x", group="g", threshold=0.7)
    >>> curve["share_represented"].round(3).tolist()
    [1.0, 0.5, 0.667]
    >>> curve["added"].tolist()
    ['a', 'b', 'c']
    """
    thr = probability(threshold, "threshold", example=0.9)  # a representativeness
    n_perm = positive_int(n_perm, "n_perm", maximum=MAX_COUNT)
    seed = _seed(seed)
    counts = _counts(df, item, group, weight, options)
    min_points(len(counts.options), 2, "representativeness (a distance between ordered options)")
    ref = _reference_shares(reference, counts)
    perms = _group_order(order, counts, n_perm, seed)
    n_k = perms.shape[1]
    # Chunk the orders so the (orders, k, k, options) array stays around 32 MB.
    chunk = max(1, int(4e6 // (n_k * n_k * len(counts.options))))
    parts = [_coverage_block(perms[i : i + chunk], counts, ref, thr) for i in range(0, len(perms), chunk)]
    share, mean_rep, min_rep = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    low, high = percentile_interval(share)
    fixed = not (isinstance(order, str) and order == "random")
    return pd.DataFrame(
        {
            "k": np.arange(1, n_k + 1),
            "share_represented": share.mean(axis=0),
            "low": low,
            "high": high,
            "min_rep": min_rep.mean(axis=0),
            "mean_rep": mean_rep.mean(axis=0),
            "added": [counts.labels[i] for i in perms[0]] if fixed else [None] * n_k,
        }
    )


@_doc
def representativeness_matrix(
    df: pd.DataFrame,
    *,
    item: str,
    group: str | Sequence[str],
    candidates: str | Sequence[str] | Mapping[Any, Any],
    pooled: bool = True,
    weight: str | None = None,
    options: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Representativeness of several candidate answer distributions for every group.

    Think of each candidate as a system that always answers with one
    distribution (a model tuned to one population); each row says how well
    every candidate represents one group. Ranking the columns of a row gives
    that group's preferences over the candidates, ready for
    :func:`aggregate_rankings` with ``higher_is_better=True``.

    Parameters
    ----------
    {{df}}
    item, group, weight, options
        As in :func:`group_distributions`; ``group`` defines the rows.
    candidates : str, list of str, or mapping
        A column name (or list of names): one candidate per group of that
        column(s), whose answer distribution in ``df`` is the candidate (e.g.
        ``"race"``: a model tuned to each race group). Or a mapping from
        candidate name to a distribution over the options (list, array or a
        Series indexed by the options) or to a label of ``group``.
    pooled : bool
        Whether to add a first candidate ``"pooled"``: all answers in ``df``
        pooled, the answer tuned to the average respondent *of the rows
        passed*. If ``df`` was filtered (say, to communities with enough
        answers), so is this answer; for a national answer pass
        ``pooled=False`` and the full data's distribution as a candidate.

    Returns
    -------
    pandas.DataFrame
        Rows = groups (indexed by the group labels), columns = candidates
        (named ``candidate``); entries in ``[0, 1]`` as in
        :func:`representativeness`.

    Raises
    ------
    ValueError
        As :func:`representativeness_by_group`; also no candidates, or a
        candidate called ``"pooled"`` while ``pooled=True``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [0, 0, 0, 1]})
    >>> m = representativeness_matrix(df, item="x", group="g", candidates="g")
    >>> m.round(3).to_dict(orient="index")
    {'a': {'pooled': 0.75, 'a': 1.0, 'b': 0.5}, 'b': {'pooled': 0.75, 'a': 0.5, 'b': 1.0}}
    """
    counts = _counts(df, item, group, weight, options)
    min_points(len(counts.options), 2, "representativeness (a distance between ordered options)")
    if isinstance(candidates, Mapping):
        names = list(candidates)
        shares = [_reference_shares(value, counts) for value in candidates.values()]
        if any(s is None for s in shares):
            raise ValueError("A candidate maps to 'pooled'; use pooled=True instead of naming it as a candidate.")
    else:
        by = _counts(df, item, candidates, weight, counts.options)
        names, shares = list(by.labels), list(by.shares)
    if flag(pooled, "pooled"):
        if "pooled" in names:
            raise ValueError(
                "A candidate is called 'pooled' and pooled=True adds another; rename it or pass pooled=False."
            )
        names = ["pooled", *names]
        shares = [counts.weighted.sum(axis=0) / counts.weighted.sum(), *shares]
    min_points(len(names), 1, "representativeness_matrix (candidates)")
    cand_cdf = np.cumsum(np.vstack(shares), axis=1)
    rep = _alignment(np.cumsum(counts.shares, axis=1)[:, None, :], cand_cdf[None, :, :])
    return pd.DataFrame(np.clip(rep, 0.0, 1.0), index=counts.labels, columns=pd.Index(names, name="candidate"))


# ---------------------------------------------------------------------------
# Sampling noise: permutation nulls
# ---------------------------------------------------------------------------


def _shuffled_counts(counts: _Counts, n_perm: int, seed: int) -> np.ndarray:
    """(n_perm, groups, options) counts after shuffling the answers across respondents.

    A shuffle keeps every group's size and the pooled answer mix but removes any
    real difference between groups, so what differences remain are sampling noise.
    """
    n_groups, n_opts = counts.unweighted.shape
    sizes = counts.unweighted.sum(axis=1).astype(int)
    answers = np.repeat(np.arange(n_opts, dtype=np.int16), counts.unweighted.sum(axis=0).astype(int))
    gid = np.repeat(np.arange(n_groups), sizes)
    rng = np.random.default_rng(seed)
    out = np.empty((n_perm, n_groups, n_opts))
    chunk = max(1, int(2e6 // answers.size))  # keeps the shuffled block around 16 MB
    for start in range(0, n_perm, chunk):
        m = min(chunk, n_perm - start)
        shuffled = rng.permuted(np.tile(answers, (m, 1)), axis=1)
        flat = (np.arange(m)[:, None] * n_groups + gid[None, :]) * n_opts + shuffled
        out[start : start + m] = np.bincount(flat.ravel(), minlength=m * n_groups * n_opts).reshape(m, n_groups, n_opts)
    return out


@_doc
def representativeness_null(
    df: pd.DataFrame,
    *,
    item: str,
    group: str | Sequence[str],
    n_perm: int = 200,
    seed: int = 0,
    quantile: float = 0.05,
    options: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """How representative the pooled answer would look if groups differed only by chance.

    Small groups look unlike the pooled answer even when their population is
    exactly like it, because a sample of a few hundred answers is noisy. This
    function measures that noise: it shuffles the answers across respondents
    ``n_perm`` times (keeping each group's size and the pooled answer mix, but
    removing every real difference between groups) and scores the pooled
    answer against each group every time. Unweighted data only: a shuffle
    would scramble survey weights.

    Parameters
    ----------
    {{unweighted_survey_parameters}}
    n_perm : int
        Number of shuffles.
    seed : int
        Seed of ``numpy.random.default_rng`` for the shuffles.
    quantile : float
        Lower quantile of the shuffled scores reported as ``null_low``, in
        ``(0, 0.5]``.

    Returns
    -------
    pandas.DataFrame
        The group column(s), ``n`` (answers), ``representativeness`` (observed,
        as in :func:`representativeness_by_group` with the pooled reference),
        ``null_mean`` and ``null_low`` (mean and ``quantile`` of the shuffled
        scores) and ``p_value``: ``(1 + #shuffles scoring <= observed) /
        (1 + n_perm)``, small when the group is less well represented than
        chance alone would make it.

    Raises
    ------
    ValueError
        As :func:`representativeness_by_group`; also a bad ``n_perm``, ``seed``
        or ``quantile``.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a"] * 50 + ["b"] * 50, "x": [0] * 50 + [1] * 50})
    >>> out = representativeness_null(df, item="x", group="g", n_perm=99)
    >>> out["representativeness"].tolist(), out["p_value"].tolist()
    ([0.5, 0.5], [0.01, 0.01])
    """
    n_perm = positive_int(n_perm, "n_perm", maximum=MAX_COUNT)
    seed = _seed(seed)
    q = finite_scalar(quantile, "quantile", low=0.0, high=0.5, low_open=True, example=0.05)  # a lower quantile
    counts = _counts(df, item, group, None, options)
    min_points(len(counts.options), 2, "representativeness (a distance between ordered options)")
    ref_cdf = np.cumsum(counts.unweighted.sum(axis=0) / counts.unweighted.sum())  # shuffles keep the pooled mix
    observed = _alignment(np.cumsum(counts.shares, axis=1), ref_cdf)
    shuffled = _shuffled_counts(counts, n_perm, seed)
    null = _alignment(np.cumsum(shuffled / shuffled.sum(axis=2, keepdims=True), axis=2), ref_cdf)
    out = _label_frame(counts.labels)
    out["n"] = counts.unweighted.sum(axis=1).astype(int)
    out["representativeness"] = np.clip(observed, 0.0, 1.0)
    out["null_mean"] = np.clip(null.mean(axis=0), 0.0, 1.0)
    out["null_low"] = np.clip(np.quantile(null, q, axis=0), 0.0, 1.0)
    out["p_value"] = (1 + (null <= observed + _TOL).sum(axis=0)) / (1 + n_perm)
    return out


@_doc
def coverage_null(df: pd.DataFrame, *, item: str, group: str | Sequence[str], threshold: float,
                  order: str | Sequence[Any] = "size", n_perm: int = 20, seed: int = 0,
                  options: Sequence[Any] | None = None) -> pd.DataFrame:
    """The coverage curve that sampling noise alone would produce.

    Shuffles the answers across respondents ``n_perm`` times (as in
    :func:`representativeness_null`: group sizes and the pooled answer mix
    stay, real differences between groups go) and runs
    :func:`coverage_curve` with the pooled reference on each shuffle. Where
    the real curve falls below this one, groups differ by more than chance.
    Unweighted data only.

    Parameters
    ----------
    {{unweighted_survey_parameters}}
    threshold : float
        As in :func:`coverage_curve`.
    order : "size", "random" or list of group labels
        As in :func:`coverage_curve`; with ``"random"`` each shuffle gets its
        own random order.
    n_perm : int
        Number of shuffles.
    seed : int
        Seed of ``numpy.random.default_rng`` for the shuffles (and orders).

    Returns
    -------
    pandas.DataFrame
        One row per ``k``: ``k``, ``share_represented`` (mean over shuffles),
        ``low`` and ``high`` (2.5 and 97.5 percentiles over shuffles),
        ``min_rep`` and ``mean_rep`` (averaged over shuffles).

    Raises
    ------
    ValueError
        As :func:`coverage_curve`.

    Examples
    --------
    Two very different groups: the real curve drops to 0, the noise-only one stays at 1.

    >>> df = pd.DataFrame({"g": ["a"] * 60 + ["b"] * 40, "x": [0] * 60 + [1] * 40})
    >>> coverage_curve(df, item="x", group="g", threshold=0.8)["share_represented"].tolist()
    [1.0, 0.0]
    >>> coverage_null(df, item="x", group="g", threshold=0.8)["share_represented"].tolist()
    [1.0, 1.0]
    """
    thr = probability(threshold, "threshold", example=0.9)  # a representativeness
    n_perm = positive_int(n_perm, "n_perm", maximum=MAX_COUNT)
    seed = _seed(seed)
    counts = _counts(df, item, group, None, options)
    min_points(len(counts.options), 2, "representativeness (a distance between ordered options)")
    perms = _group_order(order, counts, n_perm, seed)
    shuffled = _shuffled_counts(counts, n_perm, seed + 1)  # a different stream from the orders
    parts = [
        _coverage_block(perms[i % len(perms)][None, :], replace(counts, weighted=s, unweighted=s), None, thr)
        for i, s in enumerate(shuffled)
    ]
    share, mean_rep, min_rep = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    low, high = percentile_interval(share)
    return pd.DataFrame(
        {
            "k": np.arange(1, perms.shape[1] + 1),
            "share_represented": share.mean(axis=0),
            "low": low,
            "high": high,
            "min_rep": min_rep.mean(axis=0),
            "mean_rep": mean_rep.mean(axis=0),
        }
    )


# ---------------------------------------------------------------------------
# Aggregating rankings (social choice)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AggregateResult:
    """Outcome of one voting rule.

    Attributes
    ----------
    rule : str
        The rule used, one of ``RULES``.
    winner : object
        First candidate of ``ranking``.
    ranking : tuple
        Candidates from best to worst under the rule; ties are broken by
        column order (see ``tied_winners``).
    scores : pandas.Series
        The rule's score per candidate, in column order.
    score_meaning : str
        What the score is and which direction is better.
    tied_winners : tuple
        Every candidate sharing the best score (length 1 when the winner is
        unique).
    """

    rule: str
    winner: Any
    ranking: tuple[Any, ...]
    scores: pd.Series
    score_meaning: str
    tied_winners: tuple[Any, ...]

    def to_frame(self) -> pd.DataFrame:
        """Candidates in ranking order with their position (1 = best) and score."""
        ranking = list(self.ranking)
        return pd.DataFrame(
            {"position": np.arange(1, len(ranking) + 1), "candidate": ranking,
             "score": self.scores.loc[ranking].to_numpy(), "rule": self.rule}
        )


@dataclass(frozen=True)
class _Profile:
    """Validated preference profile; ``order`` is the values oriented so lower = better."""

    values: np.ndarray
    order: np.ndarray
    weights: np.ndarray  # normalised to sum to 1
    candidates: pd.Index
    voters: pd.Index

    def pairwise(self) -> np.ndarray:
        """``W[a, b]`` = weight share of voters strictly preferring a to b."""
        prefers = self.order[:, :, None] < self.order[:, None, :]
        return np.einsum("v,vab->ab", self.weights, prefers)


def _profile(rankings: pd.DataFrame, weights: Any, higher_is_better: bool) -> _Profile:
    if not isinstance(rankings, pd.DataFrame):
        raise ValueError(
            f"rankings must be a DataFrame (rows = voters, columns = candidates); got {type(rankings).__name__}."
        )
    min_points(rankings.shape[1], 2, "Aggregating rankings (columns are candidates)")
    min_points(rankings.shape[0], 1, "Aggregating rankings (rows are voters)")
    if not rankings.columns.is_unique:
        raise ValueError("rankings has duplicate column (candidate) names; give each candidate one column.")
    values = as_float_array(rankings.to_numpy(), "rankings", ndim=2)
    if weights is None:
        w = np.ones(len(rankings))
    else:
        if isinstance(weights, pd.Series):
            if not weights.index.sort_values().equals(rankings.index.sort_values()):
                raise ValueError("weights Series must be indexed by the rows of rankings (one weight per voter).")
            weights = weights.loc[rankings.index]
        w = as_float_array(weights, "weights")
        same_length(weights=w, rankings=values)
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be >= 0 with a positive total (one weight per voter).")
    order = -values if flag(higher_is_better, "higher_is_better") else values
    return _Profile(values, order, w / w.sum(), rankings.columns, rankings.index)


def _rule_scores(rule: str, prof: _Profile, higher_is_better: bool) -> tuple[np.ndarray, bool, str]:
    """(scores, lower_is_better, meaning) for every rule except Kemeny."""
    n_cand = prof.order.shape[1]
    voting = prof.weights > 0
    unit = "score" if higher_is_better else "rank"
    if rule == "plurality":
        top = prof.order == prof.order.min(axis=1, keepdims=True)
        return prof.weights @ (top / top.sum(axis=1, keepdims=True)), False, (
            "weighted share of first places (tied firsts split the vote); higher is better")
    if rule == "borda":
        ranks = stats.rankdata(prof.order, axis=1)  # average ranks for ties
        return prof.weights @ (n_cand - ranks), False, (
            f"mean Borda points (best = {n_cand - 1}, worst = 0); higher is better")
    if rule == "mean":
        return prof.weights @ prof.values, not higher_is_better, (
            f"weighted mean {unit}; {'higher' if higher_is_better else 'lower'} is better")
    if rule == "maximin":
        worst = prof.order[voting].max(axis=0)
        scores = -worst if higher_is_better else worst
        return scores, not higher_is_better, (
            f"worst {unit} over voters with positive weight (Rawlsian maximin); "
            f"{'higher' if higher_is_better else 'lower'} is better")
    pair = prof.pairwise()
    margins = pair.T - pair  # margins[a, b] = share preferring b over a minus a over b
    np.fill_diagonal(margins, -np.inf)
    return margins.max(axis=1), True, "largest pairwise defeat margin (Simpson-Kramer minimax); lower is better"


def _kemeny_scores(prof: _Profile) -> tuple[np.ndarray, tuple[int, ...]]:
    """Best Kemeny cost of an order headed by each candidate, and the first optimal order."""
    n_cand = prof.order.shape[1]
    if n_cand > MAX_KEMENY_CANDIDATES:
        raise ValueError(
            f"Exact Kemeny search tries every order; {n_cand} candidates is too many "
            f"(at most {MAX_KEMENY_CANDIDATES}). Use rule='borda' or 'simpson_kramer', or fewer candidates."
        )
    pair = prof.pairwise()
    perms = np.array(list(itertools.permutations(range(n_cand))))
    position = np.argsort(perms, axis=1)
    before = position[:, :, None] < position[:, None, :]  # a placed before b
    cost = (before * pair.T[None]).sum(axis=(1, 2))  # voters preferring b although a is placed first
    best = np.full(n_cand, np.inf)
    np.minimum.at(best, perms[:, 0], cost)
    return best, tuple(perms[int(np.argmin(cost))])


@_doc
def aggregate_rankings(
    rankings: pd.DataFrame,
    *,
    rule: str,
    weights: Weights = None,
    higher_is_better: bool = False,
) -> AggregateResult:
    """Combine several voters' (or groups') rankings of candidates into one.

    Plurality, Borda, Simpson-Kramer and Kemeny use only each voter's order;
    mean and maximin use the values themselves. Missing values (partial
    rankings) are not supported.

    Parameters
    ----------
    rankings : pandas.DataFrame
        Rows = voters (people or groups), columns = candidates. Values are
        ranks (1 = best, ties allowed) or, with ``higher_is_better=True``,
        scores.
    rule : str
        One of:

        * ``"plurality"``: most (weighted) first places; a voter's tied first
          places share the vote.
        * ``"borda"``: each voter gives ``m - rank`` points (``m`` candidates,
          ties get average ranks); most points wins.
        * ``"mean"``: weighted mean of the raw values (mean rank, or mean score
          with ``higher_is_better=True``); the utilitarian rule for scores. For
          complete rankings without ties it orders candidates like Borda.
        * ``"maximin"``: the *Rawlsian* rule, the candidate whose worst value
          over voters is best (worst rank lowest, or lowest score highest);
          weights only decide who votes (weight > 0). This is not the
          Condorcet-minded "minimax" rule, which is ``"simpson_kramer"``.
        * ``"simpson_kramer"``: Simpson-Kramer minimax, the candidate whose
          largest pairwise defeat margin (weighted share preferring the
          opponent minus share preferring the candidate) is smallest; it elects
          the Condorcet winner whenever there is one.
        * ``"kemeny"``: the order with the fewest weighted pairwise
          disagreements with the voters (Kemeny 1959), found by trying every
          order (exact, up to 8 candidates).
    {{weights}}
    {{higher_is_better}}

    Returns
    -------
    AggregateResult
        Winner, full ranking (ties broken by column order), scores per
        candidate and what they mean, and all tied winners. For Kemeny the
        ranking is the optimal order (the first in column order among ties) and
        the score of a candidate is the smallest mean number of pairwise
        disagreements per voter of any order that puts it first.

    Raises
    ------
    ValueError
        Unknown rule, non-finite values, fewer than two candidates, bad
        weights, or more than 8 candidates for Kemeny.

    Examples
    --------
    Three voters rank A > B > C, two rank B > C > A: plurality picks A, Borda B.

    >>> ranks = pd.DataFrame({"A": [1, 1, 1, 3, 3], "B": [2, 2, 2, 1, 1], "C": [3, 3, 3, 2, 2]})
    >>> aggregate_rankings(ranks, rule="plurality").winner
    'A'
    >>> aggregate_rankings(ranks, rule="borda").winner
    'B'
    >>> list(aggregate_rankings(ranks, rule="kemeny").ranking)
    ['A', 'B', 'C']
    """
    one_of(rule, RULES, "rule")
    prof = _profile(rankings, weights, higher_is_better)
    if rule == "kemeny":
        scores, best_order = _kemeny_scores(prof)
        lower = True
        meaning = "fewest mean pairwise disagreements per voter of an order led by the candidate; lower is better"
        ranking = tuple(prof.candidates[list(best_order)])
    else:
        scores, lower, meaning = _rule_scores(rule, prof, higher_is_better)
        ranking = tuple(prof.candidates[np.argsort(scores if lower else -scores, kind="stable")])
    best = scores.min() if lower else scores.max()
    tied = tuple(prof.candidates[np.isclose(scores, best, rtol=0, atol=1e-12)])
    return AggregateResult(
        rule=rule, winner=ranking[0], ranking=ranking, scores=pd.Series(scores, index=prof.candidates, name=rule),
        score_meaning=meaning, tied_winners=tied,
    )


@_doc
def pairwise_majority(preferences: pd.DataFrame, *, weights: Weights = None,
                      higher_is_better: bool = False) -> pd.DataFrame:
    """Share of voters who strictly prefer each row candidate to each column candidate.

    {{profile_parameters}}

    Returns
    -------
    pandas.DataFrame
        Candidates x candidates; entry ``(a, b)`` is the (weighted) share of
        voters ranking ``a`` strictly above ``b``. Voters tying ``a`` and ``b``
        count for neither, so ``(a, b) + (b, a) <= 1``; the diagonal is 0.

    {{profile_raises}}

    Examples
    --------
    >>> prefs = pd.DataFrame({"A": [1, 2], "B": [2, 1]})
    >>> float(pairwise_majority(prefs).loc["A", "B"])
    0.5
    """
    prof = _profile(preferences, weights, higher_is_better)
    return pd.DataFrame(prof.pairwise(), index=prof.candidates, columns=prof.candidates)


@_doc
def condorcet_winner(preferences: pd.DataFrame, *, weights: Weights = None,
                     higher_is_better: bool = False) -> Any | None:
    """The candidate who beats every other in a head-to-head (weighted) majority vote.

    {{profile_parameters}}

    Returns
    -------
    object or None
        The Condorcet winner: strictly more voters prefer it to ``b`` than
        ``b`` to it, for every other candidate ``b``. ``None`` when no
        candidate does that (a majority cycle, or a tied contest).

    {{profile_raises}}

    Examples
    --------
    The Condorcet paradox: A > B > C, B > C > A and C > A > B form a cycle.

    >>> cycle = pd.DataFrame({"A": [1, 3, 2], "B": [2, 1, 3], "C": [3, 2, 1]})
    >>> condorcet_winner(cycle) is None
    True
    >>> condorcet_winner(pd.DataFrame({"A": [1, 1, 3], "B": [2, 2, 1], "C": [3, 3, 2]}))
    'A'
    """
    prof = _profile(preferences, weights, higher_is_better)
    pair = prof.pairwise()
    beats = pair > pair.T + _TOL
    np.fill_diagonal(beats, True)
    winners = np.flatnonzero(beats.all(axis=1))
    return prof.candidates[winners[0]] if winners.size else None


@dataclass(frozen=True)
class DisagreementResult:
    """How much groups' rankings of the same candidates disagree.

    Attributes
    ----------
    tau : pandas.DataFrame
        Groups x groups Kendall's tau-b (symmetric, ones on the diagonal).
    mean_tau : float
        Mean of ``tau`` over distinct pairs of groups.
    share_contested : float
        Share of candidate pairs that are *contested*: at least one group
        strictly prefers the order opposite to the majority order of the pair
        (the order more groups prefer). When groups split evenly there is no
        majority order and the pair is contested if any group has a strict
        preference. Equivalently, a pair is contested when some group prefers
        ``a`` to ``b`` and some other group ``b`` to ``a``.
    pairs : pandas.DataFrame
        One row per candidate pair: ``candidate_a``, ``candidate_b``,
        ``n_prefer_a``, ``n_prefer_b`` (groups strictly preferring each) and
        ``contested``.
    """

    tau: pd.DataFrame
    mean_tau: float
    share_contested: float
    pairs: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Tidy tau: one row per distinct pair of groups (``group_a``, ``group_b``, ``tau``)."""
        i, j = np.triu_indices(len(self.tau), k=1)
        return pd.DataFrame(
            {"group_a": self.tau.index[i], "group_b": self.tau.index[j], "tau": self.tau.to_numpy()[i, j]}
        )


def ranking_disagreement(rankings: pd.DataFrame, *, higher_is_better: bool = False) -> DisagreementResult:
    """Kendall's tau between groups' rankings and the share of contested candidate pairs.

    Parameters
    ----------
    rankings : pandas.DataFrame
        Rows = groups, columns = candidates; ranks (1 = best) or, with
        ``higher_is_better=True``, scores. At least two groups.
    higher_is_better : bool
        Whether values are scores. Only the labels in ``pairs`` depend on it;
        tau and the contested share do not.

    Returns
    -------
    DisagreementResult
        Kendall's tau-b matrix (the tie-corrected tau of
        :func:`scipy.stats.kendalltau`), its mean over distinct pairs of
        groups, the share of contested candidate pairs, and the per-pair
        table; see :class:`DisagreementResult` for the exact definitions.

    Raises
    ------
    ValueError
        As :func:`aggregate_rankings`; also fewer than two groups, or a group
        that ranks every candidate equal (tau undefined).

    Examples
    --------
    >>> r = pd.DataFrame({"A": [1, 1, 3], "B": [2, 2, 2], "C": [3, 3, 1]}, index=["x", "y", "z"])
    >>> res = ranking_disagreement(r)
    >>> float(res.tau.loc["x", "z"]), float(res.tau.loc["x", "y"])
    (-1.0, 1.0)
    >>> res.share_contested
    1.0
    """
    prof = _profile(rankings, None, higher_is_better)
    min_points(len(prof.voters), 2, "ranking_disagreement (rows are groups)")
    i, j = np.triu_indices(len(prof.candidates), k=1)
    # Hand-written tau-b over all pairs of groups at once: one matrix product instead of g^2 scipy calls.
    signs = np.sign(prof.order[:, j] - prof.order[:, i])  # +1: group prefers candidate i
    untied = (signs != 0).sum(axis=1)
    if (untied == 0).any():
        bad = list(prof.voters[untied == 0])[:5]
        raise ValueError(f"Group(s) {bad} rank every candidate equal; Kendall's tau is undefined for them. Drop them.")
    tau = (signs @ signs.T) / np.sqrt(np.outer(untied, untied))
    tau = np.clip(tau, -1, 1)
    np.fill_diagonal(tau, 1.0)
    prefer_a, prefer_b = (signs > 0).sum(axis=0), (signs < 0).sum(axis=0)
    contested = (prefer_a > 0) & (prefer_b > 0)
    off = ~np.eye(len(tau), dtype=bool)
    pairs = pd.DataFrame({"candidate_a": prof.candidates[i], "candidate_b": prof.candidates[j],
                          "n_prefer_a": prefer_a, "n_prefer_b": prefer_b, "contested": contested})
    return DisagreementResult(
        tau=pd.DataFrame(tau, index=prof.voters, columns=prof.voters),
        mean_tau=float(tau[off].mean()),
        share_contested=float(contested.mean()),
        pairs=pairs,
    )


@_doc
def majority_cycles(preferences: pd.DataFrame, *, weights: Weights = None,
                    higher_is_better: bool = False) -> pd.DataFrame:
    """Every three-candidate majority cycle: a beats b, b beats c, and c beats a.

    A cycle means majority rule cannot name a best candidate among the three,
    whatever the order in which they are compared (the Condorcet paradox).
    When no pair is tied, any majority cycle among more candidates contains a
    three-candidate one, so an empty result then means the majority relation
    is a consistent order.

    {{profile_parameters}}

    Returns
    -------
    pandas.DataFrame
        One row per cycle, each listed once and started at its candidate that
        comes first in column order: ``first``, ``second``, ``third``
        (``first`` beats ``second``, ``second`` beats ``third``, ``third``
        beats ``first``), ``share_12``, ``share_23``, ``share_31`` (weighted
        share of voters strictly preferring the winner of each contest) and
        ``smallest_margin`` (the narrowest of the three wins: winner's share
        minus loser's share). Empty (same columns) when there is no cycle.

    {{profile_raises}}

    Examples
    --------
    >>> cycle = pd.DataFrame({"A": [1, 3, 2], "B": [2, 1, 3], "C": [3, 2, 1]})
    >>> majority_cycles(cycle)[["first", "second", "third"]].values.tolist()
    [['A', 'B', 'C']]
    >>> len(majority_cycles(pd.DataFrame({"A": [1, 1, 3], "B": [2, 2, 1], "C": [3, 3, 2]})))
    0
    """
    prof = _profile(preferences, weights, higher_is_better)
    pair = prof.pairwise()
    beats = pair > pair.T + _TOL
    n_cand = len(prof.candidates)
    columns = ["first", "second", "third", "share_12", "share_23", "share_31", "smallest_margin"]
    if n_cand < 3:
        return pd.DataFrame(columns=columns)
    i, j, k = np.array(list(itertools.combinations(range(n_cand), 3))).T
    forward = beats[i, j] & beats[j, k] & beats[k, i]  # i > j > k > i
    backward = beats[i, k] & beats[k, j] & beats[j, i]  # i > k > j > i
    a = np.concatenate([i[forward], i[backward]])
    b = np.concatenate([j[forward], k[backward]])
    c = np.concatenate([k[forward], j[backward]])
    margins = np.column_stack([pair[a, b] - pair[b, a], pair[b, c] - pair[c, b], pair[c, a] - pair[a, c]])
    out = pd.DataFrame({
        "first": prof.candidates[a], "second": prof.candidates[b], "third": prof.candidates[c],
        "share_12": pair[a, b], "share_23": pair[b, c], "share_31": pair[c, a],
        "smallest_margin": margins.min(axis=1) if len(a) else np.empty(0),
    }, columns=columns)
    return out.sort_values(["smallest_margin"], ascending=False, kind="stable").reset_index(drop=True)


def disagreement_curve(
    rankings: pd.DataFrame,
    *,
    order: str | Sequence[Any] = "given",
    n_perm: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """How contested the candidate pairs become as more groups are consulted.

    Groups (rows) are added one at a time; after ``k`` groups the function
    reports the share of candidate pairs that are contested among them and
    their mean Kendall's tau, both as in :func:`ranking_disagreement`. A pair
    once contested stays contested, so the share can only grow along one
    order of groups.

    Parameters
    ----------
    rankings : pandas.DataFrame
        As in :func:`ranking_disagreement` (rows = groups, columns =
        candidates). Ranks or scores give the same result: only whether two
        groups agree on a pair matters.
    order : "given", "random" or list of row labels
        ``"given"``: the rows in their order (sort them first, e.g. largest
        group first). ``"random"``: ``n_perm`` random orders, summarised by the
        mean and a 2.5-97.5 percentile band. A list: those rows in that order
        (a subset is fine; the curve stops at its length).
    n_perm : int
        Number of random orders (used only with ``order="random"``).
    seed : int
        Seed of ``numpy.random.default_rng`` for the random orders.

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` from 2: ``k``, ``share_contested``, ``low``, ``high``
        (percentiles over random orders; equal to the share for a fixed order),
        ``mean_tau`` (mean over pairs of included groups, averaged over
        orders) and ``added`` (the group added at step ``k``; ``None`` for
        random orders).

    Raises
    ------
    ValueError
        As :func:`ranking_disagreement`; also an unknown ``order``, unknown or
        repeated row labels in it, fewer than two groups in it, or a bad
        ``n_perm``.

    Examples
    --------
    >>> r = pd.DataFrame({"A": [1, 1, 3], "B": [2, 2, 2], "C": [3, 3, 1]}, index=["x", "y", "z"])
    >>> disagreement_curve(r)[["k", "share_contested"]].values.tolist()
    [[2.0, 0.0], [3.0, 1.0]]
    """
    res = ranking_disagreement(rankings)  # validates, and gives tau
    prof = _profile(rankings, None, False)
    i, j = np.triu_indices(len(prof.candidates), k=1)
    signs = np.sign(prof.order[:, j] - prof.order[:, i])  # (groups, candidate pairs)
    n_groups = len(prof.voters)
    n_perm, seed = positive_int(n_perm, "n_perm", maximum=MAX_COUNT), _seed(seed)  # checked
    fixed = not (isinstance(order, str) and order == "random")
    if isinstance(order, str):
        one_of(order, ["given", "random"], "order")
        if order == "given":
            perms = np.arange(n_groups)[None, :]
        else:
            rng = np.random.default_rng(seed)
            perms = np.argsort(rng.random((n_perm, n_groups)), axis=1)
    else:
        pos = prof.voters.get_indexer(sequence(order, "order", example="['x', 'y']", hashable=True))
        if (pos < 0).any() or len(set(pos)) != len(pos):
            raise ValueError("order must list known row labels of rankings, each once; "
                             f"got unknown or repeated labels among {list(order)[:5]}.")
        min_points(len(pos), 2, "disagreement_curve (groups in order)")
        perms = np.asarray(pos)[None, :]
    s = signs[perms]  # (orders, k, pairs)
    contested = np.maximum.accumulate(s > 0, axis=1) & np.maximum.accumulate(s < 0, axis=1)
    share = contested.mean(axis=2)[:, 1:]
    tau = res.tau.to_numpy()[perms[:, :, None], perms[:, None, :]]
    k = np.arange(2, perms.shape[1] + 1)
    mean_tau = np.tril(tau, -1).sum(axis=2).cumsum(axis=1)[:, 1:] / (k * (k - 1) / 2)
    low, high = percentile_interval(share)
    return pd.DataFrame({
        "k": k, "share_contested": share.mean(axis=0), "low": low, "high": high,
        "mean_tau": mean_tau.mean(axis=0),
        "added": [prof.voters[p] for p in perms[0, 1:]] if fixed else [None] * len(k),
    })
