"""Audit a scaling claim on your own results: per-group laws, the third axis, and a report that works offline.

:func:`audit` takes any tidy results table (one row per measured point, with a size, a metric and a group
label; a positive lower-is-better metric such as an error or a loss, or with ``higher_is_better`` a score on a
0-1 scale such as an accuracy, with its chance level) and runs the book's disaggregated analysis on it:
:func:`helpers.disaggregate.fit_by_group` for one law per group with bootstrap intervals, and
:func:`helpers.disaggregate.third_axis` for what the aggregate law still describes as the evaluation population
grows. The :class:`AuditReport` it returns holds the fits, the tables and the charts, and writes them as one HTML
file that needs no network: the chart libraries are inlined (:func:`helpers.plots.offline_bundle`), and every
number a chart shows is also in a table.

From a shell, on any CSV::

    python -m helpers.audit results.csv --size train_size --metric error --group region \\
        --n-examples n_eval --out report.html
    python -m helpers.audit evals.csv --size params --metric accuracy --higher-is-better --chance 0.5 \\
        --group language --out report.html

The report answers what the numbers can answer. What they cannot answer (what the metric stands for, whom the
evaluation set reaches, what was never measured) it asks the reader, following the checklist of
:ref:`ch-reporting`.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import html
import json
import os
import shlex
import sys
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from helpers import __version__, plots
from helpers._docs import fill_doc
from helpers._solver import EXPONENT_RANGE
from helpers._validate import seed as valid_seed
from helpers._validate import file_path, finite_scalar, flag, one_of, positive_int, sequence
from helpers.disaggregate import (
    OVERALL,
    GroupScalingFit,
    NumericalWarning,
    ThirdAxisResult,
    fit_by_group,
    third_axis,
)

__all__ = ["AuditReport", "audit", "check_output", "read_results", "main"]

#: Above this many rows the scaling chart shows the mean per group and size instead of every row.
MAX_CHART_POINTS = 1500
#: Charts draw at most this many groups (the largest) besides the aggregate; more cannot be told apart.
MAX_CHART_GROUPS = 12
#: Above this many fitted groups the holdout checks are refitted without bootstrap (no intervals): their
#: resamples would cost as much again as the whole fit.
HOLDOUT_BOOT_GROUPS = 100
#: Names the analysis uses for its own columns; a size or metric column may not carry them.
_RESERVED = ("group", "n_examples", "low", "high")

#: The scratch file of the docstring examples (helpers._docs).
_doc = fill_doc({"scratch_csv": '''
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "r.csv"'''})


# --------------------------------------------------------------------------- reading and checking input


@_doc
def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results CSV the way :func:`audit` expects it.

    Spaces after the commas and around the column names are dropped, a UTF-8 byte-order mark (as Excel writes
    it) is accepted, and only empty cells count as missing, so a group called ``"NA"`` or ``"None"`` stays a
    label. A file whose header has no comma but semicolons, tabs or ``|`` is read with that separator.

    Parameters
    ----------
    path : str or Path
        A comma-separated file with a header row (or separated by ``;``, tabs or ``|``).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        If there is no such file, it is a folder, it is empty, it has a header but no rows, or it is not
        readable as CSV.

    Examples
    --------
    {{scratch_csv}}
    >>> from helpers.audit import read_results
    >>> _ = path.write_text("size, error , group\\n100, 0.5, NA\\n")
    >>> read_results(path).to_dict("records")
    [{'size': 100, 'error': 0.5, 'group': 'NA'}]
    """
    p = file_path(path, "path")
    if not p.exists():
        raise ValueError(f"No file {str(p)!r} (relative paths start in {str(Path.cwd())!r}); check the path.")
    if p.is_dir():
        raise ValueError(f"{str(p)!r} is a folder; pass the CSV file inside it.")
    try:
        sep = _separator(p)
        df = pd.read_csv(p, sep=sep, skipinitialspace=True, keep_default_na=False, na_values=[""],
                         encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{str(p)!r} is empty (no header, no rows); write a header and one row per measured "
                         f"point.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{str(p)!r} is not a readable CSV file ({reason}); save it as comma-separated UTF-8 "
                         f"text with a header row.") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise ValueError(f"{str(p)!r} has a header ({', '.join(df.columns)}) but no rows; add one row per "
                         f"measured point.")
    return df


#: Separators a results file may use besides the comma (European spreadsheets write ";", pasted tables tabs).
_SEPARATORS = (";", "\t", "|")


def _separator(path: Path) -> str:
    """The header's separator: a comma unless the header has none and splits on ``;``, a tab or ``|``.

    Only the header is looked at, so a comma inside a quoted value further down cannot fool it.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError):
        return ","  # pandas gives the precise error
    if "," in header:
        return ","
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _check_columns(df: pd.DataFrame, roles: dict[str, str | None]) -> None:
    """Every named column exists (with close matches suggested) and plays one role only."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"audit() needs a pandas DataFrame; got {type(df).__name__}. Read a CSV with "
                         f"helpers.audit.read_results(path).")
    named = {role: col for role, col in roles.items() if col is not None or role != "n_examples"}
    for role, col in named.items():
        if not isinstance(col, str):
            raise ValueError(f"{role} must be one column name (a string); got {col!r}.")
    missing = []
    folded = {str(c).casefold(): str(c) for c in df.columns}
    for role, col in named.items():
        if col not in df.columns:
            # Case slips ("N" for "n") are the commonest; difflib alone scores one-letter names as unrelated.
            close = difflib.get_close_matches(col.casefold(), list(folded), n=1, cutoff=0.6)
            missing.append(f"{role}={col!r}" + (f" (did you mean {folded[close[0]]!r}?)" if close else ""))
    if missing:
        hint = ""
        if len(df.columns) == 1:
            found = [name for sep, name in ((";", "';'"), ("\t", "a tab"), ("|", "'|'"), (",", "','"))
                     if sep in str(df.columns[0])]
            if found:
                hint = (f" The file has one column whose name contains {found[0]}: it was probably meant to be "
                        f"separated by {found[0]}; read it with pandas.read_csv(path, sep=...) or save it as "
                        f"comma-separated.")
        raise ValueError(f"Column(s) not found: {', '.join(missing)}; the columns are {list(df.columns)}.{hint}")
    cols = list(named.values())
    if len(set(cols)) != len(cols):
        raise ValueError(f"Each role needs its own column; got {named}.")
    for role in ("size", "metric"):
        if named[role] in _RESERVED:
            raise ValueError(f"The {role} column may not be called {named[role]!r}: the analysis uses that name "
                             f"for its own column. Rename it first (e.g. df.rename(columns={{{named[role]!r}: "
                             f"'{role}_value'}})).")


def _check_numeric(df: pd.DataFrame, roles: dict[str, str | None]) -> None:
    """Name the first value that is not a number, which is what one needs to fix a CSV by hand."""
    for role in ("size", "metric", "n_examples"):
        col = roles.get(role)
        if col is None:
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            first = bad.idxmax()
            raw = df[col].loc[first]
            what = "missing" if pd.isna(raw) or str(raw).strip() == "" else f"{str(raw)!r}, not a number"
            raise ValueError(f"The {role} column {col!r} must hold numbers in every row; {int(bad.sum())} value(s) "
                             f"do not, the first at row {first!r}: {what}. Fix or drop those rows (a unit such "
                             f"as '10k' or a thousands separator is not a number).")


def _point_counts(df: pd.DataFrame, size: str, group: str) -> str:
    counts = df.groupby(df[group].astype(str))[size].agg(["size", "nunique"])
    shown = ", ".join(f"{g}: {r['size']} at {r['nunique']} size(s)" for g, r in counts.head(12).iterrows())
    more = f", and {len(counts) - 12} more" if len(counts) > 12 else ""
    return (f"Points per group: {shown}{more}. A law needs at least 3 points at 2 or more sizes per group "
            f"(a floor, a scale and an exponent).")


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class AuditReport:
    """The disaggregated analysis of one results table, ready to read, test or write as HTML.

    Attributes
    ----------
    source : str
        Where the rows came from (a file name, or ``"a data frame"``).
    size, metric, group : str
        The columns audited.
    n_examples : str or None
        Column of evaluation examples behind each value, if given.
    overall : str or None
        The group label whose rows are the aggregate, if given (otherwise the aggregate is pooled).
    n_boot, seed : int
        Bootstrap resamples and seed of every interval.
    tolerance : float
        Relative error within which the aggregate law counts as describing a group (third axis).
    order : str
        Order in which the third axis adds groups (``"size"``: largest first; ``"random"``).
    higher_is_better, chance, scale
        How the metric was turned into the fitted error (see :func:`~helpers.disaggregate.fit_by_group`).
    group_fit : GroupScalingFit
        The per-group and aggregate laws.
    third_axis : ThirdAxisResult or None
        The third-axis curve, or ``None`` when it could not be computed (see ``notes``).
    tables : dict of str to DataFrame
        ``"by_group"`` (every group, fitted or not, with its status; the aggregate first), ``"improvement"``,
        ``"non_improving"``, ``"difference"`` (empty with fewer than two fitted groups), ``"holdout"`` (each law
        refitted without its largest size, scored there: :meth:`~helpers.disaggregate.GroupScalingFit.holdout`),
        ``"leave_one_group_out"`` (per group, how well the other groups' pooled law predicts it, summarised
        from :meth:`~helpers.disaggregate.GroupScalingFit.leave_one_group_out`; empty with fewer than two fitted
        groups), ``"third_axis"`` and ``"described"`` (each group's fit by the aggregate law of the whole
        population; both empty without a third axis).
    charts : dict of str to altair chart
        ``"scaling"``, ``"exponents"`` and, with a third axis, ``"third_axis"``; each has a title and a
        description.
    notes : tuple of str
        What the audit could not do or what looks odd in the input (groups not fitted, a metric that rises).
    command : str
        The shell command that reproduces the report (for a data frame: the command on the frame saved as
        ``results.csv``).
    """

    source: str
    size: str
    metric: str
    group: str
    n_examples: str | None
    overall: str | None
    n_boot: int
    seed: int
    tolerance: float
    order: str
    group_fit: GroupScalingFit = field(repr=False)
    third_axis: ThirdAxisResult | None = field(repr=False)
    tables: dict[str, pd.DataFrame] = field(repr=False)
    charts: dict[str, alt.TopLevelMixin] = field(repr=False)
    notes: tuple[str, ...] = ()
    command: str = ""
    higher_is_better: bool = False
    chance: float | None = None
    scale: str = "log"

    def to_frame(self) -> pd.DataFrame:
        """The ``"by_group"`` table: one row per group and the aggregate, with laws, intervals and status."""
        return self.tables["by_group"].copy()

    def to_html(self) -> str:
        """The report as one self-contained HTML page (charts inlined, no network needed).

        Returns
        -------
        str
        """
        return _render(self)

    def write(self, path: str | Path, *, force: bool = False) -> Path:
        """Write :meth:`to_html` to ``path`` (folders are created) and return the path.

        The page is written to a temporary file in the same folder and then moved into place, so an
        interrupted write never leaves half a report, and never a damaged earlier one.

        Parameters
        ----------
        path : str or Path
            The report file.
        force : bool, default False
            Replace ``path`` if it exists. The results file the report was made from is never replaced.

        Raises
        ------
        ValueError
            If ``path`` is the source file, exists and ``force`` is not set, is a folder, or cannot be written.
        """
        inputs = [self.source] if self.source != "a data frame" else []
        p = check_output(path, inputs=inputs, force=force)
        text = self.to_html()
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, p)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ValueError(f"Cannot write the report to {str(p)!r}: {exc.strerror or exc}.") from None
        return p


@_doc
def check_output(path: str | Path, *, inputs: Sequence[str | Path] = (), force: bool = False) -> Path:
    """Check, before any work is done, that a report may be written to ``path``.

    Parameters
    ----------
    path : str or Path
        The intended report file.
    inputs : sequence of str or Path
        Files the report is made from; ``path`` may not be (or resolve to) any of them.
    force : bool, default False
        Allow replacing an existing file that is not an input.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If ``path`` is an input, an existing file without ``force``, a folder, or inside something that is not
        a folder or not writable.

    Examples
    --------
    {{scratch_csv}}
    >>> from helpers.audit import check_output
    >>> _ = path.write_text("n,err,g\\n")
    >>> check_output(path, inputs=[path], force=True)
    Traceback (most recent call last):
    ...
    ValueError: The report would replace its own input ...r.csv'; choose another --out (e.g. ...r-audit.html').
    """
    if isinstance(path, str) and path.strip() == "":
        raise ValueError("The report path is empty; give a file name such as report.html.")
    p = file_path(path, "path", example="report.html")
    force = flag(force, "force")
    for source in sequence(inputs, "inputs", example="['results.csv']"):
        src = file_path(source, "inputs", example="results.csv")
        same = p.resolve() == src.resolve()
        if not same and p.exists() and src.exists():
            same = os.path.samefile(p, src)
        if same:
            raise ValueError(f"The report would replace its own input {str(src)!r}; choose another --out "
                             f"(e.g. {str(src.with_name(src.stem + '-audit.html'))!r}).")
    if p.is_dir():
        raise ValueError(f"Cannot write the report to {str(p)!r}: it is a folder; give a file name inside it.")
    if p.exists() and not force:
        raise ValueError(f"{str(p)!r} exists already; pass --force (force=True) to replace it, or choose another "
                         f"--out.")
    ancestor = p.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"Cannot write the report to {str(p)!r}: {str(ancestor)!r} is a file, not a folder.")
    if not os.access(ancestor, os.W_OK):
        raise ValueError(f"Cannot write the report to {str(p)!r}: no permission to write in {str(ancestor)!r}.")
    return p


def audit(
    df: pd.DataFrame,
    *,
    size: str,
    metric: str,
    group: str,
    n_examples: str | None = None,
    overall: str | None = None,
    n_boot: int = 200,
    seed: int = 0,
    tolerance: float = 0.1,
    order: str = "size",
    source: str = "a data frame",
    progress: bool | None = None,
    higher_is_better: bool = False,
    chance: float | None = None,
    scale: str = "log",
) -> AuditReport:
    """Run the disaggregated scaling analysis of the book on a tidy results table.

    Parameters
    ----------
    df : DataFrame
        One row per measured point (repeated seeds are separate rows) of one model family: a size, a metric
        and a group. Other columns are ignored; filter the table first if it mixes models or metrics.
    size : str
        The size column (training examples, parameters, compute), > 0.
    metric : str
        A positive, lower-is-better metric (an error rate or a loss), or with ``higher_is_better=True`` a score
        on a 0-1 scale (an accuracy, a win rate) as measured.
    group : str
        The column naming each row's group.
    n_examples : str, optional
        Evaluation examples behind each value: weights of the pooled aggregate and of the groups in the third
        axis (default: every row weighs the same).
    overall : str, optional
        The group label whose rows are the aggregate (e.g. ``"overall"``); by default the aggregate is pooled
        from the groups' rows (see :func:`~helpers.disaggregate.fit_by_group`).
    n_boot : int, default 200
        Bootstrap resamples behind every interval (0: no intervals).
    seed : int, default 0
        Seed of the bootstrap and of random orders.
    tolerance : float, default 0.1
        Relative error within which the aggregate law counts as describing a group
        (:func:`~helpers.disaggregate.third_axis`).
    order : {"size", "random"}, default "size"
        Order in which the third axis adds groups: largest first, as a convenience sample reaches them, or an
        average over 20 random orders.
    source : str, default "a data frame"
        Where the rows came from, for the report.
    progress : bool, optional
        Progress bar on standard error while fitting; default only when standard error is a terminal.
    higher_is_better : bool, default False
        The metric is a 0-1 score where higher is better: the laws are fitted to ``1 - metric`` and the report
        says so; points, curves and predictions stay on the score's scale.
    chance : float, optional
        The metric's value for a model that guesses (0.5 for a two-choice accuracy): the error's ceiling.
        Predictions are capped there and rows at or worse than chance are counted in the notes.
    scale : {"log", "logit"}, default "log"
        Fit the error's power law on the log scale, or the odds of the chance-normalised error (a law that
        stays between chance and a perfect score). See :func:`~helpers.disaggregate.fit_by_group`.

    Returns
    -------
    AuditReport

    Raises
    ------
    ValueError
        If a column is missing (the message lists the columns there are), a column plays two roles, a size,
        metric or example count is not a number, a value is not positive, the table is empty, or no group
        has enough points for a law. Groups with too few points are not an error: they are listed as not
        fitted.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np, pandas as pd
    >>> from helpers.audit import audit
    >>> n = np.logspace(2, 5, 8)
    >>> df = pd.concat([pd.DataFrame({"n": n, "err": 2 * n**-0.5 + 0.05, "who": "A"}),
    ...                 pd.DataFrame({"n": n, "err": 2 * n**-0.1 + 0.05, "who": "B"}),
    ...                 pd.DataFrame({"n": n[:1], "err": [0.3], "who": "C"})])
    >>> report = audit(df, size="n", metric="err", group="who", n_boot=0)
    >>> report.to_frame()[["group", "b", "status"]].round(3).to_dict("records")[1:]
    [{'group': 'A', 'b': 0.5, 'status': 'ok'}, {'group': 'B', 'b': 0.1, 'status': 'ok'}, \
{'group': 'C', 'b': nan, 'status': 'too few points (1 < 3)'}]
    >>> path = report.write(tempfile.mkdtemp() + "/report.html")
    >>> "window.vegaEmbed" in path.read_text()
    True
    """
    roles = {"size": size, "metric": metric, "group": group, "n_examples": n_examples}
    _check_columns(df, roles)
    if len(df) == 0:
        raise ValueError("The results table has no rows; pass one row per measured point.")
    _check_numeric(df, roles)
    n_boot = positive_int(n_boot, "n_boot", minimum=0)
    seed = valid_seed(seed)
    tolerance = finite_scalar(tolerance, "tolerance", example=0.1)
    if tolerance <= 0:
        raise ValueError(f"tolerance must be a positive relative error such as 0.1; got {tolerance!r}.")
    if not isinstance(source, str):
        raise ValueError(f"source must be text saying where the rows came from, e.g. source='results.csv'; "
                         f"got {source!r}.")
    if progress is not None:
        progress = flag(progress, "progress")
    one_of(order, ("size", "random"), "order")
    columns = [c for c in dict.fromkeys((group, size, metric, n_examples)) if c is not None]
    rows = df[columns]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NumericalWarning)  # kept in fit.notes, shown in the report
            fit = fit_by_group(rows, size=size, metric=metric, group=group, n_examples=n_examples,
                               overall=overall, n_boot=n_boot, seed=seed, progress=progress,
                               higher_is_better=higher_is_better, chance=chance, scale=scale)
    except ValueError as exc:
        # The two "too few points" failures are the ones a table of counts helps to fix.
        if str(exc).startswith(("No group has enough points", "The aggregate curve cannot be fitted")):
            raise ValueError(f"{exc} {_point_counts(rows, size, group)}") from None
        raise
    notes = _notes(fit)
    third: ThirdAxisResult | None = None
    communities = rows if overall is None else rows[rows[group].astype(str) != overall]
    if len(fit.by_group) < 2:
        notes.append("The third axis needs at least two groups; there is one.")
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NumericalWarning)
                # The group fits (and their bootstrap) are the ones above: drawn once, not again.
                third = third_axis(communities, size=size, metric=metric, group=group, n_examples=n_examples,
                                   order=order, tolerance=tolerance, n_boot=n_boot, seed=seed, group_fits=fit,
                                   progress=progress)
        except ValueError as exc:
            notes.append(f"The third axis could not be computed: {exc}")
    if len(fit.fits) < 2:
        notes.append("The exponents cannot be compared: fewer than two groups could be fitted.")
    check_boot = n_boot if len(fit.fits) <= HOLDOUT_BOOT_GROUPS else 0
    if check_boot < n_boot:
        notes.append(f"The holdout checks are shown without intervals: with {len(fit.fits)} fitted groups (more "
                     f"than {HOLDOUT_BOOT_GROUPS}) their bootstrap would take as long as the whole fit again. "
                     f"report.group_fit.holdout(n_boot={n_boot}) computes them.")
    tables = _tables(fit, third, seed=seed, check_boot=check_boot)
    report_args = dict(source=str(source), size=size, metric=metric, group=group, n_examples=n_examples,
                       overall=overall, n_boot=n_boot, seed=seed, tolerance=tolerance, order=order,
                       higher_is_better=fit.higher_is_better, chance=fit.chance, scale=fit.scale)
    charts = _charts(fit, third, tables, size=size, metric=metric, tolerance=tolerance, n_boot=n_boot)
    return AuditReport(**report_args, group_fit=fit, third_axis=third, tables=tables, charts=charts,
                       notes=tuple(notes), command=_command(**report_args))


def _command(*, source: str, size: str, metric: str, group: str, n_examples: str | None, overall: str | None,
             n_boot: int, seed: int, tolerance: float, order: str, higher_is_better: bool = False,
             chance: float | None = None, scale: str = "log") -> str:
    csv = source if source.lower().endswith(".csv") else "results.csv"
    args = ["python", "-m", "helpers.audit", csv, "--size", size, "--metric", metric, "--group", group]
    for flag, value in (("--n-examples", n_examples), ("--overall", overall)):
        if value is not None:
            args += [flag, value]
    args += ["--n-boot", str(n_boot), "--seed", str(seed), "--tolerance", f"{tolerance:g}", "--order", order]
    if higher_is_better:
        args.append("--higher-is-better")
    if chance is not None:
        args += ["--chance", repr(chance)]
    if scale != "log":
        args += ["--scale", scale]
    return shlex.join(args)


def _notes(fit: GroupScalingFit) -> list[str]:
    notes = list(fit.notes)
    unfitted = fit.by_group[fit.by_group["status"] != "ok"]
    if len(unfitted):
        listed = "; ".join(f"{r.group} ({r.status})" for r in unfitted.itertuples())
        notes.append(f"{len(unfitted)} of {len(fit.by_group)} groups could not be fitted and are shown without "
                     f"a law: {listed}. Their rows still count in the pooled aggregate.")
    table = fit.to_frame()
    # Bootstrap draws piling up at the fitter's bounds on the exponent mean the data do not identify it.
    low, high = EXPONENT_RANGE
    stuck = table.loc[(table["b_high"].fillna(table["b"]) >= 0.9 * high)
                      | (table["b_low"].fillna(table["b"]) <= 0.9 * low), "group"].tolist()
    if stuck:
        notes.append(f"The exponent or its interval for {_join(stuck)} reaches (or nearly reaches) a bound of the "
                     f"fitter (b from {low:g} to {high:g}): the data do not pin down how fast {fit.metric} "
                     f"changes there, typically because the curve is flat, rises or sits at its floor over most "
                     f"sizes. Read the improvement table rather than the exponent for "
                     f"{'it' if len(stuck) == 1 else 'them'}.")
    k = len(fit.parameters)
    thin = table.loc[(table["status"] == "ok") & (table["n_points"] <= k + 1), "group"].tolist()
    if thin:
        notes.append(f"The law{'s' if len(thin) > 1 else ''} of {_join(thin)} rest{'' if len(thin) > 1 else 's'} "
                     f"on at most {k + 1} points for {k} parameters: the fit can pass through almost every point, "
                     f"so its exponent and intervals say little. Measure more sizes before reading them.")
    fitted = table[(table["status"] == "ok") & (table["group"] != OVERALL)]
    agg_row = table.iloc[0]
    narrow = fitted.loc[(fitted["size_min"] > agg_row["size_min"] * (1 + 1e-9))
                        | (fitted["size_max"] < agg_row["size_max"] * (1 - 1e-9)), "group"].tolist()
    if narrow:
        shown = _join(narrow[:8]) + (f" and {len(narrow) - 8} more" if len(narrow) > 8 else "")
        notes.append(f"{shown} {'were' if len(narrow) > 1 else 'was'} measured over a narrower range of "
                     f"{fit.size[0] if fit.form == 'power_law' else 'N x D'} than the aggregate "
                     f"({_number(agg_row['size_min'])} to {_number(agg_row['size_max'])}): read at the aggregate's "
                     f"sizes, {'their laws are extrapolations' if len(narrow) > 1 else 'its law is an extrapolation'}"
                     f". Every law here is an extrapolation beyond its own measured range.")
    agg = fit.points[fit.points["group"] == OVERALL].sort_values(fit.size[0])
    err = fit._ms.error(agg[fit.metric].to_numpy())
    if err[-1] > err[0]:
        if fit.higher_is_better:
            notes.append(f"The aggregate {fit.metric} is lower at the largest size than at the smallest, although "
                         f"it was given as higher-is-better: check the direction (drop --higher-is-better for an "
                         f"error or a loss).")
        else:
            notes.append(f"The aggregate {fit.metric} is higher at the largest size than at the smallest. The audit "
                         f"expects a lower-is-better metric unless told otherwise: if {fit.metric} is an accuracy "
                         f"or another 0-1 score, pass --higher-is-better (higher_is_better=True), with --chance "
                         f"for its chance level.")
    return notes


def _join(names: Sequence[object]) -> str:
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _tables(fit: GroupScalingFit, third: ThirdAxisResult | None, *, seed: int,
            check_boot: int) -> dict[str, pd.DataFrame]:
    improvement = fit.improvement()
    flat = fit.non_improving()  # the same resamples as the laws, so every table agrees
    described = pd.DataFrame(columns=["group", "max_relative_error", "described", "exponent_consistent"])
    if third is not None:
        m = third.membership
        full = m[m["k"] == m["k"].max()]
        described = (full.groupby("group", as_index=False)
                     .agg(max_relative_error=("max_relative_error", "mean"), described=("described", "mean"),
                          exponent_consistent=("exponent_consistent", lambda s: s.astype(float).mean()))
                     .sort_values("max_relative_error", ascending=False, ignore_index=True))
    return {
        "by_group": fit.to_frame(),
        "improvement": improvement,
        "holdout": fit.holdout(k=1, n_boot=check_boot).drop(columns=["log_ratio"]),
        "leave_one_group_out": _logo_summary(fit.leave_one_group_out(n_boot=check_boot)) if len(fit.fits) >= 2
        else pd.DataFrame(
            columns=list(_LOGO_COLUMNS)),
        "non_improving": flat.reset_index(drop=True),
        "difference": fit.difference(paired=_paired(fit, check_boot)) if len(fit.fits) >= 2 else pd.DataFrame(
            columns=["comparison", "group", "parameter", "estimate", "ci_low", "ci_high"]),
        "third_axis": third.curve if third is not None else pd.DataFrame(
            columns=["k", "share_described", "share_low", "share_high", "share_exponent_consistent",
                     "aggregate_b", "aggregate_rmse"]),
        "described": described,
    }


def _paired(fit: GroupScalingFit, n_boot: int) -> bool:
    """Pair the difference draws when every fitted group was measured at the same sizes (and draws exist)."""
    if not n_boot or fit.form != "power_law":
        return False
    pts = fit.points[fit.points["group"].isin(list(fit.fits))]
    per_group = pts.groupby("group")[fit.size[0]].agg(lambda v: tuple(np.unique(v)))
    return per_group.nunique() == 1


_LOGO_COLUMNS = ("group", "n_sizes", "worst_size", "observed", "prediction", "relative_error", "covered_share",
                 "extrapolation", "status")


def _logo_summary(logo: pd.DataFrame) -> pd.DataFrame:
    """One row per group: where the other groups' law misses it most and how often it covers, worst first.

    Misses are ranked by the log ratio, which weighs a prediction twice too high like one half too low (the
    relative error would rank every over-prediction above every under-prediction).
    """
    # Vectorised over groups (a loop over 10,000 groups' frames took ten seconds).
    logo = logo.assign(_miss=logo["log_ratio"].abs(), _covered=logo["covered"].astype("Float64"))
    by = logo.groupby("group", sort=False)
    groups = pd.Index(by.size().index, name="group")
    worst = logo.loc[logo.dropna(subset=["_miss"]).groupby("group", sort=False)["_miss"].idxmax()]
    worst = worst.set_index("group").reindex(groups)
    first_status = by["status"].first()
    covered = by["_covered"].mean().astype(float)
    out = pd.DataFrame({
        "group": groups, "n_sizes": by.size().to_numpy(), "worst_size": worst[logo.columns[1]].to_numpy(),
        "observed": worst["observed"].to_numpy(), "prediction": worst["prediction"].to_numpy(),
        "relative_error": worst["relative_error"].to_numpy(), "covered_share": covered.to_numpy(),
        "extrapolation": by["extrapolation"].max().to_numpy(),
        "status": worst["status"].where(worst["_miss"].notna(), first_status).to_numpy(),
    }, columns=list(_LOGO_COLUMNS))
    # A group with no finite miss reports its size count and status only, as it has no worst size.
    none = worst["_miss"].isna().to_numpy()
    out.loc[none, ["worst_size", "observed", "prediction", "relative_error", "covered_share", "extrapolation"]] = np.nan
    order = pd.Series(by["_miss"].max().to_numpy(), dtype=float).sort_values(
        ascending=False, na_position="last", kind="stable").index
    return out.loc[order].reset_index(drop=True)


# --------------------------------------------------------------------------- charts


def _charts(fit: GroupScalingFit, third: ThirdAxisResult | None, tables: dict[str, pd.DataFrame], *, size: str,
            metric: str, tolerance: float, n_boot: int) -> dict[str, alt.TopLevelMixin]:
    shown = _chart_groups(fit)
    charts = {"scaling": _scaling_chart(fit, shown, size=size, metric=metric, n_boot=n_boot),
              "exponents": _exponent_chart(tables["by_group"], shown, size=size, metric=metric, n_boot=n_boot)}
    if third is not None:
        charts["third_axis"] = _third_axis_chart(third, tolerance=tolerance)
    return charts


def _chart_groups(fit: GroupScalingFit) -> list[str]:
    """The fitted groups a chart can still tell apart: all of them, or the largest :data:`MAX_CHART_GROUPS`."""
    fitted = fit.by_group[fit.by_group["status"] == "ok"]
    if len(fitted) <= MAX_CHART_GROUPS:
        return fitted["group"].tolist()
    ranked = fitted.sort_values(["n_examples", "n_points", "group"], ascending=[False, False, True])
    return sorted(ranked["group"].head(MAX_CHART_GROUPS).tolist())


def _which(fit: GroupScalingFit, shown: list[str]) -> str:
    n_fitted = len(fit.fits)
    if len(shown) == n_fitted:
        return f"{n_fitted} fitted groups"
    return (f"the {len(shown)} largest of the {n_fitted} fitted groups (by evaluation examples; every group is in "
            f"the tables)")


def _readable_range(values: pd.Series) -> tuple[float, float]:
    """A log-scale range around the measured values: as wide again as the data on each side, at least x1.5."""
    lo, hi = float(values.min()), float(values.max())
    pad = max(0.5 * np.log(hi / lo), np.log(1.5))
    return lo * np.exp(-pad), hi * np.exp(pad)


def _scaling_chart(fit: GroupScalingFit, shown: list[str], *, size: str, metric: str,
                   n_boot: int) -> alt.LayerChart:
    # Neutral field names: Vega reads dots and brackets in a field name as nested access.
    names = {size: "size", metric: "metric"}
    keep = [OVERALL, *shown]
    points = fit.points.loc[fit.points["group"].isin(keep), ["group", size, metric]].rename(columns=names)
    what = "every measured point"
    if len(points) > MAX_CHART_POINTS:
        points = points.groupby(["group", "size"], as_index=False)["metric"].mean()
        what = "the mean of the measured points at each size"
    # On the metric's own scale, like the points (an accuracy stays an accuracy).
    curves = fit.curves(n_grid=50, group=keep).rename(columns=names)
    # A band that is not identified can reach 10^7 times the data; clipped, the measured points stay readable.
    lo, hi = _readable_range(points["metric"])
    clipped = bool(((curves[["metric", "low", "high"]] < lo) | (curves[["metric", "low", "high"]] > hi))
                   .to_numpy().any())
    curves[["metric", "low", "high"]] = curves[["metric", "low", "high"]].clip(lo, hi)
    band = f" with 95% bootstrap bands ({n_boot} resamples)" if n_boot else " (no bootstrap, so no bands)"
    clip_note = (f" Curves and bands are cut at {lo:.3g} and {hi:.3g}, a range around the measured values; the "
                 f"intervals in the tables are not cut." if clipped else "")
    return plots.scaling_chart(
        points, curves=curves, x="size", y="metric", group="group", lower="low" if n_boot else None,
        upper="high" if n_boot else None, x_title=size, y_title=metric,
        title=f"{metric} against {size}, by group",
        description=f"Log-log plot of {metric} against {size} for the aggregate (black) and "
                    f"{_which(fit, shown)}, showing {what} and each fitted power law{band}.{clip_note}",
    )


def _not_identified(table: pd.DataFrame) -> pd.Series:
    """Exponents whose estimate or interval reaches (or nearly reaches) a bound of the fitter."""
    low, high = EXPONENT_RANGE
    return (table["b_high"].fillna(table["b"]) >= 0.9 * high) | (table["b_low"].fillna(table["b"]) <= 0.9 * low)


def _exponent_chart(by_group: pd.DataFrame, shown: list[str], *, size: str, metric: str,
                    n_boot: int) -> alt.LayerChart:
    data = by_group[by_group["group"].isin([OVERALL, *shown]) & (by_group["status"] == "ok")][
        ["group", "b", "b_low", "b_high", "n_points"]].copy()
    data["identified"] = np.where(_not_identified(data), "no: interval reaches the fitter's bounds", "yes")
    ok = data["identified"] == "yes"
    # The axis covers the identified intervals; an unidentified group is drawn as a hollow mark at the edge.
    span = pd.concat([data.loc[ok, "b_low"].fillna(data.loc[ok, "b"]), data.loc[ok, "b_high"].fillna(data.loc[ok, "b"]),
                      data["b"].where(ok)]).dropna()
    if span.empty:
        span = pd.Series([0.0, 1.0])
    pad = max(0.1 * float(span.max() - span.min()), 0.05)
    x_lo, x_hi = float(span.min()) - pad, float(span.max()) + pad
    data["b_shown"] = data["b"].clip(x_lo, x_hi)
    order = data["group"].tolist()
    colour = alt.Color("group:N", scale=plots.color_scale(data["group"]), legend=None)
    y = alt.Y("group:N", sort=order, title=None)
    scale = alt.Scale(domain=[x_lo, x_hi], clamp=True)
    tips = [alt.Tooltip("group:N"), alt.Tooltip("b:Q", format=".3f"), alt.Tooltip("b_low:Q", format=".3f"),
            alt.Tooltip("b_high:Q", format=".3f"), alt.Tooltip("n_points:Q"),
            alt.Tooltip("identified:N", title="exponent identified")]
    base = alt.Chart(data)
    layers = [alt.Chart(data[data["group"] == OVERALL]).mark_rule(strokeDash=[4, 3], color=plots.AGGREGATE_COLOR)
              .encode(x=alt.X("b:Q", scale=scale))]
    if n_boot:
        layers.append(alt.Chart(data[ok]).mark_rule(strokeWidth=2).encode(
            x=alt.X("b_low:Q", title="exponent b", scale=scale), x2="b_high:Q", y=y, color=colour, tooltip=tips))
    layers.append(base.mark_point(size=80).encode(
        x=alt.X("b_shown:Q", title="exponent b", scale=scale), y=y, color=colour, tooltip=tips,
        shape=alt.Shape("identified:N", scale=alt.Scale(domain=["yes", "no: interval reaches the fitter's bounds"],
                                                        range=["circle", "cross"]), legend=None),
        fill=alt.condition(alt.datum.identified == "yes", alt.value("white"), alt.value("transparent"))))
    interval = " with its 95% bootstrap interval" if n_boot else ""
    n_bad = int((~ok).sum())
    unidentified = (f" {n_bad} group(s) whose exponent the data do not pin down (the interval reaches the "
                    f"fitter's bounds) are marked with a cross, without an interval." if n_bad else "")
    chart = alt.layer(*layers).properties(width=340, height=max(60, 24 * len(data)))
    return plots.require_text_alternative(
        chart, title=f"Exponent of {metric} in {size}, by group",
        description=f"Each fitted group's power-law exponent b{interval}, against the aggregate's (dashed line); "
                    f"a larger b means {metric} falls faster with {size}.{unidentified}",
    )


def _third_axis_chart(third: ThirdAxisResult, *, tolerance: float) -> alt.HConcatChart:
    ordering = "largest groups first" if third.order == "size" else "averaged over random orders"
    return plots.require_text_alternative(
        plots.third_axis_chart(third.curve, tolerance=tolerance),
        title="The third axis: what the aggregate law describes as groups join",
        description=f"As groups join the evaluation population ({ordering}), the left panel shows the share of "
                    f"included groups whose curve the aggregate law predicts within {tolerance:.0%} and the right "
                    f"panel how closely the law fits the aggregate curve itself.",
    )


# --------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: Source Sans Pro, Helvetica Neue, Arial, sans-serif; line-height: 1.5; color: #222;
       max-width: 72rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; } code { background: #f4f4f4; padding: 0 0.2em; }
.table-wrap { overflow-x: auto; } table { border-collapse: collapse; font-size: 0.92rem; margin: 0.6rem 0 1rem; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid #e6e6e6; text-align: right; }
th { background: #f6f6f6; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1rem 0; } figcaption { color: #444; font-size: 0.92rem; max-width: 50rem; }
.note { background: #fff8e5; border-left: 4px solid #E69F00; padding: 0.5rem 0.8rem; }
.checklist dt { font-weight: 600; margin-top: 0.8rem; } .checklist dd { margin-left: 1.2rem; }
"""


def _number(v: float, spec: str = ".4g") -> str:
    """Counts and sizes as 22,524 rather than 2.252e+04; everything else to a few significant digits."""
    if not np.isfinite(v):
        return "n/a"
    if float(v).is_integer() and abs(v) < 1e12:
        return f"{v:,.0f}"
    return format(v, spec)


def _fmt(value: Any, spec: str = ".3g") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return html.escape(str(value))
    return "n/a" if not np.isfinite(v) else (format(v, spec) if spec.endswith("%") else _number(v, spec))


def _table(df: pd.DataFrame, empty: str) -> str:
    if df.empty:
        return f"<p>{html.escape(empty)}</p>"
    # Written out rather than with DataFrame.to_html, which took ten seconds for the tables of 10,000 groups; the
    # markup is the same (pandas' "dataframe" table, right-aligned header), every cell escaped.
    cells = [_cells(df[col]) for col in df.columns]
    head = "".join(f"<th>{html.escape(str(col))}</th>" for col in df.columns)
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>\n" for row in zip(*cells))
    return (f'<div class="table-wrap"><table class="dataframe">\n<thead>\n'
            f'<tr style="text-align: right;">{head}</tr>\n</thead>\n<tbody>\n{rows}</tbody>\n</table></div>')


def _cells(col: pd.Series) -> list[str]:
    """The escaped text of every cell of a column: yes/no for booleans, :func:`_number` for floats, n/a for NA."""
    if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
        return ["n/a" if pd.isna(v) else ("yes" if v else "no") for v in col]
    if pd.api.types.is_float_dtype(col):
        return ["n/a" if v != v else _number(v) for v in col.to_numpy(dtype=float)]
    return ["n/a" if pd.isna(v) else html.escape(str(v)) for v in col]


def _script_json(value: Any) -> str:
    # "</script" or "<!--" in a group name would end or confuse the <script> element; in JSON "<" only occurs
    # inside strings, where the escape \u003c means the same character.
    return json.dumps(value).replace("<", "\\u003c")


def _findings(r: AuditReport) -> list[str]:
    fit, t = r.group_fit, r.tables
    overall = t["by_group"].iloc[0]
    ci = (f" (95% interval {_fmt(overall['b_low'])} to {_fmt(overall['b_high'])})" if r.n_boot else "")
    # Column names are the user's text: escape them like every other label (they reach HTML here).
    metric, size = html.escape(str(r.metric)), html.escape(str(r.size))
    law_of = html.escape(fit.fitted_quantity)
    out = [f"The aggregate law is {law_of} = a &middot; {size}<sup>&minus;b</sup> + c with "
           f"b = {_fmt(overall['b'])}{ci}, fitted to {int(overall['n_points'])} points from {size} = "
           f"{_fmt(overall['size_min'])} to {_fmt(overall['size_max'])}. Beyond that range it is an "
           f"extrapolation."]
    n_ok = int((t["by_group"]["status"] == "ok").sum()) - 1
    out.append(f"{n_ok} of {len(fit.by_group)} groups have enough points for their own law.")
    if not t["difference"].empty:
        rng = t["difference"].iloc[0]
        ci = f" (95% interval {_fmt(rng['ci_low'])} to {_fmt(rng['ci_high'])})" if r.n_boot else ""
        out.append(f"The groups' exponents differ by up to {_fmt(rng['estimate'])}{ci}: "
                   f"{html.escape(str(rng['group']))}.")
    flat = t["non_improving"]
    flat = flat[flat["group"] != OVERALL]
    if flat.empty:
        out.append("Every fitted group improves over the measured range by more than its interval's width.")
    else:
        names = ", ".join(f"{html.escape(str(g))} ({html.escape(str(why))})"
                          for g, why in zip(flat["group"], flat["reason"]))
        out.append(f"Groups whose improvement over the measured range is not distinguishable from zero: {names}.")
    held = t["holdout"]
    agg_held = held[(held["group"] == OVERALL) & (held["status"] == "ok")]
    if len(agg_held):
        row = agg_held.iloc[0]
        groups = held[(held["group"] != OVERALL) & held["relative_error"].notna()]
        worst = (f"; among the groups the worst miss is {html.escape(str(groups.loc[groups['relative_error'].abs().idxmax(), 'group']))} "
                 f"({_fmt(groups['relative_error'].abs().max(), '.0%')})" if len(groups) else "")
        out.append(f"Refitted without its largest size, the aggregate law predicts {metric} = "
                   f"{_fmt(row['prediction'])} there, against {_fmt(row['observed'])} observed (error off by "
                   f"{_fmt(abs(row['relative_error']), '.0%')}){worst}.")
    logo = t["leave_one_group_out"]
    if len(logo) and pd.notna(logo["relative_error"].iloc[0]):
        first = logo.iloc[0]
        out.append(f"The other groups' pooled law predicts {html.escape(str(first['group']))} worst: its error is "
                   f"off by {_fmt(abs(first['relative_error']), '.0%')} at {size} = {_fmt(first['worst_size'])}.")
    if not t["third_axis"].empty:
        last = t["third_axis"].iloc[-1]
        out.append(f"With all {int(last['k'])} groups in the evaluation population, the aggregate law predicts "
                   f"{_fmt(last['share_described'], '.0%')} of them within {r.tolerance:.0%} at every measured "
                   f"size, while its own fit error is {_fmt(last['aggregate_rmse'])} (RMS log residual).")
    return out


def _metric_statement(r: AuditReport) -> str:
    """How the metric was read, in words: its direction, its chance level and what the laws are laws of."""
    m = r.metric
    if not r.higher_is_better and r.chance is None and r.scale == "log":
        return f"Metric: {m}, lower is better; the laws are power laws of {m}."
    law_of = r.group_fit.fitted_quantity
    parts = [f"Metric: {m}, {'higher' if r.higher_is_better else 'lower'} is better, reported on its own scale "
             f"(points, curves and predictions)."]
    if r.higher_is_better:
        parts.append(f"The laws are fitted to its error 1 - {m}: {m} = 1 - (a size^-b + c), so c is the error "
                     f"that no size removes and 1 - c the best {m} the law reaches.")
    if r.chance is not None:
        ceiling = r.group_fit._ms.ceiling
        parts.append(f"Chance level {r.chance:g}: a model that guesses gets {m} = {r.chance:g}, so the error of "
                     f"one that does better lies between 0 and {ceiling:g}. Chance bounds the error from above, "
                     f"not the floor c; predictions are capped at chance.")
    if r.scale == "logit":
        parts.append(f"Scale: logit. The power law is fitted to the odds {law_of} of the error relative to its "
                     f"ceiling, so every curve runs from chance at small sizes to its own limit, inside the "
                     f"metric's range; a, b and c are the parameters of that law.")
    else:
        parts.append(f"a, b and c are the parameters of the law of {law_of}.")
    return " ".join(parts)


def _checklist(r: AuditReport) -> str:
    m, g, s = (f"<code>{html.escape(c)}</code>" for c in (r.metric, r.group, r.size))
    items = [
        ("1. The metric and its construct",
         f"This report cannot know what {m} stands for. What quality of the model is it meant to measure, for "
         f"whom, and on what evidence? Would another reasonable metric (a threshold, a different loss, a human "
         f"judgement) give the same curves? A law for {m} is a law for {m}, not for quality."),
        ("2. The evaluation population and its frame",
         f"This report sees only the rows it was given. Who is in the evaluation set, how were they reached, "
         f"and who could not have been? Who defined the groups in {g}, and which people do they merge or leave "
         f"out? How many evaluation examples stand behind each group's values"
         f"{'' if r.n_examples else ' (no example counts were given, so every row weighs the same)'}?"),
        ("3. Per-group fits with uncertainty",
         f"Shown below: one law per group with {r.n_boot} bootstrap resamples, the groups that could not be "
         f"fitted, the spread of the exponents and the groups that do not improve. Are the intervals wide because "
         f"the group is small? Does a group's curve rest on fewer sizes than the aggregate's?"),
        ("4. The third-axis curve",
         f"Shown below: the share of groups the aggregate law describes within {r.tolerance:.0%} as groups join. "
         f"Is {r.tolerance:.0%} the error that matters to the people in each group? In what order would your "
         f"data collection really reach them?"),
        ("5. What was not measured",
         f"This report cannot list what is absent: groups with no rows, sizes outside the measured range of "
         f"{s}, other metrics, other seeds, other model families, harms that no metric here records. Write them "
         f"down next to any claim made from these numbers."),
    ]
    body = "".join(f"<dt>{html.escape(h)}</dt><dd>{text}</dd>" for h, text in items)
    return f'<dl class="checklist">{body}</dl>'


def _offline_bundle() -> str:
    """:func:`helpers.plots.offline_bundle`, kept on disk between runs (building it takes seconds per process).

    The file lives in ``$HELPERS_CACHE_DIR`` or ``~/.cache/helpers``, is named after every version that shapes
    the bundle, and is used only if it still looks like the bundle; without a writable cache folder the bundle
    is simply built.
    """
    import importlib.metadata

    try:
        vlc = importlib.metadata.version("vl-convert-python")
    except importlib.metadata.PackageNotFoundError:
        vlc = "unknown"
    key = f"{__version__}-{alt.__version__}-{alt.VEGALITE_VERSION}-{vlc}"
    folder = Path(os.environ.get("HELPERS_CACHE_DIR") or Path.home() / ".cache" / "helpers")
    path = folder / f"offline-bundle-{key}.js"
    try:
        text = path.read_text(encoding="utf-8")
        if "window.vegaEmbed" in text and "VEGA_DEBUG" in text and "</script" not in text.lower() \
                and "<!--" not in text:
            return text
    except OSError:
        pass
    text = plots.offline_bundle()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is fine: the bundle is rebuilt next time
    return text


def _render(r: AuditReport) -> str:
    esc = html.escape
    charts = {name: plots.chart_spec(chart) for name, chart in r.charts.items()}
    t = r.tables

    def figure(name: str) -> str:
        if name not in r.charts:
            return ""
        spec = charts[name]
        return (f'<figure><div id="audit-chart-{name}" class="audit-chart"></div><figcaption><strong>'
                f'{esc(str(spec.get("title", "")))}.</strong> {esc(str(spec.get("description", "")))} The numbers '
                f'are in the table below.</figcaption></figure>')

    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in r.notes)
    findings = "".join(f"<li>{f}</li>" for f in _findings(r))
    versions = (f"helpers {__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
                f"altair {alt.__version__}")
    title = f"Scaling audit: {r.metric} against {r.size}, by {r.group}"
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">Source: {esc(r.source)}. Aggregate: '
        f'{esc("rows labelled " + repr(r.overall)) if r.overall else "pooled from the groups"}'
        f'{esc(", weighted by " + r.n_examples) if r.n_examples else ""}. Bootstrap: {r.n_boot} resamples, seed '
        f'{r.seed}. Made with {esc(versions)}; it needs no network.</p>',
        f'<p class="meta">{esc(_metric_statement(r))}</p>',
        "<h2>What the numbers say</h2>", notes, f"<ul>{findings}</ul>",
        "<h2>Before you report a scaling claim from this</h2>",
        "<p>The numbers answer some of the questions a scaling claim raises. The rest are yours.</p>",
        _checklist(r),
        "<h2>One law per group</h2>", figure("scaling"),
        "<p>Every group, fitted or not (<code>status</code> says why not); the aggregate first. Columns "
        "<code>a</code>, <code>b</code>, <code>c</code> are the scale, exponent and floor of the law of "
        f"<code>{esc(r.group_fit.fitted_quantity)}</code>, with 95% bootstrap interval bounds.</p>",
        _table(t["by_group"], "No groups."),
        "<h2>How far the exponents differ</h2>", figure("exponents"),
        "<p>The first row is the largest minus the smallest group exponent; then each group minus the "
        "aggregate. "
        + ("Every group was measured at the same sizes, so the intervals are from paired bootstrap draws: the "
           "sizes are resampled once for all groups, and what is particular to one size moves every group "
           "together instead of widening the difference.</p>" if _paired(r.group_fit, r.n_boot if len(
               r.group_fit.fits) <= HOLDOUT_BOOT_GROUPS else 0) else
           "The intervals are from each group's own bootstrap draws (independent).</p>"),
        _table(t["difference"], "Fewer than two groups could be fitted, so there is nothing to compare."),
        "<h2>Who improves</h2>",
        "<p>Improvement is the fall of a straight line on the log-log scale between the smallest and the largest "
        "measured size, with a bootstrap interval; a group does not improve when that interval reaches zero."
        + (f" The line is that of the error 1 - {esc(r.metric)}, so its fall is the rise of {esc(r.metric)}."
           if r.higher_is_better else "") + "</p>",
        _table(t["improvement"], "No groups."),
        "<h3>Groups that do not improve</h3>",
        _table(t["non_improving"], "None: every group's improvement interval lies above zero."),
        "<h2>Does the law predict what it was not fitted to?</h2>",
        "<p>A scaling law is used to predict larger sizes than were measured. Here every law (each group's and "
        "the aggregate's) is refitted without its largest measured size and predicts it: <code>observed</code> "
        "and <code>prediction</code> are on the metric's own scale, <code>relative_error</code> is the "
        "predicted over the observed error minus one, <code>extrapolation</code> the decades of size beyond "
        "the refit's range, and <code>ci_low</code>/<code>ci_high</code> the refitted law's 95% bootstrap "
        "interval (<code>covered</code>: whether the observation falls inside it; the interval is the law's, "
        "not the scatter of a new measurement). A law that misses its own largest size will miss larger ones "
        "too.</p>",
        _table(t["holdout"], "No law could be refitted."),
        "<h3>Leave one group out: does the others' law transfer?</h3>",
        "<p>For each group, the other groups are pooled as the aggregate is, their law is fitted and predicts "
        "the group at every size it was measured at. The row shows the size where it misses most "
        "(<code>worst_size</code>, its <code>observed</code> and <code>prediction</code> and "
        "<code>relative_error</code>), the share of sizes inside the pooled law's interval and how far outside "
        "the others' sizes the group lies; groups are listed worst first. A group the others' law cannot "
        "predict is one an aggregate claim does not speak for.</p>",
        _table(t["leave_one_group_out"], "Fewer than two groups could be fitted, so none can be left out."),
        "<h2>The third axis: the evaluation population as it grows</h2>", figure("third_axis"),
        _table(t["third_axis"], "Not computed (see the notes above)."),
        "<h3>How well the aggregate law of the whole population fits each group</h3>",
        "<p><code>max_relative_error</code> is the largest relative miss of the aggregate law on the group's mean "
        "curve; <code>described</code> is whether it stays within the tolerance (a share, for random orders).</p>",
        _table(t["described"], "Not computed (see the notes above)."),
        "<h2>Reproduce</h2>",
        f"<pre><code>{esc(r.command)}</code></pre>",
    ]
    embed = (f"<script>\nconst auditSpecs = {_script_json({f'audit-chart-{k}': v for k, v in charts.items()})};\n"
             f"const auditOptions = {_script_json(plots.EMBED_OPTIONS)};\n"
             "for (const [id, spec] of Object.entries(auditSpecs)) {\n"
             "  vegaEmbed('#' + id, spec, auditOptions).catch(err => {\n"
             "    document.getElementById(id).textContent = 'The chart could not be drawn: ' + err;\n"
             "  });\n}\n</script>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{esc(title)}</title>\n"
        f"<style>{_CSS}</style>\n<script>\n{_offline_bundle()}\n</script>\n</head>\n<body>\n<main>\n"
        + "\n".join(s for s in sections if s)
        + "\n<noscript><p>The charts need JavaScript; every number they show is in the tables.</p></noscript>\n"
        + f"</main>\n{embed}\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.audit",
        description="Disaggregated scaling-law audit of a tidy results CSV: one law per group with bootstrap "
                    "intervals, who does not improve, and the third axis, written as one offline HTML report.",
    )
    parser.add_argument("csv", help="results file: one row per measured point, with a header")
    parser.add_argument("--size", required=True, help="size column (training examples, parameters, compute)")
    parser.add_argument("--metric", required=True,
                        help="metric column: positive and lower-is-better (error, loss), or a 0-1 score with "
                             "--higher-is-better")
    parser.add_argument("--higher-is-better", action="store_true",
                        help="the metric is a 0-1 score where higher is better (accuracy, win rate); its error "
                             "1 - metric is fitted and the report stays on the score's scale")
    parser.add_argument("--chance", type=float, default=None,
                        help="the metric's value at chance (0.5 for a two-choice accuracy): the error's ceiling")
    parser.add_argument("--scale", choices=("log", "logit"), default="log",
                        help="fit the error's power law on the log scale (default) or the odds of the "
                             "chance-normalised error (logit)")
    parser.add_argument("--group", required=True, help="group column")
    parser.add_argument("--n-examples", help="column of evaluation examples behind each value (weights)")
    parser.add_argument("--overall", help="group label whose rows are the aggregate (default: pool the groups)")
    parser.add_argument("--query", help="keep only the rows matching this pandas query, e.g. \"model == 'hgb'\"")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples (default 200; 0 for none)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--tolerance", type=float, default=0.1,
                        help="relative error within which the aggregate law describes a group (default 0.1)")
    parser.add_argument("--order", choices=("size", "random"), default="size",
                        help="order in which the third axis adds groups (default: largest first)")
    parser.add_argument("--out", help="report file (default: <csv name>-audit.html in the current folder)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress bar on standard error (default: only when it is a terminal)")
    parser.add_argument("--force", action="store_true", help="replace the report file if it exists (never the "
                                                             "input)")
    return parser


def _filter(df: pd.DataFrame, query: str) -> pd.DataFrame:
    try:
        out = df.query(query)
    except Exception as exc:  # noqa: BLE001  (pandas raises many types for a bad expression; all mean the same)
        raise ValueError(f"--query {query!r} failed ({type(exc).__name__}: {exc}); use the column names "
                         f"{list(df.columns)}, with `backticks` around names that have spaces.") from None
    if len(out) == 0:
        raise ValueError(f"--query {query!r} keeps no rows of the {len(df)}; loosen it.")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audit from the command line; return the exit code (0 on success, 1 on bad input).

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 when the report was written; 1 with a one-line message on standard error when the input is not
        usable; 2 for arguments argparse rejects.

    Raises
    ------
    ValueError
        If ``argv`` is not a list of strings.
    """
    if argv is not None and not (isinstance(argv, (list, tuple)) and all(isinstance(a, str) for a in argv)):
        raise ValueError(f"argv must be a list of strings such as ['results.csv', '--size', 'n']; got {argv!r}.")
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed its usage message
        return int(exc.code or 0)
    try:
        # The output is checked first: a refusal after minutes of bootstrap would waste them.
        out = check_output(args.out or f"{Path(args.csv).stem}-audit.html", inputs=[args.csv], force=args.force)
        df = read_results(args.csv)
        if args.query:
            df = _filter(df, args.query)
        report = audit(df, size=args.size, metric=args.metric, group=args.group, n_examples=args.n_examples,
                       overall=args.overall, n_boot=args.n_boot, seed=args.seed, tolerance=args.tolerance,
                       order=args.order, source=args.csv, progress=args.progress,
                       higher_is_better=args.higher_is_better, chance=args.chance, scale=args.scale)
        given = list(sys.argv[1:] if argv is None else argv)
        report = dataclasses.replace(report, command=shlex.join(["python", "-m", "helpers.audit", *given]))
        out = report.write(out, force=args.force)
    except ValueError as exc:
        print(f"audit: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    for note in report.group_fit.notes:
        print(f"audit: warning: {' '.join(note.split())}", file=sys.stderr)
    fitted = len(report.group_fit.fits)
    print(f"audit: wrote {out} ({fitted} of {len(report.group_fit.by_group)} groups fitted, "
          f"{len(report.notes)} note(s))")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
