"""Any plan, any region: a plan is files, targets can be one's own, and a ratio's
denominator may be modelled instead of assumed.

The toy plan below is built from files alone (a plan.yaml, its text and a data folder of
SYNTHETIC series for a made-up region), with a derived ratio the shipped code never saw
(GDP per capita = GDP / permanent population) and a ceiling target; `forecast run` and
`forecast report` run on it with no code change.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from forecast import cli, data, reports
from forecast.errors import InputError
from forecast.pipeline import forecast_indicator
from forecast.probability import probability_curve, target_probability
from forecast.targets import Target, parse_target_spec
from test_data import row, write_csv

AS_OF = "2026-11-27"


def toy_plan(folder: Path) -> Path:
    """A plan for 'Toyville' (a made-up region): GDP per capita as a ratio of two modelled
    series, one floor and one ceiling target, and synthetic data of its own."""
    folder.mkdir(parents=True)
    (folder / "plan.txt").write_text("Toyville plan (synthetic, for tests): GDP per capita "
                                     "at least 20 万元 in 2027; PM2.5 at most 30 in 2027.\n",
                                     encoding="utf-8")
    (folder / "plan.yaml").write_text(textwrap.dedent("""\
        plan:
          id: toyville
          title_en: Toyville's synthetic test plan
          short_en: Toyville test targets
          text: plan.txt
          region: Toyville
        settings:
          language: en
          probability_classes: {likely: 0.9, balanced: 0.6}
        indicators:
          gdp_per_capita:
            name_en: GDP per resident
            name_zh: 人均地区生产总值
            unit: 万元/人
            bounds: null
            scale: log
            derived: {numerator: gdp, denominator: permanent_population_yearend, factor: 1}
        targets:
          - {id: gdp_per_capita_2027, indicator: gdp_per_capita, year: 2027, value: 20,
             comparison: ">=", wording: GDP per capita at least 20 万元}
          - {id: pm25_urban_2027, indicator: pm25_urban, year: 2027, value: 30,
             comparison: "<=", wording: PM2.5 at most 30}
        """), encoding="utf-8")
    years = range(2008, 2025)
    rng = np.random.default_rng(7)
    gdp = 3000 * np.exp(np.cumsum(0.07 + 0.02 * rng.standard_normal(len(years))))
    pop = 200 * np.exp(np.cumsum(0.01 + 0.003 * rng.standard_normal(len(years))))
    pm25 = 60 * np.exp(np.cumsum(-0.05 + 0.04 * rng.standard_normal(len(years))))
    rows = []
    for ind, unit, values in (("gdp", "亿元", gdp), ("permanent_population_yearend", "万人", pop),
                              ("pm25_urban", "ug/m3", pm25)):
        rows += [row(region="Toyville", indicator=ind, unit=unit, year=str(y), value=f"{v:.2f}",
                     vintage="SYNTHETIC test series", source_title="SYNTHETIC (tests only)",
                     published=f"{y + 1}-03-01") for y, v in zip(years, values)]
    write_csv(folder / "data" / "toyville.csv", rows)
    return folder


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return toy_plan(tmp_path_factory.mktemp("plans") / "toyville")


def test_a_toy_plan_is_read_from_its_files(toy):
    dataset = data.load(AS_OF, plan=toy)
    plan = dataset.registry.plan
    assert (plan.id, plan.region, plan.classes.likely) == ("toyville", "Toyville", 0.9)
    assert dataset.region == "Toyville" and len(dataset.series("gdp")) == 17
    assert dataset.registry.indicator("gdp_per_capita").derived.denominator == \
        "permanent_population_yearend"
    # the shipped data are there too: the catalogue and data/raw serve every plan
    assert not dataset.series("gdp", "Hangzhou").empty


def test_forecast_run_on_the_toy_plan_models_its_ratios_denominator(toy, capsys, tmp_path):
    out = tmp_path / "run.json"
    assert cli.main(["run", "--plan", str(toy), "--indicator", "gdp_per_capita", "--as-of",
                     AS_OF, "--paths", "1000", "--no-backtest", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "gdp_per_capita: GDP per resident" in text and "Toyville" in text
    assert "permanent_population_yearend is simulated from its own series" in text
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["components"]) == {"gdp", "permanent_population_yearend"}
    assert result["employment"] is None and result["break_even"] is None
    p = result["probabilities"]["gdp_per_capita_2027"]["p_in_year"]
    # the ratio is the ensemble's GDP over the population's own paths, path by path
    dataset = data.load(AS_OF, plan=toy)
    again = forecast_indicator(dataset, "gdp_per_capita", n_paths=1000, backtest=False)
    gdp = again.components["gdp"]
    pop = again.components["permanent_population_yearend"]
    ratio = gdp.paths()[:, -1] / pop.paths()[:, -1]
    assert p == pytest.approx(np.mean(ratio >= 20))


def test_a_ceiling_target_is_met_below_its_level(toy):
    dataset = data.load(AS_OF, plan=toy)
    result = forecast_indicator(dataset, "pm25_urban", n_paths=2000, backtest=False)
    target = result.targets[0]
    assert target.at_most and target.comparison == "<="
    at = result.paths[:, list(result.years).index(2027)]
    prob = result.probabilities["pm25_urban_2027"]
    assert prob.p_in_year == pytest.approx(np.mean(at <= 30))
    assert prob.shortfall_median == pytest.approx(np.median(at - 30))
    # the curve of P against the level rises for a ceiling, and meets the target's P there
    curve = probability_curve(result.paths, result.years, 2027, [20, 30, 40], at_most=True)
    assert list(curve) == sorted(curve) and curve[1] == pytest.approx(prob.p_in_year)
    # the last value (28.17 in 2024) is already under the ceiling of 30: the pace reads the
    # direction and says met, where a floor's rule would call 28 < 30 far behind
    from forecast.probability import PACE_MET
    pace = result.pace["pm25_urban_2027"]
    assert result.history["value"].iloc[-1] <= 30 and pace.label == PACE_MET


@pytest.mark.slow
def test_forecast_report_on_the_toy_plan(toy, tmp_path):
    """The whole report for another region's plan, with no code change."""
    res = reports.build_report(AS_OF, tmp_path, plan=str(toy), n_paths=300, jobs=2,
                               calibration_paths=100, calibration_origins=1, progress=False)
    assert res.ok, res.messages
    # beside the default plan's reports, not among them
    assert res.path == tmp_path / data.load_registry(toy).plan.id / AS_OF
    summary = json.loads((res.path / "summary.json").read_text(encoding="utf-8"))
    assert {r["target_id"] for r in summary["targets"]} == {"gdp_per_capita_2027",
                                                           "pm25_urban_2027"}
    assert summary["provenance"]["parameters"]["plan"] == str(toy.resolve())
    index = (res.path / "index.html").read_text(encoding="utf-8")
    assert "Toyville" in index and "Hangzhou" not in index  # nothing of Hangzhou's in code
    assert '<html lang="en">' in index  # the toy plan's own language setting
    page = (res.path / "gdp_per_capita.html").read_text(encoding="utf-8")
    assert "GDP per resident" in page and "permanent_population_yearend" in page


@pytest.mark.parametrize("spec,needle", [
    ("2027:3.5", "no direction"), ("2027:=4", "direction '='"), ("2027>=3", "not a year"),
    ("2027:>=150", "outside what rd_intensity can take"), ("20277:>=3", "year 20277"),
    ("2027:<=100", "sits on the bound"),
])
def test_a_target_of_ones_own_is_checked(spec, needle):
    indicator = data.load_registry().indicator("rd_intensity")
    with pytest.raises(InputError, match=needle) as info:
        parse_target_spec(spec, indicator, "Hangzhou")
    assert info.value.field == "target"


def test_forecast_run_takes_targets_of_ones_own(shipped, capsys):
    """`forecast run --region X` scored Hangzhou's 4.0 / 4.2: a user's own targets replace
    them, in the direction the user says, for any indicator of the catalogue."""
    assert cli.main(["run", "--indicator", "rd_intensity", "--region", "Zhejiang", "--as-of",
                     AS_OF, "--paths", "1000", "--no-backtest", "--models", "rw_drift",
                     "--target", "2027:<=3.6", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "P(2027<=3.6)" in out and "value - target" in out
    result = forecast_indicator(shipped, "rd_intensity", region="Zhejiang", n_paths=1000,
                                backtest=False, models=("rw_drift",),
                                targets=[parse_target_spec("2027:<=3.6", shipped.registry.indicator(
                                    "rd_intensity"), "Zhejiang")])
    at = result.paths[:, list(result.years).index(2027)]
    assert result.probabilities["rd_intensity_2027"].p_in_year == pytest.approx(np.mean(at <= 3.6))
    # an indicator without a target in the plan, against one's own
    assert cli.main(["run", "--indicator", "gdp", "--as-of", AS_OF, "--paths", "500",
                     "--no-backtest", "--target", "2027:>=25000", "--lang", "en"]) == 0
    assert "P(2027>=25000)" in capsys.readouterr().out


def test_a_target_too_far_out_or_for_nothing_is_refused(capsys):
    assert cli.main(["run", "--indicator", "gdp", "--as-of", AS_OF, "--target",
                     "2090:>=1e5"]) == 2
    assert "more than 30 years after the as-of date" in capsys.readouterr().err
    assert cli.main(["run", "--indicator", "gdp", "--as-of", AS_OF]) == 2
    assert "--target YEAR:>=VALUE" in capsys.readouterr().err


def test_sensitivity_sweeps_a_ceiling_of_ones_own(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert cli.main(["sensitivity", "--indicator", "rd_intensity", "--as-of", AS_OF,
                     "--target", "2027:<=4.0", "--paths", "500", "--no-backtest",
                     "--engine", "serial", "--models", "rw_drift", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "P(rd_intensity in 2027 <= level)" in text and "your target 4" in text
    import pandas as pd
    table = pd.read_csv(out)
    assert set(table["comparison"]) == {"<="} and list(table["level"]) == [4.0]


def test_target_probability_reads_the_direction():
    paths = np.arange(1001, dtype=float).reshape(-1, 1)   # 0, 1, ..., 1000
    years = np.array([2027])
    floor = Target("a", "x", 2027, 700.0, ">=", "", "R")
    ceiling = Target("b", "x", 2027, 700.0, "<=", "", "R")
    assert target_probability(paths, years, floor).p_in_year == 301 / 1001
    assert target_probability(paths, years, ceiling).p_in_year == 701 / 1001
    assert target_probability(paths, years, ceiling).shortfall_median == -200.0
    assert target_probability(paths, years, floor).shortfall_median == 200.0


def test_the_second_real_plan_zhejiang_is_read_from_its_files(capsys):
    """Zhejiang's plan for the same outline (plans/zhejiang): its targets quote the provincial
    document, its region is Zhejiang, and the shipped data answer it as far as they go --
    R&D intensity's 2025 figure is published (preliminary), the rest have too little history."""
    dataset = data.load(AS_OF, plan="zhejiang")
    plan = dataset.registry.plan
    assert (plan.region, plan.language) == ("Zhejiang", "zh")
    text = plan.text.read_text(encoding="utf-8")
    assert all(t.wording in text for t in dataset.registry.targets.values())
    rd = forecast_indicator(dataset, "rd_intensity", n_paths=300, backtest=False)
    assert rd.status == "observed" and rd.observed["rd_intensity_2025"]["preliminary"]
    assert cli.main(["targets", "--plan", "zhejiang", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "4 targets" in out and "sourced history for Zhejiang" in out
