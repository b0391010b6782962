"""Sensitivity: probability vs target level, scenarios on the base paths, tornado."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import data, sensitivity
from forecast.errors import InputError
from forecast.pipeline import forecast_indicator
from forecast.scenario import Employment, Scenario

FAST = ("rw_drift", "linear_trend", "local_trend")


@pytest.fixture(scope="module")
def shipped():
    return data.load("2026-11-27")


def run(dataset, indicator, **kw):
    kw.setdefault("models", FAST)
    kw.setdefault("n_paths", 600)
    kw.setdefault("backtest", False)
    return forecast_indicator(dataset, indicator, **kw)


@pytest.fixture(scope="module")
def rd(shipped):
    return run(shipped, "rd_intensity")


def test_curve_is_monotone_and_matches_the_probability(rd):
    curve = sensitivity.probability_vs_target(rd)
    for tid, group in curve.groupby("target_id"):
        assert np.all(np.diff(group["p"].to_numpy()) <= 1e-12)
        at = group[np.isclose(group["level"], group["target"])]
        assert float(at["p"].iloc[0]) == pytest.approx(rd.probabilities[tid].p_in_year)


def test_levels_for_probability_give_that_probability(rd):
    levels = sensitivity.levels_for_probability(rd, (0.5, 0.8))
    years = np.asarray(rd.years)
    for row in levels.itertuples():
        at = rd.paths[:, int(np.flatnonzero(years == row.year)[0])]
        assert np.mean(at >= row.level_50) == pytest.approx(0.5, abs=0.01)
        assert np.mean(at >= row.level_80) == pytest.approx(0.8, abs=0.01)
        assert row.level_80 < row.level_50
    with pytest.raises(InputError, match="probabilities"):
        sensitivity.levels_for_probability(rd, (1.2,))


@pytest.mark.parametrize("indicator,scenario", [
    ("rd_intensity", Scenario(name="s", trend=-0.01, shock_year=2026, shock_size=-0.02,
                              volatility=1.4)),
    ("labour_productivity", Scenario(name="s", trend=0.01, volatility=0.8)),
    ("labour_productivity", Scenario(name="e", employment=Employment(ratio=(0.6, 0.65)))),
    ("labour_productivity", Scenario(name="g", employment=Employment(method="growth",
                                                                     growth=(0.0, 0.01)))),
])
def test_apply_scenario_equals_a_rerun(shipped, indicator, scenario):
    base = run(shipped, indicator)
    rerun = run(shipped, indicator, scenario=scenario)
    np.testing.assert_allclose(sensitivity.apply_scenario(base, scenario, shipped), rerun.paths,
                               rtol=1e-9)


def test_run_scenarios_marks_employment_not_applicable_to_shares(shipped, rd):
    table = sensitivity.run_scenarios(shipped, rd, [
        Scenario(name="slow", trend=-0.01), Scenario(name="emp", employment=Employment())])
    assert list(table["scenario"]) == ["baseline", "slow", "emp"]
    assert table.loc[1, "p_rd_intensity_2027"] < table.loc[0, "p_rd_intensity_2027"]
    assert table.loc[2, "applied"] == "not applicable" and pd.isna(table.loc[2, "joint"])


@pytest.mark.slow
def test_tornado_covers_every_assumption_and_ranks_by_swing(shipped, rd):
    table = sensitivity.tornado(shipped, rd)
    assert set(table["assumption"]) == {"model choice", "volatility", "growth shock", "trend",
                                        "as_of", "data vintage"}
    ranking = sensitivity.tornado_ranking(table, "rd_intensity_2027")
    assert list(ranking["swing"]) == sorted(ranking["swing"], reverse=True)
    trend = ranking[ranking["assumption"] == "trend"].iloc[0]
    assert trend["low_variant"].startswith("-") and trend["low"] < trend["base"] < trend["high"]


def test_dataset_variants(shipped):
    earlier = sensitivity.dataset_as_of(shipped, shipped.as_of.replace(year=2022))
    assert earlier.series("rd_intensity").index.max() <= 2021
    first = sensitivity.dataset_first_vintage(shipped)
    assert len(first.series("gdp")) == len(shipped.series("gdp"))
