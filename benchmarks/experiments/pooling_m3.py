"""Issue 17 §4, M3: does adding pooled_eb (panels = the other series of the M3 category) change
the yearly benchmark's scores? A check that nothing regresses.

For every M3 yearly series, as ``forecast bench m3`` does (same seeds, same inner backtest of
the weights at the bench's three origins, 2,000 paths, the official 6-year test): the default
ensemble, the default ensemble with pooled_eb as a sixth member (weights from the same inner
backtest, which now scores pooled_eb too), pooled_eb alone, and the 'stack' design (pooled_eb's
share learned on the category's inner-backtest forecasts, see :func:`stack_rows`). The panel of a series is the
*training parts* of the other series of its category, cut at the series' last training year
(calendar years; M3's categories share their years: MICRO 1975-1988, MACRO 1970-1986, ...), so
no test value of any series is ever seen. The default ensemble here is
:func:`forecast.bench.run_suite`'s (same draws), which the run checks on its first series.

    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling_m3.py [--sample N]
"""
from __future__ import annotations

import forecast  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import bench, scores
from forecast.engine import run_tasks
from forecast.ensemble import FittedEnsemble, backtest_weights
from forecast.models import DEFAULT_MODELS, get_model
from forecast.models.base import ModelFailure, Series
from forecast.models.pooled import PooledEB
from forecast.panels import Panel

RESULTS = Path(__file__).resolve().parents[1] / "results"
SEED = 20261127
N_PATHS = 2000
METHODS = ("ensemble", "ensemble+pooled_eb", "pooled_eb")  # and "stack", see stack_rows


def _task(item) -> tuple[list[dict], dict]:
    s, panel = item
    series = Series(s.years, bench.LOG.forward(s.train), bench.LOG)
    pooled = PooledEB(panel)
    names = DEFAULT_MODELS + ("pooled_eb",)
    rngs = dict(zip(bench.SUITE_METHODS, np.random.default_rng([SEED, s.index]).spawn(
        len(bench.SUITE_METHODS))))
    extra = np.random.default_rng([SEED, s.index, 17]).spawn(2)
    t0 = time.perf_counter()
    weighting = backtest_weights(series, names, horizon=bench.HORIZON,
                                 min_train=bench.BENCH_MIN_TRAIN,
                                 n_paths=bench.BENCH_BACKTEST_PATHS, seed=SEED,
                                 origins=bench.bench_origins(series),
                                 instances={"pooled_eb": pooled})
    fitted, failed = {}, {}
    for name in names:
        try:
            fitted[name] = (pooled if name == "pooled_eb" else get_model(name)).fit(series)
        except ModelFailure as exc:
            failed[name] = str(exc)
    out, kept = [], {}

    def mixture(members, rng):
        w = {m: weighting.weights.get(m, 0.0) for m in members if m in fitted}
        # the bench's rule: every member weighted by its own inverse CRPS, renormalised
        total = sum(w.values())
        if total <= 0:
            raise ModelFailure("every member failed or has weight 0")
        ens = FittedEnsemble({m: fitted[m] for m in w if w[m] > 0},
                             {m: w[m] / total for m in w if w[m] > 0})
        return ens.simulate(bench.HORIZON, N_PATHS, rng), ens.weights

    for method in METHODS:
        try:
            if method == "ensemble":
                z, weights = mixture(DEFAULT_MODELS, rngs["ensemble"])
            elif method == "ensemble+pooled_eb":
                z, weights = mixture(names, extra[0])
            else:
                if "pooled_eb" in failed:
                    raise ModelFailure(failed["pooled_eb"])
                z, weights = fitted["pooled_eb"].simulate(bench.HORIZON, N_PATHS, extra[1]), {}
            kept[method] = z.astype(np.float32)
            row = bench.score_samples(np.exp(np.clip(z, -700, 700)), s)
            row["pooled_weight"] = weights.get("pooled_eb", np.nan)
            row["error"] = ""
        except ModelFailure as exc:
            row = {m: np.nan for m in bench.METRICS} | {"error": str(exc)[:200]}
        out.append({"series_id": s.series_id, "category": s.category, "method": method, **row,
                    "seconds": time.perf_counter() - t0})
    # the inner backtest's paths (origins 6, 4, 2 years before the end of training), for the
    # stacking share learned on the category's past forecasts
    inner = {(m, o): p.astype(np.float32) for m, by_origin in weighting.paths.items()
             for o, p in by_origin.items()}
    return out, {"final": kept, "inner": inner}


def stack_rows(items: list, results: list) -> list[dict]:
    """The 'stack' design: pooled_eb's share in a mixture with the default ensemble, chosen on
    a grid to minimise the mean CRPS (log scale) of the inner-backtest forecasts of every
    series of the category whose target years are at most the series' last training year
    (the equal-weight default mixture stands for the default there)."""
    grid = np.round(np.linspace(0, 1, 11), 2)
    by_cat: dict[str, list] = {}
    for (s, _), (_, paths) in zip(items, results):
        for o in bench.bench_origins(Series(s.years, np.log(s.train))):
            p = paths["inner"].get(("pooled_eb", o))
            d = [paths["inner"].get((m, o)) for m in DEFAULT_MODELS]
            d = [x for x in d if x is not None]
            if p is None or not d:
                continue
            k = len(p) // len(d)
            default = np.concatenate([x[:k] for x in d])
            n = min(len(p), len(default))
            later = (s.years > o)
            for year, obs in zip(s.years[later], np.log(s.train[later])):
                h = int(year - o)
                if h <= bench.HORIZON:
                    by_cat.setdefault(s.category, []).append(
                        (int(year), p[:n, h - 1].astype(float), default[:n, h - 1], obs))
    shares: dict[tuple[str, int], float] = {}
    out = []
    for (s, _), (rows, paths) in zip(items, results):
        last = int(s.years[-1])
        key = (s.category, last)
        if key not in shares:
            pairs = [x for x in by_cat.get(s.category, []) if x[0] <= last]
            if len(pairs) < 30:
                shares[key] = 1.0 / (len(DEFAULT_MODELS) + 1)
            else:
                n = len(pairs[0][1])
                loss = [np.mean([scores.crps_samples(np.concatenate(
                    [p[:int(round(w * n))], d[:n - int(round(w * n))]]), y)
                    for _, p, d, y in pairs]) for w in grid]
                shares[key] = float(grid[int(np.argmin(loss))])
        w = shares[key]
        ens, pool = paths["final"].get("ensemble"), paths["final"].get("pooled_eb")
        if ens is None:
            continue
        if pool is None:
            z = ens.astype(float)
        else:
            k = int(round(w * N_PATHS))
            z = np.concatenate([pool[:k], ens[:N_PATHS - k]]).astype(float)
        row = bench.score_samples(np.exp(np.clip(z, -700, 700)), s)
        out.append({"series_id": s.series_id, "category": s.category, "method": "stack",
                    **row, "pooled_weight": w if pool is not None else 0.0, "error": ""})
    return out


def panels(series: list) -> list[Panel]:
    by_cat: dict[str, list] = {}
    for s in series:
        by_cat.setdefault(s.category, []).append(s)
    out = []
    for s in series:
        members = {o.series_id: Series(o.years, np.log(o.train)) for o in by_cat[s.category]
                   if o.series_id != s.series_id}
        out.append(Panel("m3", "", s.series_id, members, {}, f"M3 {s.category}, training parts"))
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sample", type=int, help="every k-th series only (a quick run)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    series = bench.load_m3(bench.default_data_path())
    items = list(zip(series, panels(series)))
    if args.sample:
        items = items[::args.sample]
    t0 = time.time()
    results = run_tasks(_task, items, engine="local", jobs=args.jobs, desc="m3")
    rows = [r for res, _ in results for r in res] + stack_rows(items, results)
    frame = pd.DataFrame(rows)
    tag = f"_sample{args.sample}" if args.sample else ""
    frame.to_csv(RESULTS / f"pooling_m3_per_series{tag}.csv", index=False)
    summary = frame.groupby("method")[["smape", "mase", "cov80", "cov95", "msis", "crps", "brier",
                                       "brier_all", "pooled_weight"]].mean()
    summary["failed"] = frame.groupby("method")["error"].apply(lambda e: int((e != "").sum()))
    print(summary.round(4).to_string())
    # the default ensemble must be the bench's own (same draws): checked on the first series
    first = items[0][0]
    ref = bench.run_suite(first, N_PATHS, SEED, methods=("ensemble",))["ensemble"]["mase"]
    mine = frame[(frame["method"] == "ensemble") & (frame["series_id"] == first.series_id)]
    print(f"default ensemble on {first.series_id}: MASE {float(mine['mase'].iloc[0]):.6f}, "
          f"bench.run_suite {ref:.6f}")
    print(f"wall {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
