"""Shared input checks for the public functions of :mod:`helpers`.

Every public function validates what it is given and raises a ``ValueError``
that says what is wrong *and* how to fix it. Keeping the checks here means the
messages read the same across the library, and each module stays short.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


#: One label per row (groups, communities), as the public functions take it: a list, an array or a Series.
Labels = Sequence[Any] | np.ndarray | pd.Series

def _reject_non_numeric(values: Any, name: str) -> None:
    """Refuse text, complex numbers and missing markers before numpy quietly converts or drops them."""
    if isinstance(values, (bool, np.bool_)):
        raise ValueError(f"{name} must be numbers; got the single truth value {values!r}.")
    if isinstance(values, (str, bytes)):
        raise ValueError(
            f"{name} must be numeric; got the text {values!r}. Pass numbers (convert text with float() or "
            f"pandas.to_numeric first)."
        )
    raw = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    try:
        kind = np.asarray(raw).dtype.kind
    except Exception:  # ragged or otherwise un-arrayable input: let the float conversion report it
        return
    if kind in "USc":
        what = "complex numbers" if kind == "c" else "text"
        raise ValueError(
            f"{name} must hold real numbers; got {what}. Convert the values with pandas.to_numeric "
            f"(or take the real part) before calling."
        )
    if kind == "O":
        flat = np.asarray(raw, dtype=object).ravel()
        for v in flat:
            if isinstance(v, (str, bytes, complex)) or v is pd.NA:
                raise ValueError(
                    f"{name} must hold real numbers; found {v!r}. Convert the column with "
                    f"pandas.to_numeric and drop missing values first."
                )


def as_float_array(values: Any, name: str, *, ndim: int = 1) -> np.ndarray:
    """Return ``values`` as a finite float array of dimension ``ndim``."""
    _reject_non_numeric(values, name)
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
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
    try:
        found = any(value is a or (type(value) is type(a) or isinstance(value, str)) and bool(value == a)
                    for a in allowed)
    except (TypeError, ValueError):  # pd.NA and arrays have no single truth value: they match nothing
        found = False
    if not found:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {allowed}.")


def flag(value: Any, name: str) -> bool:
    """A yes/no option: ``True`` or ``False`` (numpy booleans too), never a number or text that looks like one."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def has_columns(df: pd.DataFrame, columns: Iterable[str], *, what: str = "the data frame") -> None:
    """Raise when any of ``columns`` is missing from ``df``, listing what exists."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"Expected a pandas DataFrame for {what}; got {type(df).__name__}.")
    columns = list(columns)
    for c in columns:
        try:
            hash(c)
        except TypeError:
            raise ValueError(
                f"Column names must be labels such as strings; got {c!r} for {what}. Pass the name of a column."
            ) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"Unknown column(s) {missing} in {what}; available columns are {list(df.columns)}."
        )


def _is_real_number(value: Any) -> bool:
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def finite_scalar(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    example: float | None = None,
) -> float:
    """Return ``value`` as a finite float, optionally inside ``[low, high]`` (``low_open``/``high_open``: strict).

    Only real numbers count: ``True``, the text ``"2"``, complex numbers, ``None`` and ``pandas.NA`` are refused
    rather than converted, because a silent conversion hides a bug in the caller.
    """
    hint = f" (e.g. {name}={example})" if example is not None else ""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not _is_real_number(value):
        raise ValueError(f"{name} must be a single real number{hint}; got {value!r} of type {type(value).__name__}.")
    try:
        v = float(value)
    except OverflowError:
        v = float("inf")
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite{hint}; got {value!r}.")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}{hint}; got {v:g}.")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}{hint}; got {v:g}.")
    return v


def probability(value: Any, name: str, *, strict: bool = False, example: float | None = None) -> float:
    """A number in ``[0, 1]``, or in ``(0, 1)`` with ``strict=True`` (levels and test shares)."""
    return finite_scalar(value, name, low=0.0, high=1.0, low_open=strict, high_open=strict, example=example)


def confidence_level(value: Any, name: str = "confidence") -> float:
    """An interval's coverage, strictly between 0 and 1 (1 would give an infinite interval)."""
    return probability(value, name, strict=True, example=0.95)


#: Cap for counts of resamples, draws, permutations, waves and iterations: far above any useful value,
#: and low enough that an accidental 2**63 - 1 is refused before it tries to allocate.
MAX_COUNT = 10**7


#: Inclusion weights of a convenience frame's easy-to-reach (``majority_weight``): beyond these the draw
#: probabilities round to 0 or overflow (1e308 made numpy's choice() fail with "probabilities do not sum to 1").
WEIGHT_RANGE = (1e-100, 1e100)


def check_majority_weight(value: Any) -> float:
    """A convenience frame's inclusion weight of the majority, within :data:`WEIGHT_RANGE`, so that every pool
    member keeps a probability numpy can draw (``sampling.frame_sample``, ``experiments``, ``local``)."""
    return finite_scalar(value, "majority_weight", low=WEIGHT_RANGE[0], high=WEIGHT_RANGE[1], example=4.0)


def positive_int(value: Any, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int in ``[minimum, maximum]`` or raise (``maximum=None``, the default: no upper bound).

    Pass ``maximum`` (e.g. :data:`MAX_COUNT`) for a count that sizes an allocation or a loop.

    ``1.5``, ``2.0``, ``True`` and ``"3"`` are refused: a count is a whole number given as an integer.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(
            f"{name} must be an integer >= {minimum}; got {value!r}. Pass a whole number such as {max(minimum, 1)}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(
            f"{name} must be <= {maximum:,}; got {value:,}, which is more than this function can compute in "
            f"reasonable time and memory. Pass a smaller {name}."
        )
    return int(value)


#: Counts are also the name the rest of the library uses for positive_int.
count = positive_int


def seed(value: Any, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """A seed for ``numpy.random.default_rng``: an integer >= 0 (or ``None`` when ``allow_none``).

    A float such as 1.5 is refused here, with the library's message, instead of numpy's TypeError.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        alt = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= 0{alt} (e.g. {name}=0); got {value!r}.")
    return int(value)


def whole_numbers(values: Any, name: str, *, minimum: int = 1, maximum: float | None = 2.0**53,
                  meaning: str = "") -> np.ndarray:
    """Whole numbers ``>= minimum`` (ints or integer-valued floats) as a 1-d float array; ``meaning`` says what they
    count. The default ``maximum``, 2**53, is the last integer a float holds exactly, so a later cast to int64 cannot
    wrap around; ``maximum=None``: no upper bound (for formulas that take any size).
    """
    what = f" ({meaning})" if meaning else ""
    arr = as_float_array(values, name)
    bad = (arr < minimum) | (arr != np.round(arr))
    if bad.any():
        raise ValueError(f"{name} must hold whole numbers >= {minimum}{what}; found {arr[bad][0]:g}.")
    if maximum is not None and (arr > maximum).any():
        raise ValueError(f"{name} must hold whole numbers <= {maximum:.0f}{what}; found {arr.max():g}.")
    return arr


def nonnegative_weights(values: Any, name: str, *, require_positive: bool = True) -> np.ndarray:
    """Finite weights >= 0 as a 1-d float array; with ``require_positive``, not all zero."""
    w = as_float_array(values, name)
    if (w < 0).any():
        raise ValueError(f"{name} has {int((w < 0).sum())} negative value(s); weights must be >= 0.")
    if require_positive and not w.any():
        raise ValueError(f"{name} are all zero; at least one unit must carry weight.")
    return w


def binary_array(values: Any, name: str, *, meaning: str = "", hint: str = "") -> np.ndarray:
    """A 1-d array of 0/1 (``False``/``True`` accepted) as int64.

    ``meaning`` says what a 1 stands for and ``hint`` how to derive such a column; both go into the message.
    Text or categories are refused with the values found, not with the advice to convert them to numbers.
    """
    what = f": {meaning}" if meaning else ""
    fix = f" {hint}" if hint else ""
    raw = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values
    try:
        kind = np.asarray(raw).dtype.kind
    except Exception:  # ragged input: let the float conversion report it
        kind = "f"
    if kind in "USO" and not isinstance(raw, (bool, np.bool_)):
        found = np.asarray(raw, dtype=object).ravel()
        if any(isinstance(v, (str, bytes)) for v in found):
            shown = sorted({str(v) for v in found})[:5]
            raise ValueError(f"{name} must be binary, 0/1 or False/True{what}; got values {shown}.{fix}")
    arr = as_float_array(values, name)
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise ValueError(f"{name} must be binary, 0/1 or False/True{what}; found {arr[bad][0]:g}.{fix}")
    return arr.astype(np.int64)


def finite_output(values: Any, what: str, *, inputs: str) -> Any:
    """Raise when a computed result overflowed (inf) or became NaN for inputs that passed the checks."""
    arr = np.asarray(values, dtype=float)
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{what} is not finite (it overflows the float range) for these {inputs}; use values of a less "
            f"extreme magnitude."
        )
    return values


def label(value: Any, name: str, *, allow_none: bool = False) -> Any:
    """A single group label (a string, number or other hashable value), not a list, array or missing value."""
    if value is None and allow_none:
        return None
    missing = value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
    try:
        hash(value)
    except TypeError:
        missing = True
    if missing or isinstance(value, (np.ndarray, pd.Series, tuple)):
        raise ValueError(f"{name} must be a single group label, e.g. {name}='F'; got {value!r}.")
    return value


def sequence(values: Any, name: str, *, example: str, hashable: bool = False) -> list[Any]:
    """A list of values given as a list, tuple, array or Series (a lone string or number is refused).

    With ``hashable=True`` every entry must be a label (column names, group labels, answer options).
    """
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (Sequence, np.ndarray, pd.Series, pd.Index)):
        raise ValueError(f"{name} must be a list, e.g. {name}={example}; got {values!r}.")
    out = list(values)
    if hashable:
        for v in out:
            try:
                hash(v)
            except TypeError:
                raise ValueError(f"{name} must list labels (e.g. {name}={example}); found {v!r}.") from None
    return out


def renamed(new_value: Any, old_value: Any, *, new: str, old: str, default: Any) -> tuple[Any, str]:
    """The value of a renamed parameter and the name the caller used (for error messages), accepting the old
    keyword for one release with a FutureWarning.

    ``old_value`` is ``None`` unless the caller used the old keyword. FutureWarning rather than DeprecationWarning:
    Python hides the latter outside ``__main__``, and a reader's notebook cell is where the old name is used.
    """
    if old_value is None:
        return new_value, new
    if new_value is not default and new_value != default:
        raise ValueError(f"{old} is the old name of {new}; pass only {new}={new_value!r}.")
    import warnings  # only on the deprecated path

    warnings.warn(f"{old} was renamed {new} (one name per concept across helpers); {old} will be removed "
                  f"in the next release: pass {new}={old_value!r}.", FutureWarning, stacklevel=3)
    return old_value, old


def renamed_required(new_value: Any, old_value: Any, *, new: str, old: str, example: str) -> tuple[Any, str]:
    """:func:`renamed` for a parameter without a default: the new keyword defaults to ``None`` only so that the
    old one can still be passed, and leaving both out raises the library's ``ValueError`` naming the new one."""
    value, used = renamed(new_value, old_value, new=new, old=old, default=None)
    if value is None:
        raise ValueError(f"{new} is required, e.g. {new}={example}.")
    return value, used


def file_path(value: Any, name: str = "path", *, example: str = "results.csv") -> Path:
    """A file-system path given as text or a :class:`pathlib.Path` (``os.PathLike``), not empty.

    A number is refused, not only ``None``: ``open(0)`` would read (and then close) standard input, because Python
    takes an integer for a file descriptor.
    """
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return Path(value)
    raise ValueError(f"{name} must be a file path given as text or a pathlib.Path (e.g. {name}={example!r}); "
                     f"got {value!r}.")


def label_list(values: Any, name: str, *, example: str) -> list[Any]:
    """A non-empty list of labels (column names, languages, options); a lone string counts as a list of one."""
    if isinstance(values, str):
        return [values]
    out = sequence(values, name, example=example, hashable=True)
    if not out:
        raise ValueError(f"{name} is empty; pass at least one, e.g. {name}={example}.")
    return out
