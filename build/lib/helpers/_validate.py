"""Shared input checks for the public functions of :mod:`helpers`.

Every public function validates what it is given and raises a ``ValueError``
that says what is wrong *and* how to fix it. Keeping the checks here means the
messages read the same across the library, and each module stays short.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd


def as_float_array(values: Any, name: str, *, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a finite float array of dimension ``ndim``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric; got values that cannot be converted to float ({exc}). "
            f"Convert the column with pandas.to_numeric first."
        ) from None
    if arr.ndim == 0 and ndim == 1:
        arr = arr.reshape(1)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one value.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf), e.g. at position "
            f"{int(np.flatnonzero(bad.ravel())[0])}; drop or impute them before calling."
        )
    return arr


def as_positive_array(values: Any, name: str) -> np.ndarray:
    """Return a finite 1-d float array whose entries are all > 0."""
    arr = as_float_array(values, name)
    if (arr <= 0).any():
        raise ValueError(
            f"{name} must be strictly positive (sizes and losses are fitted on a log scale); "
            f"found {int((arr <= 0).sum())} value(s) <= 0, smallest {arr.min():g}."
        )
    return arr


def same_length(**arrays: Sequence[Any] | np.ndarray) -> int:
    """Check that all named arrays have the same length and return it."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"Mismatched lengths: {desc}. Pass arrays of equal length, one entry per point.")
    return next(iter(lengths.values()))


def min_points(n: int, needed: int, what: str) -> None:
    """Raise when ``n`` observations are too few for ``what``."""
    if n < needed:
        raise ValueError(f"{what} needs at least {needed} points; got {n}. Add measurements or use a simpler model.")


def one_of(value: Any, allowed: Iterable[Any], name: str) -> None:
    """Raise unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {allowed}.")


def has_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str = "the data frame") -> None:
    """Raise when any of ``columns`` is missing from ``df``, listing what exists."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"Expected a pandas DataFrame for {what}; got {type(df).__name__}.")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"Unknown column(s) {missing} in {what}; available columns are {list(df.columns)}."
        )


def positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    return int(value)
