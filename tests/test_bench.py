"""Tests of the M3 benchmark (forecast.bench). The M3 file is real published data; the
small series below are synthetic and named as such."""
from __future__ import annotations

import argparse
import importlib.util

import numpy as np
import pandas as pd
import pytest

from forecast import bench
from forecast.bench import BenchSeries


def synthetic_bench_series() -> BenchSeries:
    """Synthetic series: training values 100, 110, 121, 133.1 (10% a year); test of 6."""
    train = np.array([100.0, 110.0, 121.0, 133.1])
    return BenchSeries(0, "SYN1", "SYNTHETIC", np.arange(2000, 2004), train,
                       np.array([140.0, 150.0, 160.0, 170.0, 180.0, 300.0]))


def test_pseudo_thresholds_continue_the_average_growth():
    s = synthetic_bench_series()
    thr = bench.pseudo_thresholds(s.train)
    assert thr == pytest.approx(133.1 * 1.1 ** np.arange(1, 7))


def test_score_gaussian_on_hand_computed_values():
    s = synthetic_bench_series()
    mean = np.full(6, 150.0)
    lo95, hi95 = mean - 19.6, mean + 19.6  # sd exactly 10 (z_0.975 = 1.959964)
    lo80, hi80 = mean - 12.8155, mean + 12.8155
    row = bench.score_gaussian(mean, lo80, hi80, lo95, hi95, s)
    y = s.test
    scale = np.mean(np.diff(s.train))  # 11.033...
    assert row["smape"] == pytest.approx(np.mean(200 * np.abs(y - 150) / (y + 150)))
    assert row["mase"] == pytest.approx(np.mean(np.abs(y - 150)) / scale)
    # 140, 150, 160 inside the 80% interval [137.2, 162.8] and the 95% one [130.4, 169.6];
    # 170 misses the 95% interval by 0.4
    assert row["cov80"] == pytest.approx(3 / 6)
    assert row["cov95"] == pytest.approx(3 / 6)
    # MSIS: width 39.2 + 40 x miss distance (170 is inside up to 169.6: miss 0.4)
    misses = np.array([0, 0, 0, 0.4, 10.4, 130.4])
    assert row["msis"] == pytest.approx(np.mean(39.2 + 40 * misses) / scale, rel=1e-4)
    # last-year event: 300 >= 133.1 x 1.1^6 = 235.8 happened; P(N(150, 10) >= 235.8) ~ 0
    assert row["brier"] == pytest.approx(1.0, abs=1e-6)


def test_score_samples_point_mass_is_the_absolute_error():
    s = synthetic_bench_series()
    paths = np.tile(s.test, (50, 1))
    row = bench.score_samples(paths, s)
    assert row["crps"] == pytest.approx(0.0, abs=1e-12)
    assert row["mase"] == pytest.approx(0.0) and row["cov95"] == 1.0


def test_inner_split_holds_out_the_last_training_years():
    s = BenchSeries(3, "SYN2", "SYNTHETIC", np.arange(1990, 2004), np.arange(1.0, 15.0), np.ones(6))
    inner = bench.inner_split(s)
    assert list(inner.train) == list(range(1, 9)) and list(inner.test) == list(range(9, 15))


def test_a_second_inner_round_holds_out_the_six_years_before_and_drops_short_series():
    long = BenchSeries(0, "SYN3", "SYNTHETIC", np.arange(1980, 2000), np.arange(1.0, 21.0), np.ones(6))
    short = BenchSeries(1, "SYN4", "SYNTHETIC", np.arange(1990, 2004), np.arange(1.0, 15.0), np.ones(6))
    inner2 = bench.inner_split(long, rounds=2)
    assert list(inner2.train) == list(range(1, 9)) and list(inner2.test) == list(range(9, 15))
    assert list(inner2.years) == list(range(1980, 1988))
    # 14 training years leave 2 for a second round: below INNER_MIN_TRAIN, so the series is left out
    assert [s.series_id for s in bench.inner_series([long, short], 2)] == ["SYN3"]
    assert [s.series_id for s in bench.inner_series([long, short], 1)] == ["SYN3", "SYN4"]
    with pytest.raises(ValueError, match="SYN4"):
        bench.inner_split(short, rounds=3)


def _per_series(ens_mase, anchor_mase):
    rows = []
    for i, (e, a) in enumerate(zip(ens_mase, anchor_mase)):
        for method, v in (("ensemble", e), ("sf_optimizedtheta", a)):
            rows.append(dict(series_id=f"S{i}", method=method, smape=1.0, mase=v, cov80=0.8,
                             cov95=0.95, msis=1.0, crps=1.0, brier=0.1, brier_all=0.1,
                             error="", seconds=0.0))
    return pd.DataFrame(rows)


def test_goal_intervals_separate_a_clear_difference_from_noise():
    rng = np.random.default_rng(5)
    anchor = rng.gamma(2.0, 1.5, size=300)
    # the ensemble is 0.5 better on every series: the interval excludes zero
    clear = bench.paired_difference(_per_series(anchor - 0.5, anchor), "ensemble",
                                    "sf_optimizedtheta", "mase")
    assert clear["diff"] == pytest.approx(-0.5) and clear["hi"] < 0
    assert clear["share_lower"] == 1.0 and clear["share_higher"] == 0.0
    # the same mean gap made of large symmetric noise: the interval straddles zero
    noisy = anchor + rng.choice([-3.0, 3.0], size=300)
    d = bench.paired_difference(_per_series(noisy, anchor), "ensemble", "sf_optimizedtheta", "mase")
    assert d["lo"] < 0 < d["hi"] and d["n"] == 300
    # a failed series is left out of the pairing
    frame = _per_series(anchor, anchor)
    frame.loc[0, "error"] = "fit failed"
    assert bench.paired_difference(frame, "ensemble", "sf_optimizedtheta", "mase")["n"] == 299


def test_goals_report_the_paired_interval_next_to_the_verdict():
    frame = _per_series(np.full(50, 2.0), np.full(50, 1.0))
    verdicts = {g: (met, text) for g, met, text in bench.goals(bench.summarise(frame), frame)}
    met, text = verdicts["MASE no worse than the best anchor's"]
    assert not met and "paired difference +1, 95% interval [+1, +1]" in text
    assert "higher on 100% of 50 series" in text


@pytest.mark.slow
def test_bench_m3_sample_runs_and_writes_results(tmp_path):
    parser = argparse.ArgumentParser()
    bench.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "bench"
    args = parser.parse_args(["bench", "m3", "--sample", "3", "--paths", "200", "--jobs", "1",
                              "--out", str(out), "--no-progress", "--methods", "rw_drift",
                              "linear_trend", "ensemble", "sf_autoets", "sf_rwd"])
    assert args.func(args) == 0
    per = pd.read_csv(out / "results" / "m3_per_series_sample3.csv")
    assert len(per) == 3 * 5 and set(per["method"]) == {"rw_drift", "linear_trend", "ensemble",
                                                        "sf_autoets", "sf_rwd"}
    assert per[["smape", "mase", "cov80", "cov95", "msis", "crps", "brier"]].notna().all().all()
    text = (out / "RESULTS_sample3.md").read_text()
    assert "| ensemble |" in text and "Goals" in text


def test_bench_inner_run_never_sees_the_test_years_and_takes_members(tmp_path, monkeypatch):
    parser = argparse.ArgumentParser()
    bench.add_parser(parser.add_subparsers(dest="command"))
    seen = {}
    real = bench.run_bench

    def spy(series, **kw):
        seen["series"], seen["members"] = series, kw["members"]
        return real(series, **kw)

    monkeypatch.setattr(bench, "run_bench", spy)
    out = tmp_path / "bench"
    args = parser.parse_args(["bench", "m3", "--inner", "--sample", "2", "--paths", "200",
                              "--jobs", "1", "--out", str(out), "--no-progress", "--methods",
                              "ensemble", "--members", "rw_drift", "arima"])
    assert args.func(args) == 0
    assert seen["members"] == ("rw_drift", "arima")
    full = {s.series_id: s for s in bench.load_m3(bench.default_data_path())}
    for s in seen["series"]:   # scored on the last 6 training years, the M3 test years unused
        assert list(s.test) == list(full[s.series_id].train[-6:])
    assert (out / "RESULTS_sample2_inner.md").read_text().startswith(
        "# M3 yearly benchmark on the training parts only")
    with pytest.raises(SystemExit, match="1 or more"):
        args = parser.parse_args(["bench", "m3", "--inner", "-1", "--out", str(out)])
        args.func(args)


@pytest.mark.slow
def test_results_do_not_depend_on_the_engine_or_the_number_of_workers():
    series = bench.load_m3(bench.default_data_path())[:8]  # two tasks of four series
    methods = ("rw_drift", "ensemble", "sf_rwd")
    cols = ["series_id", "method", "smape", "mase", "cov80", "cov95", "msis", "crps", "brier"]
    runs = {"serial": dict(engine="serial"), "local x2": dict(engine="local", jobs=2)}
    if importlib.util.find_spec("distributed"):
        runs["dask LocalCluster x2"] = dict(engine="dask", jobs=2)
    results = {name: bench.run_bench(series, n_paths=200, seed=1, methods=methods,
                                     progress=False, **kw)[cols] for name, kw in runs.items()}
    for name, frame in results.items():
        pd.testing.assert_frame_equal(results["serial"], frame, obj=name)


def test_shipped_data_matches_its_provenance():
    frame = pd.read_csv(bench.default_data_path())
    assert len(frame) == 18_319 and frame["series_id"].nunique() == 645
    assert (frame["split"] == "test").sum() == 3_870 and (frame["value"] > 0).all()


def test_bench_origins_are_the_lags_that_leave_enough_training_points():
    from forecast.bench import BENCH_MIN_TRAIN, bench_origins
    from forecast.models.base import Series

    long = Series(np.arange(1980, 2000), np.linspace(1.0, 2.0, 20))
    assert bench_origins(long) == [1993, 1995, 1997]
    short = Series(np.arange(1990, 1990 + BENCH_MIN_TRAIN + 5), np.linspace(1.0, 2.0, BENCH_MIN_TRAIN + 5))
    # 6 years back leaves fewer than BENCH_MIN_TRAIN points: only the later origins
    assert bench_origins(short) == [short.last_year - 4, short.last_year - 2]


def test_by_category_contributions_add_up_to_the_paired_difference_and_find_the_carrier():
    rng = np.random.default_rng(11)
    anchor = rng.gamma(2.0, 1.5, size=120)
    ensemble = anchor.copy()
    ensemble[:20] += 3.0  # the whole gap sits in the first 20 series ("FINANCE")
    frame = _per_series(ensemble, anchor)
    frame["category"] = np.where(frame["series_id"].str[1:].astype(int) < 20, "FINANCE", "MACRO")
    table = bench.by_category(frame, "ensemble", "sf_optimizedtheta", "mase").set_index("category")
    overall = bench.paired_difference(frame, "ensemble", "sf_optimizedtheta", "mase")["diff"]
    assert table["contribution"].sum() == pytest.approx(overall)
    assert table.loc["FINANCE", "contribution"] == pytest.approx(3.0 * 20 / 120)
    assert table.loc["MACRO", "contribution"] == pytest.approx(0.0)
    assert table.index[0] == "FINANCE" and table.loc["FINANCE", "n"] == 20
    assert table.loc["FINANCE", "share_lower"] == 0.0


def test_largest_differences_list_the_series_behind_and_split_the_gap_between_both_ends():
    anchor = np.full(50, 2.0)
    ensemble = anchor.copy()
    ensemble[[3, 7, 11]] += [5.0, 9.0, 1.0]  # behind on three series, most on S7
    ensemble[[20, 21]] -= [1.5, 0.5]  # ahead on two
    frame = _per_series(ensemble, anchor)
    frame["category"] = "MICRO"
    frame["n_train"] = 14
    d = bench.largest_differences(frame, "ensemble", "sf_optimizedtheta", "mase", k=3)
    assert d["behind"]["series_id"].tolist() == ["S7", "S3", "S11"]
    assert d["behind"]["difference"].tolist() == pytest.approx([9.0, 5.0, 1.0])
    assert d["behind_contribution"] == pytest.approx(15.0 / 50)
    assert d["ahead_contribution"] == pytest.approx(-2.0 / 50)
    text = bench._fmt_largest_differences(frame, "ensemble", "sf_optimizedtheta", "mase", k=3)
    assert "| S7 | MICRO | 14 | 11.00 | 2.00 | +9.00 |" in text and "+0.300" in text
