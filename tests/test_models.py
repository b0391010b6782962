"""Tests of the trajectory model families (forecast.models).

All series here are synthetic and named as such (``synthetic_*``)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from forecast.models import DEFAULT_MODELS, MODELS, get_model
from forecast.models.base import ModelFailure, Series
from forecast.models.ets import ETSDamped, ets_recursions
from forecast.models.rw_drift import RWDrift, estimate_drift
from forecast.transforms import Transform

HORIZON = 6
# prophet's first import starts the Stan backend (slow): its cases are marked slow
FAMILIES = [pytest.param(n, marks=pytest.mark.slow) if n == "prophet" else n for n in MODELS]


def synthetic_rw_drift(n: int = 17, drift: float = 0.06, sigma: float = 0.03, seed: int = 1,
                       start: int = 2005) -> Series:
    """Synthetic random walk with drift on the log scale (not real data)."""
    rng = np.random.default_rng(seed)
    values = 4.0 + np.cumsum(drift + sigma * rng.standard_normal(n))
    return Series(np.arange(start, start + n), values)


def synthetic_gapped(n: int = 20, missing: tuple[int, ...] = (2, 3), seed: int = 2) -> Series:
    """Synthetic random walk with drift with some years removed (gaps early, so the
    consecutive tail is long enough for ETS)."""
    s = synthetic_rw_drift(n=n, seed=seed)
    keep = np.ones(n, bool)
    keep[list(missing)] = False
    return Series(s.years[keep], s.values[keep])


def for_family(name: str, series: Series) -> Series:
    """The synthetic log-scale series as the pipeline hands it over: families on the published
    level need to know the transform (they refuse a series without one)."""
    return Series(series.years, series.values, Transform("log")) if name.endswith("_level") else series


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("make", [synthetic_rw_drift, synthetic_gapped])
def test_fit_and_simulate_shape_and_finite(name, make):
    series = for_family(name, make())
    fitted = get_model(name).fit(series)
    paths = fitted.simulate(HORIZON, 2000, np.random.default_rng(0))
    assert paths.shape == (2000, HORIZON)
    assert np.all(np.isfinite(paths))
    assert isinstance(fitted.notes, list)
    # paths start near the last value and spread out (not a degenerate point mass)
    assert abs(np.median(paths[:, 0]) - series.values[-1]) < 0.5
    assert np.all(paths.std(axis=0) > 0)
    if make is synthetic_gapped:
        assert any("gap" in note for note in fitted.notes), fitted.notes


@pytest.mark.parametrize("name", FAMILIES)
def test_same_seed_same_paths_different_seed_different(name):
    fitted = get_model(name).fit(for_family(name, synthetic_gapped()))
    a = fitted.simulate(HORIZON, 500, np.random.default_rng(42))
    b = fitted.simulate(HORIZON, 500, np.random.default_rng(42))
    c = fitted.simulate(HORIZON, 500, np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", FAMILIES)
def test_too_short_and_constant_raise_naming_the_model(name):
    model = get_model(name)
    short = for_family(name, synthetic_rw_drift(n=model.min_points - 1))
    with pytest.raises(ModelFailure, match=name):
        model.fit(short)
    constant = for_family(name, Series(np.arange(2000, 2015), np.full(15, 1.5)))
    with pytest.raises(ModelFailure, match=name):
        model.fit(constant)


def test_rw_drift_probability_matches_closed_form_student_t():
    series = synthetic_rw_drift(n=15, seed=5)
    fitted = RWDrift().fit(series)
    n_paths, h = 200_000, 5
    paths = fitted.simulate(h, n_paths, np.random.default_rng(9))
    # closed form, written out independently of the model code:
    # y_{T+h} ~ y_T + h mu_hat + s sqrt(h + h^2/K) t_{m-1}
    d = np.diff(series.values)
    m, span = len(d), series.years[-1] - series.years[0]
    mu_hat = d.mean()
    s = np.sqrt(np.sum((d - mu_hat) ** 2) / (m - 1))
    loc = series.values[-1] + h * mu_hat
    scale = s * np.sqrt(h + h**2 / span)
    for c in (loc - 1.5 * scale, loc + 0.3 * scale, loc + 2.5 * scale):
        p_exact = stats.t.sf(c, df=m - 1, loc=loc, scale=scale)
        p_sim = np.mean(paths[:, h - 1] >= c)
        assert abs(p_sim - p_exact) < 4 * np.sqrt(p_exact * (1 - p_exact) / n_paths) + 1e-4
    # and it agrees with the model's own predictive
    assert fitted.predictive(h).sf(loc) == pytest.approx(0.5)


def test_linear_trend_simulation_matches_its_student_t_predictive():
    fitted = get_model("linear_trend").fit(synthetic_gapped())
    paths = fitted.simulate(4, 100_000, np.random.default_rng(3))
    for h in (1, 4):
        pred = fitted.predictive(h)
        c = pred.ppf(0.9)
        assert np.mean(paths[:, h - 1] >= c) == pytest.approx(0.1, abs=0.005)


def test_rw_drift_uses_actual_spacing_over_gaps():
    # synthetic exact line with slope 0.07 observed with gaps of 1, 3 and 2 years
    years = np.array([2000, 2001, 2004, 2005, 2007, 2008, 2009])
    slope = 0.07
    est = estimate_drift(years, 1.0 + slope * (years - 2000))
    assert est.drift == pytest.approx(slope, rel=1e-12)
    assert est.s2 == pytest.approx(0.0, abs=1e-20)
    assert est.total_span == 9
    # interior noise does not move the gap-weighted drift (endpoints on the line);
    # the naive mean of increments would be wrong by a lot
    noisy = 1.0 + slope * (years - 2000) + np.array([0, 0.02, -0.03, 0.01, 0.04, -0.02, 0])
    fitted = RWDrift().fit(Series(years, noisy))
    assert fitted.est.drift == pytest.approx(slope, rel=1e-12)
    assert np.mean(np.diff(noisy)) == pytest.approx(slope * 9 / 6, rel=0.2)  # the naive answer


def test_rw_drift_exactly_linear_series_is_degenerate():
    years = np.arange(2000, 2012)
    with pytest.raises(ModelFailure, match="rw_drift"):
        RWDrift().fit(Series(years, 0.1 * (years - 2000)))


def test_ets_recursions_match_statsmodels():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = synthetic_rw_drift(n=18, seed=3)
    mod = ETSModel(series.values, error="add", trend="add", damped_trend=True)
    params = np.array([0.4, 0.15, 0.9, 4.0, 0.05])
    res = mod.smooth(params)
    resid, lvl, slope = ets_recursions(*params, series.values)
    assert np.sum(resid**2) == pytest.approx(res.sse, rel=1e-10)
    assert [lvl, slope] == pytest.approx(list(res.states[-1]), rel=1e-10)


def test_ets_refuses_a_gap_leaving_a_short_tail():
    s = synthetic_gapped(n=20, missing=(15,))
    with pytest.raises(ModelFailure, match="ets_damped.*consecutive run"):
        ETSDamped().fit(s)


def test_statespace_models_skip_gaps_without_interpolating():
    s = synthetic_gapped(n=20, missing=(5, 11, 12))
    for name in ("arima", "local_trend"):
        fitted = get_model(name).fit(s)
        # the model sees NaN where years are missing
        assert np.isnan(fitted.model.endog).sum() == 3


@pytest.mark.slow
def test_prophet_restores_global_numpy_random_state():
    fitted = get_model("prophet").fit(synthetic_rw_drift())
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    fitted.simulate(HORIZON, 100, np.random.default_rng(0))
    assert np.array_equal(np.random.get_state()[1], before)


def test_registry():
    assert set(DEFAULT_MODELS) <= set(MODELS)
    for name in MODELS:
        assert get_model(name).name == name
    with pytest.raises(ValueError, match="valid names: .*rw_drift"):
        get_model("no_such_model")


# ------------------------------------------------------------ ensemble calibration

from forecast.ensemble import (Calibration, Ensemble, calibrate_paths,  # noqa: E402
                               calibration_record, learn_calibration)


def test_calibrate_paths_scales_deviations_keeps_median_and_ranks():
    rng = np.random.default_rng(0)
    paths = np.cumsum(rng.standard_normal((4001, 3)), axis=1)  # synthetic random walk paths
    cal = Calibration((0.5, 0.8, 0.95), upper=((2.0, 2.0, 2.0),), lower=((0.5, 0.5, 0.5),))
    out = calibrate_paths(paths, cal)
    med = np.median(paths, axis=0)
    assert np.median(out, axis=0) == pytest.approx(med)
    # a single factor per side: exactly median + k (x - median)
    expected = np.where(paths >= med, med + 2.0 * (paths - med), med + 0.5 * (paths - med))
    assert out == pytest.approx(expected)
    # ranks (hence the dependence across years) are unchanged
    for h in range(3):
        assert np.array_equal(np.argsort(out[:, h]), np.argsort(paths[:, h]))
    identity = Calibration((0.5, 0.95), upper=((1.0, 1.0),), lower=((1.0, 1.0),))
    assert calibrate_paths(paths, identity) == pytest.approx(paths, abs=1e-12)
    assert calibrate_paths(paths, None) is paths


def test_calibrate_paths_level_dependent_factor_moves_each_interval_end():
    rng = np.random.default_rng(1)
    paths = rng.standard_normal((20_000, 1))  # synthetic N(0, 1) forecast
    cal = Calibration((0.5, 0.8, 0.95), upper=((1.0, 1.2, 1.5),), lower=((1.0, 1.2, 1.5),))
    out = calibrate_paths(paths, cal)
    for level, k in ((0.8, 1.2), (0.95, 1.5)):
        z = stats.norm.ppf((1 + level) / 2)
        assert np.quantile(out[:, 0], (1 + level) / 2) == pytest.approx(k * z, rel=0.03)
        assert np.quantile(out[:, 0], (1 - level) / 2) == pytest.approx(-k * z, rel=0.03)
    assert np.all(np.diff(np.sort(out[:, 0])) >= 0)


def test_learned_calibration_restores_nominal_coverage_of_a_biased_too_narrow_forecast():
    # synthetic: forecasts say N(0, 1), outcomes are N(-0.5, 2^2): the centre moves to the
    # forecast's quantile at Phi(-0.5) and the factors come out ~2 at every level
    rng = np.random.default_rng(2)
    levels = (0.5, 0.8, 0.95)
    base = rng.standard_normal((20_000, 2))
    q, y = calibration_record(base, np.zeros(2))
    obs = -0.5 + 2.0 * rng.standard_normal((20_000, 2))
    cal = learn_calibration(np.repeat(q[None], 20_000, axis=0), obs, levels, "synthetic")
    assert np.array(cal.centre) == pytest.approx(stats.norm.cdf(-0.5), abs=0.03)
    assert np.array(cal.upper) == pytest.approx(2.0, rel=0.12)
    assert np.array(cal.lower) == pytest.approx(2.0, rel=0.12)
    out = calibrate_paths(base, cal)
    fresh = -0.5 + 2.0 * rng.standard_normal((4000, 2))
    assert np.median(out, axis=0) == pytest.approx(-0.5, abs=0.1)
    for level in levels:
        lo, hi = np.quantile(out, [(1 - level) / 2, (1 + level) / 2], axis=0)
        assert np.mean((fresh >= lo) & (fresh <= hi)) == pytest.approx(level, abs=0.03)


def test_ensemble_applies_its_calibration_to_members_shares():
    series = synthetic_rw_drift()
    cal = Calibration((0.5, 0.95), upper=((3.0, 3.0),), lower=((3.0, 3.0),))
    raw = Ensemble(("rw_drift", "linear_trend"), calibration=None).fit(series)
    wide = Ensemble(("rw_drift", "linear_trend"), calibration=cal).fit(series)
    a = raw.simulate_members(HORIZON, 1000, np.random.default_rng(5))
    b = wide.simulate_members(HORIZON, 1000, np.random.default_rng(5))
    assert {k: len(v) for k, v in a.items()} == {k: len(v) for k, v in b.items()}
    pa, pb = np.concatenate(list(a.values())), np.concatenate(list(b.values()))
    assert np.median(pb, axis=0) == pytest.approx(np.median(pa, axis=0))
    assert np.all(np.std(pb, axis=0) == pytest.approx(3.0 * np.std(pa, axis=0), rel=1e-9))


# ------------------------------------------------------------ families on the published level

LOG = Transform("log")


def synthetic_level(values, start: int = 2000) -> Series:
    """A synthetic published-level series handed to the models on the log scale, as the
    pipeline does (not real data)."""
    values = np.asarray(values, dtype=float)
    return Series(np.arange(start, start + len(values)), LOG.forward(values), LOG)


@pytest.mark.parametrize("base", ["rw_drift", "ets_damped", "arima"])
def test_level_family_is_the_family_fitted_to_the_published_level(base):
    rng = np.random.default_rng(5)
    level = 100 + np.cumsum(5 + rng.standard_normal(14))  # linear growth: slowing growth rate
    on_log = synthetic_level(level)
    z = get_model(base + "_level").fit(on_log).simulate(HORIZON, 400, np.random.default_rng(1))
    # the published level as the wrapper sees it (exp(log(x)) differs from x by rounding,
    # which an optimiser can turn into a 5e-4 relative difference)
    direct = get_model(base).fit(Series(on_log.years, LOG.inverse(on_log.values))).simulate(
        HORIZON, 400, np.random.default_rng(1))
    assert np.allclose(np.exp(z), direct)  # same paths, returned on the modelling scale


def test_level_drift_extrapolates_an_increment_log_drift_a_growth_rate():
    level = np.array([100, 110, 120, 130, 140, 150, 160, 170, 180, 190.0])  # synthetic
    series = synthetic_level(level + np.tile([0.5, -0.5], 5))
    med = {name: np.exp(np.median(get_model(name).fit(series).simulate(
        5, 4000, np.random.default_rng(2)), axis=0)) for name in ("rw_drift", "rw_drift_level")}
    # after 5 more years: +10 a year on the level (~240) vs ~6.7% a year compounded (~262)
    assert abs(med["rw_drift_level"][-1] - 240) < 3
    assert med["rw_drift"][-1] > 255


def test_level_paths_crossing_zero_are_censored_not_dropped():
    falling = synthetic_level([50, 42, 35, 26, 20, 13, 8, 5.0])  # synthetic, heading below 0
    z = get_model("rw_drift_level").fit(falling).simulate(HORIZON, 2000, np.random.default_rng(3))
    assert z.shape == (2000, HORIZON) and np.all(np.isfinite(z))
    level = LOG.inverse(z)
    floor = 1e-6 * 5.0  # CENSOR_FRACTION x the lowest observed level
    assert np.all(level >= floor * (1 - 1e-9))
    assert np.mean(np.isclose(level[:, -1], floor)) > 0.3  # censored at ~0, not dropped


def test_level_share_paths_stay_within_the_bounds():
    logit = Transform("logit", (0.0, 100.0))
    share = np.array([90, 92, 93.5, 95, 96, 97.5, 98.5, 99.2])  # synthetic, heading past 100
    s = Series(np.arange(2010, 2018), logit.forward(share), logit)
    level = logit.inverse(get_model("arima_level").fit(s).simulate(HORIZON, 1000, np.random.default_rng(4)))
    assert np.all((level >= 0) & (level <= 100)) and np.mean(level[:, -1] > 99.9) > 0.3


def test_sub_series_keep_the_transform_so_backtests_of_level_families_are_on_the_level():
    from forecast.backtest import origin_paths

    rng = np.random.default_rng(6)
    level = 100 + np.cumsum(5 + rng.standard_normal(12))
    series = synthetic_level(level)
    assert series.head(8).transform is LOG and series.tail(3).transform is LOG
    [(origin, n_train, paths, failure)] = list(origin_paths(
        series, get_model("rw_drift_level"), [2008], horizon=3, n_paths=300, seed=9))
    expected = get_model("rw_drift").fit(Series(series.years[:9], level[:9])).simulate(
        3, 300, np.random.default_rng([9, 2008]))
    assert failure == "" and (origin, n_train) == (2008, 9)
    assert np.allclose(np.exp(paths), expected)


def test_level_family_refuses_a_series_already_on_its_published_scale():
    # there it would be the family itself: the ensemble would count the same model twice
    for series in (synthetic_rw_drift(),
                   Series(np.arange(2000, 2017), synthetic_rw_drift().values, Transform("identity"))):
        with pytest.raises(ModelFailure, match="arima_level: .*published scale already"):
            get_model("arima_level").fit(series)


# ------------------------------------------------- constant increment, shocks proportional to the level

from forecast.models.rw_drift_rel import RWDriftRelative  # noqa: E402


def synthetic_relative(n: int = 16, mu: float = 8.0, sigma: float = 0.04, seed: int = 8) -> np.ndarray:
    """A synthetic path of y_t = y_{t-1} + mu + sigma y_{t-1} eps_t from 100 (not real data)."""
    rng = np.random.default_rng(seed)
    y = [100.0]
    for _ in range(n - 1):
        y.append(y[-1] + mu + sigma * y[-1] * rng.standard_normal())
    return np.array(y)


def test_rw_drift_rel_one_step_matches_its_closed_form_student_t():
    y = synthetic_relative()
    s = Series(np.arange(2000, 2000 + len(y)), y)
    fitted = RWDriftRelative().fit(s)
    # r = (y_{T+1} - y_T) / y_T ~ t_{m-1}(mu_hat x, s sqrt(1 + x^2 / Sxx)), x = 1 / y_T
    x = 1.0 / y[-1]
    pred = stats.t(df=fitted.df, loc=fitted.mu_hat * x, scale=np.sqrt(fitted.s2 * (1 + x * x / fitted.sxx)))
    r = (fitted.simulate(1, 200_000, np.random.default_rng(0))[:, 0] - y[-1]) / y[-1]
    for q in (0.1, 0.5, 0.9):  # the 1% volatility cap only moves the far tails
        assert abs(np.mean(r <= pred.ppf(q)) - q) < 0.005


def test_rw_drift_rel_shocks_scale_with_the_level_increments_do_not_compound():
    y = synthetic_relative()
    years = np.arange(2000, 2000 + len(y))
    a = RWDriftRelative().fit(Series(years, y)).simulate(6, 500, np.random.default_rng(1))
    b = RWDriftRelative().fit(Series(years, 10 * y)).simulate(6, 500, np.random.default_rng(1))
    assert np.allclose(b, 10 * a)  # scale-equivariant: same relative spread at any size
    # the median path adds the estimated increment each year; the log scale compounds a rate
    fitted = RWDriftRelative().fit(Series(years, y))
    med = np.median(fitted.simulate(6, 20_000, np.random.default_rng(3)), axis=0)
    assert np.allclose(med, y[-1] + fitted.mu_hat * np.arange(1, 7), rtol=0.01)
    on_log = np.exp(np.median(get_model("rw_drift").fit(Series(years, np.log(y))).simulate(
        6, 20_000, np.random.default_rng(3)), axis=0))
    assert on_log[-1] > med[-1] * 1.05
    # its spread tracks today's level: wider than a level random walk fitted to the same growing series
    lvl = get_model("rw_drift").fit(Series(years, y)).simulate(1, 20_000, np.random.default_rng(2))
    rel = RWDriftRelative().fit(Series(years, y)).simulate(1, 20_000, np.random.default_rng(2))
    assert np.subtract(*np.percentile(rel, [90, 10])) > np.subtract(*np.percentile(lvl, [90, 10]))


def test_rw_drift_rel_gap_counts_as_k_steps_and_needs_positive_levels():
    y = synthetic_relative(n=12)
    keep = np.ones(12, bool)
    keep[[4, 5]] = False
    years = np.arange(2000, 2012)[keep]
    fitted = RWDriftRelative().fit(Series(years, y[keep]))
    k = np.diff(years).astype(float)
    r, x = np.diff(y[keep]) / y[keep][:-1], k / y[keep][:-1]
    assert np.isclose(fitted.mu_hat, np.sum(r * x / k) / np.sum(x * x / k))
    assert any("gap" in note for note in fitted.notes)
    with pytest.raises(ModelFailure, match="rw_drift_rel needs positive levels"):
        RWDriftRelative().fit(Series(np.arange(2000, 2008), np.array([3, 2, 1, -1, -2, -3, -5, -6.0])))


def test_a_level_version_that_cannot_fit_names_itself_once():
    # an exactly linear level has no volatility: the reason is the family's, the name the
    # level version's ("rw_drift_level: rw_drift: ..." named the wrong model to a user)
    with pytest.raises(ModelFailure) as info:
        get_model("rw_drift_level").fit(synthetic_level(100.0 + 5.0 * np.arange(10)))
    assert str(info.value).startswith("rw_drift_level: increments are exactly proportional")
    assert "rw_drift:" not in str(info.value)
