"""Figures: built from library results, units on the axes, no pyplot state left behind."""
from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

from forecast import calibration, plots, sensitivity
from forecast.pipeline import forecast_indicator

FAST = ("rw_drift", "linear_trend")


@pytest.fixture(scope="module")
def rd(shipped):
    return forecast_indicator(shipped, "rd_intensity", models=FAST, n_paths=400, backtest=False)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_fan_chart_has_units_targets_and_as_of(rd):
    fig = plots.fan_chart(rd)
    ax = fig.axes[0]
    assert "%" in ax.get_ylabel() and ax.get_xlabel() == "year"
    texts = [t.get_text() for t in ax.texts]
    assert any("target 2025" in t for t in texts) and any("as of 2026-11-27" in t for t in texts)
    labels = ax.get_legend_handles_labels()[1]
    assert {"95% band", "80% band", "50% band", "observed"} <= set(labels)
    assert _png(fig).startswith(b"\x89PNG")


def test_points_from_lower_grade_sources_are_marked(rd):
    # the data README: a copy of an official text on another site is a lower grade "and say
    # so in outputs"; Hangzhou's R&D 2013-2017 and 2023 come from such a copy
    fig = plots.fan_chart(rd)
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    squares = handles[labels.index(plots.LOWER_GRADE)]
    copies = rd.history[rd.history["reliability"].str.startswith("copy of an official text")]
    assert len(copies) >= 5
    assert sorted(squares.get_offsets()[:, 0]) == sorted(copies["year"])
    # official and official-media points stay round
    round_years = {x for c in ax.collections if c is not squares and len(c.get_offsets())
                   and c.get_offsets().shape[1] == 2 for x in c.get_offsets()[:, 0]}
    assert {2019, 2021} <= round_years and not round_years & set(copies["year"])


def test_figures_do_not_touch_pyplot(rd):
    import matplotlib.pyplot as plt
    before = len(plt.get_fignums())
    plots.fan_chart(rd)
    plots.model_views(rd)
    assert len(plt.get_fignums()) == before


def test_probability_curve_and_tornado_render(shipped, rd):
    curve = sensitivity.probability_vs_target(rd)
    levels = sensitivity.levels_for_probability(rd)
    fig = plots.probability_curve(curve, levels, rd.indicator)
    assert "probability" in fig.axes[0].get_ylabel()
    table = sensitivity.tornado(shipped, rd, vintage=False)
    ranking = sensitivity.tornado_ranking(table, "rd_intensity_2027")
    fig = plots.tornado(ranking, title="t")
    assert len(fig.axes[0].patches) >= 4
    assert _png(fig)
    # the axis follows the bars (not -30%..130% whatever the swings), its ticks never leave
    # 0-100%, and it is wide enough for every variant's name: a long one at a low end ran
    # over the assumptions' names
    long = ranking.copy()
    long.loc[0, ["low", "low_variant"]] = [0.01, "without the labour_productivity derived "
                                           "from published employed_persons of 2022 (assumed "
                                           "0.58-0.74)"]  # cut to TORNADO_LABEL characters
    for table_ in (ranking, long):
        fig = plots.tornado(table_, title="t")
        ax = fig.axes[0]
        assert all(0 <= t <= 1 for t in ax.get_xticks())
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = ax.get_window_extent(canvas.get_renderer())
        for text in ax.texts:
            extent = text.get_window_extent(canvas.get_renderer())
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
            assert len(text.get_text()) <= plots.TORNADO_LABEL + len(" >99.9%")
        assert -1 <= ax.get_xlim()[0] and ax.get_xlim()[1] <= 2  # the bars stay readable
    ends = [ranking["base"].iloc[0], *ranking["low"].dropna(), *ranking["high"].dropna()]
    span = max(max(ends) - min(ends), 0.1)
    assert plots.tornado(ranking, title="t").axes[0].get_xlim()[1] <= max(ends) + 1.2 * span


def test_pit_and_reliability_render():
    rng = np.random.default_rng(0)
    import pandas as pd
    rows = pd.DataFrame({"pit": rng.uniform(size=200)})
    events = pd.DataFrame({"event_prob": rng.uniform(size=200)})
    events["event_obs"] = rng.uniform(size=200) < events["event_prob"]
    fig = plots.pit_histogram(calibration.pit_histogram(rows))
    assert "forecasts" in fig.axes[0].get_ylabel()
    fig = plots.reliability_diagram(calibration.reliability_table(events))
    assert "observed frequency" in fig.axes[0].get_ylabel()
    assert _png(fig)


def test_coverage_by_horizon_draws_each_level_against_its_chance_range():
    import pandas as pd
    table = pd.DataFrame({"horizon": [1, 2, 3, "all"], "coverage_50": [0.5, 0.4, 0.45, 0.45],
                          "coverage_80": [0.8, 0.7, 0.75, 0.75],
                          "coverage_95": [0.95, 0.9, 0.85, 0.9], "crps": 0.1, "brier": 0.2,
                          "n_forecasts": [100, 25, 4, 129]})
    fig = plots.coverage_by_horizon(table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1\n(n=100)", "2\n(n=25)",
                                                            "3\n(n=4)"]  # no pooled row
    # the chance range of the 50% interval widens as forecasts get fewer: 4 forecasts at
    # horizon 3 allow +-49 points, 100 at horizon 1 only +-10
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() - band.min() == pytest.approx(2 * calibration.chance_spread(0.5, 4),
                                                    abs=0.01)
    assert _png(fig)
    # one horizon alone still shows its chance range; none at all says so
    one = plots.coverage_by_horizon(table.iloc[[0, 3]]).axes[0]
    xs = one.collections[0].get_paths()[0].vertices[:, 0]
    assert xs.max() - xs.min() > 0.5
    empty = plots.coverage_by_horizon(table.assign(n_forecasts=0)).axes[0]
    assert "no scored forecasts" in [t.get_text() for t in empty.texts]


def test_labels_never_show_chinese_without_a_cjk_font(rd, monkeypatch):
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    assert plots.indicator_label(rd.indicator) == rd.indicator.name_en
    fig = plots.fan_chart(rd)
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in fig.axes[0].get_title())


def test_components_chart_for_a_ratio_and_none_otherwise(shipped, rd):
    lp = forecast_indicator(shipped, "labour_productivity", models=FAST, n_paths=400,
                            backtest=False)
    fig = plots.components_chart(lp, shipped)
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 2 and "25 sourced years" in titles[0] and "5 sourced years" in titles[1]
    assert "亿元" in fig.axes[0].get_ylabel() or "100 million" in fig.axes[0].get_ylabel()
    # population is modelled since the 2020 census recount: earlier years are drawn apart
    gdp_labels = fig.axes[0].get_legend_handles_labels()[1]
    pop_lines = {line.get_label(): line for line in fig.axes[1].get_lines()}
    assert "earlier, not modelled" not in gdp_labels
    assert max(pop_lines["earlier, not modelled"].get_xdata()) < 2020
    assert min(pop_lines["observed"].get_xdata()) == 2020
    assert _png(fig)[:4] == b"\x89PNG"
    assert plots.components_chart(rd, shipped) is None
    # the fans start at the last observation; a GDP scenario moves the GDP panel only
    gdp_median = {l.get_label(): l for l in fig.axes[0].get_lines()}["median"]
    assert gdp_median.get_xdata()[0] == 2024
    from forecast.scenario import Scenario
    slower = forecast_indicator(shipped, "labour_productivity", models=FAST, n_paths=400,
                                backtest=False, scenario=Scenario(name="s", trend=-0.05))
    cut = plots.components_chart(slower, shipped)
    median = lambda f, i: {l.get_label(): l for l in f.axes[i].get_lines()}["median"].get_ydata()
    assert median(cut, 0)[-1] < median(fig, 0)[-1]
    assert np.array_equal(median(cut, 1), median(fig, 1))  # population is not what it acts on


def test_scenario_comparison_draws_every_scenario_against_the_baseline(rd):
    years, paths = rd.years, rd.paths
    runs = {"baseline": (years, paths)}
    runs.update({f"s{i}": (years, paths * (1 + 0.01 * i)) for i in range(1, 9)})
    fig = plots.scenario_comparison(runs, rd)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split("\n")[0] for ax in panels] == [f"s{i}" for i in range(1, 9)]
    for ax, (name, (_, scenario_paths)) in zip(panels, list(runs.items())[1:]):
        # the baseline and the scenario in every panel, titled with the scenario's own P
        labels = set(ax.get_legend_handles_labels()[1])
        assert {"baseline median", "scenario median"} <= labels
        p = float(np.mean(scenario_paths[:, -1] >= 4.2))
        assert ax.get_title().split("\n")[1] == f"{plots._p_text(p)} in 2027"
        # the baseline's band is drawn as lines, not a second fill that would blend into one
        fills = [c for c in ax.collections if "Poly" in type(c).__name__]
        assert len(fills) == 1  # the scenario's band only
    assert "%" in panels[0].get_ylabel()
    assert _png(fig).startswith(b"\x89PNG")


def test_scenario_panels_give_the_room_to_the_years_a_scenario_changes(rd):
    runs = {"baseline": (rd.years, rd.paths), "s1": (rd.years, rd.paths * 1.01)}
    ax = [a for a in plots.scenario_comparison(runs, rd).axes if a.get_visible()][0]
    first = int(rd.years[0])
    left, right = ax.get_xlim()
    assert left == first - plots.SCENARIO_RUN_UP - 0.5 and right == rd.years[-1] + 0.5
    # the history plotted starts inside the window, so it does not stretch the value axis
    observed = [line for line in ax.get_lines() if line.get_label() == "observed"][0]
    assert min(observed.get_xdata()) >= first - plots.SCENARIO_RUN_UP
    # the dotted line sits before the first year a trend changes (as of 2026-11-27: 2026)
    assert rd.scenario_start == 2026
    assert any(list(line.get_xdata()) == [2025.5, 2025.5] for line in ax.get_lines())
    # R&D intensity from 2024 is a share of census-revised GDP: its step down is marked
    assert rd.basis.break_year == 2024
    assert any(list(line.get_xdata()) == [2023.5, 2023.5] for line in ax.get_lines())
    assert "from 2024 a share of census-revised gdp" in ax.figure._suptitle.get_text()


def test_labour_productivity_charts_show_where_it_stands_on_the_assumption(shipped):
    from forecast.pipeline import forecast_indicator
    lp = forecast_indicator(shipped, "labour_productivity", models=("rw_drift",), n_paths=500,
                            backtest=False)
    ax = plots.fan_chart(lp).axes[0]
    assert f"{lp.implied_last.year} implied (ratio 0.58-0.74)" in \
        ax.get_legend_handles_labels()[1]
    # the 2015 value rests on employment counted on another basis: drawn apart, and the
    # title says what employment the fan assumes
    assert "before the 2020 population recount (earlier basis)" in ax.get_legend_handles_labels()[1]
    assert "employment assumed: 0.58-0.74 of the population" in ax.get_title()
    # 2025 is over but GDP 2025 is not in the data: shaded from 2024.5, not from 2015.5
    span = [p for p in ax.patches if p.get_x() == 2024.5]
    assert span and span[0].get_width() == 1.0
    # scenario panels: no run-up of empty years before the 2024 level; an employment scenario's
    # panel does not show the baseline's implied level it does not assume
    runs = {"baseline": (lp.years, lp.paths), "low_ratio": (lp.years, lp.paths * 1.1),
            "slower": (lp.years, lp.paths * 0.95)}
    fig = plots.scenario_comparison(runs, lp, own_employment={"low_ratio"})
    low, slower = [a for a in fig.axes if a.get_visible()]
    assert low.get_xlim()[0] == lp.implied_last.year - 0.5
    assert "before the years shown" in fig.get_suptitle()
    bars = lambda ax: [c for c in ax.collections if c.__class__.__name__ == "LineCollection"]
    assert not bars(low) and bars(slower)


def test_a_probability_label_never_reads_as_an_arrow():
    assert plots._p_text(0.9999) == "P>99.9%" and plots._p_text(0.63) == "P=63%"


def test_the_overview_puts_every_probability_on_one_axis(shipped):
    from forecast import reports
    rows = reports.records(reports.summary_table(shipped, n_paths=300, models=FAST))
    with_p = [r for r in rows if r["p_in_year"] is not None]
    fig = plots.target_overview(rows)
    ax = fig.axes[0]
    assert len(ax.get_yticks()) == len(with_p) >= 4  # R&D and labour productivity, 2025 and 2027
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any(label.startswith("R&D intensity 2027") for label in labels)
    # the filled dots are the summary's probabilities; the hollow ones R&D intensity's on the
    # published history's basis (GDP before its census revision)
    filled = [c for c in ax.collections if tuple(c.get_facecolor()[0][:3]) != (1.0, 1.0, 1.0)]
    hollow = [c for c in ax.collections if tuple(c.get_facecolor()[0][:3]) == (1.0, 1.0, 1.0)]
    assert sorted(float(c.get_offsets()[0][0]) for c in filled) == \
        sorted(r["p_in_year"] for r in with_p)
    assert sorted(float(c.get_offsets()[0][0]) for c in hollow) == \
        sorted(r["p_history_basis"] for r in with_p if r["p_history_basis"] is not None)
    assert len(hollow) == 2 and "history's basis" in ax.get_legend().get_texts()[0].get_text()
    assert plots.target_overview([r for r in rows if r["p_in_year"] is None]) is None
    from forecast import render
    from forecast.plans import ProbabilityClasses
    assert render.overview_figure(rows, ProbabilityClasses(), "en").startswith(
        "data:image/png;base64,")


def test_a_chart_without_a_model_draws_the_pace_it_states(shipped):
    share = forecast_indicator(shipped, "digital_core_share_gdp", n_paths=300, backtest=False)
    assert share.paths is None and share.pace
    ax = plots.fan_chart(share).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    pace = next(iter(share.pace.values()))
    required = lines["growth each target requires"]
    assert required.get_xdata()[0] == pace.last_year
    assert required.get_ydata()[-1] == pytest.approx(30.0)  # it ends on the 2025 target
    assert lines["observed growth carried on"].get_ydata()[-1] < 30.0  # behind pace
    air = forecast_indicator(shipped, "air_quality_good_days_ratio", n_paths=300, backtest=False)
    carried = {l.get_label(): l for l in plots.fan_chart(air).axes[0].get_lines()}
    assert max(carried["observed growth carried on"].get_ydata()) <= 100.0  # a share's bound


def test_model_views_give_each_model_its_weight(rd):
    fig = plots.model_views(rd)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    weights = rd.modelled.weighting.weights
    assert labels == [f"{m} (w {weights[m]:.2f})" for m in rd.member_paths] + ["ENSEMBLE"]
