"""Sensitivity: probability vs target level, scenarios on the base paths, tornado."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from forecast import data, sensitivity
from forecast.errors import InputError
from forecast.pipeline import forecast_indicator
from forecast.scenario import Employment, Scenario

from conftest import FAST, hz_employment


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
    ("labour_productivity", Scenario(name="e", employment=hz_employment(ratio=(0.6, 0.65)))),
    ("labour_productivity", Scenario(name="g", employment=hz_employment(method="growth",
                                                                     growth=(0.0, 0.01)))),
])
def test_apply_scenario_equals_a_rerun(shipped, indicator, scenario):
    base = run(shipped, indicator)
    rerun = run(shipped, indicator, scenario=scenario)
    np.testing.assert_allclose(sensitivity.apply_scenario(base, scenario, shipped), rerun.paths,
                               rtol=1e-9)


def test_run_scenarios_marks_employment_not_applicable_to_shares(shipped, rd):
    table = sensitivity.run_scenarios(shipped, rd, [
        Scenario(name="slow", trend=-0.01), Scenario(name="emp", employment=hz_employment())])
    assert list(table["scenario"]) == ["baseline", "slow", "emp"]
    assert table.loc[1, "p_rd_intensity_2027"] < table.loc[0, "p_rd_intensity_2027"]
    assert table.loc[2, "applied"] == "not applicable" and pd.isna(table.loc[2, "joint"])
    # each scenario's change from the base, beside its P
    change = table["change_p_rd_intensity_2027"]
    assert change[0] == 0 and change[1] == pytest.approx(
        table.loc[1, "p_rd_intensity_2027"] - table.loc[0, "p_rd_intensity_2027"]) and change[1] < 0
    assert pd.isna(change[2])


@pytest.mark.slow
def test_tornado_covers_every_assumption_and_ranks_by_swing(shipped, rd):
    table = sensitivity.tornado(shipped, rd)
    assert set(table["assumption"]) == {"model choice", "volatility", "growth shock", "trend",
                                        "gdp basis", "as_of", "data vintage"}
    basis = table[table["assumption"] == "gdp basis"].set_index("target_id")["p"]
    assert basis.to_dict() == rd.basis.p_history_basis
    ranking = sensitivity.tornado_ranking(table, "rd_intensity_2027")
    assert list(ranking["swing"]) == sorted(ranking["swing"], reverse=True)
    trend = ranking[ranking["assumption"] == "trend"].iloc[0]
    assert trend["low_variant"].startswith("rd_intensity -1%/yr") and \
        trend["low"] < trend["base"] < trend["high"]
    # a shock names the series it hits, and for a share its size in points
    shock = ranking[ranking["assumption"] == "growth shock"].iloc[0]
    assert re.fullmatch(r"rd_intensity -3% in 2026 \(-0\.1\d pt\)", shock["low_variant"])
    # 2025 is over as of 2026-11-27: a trend, volatility or shock from 2026 cannot move it,
    # and the row says so instead of naming one variant as both ends
    over = sensitivity.tornado_ranking(table, "rd_intensity_2025").set_index("assumption")
    for assumption in ("trend", "volatility", "growth shock"):
        row = over.loc[assumption]
        assert row["swing"] == 0 and row["low_variant"] == row["high_variant"] == "no effect"
        assert row["note"] == "no effect on 2025: it acts from 2026"


def test_tornado_when_every_simulated_year_is_over_says_the_scenarios_cannot_act(shipped):
    # as of 2027-12-31 the 2027 figures are not out: 2024-2027 are simulated, all of them
    # over, and a scenario acts only from 2028; the tornado (and the report's sensitivity
    # page with it) used to stop on "'from' 2028 is after the last simulated year"
    late = data.load(as_of="2027-12-31")
    result = run(late, "rd_intensity")
    assert result.scenario_start == 2028 and int(result.modelled.years[-1]) == 2027
    table = sensitivity.tornado(late, result, vintage=False)
    ranking = sensitivity.tornado_ranking(table, "rd_intensity_2027").set_index("assumption")
    for assumption in ("trend", "volatility"):
        row = ranking.loc[assumption]
        assert row["swing"] == 0 and row["low_variant"] == "no effect"
        assert row["note"] == ("no effect: every simulated year (to 2027) is over on the "
                               "as-of date; it would act from 2028")
    # a shock names its year, 2027, which it can still change
    shock = ranking.loc["growth shock"]
    assert shock["low"] < shock["base"] < shock["high"] and "in 2027" in shock["low_variant"]
    # what can still vary does
    assert table[table["assumption"] == "model choice"]["p"].notna().all()
    # the scenario explorer and a sweep name the scenario as not applicable, and a run
    # with it says why, naming the as-of date, not the 'from' the file never wrote
    slower = Scenario(name="slower", trend=-0.01)
    shock = Scenario(name="shock", shock_year=2027, shock_size=-0.03)
    rows = sensitivity.run_scenarios(late, result, [slower, shock]).set_index("scenario")
    assert rows.loc["slower", "applied"] == "not applicable"
    assert "every simulated year is over on the as-of date" in rows.loc["slower", "note"]
    assert rows.loc["shock", "p_rd_intensity_2027"] < rows.loc[result.scenario.name,
                                                                 "p_rd_intensity_2027"]
    swept = sensitivity.sweep(late, "rd_intensity", np.array([4.2]), [slower], engine="serial",
                              progress=False, models=FAST, n_paths=300, backtest=False)
    assert swept["p"].isna().all() and swept["note"].str.contains("acts from the first").all()
    with pytest.raises(InputError) as err:
        run(late, "rd_intensity", scenario=slower)
    assert err.value.field == "as_of"


def test_tornado_of_a_ratio_holds_its_employment_assumption_at_each_end(shipped):
    lp = forecast_indicator(shipped, "labour_productivity", models=("rw_drift",), n_paths=2000,
                            backtest=False)
    table = sensitivity.tornado(shipped, lp, vintage=False)
    ranking = sensitivity.tornado_ranking(table, "labour_productivity_2027")
    row = ranking.set_index("assumption").loc["employment ratio"]
    # more employed per resident = more employment = lower productivity for the same GDP
    assert (row["low_variant"], row["high_variant"]) == ("ratio 0.74", "ratio 0.58")
    assert row["low"] < row["base"] < row["high"]
    # a year earlier the same figures were out (GDP 2024 was published in May 2025): the
    # as_of row says so, and its probabilities equal the base
    as_of = table[table["assumption"] == "as_of"]
    assert as_of["note"].str.contains("the same figures as the base").all()
    # it names what the forecast rests on, not labour productivity's own 2015 figure
    assert as_of["note"].str.startswith("last observation gdp 2024, ").all()
    assert as_of["p"].tolist() == [lp.probabilities[t].p_in_year for t in as_of["target_id"]]


def test_tornado_swing_of_a_one_variant_assumption_runs_from_the_base():
    rows = [("as_of", "as of 2025-11-27", 0.653), ("trend", "-0.01/yr", 0.62),
            ("trend", "+0.01/yr", 0.635)]
    table = pd.DataFrame([{"assumption": a, "variant": v, "target_id": "t", "year": 2027,
                           "p": p, "base": 0.628, "note": ""} for a, v, p in rows])
    ranking = sensitivity.tornado_ranking(table, "t").set_index("assumption")
    assert ranking.loc["as_of", "swing"] == pytest.approx(0.025)
    assert ranking.loc["as_of", "low_variant"] == "base"
    assert ranking.loc["as_of", "high_variant"] == "as of 2025-11-27"
    assert ranking.loc["trend", "swing"] == pytest.approx(0.015)
    assert list(ranking.index) == ["as_of", "trend"]


def test_dataset_variants(shipped):
    earlier = sensitivity.dataset_as_of(shipped, shipped.as_of.replace(year=2022))
    assert earlier.series("rd_intensity").index.max() <= 2021
    first = sensitivity.dataset_first_vintage(shipped)
    assert len(first.series("gdp")) == len(shipped.series("gdp"))
    # R&D intensity 2021 was revised after its first release: the variant takes the first
    revised = shipped.vintages[(shipped.vintages["indicator"] == "rd_intensity")
                               & (shipped.vintages["region"] == "Hangzhou")
                               & (shipped.vintages["year"] == 2021)]
    earliest = revised.sort_values("available", kind="stable").iloc[0]["value"]
    assert first.series("rd_intensity")[2021] == earliest != shipped.series("rd_intensity")[2021]


# --- sweeps over target levels x scenarios, on every engine ---------------------------------

from forecast.sensitivity import levels_off_the_plan, parse_grid, sweep  # noqa: E402


def test_parse_grid():
    assert list(parse_grid("4.0:4.2:0.1")) == [4.0, 4.1, 4.2]
    assert list(parse_grid("22, 25,28")) == [22.0, 25.0, 28.0]
    with pytest.raises(InputError, match="e.g. 3.8:4.6:0.1"):
        parse_grid("4.6:3.8:0.1")
    assert len(parse_grid("1:1000:1")) == sensitivity.MAX_GRID  # the limit is the count
    too_many = ("0:1000:1", ",".join(str(v) for v in range(sensitivity.MAX_GRID + 1)))
    for bad in ("4:3:0.1", "4:5:0", "a,b", "", "nan", "4,inf", "0:100:1e-9", *too_many):
        with pytest.raises(InputError, match="targets"):
            parse_grid(bad)


SWEEP_KW = dict(models=("rw_drift", "linear_trend"), n_paths=400, seed=5, backtest=False)


def _sweep(engine, scenarios=None, **kw):
    scenarios = scenarios or [Scenario(), Scenario(name="slow", trend=-0.01)]
    return sweep(data.load("2026-11-27"), "rd_intensity", parse_grid("3.9:4.3:0.1"), scenarios,
                 engine=engine, progress=False, **SWEEP_KW, **kw)


def test_sweep_same_numbers_serial_and_local_processes():
    serial = _sweep("serial")
    local = _sweep("local", jobs=2)
    assert serial.equals(local)
    assert set(serial["scenario"]) == {"baseline", "slow"} and len(serial) == 2 * 2 * 5
    base = serial[serial.scenario == "baseline"].set_index(["year", "level"])["p"]
    slow = serial[serial.scenario == "slow"].set_index(["year", "level"])["p"]
    assert (slow <= base).all() and (slow < base).any()
    for _, block in serial.groupby(["scenario", "year"]):
        assert (np.diff(block.sort_values("level")["p"]) <= 0).all()


def test_sweep_gives_no_number_for_an_employment_scenario_on_a_series_of_its_own():
    emp = Scenario(name="emp", employment=hz_employment())
    table = _sweep("serial", scenarios=[Scenario(), emp])
    rows = table[table.scenario == "emp"]
    assert len(rows) == 2 * 5 and rows["p"].isna().all()
    assert rows["note"].str.contains("applies only to a ratio indicator").all()
    assert table[table.scenario == "baseline"]["p"].notna().all()


@pytest.mark.slow
def test_sweep_on_a_dask_local_cluster_equals_local():
    pytest.importorskip("distributed")
    assert _sweep("dask", jobs=2).equals(_sweep("serial"))


def test_cli_sensitivity_writes_csv(tmp_path, capsys):
    from forecast import cli
    scen = tmp_path / "s.yaml"
    scen.write_text("- {name: shock, growth_shock: {year: 2025, size: -0.05}}\n"
                    "- {name: wide, volatility: 2}\n"
                    "- {name: emp, employment: {method: population_ratio, ratio: [0.6, 0.7]}}\n",
                    encoding="utf-8")
    out = tmp_path / "sweep.csv"
    code = cli.main(["sensitivity", "--indicator", "rd_intensity", "--as-of", "2026-11-27",
                     "--targets", "3.9,4.0,4.2",
                     "--scenarios", str(scen), "--paths", "300", "--no-backtest", "--engine",
                     "serial", "--models", "rw_drift", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "P(rd_intensity in 2027 >= level)" in printed and "shock" in printed
    # the model's notes, the same under every scenario, are printed once for all of them
    notes = [line for line in printed.splitlines() if line.startswith("note [")]
    assert any(line.startswith("note [baseline, shock, wide]: gdp: series break") for line in notes)
    assert len(notes) == len(set(notes))
    assert "(95% Monte Carlo error of these probabilities: at most ±" in printed
    table = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert set(table["scenario"]) == {"baseline", "shock", "wide", "emp"}
    assert {"indicator", "unit", "p_mc95", "applies", "why_not"} <= set(table.columns)
    assert set(table["indicator"]) == {"rd_intensity"} and set(table["unit"]) == {"%"}
    # 300 paths: a P strictly inside (0, 1) has a Monte Carlo error of a few points
    inside = table[(table["p"] > 0.05) & (table["p"] < 0.95)]
    assert len(inside) and inside["p_mc95"].between(0.01, 0.2).all()
    ran = table[table["scenario"] != "emp"]
    assert ran["applies"].all() and ran["why_not"].isna().all()
    # a scenario that cannot act on R&D intensity: its rows say why, in one sentence
    emp = table[table["scenario"] == "emp"]
    assert not emp["applies"].any() and emp["p"].isna().all()
    assert set(emp["why_not"]) == {"scenario 'emp': its employment assumption applies only to "
                                   "a ratio indicator (labour productivity), not to rd_intensity"}
    # the run's notes are written once, to a file beside the CSV, not on every row
    notes_file = (tmp_path / "sweep.notes.txt").read_text(encoding="utf-8")
    assert "[baseline, shock, wide] gdp: series break" in notes_file
    assert "note" not in table.columns
    assert "300 paths, seed 20261127" in notes_file.splitlines()[0]
    # the column is the Monte Carlo error forecast run states for the same target and level
    from forecast.pipeline import forecast_indicator
    direct = forecast_indicator(data.load("2026-11-27"), "rd_intensity", models=("rw_drift",),
                                n_paths=300, backtest=False)
    at_plan = table[(table["scenario"] == "baseline") & (table["level"] == 4.2)
                    & (table["year"] == 2027)]
    assert at_plan["p_mc95"].iloc[0] == pytest.approx(
        direct.probabilities["rd_intensity_2027"].mc_error95, rel=1e-5)
    # a notes path that is a folder is refused before the sweep
    (tmp_path / "other.notes.txt").mkdir()
    assert cli.main(["sensitivity", "--indicator", "rd_intensity", "--targets", "4.2",
                     "--out", str(tmp_path / "other.csv")]) == 2
    # the file says what reproduces it
    assert set(table["as_of"]) == {"2026-11-27"} and set(table["seed"]) == {20261127}
    assert set(table["n_paths"]) == {300} and table["data_hash"].nunique() == 1
    assert cli.main(["sensitivity", "--indicator", "rd_intensity", "--targets", "x"]) == 2


def test_a_sweep_refuses_levels_the_indicator_cannot_take(shipped):
    with pytest.raises(InputError, match="150 outside what rd_intensity can take"):
        sweep(shipped, "rd_intensity", np.array([4.0, 150.0]), [Scenario()], engine="serial",
              **SWEEP_KW)


def test_a_sweep_refuses_a_fraction_typed_for_a_percent(shipped):
    # 0.041 for 4.1 %: it used to print >99.9% for every level without a word
    with pytest.raises(InputError, match="30x off the plan's targets .* wrong unit") as info:
        sweep(shipped, "rd_intensity", np.array([0.041, 0.042]), [Scenario()], engine="serial",
              **SWEEP_KW)
    assert info.value.field == "targets"
    # the same typed as fractions from 0: the 0 does not make it a sweep
    with pytest.raises(InputError, match="wrong unit"):
        sweep(shipped, "rd_intensity", np.array([0.0, 0.01, 0.05]), [Scenario()],
              engine="serial", **SWEEP_KW)
    # a grid that merely starts far below (0 to 6 %) is a sweep, not a slip
    table = sweep(shipped, "rd_intensity", np.array([0.0, 3.0, 6.0]), [Scenario()],
                  engine="serial", **SWEEP_KW)
    assert set(table["level"]) == {0.0, 3.0, 6.0}
    assert len(levels_off_the_plan(shipped, "rd_intensity", [0.0, 3.0, 6.0])) == 0
    # a mixed grid runs, and the CLI names the level that looks like a slip
    assert list(levels_off_the_plan(shipped, "rd_intensity", [0.04, 4.1])) == [0.04]


def test_cli_sensitivity_names_a_level_typed_in_another_unit(capsys):
    from forecast import cli
    assert cli.main(["sensitivity", "--indicator", "rd_intensity", "--as-of", "2026-11-27",
                     "--targets", "0.04,4.1", "--paths", "300", "--models", "rw_drift",
                     "--engine", "serial", "--no-backtest"]) == 0
    out = capsys.readouterr().out
    assert "note: level(s) 0.04 are more than 30x off the plan's targets (4, 4.2)" in out


def test_an_employment_growth_scenario_carries_its_pre_census_caveat_into_the_table(shipped):
    lp = forecast_indicator(shipped, "labour_productivity", models=("rw_drift",), n_paths=500,
                            backtest=False)
    table = sensitivity.run_scenarios(shipped, lp, [
        Scenario(name="grow", employment=hz_employment(method="growth"))]).set_index("scenario")
    assert "before the 2020 census" in table.loc["grow", "note"]
    direct = forecast_indicator(shipped, "labour_productivity", models=("rw_drift",), n_paths=500,
                                backtest=False, scenario=Scenario(employment=hz_employment(method="growth")))
    assert any("before the 2020 census" in n for n in direct.notes)
    # it grows from the newest population on the recounted basis x the assumed ratio, not
    # from the 2015 count (663 万人, some 15% short on today's basis)
    pop = shipped.series("permanent_population_yearend")
    lo, hi = hz_employment().ratio
    start = f"employment grows from {pop.iloc[-1] * lo:.0f}-{pop.iloc[-1] * hi:.0f} 万人 in {pop.index[-1]}"
    assert any(n.startswith(start) for n in direct.notes)


def test_first_releases_are_varied_when_only_a_ratios_population_was_revised(tmp_path):
    """Labour productivity's denominator is simulated from population: a revised population
    figure changes the run, so the tornado's 'first releases' row must vary it (it looked
    only at GDP and employment and said 'nothing to vary')."""
    from test_data import row
    from test_pipeline import add_user_rows
    pop = data.load("2026-11-27").series("permanent_population_yearend")
    revised = row(indicator="permanent_population_yearend", unit="万人", year="2024",
                  value=f"{pop[2024] * 1.03:.1f}", published="2026-06-01",
                  vintage="synthetic revision")
    dataset = data.load("2026-11-27", add_user_rows(tmp_path, [revised]))
    assert dataset.series("gdp").equals(data.load("2026-11-27").series("gdp"))
    lp = run(dataset, "labour_productivity", n_paths=1000)
    table = sensitivity.tornado(dataset, lp)
    first = table[table["assumption"] == "data vintage"]
    assert not first["note"].str.contains("nothing to vary").any()
    # a larger population (more employment) lowers P: the first release gives it back
    assert (first["p"] > first["base"]).all()


def test_a_gdp_scenarios_own_mistakes_are_errors_on_rd_intensity_too(shipped, rd, tmp_path):
    """On R&D intensity a GDP scenario that cannot be simulated is 'not applicable'; a 'from'
    or shock year outside the simulated years is the file's mistake and an error, as on
    labour productivity (it was shown as 'not applicable')."""
    from forecast.scenario import load_scenario
    for text, field in (("trend: -0.02\nfrom: 2030\n", "from"),
                        ("growth_shock: {year: 2031, size: -0.02}\n", "growth_shock.year")):
        path = tmp_path / "g.yaml"
        path.write_text("name: g\nacts_on: gdp\n" + text, encoding="utf-8")
        scenario = load_scenario(path)
        with pytest.raises(InputError) as info:
            sensitivity.run_scenarios(shipped, rd, [scenario])
        assert info.value.field == field
        with pytest.raises(InputError) as info:
            sweep(shipped, "rd_intensity", np.array([4.2]), [scenario], engine="serial",
                  **SWEEP_KW)
        assert info.value.field == field
