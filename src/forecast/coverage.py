"""How much sourced history a target has, and therefore what the suite may say about it.

One place for the data-sufficiency rule, used by ``forecast targets``, ``forecast run`` and
the reports:

* at least :data:`MIN_POINTS_PROBABILITY` observed years: a probability is estimated;
* at least :data:`MIN_POINTS_PACE` years: only the pace diagnostic (observed vs required
  growth) is given, with a data-sufficiency warning, never a probability from a handful of
  points;
* fewer: not forecastable; the output names the route to supply data (``forecast data add``).

A target at the bound of its scale (``= 100%``) never gets a probability: only an exact 100
meets it, which a continuous model gives probability 0 by construction.

A derived indicator (labour productivity = GDP / employment) is judged on its numerator's
history: its denominator may come from a stated, ranged assumption instead.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .data import Dataset
from .scenario import Employment
from .targets import Target

MIN_POINTS_PROBABILITY = 8
MIN_POINTS_PACE = 2
#: population years a random walk with drift needs to simulate employment = population x ratio
#: (and the years a ratio's denominator without a stated assumption needs of its own series)
MIN_POINTS_POPULATION = 5
SUPPLY_DATA_HINT = ("no sourced history: supply a series with `forecast data add FILE` "
                    "(template in README, 'Bring your own data')")


@dataclass(frozen=True)
class Coverage:
    target_id: str
    indicator: str
    region: str
    n_years: int
    first_year: int | None
    last_year: int | None
    last_value: float | None
    status: str  # "probability" | "pace only" | "not forecastable" | "observed"
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def assess(dataset: Dataset, target: Target, region: str | None = None,
           employment: Employment | None = None) -> Coverage:
    """The coverage of ``target`` in ``dataset`` (as of the dataset's date), for the target's
    own region or for ``region`` (the same target level applied to another region). A ratio
    indicator is judged on its numerator's history and on what its ``employment`` assumption
    (default: the plan's, :meth:`forecast.plans.Plan.employment`) or, without one, its
    denominator's own history needs."""
    region = region or target.region
    indicator = dataset.registry.indicator(target.indicator)
    series = dataset.series(target.indicator, region)
    years = list(series.index)
    last_year = years[-1] if years else None
    last_value = float(series.iloc[-1]) if years else None
    n = len(years)
    basis = n
    reason = f"{n} sourced year(s)"
    if indicator.derived is not None:
        numerator = dataset.series(indicator.derived.numerator, region)
        denominator = dataset.series(indicator.derived.denominator, region)
        basis = len(numerator)
        employment = employment or dataset.registry.plan.employment(indicator.derived.denominator)
        reason = (f"derived as {indicator.derived.describe()}: {len(numerator)} year(s) of "
                  f"{indicator.derived.numerator}, {len(denominator)} of "
                  f"{indicator.derived.denominator} (the rest from "
                  + ("a stated assumption)" if employment else "its own models)"))
        if employment is None and len(denominator) < MIN_POINTS_POPULATION:
            # no assumption stated: the denominator is simulated from its own history
            basis = 0
            reason += (f"; the plan states no assumption for {indicator.derived.denominator}, "
                       f"so it is simulated from its own series, which needs "
                       f"{MIN_POINTS_POPULATION} years")
        elif employment is not None and employment.method == "population_ratio":
            population = dataset.series(employment.population, region)
            since = employment.population_since or 0
            n_pop = int((population.index >= since).sum())
            if n_pop < MIN_POINTS_POPULATION:
                # the way out only where it leads somewhere: enough GDP and an employment level
                way_out = (": run with a scenario whose employment method is growth (e.g. "
                           "notebooks/scenarios/employment_growth.yaml)"
                           if basis >= MIN_POINTS_PROBABILITY and len(denominator) else "")
                basis = 0
                reason += (f"; the employment assumption (population x ratio) needs "
                           f"{MIN_POINTS_POPULATION} years of {employment.population} since "
                           f"{since}, there are {n_pop}{way_out}")
    if last_year is not None and target.year in series.index:
        status = "observed"
        reason += f"; the target year {target.year} is observed"
    elif indicator.derived is None and last_year is not None and target.year < last_year:
        # the models simulate from the last observation on: a year in a gap before it (or
        # before the series starts) is neither observed nor forecast; only its figure can tell
        status = "not forecastable"
        where = ("a gap in the published series" if target.year > years[0]
                 else f"before the published series starts ({years[0]})")
        reason += (f"; the target year {target.year} is {where} (last {last_year}): the models "
                   f"forecast only after the last observation, so the {target.year} figure is "
                   f"needed (`forecast data add`)")
    elif basis >= MIN_POINTS_PROBABILITY and target.comparison == "=":
        # "= 100%" sits on the bound of a share: only an exact 100 meets it, which a continuous
        # model on the logit scale gives probability 0 by construction. A number would mislead.
        status = "pace only"
        reason += ("; the target is the bound of its scale (= 100%): a continuous model cannot "
                   "give it a probability, so observations and pace only")
    elif basis >= MIN_POINTS_PROBABILITY:
        status = "probability"
    elif n >= MIN_POINTS_PACE:
        status = "pace only"
        reason += f"; fewer than {MIN_POINTS_PROBABILITY} years: pace diagnostic only"
    else:
        status = "not forecastable"
        later = dataset.vintages[(dataset.vintages["indicator"] == target.indicator)
                                 & (dataset.vintages["region"] == region)]
        if n == 0 and indicator.derived is None and not later.empty:
            # the data exist, only not yet as of this date: supplying more would not help
            reason = (f"nothing published by {dataset.as_of}: the first of its "
                      f"{len(later)} sourced value(s) is available from "
                      f"{min(later['available'])}")
        elif n == 0 and basis == 0 and indicator.derived is None:
            reason = SUPPLY_DATA_HINT
        elif indicator.derived is None:
            reason += "; too few points"
    return Coverage(target.id, target.indicator, region, n, years[0] if years else None,
                    last_year, last_value, status, reason)
