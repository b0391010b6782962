"""How much a probability moves when the target level or an assumption behind it changes.

Two questions an economist is asked about every probability:

* *What target would we be sure to hit?* :func:`probability_vs_target` gives P(value in the
  target year >= level) over a range of levels, from the same paths as the probability
  itself; :func:`levels_for_probability` reads off the level that gives 50% or 80%.
* *What is the probability resting on?* :func:`tornado` recomputes it under one changed
  assumption at a time -- the model family alone instead of the ensemble, an earlier
  ``as_of`` (one year less of publications), the volatility of the paths, a growth shock,
  a slower or faster trend, and the earliest published vintage of every value instead of the
  chosen one -- and ranks the assumptions by how far they move it.

Scenario-type changes (volatility, shock, trend) are applied to the base result's paths with
:func:`apply_scenario`, which gives the paths :func:`forecast.pipeline.forecast_indicator`
would give with that scenario (same weights, same draws: the scenario only transforms paths
on the modelling scale), without re-running the backtest. Data changes (as_of, vintage)
re-run the pipeline on the changed data.
"""
from __future__ import annotations

import dataclasses
import warnings
from datetime import date

import numpy as np
import pandas as pd

from .data import MAGNITUDE_LIMIT, Dataset, derive, select_vintages
from .engine import run_tasks
from .errors import InputError
from .employment import employment_start
from .pipeline import IndicatorForecast, forecast_indicator, scenario_member_paths
from .probability import (joint_probability, mc_standard_error, probability_curve,
                          target_probability, year_index)
from .scenario import Scenario


def _require_paths(result: IndicatorForecast) -> None:
    """Sensitivity needs simulated paths: an indicator with only a pace or an observation
    has none to vary."""
    if result.paths is None:
        raise InputError(None, f"{result.indicator.id} has no simulated paths ({result.status})",
                         field="indicator", expected="an indicator with status 'probability'")


def _at_year(result: IndicatorForecast, year: int) -> np.ndarray:
    _require_paths(result)
    years = np.asarray(result.years)
    if year not in years:
        raise InputError(None, f"year {year} is not simulated for {result.indicator.id}",
                         field="target_years",
                         expected=f"a year in {int(years[0])}-{int(years[-1])}")
    return result.paths[:, year_index(years, year)]


def probability_vs_target(result: IndicatorForecast, levels: np.ndarray | None = None,
                          n_levels: int = 81) -> pd.DataFrame:
    """P(value in the target year >= level) for a range of levels, per forecast target
    (``<= level`` for a target that is a ceiling).

    One row per (target, level) with columns ``target_id, year, target, level, p``. Default
    levels span the 1%-99% range of the simulated values in the target year and include the
    plan's target itself. The probability at the target level equals the target's
    ``p_in_year``; the curve is monotone in the level by construction.
    """
    frames = []
    for target in result.forecast_targets:
        at = _at_year(result, target.year)
        if levels is None:
            lo, hi = np.quantile(at, [0.01, 0.99])
            grid = np.unique(np.append(np.linspace(min(lo, target.value), max(hi, target.value),
                                                   n_levels), target.value))
        else:
            grid = np.asarray(levels, dtype=float)
        p = probability_curve(result.paths, result.years, target.year, grid, target.at_most)
        frames.append(pd.DataFrame({"target_id": target.id, "year": target.year,
                                    "target": target.value, "level": grid, "p": p}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["target_id", "year", "target", "level", "p"])


def levels_for_probability(result: IndicatorForecast,
                           probabilities: tuple[float, ...] = (0.5, 0.8)) -> pd.DataFrame:
    """The target level that would be met with each of ``probabilities``, per target.

    The level reached with probability p is the (1 - p) quantile of the simulated values in
    the target year (the p quantile for a ceiling: the level stayed under). Columns:
    ``target_id, year, target, p_at_target`` and ``level_50``, ``level_80``, ... (in the
    indicator's unit).
    """
    for p in probabilities:
        if not 0 < p < 1:
            raise InputError(None, f"probability {p!r}", field="probabilities",
                             expected="numbers strictly between 0 and 1")
    rows = []
    for target in result.forecast_targets:
        at = _at_year(result, target.year)
        row = {"target_id": target.id, "year": target.year, "target": target.value,
               "p_at_target": result.probabilities[target.id].p_in_year}
        for p in probabilities:
            row[f"level_{round(100 * p)}"] = float(np.quantile(at, p if target.at_most
                                                                else 1 - p))
        rows.append(row)
    return pd.DataFrame(rows)


def apply_scenario(result: IndicatorForecast, scenario: Scenario,
                   dataset: Dataset | None = None) -> np.ndarray:
    """The ensemble paths of ``result`` (computed under the baseline) under ``scenario``:
    what ``forecast_indicator(..., scenario=scenario)`` gives, from the same draws, without
    refitting (:func:`forecast.pipeline.scenario_member_paths`). A derived indicator
    (labour productivity = GDP / employment) needs ``dataset`` for its denominator."""
    _require_paths(result)
    if dataset is not None:
        scenario = scenario.for_plan(dataset.registry.employment_for(result.indicator.id))
    if not result.scenario.is_baseline() or result.scenario.employment is not None:
        raise InputError(None, f"the base result is under scenario '{result.scenario.name}'",
                         field="scenario", expected="a baseline result to apply a scenario to")
    scenario.check_acts_on(result.indicator)
    if dataset is None and (result.indicator.derived is not None
                            or scenario.holds_numerator_of(result.indicator)):
        raise InputError(None, f"{result.indicator.id} under '{scenario.name}' is computed from "
                         "another series: applying it needs the dataset", field="dataset",
                         expected="the Dataset of the result")
    return np.concatenate(list(scenario_member_paths(result, scenario, dataset).values()))


def dataset_as_of(dataset: Dataset, as_of: date) -> Dataset:
    """The same validated vintages seen as of an earlier (or later) date."""
    panel = derive(select_vintages(dataset.vintages, as_of), dataset.registry)
    return Dataset(dataset.registry, dataset.vintages, panel, as_of, dataset.data_hash)


def dataset_first_vintage(dataset: Dataset) -> Dataset:
    """The dataset with, for every (region, indicator, year), the *earliest* published value
    available on ``as_of`` instead of the one the vintage rule chooses (the first release,
    before revisions, and before better-graded copies appeared)."""
    available = dataset.vintages[dataset.vintages["available"] <= dataset.as_of]
    key = ["region", "indicator", "year"]
    first = available.sort_values(["available"], kind="stable").drop_duplicates(key)
    chosen = select_vintages(first, dataset.as_of)
    panel = derive(chosen, dataset.registry)
    return Dataset(dataset.registry, dataset.vintages, panel, dataset.as_of, dataset.data_hash)


def _series_ids(result: IndicatorForecast) -> list[str]:
    """Every series the run read: the indicator's own (for a ratio, a published figure sets
    its employment ratio), the ratio's parts and each component it simulated (GDP,
    population)."""
    derived = result.indicator.derived
    parts = [derived.numerator, derived.denominator] if derived else []
    return list(dict.fromkeys([result.indicator.id, *parts, *result.components]))


def _rerun(dataset: Dataset, result: IndicatorForecast) -> IndicatorForecast:
    p = result.params
    return forecast_indicator(dataset, result.indicator.id, region=p["region"],
                              models=tuple(p["models"]), n_paths=p["n_paths"], seed=p["seed"],
                              scenario=result.scenario,
                              target_years=tuple(p["target_years"]), backtest=p["backtest"])


def _one_year_earlier(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def tornado(dataset: Dataset, result: IndicatorForecast, *, volatility: tuple[float, float] = (0.75, 1.5),
            growth_shock: float = 0.03, shock_year: int | None = None, trend: float = 0.01,
            as_of_earlier: date | None = None, vintage: bool = True) -> pd.DataFrame:
    """P(hit) of each forecast target under one changed assumption at a time.

    One row per (assumption, variant, target) with columns ``assumption, variant, target_id,
    year, p, base`` plus ``note``; ``p`` is None where the variant gives no probability (the
    note says why). Assumptions: ``model choice`` (each surviving model alone; its share of
    the ensemble's paths), ``volatility`` (multipliers on each path's deviation from the
    median), ``growth shock`` (a permanent level shift of -/+ ``growth_shock`` on the
    modelling scale from ``shock_year``, default the first simulated year not over on the
    as-of date), ``trend`` (-/+ ``trend`` per year on the modelling scale, from that year),
    ``as_of`` (one year earlier unless given),
    ``data vintage`` (first releases instead of the chosen vintages) and, for a ratio such as
    labour productivity, ``employment ratio`` (held at each end of its assumed range), and for
    a share restated on its denominator's revised basis (R&D intensity), ``gdp basis`` (the
    targets read on the published history's basis instead, :attr:`IndicatorForecast.basis`).
    Sort with
    :func:`tornado_ranking`.
    """
    _require_paths(result)
    targets = result.forecast_targets
    base = {t.id: result.probabilities[t.id].p_in_year for t in targets}
    rows: list[dict] = []

    def add(assumption: str, variant: str, probs: dict[str, float | None],
            note: str | dict[str, str] = ""):
        for t in targets:
            rows.append({"assumption": assumption, "variant": variant, "target_id": t.id,
                         "year": t.year, "p": probs.get(t.id), "base": base[t.id],
                         "note": note.get(t.id, "") if isinstance(note, dict) else note})

    for model, probs in result.member_probabilities.items():
        add("model choice", model, {k: v.p_in_year for k, v in probs.items()})
    start = result.scenario_start  # the first year not over on the as-of date
    shock_year = shock_year or min(start, int(result.modelled.years[-1]))
    # named by their effect and by the series they act on (R&D intensity itself, GDP under
    # labour productivity): on the log (or, for a small share, logit) scale 0.03 is about 3%
    # of the level; a "growth shock" to R&D intensity is not a GDP shock
    series = result.modelled.indicator
    variants = [
        ("volatility", f"x{volatility[0]:g}", Scenario(name="low volatility", volatility=volatility[0])),
        ("volatility", f"x{volatility[1]:g}", Scenario(name="high volatility", volatility=volatility[1])),
        ("growth shock", f"{series} {-growth_shock:+.0%} in {shock_year}",
         Scenario(name="negative shock", shock_year=shock_year, shock_size=-growth_shock)),
        ("growth shock", f"{series} {growth_shock:+.0%} in {shock_year}",
         Scenario(name="positive shock", shock_year=shock_year, shock_size=growth_shock)),
        ("trend", f"{series} {-trend:+.0%}/yr from {start}",
         Scenario(name="slower trend", trend=-trend)),
        ("trend", f"{series} {trend:+.0%}/yr from {start}", Scenario(name="faster trend", trend=trend)),
    ]
    if result.employment is not None and result.employment.anchor:
        # the ratio is the one a known figure implies in each path: what rests on the figure
        # is the difference from the assumed range it replaced
        what, year, _ = result.employment.anchor
        assumed = dataset.registry.plan.employment(result.indicator.derived.denominator)
        # short enough for the chart's bar label; the note names the figure in full
        variants.append(("employment ratio", f"assumed {assumed.ratio[0]:.2f}-"
                         f"{assumed.ratio[1]:.2f}, not the {year} figure",
                         Scenario(name="assumed employment ratio", employment=assumed),
                         f"the assumed employment ratio, as if the {what} of {year} were "
                         "not known"))
    elif result.employment is not None:
        # the ratio's denominator is an assumption: hold it at each end of its stated range
        base_employment = result.employment
        for end in base_employment.ratio:
            variants.append(("employment ratio", f"ratio {end:.2f}", Scenario(
                name=f"employment ratio {end:.2f}",
                employment=dataclasses.replace(base_employment, ratio=(end, end)))))
    years = list(np.asarray(result.years))
    last_simulated = int(result.modelled.years[-1])
    for assumption, variant, scenario, *said in variants:
        if start > last_simulated and assumption in ("volatility", "trend"):
            # every simulated year is over on the as-of date (its figure not yet out): a trend
            # or volatility change acts only on years still to come, so these leave every P
            # at the base (a shock names its year, the last simulated one here, and acts)
            add(assumption, variant, dict(base), f"no effect: every simulated year (to "
                f"{last_simulated}) is over on the as-of date; it would act from {start}")
            continue
        paths = apply_scenario(result, scenario, dataset)
        if assumption == "growth shock" and series == result.indicator.id and \
                result.indicator.unit == "%" and shock_year in years:
            # a share's shock also in points, the unit its targets are read in
            at = years.index(shock_year)
            points = float(np.median(paths[:, at]) - np.median(result.paths[:, at]))
            variant += f" ({points:+.2f} pt)"
        # a change that starts after a target's year cannot move it: say so, not just "0"
        acts = {"growth shock": shock_year, "volatility": start, "trend": start}.get(assumption)
        add(assumption, variant,
            {t.id: target_probability(paths, result.years, t).p_in_year for t in targets},
            {t.id: f"no effect on {t.year}: it acts from {acts}"
             if acts is not None and t.year < acts else (said[0] if said else "")
             for t in targets})

    if result.basis:  # a share restated on its denominator's revised basis: P without it
        b = result.basis
        add(f"{b.denominator} basis", f"pre-census {b.denominator}", b.p_history_basis,
            f"the targets read on the published history's basis, {b.denominator} before its "
            f"{b.break_year} revision (no figure from {b.break_year} on will be)")
    earlier = as_of_earlier or _one_year_earlier(dataset.as_of)
    _data_variant(add, "as_of", f"as of {earlier}", dataset_as_of(dataset, earlier), result)
    if vintage:
        first = dataset_first_vintage(dataset)
        changed = any(not first.series(i, result.region).equals(dataset.series(i, result.region))
                      for i in _series_ids(result))
        if changed:
            _data_variant(add, "data vintage", "first releases", first, result)
        else:
            add("data vintage", "first releases", dict(base),
                "the first releases are the values already used: nothing to vary")
    return pd.DataFrame(rows)


def _data_variant(add, assumption: str, variant: str, dataset: Dataset,
                  result: IndicatorForecast) -> None:
    try:
        alt = _rerun(dataset, result)
    except InputError as exc:
        add(assumption, variant, {}, f"no forecast: {exc}")
        return
    if not alt.probabilities:
        add(assumption, variant, {}, f"no probability ({alt.status})")
        return
    # the series the forecast rests on: the indicator's own, or a ratio's components, and
    # the figure of the ratio itself that sets its employment ratio, if any
    lasts = {n: c.last_observed[0] for n, c in alt.components.items() if c.last_observed}
    last = (", ".join(f"{n} {y}" for n, y in lasts.items()) if result.indicator.derived
            else alt.history["year"].max() if not alt.history.empty else None)
    anchors = [r.employment.anchor if r.employment else None for r in (alt, result)]
    if anchors[0] != anchors[1]:
        last = f"{last}; employment ratio " + (
            f"implied by the {anchors[0][0]} of {anchors[0][1]}" if anchors[0]
            else f"assumed (the {anchors[1][0]} of {anchors[1][1]} not yet known)")
    same = ({n: c.last_observed for n, c in alt.components.items()}
            == {n: c.last_observed for n, c in result.components.items()}
            and alt.history[["year", "value"]].equals(result.history[["year", "value"]]))
    add(assumption, variant, {k: v.p_in_year for k, v in alt.probabilities.items()},
        f"last observation {last}" + ("; the same figures as the base (nothing that changes "
                                      "them was published in between)" if same else ""))


def tornado_ranking(table: pd.DataFrame, target_id: str) -> pd.DataFrame:
    """One row per assumption for ``target_id``: the lowest and highest probability over its
    variants and the base (with their names; "base" where the base is an end), the base, and
    the swing (high - low), largest swing first. An assumption with one variant, such as
    ``as_of``, thus swings from the base to that variant."""
    sub = table[table["target_id"] == target_id]
    out = []
    for assumption, group in sub.groupby("assumption", sort=False):
        valid = group.dropna(subset=["p"])
        if valid.empty:
            out.append({"assumption": assumption, "low": None, "low_variant": None,
                        "high": None, "high_variant": None, "base": group["base"].iloc[0],
                        "swing": 0.0,
                        "note": "; ".join(dict.fromkeys(n for n in group["note"] if n))})
            continue
        base = float(group["base"].iloc[0])
        ends = [(float(p), v) for p, v in zip(valid["p"], valid["variant"])] + [(base, "base")]
        (low, low_variant), (high, high_variant) = min(ends, key=lambda e: e[0]), \
            max(ends, key=lambda e: e[0])
        if high == low:  # every variant gives the base: naming one of them would mislead
            low_variant = high_variant = "no effect"
        out.append({"assumption": assumption, "low": low, "low_variant": low_variant,
                    "high": high, "high_variant": high_variant, "base": base,
                    "swing": high - low,
                    "note": "; ".join(dict.fromkeys(n for n in group["note"] if n))})
    return pd.DataFrame(out).sort_values("swing", ascending=False, ignore_index=True)


def run_scenarios(dataset: Dataset, result: IndicatorForecast,
                  scenarios: list[Scenario]) -> pd.DataFrame:
    """The base result and each named scenario side by side.

    One row per scenario (the base first) with ``scenario, description, applied,
    replaces_employment, years, paths`` (the ensemble paths, for plots), ``p_<target_id>`` per
    forecast target with ``change_p_<target_id>`` (minus the base's), ``joint``
    (P of meeting every target, from the same paths), ``median_<year>`` in each target year
    and ``note``. Every scenario is applied to the base paths with :func:`apply_scenario` (the
    numbers a re-run with the scenario would give); an employment assumption on an indicator
    that is not a ratio does not apply and is reported as such.
    """
    _require_paths(result)
    targets = result.forecast_targets
    years = np.asarray(result.years)

    def row(name, description, applied, paths, note="", replaces_employment=False):
        out = {"scenario": name, "description": description, "applied": applied,
               "replaces_employment": replaces_employment,
               "years": years, "paths": paths, "note": note}
        if paths is None:
            out.update({f"p_{t.id}": None for t in targets})
            out["joint"] = None
            return out
        for t in targets:
            at = paths[:, year_index(years, t.year)]
            out[f"p_{t.id}"] = float(np.mean(t.is_met(at)))
            out[f"median_{t.year}"] = float(np.median(at))
        out["joint"] = joint_probability(paths, years, targets) if len(targets) > 1 else None
        return out

    rows = [row(result.scenario.name, result.scenario.description, "base", result.paths,
                result.assumption or "")]
    base_employment = dataset.registry.employment_for(result.indicator.id)
    scenarios = [s.for_plan(base_employment) for s in scenarios]
    for scenario in scenarios:
        scenario.check_known(dataset.registry)
    for scenario in scenarios:
        why_not = scenario.mismatch(result.indicator)
        if why_not:
            rows.append(row(scenario.name, scenario.description, "not applicable", None, why_not))
            continue
        if scenario.employment is not None:
            if result.indicator.derived is None:
                rows.append(row(scenario.name, scenario.description, "not applicable", None,
                                f"an employment assumption applies only to a ratio indicator "
                                f"(labour productivity), not to {result.indicator.id}"))
                continue
            rows.append(row(scenario.name, scenario.description,
                            "GDP paths of the base, employment replaced",
                            apply_scenario(result, scenario, dataset),
                            "; ".join(t for t in (scenario.employment.describe(), _start_text(
                                dataset, result, scenario)) if t),
                            replaces_employment=True))
            continue
        try:
            paths = apply_scenario(result, scenario, dataset)
        except InputError as exc:
            why = _why_not_applicable(exc, scenario, result.indicator)
            if why is None:
                raise
            rows.append(row(scenario.name, scenario.description, "not applicable", None, why))
            continue
        rows.append(row(scenario.name, scenario.description,
                        f"applied to the base paths, {result.scenario_timing(scenario)}", paths))
    table = pd.DataFrame(rows)
    for t in targets:  # what each scenario moves, beside what it gives
        table[f"change_p_{t.id}"] = table[f"p_{t.id}"] - table[f"p_{t.id}"].iloc[0]
    return table


def parse_grid(text: str) -> np.ndarray:
    """Target levels from ``"START:STOP:STEP"`` (inclusive of STOP) or ``"A,B,C"``."""
    def bad(expected: str = "START:STOP:STEP with STEP > 0, or a comma-separated list"):
        return InputError(None, f"target grid '{text}'", field="targets", expected=expected)

    try:
        numbers = [float(x) for x in text.split(":" if ":" in text else ",") if x.strip()]
    except ValueError:
        raise bad() from None
    if not all(np.isfinite(numbers)):
        raise bad("finite numbers")
    if ":" not in text:
        if not numbers:
            raise bad()
        if len(numbers) > MAX_GRID:
            raise bad(f"at most {MAX_GRID} levels")
        return np.array(numbers)
    if len(numbers) != 3:
        raise bad()
    start, stop, step = numbers
    if stop < start:
        raise bad(f"START <= STOP, e.g. {stop:g}:{start:g}:{abs(step):g}")
    if step <= 0:
        raise bad("STEP > 0")
    if (stop - start) / step + 1 > MAX_GRID:  # checked before the grid is built: 0:1:1e-12
        raise bad(f"at most {MAX_GRID} levels: a larger STEP")
    return np.round(np.arange(start, stop + step / 2, step), 10)


#: target levels per sweep at most (each level is a column of every scenario's table)
MAX_GRID = 1000


def _levels_text(grid) -> str:
    values = [f"{v:g}" for v in np.asarray(grid, dtype=float)]
    return ", ".join(values) if len(values) <= 4 else f"{values[0]} ... {values[-1]}"


def _sweep_task(item: tuple) -> pd.DataFrame:
    """One scenario of a sweep: re-run the pipeline under it and read P(value >= level) in
    each target year for every level of the grid. Module-level so engines can ship it; the
    dataset travels with the item, so workers need no access to the project's files."""
    dataset, indicator, scenario, grid, kwargs = item
    why_not = scenario.mismatch(dataset.registry.indicator(indicator))
    if why_not:  # one scenario of a folder written for another indicator: said, not run
        return pd.DataFrame([{"scenario": scenario.name, "year": None, "level": None, "p": None,
                              "note": why_not}])
    try:
        result = forecast_indicator(dataset, indicator, scenario=scenario, **kwargs)
    except InputError as exc:
        why = _why_not_applicable(exc, scenario, dataset.registry.indicator(indicator))
        if why is None:
            raise
        return pd.DataFrame([{"scenario": scenario.name, "year": None, "level": None, "p": None,
                              "note": why}])
    if result.paths is None:
        return pd.DataFrame([{"scenario": scenario.name, "year": None, "level": None, "p": None,
                              "note": f"no probability ({result.status})"}])
    # an employment scenario changes nothing on a series of its own: no number, the note says so
    applies = scenario.employment is None or result.indicator.derived is not None
    # where it does not apply, the note is the run's note on why (not every note of the run)
    note = "\n".join(result.notes) if applies else next(
        (n for n in result.notes if n.startswith(f"scenario '{scenario.name}'")),
        "\n".join(result.notes))
    strata = [len(p) for p in result.member_paths.values()]  # result.paths, member by member
    frames = []
    for target in result.forecast_targets:
        p = mc = np.full(len(grid), np.nan)
        if applies:
            p = probability_curve(result.paths, result.years, target.year, grid,
                                  target.at_most)
            at = result.paths[:, year_index(result.years, target.year)]
            met = [dataclasses.replace(target, value=level).is_met(at) for level in grid]
            mc = np.array([1.96 * mc_standard_error(m, strata) for m in met])
        frames.append(pd.DataFrame({"scenario": scenario.name, "target_id": target.id,
                                    "year": target.year, "plan_target": target.value,
                                    "comparison": target.comparison,
                                    "level": grid, "p": p, "p_mc95": mc,
                                    "note": note}))
    return pd.concat(frames, ignore_index=True)


def _start_text(dataset: Dataset, result: IndicatorForecast, scenario: Scenario) -> str:
    """Where ``scenario``'s employment growth starts ("" for another assumption)."""
    start = employment_start(dataset, result.region, scenario.employment, result.indicator)
    return start.text() if start else ""


def _why_not_applicable(exc: InputError, scenario: Scenario, indicator) -> str | None:
    """Why a scenario that raised ``exc`` on ``indicator`` is shown as not applicable (a
    table of scenarios goes on), or None when the error is the file's own and stops the run."""
    if exc.field == "as_of":  # no simulated year left to act on
        return exc.message
    if scenario.holds_numerator_of(indicator) and exc.field not in SCENARIO_FIELDS:
        # a GDP scenario where GDP cannot be simulated (a region without enough of it)
        return f"{scenario.on} cannot be simulated here: {exc.message}"
    return None


#: fields of a scenario file whose errors are the file's own (not "GDP cannot be simulated
#: here"), so a GDP scenario on R&D intensity raises them as it does on labour productivity
SCENARIO_FIELDS = ("from", "growth_shock.year")


def levels_off_the_plan(dataset: Dataset, indicator: str, grid,
                        targets: list | None = None) -> np.ndarray:
    """The levels of ``grid`` more than :data:`MAGNITUDE_LIMIT` times above or below the
    median of the plan's targets for ``indicator`` (or of ``targets``, a user's own; none
    when there are none): a sweep refuses a grid of only such levels, and `forecast
    sensitivity` names them in a mixed one (``0.04,4.1``: one level typed as a fraction)."""
    plan = [t.value for t in targets or dataset.registry.targets_for(indicator)]
    reference = float(np.median(np.abs(plan))) if plan else 0.0
    grid = np.asarray(grid, dtype=float)
    if reference <= 0:
        return grid[:0]
    levels = np.abs(grid)
    # 0 is a level typed on purpose (the floor of a sweep), not a unit slip
    return grid[(levels > MAGNITUDE_LIMIT * reference)
                | ((levels > 0) & (levels < reference / MAGNITUDE_LIMIT))]


def sweep(dataset: Dataset, indicator: str, grid: np.ndarray, scenarios: list[Scenario], *,
          engine: str = "local", jobs: int | None = None, scheduler: str | None = None,
          progress: bool = True, **kwargs) -> pd.DataFrame:
    """P(value in each target year >= level) for every (scenario, level) combination (<= for
    a target that is a ceiling).

    Each scenario is a full re-run of :func:`forecast.pipeline.forecast_indicator` with the
    given keyword arguments (models, n_paths, seed, backtest, ...), so a scenario may change
    anything the pipeline takes; the runs are spread over ``engine`` (see
    :mod:`forecast.engine`). With the same seed every engine gives identical numbers.
    Columns: ``scenario, target_id, year, plan_target, comparison, level, p, p_mc95`` (the
    95% Monte Carlo error of ``p``) and ``note``; ``targets`` (a user's own) replace the
    plan's, their years and directions read at every level.
    """
    ind = dataset.registry.indicator(indicator)
    outside = [float(v) for v in np.asarray(grid, dtype=float) if not ind.in_bounds(float(v))]
    if outside:
        raise InputError(None, f"target level(s) {', '.join(f'{v:g}' for v in outside)} outside "
                         f"what {indicator} can take", field="targets", expected=ind.bounds_text())
    off = levels_off_the_plan(dataset, indicator, grid, kwargs.get("targets"))
    nonzero = int(np.count_nonzero(np.asarray(grid, dtype=float)))
    if len(off) and len(off) == nonzero:  # 0:0.05:0.01 is a fraction grid that starts at 0
        # 0.041 for 4.1 %: every level far off the plan's own targets is a unit slip, whose
        # sweep would print >99.9% everywhere without a word
        plan = [t.value for t in kwargs.get("targets") or dataset.registry.targets_for(indicator)]
        raise InputError(None, f"every target level ({_levels_text(grid)}) is more than "
                         f"{MAGNITUDE_LIMIT:g}x off the plan's targets for {indicator} "
                         f"({', '.join(f'{v:g}' for v in plan)} {ind.unit}): a wrong unit?",
                         field="targets", expected=f"levels in {ind.unit}, e.g. around "
                         f"{plan[0]:g}")
    if not scenarios:
        raise InputError(None, "no scenarios to sweep", field="scenarios",
                         expected="at least one scenario")
    scenarios = [s.for_plan(dataset.registry.employment_for(indicator)) for s in scenarios]
    for scenario in scenarios:
        scenario.check_known(dataset.registry)
    items = [(dataset, indicator, s, np.asarray(grid, dtype=float), kwargs) for s in scenarios]
    frames = run_tasks(_sweep_task, items, engine=engine, jobs=jobs, scheduler=scheduler,
                       desc=f"sweep {indicator}", progress=progress)
    with warnings.catch_warnings():
        # a scenario that does not apply is one all-NA row with its note: pandas warns that
        # such rows will stop setting column types, which is what is wanted here
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat(frames, ignore_index=True)
