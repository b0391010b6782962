"""Probabilities read off paths, the joint probability, and the pace diagnostic."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.probability import (PACE_AWAY, PACE_MET, joint_probability, pace,
                                  probability_curve, target_probability)
from forecast.targets import Target
from forecast.transforms import Transform


def target(year: int, value: float) -> Target:
    return Target(f"x_{year}", "x", year, value, ">=", "test", "Hangzhou")


def test_probabilities_from_known_paths():
    years = np.array([2024, 2025])
    paths = np.array([[1.0, 3.0], [3.0, 1.0], [1.0, 1.0], [3.0, 3.0]])
    p = target_probability(paths, years, target(2025, 2.0))
    assert p.p_in_year == 0.5          # paths 0 and 3 end above 2
    assert p.p_by_year == 0.75         # path 1 was above 2 in 2024
    assert p.shortfall_median == pytest.approx(0.0)


def test_monte_carlo_error_matches_the_spread_of_repeated_runs():
    # a member with 500 paths (its share of 10,000 at weight 0.05), true P = 0.3
    rng = np.random.default_rng(7)
    years = np.array([2025])
    runs = [target_probability(rng.normal(0.0, 1.0, (500, 1)) + 0.4756, years, target(2025, 1.0))
            for _ in range(400)]
    spread = np.std([r.p_in_year for r in runs])
    assert all(r.n_paths == 500 for r in runs)
    assert np.mean([r.p_se for r in runs]) == pytest.approx(spread, rel=0.12)
    assert np.mean([r.p_in_year for r in runs]) == pytest.approx(0.3, abs=0.005)


def test_monte_carlo_error_counts_paths_that_share_a_parameter_draw():
    """A state-space member simulates one block of paths per parameter draw (50 blocks):
    paths in a block move together, so the error must come from the blocks, not from a
    binomial count that treats 2,000 paths as independent. A second member with another P
    sits beside it: the fixed mixture is not noise and must not widen the error."""
    rng = np.random.default_rng(11)
    years = np.array([2025])

    def clustered(n=2000, blocks=50):
        shift = np.repeat(rng.normal(0.0, 0.8, blocks), n // blocks)  # one draw per block
        return shift + rng.normal(0.0, 1.0, n) - 0.5

    def one_run():  # unequal shares, so strata in the wrong order would show
        paths = np.concatenate([clustered(), rng.normal(0.0, 1.0, 1000) + 1.5])[:, None]
        return target_probability(paths, years, target(2025, 0.0), strata=[2000, 1000])

    runs = [one_run() for _ in range(300)]
    spread = np.std([r.p_in_year for r in runs])
    stated = np.mean([r.p_se for r in runs])
    assert stated == pytest.approx(spread, rel=0.15)
    p = np.mean([r.p_in_year for r in runs])
    assert np.sqrt(p * (1 - p) / 3000) < 0.6 * spread  # the independent-paths error: too small


def test_monte_carlo_error_of_a_fixed_mixture_is_not_the_pooled_binomial():
    # members at 5% and 95%: the pooled binomial (0.5 x 0.5 / n) counts the mixture as noise
    rng = np.random.default_rng(3)
    years = np.array([2025])
    runs = [target_probability(np.concatenate([rng.normal(-1.645, 1, 2000),
                                               rng.normal(1.645, 1, 2000)])[:, None], years,
                               target(2025, 0.0), strata=[2000, 2000]) for _ in range(300)]
    spread = np.std([r.p_in_year for r in runs])
    assert np.mean([r.p_se for r in runs]) == pytest.approx(spread, rel=0.15)
    assert np.sqrt(0.25 / 4000) > 1.8 * spread
    with pytest.raises(ValueError, match="strata add up to 3000 paths, not 4000"):
        target_probability(np.zeros((4000, 1)), years, target(2025, 0.0), strata=[2000, 1000])


def test_joint_comes_from_the_same_paths_not_the_product():
    years = np.array([2025, 2027])
    # perfectly correlated misses: both met or both missed
    paths = np.array([[5.0, 5.0]] * 5 + [[0.0, 0.0]] * 5)
    targets = [target(2025, 1.0), target(2027, 1.0)]
    assert joint_probability(paths, years, targets) == 0.5
    assert np.prod([target_probability(paths, years, t).p_in_year for t in targets]) == 0.25


def test_unknown_target_year_is_an_error():
    paths, years = np.zeros((3, 2)), np.array([2025, 2026])
    # a clear error from every reader of a year's column, not an IndexError from one of them
    for call in (lambda: target_probability(paths, years, target(2030, 1.0)),
                 lambda: joint_probability(paths, years, [target(2025, 0.0), target(2030, 1.0)]),
                 lambda: probability_curve(paths, years, 2030, np.array([1.0]))):
        with pytest.raises(ValueError, match=r"year 2030 is not among the simulated years "
                                             r"\(2025-2026\)"):
            call()
    with pytest.raises(ValueError, match="no observed value"):
        pace(pd.Series([np.nan, np.nan], index=[2020, 2021]), target(2025, 1.0))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=5, max_size=60),
       st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=20))
def test_probability_never_rises_with_the_target(values, levels):
    paths = np.array(values)[:, None]
    curve = probability_curve(paths, np.array([2025]), 2025, np.sort(levels))
    assert np.all(np.diff(curve) <= 0) and np.all((curve >= 0) & (curve <= 1))
    direct = [target_probability(paths, np.array([2025]), target(2025, lv)).p_in_year
              for lv in np.sort(levels)]
    assert np.allclose(curve, direct)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=30))
def test_logit_paths_never_leave_the_bounds(z):
    shares = Transform("logit", (0.0, 100.0)).inverse(np.array(z))
    assert np.all((shares >= 0) & (shares <= 100))


def test_transforms_round_trip():
    for transform, x in ((Transform("log"), [0.5, 3.0, 2e4]),
                         (Transform("logit", (0, 100)), [1.0, 55.0, 99.5]),
                         (Transform("identity"), [-3.0, 4.0])):
        assert np.allclose(transform.inverse(transform.forward(x)), x)


def test_pace_labels_follow_eurostat_thresholds():
    history = pd.Series([100.0, 110.0], index=[2018, 2023])  # ~1.92%/yr observed
    observed = (110 / 100) ** (1 / 5) - 1

    def required_for(ratio):  # target that needs observed/ratio growth from the base, 2018-2025
        return 100 * (1 + observed / ratio) ** 7

    for ratio, label in ((1.0, "significant"), (0.96, "significant"), (0.94, "moderate"),
                         (0.61, "moderate"), (0.59, "insufficient"), (0.01, "insufficient")):
        result = pace(history, target(2025, required_for(ratio)))
        assert result.ratio == pytest.approx(ratio) and result.label.startswith(label), ratio
    # Eurostat's top class from 0.95, but "on track" only at the required pace or above
    assert pace(history, target(2025, required_for(0.96))).label == \
        "significant progress (just below the required pace)"
    assert pace(history, target(2025, required_for(1.01))).label == \
        "significant progress (on track)"
    falling = pd.Series([120.0, 110.0], index=[2018, 2023])
    assert pace(falling, target(2025, 130)).label == PACE_AWAY
    assert pace(history, target(2025, 105)).label == PACE_MET


def test_pace_uses_actual_span_across_gaps():
    history = pd.Series([2.0, 2.5, 3.0], index=[2010, 2016, 2023])  # 2018 missing
    p = pace(history, target(2027, 4.0))
    assert p.base_year == 2016
    assert p.observed_cagr == pytest.approx((3.0 / 2.5) ** (1 / 7) - 1)
    # Eurostat: required from the same base as observed; what is left: from the last value
    assert p.required_cagr == pytest.approx((4.0 / 2.5) ** (1 / 11) - 1)
    assert p.required_from_last == pytest.approx((4.0 / 3.0) ** (1 / 4) - 1)
    assert p.ratio == pytest.approx(p.observed_cagr / p.required_cagr)


def test_pace_from_a_base_that_met_the_target_is_movement_away():
    slipped = pd.Series([4.2, 4.1, 3.9], index=[2018, 2020, 2023])
    p = pace(slipped, target(2025, 4.0))
    assert p.label == PACE_AWAY and p.ratio is None and p.base_year == 2018
    assert p.required_from_last == pytest.approx((4.0 / 3.9) ** (1 / 2) - 1)


def test_a_target_year_inside_the_data_gets_its_outcome_not_a_pace():
    """Once the target year is past the last observation a pace means nothing: the label is
    the year's own figure (met or missed), or says it is missing -- a later year's value
    meeting the target does not mean the target year did."""
    history = pd.Series([3.6, 3.98, 4.1], index=[2021, 2025, 2026])
    missed = pace(history, target(2025, 4.0))
    assert missed.label == "observed 3.98 in 2025: missed" and missed.ratio is None
    assert pace(history, target(2026, 4.0)).label == "observed 4.1 in 2026: met"
    gap = pace(history.drop(2025), target(2025, 4.0))
    assert gap.label == "no figure for 2025 (a gap before the last one, 2026)"
    assert gap.label != PACE_MET  # 2026 meets 4.0; that says nothing of 2025


def test_pace_with_one_observation_says_so_and_keeps_what_is_left():
    p = pace(pd.Series([3.0], index=[2023]), target(2027, 4.0))
    assert p.ratio is None and "one observation" in p.label
    assert p.required_from_last == pytest.approx((4.0 / 3.0) ** (1 / 4) - 1)


def test_probabilities_never_print_as_certain():
    from forecast.probability import format_probability
    assert format_probability(1.0) == ">99.9%" and format_probability(0.0) == "<0.1%"
    assert format_probability(0.9996) == ">99.9%" and format_probability(0.998) == "99.8%"
    assert format_probability(0.634) == "63%" and format_probability(float("nan")) == "–"


def test_a_target_whose_year_is_observed_has_nothing_left_to_do():
    # observed and missed in 2025: "from 2025 on it needs +3%/yr" was printed for it
    missed = pace(pd.Series([80.0, 84.0, 85.2], index=[2020, 2023, 2025]), target(2025, 88.0))
    assert missed.required_from_last is None
    # nor a pace label beside the outcome ("on track" was printed beside "not met")
    assert missed.ratio is None and missed.label == "observed 85.2 in 2025: missed"
