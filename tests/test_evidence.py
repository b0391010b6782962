"""Real plan targets as evidence (forecast.evidence): the targets file is validated, outcomes
are attached from the shipped series, a forecast at an origin sees nothing published after it,
Brier scores and their intervals match closed forms, and short series are counted."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import data, evidence
from forecast.errors import InputError
from forecast.models import get_model
from conftest import copy_registry

REPO = Path(__file__).resolve().parents[1]
SHIPPED_TARGETS = REPO / "data" / "raw" / "plan_targets.csv"
SERIES_HEADER = ["region", "indicator", "year", "value", "unit", "source_title", "source_url",
                 "published", "vintage", "reliability"]


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header] + rows)
    return path


# ------------------------------------------------------------------------ loading the file

@pytest.mark.parametrize("field,bad,message", [
    ("comparison", ">", "comparison '>'"),
    ("region", "Shangai", "did you mean 'Shanghai'"),
    ("value", "3,7", "not a number"),
    ("target_year", "20x8", "not a year"),
    ("unit", "percent", "unit 'percent'"),
])
def test_a_malformed_row_is_refused_naming_the_file_line_and_field(shipped, tmp_path, field,
                                                                    bad, message):
    header, rows = _rows(SHIPPED_TARGETS)
    rows[5][header.index(field)] = bad  # the 7th line of the file (Shanghai 2012)
    path = _write(tmp_path / "plan_targets.csv", header, rows)
    with pytest.raises(InputError) as info:
        evidence.load_plan_targets(shipped, path)
    err = info.value
    assert (err.line, err.field) == (7, field)
    assert err.file == str(path) and message in str(err)


def test_the_shipped_targets_load_and_about_is_read_as_at_least(shipped):
    targets = evidence.load_plan_targets(shipped)
    assert len(targets) == 58
    about = targets[targets["comparison"] == "about"]
    assert len(about) > 0 and set(about["comparison_read"]) == {">="}
    assert targets.loc[targets["line"] == 7, ["region", "target_year", "value"]].values.tolist() \
        == [["Shanghai", 2012, 3.0]]


# ------------------------------------------------------------------------------- outcomes

def test_outcomes_are_the_first_published_figure_of_the_target_year(shipped):
    ev = evidence.attach_outcomes(evidence.load_plan_targets(shipped), shipped)
    t = ev.targets.set_index("line")
    # Shandong's 13th FYP target (line 18): 2.6% for 2020; the NBS 2020 bulletin says 2.30
    assert (t.loc[18, "region"], t.loc[18, "target_year"]) == ("Shandong", 2020)
    assert t.loc[18, "outcome"] == pytest.approx(2.30) and not t.loc[18, "hit"]
    assert t.loc[18, "group"] == "Chinese provinces"
    # Zhejiang 2020 (2.8%): 2.88 first published (met), 2.77 in a 2026 retrospective (missed)
    assert t.loc[14, "outcome"] == pytest.approx(2.88) and t.loc[14, "hit"]
    assert t.loc[14, "outcome_latest"] == pytest.approx(2.77) and not t.loc[14, "hit_latest"]
    # an EU member against the European file
    assert t.loc[34, "region"] == "DE" and t.loc[34, "group"] == "EU and members"
    assert t.loc[34, "hit"] == (t.loc[34, "outcome"] >= 3.0)


def test_targets_without_an_outcome_and_duplicates_are_left_out_with_the_reason(shipped):
    ev = evidence.attach_outcomes(evidence.load_plan_targets(shipped), shipped)
    left = ev.left_out.set_index("line")["reason"]
    assert set(left.index) == {25, 6, 19}
    assert "outcome unknown" in left[25]                     # Hangzhou 2020
    assert "duplicate of line 5" in left[6]                  # China 2020, 2016 restates 2006
    assert "duplicate of line 18" in left[19] and "2019-07" in left[19]   # Shandong 2020
    kept = ev.targets.groupby(["region", "target_year"]).size()
    assert kept.max() == 1 and len(ev.targets) == 55


# --------------------------------------------------------------- nothing after the origin

def _series_rows(values: dict[int, float], region="Synthland", published=None,
                 reliability="official", vintage="first release") -> list[list[str]]:
    """Synthetic rows (named as such): each year published on 30 June of the next unless
    ``published`` says otherwise."""
    return [[region, "rd_intensity", str(y), f"{v:.4f}", "%", "synthetic test series",
             "https://example.org/synthetic", (published or {}).get(y, f"{y + 1}-06-30"),
             vintage, reliability] for y, v in values.items()]


def _project(root: Path, rows: list[list[str]], targets: list[dict]) -> data.Dataset:
    copy_registry(root)
    _write(root / "data" / "raw" / "series" / "synthetic.csv", SERIES_HEADER, rows)
    header, _ = _rows(SHIPPED_TARGETS)
    lines = [[t.get(c, "x") for c in header] for t in targets]
    _write(root / "data" / "raw" / "plan_targets.csv", header, lines)
    return data.load("2026-11-27", root)


def _target(region="Synthland", year=2020, value=3.0) -> dict:
    return {"region": region, "indicator": "rd_intensity", "target_year": str(year),
            "value": str(value), "comparison": ">=", "unit": "%", "plan_published": "2012"}


def _score(root: Path, rows, targets, forecasters, leads=(5,)) -> pd.DataFrame:
    ds = _project(root, rows, targets)
    ev = evidence.attach_outcomes(
        evidence.load_plan_targets(ds, root / "data" / "raw" / "plan_targets.csv"), ds)
    return evidence.score_targets(ev, ds, forecasters, leads=leads, n_paths=400, seed=7)


@pytest.fixture
def quiet(monkeypatch, tmp_path):
    monkeypatch.setenv("FORECAST_CACHE", "off")


def test_a_forecast_at_an_origin_uses_nothing_published_after_it(tmp_path, quiet):
    """Two synthetic histories that agree on everything published by the end of 2015 and
    differ after it (later years, and a revision of 2013 published in 2017) give the same P
    from 2015; from 2018, where the difference is visible, they do not."""
    common = {y: 2.0 + 0.08 * (y - 2004) + 0.03 * math.sin(y) for y in range(2004, 2015)}
    later_a = {y: 2.9 + 0.08 * (y - 2015) for y in range(2015, 2021)}
    later_b = {y: 2.9 - 0.15 * (y - 2015) for y in range(2015, 2021)}
    rows_a = _series_rows({**common, **later_a})
    rows_b = _series_rows({**common, **later_b}) + _series_rows(
        {2013: 1.5}, published={2013: "2017-03-01"}, vintage="revision")
    fcs = {"default": evidence.suite_default(),
           "rw_drift": evidence.model_forecaster(lambda ds, r, i: get_model("rw_drift"))}
    a = _score(tmp_path / "a", rows_a, [_target(year=2020)], fcs, leads=(5, 2))
    b = _score(tmp_path / "b", rows_b, [_target(year=2020)], fcs, leads=(5, 2))
    at_2015 = lambda s: s[s["origin"] == 2015].set_index("forecaster")["p"]  # noqa: E731
    assert (a["status"] == "scored").all() and (b["status"] == "scored").all()
    assert at_2015(a).to_dict() == at_2015(b).to_dict()
    assert (a[a["origin"] == 2015]["last_year"] == 2014).all()  # 2015 is out in mid-2016
    at_2018 = lambda s: s[s["origin"] == 2018].set_index("forecaster")["p"]  # noqa: E731
    assert (at_2018(a) - at_2018(b)).abs().min() > 0.2
    # the outcome is the 2020 value, the same target scored the same way in both
    assert a["hit"].all() and not b["hit"].any()


def test_a_later_compilation_stands_in_only_for_years_before_the_origin(tmp_path, quiet):
    """Values that exist only in a compilation published long after (graded compiled
    dataset) count as known from the end of the year after their own, never later years."""
    compiled = _series_rows({y: 1.0 + 0.05 * (y - 2000) for y in range(2000, 2021)},
                            published={y: "2026-07-13" for y in range(2000, 2021)},
                            reliability="compiled dataset")
    ds = _project(tmp_path, compiled, [_target(year=2020)])
    cut = evidence.dataset_at_origin(ds, 2012)
    series = cut.series("rd_intensity", "Synthland")
    assert list(series.index) == list(range(2000, 2012))
    assert cut.vintages["stand_in"].all()
    assert evidence.Cut(cut, "Synthland", "rd_intensity", 2012, 2017, 10, 1).n_revised == 12


# ------------------------------------------------------------------- scores and counting

def test_brier_score_and_its_interval_against_closed_forms():
    assert evidence.brier([0.2, 0.7], [0, 1]) == pytest.approx((0.2 ** 2 + 0.3 ** 2) / 2)
    scores = pd.DataFrame({
        "forecaster": "f", "lead": 3, "status": ["scored"] * 4 + ["too short"],
        "target_year": [2010, 2010, 2020, 2020, 2020], "p": [0.2, 0.7, 0.9, 0.5, np.nan],
        "hit": [False, True, False, False, True]})
    row = evidence.brier_table(scores, n_boot=4000).iloc[0]
    e2010 = (0.04 + 0.09) / 2
    e2020 = (0.81 + 0.25) / 2
    assert row["brier"] == pytest.approx((e2010 + e2020) / 2)
    assert (row["n_scored"], row["n_too_short"], row["n_failed"]) == (4, 1, 0)
    assert row["mean_p"] == pytest.approx(0.575) and row["observed"] == pytest.approx(0.25)
    # two target years of two targets each: a resample holds 2010 twice, both once or 2020
    # twice, so the 95% interval runs from the one year's mean to the other's
    assert (row["brier_lo"], row["brier_hi"]) == (pytest.approx(e2010), pytest.approx(e2020))
    # a paired difference: the same forecasts against always-0 (Brier = observed frequency)
    both = pd.concat([scores, scores.assign(forecaster="zero", p=0.0)], ignore_index=True)
    both["line"] = list(range(5)) * 2
    paired = evidence.paired_table(both[both["status"] == "scored"], reference="f",
                                   n_boot=4000).iloc[0]
    assert paired["n_common"] == 4
    assert paired["difference"] == pytest.approx(row["brier"] - 0.25)


def test_targets_without_enough_history_are_counted_not_dropped(tmp_path, quiet):
    """A series with 6 values at the origin gets no P from the default (which needs 8) but
    one from a forecaster that needs fewer; both rows are there and counted."""
    rows = _series_rows({y: 1.0 + 0.1 * (y - 2009) for y in range(2009, 2021)})
    fcs = {"default": evidence.suite_default(),
           "rw_drift": evidence.model_forecaster(lambda ds, r, i: get_model("rw_drift"),
                                                 min_points=5)}
    s = _score(tmp_path, rows, [_target(year=2020, value=2.0)], fcs, leads=(5,))
    by = s.set_index("forecaster")
    assert by.loc["default", "status"] == "too short" and np.isnan(by.loc["default", "p"])
    assert by.loc["default", "n_points"] == 6 and "8 needed" in by.loc["default", "reason"]
    assert by.loc["rw_drift", "status"] == "scored" and 0 <= by.loc["rw_drift", "p"] <= 1
    table = evidence.brier_table(s).set_index("forecaster")
    assert (table.loc["default", "n_scored"], table.loc["default", "n_too_short"]) == (0, 1)
    assert table.loc["rw_drift", "n_scored"] == 1


def test_cached_scores_say_which_input_changed_since_the_run(shipped, tmp_path):
    """The calibration page shows the scores of record; a changed input is named, not
    silently shown as if current."""
    record = {**evidence.provenance(shipped), "n_paths": 1000, "seed": 1}
    pd.DataFrame([record]).to_csv(tmp_path / "plan_targets_run.csv", index=False)
    pd.DataFrame({"forecaster": ["default"]}).to_csv(tmp_path / "plan_targets_scores.csv",
                                                     index=False)
    assert evidence.cached_scores(shipped, tmp_path)[2] == []
    record["targets_sha256"] = "0" * 64
    pd.DataFrame([record]).to_csv(tmp_path / "plan_targets_run.csv", index=False)
    assert evidence.cached_scores(shipped, tmp_path)[2] == ["the targets file changed since "
                                                            "the run"]
