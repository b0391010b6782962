"""An experimental family, not shipped: random walk with drift whose drift is the *recent* growth.

Why. On the log scale ``rw_drift`` extrapolates the average growth rate of the whole history;
for Hangzhou's nominal GDP (2000-2024) that is ~12% a year, against ~7% over 2019-2024 and
1-5% from the level members. Yet the pooled backtests (peers' GDP, Hangzhou, provinces' R&D)
found the default mixture too *low* (outcome above its median 64-91% of the time). A drift
from recent increments only could lower today's log-scale extrapolation and still track
growth that stays high. This module tests that, for the experiment's process only.

The family (``rw_drift_recent``): :class:`forecast.models.rw_drift.RWDrift` with one change --
the drift is the mean yearly increment over the last :data:`WINDOW` years of the history
(increments taken from the end until they cover >= WINDOW years; a gap counts its years), and
its uncertainty is ``sigma^2 / span_recent`` instead of ``sigma^2 / span_all``. The volatility
posterior is rw_drift's, from the whole history (Scaled-Inv-chi2(m - 1, s^2), residuals about
the whole-history drift, top 1% of draws capped): more degrees of freedom than the window has,
and a drift that changed over the history widens it rather than narrowing it. On a history of
at most WINDOW years it *is* rw_drift. ``rw_drift_recent_level`` is the same on the published
level (:class:`forecast.models.level.OnLevel`): the mean increment of the last WINDOW years.

The window, chosen once before any score was seen: WINDOW = 5 years. Five years is one plan
period (the 14th Five-Year Plan is 2021-2025, the targets' horizon), the first example in the
brief, and short enough to sit inside Hangzhou's post-2012 slow-growth era at every origin the
backtests use, while its drift uncertainty (sigma / sqrt(5)) stays within ~2.2x rw_drift's on
a 24-year history. A window that is a share of the history was not taken: on long series it
would reach back into earlier regimes, and its length would change with the origin. Other
windows were scored afterwards on the 31-province R&D panel only (``sensitivity``), reported,
not used to pick.

Verdict (session 6): not adopted. Every gain of "default + rw_drift_recent" (pooled CRPS, the
peers' GDP median bias, M3 inner 2) is matched by the control "default + rw_drift_twin" (a
second copy of rw_drift): it comes from a larger log-scale share, not from the recent drift.
In place of rw_drift it is worse on M3 (both held-out periods) and on the pooled backtest.

Run (from the repository root):

    .venv/bin/python benchmarks/experiments/recent_drift.py pooled       # calibration backtests
    .venv/bin/python benchmarks/experiments/recent_drift.py sensitivity  # other windows, R&D panel
    .venv/bin/python benchmarks/experiments/recent_drift.py product      # Hangzhou's targets
    .venv/bin/python benchmarks/experiments/recent_drift.py variants --inner 1   # M3, via
        ensemble_variants.py --candidate rw_drift_recent (same member paths and weighting)
"""
from __future__ import annotations

import sys
import time

import numpy as np

from forecast.models import DEFAULT_MODELS, MODELS
from forecast.models.base import ModelFailure, Series
from forecast.models.level import LEVEL_SUFFIX, OnLevel
from forecast.models.rw_drift import DriftEstimate, FittedRWDrift, RWDrift, estimate_drift

#: years of history (from the end) whose increments set the drift; fixed before scoring
WINDOW = 5


def recent_increment(years: np.ndarray, values: np.ndarray, window: int) -> tuple[float, float]:
    """(mean yearly increment, years covered) of the last increments covering >= ``window``
    years (all of them on a shorter history)."""
    k = np.diff(np.asarray(years, dtype=float))
    d = np.diff(np.asarray(values, dtype=float))
    covered = np.cumsum(k[::-1])
    n = int(np.searchsorted(covered, window)) + 1      # increments needed to reach the window
    n = min(n, len(k))
    span = float(k[-n:].sum())
    return float(d[-n:].sum() / span), span


class RWDriftRecent(RWDrift):
    """``rw_drift`` with the drift of the last ``window`` years (see the module doc)."""

    def __init__(self, window: int = WINDOW, name: str = "rw_drift_recent"):
        self.window = window
        self.name = name

    def fit(self, series: Series) -> FittedRWDrift:
        self._check_series(series)
        full = estimate_drift(series.years, series.values)   # volatility from the whole history
        if not full.s2 > 1e-12 * max(1.0, full.drift ** 2):
            raise ModelFailure(f"{self.name}: zero volatility")
        drift, span = recent_increment(series.years, series.values, self.window)
        # FittedRWDrift draws mu ~ N(drift, sigma^2 / total_span): the recent span sets it
        est = DriftEstimate(drift=drift, s2=full.s2, total_span=span, df=full.df)
        return FittedRWDrift(last_value=float(series.values[-1]), est=est, name=self.name,
                             notes=[f"drift from the last {span:g} years"])


def register(window: int = WINDOW, name: str = "rw_drift_recent") -> None:
    MODELS[name] = lambda: RWDriftRecent(window, name)
    MODELS[name + LEVEL_SUFFIX] = lambda: OnLevel(RWDriftRecent(window, name))


register()


class RWDriftTwin(RWDrift):
    """A control, not a candidate: rw_drift itself under another name, so that "default +
    rw_drift_twin" separates the effect of a *recent* drift from that of giving the log scale
    a second member's weight."""
    name = "rw_drift_twin"


MODELS["rw_drift_twin"] = RWDriftTwin

# ---------------------------------------------------------------------------------------------
# evaluation (not part of the family)

CAND = "rw_drift_recent"


def member_sets(candidate: str = CAND) -> dict[str, tuple[str, ...]]:
    return {"default": DEFAULT_MODELS,
            f"+ {candidate}": DEFAULT_MODELS + (candidate,),
            f"{candidate} instead of rw_drift": tuple(candidate if m == "rw_drift" else m
                                                      for m in DEFAULT_MODELS)}


def _summ(rows, events) -> dict:
    from forecast.backtest import summarise
    out = summarise(rows)
    out["brier_events"] = float(np.mean((events["event_prob"]
                                         - events["event_obs"].astype(float)) ** 2))
    return out


def _spread(frame, origins_by_series):
    keep = frame.apply(lambda r: r["origin"] in origins_by_series[r["series"]], axis=1)
    return frame[keep]


def pooled(sets: dict[str, tuple[str, ...]], series=None, since: int = 2012) -> None:
    """Pooled backtest at every origin, scored on (a) the 3 spread origins per series of the
    calibration page (``max_origins=3``; identical rows, since origin o always draws from
    default_rng([seed, o])), (b) every origin and (c) the origins >= ``since``."""
    import pandas as pd
    from forecast import data
    from forecast.backtest import default_origins
    from forecast.calibration import (comparison_series, plan_series, median_bias_table,
                                      pooled_backtest, spread_origins)
    ds = data.load("2026-11-27")
    series = series or plan_series(ds) + comparison_series(ds)
    pd.set_option("display.width", 200)
    for label, models in sets.items():
        t0 = time.time()
        res = pooled_backtest(ds, series, models=models, max_origins=None, engine="local", jobs=2)
        wall = time.time() - t0
        rows, ev = res.rows, res.events
        spread = {f"{region}/{ind}": set(spread_origins(default_origins(
            np.asarray(ds.series(ind, region).dropna().index, dtype=int), horizon=4,
            min_train=6), 3)) for region, ind in series}
        subsets = {"3 spread origins": (_spread(rows, spread), _spread(ev, spread)),
                   "all origins": (rows, ev),
                   f"origins >= {since}": (rows[rows["origin"] >= since],
                                           ev[ev["origin"] >= since])}
        print(f"\n=== {label}: {models}  ({wall:.0f} s, {len(res.failures)} failures)")
        for name, (r, e) in subsets.items():
            s = _summ(r, e)
            bias = median_bias_table(r).set_index("group")
            print(f"  {name:18s} n={s['n_forecasts']:4d} CRPS {s['crps']:.4f} "
                  f"cov50/80/95 {s['coverage_50']:.3f}/{s['coverage_80']:.3f}/"
                  f"{s['coverage_95']:.3f} Brier {s['brier']:.4f} BrierEv {s['brier_events']:.4f}"
                  " | above median: " + ", ".join(
                      f"{g.replace('panel: ', '')} {v:.0%} ({n})"
                      for g, v, n in zip(bias.index, bias["above_median"], bias["n"])))
            crps_g = r.groupby("group")["crps"].mean()
            print("  " + " " * 18 + " CRPS by group: " + ", ".join(
                f"{g.replace('panel: ', '')} {v:.4f}" for g, v in crps_g.items()))


def sensitivity() -> None:
    """Other windows, in place of rw_drift, on the 31-province R&D panel only."""
    from forecast import data
    from forecast.calibration import panel_series
    ds = data.load("2026-11-27")
    series = panel_series(ds, "rd_intensity")
    sets = {"default": DEFAULT_MODELS}
    for w in (3, 5, 8, 12):
        name = f"rw_drift_recent_w{w}"
        register(w, name)
        sets[f"window {w} instead of rw_drift"] = tuple(name if m == "rw_drift" else m
                                                        for m in DEFAULT_MODELS)
    pooled(sets, series)


def product() -> None:
    """Hangzhou's target probabilities and each GDP member's median yearly growth."""
    from forecast import data
    from forecast.pipeline import forecast_indicator
    ds = data.load("2026-11-27")
    sets = {**member_sets(), "+ rw_drift_recent_level": DEFAULT_MODELS + (CAND + LEVEL_SUFFIX,),
            "+ rw_drift_twin (control)": DEFAULT_MODELS + ("rw_drift_twin",)}
    for label, models in sets.items():
        t0 = time.time()
        lp = forecast_indicator(ds, "labour_productivity", models=models, n_paths=10_000)
        rd = forecast_indicator(ds, "rd_intensity", models=models, n_paths=10_000)
        p = {**lp.probabilities, **rd.probabilities}
        print(f"\n=== {label} ({time.time() - t0:.1f} s)")
        print("  " + ", ".join(f"{k}: {v.target:g} -> {v.p_in_year:.1%}" for k, v in p.items()))
        gdp = lp.components["gdp"]
        growth = gdp.median_growth()
        print("  GDP weights: " + ", ".join(f"{m} {w:.2f}" for m, w in
                                            gdp.weighting.weights.items()))
        print("  GDP median growth/yr: " + ", ".join(f"{m} {g:.1%}" for m, g in growth.items()))
        print("  member P: " + "; ".join(
            f"{m}: " + ", ".join(f"{v.p_in_year:.0%}" for v in probs.values())
            for m, probs in {**lp.member_probabilities}.items()))
        print("  R&D member P: " + "; ".join(
            f"{m}: " + ", ".join(f"{v.p_in_year:.0%}" for v in probs.values())
            for m, probs in {**rd.member_probabilities}.items()))


def variants(argv: list[str]) -> None:
    """ensemble_variants.py --candidate rw_drift_recent (or the level version) with this
    module's families registered (ensemble_variants itself imports only robust_trend)."""
    import ensemble_variants
    if "--candidate" not in argv:
        argv = ["--candidate", CAND, *argv]
    sys.argv = [ensemble_variants.__file__, *argv]
    t0 = time.time()
    ensemble_variants.main()
    print(f"wall time {time.time() - t0:.0f} s")


def cli() -> None:
    command, rest = (sys.argv[1] if len(sys.argv) > 1 else "pooled"), sys.argv[2:]
    if command == "pooled":
        which = rest[0] if rest else "all"
        sets = {**member_sets(), "+ rw_drift_recent_level": DEFAULT_MODELS + (CAND + LEVEL_SUFFIX,),
                "+ rw_drift_twin (control)": DEFAULT_MODELS + ("rw_drift_twin",)}
        pooled(sets if which == "all" else {k: v for k, v in sets.items() if which in k})
    elif command == "sensitivity":
        sensitivity()
    elif command == "product":
        product()
    elif command == "variants":
        variants(rest)
    else:
        raise SystemExit(f"unknown command {command}; pooled | sensitivity | product | variants")


if __name__ == "__main__":
    # re-import under the module's own name, so the registered classes (and the tasks pickled
    # to worker processes) live in `recent_drift`, not in `__main__`
    import recent_drift
    recent_drift.cli()
