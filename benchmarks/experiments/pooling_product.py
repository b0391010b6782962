"""Issue 17 §5 input: what pooling does to Hangzhou's own probabilities, and how fast it is.

For Hangzhou's R&D intensity (targets 4.0% in 2025, 4.2% in 2027) and GDP (the numerator of
labour productivity; its 2025 and 2027 medians), as of 2026-11-27 with 10,000 paths: today's
default ensemble with its backtest weights (as `forecast run` fits it), the same with
pooled_eb as a sixth member (backtest weights: the member's backtest cuts the panel at every
origin), and pooled_eb alone; with wall times of the fit + simulation and of the backtest.

    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling_product.py
"""
from __future__ import annotations

import forecast  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import time

import numpy as np

from forecast import data
from forecast.ensemble import Ensemble, backtest_weights
from forecast.models import DEFAULT_MODELS
from forecast.models.pooled import PooledEB
from forecast.panels import build_panel
from forecast.transforms import Transform

AS_OF, SEED, N_PATHS = "2026-11-27", 20261127, 10_000
CASES = (("rd_intensity", ("china_provinces_rd_nbs",), {2025: 4.0, 2027: 4.2}),
         ("gdp", None, {}))


def main() -> None:
    dataset = data.load(AS_OF)
    for indicator, files, targets in CASES:
        ind = dataset.registry.indicator(indicator)
        transform = Transform.for_indicator(ind)
        values = dataset.linked_series(indicator, "Hangzhou")[0].dropna()
        from forecast.models.base import Series
        series = Series(np.asarray(values.index, dtype=int), transform.forward(values.to_numpy()),
                        transform)
        t0 = time.perf_counter()
        panel = build_panel(dataset, indicator, "Hangzhou", files=files)
        t_panel = time.perf_counter() - t0
        pooled = {"pooled_eb": PooledEB(panel)}
        horizon = 2027 - series.last_year
        print(f"\n{indicator}: last year {series.last_year}; panel: {panel.describe()} "
              f"(built in {t_panel:.2f} s)")
        for label, names in (("default", DEFAULT_MODELS),
                             ("default + pooled_eb", DEFAULT_MODELS + ("pooled_eb",)),
                             ("pooled_eb alone", ("pooled_eb",))):
            t0 = time.perf_counter()
            if len(names) > 1:
                weighting = backtest_weights(series, names, horizon=min(horizon, 6), min_train=6,
                                             n_paths=500, seed=SEED, instances=pooled)
                weights = weighting.weights
            else:
                weights = {names[0]: 1.0}
            t_bt = time.perf_counter() - t0
            t0 = time.perf_counter()
            fitted = Ensemble(names, weights, instances=pooled).fit(series)
            paths = fitted.simulate(horizon, N_PATHS, np.random.default_rng([SEED, 0]))
            t_fit = time.perf_counter() - t0
            level = transform.inverse(paths)
            parts = []
            for year in (2025, 2027):
                col = level[:, year - series.last_year - 1]
                text = f"{year}: median {np.median(col):,.4g}"
                if year in targets:
                    text += f", P(>= {targets[year]}) {np.mean(col >= targets[year]):.1%}"
                parts.append(text)
            w = weights.get("pooled_eb")
            print(f"  {label:22s} {'; '.join(parts)}"
                  + (f"; pooled weight {w:.2f}" if w is not None and len(names) > 1 else "")
                  + f"  [backtest {t_bt:.2f} s, fit + {N_PATHS:,} paths {t_fit:.2f} s]")
        summary = PooledEB(panel).fit(series).summary
        print("  pooled_eb summary:", {k: (round(v, 4) if isinstance(v, float) else v)
                                       for k, v in summary.items() if k != "regions"})


if __name__ == "__main__":
    main()
