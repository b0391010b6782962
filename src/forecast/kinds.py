"""Kinds of indicator: how each is simulated, and what it says beside its probability.

An indicator's kind follows from its catalogue entry (:func:`kind_of`):

* :class:`OwnSeries` -- a series of its own (air quality, GDP, a user's series): the
  ensemble is fitted to it;
* :class:`Share` -- a series of its own that is also ``factor x numerator / denominator``
  (``share_of``: R&D intensity = 100 x R&D spending / GDP): fitted to its own series, read
  against its denominator's census-revised basis where the denominator breaks, and able to
  say how fast the numerator must grow for each target;
* :class:`Ratio` -- a ratio without a usable series of its own (``derived``: labour
  productivity = GDP / employment; GDP per capita = GDP / population): simulated as the
  ensemble's numerator paths over denominator paths, the denominator either modelled from its
  own series or, where the plan states an assumption for it, from that assumption
  (:mod:`forecast.employment`, with its break-even diagnostics).

Each kind fills an :class:`~forecast.pipeline.IndicatorForecast` in three steps that
:func:`forecast.pipeline.forecast_indicator` calls in order: :meth:`Kind.simulate` (member
paths, components, the assumption's notes), :meth:`Kind.diagnose` (diagnostics read off the
paths before scoring) and :meth:`Kind.restate` (diagnostics that need the probabilities).
:meth:`Kind.scenario_members` gives the same paths under another scenario without refitting.
A new derived indicator is catalogue YAML; a new way to simulate one is one class here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from . import employment as emp
from .data import Dataset, is_lower_grade
from .diagnostics import BasisRestatement, RequiredGrowth
from .errors import InputError
from .models import DEFAULT_MODELS
from .models.pooled import PooledEB
from .probability import (PACE_WINDOW, Pace, annual_growth, pace, range_text,
                          target_probability, year_index)
from .scenario import Scenario, first_open_year
from .simulation import ComponentFit, fit_component, members_on_years, on_years, split_like
from .targets import Indicator, Registry, Target

if TYPE_CHECKING:
    from .pipeline import IndicatorForecast


@dataclass(frozen=True)
class Run:
    """What a forecast run was asked: the data, the region, the models, the paths, the seed,
    the scenario and whether to backtest; ``horizon_to`` is the last target year simulated."""

    dataset: Dataset
    region: str
    models: tuple[str, ...]
    n_paths: int
    seed: int
    scenario: Scenario
    backtest: bool
    horizon_to: int

    @property
    def first_open(self) -> int:
        return first_open_year(self.dataset.as_of)

    def fit(self, series_id: str, *, models: tuple[str, ...] | None = None,
            seed: int | None = None, backtest: bool | None = None) -> ComponentFit:
        """The ensemble fitted to ``series_id`` of the run's region (linked across its census
        breaks) and simulated to the run's horizon."""
        dataset = self.dataset
        models, instances, note = self.pooled(series_id, models or self.models)
        fit = fit_component(dataset.linked_series(series_id, self.region)[0],
                            dataset.registry.indicator(series_id), horizon_to=self.horizon_to,
                            models=models, n_paths=self.n_paths,
                            seed=self.seed if seed is None else seed,
                            backtest=self.backtest if backtest is None else backtest,
                            first_open=self.first_open, instances=instances)
        if note:
            fit.pooling = {"member": "pooled_eb", "dropped": note}
        return fit

    def pooled(self, series_id: str, models: tuple[str, ...]
               ) -> tuple[tuple[str, ...], dict, str]:
        """The models for ``series_id`` with a pooled member where one is wanted: named in
        ``models``, or the default ensemble on a series whose plan names a panel for it
        (``panels`` in plan.yaml; :data:`forecast.models.POOLED_MODELS`). Returns the model
        names, the configured families and why a wanted member could not be built ("")."""
        files = self.dataset.registry.plan.panels.get(series_id)
        if "pooled_eb" not in models and (models != DEFAULT_MODELS or files is None):
            # the default ensemble without a panel keeps today's models, and says so
            return models, {}, ("" if models != DEFAULT_MODELS else
                                f"the plan names no panel of other regions for {series_id} "
                                "(panels in plan.yaml)")
        names = tuple(m for m in models if m != "pooled_eb")
        try:
            member = PooledEB.for_region(self.dataset, series_id, self.region,
                                         files=list(files) if files else None)
        except InputError as exc:  # no panel here: today's models, and the output says so
            return names, {}, exc.message
        return names + ("pooled_eb",), {"pooled_eb": member}, ""


class Kind:
    """How one indicator is simulated (see the module doc). ``indicator`` is its catalogue
    entry; the base class is a series of its own."""

    name = "series"

    def __init__(self, indicator: Indicator, registry: Registry) -> None:
        self.indicator = indicator
        self.registry = registry

    def simulate(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        """Fill ``result``'s components, years and member paths (in the indicator's unit, under
        the run's scenario) and the notes on what they assume."""
        comp = run.fit(self.indicator.id)
        result.components[self.indicator.id] = comp
        result.years = comp.years
        result.member_paths = comp.member_paths(run.scenario)

    def scenario_members(self, result: IndicatorForecast, scenario: Scenario,
                         dataset: Dataset) -> dict[str, np.ndarray]:
        """Each member's share of ``result``'s paths as they would be under ``scenario``,
        from the run's own draws (what a re-run with ``scenario`` gives)."""
        return result.components[self.indicator.id].member_paths(scenario)

    def resting_series(self, result: IndicatorForecast, scenario: Scenario) -> list[str]:
        """The simulated series the probability rests on (diagnostic fits excluded)."""
        return [self.indicator.id]

    def diagnose(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        """Diagnostics read off the paths, before the probabilities (none by default)."""

    def restate(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        """Diagnostics that need the probabilities (none by default)."""


OwnSeries = Kind


class Share(Kind):
    """A series of its own that is also a share of two others (R&D intensity = 100 x R&D
    spending / GDP). Beside the paths of its own series it

    * answers a scenario written for its denominator (``acts_on: gdp``) with the numerator
      held, or moving at the scenario's ``numerator_elasticity`` (:meth:`numerator_held`);
    * reads the paths against the denominator's census-revised basis where the denominator
      breaks after the share's last figure (:func:`share_rebasing`);
    * says how fast the numerator must grow for each target (:class:`RequiredGrowth`)."""

    name = "share"

    def simulate(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        indicator, scenario = self.indicator, run.scenario
        comp = run.fit(indicator.id)
        result.components[indicator.id] = comp
        result.years = comp.years
        if scenario.holds_numerator_of(indicator):
            # the denominator's fit is kept: the numerator's requirement reads the same paths
            result.components[scenario.on] = run.fit(indicator.share_of.denominator)
            e, on = scenario.numerator_elasticity, scenario.on
            ratio = (f"baseline {on} / scenario {on}" if e == 0 else
                     f"(baseline {on} / scenario {on})^{1 - e:g}")
            result.notes.append(
                f"scenario '{scenario.name}' acts on {on} with "
                f"{scenario.numerator_response(indicator.share_of.numerator)}: {indicator.id} = "
                f"baseline {indicator.id} x {ratio}, path by path (the arithmetic of a share "
                f"under a stated response of {indicator.share_of.numerator}, not a forecast of "
                "it; numerator_elasticity in the scenario file sets the response)")
        result.own_member_paths = self._own_members(result, run.dataset, scenario)
        result.basis = share_rebasing(run.dataset, indicator, run.region, run.horizon_to)
        result.member_paths = rebased(result.own_member_paths, result.years, result.basis,
                                      run.seed)
        if result.basis:
            # the history's pace against what each target is on the history's basis (4.0% of
            # the revised GDP is about 4.16% of the earlier one), so pace and P read one target
            factor = result.basis.link_factor
            for target in targets:
                restated = replace(target, value=target.value * factor)
                result.pace[target.id] = replace(
                    graded_pace(run.dataset, indicator.id, run.region, restated),
                    target_value=restated.value)

    def scenario_members(self, result: IndicatorForecast, scenario: Scenario,
                         dataset: Dataset) -> dict[str, np.ndarray]:
        return rebased(self._own_members(result, dataset, scenario), result.years, result.basis,
                       result.params["seed"])

    def resting_series(self, result: IndicatorForecast, scenario: Scenario) -> list[str]:
        return [self.indicator.id] + ([scenario.on] if scenario.holds_numerator_of(
            self.indicator) else [])

    def diagnose(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        result.required = required_growth(run, result, targets)

    def restate(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        if not result.basis:
            return
        history_basis = np.concatenate(list(result.own_member_paths.values()))
        result.basis.p_history_basis = {
            t.id: target_probability(history_basis, result.years, t).p_in_year for t in targets}
        result.notes.append(result.basis.text())

    def _own_members(self, result: IndicatorForecast, dataset: Dataset,
                     scenario: Scenario) -> dict[str, np.ndarray]:
        """The members under ``scenario`` on the history's basis (before :func:`rebased`):
        the share's own paths, or under a scenario on its denominator, those paths with the
        numerator held (:meth:`numerator_held`)."""
        if scenario.holds_numerator_of(self.indicator):
            return self.numerator_held(result, dataset, scenario)
        return result.components[self.indicator.id].member_paths(scenario)

    def numerator_held(self, result: IndicatorForecast, dataset: Dataset,
                       scenario: Scenario) -> dict[str, np.ndarray]:
        """The share's members under a scenario on its denominator (GDP), its numerator (R&D
        spending) held on the baseline's path or moving with the denominator at the
        scenario's ``numerator_elasticity`` e: share x (baseline denominator / scenario
        denominator)^(1 - e), path by path (see :mod:`forecast.scenario`). The denominator is
        the run's own simulation of it, fitted here (and not kept) when the run has none."""
        rule = self.indicator.share_of
        comp = result.components.get(rule.denominator)
        if comp is None:
            comp = _run_of(result, dataset).fit(rule.denominator)
        observed = dataset.series(rule.denominator, result.region)
        members = result.components[self.indicator.id].member_paths()
        years = np.asarray(result.years)
        n = sum(len(z) for z in members.values())
        base = on_years(observed, years, n, comp.paths(), comp.years)
        changed = on_years(observed, years, n, comp.paths(scenario), comp.years)
        # the numerator moves by (changed / base)^e: the share by (base / changed)^(1 - e)
        response = (base / changed) ** (1.0 - scenario.numerator_elasticity)
        return split_like(members, np.concatenate(list(members.values())) * response)


class Ratio(Kind):
    """A ratio simulated as its numerator's ensemble paths over denominator paths
    (``derived`` in the catalogue): labour productivity = GDP / employment, GDP per capita =
    GDP / population. Scenarios act on the numerator.

    The denominator is the plan's stated assumption for it where there is one
    (``assumptions`` in plan.yaml; employment = population x ratio, :mod:`forecast.employment`,
    with its break-even diagnostics), else its own series, fitted like any other (its
    models' paths, its own seeded stream)."""

    name = "ratio"

    @property
    def assumption(self):
        return self.registry.plan.employment(self.indicator.derived.denominator)

    def simulate(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        rule, dataset, region = self.indicator.derived, run.dataset, run.region
        observed = dataset.series(rule.numerator, region)
        numerator = run.fit(rule.numerator)
        result.components[rule.numerator] = numerator
        # The ratio's years run from the first open target year (which may already have an
        # observed numerator, e.g. GDP published, employment not) or the first simulated year.
        first = min(min(t.year for t in targets), int(numerator.years[0]))
        years = np.arange(first, run.horizon_to + 1)
        result.years = years
        members = members_on_years(numerator, run.scenario, observed, years)
        if self.assumption is None:
            denominator = self._modelled_denominator(run, result, years)
            result.member_paths = ratio_members(rule, members, denominator)
            result.notes.append(
                f"{self.indicator.id} = {rule.describe()}; {rule.denominator} is simulated from "
                f"its own series ({result.components[rule.denominator].n_points} points), "
                f"{rule.numerator} by the ensemble")
            return
        denominator, population, pop_fit, employment, notes = emp.denominator_paths(
            dataset, region, self.indicator, years, run.scenario.employment, numerator,
            run.scenario, run.n_paths, run.seed)
        if pop_fit is not None:
            result.components[employment.population] = pop_fit
        result.employment = employment
        result.member_paths = ratio_members(rule, members, denominator)
        result.notes += notes
        default = self.assumption.ratio
        if employment.anchor and (employment.ratio[1] > default[1]
                                  or employment.ratio[0] < default[0]):
            what, year, _ = employment.anchor
            result.notes.append(
                f"the {what} of {year} implies an employment-to-population ratio of "
                f"{range_text(employment.ratio)}, outside the {default[0]:.2f}-{default[1]:.2f} "
                f"the suite assumes without it" + (
                    f": more employed persons than residents, so it counts employment or "
                    f"{rule.numerator} on another basis than the suite's"
                    if employment.ratio[1] > 1 else ""))
        start = emp.employment_start(dataset, region, employment, self.indicator)
        if start is not None:
            result.notes.append(start.text())
        result.assumption = employment.describe()
        result.notes.append(f"{self.indicator.id} = {rule.describe()}; {result.assumption}. "
                            f"{rule.numerator} is taken as published (current prices, for a "
                            "value): the probability assumes the target is measured so too "
                            "(the plan does not say).")
        result.implied_last = emp.implied_level(dataset, region, self.indicator, observed,
                                                employment, targets)
        if result.implied_last:
            result.notes.append(result.implied_last.text())
        # what diagnose() reads the break-even off (this kind object serves one run)
        self._simulated = (numerator, members, observed, population, employment)

    def _modelled_denominator(self, run: Run, result: IndicatorForecast,
                              years: np.ndarray) -> np.ndarray:
        """The denominator from its own series, on the ratio's years, one path per numerator
        path (its own seeded stream: ``seed + 1``, as population's under an assumption)."""
        rule = self.indicator.derived
        name = rule.denominator
        fit = result.components.get(name)
        if fit is None:
            try:
                fit = run.fit(name, seed=run.seed + 1)
            except InputError as exc:
                raise InputError(None, f"{self.indicator.id} = {rule.describe()}: {name} "
                                 f"cannot be simulated: {exc.message}", field="denominator",
                                 expected=f"a longer {name} series, or an assumption for it in "
                                          "the plan (assumptions)") from None
            result.components[name] = fit
        n = sum(len(z) for z in result.components[rule.numerator].member_z.values())
        return on_years(run.dataset.series(name, run.region), years, n, fit.paths(), fit.years)

    def scenario_members(self, result: IndicatorForecast, scenario: Scenario,
                         dataset: Dataset) -> dict[str, np.ndarray]:
        rule = self.indicator.derived
        p = result.params
        years = np.asarray(result.years)
        comp = result.components[rule.numerator]
        numerator = members_on_years(comp, scenario, dataset.series(rule.numerator,
                                                                    result.region), years)
        if self.assumption is None:
            fit = result.components[rule.denominator]
            n = sum(len(z) for z in numerator.values())
            denominator = on_years(dataset.series(rule.denominator, result.region), years, n,
                                   fit.paths(), fit.years)
        else:
            denominator = emp.denominator_paths(dataset, result.region, self.indicator, years,
                                                scenario.employment, comp, scenario,
                                                p["n_paths"], p["seed"])[0]
        return ratio_members(rule, numerator, denominator)

    def resting_series(self, result: IndicatorForecast, scenario: Scenario) -> list[str]:
        return list(result.components)

    def diagnose(self, run: Run, result: IndicatorForecast, targets: list[Target]) -> None:
        if self.assumption is None:
            return
        numerator, members, observed, population, employment = self._simulated
        result.break_even = emp.break_evens(
            run.dataset, run.region, self.indicator, np.asarray(result.years), numerator,
            members, observed, population, employment, run.scenario, run.seed, targets)


def graded_pace(dataset: Dataset, indicator_id: str, region: str, target: Target) -> Pace:
    """The pace of ``target`` (:func:`forecast.probability.pace`) on the published series,
    with the figures its rates rest on (the base and the last observation) that are of a
    lower grade (:func:`forecast.data.is_lower_grade`): a pace on a secondary figure must say
    so."""
    pc = pace(dataset.series(indicator_id, region), target)
    rows = dataset.rows(indicator_id, region)
    years = [y for y in (pc.base_year, pc.last_year) if y is not None]
    used = rows[rows["year"].isin(years)].sort_values("year")
    lower = tuple((int(r.year), str(r.reliability)) for r in used.itertuples()
                  if is_lower_grade(r.reliability))
    return replace(pc, lower_grade_sources=lower)


def kind_of(indicator: Indicator, registry: Registry) -> Kind:
    """The kind of ``indicator`` (see the module doc)."""
    if indicator.derived is not None:
        return Ratio(indicator, registry)
    if indicator.share_of is not None:
        return Share(indicator, registry)
    return Kind(indicator, registry)


def _run_of(result: IndicatorForecast, dataset: Dataset) -> Run:
    """The :class:`Run` that made ``result`` (its parameters), to fit one more series the
    same way."""
    p = result.params
    return Run(dataset, result.region, tuple(p["models"]), p["n_paths"], p["seed"],
               result.scenario, p["backtest"], int(result.years[-1]))


def ratio_members(rule, numerator: dict[str, np.ndarray], denominator: np.ndarray
                  ) -> dict[str, np.ndarray]:
    """``factor * numerator / denominator`` per member, the members' rows taken in order from
    one denominator path set."""
    return split_like(numerator, rule.factor * np.concatenate(list(numerator.values()))
                      / denominator)


def share_rebasing(dataset: Dataset, indicator: Indicator, region: str,
                   last_year: int) -> BasisRestatement | None:
    """How a share modelled on its own series (R&D intensity = R&D spending / GDP) must be
    restated to be read against its denominator's current basis, or None.

    It must when the denominator has a break with an estimated revision (GDP's 2024 census
    revision, ``breaks`` in the catalogue), the break is known on the as-of date (the
    denominator is published for the break year), the share is published only before it,
    and the simulated years reach it. Every figure from the break year on will then be
    published over the revised denominator -- there is no other GDP for those years -- while
    the models extrapolate a history over the earlier one: the same spending gives a share
    lower by the revision. See :func:`rebased`."""
    rule = indicator.share_of
    if rule is None or indicator.derived is not None:
        return None
    share = dataset.series(indicator.id, region)
    denominator = dataset.series(rule.denominator, region)
    for brk in dataset.registry.breaks(rule.denominator, region):
        if (brk.revision is not None and not share.empty and not denominator.empty
                and denominator.index[-1] >= brk.year and share.index[-1] < brk.year <= last_year):
            return BasisRestatement(indicator.id, rule.denominator, brk.year,
                                    tuple(brk.revision), brk.link_factor,
                                    int(share.index[-1]))
    return None


def rebased(members: dict[str, np.ndarray], years, rebasing: BasisRestatement | None,
            seed: int) -> dict[str, np.ndarray]:
    """``members`` from the break year on divided by 1 + r, r drawn per path uniformly from
    the revision's range (its own seeded stream, so every run with the same seed agrees);
    ``members`` themselves when no restatement applies (``rebasing`` None)."""
    if not rebasing:
        return members
    stacked = np.concatenate(list(members.values()))
    low, high = rebasing.revision
    factor = 1.0 / (1.0 + np.random.default_rng([seed, 3]).uniform(low, high, len(stacked)))
    after = np.asarray(years) >= rebasing.break_year
    return split_like(members, np.where(after, stacked * factor[:, None], stacked))


def required_growth(run: Run, result: IndicatorForecast, targets: list[Target]
                    ) -> dict[str, RequiredGrowth]:
    """For a share modelled on its own series (R&D intensity = 100 x R&D spending / GDP): how
    fast its numerator must grow from its last known level to meet each target, given the
    simulated denominator -- "how much more R&D spending does 4.2% of GDP in 2027 take?".

    The last known numerator is its newest published value or, where the share and the
    denominator are published for a later year, the share times the denominator (said so).
    The denominator is simulated by the same ensemble, paths and seed as a run of its own
    (kept in ``result.components``). The probability does not rest on it; a note says why
    when it cannot be given."""
    dataset, region = run.dataset, run.region
    indicator = result.indicator
    rule = indicator.share_of
    unit = dataset.registry.indicator(rule.numerator).unit
    denominator_unit = dataset.registry.indicator(rule.denominator).unit
    numerator = dataset.series(rule.numerator, region)
    denominator = dataset.series(rule.denominator, region)
    linked_denominator, linked = dataset.linked_series(rule.denominator, region)
    share = dataset.series(indicator.id, region)
    implied_years = sorted(set(share.index) & set(denominator.index))
    candidates = []
    if not numerator.empty:
        candidates.append((int(numerator.index[-1]), float(numerator.iloc[-1]),
                           f"published {rule.numerator}"))
    if implied_years:
        y = int(implied_years[-1])
        candidates.append((y, float(share[y]) * float(denominator[y]) / rule.factor,
                           f"{indicator.id} {share[y]:g} {indicator.unit} x "
                           f"{rule.denominator} {denominator[y]:g} {denominator_unit} in {y}, "
                           f"both published"))
    horizon_to = max(t.year for t in targets)
    if not candidates or denominator.empty or denominator.index[-1] >= horizon_to + 1:
        return {}
    base_year, base, basis = max(candidates, key=lambda c: c[0])
    comp = result.components.get(rule.denominator)
    if comp is None:
        try:
            comp = run.fit(rule.denominator)
        except InputError as exc:  # a diagnostic beside the probability: never fails the run
            result.notes.append(f"how fast {rule.numerator} must grow is not given: "
                                f"{exc.message}")
            return {}
        result.components[rule.denominator] = comp
    years = np.arange(min(t.year for t in targets), horizon_to + 1)
    # over the run's denominator: the scenario's where the scenario acts on it
    acting = result.scenario if comp is result.acted_on() else None
    denom = on_years(denominator, years, run.n_paths, comp.paths(acting), comp.years)
    past = ""
    if len(numerator) >= 2:
        # the pace's window and base rule: the latest year at least PACE_WINDOW before the
        # last, else the first (a gap does not drop the comparison)
        y1 = int(numerator.index[-1])
        earlier = numerator.index[numerator.index <= y1 - PACE_WINDOW]
        y0 = int(earlier[-1]) if len(earlier) else int(numerator.index[0])
        if y1 > y0:
            past = (f"published {rule.numerator} grew "
                    f"{annual_growth(numerator[y0], numerator[y1], y1 - y0):+.1%}"
                    f"/yr in {y0}-{y1}")
            if y0 in denominator.index and y1 in denominator.index:  # the gap is what a share needs
                past += (f" ({rule.denominator} "
                         f"{annual_growth(denominator[y0], denominator[y1], y1 - y0):+.1%}/yr)")
    out = {}
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
        # the breaks known on the as-of date (the denominator published from them on)
        breaks = [b for b in dataset.registry.breaks(rule.denominator, region)
                  if base_year < b.year <= target.year and b.spanned_by(denominator)]
        break_note = "" if not breaks else (
            f"; {rule.denominator} from {breaks[-1].year} on is on its census-revised basis, so "
            f"this is what the target read against it takes, and {rule.denominator}'s growth "
            f"from {base_year} "
            + ("is on that basis throughout (its earlier years linked)"
               if breaks[-1] in linked else "includes the revision"))
        out[target.id] = RequiredGrowth(
            target.id, target.year, rule.numerator, rule.denominator, unit, base_year, base,
            basis, q50, q10, q90, float(np.median(needed)), growth, past, break_note,
            target.at_most)
        result.notes.append(out[target.id].text())
    return out
