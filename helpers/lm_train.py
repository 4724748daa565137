"""Training the byte-level transformers of :mod:`helpers.lm` (imports torch; used only by the precompute).

The book and its chapters never import this module: they read the cache written by ``python -m helpers.lm_train run``.
Install the pinned CPU build first: ``pip install -r requirements-lm.txt``.

The model is a small GPT-style decoder without a tokeniser: its vocabulary is the 256 byte values, so every language and script is read as UTF-8 bytes. Pre-layer-norm blocks with causal
self-attention and a 4x MLP, learned positions, the output layer tied to the input embedding. Training is AdamW
with a linear warm-up and then a *constant* learning rate, so that one run can be evaluated at several token
counts along the way (a run trained for each budget with its own decay schedule would reach a lower loss at
every budget; see the chapter).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers.lm import (CACHE_DIR, CORPUS_DEB, CORPUS_PACKAGE, CORPUS_SHA256, CORPUS_VERSION, EVAL_BYTES, SIZES,
                        SOURCE_LANGUAGE, Corpus, RunConfig, build_corpus, read_help_tree, sha256_file, utf8_chars)


class _Block(nn.Module):
    def __init__(self, d: int, n_head: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.n_head = n_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_head, d // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class ByteGPT(nn.Module):
    """A decoder-only transformer over the 256 byte values."""

    def __init__(self, d_model: int, n_layer: int, n_head: int, context: int) -> None:
        super().__init__()
        self.tok = nn.Embedding(256, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(_Block(d_model, n_head) for _ in range(n_layer))
        self.ln = nn.LayerNorm(d_model)
        self.context = context
        self.apply(self._init)

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.T  # tied output layer

    def non_embedding_parameters(self) -> int:
        """Parameters outside the token and position embeddings (the count scaling laws use)."""
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith(("tok.", "pos.")))


def build_model(size: str, context: int, seed: int) -> ByteGPT:
    """The model of a registered size, initialised from ``torch.manual_seed(seed)``."""
    d, n_layer, n_head = SIZES[size]
    torch.manual_seed(seed)
    return ByteGPT(d, n_layer, n_head, context)


def _windows(stream: np.ndarray, context: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Non-overlapping windows covering every byte after the first once, padded, with a mask of real targets."""
    n_pred = len(stream) - 1
    n_win = math.ceil(n_pred / context)
    x = np.zeros((n_win, context), dtype=np.int64)
    y = np.zeros((n_win, context), dtype=np.int64)
    m = np.zeros((n_win, context), dtype=bool)
    for w in range(n_win):
        seg = stream[w * context: w * context + context + 1]
        k = len(seg) - 1
        x[w, :k], y[w, :k], m[w, :k] = seg[:-1], seg[1:], True
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)


@torch.no_grad()
def evaluate_bits(model: ByteGPT, stream: np.ndarray, *, batch: int = 64) -> float:
    """Total bits (base-2 log loss) the model spends on every byte of ``stream`` after the first."""
    model.eval()
    x, y, m = _windows(stream, model.context)
    total = 0.0
    for i in range(0, len(x), batch):
        logits = model(x[i:i + batch])
        nll = F.cross_entropy(logits.reshape(-1, 256), y[i:i + batch].reshape(-1), reduction="none")
        total += float((nll * m[i:i + batch].reshape(-1)).sum())
    model.train()
    return total / math.log(2)


def train_run(
    cfg: RunConfig,
    train: Mapping[str, np.ndarray],
    test: Mapping[str, np.ndarray],
    common: Mapping[str, np.ndarray],
    english_bytes: Mapping[str, int],
    *,
    on_step: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Train one run of the grid and evaluate it at each of its checkpoints.

    Parameters
    ----------
    cfg : RunConfig
        The run (validated by :func:`helpers.lm.check_config`).
    train, test, common : mapping of language to uint8 array
        Training stream, held-out stream, and the held-out paragraphs translated in every language.
    english_bytes : mapping of language to int
        Bytes of the English originals of each language's held-out stream.
    on_step : callable, optional
        Called with the number of steps done (progress bars).

    Returns
    -------
    DataFrame
        One row per (checkpoint, evaluated language), the columns of :data:`helpers.lm.RUN_COLUMNS`.
    """
    torch.set_num_threads(1)
    langs = list(cfg.mixture)
    probs = np.array([cfg.mixture[g] for g in langs])
    rng = np.random.default_rng(cfg.seed)
    model = build_model(cfg.size, cfg.context, cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.1)
    tokens_per_step = cfg.batch * cfg.context
    checkpoints = {c // tokens_per_step: c for c in cfg.checkpoints}
    seen = dict.fromkeys(langs, 0)
    rows = []
    start = time.perf_counter()
    n_params = model.non_embedding_parameters()
    for step in range(1, max(checkpoints) + 1):
        lr = cfg.lr * min(1.0, step / cfg.warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        which = rng.choice(len(langs), size=cfg.batch, p=probs)
        batch = np.empty((cfg.batch, cfg.context + 1), dtype=np.int64)
        for r, li in enumerate(which):
            s = train[langs[li]]
            i = int(rng.integers(0, len(s) - cfg.context - 1))
            batch[r] = s[i:i + cfg.context + 1]
            seen[langs[li]] += cfg.context
        xb = torch.from_numpy(batch)
        logits = model(xb[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 256), xb[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if on_step is not None:
            on_step(step)
        if step in checkpoints:
            for lang in cfg.eval_languages:
                bits = evaluate_bits(model, test[lang])
                cbits = evaluate_bits(model, common[lang]) if len(common.get(lang, ())) > 1 else np.nan
                rows.append({
                    "run": cfg.run_id, "kind": cfg.kind, "size": cfg.size, "params": n_params,
                    "temperature": cfg.temperature, "seed": cfg.seed, "tokens": checkpoints[step],
                    "step": step, "language": lang, "tokens_language": seen.get(lang, 0),
                    "bits": bits, "bytes": len(test[lang]) - 1, "chars": utf8_chars(test[lang][1:].tobytes()),
                    "english_bytes": english_bytes[lang],
                    "common_bits": cbits, "common_bytes": max(len(common.get(lang, ())) - 1, 0),
                    "common_chars": utf8_chars(common[lang][1:].tobytes()) if lang in common else 0,
                    "train_loss_bits": loss.item() / math.log(2), "seconds": time.perf_counter() - start,
                })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- running the grid

_STREAMS: dict[str, dict[str, np.ndarray] | dict[str, int]] = {}


def _init_worker(streams: dict) -> None:
    torch.set_num_threads(1)
    _STREAMS.update(streams)


def _arrays(streams) -> dict:
    as_arr = {k: {g: np.frombuffer(b, dtype=np.uint8) for g, b in getattr(streams, k).items()}
              for k in ("train", "test", "common")}
    return {**as_arr, "english_bytes": dict(streams.english_bytes)}


def _one(job: tuple[RunConfig, str]) -> tuple[str, float]:
    import os

    cfg, part = job
    s = _STREAMS
    t0 = time.perf_counter()
    df = train_run(cfg, s["train"], s["test"], s["common"], s["english_bytes"])
    tmp = part + ".tmp"
    df.to_csv(tmp, index=False)
    os.replace(tmp, part)  # a run is either complete on disk or absent: resuming never reads half a run
    return cfg.run_id, time.perf_counter() - t0


def run_grid(runs: list[RunConfig], streams, parts_dir, *, n_jobs: int = 2, progress: bool = True) -> list[str]:
    """Train every run not yet in ``parts_dir``, ``n_jobs`` processes of one thread each; return finished ids."""
    import multiprocessing as mp
    from pathlib import Path

    from tqdm import tqdm

    parts = Path(parts_dir)
    parts.mkdir(parents=True, exist_ok=True)
    todo = [(r, str(parts / f"{r.run_id}.csv")) for r in runs if not (parts / f"{r.run_id}.csv").exists()]
    done = []
    arrays = _arrays(streams)
    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), desc="runs", disable=not progress, mininterval=5)
    if n_jobs == 1:
        _init_worker(arrays)
        for job in todo:
            rid, sec = _one(job)
            done.append(rid)
            bar.set_postfix_str(f"{rid} {sec:.0f}s")
            bar.update()
    else:
        with mp.get_context("spawn").Pool(n_jobs, initializer=_init_worker, initargs=(arrays,),
                                          maxtasksperchild=None) as pool:
            for rid, sec in pool.imap_unordered(_one, todo):
                done.append(rid)
                bar.set_postfix_str(f"{rid} {sec:.0f}s")
                bar.update()
    bar.close()
    return done


# --------------------------------------------------------------------------- the precompute: corpus and CLI


def fetch_deb(cache_dir: str | Path = CACHE_DIR, *, deb: str | Path | None = None) -> Path:
    """The checked ``.deb`` of the corpus: ``deb`` if given, else a copy in ``cache_dir``, else ``apt-get download``.

    Raises
    ------
    ValueError
        If the file's SHA-256 is not :data:`CORPUS_SHA256` (another version of the package: the cache would not
        be reproducible from it), or the download fails.
    """
    import shutil
    import subprocess

    target = Path(cache_dir) / CORPUS_DEB
    if deb is not None:
        target = Path(deb)
    elif not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        if shutil.which("apt-get") is None:
            raise ValueError(f"apt-get is not available; download {CORPUS_DEB} from Debian and pass it with --deb.")
        cmd = ["apt-get", "download", f"{CORPUS_PACKAGE}={CORPUS_VERSION}"]
        done = subprocess.run(cmd, cwd=target.parent, capture_output=True, text=True)
        if done.returncode != 0:  # a fresh machine has no package lists yet
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            done = subprocess.run(cmd, cwd=target.parent, capture_output=True, text=True)
        if done.returncode != 0 or not target.exists():
            raise ValueError(f"apt-get download {CORPUS_PACKAGE}={CORPUS_VERSION} failed (run `apt-get update` "
                             f"first?): {done.stderr.strip()[-300:]}")
    digest = sha256_file(target)
    if digest != CORPUS_SHA256:
        raise ValueError(f"{target} has SHA-256 {digest[:12]}…, not the registered {CORPUS_SHA256[:12]}… of "
                         f"{CORPUS_DEB}; the cache is only reproducible from that exact package.")
    return target


def prepare_corpus(cache_dir: str | Path = CACHE_DIR, *, deb: str | Path | None = None) -> Corpus:
    """Unpack the package, read, clean and split the help, with language identification by ``py3langid``.

    The result is pickled in ``cache_dir`` (keyed by the package checksum) and reused.
    """
    import pickle
    import subprocess

    cache = Path(cache_dir)
    pkl = cache / f"corpus-{CORPUS_SHA256[:12]}.pkl"
    if pkl.exists():
        with open(pkl, "rb") as f:
            return Corpus(**pickle.load(f))
    path = fetch_deb(cache, deb=deb)
    root = cache / "unpacked"
    if not (root / "usr" / "share" / "help" / SOURCE_LANGUAGE).is_dir():
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(path), str(root)], check=True)
    import py3langid  # precompute-only dependency (requirements-lm.txt)

    tree = read_help_tree(root / "usr" / "share" / "help")
    corpus = build_corpus(tree, identify=lambda t: py3langid.classify(t)[0])
    with open(pkl, "wb") as f:
        # plain parts, not the dataclass: the pickle must load whether helpers.lm ran as __main__ or not
        pickle.dump({"paragraphs": corpus.paragraphs, "stats": corpus.stats, "held_out": corpus.held_out}, f)
    return corpus


def _grid_key(grid: Mapping[str, Any], languages: Sequence[str]) -> str:
    import json

    blob = json.dumps({"grid": grid, "sizes": SIZES, "languages": list(languages), "corpus": CORPUS_SHA256,
                       "eval_bytes": EVAL_BYTES}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _peak_memory_mb() -> dict[str, float]:
    import resource

    return {"main": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of the precompute: ``python -m helpers.lm_train run [--quick] [--force] [--jobs N] [--deb PATH]``.

    Prepares the corpus from the Debian package (outside the repository, in :data:`CACHE_DIR`), trains every
    run of :data:`GRID` (``--quick``: :data:`QUICK_GRID`, written as ``lm_quick_*``) with ``--jobs`` processes of
    one thread each, writing each finished run to the cache folder at once so that an interrupted precompute
    resumes where it stopped, and finally writes ``lm_runs.csv``, ``lm_corpus.csv`` and ``lm_runs.json``
    (provenance) to ``data/results`` (or ``--out``). An existing result is never replaced without ``--force``.
    Needs torch (``pip install -r requirements-lm.txt``).
    """
    import argparse
    import datetime
    import json
    import os
    import platform
    import shlex
    import sys
    import time

    from helpers.data import DATA_DIR
    from helpers.lm import (CORPUS_DEB, CORPUS_PACKAGE, CORPUS_SHA256, CORPUS_VERSION, EVAL_BYTES, GRID, MIN_CHARS,
                            QUICK_GRID, RUN_COLUMNS, grid_runs, make_streams, mixture_weights, select_languages)

    parser = argparse.ArgumentParser(prog="python -m helpers.lm_train", description="Train the language-model grid.")
    parser.add_argument("command", choices=["run", "corpus"])
    parser.add_argument("--quick", action="store_true", help="the tiny grid (lm_quick_* files)")
    parser.add_argument("--force", action="store_true", help="retrain everything and replace existing results")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--deb", type=Path, default=None, help=f"a local copy of {CORPUS_DEB}")
    parser.add_argument("--out", type=Path, default=DATA_DIR / "results", help="output folder")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="corpus and per-run cache folder")
    args = parser.parse_args(argv)
    raw = list(sys.argv[1:] if argv is None else argv)
    stem = "lm_quick" if args.quick else "lm"
    outs = {k: args.out / f"{stem}_{k}" for k in ("runs.csv", "corpus.csv", "runs.json")}
    t0 = time.perf_counter()
    corpus = prepare_corpus(args.cache, deb=args.deb)
    langs = select_languages(corpus.stats)
    if args.command == "corpus":
        print(corpus.stats.to_string())
        return 0
    if any(p.exists() for p in outs.values()) and not args.force:
        print(f"{outs['runs.csv']} exists; pass --force to retrain and replace it.", file=sys.stderr)
        return 1
    grid = QUICK_GRID if args.quick else GRID
    streams = make_streams(corpus, langs)
    runs = grid_runs(grid, streams)  # every configuration is checked before anything trains
    parts = args.cache / f"runs-{_grid_key(grid, langs)}"
    if args.force and parts.exists():
        for f in parts.glob("*.csv"):
            f.unlink()
    run_grid(runs, streams, parts, n_jobs=args.jobs, progress=True)
    seconds = time.perf_counter() - t0
    table = pd.concat([pd.read_csv(parts / f"{r.run_id}.csv") for r in runs], ignore_index=True)
    table = table[RUN_COLUMNS].sort_values(["kind", "size", "temperature", "seed", "tokens", "language"],
                                           ascending=[False, True, False, True, True, True])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(outs["runs.csv"], index=False, float_format="%.6g")
    stats = corpus.stats.copy()
    stats["selected"] = stats["language"].isin(langs)
    for temp in grid["temperatures"]:
        w = mixture_weights({g: len(b) for g, b in streams.train.items()}, temp)
        stats[f"p_T{temp:g}"] = stats["language"].map(w).fillna(0.0)
    stats["eval_bytes"] = stats["language"].map({g: len(b) - 1 for g, b in streams.test.items()}).fillna(0).astype(int)
    stats["common_bytes"] = stats["language"].map({g: len(b) - 1 for g, b in streams.common.items()}).fillna(0).astype(int)
    stats.to_csv(outs["corpus.csv"], index=False, float_format="%.6g")
    import numpy
    import py3langid

    meta = {
        "command": shlex.join(["python", "-m", "helpers.lm_train", *raw]),
        "corpus": {"package": CORPUS_PACKAGE, "version": CORPUS_VERSION, "file": CORPUS_DEB,
                   "sha256": CORPUS_SHA256, "licence": "CC-BY-SA-3.0", "held_out_pages": corpus.held_out,
                   "languages": langs, "min_chars": MIN_CHARS, "eval_bytes": EVAL_BYTES},
        "grid": grid, "runs": len(runs),
        "files": {k: {"file": p.name, "sha256": sha256_file(p), "rows": int(len(pd.read_csv(p)))}
                  for k, p in outs.items() if k != "runs.json"},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
                     "pandas": pd.__version__, "py3langid": getattr(py3langid, "__version__", "0.4.0")},
        "jobs": args.jobs, "threads_per_job": 1, "cpu_count": os.cpu_count(),
        "wall_clock_seconds": round(seconds, 1),
        "train_seconds_sum": round(float(table.groupby("run")["seconds"].max().sum()), 1),
        "peak_memory_mb": _peak_memory_mb(),
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
    }
    outs["runs.json"].write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {outs['runs.csv']} ({len(table)} rows) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
