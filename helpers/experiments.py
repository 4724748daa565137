"""Real learning curves on census data, measured overall and for each group.

A scaling law says that test loss falls as a smooth power of the amount of training
data. The book asks, after :cite:`diaz2024scaling`, *whose* loss: a curve that looks smooth overall can hide groups
whose error barely moves. This module measures learning curves with ordinary
scikit-learn models on two public census samples, and records every number per
demographic group as well as overall, so that :mod:`helpers.disaggregate` can fit a
scaling law to each group.

What is measured
----------------
For every cell of a grid -- training size x seed x model x sampling frame -- a model
is trained on a sample of the *training pool* and scored on one fixed *evaluation
set* (20 % of the data, drawn once with a fixed seed, stratified by group so that
small groups get their share of evaluation examples). The result is a tidy table
with one row per (experiment, model, capacity, train_size, seed, frame, group_var,
group, metric): the ``value``, the number of evaluation examples behind it
(``n_eval``) and the number of training examples from that group (``n_train_group``,
what a per-group scaling law should be plotted against). ``group_var == "overall"``
rows describe the whole evaluation set; for each other ``group_var`` the groups
partition it.

The two experiments (see :data:`EXPERIMENTS`)
---------------------------------------------
``"fertility"`` -- the 1980 US census sample of 254,654 married women aged 21-35
used by Angrist and Evans :cite:`angrist1998children` (``AER::Fertility``
:cite:`kleiber2008applied`). The target is ``work > 0``: did she
work for pay at all in 1979. We predict that rather than ``morekids`` because the
features carry more signal about it: in a 3-fold cross-validation run while this
module was written, gradient boosting beat the majority-class guess by about 4
points of accuracy for ``work > 0`` but only about 1 point for ``morekids``, and
about half of that one point came from weeks worked, an outcome of having children
rather than a cause. Features: ``morekids``, the sexes of the first two
children, ``age`` and the three race/ethnicity indicators (one-hot). The group,
``race_ethnicity``, is derived from the indicators ``afam``, ``hispanic`` and
``other``: ``"afam"``, ``"hispanic"`` or ``"other"`` when exactly one is set,
``"none"`` when none is, and ``"multiple"`` when more than one is. Upstream these
flags are not exclusive (Hispanic origin was asked separately from race in the
1980 census; 7,584 of the 18,897 women flagged ``hispanic`` are also flagged
``other``, and 196 are flagged ``afam``), so no single label
is "right" for those women; ``"multiple"`` keeps them visible instead of silently
assigning them by a precedence rule.

``"cps1988"`` -- the March 1988 Current Population Survey sample of 28,155 men
(``AER::CPS1988`` :cite:`bierens2001integrated,kleiber2008applied`). The target is a *high wage*: weekly wage above the sample
median (computed once on the whole sample; about 49 % of men are above it because
of ties at the median). The threshold is a choice, and another chapter shows that
group gaps move with it. Features: education, experience, ethnicity, smsa, region,
parttime. Two grouping variables are reported: ``ethnicity`` (cauc, afam) and
``region`` (4 levels).

In both experiments group membership is also a feature, as in most deployed
models; :func:`learning_curve` lets a reader drop it with ``features=...``.

Models and capacity
-------------------
* ``logistic_d{k}``: logistic regression (L2 penalty, ``C = 1``) on all polynomial
  terms up to degree ``k`` of the standardised features; capacity = ``k`` (1, 2, 3).
  We vary the feature set rather than ``C`` because, with scikit-learn's summed loss,
  a fixed ``C`` matters less and less as ``n`` grows, so it does not fix capacity.
* ``hgb_{L}x{T}``: :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with
  ``max_leaf_nodes = L`` and ``max_iter = T`` and early stopping off (so capacity is
  what it says); capacity = ``L * T``.

``random_state`` is the run's seed. Both models are deterministic given their
training rows, which are passed in a canonical (sorted) order, and every fit runs
with one BLAS/OpenMP thread, so a cell gives the same numbers whatever ``n_jobs``,
up to rounding: error rates, balanced errors and base rates repeat exactly, while
the logistic models' log losses can move in the seventh decimal, because L-BFGS
stops at a tolerance and last-bit differences in floating-point sums move where it
stops (a full regeneration of both caches differed from them by at most 4.2e-7).

Metrics (per group and overall, on the evaluation set)
------------------------------------------------------
``error`` (threshold 0.5), ``balanced_error`` (1 - balanced accuracy; NaN when a
group's evaluation set has only one class), ``log_loss`` (probabilities clipped to
``[PROB_CLIP, 1 - PROB_CLIP]`` so one confidently wrong example costs at most
``-log(1e-6)`` ~ 13.8 nats instead of infinity) and ``base_rate`` (share of
positives), which shows how much of a gap in error is a gap in base rates.

Sampling frames
---------------
The training samples are drawn by :func:`helpers.sampling.frame_sample` (importable from here too).
``frame="random"`` draws a simple random sample of the pool. ``frame="convenience"``
models a frame that over-reaches the majority group (the most frequent level of the
first grouping variable): each pool member has inclusion weight ``w`` (default 4) if
in the majority and 1 otherwise, and members are drawn one after another without
replacement with probability proportional to weight among those not yet drawn
(:meth:`numpy.random.Generator.choice` with ``p``). For small samples the majority's
inclusion rate is about ``w`` times the others'; as the sample approaches the whole
pool the two frames converge. At the full pool the training rows are the same for
every seed and frame, so those cells repeat one another (gradient boosting picks bin
thresholds from a 200,000-row subsample, which could differ by seed, but with so few
distinct feature values here the thresholds are the same). The generative
assumption is that the under-reached groups are *missing at random within group*:
the frame changes how many of each group we see, not which members.

Samples are nested: for one seed and frame, the sample of size 1,000 contains the
sample of size 500, like a data set that grows over time.

Running the grid, caching and parallel back-ends
------------------------------------------------
The full grids are precomputed with ``python -m helpers.experiments fertility
--n-jobs 2 --force`` (and ``cps1988``; ``--force`` replaces the cache there), which writes
``data/results/<name>.csv`` and a
``<name>.json`` with the command, the SHA-256 of the source data, library versions,
the grid, run time and peak memory. :func:`load_results` reads the cache and checks
it. ``--quick`` (or ``live=True`` in :func:`run_experiment`) runs a tiny grid in a few
seconds and writes ``<name>_quick.*`` so it never overwrites the full cache.

Cells run through :mod:`joblib`, so a reader with more cores passes ``n_jobs=-1``,
and one with a cluster picks a joblib back-end, e.g. with ``dask.distributed``
installed (it is not part of the book's environment)::

    from dask.distributed import Client
    import joblib
    client = Client("scheduler-address:8786")
    with joblib.parallel_config(backend="dask"):
        results = run_experiment("fertility", frames=("random", "convenience"), n_jobs=-1)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, PolynomialFeatures, StandardScaler
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from helpers import _stats, data
from helpers._docs import fill_doc
from helpers._validate import (as_float_array, binary_array, check_majority_weight, file_path, flag, has_columns,
                               label_list, min_points, one_of, positive_int, probability, same_length, sequence)
from helpers._validate import seed as _seed
# The sampling frame of the training data lives with the other frames; importable from here as before.
from helpers.sampling import FRAMES, frame_sample

#: Docstring fragments (helpers._docs) of the two grid runners.
_doc = fill_doc({"n_jobs_progress": """
n_jobs : int, default 1
    Parallel cells (joblib); -1 for all cores.
progress : bool, default True
    Show a tqdm progress bar."""})

__all__ = [
    "EXPERIMENTS",
    "KEYS",
    "METRICS",
    "MODELS",
    "OVERALL",
    "PROB_CLIP",
    "RESULTS_DIR",
    "ExperimentSpec",
    "ModelSpec",
    "group_metrics",
    "learning_curve",
    "load_results",
    "main",
    "run_experiment",
]

#: Where the CLI writes cached results: ``results/`` in :data:`helpers.data.DATA_DIR`.
#:
#: :meta hide-value:
RESULTS_DIR = data.DATA_DIR / "results"
#: Probabilities are clipped to [PROB_CLIP, 1 - PROB_CLIP] before the log loss.
PROB_CLIP = 1e-6
#: Metrics reported for every group, in this order.
METRICS = ("error", "balanced_error", "log_loss", "base_rate")
#: Label of the whole-evaluation-set rows (both ``group_var`` and ``group``): ``"overall"``, the library's one label
#: for the aggregate.
OVERALL = _stats.OVERALL
#: Key columns of a results table (one row per combination).
KEYS = ("experiment", "model", "capacity", "train_size", "seed", "frame", "group_var", "group", "metric")
#: Uncompressed CSVs larger than this are written as .csv.gz.
GZIP_ABOVE_BYTES = 4_000_000


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """One model at one capacity.

    Attributes
    ----------
    name : str
        Key in :data:`MODELS`, e.g. ``"logistic_d2"`` or ``"hgb_8x100"``.
    family : str
        ``"logistic"`` or ``"hgb"``; the ``model`` column of the results.
    capacity : int
        Polynomial degree (logistic) or ``max_leaf_nodes * max_iter`` (hgb).
    params : tuple of (str, int)
        ``(("degree", k),)`` or ``(("max_leaf_nodes", L), ("max_iter", T))``.
    """

    name: str
    family: str
    capacity: int
    params: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        one_of(self.family, ("logistic", "hgb"), "model family")
        need = {"degree"} if self.family == "logistic" else {"max_leaf_nodes", "max_iter"}
        if set(dict(self.params)) != need:
            raise ValueError(f"ModelSpec {self.name!r}: a {self.family} model needs params {sorted(need)}; "
                             f"got {sorted(dict(self.params))}.")

    def build(self, random_state: int) -> Pipeline | HistGradientBoostingClassifier:
        """Return a fresh, unfitted estimator with ``random_state`` set."""
        random_state = _seed(random_state, "random_state")
        p = dict(self.params)
        if self.family == "hgb":
            return HistGradientBoostingClassifier(
                max_leaf_nodes=p["max_leaf_nodes"], max_iter=p["max_iter"], early_stopping=False,
                random_state=random_state,
            )
        logit = LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)
        if p["degree"] == 1:
            return make_pipeline(StandardScaler(), logit)
        poly = PolynomialFeatures(degree=p["degree"], include_bias=False)
        return make_pipeline(StandardScaler(), poly, StandardScaler(), logit)


def _logistic(degree: int) -> ModelSpec:
    return ModelSpec(f"logistic_d{degree}", "logistic", degree, (("degree", degree),))


def _hgb(leaves: int, iters: int) -> ModelSpec:
    return ModelSpec(f"hgb_{leaves}x{iters}", "hgb", leaves * iters, (("max_leaf_nodes", leaves), ("max_iter", iters)))


#: Every model the experiments can use, by name.
MODELS: dict[str, ModelSpec] = {
    m.name: m for m in [_logistic(1), _logistic(2), _logistic(3), _hgb(4, 25), _hgb(8, 100), _hgb(32, 200)]
}


# ---------------------------------------------------------------------------
# experiments
# ---------------------------------------------------------------------------


def _prepare_fertility(df: pd.DataFrame) -> pd.DataFrame:
    flags = pd.DataFrame({k: df[k].eq("yes").to_numpy() for k in ("afam", "hispanic", "other")})
    n_set = flags.sum(axis=1).to_numpy()
    single = flags.idxmax(axis=1).to_numpy()
    label = np.where(n_set == 0, "none", np.where(n_set > 1, "multiple", single))
    out = df.copy()
    out["worked"] = df["work"].to_numpy() > 0
    out["race_ethnicity"] = pd.Categorical(label, categories=["none", "afam", "hispanic", "other", "multiple"])
    return out


def _prepare_cps(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["high_wage"] = df["wage"].to_numpy() > df["wage"].median()
    return out


@dataclass(frozen=True)
class ExperimentSpec:
    """A named learning-curve experiment: data, target, groups and its grid.

    Attributes
    ----------
    name, dataset : str
        Experiment key and the :mod:`helpers.data` dataset it reads.
    target : str
        Binary column created by ``prepare``.
    features, groups : tuple of str
        Model inputs; grouping variables (the first one defines the convenience
        frame's majority and, jointly with the others, the evaluation strata).
    sizes, seeds, models, frames : tuple
        The full grid written to the cache (the largest size is the whole pool).
    live_sizes, live_seeds, live_models : tuple
        A tiny grid that runs in a few seconds (``live=True`` / ``--quick``).
    eval_fraction : float
        Share of each stratum held out for evaluation.
    split_seed : int
        Seed of the evaluation split (fixed per experiment).
    majority_weight : float
        Inclusion weight of the majority in the convenience frame.
    prepare : callable
        Turns the dataset into the modelling frame (derives target and group).
    """

    name: str
    dataset: str
    target: str
    features: tuple[str, ...]
    groups: tuple[str, ...]
    sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    models: tuple[str, ...]
    frames: tuple[str, ...]
    live_sizes: tuple[int, ...]
    live_seeds: tuple[int, ...]
    live_models: tuple[str, ...]
    eval_fraction: float = 0.2
    split_seed: int = 0
    majority_weight: float = 4.0
    prepare: Callable[[pd.DataFrame], pd.DataFrame] = field(repr=False, compare=False, default=lambda d: d)

    def frame(self) -> pd.DataFrame:
        """The modelling frame: the checked dataset with target and group columns added."""
        return self.prepare(data.load(self.dataset))

    def grid(self, *, live: bool = False) -> dict[str, Any]:
        """The grid as plain lists (what the cache's metadata records)."""
        live = flag(live, "live")
        return {
            "sizes": list(self.live_sizes if live else self.sizes),
            "seeds": list(self.live_seeds if live else self.seeds),
            "models": {m: asdict(MODELS[m]) for m in (self.live_models if live else self.models)},
            "frames": list(self.frames),
            "target": self.target, "features": list(self.features), "groups": list(self.groups),
            "eval_fraction": self.eval_fraction, "split_seed": self.split_seed,
            "majority_weight": self.majority_weight, "prob_clip": PROB_CLIP,
        }


_ALL_MODELS = tuple(MODELS)
_LOG_GRID = (250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000)
_LIVE_SIZES = (250, 1000, 4000, 16000)
_LIVE_MODELS = ("logistic_d1", "hgb_4x25")

#: The registered experiments. Pool sizes (the last size) are 80 % of the rows, by stratum.
EXPERIMENTS: dict[str, ExperimentSpec] = {
    s.name: s
    for s in [
        ExperimentSpec(
            name="fertility", dataset="fertility", target="worked",
            features=("morekids", "gender1", "gender2", "age", "afam", "hispanic", "other"),
            groups=("race_ethnicity",),
            sizes=(*_LOG_GRID, 203723), seeds=tuple(range(10)), models=_ALL_MODELS, frames=FRAMES,
            live_sizes=_LIVE_SIZES, live_seeds=(0, 1, 2), live_models=_LIVE_MODELS,
            prepare=_prepare_fertility,
        ),
        ExperimentSpec(
            name="cps1988", dataset="cps1988", target="high_wage",
            features=("education", "experience", "ethnicity", "smsa", "region", "parttime"),
            groups=("ethnicity", "region"),
            sizes=(*_LOG_GRID[:7], 22524), seeds=tuple(range(10)), models=_ALL_MODELS, frames=FRAMES,
            live_sizes=_LIVE_SIZES, live_seeds=(0, 1, 2), live_models=_LIVE_MODELS,
            prepare=_prepare_cps,
        ),
    ]
}


def _eval_mask(strata: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Stratified hold-out: round(fraction * count) random members of each stratum."""
    # Hand-written (not train_test_split) so that all randomness comes from default_rng.
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(strata))
    order = order[np.argsort(strata[order], kind="stable")]
    counts = np.bincount(strata)
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    mask = np.zeros(len(strata), dtype=bool)
    mask[order[rank < np.repeat(np.rint(fraction * counts).astype(int), counts)]] = True
    return mask


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------


def group_metrics(
    y_true: Sequence[Any] | np.ndarray,
    proba: Sequence[float] | np.ndarray,
    groups: Sequence[Any] | np.ndarray | pd.Series | None = None,
) -> pd.DataFrame:
    """Error, balanced error, log loss and base rate, overall and per group.

    Parameters
    ----------
    y_true : array-like of {0, 1} or bool
        Observed labels.
    proba : array-like of float
        Predicted probability of the positive class, in [0, 1].
    groups : array-like, optional
        Group label of each example; if given, one block of rows per group
        (in order of first appearance, or category order for a categorical).

    Returns
    -------
    pandas.DataFrame
        Columns ``group``, ``metric``, ``value``, ``n_eval``; the first rows are
        ``group == "overall"``. Predictions are positive when ``proba >= 0.5``; log loss
        clips probabilities to ``[PROB_CLIP, 1 - PROB_CLIP]``; balanced error is NaN
        for a group with only one class.

    Raises
    ------
    ValueError
        Mismatched lengths, labels other than 0/1, probabilities outside [0, 1] or
        non-finite, or missing group labels.

    Examples
    --------
    >>> from helpers.experiments import group_metrics
    >>> m = group_metrics([1, 0, 1, 1], [0.9, 0.2, 0.4, 0.8], ["a", "a", "b", "b"])
    >>> m.query("group == 'b' and metric == 'error'")["value"].item()
    0.5
    """
    y = binary_array(y_true, "y_true", hint=_DERIVE)
    p = as_float_array(proba, "proba")
    if groups is not None and not isinstance(groups, pd.Categorical):
        groups = sequence(groups, "groups", example='["a", "b", "a"]', hashable=True)
    same_length(y_true=y, proba=p, **({} if groups is None else {"groups": groups}))
    if ((p < 0) | (p > 1)).any():
        raise ValueError("proba must be probabilities in [0, 1]; pass predict_proba(X)[:, 1].")
    rows = [_metric_table(y, p, np.zeros(len(y), dtype=np.int64), 1)]
    labels = [OVERALL]
    if groups is not None:
        codes, levels = _group_codes(pd.Series(groups))
        rows.append(_metric_table(y, p, codes, len(levels)))
        labels += levels
    full = np.vstack(rows)
    return pd.DataFrame({
        "group": np.repeat(labels, len(METRICS)),
        "metric": np.tile(METRICS, len(labels)),
        "value": full[:, :-1].ravel(),
        "n_eval": np.repeat(full[:, -1].astype(np.int64), len(METRICS)),
    })


def _group_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and labels; a categorical keeps its category order (unused levels dropped)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.cat.remove_unused_categories()
        codes, levels = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, levels = pd.factorize(s)
    if (codes < 0).any():
        raise ValueError(f"groups has {int((codes < 0).sum())} missing label(s); give every example a group.")
    return codes.astype(np.int64), [str(v) for v in levels]


def _metric_table(y: np.ndarray, p: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Rows = groups, columns = METRICS + [n]."""
    # Hand-written with bincount: one pass for all groups (sklearn would need a loop), and the
    # tests check it against sklearn.metrics group by group.
    pred = (p >= 0.5).astype(np.int64)
    pc = np.clip(p, PROB_CLIP, 1 - PROB_CLIP)
    loss = -(y * np.log(pc) + (1 - y) * np.log1p(-pc))
    cells = np.bincount(codes * 4 + y * 2 + pred, minlength=4 * k).reshape(k, 4).astype(float)
    n = cells.sum(axis=1)
    pos, neg = cells[:, 2] + cells[:, 3], cells[:, 0] + cells[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where((pos > 0) & (neg > 0), 0.5 * (cells[:, 3] / pos + cells[:, 0] / neg), np.nan)
        return np.column_stack([
            (cells[:, 1] + cells[:, 2]) / n, 1 - recall,
            np.bincount(codes, weights=loss, minlength=k) / n, pos / n, n,
        ])


# ---------------------------------------------------------------------------
# learning curves
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    """Everything the cells share: the encoded design, split and group codes."""

    X: np.ndarray
    y: np.ndarray
    eval_idx: np.ndarray
    pool_idx: np.ndarray
    group_vars: tuple[str, ...]
    codes: np.ndarray  # (n_rows, n_group_vars)
    levels: tuple[tuple[str, ...], ...]


#: How to make a binary target, for the messages that refuse one.
_DERIVE = "Derive it first, e.g. df['y'] = df['wage'] > df['wage'].median()."


def _as_names(value: str | Sequence[str], name: str) -> tuple[str, ...]:
    return tuple(label_list(value, name, example='["age"]'))


def _setup(df: pd.DataFrame, target: str, features: tuple[str, ...], groups: tuple[str, ...],
           eval_fraction: float, seed: int) -> _Setup:
    has_columns(df, [target, *features, *groups], what="df")
    if target in features:
        raise ValueError(f"target {target!r} is also listed in features; remove it from features.")
    cols = list(dict.fromkeys([target, *features, *groups]))
    n_missing = int(df[cols].isna().any(axis=1).sum())
    if n_missing:
        raise ValueError(f"{n_missing} row(s) have a missing value in {cols}; drop or impute them first.")
    y = binary_array(df[target], f"target {target!r}", hint=_DERIVE)
    if len(np.unique(y)) < 2:
        raise ValueError(f"target {target!r} has a single class; a classifier needs both.")
    eval_fraction = probability(eval_fraction, "eval_fraction", strict=True, example=0.3)
    cats = [c for c in features if not pd.api.types.is_numeric_dtype(df[c])]
    encoder = ColumnTransformer(
        [("cat", OneHotEncoder(drop="if_binary", sparse_output=False), cats)], remainder="passthrough"
    )
    # Encoding on the whole frame only discovers the category levels; scaling is fitted per cell.
    X = as_float_array(encoder.fit_transform(df[list(features)]), "features", ndim=2)
    codes, levels = [], []
    for g in groups:
        c, lev = pd.factorize(df[g], sort=True)
        codes.append(c)
        levels.append(tuple(map(str, lev)))
    codes_arr = np.column_stack(codes).astype(np.int64)
    strata = pd.DataFrame(codes_arr).groupby(list(range(len(groups)))).ngroup().to_numpy()
    mask = _eval_mask(strata, eval_fraction, _seed(seed))
    for g, c, lev in zip(groups, codes_arr.T, levels):
        n_eval = np.bincount(c[mask], minlength=len(lev))
        if (n_eval == 0).any():
            small = [lev[i] for i in np.flatnonzero(n_eval == 0)]
            raise ValueError(
                f"group(s) {small} of {g!r} get no evaluation examples (too few rows for eval_fraction="
                f"{eval_fraction:g}); raise eval_fraction, merge them with another group or drop them."
            )
    return _Setup(X, y, np.flatnonzero(mask), np.flatnonzero(~mask), groups, codes_arr, tuple(levels))


def _check_grid(setup: _Setup, sizes: Iterable[int], seeds: Iterable[int],
                models: Iterable[str | ModelSpec]) -> tuple[list[int], list[int], list[ModelSpec]]:
    sizes = sorted({positive_int(s, "sizes") for s in sequence(sizes, "sizes", example="[250, 1000]")})
    seeds = sorted({_seed(s, "seeds") for s in sequence(seeds, "seeds", example="[0, 1]")})
    min_points(len(sizes), 1, "sizes")
    min_points(len(seeds), 1, "seeds")
    pool = len(setup.pool_idx)
    if sizes[-1] > pool:
        raise ValueError(
            f"sizes must be at most the training pool of {pool} rows (the data minus the evaluation set); "
            f"got {sizes[-1]}. Lower the largest size or eval_fraction."
        )
    specs = []
    for m in sequence(models, "models", example='["logistic_d1"]'):
        if not isinstance(m, ModelSpec):
            one_of(m, MODELS, "model")
            m = MODELS[m]
        specs.append(m)
    min_points(len(specs), 1, "models")
    return sizes, seeds, specs


def _fit_cell(setup: _Setup, train_idx: np.ndarray, model: ModelSpec, seed: int) -> pd.DataFrame:
    """Fit one model on one training sample; tidy metrics for every group."""
    y_train = setup.y[train_idx]
    if len(np.unique(y_train)) < 2:
        raise ValueError(f"a training sample of {len(train_idx)} rows has a single class; use larger sizes.")
    with threadpool_limits(limits=1):  # one thread per fit: identical numbers whatever n_jobs
        est = model.build(seed).fit(setup.X[train_idx], y_train)
        proba = est.predict_proba(setup.X[setup.eval_idx])[:, 1]
    y_eval = setup.y[setup.eval_idx]
    blocks = [group_metrics(y_eval, proba).assign(group_var=OVERALL, n_train_group=len(train_idx))]
    for j, (g, lev) in enumerate(zip(setup.group_vars, setup.levels)):
        labels = pd.Categorical.from_codes(setup.codes[setup.eval_idx, j], categories=list(lev))
        m = group_metrics(y_eval, proba, labels).iloc[len(METRICS):]  # drop its own overall block
        n_train = np.bincount(setup.codes[train_idx, j], minlength=len(lev))
        blocks.append(m.assign(group_var=g, n_train_group=n_train[np.repeat(np.arange(len(lev)), len(METRICS))]))
    out = pd.concat(blocks, ignore_index=True)
    return out.assign(model=model.family, capacity=model.capacity, train_size=len(train_idx), seed=seed)


def _task(i: int, setup: _Setup, train_idx: np.ndarray, model: ModelSpec, seed: int,
          frame: str) -> tuple[int, pd.DataFrame]:
    return i, _fit_cell(setup, train_idx, model, seed).assign(frame=frame)


def _run_options(n_jobs: Any, progress: Any) -> tuple[int, bool]:
    """The options of a run, checked before any data is prepared."""
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) or not (
            n_jobs == -1 or 1 <= n_jobs <= 10_000):
        raise ValueError(f"n_jobs must be -1 (all cores) or an integer >= 1; got {n_jobs!r}.")
    return int(n_jobs), flag(progress, "progress")


def _run_cells(setup: _Setup, cells: list[tuple[str, int, int, ModelSpec, float]], *, n_jobs: int,
               progress: bool) -> pd.DataFrame:
    """Run (frame, seed, size, model, weight) cells in parallel, largest first; rows in cell order."""
    n_jobs, progress = _run_options(n_jobs, progress)
    pool_groups = setup.codes[setup.pool_idx, 0]
    orders = {
        (f, s, w): setup.pool_idx[frame_sample(pool_groups, len(pool_groups), frame=f, majority_weight=w, seed=s)]
        for f, s, w in {(c[0], c[1], c[4]) for c in cells}
    }
    jobs = sorted(range(len(cells)), key=lambda i: -cells[i][2])
    try:
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except ValueError:  # back-ends that cannot stream results (multiprocessing, ray): progress jumps at the end
        parallel = joblib.Parallel(n_jobs=n_jobs)
    tasks = (
        joblib.delayed(_task)(i, setup, np.sort(orders[f, s, w][:n]), m, s, f)
        for i, (f, s, n, m, w) in ((i, cells[i]) for i in jobs)
    )
    done: dict[int, pd.DataFrame] = {}
    with tqdm(total=len(cells), disable=not progress, desc="cells", unit="fit") as bar:
        for i, rows in parallel(tasks):
            done[i] = rows
            bar.update()
    out = pd.concat([done[i] for i in range(len(cells))], ignore_index=True)
    cols = ["model", "capacity", "train_size", "seed", "frame", "group_var", "group", "metric", "value", "n_eval",
            "n_train_group"]
    return out[cols]


@_doc
def learning_curve(
    df: pd.DataFrame,
    *,
    target: str,
    features: Sequence[str],
    group: str | Sequence[str],
    sizes: Sequence[int],
    seeds: Sequence[int],
    models: Sequence[str | ModelSpec],
    frame: str = "random",
    eval_fraction: float = 0.2,
    seed: int = 0,
    majority_weight: float = 4.0,
    n_jobs: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Measure a learning curve on any data frame, overall and per group.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per example.
    target : str
        Binary column (bool or 0/1) to predict.
    features : sequence of str
        Input columns; numeric ones are used as they are, others are one-hot encoded.
    group : str or sequence of str
        Grouping column(s) to report separately; the first defines the convenience
        frame's majority (its most frequent level in the training pool).
    sizes : sequence of int
        Training sizes, each between 1 and the training pool (rows not held out).
    seeds : sequence of int
        Seeds of the training samples (and the models' ``random_state``).
    models : sequence of str or ModelSpec
        Names in :data:`MODELS` (e.g. ``"logistic_d1"``, ``"hgb_8x100"``) or your own
        :class:`ModelSpec`.
    frame : {"random", "convenience"}, default "random"
        How training samples are drawn from the pool (see :func:`helpers.sampling.frame_sample`).
    eval_fraction : float, default 0.2
        Share of every group-combination stratum held out, once, for evaluation.
    seed : int, default 0
        Seed of that evaluation split.
    majority_weight : float, default 4.0
        Majority inclusion weight of the convenience frame.
    {{n_jobs_progress}}

    Returns
    -------
    pandas.DataFrame
        Columns ``model, capacity, train_size, seed, frame, group_var, group, metric,
        value, n_eval, n_train_group``; ``group_var == group == "overall"`` rows cover
        the whole evaluation set.

    Raises
    ------
    ValueError
        Unknown columns, models or frame; missing values; a non-binary target; sizes
        that are not positive integers or exceed the pool; a group with no
        evaluation examples; a training sample with one class.

    Examples
    --------
    >>> from helpers.data import load
    >>> from helpers.experiments import learning_curve
    >>> cps = load("cps1988").assign(high=lambda d: d["wage"] > d["wage"].median())
    >>> lc = learning_curve(cps, target="high", features=["education", "experience"], group="ethnicity",
    ...                     sizes=[200, 2000], seeds=[0], models=["logistic_d1"], progress=False)
    >>> sorted(lc["group"].unique())
    ['afam', 'cauc', 'overall']
    >>> err = lc.query("group == 'overall' and metric == 'error'").set_index("train_size")["value"]
    >>> bool(err[2000] < 0.5)
    True
    """
    one_of(frame, FRAMES, "frame")
    majority_weight = check_majority_weight(majority_weight)
    _run_options(n_jobs, progress)
    setup = _setup(df, target, _as_names(features, "features"), _as_names(group, "group"), eval_fraction, seed)
    sizes, seeds, specs = _check_grid(setup, sizes, seeds, models)
    cells = [(frame, s, n, m, majority_weight) for m in specs for s in seeds for n in sizes]
    return _run_cells(setup, cells, n_jobs=n_jobs, progress=progress)


@_doc
def run_experiment(
    name: str,
    *,
    sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    models: Sequence[str | ModelSpec] | None = None,
    frames: Sequence[str] = ("random",),
    live: bool = False,
    n_jobs: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Run a registered experiment (or part of its grid).

    Parameters
    ----------
    name : str
        Key of :data:`EXPERIMENTS`: ``"fertility"`` or ``"cps1988"``.
    sizes, seeds, models : sequence, optional
        Defaults: the registered full grid (or the live grid with ``live=True``).
    frames : sequence of {"random", "convenience"}, default ("random",)
        Sampling frames to run (the cache has both).
    live : bool, default False
        Use the tiny live grid for options left as None (runs in seconds).
    {{n_jobs_progress}}

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`learning_curve` with ``experiment`` first.

    Raises
    ------
    ValueError
        Unknown experiment, model or frame, or sizes outside the training pool.

    Examples
    --------
    >>> from helpers.experiments import run_experiment
    >>> res = run_experiment("cps1988", sizes=[500], seeds=[0], models=["hgb_4x25"], progress=False)
    >>> sorted(res["group_var"].unique())
    ['ethnicity', 'overall', 'region']
    >>> res.groupby("group_var")["n_eval"].sum().div(len(res.metric.unique())).astype(int).to_dict()
    {'ethnicity': 5631, 'overall': 5631, 'region': 5631}
    """
    one_of(name, EXPERIMENTS, "experiment name")
    frames = tuple(sequence(frames, "frames", example='("random", "convenience")'))
    _run_options(n_jobs, progress)
    live = flag(live, "live")
    for value, arg, example in ((sizes, "sizes", "[250, 1000]"), (seeds, "seeds", "[0, 1]"),
                                (models, "models", '["logistic_d1"]')):
        if value is not None:  # checked before the data is prepared; the entries are checked against it below
            sequence(value, arg, example=example)
    min_points(len(frames), 1, "frames")
    for f in frames:
        one_of(f, FRAMES, "frame")
    spec = EXPERIMENTS[name]
    grid = spec.grid(live=live)
    setup = _setup(spec.frame(), spec.target, spec.features, spec.groups, spec.eval_fraction, spec.split_seed)
    sizes, seeds, specs = _check_grid(
        setup, grid["sizes"] if sizes is None else sizes, grid["seeds"] if seeds is None else seeds,
        list(grid["models"]) if models is None else models,
    )
    cells = [(f, s, n, m, spec.majority_weight) for f in frames for m in specs for s in seeds for n in sizes]
    out = _run_cells(setup, cells, n_jobs=n_jobs, progress=progress)
    out.insert(0, "experiment", name)
    return out


# ---------------------------------------------------------------------------
# cache
# ---------------------------------------------------------------------------


def _cache_paths(name: str, directory: Path, *, quick: bool = False) -> Path:
    return Path(directory) / f"{name}{'_quick' if quick else ''}.json"


def load_results(name: str, *, directory: str | Path | None = None) -> pd.DataFrame:
    """Read an experiment's cached results and check them against their metadata.

    Parameters
    ----------
    name : str
        Key of :data:`EXPERIMENTS`.
    directory : str or Path, optional
        Folder of the cache; default :data:`RESULTS_DIR` (``data/results``).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`run_experiment`.

    Raises
    ------
    ValueError
        Unknown experiment; missing cache; a sidecar that is not valid JSON or lacks an entry; a cache whose
        file checksum, row count, data checksum or grid differs from what its metadata and the registries
        say, or (in ``data/results``) whose file differs from the checksum registered in
        :data:`helpers.data.RESULTS_SHA256` (rerun ``python -m helpers.experiments <name>``).

    Examples
    --------
    >>> from helpers.experiments import load_results
    >>> res = load_results("cps1988")
    >>> sorted(res["frame"].unique())
    ['convenience', 'random']
    """
    one_of(name, EXPERIMENTS, "experiment name")
    spec = EXPERIMENTS[name]
    meta_path = _cache_paths(name, RESULTS_DIR if directory is None else file_path(directory, "directory",
                                                                                  example="data/results"))
    rerun = f"Regenerate it with `python -m helpers.experiments {name} --n-jobs 2 --force`."
    if not meta_path.exists():
        raise ValueError(f"No cached results for {name!r} at {meta_path}. {rerun}")
    meta = _read_sidecar(meta_path, rerun)
    csv = meta_path.parent / meta["file"]
    problems = []
    if not csv.exists() or not data.checksum_matches(csv, meta["file_sha256"]):
        problems.append(f"{csv.name} is missing or differs from the checksum in {meta_path.name}")
    registered = data.RESULTS_SHA256.get(csv.name)
    if registered and csv.exists() and meta_path.parent.resolve() == RESULTS_DIR.resolve() \
            and not data.checksum_matches(csv, registered):
        # The sidecar can be edited along with the CSV; the checksum in the library's code cannot be, silently.
        problems.append(f"{csv.name} differs from the checksum registered in helpers/data.py (RESULTS_SHA256; "
                        f"after a deliberate rerun, update that entry in the same commit)")
    if meta["data_sha256"] != data.REGISTRY[spec.dataset].sha256:
        problems.append("it was computed from a different version of the source data")
    if meta["grid"] != json.loads(json.dumps(spec.grid())):
        problems.append("the registered grid or models changed since it was computed")
    if problems:
        raise ValueError(f"Cache for {name!r} is stale: {'; '.join(problems)}. {rerun}")
    # Only empty cells are missing (NaN balanced errors): a group called "NA" or "None" stays a label.
    out = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    if len(out) != meta["rows"] or list(out.columns) != meta["columns"]:
        raise ValueError(f"Cache for {name!r}: {len(out)} rows, columns {list(out.columns)}; not as recorded. {rerun}")
    return out


#: What a results sidecar must record, with the type of each entry.
_SIDECAR_KEYS = {"file": str, "file_sha256": str, "rows": int, "columns": list, "data_sha256": str, "grid": dict}


def _read_sidecar(path: Path, rerun: str) -> dict[str, Any]:
    """The JSON sidecar of a results file, or a ValueError that says what is wrong with it and how to fix it."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"The results sidecar {path} is not UTF-8 text; restore it (`git checkout {path.name}`) "
                         f"or regenerate it. {rerun}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"The results sidecar {path} is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}); restore it (`git checkout {path.name}`) or regenerate it. {rerun}") from None
    if not isinstance(meta, dict):
        raise ValueError(f"The results sidecar {path} holds a JSON {type(meta).__name__}, not an object with the "
                         f"run's metadata; restore or regenerate it. {rerun}")
    wrong = [f"{key} ({'missing' if key not in meta else type(meta[key]).__name__ + ', not ' + kind.__name__})"
             for key, kind in _SIDECAR_KEYS.items()
             if key not in meta or not isinstance(meta[key], kind) or isinstance(meta[key], bool)]
    if wrong:
        raise ValueError(f"The results sidecar {path} lacks or garbles {', '.join(wrong)}; restore or regenerate "
                         f"it. {rerun}")
    if Path(meta["file"]).name != meta["file"]:
        raise ValueError(f"The results sidecar {path} names the file {meta['file']!r}; it must be a file name in "
                         f"the same folder. {rerun}")
    return meta


def _peak_memory_mb(n_jobs: int) -> dict[str, float | None]:
    try:
        import resource  # Unix only
    except ImportError:  # pragma: no cover
        return {"main": None, "workers": None}
    if n_jobs != 1:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # reap the workers so RUSAGE_CHILDREN sees them
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # ru_maxrss: KiB on Linux, bytes on macOS
    return {
        "main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale, 1),
        "workers": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run an experiment's grid and write the cache.

    ``python -m helpers.experiments <name> [--n-jobs N] [--quick] [--out DIR] [--force]`` writes
    ``<name>.csv`` (``.csv.gz`` above ~4 MB) and ``<name>.json`` to ``data/results``;
    ``--quick`` runs the live grid and writes ``<name>_quick.*`` instead. Existing results are replaced only
    with ``--force``; without it the command stops before running anything.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 (with a message on standard error) when the results exist and ``--force``
        is not given, 2 (after argparse's usage message) for arguments it rejects, as :func:`helpers.audit.main`
        does.

    Raises
    ------
    ValueError
        If ``argv`` is not a list of strings.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from helpers.experiments import main
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +ELLIPSIS
    ...     status = main(["cps1988", "--quick", "--out", tmp])
    ...     meta = json.loads((Path(tmp) / "cps1988_quick.json").read_text())
    wrote .../cps1988_quick.csv (1344 rows) in ... s
    >>> status, meta["grid"]["sizes"]
    (0, [250, 1000, 4000, 16000])
    """
    parser = argparse.ArgumentParser(prog="python -m helpers.experiments", description=main.__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted(EXPERIMENTS))
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel cells (joblib); -1 for all cores")
    parser.add_argument("--quick", action="store_true", help="tiny live grid; writes <name>_quick.*")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="output folder (default data/results)")
    parser.add_argument("--force", action="store_true", help="replace existing results in the output folder")
    if argv is not None and not (isinstance(argv, (list, tuple)) and all(isinstance(a, str) for a in argv)):
        raise ValueError(f"argv must be a list of strings such as ['cps1988', '--quick']; got {argv!r}.")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage message
        return int(exc.code or 0)
    raw_args = list(sys.argv[1:] if argv is None else argv)
    spec = EXPERIMENTS[args.name]
    stem = f"{args.name}{'_quick' if args.quick else ''}"
    existing = [p for p in (args.out / f"{stem}.csv", args.out / f"{stem}.csv.gz", args.out / f"{stem}.json")
                if p.exists()]
    if existing and not args.force:  # checked before the grid runs: a refusal after an hour would waste it
        print(f"python -m helpers.experiments: error: {', '.join(map(str, existing))} exist(s) already; pass "
              f"--force to replace the results, or choose another --out.", file=sys.stderr)
        return 1
    start = time.perf_counter()
    res = run_experiment(args.name, frames=spec.frames, live=args.quick, n_jobs=args.n_jobs,
                         progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    args.out.mkdir(parents=True, exist_ok=True)
    text = res.to_csv(index=False)
    csv = args.out / (f"{stem}.csv.gz" if len(text) > GZIP_ABOVE_BYTES else f"{stem}.csv")
    res.to_csv(csv, index=False, **({"compression": {"method": "gzip", "mtime": 0}} if csv.suffix == ".gz" else {}))
    meta = {
        "experiment": args.name, "file": csv.name, "file_sha256": data.file_sha256(csv), "rows": len(res),
        "columns": list(res.columns),
        "command": shlex.join(["python", "-m", "helpers.experiments", *raw_args]),
        "dataset": spec.dataset, "data_source": data.REGISTRY[spec.dataset].source,
        "data_sha256": data.file_sha256(data.source_path(spec.dataset)),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
                     "scikit-learn": sklearn.__version__, "joblib": joblib.__version__},
        "grid": spec.grid(live=args.quick), "n_jobs": args.n_jobs, "cpu_count": os.cpu_count(),
        "wall_clock_seconds": round(seconds, 1), "peak_memory_mb": _peak_memory_mb(args.n_jobs),
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    }
    _cache_paths(args.name, args.out, quick=args.quick).write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {csv} ({len(res)} rows) in {seconds:.1f} s")
    registered = data.RESULTS_SHA256.get(csv.name)
    if registered and registered != meta["file_sha256"] and args.out.resolve() == RESULTS_DIR.resolve():
        print(f"the results changed: set RESULTS_SHA256[{csv.name!r}] = {meta['file_sha256']!r} in helpers/data.py",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
