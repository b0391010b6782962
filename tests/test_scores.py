"""Tests of forecast.scores against closed forms, hand-computed examples and properties."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecast import scores

# ----------------------------------------------------------------------------- CRPS


@pytest.mark.parametrize("mu, sigma, y", [(0.0, 1.0, 0.0), (1.0, 2.0, -0.5), (-3.0, 0.5, 1.0)])
def test_crps_samples_converges_to_gaussian_closed_form(mu, sigma, y):
    # R independent ensembles; the tolerance is 5 standard errors of their mean.
    rng = np.random.default_rng(1)
    r, m = 200, 2000
    est = scores.crps_samples(rng.normal(mu, sigma, size=(r, m)), np.full(r, y))
    exact = scores.crps_gaussian(mu, sigma, y)
    se = est.std(ddof=1) / np.sqrt(r)
    assert abs(est.mean() - exact) < 5 * se + sigma / (np.sqrt(np.pi) * m)  # + known bias


def test_fair_crps_is_unbiased_and_plain_crps_has_known_small_ensemble_bias():
    # With m = 4 members the plain (empirical-distribution) CRPS exceeds the Gaussian
    # CRPS on average by 0.5 E|X-X'| / m = sigma / (sqrt(pi) m); the fair one does not.
    rng = np.random.default_rng(2)
    r, m, sigma = 100_000, 4, 1.0
    x = rng.normal(0.0, sigma, size=(r, m))
    y = rng.normal(0.0, sigma, size=r)
    exact = scores.crps_gaussian(0.0, sigma, y).mean()
    fair = scores.crps_samples(x, y, fair=True)
    plain = scores.crps_samples(x, y)
    bias = sigma / (np.sqrt(np.pi) * m)  # 0.141
    assert abs(fair.mean() - exact) < 5 * fair.std() / np.sqrt(r)
    assert abs(plain.mean() - exact - bias) < 5 * plain.std() / np.sqrt(r)


def test_crps_samples_against_brute_force_pairs():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=7), 0.3
    brute = np.mean(np.abs(x - y)) - 0.5 * np.mean(np.abs(x[:, None] - x[None, :]))
    assert scores.crps_samples(x, y) == pytest.approx(brute, rel=1e-12)
    brute_fair = np.mean(np.abs(x - y)) - 0.5 * np.abs(x[:, None] - x[None, :]).sum() / (7 * 6)
    assert scores.crps_samples(x, y, fair=True) == pytest.approx(brute_fair, rel=1e-12)


def test_crps_of_point_mass_is_absolute_error():
    assert scores.crps_samples(np.full(50, 2.5), 4.0) == pytest.approx(1.5)
    assert scores.crps_samples([2.5], -1.0) == pytest.approx(3.5)
    assert scores.crps_gaussian(2.5, 0.0, 4.0) == pytest.approx(1.5)


def test_crps_samples_is_vectorised_over_leading_axes():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 25))
    y = rng.normal(size=(3, 4))
    out = scores.crps_samples(x, y)
    assert out.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert out[i, j] == pytest.approx(scores.crps_samples(x[i, j], y[i, j]))


def test_crps_gaussian_known_value():
    # centred standard normal: 2 phi(0) - 1/sqrt(pi) = (sqrt(2) - 1) / sqrt(pi)
    assert scores.crps_gaussian(0.0, 1.0, 0.0) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi))
    # scale equivariance
    assert scores.crps_gaussian(1.0, 3.0, 4.0) == pytest.approx(3 * scores.crps_gaussian(0, 1, 1))


@pytest.mark.parametrize("y", [-2.0, 0.0, 0.7, 3.0])
def test_crps_quantiles_approximates_gaussian_with_many_levels(y):
    levels = (np.arange(1, 200) - 0.5) / 199
    q = stats.norm.ppf(levels, loc=0.0, scale=1.0)
    assert scores.crps_quantiles(q, levels, y) == pytest.approx(
        scores.crps_gaussian(0.0, 1.0, y), rel=2e-3
    )


def test_crps_quantiles_rejects_levels_outside_unit_interval():
    with pytest.raises(ValueError):
        scores.crps_quantiles([0.0, 1.0], [0.0, 0.5], 0.2)


# ------------------------------------------------------------------ hypothesis


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
ensembles = st.lists(finite, min_size=1, max_size=40)


@settings(max_examples=300, deadline=None, database=None)
@given(ensembles, finite)
def test_crps_is_non_negative(xs, y):
    assert scores.crps_samples(np.array(xs), y) >= 0.0


@settings(max_examples=200, deadline=None, database=None)
@given(ensembles.flatmap(lambda xs: st.tuples(st.just(xs), st.permutations(xs))), finite)
def test_crps_is_invariant_to_sample_order(pair, y):
    xs, perm = pair
    assert scores.crps_samples(np.array(xs), y) == scores.crps_samples(np.array(perm), y)


@settings(max_examples=300, deadline=None, database=None)
@given(ensembles, finite)
def test_crps_is_zero_iff_all_samples_equal_obs(xs, y):
    x = np.array(xs)
    assert (scores.crps_samples(x, y) == 0.0) == bool(np.all(x == y))
    assert scores.crps_samples(np.full(len(xs), y), y) == 0.0


# -------------------------------------------------------- coverage, PIT, Brier


def test_interval_bounds_of_gaussian_ensemble():
    rng = np.random.default_rng(5)
    lo, hi = scores.interval_bounds(rng.normal(10.0, 2.0, size=200_000), 0.8)
    z = stats.norm.ppf(0.9)
    assert lo == pytest.approx(10.0 - 2.0 * z, abs=0.03)
    assert hi == pytest.approx(10.0 + 2.0 * z, abs=0.03)


def test_coverage_of_calibrated_gaussian_is_nominal_and_of_narrow_one_is_not():
    rng = np.random.default_rng(6)
    n, m = 4000, 1000
    mu = rng.normal(0.0, 5.0, size=n)
    y = rng.normal(mu, 1.0)
    calibrated = rng.normal(mu[:, None], 1.0, size=(n, m))
    cover = scores.interval_coverage(calibrated, y, 0.8)
    assert cover.shape == (n,) and cover.dtype == bool
    assert abs(cover.mean() - 0.8) < 4 * np.sqrt(0.8 * 0.2 / n)
    narrow = rng.normal(mu[:, None], 0.5, size=(n, m))  # covers P(|Z| < 0.64) = 0.48
    assert scores.interval_coverage(narrow, y, 0.8).mean() < 0.6


def test_pit_of_calibrated_forecasts_is_uniform_and_of_overconfident_ones_is_not():
    rng = np.random.default_rng(7)
    n, m = 2000, 500
    mu = rng.normal(0.0, 5.0, size=n)
    y = rng.normal(mu, 1.0)
    u = scores.pit(rng.normal(mu[:, None], 1.0, size=(n, m)), y)
    assert stats.kstest(u, "uniform").pvalue > 0.01
    u_narrow = scores.pit(rng.normal(mu[:, None], 0.5, size=(n, m)), y)
    assert stats.kstest(u_narrow, "uniform").pvalue < 1e-6


def test_pit_ties():
    x = np.array([0.0, 1.0, 1.0, 1.0, 2.0])
    # one below, three tied: mid-PIT = (1 + 1.5) / 5
    assert scores.pit(x, 1.0) == pytest.approx(0.5)
    u = scores.pit(np.tile(x, (1000, 1)), np.ones(1000), rng=np.random.default_rng(0))
    assert np.all((u >= 0.2) & (u <= 0.8))
    assert u.std() > 0.1  # randomised across the tied range


def test_brier_known_values():
    assert scores.brier(0.7, 1) == pytest.approx(0.09)
    assert scores.brier(0.7, 0) == pytest.approx(0.49)
    assert scores.brier(0.5, True) == pytest.approx(0.25)
    np.testing.assert_allclose(scores.brier([1.0, 0.0, 0.2], [1, 1, False]), [0.0, 1.0, 0.04])
    with pytest.raises(ValueError):
        scores.brier(1.2, 1)
    with pytest.raises(ValueError):
        scores.brier(0.5, 2)


# ----------------------------------------------------------- M4 measures by hand


def test_smape_hand_computed():
    # |100-110| / (100+110) and |100-90| / (100+90), times 200, averaged over h = 2
    expected = (200 * 10 / 210 + 200 * 10 / 190) / 2
    assert scores.smape([110.0, 90.0], [100.0, 100.0]) == pytest.approx(expected)
    # a forecast twice the observation: 200 * 1 / 3
    assert scores.smape([2.0], [1.0]) == pytest.approx(66.6666667)
    assert scores.smape([0.0, 5.0], [0.0, 5.0]) == 0.0


def test_mase_hand_computed():
    insample = [10.0, 12.0, 11.0, 15.0]  # |diffs| = 2, 1, 4 -> scale 7/3
    # errors |15-16| = 1, |19-17| = 2 -> MAE 1.5
    assert scores.mase([16.0, 17.0], [15.0, 19.0], insample) == pytest.approx(1.5 / (7 / 3))
    # lag 2: |11-10| = 1, |15-12| = 3 -> scale 2
    assert scores.mase([16.0, 17.0], [15.0, 19.0], insample, m=2) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        scores.mase([1.0], [1.0], [3.0, 3.0, 3.0])


def test_msis_hand_computed():
    insample = [10.0, 12.0, 11.0, 15.0]  # scale 7/3
    # 95%: 2/alpha = 40. h=1: obs 15 in [14, 18] -> width 4.
    # h=2: obs 19 above 18 -> 4 + 40 * 1 = 44. h=3: obs 13 below 14 -> 4 + 40 * 1 = 44.
    got = scores.msis([14.0, 14.0, 14.0], [18.0, 18.0, 18.0], [15.0, 19.0, 13.0], insample)
    assert got == pytest.approx(((4 + 44 + 44) / 3) / (7 / 3))
    # 80%: 2/alpha = 10 -> (4 + 14) / 2
    got80 = scores.msis([14.0, 14.0], [18.0, 18.0], [15.0, 19.0], insample, level=0.8)
    assert got80 == pytest.approx(9.0 / (7 / 3))
