"""Benchmark: the audit report at the scales issue 20 and issue 15 promise, from a CSV to the written HTML.

Targets (wall clock and peak memory of the whole command, ``python -m helpers.audit``, in a fresh process):

* ``rows``: a million rows in 50 groups (20 sizes x 1,000 seeds each): <= 60 s and <= 1 GB.
* ``groups10000``: 10,000 groups (5 sizes each): <= 60 s and <= 2 GB, with a progress bar on a terminal.
* ``groups100`` and ``groups2000``: a report (no target beyond "it is written").
* ``small``: a 60-row CSV (12 groups x 5 sizes): <= 3 s.

The data are simulated (labelled so in the report's source name): each group follows ``a x^-b + c`` with its
own ``b`` and log-normal noise. Each case runs in its own process so that its peak resident memory
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) is its own. Not part of the default test run::

    nice -n 10 python tests/benchmarks/bench_audit_scale.py                  # every case, n_boot 200
    nice -n 10 python tests/benchmarks/bench_audit_scale.py --case rows --n-boot 200

It prints the timings and exits 1 if a target is missed. The machine's load inflates the times: report them
with it.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: case: (groups, sizes, seeds per size, seconds allowed, MB allowed)
CASES = {
    "small": (12, 5, 1, 3.0, None),
    "groups100": (100, 5, 2, None, None),
    "groups2000": (2000, 5, 1, None, None),
    "rows": (50, 20, 1000, 60.0, 1024.0),
    "groups10000": (10_000, 5, 1, 60.0, 2048.0),
}


def simulate(groups: int, sizes: int, seeds: int, *, rng_seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(rng_seed)
    x = np.geomspace(1e3, 1e6, sizes)
    b = rng.uniform(0.1, 0.5, groups)
    c = rng.uniform(0.02, 0.2, groups)
    xs = np.tile(np.repeat(x, seeds), groups)
    g = np.repeat(np.arange(groups), sizes * seeds)
    y = (3 * xs ** -b[g] + c[g]) * np.exp(rng.normal(0, 0.05, xs.size))
    return pd.DataFrame({"size": xs, "error": y, "group": [f"g{i:05d}" for i in g],
                         "n_eval": rng.integers(50, 500, groups)[g]})


def run_case(name: str, n_boot: int, workdir: Path) -> dict[str, float]:
    groups, sizes, seeds, _, _ = CASES[name]
    csv = workdir / f"simulated-{name}.csv"
    simulate(groups, sizes, seeds).to_csv(csv, index=False)
    out = workdir / f"{name}.html"
    cmd = [sys.executable, "-m", "helpers.audit", str(csv), "--size", "size", "--metric", "error", "--group",
           "group", "--n-examples", "n_eval", "--n-boot", str(n_boot), "--out", str(out), "--force"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime  # CPU seconds: less inflated than wall clock on a shared machine
    if done.returncode != 0:
        raise SystemExit(f"{name}: the audit failed: {done.stderr}")
    if peak_mb * 1024 < before:  # ru_maxrss is a maximum over all children: one bigger earlier case masks it
        peak_mb = float("nan")
    return {"rows": groups * sizes * seeds, "seconds": seconds, "cpu": cpu, "peak_mb": peak_mb,
            "report_mb": out.stat().st_size / 2**20, "stdout": done.stdout.strip()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="case(s) to run (default: all, smallest first)")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap resamples (the CLI default, 200)")
    args = parser.parse_args(argv)
    names = args.case or list(CASES)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (times are inflated by load); "
          f"n_boot={args.n_boot}")
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            # A fresh parent per case, so that ru_maxrss of the children is this case's peak.
            probe = subprocess.run([sys.executable, __file__, "--_one", name, "--_n-boot", str(args.n_boot),
                                    "--_dir", tmp], capture_output=True, text=True)
            print(probe.stdout.strip() or probe.stderr.strip())
            if probe.returncode != 0:
                failed.append(name)
    print("PASS" if not failed else f"FAIL: {', '.join(failed)}")
    return 1 if failed else 0


def _one(name: str, n_boot: int, directory: str) -> int:
    groups, sizes, seeds, budget_s, budget_mb = CASES[name]
    r = run_case(name, n_boot, Path(directory))
    ok = (budget_s is None or r["seconds"] <= budget_s) and (budget_mb is None or not r["peak_mb"] > budget_mb)
    target = " and ".join(t for t in (f"<= {budget_s:g} s" if budget_s else "",
                                      f"<= {budget_mb:g} MB" if budget_mb else "") if t) or "a report"
    print(f"{name}: {groups:,} groups, {r['rows']:,} rows: {r['seconds']:.1f} s wall ({r['cpu']:.1f} s CPU), peak {r['peak_mb']:.0f} MB, "
          f"report {r['report_mb']:.1f} MB (target {target}) {'ok' if ok else 'MISSED'}; {r['stdout']}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_one":
        sys.exit(_one(sys.argv[2], int(sys.argv[4]), sys.argv[6]))
    sys.exit(main())
