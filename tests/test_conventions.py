"""One parameter name per concept across the public API of ``helpers``.

Counts of repetitions have three names, one per concept, and no synonyms:

* ``n_boot``: bootstrap resamples (draws with replacement from the data, including the stratified draws of
  ``sampling.compare_on_mixes``);
* ``n_perm``: random orders or shuffles of the groups (``third_axis``, ``coverage_curve``, ...);
* ``n_trials``: repeated simulations from a stated model or design (``goodhart.simulate_best_of_n``,
  ``local.evaluation_study``).

Sizes have one name per role:

* ``size`` names the column that holds the sizes (``fit_by_group(df, size="train_size")``); output tables call
  their column of sizes ``size`` too;
* ``sizes`` is a grid of sizes given as numbers (``learning_curve(sizes=[100, 1000])``);
* a single sample size is ``n`` (``sample_partition(n=...)``, ``compare_on_mixes(n=...)``, ``frame_sample(groups, n)``);
* a model size of the language models (``"xs"`` to ``"xl"``) is ``model_size`` (``multilingual_size`` when it
  names the multilingual model compared with the local ones).

An old name survives for one release only as a keyword documented "Deprecated" in the docstring (it warns when
used; the modules' own tests check that).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import helpers

CONCEPT_NAMES = {"n_boot", "n_perm", "n_trials"}
#: Names other libraries or earlier versions used for the same three concepts.
SYNONYMS = re.compile(r"^n_(draws?|reps?|repeats?|replicates?|resamples?|bootstraps?|boots|sims?|simulations?|"
                      r"shuffles?|permutations?|perms|iter(ations)?|samples?)$")


def _public_callables() -> list[tuple[str, object]]:
    found = []
    for info in pkgutil.iter_modules(helpers.__path__):
        if info.name.startswith("_") or info.name == "lm_train":  # lm_train needs torch (the lm extra)
            continue
        module = importlib.import_module(f"helpers.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj):
                found.append((f"{info.name}.{name}", obj))
            elif inspect.isclass(obj):
                found += [(f"{info.name}.{name}.{k}", v) for k, v in vars(obj).items()
                          if inspect.isfunction(v) and not k.startswith("_")]
    return found


CALLABLES = _public_callables()


def test_the_scan_sees_the_three_names():
    seen = {p for _, f in CALLABLES for p in inspect.signature(f).parameters}
    assert CONCEPT_NAMES <= seen


def _deprecated(func, param: str) -> bool:
    """Whether ``param`` is a deprecated alias: documented "Deprecated" and defaulting to None (never used
    silently)."""
    entry = re.search(rf"^{param} : .*\n((?:    .*\n?)+)", inspect.getdoc(func) or "", flags=re.M)
    return bool(entry and "Deprecated" in entry.group(1)) and inspect.signature(func).parameters[param].default is None


@pytest.mark.parametrize("name, func", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_repetition_counts_use_the_one_name_of_their_concept(name, func):
    for param in inspect.signature(func).parameters:
        if SYNONYMS.match(param):
            assert _deprecated(func, param), (
                f"{name}({param}=...): use one of {sorted(CONCEPT_NAMES)} (see this file's docstring), or document "
                f"{param} as a Deprecated alias defaulting to None")


SIZE_PARAMS = [(n, f) for n, f in CALLABLES if "size" in inspect.signature(f).parameters]


def test_the_scan_sees_size_columns_and_the_deprecated_sizes():
    names = {n for n, _ in SIZE_PARAMS}
    assert {"disaggregate.fit_by_group", "audit.audit", "lm.fit_languages", "lm.unit_table",
            "sampling.compare_on_mixes", "sampling.frame_sample"} <= names


@pytest.mark.parametrize("name, func", SIZE_PARAMS, ids=[n for n, _ in SIZE_PARAMS])
def test_size_names_a_column_and_nothing_else(name, func):
    # A column name is text (or several, for a law in two sizes); a count or a model label under this name is
    # only a deprecated alias of n or model_size.
    annotation = str(inspect.signature(func).parameters["size"].annotation)
    if _deprecated(func, "size"):
        return
    assert "str" in annotation and "int" not in annotation and "None" not in annotation, (
        f"{name}(size: {annotation}): size names the column of sizes; a sample size is n and a model size "
        "model_size (see this file's docstring)")
    doc = inspect.getdoc(func) or ""
    entry = re.search(r"^size : .*\n((?:    .*\n?)+)", doc, flags=re.M)
    assert entry is None or "column" in entry.group(0), f"{name}: document size as a column"


def test_the_synonym_pattern_catches_the_old_names():
    assert all(SYNONYMS.match(n) for n in ("n_draws", "n_rep", "n_resamples", "n_sims", "n_permutations"))
    assert not any(SYNONYMS.match(n) for n in CONCEPT_NAMES | {"n_examples", "n_jobs", "n_seeds", "n_grid"})
