"""Score variants of the default ensemble's weights and point forecast in one pass.

Run on a held-out period of the M3 *training* parts only (never the test years):

    .venv/bin/python benchmarks/experiments/ensemble_variants.py --inner 1
    .venv/bin/python benchmarks/experiments/ensemble_variants.py --inner 2

Per series, every default member is fitted once on the inner training part and simulates
``--paths`` paths once; the weights come from the bench's own inner backtest
(:func:`forecast.ensemble.backtest_weights`, the bench's origins). Each variant then builds its
mixture from the *same* member paths (the first ``count`` paths of each member, counts from
:func:`forecast.ensemble.allocate_paths`), so differences between variants are not Monte Carlo
noise between runs. Scored with the bench's :func:`forecast.bench.score_samples`; variants that
change only the point forecast have their sMAPE / MASE recomputed from that point.
Results: a table on stdout (means over series) and a per-series CSV in benchmarks/results/.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from forecast import scores
from forecast.bench import (BENCH_BACKTEST_PATHS, BENCH_MIN_TRAIN, HORIZON, LOG, bench_origins,
                            default_data_path, inner_series, load_m3, score_samples)
from forecast.engine import run_tasks
from forecast.ensemble import allocate_paths, backtest_weights
import robust_trend  # noqa: F401  (registers the experimental families)
from forecast.ensemble import MIN_SCORED
from forecast.models import DEFAULT_MODELS, MODELS, get_model
from forecast.models.base import ModelFailure, Series


def _normalise(w: dict[str, float]) -> dict[str, float]:
    total = sum(w.values())
    return {k: v / total for k, v in w.items()}


def backtest_mae(series: Series, member_paths: dict[int, np.ndarray]) -> float:
    """Mean absolute error (published scale) of a member's backtest medians."""
    years, values = series.years, np.exp(series.values)
    errors = []
    for origin, paths in member_paths.items():
        start = int(np.searchsorted(years, origin, side="right"))
        obs = values[start:start + paths.shape[1]]
        med = np.exp(np.median(paths[:, :len(obs)], axis=0))
        errors.extend(np.abs(med - obs))
    return float(np.mean(errors)) if errors else np.nan


def variants(weighting, series: Series) -> dict[str, dict[str, float]]:
    """Weight sets to compare, from one weighting backtest."""
    crps = {m: s["crps"] for m, s in weighting.scores.items()
            if weighting.weights.get(m, 0) > 0}
    base = {m: w for m, w in weighting.weights.items() if w > 0}
    out = {"default": base}
    if weighting.basis.startswith("inverse") and len(base) >= 2:
        out["p0.5"] = _normalise({m: c ** -0.5 for m, c in crps.items()})
        out["half_equal"] = _normalise({m: 0.5 * base[m] + 0.5 / len(base) for m in base})
        mae = {m: backtest_mae(series, weighting.paths[m]) for m in base}
        if all(np.isfinite(v) and v > 0 for v in mae.values()):
            out["inv_mae"] = _normalise({m: 1.0 / v for m, v in mae.items()})
        worst = max(crps, key=crps.get)
        out["drop_worst"] = _normalise({m: w for m, w in base.items() if m != worst})
    else:  # equal weights already (too little history): every variant is the default
        for name in ("p0.5", "half_equal", "inv_mae", "drop_worst"):
            out[name] = base
    return out


def subset_weights(weighting, names: tuple[str, ...]) -> dict[str, float]:
    """What :func:`forecast.ensemble.backtest_weights` gives for the members ``names``, from a
    weighting backtest of a superset (the rule: inverse mean CRPS once two members have
    MIN_SCORED scored forecasts, a member short of them weight 0; equal weights otherwise)."""
    scored = {n: weighting.scores[n]["crps"] for n in names
              if weighting.scores.get(n, {}).get("n_forecasts", 0) >= MIN_SCORED
              and np.isfinite(weighting.scores[n].get("crps", np.nan))}
    if len(scored) >= 2:
        return _normalise({n: 1.0 / max(c, 1e-12) for n, c in scored.items()})
    return {n: 1.0 / len(names) for n in names}


def candidate_variants(weighting, candidate: str) -> dict[str, dict[str, float]]:
    """The default, the default plus ``candidate``, and ``candidate`` in place of each level
    member, weighted as the product would weigh them."""
    out = {"default": subset_weights(weighting, DEFAULT_MODELS),
           f"+ {candidate}": subset_weights(weighting, DEFAULT_MODELS + (candidate,))}
    for member in DEFAULT_MODELS:
        out[f"{candidate} instead of {member}"] = subset_weights(
            weighting, tuple(m if m != member else candidate for m in DEFAULT_MODELS))
    return out


def _one(item) -> list[dict]:
    s, n_paths, seed, candidate = item
    members = DEFAULT_MODELS + ((candidate,) if candidate else ())
    series = Series(s.years, LOG.forward(s.train), LOG)
    rng = np.random.default_rng([seed, s.index])
    try:
        weighting = backtest_weights(series, members, horizon=HORIZON,
                                     min_train=BENCH_MIN_TRAIN, n_paths=BENCH_BACKTEST_PATHS,
                                     seed=seed, origins=bench_origins(series))
    except ModelFailure:
        return []
    paths = {}
    for name, child in zip(members, rng.spawn(len(members))):
        try:
            paths[name] = np.exp(np.clip(get_model(name).fit(series).simulate(
                HORIZON, n_paths, child), -700, 700))
        except ModelFailure:
            pass
    rows = []
    sets = candidate_variants(weighting, candidate) if candidate else variants(weighting, series)
    for label, weights in sets.items():
        weights = {m: w for m, w in weights.items() if m in paths}
        if not weights:  # every weighted member failed on the full inner training part
            continue
        weights = _normalise(weights)
        counts = allocate_paths(weights, n_paths)
        mixture = np.concatenate([paths[m][:counts[m]] for m in weights if counts[m] > 0])
        row = score_samples(mixture, s)
        rows.append({"series": s.series_id, "variant": label, **row})
        if label == "default" and not candidate:
            # the same distribution, other point forecasts
            medians = {m: np.median(paths[m], axis=0) for m in weights}
            for point_label, point in (
                    ("point=weighted mean of member medians",
                     sum(weights[m] * medians[m] for m in weights)),
                    ("point=median of member medians",
                     np.median(np.stack(list(medians.values())), axis=0))):
                rows.append({"series": s.series_id, "variant": point_label, **row,
                             "smape": float(scores.smape(point, s.test)),
                             "mase": float(scores.mase(point, s.test, s.train))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inner", type=int, default=1, help="inner split rounds (1 or 2)")
    parser.add_argument("--paths", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--sample", type=int, help="first N series only")
    parser.add_argument("--candidate", help="score this family (e.g. rw_robust_level, from "
                        "robust_trend.py) added to the default and in place of each member, "
                        "instead of the weight and point-forecast variants")
    args = parser.parse_args()
    if args.candidate and args.candidate not in MODELS:
        parser.error(f"unknown family {args.candidate}; known: {', '.join(MODELS)}")
    series = inner_series(load_m3(default_data_path()), args.inner)[: args.sample]
    results = run_tasks(_one, [(s, args.paths, args.seed, args.candidate) for s in series],
                        desc=f"variants (inner {args.inner})")
    frame = pd.DataFrame([r for rows in results for r in rows])
    tag = f"_{args.candidate}" if args.candidate else ""
    out = Path(__file__).parents[1] / "results" / f"ensemble_variants{tag}_inner{args.inner}.csv"
    frame.to_csv(out, index=False)
    table = frame.groupby("variant", sort=False)[
        ["smape", "mase", "cov80", "cov95", "msis", "crps", "brier"]].mean()
    table.insert(0, "n", frame.groupby("variant", sort=False).size())
    pd.set_option("display.width", 200)
    print(table.round(4).to_string())
    print(f"per-series scores: {out}")


if __name__ == "__main__":
    main()
