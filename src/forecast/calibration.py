"""Pooled calibration of the default ensemble: rolling-origin backtests over many series.

A probability is only worth what its calibration is, and one short series gives a handful of
scored forecasts at best. :func:`pooled_backtest` therefore runs the same rolling-origin
backtest (:func:`forecast.backtest.rolling_origin`) of the default ensemble on

* the plan region's series that carry a forecastable target (the indicator itself, or the
  numerator of a derived one: GDP for labour productivity), and
* *panels* of comparable series shipped in ``data/raw`` (the plan's ``panels``, by default
  every region with the same indicator): for Hangzhou's plan the R&D intensity of the 31
  provinces of mainland China (NBS), which share the definition, the publisher and the period
  of Hangzhou's series, and the GDP of Hangzhou's peers (nine large cities and Zhejiang), the
  nearest evidence for the GDP labour productivity rests on,

and pools the scored rows. The ensemble is backtested with **equal weights**: weights from a
backtest on the same history would look ahead. Scores are on each series' modelling scale
(log / logit), where PIT values and interval coverage are the same as on the published scale.

:func:`pit_histogram`, :func:`coverage_table`, :func:`median_bias_table` and
:func:`reliability_table` turn the pooled rows into what the calibration notebook shows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .backtest import (COLUMNS, COVERAGE_LEVELS, _score_origin, default_origins, origin_paths,
                       summarise, summarise_by)
from .coverage import assess
from .data import Dataset
from .engine import run_tasks
from .ensemble import Ensemble
from .errors import InputError
from .models import model_names
from .models.base import Series
from .transforms import Transform

#: multiples of the historical pace that define the target-like events (see _backtest_one)
EVENT_PACES = (0.0, 0.5, 1.0, 1.5, 2.0)
#: aggregates in a panel file that are not one of its regions
AGGREGATES = ("China", "EU27_2020")


@dataclass
class PooledBacktest:
    """Pooled backtest of the ensemble: ``rows`` one per scored forecast (the columns of
    :data:`forecast.backtest.COLUMNS` plus ``series, region, indicator, group, scale``),
    ``events`` one per (forecast, pace multiple) target-like event, ``failures`` one per
    origin at which the ensemble could not be fitted (with the reason)."""

    rows: pd.DataFrame
    events: pd.DataFrame
    failures: pd.DataFrame

    def summary(self) -> dict:
        """Pooled CRPS, 50/80/95% coverage, Brier (pseudo-target), counts of forecasts,
        origins and series, and the Brier score of all target-like events."""
        out = summarise(self.rows)
        out["n_series"] = int(self.rows["series"].nunique())
        obs = self.events["event_obs"].astype(float)
        out["brier_events"] = float(np.mean((self.events["event_prob"] - obs) ** 2))
        # the benchmark with hindsight: every event of a pace multiple given the share of
        # them that happened (a coin flip scores 0.25); skill is a Brier score below it
        base_rate = obs.groupby(self.events["pace_multiple"]).transform("mean")
        out["brier_events_base_rate"] = float(np.mean((base_rate - obs) ** 2))
        out["n_failures"] = int(len(self.failures))
        return out


def plan_series(dataset: Dataset) -> list[tuple[str, str]]:
    """(region, indicator) pairs behind every target with a probability or a pace: the
    indicator itself, or the numerator of a derived indicator (whose denominator comes from
    an assumption, not from a series). Only series with at least 8 observations are kept."""
    out: list[tuple[str, str]] = []
    for target in dataset.registry.targets.values():
        if assess(dataset, target).status not in ("probability", "pace only"):
            continue
        indicator = dataset.registry.indicator(target.indicator)
        ind_id = indicator.modelled_series
        key = (target.region, ind_id)
        if key not in out and len(dataset.series(ind_id, target.region)) >= 8:
            out.append(key)
    return out


def panel_series(dataset: Dataset, indicator: str = "rd_intensity",
                 files: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(region, indicator) pairs of the comparison panel of ``indicator``: every region with
    ``indicator`` rows from one of the raw ``files`` (by stem; default: the plan's panel for
    it, else every file), aggregates and the plan's region excluded. The panel is data (the
    plan's ``panels``), not code."""
    files = files if files is not None else dataset.registry.plan.panels.get(indicator)
    panel = dataset.panel
    rows = panel[(panel["indicator"] == indicator)
                 & (panel["origin"] != "derived")
                 & panel["source_file"].map(lambda f: files is None or Path(str(f)).stem in files)]
    plan_region = dataset.registry.plan.region
    regions = sorted(set(rows["region"]) - set(AGGREGATES) - {plan_region})
    return [(r, indicator) for r in regions]


def comparison_series(dataset: Dataset) -> list[tuple[str, str]]:
    """(region, indicator) pairs of every comparison panel: those the plan names
    (``panels``), else one per series behind its targets (:func:`plan_series`), of every
    other region with that indicator."""
    named = dataset.registry.plan.panels
    indicators = list(named) or list(dict.fromkeys(i for _, i in plan_series(dataset)))
    return [pair for indicator in indicators for pair in panel_series(dataset, indicator)]


def median_bias_table(rows: pd.DataFrame, by: str = "group") -> pd.DataFrame:
    """Per group: how often the outcome came out above the forecast's median (PIT > 0.5),
    with the number of forecasts. A calibrated forecaster is near 50%; 99% means it was too
    low nearly every time, which no widening of its intervals can fix."""
    above = rows.assign(above_median=rows["pit"] > 0.5)
    out = above.groupby(by, sort=True).agg(above_median=("above_median", "mean"),
                                           n=("above_median", "size")).reset_index()
    return out


def pooled_backtest(dataset: Dataset, series: list[tuple[str, str]] | None = None, *,
                    models: tuple[str, ...] | None = None, horizon: int = 4,
                    min_train: int = 6, max_origins: int | None = 4, n_paths: int = 300,
                    seed: int = 20261127, engine: str = "serial", jobs: int | None = None,
                    scheduler: str | None = None, pooled: bool = False) -> PooledBacktest:
    """Backtest of the equal-weight ensemble of ``models`` on each (region, indicator) in
    ``series`` (default: :func:`plan_series` plus :func:`comparison_series`), pooled; see
    :class:`PooledBacktest`. ``group`` says the plan's region (its own series) or
    "panel: <indicator>". ``pooled``: the ensemble with the pooled member
    (:mod:`forecast.models.pooled`) for every series whose indicator has a panel in the plan,
    each fit pooling the other regions cut at its origin (the calibration page shows both).

    ``max_origins`` keeps the latest origins of each series (None: all); a short series gives
    fewer. Origins are the ones :func:`forecast.backtest.default_origins` allows. The series
    are backtested as tasks on ``engine`` (:mod:`forecast.engine`; default serial, which is
    what a notebook kernel wants); every engine gives the same rows for the same seed.
    """
    models = model_names(models)
    for name, value, low in (("horizon", horizon, 1), ("min_train", min_train, 3),
                             ("n_paths", n_paths, 50)):
        if not isinstance(value, int) or value < low:
            raise InputError(None, f"{name} is {value!r}", field=name,
                             expected=f"an integer >= {low}")
    if max_origins is not None and (not isinstance(max_origins, int) or max_origins < 1):
        raise InputError(None, f"max_origins is {max_origins!r}", field="max_origins",
                         expected="a positive integer or None (all origins)")
    own = plan_series(dataset)
    if series is None:
        series = own + comparison_series(dataset)
    ensemble = Ensemble(models)
    tasks, labels = [], []
    for region, ind_id in series:
        member = _pooled_member(dataset, region, ind_id) if pooled else None
        indicator = dataset.registry.indicator(ind_id)
        # on one basis: a census revision scored as a forecast error would blame the models
        values = dataset.linked_series(ind_id, region)[0].dropna()
        transform = Transform.for_indicator(indicator)
        s = Series(np.asarray(values.index, dtype=int), transform.forward(values.to_numpy()),
                   transform)
        origins = spread_origins(default_origins(s.years, horizon=horizon,
                                                 min_train=min_train), max_origins)
        if not origins:
            continue
        tasks.append((s, ensemble if member is None else Ensemble(
            models + ("pooled_eb",), instances={"pooled_eb": member}),
            origins, horizon, n_paths, seed))
        labels.append(dict(series=f"{region}/{ind_id}", region=region, indicator=ind_id,
                           group=(dataset.region if (region, ind_id) in own
                                  else f"panel: {ind_id}"),
                           scale=indicator.scale))
    results = run_tasks(_backtest_task, tasks, engine=engine, jobs=jobs, scheduler=scheduler,
                        desc="pooled backtest", progress=False)
    frames, event_frames, failures = [], [], []
    for (rows, events, failed), label in zip(results, labels):
        failures += [(label["series"], o, why) for o, why in failed]
        frames.append(rows.assign(**label))
        event_frames.append(events.assign(**label))
    if not frames:
        raise InputError(None, "no series long enough to backtest", field="series",
                         expected=f"series with more than min_train={min_train} observations")
    return PooledBacktest(pd.concat(frames, ignore_index=True),
                          pd.concat(event_frames, ignore_index=True),
                          pd.DataFrame(failures, columns=["series", "origin", "reason"]))


def _pooled_member(dataset: Dataset, region: str, indicator: str):
    """The pooled family for ``region``'s ``indicator`` when the plan names a panel for the
    indicator (its other regions; each backtest fit cuts them at its origin), else None."""
    from .models.pooled import PooledEB
    files = dataset.registry.plan.panels.get(indicator)
    if files is None:
        return None
    try:
        return PooledEB.for_region(dataset, indicator, region, files=list(files))
    except InputError:
        return None


def spread_origins(origins: list[int], max_origins: int | None) -> list[int]:
    """At most ``max_origins`` of ``origins``, evenly spread from the first to the last (so
    that early origins, which can be scored at every horizon, are kept too)."""
    if max_origins is None or len(origins) <= max_origins:
        return list(origins)
    idx = np.unique(np.round(np.linspace(0, len(origins) - 1, max_origins)).astype(int))
    return [origins[i] for i in idx]


def _backtest_task(item: tuple) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """:func:`_backtest_one` as a task of :func:`forecast.engine.run_tasks`."""
    return _backtest_one(*item)


def _backtest_one(series: Series, ensemble: Ensemble, origins: list[int], horizon: int,
                  n_paths: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """The rows :func:`rolling_origin` would give (same seeds: origin ``o`` uses
    ``default_rng([seed, o])``) plus target-like events at several paces, from one simulation.

    The events are "value in year t >= value at the origin + k x (t - origin) x the mean
    yearly pace up to the origin" for each k in :data:`EVENT_PACES`: a stall (k = 0), half
    the pace, the pace continued (k = 1, the backtest's own pseudo-target), an acceleration.
    """
    years, values = series.years, series.values
    rows, events, failures = [], [], []
    for origin, n_train, paths, failure in origin_paths(series, ensemble, origins, horizon=horizon,
                                                        n_paths=n_paths, seed=seed):
        if failure:
            failures.append((origin, failure))
            continue
        rows.append(_score_origin(paths, years, values, n_train, horizon, None, ensemble.name))
        last = float(values[n_train - 1])
        pace = (last - values[0]) / (origin - years[0])
        later = (years > origin) & (years <= origin + horizon)
        for year, obs in zip(years[later], values[later]):
            h = int(year - origin)
            sims = paths[:, h - 1]
            for k in EVENT_PACES:
                threshold = last + k * h * pace
                events.append({"origin": origin, "target_year": int(year), "horizon": h,
                               "pace_multiple": k, "event_prob": float(np.mean(sims >= threshold)),
                               "event_obs": bool(obs >= threshold)})
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=COLUMNS)
    return frame, pd.DataFrame(events), failures


def pit_histogram(rows: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Counts of PIT values in ``bins`` equal bins of [0, 1], with the count a calibrated
    forecast would give (``expected``). A U shape: intervals too narrow; a hump: too wide;
    a slope: bias."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(rows["pit"].astype(float).clip(0, 1), bins=edges)
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "count": counts,
                         "share": counts / max(len(rows), 1), "expected": len(rows) / bins})


def chance_spread(level: float, n: int) -> float:
    """Half-width of the 95% range of the coverage of a ``level`` interval over ``n``
    independent forecasts when the interval is exactly calibrated: 1.96 sqrt(l (1 - l) / n)."""
    return 1.96 * math.sqrt(level * (1.0 - level) / max(n, 1))


def coverage_table(rows: pd.DataFrame, by: str | list[str] = "horizon") -> pd.DataFrame:
    """Share of observations inside the 50/80/95% central intervals per group of ``by``
    (plus a pooled row "all"), with the number of forecasts; nominal levels in the header."""
    table = summarise_by(rows, by)
    pooled = {**{k: "all" for k in ([by] if isinstance(by, str) else by)}, **summarise(rows)}
    table = pd.concat([table, pd.DataFrame([pooled])], ignore_index=True)
    cols = ([by] if isinstance(by, str) else list(by)) + \
        [f"coverage_{round(100 * lv)}" for lv in COVERAGE_LEVELS] + ["crps", "brier",
                                                                      "n_forecasts"]
    return table[cols]


def reliability_table(rows: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Reliability of event probabilities: within each bin of predicted probability, the mean
    prediction and the observed frequency of the event (a calibrated forecaster lies on the
    diagonal), with the number of forecasts per bin. ``rows`` needs ``event_prob`` and
    ``event_obs``: the target-like events of :func:`pooled_backtest` (``rows.attrs["events"]``)
    or the backtest rows themselves (one pseudo-target each)."""
    p = rows["event_prob"].astype(float).to_numpy()
    y = rows["event_obs"].astype(float).to_numpy()
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    out = []
    for b in range(bins):
        mask = idx == b
        out.append({"lower": edges[b], "upper": edges[b + 1], "n": int(mask.sum()),
                    "mean_predicted": float(p[mask].mean()) if mask.any() else np.nan,
                    "observed_frequency": float(y[mask].mean()) if mask.any() else np.nan})
    return pd.DataFrame(out)


def pooling_comparison(before: PooledBacktest, after: PooledBacktest,
                       seed: int = 20261127) -> pd.DataFrame:
    """The same forecasts without (``before``) and with the pooled member (``after``), per
    group and for all: the share of outcomes above the median, the 80/95% coverage, the
    CRPS after as a share of before, and the Brier score of the target-like events.
    Intervals (95%) resample whole origin years, because forecasts from one origin share
    that year's common shocks. The CRPS is divided by each series' mean CRPS before, so
    that the GDP panel's 亿元 do not outweigh the R&D shares in "all"."""
    from .evidence import cluster_bootstrap

    keys = ["series", "origin", "target_year"]
    paired = before.rows.merge(after.rows, on=keys + ["group"], suffixes=("_before", "_after"))
    norm = paired.groupby("series")["crps_before"].transform("mean").replace(0, np.nan)
    paired = paired.assign(rel_before=paired["crps_before"] / norm,
                           rel_after=paired["crps_after"] / norm)
    records = []
    groups = [(g, paired[paired["group"] == g]) for g in sorted(paired["group"].unique())]
    for name, g in groups + [("all", paired)]:
        above = {w: (g[f"pit_{w}"] > 0.5).astype(float) for w in ("before", "after")}
        lo, hi = cluster_bootstrap(above["after"], g["origin"], seed=seed)
        c_lo, c_hi = cluster_bootstrap(np.column_stack([g["rel_after"], g["rel_before"]]),
                                       g["origin"], seed=seed, ratio=True)
        ev = {w: (b.events if name == "all" else b.events[b.events["group"] == name])
              for w, b in (("before", before), ("after", after))}
        records.append({
            "group": name, "n": len(g),
            "above_median_before": above["before"].mean(),
            "above_median_after": above["after"].mean(), "above_median_after_lo": lo,
            "above_median_after_hi": hi,
            **{f"coverage_{lv}_{w}": g[f"covered_{lv}_{w}"].astype(float).mean()
               for lv in (80, 95) for w in ("before", "after")},
            "crps_ratio": g["rel_after"].mean() / g["rel_before"].mean(),
            "crps_ratio_lo": c_lo, "crps_ratio_hi": c_hi,
            **{f"brier_events_{w}": float(np.mean((e["event_prob"]
                                                   - e["event_obs"].astype(float)) ** 2))
               for w, e in ev.items()}})
    return pd.DataFrame(records)

