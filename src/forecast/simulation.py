"""One modelled series: the ensemble fitted to it and its simulated paths.

:func:`fit_component` is the lower half of every forecast: the backtest weights, the
ensemble fit and the simulation of one observed series on its modelling scale, kept as a
:class:`ComponentFit` whose member paths a scenario transforms when they are read. An
indicator's kind (:mod:`forecast.kinds`) combines one or more of them (R&D intensity is one;
labour productivity is GDP over an employment assumption) and :func:`on_years` reads a
component on the years of the indicator it serves.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache
from .ensemble import Ensemble, FittedEnsemble, Weighting, backtest_weights, mixture_backtest
from .errors import InputError
from .models.base import ModelFailure, Series
from .scenario import Scenario
from .targets import Indicator
from .transforms import Transform

BACKTEST_PATHS = 500
BACKTEST_MIN_TRAIN = 6
#: the modules whose code a backtest's result depends on: a change to any empties the cache
_BACKTEST_CODE = ("models", "ensemble.py", "backtest.py", "scores.py", "simulation.py",
                  "transforms.py")


@dataclass
class ComponentFit:
    """The ensemble of one modelled series (the indicator itself or a component of it).

    It keeps each member's share of the ensemble's paths on the modelling scale, as drawn
    (no scenario): a scenario is applied when paths are read, so every scenario acts on the
    same draws.
    """

    indicator: str
    years: np.ndarray                 # simulated years
    transform: Transform
    member_z: dict[str, np.ndarray]   # member paths, modelling scale, baseline
    weighting: Weighting
    dropped: dict[str, str]
    calibration: dict                 # the ensemble's own rolling-origin backtest summary
    n_points: int
    first_open: int | None = None     # first year not over on the as-of date (scenario start)
    last_observed: tuple[int, float] | None = None   # (year, value) the simulation starts from
    pooling: dict | None = None       # a pooled member's panel and own weight (_pooling)

    def member_paths(self, scenario: Scenario | None = None) -> dict[str, np.ndarray]:
        """Each member's paths in the indicator's unit under ``scenario`` (None: baseline)."""
        scenario = scenario or Scenario()
        return {m: self.transform.inverse(scenario.apply(z, self.years, self.first_open,
                                                         self.indicator))
                for m, z in self.member_z.items()}

    def paths(self, scenario: Scenario | None = None) -> np.ndarray:
        """The ensemble's paths (all members stacked) in the indicator's unit."""
        return np.concatenate(list(self.member_paths(scenario).values()))

    def median_growth(self, scenario: Scenario | None = None) -> dict[str, float]:
        """Per member and for the ensemble ("ensemble"): the median over paths of the
        compound yearly growth from the last observation to the last simulated year -- the
        growth each model assumes, which a reader can judge (e.g. 12% a year of nominal GDP
        is not 5%) -- under ``scenario`` (None: the baseline)."""
        return self.growth_of(self.member_paths(scenario))

    def growth_of(self, members: dict[str, np.ndarray]) -> dict[str, float]:
        """:meth:`median_growth` of given member paths on this component's years."""
        if self.last_observed is None:
            return {}
        year, value = self.last_observed
        span = int(self.years[-1]) - year
        members = {**members, "ensemble": np.concatenate(list(members.values()))}
        with np.errstate(invalid="ignore", divide="ignore"):
            return {m: float(np.nanmedian(np.sign(p[:, -1]) * np.abs(p[:, -1] / value) ** (1 / span)
                                          - 1)) for m, p in members.items()}


def _model_series(values: pd.Series, transform: Transform) -> Series:
    return Series(np.asarray(values.index, dtype=int), transform.forward(values.to_numpy()),
                  transform)


def fit_component(values: pd.Series, indicator: Indicator, *, horizon_to: int,
                  models: tuple[str, ...], n_paths: int, seed: int,
                  backtest: bool = True, first_open: int | None = None,
                  instances: dict | None = None) -> ComponentFit:
    """Fit the ensemble to one observed series and simulate it up to ``horizon_to``.
    ``first_open`` (the first year not over on the as-of date) is where scenarios start;
    ``instances``: families configured for some of ``models`` (a pooled family with its
    panel). Raises :class:`InputError` when the series is empty or no model can be fitted."""
    instances = instances or {}
    if values.empty:
        raise InputError(None, f"no sourced {indicator.id} to forecast from", field="indicator",
                         expected="a sourced series (forecast data add FILE)")
    transform = Transform.for_indicator(indicator)
    series = _model_series(values, transform)
    horizon = horizon_to - series.last_year
    if horizon < 1:
        raise InputError(None, f"nothing to forecast for {indicator.id}: last observation "
                         f"{series.last_year} is not before {horizon_to}")
    bt_horizon = min(horizon, 6)
    backtested = backtest and len(series) > BACKTEST_MIN_TRAIN
    key = _backtest_key(series, models, bt_horizon, seed, instances) if backtested else None
    cached = cache.read("backtests", key)
    if cached is not None:
        weighting = Weighting(cached["weights"], cached["basis"], cached["scores"],
                              cached["failures"])
    elif backtested:
        weighting = backtest_weights(series, models, horizon=bt_horizon,
                                     min_train=BACKTEST_MIN_TRAIN, n_paths=BACKTEST_PATHS,
                                     seed=seed, instances=instances)
    else:
        weighting = Weighting({m: 1.0 / len(models) for m in models},
                              "one model, nothing to weigh" if len(models) == 1
                              else "equal (series too short for a backtest)" if backtest
                              else "equal (backtest not requested)", {})
    ensemble = Ensemble(models, weighting.weights, instances=instances)
    try:
        fitted: FittedEnsemble = ensemble.fit(series)
    except ModelFailure as exc:
        raise InputError(None, f"{indicator.id} ({len(series)} sourced years): no model could be "
                         f"fitted: {exc}", field="models",
                         expected="a longer history or other --models") from None
    rng = np.random.default_rng([seed, 0])
    members = fitted.simulate_members(horizon, n_paths, rng)
    years = np.arange(series.last_year + 1, horizon_to + 1)
    calibration = {}
    if cached is not None:
        calibration = cached["calibration"]
    elif backtested:
        # the members' backtest paths, mixed with the final weights (no second refit)
        result = mixture_backtest(series, weighting, fitted.weights, horizon=bt_horizon,
                                  calibration=fitted.calibration)
        calibration = {**result.summary(), "horizon": bt_horizon,
                       "min_train": BACKTEST_MIN_TRAIN, "scale": "published",
                       "unit": indicator.unit,
                       "note": "ensemble with the final weights (mild look-ahead in the weights)"}
        cache.write("backtests", key, {"weights": weighting.weights, "basis": weighting.basis,
                                       "scores": weighting.scores,
                                       "failures": weighting.failures,
                                       "calibration": calibration})
    return ComponentFit(indicator.id, years, transform, members, weighting,
                        fitted.dropped, calibration, len(series), first_open,
                        (int(values.index[-1]), float(values.iloc[-1])),
                        _pooling(fitted, instances))


def _pooling(fitted: FittedEnsemble, instances: dict) -> dict | None:
    """What a pooled member of the ensemble rests on (None without one): the panel, how many
    regions informed the fit, how much the region's own history weighs in its drift and its
    volatility, and the member's weight; or why it dropped out."""
    pooled = [name for name in instances if getattr(instances[name], "panel", None) is not None]
    if not pooled:
        return None
    name = pooled[0]
    if name not in fitted.members:
        return {"member": name, "panel": instances[name].panel.describe(),
                "dropped": fitted.dropped.get(name, "not fitted")}
    summary = fitted.members[name].summary
    return {"member": name, "panel": summary["panel"], "n_regions": summary["n_regions"],
            "own_weight_drift": summary["own_weight_drift"],
            "own_weight_volatility": summary["own_weight_volatility"],
            "weight": fitted.weights.get(name, 0.0)}


# ----------------------------------------------------------------- the backtest cache
#
# A series' rolling-origin backtest (the ensemble's weights and its calibration figures) is
# most of a run's time (7 of 8 s for R&D intensity with GDP) and depends only on the series,
# the model set, the horizon, the seed and the code: it is kept in the cache
# (:mod:`forecast.cache`, backtests/), keyed by a hash of all of them, and read back exactly
# (pickled: NaN stays NaN), so a run with the cache gives the same numbers as one without. A run on other data, models
# or code makes another key; deleting the folder is always safe.

@lru_cache(maxsize=1)
def _code_hash() -> str:
    """SHA-256 over the source of the modules a backtest's numbers depend on."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _BACKTEST_CODE:
        for path in sorted((here / name).rglob("*.py")) if (here / name).is_dir() else [here / name]:
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _backtest_key(series: Series, models: tuple[str, ...], horizon: int, seed: int,
                  instances: dict | None = None) -> str:
    transform = series.transform
    # a configured family's data (a pooled member's panel) are part of what it rests on
    configured = {name: [getattr(getattr(model, "panel", None), "key", None),
                         repr(sorted((k, repr(v)) for k, v in vars(model).items()
                                     if k != "panel"))]
                  for name, model in sorted((instances or {}).items())}
    parts = {"configured": configured, "years": series.years.tolist(), "values": [repr(v) for v in series.values],
             "scale": getattr(transform, "scale", None),
             "bounds": list(getattr(transform, "bounds", None) or []),
             "models": list(models), "horizon": horizon, "min_train": BACKTEST_MIN_TRAIN,
             "n_paths": BACKTEST_PATHS, "seed": int(seed), "code": _code_hash()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def on_years(observed: pd.Series, years: np.ndarray, n_paths: int,
             paths: np.ndarray | None = None, simulated_years=()) -> np.ndarray:
    """A path set ``(n_paths, len(years))`` for exactly ``years``: the observed value where a
    year is observed (the same in every path), the simulated column where it is simulated.

    Components of a ratio end in different years (GDP may be published for a year whose
    population or employment is not), so each is read on the ratio's own years.
    """
    simulated = [int(y) for y in simulated_years]
    columns = []
    for year in np.asarray(years, dtype=int):
        if year in simulated:
            columns.append(paths[:, simulated.index(year)])
        elif year in observed.index:
            columns.append(np.full(n_paths, float(observed[year])))
        else:
            raise InputError(None, f"{observed.name}: no value for {year}, observed or simulated",
                             field="years", expected="a gap-free run from the last observation")
    return np.column_stack(columns)


def split_like(members: dict[str, np.ndarray], stacked: np.ndarray) -> dict[str, np.ndarray]:
    """``stacked`` (the members' rows in order) cut back into one block per member."""
    out, start = {}, 0
    for name, member in members.items():
        out[name] = stacked[start:start + len(member)]
        start += len(member)
    return out


def members_on_years(comp: ComponentFit, scenario: Scenario, observed: pd.Series,
                       years: np.ndarray) -> dict[str, np.ndarray]:
    """Each member's paths of ``comp`` under ``scenario`` on ``years`` (observed years as
    ``observed``, the same in every path): a ratio's numerator on the ratio's years."""
    return {m: on_years(observed, years, len(z), z, comp.years)
            for m, z in comp.member_paths(scenario).items()}

