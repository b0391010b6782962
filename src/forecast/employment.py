"""A ratio's denominator from a stated assumption: employment, for labour productivity.

Labour productivity = GDP / employment, and most cities publish employment rarely (Hangzhou:
once, in 2015, before the 2020 census recount of population). A plan therefore states how
employment is to be simulated (``assumptions`` in its plan.yaml, an
:class:`~forecast.scenario.Employment`): permanent population, simulated from its years on
the counted basis, times an employment-to-population ratio drawn per path from a stated
range; or (a scenario) a growth rate from the newest level. Once the ratio indicator itself
is published the ratio is not assumed but implied by that figure, path by path
(:func:`published_ratio`).

Besides the paths, the assumption yields the diagnostics that say how much the probability
rests on it (:mod:`forecast.diagnostics`): the break-even ratio and employment growth, P held
at the ends of the range, the GDP growth a target takes there, where the indicator stands now
on the assumption, and where employment growth starts.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .data import Dataset
from .diagnostics import BreakEven, EmploymentStart, GrowthNeeded, ImpliedLevel
from .errors import InputError
from .probability import annual_growth, range_text, year_index
from .scenario import Employment, Scenario
from .simulation import ComponentFit, fit_component, members_on_years, on_years
from .targets import Indicator, Target


def counted_population(dataset: Dataset, region: str, employment: Employment) -> pd.Series:
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
        figure = ratio_figure(dataset, region, indicator,
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
    population = counted_population(dataset, region, employment)
    if population.empty:
        return None
    year, pop = int(population.index[-1]), float(population.iloc[-1])
    lo, hi = employment.ratio
    before = (f"; the last sourced employment, {sourced.iloc[-1]:.0f} 万人 in "
              f"{sourced.index[-1]}, was counted before the {since} census recount"
              if not sourced.empty else "")
    return year, (pop * lo, pop * hi), (f"{employment.population} {pop:.0f} 万人 x the ratio "
                                        f"{range_text((lo, hi))}{before}")


def growth_draws(seed: int, n_paths: int, employment: Employment,
                  level: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The growth assumption's per-path draws, ``(n_paths, 1)`` each: the annual growth rate
    and the starting level (over ``level``, a range when it is population x a ratio). One
    place, so the break-even growth reads the very levels a growth scenario starts from."""
    rng = np.random.default_rng([seed, 1])
    growth = rng.uniform(*employment.growth, size=(n_paths, 1))
    return growth, rng.uniform(*level, size=(n_paths, 1))


def employment_paths(dataset: Dataset, region: str, years: np.ndarray, employment: Employment,
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
        g, base = growth_draws(seed, n_paths, employment, level)
        return base * (1 + g) ** (years - base_year), None, None
    population = counted_population(dataset, region, employment)
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


def denominator_paths(dataset: Dataset, region: str, indicator: Indicator, years: np.ndarray,
                       explicit: Employment | None, numerator: ComponentFit, scenario: Scenario,
                       n_paths: int, seed: int):
    """A ratio's employment paths, population paths, population fit, the assumption as used
    and notes: ``explicit`` (a scenario's) when given, else the default range -- or, once the
    ratio indicator itself is known on the population's basis, the ratio that figure
    implies (:func:`published_ratio`). The notes say when a known figure is not used."""
    assumed = dataset.registry.plan.employment(indicator.derived.denominator)
    employment = explicit or assumed
    denominator, population, pop_fit = employment_paths(dataset, region, years, employment,
                                                         n_paths, seed, indicator)
    figure, notes = ratio_figure(dataset, region, indicator, assumed)
    if figure is not None and explicit is not None:
        label, year, value = figure
        notes.append(f"scenario '{scenario.name}' states its own employment, in place of the "
                     f"ratio the {label} of {year} ({value:.4g}) implies: its paths need not "
                     "pass through that figure")
    elif figure is not None and population is not None:
        anchored = published_ratio(dataset, region, indicator, employment, figure, numerator,
                                    scenario, pop_fit, n_paths)
        if isinstance(anchored, str):
            notes.append(anchored)
        else:
            ratio, employment = anchored
            denominator = population * ratio
    return denominator, population, pop_fit, employment, notes


def ratio_figure(dataset: Dataset, region: str, indicator: Indicator,
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


def published_ratio(dataset: Dataset, region: str, indicator: Indicator,
                     employment: Employment, figure: tuple[str, int, float],
                     numerator: ComponentFit, scenario: Scenario,
                     pop_fit: ComponentFit | None, n_paths: int):
    """The employment-to-population ratio that ``figure``, a known value of the ratio
    indicator (:func:`ratio_figure`), implies, per path, with the assumption restated on it;
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
        top = np.concatenate(list(members_on_years(
            numerator, scenario, dataset.series(rule.numerator, region), at).values()))[:, 0]
        people = on_years(counted_population(dataset, region, employment), at, n_paths,
                          pop_fit.paths() if pop_fit else None,
                          pop_fit.years if pop_fit else ())[:, 0]
    except InputError:
        return (f"the {what} of {year} ({value:.4g}) is not used: {rule.numerator} or "
                f"{employment.population} of {year} is neither published nor simulated in "
                f"this run, so the assumed employment ratio stands")
    ratio = (rule.factor * top / (value * people)).reshape(-1, 1)
    lo, hi = (float(v) for v in np.quantile(ratio, [0.1, 0.9]))
    return ratio, replace(employment, ratio=(lo, hi), anchor=(what, year, value))


def break_even_value(met, lo: float, hi: float) -> float | None:
    """The value x of an assumption at which P(met(x)) is 50% (``met(x)``: a boolean per
    path), by bisection on [lo, hi]; None if 50% is not crossed within the interval."""
    def p(x: float) -> float:
        return float(np.mean(met(x)))

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


def employment_start(dataset: Dataset, region: str, employment: Employment,
                     indicator: Indicator | None = None) -> EmploymentStart | None:
    """Where the growth assumption starts (None for another assumption or nothing to say)."""
    if employment.method != "growth":
        return None
    start = employment_growth_base(dataset, region, employment, indicator)
    if start is None:
        return None
    year, (lo, hi), what = start
    return EmploymentStart(year, lo, hi, what)


def implied_level(dataset: Dataset, region: str, indicator: Indicator, numerator: pd.Series,
                  employment: Employment, targets: list[Target]) -> ImpliedLevel | None:
    """The ratio in the last year whose numerator and population are both published, over the
    assumed employment-to-population range: where the indicator stands *now* on the run's own
    assumption (labour productivity has no published series), and how that compares with
    the targets. None for the employment-growth assumption or without such a year."""
    if employment.method != "population_ratio":
        return None
    population = counted_population(dataset, region, employment)
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
    # a target met on every ratio of the range (a floor below the lowest level, a ceiling
    # above the highest)
    below = [t for t in targets if t.year > year and (t.is_met(hi) and t.is_met(lo))]
    return ImpliedLevel(
        indicator.id, indicator.unit, year, lo, hi, mid, tuple(employment.ratio),
        tuple(t.id for t in below), rule.numerator, employment.population, employment.anchor,
        "" if employment.anchor or not below else
        ", ".join(f"{t.year} target {t.value:g}" for t in below))


def break_evens(dataset: Dataset, region: str, indicator: Indicator, years: np.ndarray,
                numerator: ComponentFit, gdp: dict[str, np.ndarray], observed: pd.Series,
                population: np.ndarray | None, employment: Employment, scenario: Scenario,
                seed: int, targets: list[Target]) -> dict[str, BreakEven]:
    """Per target, where P crosses 50% as the employment assumption varies
    (:class:`~forecast.diagnostics.BreakEven`), from the run's own numerator paths ``gdp``
    (per member, on ``years``) and ``population`` paths. Employment growth is counted from
    the employment a known figure implies, else from the newest on the census-recounted basis
    (:func:`employment_growth_base`)."""
    rule = indicator.derived
    employment_base = None
    if employment.anchor:
        what, year_a, value_a = employment.anchor
        gdp_a = np.concatenate(list(members_on_years(
            numerator, scenario, observed, np.array([year_a])).values()))[:, 0]
        level = float(np.median(rule.factor * gdp_a / value_a))
        employment_base = (year_a, level, f"{level:.0f}", f" (implied by the {what})")
    elif (start := employment_growth_base(dataset, region, employment, indicator)) is not None:
        year_s, (lo_s, hi_s), what_s = start
        # the levels a growth scenario starts from, path by path, so that one at the
        # break-even rate gives 50% (the range's middle gave 52.6%)
        n_all = sum(len(z) for z in gdp.values())
        level = growth_draws(seed, n_all, employment, (lo_s, hi_s))[1][:, 0]
        employment_base = (year_s, level, range_text((lo_s, hi_s), "{:.0f}"), f" ({what_s})")
    out = {}
    for target in targets:
        idx = year_index(years, target.year)
        gdp_t = rule.factor * np.concatenate(list(gdp.values()))[:, idx]
        found: dict = {}
        if population is not None:
            pop_t = population[:, idx]
            found["has_ratio"] = True
            found["ratio"] = break_even_value(lambda r: target.is_met(gdp_t / (pop_t * r)),
                                              0.2, 1.0)
        if population is not None and not employment.anchor:
            # P held at each end and the middle of the assumed range: how much of the
            # headline is the assumption (a ratio a published figure implies is none: one
            # held across paths would cut each path from the figure it passes through)
            lo, hi = employment.ratio
            found["p_at_ratio"] = {f"{r:.2f}": float(np.mean(target.is_met(gdp_t / (pop_t * r))))
                                   for r in (lo, (lo + hi) / 2, hi)}
            # the GDP growth the target takes at each of those ratios, from the newest GDP,
            # beside the models' own (R&D spending's requirement answers the same question)
            if observed.index[-1] < target.year:
                y0, g0 = int(observed.index[-1]), float(observed.iloc[-1])
                span = target.year - y0
                found["gdp_growth_needed"] = GrowthNeeded(
                    f"{g0:.0f} {dataset.registry.indicator(rule.numerator).unit} in {y0}",
                    {f"{r:.2f}": float(np.median(annual_growth(
                        g0, target.value * pop_t * r / rule.factor, span)))
                     for r in (lo, (lo + hi) / 2, hi)},
                    float(annual_growth(g0, np.median(gdp_t) / rule.factor, span)),
                    at_most=target.at_most)
        if employment_base is not None:
            base_year, base, shown, said = employment_base
            found["has_growth"] = True
            found["growth"] = break_even_value(
                lambda g: target.is_met(gdp_t / (base * (1 + g) ** (target.year - base_year))),
                -0.2, 0.2)
            if found["growth"] is not None:  # nothing to count from else
                found["growth_base"] = f"{shown} 万人 in {base_year}{said}"
        out[target.id] = BreakEven(target.id, float(np.median(gdp_t) / target.value),
                                   employment, at_most=target.at_most, **found)
    return out
