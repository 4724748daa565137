"""Tests for helpers.lm (torch-free) and, under the ``lm`` marker, helpers.lm_train against the shipped cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import lm

MALLARD = '<page xmlns="http://projectmallard.org/1.0/">{}</page>'


def _page(body: str) -> str:
    return MALLARD.format(body)


def _tree(tmp_path: Path, pages: dict[str, dict[str, str]]) -> Path:
    """pages: language -> page name -> body XML; written as <lang>/gnome-help/<page>.page."""
    for lang, by_page in pages.items():
        d = tmp_path / lang / "gnome-help"
        d.mkdir(parents=True)
        for name, body in by_page.items():
            (d / f"{name}.page").write_text(_page(body), encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------- parsing and cleaning


def test_page_paragraphs_skips_credits_and_editorial_comments():
    xml = _page('<info><credit><name>Ann Author</name></credit><desc>Use keys.</desc></info>'
                '<title>Keys</title><comment><p>TODO: expand</p></comment>'
                '<steps><item><p>Open <gui>Settings</gui>.</p></item></steps>'
                '<table><tr><td><p>Cell</p></td></tr></table>')
    assert lm.page_paragraphs(xml) == ["Use keys.", "Keys", "Open Settings.", "Cell"]


def test_page_paragraphs_rejects_broken_xml():
    with pytest.raises(ValueError, match="well-formed"):
        lm.page_paragraphs("<page><p>unclosed</page>")


def test_read_help_tree_aligns_translation_with_its_original(tmp_path):
    root = _tree(tmp_path, {"C": {"a": "<title>Keys</title><p>Press it.</p>"},
                            "de": {"a": "<title>Tasten</title><p>Drücken.</p>"},
                            "fr": {"a": "<title>Touches</title>"}})  # fewer paragraphs: cannot align
    tree = lm.read_help_tree(root)
    de = tree[tree["language"] == "de"]
    assert de["english"].tolist() == ["Keys", "Press it."]
    assert tree.loc[tree["language"] == "fr", "english"].tolist() == [""]


def test_read_help_tree_names_what_is_missing(tmp_path):
    with pytest.raises(ValueError, match="no 'C' folder"):
        lm.read_help_tree(tmp_path)
    root = _tree(tmp_path, {"C": {"a": "<p>x</p>"}})
    with pytest.raises(ValueError, match=r"\['xx'\]"):
        lm.read_help_tree(root, languages=["xx"])


def test_clean_drops_english_identified_english_and_duplicates():
    tree = pd.DataFrame({
        "language": "de", "document": "gnome-help", "page": "p", "index": range(5),
        "text": ["Tasten drücken", "Press the key", "This sentence was edited but is English.", "Tasten drücken",
                 "Ein deutscher Satz, lang genug."],
        "english": ["Press keys", "Press the key", "This sentence is English.", "Press keys", "A German sentence."],
    })
    # A stand-in identifier: it calls a text English when it contains " is ".
    out = lm.clean_paragraphs(tree, identify=lambda t: "en" if " is " in t else "de")
    assert out["reason"].tolist() == ["", "english", "identified_english", "duplicate", ""]
    assert out["keep"].sum() == 2


def test_clean_without_identifier_keeps_edited_english():
    tree = pd.DataFrame({"language": "de", "document": "d", "page": "p", "index": [0],
                         "text": ["This sentence was edited but is English."], "english": ["Other"]})
    assert lm.clean_paragraphs(tree)["keep"].tolist() == [True]


def test_holdout_is_the_same_pages_whatever_the_order_and_languages():
    pages = [f"page-{i}" for i in range(40)]
    held = lm.holdout_pages(pages, fraction=0.2, seed=3)
    assert len(held) == 8
    assert held == lm.holdout_pages(list(reversed(pages)) + pages[:5], fraction=0.2, seed=3)
    assert held != lm.holdout_pages(pages, fraction=0.2, seed=4)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_holdout_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match="fraction"):
        lm.holdout_pages(["a", "b", "c"], fraction=fraction)


def test_build_corpus_holds_out_the_same_pages_in_every_language(tmp_path):
    body = "<title>{}</title><p>{} {}</p>"
    pages = {f"p{i}": i for i in range(10)}
    root = _tree(tmp_path, {
        "C": {n: body.format(f"Title {i}", "Text", i) for n, i in pages.items()},
        "de": {n: body.format(f"Titel {i}", "Satz", i) for n, i in pages.items()},
        "uk": {n: body.format(f"Назва {i}", "Речення", i) for n, i in pages.items()},
    })
    corpus = lm.build_corpus(lm.read_help_tree(root), holdout_fraction=0.3)
    test_pages = corpus.paragraphs[corpus.paragraphs["split"] == "test"].groupby("language")["page"].apply(set)
    assert test_pages["de"] == test_pages["uk"] and len(test_pages["de"]) == 3
    stats = corpus.stats.set_index("language")
    # Cyrillic letters take two bytes in UTF-8, Latin letters one: the same paragraphs cost more bytes in uk.
    assert stats.loc["uk", "train_bytes"] > stats.loc["de", "train_bytes"]
    assert corpus.text("de", "test").decode().count("\n") == 6


def test_utf8_chars_counts_characters_not_bytes():
    text = "aé日😀"  # 1, 2, 3 and 4 bytes
    assert lm.utf8_chars(text.encode()) == 4 and len(text.encode()) == 10


# --------------------------------------------------------------------------- the grid and its checks


def test_mixture_weights_follow_the_power_of_the_sizes():
    n = {"a": 1000.0, "b": 10.0}
    for t in (0.0, 0.3, 1.0):
        w = lm.mixture_weights(n, t)
        assert w.sum() == pytest.approx(1.0)
        assert w["a"] / w["b"] == pytest.approx(100.0**t)


@pytest.mark.parametrize("sizes,temperature", [({}, 1.0), ({"a": 0}, 1.0), ({"a": 1}, 1.5), ({"a": 1}, -0.1)])
def test_mixture_weights_reject_bad_input(sizes, temperature):
    with pytest.raises(ValueError):
        lm.mixture_weights(sizes, temperature)


def _cfg(**kw):
    base = dict(kind="multilingual", size="xs", temperature=1.0, seed=0, mixture={"de": 0.5, "vi": 0.5},
                checkpoints=(2048, 4096), eval_languages=("de",), batch=16, context=128)
    return lm.RunConfig(**{**base, **kw})


def test_check_config_accepts_a_good_run():
    lm.check_config(_cfg(), {"de": 10_000, "vi": 10_000})


@pytest.mark.parametrize("cfg,match", [
    (dict(mixture={"de": 0.5, "xx": 0.5}), "Unknown language"),
    (dict(eval_languages=("yy",)), "Unknown language"),
    (dict(size="xxl"), "size"),
    (dict(checkpoints=(2048, 1000)), "multiples"),
    (dict(checkpoints=(4096, 2048)), "increasing"),
    (dict(checkpoints=(2048, 40_960)), "larger than"),
    (dict(mixture={"de": 0.7, "vi": 0.7}), "summing"),
])
def test_check_config_rejects_bad_runs_before_training(cfg, match):
    with pytest.raises(ValueError, match=match):
        lm.check_config(_cfg(**cfg), {"de": 10_000, "vi": 10_000})


def test_check_config_rejects_a_model_too_big_for_memory():
    with pytest.raises(ValueError, match="MB"):
        lm.check_config(_cfg(size="xl", batch=4096, checkpoints=(4096 * 128,)), {"de": 10**9, "vi": 10**9},
                        memory_limit=10**9)
    # The estimate grows with the batch: a batch of 4,096 windows of the largest model is tens of gigabytes.
    assert lm.memory_estimate("xl", batch=4096, context=128) > 100 * lm.memory_estimate("xl", batch=16, context=128)


def test_non_embedding_parameters_by_hand():
    # One block of width 2: attention 4*4+4*2 = 24, MLP 8*4+5*2 = 42, two layer norms 8; final norm 4.
    assert lm.non_embedding_parameters(2, 1) == 24 + 42 + 8 + 4


def test_grid_meets_the_issue_minimum():
    g = lm.GRID
    params = [lm.non_embedding_parameters(*lm.SIZES[s][:2]) for s in g["sizes"]]
    assert len(g["sizes"]) >= 5 and max(params) / min(params) >= 30
    assert len(g["checkpoints"]) >= 6 and len(g["temperatures"]) >= 2
    assert all(len(g["seeds"][s]) >= 2 for s in g["sizes"][:3])


# --------------------------------------------------------------------------- the cache, without torch


def test_the_cache_loads_without_torch():
    code = ("import sys; sys.modules['torch'] = None\n"  # any torch import now fails
            "from helpers import lm\n"
            "runs = lm.load_runs(); stats = lm.load_corpus_stats(); meta = lm.load_provenance()\n"
            "pts = lm.language_points(lm.losses(runs), stats, model_size='xl')\n"
            "print(len(runs), runs['language'].nunique())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rows, n_lang = map(int, out.stdout.split())
    assert rows > 0 and n_lang >= 20


def test_the_cache_covers_the_registered_grid():
    runs, stats, meta = lm.load_runs(), lm.load_corpus_stats(), lm.load_provenance()
    multi = runs[runs["kind"] == "multilingual"]
    assert sorted(multi["size"].unique()) == sorted(lm.GRID["sizes"])
    assert sorted(multi["tokens"].unique()) == lm.GRID["checkpoints"]
    assert multi["language"].nunique() == int(stats["selected"].sum()) >= 20
    seeds = multi.groupby("size")["seed"].nunique()
    assert all(seeds[s] == len(lm.GRID["seeds"][s]) for s in lm.GRID["sizes"])
    assert meta["corpus"]["sha256"] == lm.CORPUS_SHA256
    # Tokens of each language seen follow its mixture share (a multinomial count, so within a few percent).
    last = multi[(multi["tokens"] == multi["tokens"].max()) & (multi["size"] == "xl")]
    share = last.groupby(["temperature", "language"])["tokens_language"].mean() / last["tokens"].iloc[0]
    for temp in lm.GRID["temperatures"]:
        expected = stats.set_index("language")[f"p_T{temp:g}"]
        big = expected[expected > 0.02].index
        np.testing.assert_allclose(share.loc[temp].loc[big], expected.loc[big], rtol=0.15)


def test_bits_are_between_zero_and_eight_per_byte():
    runs = lm.load_runs()
    bpb = runs["bits"] / runs["bytes"]
    assert (bpb > 0).all() and (bpb < 9).all()  # a model a little worse than uniform (8 bits) early is possible


def test_losses_units_by_hand():
    r = pd.DataFrame({"bits": [600.0], "bytes": [300], "chars": [100], "english_bytes": [200]})
    assert lm.losses(r, unit="byte")["loss"].iloc[0] == 2.0
    assert lm.losses(r, unit="char")["loss"].iloc[0] == 6.0
    assert lm.losses(r, unit="content")["loss"].iloc[0] == 3.0
    with pytest.raises(ValueError, match="unit"):
        lm.losses(r, unit="word")


def test_aggregate_curve_is_the_weighted_mean():
    r = pd.DataFrame({"tokens": [1, 1, 2, 2], "language": ["a", "b", "a", "b"], "loss": [1.0, 5.0, 1.0, 3.0],
                      "weight": [0.75, 0.25, 0.75, 0.25]})
    nat = lm.aggregate_curve(r, by=["tokens"])
    eq = lm.aggregate_curve(r, by=["tokens"], weighting="equal")
    assert nat["loss"].tolist() == [2.0, 1.5] and eq["loss"].tolist() == [3.0, 2.0]


def test_temperature_votes_majority_and_maximin_can_disagree():
    # Three of four languages prefer T=1 by a little; the worst-off language gains a lot from T=0.3.
    eff = pd.DataFrame({"size": "xl", "language": ["a", "b", "c", "d"],
                        "loss_T1": [1.0, 1.0, 1.0, 5.0], "loss_T0.3": [1.1, 1.1, 1.1, 3.0]})
    stats = pd.DataFrame({"language": ["a", "b", "c", "d"], "p_T1": [0.4, 0.3, 0.29, 0.01]})
    votes = lm.temperature_votes(eff, stats, model_size="xl").set_index(["rule", "weighting"])["winner"]
    assert votes[("plurality", "equal")] == "T1"
    assert votes[("maximin", "equal")] == "T0.3"
    assert votes[("mean", "equal")] == "T0.3"  # (3.3 + 3.0) / 4 < (3 + 5) / 4
    assert votes[("mean", "by text")] == "T1"  # the small language weighs 1%


def test_compute_optimal_by_language_adds_intervals():
    stats = lm.load_corpus_stats()
    pts = lm.language_points(lm.losses(lm.load_runs()), stats)
    pts = pts[pts["language"].isin(["overall", "de", "gl"])]
    fits = lm.fit_languages(pts, size=("params", "tokens_language"), n_boot=10, seed=0)
    plain = lm.compute_optimal_by_language(fits, [1e12])
    opt = lm.compute_optimal_by_language(fits, [1e12], ci=True)
    # ci=True only adds columns: the point estimates are those of ci=False.
    pd.testing.assert_frame_equal(opt[plain.columns], plain)
    ok = opt[opt["status"] == "ok"]
    assert len(ok) and (ok["n_draws"] > 0).all()
    # Percentile intervals of a few draws need not contain the point estimate; they are ordered and finite.
    for col in ("N_opt", "D_opt", "tokens_per_parameter", "loss"):
        assert (0 < ok[f"{col}_low"]).all() and (ok[f"{col}_low"] <= ok[f"{col}_high"]).all(), col
    with pytest.raises(ValueError, match="bootstrap"):
        lm.compute_optimal_by_language(lm.fit_languages(pts, size=("params", "tokens_language"), n_boot=0),
                                       [1e12], ci=True)


def test_local_vs_multilingual_interpolates_in_log_compute():
    multi = pd.DataFrame({"kind": "multilingual", "size": "xl", "params": 1000, "temperature": 1.0, "seed": 0,
                          "tokens": 100, "language": "vi", "tokens_language": 10, "loss": 4.0}, index=[0])
    # Local model of 10 parameters: compute 6*10*D at D = 10 and 1000; the share is 6*1000*10 = 6*10*1000.
    mono = pd.DataFrame({"kind": "monolingual", "size": "xs", "params": 10, "temperature": 1.0, "seed": 0,
                         "tokens": [10, 1000], "language": "vi", "tokens_language": [10, 1000],
                         "loss": [6.0, 3.0]})
    res = lm.local_vs_multilingual(pd.concat([multi, mono], ignore_index=True), multilingual_size="xl")
    row = res.iloc[0]
    assert row["local_loss"] == pytest.approx(3.0) and row["difference"] == pytest.approx(-1.0)
    assert row["status"] == "ok" and row["local_tokens"] == pytest.approx(1000)


def _two_seed_runs(d: dict[str, float], gain: float = 0.0) -> pd.DataFrame:
    """Multilingual runs at two sizes and two temperatures, two seeds each: log loss = log(L) +- d[language].

    Each cell's two seeds differ by 2 d in log loss, so its variance (ddof=1) is 2 d**2, the same in all four
    cells of a language: the pooled variance is 2 d**2 with 4 degrees of freedom. At T = 0.3 every loss is
    lower by ``gain`` (before the seed perturbation).
    """
    rows = []
    for size, params in (("s", 100), ("xl", 1000)):
        for temp in (0.3, 1.0):
            for lang, dl in d.items():
                base = 4.0 - (gain if temp == 0.3 else 0.0)
                for seed, sign in ((0, 1), (1, -1)):
                    rows.append({"kind": "multilingual", "size": size, "params": params, "temperature": temp,
                                 "seed": seed, "tokens": 100, "language": lang, "tokens_language": 10,
                                 "loss": base * np.exp(sign * dl)})
    return pd.DataFrame(rows)


def test_seed_noise_pools_each_languages_log_variance_over_sizes_and_temperatures():
    noise = lm.seed_noise(_two_seed_runs({"vi": 0.01, "de": 0.03})).set_index("language")
    assert noise.loc["vi", "var_log"] == pytest.approx(2 * 0.01**2)
    assert noise.loc["de", "var_log"] == pytest.approx(2 * 0.03**2)
    assert (noise["df"] == 4).all()


def test_seed_variance_ratio_compares_one_size_with_the_mean_over_sizes():
    runs = _two_seed_runs({"vi": 0.01})
    # Seeds of the largest size perturbed twice as much: cell variances 2 d**2 at s and 2 (2d)**2 at xl.
    xl = runs["size"] == "xl"
    runs.loc[xl, "loss"] = 4.0 * np.exp(np.where(runs.loc[xl, "seed"] == 0, 1, -1) * 0.02)
    # Mean variance at xl is 8e-4; the mean over the four cells is (2e-4 + 8e-4) / 2 = 5e-4: ratio 1.6.
    assert lm.seed_variance_ratio(runs, "xl") == pytest.approx(1.6)
    assert lm.seed_variance_ratio(_two_seed_runs({"vi": 0.01}), "s") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="size 'm' has no multilingual runs"):
        lm.seed_variance_ratio(runs, "m")


def test_temperature_effects_interval_is_students_t_with_the_pooled_variance():
    from scipy.stats import t

    runs = _two_seed_runs({"vi": 0.001, "de": 0.05}, gain=0.05)
    eff = lm.temperature_effects(runs).set_index(["size", "language"])
    for lang, dl in (("vi", 0.001), ("de", 0.05)):
        row = eff.loc[("xl", lang)]
        l1, l03 = 4.0 * np.cosh(dl), 3.95 * np.cosh(dl)  # seed means of 4 e^(+-d) and 3.95 e^(+-d)
        half = t.ppf(0.975, 4) * np.sqrt(2 * dl**2 * (l1**2 / 2 + l03**2 / 2))
        assert row["gain"] == pytest.approx(l1 - l03)
        assert row["gain_low"] == pytest.approx(l1 - l03 - half) and row["gain_high"] == pytest.approx(l1 - l03 + half)
    # A gain of 0.05 bits is clear against seed noise of 0.1% (half-width 0.016) and not against 5% (0.78).
    assert eff.loc[("xl", "vi"), "clear"] and not eff.loc[("xl", "de"), "clear"]
    with pytest.raises(ValueError, match="noise has no row"):
        lm.temperature_effects(runs, noise=pd.DataFrame({"language": ["vi"], "var_log": [1e-4], "df": [4]}))
    with pytest.raises(ValueError, match="level"):
        lm.temperature_effects(runs, level=1.5)


def test_local_summary_interval_combines_both_sides_seed_noise():
    from scipy.stats import t

    multi = _two_seed_runs({"vi": 0.02})
    mono = pd.DataFrame({"kind": "monolingual", "size": "xs", "params": 10, "temperature": [1.0, 1.0, 0.3, 0.3] * 2,
                         "seed": [0] * 4 + [1] * 4, "tokens": [10, 1000] * 4, "language": "vi",
                         "tokens_language": [10, 1000] * 4, "loss": [6.0, 3.0] * 4})
    out = lm.local_summary(pd.concat([multi, mono], ignore_index=True), multilingual_size="xl")
    row = out[out["temperature"] == 1.0].iloc[0]
    l_multi = 4.0 * np.cosh(0.02)
    # The share is 6 * 1000 * 10, which the local model reaches at D = 1000, where its loss is 3.
    half = t.ppf(0.975, 4) * np.sqrt(2 * 0.02**2 * (3.0**2 / 2 + l_multi**2 / 2))
    assert row["difference"] == pytest.approx(3.0 - l_multi)
    assert row["difference_low"] == pytest.approx(3.0 - l_multi - half)
    assert row["difference_high"] == pytest.approx(3.0 - l_multi + half)


def test_unit_table_ranks_languages_in_each_unit():
    t = lm.unit_table(lm.load_runs(), model_size="xl").set_index("language")
    assert (t["bytes_per_char"] >= 1).all()
    np.testing.assert_allclose(t["loss_char"], t["loss_byte"] * t["bytes_per_char"], rtol=1e-6)


# --------------------------------------------------------------------------- torch (marker lm)


@pytest.mark.lm
def test_non_embedding_parameters_match_torch():
    lm_train = pytest.importorskip("helpers.lm_train")
    for size, (d, n_layer, _) in lm.SIZES.items():
        model = lm_train.build_model(size, 128, 0)
        assert model.non_embedding_parameters() == lm.non_embedding_parameters(d, n_layer), size


@pytest.mark.lm
def test_retraining_a_cell_reproduces_the_cache():
    """Retrain the first 16 steps of multilingual-xs-T1-s0 and compare its first checkpoint with the cache.

    Tolerance: 0.5% relative on every language's bits. With the same torch build, one thread and the same seeds
    the result is bit-for-bit identical on one machine; the tolerance allows for a CPU whose vector units sum in
    another order. An untrained model spends about 8 bits per byte, so a wrong seed, mixture or evaluation text
    misses by far more than 0.5%.
    """
    lm_train = pytest.importorskip("helpers.lm_train")
    corpus = lm_train.prepare_corpus()
    stats = lm.load_corpus_stats()
    langs = lm.select_languages(corpus.stats)
    assert set(langs) == set(stats.loc[stats["selected"], "language"])
    streams = lm.make_streams(corpus, langs)
    run = next(r for r in lm.grid_runs(lm.GRID, streams) if r.run_id == "multilingual-xs-T1-s0")
    first = run.checkpoints[0]
    short = lm.RunConfig(**{**run.__dict__, "checkpoints": (first,)})
    arrays = lm_train._arrays(streams)
    got = lm_train.train_run(short, arrays["train"], arrays["test"], arrays["common"], arrays["english_bytes"])
    cache = lm.load_runs()
    want = cache[(cache["run"] == run.run_id) & (cache["tokens"] == first)].set_index("language")
    got = got.set_index("language").loc[want.index]
    assert (got["tokens_language"] == want["tokens_language"]).all()
    np.testing.assert_allclose(got["bits"], want["bits"], rtol=5e-3)


# --------------------------------------------------------------------------- the contract walk's findings


@pytest.mark.parametrize("bad", [0, -1, None, 1.5])
def test_sha256_file_refuses_a_number_instead_of_opening_a_file_descriptor(bad):
    # open(0) read standard input and closed it when done: the walk's process lost its stdin.
    with pytest.raises(ValueError, match="path must be a file path"):
        lm.sha256_file(bad)


def test_paths_of_pages_and_help_trees_are_checked(tmp_path):
    with pytest.raises(ValueError, match="page must be a file path"):
        lm.page_paragraphs(None)
    with pytest.raises(ValueError, match="neither Mallard XML nor a readable"):
        lm.page_paragraphs(str(tmp_path / "missing.page"))
    with pytest.raises(ValueError, match="help_dir must be a file path"):
        lm.read_help_tree(None)
    with pytest.raises(ValueError, match="sha256_file|Cannot read the file"):
        lm.sha256_file(tmp_path / "missing")


@pytest.mark.parametrize("call, message", [
    (lambda: lm.non_embedding_parameters(2**70, 2), "d_model must be <="),
    (lambda: lm.memory_estimate("xs", batch=None, context=128), "batch must be an integer"),
    (lambda: lm.mixture_weights({"de": "abc"}, 1.0), "sizes must hold real numbers"),
    (lambda: lm.mixture_weights({"de": 1}, None), "temperature must be a single real number"),
    (lambda: lm.holdout_pages(["a", "b"], seed=None), "seed must be an integer"),
    (lambda: lm.holdout_pages(None), "pages must be a list"),
    (lambda: lm.build_corpus(pd.DataFrame(), holdout_fraction=None), "holdout_fraction must be"),
    (lambda: lm.utf8_chars(None), "data must be bytes"),
    (lambda: lm.check_config(None, {}), "cfg must be a RunConfig"),
    (lambda: lm.make_streams(None, ["de"]), "corpus must be a Corpus"),
    (lambda: lm.grid_runs(None, None), "streams must be a Streams"),
    (lambda: lm.aggregate_curve(pd.DataFrame(), by=None), "by must be a list"),
    (lambda: lm.compute_optimal_by_language(None, np.ones((2, 2))), "budgets must be 1-dimensional"),
])
def test_arguments_of_the_wrong_kind_get_the_librarys_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_analysis_options_are_checked_before_they_filter_the_runs():
    runs = _two_seed_runs({"de": 0.01, "vi": 0.02})
    stats = pd.DataFrame({"language": ["de", "vi"], "p_T1": [0.8, 0.2]})
    # a temperature of None was a numpy TypeError, a min_tokens that kept no row an "Unknown size" error
    with pytest.raises(ValueError, match="temperature must be a single real number"):
        lm.language_points(runs, stats, temperature=None)
    with pytest.raises(ValueError, match="min_tokens="):
        lm.language_points(runs, stats, min_tokens=10**6)
    with pytest.raises(ValueError, match="multilingual_size"):
        lm.local_vs_multilingual(runs, multilingual_size=None)
    with pytest.raises(ValueError, match="size must be a single group label"):
        lm.seed_variance_ratio(runs, [])
    with pytest.raises(ValueError, match="tokens must be an integer"):
        lm.temperature_effects(runs, tokens="abc")
    with pytest.raises(ValueError, match="Expected a pandas DataFrame for the corpus statistics"):
        lm.temperature_votes(pd.DataFrame({"size": ["xl"], "language": ["de"]}), None, model_size="xl")


def test_old_size_keyword_of_a_model_size_still_works_for_one_release_with_a_warning():
    runs = lm.load_runs()
    with pytest.warns(FutureWarning, match="size was renamed model_size"):
        old = lm.unit_table(runs, size="xl")
    pd.testing.assert_frame_equal(old, lm.unit_table(runs, model_size="xl"))
    with pytest.warns(FutureWarning, match="size was renamed model_size"):
        assert lm.memory_estimate(size="s", batch=8, context=64) == lm.memory_estimate("s", batch=8, context=64)
    with pytest.raises(ValueError, match="model_size is required"):
        lm.unit_table(runs)
    with pytest.raises(ValueError, match="pass only model_size"):
        lm.seed_variance_ratio(lm.losses(runs), "xl", size="xl")
