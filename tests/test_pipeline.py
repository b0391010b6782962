"""One indicator end to end, on the shipped data and on synthetic series (named as such)."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import cli, data
from forecast.errors import InputError
from forecast.pipeline import forecast_indicator
from forecast.scenario import (Employment, Scenario, first_open_year, load_scenario,
                               load_scenarios)

from test_data import row, write_csv

REPO = Path(__file__).resolve().parents[1]
from conftest import FAST, copy_registry, hz_employment, copy_project


def run(dataset, indicator, **kw):
    kw.setdefault("models", FAST)
    kw.setdefault("n_paths", 1000)
    return forecast_indicator(dataset, indicator, **kw)


def test_rd_intensity_probabilities_are_sane_and_reproducible(shipped):
    a = run(shipped, "rd_intensity", seed=7)
    b = run(shipped, "rd_intensity", seed=7)
    c = run(shipped, "rd_intensity", seed=8)
    assert a.status == "probability" and set(a.probabilities) == {"rd_intensity_2025", "rd_intensity_2027"}
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert not np.array_equal(a.paths, c.paths)
    for p in a.probabilities.values():
        assert 0 <= p.p_in_year <= p.p_by_year <= 1
    assert 0 <= a.joint["p_all_met"] <= min(p.p_in_year for p in a.probabilities.values())
    assert np.all((a.paths > 0) & (a.paths < 100))     # a share stays within its bounds
    assert list(a.years) == [2024, 2025, 2026, 2027]   # last observation 2023
    comp = a.components["rd_intensity"]
    assert sum(comp.weighting.weights.values()) == pytest.approx(1)
    assert {"coverage_80", "coverage_95", "crps"} <= set(comp.calibration)
    # scored in the published unit (percent of GDP), like the weights
    assert comp.calibration["scale"] == "published" and comp.calibration["unit"] == "%"


def test_as_of_uses_only_what_was_published(shipped):
    early = run(data.load("2020-12-31"), "rd_intensity", n_paths=500, backtest=False)
    assert early.history["year"].max() == 2019
    assert list(early.years)[0] == 2020


def synthetic_root(tmp_path: Path, values: dict[int, float], vintage="synthetic test series") -> Path:
    (tmp_path / "data" / "raw" / "series").mkdir(parents=True)
    copy_registry(tmp_path)
    write_csv(tmp_path / "data" / "raw" / "series" / "synthetic.csv",
              [row(year=str(y), value=f"{v:.4f}", vintage=vintage, published=f"{y + 1}-06-30")
               for y, v in values.items()])
    return tmp_path


def test_observed_target_year_is_reported_not_forecast(tmp_path):
    values = {y: 2.5 + 0.1 * (y - 2010) for y in range(2010, 2026)}  # 2025: 4.0, synthetic
    values[2025] = 3.9
    root = synthetic_root(tmp_path, values, vintage="synthetic preliminary estimate")
    result = run(data.load(2026, root), "rd_intensity")
    obs = result.observed["rd_intensity_2025"]
    assert obs["value"] == pytest.approx(3.9) and obs["met"] is False and obs["preliminary"]
    assert "rd_intensity_2025" not in result.probabilities
    assert "rd_intensity_2027" in result.probabilities and result.joint is None
    # the same data seen from mid-2025: nothing observed yet, both forecast
    before = run(data.load("2025-12-31", root), "rd_intensity")
    assert not before.observed and set(before.probabilities) == {"rd_intensity_2025", "rd_intensity_2027"}


def test_synthetic_steady_growth_far_above_target_is_near_certain(tmp_path):
    values = {y: 3.0 + 0.3 * (y - 2010) for y in range(2010, 2024)}   # synthetic, 6.9 by 2023
    result = run(data.load(2026, synthetic_root(tmp_path, values)), "rd_intensity")
    assert result.probabilities["rd_intensity_2025"].p_in_year > 0.95
    falling = {y: 5.0 - 0.1 * (y - 2010) for y in range(2010, 2024)}  # synthetic, 3.7 by 2023
    result = run(data.load(2026, synthetic_root(tmp_path / "b", falling)), "rd_intensity")
    assert result.probabilities["rd_intensity_2027"].p_in_year < 0.05


def test_no_history_gives_no_number(shipped):
    result = run(shipped, "brand_sales_share_mfg")
    assert result.status == "not forecastable" and not result.probabilities
    assert "forecast data add" in " ".join(result.notes)


def test_short_history_gives_pace_only(shipped):
    result = run(shipped, "digital_core_share_gdp")
    assert result.status == "pace only" and not result.probabilities
    assert result.pace["digital_core_share_gdp_2025"].ratio is not None


def test_a_pace_on_a_secondary_figure_says_so(shipped):
    pc = run(shipped, "air_quality_good_days_ratio").pace["air_quality_good_days_ratio_2025"]
    history = shipped.rows("air_quality_good_days_ratio", "Hangzhou").set_index("year")
    # both figures the rates rest on (2013 and 2021) are secondary: both are named
    assert [y for y, _ in pc.lower_grade_sources] == [pc.base_year, pc.last_year]
    assert all(grade == history.loc[y, "reliability"] for y, grade in pc.lower_grade_sources)
    assert pc.source_caveat().startswith(f"rests on lower-grade figures ({pc.base_year}: secondary")
    assert replace(pc, lower_grade_sources=()).source_caveat() == ""


def test_labour_productivity_rests_on_a_stated_assumption(shipped):
    low = run(shipped, "labour_productivity",
              scenario=Scenario(employment=hz_employment(ratio=(0.55, 0.60))), backtest=False)
    high = run(shipped, "labour_productivity",
               scenario=Scenario(employment=hz_employment(ratio=(0.80, 0.85))), backtest=False)
    assert "0.55" in low.assumption and "permanent_population_yearend" in low.assumption
    # more people employed for the same GDP means lower productivity
    for tid in ("labour_productivity_2025", "labour_productivity_2027"):
        assert low.probabilities[tid].p_in_year > high.probabilities[tid].p_in_year
        # the break-even ratio and employment level rest on GDP and population only, not on
        # the assumed ratio range; employment growth counts from population x that range
        # (the sourced employment, 2015, predates the census recount)
        drop = lambda entry: {k: v for k, v in entry.as_dict().items()  # noqa: E731
                              if k not in ("p_at_ratio", "gdp_growth_needed",  # per ratio
                                           "employment_growth_per_year", "employment_growth_base")}
        assert drop(low.break_even[tid]) == drop(high.break_even[tid])
    growth = lambda r: r.break_even["labour_productivity_2027"].growth  # noqa: E731
    assert growth(low) > growth(high)  # fewer employed to start from: more room to grow
    assert set(low.components) == {"gdp", "permanent_population_yearend"}


def test_break_even_ratio_is_where_probability_is_half(shipped):
    base = run(shipped, "labour_productivity", backtest=False, n_paths=4000)
    ratio = base.break_even["labour_productivity_2027"].ratio
    if ratio is None:
        pytest.skip("50% not crossed within the searched ratio range")
    at = run(shipped, "labour_productivity", backtest=False, n_paths=4000,
             scenario=Scenario(employment=hz_employment(ratio=(ratio, ratio))))
    assert at.probabilities["labour_productivity_2027"].p_in_year == pytest.approx(0.5, abs=0.05)


def test_p_held_at_the_ends_of_the_assumed_ratio_is_a_run_with_that_ratio(shipped):
    base = run(shipped, "labour_productivity", backtest=False)
    held = base.break_even["labour_productivity_2027"].p_at_ratio
    assert list(held) == ["0.58", "0.66", "0.74"]
    assert list(held.values()) == sorted(held.values(), reverse=True)  # more employed, lower
    at = run(shipped, "labour_productivity", backtest=False,
             scenario=Scenario(employment=hz_employment(ratio=(0.74, 0.74))))
    assert held["0.74"] == pytest.approx(at.probabilities["labour_productivity_2027"].p_in_year)
    # the GDP growth 28 in 2027 takes, from the newest GDP: more employed, more growth; and
    # GDP growing at it on every path would leave the target met at the median
    need = base.break_even["labour_productivity_2027"].gdp_growth_needed
    gdp = shipped.series("gdp")
    assert need.start == f"{gdp.iloc[-1]:.0f} 亿元 in {gdp.index[-1]}"
    rates = list(need.by_ratio.values())
    assert rates == sorted(rates)
    pop = base.components["permanent_population_yearend"].paths()
    pop_2027 = np.median(pop[:, list(base.components["permanent_population_yearend"].years)
                             .index(2027)])
    implied = gdp.iloc[-1] * (1 + need.by_ratio["0.66"]) ** (2027 - gdp.index[-1])
    assert implied / (pop_2027 * 0.66) == pytest.approx(28, rel=0.02)


def test_break_even_employment_growth_is_where_probability_is_half(shipped):
    # the default ensemble (models=None), whose GDP spread makes the starting level matter
    base = run(shipped, "labour_productivity", backtest=False, n_paths=10000, models=None)
    growth = base.break_even["labour_productivity_2027"].growth
    assert growth is not None
    at = run(shipped, "labour_productivity", backtest=False, n_paths=10000, models=None,
             scenario=Scenario(employment=hz_employment(method="growth", growth=(growth, growth))))
    # the break-even reads the starting levels the scenario draws over the ratio range, path
    # by path (the range's middle gave 52.6%; a stream of its own, 49-51% by seed)
    assert at.probabilities["labour_productivity_2027"].p_in_year == pytest.approx(0.5, abs=0.002)
    assert any("before the 2020 census" in n for n in at.notes)


def add_user_rows(tmp_path, rows) -> Path:
    """A copy of the shipped raw data plus user rows (the documented `data add` route)."""
    root = tmp_path / "proj"
    copy_project(root)
    write_csv(root / "data" / "raw" / "user" / "mine.csv", rows)
    return root


@pytest.mark.parametrize("extra", [
    # GDP published for 2025 while employment and population are not (synthetic value)
    dict(indicator="gdp", unit="亿元", value="23000", vintage="synthetic test GDP"),
    # population published for 2025 while GDP is not (synthetic value)
    dict(indicator="permanent_population_yearend", unit="万人", value="1275",
         vintage="synthetic test population"),
])
def test_ratio_components_ending_in_different_years(tmp_path, extra):
    root = add_user_rows(tmp_path, [row(year="2025", published="2026-02-01", **extra)])
    dataset = data.load("2026-11-27", root)
    result = run(dataset, "labour_productivity", backtest=False)
    assert list(result.years) == [2025, 2026, 2027]
    assert set(result.probabilities) == {"labour_productivity_2025", "labour_productivity_2027"}
    assert np.all(np.isfinite(result.paths)) and np.all(result.paths > 0)
    # the component with a 2025 value is simulated only after it; the other from 2025 on
    simulated = {name: list(c.years) for name, c in result.components.items()}
    assert simulated[extra["indicator"]] == [2026, 2027]
    other = ({"gdp", "permanent_population_yearend"} - {extra["indicator"]}).pop()
    assert simulated[other] == [2025, 2026, 2027]


def test_a_published_labour_productivity_sets_the_employment_ratio(tmp_path):
    """A user's official labour productivity used to be ignored by the forecast (the
    assumed 0.58-0.74 ratio stayed). Now the newest published value on the population's
    basis fixes the ratio: 18 (synthetic) in 2021, with GDP and population published for
    2021, implies one ratio, held in later years."""
    lp = dict(indicator="labour_productivity", unit="万元/人", vintage="synthetic test LP")
    root = add_user_rows(tmp_path, [row(year="2021", value="18", published="2022-04-01", **lp)])
    dataset = data.load("2026-11-27", root)
    result = run(dataset, "labour_productivity", backtest=False)
    gdp, pop = dataset.series("gdp")[2021], dataset.series("permanent_population_yearend")[2021]
    ratio = dataset.registry.indicator("labour_productivity").derived.factor * gdp / (18 * pop)
    assert result.employment.anchor == ("published labour_productivity", 2021, 18.0)
    assert result.employment.ratio == pytest.approx((ratio, ratio))
    assert "that the published labour_productivity of 2021 (18) implies" in result.assumption
    # every path: GDP / (population x that ratio)
    years = list(result.years)
    gdp_paths = np.concatenate(list(result.components["gdp"].member_paths().values()))
    pop_paths = result.components["permanent_population_yearend"].paths()
    at = years.index(2027)
    gdp27 = gdp_paths[:, list(result.components["gdp"].years).index(2027)]
    pop27 = pop_paths[:, list(result.components["permanent_population_yearend"].years).index(2027)]
    np.testing.assert_allclose(result.paths[:, at],
                               dataset.registry.indicator("labour_productivity").derived.factor
                               * gdp27 / (pop27 * ratio))
    baseline = run(data.load("2026-11-27"), "labour_productivity", backtest=False)
    assert result.probabilities["labour_productivity_2027"].p_in_year != \
        baseline.probabilities["labour_productivity_2027"].p_in_year
    # nothing left to imply for the year the figure is published in
    assert result.implied_last is None or result.implied_last.year > 2021
    # P held at fixed ratios would cut each path from the figure: not offered under an anchor
    assert all(e.p_at_ratio is None for e in result.break_even.values())
    assert result.to_dict()["employment"]["anchor"] == ["published labour_productivity", 2021,
                                                        18.0]
    # one implied ratio is printed as one value, not "0.67-0.67"
    text = cli.render_forecast(result)
    assert f"(the published labour_productivity of 2021 implies {ratio:.2f})" in text
    assert f"{ratio:.2f}-{ratio:.2f}" not in text
    # a scenario's own employment assumption is taken as given, and says what it sets aside
    low = run(dataset, "labour_productivity", backtest=False, scenario=load_scenario(
        REPO / "notebooks" / "scenarios" / "employment_low_ratio.yaml"))
    assert low.employment.anchor is None
    assert any("states its own employment, in place of the ratio the published "
               "labour_productivity of 2021 (18) implies" in n for n in low.notes)
    # ... and a GDP scenario applied to the anchored result equals a re-run with it
    from forecast.sensitivity import apply_scenario
    slow = load_scenario(REPO / "notebooks" / "scenarios" / "gdp_slowdown.yaml")
    rerun = run(dataset, "labour_productivity", backtest=False, scenario=slow)
    np.testing.assert_allclose(apply_scenario(result, rerun.scenario, dataset), rerun.paths)


def test_a_labour_productivity_figure_before_the_recount_is_named_and_set_aside(tmp_path):
    lp = dict(indicator="labour_productivity", unit="万元/人", vintage="synthetic test LP")
    root = add_user_rows(tmp_path, [row(year="2019", value="18", published="2020-04-01", **lp)])
    result = run(data.load("2026-11-27", root), "labour_productivity", backtest=False)
    assert result.employment.anchor is None
    assert any(n.startswith("the published labour_productivity of 2019 (18) is not used for "
                            "the employment ratio: it is before the 2020 census recount")
               for n in result.notes)


def test_a_published_target_year_value_is_where_every_path_stands(tmp_path):
    """Labour productivity published for 2025 while GDP 2025 is not: each path's ratio is
    the one that makes its 2025 value the published figure."""
    lp = dict(indicator="labour_productivity", unit="万元/人", vintage="synthetic test LP")
    root = add_user_rows(tmp_path, [row(year="2025", value="21.5", published="2026-04-01", **lp)])
    result = run(data.load("2026-11-27", root), "labour_productivity", backtest=False)
    assert result.observed["labour_productivity_2025"]["value"] == 21.5
    np.testing.assert_allclose(result.paths[:, list(result.years).index(2025)], 21.5)
    lo, hi = result.employment.ratio
    assert lo < hi  # one ratio per path: GDP 2025 is simulated
    assert set(result.probabilities) == {"labour_productivity_2027"}
    # 21.5 implies more employment than the range the suite assumes without a figure: said
    assert hi > 0.74 and any("outside the 0.58-0.74 the suite assumes without it" in n
                             for n in result.notes)
    # with GDP 2025 published as well the simulation starts after 2025; population 2025 is
    # still simulated, and the figure still sets the ratio (it was dropped without a word)
    gdp = dict(indicator="gdp", unit="亿元", value="23000", vintage="synthetic test GDP")
    root2 = add_user_rows(tmp_path / "two", [
        row(year="2025", value="21.5", published="2026-04-01", **lp),
        row(year="2025", published="2026-02-01", **gdp)])
    both = run(data.load("2026-11-27", root2), "labour_productivity", backtest=False)
    assert both.employment.anchor == ("published labour_productivity", 2025, 21.5)
    assert list(both.years)[0] == 2026
    pop25 = both.components["permanent_population_yearend"]
    implied = 23000 / (21.5 * pop25.paths()[:, list(pop25.years).index(2025)])
    assert both.employment.ratio == pytest.approx(tuple(np.quantile(implied, [0.1, 0.9])))


def test_labour_productivity_derived_from_published_employment_sets_the_ratio_as_such(tmp_path):
    emp = dict(indicator="employed_persons", unit="万人", vintage="synthetic test employment")
    root = add_user_rows(tmp_path, [row(year="2023", value="800", published="2024-04-01", **emp)])
    dataset = data.load("2026-11-27", root)
    result = run(dataset, "labour_productivity", backtest=False)
    what, year, _ = result.employment.anchor
    assert (what, year) == ("labour_productivity derived from published employed_persons", 2023)
    ratio = 800 / dataset.series("permanent_population_yearend")[2023]
    assert result.employment.ratio == pytest.approx((ratio, ratio))
    # the tornado does not vary a ratio the data fix at fixed values: it shows what rests on
    # the figure, P with the assumed range instead
    from forecast.sensitivity import tornado
    table = tornado(dataset, result)
    row_ = table[(table["assumption"] == "employment ratio")
                 & (table["target_id"] == "labour_productivity_2027")]
    # named short enough for the chart's bar label, the figure named in full in the note
    assert list(row_["variant"]) == ["assumed 0.58-0.74, not the 2023 figure"]
    assert list(row_["note"]) == ["the assumed employment ratio, as if the labour_productivity "
                                  "derived from published employed_persons of 2023 were not "
                                  "known"]
    plain = run(data.load("2026-11-27"), "labour_productivity", backtest=False)
    assert row_["p"].iloc[0] == pytest.approx(
        plain.probabilities["labour_productivity_2027"].p_in_year)
    # employment growth to the break-even is counted from the employment the figure implies
    growth_base = result.break_even["labour_productivity_2027"].growth_base
    assert growth_base.startswith("800 万人 in 2023 (implied by the labour_productivity derived")


def test_labour_productivity_before_enough_population_history_says_why_and_the_way_out():
    early = data.load("2022-12-31")
    result = run(early, "labour_productivity", backtest=False)
    assert result.status == "not forecastable" and not result.probabilities
    reason = " ".join(c.reason for c in result.coverage.values())
    assert "there are 2" in reason and "growth" in reason   # 2020-2021 published by then
    with_growth = run(early, "labour_productivity", backtest=False,
                      scenario=Scenario(employment=hz_employment(method="growth")))
    assert with_growth.status == "probability" and with_growth.probabilities
    with pytest.raises(InputError, match="employment"):  # the pipeline's own guard still holds
        from forecast.employment import employment_paths
        employment_paths(early, "Hangzhou", np.arange(2023, 2028), hz_employment(), 100, 1)
    # with too little GDP as well the growth assumption would not help, and is not offered
    ancient = run(data.load("1990-12-31"), "labour_productivity", backtest=False)
    assert ancient.status == "not forecastable"
    assert "employment_growth.yaml" not in " ".join(c.reason for c in ancient.coverage.values())


def test_target_at_the_bound_gets_no_probability(tmp_path):
    values = [("2015", "99.90"), ("2016", "99.91"), ("2017", "99.93"), ("2018", "99.92"),
              ("2019", "99.94"), ("2020", "99.95"), ("2021", "99.94"), ("2022", "99.96")]
    root = add_user_rows(tmp_path, [row(indicator="engineering_first_inspection_pass_rate",
                                        year=y, value=v, vintage="synthetic test series",
                                        published=f"{int(y) + 1}-03-01") for y, v in values])
    result = run(data.load("2026-11-27", root), "engineering_first_inspection_pass_rate")
    assert result.status == "pace only" and not result.probabilities
    assert "bound" in " ".join(result.notes)


def test_other_region_is_assessed_on_its_own_data(shipped):
    zj = run(shipped, "rd_intensity", region="Zhejiang", backtest=False)
    assert zj.coverage["rd_intensity_2027"].region == "Zhejiang"
    assert zj.history["year"].max() == 2025 and "rd_intensity_2025" in zj.observed
    with pytest.raises(InputError, match="region"):
        run(shipped, "rd_intensity", region="Nowhere")


def test_scenarios_move_the_probability_the_right_way(shipped):
    base = run(shipped, "rd_intensity", backtest=False)
    shock = run(shipped, "rd_intensity", backtest=False,
                scenario=Scenario(name="shock", shock_year=2024, shock_size=-0.1))
    wide = run(shipped, "rd_intensity", backtest=False, scenario=Scenario(volatility=2.0))
    tid = "rd_intensity_2027"
    assert shock.probabilities[tid].p_in_year < base.probabilities[tid].p_in_year
    spread = lambda r: r.probabilities[tid].q90 - r.probabilities[tid].q10
    assert spread(wide) > 1.5 * spread(base)


def test_a_trend_scenario_acts_from_the_first_year_not_over_on_the_as_of_date(shipped):
    # as of 2026-11-27 R&D is simulated for 2024-2027; 2024 and 2025 are over (only not yet
    # published), so a policy scenario cannot change them: P(2025) stays, P(2027) moves
    base = run(shipped, "rd_intensity", backtest=False)
    fast = run(shipped, "rd_intensity", backtest=False, scenario=Scenario(trend=0.05))
    assert list(base.years) == [2024, 2025, 2026, 2027]
    assert any(n.startswith("rd_intensity: 2024-2025 are over but not in the data") for n in base.notes)
    same, moved = "rd_intensity_2025", "rd_intensity_2027"
    assert fast.probabilities[same].p_in_year == base.probabilities[same].p_in_year
    assert fast.probabilities[moved].p_in_year > base.probabilities[moved].p_in_year + 0.1
    # 'from' moves the start: from 2025 on, the 2025 target moves too
    early = run(shipped, "rd_intensity", backtest=False, scenario=Scenario(trend=0.05, start=2025))
    assert early.probabilities[same].p_in_year > base.probabilities[same].p_in_year + 0.1
    # ... and the note on the over years says so instead of "does not change them"
    over_note = lambda r: next(n for n in r.notes if "are over but not in the data" in n)
    assert over_note(base).endswith("does not change them unless its 'from' names one of them")
    assert over_note(fast) == over_note(base)
    assert over_note(early).endswith("but this scenario's trend or volatility acts from 2025, "
                                     "so it changes them too")
    # labour productivity: the scenario acts on GDP (simulated 2025-2027) from 2026 too
    lp = run(shipped, "labour_productivity", backtest=False)
    lp_fast = run(shipped, "labour_productivity", backtest=False, scenario=Scenario(trend=0.05))
    assert lp_fast.probabilities["labour_productivity_2025"].p_in_year == \
        lp.probabilities["labour_productivity_2025"].p_in_year


def test_scenario_changes_that_would_change_nothing_are_errors():
    z = np.zeros((10, 4))
    years = np.arange(2024, 2028)
    for scenario, field in ((Scenario(shock_year=2019, shock_size=-0.03), "growth_shock.year"),
                            (Scenario(shock_year=2035, shock_size=-0.03), "growth_shock.year"),
                            (Scenario(trend=0.01, start=2030), "from")):
        with pytest.raises(InputError, match="rd_intensity is simulated for 2024-2027") as info:
            scenario.apply(z, years, 2026, "rd_intensity")
        assert info.value.field == field
    # the default start is the first open year, never before the first simulated year
    out = Scenario(trend=0.01).apply(z, years, 2026)
    assert np.allclose(out[0], [0, 0, 0.01, 0.02])
    assert np.allclose(Scenario(trend=0.01).apply(z, years, 2020)[0], [0.01, 0.02, 0.03, 0.04])
    assert first_open_year(date(2026, 11, 27)) == 2026
    assert first_open_year(date(2026, 12, 31)) == 2027


def test_bad_parameters_are_named(shipped):
    with pytest.raises(InputError, match="2026"):
        run(shipped, "rd_intensity", target_years=(2026,))
    with pytest.raises(InputError, match="models"):
        run(shipped, "rd_intensity", models=("rw_drift", "neural_net"))
    with pytest.raises(InputError, match="n_paths"):
        run(shipped, "rd_intensity", n_paths=10)
    with pytest.raises(InputError, match="more than memory allows"):
        run(shipped, "rd_intensity", n_paths=10**9)
    with pytest.raises(InputError, match="seed"):
        run(shipped, "rd_intensity", seed=-1)
    with pytest.raises(InputError, match="named twice: rw_drift"):
        run(shipped, "rd_intensity", models=("rw_drift", "rw_drift"))
    with pytest.raises(InputError, match="unknown indicator 'rd_intensty'; did you mean "
                                         "'rd_intensity'"):
        run(shipped, "rd_intensty")
    with pytest.raises(InputError) as info:
        run(shipped, "zzz")
    assert "did you mean" not in info.value.message  # nothing close: no guess
    with pytest.raises(InputError, match="did you mean 'Hangzhou'"):
        run(shipped, "rd_intensity", region="hangzhou")
    with pytest.raises(InputError, match="did you mean 'rw_drift'"):
        run(shipped, "rd_intensity", models=("rw_drif",))
    with pytest.raises(InputError, match="no target"):
        run(shipped, "gdp")


def test_scenario_file_errors(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("name: x\nvolatility: -1\n", encoding="utf-8")
    with pytest.raises(InputError, match="volatility"):
        load_scenario(bad)
    bad.write_text("name: x\nspeed: 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown key"):
        load_scenario(bad)
    bad.write_text("employment: {method: population_ratio, ratio: [0.8, 0.6]}\n", encoding="utf-8")
    with pytest.raises(InputError, match="employment.ratio"):
        load_scenario(bad)
    for text, field in (("employment: {ratios: [0.6, 0.7]}", "employment.ratios"),
                        ("employment: {population_since: abc}", "employment.population_since"),
                        ("employment: {method: growth, growth: [-0.5, -0.4]}", "employment.growth")):
        bad.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_scenario(bad)
        assert info.value.field == field
    # a percentage typed as a number would wipe out the paths: rejected, with the scale's hint
    for text, field, hint in (("growth_shock: {year: 2026, size: -3}", "growth_shock.size",
                               "-0.03 is about -3%"),
                              ("trend: 1", "trend", "0.01 is about +1% a year"),
                              ("volatility: 0", "volatility", "multiplier"),
                              ("from: '2026'", "from", "a year")):
        bad.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(InputError, match=re.escape(hint)) as info:
            load_scenario(bad)
        assert info.value.field == field
    for text, field in (("growth_shock: {year: 2026}", "growth_shock"),
                        ("growth_shock: {year: 2026, size: -0.03, sizee: 5}", "growth_shock")):
        bad.write_text(text + "\n", encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_scenario(bad)
        assert info.value.field == field
    bad.write_text("trend: 0.01\n", encoding="utf-16")
    with pytest.raises(InputError, match="UTF-8"):
        load_scenario(bad)
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "missing.yaml")


def test_a_gdp_scenario_on_rd_intensity_holds_rd_spending_and_moves_the_share(shipped, tmp_path):
    """"GDP two points slower" on R&D intensity used to cut the intensity itself (P(2027)
    52% -> 13%), the opposite of what a smaller denominator does; then it was refused. Now it
    acts on GDP with R&D spending held on the baseline's path: intensity x base GDP / GDP."""
    from forecast.sensitivity import apply_scenario, run_scenarios
    path = tmp_path / "gdp_slower.yaml"
    path.write_text("name: gdp_slower\ntrend: -0.02\nacts_on: gdp\n", encoding="utf-8")
    scenario = load_scenario(path)
    base = run(shipped, "rd_intensity", backtest=False)
    slow = run(shipped, "rd_intensity", backtest=False, scenario=scenario)
    years = list(slow.years)
    # 2025 is over on the as-of date: unchanged; in 2027 GDP is exp(-0.02 x 2) lower on every
    # path (trend from 2026), so the share is exp(0.04) higher on every path
    np.testing.assert_allclose(slow.paths[:, years.index(2025)], base.paths[:, years.index(2025)])
    np.testing.assert_allclose(slow.paths[:, years.index(2027)] / base.paths[:, years.index(2027)],
                               np.exp(0.04), rtol=1e-9)
    assert slow.probabilities["rd_intensity_2027"].p_in_year > \
        base.probabilities["rd_intensity_2027"].p_in_year
    assert "rd_expenditure held" in slow.scenario_timing() and "on gdp" in slow.scenario_timing()
    assert any("rd_intensity = baseline rd_intensity x baseline gdp / scenario gdp, path by "
               "path (the arithmetic of a share under a stated response of rd_expenditure, not "
               "a forecast of it" in n for n in slow.notes)
    # the GDP behind the spending requirement is the scenario's: less spending growth needed
    assert slow.required["rd_intensity_2027"].median < base.required["rd_intensity_2027"].median
    # applied to a baseline result without a re-run it gives the same numbers, and leaves the
    # base result as it was
    components = set(base.components)
    np.testing.assert_allclose(apply_scenario(base, scenario, shipped), slow.paths)
    assert set(base.components) == components
    # the growth printed under a GDP scenario that does nothing is the baseline's (it used to
    # include the census restatement)
    idle = run(shipped, "rd_intensity", backtest=False,
               scenario=Scenario(name="idle", trend=1e-12, on="gdp"))
    assert idle.median_growth("rd_intensity")["ensemble"] == pytest.approx(
        base.median_growth("rd_intensity")["ensemble"], abs=1e-6)
    table = run_scenarios(shipped, base, [scenario]).set_index("scenario")
    assert "rd_expenditure held" in table.loc["gdp_slower", "applied"]
    # on labour productivity the same file acts on GDP as the numerator: it falls
    lp = run(shipped, "labour_productivity", backtest=False, scenario=scenario)
    lp_base = run(shipped, "labour_productivity", backtest=False)
    assert lp.probabilities["labour_productivity_2027"].p_in_year < \
        lp_base.probabilities["labour_productivity_2027"].p_in_year


def test_a_gdp_scenario_states_how_rd_spending_responds(shipped, tmp_path):
    """Spending held (elasticity 0) makes a GDP slowdown raise R&D intensity; an economist
    may think spending follows GDP. numerator_elasticity E: intensity x (base / scenario
    GDP)^(1 - E); E = 1 leaves the intensity as the baseline has it."""
    base = run(shipped, "rd_intensity", backtest=False)
    at = list(base.years).index(2027)
    ratios = {}
    for e in (0.0, 0.5, 1.0, 1.5):
        path = tmp_path / f"e{e}.yaml"
        path.write_text(f"name: e\ntrend: -0.02\nacts_on: gdp\nnumerator_elasticity: {e}\n",
                        encoding="utf-8")
        slow = run(shipped, "rd_intensity", backtest=False, scenario=load_scenario(path))
        ratios[e] = slow.paths[:, at] / base.paths[:, at]
    # GDP is exp(-0.04) lower in 2027 (trend from 2026): the share moves by exp(0.04 (1 - E))
    for e, ratio in ratios.items():
        np.testing.assert_allclose(ratio, np.exp(0.04 * (1 - e)), rtol=1e-9)
    e1 = load_scenario(tmp_path / "e1.0.yaml")
    assert "rd_expenditure moving one-for-one with gdp (the share unchanged)" in \
        run(shipped, "rd_intensity", backtest=False, scenario=e1).scenario_timing()
    # on labour productivity GDP is the numerator itself: said to be unused
    lp = run(shipped, "labour_productivity", backtest=False, scenario=e1)
    assert any("its numerator_elasticity is how a share's numerator responds to the gdp it "
               "acts on; here it acts on gdp as labour_productivity's own modelled series, "
               "with no share in between, so it is not used" in n for n in lp.notes)
    for text, field in (("name: x\ntrend: -0.02\nnumerator_elasticity: 1\n", "numerator_elasticity"),
                        ("name: x\nacts_on: gdp\nnumerator_elasticity: 9\n", "numerator_elasticity"),
                        ("name: x\nacts_on: gdp\nnumerator_elasticity: high\n", "numerator_elasticity")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_scenario(bad)
        assert info.value.field == field


def test_a_scenario_written_for_another_series_is_refused_where_it_cannot_act(shipped, tmp_path):
    from forecast.sensitivity import run_scenarios, sweep
    path = tmp_path / "gdp_wild.yaml"
    # a volatility change of GDP would pair with R&D intensity's own deviations
    path.write_text("name: gdp_wild\nvolatility: 1.5\nacts_on: gdp\n", encoding="utf-8")
    wild = load_scenario(path)
    with pytest.raises(InputError, match="volatility of gdp") as info:
        run(shipped, "rd_intensity", backtest=False, scenario=wild)
    assert info.value.file == str(path) and info.value.field == "acts_on"
    pop = tmp_path / "pop.yaml"
    pop.write_text("name: pop_slower\ntrend: -0.01\nacts_on: permanent_population_yearend\n",
                   encoding="utf-8")
    scenario = load_scenario(pop)
    with pytest.raises(InputError, match="written for permanent_population_yearend"):
        run(shipped, "rd_intensity", backtest=False, scenario=scenario)
    with pytest.raises(InputError, match="written for permanent_population_yearend"):
        run(shipped, "labour_productivity", backtest=False, scenario=scenario)
    # in a set of scenarios (a folder, a sweep) it is listed as not applicable, not run
    rd = run(shipped, "rd_intensity", backtest=False)
    table = run_scenarios(shipped, rd, [scenario, wild]).set_index("scenario")
    assert set(table.loc[["pop_slower", "gdp_wild"], "applied"]) == {"not applicable"}
    assert "written for permanent_population_yearend" in table.loc["pop_slower", "note"]
    swept = sweep(shipped, "rd_intensity", np.array([4.0]), [scenario], engine="serial",
                  models=FAST, n_paths=300, backtest=False)
    assert swept["p"].isna().all() and "written for" in swept["note"].iloc[0]
    # a typo in acts_on is an error with a guess, not a scenario quietly "not applicable"
    path.write_text("name: gdp_slower\ntrend: -0.02\nacts_on: GPD\n", encoding="utf-8")
    typo = load_scenario(path)
    with pytest.raises(InputError, match="did you mean 'gdp'") as info:
        run_scenarios(shipped, rd, [typo])
    assert info.value.file == str(path)
    with pytest.raises(InputError, match="not a series of the catalogue"):
        run(shipped, "labour_productivity", backtest=False, scenario=typo)
    # YAML 1.1 reads a bare `on:` as true: the error says so instead of crashing
    path.write_text("name: x\non: gdp\n", encoding="utf-8")
    with pytest.raises(InputError, match="quote the key, or did you mean acts_on"):
        load_scenario(path)


def test_scenario_files_that_yaml_would_misread_are_errors(tmp_path):
    path = tmp_path / "s.yaml"
    for text, message in (("name: a\ntrend: 0.01\ntrend: -0.01\n", "key 'trend' appears twice"),
                          ("name: yes\n", "'name' is True"), ("name:\n", "'name' is None"),
                          ("- name: a\n- name: b\n", "a list of scenarios goes to")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=re.escape(message)):
            load_scenario(path)
    with pytest.raises(InputError, match="is a folder"):
        load_scenario(tmp_path)
    path.write_text("name: a\ndescription:\n", encoding="utf-8")
    assert load_scenario(path).description == ""


def test_scenario_names_must_be_distinct_and_not_baseline(tmp_path):
    folder = tmp_path / "scen"
    folder.mkdir()
    (folder / "x.yaml").write_text("name: a\ntrend: 0.01\n", encoding="utf-8")
    (folder / "y.yaml").write_text("name: a\ntrend: -0.01\n", encoding="utf-8")
    with pytest.raises(InputError, match="'a' is already taken by .*x.yaml"):
        load_scenarios(folder)
    (folder / "y.yaml").write_text("name: baseline\ntrend: -0.01\n", encoding="utf-8")
    with pytest.raises(InputError, match="baseline every run includes"):
        load_scenarios(folder)


def test_cli_run_writes_json(tmp_path, capsys):
    out = tmp_path / "rd.json"
    code = cli.main(["run", "--indicator", "rd_intensity", "--paths", "500", "--models", *FAST,
                     "--json", str(out), "--lang", "en"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "P(2025>=4)" in printed and "joint" in printed and "pace" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert set(doc["probabilities"]) == {"rd_intensity_2025", "rd_intensity_2027"}
    assert doc["components"]["rd_intensity"]["weights"] and doc["params"]["seed"] == 20261127
    # and the code it came from, beside the data hash and seed
    assert doc["code"]["git_commit"] and doc["code"]["packages"]["numpy"]
    assert "local_changes" in doc["code"]
    # the restatement on the census-revised GDP travels in the JSON, and the pace is taken
    # against each target restated on the history's basis (4.0 x 1.04), so that pace and P
    # read the same target
    assert set(doc["basis"]["p_history_basis"]) == set(doc["probabilities"])
    assert "paced against 4.16, the target on the history's basis" in printed
    assert doc["pace"]["rd_intensity_2025"]["target_value"] == pytest.approx(4.0 * 1.04)
    assert cli.main(["run", "--indicator", "nope"]) == 2
    assert cli.main(["run", "--indicator", "rd_intensity", "--json", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("indicator", ["rd_intensity", "gdp"])
def test_every_family_fits_the_shipped_series_or_says_why(shipped, indicator):
    from forecast.models import MODELS, get_model
    from forecast.models.base import ModelFailure, Series
    from forecast.transforms import Transform

    values = shipped.series(indicator)
    transform = Transform.for_indicator(shipped.registry.indicator(indicator))
    series = Series(values.index.to_numpy(), transform.forward(values.to_numpy()))
    for name in MODELS:
        try:
            fitted = get_model(name).fit(series)
        except ModelFailure as exc:
            assert name in str(exc) and len(str(exc)) > len(name) + 10  # a reason, not a shrug
            continue
        paths = transform.inverse(fitted.simulate(4, 500, np.random.default_rng(1)))
        assert paths.shape == (500, 4) and np.all(np.isfinite(paths)) and np.all(paths > 0)
        assert np.std(paths[:, -1]) > 0


def test_cli_run_answers_for_every_indicator_with_a_target(shipped, capsys):
    for indicator in shipped.registry.target_indicators():
        code = cli.main(["run", "--indicator", indicator, "--paths", "300", "--no-backtest",
                         "--models", "rw_drift", "linear_trend", "--lang", "en"])
        out = capsys.readouterr().out
        assert code == 0, indicator
        status = {assess.status for assess in
                  forecast_indicator(shipped, indicator, models=FAST, n_paths=300,
                                     backtest=False).coverage.values()}
        if "probability" in status:
            assert "ENSEMBLE" in out
        else:
            assert "NO PROBABILITY" in out and "P(" not in out


def test_labour_productivity_says_where_it_stands_in_its_last_published_year(shipped):
    lp = run(shipped, "labour_productivity", backtest=False)
    gdp = shipped.series("gdp", "Hangzhou")
    pop = shipped.series("permanent_population_yearend", "Hangzhou")
    year = max(set(gdp.index) & set(pop.index))
    implied = lp.implied_last
    assert implied.year == year
    lo, hi = hz_employment().ratio
    assert implied.low == pytest.approx(gdp[year] / pop[year] / hi)
    assert implied.high == pytest.approx(gdp[year] / pop[year] / lo)
    # every target at or below the low end is named as already reached on the assumption
    below = [t.id for t in lp.targets if t.year > year and t.value <= implied.low]
    assert list(implied.at_or_above_targets) == below
    assert any(implied.text() in n for n in lp.notes)
    # the growth assumption has no population to read a ratio on
    grown = run(shipped, "labour_productivity", backtest=False,
                scenario=Scenario(employment=hz_employment(method="growth")))
    assert grown.implied_last is None


def test_median_growth_is_each_models_compound_rate_from_the_last_observation(shipped):
    rd = run(shipped, "rd_intensity", backtest=False)
    comp = rd.modelled
    year, value = comp.last_observed
    assert (year, value) == (int(rd.history["year"].iloc[-1]), float(rd.history["value"].iloc[-1]))
    growth = comp.median_growth()
    span = int(comp.years[-1]) - year
    for member, paths in comp.member_paths().items():
        assert growth[member] == pytest.approx(np.median((paths[:, -1] / value) ** (1 / span) - 1))
    assert set(growth) == set(comp.member_z) | {"ensemble"}


def test_the_growth_quoted_under_a_scenario_is_the_scenarios(shipped):
    """It used to be the baseline's, so a GDP scenario looked ignored beside a lower P."""
    from forecast.scenario import Scenario
    slower = Scenario(name="slower", trend=-0.02)
    base = run(shipped, "labour_productivity", backtest=False)
    cut = run(shipped, "labour_productivity", backtest=False, scenario=slower)
    assert cut.median_growth("gdp")["ensemble"] < base.median_growth("gdp")["ensemble"] - 0.01
    # population is not what the scenario acts on: its growth is the baseline's
    pop = [c for c in cut.components if c != "gdp"][0]
    assert cut.median_growth(pop) == base.median_growth(pop)
    assert cut.to_dict()["components"]["gdp"]["median_growth_per_year"] == \
        cut.median_growth("gdp")


def test_a_share_says_how_fast_its_numerator_must_grow_given_the_simulated_gdp(shipped):
    rd = run(shipped, "rd_intensity", backtest=False)
    share, gdp = shipped.series("rd_intensity", "Hangzhou"), shipped.series("gdp", "Hangzhou")
    spending = shipped.series("rd_expenditure", "Hangzhou")
    # the newest level: the share x GDP of the last year both are published (2023), which is
    # later than the last published spending (2021)
    year = max(set(share.index) & set(gdp.index))
    assert year > spending.index[-1]
    base = share[year] * gdp[year] / 100
    sim = rd.components["gdp"]
    for target in rd.forecast_targets:
        req = rd.required[target.id]
        assert (req.base_year, req.base) == (year, pytest.approx(base))
        needed = target.value * sim.paths()[:, list(sim.years).index(target.year)] / 100
        rate = (needed / base) ** (1 / (target.year - year)) - 1
        assert req.median == pytest.approx(np.median(rate))
        assert req.q10 < req.median < req.q90
        assert any(n.startswith(f"{target.id}: rd_expenditure must grow") for n in rd.notes)
        # GDP's growth is quoted over the same years as the spending's (from the base year,
        # not from GDP's own last observation), so the two rates compare
        # ... and on one basis: GDP's 2023 linked onto the census-revised basis of its paths
        linked = shipped.linked_series("gdp", "Hangzhou")[0]
        assert linked[year] == pytest.approx(gdp[year] * 1.04)
        gdp_rate = (sim.paths()[:, list(sim.years).index(target.year)] / linked[year]) \
            ** (1 / (target.year - year)) - 1
        assert req.denominator_growth_median == pytest.approx(np.median(gdp_rate))
        assert f"over the same years the gdp ensemble grows {np.median(gdp_rate):+.1%}/yr" in \
            next(n for n in rd.notes if n.startswith(f"{target.id}: rd_expenditure"))
    # the R&D probabilities themselves do not depend on it
    plain = run(shipped, "rd_intensity", backtest=False, target_years=(2027,))
    assert plain.probabilities["rd_intensity_2027"].p_in_year == \
        rd.probabilities["rd_intensity_2027"].p_in_year


def test_a_target_year_in_a_gap_of_the_history_is_named_and_the_others_still_forecast(
        shipped):
    """2022 has no R&D intensity although 2023 does: the models simulate only after the last
    observation, so a 2022 target can be settled only by its figure. The run says so for that
    target and forecasts the others (it used to stop, blaming targets.yaml)."""
    from forecast.targets import Target
    gap = Target("rd_intensity_2022", "rd_intensity", 2022, 3.9, ">=", "test", "Hangzhou")
    registry = replace(shipped.registry, targets={**shipped.registry.targets, gap.id: gap})
    result = run(replace(shipped, registry=registry), "rd_intensity", backtest=False)
    assert result.coverage[gap.id].status == "not forecastable"
    assert "the target year 2022 is a gap in the published series (last 2023)" in \
        result.coverage[gap.id].reason
    assert gap.id not in result.probabilities
    assert {t.id for t in result.forecast_targets} == {"rd_intensity_2025", "rd_intensity_2027"}
    assert any(n.startswith("rd_intensity_2022: not forecastable:") for n in result.notes)


def test_an_as_of_before_any_publication_says_so_instead_of_asking_for_data():
    early = data.load("2005")
    from forecast.coverage import SUPPLY_DATA_HINT, assess
    cov = assess(early, early.registry.target("rd_intensity_2025"))
    assert cov.status == "not forecastable" and "nothing published by 2005-12-31" in cov.reason
    first = early.vintages[(early.vintages["indicator"] == "rd_intensity")
                           & (early.vintages["region"] == "Hangzhou")]["available"].min()
    assert str(first) in cov.reason
    # a series nobody has published at all still gets the route to supply one
    brand = assess(early, early.registry.target("brand_sales_share_mfg_2025"))
    assert brand.reason == SUPPLY_DATA_HINT


def test_every_command_line_option_says_what_it_does():
    """A user reads `forecast X --help`: no option without a line of help (defaults are
    appended by the formatter)."""
    import argparse

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from walk(child, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction):
                yield path, "/".join(action.option_strings) or action.dest, action.help

    silent = [f"{path}: {name}" for path, name, text in walk(cli.build_parser(), "forecast")
              if not (text or "").strip()]
    assert not silent, silent
    assert "(default: 10000)" in cli.build_parser()._subparsers._group_actions[0] \
        .choices["run"].format_help().replace("\n", " ").replace("  ", " ")


def test_a_share_published_only_before_its_denominators_break_is_read_on_the_new_basis(shipped):
    """R&D intensity is published to 2023 as a share of GDP before the fifth economic census
    revision (gdp's 2024 break in the catalogue, +3.7% to +4.3%); every figure from 2024 on
    will be a share of the revised GDP. The paths from 2024 are the models' divided by 1 + r
    per path, and the probability on the history's own basis is kept beside it."""
    rd = run(shipped, "rd_intensity", backtest=False)
    basis = rd.basis
    assert (basis.denominator, basis.break_year, basis.revision) == ("gdp", 2024, (0.037, 0.043))
    comp = rd.components["rd_intensity"]
    before = comp.paths()  # the models' own paths, the history's basis
    years = list(rd.years)
    ratio = before[:, years.index(2025)] / rd.paths[:, years.index(2025)]
    assert ratio.min() >= 1.037 - 1e-9 and ratio.max() <= 1.043 + 1e-9 and ratio.std() > 0
    # the same r on every year of a path
    np.testing.assert_allclose(before[:, years.index(2027)] / rd.paths[:, years.index(2027)],
                               ratio)
    for target in rd.forecast_targets:
        at = before[:, years.index(target.year)]
        assert basis.p_history_basis[target.id] == pytest.approx(np.mean(at >= target.value))
        assert rd.probabilities[target.id].p_in_year < basis.p_history_basis[target.id]
    assert any("read against gdp on its census-revised basis" in n for n in rd.notes)
    # the spending requirement says which basis it is on, and keeps saying where its base
    # level comes from for every target
    assert any("gdp from 2024 on is on its census-revised basis" in n for n in rd.notes)
    for required in rd.required.values():
        assert required.basis.startswith("rd_intensity 3.86 % x gdp 20059")
    # a scenario applied to the baseline result is restated the same way as a re-run
    from forecast.sensitivity import apply_scenario
    slow = run(shipped, "rd_intensity", backtest=False, scenario=load_scenario(
        REPO / "notebooks" / "scenarios" / "slower_trend.yaml"))
    np.testing.assert_allclose(apply_scenario(rd, slow.scenario, shipped), slow.paths)
    # GDP's own history spans the break: every run simulating GDP says so, with the step
    lp = run(shipped, "labour_productivity", backtest=False)
    assert any(n.startswith("gdp: series break in 2024 (published 2023->2024: +9.0%)")
               for n in lp.notes)
    assert lp.basis is None  # not a share: nothing to restate
    # as of a date before any GDP on the new basis was published, nothing is restated
    from forecast import data
    early = data.load("2024-06-30")
    for indicator in ("labour_productivity", "rd_intensity"):
        result = run(early, indicator, backtest=False)
        assert not any("2024" in n and "break" in n for n in result.notes)
        # nor does the spending requirement speak of a revised GDP not yet published
        assert not any("census-revised" in n for n in result.notes)
        assert result.basis is None


def test_a_series_is_linked_across_a_break_with_an_estimated_revision(shipped):
    """GDP's 2023->2024 step (+9.0%) is growth plus the census revision (+3.7-4.3%): the
    models fit the years before 2024 raised by the midpoint, so they do not read the revision
    as a year of growth; published values stay what charts and quotes show."""
    from forecast.simulation import fit_component
    published = shipped.series("gdp")
    linked, breaks = shipped.linked_series("gdp")
    assert [b.year for b in breaks] == [2024]  # 2019 has no estimated revision: named only
    before = published.index < 2024
    np.testing.assert_allclose(linked[before], published[before] * 1.04)
    assert linked[~before].equals(published[~before])
    # what it does to the forecast: lower growth from 2024 than a fit to the published steps
    kw = dict(horizon_to=2027, models=("rw_drift_level", "ets_damped_level"), n_paths=2000,
              seed=5, backtest=False)
    gdp = shipped.registry.indicator("gdp")
    on_one_basis = np.median(fit_component(linked, gdp, **kw).paths()[:, -1])
    as_published = np.median(fit_component(published, gdp, **kw).paths()[:, -1])
    assert on_one_basis < as_published
    # labour productivity fits the linked GDP, and says so
    lp = run(shipped, "labour_productivity", backtest=False)
    assert any("the years before 2024 are raised by 4.0% (the midpoint of the estimated "
               "revision, 3.7%-4.3%)" in n for n in lp.notes)
    # the spending requirement quotes GDP's growth on one basis
    rd = run(shipped, "rd_intensity", backtest=False)
    assert any("gdp's growth from 2023 is on that basis throughout" in n for n in rd.notes)
    # before GDP on the new basis was published there is nothing to link
    early = data.load("2024-06-30")
    series, links = early.linked_series("gdp")
    assert links == [] and series.equals(early.series("gdp"))


def test_the_growth_the_plans_own_targets_imply_is_said_beside_the_models(shipped):
    lp = run(shipped, "labour_productivity", backtest=False)
    note = next(n for n in lp.notes if n.startswith("the plan's own targets rise"))
    assert f"{(28 / 22) ** 0.5 - 1:+.1%}/yr from 2025 to 2027 (22 -> 28" in note
    years = list(lp.years)
    m25, m27 = (np.median(lp.paths[:, years.index(y)]) for y in (2025, 2027))
    assert f"median grows {(m27 / m25) ** 0.5 - 1:+.1%}/yr" in note
    if 22 < m25 < 28:
        assert f"so 2027's is the harder one: from that median it needs " \
               f"{(28 / m25) ** 0.5 - 1:+.1%}/yr" in note
    elif m25 >= 28:
        assert note.endswith("is already at or above the 2027 target as well")
    # a 2025 median above 28 as well: said so, not "needs -5%/yr"
    few = run(shipped, "labour_productivity", backtest=False,
              scenario=Scenario(name="few", employment=hz_employment(ratio=(0.45, 0.46))))
    note = next(n for n in few.notes if n.startswith("the plan's own targets rise"))
    assert note.endswith("is already at or above the 2027 target as well") and "needs" not in note


def test_a_year_over_long_enough_for_its_release_is_flagged_as_probably_out(shipped):
    # GDP has been published as soon as 20 days after its year (2022: 2023-01-20); 2025 has
    # been over for 11 months as of 2026-11-27
    lp = run(shipped, "labour_productivity", backtest=False)
    note = next(n for n in lp.notes if n.startswith("gdp: a first figure for 2025 is probably"))
    assert "as soon as 20 days after its year (2022: 2023-01-20)" in note
    # every series the ratio rests on is checked: population too
    assert {o.series for o in lp.probably_out} == {"gdp", "permanent_population_yearend"}
    # ten days after the year nothing is overdue yet
    from forecast import data
    early = run(data.load("2025-01-10"), "rd_intensity", backtest=False)
    assert not early.probably_out
    # only releases out by the as-of date count (2021's came on 2022-02-28)
    before = run(data.load("2021-04-01"), "rd_intensity", backtest=False)
    assert all(o.lag_days != 59 for o in before.probably_out)


def test_a_pace_only_indicator_names_a_break_its_history_spans(shipped):
    # digital core share of GDP: 2021 over the pre-census GDP, 2024 over the revised one
    share = run(shipped, "digital_core_share_gdp", backtest=False)
    assert share.paths is None and share.pace
    assert any(n.startswith("digital_core_share_gdp: series break in 2024") for n in share.notes)


def test_breaks_are_the_plan_regions_and_gdp_scenarios_elsewhere_say_why_they_cannot_act(
        shipped):
    from forecast.sensitivity import run_scenarios, sweep
    # the breaks' notes and revision are Hangzhou's figures: another region gets neither
    other = run(shipped, "rd_intensity", region="Shanxi", backtest=False)
    assert other.basis is None and not any("break" in n for n in other.notes)
    # a GDP scenario where GDP is not sourced is one "not applicable" row, not a crash
    scenario = load_scenario(REPO / "notebooks" / "scenarios" / "gdp_slowdown.yaml")
    table = run_scenarios(shipped, other, [scenario]).set_index("scenario")
    assert table.loc["gdp_slowdown", "applied"] == "not applicable"
    assert "gdp cannot be simulated here" in table.loc["gdp_slowdown", "note"]
    swept = sweep(shipped, "rd_intensity", np.array([2.0]), [scenario], engine="serial",
                  region="Shanxi", models=FAST, n_paths=300, backtest=False, progress=False)
    assert swept["p"].isna().all() and "cannot be simulated" in swept["note"].iloc[0]


def test_a_run_as_of_a_future_date_says_its_data_are_todays():
    from datetime import timedelta
    ahead = run(data.load(date.today() + timedelta(days=40)), "rd_intensity", backtest=False)
    assert any(n.startswith(f"as of {date.today() + timedelta(days=40)}, after today")
               for n in ahead.notes)
    assert not any("after today" in n for n in run(data.load(date.today()), "rd_intensity",
                                                    backtest=False).notes)


def test_output_cut_short_by_a_reader_is_not_a_traceback():
    import subprocess
    import sys
    # `forecast data show gdp --vintages | head -1`: the reader closes the pipe early
    proc = subprocess.Popen([sys.executable, "-c", "import forecast, sys; sys.exit(forecast.main())",
                             "data", "show", "gdp", "--vintages"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    proc.stdout.close()  # before it writes a line (it is still importing): every write fails
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_a_scenario_without_a_description_prints_without_empty_brackets(shipped):
    text = cli.render_forecast(run(shipped, "rd_intensity", backtest=False,
                                   scenario=Scenario(name="i", description="", trend=0.01)))
    assert "scenario: i; acts on rd_intensity: trend from 2026" in text and "i ()" not in text


def test_break_even_employment_growth_under_a_published_figure_gives_half(tmp_path):
    """With a published labour productivity (18 in 2021, synthetic) the break-even growth
    counted from the employment the figure implies, while a growth scenario at that rate
    started from population x the assumed ratio: P(2027) 87%, not 50% (second review)."""
    lp = dict(indicator="labour_productivity", unit="万元/人", vintage="synthetic test LP")
    root = add_user_rows(tmp_path, [row(year="2021", value="18", published="2022-04-01", **lp)])
    dataset = data.load("2026-11-27", root)
    base = run(dataset, "labour_productivity", backtest=False, n_paths=4000)
    entry = base.break_even["labour_productivity_2027"]
    growth = entry.growth
    assert entry.growth_base.startswith("1006 万人 in 2021 (implied by the published")
    at = run(dataset, "labour_productivity", backtest=False, n_paths=4000,
             scenario=Scenario(employment=hz_employment(method="growth", growth=(growth, growth))))
    assert at.probabilities["labour_productivity_2027"].p_in_year == pytest.approx(0.5, abs=0.03)
    assert any(n.startswith("employment grows from 1006 万人 in 2021 (implied by the published "
                            "labour_productivity)") for n in at.notes)


def test_a_cached_backtest_gives_the_same_numbers_as_a_fresh_one(tmp_path, monkeypatch):
    """The backtest (weights and calibration) is cached per series, models, seed and code:
    a second run reads it back and every number is the same as the first's; another seed is
    another entry; FORECAST_CACHE=off computes it every time."""
    from forecast import cache
    monkeypatch.setenv("FORECAST_CACHE", str(tmp_path))
    dataset = data.load("2026-11-27")
    same = lambda a, b: json.dumps(data.json_ready(a.to_dict())) == json.dumps(  # noqa: E731
        data.json_ready(b.to_dict()))
    first = run(dataset, "rd_intensity", n_paths=500, backtest=True)
    assert len(list((tmp_path / "vintages").glob("*.pkl"))) == 1  # the validated data
    entries = sorted((tmp_path / "backtests").glob("*.pkl"))
    assert len(entries) == 2  # R&D intensity, and GDP for the spending requirement
    again = run(dataset, "rd_intensity", n_paths=500, backtest=True)
    assert same(again, first)
    # a score the backtest could not compute stays missing (NaN), not None
    cached = pd.read_pickle(entries[0])
    assert all(v is not None for m in cached["scores"].values() for v in
               (m.values() if isinstance(m, dict) else [m]))
    run(dataset, "rd_intensity", n_paths=500, backtest=True, seed=5)
    assert len(list((tmp_path / "backtests").glob("*.pkl"))) == 4
    monkeypatch.setenv("FORECAST_CACHE", "off")
    assert cache.cache_dir() is None
    assert same(run(dataset, "rd_intensity", n_paths=500, backtest=True), first)
