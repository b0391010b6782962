"""Pooled families (forecast.models.pooled) and their panels (forecast.panels).

Synthetic panels below are simulated from the pooled model itself (named synthetic_*); the
shipped data are used only to check how panels are built."""
import time

import numpy as np
import pytest
from scipy import stats

from forecast.errors import InputError
from forecast.models.base import ModelFailure, Series
from forecast.models.pooled import (PooledEB, hyper_tau_posterior, local_level_grid,
                                    normal_shrinkage, variance_prior_posterior)
from forecast.panels import AGGREGATES, Panel, build_panel


def synthetic_panel(rng, n_regions=20, years=range(2000, 2016), q=0.01**2, r=0.015**2,
                    tau=0.01, d0=8.0, s0=0.04, m0=0.05):
    """Regions (plus one target, "T") simulated from the model PooledEB assumes: a common
    local-level increment with a common yearly shock, a persistent deviation per region and
    region-specific volatilities."""
    years = np.asarray(list(years))
    n = len(years)
    m = m0 + np.cumsum(np.sqrt(q) * rng.standard_normal(n))
    common = m + np.sqrt(r) * rng.standard_normal(n)
    out = {}
    for i in range(n_regions + 1):
        sigma = np.sqrt(d0 * s0**2 / rng.chisquare(d0))
        a = tau * rng.standard_normal()
        inc = common + a + sigma * rng.standard_normal(n)
        out["T" if i == n_regions else f"R{i:02d}"] = Series(years, 1.0 + np.cumsum(inc))
    target = out.pop("T")
    return Panel("x", "u", "T", out, {}, "synthetic"), target


# ------------------------------------------------------------------ closed forms


def test_normal_shrinkage_is_the_textbook_posterior():
    mean, var, b = normal_shrinkage(2.0, 1.0, 0.0, 3.0)
    assert b == pytest.approx(0.75)
    assert mean == pytest.approx(1.5) and var == pytest.approx(0.75)
    mean, var, b = normal_shrinkage(2.0, 1.0, 0.5, 0.0)  # no spread between regions
    assert (mean, var, b) == (0.5, 0.0, 0.0)


def test_tau_posterior_matches_brute_force_integration_over_alpha():
    # the eight schools (Rubin 1981; BDA 5.5): estimates and standard errors
    y = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
    se = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
    taus = np.linspace(0.0, 40.0, 81)
    p, alpha, alpha_var = hyper_tau_posterior(y, se**2, taus)
    grid = np.linspace(-60, 80, 4001)
    joint = np.array([np.exp(stats.norm.logpdf(y[None, :], grid[:, None],
                                               np.sqrt(se**2 + t**2)).sum(1)) for t in taus])
    marg = joint.sum(1)
    assert p == pytest.approx(marg / marg.sum(), rel=1e-5)  # grid edge: 3e-6
    i = 20  # tau = 10
    post_alpha = joint[i] / joint[i].sum()
    assert alpha[i] == pytest.approx(np.sum(post_alpha * grid), abs=1e-4)
    assert alpha_var[i] == pytest.approx(np.sum(post_alpha * (grid - alpha[i]) ** 2), rel=1e-3)


def test_variance_prior_recovers_the_panels_volatility_distribution():
    rng = np.random.default_rng(1)
    d0, s02, df = 6.0, 0.04**2, np.full(400, 9.0)
    sigma2 = d0 * s02 / rng.chisquare(d0, 400)
    s2 = sigma2 * rng.chisquare(df) / df
    w = np.linspace(0.025, 0.975, 39)
    p, d0s, s02s = variance_prior_posterior(s2, df, w, 0.5 * np.log(s02) + np.linspace(-2, 2, 81))
    assert np.sum(p * s02s) == pytest.approx(s02, rel=0.1)
    assert np.sum(p * d0s) == pytest.approx(d0, rel=0.35)


def test_local_level_grid_matches_statsmodels():
    from statsmodels.tsa.statespace.structural import UnobservedComponents
    rng = np.random.default_rng(2)
    y = 0.05 + np.cumsum(0.01 * rng.standard_normal(15)) + 0.02 * rng.standard_normal(15)
    y[6] = np.nan  # a year without an observation
    extra = np.full(15, 0.01**2)
    sd_q, sd_r = np.array([0.01, 0.003]), np.array([0.02, 0.0])
    ll, a, P = local_level_grid(y, extra, sd_q, sd_r)
    for g in range(2):
        mod = UnobservedComponents(y, level="local level", initialization="diffuse")
        res = mod.filter([sd_r[g] ** 2 + extra[0], sd_q[g] ** 2])
        assert ll[g] == pytest.approx(res.llf_obs[1:].sum(), rel=1e-6)
        assert a[g] == pytest.approx(res.filtered_state[0, -1], rel=1e-6)
        assert P[g] == pytest.approx(res.filtered_state_cov[0, 0, -1], rel=1e-6)


def test_drift_draws_have_the_closed_form_posterior_mean():
    # many regions: the hyper-parameters are pinned down; then E[a] is the shrinkage formula
    rng = np.random.default_rng(3)
    panel, target = synthetic_panel(rng, n_regions=200, tau=0.01, years=range(2000, 2012))
    fitted = PooledEB(panel).fit(target)
    pf = fitted.pf
    sigma2 = np.sum(pf.var_post * (pf.d0 * pf.s02 + fitted.df * fitted.s2) / (pf.d0 + fitted.df))
    tau2 = np.sum(pf.tau_post * pf.taus**2)
    alpha = np.sum(pf.tau_post * pf.alpha_mean)
    expected, _, b = normal_shrinkage(fitted.a_hat, sigma2 / fitted.span, alpha, tau2)
    _, a, _, _, _ = fitted._hyper_draws(200_000, np.random.default_rng(0))
    assert np.mean(a) == pytest.approx(expected, abs=0.0005)
    assert fitted.summary["own_weight_drift"] == pytest.approx(b, abs=0.05)
    assert 0.0 < fitted.summary["own_weight_drift"] < 1.0


# ------------------------------------------------------------------ simulation


@pytest.mark.parametrize("prior, narrow, wide", [("ml", 0.04, 0.05), ("uniform", 0.03, 0.10)])
def test_intervals_on_data_simulated_from_the_model(prior, narrow, wide):
    """Coverage of 80% and 95% intervals at horizons 1-4 on panels simulated from the model.
    The maximum-likelihood common component is within a few points of nominal; the full grid
    posterior under uniform priors errs on the wide side (measured over 500 replications:
    83-89% and 96-98%); neither may be too narrow."""
    rng = np.random.default_rng(4)
    hits = {0.8: [], 0.95: []}
    for rep in range(150):
        panel, target = synthetic_panel(rng, n_regions=15)
        train = target.head(12)
        fitted = PooledEB(panel, common_prior=prior).fit(train)
        paths = fitted.simulate(4, 1000, np.random.default_rng(rep))
        obs = target.values[12:16]
        for level in hits:
            lo, hi = np.quantile(paths, [(1 - level) / 2, (1 + level) / 2], axis=0)
            hits[level].append((lo <= obs) & (obs <= hi))
    for level, h in hits.items():
        cov = np.mean(h)
        assert level - narrow * (1 if level < 0.9 else 0.75) < cov < min(level + wide, 0.995), \
            (level, cov)


def test_the_panel_after_the_series_last_year_does_not_change_the_fit():
    rng = np.random.default_rng(5)
    panel, target = synthetic_panel(rng)
    train = target.head(10)
    last = train.last_year
    changed = Panel(panel.indicator, panel.unit, panel.target,
                    {r: Series(s.years, np.where(s.years > last, s.values + 5.0, s.values))
                     for r, s in panel.members.items()}, {}, "changed after the cut")
    a = PooledEB(panel).fit(train).simulate(4, 500, np.random.default_rng(9))
    b = PooledEB(changed).fit(train).simulate(4, 500, np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    # and a change up to the last year does change it
    earlier = Panel(panel.indicator, panel.unit, panel.target,
                    {r: Series(s.years, np.where(s.years == last, s.values + 0.5, s.values))
                     for r, s in panel.members.items()}, {}, "changed at the cut")
    c = PooledEB(earlier).fit(train).simulate(4, 500, np.random.default_rng(9))
    assert not np.allclose(a, c)


def test_common_shift_moves_the_forecast_fixed_mean_does_not_follow():
    # every region's increment steps up from 0.02 to 0.08 in the last 4 years
    rng = np.random.default_rng(6)
    years = np.arange(2000, 2016)
    step = np.where(years >= 2012, 0.08, 0.02)
    members = {f"R{i}": Series(years, np.cumsum(step + 0.01 * rng.standard_normal(16)))
               for i in range(12)}
    panel = Panel("x", "u", "T", members, {}, "synthetic step")
    target = Series(years, np.cumsum(step + 0.01 * rng.standard_normal(16)))
    moving = PooledEB(panel).fit(target).summary["common_increment"]
    fixed = PooledEB(panel, common_trend=False).fit(target).summary["common_increment"]
    assert moving > 0.06 and fixed < 0.05


def test_gaps_in_the_series_count_as_several_years():
    rng = np.random.default_rng(7)
    panel, target = synthetic_panel(rng)
    keep = np.ones(len(target), bool)
    keep[[4, 5, 9]] = False
    gapped = Series(target.years[keep], target.values[keep])
    fitted = PooledEB(panel).fit(gapped)
    assert fitted.span == gapped.years[-1] - gapped.years[0]
    assert any("gaps" in n for n in fitted.notes)
    assert fitted.simulate(3, 100, np.random.default_rng(0)).shape == (100, 3)


def test_series_past_the_panel_reads_the_common_increment_from_itself():
    rng = np.random.default_rng(8)
    panel, target = synthetic_panel(rng)
    short = panel.cut(2011)
    fitted = PooledEB(short).fit(target)
    assert any("after the panel's last" in n for n in fitted.notes)


def test_same_seed_same_paths():
    panel, target = synthetic_panel(np.random.default_rng(10))
    fitted = PooledEB(panel).fit(target)
    a = fitted.simulate(5, 300, np.random.default_rng(1))
    np.testing.assert_array_equal(a, fitted.simulate(5, 300, np.random.default_rng(1)))
    assert not np.array_equal(a, fitted.simulate(5, 300, np.random.default_rng(2)))


def test_failures_say_why():
    panel, target = synthetic_panel(np.random.default_rng(11), n_regions=3)
    with pytest.raises(ModelFailure, match="fewer than 5"):
        PooledEB(panel).fit(target)
    panel, target = synthetic_panel(np.random.default_rng(11))
    with pytest.raises(ModelFailure, match="at least 3"):
        PooledEB(panel).fit(target.head(2))
    early = Series(np.array([1990, 1991, 1992]), np.array([1.0, 1.1, 1.2]))
    with pytest.raises(ModelFailure, match="panel"):
        PooledEB(panel).fit(early)


def test_fit_and_ten_thousand_paths_well_under_two_seconds():
    panel, target = synthetic_panel(np.random.default_rng(12), n_regions=60,
                                    years=range(1996, 2024))
    t0 = time.perf_counter()
    PooledEB(panel).fit(target).simulate(6, 10_000, np.random.default_rng(0))
    assert time.perf_counter() - t0 < 0.5


# ------------------------------------------------------------------ panels from data/raw


def test_panel_of_the_provinces_for_hangzhou(shipped):
    panel = build_panel(shipped, "rd_intensity", "Hangzhou", files=("china_provinces_rd_nbs",))
    assert panel.n_regions == 31 and "Hangzhou" not in panel.members
    assert not set(AGGREGATES) & set(panel.members)
    assert panel.members["Zhejiang"].transform is not None
    # on the modelling scale (logit of a share in percent)
    beijing = panel.members["Beijing"]
    assert beijing.last_year == 2023  # 6.73% in the 2023 bulletin
    assert beijing.values[-1] == pytest.approx(np.log(0.0673 / (1 - 0.0673)))


def test_default_panel_is_every_region_of_the_indicator_and_unit(shipped):
    panel = build_panel(shipped, "gdp", "Hangzhou")
    assert panel.n_regions == 9
    assert "Zhejiang" in panel.left_out and "fewer than 6" in panel.left_out["Zhejiang"]
    assert "left out: Zhejiang" in panel.describe()
    every = build_panel(shipped, "rd_intensity", "Hangzhou")
    assert {"Beijing", "DE", "Zhejiang"} <= set(every.members)


def test_panel_named_by_regions_and_unknown_region(shipped):
    panel = build_panel(shipped, "gdp", "Hangzhou", regions=["Shanghai", "Suzhou", "Hangzhou"])
    assert panel.regions == ("Shanghai", "Suzhou")
    with pytest.raises(InputError, match="Atlantis"):
        build_panel(shipped, "gdp", "Hangzhou", regions=["Atlantis"])


def test_panel_cut_keeps_years_up_to_the_cut(shipped):
    panel = build_panel(shipped, "gdp", "Hangzhou").cut(2010)
    assert all(s.last_year <= 2010 for s in panel.members.values())
    assert panel.frame().index[-1] == 2010


# ------------------------------------------------------------------ in the ensemble


def test_ensemble_and_backtest_weights_take_a_configured_pooled_member():
    from forecast.ensemble import Ensemble, backtest_weights
    panel, target = synthetic_panel(np.random.default_rng(13))
    pooled = {"pooled_eb": PooledEB(panel)}
    names = ("rw_drift", "pooled_eb")
    fitted = Ensemble(names, instances=pooled).fit(target)
    assert set(fitted.members) == set(names)
    weighting = backtest_weights(target, names, horizon=3, min_train=8, n_paths=200, seed=1,
                                 instances=pooled)
    assert weighting.scores["pooled_eb"]["n_forecasts"] > 0
    assert set(weighting.weights) == set(names)
    # without the instance the name is unknown to the registry: no silent stand-in
    with pytest.raises(ValueError, match="pooled_eb"):
        Ensemble(names).fit(target)


# ------------------------------------------------------------------ statsmodels family


def test_pooled_state_space_fits_simulates_and_cuts_the_panel():
    from forecast.models.pooled import PooledStateSpace
    panel, target = synthetic_panel(np.random.default_rng(14))
    train = target.head(11)
    fitted = PooledStateSpace(panel).fit(train)
    a = fitted.simulate(4, 400, np.random.default_rng(3))
    assert a.shape == (400, 4) and np.all(np.isfinite(a))
    np.testing.assert_array_equal(a, fitted.simulate(4, 400, np.random.default_rng(3)))
    changed = Panel(panel.indicator, panel.unit, panel.target,
                    {r: Series(s.years, np.where(s.years > train.last_year, s.values - 3.0,
                                                 s.values))
                     for r, s in panel.members.items()}, {}, "changed after the cut")
    b = PooledStateSpace(changed).fit(train).simulate(4, 400, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert fitted.summary["n_regions"] == panel.n_regions
    with pytest.raises(ModelFailure, match="common increments, fewer than 5"):
        PooledStateSpace(panel).fit(target.head(5))
    gapped = Series(target.years[::2], target.values[::2])  # no yearly increment at all
    with pytest.raises(ModelFailure, match="yearly deviations"):
        PooledStateSpace(panel).fit(gapped)


@pytest.mark.slow
def test_pooled_state_space_coverage_on_data_simulated_from_the_pooled_model():
    from forecast.models.pooled import PooledStateSpace
    rng = np.random.default_rng(15)
    hits = []
    for rep in range(80):
        panel, target = synthetic_panel(rng, n_regions=15)
        paths = PooledStateSpace(panel).fit(target.head(12)).simulate(
            4, 500, np.random.default_rng(rep))
        lo, hi = np.quantile(paths, [0.1, 0.9], axis=0)
        obs = target.values[12:16]
        hits.append((lo <= obs) & (obs <= hi))
    assert 0.72 < np.mean(hits) < 0.95  # measured: wide, as its deviation may drift


# ------------------------------------------------------------------ parent-relative family


def test_parent_relative_is_parent_plus_gap_with_closed_form_moments():
    from forecast.models.parent_relative import ParentRelative
    from forecast.models.rw_drift import RWDrift
    rng = np.random.default_rng(16)
    years = np.arange(2005, 2024)
    parent = Series(years, np.cumsum(0.05 + 0.02 * rng.standard_normal(len(years))))
    gap = 0.3 + np.cumsum(-0.01 + 0.01 * rng.standard_normal(len(years)))
    region = Series(years[:-3], (parent.values + gap)[:-3])  # the region ends 3 years earlier
    fitted = ParentRelative(parent).fit(region)
    paths = fitted.simulate(5, 200_000, np.random.default_rng(1))
    # the parent is cut at the region's last year, both forecasts start there
    p = RWDrift().fit(parent.head(len(years) - 3))
    g = RWDrift().fit(Series(region.years, region.values - parent.values[:-3]))
    for h in (1, 5):
        mean = p.predictive(h).mean() + g.predictive(h).mean()
        var = p.predictive(h).var() + g.predictive(h).var()
        assert np.mean(paths[:, h - 1]) == pytest.approx(mean, abs=0.002)
        assert np.var(paths[:, h - 1]) == pytest.approx(var, rel=0.06)  # capped tails


def test_parent_relative_needs_the_parent_in_the_last_year_and_enough_overlap():
    from forecast.models.parent_relative import ParentRelative
    years = np.arange(2010, 2020)
    parent = Series(years[:-1], np.linspace(1.0, 2.0, 9) + 0.01 * np.sin(years[:-1]))
    region = Series(years, np.linspace(1.5, 2.4, 10) + 0.02 * np.cos(years))
    with pytest.raises(ModelFailure, match="no value in 2019"):
        ParentRelative(parent, parent_name="Zhejiang").fit(region)
    sparse = Series(years[[0, 4, 9]], np.array([1.0, 1.4, 2.0]))  # 3 years in common
    with pytest.raises(ModelFailure, match="share 3 years"):
        ParentRelative(sparse, min_overlap=5).fit(region)


def test_a_users_own_panel_works_the_same_way_and_widens_a_smooth_series(tmp_path, monkeypatch):
    """Several regions of one indicator brought as a user file form the panel of Hangzhou's
    series; a made-up smooth history (the issue's brand-sales case) then gets the panel's
    volatility instead of its own near-zero one. Synthetic data, named as such."""
    import csv

    from forecast import data
    from forecast.models.rw_drift import RWDrift

    from conftest import copy_registry
    (tmp_path / "data" / "raw" / "series").mkdir(parents=True)
    copy_registry(tmp_path)
    rng = np.random.default_rng(17)
    rows = []
    years = range(2014, 2024)
    regions = {"Hangzhou": 40 + 1.2 * np.arange(10)}  # smooth: +1.2 points a year
    for i in range(7):
        regions[f"Synthetic {chr(65 + i)}"] = 35 + np.cumsum(1.0 + 2.0 * rng.standard_normal(10))
    for region, values in regions.items():
        for y, v in zip(years, values):
            rows.append(dict(region=region, indicator="brand_sales_share_mfg", year=y,
                             value=f"{v:.2f}", unit="%", source_title="synthetic test panel",
                             source_url="https://example.org/synthetic", published=f"{y + 1}-03-01",
                             vintage="synthetic", reliability="official"))
    path = tmp_path / "data" / "raw" / "user" / "synthetic_panel.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("FORECAST_HOME", str(tmp_path))
    dataset = data.load("2026-11-27", tmp_path)
    panel = build_panel(dataset, "brand_sales_share_mfg", "Hangzhou")
    assert panel.n_regions == 7 and "Hangzhou" not in panel.members
    own = build_panel(dataset, "brand_sales_share_mfg", "Synthetic A").members["Hangzhou"]
    series = Series(own.years, own.values, own.transform)
    rng0 = np.random.default_rng(0)
    spread = lambda p: np.subtract(*np.quantile(own.transform.inverse(p[:, 1]), [0.9, 0.1]))  # noqa: E731
    alone = spread(RWDrift().fit(series).simulate(2, 4000, rng0))
    pooled_fit = PooledEB(panel).fit(series)
    pooled = spread(pooled_fit.simulate(2, 4000, rng0))
    assert pooled > 5 * alone, (pooled, alone)
    assert pooled_fit.summary["own_weight_volatility"] < 0.9


def test_for_region_builds_the_panel_and_a_series_without_one_fails_with_a_reason(shipped):
    model = PooledEB.for_region(shipped, "rd_intensity", "Hangzhou",
                                files=("china_provinces_rd_nbs",))
    assert model.panel.n_regions == 31
    # no other region has this indicator: the ensemble drops the member with this reason
    lonely = PooledEB.for_region(shipped, "digital_core_share_gdp", "Hangzhou")
    assert lonely.panel.n_regions == 0
    series = Series(np.arange(2018, 2024), np.linspace(-2.0, -1.5, 6))
    with pytest.raises(ModelFailure, match="pooled_eb: no panel: 0 regions"):
        lonely.fit(series)


def test_default_run_pools_a_series_whose_plan_names_a_panel_and_says_how_much(shipped):
    """The Hangzhou plan names the provinces' panel for R&D intensity: the default ensemble
    gains the pooled member, the output says which panel, how many regions and how much the
    own history weighs, and P without pooling is what the other members alone give."""
    import json

    from forecast.models import DEFAULT_MODELS
    from forecast.pipeline import forecast_indicator

    pooled = forecast_indicator(shipped, "rd_intensity", n_paths=6000, backtest=False)
    info = pooled.components["rd_intensity"].pooling
    assert "pooled_eb" in pooled.member_paths
    assert info["n_regions"] == 31 and "china_provinces_rd_nbs" in info["panel"]
    assert 0 < info["own_weight_drift"] < 1 and 0 < info["own_weight_volatility"] < 1
    dropped = pooled.components["rd_intensity"].dropped  # equal weights among those fitted
    assert info["weight"] == pytest.approx(1 / (6 - len(dropped)))
    assert set(pooled.p_without_pooling) == set(pooled.probabilities)
    record = json.loads(json.dumps(pooled.to_dict(), default=str))
    assert record["components"]["rd_intensity"]["pooling"]["n_regions"] == 31
    # the same members without the pooled one (a model list the user named, not the
    # default): its P is the one reported "without pooling", up to Monte Carlo noise
    others = forecast_indicator(shipped, "rd_intensity", n_paths=6000, backtest=False,
                                models=tuple(reversed(DEFAULT_MODELS)))
    assert "pooled_eb" not in others.member_paths and others.p_without_pooling == {}
    assert others.components["rd_intensity"].pooling is None
    for tid, p in pooled.p_without_pooling.items():
        assert p == pytest.approx(others.probabilities[tid].p_in_year, abs=0.03), tid
    # the pooled member moves P: the provinces grew faster than Hangzhou's own drift
    assert any(abs(pooled.probabilities[t].p_in_year - p) > 0.02
               for t, p in pooled.p_without_pooling.items())


def test_a_series_without_a_panel_keeps_todays_models_and_the_output_says_so(shipped):
    from forecast.cli import render_forecast
    from forecast.pipeline import forecast_indicator
    from forecast.targets import parse_target_spec

    indicator = shipped.registry.indicator("permanent_population_yearend")
    own = [parse_target_spec("2027:>=1300", indicator, "Hangzhou")]
    result = forecast_indicator(shipped, indicator.id, n_paths=500, backtest=False,
                                targets=own)
    assert "pooled_eb" not in result.member_paths and result.p_without_pooling == {}
    assert "names no panel" in result.modelled.pooling["dropped"]
    assert "not pooled: the plan names no panel" in render_forecast(result)


def test_pooling_comparison_pairs_the_same_forecasts_and_resamples_origin_years():
    import pandas as pd

    from forecast.calibration import PooledBacktest, pooling_comparison

    rng = np.random.default_rng(3)
    rows = []
    for series, group in (("A/x", "panel: x"), ("B/x", "panel: x"), ("H/y", "H")):
        for origin in range(2010, 2016):
            for h in (1, 2):
                rows.append(dict(series=series, group=group, origin=origin,
                                 target_year=origin + h, pit=rng.uniform(),
                                 crps=(100.0 if series == "H/y" else 1.0) * rng.uniform(1, 2),
                                 covered_80=rng.uniform() < 0.7, covered_95=True))
    before = pd.DataFrame(rows)
    after = before.assign(crps=before["crps"] / 2, pit=0.25, covered_80=True)
    events = lambda p: pd.DataFrame(dict(group=["H", "panel: x"], event_prob=[p, p],  # noqa: E731
                                         event_obs=[True, False]))
    table = pooling_comparison(PooledBacktest(before, events(0.5), pd.DataFrame()),
                               PooledBacktest(after, events(0.2), pd.DataFrame()))
    assert list(table["group"]) == ["H", "panel: x", "all"]
    total = table.set_index("group").loc["all"]
    assert total["n"] == len(before)
    assert total["crps_ratio"] == pytest.approx(0.5)  # H's large unit does not dominate
    assert total["crps_ratio_lo"] == pytest.approx(0.5) and total["crps_ratio_hi"] == pytest.approx(0.5)
    assert total["above_median_before"] == pytest.approx((before["pit"] > 0.5).mean())
    assert total["above_median_after"] == 0.0
    assert total["coverage_80_after"] == 1.0
    assert total["brier_events_before"] == pytest.approx(0.25)
    assert total["brier_events_after"] == pytest.approx((0.8 ** 2 + 0.2 ** 2) / 2)


def test_a_built_panel_is_cached_and_other_rows_are_another_entry(shipped, tmp_path, monkeypatch):
    """Linking 31 regions' series is most of a panel's cost: a second build reads the cached
    panel (no series is linked again); a dataset with other rows under the same data hash (a
    data-vintage variant) gets its own entry."""
    import dataclasses

    from forecast.data import Dataset

    monkeypatch.setenv("FORECAST_CACHE", str(tmp_path))
    first = build_panel(shipped, "rd_intensity", "Hangzhou", files=("china_provinces_rd_nbs",))
    assert len(list((tmp_path / "panels").glob("*.pkl"))) == 1

    def no_linking(*args, **kwargs):
        raise AssertionError("linked again despite the cache")
    with monkeypatch.context() as m:
        m.setattr(Dataset, "linked_series", no_linking)
        again = build_panel(shipped, "rd_intensity", "Hangzhou",
                            files=("china_provinces_rd_nbs",))
    assert again.key == first.key and again.describe() == first.describe()
    panel = shipped.panel
    fewer = panel[~((panel["indicator"] == "rd_intensity") & (panel["region"] == "Anhui"))]
    variant = dataclasses.replace(shipped, panel=fewer)
    other = build_panel(variant, "rd_intensity", "Hangzhou", files=("china_provinces_rd_nbs",))
    assert "Anhui" not in other.members and other.n_regions == first.n_regions - 1
    assert len(list((tmp_path / "panels").glob("*.pkl"))) == 2
