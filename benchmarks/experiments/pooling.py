"""Issue 17: pooled families against today's default, on the calibration page's protocol.

Two stages, so that every design is scored on the *same* member paths:

``collect``  fits every member (the five default families and the pooled candidates) at every
             rolling origin of every series (horizon 4, min_train 6, as of 2026-11-27) and
             keeps its paths on the modelling scale (a cache under ``--cache``, not in git).
``score``    mixes the members into designs, scores them like
             :func:`forecast.calibration.pooled_backtest` (modelling scale; PIT, coverage, CRPS,
             target-like events at :data:`forecast.calibration.EVENT_PACES`) and writes
             ``benchmarks/results/pooling_*.csv`` and the tables of benchmarks/POOLING.md,
             with bootstrap intervals that resample whole origin years.

Series (groups): the 31 provinces' R&D intensity (panel: the other provinces), the peers' GDP
(nine large cities; panel: every other region with GDP in 亿元, Hangzhou included), Hangzhou's
R&D intensity (panel: the 31 provinces) and GDP (panel: the nine peers), and as a *design*
set never used for the verdict the European countries' R&D intensity (panel: the other
European countries). Each design's mixture at an origin is what :class:`forecast.ensemble.Ensemble`
would simulate there: the members with paths at that origin (a failed member is dropped and
the others renormalised), split by :func:`forecast.ensemble.allocate_paths`. Backtest weights
at an origin come only from the member paths of *earlier* origins scored on years up to the
origin (inverse mean CRPS on the published scale, at least MIN_SCORED forecasts per member, as
:func:`forecast.ensemble.backtest_weights` does), so they do not look ahead.

Run from the repository root (2 cores: ``collect`` ~10 min, ``score`` ~1 min):

    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling.py collect
    PYTHONPATH=src /work/main/.venv/bin/python benchmarks/experiments/pooling.py score
"""
from __future__ import annotations

import forecast  # noqa: F401  (first: single-threaded BLAS before numpy loads)

import argparse
import pickle
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from forecast import data, scores
from forecast.backtest import default_origins
from forecast.calibration import EVENT_PACES, spread_origins
from forecast.engine import run_tasks
from forecast.ensemble import MIN_SCORED, allocate_paths
from forecast.models import DEFAULT_MODELS, get_model
from forecast.models.base import Model, ModelFailure, Series
from forecast.models.parent_relative import ParentRelative
from forecast.models.pooled import PooledEB, PooledStateSpace
from forecast.panels import Panel, build_panel
from forecast.transforms import Transform

AS_OF = "2026-11-27"
SEED = 20261127
HORIZON, MIN_TRAIN = 4, 6
N_PATHS = 1000  # per member and origin; a mixture takes its shares of them
RESULTS = Path(__file__).resolve().parents[1] / "results"
#: design split: forecasts whose target year is at most this (so origins <= 2017); the
#: confirmation split: origins from CONFIRM_FROM on (targets from 2019 on): no outcome year shared
DESIGN_LAST_TARGET, CONFIRM_FROM = 2018, 2018
PROVINCES = ("china_provinces_rd_nbs",)
EUROPE = ("world_rd_intensity",)


@dataclass
class Spec:
    """One series to backtest and the panel its pooled members see."""

    region: str
    indicator: str
    group: str
    panel_files: tuple[str, ...] | None = None  # None: every region with the indicator and unit
    series: Series | None = None
    panel: Panel | None = None
    parent: str | None = None  # the region whose series the parent-relative member uses
    parent_series: Series | None = None

    @property
    def label(self) -> str:
        return f"{self.region}/{self.indicator}"


def model_series(dataset: data.Dataset, indicator: str, region: str) -> Series:
    transform = Transform.for_indicator(dataset.registry.indicator(indicator))
    values = dataset.linked_series(indicator, region)[0].dropna()
    return Series(np.asarray(values.index, dtype=int), transform.forward(values.to_numpy()),
                  transform)


def specs(dataset: data.Dataset, groups: tuple[str, ...]) -> list[Spec]:
    """The series of every group, with their panels built from the dataset."""
    out: list[Spec] = []
    panel = dataset.panel
    if "provinces" in groups:
        for r in build_panel(dataset, "rd_intensity", "Hangzhou", files=PROVINCES).regions:
            out.append(Spec(r, "rd_intensity", "provinces", PROVINCES, parent="China"))
    if "peers_gdp" in groups:
        peers = sorted(set(panel.loc[(panel["indicator"] == "gdp")
                                     & (panel["source_file"].map(lambda f: "hangzhou_and_peers" in str(f))),
                                     "region"]) - {"Hangzhou"})
        out += [Spec(r, "gdp", "peers_gdp") for r in peers]
    if "hangzhou" in groups:
        # Zhejiang's GDP has 4 values (2021-2024): no parent for Hangzhou's GDP
        out += [Spec("Hangzhou", "rd_intensity", "hangzhou", PROVINCES, parent="Zhejiang"),
                Spec("Hangzhou", "gdp", "hangzhou", parent="Zhejiang")]
    if "europe" in groups:
        for r in build_panel(dataset, "rd_intensity", "Hangzhou", files=EUROPE).regions:
            out.append(Spec(r, "rd_intensity", "europe", EUROPE, parent="EU27_2020"))
    kept = []
    for spec in out:
        spec.series = model_series(dataset, spec.indicator, spec.region)
        if not default_origins(spec.series.years, horizon=HORIZON, min_train=MIN_TRAIN):
            continue  # Zhejiang's GDP: 4 values
        spec.panel = build_panel(dataset, spec.indicator, spec.region, files=spec.panel_files)
        if spec.parent:
            spec.parent_series = model_series(dataset, spec.indicator, spec.parent)
        kept.append(spec)
    return kept


# ----------------------------------------------------------------------------- members

#: pooled candidates: name -> (constructor keyword arguments)
POOLED = {
    "pooled_eb": dict(),  # the family's defaults: uniform priors, common local level
    "eb_halfcauchy": dict(common_prior="halfcauchy"),
    "eb_ml": dict(common_prior="ml"),
    "eb_fixed": dict(common_trend=False),
}


def make_member(name: str, spec: Spec) -> Model:
    if name in POOLED:
        return PooledEB(spec.panel, name=name, **POOLED[name])
    if name == "pooled_ss":
        return PooledStateSpace(spec.panel, name=name)
    if name == "pooled_eb_any_unit":  # the default rule: every region with the indicator and unit
        return PooledEB(build_panel(data.load(AS_OF), spec.indicator, spec.region), name=name)
    if name in ("parent_rel", "parent_rel_eb"):
        if spec.parent_series is None:
            return _NoParent(name)
        parent_model = None
        if name == "parent_rel_eb":  # the parent forecast with its own panel
            parent_model = PooledEB(build_panel(data.load(AS_OF), spec.indicator, spec.parent,
                                                files=spec.panel_files))
        return ParentRelative(spec.parent_series, parent_model=parent_model,
                              parent_name=spec.parent, name=name)
    extra = EXTRA_MEMBERS.get(name)
    if extra is not None:
        return extra(spec)
    return get_model(name)


class _NoParent(Model):
    def __init__(self, name):
        self.name = name

    def fit(self, series):
        raise ModelFailure(f"{self.name}: no parent series")


#: further members registered by other experiment modules: name -> factory(spec) -> Model
EXTRA_MEMBERS: dict = {}


def _collect_task(item) -> dict:
    spec, names, seed = item
    s = spec.series
    origins = default_origins(s.years, horizon=HORIZON, min_train=MIN_TRAIN)
    out = {}
    for j, name in enumerate(names):
        model = make_member(name, spec)
        t_fit = 0.0
        for origin in origins:
            n = int(np.searchsorted(s.years, origin, side="right"))
            rng = np.random.default_rng([seed, origin, j])
            t0 = time.perf_counter()
            try:
                paths = np.asarray(model.fit(s.head(n)).simulate(HORIZON, N_PATHS, rng))
                if not np.all(np.isfinite(paths)):
                    raise ModelFailure("non-finite paths")
                out[(name, origin)] = paths.astype(np.float32)
            except ModelFailure as exc:
                out[(name, origin)] = str(exc)
            t_fit += time.perf_counter() - t0
        out[(name, "seconds")] = t_fit
    return out


def collect(groups, names, cache: Path, jobs: int) -> None:
    dataset = data.load(AS_OF)
    todo = specs(dataset, groups)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    results = run_tasks(_collect_task, [(sp, tuple(names), SEED) for sp in todo], engine="local",
                        jobs=jobs, desc="collect")
    for spec, res in zip(todo, results):
        path = cache / f"{spec.group}__{spec.region}__{spec.indicator}.pkl"
        old = pickle.loads(path.read_bytes()) if path.exists() else {}
        old.update(res)
        path.write_bytes(pickle.dumps(old))
    print(f"collected {len(todo)} series x {len(names)} members in {time.time() - t0:.0f} s")


# ----------------------------------------------------------------------------- scoring


def load_cache(cache: Path, dataset: data.Dataset, groups) -> list[tuple[Spec, dict]]:
    out = []
    for spec in specs(dataset, groups):
        path = cache / f"{spec.group}__{spec.region}__{spec.indicator}.pkl"
        if path.exists():
            store = pickle.loads(path.read_bytes())
            # Rows in a fixed random order: families that draw parameters in blocks of
            # consecutive paths (arima, ets: 50 draws) would otherwise put only the first few
            # parameter draws into a mixture's share of their paths.
            perm = np.random.default_rng(17).permutation(N_PATHS)
            out.append((spec, {k: (v[perm] if isinstance(v, np.ndarray) else v)
                               for k, v in store.items()}))
    return out


def mixture(store: dict, origin: int, weights: dict[str, float]) -> np.ndarray | None:
    """What Ensemble would simulate at ``origin``: members with paths there, renormalised."""
    have = {m: store[(m, origin)] for m, w in weights.items()
            if w > 0 and isinstance(store.get((m, origin)), np.ndarray)}
    if not have:
        return None
    total = sum(weights[m] for m in have)
    counts = allocate_paths({m: weights[m] / total for m in have}, N_PATHS)
    return np.concatenate([have[m][:counts[m]] for m in have]).astype(float)


def inner_weights(spec: Spec, store: dict, members: tuple[str, ...], origin: int
                  ) -> dict[str, float]:
    """Backtest weights at ``origin`` from earlier origins' paths scored on years <= origin
    (published scale, inverse mean CRPS, MIN_SCORED forecasts per member): no look-ahead."""
    s = spec.series
    inverse = s.transform.inverse
    crps: dict[str, list[float]] = {m: [] for m in members}
    for o in default_origins(s.years, horizon=HORIZON, min_train=MIN_TRAIN):
        if o >= origin:
            break
        later = (s.years > o) & (s.years <= min(o + HORIZON, origin))
        h = s.years[later] - o
        obs = inverse(s.values[later])
        for m in members:
            p = store.get((m, o))
            if isinstance(p, np.ndarray):
                crps[m] += list(scores.crps_samples(inverse(p[:500, h - 1].T.astype(float)), obs))
    scored = {m: np.mean(v) for m, v in crps.items() if len(v) >= MIN_SCORED}
    if len(scored) < 2:
        return {m: 1.0 for m in members}
    return {m: 1.0 / max(scored[m], 1e-12) if m in scored else 0.0 for m in members}


@dataclass(frozen=True)
class Design:
    name: str
    members: tuple[str, ...]
    weighting: str = "equal"  # or "backtest"


def designs(pooled: tuple[str, ...]) -> list[Design]:
    d = DEFAULT_MODELS
    out = [Design("default", d), Design("default_bt", d, "backtest"),
           Design("default+rw_drift_twin", d + ("rw_drift_twin",))]
    for p in pooled:
        out += [Design(p, (p,)), Design(f"default+{p}", d + (p,)),
                Design(f"default+{p}_bt", d + (p,), "backtest"),
                # the pooled family in place of the log-scale rw_drift (which it generalises)
                Design(f"swap_{p}", (p,) + d[1:]),
                # the pooled family's share learned on the panel's past forecasts
                Design(f"stack_{p}", d + (p,), "stack")]
    return out


#: the panel (group) whose past forecasts set a series' stacking weight
STACK_PANEL = {"provinces": "provinces", "peers_gdp": "peers_gdp", "europe": "europe",
               "Hangzhou/rd_intensity": "provinces", "Hangzhou/gdp": "peers_gdp"}
#: the pooled member's share is chosen from this grid; fewer than MIN_STACK past forecasts
#: in the panel: the share of an equal-weight member (1 / 6)
STACK_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)
MIN_STACK = 30
_stack_cache: dict = {}


def stack_share(panel: list[tuple[Spec, dict]], pooled: str, origin: int) -> float:
    """The share of the pooled member in a mixture with the equal-weight default that
    minimises the mean CRPS (modelling scale) of the panel's past forecasts: every series of
    the panel, origins before ``origin``, target years up to ``origin`` (no look-ahead)."""
    key = (id(panel), pooled, origin)
    if key in _stack_cache:
        return _stack_cache[key]
    pairs = []
    for spec, store in panel:
        s = spec.series
        for o in default_origins(s.years, horizon=HORIZON, min_train=MIN_TRAIN):
            if o >= origin:
                break
            p = store.get((pooled, o))
            d = mixture(store, o, {m: 1.0 for m in DEFAULT_MODELS})
            if not isinstance(p, np.ndarray) or d is None:
                continue
            later = (s.years > o) & (s.years <= min(o + HORIZON, origin))
            for year, obs in zip(s.years[later], s.values[later]):
                pairs.append((p[:, year - o - 1].astype(float), d[:, year - o - 1], obs))
    if len(pairs) < MIN_STACK:
        share = 1.0 / (len(DEFAULT_MODELS) + 1)
    else:
        losses = []
        for w in STACK_GRID:
            k = int(round(w * N_PATHS))
            losses.append(np.mean([scores.crps_samples(np.concatenate([p[:k], d[:N_PATHS - k]]),
                                                        obs) for p, d, obs in pairs]))
        share = float(STACK_GRID[int(np.argmin(losses))])
    _stack_cache[key] = share
    return share


def score_design(spec: Spec, store: dict, design: Design, panels: dict | None = None
                 ) -> tuple[list[dict], list[dict]]:
    s = spec.series
    rows, events = [], []
    for origin in default_origins(s.years, horizon=HORIZON, min_train=MIN_TRAIN):
        if design.weighting == "backtest":
            weights = inner_weights(spec, store, design.members, origin)
        elif design.weighting == "stack":
            pooled = design.members[-1]
            w = stack_share(panels[STACK_PANEL.get(spec.label, spec.group)], pooled, origin)
            others = [m for m in design.members if m != pooled]
            weights = {**{m: (1.0 - w) / len(others) for m in others}, pooled: w}
        else:
            weights = {m: 1.0 for m in design.members}
        paths = mixture(store, origin, weights)
        if paths is None:
            continue
        n = int(np.searchsorted(s.years, origin, side="right"))
        last = float(s.values[n - 1])
        pace = (last - s.values[0]) / (origin - s.years[0])
        later = (s.years > origin) & (s.years <= origin + HORIZON)
        for year, obs in zip(s.years[later], s.values[later]):
            h = int(year - origin)
            sims = paths[:, h - 1]
            lo = {lv: np.quantile(sims, [(1 - lv) / 2, (1 + lv) / 2]) for lv in (0.5, 0.8, 0.95)}
            rows.append({"series": spec.label, "group": spec.group, "design": design.name,
                         "origin": origin, "target_year": int(year), "horizon": h,
                         "obs": obs, "median": float(np.median(sims)),
                         "crps": float(scores.crps_samples(sims, obs)),
                         "pit": float(scores.pit(sims, obs)),
                         **{f"covered_{round(100 * lv)}": bool(a <= obs <= b)
                            for lv, (a, b) in lo.items()}})
            for k in EVENT_PACES:
                thr = last + k * h * pace
                events.append({"series": spec.label, "group": spec.group,
                               "design": design.name, "origin": origin,
                               "target_year": int(year), "horizon": h, "pace_multiple": k,
                               "event_prob": float(np.mean(sims >= thr)),
                               "event_obs": bool(obs >= thr)})
    return rows, events


def protocol_origins(spec: Spec) -> list[int]:
    """The calibration page's origins: the latest 3 spread over the series' valid origins."""
    return spread_origins(default_origins(spec.series.years, horizon=HORIZON,
                                          min_train=MIN_TRAIN), 3)


# ----------------------------------------------------------------------------- statistics


def bootstrap(rows: pd.DataFrame, events: pd.DataFrame, base_rows: pd.DataFrame | None,
              n_boot: int = 2000, seed: int = 17) -> dict:
    """Point estimates and 95% percentile intervals, resampling whole origin years (every
    forecast from one origin year, across series, stays together): each statistic is a ratio
    of sums over origin years, so a resample is a vector of year counts."""
    key = ["series", "origin", "target_year"]
    r = rows.assign(above=rows["pit"] > 0.5)
    if base_rows is not None:
        base = base_rows.set_index(key)["crps"]
        r = r.assign(base_crps=base.reindex(r.set_index(key).index).to_numpy())
    e = events.assign(sq=(events["event_prob"] - events["event_obs"].astype(float)) ** 2)
    cols = {"n": ("pit", "size"), "above": ("above", "sum"), "crps": ("crps", "sum"),
            **{f"c{lv}": (f"covered_{lv}", "sum") for lv in (50, 80, 95)}}
    if base_rows is not None:
        cols["base"] = ("base_crps", "sum")
    per = r.groupby("origin").agg(**cols)
    per = per.join(e.groupby("origin").agg(ne=("sq", "size"), sq=("sq", "sum")))
    X = per.to_numpy(float)
    names = list(per.columns)
    rng = np.random.default_rng(seed)
    years = len(per)
    W = np.vstack([np.ones(years)] + [np.bincount(rng.integers(0, years, years), minlength=years)
                                      for _ in range(n_boot)])
    S = W @ X  # (1 + n_boot, statistics) sums
    col = {k: S[:, i] for i, k in enumerate(names)}
    stat = {"above_median": col["above"] / col["n"],
            **{f"cov{lv}": col[f"c{lv}"] / col["n"] for lv in (50, 80, 95)},
            "crps": col["crps"] / col["n"], "brier_events": col["sq"] / col["ne"]}
    if base_rows is not None:
        stat["crps_rel"] = col["crps"] / col["base"]
    out = {"n": len(rows)}
    for k, v in stat.items():
        lo, hi = np.nanquantile(v[1:], [0.025, 0.975])
        out[k], out[f"{k}_lo"], out[f"{k}_hi"] = float(v[0]), float(lo), float(hi)
    out["n_origin_years"] = years
    return out


def common_shift(rows: pd.DataFrame) -> dict:
    """How much of the median bias one common shift per (origin, target year) explains: the
    share above the median once each year's mean normal score of the PIT is taken out, and
    the share of the mean squared normal score that the year means carry."""
    z = stats.norm.ppf(rows["pit"].clip(0.005, 0.995))
    groups = rows.assign(z=z).groupby(["origin", "target_year"])["z"]
    if groups.size().max() < 2:  # one series (Hangzhou's): no common shift to take out
        return {"mean_z": float(np.mean(z)), "above_median_within_year": np.nan,
                "share_of_z2_in_year_means": np.nan}
    cell = groups.transform("mean")
    within = z - cell
    return {"mean_z": float(np.mean(z)), "above_median_within_year": float(np.mean(within > 0)),
            "share_of_z2_in_year_means": float(np.sum(cell**2) / np.sum(z**2))}


def score(groups, pooled, cache: Path, out: Path, n_boot: int) -> None:
    dataset = data.load(AS_OF)
    loaded = load_cache(cache, dataset, groups)
    all_rows, all_events = [], []
    for spec, store in loaded:
        # the control: a second, independent copy of rw_drift (gains of "default + X" that a
        # larger log-scale share alone would give show up here too)
        for o in default_origins(spec.series.years, horizon=HORIZON, min_train=MIN_TRAIN):
            p = store.get(("rw_drift", o))
            if isinstance(p, np.ndarray):
                store[("rw_drift_twin", o)] = p[::-1].copy()  # disjoint paths in a mixture
    panels: dict[str, list] = {}
    for spec, store in loaded:
        panels.setdefault(spec.group, []).append((spec, store))
    for spec, store in loaded:
        for design in designs(tuple(p for p in pooled if any(k[0] == p for k in store))):
            r, e = score_design(spec, store, design, panels)
            proto = set(protocol_origins(spec))
            for x in r + e:
                x["protocol"] = x["origin"] in proto
            all_rows += r
            all_events += e
    rows, events = pd.DataFrame(all_rows), pd.DataFrame(all_events)
    out.mkdir(parents=True, exist_ok=True)
    names = {id(v): k for k, v in panels.items()}
    pd.DataFrame([{"panel": names[k[0]], "pooled": k[1], "origin": k[2], "share": v}
                  for k, v in sorted(_stack_cache.items(), key=lambda kv: (names[kv[0][0]],
                                                                            kv[0][1], kv[0][2]))]
                 ).to_csv(out / "pooling_stack_shares.csv", index=False)
    rows.to_csv(out / "pooling_rows.csv.gz", index=False)
    events.to_csv(out / "pooling_events.csv.gz", index=False)
    summary = summarise(rows, events, n_boot)
    summary.to_csv(out / "pooling_summary.csv", index=False)
    print(summary.to_string())


SPLITS = {
    "protocol": lambda r: r["protocol"],
    "all": lambda r: r["origin"] > 0,
    "design": lambda r: r["target_year"] <= DESIGN_LAST_TARGET,
    "confirm": lambda r: r["origin"] >= CONFIRM_FROM,
}


def summarise(rows: pd.DataFrame, events: pd.DataFrame, n_boot: int) -> pd.DataFrame:
    out = []
    for split, pick in SPLITS.items():
        r_all, e_all = rows[pick(rows)], events[pick(events)]
        for group in sorted(r_all["group"].unique()):
            rg, eg = r_all[r_all["group"] == group], e_all[e_all["group"] == group]
            base = rg[rg["design"] == "default"]
            for design in rg["design"].unique():
                r, e = rg[rg["design"] == design], eg[eg["design"] == design]
                if r.empty:
                    continue
                rec = {"split": split, "group": group, "design": design,
                       **bootstrap(r, e, base, n_boot), **common_shift(r)}
                for h in range(1, HORIZON + 1):
                    rh = r[r["horizon"] == h]
                    for lv in (50, 80, 95):
                        rec[f"cov{lv}_h{h}"] = float(rh[f"covered_{lv}"].mean()) if len(rh) else np.nan
                out.append(rec)
    return pd.DataFrame(out)


GROUP_NAMES = {"provinces": "31 provinces, R&D intensity", "peers_gdp": "peers' GDP (9 cities)",
               "hangzhou": "Hangzhou (R&D intensity, GDP)", "europe": "Europe, R&D intensity (design set)"}


def tables(summary: pd.DataFrame, splits: list[str], designs_: list[str]) -> str:
    """Markdown tables (one per split and group) of the chosen designs: share above the
    median, coverage, CRPS relative to the default, Brier of target-like events, with 95%
    intervals from resampling origin years."""
    def ci(r, k, pct=True):
        f = (lambda v: f"{100 * v:.0f}") if pct else (lambda v: f"{v:.3f}")
        return f"{f(r[k])} [{f(r[k + '_lo'])}, {f(r[k + '_hi'])}]"
    out = []
    for split in splits:
        for group in ("provinces", "peers_gdp", "hangzhou", "europe"):
            g = summary[(summary["split"] == split) & (summary["group"] == group)]
            if g.empty:
                continue
            first = g.iloc[0]
            out.append(f"\n**{split} / {GROUP_NAMES[group]}** ({first['n']} forecasts, "
                       f"{first['n_origin_years']} origin years)\n")
            out.append("| design | above median % | cov 50 | cov 80 % | cov 95 % | CRPS / default "
                       "| Brier events | above median within year % |")
            out.append("|---|---|---:|---|---|---|---:|---:|")
            for d in designs_:
                r = g[g["design"] == d]
                if r.empty:
                    continue
                r = r.iloc[0]
                within = ("" if pd.isna(r["above_median_within_year"])
                          else f"{100 * r['above_median_within_year']:.0f}")
                out.append(f"| {d} | {ci(r, 'above_median')} | {100 * r['cov50']:.0f} | "
                           f"{ci(r, 'cov80')} | {ci(r, 'cov95')} | {ci(r, 'crps_rel', False)} | "
                           f"{r['brier_events']:.3f} | {within} |")
    return "\n".join(out) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=("collect", "score", "tables"))
    parser.add_argument("--groups", default="provinces,peers_gdp,hangzhou,europe")
    parser.add_argument("--members", default=",".join(DEFAULT_MODELS + tuple(POOLED) + (
        "pooled_ss", "parent_rel", "parent_rel_eb")))
    parser.add_argument("--pooled", default=",".join(tuple(POOLED) + (
        "pooled_ss", "parent_rel", "parent_rel_eb", "ppl_hier")))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/pooling_cache"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--splits", default="protocol,all,design,confirm")
    parser.add_argument("--designs", default="default,default_bt,pooled_eb,eb_fixed,"
                        "default+pooled_eb,default+pooled_eb_bt,stack_pooled_eb,"
                        "default+rw_drift_twin")
    args = parser.parse_args(argv)
    groups = tuple(args.groups.split(","))
    if args.stage == "collect":
        collect(groups, args.members.split(","), args.cache, args.jobs)
    elif args.stage == "score":
        score(groups, tuple(args.pooled.split(",")), args.cache, args.out, args.boot)
    else:
        summary = pd.read_csv(args.out / "pooling_summary.csv")
        print(tables(summary, args.splits.split(","), args.designs.split(",")))


if __name__ == "__main__":
    sys.exit(main())
