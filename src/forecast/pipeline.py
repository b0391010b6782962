"""One indicator, end to end: history as of a date -> models -> ensemble -> probabilities.

:func:`forecast_indicator` is what ``forecast run``, the notebooks and the report call. It
returns an :class:`IndicatorForecast` holding everything a reader needs to judge a
probability: the observations it rests on, each model's view and the ensemble's, the weights
and what they rest on, the models that dropped out and why, the series' own backtest
calibration, the pace diagnostic, and the scenario and parameters that produced it.

Targets whose year is already observed as of ``as_of`` are reported as observations (met or
not, preliminary where the source says so), not forecast. A derived indicator (labour
productivity = GDP / employment) is simulated as the ratio of its simulated components, the
denominator from a stated, ranged assumption where it has no history of its own.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from .coverage import Coverage, assess
from .data import Dataset, is_lower_grade, json_ready
from .ensemble import Ensemble, FittedEnsemble, Weighting, backtest_weights, mixture_backtest
from .errors import InputError
from .models import model_names
from .models.base import ModelFailure, Series
from .probability import (DEFAULT_PATHS, DEFAULT_SEED, PACE_WINDOW, Pace, TargetProbability,
                          annual_growth, fan_quantiles, format_probability, joint_probability,
                          pace, range_text, target_probability, year_index)
from .scenario import Employment, Scenario, first_open_year
from .targets import Indicator, Target, did_you_mean
from .transforms import Transform

BACKTEST_PATHS = 500
#: paths per run at most: 10^6 paths x a few years x members already take hundreds of MB
MAX_PATHS = 1_000_000
BACKTEST_MIN_TRAIN = 6


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


@dataclass
class IndicatorForecast:
    """Everything ``forecast run`` prints and writes for one indicator."""

    indicator: Indicator
    region: str
    as_of: date
    params: dict
    scenario: Scenario
    history: pd.DataFrame                       # year, value, vintage, preliminary, source
    targets: list[Target]
    coverage: dict[str, Coverage]
    observed: dict[str, dict] = field(default_factory=dict)
    pace: dict[str, Pace] = field(default_factory=dict)
    years: np.ndarray | None = None
    paths: np.ndarray | None = None             # ensemble paths, indicator unit
    member_paths: dict[str, np.ndarray] = field(default_factory=dict)
    probabilities: dict[str, TargetProbability] = field(default_factory=dict)
    member_probabilities: dict[str, dict[str, TargetProbability]] = field(default_factory=dict)
    joint: dict | None = None
    components: dict[str, ComponentFit] = field(default_factory=dict)
    assumption: str | None = None
    employment: Employment | None = None        # a ratio's denominator assumption as used
    break_even: dict | None = None
    implied_last: dict | None = None            # a ratio's level in its last published year
    required: dict = field(default_factory=dict)  # a share's numerator growth needed per target
    basis: dict | None = None  # a share restated on its denominator's revised basis
    own_member_paths: dict[str, np.ndarray] = field(default_factory=dict)  # before restating
    probably_out: list[dict] = field(default_factory=list)  # over years probably published
    status: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def forecast_targets(self) -> list[Target]:
        return [t for t in self.targets if t.id in self.probabilities]

    @property
    def modelled(self) -> ComponentFit | None:
        """The series the models simulate and scenarios act on: the indicator itself, or
        the numerator of a ratio (GDP for labour productivity); None without a forecast."""
        return self.components.get(self.indicator.modelled_series)

    def acted_on(self, scenario: Scenario | None = None) -> ComponentFit | None:
        """The component ``scenario`` (default: this run's) changes: the modelled series, or
        the denominator of a share whose numerator it holds (GDP under R&D intensity)."""
        scenario = scenario or self.scenario
        if scenario.holds_numerator_of(self.indicator):
            return self.components.get(scenario.on)
        return self.modelled

    def changed_by_scenario(self, component: str) -> bool:
        """True when the run's scenario changes ``component``'s paths: the series it acts on
        (:meth:`acted_on`), and a share whose numerator it holds (R&D intensity under a GDP
        scenario)."""
        if self.scenario.is_baseline():
            return False
        return self.components[component] is self.acted_on() or (
            component == self.indicator.id and self.scenario.holds_numerator_of(self.indicator))

    def median_growth(self, component: str) -> dict[str, float]:
        """:meth:`ComponentFit.median_growth` of one component under the run's scenario where
        the scenario changes it (:meth:`changed_by_scenario`), the baseline elsewhere
        (population; GDP beside R&D intensity under a scenario on the intensity), as the
        probabilities use them."""
        comp = self.components[component]
        if not self.changed_by_scenario(component):
            return comp.median_growth()
        if comp is self.acted_on():
            return comp.median_growth(self.scenario)
        # the share's paths with the numerator held, on the history's basis like the baseline
        return comp.growth_of(self.own_member_paths)

    @property
    def scenario_start(self) -> int | None:
        """The first simulated year a trend or volatility scenario changes: the first year not
        over on the as-of date (see :mod:`forecast.scenario`); None without a forecast."""
        comp = self.modelled
        return None if comp is None else Scenario().acts_from(comp.years, comp.first_open)

    def scenario_timing(self, scenario: Scenario | None = None) -> str:
        """Where and when ``scenario`` (default: this run's) acts, e.g. "on gdp: trend
        from 2026" ("" for the baseline or without a forecast)."""
        scenario = scenario or self.scenario
        comp = self.acted_on(scenario)
        if comp is None:
            return ""
        timing = scenario.timing(comp.years, comp.first_open, comp.indicator)
        if timing and scenario.holds_numerator_of(self.indicator):
            timing += ", " + scenario.numerator_response(self.indicator.share_of.numerator)
        return timing

    def fan(self) -> pd.DataFrame | None:
        return None if self.paths is None else fan_quantiles(self.paths, self.years)

    def to_dict(self) -> dict:
        """A JSON-ready dict of the whole result (paths summarised, not dumped)."""
        fan = self.fan()
        out = {
            "indicator": asdict(self.indicator), "region": self.region,
            "as_of": self.as_of.isoformat(), "status": self.status, "params": self.params,
            "scenario": self.scenario.as_dict(), "notes": self.notes,
            "history": self.history.to_dict(orient="records"),
            "targets": [asdict(t) for t in self.targets],
            "coverage": {k: v.as_dict() for k, v in self.coverage.items()},
            "observed": self.observed,
            "pace": {k: v.as_dict() for k, v in self.pace.items()},
            "probabilities": {k: v.as_dict() for k, v in self.probabilities.items()},
            "member_probabilities": {m: {k: v.as_dict() for k, v in probs.items()}
                                     for m, probs in self.member_probabilities.items()},
            "joint": self.joint, "assumption": self.assumption, "break_even": self.break_even,
            "fan": None if fan is None else {str(y): {str(q): fan.loc[y, q] for q in fan.columns}
                                             for y in fan.index},
            "components": {name: {
                "indicator": c.indicator, "n_points": c.n_points,
                "weights": c.weighting.weights, "weighting_basis": c.weighting.basis,
                "member_backtests": c.weighting.scores, "backtest_failures": c.weighting.failures,
                "dropped_models": c.dropped, "calibration": c.calibration,
                "last_observed": c.last_observed, "median_growth_per_year": self.median_growth(name),
            } for name, c in self.components.items()},
            "implied_last": self.implied_last, "required_numerator_growth": self.required,
            "basis": self.basis, "probably_out": self.probably_out,
            "employment": None if self.employment is None else asdict(self.employment),
        }
        return json_ready(out)


def _model_series(values: pd.Series, transform: Transform) -> Series:
    return Series(np.asarray(values.index, dtype=int), transform.forward(values.to_numpy()),
                  transform)


def fit_component(values: pd.Series, indicator: Indicator, *, horizon_to: int,
                  models: tuple[str, ...], n_paths: int, seed: int,
                  backtest: bool = True, first_open: int | None = None) -> ComponentFit:
    """Fit the ensemble to one observed series and simulate it up to ``horizon_to``.
    ``first_open`` (the first year not over on the as-of date) is where scenarios start.
    Raises :class:`InputError` when the series is empty or no model can be fitted to it."""
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
    if backtest and len(series) > BACKTEST_MIN_TRAIN:
        weighting = backtest_weights(series, models, horizon=bt_horizon,
                                     min_train=BACKTEST_MIN_TRAIN, n_paths=BACKTEST_PATHS,
                                     seed=seed)
    else:
        weighting = Weighting({m: 1.0 / len(models) for m in models},
                              "one model, nothing to weigh" if len(models) == 1
                              else "equal (series too short for a backtest)" if backtest
                              else "equal (backtest not requested)", {})
    ensemble = Ensemble(models, weighting.weights)
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
    if backtest and len(series) > BACKTEST_MIN_TRAIN:
        # the members' backtest paths, mixed with the final weights (no second refit)
        result = mixture_backtest(series, weighting, fitted.weights, horizon=bt_horizon,
                                  calibration=fitted.calibration)
        calibration = {**result.summary(), "horizon": bt_horizon,
                       "min_train": BACKTEST_MIN_TRAIN, "scale": "published",
                       "unit": indicator.unit,
                       "note": "ensemble with the final weights (mild look-ahead in the weights)"}
    return ComponentFit(indicator.id, years, transform, members, weighting,
                        fitted.dropped, calibration, len(series), first_open,
                        (int(values.index[-1]), float(values.iloc[-1])))


def _with_source_grades(pc: Pace, rows: pd.DataFrame) -> Pace:
    """``pc`` with the figures its rates rest on (the base and the last observation) that are
    of a lower grade (:func:`forecast.data.is_lower_grade`): a pace on a secondary figure must
    say so."""
    years = [y for y in (pc.base_year, pc.last_year) if y is not None]
    used = rows[rows["year"].isin(years)].sort_values("year")
    lower = tuple((int(r.year), str(r.reliability)) for r in used.itertuples()
                  if is_lower_grade(r.reliability))
    return replace(pc, lower_grade_sources=lower)


def _observed_target(rows: pd.DataFrame, target: Target) -> dict:
    row = rows[rows["year"] == target.year].iloc[0]
    return {"target_id": target.id, "year": target.year, "target": target.value,
            "value": float(row["value"]), "met": bool(target.is_met(float(row["value"]))),
            "preliminary": bool(row["preliminary"]), "vintage": row["vintage"],
            "source": row["source_title"], "published": row["published"]}


def _counted_population(dataset: Dataset, region: str, employment: Employment) -> pd.Series:
    """The population employment is read on: from ``population_since`` (the 2020 census
    recount raised the count by about 15%, so earlier years are on another basis)."""
    population = dataset.series(employment.population, region)
    since = employment.population_since
    return population[population.index >= since] if since else population


def employment_growth_base(dataset: Dataset, region: str, employment: Employment,
                           indicator: Indicator | None = None
                           ) -> tuple[int, tuple[float, float], str] | None:
    """Where employment growth starts (the growth assumption, and break-even growth):
    ``(year, (low, high) 万人, what it is)``. With ``indicator`` (labour productivity), the
    employment its newest known value implies where that year's GDP is published (the level
    the break-even counts from under such a figure); else the last sourced employment when it
    is counted on the population basis the run uses (from ``population_since``, the 2020
    census recount); otherwise the newest published population since then times the assumed
    ratio range, as an older count understates today's employment (by about 15%) and so
    overstates productivity. None when none of them exists."""
    if indicator is not None and indicator.derived is not None:
        figure = _ratio_figure(dataset, region, indicator,
                               dataset.registry.plan.employment(indicator.derived.denominator))[0]
        numerator = dataset.series(indicator.derived.numerator, region)
        if figure is not None and figure[1] in numerator.index:
            what, year, value = figure
            level = indicator.derived.factor * float(numerator[year]) / value
            return year, (level, level), f"implied by the {what}"
    sourced = (dataset.series(indicator.derived.denominator, region)
               if indicator is not None and indicator.derived is not None else pd.Series(dtype=float))
    since = employment.population_since
    if not sourced.empty and (since is None or sourced.index[-1] >= since):
        level = float(sourced.iloc[-1])
        return int(sourced.index[-1]), (level, level), "the last sourced employment"
    population = _counted_population(dataset, region, employment)
    if population.empty:
        return None
    year, pop = int(population.index[-1]), float(population.iloc[-1])
    lo, hi = employment.ratio
    before = (f"; the last sourced employment, {sourced.iloc[-1]:.0f} 万人 in "
              f"{sourced.index[-1]}, was counted before the {since} census recount"
              if not sourced.empty else "")
    return year, (pop * lo, pop * hi), (f"{employment.population} {pop:.0f} 万人 x the ratio "
                                        f"{range_text((lo, hi))}{before}")


def _growth_draws(seed: int, n_paths: int, employment: Employment,
                  level: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The growth assumption's per-path draws, ``(n_paths, 1)`` each: the annual growth rate
    and the starting level (over ``level``, a range when it is population x a ratio). One
    place, so the break-even growth reads the very levels a growth scenario starts from."""
    rng = np.random.default_rng([seed, 1])
    growth = rng.uniform(*employment.growth, size=(n_paths, 1))
    return growth, rng.uniform(*level, size=(n_paths, 1))


def _employment_paths(dataset: Dataset, region: str, years: np.ndarray, employment: Employment,
                      n_paths: int, seed: int, indicator: Indicator | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None, ComponentFit | None]:
    """Employment (万人) paths for ``years`` under the stated assumption, from the run's
    own seeded streams (the same ``seed`` always gives the same employment paths), with the
    population paths and the population fit they rest on (None for the growth assumption)."""
    if employment.method == "growth":
        start = employment_growth_base(dataset, region, employment, indicator)
        if start is None:
            raise InputError(None, f"no employment or {employment.population} for "
                             f"{region}: the growth assumption needs a level to grow from",
                             field="employment", expected="a sourced employment or population")
        base_year, level, _ = start
        g, base = _growth_draws(seed, n_paths, employment, level)
        return base * (1 + g) ** (years - base_year), None, None
    population = _counted_population(dataset, region, employment)
    fit = None
    if population.empty or population.index[-1] < years[-1]:
        # Population follows its own recent drift; a random walk with drift is the only family
        # that is sensible on five or so points, so it is used alone here.
        try:
            fit = fit_component(population, dataset.registry.indicator(employment.population),
                                horizon_to=int(years[-1]), models=("rw_drift",), n_paths=n_paths,
                                seed=seed + 1, backtest=False)
        except InputError as exc:
            raise InputError(None, f"employment = population x ratio cannot be simulated: "
                             f"{exc.message}", field="employment",
                             expected="5 or more sourced population years since "
                                      f"{employment.population_since}, or a scenario with "
                                      "employment method: growth") from None
    pop = on_years(population, years, n_paths, fit.paths() if fit else None,
                   fit.years if fit else ())
    ratio = np.random.default_rng([seed, 1]).uniform(*employment.ratio, size=(n_paths, 1))
    return pop * ratio, pop, fit


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


def _ratio_members(rule, numerator: dict[str, np.ndarray], denominator: np.ndarray
                   ) -> dict[str, np.ndarray]:
    """``factor * numerator / denominator`` per member, the members' rows taken in order from
    one denominator path set."""
    return _split_like(numerator, rule.factor * np.concatenate(list(numerator.values()))
                       / denominator)


def scenario_member_paths(result: IndicatorForecast, scenario: Scenario,
                          dataset: Dataset) -> dict[str, np.ndarray]:
    """Each member's share of ``result``'s ensemble paths as they would be under ``scenario``.

    The draws are ``result``'s own: a scenario only transforms paths on the modelling scale,
    and a ratio indicator's employment assumption draws its denominator from the run's seeded
    stream. So this equals what ``forecast_indicator`` gives with ``scenario`` and the same
    other parameters, without refitting or re-running a backtest.
    """
    indicator = result.indicator
    if indicator.derived is None:
        return _rebased(_own_members(result, dataset, scenario), result.years, result.basis,
                        result.params["seed"])
    rule = indicator.derived
    p = result.params
    years = np.asarray(result.years)
    comp = result.components[rule.numerator]
    numerator = _numerator_members(comp, scenario, dataset.series(rule.numerator, result.region),
                                   years)
    denominator = _denominator_paths(dataset, result.region, indicator, years,
                                     scenario.employment, comp, scenario, p["n_paths"],
                                     p["seed"])[0]
    return _ratio_members(rule, numerator, denominator)


def _denominator_paths(dataset: Dataset, region: str, indicator: Indicator, years: np.ndarray,
                       explicit: Employment | None, numerator: ComponentFit, scenario: Scenario,
                       n_paths: int, seed: int):
    """A ratio's employment paths, population paths, population fit, the assumption as used
    and notes: ``explicit`` (a scenario's) when given, else the default range -- or, once the
    ratio indicator itself is known on the population's basis, the ratio that figure
    implies (:func:`_published_ratio`). The notes say when a known figure is not used."""
    assumed = dataset.registry.plan.employment(indicator.derived.denominator)
    employment = explicit or assumed
    denominator, population, pop_fit = _employment_paths(dataset, region, years, employment,
                                                         n_paths, seed, indicator)
    figure, notes = _ratio_figure(dataset, region, indicator, assumed)
    if figure is not None and explicit is not None:
        label, year, value = figure
        notes.append(f"scenario '{scenario.name}' states its own employment, in place of the "
                     f"ratio the {label} of {year} ({value:.4g}) implies: its paths need not "
                     "pass through that figure")
    elif figure is not None and population is not None:
        anchored = _published_ratio(dataset, region, indicator, employment, figure, numerator,
                                    scenario, pop_fit, n_paths)
        if isinstance(anchored, str):
            notes.append(anchored)
        else:
            ratio, employment = anchored
            denominator = population * ratio
    return denominator, population, pop_fit, employment, notes


def _ratio_figure(dataset: Dataset, region: str, indicator: Indicator,
                  employment: Employment) -> tuple[tuple[str, int, float] | None, list[str]]:
    """The newest known value of a ratio indicator on the population's basis (from
    ``population_since``) as (what, year, value), or None; and a note on a published value
    too early to use (before the census recount its population is on another basis)."""
    rows = dataset.rows(indicator.id, region)
    since = employment.population_since or 0
    usable = rows[rows["year"] >= since]
    if usable.empty:
        early = rows[(rows["year"] < since) & (rows["origin"] != "derived")]
        return None, [f"the published {indicator.id} of {int(r.year)} ({r.value:.4g}) is not "
                      f"used for the employment ratio: it is before the {since} census "
                      "recount, on another population basis" for r in early.tail(1).itertuples()]
    last = usable.iloc[-1]
    what = (f"{indicator.id} derived from published {indicator.derived.denominator}"
            if last["origin"] == "derived" else f"published {indicator.id}")
    return (what, int(last["year"]), float(last["value"])), []


def _published_ratio(dataset: Dataset, region: str, indicator: Indicator,
                     employment: Employment, figure: tuple[str, int, float],
                     numerator: ComponentFit, scenario: Scenario,
                     pop_fit: ComponentFit | None, n_paths: int):
    """The employment-to-population ratio that ``figure``, a known value of the ratio
    indicator (:func:`_ratio_figure`), implies, per path, with the assumption restated on it;
    a note (str) when it cannot be used.

    ratio = factor x numerator_Y / (value_Y x population_Y), with the numerator (GDP) and the
    population of year Y as published or, where not yet, as simulated in each path (the
    same paths as the run's), held in every simulated year: every path passes through the
    value. A user's official figure thus sets the level the forecast starts from, where the
    assumed 0.58-0.74 range ignored it. A value the panel derived from published employment
    counts too (the ratio is then that employment's), and is described so."""
    rule = indicator.derived
    what, year, value = figure
    at = np.array([year])
    try:
        top = np.concatenate(list(_numerator_members(
            numerator, scenario, dataset.series(rule.numerator, region), at).values()))[:, 0]
        people = on_years(_counted_population(dataset, region, employment), at, n_paths,
                          pop_fit.paths() if pop_fit else None,
                          pop_fit.years if pop_fit else ())[:, 0]
    except InputError:
        return (f"the {what} of {year} ({value:.4g}) is not used: {rule.numerator} or "
                f"{employment.population} of {year} is neither published nor simulated in "
                f"this run, so the assumed employment ratio stands")
    ratio = (rule.factor * top / (value * people)).reshape(-1, 1)
    lo, hi = (float(v) for v in np.quantile(ratio, [0.1, 0.9]))
    return ratio, replace(employment, ratio=(lo, hi), anchor=(what, year, value))


def _own_members(result: IndicatorForecast, dataset: Dataset,
                 scenario: Scenario) -> dict[str, np.ndarray]:
    """The members of an indicator modelled on its own series under ``scenario``, on its
    history's basis (before :func:`_rebased`): its own paths, or under a scenario on a share's
    denominator, those paths with the numerator held (:func:`_numerator_held`)."""
    if scenario.holds_numerator_of(result.indicator):
        return _numerator_held(result, dataset, scenario)
    return result.components[result.indicator.id].member_paths(scenario)


def _scenario_on_over_years(scenario: Scenario, years, first_open: int | None,
                            over: list[int]) -> str:
    """Whether the run's scenario changes the ``over`` years (over, not yet published): a
    trend or volatility change does only when its ``from`` names one of them, a shock when
    its year is one."""
    acting = []
    if scenario.acts_over_time():
        start = scenario.acts_from(np.asarray(years), first_open)
        if start <= over[-1]:
            acting.append(f"this scenario's trend or volatility acts from {start}")
    if scenario.shock_year is not None and scenario.shock_size and scenario.shock_year <= over[-1]:
        acting.append(f"this scenario's shock is in {scenario.shock_year}")
    if acting:
        return "but " + " and ".join(acting) + ", so it changes them too"
    return "and a scenario's trend does not change them unless its 'from' names one of them"


def _numerator_held(result: IndicatorForecast, dataset: Dataset,
                    scenario: Scenario) -> dict[str, np.ndarray]:
    """A share's members (R&D intensity) under a scenario on its denominator (GDP), its
    numerator (R&D spending) held on the baseline's path or moving with the denominator at
    the scenario's ``numerator_elasticity`` e: share x (baseline denominator / scenario
    denominator)^(1 - e), path by path (see :mod:`forecast.scenario`). The denominator is the
    run's own simulation of it, fitted here (and not kept) when the run has none."""
    rule = result.indicator.share_of
    comp = result.components.get(rule.denominator)
    if comp is None:
        p = result.params
        comp = _fit_share_denominator(dataset, result.indicator, result.region,
                                      int(result.years[-1]), tuple(p["models"]), p["n_paths"],
                                      p["seed"], p["backtest"])
    observed = dataset.series(rule.denominator, result.region)
    members = result.components[result.indicator.id].member_paths()
    years = np.asarray(result.years)
    n = sum(len(z) for z in members.values())
    base = on_years(observed, years, n, comp.paths(), comp.years)
    changed = on_years(observed, years, n, comp.paths(scenario), comp.years)
    # the numerator moves by (changed / base)^e: the share by (base / changed)^(1 - e)
    response = (base / changed) ** (1.0 - scenario.numerator_elasticity)
    return _split_like(members, np.concatenate(list(members.values())) * response)


def _split_like(members: dict[str, np.ndarray], stacked: np.ndarray) -> dict[str, np.ndarray]:
    """``stacked`` (the members' rows in order) cut back into one block per member."""
    out, start = {}, 0
    for name, member in members.items():
        out[name] = stacked[start:start + len(member)]
        start += len(member)
    return out


def _fit_share_denominator(dataset: Dataset, indicator: Indicator, region: str, horizon_to: int,
                           models: tuple[str, ...], n_paths: int, seed: int,
                           backtest: bool) -> ComponentFit:
    """The denominator of a share (GDP under R&D intensity), simulated by the same ensemble,
    paths and seed as a run of its own. Raises :class:`InputError` when it cannot be."""
    rule = indicator.share_of
    return fit_component(dataset.linked_series(rule.denominator, region)[0],
                         dataset.registry.indicator(rule.denominator), horizon_to=horizon_to,
                         models=models, n_paths=n_paths, seed=seed, backtest=backtest,
                         first_open=first_open_year(dataset.as_of))


def _numerator_members(comp: ComponentFit, scenario: Scenario, observed: pd.Series,
                       years: np.ndarray) -> dict[str, np.ndarray]:
    """Each member's numerator paths on the ratio's ``years`` (observed years as observed)."""
    return {m: on_years(observed, years, len(z), z, comp.years)
            for m, z in comp.member_paths(scenario).items()}


def _break_even(gdp: np.ndarray, denominator_scale, target: float,
                lo: float, hi: float) -> float | None:
    """The value x of an assumption at which P(gdp / denominator_scale(x) >= target) is 50%,
    by bisection on [lo, hi]; None if 50% is not crossed within the interval."""
    def p(x: float) -> float:
        return float(np.mean(gdp / denominator_scale(x) >= target))

    p_lo, p_hi = p(lo), p(hi)
    if (p_lo - 0.5) * (p_hi - 0.5) > 0:
        return None
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if (p(mid) >= 0.5) == (p_lo >= 0.5):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def forecast_indicator(dataset: Dataset, indicator_id: str, *, region: str | None = None,
                       models: tuple[str, ...] | None = None, n_paths: int = DEFAULT_PATHS,
                       seed: int = DEFAULT_SEED, scenario: Scenario | None = None,
                       target_years: tuple[int, ...] | None = None,
                       backtest: bool = True) -> IndicatorForecast:
    """Forecast ``indicator_id`` and estimate the probability of meeting each of its targets.

    Parameters mirror ``forecast run``; ``target_years`` restricts the targets considered.
    Raises :class:`InputError` for an unknown indicator, model, or target year.
    """
    registry = dataset.registry
    indicator = registry.indicator(indicator_id)
    targets = registry.targets_for(indicator_id)
    if not targets:
        raise InputError(registry.path, f"indicator '{indicator_id}' has no target in the plan",
                         expected="one of " + ", ".join(registry.target_indicators()))
    if target_years:
        unknown = sorted(set(target_years) - {t.year for t in targets})
        if unknown:
            raise InputError(registry.path, f"no target for {indicator_id} in {unknown}",
                             field="target_years",
                             expected="years among " + ", ".join(str(t.year) for t in targets))
        targets = [t for t in targets if t.year in target_years]
    models = model_names(models)
    if n_paths < 100 or n_paths > MAX_PATHS:
        raise InputError(None, f"n_paths {n_paths} is " + ("too few for a probability"
                         if n_paths < 100 else "more than memory allows"), field="n_paths",
                         expected=f"from 100 to {MAX_PATHS:,}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(None, f"seed {seed!r}", field="seed", expected="an integer >= 0")
    scenario = (scenario or Scenario()).for_plan(registry.employment_for(indicator_id))
    if scenario.employment is not None and scenario.employment.population not in registry.indicators:
        raise InputError(scenario.source, f"employment population series "
                         f"'{scenario.employment.population}' is not in the catalogue",
                         field="employment.population",
                         expected="an indicator id such as permanent_population_yearend")
    scenario.check_known(registry)
    scenario.check_acts_on(indicator)
    region = region or targets[0].region
    if region not in set(dataset.vintages["region"]):
        raise InputError(None, f"no sourced data for region '{region}'"
                         f"{did_you_mean(region, set(dataset.vintages['region']))}", field="region",
                         expected="a region of data/raw, e.g. Hangzhou, Zhejiang, China")
    rows = dataset.rows(indicator_id, region)
    history = rows[["year", "value", "vintage", "preliminary", "reliability", "source_title",
                    "published", "derivation"]].copy()
    result = IndicatorForecast(
        indicator, region, dataset.as_of,
        {"models": list(models), "n_paths": n_paths, "seed": seed, "region": region,
         "target_years": [t.year for t in targets], "data_hash": dataset.data_hash,
         "backtest": backtest},
        scenario, history, targets,
        {t.id: assess(dataset, t, region, scenario.employment) for t in targets})

    if dataset.as_of > date.today():  # allowed up to next year's end, e.g. a report prepared ahead
        result.notes.append(f"as of {dataset.as_of}, after today ({date.today()}): the data are "
                            "those in data/raw today; anything published in between is missing")
    if scenario.employment is not None and indicator.derived is None:
        result.notes.append(f"scenario '{scenario.name}': its employment assumption applies only "
                            f"to a ratio indicator (labour productivity), not to {indicator_id}")
    series = dataset.series(indicator_id, region)
    for target in targets:
        if result.coverage[target.id].status == "observed":
            result.observed[target.id] = _observed_target(rows, target)
        if not series.empty and indicator.derived is None:
            result.pace[target.id] = _with_source_grades(pace(series, target), rows)
    open_targets = [t for t in targets if t.id not in result.observed]
    statuses = {result.coverage[t.id].status for t in open_targets}
    if not open_targets:
        result.status = "observed"
        return result
    if "probability" in statuses and len(statuses) > 1:
        # e.g. a target year in a gap before the last observation: said, not simulated
        for t in open_targets:
            if result.coverage[t.id].status != "probability":
                result.notes.append(f"{t.id}: {result.coverage[t.id].status}: "
                                    f"{result.coverage[t.id].reason}")
        open_targets = [t for t in open_targets if result.coverage[t.id].status == "probability"]
    if "probability" not in statuses:
        result.status = statuses.pop() if len(statuses) == 1 else "pace only"
        result.notes.append(result.coverage[open_targets[0].id].reason)
        result.notes += _break_notes(dataset, result)  # the pace may span one
        return result

    horizon_to = max(t.year for t in open_targets)
    if scenario.numerator_elasticity and not scenario.holds_numerator_of(indicator):
        result.notes.append(f"scenario '{scenario.name}': its numerator_elasticity is how a "
                            f"share's numerator responds to the {scenario.on} it acts on; here "
                            f"it acts on {scenario.on} as {indicator_id}'s own modelled series, "
                            "with no share in between, so it is not used")
    if indicator.derived is None:
        comp = fit_component(dataset.linked_series(indicator_id, region)[0], indicator,
                             horizon_to=horizon_to, models=models, n_paths=n_paths, seed=seed,
                             backtest=backtest, first_open=first_open_year(dataset.as_of))
        result.components[indicator_id] = comp
        result.years = comp.years
        if scenario.holds_numerator_of(indicator):
            # the GDP fit is kept: the spending requirement reads the same paths
            result.components[scenario.on] = _fit_share_denominator(
                dataset, indicator, region, horizon_to, models, n_paths, seed, backtest)
            e, on = scenario.numerator_elasticity, scenario.on
            ratio = (f"baseline {on} / scenario {on}" if e == 0 else
                     f"(baseline {on} / scenario {on})^{1 - e:g}")
            result.notes.append(
                f"scenario '{scenario.name}' acts on {on} with "
                f"{scenario.numerator_response(indicator.share_of.numerator)}: {indicator_id} = "
                f"baseline {indicator_id} x {ratio}, path by path (the arithmetic of a share "
                f"under a stated response of {indicator.share_of.numerator}, not a forecast of "
                "it; numerator_elasticity in the scenario file sets the response)")
        result.own_member_paths = _own_members(result, dataset, scenario)
        result.basis = share_rebasing(dataset, indicator, region, horizon_to)
        result.member_paths = _rebased(result.own_member_paths, result.years, result.basis, seed)
        if result.basis:
            # the history's pace against what each target is on the history's basis (4.0% of
            # the revised GDP is about 4.16% of the earlier one), so pace and P read one target
            factor = result.basis["link_factor"]
            for target in open_targets:
                restated = replace(target, value=target.value * factor)
                result.pace[target.id] = replace(
                    _with_source_grades(pace(series, restated), rows),
                    target_value=restated.value)
    else:
        _forecast_derived(dataset, result, region, horizon_to, models, n_paths, seed, scenario,
                          backtest, open_targets)
    result.paths = np.concatenate(list(result.member_paths.values()))
    modelled = result.modelled
    over = [int(y) for y in modelled.years if y < modelled.first_open]
    if over:
        span = f"{over[0]}" if len(over) == 1 else f"{over[0]}-{over[-1]}"
        result.notes.append(
            f"{modelled.indicator}: {span} {'is' if len(over) == 1 else 'are'} over but not "
            f"in the data as of {dataset.as_of} (not yet published, or not yet added to "
            f"data/raw); the values for {span} are the models' estimates "
            f"from data up to {modelled.last_observed[0]}, "
            + _scenario_on_over_years(scenario, modelled.years, modelled.first_open, over))
    # every series the probability rests on (a ratio's components too): figures of years
    # that are over and simulated, which past release lags say are probably out
    first_open = first_open_year(dataset.as_of)
    resting = list(result.components) if indicator.derived else [indicator_id] + (
        [scenario.on] if scenario.holds_numerator_of(indicator) else [])  # not diagnostics
    for name in resting:
        comp = result.components[name]
        out = _probably_out(dataset, name, region,
                            [int(y) for y in comp.years if y < first_open])
        if out:
            result.probably_out.append(out)
            result.notes.append(
                f"{name}: a first figure for {', '.join(map(str, out['years']))} is probably "
                f"out already: {name} has been published as soon as {out['lag_days']} days "
                f"after its year ({out['example']}); adding it (`forecast data add`) would "
                "replace the models' estimate with a published figure")

    if indicator.share_of is not None:
        _required_numerator_growth(dataset, result, region, open_targets, models, n_paths, seed,
                                   backtest)
    for target in open_targets:
        if target.year not in set(int(y) for y in result.years):
            raise InputError(registry.path, f"target {target.id}: year {target.year} is neither "
                             f"observed nor simulated ({result.years[0]}-{result.years[-1]})",
                             field="year", expected="a year after the last observation")
        result.probabilities[target.id] = target_probability(
            result.paths, result.years, target,
            strata=[len(p) for p in result.member_paths.values()])
        for name, paths in result.member_paths.items():
            result.member_probabilities.setdefault(name, {})[target.id] = \
                target_probability(paths, result.years, target, strata=[len(paths)])
    if len(open_targets) > 1:
        result.joint = {"targets": [t.id for t in open_targets],
                        "p_all_met": joint_probability(result.paths, result.years, open_targets),
                        "p_product_of_marginals": float(np.prod(
                            [result.probabilities[t.id].p_in_year for t in open_targets]))}
    result.notes += _break_notes(dataset, result)
    if result.basis:
        b = result.basis
        history_basis = np.concatenate(list(result.own_member_paths.values()))
        b["p_history_basis"] = {t.id: target_probability(history_basis, result.years, t).p_in_year
                                for t in open_targets}
        b["text"] = (
            f"{indicator_id} from {b['break_year']} on is read against {b['denominator']} on its "
            f"census-revised basis: every {indicator_id} from {b['break_year']} on will be "
            f"published over it (there is no other {b['denominator']} for those years), while "
            f"the history, published to {b['last_published']}, is over the earlier one. The "
            f"models' paths from {b['break_year']} are divided by 1 + r, r drawn per path from "
            f"{b['revision'][0]:+.1%} to {b['revision'][1]:+.1%} (the estimated revision, "
            f"targets.yaml). On the history's own basis P would be "
            + ", ".join(f"{format_probability(v)} for {tid}"
                        for tid, v in b["p_history_basis"].items())
            + f". The pace figures compare the history with each target restated on the "
            f"history's basis (times {b['link_factor']:.3f}, the revision's midpoint)")
        result.notes.append(b["text"])
    result.notes += _plan_pace_note(result)
    result.status = "probability"
    return result


def _probably_out(dataset: Dataset, series: str, region: str, over: list[int]) -> dict | None:
    """The years of ``over`` (over, not in the data) that have been over for longer than
    ``series`` has ever taken to be published, by the earliest release in data/raw whose date
    is stated (compiled datasets excluded: they are dated by their compilation): their
    figures are probably out. None when there are none."""
    v = dataset.vintages
    rows = v[(v["indicator"] == series) & (v["region"] == region) & ~v["published_assumed"]
             & ~v["reliability"].fillna("").str.startswith("compiled")
             & (v["available"] <= dataset.as_of)]  # what was known on the as-of date
    if rows.empty:
        return None
    lags = [(d - date(int(y), 12, 31)).days for y, d in zip(rows["year"], rows["available"])]
    best = int(np.argmin(lags))
    years = [y for y in over if (dataset.as_of - date(y, 12, 31)).days > lags[best]]
    return {"series": series, "years": years, "lag_days": lags[best],
            "example": f"{int(rows['year'].iloc[best])}: {rows['available'].iloc[best]}"} \
        if years else None


def _plan_pace_note(result: IndicatorForecast) -> list[str]:
    """The growth the plan's own targets imply between their years, beside the ensemble's
    median over the same years: labour productivity's 22 -> 28 is +12.8% a year, which says
    more about the plan's measure (or ambition) than any model."""
    targets = sorted((t for t in result.targets if t.comparison == ">=" and t.value > 0),
                     key=lambda t: t.year)
    if len(targets) < 2:
        return []
    first, last = targets[0], targets[-1]
    span = last.year - first.year
    if span < 1 or not {first.id, last.id} <= set(result.probabilities):
        return []
    plan = annual_growth(first.value, last.value, span)
    median = [result.probabilities[t.id].median for t in (first, last)]
    model = annual_growth(median[0], median[1], span)
    ahead = ""
    if median[0] >= last.value:  # "needs -5%/yr" would read as a requirement
        ahead = (f"; its {first.year} median ({median[0]:.3g}) is already at or above the "
                 f"{last.year} target as well")
    elif median[0] > first.value:
        ahead = (f"; its {first.year} median ({median[0]:.3g}) is already above the "
                 f"{first.year} target, a minimum, so {last.year}'s is the harder one: from "
                 f"that median it needs {annual_growth(median[0], last.value, span):+.1%}/yr")
    return [f"the plan's own targets rise {plan:+.1%}/yr from {first.year} to {last.year} "
            f"({first.value:g} -> {last.value:g} {result.indicator.unit}); the ensemble's median "
            f"grows {model:+.1%}/yr over the same years{ahead}"]


def _break_notes(dataset: Dataset, result: IndicatorForecast) -> list[str]:
    """What each series break of the catalogue (``breaks`` in targets.yaml) means for this run:
    a simulated series whose history spans a break (the models read the step as growth). A
    share published only before its denominator's break is restated instead
    (:func:`share_rebasing`)."""
    registry, region = dataset.registry, result.region
    notes = []
    # the simulated series, or without a simulation the indicator's own (its pace)
    names = list(result.components) or ([result.indicator.id]
                                        if result.indicator.derived is None else [])
    for name in names:
        observed = dataset.series(name, region)
        linked = dataset.linked_series(name, region)[1]
        for brk in registry.breaks(name, region):
            if not brk.spanned_by(observed):
                continue
            step = ""
            if brk.year - 1 in observed.index and brk.year in observed.index:
                step = (f" (published {brk.year - 1}->{brk.year}: "
                        f"{observed[brk.year] / observed[brk.year - 1] - 1:+.1%})")
            link = "" if brk not in linked else (
                f" For the models the years before {brk.year} are raised by "
                f"{brk.link_factor - 1:.1%} (the midpoint of the estimated revision, "
                f"{brk.revision[0]:.1%}-{brk.revision[1]:.1%}), so the revision is not read as "
                f"growth; charts and quoted figures stay as published.")
            notes.append(f"{name}: series break in {brk.year}{step}: {brk.note}{link}")
    return notes


def share_rebasing(dataset: Dataset, indicator: Indicator, region: str,
                   last_year: int) -> dict | None:
    """How a share modelled on its own series (R&D intensity = R&D spending / GDP) must be
    restated to be read against its denominator's current basis, or None.

    It must when the denominator has a break with an estimated revision (GDP's 2024 census
    revision, ``breaks`` in targets.yaml), the break is known on the as-of date (the
    denominator is published for the break year), the share is published only before it,
    and the simulated years reach it. Every figure from the break year on will then be
    published over the revised denominator -- there is no other GDP for those years -- while
    the models extrapolate a history over the earlier one: the same spending gives a share
    lower by the revision. See :func:`_rebased`."""
    rule = indicator.share_of
    if rule is None or indicator.derived is not None:
        return None
    share = dataset.series(indicator.id, region)
    denominator = dataset.series(rule.denominator, region)
    for brk in dataset.registry.breaks(rule.denominator, region):
        if (brk.revision is not None and not share.empty and not denominator.empty
                and denominator.index[-1] >= brk.year and share.index[-1] < brk.year <= last_year):
            return {"denominator": rule.denominator, "break_year": brk.year,
                    "revision": list(brk.revision), "link_factor": brk.link_factor,
                    "last_published": int(share.index[-1])}
    return None


def _rebased(members: dict[str, np.ndarray], years, rebasing: dict | None,
             seed: int) -> dict[str, np.ndarray]:
    """``members`` from the break year on divided by 1 + r, r drawn per path uniformly from
    the revision's range (its own seeded stream, so every run with the same seed agrees);
    ``members`` themselves when no restatement applies (``rebasing`` None)."""
    if not rebasing:
        return members
    stacked = np.concatenate(list(members.values()))
    low, high = rebasing["revision"]
    factor = 1.0 / (1.0 + np.random.default_rng([seed, 3]).uniform(low, high, len(stacked)))
    after = np.asarray(years) >= rebasing["break_year"]
    return _split_like(members, np.where(after, stacked * factor[:, None], stacked))


def _required_numerator_growth(dataset: Dataset, result: IndicatorForecast, region: str,
                               targets: list[Target], models: tuple[str, ...], n_paths: int,
                               seed: int, backtest: bool) -> None:
    """For a share modelled on its own series (R&D intensity = 100 x R&D spending / GDP): how
    fast its numerator must grow from its last known level to meet each target, given the
    simulated denominator -- "how much more R&D spending does 4.2% of GDP in 2027 take?".

    The last known numerator is its newest published value or, where the share and the
    denominator are published for a later year, the share times the denominator (said so).
    The denominator is simulated by the same ensemble, paths and seed as a run of its own.
    Fills ``result.required`` (per target: median and 10-90% of the needed growth a year, the
    level, and the denominator's median growth), adds a note, and says why when it cannot."""
    rule = result.indicator.share_of
    unit = dataset.registry.indicator(rule.numerator).unit
    denominator_unit = dataset.registry.indicator(rule.denominator).unit
    numerator = dataset.series(rule.numerator, region)
    denominator = dataset.series(rule.denominator, region)
    linked_denominator, linked = dataset.linked_series(rule.denominator, region)
    share = dataset.series(result.indicator.id, region)
    implied_years = sorted(set(share.index) & set(denominator.index))
    candidates = []
    if not numerator.empty:
        candidates.append((int(numerator.index[-1]), float(numerator.iloc[-1]),
                           f"published {rule.numerator}"))
    if implied_years:
        y = int(implied_years[-1])
        candidates.append((y, float(share[y]) * float(denominator[y]) / rule.factor,
                           f"{result.indicator.id} {share[y]:g} {result.indicator.unit} x "
                           f"{rule.denominator} {denominator[y]:g} {denominator_unit} in {y}, "
                           f"both published"))
    horizon_to = max(t.year for t in targets)
    if not candidates or denominator.empty or denominator.index[-1] >= horizon_to + 1:
        return
    base_year, base, basis = max(candidates, key=lambda c: c[0])
    comp = result.components.get(rule.denominator)
    if comp is None:
        try:
            comp = _fit_share_denominator(dataset, result.indicator, region, horizon_to, models,
                                          n_paths, seed, backtest)
        except InputError as exc:  # a diagnostic beside the probability: never fails the run
            result.notes.append(f"how fast {rule.numerator} must grow is not given: "
                                f"{exc.message}")
            return
        result.components[rule.denominator] = comp
    years = np.arange(min(t.year for t in targets), horizon_to + 1)
    # over the run's denominator: the scenario's where the scenario acts on it
    acting = result.scenario if comp is result.acted_on() else None
    denom = on_years(denominator, years, n_paths, comp.paths(acting), comp.years)
    past = ""
    if len(numerator) >= 2:
        # the pace's window and base rule: the latest year at least PACE_WINDOW before the
        # last, else the first (a gap does not drop the comparison)
        y1 = int(numerator.index[-1])
        earlier = numerator.index[numerator.index <= y1 - PACE_WINDOW]
        y0 = int(earlier[-1]) if len(earlier) else int(numerator.index[0])
        if y1 > y0:
            past = (f"; published {rule.numerator} grew "
                    f"{annual_growth(numerator[y0], numerator[y1], y1 - y0):+.1%}"
                    f"/yr in {y0}-{y1}")
            if y0 in denominator.index and y1 in denominator.index:  # the gap is what a share needs
                past += (f" ({rule.denominator} "
                         f"{annual_growth(denominator[y0], denominator[y1], y1 - y0):+.1%}/yr)")
    for target in targets:
        if target.year <= base_year:
            continue
        column = denom[:, year_index(years, target.year)]
        needed = target.value * column / rule.factor
        rate = annual_growth(base, needed, target.year - base_year)
        q10, q50, q90 = (float(v) for v in np.quantile(rate, [0.1, 0.5, 0.9]))
        # the denominator's growth over the same years as the numerator's, so that the two
        # rates compare (a share rises when its numerator outgrows its denominator)
        growth = None
        if base_year in linked_denominator.index:  # both ends on one basis
            growth = float(annual_growth(float(linked_denominator[base_year]),
                                         np.median(column), target.year - base_year))
        result.required[target.id] = {
            "numerator": rule.numerator, "unit": unit, "base_year": base_year, "base": base,
            "basis": basis,
            "median": q50, "q10": q10, "q90": q90, "level_median": float(np.median(needed)),
            "denominator_growth_median": growth, "past": past.removeprefix("; ")}
        # the breaks known on the as-of date (the denominator published from them on)
        breaks = [b for b in dataset.registry.breaks(rule.denominator, region)
                  if base_year < b.year <= target.year and b.spanned_by(denominator)]
        break_note = "" if not breaks else (
            f"; {rule.denominator} from {breaks[-1].year} on is on its census-revised basis, so "
            f"this is what the target read against it takes, and {rule.denominator}'s growth "
            f"from {base_year} "
            + ("is on that basis throughout (its earlier years linked)"
               if breaks[-1] in linked else "includes the revision"))
        result.notes.append(
            f"{target.id}: {rule.numerator} must grow {q50:+.1%}/yr (10-90%: {q10:+.1%} to "
            f"{q90:+.1%}, over the simulated {rule.denominator} paths) from {base:.0f} {unit} "
            f"in {base_year} ({basis}) to {np.median(needed):.0f} {unit} in {target.year}"
            + ("" if growth is None else f"; over the same years the {rule.denominator} "
               f"ensemble grows {growth:+.1%}/yr at the median") + past + break_note)


def employment_caveat(dataset: Dataset, region: str, employment: Employment,
                      indicator: Indicator | None = None) -> str:
    """Where the growth assumption starts ("" for another assumption or nothing to say)."""
    if employment.method != "growth":
        return ""
    start = employment_growth_base(dataset, region, employment, indicator)
    if start is None:
        return ""
    year, (lo, hi), what = start
    return (f"employment grows from {range_text((lo, hi), '{:.0f}')} 万人 in {year} "
            f"({what})")


def _implied_last(dataset: Dataset, region: str, indicator: Indicator, numerator: pd.Series,
                  employment: Employment, targets: list[Target]) -> dict | None:
    """The ratio in the last year whose numerator and population are both published, over the
    assumed employment-to-population range: where the indicator stands *now* on the run's own
    assumption (labour productivity has no published series), and how that compares with
    the targets. None for the employment-growth assumption or without such a year."""
    if employment.method != "population_ratio":
        return None
    population = _counted_population(dataset, region, employment)
    common = sorted(set(numerator.index) & set(population.index))
    if not common:
        return None
    rule = indicator.derived
    year = int(common[-1])
    if employment.anchor and year <= employment.anchor[1]:
        return None  # the indicator itself is published for that year: nothing to imply
    level = rule.factor * float(numerator[year]) / float(population[year])
    lo, hi = level / employment.ratio[1], level / employment.ratio[0]
    mid = level / (0.5 * (employment.ratio[0] + employment.ratio[1]))
    below = [t for t in targets if t.year > year and t.value <= lo]
    if employment.anchor:
        what, anchor_year, _ = employment.anchor
        text = (f"on the ratio the {what} of {anchor_year} implies, {indicator.id} in {year} "
                f"(the last year with {rule.numerator} and {employment.population} published) "
                f"was {range_text((lo, hi), '{:.1f}')} {indicator.unit}")
    else:
        text = (f"on this assumption {indicator.id} in {year} (the last year with "
                f"{rule.numerator} and {employment.population} published) was {lo:.1f}-{hi:.1f} "
                f"{indicator.unit} (ratio {employment.ratio[1]:.2f}-{employment.ratio[0]:.2f}; "
                f"{mid:.1f} at the middle)")
    if below and not employment.anchor:
        text += (f"; already at or above the {', '.join(f'{t.year} target {t.value:g}' for t in below)}"
                 f" on every ratio in the range: if the plan's own {year} figure is lower, it "
                 "counts employment or prices differently")
    return {"year": year, "low": lo, "high": hi, "middle": mid, "ratio": list(employment.ratio),
            "at_or_above_targets": [t.id for t in below], "text": text}


def _forecast_derived(dataset: Dataset, result: IndicatorForecast, region: str, horizon_to: int,
                      models: tuple[str, ...], n_paths: int, seed: int, scenario: Scenario,
                      backtest: bool, open_targets: list[Target]) -> None:
    """Simulate a ratio indicator from its simulated numerator and its denominator assumption."""
    rule = result.indicator.derived
    registry = dataset.registry
    assumed = registry.plan.employment(rule.denominator)
    if assumed is None:
        raise InputError(registry.path, f"no assumption for '{rule.denominator}', the "
                         f"denominator of {result.indicator.id}", field="assumptions",
                         expected=f"assumptions: {rule.denominator}: in the plan's plan.yaml")
    observed = dataset.series(rule.numerator, region)
    numerator = fit_component(dataset.linked_series(rule.numerator, region)[0],
                              registry.indicator(rule.numerator), horizon_to=horizon_to,
                              models=models, n_paths=n_paths, seed=seed, backtest=backtest,
                              first_open=first_open_year(dataset.as_of))
    result.components[rule.numerator] = numerator
    # The ratio's years run from the first open target year (which may already have an observed
    # numerator, e.g. GDP published, employment not) or the first simulated year.
    first = min(min(t.year for t in open_targets), int(numerator.years[0]))
    years = np.arange(first, horizon_to + 1)
    gdp = _numerator_members(numerator, scenario, observed, years)
    denominator, population, pop_fit, employment, anchor_notes = _denominator_paths(
        dataset, region, result.indicator, years, scenario.employment, numerator, scenario,
        n_paths, seed)
    if pop_fit is not None:
        result.components[employment.population] = pop_fit
    result.years = years
    result.employment = employment
    result.member_paths = _ratio_members(rule, gdp, denominator)
    result.notes += anchor_notes
    default = assumed.ratio
    if employment.anchor and (employment.ratio[1] > default[1] or employment.ratio[0] < default[0]):
        what, year, _ = employment.anchor
        result.notes.append(
            f"the {what} of {year} implies an employment-to-population ratio of "
            f"{range_text(employment.ratio)}, outside the {default[0]:.2f}-{default[1]:.2f} the "
            f"suite assumes without it" + (
                f": more employed persons than residents, so it counts employment or "
                f"{rule.numerator} on another basis than the suite's"
                if employment.ratio[1] > 1 else ""))
    caveat = employment_caveat(dataset, region, employment, result.indicator)
    if caveat:
        result.notes.append(caveat)
    result.assumption = employment.describe()
    result.notes.append(f"{result.indicator.id} = {rule.describe()}; {result.assumption}. "
                        "GDP is in current prices: the probability assumes the plan's target "
                        "is too (the plan does not say).")
    result.implied_last = _implied_last(dataset, region, result.indicator, observed,
                                        employment, open_targets)
    if result.implied_last:
        result.notes.append(result.implied_last["text"])
    # Break-even: the assumption value at which P(hit) falls to 50%, per target. Employment
    # growth is counted from the employment a known figure implies, else from the newest on
    # the census-recounted basis (employment_growth_base).
    result.break_even = {}
    employment_base = None
    if employment.anchor:
        what, year_a, value_a = employment.anchor
        gdp_a = np.concatenate(list(_numerator_members(
            numerator, scenario, observed, np.array([year_a])).values()))[:, 0]
        level = float(np.median(rule.factor * gdp_a / value_a))
        employment_base = (year_a, level, f"{level:.0f}", f" (implied by the {what})")
    elif (start := employment_growth_base(dataset, region, employment,
                                          result.indicator)) is not None:
        year_s, (lo_s, hi_s), what_s = start
        # the levels a growth scenario starts from, path by path, so that one at the
        # break-even rate gives 50% (the range's middle gave 52.6%)
        n_all = sum(len(z) for z in gdp.values())
        level = _growth_draws(seed, n_all, employment, (lo_s, hi_s))[1][:, 0]
        employment_base = (year_s, level, range_text((lo_s, hi_s), "{:.0f}"), f" ({what_s})")
    for target in open_targets:
        idx = year_index(years, target.year)
        gdp_t = rule.factor * np.concatenate(list(gdp.values()))[:, idx]
        entry = {"target_id": target.id}
        if population is not None:
            pop_t = population[:, idx]
            entry["employment_to_population_ratio"] = _break_even(
                gdp_t, lambda r: pop_t * r, target.value, 0.2, 1.0)
        if population is not None and not employment.anchor:
            # P held at each end and the middle of the assumed range: how much of the
            # headline is the assumption (a ratio a published figure implies is none: one
            # held across paths would cut each path from the figure it passes through)
            lo, hi = employment.ratio
            entry["p_at_ratio"] = {f"{r:.2f}": float(np.mean(gdp_t / (pop_t * r) >= target.value))
                                   for r in (lo, (lo + hi) / 2, hi)}
            # the GDP growth the target takes at each of those ratios, from the newest GDP,
            # beside the models' own (R&D spending's requirement answers the same question)
            if observed.index[-1] < target.year:
                y0, g0 = int(observed.index[-1]), float(observed.iloc[-1])
                span = target.year - y0
                entry["gdp_growth_needed"] = {
                    "from": f"{g0:.0f} {registry.indicator(rule.numerator).unit} in {y0}",
                    "by_ratio": {f"{r:.2f}": float(np.median(
                        annual_growth(g0, target.value * pop_t * r / rule.factor, span)))
                        for r in (lo, (lo + hi) / 2, hi)},
                    "models": float(annual_growth(g0, np.median(gdp_t) / rule.factor, span))}
        if employment_base is not None:
            base_year, base, shown, said = employment_base
            entry["employment_growth_per_year"] = _break_even(
                gdp_t, lambda g: base * (1 + g) ** (target.year - base_year), target.value,
                -0.2, 0.2)
            if entry["employment_growth_per_year"] is not None:  # nothing to count from else
                entry["employment_growth_base"] = f"{shown} 万人 in {base_year}{said}"
        entry["employment_level_wan"] = float(np.median(gdp_t) / target.value)
        result.break_even[target.id] = entry
