"""One parameter name per concept across the public API of ``helpers``.

Counts of repetitions have three names, one per concept, and no synonyms:

* ``n_boot``: bootstrap resamples (draws with replacement from the data, including the stratified draws of
  ``sampling.compare_on_mixes``);
* ``n_perm``: random orders or shuffles of the groups (``third_axis``, ``coverage_curve``, ...);
* ``n_trials``: repeated simulations from a stated model or design (``goodhart.simulate_best_of_n``,
  ``local.evaluation_study``).

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


@pytest.mark.parametrize("name, func", CALLABLES, ids=[n for n, _ in CALLABLES])
def test_repetition_counts_use_the_one_name_of_their_concept(name, func):
    doc = inspect.getdoc(func) or ""
    for param in inspect.signature(func).parameters:
        if SYNONYMS.match(param):
            # Only as a deprecated alias, documented as such, defaulting to None (so it is never used silently).
            entry = re.search(rf"^{param} : .*\n((?:    .*\n?)+)", doc, flags=re.M)
            assert entry and "Deprecated" in entry.group(1), (
                f"{name}({param}=...): use one of {sorted(CONCEPT_NAMES)} (see this file's docstring)")
            assert inspect.signature(func).parameters[param].default is None, f"{name}: {param} must default to None"


def test_the_synonym_pattern_catches_the_old_names():
    assert all(SYNONYMS.match(n) for n in ("n_draws", "n_rep", "n_resamples", "n_sims", "n_permutations"))
    assert not any(SYNONYMS.match(n) for n in CONCEPT_NAMES | {"n_examples", "n_jobs", "n_seeds", "n_grid"})
