"""Local, small-scale designs: one model per community against one pooled model, and who evaluates.

Diaz and Madaio end their argument against universal scaling claims with a call for "more local, small-scale
designs". This module gives the book the few computations it needs to weigh such designs on real data:

* :func:`local_vs_pooled` trains one *pooled* model on everyone and one *local* model per community on that
  community's rows alone, scores both on each community's held-out rows, and traces the local model's learning
  curve, so that the gain or loss of going local and its cost in data can be read per community;
* :func:`score_designs` scores the held-out predictions of several designs per community under a named metric
  and decision threshold, so that a metric a community chose can be set beside the universal one;
* :func:`draw_evaluation_set` draws an evaluation set under an allocation: a simple random sample, a
  convenience sample that over-represents the easy to reach, an equal number per community, or counts
  agreed with the communities; :func:`evaluation_study` repeats the draw and measures how well each design
  estimates every community's score.

The models are deliberately plain (logistic regression on standardised numeric and one-hot categorical
features): the point is the comparison of designs, not the best possible model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from helpers._stats import interval
from helpers._validate import (
    MAX_COUNT,
    as_float_array,
    binary_array,
    check_majority_weight,
    has_columns,
    one_of,
    positive_int,
    probability,
    sequence,
    renamed,
)
from helpers._validate import Labels
from helpers._validate import seed as valid_seed
from helpers.sampling import frame_sample

__all__ = ["METRICS", "LocalResult", "draw_evaluation_set", "evaluation_study", "local_vs_pooled", "score_designs"]

#: Metrics understood by :func:`score_designs` (all lower is better).
METRICS = ("error", "balanced_error", "false_negative_rate", "false_positive_rate", "log_loss")
_EPS = 1e-12


def _group_columns(group: Any) -> list[Any]:
    """``group`` as a non-empty list of column names (one name, or a list of them)."""
    if isinstance(group, str):
        return [group]
    cols = sequence(group, "group", example="'community' or group=['region', 'age']", hashable=True)
    if not cols:
        raise ValueError("group is empty; name the column(s) that define the communities, e.g. group='community'.")
    return cols


def _pool_labels(values: Any, name: str) -> pd.Series:
    """One label per pool member, as a Series: a 1-d list, array or Series (not a lone value or a table)."""
    arrays = (Sequence, np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray)
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, arrays):
        raise ValueError(f"{name} must list one label per pool member (a list, array or Series); got {values!r}.")
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d list of labels, one per pool member; got shape {arr.shape}.")
    return pd.Series(arr)


@dataclass(frozen=True)
class LocalResult:
    """Result of :func:`local_vs_pooled`.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per community: ``n_train`` (its training rows), ``n_test``, ``error_pooled``,
        ``error_local``, ``gain`` (pooled minus local error: positive when going local helps) with a
        paired bootstrap 95% interval ``gain_low``/``gain_high``, and ``n_to_match`` (the smallest
        local training size on the curve at which the local model is at least as accurate as the
        pooled one, NaN if none is).
    predictions : pandas.DataFrame
        Held-out predictions, one row per test row and design: the group column(s), ``design``
        (``"pooled"`` or ``"local"``), ``y`` (0/1) and ``p`` (predicted probability of 1).
    curve : pandas.DataFrame
        The local learning curve: group column(s), ``n_train``, ``seed``, ``error``.
    n_pooled : int
        Training rows of the pooled model.
    """

    groups: pd.DataFrame
    predictions: pd.DataFrame
    curve: pd.DataFrame
    n_pooled: int


def _default_model() -> Any:
    return LogisticRegression(max_iter=2000)


def _design_matrix(data: pd.DataFrame, features: list[str], train: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Encode once: one-hot categorical columns, numeric columns standardised on the training rows.

    Returns the matrix and, per column, the feature it came from (so local models can drop group columns).
    """
    blocks, origin = [], []
    for name in features:
        col = data[name]
        if pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
            x = col.to_numpy(dtype=float)
            sd = x[train].std()
            blocks.append(((x - x[train].mean()) / (sd if sd > 0 else 1.0))[:, None])
            origin.append(name)
        else:
            dummies = pd.get_dummies(col.astype(str), dtype=float)
            blocks.append(dummies.to_numpy())
            origin.extend([name] * dummies.shape[1])
    return np.hstack(blocks), origin


def _split(codes: np.ndarray, test_size: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean test mask, stratified by community so that every community is in both parts."""
    test = np.zeros(codes.size, dtype=bool)
    for g in np.unique(codes):
        rows = np.flatnonzero(codes == g)
        k = int(round(test_size * rows.size))
        if k < 1 or k > rows.size - 2:
            raise ValueError(
                f"community {g} has {rows.size} rows, too few to hold out {test_size:.0%} and still train; "
                f"merge small communities or change test_size."
            )
        test[rng.choice(rows, size=k, replace=False)] = True
    return test


def local_vs_pooled(
    df: pd.DataFrame,
    *,
    target: str,
    features: Sequence[str],
    group: str | Sequence[str],
    test_size: float = 0.3,
    sizes: Sequence[int] = (50, 200, 800, 3200),
    n_seeds: int = 2,
    n_boot: int = 1000,
    seed: int = 0,
    make_model: Callable[[], Any] | None = None,
) -> LocalResult:
    """Pooled model against one local model per community, with the local model's cost in data.

    The rows are split once, per community, into training and held-out rows. The *pooled* model is trained
    on every community's training rows with all ``features`` (the group columns among them, if listed); each
    *local* model is trained on its own community's training rows only, without the group columns (they are
    constant there). Both are scored on the community's held-out rows. The local learning curve retrains the
    local model on nested random subsets of the community's training rows of each size in ``sizes`` (those
    smaller than the community's training set), ``n_seeds`` times, and on all of them.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per person.
    target : str
        Binary outcome column (0/1 or bool).
    features : sequence of str
        Model inputs; object, category and bool columns are one-hot encoded, the rest standardised.
    group : str or sequence of str
        Column(s) whose combinations define the communities.
    test_size : float
        Share of each community held out, in (0, 1).
    sizes : sequence of int
        Local training sizes for the learning curve.
    n_seeds, n_boot, seed : int
        Subsets per size; paired bootstrap resamples of the held-out rows for the interval of ``gain``;
        seed of :func:`numpy.random.default_rng`.
    make_model : callable, optional
        ``make_model()`` returns an unfitted scikit-learn classifier with ``predict_proba``, fitted to a
        numeric matrix (numeric features standardised on the training rows, the others one-hot encoded);
        default logistic regression.

    Returns
    -------
    LocalResult

    Raises
    ------
    ValueError
        Missing columns, a non-binary target, a bad ``test_size``, a community too small to split, or a
        community whose training rows hold only one outcome.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=800)
    >>> g = np.repeat(["a", "b"], 400)
    >>> y = np.where(g == "a", x > 0, x < 0)  # the two communities want opposite answers
    >>> res = local_vs_pooled(pd.DataFrame({"x": x, "g": g, "y": y}), target="y", features=["x"],
    ...                       group="g", sizes=[50], n_boot=200)
    >>> bool((res.groups["error_local"] < 0.1).all()), bool((res.groups["error_pooled"] > 0.3).all())
    (True, True)
    """
    cols = _group_columns(group)
    feats = sequence(features, "features", example="['education', 'experience']", hashable=True)
    if not feats:
        raise ValueError("features is empty; pass the model's input columns, e.g. ['education', 'experience'].")
    has_columns(df, [target, *feats, *cols], what="df")
    test_size = probability(test_size, "test_size", strict=True, example=0.3)
    n_seeds = positive_int(n_seeds, "n_seeds", maximum=MAX_COUNT)
    n_boot = positive_int(n_boot, "n_boot", maximum=MAX_COUNT)
    sizes = [positive_int(s, "sizes entry", minimum=2) for s in sequence(sizes, "sizes", example="[50, 200]")]
    seed = valid_seed(seed)
    if make_model is not None and not callable(make_model):
        raise ValueError(f"make_model must be a function that returns an unfitted classifier (or None for logistic "
                         f"regression); got {make_model!r}.")
    data = df.dropna(subset=[target, *feats, *cols]).reset_index(drop=True)
    if data.empty:
        raise ValueError("No row has the target, every feature and every group column filled in.")
    y = binary_array(data[target], f"target column {target!r}", hint="Recode it first.")
    keys = data[cols].astype(str).agg(" | ".join, axis=1) if len(cols) > 1 else data[cols[0]].astype(str)
    codes, labels = pd.factorize(keys, sort=True)
    rng = np.random.default_rng(seed)
    test = _split(codes, test_size, rng)
    build = make_model or _default_model
    x_all, origin = _design_matrix(data, feats, ~test)
    local_cols = np.array([o not in cols for o in origin])
    if not local_cols.any():
        raise ValueError("every feature is a group column, so a local model would have no inputs; add features.")

    def fit(rows: np.ndarray, use: np.ndarray) -> Any:
        if np.unique(y[rows]).size < 2:
            raise ValueError(
                f"a training set of {rows.size} rows has only one outcome; use larger sizes or merge communities."
            )
        with threadpool_limits(limits=1):  # small fits: thread start-up costs more than it saves
            return build().fit(x_all[np.ix_(rows, use)], y[rows])

    every = np.ones(x_all.shape[1], dtype=bool)
    pooled = fit(np.flatnonzero(~test), every)
    groups, preds, curve = [], [], []
    for g in range(len(labels)):
        train_rows = np.flatnonzero((codes == g) & ~test)
        test_rows = np.flatnonzero((codes == g) & test)
        x_test = x_all[test_rows]
        p_pool = pooled.predict_proba(x_test)[:, 1]
        p_loc = fit(train_rows, local_cols).predict_proba(x_test[:, local_cols])[:, 1]
        y_test = y[test_rows]
        wrong_pool = (p_pool >= 0.5) != y_test
        wrong_loc = (p_loc >= 0.5) != y_test
        diff = wrong_pool.astype(float) - wrong_loc
        boot = diff[rng.integers(0, diff.size, size=(n_boot, diff.size))].mean(axis=1)
        ident = data.loc[int(np.flatnonzero(codes == g)[0]), cols].to_dict()
        for design, p in (("pooled", p_pool), ("local", p_loc)):
            preds.append(pd.DataFrame({**{c: ident[c] for c in cols}, "design": design, "y": y_test, "p": p}))
        for n in [s for s in sizes if s < train_rows.size]:
            for s in range(n_seeds):
                sub = np.random.default_rng([seed, g, n, s]).choice(train_rows, size=n, replace=False)
                p = fit(sub, local_cols).predict_proba(x_test[:, local_cols])[:, 1]
                curve.append({**ident, "n_train": n, "seed": s, "error": float(np.mean((p >= 0.5) != y_test))})
        curve.append({**ident, "n_train": int(train_rows.size), "seed": 0, "error": float(wrong_loc.mean())})
        gain_low, gain_high = interval(boot)
        groups.append({**ident, "n_train": int(train_rows.size), "n_test": int(test_rows.size),
                       "error_pooled": float(wrong_pool.mean()), "error_local": float(wrong_loc.mean()),
                       "gain": float(diff.mean()), "gain_low": gain_low, "gain_high": gain_high})
    groups_df = pd.DataFrame(groups)
    curve_df = pd.DataFrame(curve)
    mean_curve = curve_df.groupby([*cols, "n_train"], as_index=False, sort=True)["error"].mean()
    matched = mean_curve.merge(groups_df[[*cols, "error_pooled"]], on=cols)
    matched = matched[matched["error"] <= matched["error_pooled"] + _EPS].groupby(cols, as_index=False)["n_train"]
    groups_df = groups_df.merge(matched.min().rename(columns={"n_train": "n_to_match"}), on=cols, how="left")
    groups_df["n_to_match"] = groups_df["n_to_match"].astype(float)
    return LocalResult(groups=groups_df, predictions=pd.concat(preds, ignore_index=True), curve=curve_df,
                       n_pooled=int((~test).sum()))


def score_designs(
    predictions: pd.DataFrame,
    *,
    group: str | Sequence[str],
    metric: str = "error",
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Score held-out predictions of several designs per community under one metric and threshold.

    Parameters
    ----------
    predictions : pandas.DataFrame
        Columns ``design``, ``y`` (0/1), ``p`` (probability of 1) and the group column(s), as in
        ``LocalResult.predictions``.
    group : str or sequence of str
        Column(s) defining the communities.
    metric : str
        One of ``METRICS``, all lower is better. ``balanced_error`` is the mean of the false negative
        and false positive rates; ``log_loss`` ignores the threshold.
    threshold : float
        Predict 1 when ``p >= threshold``; in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Group column(s), then one column per design with its score, and ``best`` (the design with the
        lowest score; ties go to the first design in order of appearance).

    Raises
    ------
    ValueError
        Missing columns, an unknown metric, a threshold outside (0, 1), or a community without both
        outcomes when a rate needs them.

    Examples
    --------
    >>> pred = pd.DataFrame({"g": ["a"] * 4, "design": ["x"] * 2 + ["z"] * 2,
    ...                      "y": [1, 0, 1, 0], "p": [0.9, 0.6, 0.4, 0.1]})
    >>> score_designs(pred, group="g", metric="error").to_dict(orient="records")
    [{'g': 'a', 'x': 0.5, 'z': 0.5, 'best': 'x'}]
    >>> score_designs(pred, group="g", metric="false_negative_rate")[["x", "z", "best"]].to_dict(orient="records")
    [{'x': 0.0, 'z': 1.0, 'best': 'x'}]
    """
    cols = _group_columns(group)
    has_columns(predictions, ["design", "y", "p", *cols], what="predictions")
    one_of(metric, METRICS, "metric")
    threshold = probability(threshold, "threshold", strict=True, example=0.5)
    y = binary_array(predictions["y"], "target column 'y'", hint="Recode it first.")
    p = np.clip(as_float_array(predictions["p"].to_numpy(dtype=float), "p"), _EPS, 1 - _EPS)
    frame = predictions[cols + ["design"]].copy()
    hat = p >= threshold
    frame["wrong"] = hat != y
    frame["fn"] = (~hat) & (y == 1)
    frame["fp"] = hat & (y == 0)
    frame["pos"] = y == 1
    frame["neg"] = y == 0
    frame["ll"] = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    sums = frame.groupby([*cols, "design"], sort=False, observed=True).agg(
        n=("wrong", "size"), wrong=("wrong", "sum"), fn=("fn", "sum"), fp=("fp", "sum"), pos=("pos", "sum"),
        neg=("neg", "sum"), ll=("ll", "sum"))
    if metric in ("false_negative_rate", "balanced_error") and (sums["pos"] == 0).any():
        raise ValueError(f"a community has no positive outcome, so {metric} is undefined; use 'error'.")
    if metric in ("false_positive_rate", "balanced_error") and (sums["neg"] == 0).any():
        raise ValueError(f"a community has no negative outcome, so {metric} is undefined; use 'error'.")
    fnr = sums["fn"] / sums["pos"].where(sums["pos"] > 0)
    fpr = sums["fp"] / sums["neg"].where(sums["neg"] > 0)
    value = {"error": sums["wrong"] / sums["n"], "false_negative_rate": fnr, "false_positive_rate": fpr,
             "balanced_error": (fnr + fpr) / 2, "log_loss": sums["ll"] / sums["n"]}[metric]
    designs = list(pd.unique(predictions["design"]))
    wide = value.astype(float).unstack("design").reindex(columns=designs)
    wide["best"] = wide[designs].idxmin(axis=1)
    wide.columns.name = None
    return wide.reset_index()


def draw_evaluation_set(groups: Labels, n: int, *, allocation: str | Mapping[Any, int] = "random",
                        frame: Labels | None = None, majority_weight: float = 4.0, seed: int = 0) -> np.ndarray:
    """Positions of an evaluation set drawn from a pool under an allocation.

    Parameters
    ----------
    groups : array-like
        Community label of each pool member.
    n : int
        Evaluation set size (for a mapping allocation, the counts must sum to it).
    allocation : {"random", "equal", "convenience"} or mapping
        ``"random"``: a simple random sample of ``n``. ``"equal"``: ``n // k`` from each of the ``k``
        communities (the remainder to the first communities in sorted order). ``"convenience"``: the
        easy-to-reach are over-represented, as in :func:`helpers.sampling.frame_sample`: members of the
        most frequent label of ``frame`` (default ``groups``) are drawn with weight ``majority_weight``,
        everyone else with weight 1. A mapping: the number to draw from each community, e.g. as agreed
        with the communities.
    frame : array-like, optional
        Labels that define who is easy to reach, for ``"convenience"`` (same length as ``groups``).
    majority_weight : float
        Inclusion weight of the easy-to-reach, for ``"convenience"`` (> 0).
    seed : int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    numpy.ndarray
        ``n`` distinct positions into ``groups``.

    Raises
    ------
    ValueError
        Missing labels, ``n`` outside [1, len(groups)], an unknown allocation, a mapping that names
        unknown communities or does not sum to ``n``, or a community with fewer members than asked for.

    Examples
    --------
    >>> labels = np.array(["a"] * 90 + ["b"] * 10)
    >>> idx = draw_evaluation_set(labels, 20, allocation="equal", seed=1)
    >>> sorted(pd.Series(labels[idx]).value_counts().to_dict().items())
    [('a', 10), ('b', 10)]
    """
    labels = _pool_labels(groups, "groups")
    if labels.isna().any():
        raise ValueError(f"groups has {int(labels.isna().sum())} missing label(s); label every pool member.")
    n = positive_int(n, "n")
    if n > len(labels):
        raise ValueError(f"n = {n} exceeds the pool of {len(labels)}; draw at most the whole pool.")
    if frame is not None:
        frame = _pool_labels(frame, "frame")
    check_majority_weight(majority_weight)
    seed = valid_seed(seed)
    if not isinstance(allocation, (str, Mapping)):
        raise ValueError(f"allocation must be 'random', 'equal', 'convenience' or a mapping of community to count; "
                         f"got {allocation!r}.")
    rng = np.random.default_rng(seed)
    if isinstance(allocation, str):
        one_of(allocation, ("random", "equal", "convenience"), "allocation")
        if allocation in ("random", "convenience"):
            reach = labels if frame is None or allocation == "random" else pd.Series(np.asarray(frame, dtype=object))
            if len(reach) != len(labels) or reach.isna().any():
                raise ValueError(f"frame must give a label for each of the {len(labels)} pool members.")
            # One sampling frame for the whole library: the training samples of chapter 03 use the same one.
            return frame_sample(reach, n, frame=allocation, majority_weight=majority_weight, seed=seed)
        names = sorted(labels.unique(), key=str)
        base, extra = divmod(n, len(names))
        counts = {g: base + (i < extra) for i, g in enumerate(names)}
    else:
        counts = {g: positive_int(c, f"allocation[{g!r}]", minimum=0) for g, c in allocation.items()}
        unknown = [g for g in counts if g not in set(labels)]
        if unknown:
            raise ValueError(f"allocation names communities not in groups: {unknown[:5]}; use labels of groups.")
        if sum(counts.values()) != n:
            raise ValueError(f"allocation sums to {sum(counts.values())}, not n = {n}; make the counts add up.")
    picks = []
    for g, k in counts.items():
        rows = np.flatnonzero(labels.to_numpy() == g)
        if k > rows.size:
            raise ValueError(f"community {g!r} has {rows.size} members but {k} were asked for; ask for fewer.")
        picks.append(rng.choice(rows, size=k, replace=False))
    return rng.permutation(np.concatenate(picks))


def evaluation_study(
    values: Sequence[float] | np.ndarray | pd.Series,
    groups: Sequence[Any] | np.ndarray | pd.Series,
    *,
    n: int,
    designs: Mapping[str, Mapping[str, Any]],
    n_trials: int = 100,
    seed: int = 0,
    n_rep: int | None = None,
) -> pd.DataFrame:
    """How well evaluation sets drawn under several designs estimate each community's score.

    The pool (for instance every held-out row, with ``values`` = 1 where the model was wrong) is taken as
    the truth. Each design draws ``n_trials`` evaluation sets of size ``n`` with :func:`draw_evaluation_set`,
    and each set estimates every community's mean of ``values`` and the overall mean (unweighted).

    Parameters
    ----------
    values : array-like
        Per-row score of the model (e.g. 0/1 error) for every pool member.
    groups : array-like
        Community of each pool member.
    n, n_trials, seed : int
        Evaluation set size, number of sets per design (simulated trials, the library's name for repeated
        simulations), base seed (set ``r`` uses ``seed + r``).
    designs : mapping
        Design name to keyword arguments of :func:`draw_evaluation_set` (``allocation``, ``frame``,
        ``majority_weight``).
    n_rep : int, optional
        Deprecated old name of ``n_trials``, accepted with a ``FutureWarning`` until the next release.

    Returns
    -------
    pandas.DataFrame
        One row per design and community (and ``"overall"``): ``truth`` (the pool's mean), ``mean_n``
        (average rows in a set), ``share_unmeasured`` (sets with no row of the community),
        ``mean_abs_error`` (average absolute error of the estimate over the sets that measure it).

    Raises
    ------
    ValueError
        As :func:`draw_evaluation_set`; also ``values`` and ``groups`` of different lengths, or no designs.

    Examples
    --------
    >>> labels = np.array(["a"] * 90 + ["b"] * 10)
    >>> wrong = np.r_[np.zeros(90), np.ones(10)]  # the model fails community b only
    >>> out = evaluation_study(wrong, labels, n=20, n_trials=50, designs={"equal": {"allocation": "equal"}})
    >>> out.set_index("community").loc[["a", "b"], ["truth", "mean_n", "mean_abs_error"]].to_dict(orient="list")
    {'truth': [0.0, 1.0], 'mean_n': [10.0, 10.0], 'mean_abs_error': [0.0, 0.0]}
    """
    v = as_float_array(values, "values")
    labels = _pool_labels(groups, "groups")
    if len(labels) != v.size:
        raise ValueError(f"values has {v.size} entries and groups {len(labels)}; pass one of each per pool member.")
    if not isinstance(designs, Mapping) or not designs:
        raise ValueError(f"designs must be a non-empty mapping of design name to the keyword arguments of "
                         f"draw_evaluation_set, e.g. {{'random': {{'allocation': 'random'}}}}; got {designs!r}.")
    known = {"allocation", "frame", "majority_weight"}
    for name, kwargs in designs.items():
        if not isinstance(kwargs, Mapping) or not set(kwargs) <= known:
            raise ValueError(f"designs[{name!r}] must be a mapping with keys among {sorted(known)}; got {kwargs!r}.")
    n_trials, used = renamed(n_trials, n_rep, new="n_trials", old="n_rep", default=100)
    n_trials = positive_int(n_trials, used, maximum=MAX_COUNT)
    seed = valid_seed(seed)
    codes, names = pd.factorize(labels, sort=True)
    k = len(names)
    truth = np.bincount(codes, weights=v, minlength=k) / np.bincount(codes, minlength=k)
    rows = []
    for design, kwargs in designs.items():
        counts = np.zeros((n_trials, k))
        sums = np.zeros((n_trials, k))
        overall = np.zeros(n_trials)
        for r in range(n_trials):
            idx = draw_evaluation_set(labels, n, seed=seed + r, **kwargs)
            counts[r] = np.bincount(codes[idx], minlength=k)
            sums[r] = np.bincount(codes[idx], weights=v[idx], minlength=k)
            overall[r] = v[idx].mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            est = sums / counts
        err = np.abs(est - truth)
        measured = counts > 0
        for j, name in enumerate(names):
            rows.append({"design": design, "community": name, "truth": float(truth[j]),
                         "mean_n": float(counts[:, j].mean()), "share_unmeasured": float(1 - measured[:, j].mean()),
                         "mean_abs_error": float(err[measured[:, j], j].mean()) if measured[:, j].any() else np.nan})
        rows.append({"design": design, "community": "overall", "truth": float(v.mean()), "mean_n": float(n),
                     "share_unmeasured": 0.0, "mean_abs_error": float(np.abs(overall - v.mean()).mean())})
    return pd.DataFrame(rows)
