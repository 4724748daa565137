"""Small byte-level language models, language by language: the corpus, the grid, the cache and the analyses.

The experiment of the chapter "Language models, language by language" trains one family of small decoder-only transformers on
the multilingual GNOME desktop help shipped by Debian (``gnome-user-docs`` 43.0-2, CC-BY-SA-3.0) and reads their
scaling language by language. This module holds everything that does **not** need torch:

* the corpus: parsing Mallard ``.page`` files into paragraphs (:func:`page_paragraphs`), dropping paragraphs
  left in English and checking the language of the rest (:func:`clean_paragraphs`), holding out whole pages, the
  same in every language (:func:`holdout_pages`), and building the train and test text (:func:`build_corpus`);
* the grid and its checks: the temperature mixture ``p_l ∝ n_l^T`` (:func:`mixture_weights`) and
  :func:`check_config`, which rejects a bad configuration with a ``ValueError`` before any training starts;
* the cache: :func:`load_runs`, :func:`load_corpus_stats` and :func:`load_provenance` read the shipped results
  through :mod:`helpers.data` (checksummed), so the chapter runs without torch;
* the analyses the chapter calls (aggregate and per-language laws, the temperature as a value choice, the third
  axis, compute-optimal allocation, local monolingual models).

Fetching and preparing the package (``py3langid``) and training (torch) live in ``helpers.lm_train``, used only by
the precompute ``python -m helpers.lm_train run``; nothing in this module imports either, so a notebook that uses
it needs neither.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from helpers._docs import SHARED, fill_doc
from helpers._validate import (MAX_COUNT, as_positive_array, file_path, finite_scalar, flag, has_columns, label,
                               label_list, one_of, positive_int, probability, renamed, renamed_required)
from helpers._validate import seed as _seed

_doc = fill_doc(SHARED)

#: The Debian package the corpus is built from, and the checksum of the ``.deb`` the cache was computed from.
CORPUS_PACKAGE = "gnome-user-docs"
CORPUS_VERSION = "43.0-2"
CORPUS_DEB = f"{CORPUS_PACKAGE}_{CORPUS_VERSION}_all.deb"
CORPUS_SHA256 = "0d635a840747958ca84da778b40d341f1155603851f922c9a171f5a181d6a39f"
#: The two help documents of the package, below ``usr/share/help/<lang>/``.
DOCUMENTS = ("gnome-help", "system-admin-guide")
#: The English originals live in the folder ``C``.
SOURCE_LANGUAGE = "C"

_MALLARD = "{http://projectmallard.org/1.0/}"
# Blocks whose text is one paragraph. Lists, notes, tables and sections only contain such blocks.
_TEXT_BLOCKS = {"p", "title", "desc", "subtitle"}


# --------------------------------------------------------------------------- parsing


def _local(tag: Any) -> str:
    return tag.replace(_MALLARD, "") if isinstance(tag, str) else ""


def page_paragraphs(page: str | Path | bytes) -> list[str]:
    """The text paragraphs of one Mallard page, in document order, whitespace collapsed.

    A paragraph is the text of a ``p``, ``title``, ``subtitle`` or ``desc`` element (inline markup such as
    ``gui`` or ``link`` is kept as its text). The ``info`` header is skipped except its ``desc``: it holds
    credits, licences and revision dates, not help text; so are ``comment`` elements (notes between editors,
    which translations drop). Translations made with itstool keep the structure of the
    English page, so the ``i``-th paragraph of a translation is the translation of the ``i``-th English one.

    Parameters
    ----------
    page : str, Path or bytes
        A path to a ``.page`` file, or the XML itself (``bytes``, or a ``str`` that starts with ``<``).

    Returns
    -------
    list of str
        Non-empty paragraphs.

    Raises
    ------
    ValueError
        If the XML cannot be parsed.

    Examples
    --------
    >>> from helpers.lm import page_paragraphs
    >>> xml = ('<page xmlns="http://projectmallard.org/1.0/"><info><desc>Short  help.</desc>'
    ...        '<credit><name>A. Writer</name></credit></info><title>Keys</title>'
    ...        '<p>Press <key>Super</key> now.</p><note><p>Done.</p></note></page>')
    >>> page_paragraphs(xml)
    ['Short help.', 'Keys', 'Press Super now.', 'Done.']
    """
    try:
        if isinstance(page, bytes):
            root = ET.fromstring(page)
        elif isinstance(page, str) and page.lstrip().startswith("<"):
            root = ET.fromstring(page.encode("utf-8"))
        else:
            root = ET.parse(file_path(page, "page", example="keys.page")).getroot()
    except ET.ParseError as err:
        raise ValueError(f"page is not well-formed Mallard XML ({err}); pass a .page file or its XML.") from err
    except OSError as err:
        raise ValueError(f"page {str(page)!r} is neither Mallard XML nor a readable .page file "
                         f"({err.strerror or err}).") from None
    out: list[str] = []

    def walk(el: ET.Element) -> None:
        tag = _local(el.tag)
        if tag == "comment":  # editorial notes in the English sources; translations drop them
            return
        if tag == "info":
            for child in el:
                if _local(child.tag) == "desc":
                    walk(child)
            return
        if tag in _TEXT_BLOCKS:
            text = " ".join("".join(el.itertext()).split())
            if text:
                out.append(text)
            return
        for child in el:
            walk(child)

    walk(root)
    return out


def read_help_tree(help_dir: str | Path, languages: Iterable[str] | None = None) -> pd.DataFrame:
    """Every paragraph of every page of the two GNOME help documents, aligned with its English original.

    Parameters
    ----------
    help_dir : str or Path
        The ``usr/share/help`` folder of the unpacked package (it holds ``C/`` and one folder per language).
    languages : iterable of str, optional
        Language folders to read (default: all but ``C``).

    Returns
    -------
    DataFrame
        One row per translated paragraph: ``language``, ``document``, ``page``, ``index`` (position in the
        page), ``text`` and ``english`` (the English paragraph at the same position; empty when the
        translation's structure differs from the original's, which then cannot be aligned).

    Raises
    ------
    ValueError
        If ``help_dir`` has no ``C`` folder or a requested language folder is missing.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from helpers.lm import read_help_tree
    >>> xml = '<page xmlns="http://projectmallard.org/1.0/"><title>{}</title><p>{}</p></page>'
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for lang, words in {"C": ("Keys", "Press a key."), "de": ("Tasten", "Press a key.")}.items():
    ...         d = Path(tmp, lang, "gnome-help"); d.mkdir(parents=True)
    ...         _ = (d / "keys.page").write_text(xml.format(*words))
    ...     tree = read_help_tree(tmp)
    >>> tree[["language", "page", "index", "text", "english"]].values.tolist()
    [['de', 'keys', 0, 'Tasten', 'Keys'], ['de', 'keys', 1, 'Press a key.', 'Press a key.']]
    """
    root = file_path(help_dir, "help_dir", example="usr/share/help")
    if not (root / SOURCE_LANGUAGE).is_dir():
        raise ValueError(f"help_dir={str(root)!r} has no {SOURCE_LANGUAGE!r} folder; pass the usr/share/help folder "
                         f"of the unpacked {CORPUS_PACKAGE} package.")
    available = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != SOURCE_LANGUAGE)
    langs = available if languages is None else label_list(languages, "languages", example='["de", "vi"]')
    missing = [lang for lang in langs if lang not in available]
    if missing:
        raise ValueError(f"languages {missing} are not in {root}; available: {available}.")
    english: dict[tuple[str, str], list[str]] = {}
    for doc in DOCUMENTS:
        for path in sorted((root / SOURCE_LANGUAGE / doc).glob("*.page")):
            english[(doc, path.stem)] = page_paragraphs(path)
    rows = []
    for lang in langs:
        for (doc, page), source in english.items():
            path = root / lang / doc / f"{page}.page"
            if not path.exists():
                continue
            paras = page_paragraphs(path)
            aligned = len(paras) == len(source)
            for i, text in enumerate(paras):
                rows.append((lang, doc, page, i, text, source[i] if aligned else ""))
    return pd.DataFrame(rows, columns=["language", "document", "page", "index", "text", "english"])


# --------------------------------------------------------------------------- cleaning

#: Language folder -> the label a language identifier uses for it (ISO 639-1 without region or script).
def iso_code(language: str) -> str:
    """The ISO 639-1 code of a GNOME language folder name (``pt_BR`` -> ``pt``, ``sr@latin`` -> ``sr``).

    Examples
    --------
    >>> from helpers.lm import iso_code
    >>> [iso_code(x) for x in ["de", "pt_BR", "sr@latin", "zh_CN"]]
    ['de', 'pt', 'sr', 'zh']
    """
    return re.split(r"[_@]", str(language))[0]


def clean_paragraphs(
    tree: pd.DataFrame,
    *,
    identify: Callable[[str], str] | None = None,
    min_chars_identify: int = 20,
) -> pd.DataFrame:
    """Drop what is not a translation: paragraphs equal to English, and (optionally) text identified as English.

    Three filters, in order, each counted in the ``reason`` column of the dropped rows:

    1. ``"english"``: the paragraph is identical to the English paragraph at the same position, or to any
       English paragraph of the same page (untranslated strings fall back to the original).
    2. ``"identified_english"``: ``identify`` (a function from text to a language code) says the paragraph is
       English although the folder is another language; only paragraphs of at least ``min_chars_identify``
       characters are tested, because identifiers are unreliable on a few words.
    3. ``"duplicate"``: the same text already occurred earlier in the same language (boilerplate repeated
       across pages would otherwise be counted, and learned, many times).

    Parameters
    ----------
    tree : DataFrame
        Output of :func:`read_help_tree`.
    identify : callable, optional
        ``text -> language code``; ``None`` skips filter 2.
    min_chars_identify : int, default 20
        Shortest paragraph passed to ``identify``.

    Returns
    -------
    DataFrame
        ``tree`` with columns ``keep`` (bool), ``reason`` (empty for kept rows) and ``identified`` (the
        identifier's label, empty when not run).

    Raises
    ------
    ValueError
        If columns of :func:`read_help_tree` are missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import clean_paragraphs
    >>> tree = pd.DataFrame({"language": "de", "document": "gnome-help", "page": "p", "index": [0, 1, 2, 3],
    ...                      "text": ["Tasten drücken", "Press a key now please.", "Ok", "Tasten drücken"],
    ...                      "english": ["Press keys", "Press a key now please.", "Fine", "Press keys"]})
    >>> clean_paragraphs(tree)[["keep", "reason"]].values.tolist()
    [[True, ''], [False, 'english'], [True, ''], [False, 'duplicate']]
    """
    has_columns(tree, ["language", "document", "page", "index", "text", "english"], what="the paragraph table")
    positive_int(min_chars_identify, "min_chars_identify", minimum=0, maximum=MAX_COUNT)
    if identify is not None and not callable(identify):
        raise ValueError(f"identify must be a function from a text to a language code, or None; got {identify!r}.")
    out = tree.copy()
    page_english = out.groupby(["document", "page"])["english"].agg(lambda s: set(s))
    same_page = [t in page_english.loc[(d, p)] for t, d, p in zip(out["text"], out["document"], out["page"])]
    reason = np.where((out["text"] == out["english"]) | np.array(same_page, dtype=bool), "english", "")
    identified = np.full(len(out), "", dtype=object)
    if identify is not None:
        for i in np.flatnonzero(reason == ""):
            text = out["text"].iat[i]
            if len(text) >= min_chars_identify:
                identified[i] = str(identify(text))
        is_en = (identified == "en") & (out["language"].map(iso_code).to_numpy() != "en")
        reason = np.where((reason == "") & is_en, "identified_english", reason)
    out["reason"] = reason
    first = ~out.assign(_r=reason)[lambda d: d["_r"] == ""].duplicated(["language", "text"])
    dup = pd.Series(False, index=out.index)
    dup.loc[first.index] = ~first
    out.loc[dup, "reason"] = "duplicate"
    out["keep"] = out["reason"] == ""
    out["identified"] = identified
    return out


def holdout_pages(pages: Iterable[str], *, fraction: float = 0.15, seed: int = 0) -> list[str]:
    """Pick whole pages to hold out, the same for every language: a seeded, order-free choice.

    Each page gets a pseudo-random key from the SHA-256 of ``f"{seed}:{page}"``; the ``round(fraction * n)``
    pages with the smallest keys are held out. The choice depends only on the page names, so every language
    holds out the same pages, and adding or removing a language does not move the split.

    Parameters
    ----------
    pages : iterable of str
        Page identifiers (duplicates are ignored).
    fraction : float, default 0.15
        Share of pages held out, in (0, 1).
    seed : int, default 0
        Changes the choice.

    Returns
    -------
    list of str
        Held-out pages, sorted.

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1) or fewer than two pages are given.

    Examples
    --------
    >>> from helpers.lm import holdout_pages
    >>> pages = [f"page{i}" for i in range(20)]
    >>> held = holdout_pages(pages, fraction=0.25)
    >>> len(held), held == holdout_pages(reversed(pages), fraction=0.25)
    (5, True)
    """
    return _holdout(pages, fraction, seed, "fraction")


def _holdout(pages: Iterable[str], fraction: float, seed: int, name: str) -> list[str]:
    fraction = probability(fraction, name, strict=True, example=0.15)
    seed = _seed(seed)
    if isinstance(pages, (str, bytes)) or not isinstance(pages, Iterable):
        raise ValueError(f"pages must be a list of page names, e.g. pages=['keys', 'mouse']; got {pages!r}.")
    unique = sorted(set(map(str, pages)))
    if len(unique) < 2:
        raise ValueError(f"holdout_pages needs at least two pages to split; got {len(unique)}.")
    keys = {p: hashlib.sha256(f"{int(seed)}:{p}".encode()).hexdigest() for p in unique}
    k = max(1, min(len(unique) - 1, round(fraction * len(unique))))
    return sorted(sorted(unique, key=keys.__getitem__)[:k])


def utf8_chars(data: bytes) -> int:
    """Number of characters in UTF-8 ``data``: the bytes that start a character (not ``10xxxxxx``).

    Examples
    --------
    >>> from helpers.lm import utf8_chars
    >>> utf8_chars("Größe".encode()), len("Größe".encode()), utf8_chars("日本".encode())
    (5, 7, 2)
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes (text encoded as UTF-8, e.g. 'Größe'.encode()); got {data!r}.")
    arr = np.frombuffer(bytes(data), dtype=np.uint8)
    return int(np.count_nonzero((arr & 0xC0) != 0x80))


@dataclass(frozen=True)
class Corpus:
    """The prepared corpus: cleaned paragraphs with their split, and per-language counts.

    Attributes
    ----------
    paragraphs : DataFrame
        Kept paragraphs: ``language``, ``document``, ``page``, ``index``, ``text``, ``english``, ``split``
        (``"train"`` or ``"test"``), ``n_bytes``, ``n_chars``, ``english_bytes``.
    stats : DataFrame
        One row per language: paragraphs and characters before and after cleaning, dropped paragraphs by
        reason, train and test bytes and characters, the share the identifier agrees with the folder.
    held_out : list of str
        The held-out ``document/page`` identifiers.
    """

    paragraphs: pd.DataFrame = field(repr=False)
    stats: pd.DataFrame
    held_out: list[str]

    def text(self, language: str, split: str) -> bytes:
        """The UTF-8 text of one language and split, paragraphs joined by newlines (each one ends with one)."""
        one_of(split, ("train", "test"), "split")
        one_of(language, sorted(self.stats["language"]), "language")
        rows = self.paragraphs[(self.paragraphs["language"] == language) & (self.paragraphs["split"] == split)]
        if rows.empty:
            raise ValueError(f"No {split} text for language {language!r}; languages: {sorted(self.stats['language'])}.")
        return "".join(t + "\n" for t in rows["text"]).encode("utf-8")


def build_corpus(
    tree: pd.DataFrame,
    *,
    identify: Callable[[str], str] | None = None,
    holdout_fraction: float = 0.15,
    seed: int = 0,
) -> Corpus:
    """Clean the paragraph table, hold out whole pages and count what is left per language.

    Parameters
    ----------
    tree : DataFrame
        Output of :func:`read_help_tree`.
    identify : callable, optional
        Language identifier passed to :func:`clean_paragraphs`.
    holdout_fraction : float, default 0.15
        Share of pages of the ``gnome-help`` document held out (only that document exists in every language, so
        it is the one that can be held out the same way everywhere; ``system-admin-guide`` pages always train).
    seed : int, default 0
        Seed of :func:`holdout_pages`.

    Returns
    -------
    Corpus

    Raises
    ------
    ValueError
        On a malformed table, a bad fraction, or no ``gnome-help`` pages.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import build_corpus
    >>> tree = pd.DataFrame({"language": "de", "document": "gnome-help", "page": [f"p{i}" for i in range(4)],
    ...                      "index": 0, "text": ["Eins", "Zwei", "Drei", "Vier"], "english": ["One", "Two", "3", "4"]})
    >>> corpus = build_corpus(tree, holdout_fraction=0.25)
    >>> corpus.stats[["language", "paragraphs_kept", "test_chars"]].values.tolist()
    [['de', 4, 5]]
    """
    probability(holdout_fraction, "holdout_fraction", strict=True, example=0.15)
    _seed(seed)
    cleaned = clean_paragraphs(tree, identify=identify)
    help_pages = cleaned.loc[cleaned["document"] == "gnome-help", "page"]
    if help_pages.empty:
        raise ValueError("The table has no gnome-help pages to hold out; read the help tree with read_help_tree.")
    held = _holdout(help_pages, holdout_fraction, seed, "holdout_fraction")
    held_ids = [f"gnome-help/{p}" for p in held]
    ident = cleaned["document"] + "/" + cleaned["page"]
    cleaned["split"] = np.where(ident.isin(held_ids), "test", "train")
    kept = cleaned[cleaned["keep"]].copy()
    kept["n_bytes"] = kept["text"].map(lambda t: len(t.encode("utf-8")) + 1)  # +1: the newline after it
    kept["n_chars"] = kept["text"].str.len() + 1
    kept["english_bytes"] = kept["english"].map(lambda t: len(t.encode("utf-8")) + 1 if t else 0)
    rows = []
    for lang, g in cleaned.groupby("language", sort=True):
        k = kept[kept["language"] == lang]
        tested = g["identified"] != ""
        agree = (g.loc[tested & g["keep"], "identified"] == iso_code(lang)).mean() if identify else np.nan
        rows.append({
            "language": lang, "paragraphs": len(g), "chars": int(g["text"].str.len().sum()),
            "paragraphs_kept": len(k), "chars_kept": int(k["text"].str.len().sum()),
            "dropped_english": int((g["reason"] == "english").sum()),
            "dropped_identified_english": int((g["reason"] == "identified_english").sum()),
            "dropped_duplicate": int((g["reason"] == "duplicate").sum()),
            "train_bytes": int(k.loc[k["split"] == "train", "n_bytes"].sum()),
            "train_chars": int(k.loc[k["split"] == "train", "n_chars"].sum()),
            "test_bytes": int(k.loc[k["split"] == "test", "n_bytes"].sum()),
            "test_chars": int(k.loc[k["split"] == "test", "n_chars"].sum()),
            "identifier_agreement": float(agree) if agree == agree else np.nan,
        })
    cols = ["language", "document", "page", "index", "text", "english", "split", "n_bytes", "n_chars",
            "english_bytes"]
    return Corpus(paragraphs=kept[cols].reset_index(drop=True), stats=pd.DataFrame(rows), held_out=held_ids)


# --------------------------------------------------------------------------- the grid

#: Model sizes: name -> (d_model, n_layer, n_head). Non-embedding parameters are 12 d^2 + 13 d per layer
#: plus 2 d for the final layer norm (see :func:`non_embedding_parameters`).
SIZES: dict[str, tuple[int, int, int]] = {
    "xs": (30, 2, 2),
    "s": (48, 2, 3),
    "m": (64, 3, 4),
    "l": (96, 3, 4),
    "xl": (112, 5, 4),
}
#: Bytes of memory a worker may plan for one run (weights, gradients, AdamW state and activations).
MEMORY_LIMIT_BYTES = 2 * 1024**3


def non_embedding_parameters(d_model: int, n_layer: int) -> int:
    """Parameters of the transformer blocks and final layer norm (embeddings and the tied output excluded).

    Per block: attention ``4 d^2 + 4 d`` (query, key, value and output projections with biases), MLP
    ``8 d^2 + 5 d`` (a 4x hidden layer with biases) and two layer norms ``4 d``.

    Examples
    --------
    >>> from helpers.lm import non_embedding_parameters
    >>> non_embedding_parameters(30, 2)
    22440
    """
    d = positive_int(d_model, "d_model", maximum=MAX_COUNT)
    n_layer = positive_int(n_layer, "n_layer", maximum=MAX_COUNT)
    return n_layer * (12 * d * d + 13 * d) + 2 * d


def mixture_weights(sizes: Mapping[str, float] | pd.Series, temperature: float) -> pd.Series:
    """Sampling probabilities ``p_l ∝ n_l^T`` of a multilingual mixture.

    ``T = 1`` samples every language in proportion to its text; ``T = 0`` samples all languages equally; values in
    between flatten the natural shares.

    Parameters
    ----------
    sizes : mapping or Series
        Language to its amount of training text (bytes), all > 0.
    temperature : float
        ``T`` in [0, 1].

    Returns
    -------
    Series
        Probabilities summing to 1, indexed by language.

    Raises
    ------
    ValueError
        On an empty mapping, non-positive sizes, or a temperature outside [0, 1].

    Examples
    --------
    >>> from helpers.lm import mixture_weights
    >>> mixture_weights({"de": 900, "hi": 100}, 1.0).round(2).to_dict()
    {'de': 0.9, 'hi': 0.1}
    >>> mixture_weights({"de": 900, "hi": 100}, 0.5).round(2).to_dict()
    {'de': 0.75, 'hi': 0.25}
    """
    if not isinstance(sizes, (Mapping, pd.Series)) or len(sizes) == 0:
        raise ValueError(f"sizes must map each language to a positive amount of text, e.g. {{'de': 900}}; "
                         f"got {sizes!r}.")
    n = pd.Series(as_positive_array(list(dict(sizes).values()), "sizes"), index=list(dict(sizes)))
    t = probability(temperature, "temperature", example=0.3)  # 1 = natural shares, 0 = uniform
    w = n**t
    return w / w.sum()


@dataclass(frozen=True)
class RunConfig:
    """One training run of the grid (a model trained once and evaluated at several token counts).

    Attributes
    ----------
    kind : str
        ``"multilingual"`` (the mixture) or ``"monolingual"`` (one language: the local alternative).
    size : str
        Key of :data:`SIZES`.
    temperature : float
        Mixture temperature (1.0 for monolingual runs).
    seed : int
        Seeds the initialisation (torch) and the sampling of training windows (numpy).
    mixture : dict
        Language to sampling probability.
    checkpoints : tuple of int
        Total training tokens at which the run is evaluated; the last is the run's budget.
    eval_languages : tuple of str
        Languages whose held-out text is scored.
    context, batch, lr, warmup
        Context length (bytes), sequences per step, peak learning rate, warm-up steps.
    max_epochs : float
        How many passes over its training text the run's budget may amount to (1 for the multilingual runs;
        a small monolingual model at a large language's compute may revisit its text a few times).
    """

    kind: str
    size: str
    temperature: float
    seed: int
    mixture: dict[str, float]
    checkpoints: tuple[int, ...]
    eval_languages: tuple[str, ...]
    context: int = 128
    batch: int = 16
    lr: float = 2e-3
    warmup: int = 50
    max_epochs: float = 1.0

    @property
    def run_id(self) -> str:
        """A file-safe name, e.g. ``multilingual-m-T0.3-s1`` or ``monolingual-xs-hi-s0``."""
        if self.kind == "monolingual":
            return f"monolingual-{self.size}-{'+'.join(self.mixture)}-s{self.seed}"
        return f"{self.kind}-{self.size}-T{self.temperature:g}-s{self.seed}"


@_doc
def memory_estimate(model_size: str | None = None, *, batch: int, context: int, size: str | None = None) -> int:
    """Rough bytes one training run needs: float32 weights, gradients and two AdamW moments, plus the
    activations kept for the backward pass (about 24 floats per position, width and layer, the attention
    matrices and the logits).

    Parameters
    ----------
    model_size : str
        A model size of :data:`SIZES` (``"xs"`` to ``"xl"``; required).
    batch, context : int
        Sequences per batch and bytes per sequence.
    {{size_deprecated_model}}

    Examples
    --------
    >>> from helpers.lm import memory_estimate
    >>> memory_estimate("xs", batch=16, context=128) < 64 * 1024**2
    True
    """
    model_size, used = renamed_required(model_size, size, new="model_size", old="size", example='"xl"')
    one_of(model_size, SIZES, used)
    batch = positive_int(batch, "batch", maximum=MAX_COUNT)
    context = positive_int(context, "context", maximum=MAX_COUNT)
    d, n_layer, n_head = SIZES[model_size]
    params = non_embedding_parameters(d, n_layer) + (256 + context) * d
    activations = batch * context * (24 * d * n_layer + 2 * n_head * context * n_layer + 3 * 256) * 4
    return int(16 * params + activations)


def check_config(cfg: RunConfig, train_bytes: Mapping[str, int], *,
                 memory_limit: int = MEMORY_LIMIT_BYTES) -> None:
    """Reject a run that cannot be trained, before any training starts.

    Parameters
    ----------
    cfg : RunConfig
        The run.
    train_bytes : mapping
        Language to bytes of training text available.
    memory_limit : int
        Bytes a run may plan to use.

    Raises
    ------
    ValueError
        An unknown size; a language without training text (unknown, or not in the corpus); a mixture whose
        probabilities are not positive and summing to 1; checkpoints that are not increasing multiples of the
        tokens per step; a token budget larger than the training text (the grid never repeats the corpus as a
        whole; a small language may be revisited under a flat mixture, which the cache records); a context
        longer than the text of a language; or a model whose estimated memory exceeds ``memory_limit``.

    Examples
    --------
    >>> from helpers.lm import RunConfig, check_config
    >>> cfg = RunConfig("multilingual", "xs", 1.0, 0, {"de": 0.5, "xx": 0.5}, (2048, 4096), ("de",))
    >>> check_config(cfg, {"de": 10_000})
    Traceback (most recent call last):
        ...
    ValueError: Unknown language(s) ['xx'] in the mixture of multilingual-xs-T1-s0; languages with training text: ['de'].
    """
    if not isinstance(cfg, RunConfig):
        raise ValueError(f"cfg must be a RunConfig (see grid_runs); got {type(cfg).__name__}.")
    if not isinstance(train_bytes, Mapping) or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                        for v in train_bytes.values()):
        raise ValueError(f"train_bytes must map each language to its bytes of training text, e.g. {{'de': 10000}}; "
                         f"got {train_bytes!r}.")
    memory_limit = positive_int(memory_limit, "memory_limit", maximum=2**62)
    one_of(cfg.size, SIZES, "size")
    one_of(cfg.kind, ("multilingual", "monolingual"), "kind")
    unknown = sorted(set(cfg.mixture) - set(train_bytes)) + sorted(set(cfg.eval_languages) - set(train_bytes))
    if unknown:
        raise ValueError(f"Unknown language(s) {unknown} in the mixture of {cfg.run_id}; languages with training "
                         f"text: {sorted(train_bytes)}.")
    probs = np.array(list(cfg.mixture.values()), dtype=float)
    if probs.size == 0 or (probs <= 0).any() or not np.isclose(probs.sum(), 1.0):
        raise ValueError(f"The mixture of {cfg.run_id} must give every language a positive probability, summing "
                         f"to 1; got {cfg.mixture}. Build it with mixture_weights.")
    per_step = cfg.batch * cfg.context
    ck = np.array(cfg.checkpoints)
    if ck.size == 0 or (ck % per_step != 0).any() or (np.diff(ck) <= 0).any():
        raise ValueError(f"checkpoints of {cfg.run_id} must be increasing multiples of batch * context = "
                         f"{per_step} tokens; got {list(cfg.checkpoints)}.")
    available = sum(int(train_bytes[g]) for g in cfg.mixture)
    if ck[-1] > cfg.max_epochs * available:
        raise ValueError(f"The token budget of {cfg.run_id} ({int(ck[-1]):,} tokens) is larger than "
                         f"{cfg.max_epochs:g} pass(es) over its training text ({available:,} bytes); lower the "
                         f"largest checkpoint, add text, or allow more epochs (max_epochs).")
    short = [g for g in cfg.mixture if train_bytes[g] <= cfg.context + 1]
    if short:
        raise ValueError(f"Languages {short} have no more text than one context window ({cfg.context} bytes).")
    need = memory_estimate(cfg.size, batch=cfg.batch, context=cfg.context)
    if need > memory_limit:
        raise ValueError(f"{cfg.run_id} needs about {need / 1024**2:,.0f} MB, more than the limit of "
                         f"{memory_limit / 1024**2:,.0f} MB per run; use a smaller size, batch or context.")


# --------------------------------------------------------------------------- the experiment's grid and corpus

#: Languages with at least this many characters of distinct translated text after cleaning enter the grid.
MIN_CHARS = 30_000
#: Bytes of held-out text scored per language at every checkpoint (whole paragraphs, in a fixed shuffled order).
EVAL_BYTES = 3_000

#: The registered grid. ``quick`` is the tiny grid of ``--quick`` (and of the cache test).
GRID: dict[str, Any] = {
    "sizes": ["xs", "s", "m", "l", "xl"],
    "temperatures": [1.0, 0.3],
    "seeds": {"xs": [0, 1], "s": [0, 1], "m": [0, 1], "l": [0, 1], "xl": [0, 1]},
    "checkpoints": [2**k for k in range(14, 21)],
    "batch": 8, "context": 128, "lr": 3e-3, "warmup": 20,
    "monolingual": {"languages": ["vi", "te", "zh_CN"], "sizes": ["xs", "s"],
                    "seeds_by_size": {"xs": [0, 1], "s": [0]},
                    "checkpoints": [2**k for k in range(14, 21)], "batch": 8, "max_epochs": 20.0},
}
QUICK_GRID: dict[str, Any] = {
    **GRID, "sizes": ["xs"], "seeds": {"xs": [0]}, "checkpoints": [2**14, 2**15],
    "monolingual": {**GRID["monolingual"], "languages": ["vi"], "sizes": ["xs"], "seeds_by_size": {"xs": [0]},
                    "checkpoints": [2**13, 2**14]},
}


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks.

    Examples
    --------
    >>> import tempfile, os
    >>> from helpers.lm import sha256_file
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(f.name)[:12]
    'ba7816bf8f01'
    >>> os.unlink(f.name)
    """
    h = hashlib.sha256()
    p = file_path(path, "path")
    try:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise ValueError(f"Cannot read the file {str(p)!r} ({exc.strerror or exc}); check the path.") from None
    return h.hexdigest()


def select_languages(stats: pd.DataFrame, *, min_chars: int = MIN_CHARS) -> list[str]:
    """Languages with at least ``min_chars`` characters after cleaning, largest first.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import select_languages
    >>> select_languages(pd.DataFrame({"language": ["de", "hi", "ja"], "chars_kept": [4e5, 5e3, 5e4]}))
    ['de', 'ja']
    """
    has_columns(stats, ["language", "chars_kept"], what="the corpus statistics")
    min_chars = positive_int(min_chars, "min_chars", minimum=0)
    big = stats[stats["chars_kept"] >= min_chars].sort_values(["chars_kept", "language"], ascending=[False, True])
    if big.empty:
        raise ValueError(f"No language has {min_chars:,} characters after cleaning; lower min_chars.")
    return big["language"].tolist()


@dataclass(frozen=True)
class Streams:
    """Byte streams of the selected languages: what training and evaluation read.

    Attributes
    ----------
    train, test, common : dict of language to bytes
        Training text; the scored held-out sample (whole paragraphs up to :data:`EVAL_BYTES`); and the held-out
        paragraphs kept in *every* selected language (the same content, for total bits). Each starts with a
        newline so that its first paragraph is predicted like the others.
    english_bytes : dict of language to int
        Bytes of the English originals of the paragraphs in ``test``.
    """

    train: dict[str, bytes]
    test: dict[str, bytes]
    common: dict[str, bytes]
    english_bytes: dict[str, int]


def make_streams(corpus: Corpus, languages: Sequence[str], *, eval_bytes: int = EVAL_BYTES) -> Streams:
    """Cut the corpus into the training, evaluation and common streams of the chosen languages.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import build_corpus, make_streams
    >>> tree = pd.DataFrame({"language": "de", "document": "gnome-help", "page": [f"p{i}" for i in range(4)],
    ...                      "index": 0, "text": ["Eins", "Zwei", "Drei", "Vier"], "english": ["1", "2", "3", "4"]})
    >>> s = make_streams(build_corpus(tree, holdout_fraction=0.25), ["de"])
    >>> s.test["de"], s.common["de"], s.english_bytes["de"]
    (b'\\nDrei\\n', b'\\nDrei\\n', 2)
    """
    positive_int(eval_bytes, "eval_bytes", maximum=MAX_COUNT)
    if not isinstance(corpus, Corpus):
        raise ValueError(f"corpus must be a Corpus (see build_corpus); got {type(corpus).__name__}.")
    languages = label_list(languages, "languages", example='["de", "vi"]')
    p = corpus.paragraphs
    missing = [g for g in languages if g not in set(p["language"])]
    if missing:
        raise ValueError(f"languages {missing} have no kept text; languages: {sorted(set(p['language']))}.")
    test = p[(p["split"] == "test") & p["language"].isin(languages)].copy()
    test["_key"] = [hashlib.sha256(f"{d}/{pg}/{i}".encode()).hexdigest()
                    for d, pg, i in zip(test["document"], test["page"], test["index"])]
    n_lang = test.groupby("_key")["language"].nunique()
    common_keys = set(n_lang.index[n_lang == len(languages)])
    train, held, common, eng = {}, {}, {}, {}
    for g in languages:
        rows = p[(p["language"] == g) & (p["split"] == "train")]
        train[g] = ("\n" + "".join(t + "\n" for t in rows["text"])).encode("utf-8")
        t = test[test["language"] == g].sort_values("_key")
        take = (t["n_bytes"].cumsum().shift(fill_value=0) < eval_bytes).to_numpy()
        held[g] = ("\n" + "".join(x + "\n" for x in t["text"][take])).encode("utf-8")
        eng[g] = int(t["english_bytes"][take].sum())
        c = t[t["_key"].isin(common_keys)]
        common[g] = ("\n" + "".join(x + "\n" for x in c["text"])).encode("utf-8")
    return Streams(train=train, test=held, common=common, english_bytes=eng)


def grid_runs(grid: Mapping[str, Any], streams: Streams) -> list[RunConfig]:
    """Every run of ``grid`` on these streams, checked with :func:`check_config`, the most expensive first.

    Examples
    --------
    >>> from helpers.lm import QUICK_GRID, Streams, grid_runs
    >>> text = {g: b"x" * 200_000 for g in ["de", "vi"]}
    >>> s = Streams(train=text, test=text, common=text, english_bytes={"de": 1, "vi": 1})
    >>> [r.run_id for r in grid_runs({**QUICK_GRID, "monolingual": {**QUICK_GRID["monolingual"]}}, s)]
    ['multilingual-xs-T1-s0', 'multilingual-xs-T0.3-s0', 'monolingual-xs-vi-s0']
    """
    if not isinstance(streams, Streams):
        raise ValueError(f"streams must be a Streams (see make_streams); got {type(streams).__name__}.")
    need = ("sizes", "temperatures", "seeds", "checkpoints", "batch", "context", "lr", "warmup", "monolingual")
    if not isinstance(grid, Mapping) or any(k not in grid for k in need):
        raise ValueError(f"grid must be a mapping with the entries {list(need)}, as GRID and QUICK_GRID have; "
                         f"got {grid!r}.")
    langs = tuple(streams.train)
    sizes = {g: len(b) for g, b in streams.train.items()}
    common = {k: grid[k] for k in ("context", "lr", "warmup")}
    runs = []
    for size in grid["sizes"]:
        for temp in grid["temperatures"]:
            mix = mixture_weights(sizes, temp).to_dict()
            for seed in grid["seeds"][size]:
                runs.append(RunConfig("multilingual", size, float(temp), int(seed), mix, tuple(grid["checkpoints"]),
                                      langs, batch=grid["batch"], **common))
    mono = grid["monolingual"]
    for g in mono["languages"]:
        for size in mono["sizes"]:
            for seed in mono["seeds_by_size"][size]:
                runs.append(RunConfig("monolingual", size, 1.0, int(seed), {g: 1.0}, tuple(mono["checkpoints"]),
                                      (g,), batch=mono["batch"], max_epochs=mono["max_epochs"], **common))
    for r in runs:
        check_config(r, sizes)
    cost = {r.run_id: r.checkpoints[-1] * non_embedding_parameters(*SIZES[r.size][:2]) for r in runs}
    return sorted(runs, key=lambda r: -cost[r.run_id])


#: Columns of the cached runs table (one row per run, checkpoint and evaluated language).
RUN_COLUMNS = ["run", "kind", "size", "params", "temperature", "seed", "tokens", "step", "language",
               "tokens_language", "bits", "bytes", "chars", "english_bytes", "common_bits", "common_bytes",
               "common_chars", "train_loss_bits", "seconds"]


# --------------------------------------------------------------------------- the precompute (corpus side)

#: Where the precompute (``helpers.lm_train``) keeps the unpacked package, the prepared corpus and finished runs,
#: outside the repository: ``~/.cache/helpers-lm``.
#:
#: :meta hide-value:
CACHE_DIR = Path.home() / ".cache" / "helpers-lm"



# --------------------------------------------------------------------------- the cache, without torch

#: Units a loss can be read in (see :func:`losses`).
UNITS = {
    "byte": ("bits", "bytes", "bits per byte"),
    "char": ("bits", "chars", "bits per character"),
    "content": ("bits", "english_bytes", "bits per byte of the English original"),
}


def load_runs(*, verify: bool = True) -> pd.DataFrame:
    """The cached grid: one row per run, checkpoint and evaluated language (the registered dataset ``lm_runs``).

    Examples
    --------
    >>> from helpers.lm import load_runs
    >>> runs = load_runs()
    >>> sorted(runs["kind"].unique())
    ['monolingual', 'multilingual']
    """
    from helpers.data import load

    return load("lm_runs", verify=verify)


def load_corpus_stats(*, verify: bool = True) -> pd.DataFrame:
    """Per-language counts of the prepared corpus (the registered dataset ``lm_corpus``).

    Examples
    --------
    >>> from helpers.lm import load_corpus_stats
    >>> stats = load_corpus_stats()
    >>> int(stats["selected"].sum()) >= 20
    True
    """
    from helpers.data import load

    return load("lm_corpus", verify=verify)


def load_provenance() -> dict[str, Any]:
    """The provenance of the cache (command, corpus checksum, versions, wall time, peak memory), checked.

    Raises
    ------
    ValueError
        If the files it describes differ from their recorded checksums.

    Examples
    --------
    >>> from helpers.lm import load_provenance
    >>> load_provenance()["corpus"]["version"]
    '43.0-2'
    """
    import json

    from helpers.data import DATA_DIR

    meta = json.loads((DATA_DIR / "results" / "lm_runs.json").read_text())
    for info in meta["files"].values():
        if sha256_file(DATA_DIR / "results" / info["file"]) != info["sha256"]:
            raise ValueError(f"{info['file']} differs from the checksum in lm_runs.json; rerun "
                             "`python -m helpers.lm_train run --force` or restore data/results.")
    return meta


def losses(runs: pd.DataFrame, *, unit: str = "byte") -> pd.DataFrame:
    """Add ``loss``: the held-out loss in a unit, and ``weight``, the language's share of the training text.

    Parameters
    ----------
    runs : DataFrame
        :func:`load_runs` (or rows of it).
    unit : {"byte", "char", "content"}
        Bits per UTF-8 byte, per character, or per byte of the *English original* of the same paragraphs (the
        last compares languages on the same content: it is their total bits rescaled by one common length).

    Returns
    -------
    DataFrame
        ``runs`` with ``loss`` (and ``unit``).

    Raises
    ------
    ValueError
        On an unknown unit or missing columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import losses
    >>> r = pd.DataFrame({"bits": [300.0], "bytes": [150], "chars": [100], "english_bytes": [120]})
    >>> losses(r, unit="char")["loss"].tolist(), losses(r, unit="content")["loss"].tolist()
    ([3.0], [2.5])
    """
    one_of(unit, UNITS, "unit")
    num, den, _ = UNITS[unit]
    has_columns(runs, [num, den], what="the runs table")
    return runs.assign(loss=runs[num] / runs[den], unit=unit)


def with_weights(runs: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """Add ``weight``: each language's share of the training text (how a held-out split of the natural mixture
    would weigh it in one aggregate loss).

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import with_weights
    >>> st = pd.DataFrame({"language": ["de", "vi"], "p_T1": [0.9, 0.1]})
    >>> with_weights(pd.DataFrame({"language": ["vi"]}), st)["weight"].tolist()
    [0.1]
    """
    has_columns(runs, ["language"], what="the runs table")
    has_columns(stats, ["language", "p_T1"], what="the corpus statistics")
    w = stats.set_index("language")["p_T1"]
    missing = sorted(set(runs["language"]) - set(w.index))
    if missing:
        raise ValueError(f"languages {missing} are not in the corpus statistics.")
    return runs.assign(weight=runs["language"].map(w).to_numpy())


def aggregate_curve(runs: pd.DataFrame, *, by: Sequence[str] = ("size", "params", "temperature", "seed", "tokens"),
                    weighting: str = "natural") -> pd.DataFrame:
    """The one-number loss of each run and checkpoint: the mean of the languages' losses.

    Parameters
    ----------
    runs : DataFrame
        Output of :func:`losses` and :func:`with_weights`, multilingual rows.
    by : sequence of str
        Columns that identify a point.
    weighting : {"natural", "equal"}
        ``"natural"`` weighs languages by their share of the text (the loss on a held-out sample of the natural
        mixture, what a single reported number usually is); ``"equal"`` gives every language the same weight.

    Returns
    -------
    DataFrame
        One row per point: the ``by`` columns, ``loss`` and ``language = "overall"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from helpers.lm import aggregate_curve
    >>> r = pd.DataFrame({"tokens": [1, 1], "language": ["de", "vi"], "loss": [1.0, 3.0], "weight": [0.9, 0.1]})
    >>> aggregate_curve(r, by=["tokens"])["loss"].round(2).tolist()
    [1.2]
    """
    one_of(weighting, ("natural", "equal"), "weighting")
    by = label_list(by, "by", example='["tokens"]')
    has_columns(runs, [*by, "loss", "weight"], what="the runs table")
    w = runs["weight"] if weighting == "natural" else pd.Series(1.0, index=runs.index)
    tmp = runs.assign(_w=w, _wy=w * runs["loss"])
    agg = tmp.groupby(list(by), as_index=False)[["_w", "_wy"]].sum()
    return agg.assign(loss=agg["_wy"] / agg["_w"], language="overall").drop(columns=["_w", "_wy"])


# --------------------------------------------------------------------------- analyses


def _multilingual(runs: pd.DataFrame) -> pd.DataFrame:
    has_columns(runs, ["kind", "size", "params", "temperature", "seed", "tokens", "language", "tokens_language",
                       "loss"], what="the runs table (pass it through losses first)")
    out = runs[runs["kind"] == "multilingual"]
    if out.empty:
        raise ValueError("The runs table has no multilingual rows.")
    return out


@_doc
def language_points(runs: pd.DataFrame, stats: pd.DataFrame, *, temperature: float = 1.0,
                    model_size: str | None = None, min_tokens: int = 0, weighting: str = "natural",
                    size: str | None = None) -> pd.DataFrame:
    """Per-language points of one temperature (and optionally one model size), with the aggregate as ``overall``.

    Returns the rows of :func:`losses` with ``weight`` (:func:`with_weights`) plus one ``overall`` row per point
    (:func:`aggregate_curve`), ready for :func:`helpers.disaggregate.fit_by_group` with ``overall="overall"``.
    Checkpoints below ``min_tokens`` are dropped.

    Parameters
    ----------
    runs, stats : DataFrame
        The rows of :func:`losses` and :func:`load_corpus_stats`.
    temperature : float, default 1.0
        The sampling temperature of the runs kept.
    model_size : str, optional
        Keep only this model size (a value of the ``size`` column, ``"xs"`` to ``"xl"``); all sizes by default.
    min_tokens : int, default 0
        Drop checkpoints that saw fewer training tokens.
    weighting : str, default "natural"
        How :func:`aggregate_curve` weighs the languages into ``overall``.
    {{size_deprecated_model}}

    Examples
    --------
    >>> from helpers.lm import language_points, load_corpus_stats, load_runs, losses
    >>> pts = language_points(losses(load_runs()), load_corpus_stats(), model_size="xl")
    >>> "overall" in set(pts["language"]) and bool(pts["size"].eq("xl").all())
    True
    """
    r = _multilingual(runs)
    model_size, used = renamed(model_size, size, new="model_size", old="size", default=None)
    temperature = finite_scalar(temperature, "temperature", example=1.0)
    min_tokens = positive_int(min_tokens, "min_tokens", minimum=0)
    if model_size is not None:
        one_of(model_size, sorted(r["size"].unique()), used)
        r = r[r["size"] == model_size]
    r = r[np.isclose(r["temperature"], temperature) & (r["tokens"] >= min_tokens)]
    if r.empty:
        raise ValueError(f"No multilingual rows at temperature={temperature:g} with tokens >= min_tokens="
                         f"{min_tokens} (model size {model_size}); "
                         f"temperatures: {sorted(runs['temperature'].unique())}.")
    r = with_weights(r, stats)
    agg = aggregate_curve(r, weighting=weighting)
    agg["weight"] = 1.0
    agg["tokens_language"] = agg["tokens"]
    return pd.concat([r, agg], ignore_index=True)


def fit_languages(points: pd.DataFrame, *, size: str | Sequence[str] = "tokens", n_boot: int = 200,
                  seed: int = 0) -> Any:
    """One law per language and one for the aggregate, with bootstrap intervals (a thin call of ``fit_by_group``).

    ``size="tokens"`` or ``"params"`` fits a power law with a floor; ``size=("params", "tokens_language")``
    fits the Chinchilla form in the parameters and *that language's* tokens seen (the aggregate uses all tokens).
    Rows with no tokens of a language yet are dropped for the Chinchilla form (its log needs ``D > 0``).

    Examples
    --------
    >>> from helpers.lm import fit_languages, language_points, load_corpus_stats, load_runs, losses
    >>> pts = language_points(losses(load_runs()), load_corpus_stats(), model_size="xl")
    >>> res = fit_languages(pts, n_boot=0)
    >>> res.form, "de" in res.fits
    ('power_law', True)
    """
    from helpers.disaggregate import fit_by_group

    cols = label_list(size, "size", example='("params", "tokens_language")')
    has_columns(points, ["language", "loss", *cols], what="points (a language_points table)")
    pts = points[(points[cols] > 0).all(axis=1)]
    return fit_by_group(pts, size=size, metric="loss", group="language", overall="overall", n_boot=n_boot,
                        seed=seed)


def seed_noise(runs: pd.DataFrame) -> pd.DataFrame:
    """How much a language's final loss varies between training seeds: the pooled variance of log loss.

    Two seeds per (size, temperature) give one degree of freedom each, too few for an interval of their own. The
    variance is therefore pooled per language over every multilingual size and temperature at the final
    checkpoint: the assumption (ours, and checkable in the table) is that a language's seed-to-seed variation
    of *log* loss does not depend on the model's size or the mixture, while it may differ between languages (a
    language with little held-out text is noisier).

    Returns
    -------
    DataFrame
        One row per language: ``var_log`` (pooled variance of the natural log of the loss) and ``df`` (its
        degrees of freedom: the number of seeds minus one, summed over the cells pooled).

    Examples
    --------
    >>> from helpers.lm import load_runs, losses, seed_noise
    >>> noise = seed_noise(losses(load_runs()))
    >>> bool((noise["df"] >= 5).all() and (noise["var_log"] > 0).all())
    True
    """
    r = _multilingual(runs)
    r = r[r["tokens"] == r["tokens"].max()]
    g = r.assign(_log=np.log(r["loss"].to_numpy(dtype=float))).groupby(["language", "size", "temperature"])["_log"]
    cells = pd.DataFrame({"ss": g.var(ddof=1) * (g.count() - 1), "df": g.count() - 1}).dropna()
    pooled = cells.groupby("language")[["ss", "df"]].sum()
    pooled = pooled[pooled["df"] > 0]
    if pooled.empty:
        raise ValueError("seed_noise needs at least two seeds of some multilingual run at the final checkpoint.")
    return pd.DataFrame({"language": pooled.index, "var_log": (pooled["ss"] / pooled["df"]).to_numpy(),
                         "df": pooled["df"].to_numpy().astype(int)})


@_doc
def seed_variance_ratio(runs: pd.DataFrame, model_size: str | None = None, *, size: str | None = None) -> float:
    """How much more one model size varies between seeds than the average size: a check of :func:`seed_noise`.

    The mean, over languages and temperatures, of the seed variance of log loss at ``model_size``, divided by the
    same mean over every size (final checkpoint, multilingual runs). 1 is what the pooling assumes; a ratio above 1
    says the intervals at that size are too narrow, and inflating the pooled variances by it is a sensitivity
    check.

    Parameters
    ----------
    runs : DataFrame
        The rows of :func:`losses`.
    model_size : str
        A value of the ``size`` column (``"xs"`` to ``"xl"``; required).
    {{size_deprecated_model}}

    Examples
    --------
    >>> from helpers.lm import load_runs, losses, seed_variance_ratio
    >>> seed_variance_ratio(losses(load_runs()), "xl") > 0
    True
    """
    r = _multilingual(runs)
    r = r[r["tokens"] == r["tokens"].max()]
    model_size, used = renamed_required(model_size, size, new="model_size", old="size", example='"xl"')
    if label(model_size, used) not in set(r["size"]):
        raise ValueError(f"{used} {model_size!r} has no multilingual runs; sizes: {sorted(r['size'].unique())}.")
    var = r.assign(_log=np.log(r["loss"].to_numpy(dtype=float))).groupby(
        ["size", "language", "temperature"])["_log"].var()
    return float(var.xs(model_size, level="size").mean() / var.mean())


def _noise_table(runs: pd.DataFrame, noise: pd.DataFrame | None) -> pd.DataFrame:
    """The seed-noise table by language: :func:`seed_noise` of ``runs``, or the one given (checked)."""
    if noise is None:
        return seed_noise(runs).set_index("language")
    has_columns(noise, ["language", "var_log", "df"], what="noise (a seed_noise table)")
    v, d = noise["var_log"].to_numpy(dtype=float), noise["df"].to_numpy(dtype=float)
    if not (np.isfinite(v).all() and (v >= 0).all() and np.isfinite(d).all() and (d > 0).all()):
        raise ValueError("noise must have finite var_log >= 0 and df > 0 in every row, as seed_noise returns.")
    missing = sorted(set(_multilingual(runs)["language"]) - set(noise["language"]))
    if missing:
        raise ValueError(f"noise has no row for {missing[:5]}; pass seed_noise(runs) or a table covering them.")
    return noise.set_index("language")


def _seed_interval(estimate: np.ndarray, var: np.ndarray, df: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """``estimate +- t * sqrt(var)``: Student's t interval with the pooled degrees of freedom."""
    from scipy.stats import t

    half = t.ppf((1 + level) / 2, df) * np.sqrt(var)
    return estimate - half, estimate + half


def temperature_effects(runs: pd.DataFrame, *, tokens: int | None = None, level: float = 0.95,
                        noise: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who gains and who loses when the mixture is flattened: per size and language, loss at T = 1 and T = 0.3.

    ``gain = loss(T=1) - loss(T=0.3)`` (positive: flattening helps that language), from the seed means at the
    final checkpoint (or ``tokens``). ``gain_low``/``gain_high`` is a Student's t interval at ``level`` over
    training seeds, with each language's seed variance of log loss pooled over sizes and temperatures
    (:func:`seed_noise`; the variance of a seed mean of loss L is taken as L**2 var_log / seeds, by the delta
    method). ``clear`` says whether that interval excludes zero. ``seed_spread``, the largest difference between
    two seeds of the same size, language and temperature, is kept as a raw look at the noise. ``noise`` replaces
    the :func:`seed_noise` table (columns ``language``, ``var_log``, ``df``), e.g. to test how the intervals
    depend on the pooling assumption.

    Examples
    --------
    >>> from helpers.lm import load_runs, losses, temperature_effects
    >>> eff = temperature_effects(losses(load_runs()))
    >>> bool(((eff["gain_low"] <= eff["gain"]) & (eff["gain"] <= eff["gain_high"])).all())
    True
    """
    level = probability(level, "level", strict=True, example=0.95)
    r = _multilingual(runs)
    temps = sorted(r["temperature"].unique())
    if len(temps) != 2:
        raise ValueError(f"temperature_effects compares two temperatures; the runs have {temps}.")
    lo, hi = temps
    noise = _noise_table(runs, noise)
    t = int(r["tokens"].max()) if tokens is None else positive_int(tokens, "tokens")
    r = r[r["tokens"] == t]
    if r.empty:
        raise ValueError(f"No rows at tokens={t}; checkpoints are {sorted(runs['tokens'].unique())}.")
    g = r.groupby(["size", "params", "language", "temperature"])["loss"]
    stats = g.mean().unstack("temperature")
    seeds = g.count().unstack("temperature")
    spread = (g.max() - g.min()).unstack("temperature").max(axis=1)
    out = pd.DataFrame({f"loss_T{hi:g}": stats[hi], f"loss_T{lo:g}": stats[lo]}).reset_index()
    out["gain"] = out[f"loss_T{hi:g}"] - out[f"loss_T{lo:g}"]
    out["relative_gain"] = out["gain"] / out[f"loss_T{hi:g}"]
    v = noise["var_log"].reindex(out["language"]).to_numpy()
    var = v * (stats[hi].to_numpy() ** 2 / seeds[hi].to_numpy() + stats[lo].to_numpy() ** 2 / seeds[lo].to_numpy())
    out["gain_low"], out["gain_high"] = _seed_interval(out["gain"].to_numpy(), var,
                                                       noise["df"].reindex(out["language"]).to_numpy(), level)
    out["seed_spread"] = spread.to_numpy()
    out["clear"] = (out["gain_low"] > 0) | (out["gain_high"] < 0)
    return out.sort_values(["params", "gain"]).reset_index(drop=True)


@_doc
def temperature_votes(effects: pd.DataFrame, stats: pd.DataFrame, *, model_size: str | None = None,
                      size: str | None = None) -> pd.DataFrame:
    """Which temperature each aggregation rule of :func:`helpers.pluralism.aggregate_rankings` chooses.

    Languages are the voters and the temperatures the candidates; a language prefers the lower loss. Rules:
    ``plurality`` (each language votes for its better temperature: a majority rule), ``mean`` (the mean loss)
    and ``maximin`` (the worst-off language's loss), each with every language weighing the same and with
    languages weighted by their share of the text.

    Parameters
    ----------
    effects, stats : DataFrame
        The rows of :func:`temperature_effects` and :func:`load_corpus_stats`.
    model_size : str
        The model size whose languages vote (a value of the ``size`` column; required).
    {{size_deprecated_model}}

    Examples
    --------
    >>> from helpers.lm import load_corpus_stats, load_runs, losses, temperature_effects, temperature_votes
    >>> votes = temperature_votes(temperature_effects(losses(load_runs())), load_corpus_stats(), model_size="xl")
    >>> sorted(votes["rule"].unique())
    ['maximin', 'mean', 'plurality']
    """
    from helpers.pluralism import aggregate_rankings

    has_columns(effects, ["size", "language"], what="the temperature effects")
    has_columns(stats, ["language", "p_T1"], what="the corpus statistics")
    model_size, used = renamed_required(model_size, size, new="model_size", old="size", example='"xl"')
    label(model_size, used)
    e = effects[effects["size"] == model_size]
    if e.empty:
        raise ValueError(f"{used} {model_size!r} is not in the effects; sizes: {sorted(effects['size'].unique())}.")
    cols = [c for c in e.columns if c.startswith("loss_T")]
    table = e.set_index("language")[cols].rename(columns=lambda c: c.replace("loss_", ""))
    share = stats.set_index("language")["p_T1"].reindex(table.index)
    rows = []
    for weighting, w in (("equal", None), ("by text", share.to_numpy())):
        for rule in ("plurality", "mean", "maximin"):
            res = aggregate_rankings(table, rule=rule, weights=w)
            rows.append({"rule": rule, "weighting": weighting, "winner": res.winner,
                         "tied": len(res.tied_winners) > 1, **{f"score_{k}": v for k, v in res.scores.items()}})
    return pd.DataFrame(rows)


def population_curves(points: pd.DataFrame, *, tolerance: float = 0.05, n_perm: int = 20, n_boot: int = 100,
                      seed: int = 0) -> pd.DataFrame:
    """The third axis: the share of languages the aggregate law describes as languages are added.

    Two orders through :func:`helpers.disaggregate.third_axis`: from the best-resourced language down
    (``order = "by text"``) and at random (mean and 95% interval over ``n_perm`` orders). The aggregate weighs
    languages by their share of the text, so adding a small language barely moves it.

    Examples
    --------
    >>> from helpers.lm import language_points, load_corpus_stats, load_runs, losses, population_curves
    >>> pts = language_points(losses(load_runs()), load_corpus_stats(), model_size="xl")
    >>> curves = population_curves(pts, n_perm=2, n_boot=0)
    >>> sorted(curves["order"].unique())
    ['at random', 'by text']
    """
    from helpers.disaggregate import third_axis

    has_columns(points, ["language", "tokens", "loss", "weight"], what="points (a language_points table)")
    langs = points[points["language"] != "overall"]
    out = []
    for label, order in (("by text", "size"), ("at random", "random")):
        res = third_axis(langs, size="tokens", metric="loss", group="language", n_examples="weight", order=order,
                         n_perm=n_perm, tolerance=tolerance, n_boot=n_boot, seed=seed)
        out.append(res.curve.assign(order=label))
    return pd.concat(out, ignore_index=True)


def compute_optimal_by_language(fits: Any, budgets: Sequence[float], *, ci: bool = False) -> pd.DataFrame:
    """The parameter/data split each language's Chinchilla law recommends, next to the aggregate's.

    Parameters
    ----------
    fits : GroupScalingFit
        Chinchilla-form fits from :func:`fit_languages` with ``size=("params", "tokens_language")``.
    budgets : sequence of float
        Compute budgets ``C = 6 N D`` in FLOPs.
    ci : bool, default False
        Add the 95% percentile intervals of :meth:`helpers.scaling.ChinchillaFit.compute_optimal` (``N_opt_low``,
        ``N_opt_high``, ``D_opt_low``, ..., ``tokens_per_parameter_low``/``_high``, ``loss_low``/``_high`` and
        ``n_draws``) from each fit's bootstrap draws; the fits need ``n_boot > 0``.

    Returns
    -------
    DataFrame
        One row per language (``overall`` first) and budget: ``N_opt``, ``D_opt``, ``tokens_per_parameter``,
        ``loss``; ``status`` says ``"no finite optimum"`` when a fitted term vanished (then the law recommends
        putting the whole budget into one side, and the split is undefined, and so are its intervals).

    Examples
    --------
    >>> from helpers.lm import compute_optimal_by_language, fit_languages, language_points, load_corpus_stats
    >>> from helpers.lm import load_runs, losses
    >>> pts = language_points(losses(load_runs()), load_corpus_stats())
    >>> fits = fit_languages(pts, size=("params", "tokens_language"), n_boot=0)
    >>> opt = compute_optimal_by_language(fits, [1e12])
    >>> opt["language"].iloc[0]
    'overall'
    """
    ci = flag(ci, "ci")
    budgets = as_positive_array(budgets, "budgets").tolist()
    if getattr(fits, "form", None) != "chinchilla":
        raise ValueError("fits must be Chinchilla-form fits: fit_languages(..., size=('params', 'tokens_language')).")
    rows = []
    for lang, fit in [("overall", fits.overall), *sorted(fits.fits.items())]:
        try:
            fit.compute_optimal(budgets)  # raises when the fitted law has no finite optimum
        except ValueError:
            rows.append(pd.DataFrame({"C": list(budgets), "language": lang, "status": "no finite optimum"}))
            continue
        rows.append(fit.compute_optimal(budgets, ci=ci).assign(language=lang, status="ok"))
    out = pd.concat(rows, ignore_index=True)
    columns = ["N_opt", "D_opt", "tokens_per_parameter", "loss"]
    if ci:
        columns = [c + s for c in columns for s in ("", "_low", "_high")] + ["n_draws"]
    return out.reindex(columns=["language", "C", *columns, "status"])


def local_vs_multilingual(runs: pd.DataFrame, *, multilingual_size: str = "xl") -> pd.DataFrame:
    """The local alternative: a small monolingual model at the compute of that language's share of a large
    multilingual run, against the large multilingual model on the same held-out text.

    For each monolingual language and temperature, the language's compute share is ``6 N D_l``: the multilingual
    model's non-embedding parameters times the tokens of that language it saw by its final checkpoint. Each
    monolingual model's loss at that compute is read off its own checkpoints by linear interpolation in
    log(compute) (``"beyond"`` in ``status`` when the share lies past its last checkpoint, then its last
    loss is used; ``"below"`` before its first).

    Returns
    -------
    DataFrame
        One row per (language, temperature, monolingual size, seed): ``share_compute``, ``multilingual_loss``,
        ``local_loss``, ``difference`` (local minus multilingual; negative: the local model is better),
        ``local_tokens`` (tokens the local model needs for that compute) and ``status``.

    Examples
    --------
    >>> from helpers.lm import load_runs, local_vs_multilingual, losses
    >>> res = local_vs_multilingual(losses(load_runs()))
    >>> {"difference", "share_compute"} <= set(res.columns)
    True
    """
    has_columns(runs, ["kind", "loss"], what="the runs table (pass it through losses first)")
    mono = runs[runs["kind"] == "monolingual"]
    multi = _multilingual(runs)
    one_of(multilingual_size, sorted(multi["size"].unique()), "multilingual_size")
    multi = multi[(multi["size"] == multilingual_size) & (multi["tokens"] == multi["tokens"].max())]
    if mono.empty or multi.empty:
        raise ValueError(f"Need monolingual runs and multilingual runs of size {multilingual_size!r}.")
    rows = []
    for (lang, temp), m in multi[multi["language"].isin(mono["language"])].groupby(["language", "temperature"]):
        share = 6.0 * m["params"].mean() * m["tokens_language"].mean()
        for (size, seed), r in mono[mono["language"] == lang].groupby(["size", "seed"]):
            r = r.sort_values("tokens")
            c = 6.0 * r["params"].to_numpy() * r["tokens"].to_numpy()
            status = "below" if share < c[0] else "beyond" if share > c[-1] else "ok"
            loss = float(np.interp(np.log(share), np.log(c), r["loss"].to_numpy()))
            rows.append({"language": lang, "temperature": temp, "local_size": size, "seed": seed,
                         "local_params": int(r["params"].iloc[0]), "share_compute": share,
                         "multilingual_loss": float(m["loss"].mean()), "local_loss": loss,
                         "difference": loss - float(m["loss"].mean()), "local_tokens": share / (6 * r["params"].iloc[0]),
                         "status": status})
    return pd.DataFrame(rows)


def local_summary(runs: pd.DataFrame, *, multilingual_size: str = "xl", level: float = 0.95,
                  noise: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`local_vs_multilingual` per (language, temperature, monolingual size), seeds averaged, with an interval.

    ``difference`` is the seed mean of the local model's loss minus the multilingual model's (negative: the local
    model is better); ``difference_low``/``difference_high`` is a Student's t interval at ``level`` over the
    training seeds of both, with the language's pooled seed variance of log loss from :func:`seed_noise` (which
    is measured on the multilingual runs: the assumption is that a monolingual model of that language varies as
    much between seeds). ``seeds`` counts the local model's seeds; the multilingual side has those of its size.
    ``noise`` replaces the :func:`seed_noise` table, as in :func:`temperature_effects`.

    Examples
    --------
    >>> from helpers.lm import load_runs, local_summary, losses
    >>> s = local_summary(losses(load_runs()))
    >>> bool(((s["difference_low"] <= s["difference"]) & (s["difference"] <= s["difference_high"])).all())
    True
    """
    level = probability(level, "level", strict=True, example=0.95)
    local = local_vs_multilingual(runs, multilingual_size=multilingual_size)
    multi = _multilingual(runs)
    multi = multi[(multi["size"] == multilingual_size) & (multi["tokens"] == multi["tokens"].max())]
    multi_seeds = multi.groupby(["language", "temperature"])["seed"].nunique()
    out = local.groupby(["language", "temperature", "local_size"]).agg(
        share_compute=("share_compute", "first"), local_tokens=("local_tokens", "first"),
        multilingual=("multilingual_loss", "first"), local=("local_loss", "mean"),
        difference=("difference", "mean"), seeds=("seed", "nunique"), status=("status", "first")).reset_index()
    noise = _noise_table(runs, noise)
    v = noise["var_log"].reindex(out["language"]).to_numpy()
    n_multi = multi_seeds.reindex(pd.MultiIndex.from_frame(out[["language", "temperature"]])).to_numpy()
    var = v * (out["local"].to_numpy() ** 2 / out["seeds"].to_numpy() + out["multilingual"].to_numpy() ** 2 / n_multi)
    out["difference_low"], out["difference_high"] = _seed_interval(
        out["difference"].to_numpy(), var, noise["df"].reindex(out["language"]).to_numpy(), level)
    return out


@_doc
def unit_table(runs: pd.DataFrame, *, model_size: str | None = None, temperature: float = 1.0,
               size: str | None = None) -> pd.DataFrame:
    """Per language, the final loss of one model in the three units, and its rank (1 = lowest loss) in each.

    Also ``common_total_bits`` (with ``rank_common``): the total bits the model spends on the held-out paragraphs
    that every language translated, the same content in each language, and their ``common_bytes``.

    Parameters
    ----------
    runs : DataFrame
        The runs table of :func:`load_runs`.
    model_size : str
        The model (a value of the ``size`` column, ``"xs"`` to ``"xl"``; required).
    temperature : float, default 1.0
        Its sampling temperature.
    {{size_deprecated_model}}

    Examples
    --------
    >>> from helpers.lm import load_runs, unit_table
    >>> t = unit_table(load_runs(), model_size="xl")
    >>> {"rank_byte", "rank_char", "rank_content"} <= set(t.columns)
    True
    """
    has_columns(runs, ["kind", "size", "temperature", "tokens", "language", "bits", "bytes", "chars", "english_bytes",
                       "common_bits", "common_bytes"], what="the runs table")
    temperature = finite_scalar(temperature, "temperature", example=1.0)
    model_size, used = renamed_required(model_size, size, new="model_size", old="size", example='"xl"')
    label(model_size, used)
    r = runs[(runs["kind"] == "multilingual") & (runs["size"] == model_size)
             & np.isclose(runs["temperature"], temperature)]
    if r.empty:
        raise ValueError(f"No multilingual rows of {used} {model_size!r} at temperature {temperature}.")
    r = r[r["tokens"] == r["tokens"].max()]
    out = r.groupby("language")[["bits", "bytes", "chars", "english_bytes", "common_bits", "common_bytes"]].mean()
    table = pd.DataFrame({f"loss_{u}": out[num] / out[den] for u, (num, den, _) in UNITS.items()})
    table["bytes_per_char"] = out["bytes"] / out["chars"]
    table["common_total_bits"] = out["common_bits"]
    table["common_bytes"] = out["common_bytes"]
    for u in UNITS:
        table[f"rank_{u}"] = table[f"loss_{u}"].rank(method="min").astype(int)
    table["rank_common"] = table["common_total_bits"].rank(method="min").astype(int)
    return table.reset_index()
