"""One error contract for the whole public API of the analysis modules: scaling, design, measurement, goodhart,
pluralism, sampling, disaggregate, local, audit, data, plots, lm and experiments (not the book's tooling, see
``MODULES``).

Every public function and method gets a small call that is known to work (the table ``CALLS``). Each argument
is then replaced, in turn, by each of a list of hostile values. Every outcome must be one of

* success with a finite result (a NaN or inf in the result is allowed only with a warning that says why, or where
  the known-good call has the same non-finite entries, or, for ``n_boot=0`` of the calls in
  ``NAN_WITHOUT_BOOTSTRAP``, in the interval columns their documentation leaves NaN without a bootstrap), or
* a ``ValueError`` raised by the library's own code (not one bubbling up from numpy, pandas or scipy) whose message
  names the argument,

and never another exception type, a hang (5 s per call) or an obviously invalid value accepted (text, complex,
``pd.NA``, ``True`` or NaN where a number is wanted, a float where a count is wanted, ...). The test also checks
that the table covers every public callable of the modules, so a new function cannot skip the contract.

A function that writes files (an audit report, a CLI ``main``) runs inside a fresh temporary folder, so a hostile
relative path such as ``'abc'`` never lands in the repository; a CLI ``main`` succeeds by returning its exit code.

Run ``python tests/test_api_contract.py`` for the tally of outcomes.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import math
import os
import signal
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import helpers

MODULES = ("scaling", "design", "measurement", "goodhart", "pluralism", "sampling", "disaggregate", "local",
           "audit", "data", "plots", "lm", "experiments")
# Not walked: helpers.course, notebook, publish, links and glue are the book's own tooling (building, publishing
# and linking pages), and helpers.lm_train is the torch precompute of the LM cache; none is an analysis a reader
# calls with their data.
HELPERS_DIR = os.path.dirname(os.path.abspath(helpers.__file__))
TIMEOUT_S = 5

HOSTILE: list[tuple[str, Any]] = [
    ("None", None), ("'abc'", "abc"), ("'2'", "2"), ("1+2j", 1 + 2j), ("pd.NA", pd.NA), ("True", True),
    ("1e308", 1e308), ("-1e308", -1e308), ("1e-300", 1e-300), ("5e-324", 5e-324), ("2**70", 2**70),
    ("-1", -1), ("0", 0), ("nan", float("nan")), ("inf", float("inf")), ("[]", []), ("ones((2,2))", np.ones((2, 2))),
]
# Values that can never be a valid number, count or option: accepting one is a failure for those kinds.
NOT_A_NUMBER = {"None", "'abc'", "'2'", "1+2j", "pd.NA", "True", "nan", "inf", "[]", "ones((2,2))"}
NOT_A_COUNT = NOT_A_NUMBER | {"1e308", "-1e308", "1e-300", "5e-324", "2**70"}
NOT_AN_ARRAY = {"None", "'abc'", "'2'", "1+2j", "pd.NA", "nan", "inf", "[]"}
MUST_REJECT = {
    "real": NOT_A_NUMBER, "count": NOT_A_COUNT, "seed": NOT_A_COUNT - {"2**70"} | {"-1"},
    "bool": {k for k, _ in HOSTILE if k != "True"}, "choice": {k for k, _ in HOSTILE},
    "column": {k for k, _ in HOSTILE}, "df": {k for k, _ in HOSTILE}, "mapping": {k for k, _ in HOSTILE},
    "array": NOT_AN_ARRAY, "any": set(),
}
FOREIGN = ("numpy", "pandas", "scipy", "sklearn", "krippendorff")
# n_boot=0 asks for no bootstrap: these calls document their interval bounds (and the exponent consistency, which
# needs a group's interval) as NaN then. Only those columns may be NaN; every other number must stay finite.
NAN_WITHOUT_BOOTSTRAP = {"disaggregate.fit_by_group", "disaggregate.third_axis", "disaggregate.GroupScalingFit.holdout",
                         "disaggregate.GroupScalingFit.leave_one_group_out", "audit.audit", "lm.fit_languages",
                         "lm.population_curves"}


def _interval_column(name: str) -> bool:
    return name.endswith(("_low", "_high")) or name in ("exponent_consistent", "share_exponent_consistent")


# --------------------------------------------------------------------------- known-good examples


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


@functools.cache
def _dif_frame() -> pd.DataFrame:
    rng = _rng()
    theta = rng.normal(size=200)
    df = pd.DataFrame({f"i{j}": (rng.random(200) < 1 / (1 + np.exp(-(theta - b)))).astype(int)
                       for j, b in enumerate([-1, 0, 1])})
    df["sex"] = np.where(np.arange(200) % 2 == 0, "F", "M")
    return df


@functools.cache
def _threshold_frame() -> pd.DataFrame:
    rng = _rng(1)
    x = rng.normal(size=200)
    return pd.DataFrame({"x": x, "y": x + rng.normal(size=200), "g": np.where(x > 0, "hi", "lo")})


def _opinions() -> pd.DataFrame:
    return pd.DataFrame({"g": list("aaaabbbccc"), "x": [0, 0, 1, 0, 1, 1, 0, 1, 1, 1], "w": [1.0] * 10})


def _ranks() -> pd.DataFrame:
    return pd.DataFrame({"A": [1, 1, 1, 3, 3], "B": [2, 2, 2, 1, 1], "C": [3, 3, 3, 2, 2]})


def _chinchilla_runs() -> pd.DataFrame:
    from helpers.design import chinchilla_design
    return chinchilla_design(E=1.8, A=480.0, B=2000.0, alpha=0.35, beta=0.37, models_per_budget=4,
                             budgets=[1e18, 1e19, 1e20], noise_sd=0.01)


_GROUP_SIZES = np.logspace(2, 4, 5)


@functools.cache
def _group_errors() -> pd.DataFrame:
    """Two groups of five sizes each, an error with a little deterministic scatter: the tidy frame of disaggregate."""
    n = _GROUP_SIZES
    err = np.r_[2 * n**-0.5 + 0.05, 1.5 * n**-0.3 + 0.05] * (1 + 0.01 * np.sin(np.arange(10)))
    return pd.DataFrame({"n": np.tile(n, 2), "err": err, "g": np.repeat(["A", "B"], 5), "m": 10.0})


@functools.cache
def _group_accuracies() -> pd.DataFrame:
    """Three communities of a four-choice task (chance 0.25), accuracies whose logit-scale error follows a law."""
    n = _GROUP_SIZES
    odds = np.r_[20 * n**-0.5 + 0.05, 20 * n**-0.5 + 0.05, 5 * n**-0.2 + 0.2] * (1 + 0.01 * np.sin(np.arange(15)))
    return pd.DataFrame({"n": np.tile(n, 3), "acc": 1 - 0.75 * odds / (1 + odds), "g": np.repeat(["A", "B", "C"], 5),
                         "m": np.repeat([30.0, 20.0, 10.0], 5)})


@functools.cache
def _communities() -> pd.DataFrame:
    """Two communities of 60 people who want opposite answers: small enough for a call of about 0.1 s."""
    rng = _rng(2)
    x = rng.normal(size=120)
    g = np.repeat(["a", "b"], 60)
    return pd.DataFrame({"x": x, "g": g, "y": np.where(g == "a", x > 0, x < 0).astype(int)})


def _held_out() -> pd.DataFrame:
    return pd.DataFrame({"g": ["c"] * 8, "design": ["a"] * 4 + ["b"] * 4, "y": [1, 0, 1, 0] * 2,
                         "p": [0.9, 0.2, 0.6, 0.4, 0.3, 0.7, 0.8, 0.1]})


_POOL = np.array(["a"] * 8 + ["b"] * 4)
_REACH = np.array(["x"] * 6 + ["y"] * 6)


@functools.cache
def _fits() -> dict[str, Any]:
    from helpers import disaggregate, goodhart, measurement, pluralism, sampling, scaling
    x = np.logspace(1, 4, 8)
    runs = _chinchilla_runs()
    df = _dif_frame()
    d = np.linspace(0, 4, 9)
    n = np.unique(np.geomspace(1, 1e4, 12).round())
    return {
        "PowerLawFit": scaling.fit_power_law(x, scaling.power_law(x, a=2.0, b=0.5, c=0.1), n_boot=20),
        "ChinchillaFit": scaling.fit_chinchilla(runs["N"], runs["D"], runs["loss"], n_boot=5),
        "OveroptimizationFit": goodhart.fit_overoptimization(d, d * (1.0 - 0.25 * d) + 0.01 * np.sin(np.arange(9)),
                                                             n_boot=20),
        "PitmanYorFit": sampling.fit_pitman_yor(n, sampling.expected_distinct_groups(n, theta=3.0, discount=0.4)),
        "ReliabilityResult": measurement.cronbach_alpha(df[["i0", "i1", "i2"]], n_boot=20),
        "KrippendorffResult": measurement.krippendorff_alpha(df[["i0", "i1", "i2"]].T, level="nominal", n_boot=20),
        "DIFResult": measurement.mantel_haenszel_dif(df, item="i0", group="sex", focal="F",
                                                     items=["i0", "i1", "i2"]),
        "ScoreGap": measurement.score_gap(df, items=["i0", "i1"], group="sex", focal="F", n_boot=20),
        "RankAgreement": measurement.rank_agreement([1, 2, 3, 4, 5, 6], [1, 3, 2, 4, 6, 5], n_boot=20),
        "Chao1Result": sampling.chao1([1, 1, 1, 2, 3, 5]),
        "AggregateResult": pluralism.aggregate_rankings(_ranks(), rule="borda"),
        "DisagreementResult": pluralism.ranking_disagreement(_ranks()),
        "GroupScalingFit": disaggregate.fit_by_group(_group_errors(), size="n", metric="err", group="g",
                                                     n_examples="m", n_boot=5),
        "ThirdAxisResult": disaggregate.third_axis(_group_accuracies(), size="n", metric="acc", group="g",
                                                   n_examples="m", n_boot=5, higher_is_better=True, chance=0.25,
                                                   scale="logit"),
    }


def _method(cls: str, name: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(_fits()[cls], name)(*args, **kwargs)
    call.__name__ = f"{cls}.{name}"
    return call


def _built(cls_name: str, method: str, method_args: tuple) -> Callable[..., Any]:
    """Construct a result class from user-given constants, then use it: the constructor's contract."""
    def call(**kwargs: Any) -> Any:
        from helpers import scaling
        obj = getattr(scaling, cls_name)(**kwargs)
        return getattr(obj, method)(*method_args)
    return call


_D = np.linspace(0, 4, 9)
_CHIN = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
_CHIN_META = {"n": 0, "huber_delta": 1e-3, "objective": 0.0, "ci": {}, "boot": None}

# name -> (callable or None for the module attribute, valid keyword arguments, kinds overriding the inferred ones)
CALLS: dict[str, tuple[Callable[..., Any] | None, dict[str, Any], dict[str, str]]] = {
    # scaling
    "scaling.power_law": (None, {"x": [1.0, 10.0, 100.0], "a": 2.0, "b": 1.0, "c": 0.5}, {}),
    "scaling.chinchilla_loss": (None, {"N": [70e9], "D": [1.4e12], **_CHIN}, {}),
    "scaling.fit_power_law": (None, {"x": np.logspace(1, 4, 8), "y": 2.0 * np.logspace(1, 4, 8) ** -0.5 + 0.1,
                                     "irreducible": True, "loss": "huber", "huber_delta": 1e-3, "n_boot": 10,
                                     "seed": 0}, {}),
    "scaling.fit_chinchilla": (None, {"N": _chinchilla_runs()["N"].to_numpy(), "D": _chinchilla_runs()["D"].to_numpy(),
                                      "loss": _chinchilla_runs()["loss"].to_numpy(), "huber_delta": 1e-3,
                                      "n_boot": 5, "seed": 0}, {}),
    "scaling.huber_objective": (None, {"residuals": [0.0005, -0.01], "delta": 1e-3}, {}),
    "design.chinchilla_design": (None, {**_CHIN, "budgets": [1e18, 1e20], "models_per_budget": 4, "span": 30.0,
                                         "noise_sd": 0.01, "seed": 0}, {}),
    "scaling.PowerLawFit.predict": (_method("PowerLawFit", "predict"), {"x": [1e5]}, {}),
    "scaling.PowerLawFit.band": (_method("PowerLawFit", "band"), {"x": [1e2, 1e5]}, {}),
    "scaling.PowerLawFit.to_frame": (_method("PowerLawFit", "to_frame"), {}, {}),
    "scaling.PowerLawFit.conf_int": (_method("PowerLawFit", "conf_int"), {"alpha": 0.1}, {}),
    "scaling.ChinchillaFit.predict": (_method("ChinchillaFit", "predict"), {"N": [1e9], "D": [1e11]}, {}),
    "scaling.ChinchillaFit.compute_optimal": (_method("ChinchillaFit", "compute_optimal"), {"C": [1e21], "ci": False},
                                              {}),
    "scaling.ChinchillaFit.to_frame": (_method("ChinchillaFit", "to_frame"), {}, {}),
    "scaling.ChinchillaFit.conf_int": (_method("ChinchillaFit", "conf_int"), {"alpha": 0.1}, {}),
    "scaling.ChinchillaFit": (_built("ChinchillaFit", "compute_optimal", ([5.76e23],)), {**_CHIN, **_CHIN_META},
                              {"n": "any", "huber_delta": "any", "objective": "any", "ci": "any", "boot": "any"}),
    "scaling.PowerLawFit": (_built("PowerLawFit", "predict", ([10.0, 100.0],)),
                            {"a": 2.0, "b": 0.5, "c": 0.1, "n": 0, "loss": "huber", "irreducible": True,
                             "objective": 0.0, "ci": {}, "x_range": (1.0, 10.0), "boot": None},
                            {k: "any" for k in ("n", "loss", "irreducible", "objective", "ci", "x_range", "boot")}),
    # measurement
    "measurement.cronbach_alpha": (None, {"items": np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]]),
                                          "missing": "drop", "n_boot": 20, "confidence": 0.95, "seed": 1}, {}),
    "measurement.item_total_correlations": (None, {"items": pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5],
                                                                          "c": [1, 3, 2, 5, 4]}), "missing": "drop"},
                                            {"items": "df"}),
    "measurement.mantel_haenszel_dif": (None, {"responses": _dif_frame(), "item": "i0", "group": "sex", "focal": "F",
                                               "reference": "M", "matching": None, "items": ["i0", "i1", "i2"],
                                               "include_studied": True, "threshold": None, "missing": "drop",
                                               "significance": 0.05}, {"focal": "any", "reference": "any",
                                                                       "threshold": "real", "items": "any",
                                                                       "matching": "column"}),
    "measurement.dif_table": (None, {"responses": _dif_frame(), "items": ["i0", "i1", "i2"], "group": "sex",
                                     "focal": "F", "reference": None, "matching": None, "include_studied": True,
                                     "threshold": None, "missing": "drop", "significance": 0.05},
                              {"focal": "any", "reference": "any", "threshold": "real", "items": "any",
                               "matching": "column"}),
    "measurement.score_gap": (None, {"responses": _dif_frame(), "items": ["i0", "i1"], "group": "sex", "focal": "F",
                                     "reference": None, "n_boot": 20, "confidence": 0.95, "seed": 0,
                                     "missing": "drop"}, {"focal": "any", "reference": "any", "items": "any"}),
    "measurement.krippendorff_alpha": (None, {"ratings": np.array([[1, 2, 3, 3, 1], [1, 2, 3, 2, 1],
                                                                   [1, 2, 2, 3, 1]]), "level": "nominal",
                                              "n_boot": 20, "confidence": 0.9, "seed": 0}, {}),
    "measurement.token_accuracy_from_loss": (None, {"loss": [0.0, 1.0]}, {}),
    "measurement.exact_match_from_token_accuracy": (None, {"p": [0.5, 0.9], "length": 2}, {}),
    "measurement.edit_distance_from_token_accuracy": (None, {"p": [0.5, 0.9], "length": 10}, {}),
    "measurement.metric_curves": (None, {"N": [1e8, 1e10], "c": 1e9, "alpha": -0.5, "lengths": [1, 5]},
                                  {"lengths": "any"}),
    "measurement.rank_agreement": (None, {"a": [1, 2, 3, 4, 5], "b": [1, 3, 2, 4, 5], "n_boot": 20,
                                          "confidence": 0.95, "seed": 0}, {}),
    "measurement.threshold_sensitivity": (None, {"df": _threshold_frame(), "outcome": "y", "quantiles": [0.5, 0.9],
                                                 "features": ["x"], "group": "g", "test_size": 0.3,
                                                 "confidence": 0.95, "seed": 0}, {"quantiles": "any",
                                                                                  "features": "any"}),
    "measurement.ReliabilityResult.to_frame": (_method("ReliabilityResult", "to_frame"), {}, {}),
    "measurement.DIFResult.to_frame": (_method("DIFResult", "to_frame"), {}, {}),
    "measurement.ScoreGap.to_frame": (_method("ScoreGap", "to_frame"), {}, {}),
    "measurement.RankAgreement.to_frame": (_method("RankAgreement", "to_frame"), {}, {}),
    "measurement.ReliabilityResult.conf_int": (_method("ReliabilityResult", "conf_int"), {"alpha": 0.1}, {}),
    "measurement.KrippendorffResult.conf_int": (_method("KrippendorffResult", "conf_int"), {"alpha": 0.1}, {}),
    "measurement.KrippendorffResult.to_frame": (_method("KrippendorffResult", "to_frame"), {}, {}),
    "measurement.ScoreGap.conf_int": (_method("ScoreGap", "conf_int"), {"alpha": 0.1}, {}),
    "measurement.RankAgreement.conf_int": (_method("RankAgreement", "conf_int"), {"alpha": 0.1}, {}),
    # goodhart
    "goodhart.best_of_n_kl": (None, {"n": [1, 4, 16]}, {}),
    "goodhart.simulate_best_of_n": (None, {"n_values": [1, 10, 100], "n_trials": 50, "proxy_noise": 0.5,
                                           "noise": "gaussian", "df": None, "confidence": 0.95, "seed": 1},
                                    {"df": "real"}),
    "goodhart.fit_overoptimization": (None, {"d": _D, "reward": _D * (1.0 - 0.25 * _D) + 0.01 * np.sin(np.arange(9)),
                                             "form": "bon", "n_boot": 20,
                                             "confidence": 0.95, "seed": 0}, {}),
    "goodhart.simulate_goodhart": (None, {"variant": "regressional", "noise": 1.0, "strengths": [0, 1, 2],
                                          "n_units": 1000, "seed": 1}, {}),
    "goodhart.simulate_group_goodhart": (None, {"n_values": [1, 10], "n_prompts": 200, "minority_share": 0.2,
                                                "feature_weight_majority": 1.0, "feature_weight_minority": -1.5,
                                                "proxy_noise": 0.5, "seed": 2}, {}),
    "goodhart.OveroptimizationFit.predict": (_method("OveroptimizationFit", "predict"), {"d": [2.0]}, {}),
    "goodhart.OveroptimizationFit.to_frame": (_method("OveroptimizationFit", "to_frame"), {}, {}),
    "goodhart.OveroptimizationFit.conf_int": (_method("OveroptimizationFit", "conf_int"), {"alpha": 0.1}, {}),
    # pluralism
    "pluralism.group_distributions": (None, {"df": _opinions(), "item": "x", "group": "g", "weight": "w",
                                             "options": None}, {"options": "any"}),
    "pluralism.representativeness": (None, {"p": [0.2, 0.3, 0.5], "q": [0.3, 0.3, 0.4]}, {}),
    "pluralism.representativeness_by_group": (None, {"df": _opinions(), "item": "x", "group": "g",
                                                     "reference": "pooled", "weight": None, "options": None},
                                              {"reference": "any", "options": "any"}),
    "pluralism.majority_agreement": (None, {"df": _opinions(), "item": "x", "group": "g", "reference": "pooled",
                                          "weight": "w", "options": None}, {}),
    "pluralism.coverage_curve": (None, {"df": _opinions(), "item": "x", "group": "g", "threshold": 0.7,
                                        "order": "size", "n_perm": 5, "seed": 0, "reference": "pooled",
                                        "weight": None, "options": None},
                                 {"order": "any", "reference": "any", "options": "any"}),
    "pluralism.representativeness_matrix": (None, {"df": _opinions(), "item": "x", "group": "g", "candidates": "g",
                                                   "pooled": True, "weight": None, "options": None},
                                            {"candidates": "any", "options": "any"}),
    "pluralism.representativeness_null": (None, {"df": _opinions(), "item": "x", "group": "g", "n_perm": 9,
                                                 "seed": 0, "quantile": 0.05, "options": None}, {"options": "any"}),
    "pluralism.coverage_null": (None, {"df": _opinions(), "item": "x", "group": "g", "threshold": 0.7,
                                       "order": "size", "n_perm": 5, "seed": 0, "options": None},
                                {"order": "any", "options": "any"}),
    "pluralism.aggregate_rankings": (None, {"rankings": _ranks(), "rule": "borda", "weights": None,
                                            "higher_is_better": False}, {"weights": "array"}),
    "pluralism.pairwise_majority": (None, {"preferences": _ranks(), "weights": None, "higher_is_better": False},
                                    {"weights": "array"}),
    "pluralism.condorcet_winner": (None, {"preferences": _ranks(), "weights": None, "higher_is_better": False},
                                   {"weights": "array"}),
    "pluralism.ranking_disagreement": (None, {"rankings": _ranks(), "higher_is_better": False}, {}),
    "pluralism.majority_cycles": (None, {"preferences": _ranks(), "weights": None, "higher_is_better": False},
                                  {"weights": "array"}),
    "pluralism.disagreement_curve": (None, {"rankings": _ranks(), "order": "given", "n_perm": 5, "seed": 0},
                                     {"order": "any"}),
    "pluralism.AggregateResult.to_frame": (_method("AggregateResult", "to_frame"), {}, {}),
    "pluralism.DisagreementResult.to_frame": (_method("DisagreementResult", "to_frame"), {}, {}),
    # sampling
    "sampling.expected_distinct_groups": (None, {"n": [1, 2, 3], "theta": 1.0, "discount": 0.2}, {}),
    "sampling.sample_partition": (None, {"n": 100, "theta": 2.0, "discount": 0.3, "seed": 1}, {}),
    "sampling.accumulation_curve": (None, {"labels": list("aabbbc"), "sizes": [1, 6], "n_perm": 5, "seed": 0},
                                    {"labels": "any"}),
    "sampling.fit_pitman_yor": (None, {"curve": np.unique(np.geomspace(1, 1e4, 12).round()),
                                       "distinct": 1.0 + 2.0 * np.log1p(np.unique(np.geomspace(1, 1e4, 12).round())),
                                       "model": "pitman_yor"}, {}),
    "sampling.good_turing_unseen": (None, {"counts": [1, 1, 1, 2, 3, 5]}, {}),
    "sampling.chao1": (None, {"counts": [1, 1, 1, 2, 3, 5], "bias_corrected": True}, {}),
    "sampling.kish_ess": (None, {"weights": [1.0, 2.0, 3.0]}, {}),
    "sampling.ipw": (None, {"propensity": [0.5, 0.25, 1.0]}, {}),
    "sampling.poststratify": (None, {"df": pd.DataFrame({"g": ["a", "a", "a", "b"]}), "cells": "g",
                                     "population_shares": {"a": 0.5, "b": 0.5}}, {}),
    "sampling.rake": (None, {"df": pd.DataFrame({"sex": list("fffmm"), "age": ["young", "old", "old", "young", "old"]}),
                             "margins": {"sex": {"f": 0.5, "m": 0.5}, "age": {"young": 0.5, "old": 0.5}},
                             "weights": None, "max_iter": 100, "tol": 1e-8}, {"weights": "array"}),
    "sampling.platform_growth_sample": (None, {"df": pd.DataFrame({"g": ["a"] * 500 + ["b"] * 500}), "group": "g",
                                               "waves": 3, "growth": {"a": 1.0, "b": 0.0}, "first_wave": 50,
                                               "seed": 0}, {}),
    "sampling.composition_by_size": (None, {"df": pd.DataFrame({"g": ["a", "a", "b", "a"], "wave": [0, 0, 1, 1]}),
                                            "group": "g", "order_col": "wave", "sizes": None}, {"sizes": "array"}),
    "sampling.compare_on_mixes": (None, {"correct_a": [1, 1, 1, 1, 0, 0, 0, 0], "correct_b": [0, 0, 1, 1, 1, 1, 1, 1],
                                         "groups": ["x"] * 4 + ["y"] * 4, "mixes": [{"x": 1.0}, {"x": 0.5, "y": 0.5}],
                                         "n": 10, "n_boot": 50, "seed": 0, "n_draws": None, "size": None},
                                 {"groups": "any", "mixes": "mapping"}),
    "sampling.PitmanYorFit.predict": (_method("PitmanYorFit", "predict"), {"n": [10, 1000]}, {}),
    "sampling.PitmanYorFit.to_frame": (_method("PitmanYorFit", "to_frame"), {}, {}),
    "sampling.Chao1Result.to_frame": (_method("Chao1Result", "to_frame"), {}, {}),
    # disaggregate (tiny frames: a fit costs about 0.1 s whatever n_boot, and most hostile values never reach it)
    "disaggregate.fit_by_group": (None, {"df": _group_errors(), "size": "n", "metric": "err", "group": "g",
                                         "n_examples": "m", "overall": None, "irreducible": True, "loss": "huber",
                                         "huber_delta": 1e-3, "n_boot": 2, "seed": 0, "progress": False,
                                         "higher_is_better": False, "chance": None, "scale": "log"},
                                  {"n_examples": "column", "overall": "choice", "chance": "real"}),
    "disaggregate.third_axis": (None, {"df": _group_accuracies(), "size": "n", "metric": "acc", "group": "g",
                                       "n_examples": "m", "order": "size", "n_perm": 3, "tolerance": 0.1,
                                       "irreducible": True, "n_boot": 2, "seed": 0, "loss": "huber",
                                       "huber_delta": 1e-3, "group_fits": None, "progress": False,
                                       "higher_is_better": True, "chance": 0.25, "scale": "logit"},
                                {"n_examples": "column", "order": "any", "group_fits": "any"}),
    "disaggregate.GroupScalingFit.to_frame": (_method("GroupScalingFit", "to_frame"), {}, {}),
    "disaggregate.GroupScalingFit.conf_int": (_method("GroupScalingFit", "conf_int"), {"alpha": 0.1}, {}),
    "disaggregate.GroupScalingFit.difference": (_method("GroupScalingFit", "difference"),
                                                {"parameter": "b", "paired": False}, {}),
    "disaggregate.GroupScalingFit.improvement": (_method("GroupScalingFit", "improvement"), {"seed": None}, {}),
    "disaggregate.GroupScalingFit.non_improving": (_method("GroupScalingFit", "non_improving"), {"seed": None}, {}),
    "disaggregate.GroupScalingFit.predict": (_method("GroupScalingFit", "predict"), {"x": [1e5], "group": None},
                                             {"group": "choice"}),
    "disaggregate.GroupScalingFit.curves": (_method("GroupScalingFit", "curves"), {"n_grid": 5, "group": "A"}, {}),
    "disaggregate.GroupScalingFit.holdout": (_method("GroupScalingFit", "holdout"), {"k": 1, "n_boot": 2}, {}),
    "disaggregate.GroupScalingFit.leave_one_group_out": (_method("GroupScalingFit", "leave_one_group_out"),
                                                         {"n_boot": 2}, {}),
    "disaggregate.ThirdAxisResult.to_frame": (_method("ThirdAxisResult", "to_frame"), {}, {}),
    # local
    "local.local_vs_pooled": (None, {"df": _communities(), "target": "y", "features": ["x"], "group": "g",
                                     "test_size": 0.3, "sizes": [20], "n_seeds": 1, "n_boot": 20, "seed": 0,
                                     "make_model": None},
                              # sizes=[] is a valid request (no learning curve beyond the full training set)
                              {"features": "any", "sizes": "any", "make_model": "any"}),
    "local.score_designs": (None, {"predictions": _held_out(), "group": "g", "metric": "error", "threshold": 0.5},
                            {}),
    "local.draw_evaluation_set": (None, {"groups": _POOL, "n": 6, "allocation": "convenience", "frame": _REACH,
                                         "majority_weight": 4.0, "seed": 0}, {}),
    "local.evaluation_study": (None, {"values": (_POOL == "b").astype(float), "groups": _POOL, "n": 6,
                                      "designs": {"random": {"allocation": "random"},
                                                  "convenience": {"allocation": "convenience", "frame": _REACH}},
                                      "n_trials": 3, "seed": 0, "n_rep": None}, {}),
}


# --------------------------------------------------------------------------- audit, data, plots, lm, experiments

_TMP = tempfile.TemporaryDirectory(prefix="api-contract-")  # removed when the process ends


def _tmp_file(name: str, text: str) -> str:
    """A file in the walk's own temporary folder (never in the repository), written once."""
    path = Path(_TMP.name, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(path)


def _in_tmp(func: Callable[..., Any], name: str = "") -> Callable[..., Any]:
    """Run ``func`` inside a fresh temporary folder: a hostile relative path ('abc', '2') lands there, and
    ``sys.argv`` is emptied so a CLI ``main(None)`` cannot read pytest's arguments."""
    def call(**kwargs: Any) -> Any:
        here, argv = os.getcwd(), sys.argv
        os.chdir(tempfile.mkdtemp(dir=_TMP.name))
        sys.argv = [argv[0]]
        try:
            return func(**kwargs)
        finally:
            os.chdir(here)
            sys.argv = argv
    call.__name__ = name or func.__name__
    return call


def _audit_csv() -> str:
    return _tmp_file("results.csv", _group_errors().to_csv(index=False))


@functools.cache
def _report() -> Any:
    from helpers.audit import audit
    return audit(_group_errors(), size="n", metric="err", group="g", n_examples="m", n_boot=0, progress=False)


def _report_method(name: str) -> Callable[..., Any]:
    def call(**kwargs: Any) -> Any:
        return getattr(_report(), name)(**kwargs)
    return _in_tmp(call, f"AuditReport.{name}")


def _lm_runs() -> pd.DataFrame:
    """A miniature of the cached LM grid: multilingual runs of two sizes, two temperatures and two seeds, and one
    monolingual model, whose losses follow a Chinchilla law in the parameters and the language's tokens."""
    rows = []
    langs = {"de": 0.7, "vi": 0.2, "te": 0.1}
    for size, params in (("s", 1000), ("xl", 8000)):
        for temp in (0.3, 1.0):
            for seed, jitter in ((0, 1.01), (1, 0.99)):
                for tokens in (1000, 4000, 16000, 64000):
                    for lang, share in langs.items():
                        t_lang = tokens * share ** temp / sum(s ** temp for s in langs.values())
                        rows.append(("multilingual", size, params, temp, seed, tokens, lang, t_lang, jitter))
    for seed, jitter in ((0, 1.01), (1, 0.99)):
        for tokens in (1000, 8000, 64000, 512000):
            rows.append(("monolingual", "xs", 100, 1.0, seed, tokens, "vi", tokens, jitter))
    df = pd.DataFrame(rows, columns=["kind", "size", "params", "temperature", "seed", "tokens", "language",
                                     "tokens_language", "jitter"])
    loss = (1.0 + 20.0 * df["params"] ** -0.3 + 30.0 * df["tokens_language"] ** -0.3) * df.pop("jitter")
    df["bytes"], df["chars"], df["english_bytes"] = 3000, 2000, 2500
    df["bits"] = loss * 3000
    df["common_bits"], df["common_bytes"], df["common_chars"] = loss * 1000, 1000, 700
    return df


def _lm_stats() -> pd.DataFrame:
    return pd.DataFrame({"language": ["de", "vi", "te"], "p_T1": [0.7, 0.2, 0.1], "chars_kept": [4e5, 5e4, 3e4]})


@functools.cache
def _lm_losses() -> pd.DataFrame:
    from helpers import lm
    return lm.losses(_lm_runs())


@functools.cache
def _lm_points() -> pd.DataFrame:
    from helpers import lm
    return lm.language_points(_lm_losses(), _lm_stats(), model_size="xl")


@functools.cache
def _lm_chinchilla_fits() -> Any:
    from helpers import lm
    return lm.fit_languages(lm.language_points(_lm_losses(), _lm_stats()), size=("params", "tokens_language"),
                            n_boot=0)


_MALLARD_PAGE = ('<page xmlns="http://projectmallard.org/1.0/"><title>Keys</title><p>Press a key now.</p>'
                 '<p>Done.</p></page>')


def _help_tree() -> str:
    """A help tree of two languages and two pages (the layout read_help_tree reads)."""
    for lang, (title, text) in {"C": ("Keys", "Press a key."), "de": ("Tasten", "Eine Taste drücken.")}.items():
        for page in ("keys", "mouse"):
            _tmp_file(f"help/{lang}/gnome-help/{page}.page",
                      f'<page xmlns="http://projectmallard.org/1.0/"><title>{title}</title><p>{text}</p></page>')
    return str(Path(_TMP.name, "help"))


def _lm_tree() -> pd.DataFrame:
    return pd.DataFrame({"language": "de", "document": "gnome-help", "page": [f"p{i}" for i in range(4)],
                         "index": 0, "text": ["Eins", "Zwei", "Drei", "Vier"], "english": ["One", "Two", "3", "4"]})


@functools.cache
def _corpus() -> Any:
    from helpers import lm
    return lm.build_corpus(_lm_tree(), holdout_fraction=0.25)


def _corpus_text(**kwargs: Any) -> Any:
    return _corpus().text(**kwargs)


def _run_config() -> Any:
    from helpers.lm import RunConfig
    return RunConfig("multilingual", "xs", 1.0, 0, {"de": 0.5, "vi": 0.5}, (2048, 4096), ("de",))


def _streams() -> Any:
    from helpers.lm import Streams
    text = {g: b"x" * 200_000 for g in ["de", "vi"]}
    return Streams(train=text, test=text, common=text, english_bytes={"de": 1, "vi": 1})


def _quick_grid() -> dict[str, Any]:
    from helpers.lm import QUICK_GRID
    return {**QUICK_GRID, "monolingual": {**QUICK_GRID["monolingual"]}}


def _chart() -> Any:
    import altair as alt
    return alt.Chart(pd.DataFrame({"x": [1.0, 2.0]})).mark_point().encode(x="x")


def _spec() -> dict[str, Any]:
    return _chart().properties(title="T", description="D.").to_dict()


def _scaling_points() -> pd.DataFrame:
    return pd.DataFrame({"n": [1e2, 1e3, 1e4] * 2, "loss": [1.0, 0.5, 0.25, 1.2, 0.7, 0.4], "g": ["a"] * 3 + ["b"] * 3,
                         "lo": [0.9, 0.4, 0.2, 1.1, 0.6, 0.3], "hi": [1.1, 0.6, 0.3, 1.3, 0.8, 0.5]})


def _intervals() -> pd.DataFrame:
    return pd.DataFrame({"who": ["A", "B"], "gap": [0.1, -0.05], "lo": [0.02, -0.2], "hi": [0.2, 0.1],
                         "kind": ["x", "y"]})


def _curve() -> pd.DataFrame:
    return pd.DataFrame({"k": [1, 2, 3] * 2, "share_described": [1.0, 0.5, 0.33] * 2,
                         "share_low": [1.0, 0.5, 0.33] * 2, "share_high": [1.0, 0.5, 0.33] * 2,
                         "aggregate_rmse": [0.01, 0.01, 0.02] * 2, "order": ["size"] * 3 + ["random"] * 3})


@functools.cache
def _learning_frame() -> pd.DataFrame:
    rng = _rng(3)
    x = rng.normal(size=200)
    return pd.DataFrame({"x": x, "g": np.where(np.arange(200) % 3 == 0, "a", "b"), "y": (x + rng.normal(size=200)) > 0})


def _threads(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``func`` with joblib's threading back-end: a hostile ``n_jobs=-1`` then costs no process pool."""
    def call(**kwargs: Any) -> Any:
        import joblib
        with joblib.parallel_config(backend="threading"):
            return func(**kwargs)
    call.__name__ = func.__name__
    return call


def _experiment_method(name: str) -> Callable[..., Any]:
    def call(**kwargs: Any) -> Any:
        from helpers.experiments import EXPERIMENTS
        return getattr(EXPERIMENTS["cps1988"], name)(**kwargs)
    call.__name__ = f"ExperimentSpec.{name}"
    return call


def _model_build(**kwargs: Any) -> Any:
    from helpers.experiments import MODELS
    return MODELS["logistic_d1"].build(**kwargs)


_PATHS = {"path": "any"}  # a path is any text or Path: 'abc' and '2' are file names (in a temporary folder)

CALLS.update({
    # audit (n_boot=0 and the ten-row frame of disaggregate: an audit then costs about 0.1 s)
    "audit.audit": (None, {"df": _group_errors(), "size": "n", "metric": "err", "group": "g", "n_examples": "m",
                           "overall": None, "n_boot": 0, "seed": 0, "tolerance": 0.1, "order": "size",
                           "source": "a data frame", "progress": False, "higher_is_better": False, "chance": None,
                           "scale": "log"},
                    {"n_examples": "column", "overall": "choice", "chance": "real", "source": "any",
                     "progress": "any"}),
    "audit.read_results": (None, {"path": _audit_csv()}, _PATHS),
    "audit.check_output": (_in_tmp(importlib.import_module("helpers.audit").check_output),
                           {"path": "report.html", "inputs": [_audit_csv()], "force": False},
                           {**_PATHS, "inputs": "any"}),
    "audit.main": (_in_tmp(importlib.import_module("helpers.audit").main),
                   {"argv": [_audit_csv(), "--size", "n", "--metric", "err", "--group", "g", "--n-boot", "0",
                             "--out", "report.html", "--no-progress"]}, {"argv": "any"}),
    "audit.AuditReport.to_frame": (_report_method("to_frame"), {}, {}),
    "audit.AuditReport.to_html": (_report_method("to_html"), {}, {}),
    "audit.AuditReport.write": (_report_method("write"), {"path": "report.html", "force": False}, _PATHS),
    # data
    "data.file_sha256": (None, {"path": Path(_audit_csv())}, _PATHS),
    "data.checksum_matches": (None, {"path": Path(_audit_csv()), "expected": "0" * 64}, {**_PATHS, "expected": "any"}),
    "data.list_datasets": (None, {}, {}),
    "data.source_path": (None, {"name": "cps1988"}, {}),
    "data.load": (None, {"name": "cps1988", "verify": True}, {}),
    # plots (a success is an altair chart, a scale, a spec or its HTML)
    "plots.group_colors": (None, {"groups": ["a", "b", "overall"]}, {}),
    "plots.group_shapes": (None, {"groups": ["a", "b"]}, {}),
    "plots.shape_scale": (None, {"groups": ["a", "b"]}, {}),
    "plots.color_scale": (None, {"groups": ["a", "b"]}, {}),
    "plots.responsive_spec": (None, {"spec": {"mark": "point", "width": 420}}, {}),
    "plots.in_book_build": (None, {}, {}),
    "plots.use_book_style": (None, {}, {}),
    "plots.offline_html_renderer": (None, {"spec": _spec()}, {}),
    "plots.book_html_renderer": (None, {"spec": _spec()}, {}),
    "plots.data_table_html": (None, {"spec": {"title": "T", "data": {"values": [{"n": 1.0, "g": "a"}]}},
                                     "max_rows": 150}, {}),
    "plots.chart_spec": (None, {"chart": _chart()}, {"chart": "df"}),
    "plots.embed_queue_script": (None, {}, {}),
    "plots.require_text_alternative": (None, {"chart": _chart(), "title": "T", "description": "A dot."},
                                       {"chart": "df", "title": "any", "description": "any"}),
    "plots.scaling_chart": (None, {"points": _scaling_points(), "x": "n", "y": "loss", "title": "T",
                                   "description": "D.", "group": "g", "curves": _scaling_points(), "lower": "lo",
                                   "upper": "hi", "x_title": "n", "y_title": "loss", "log_x": True, "log_y": True,
                                   "width": 420, "height": 280},
                            {"title": "any", "description": "any", "x_title": "any", "y_title": "any"}),
    "plots.interval_chart": (None, {"data": _intervals(), "category": "who", "estimate": "gap", "low": "lo",
                                    "high": "hi", "x_title": "Gap", "group": "kind", "groups": ["x", "y"],
                                    "group_title": "Kind", "sort": ["A", "B"], "reference": 0.0,
                                    "domain": [-1.0, 1.0], "tooltip": ["who"], "offset": True, "legend": True},
                             {"x_title": "any", "group_title": "any", "groups": "any", "sort": "any",
                              "tooltip": "any", "reference": "any"}),
    "plots.third_axis_chart": (None, {"curve": _curve(), "tolerance": 0.1, "order": "order",
                                      "orders": ["size", "random"], "unit": "groups", "rmse": True, "width": 260,
                                      "height": 220}, {"orders": "any", "unit": "any"}),
    # lm (small synthetic frames of the cache's shape; nothing here needs torch)
    "lm.page_paragraphs": (None, {"page": _MALLARD_PAGE}, {"page": "any"}),
    "lm.read_help_tree": (None, {"help_dir": _help_tree(), "languages": ["de"]},
                          {"help_dir": "any", "languages": "any"}),
    "lm.iso_code": (None, {"language": "pt_BR"}, {"language": "any"}),
    "lm.clean_paragraphs": (None, {"tree": _lm_tree(), "identify": None, "min_chars_identify": 20},
                            {"identify": "any"}),
    "lm.holdout_pages": (None, {"pages": [f"page{i}" for i in range(20)], "fraction": 0.25, "seed": 0},
                         {"pages": "any"}),
    "lm.utf8_chars": (None, {"data": "Größe".encode()}, {"data": "any"}),
    "lm.Corpus.text": (_corpus_text, {"language": "de", "split": "train"}, {"language": "column"}),
    "lm.build_corpus": (None, {"tree": _lm_tree(), "identify": None, "holdout_fraction": 0.25, "seed": 0},
                        {"identify": "any"}),
    "lm.non_embedding_parameters": (None, {"d_model": 30, "n_layer": 2}, {}),
    "lm.mixture_weights": (None, {"sizes": {"de": 900, "hi": 100}, "temperature": 0.5}, {}),
    "lm.memory_estimate": (None, {"model_size": "xs", "batch": 16, "context": 128, "size": None}, {}),
    "lm.check_config": (None, {"cfg": _run_config(), "train_bytes": {"de": 10_000, "vi": 10_000},
                               "memory_limit": 2**31}, {"cfg": "df"}),
    "lm.sha256_file": (None, {"path": _audit_csv()}, _PATHS),
    "lm.select_languages": (None, {"stats": _lm_stats(), "min_chars": 30_000}, {}),
    "lm.make_streams": (None, {"corpus": _corpus(), "languages": ["de"], "eval_bytes": 3000},
                        {"corpus": "df", "languages": "any"}),
    "lm.grid_runs": (None, {"grid": _quick_grid(), "streams": _streams()}, {"streams": "df"}),
    "lm.load_runs": (None, {"verify": True}, {}),
    "lm.load_corpus_stats": (None, {"verify": True}, {}),
    "lm.load_provenance": (None, {}, {}),
    "lm.losses": (None, {"runs": _lm_runs(), "unit": "char"}, {}),
    "lm.with_weights": (None, {"runs": _lm_runs(), "stats": _lm_stats()}, {}),
    "lm.aggregate_curve": (None, {"runs": importlib.import_module("helpers.lm").with_weights(_lm_losses(),
                                                                                            _lm_stats()),
                                  "by": ["size", "temperature", "seed", "tokens"], "weighting": "equal"},
                           {"by": "any"}),
    "lm.language_points": (None, {"runs": _lm_losses(), "stats": _lm_stats(), "temperature": 1.0, "model_size": None,
                                  "min_tokens": 0, "weighting": "natural", "size": None}, {"model_size": "choice"}),
    "lm.fit_languages": (None, {"points": _lm_points(), "size": "tokens", "n_boot": 0, "seed": 0},
                         {"size": "column"}),
    "lm.seed_noise": (None, {"runs": _lm_losses()}, {}),
    "lm.seed_variance_ratio": (None, {"runs": _lm_losses(), "model_size": "xl", "size": None}, {"model_size": "choice"}),
    "lm.temperature_effects": (None, {"runs": _lm_losses(), "tokens": 64000, "level": 0.95, "noise": None},
                               {"noise": "df"}),
    "lm.temperature_votes": (None, {"effects": importlib.import_module("helpers.lm").temperature_effects(
                                        _lm_losses()), "stats": _lm_stats(), "model_size": "xl", "size": None},
                             {"model_size": "choice"}),
    "lm.population_curves": (None, {"points": _lm_points(), "tolerance": 0.05, "n_perm": 2, "n_boot": 0,
                                    "seed": 0}, {}),
    "lm.compute_optimal_by_language": (None, {"fits": _lm_chinchilla_fits(), "budgets": [1e12], "ci": False},
                                       {"fits": "df"}),
    "lm.local_vs_multilingual": (None, {"runs": _lm_losses(), "multilingual_size": "xl"},
                                 {"multilingual_size": "choice"}),
    "lm.local_summary": (None, {"runs": _lm_losses(), "multilingual_size": "xl", "level": 0.95, "noise": None},
                         {"multilingual_size": "choice", "noise": "df"}),
    "lm.unit_table": (None, {"runs": _lm_runs(), "model_size": "xl", "temperature": 1.0, "size": None},
                      {"model_size": "choice"}),
    # experiments (a 200-row frame and one small model: a learning curve costs about 0.02 s)
    "sampling.frame_sample": (None, {"groups": _POOL, "n": 6, "frame": "convenience", "majority_weight": 4.0,
                                        "seed": 0, "size": None}, {}),
    "experiments.group_metrics": (None, {"y_true": [1, 0, 1, 1], "proba": [0.9, 0.2, 0.4, 0.8],
                                         "groups": ["a", "a", "b", "b"]}, {"groups": "any"}),
    "experiments.learning_curve": (_threads(importlib.import_module("helpers.experiments").learning_curve),
                                   {"df": _learning_frame(), "target": "y", "features": ["x"], "group": "g",
                                          "sizes": [50], "seeds": [0], "models": ["logistic_d1"],
                                          "frame": "convenience", "eval_fraction": 0.2, "seed": 0,
                                          "majority_weight": 4.0, "n_jobs": 1, "progress": False},
                                   {"features": "any", "sizes": "any", "seeds": "any", "models": "any",
                                    "group": "column"}),
    "experiments.run_experiment": (_threads(importlib.import_module("helpers.experiments").run_experiment),
                                   {"name": "cps1988", "sizes": [250], "seeds": [0], "models": ["logistic_d1"],
                                          "frames": ("random",), "live": False, "n_jobs": 1, "progress": False},
                                   {"sizes": "any", "seeds": "any", "models": "any", "frames": "any"}),
    "experiments.load_results": (None, {"name": "cps1988", "directory": None}, {"directory": "any"}),
    "experiments.main": (_in_tmp(importlib.import_module("helpers.experiments").main),
                         {"argv": ["cps1988", "--quick", "--out", "out"]}, {"argv": "any"}),
    "experiments.ModelSpec.build": (_model_build, {"random_state": 0}, {"random_state": "seed"}),
    "experiments.ExperimentSpec.frame": (_experiment_method("frame"), {}, {}),
    "experiments.ExperimentSpec.grid": (_experiment_method("grid"), {"live": True}, {}),
})


# --------------------------------------------------------------------------- the walk


def public_callables() -> list[str]:
    """Every public function, class and method (with parameters beyond self) defined in the modules."""
    names = []
    for m in MODULES:
        mod = importlib.import_module(f"helpers.{m}")
        exported = getattr(mod, "__all__", None)
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if exported is not None and name not in exported:
                continue
            if inspect.isfunction(obj):
                names.append(f"{m}.{name}")
            elif inspect.isclass(obj):
                # A dataclass field whose default is a function (DatasetSpec.tidy) is data, not a method.
                fields = {f.name for f in dataclasses.fields(obj)} if dataclasses.is_dataclass(obj) else set()
                for meth, f in vars(obj).items():
                    if not meth.startswith("_") and inspect.isfunction(f) and meth not in fields:
                        names.append(f"{m}.{name}.{meth}")
                # A result class a reader builds by hand is a constructor to test as well.
                if f"{m}.{name}" in CALLS:
                    names.append(f"{m}.{name}")
    return names


def _target(name: str) -> Callable[..., Any]:
    func, _, _ = CALLS[name]
    if func is not None:
        return func
    module, attr = name.split(".", 1)
    return getattr(importlib.import_module(f"helpers.{module}"), attr)


def _kind(name: str, arg: str, value: Any, valid: dict[str, Any]) -> str:
    override = CALLS[name][2].get(arg)
    if override:
        return override
    frame = next((v for v in valid.values() if isinstance(v, pd.DataFrame)), None)
    if arg == "seed":
        return "seed"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "count"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "column" if frame is not None and value in frame.columns else "choice"
    if isinstance(value, pd.DataFrame):
        return "df"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return "array"
    return "any"


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def _numbers(obj: Any, depth: int = 0, skip: Callable[[str], bool] | None = None) -> list[float]:
    """All numeric leaves of a result (arrays, frames, dataclass fields, dicts and tuples).

    ``skip(name)`` true leaves out the frame columns, dataclass fields and dict entries of that name.
    """
    def kept(name: Any) -> bool:
        return skip is None or not isinstance(name, str) or not skip(name)

    if depth > 4 or obj is None:
        return []
    if isinstance(obj, (bool, np.bool_, str)):
        return []
    if isinstance(obj, (int, float, np.integer, np.floating)):
        return [float(obj)]
    if isinstance(obj, pd.DataFrame):
        num = obj.select_dtypes("number")
        num = num[[c for c in num.columns if kept(c)]]
        return num.to_numpy(dtype=float).ravel().tolist()
    if isinstance(obj, (pd.Series, pd.Index)):
        return obj.to_numpy(dtype=float).ravel().tolist() if pd.api.types.is_numeric_dtype(obj) else []
    if isinstance(obj, np.ndarray):
        return obj.astype(float).ravel().tolist() if obj.dtype.kind in "biuf" else []
    if dataclasses.is_dataclass(obj):
        out = []
        for f in dataclasses.fields(obj):
            if kept(f.name):
                out += _numbers(getattr(obj, f.name), depth + 1, skip)
        return out
    if isinstance(obj, Mapping):
        return [x for k, v in obj.items() if kept(k) for x in _numbers(v, depth + 1, skip)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in _numbers(v, depth + 1, skip)]
    return []


def _raised_in_helpers(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename).startswith(HELPERS_DIR)


def _call(func: Callable[..., Any], kwargs: dict[str, Any]) -> tuple[str, Any, list[warnings.WarningMessage]]:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return "ok", func(**kwargs), list(caught)
            except _Timeout:
                return "timeout", None, list(caught)
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - classifying every exception is the point
                return "raised", exc, list(caught)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _nonfinite(result: Any, skip: Callable[[str], bool] | None = None) -> int:
    return sum(1 for v in _numbers(result, skip=skip) if not math.isfinite(v))


@functools.cache
def _baseline(name: str) -> int:
    valid = CALLS[name][1]
    status, result, _ = _call(_target(name), dict(valid))
    assert status == "ok", f"the known-good call of {name} fails: {result!r}"
    return _nonfinite(result, _interval_column if _no_boot(name, valid) else None)


def _no_boot(name: str, kwargs: Mapping[str, Any]) -> bool:
    return name in NAN_WITHOUT_BOOTSTRAP and isinstance(kwargs.get("n_boot"), int) and kwargs["n_boot"] == 0


def classify(name: str, arg: str, label: str, value: Any) -> str:
    """The outcome of ``name`` with ``arg`` replaced by ``value``: 'ok', 'rejected' or a failure description."""
    _fits()  # built once, outside the timed call
    valid = CALLS[name][1]
    kind = _kind(name, arg, valid[arg], valid)
    kwargs = {**valid, arg: value}
    status, result, caught = _call(_target(name), kwargs)
    if status == "timeout":
        return f"hang (> {TIMEOUT_S} s)"
    if status == "raised":
        exc = result
        if type(exc) is not ValueError:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return f"{type(exc).__name__} at {os.path.basename(where.filename)}:{where.lineno}: {exc}"[:200]
        if not _raised_in_helpers(exc):
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return f"ValueError from {os.path.basename(where.filename)}:{where.lineno}: {exc}"[:200]
        message = str(exc)
        shown = arg.rstrip("s") if len(arg) > 3 else arg
        # A wrong column name is answered by listing the columns that exist, which names the fix.
        named = shown.lower() in message.lower() or (kind == "column" and "column" in message.lower())
        if kind not in ("df", "any") and not named:
            return f"ValueError does not name {arg!r}: {message}"[:200]
        return "rejected"
    default = _parameters(name).get(arg)
    none_ok = label == "None" and (default is not None and default.default is None or valid[arg] is None)
    if label in MUST_REJECT[kind] and not none_ok:
        return f"accepted invalid {kind} {label}"
    bad = _nonfinite(result, _interval_column if _no_boot(name, kwargs) else None)
    # A numpy "overflow encountered" warning says where, not why: only a warning from outside the numeric
    # libraries (the library's own) counts as an explanation.
    explained = any(not any(f"{os.sep}{lib}{os.sep}" in w.filename for lib in FOREIGN) for w in caught)
    if bad > _baseline(name) and not explained:
        return f"{bad} non-finite value(s) in the result without a warning that says why"
    return "ok"


def cases(name: str) -> list[tuple[str, str, Any]]:
    valid = CALLS[name][1]
    return [(arg, label, value) for arg in valid for label, value in HOSTILE]


def run(name: str) -> Counter:
    return Counter(classify(name, arg, label, value) for arg, label, value in cases(name))


# --------------------------------------------------------------------------- tests


def test_table_covers_the_whole_public_api():
    missing = sorted(set(public_callables()) - set(CALLS))
    assert not missing, f"public callables without a known-good call in CALLS: {missing}"
    for name, (_, valid, _) in CALLS.items():
        params = _parameters(name)
        named = {p for p, v in params.items() if v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL) and p != "self"}
        assert named <= set(valid) or any(v.kind == v.VAR_KEYWORD for v in params.values()), \
            f"{name}: arguments {sorted(named - set(valid))} are not exercised"


def _parameters(name: str) -> Mapping[str, inspect.Parameter]:
    """The parameters of the public callable behind ``name`` (a method's own, not its wrapper's ``*args``)."""
    return inspect.signature(_target(name) if CALLS[name][0] is None else _real(name)).parameters


def _real(name: str) -> Callable[..., Any]:
    module, *rest = name.split(".")
    obj: Any = importlib.import_module(f"helpers.{module}")
    for part in rest:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", sorted(CALLS))
def test_hostile_arguments_get_the_library_error(name):
    failures = []
    for arg, label, value in cases(name):
        outcome = classify(name, arg, label, value)
        if outcome not in ("ok", "rejected"):
            failures.append(f"{name}({arg}={label}): {outcome}")
    assert not failures, "\n".join(failures)


def category(outcome: str) -> str:
    """A coarse class of an outcome, for the tally."""
    if outcome in ("ok", "rejected"):
        return outcome
    for prefix, label in (("accepted invalid", "invalid input accepted"), ("hang", "hang"),
                          ("ValueError from", "ValueError raised inside numpy/pandas/scipy"),
                          ("ValueError does not name", "ValueError not naming the argument")):
        if outcome.startswith(prefix):
            return label
    if "non-finite" in outcome:
        return "NaN/inf without a warning"
    return outcome.split(" at ")[0]


def tally(verbose: bool = False) -> Counter:
    total: Counter = Counter()
    for name in sorted(CALLS):
        for arg, label, value in cases(name):
            outcome = classify(name, arg, label, value)
            total[category(outcome)] += 1
            if verbose and outcome not in ("ok", "rejected"):
                print(f"{name}({arg}={label}): {outcome}")
    return total


if __name__ == "__main__":
    counts = tally(verbose="-v" in sys.argv)
    print(f"{sum(counts.values())} cases over {len(CALLS)} callables")
    for outcome, n in counts.most_common():
        print(f"{n:6d}  {outcome}")
    sys.exit(0)


# --------------------------------------------------------------------------- the cases named in issues 15 and 16


@pytest.mark.parametrize("call, match", [
    (lambda: importlib.import_module("helpers.sampling").sample_partition(10, theta=1.0, seed=1.5), "seed"),
    (lambda: importlib.import_module("helpers.scaling").chinchilla_loss(1e9, 1e10, **{**_CHIN, "E": "2"}), "E must"),
    (lambda: importlib.import_module("helpers.design").chinchilla_design(**{**_CHIN, "A": None}), "A must"),
    (lambda: importlib.import_module("helpers.design").chinchilla_design(**{**_CHIN, "A": 1e308}), "not finite"),
    (lambda: importlib.import_module("helpers.design").chinchilla_design(**_CHIN, models_per_budget=2**63 - 1),
     "models_per_budget must be <="),
    (lambda: importlib.import_module("helpers.scaling").power_law([5e-324], a=2.0, b=1.0), "not finite"),
    (lambda: importlib.import_module("helpers.scaling").power_law([1.0], a="2", b=1.0), "a must"),
    (lambda: importlib.import_module("helpers.scaling").power_law([1.0], a=True, b=1.0), "a must"),
])
def test_issue_cases_raise_the_library_error(call, match):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no numpy overflow warning on the way
        with pytest.raises(ValueError, match=match) as info:
            call()
    assert _raised_in_helpers(info.value)


def test_validators_agree_on_what_a_number_is():
    from helpers import _validate as v
    for bad in (True, "2", 1 + 2j, None, pd.NA, float("nan"), float("inf"), [1.0]):
        with pytest.raises(ValueError, match="x must"):
            v.finite_scalar(bad, "x")
    assert v.finite_scalar(np.float32(0.5), "x") == 0.5 and v.finite_scalar(np.array(2), "x") == 2.0
    assert v.finite_scalar(10**400 - 10**400 + 3, "x") == 3.0
    with pytest.raises(ValueError, match="x must be finite"):
        v.finite_scalar(10**400, "x")  # an int too large for a float is infinite, not an OverflowError
    with pytest.raises(ValueError, match=r"p must be <= 1"):
        v.probability(1.5, "p")
    for bad in (1.5, 2.0, True, "3", -1):
        with pytest.raises(ValueError, match="n must"):
            v.positive_int(bad, "n")
    with pytest.raises(ValueError, match="n must be <= 10"):
        v.positive_int(2**63 - 1, "n", maximum=10)
    assert v.seed(np.int64(3)) == 3 and v.seed(None, allow_none=True) is None
    for bad in (1.5, -1, None, True):
        with pytest.raises(ValueError, match="seed must be an integer >= 0"):
            v.seed(bad)
    for bad in (pd.NA, np.ones((2, 2)), None, 1):
        with pytest.raises(ValueError, match="Unknown loss"):
            v.one_of(bad, ("huber", "squared"), "loss")
    with pytest.raises(ValueError, match="Column names must be labels"):
        v.has_columns(pd.DataFrame({"a": [1]}), [[]])
    for bad in (["1", "2"], [1 + 2j], [1.0, pd.NA], "3"):
        with pytest.raises(ValueError, match="y must"):
            v.as_float_array(bad, "y")
    np.testing.assert_array_equal(v.binary_array([True, False, 1], "b"), [1, 0, 1])
