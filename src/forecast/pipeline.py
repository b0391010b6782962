"""One indicator, end to end: history as of a date -> models -> ensemble -> probabilities.

:func:`forecast_indicator` is what ``forecast run``, the notebooks and the report call. It
reads as validate -> sort the targets -> simulate -> score -> diagnose, and returns an
:class:`IndicatorForecast` holding everything a reader needs to judge a probability: the
observations it rests on, each model's view and the ensemble's, the weights and what they
rest on, the models that dropped out and why, the series' own backtest calibration, the
pace, the typed diagnostics (:mod:`forecast.diagnostics`), and the scenario and parameters
that produced it.

Targets whose year is already observed as of ``as_of`` are reported as observations (met or
not, preliminary where the source says so), not forecast. How an indicator is simulated is
its kind's business (:mod:`forecast.kinds`): a series of its own, a share of two others, or a
ratio whose denominator is modelled or assumed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from .coverage import Coverage, assess
from .data import Dataset, json_ready
from .diagnostics import (BasisRestatement, BreakEven, ImpliedLevel, ProbablyPublished,
                          RequiredGrowth)
from .errors import InputError
from .kinds import Kind, Run, graded_pace, kind_of
from .models import POOLED_MODELS, model_names
from .probability import (DEFAULT_PATHS, DEFAULT_SEED, Pace, TargetProbability, annual_growth,
                          fan_quantiles, joint_probability, target_probability)
from .scenario import Employment, Scenario
from .simulation import ComponentFit
from .targets import Indicator, Target, did_you_mean

#: paths per run at most: 10^6 paths x a few years x members already take hundreds of MB
MAX_PATHS = 1_000_000
#: years ahead of the as-of date a target of one's own may lie: trajectory models of 10-25
#: annual points say nothing useful further out
MAX_HORIZON = 30


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
    break_even: dict[str, BreakEven] | None = None  # a ratio's, per target, over its assumption
    implied_last: ImpliedLevel | None = None    # a ratio's level in its last published year
    required: dict[str, RequiredGrowth] = field(default_factory=dict)  # a share's numerator
    basis: BasisRestatement | None = None       # a share read on its denominator's new basis
    own_member_paths: dict[str, np.ndarray] = field(default_factory=dict)  # before restating
    probably_out: list[ProbablyPublished] = field(default_factory=list)  # over, probably out
    kind: Kind | None = None                    # how the indicator is simulated
    #: per target, P from the same paths without the pooled member's (how much pooling moves
    #: it); empty without a pooled member
    p_without_pooling: dict[str, float] = field(default_factory=dict)
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
            "joint": self.joint, "assumption": self.assumption,
            "break_even": None if self.break_even is None else {
                k: v.as_dict() for k, v in self.break_even.items()},
            "fan": None if fan is None else {str(y): {str(q): fan.loc[y, q] for q in fan.columns}
                                             for y in fan.index},
            "components": {name: {
                "indicator": c.indicator, "n_points": c.n_points,
                "weights": c.weighting.weights, "weighting_basis": c.weighting.basis,
                "member_backtests": c.weighting.scores, "backtest_failures": c.weighting.failures,
                "dropped_models": c.dropped, "calibration": c.calibration,
                "last_observed": c.last_observed, "median_growth_per_year": self.median_growth(name),
                "pooling": c.pooling,
            } for name, c in self.components.items()},
            "implied_last": None if self.implied_last is None else self.implied_last.as_dict(),
            "required_numerator_growth": {k: v.as_dict() for k, v in self.required.items()},
            "basis": None if self.basis is None else self.basis.as_dict(),
            "p_without_pooling": self.p_without_pooling,
            "probably_out": [p.as_dict() for p in self.probably_out],
            "employment": None if self.employment is None else asdict(self.employment),
        }
        return json_ready(out)


def _observed_target(rows: pd.DataFrame, target: Target) -> dict:
    row = rows[rows["year"] == target.year].iloc[0]
    return {"target_id": target.id, "year": target.year, "target": target.value,
            "value": float(row["value"]), "met": bool(target.is_met(float(row["value"]))),
            "preliminary": bool(row["preliminary"]), "vintage": row["vintage"],
            "source": row["source_title"], "published": row["published"]}


def scenario_member_paths(result: IndicatorForecast, scenario: Scenario,
                          dataset: Dataset) -> dict[str, np.ndarray]:
    """Each member's share of ``result``'s ensemble paths as they would be under ``scenario``.

    The draws are ``result``'s own: a scenario only transforms paths on the modelling scale,
    and a ratio indicator's employment assumption draws its denominator from the run's seeded
    stream. So this equals what ``forecast_indicator`` gives with ``scenario`` and the same
    other parameters, without refitting or re-running a backtest (:meth:`Kind.scenario_members
    <forecast.kinds.Kind.scenario_members>`).
    """
    return result.kind.scenario_members(result, scenario, dataset)


def forecast_indicator(dataset: Dataset, indicator_id: str, *, region: str | None = None,
                       models: tuple[str, ...] | None = None, n_paths: int = DEFAULT_PATHS,
                       seed: int = DEFAULT_SEED, scenario: Scenario | None = None,
                       target_years: tuple[int, ...] | None = None,
                       targets: list[Target] | None = None,
                       backtest: bool = True) -> IndicatorForecast:
    """Forecast ``indicator_id`` and estimate the probability of meeting each of its targets.

    Parameters mirror ``forecast run``: ``targets`` (a user's own, see
    :func:`forecast.targets.parse_target_spec`) replace the plan's targets of the indicator,
    and ``target_years`` restricts the targets considered. Raises :class:`InputError` for an
    unknown indicator, model, or target year.
    """
    registry = dataset.registry
    indicator = registry.indicator(indicator_id)
    own = targets is not None
    targets = _targets_of(registry, indicator, targets, target_years)
    too_far = [t for t in targets if own and t.year > dataset.as_of.year + MAX_HORIZON]
    if too_far:
        raise InputError(None, f"target {too_far[0].id}: {too_far[0].year} is more than "
                         f"{MAX_HORIZON} years after the as-of date", field="target",
                         expected=f"a year up to {dataset.as_of.year + MAX_HORIZON}")
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
                         expected=f"a region of data/raw, e.g. {dataset.region}")
    if region != targets[0].region:  # the same levels asked of another region
        targets = [replace(t, region=region) for t in targets]
    rows = dataset.rows(indicator_id, region)
    history = rows[["year", "value", "vintage", "preliminary", "reliability", "source_title",
                    "published", "derivation"]].copy()
    result = IndicatorForecast(
        indicator, region, dataset.as_of,
        {"models": list(models), "n_paths": n_paths, "seed": seed, "region": region,
         "target_years": [t.year for t in targets], "data_hash": dataset.data_hash,
         "backtest": backtest},
        scenario, history, targets,
        {t.id: assess(dataset, t, region, scenario.employment) for t in targets},
        kind=kind_of(indicator, registry))

    open_targets = _sort_targets(dataset, result)
    if not open_targets:
        return result
    run = Run(dataset, region, models, n_paths, seed, scenario, backtest,
              max(t.year for t in open_targets))
    # simulate
    result.kind.simulate(run, result, open_targets)
    result.paths = np.concatenate(list(result.member_paths.values()))
    result.notes += _over_years_note(dataset, result)
    for name in result.kind.resting_series(result, scenario):
        out = _probably_out(dataset, name, region, [int(y) for y in result.components[name].years
                                                    if y < run.first_open])
        if out:
            result.probably_out.append(out)
            result.notes.append(out.text())
    result.kind.diagnose(run, result, open_targets)
    # score
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
    result.p_without_pooling = _without_pooling(result, open_targets)
    if len(open_targets) > 1:
        result.joint = {"targets": [t.id for t in open_targets],
                        "p_all_met": joint_probability(result.paths, result.years, open_targets),
                        "p_product_of_marginals": float(np.prod(
                            [result.probabilities[t.id].p_in_year for t in open_targets]))}
    # diagnose what needs the probabilities
    result.notes += _break_notes(dataset, result)
    result.kind.restate(run, result, open_targets)
    result.notes += _plan_pace_note(result, own=own)
    result.status = "probability"
    return result


def _without_pooling(result: IndicatorForecast, targets: list[Target]) -> dict[str, float]:
    """Per target, P from the ensemble's paths without the pooled member's: the mixture is the
    members' paths stacked, so this is the other members' P weighted by their paths -- what
    the run would give without pooling, up to Monte Carlo noise. Empty without the member."""
    pooled = [m for m in POOLED_MODELS if m in result.member_paths]
    if not pooled:
        return {}
    others = {m: p for m, p in result.member_paths.items() if m not in pooled}
    stacked = np.concatenate(list(others.values()))
    return {t.id: target_probability(stacked, result.years, t).p_in_year for t in targets}


def _targets_of(registry, indicator: Indicator, targets: list[Target] | None,
                target_years) -> list[Target]:
    """The targets a run scores: the user's own (``targets``) or the plan's for
    ``indicator``, restricted to ``target_years``; an error names what is missing."""
    if targets is not None:
        other = [t.id for t in targets if t.indicator != indicator.id]
        if not targets or other:
            raise InputError(None, f"target(s) {', '.join(other) or '(none)'} are not for "
                             f"{indicator.id}", field="target", expected="targets of the "
                             "indicator forecast")
        targets = sorted(targets, key=lambda t: t.year)
        years = [t.year for t in targets]
        if len(set(years)) < len(years):
            raise InputError(None, f"two targets in one year for {indicator.id}",
                             field="target", expected="one target per year")
        where = "among the targets given"
    else:
        targets = registry.targets_for(indicator.id)
        where = "in the plan"
    if not targets:
        raise InputError(registry.path, f"indicator '{indicator.id}' has no target in the plan",
                         expected="one of " + ", ".join(registry.target_indicators())
                         + ", or a target of your own (--target YEAR:>=VALUE)")
    if target_years:
        unknown = sorted(set(target_years) - {t.year for t in targets})
        if unknown:
            raise InputError(registry.path, f"no target for {indicator.id} in {unknown} {where}",
                             field="target_years",
                             expected="years among " + ", ".join(str(t.year) for t in targets))
        targets = [t for t in targets if t.year in target_years]
    return targets


def _sort_targets(dataset: Dataset, result: IndicatorForecast) -> list[Target]:
    """Sort ``result``'s targets by what the data allow (observed, pace only, not
    forecastable, a probability), fill the observations and the paces, and return the
    targets to simulate (none: ``result`` is complete, its status says why)."""
    indicator, region, scenario = result.indicator, result.region, result.scenario
    if dataset.as_of > date.today():  # allowed up to next year's end, e.g. a report prepared ahead
        result.notes.append(f"as of {dataset.as_of}, after today ({date.today()}): the data are "
                            "those in data/raw today; anything published in between is missing")
    if scenario.employment is not None and indicator.derived is None:
        result.notes.append(f"scenario '{scenario.name}': its employment assumption applies only "
                            f"to a ratio indicator (labour productivity), not to {indicator.id}")
    rows = dataset.rows(indicator.id, region)
    series = dataset.series(indicator.id, region)
    for target in result.targets:
        if result.coverage[target.id].status == "observed":
            result.observed[target.id] = _observed_target(rows, target)
        if not series.empty and indicator.derived is None:
            result.pace[target.id] = graded_pace(dataset, indicator.id, region, target)
    open_targets = [t for t in result.targets if t.id not in result.observed]
    statuses = {result.coverage[t.id].status for t in open_targets}
    if not open_targets:
        result.status = "observed"
        return []
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
        return []
    if scenario.numerator_elasticity and not scenario.holds_numerator_of(indicator):
        result.notes.append(f"scenario '{scenario.name}': its numerator_elasticity is how a "
                            f"share's numerator responds to the {scenario.on} it acts on; here "
                            f"it acts on {scenario.on} as {indicator.id}'s own modelled series, "
                            "with no share in between, so it is not used")
    return open_targets


def _over_years_note(dataset: Dataset, result: IndicatorForecast) -> list[str]:
    """Years of the modelled series that are over but simulated (their figures not in the
    data), and whether the run's scenario changes them."""
    modelled = result.modelled
    over = [int(y) for y in modelled.years if y < modelled.first_open]
    if not over:
        return []
    span = f"{over[0]}" if len(over) == 1 else f"{over[0]}-{over[-1]}"
    return [f"{modelled.indicator}: {span} {'is' if len(over) == 1 else 'are'} over but not "
            f"in the data as of {dataset.as_of} (not yet published, or not yet added to "
            f"data/raw); the values for {span} are the models' estimates "
            f"from data up to {modelled.last_observed[0]}, "
            + _scenario_on_over_years(result.scenario, modelled.years, modelled.first_open, over)]


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


def _probably_out(dataset: Dataset, series: str, region: str,
                  over: list[int]) -> ProbablyPublished | None:
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
    return ProbablyPublished(series, tuple(years), lags[best],
                             f"{int(rows['year'].iloc[best])}: {rows['available'].iloc[best]}") \
        if years else None


def _plan_pace_note(result: IndicatorForecast, own: bool = False) -> list[str]:
    """The growth the plan's own targets (``own``: the user's) imply between their years,
    beside the ensemble's median over the same years: labour productivity's 22 -> 28 is
    +12.8% a year, which says more about the plan's measure (or ambition) than any model."""
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
    whose = "your targets" if own else "the plan's own targets"
    return [f"{whose} rise {plan:+.1%}/yr from {first.year} to {last.year} "
            f"({first.value:g} -> {last.value:g} {result.indicator.unit}); the ensemble's median "
            f"grows {model:+.1%}/yr over the same years{ahead}"]


def _break_notes(dataset: Dataset, result: IndicatorForecast) -> list[str]:
    """What each series break of the catalogue (``breaks`` in data/raw/catalogue.yaml) means for this run:
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

