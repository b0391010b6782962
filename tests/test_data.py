"""The sourced-history layer: validation of every kind of bad input, the vintage rule,
derivation of ratios, atomic builds, and the shipped data itself."""
from __future__ import annotations

import csv
import os
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import cli, data
from forecast.errors import InputError
from conftest import copy_registry, hz_employment, copy_project

REPO = Path(__file__).resolve().parents[1]
HEADER = list(data.REQUIRED_COLUMNS) + ["reliability"]


def row(**over) -> dict:
    base = dict(region="Hangzhou", indicator="rd_intensity", year="2020", value="3.5", unit="%",
                source_title="test source", source_url="https://example.org/t",
                published="2021-09-01", vintage="first release", reliability="official")
    base.update(over)
    return base


def write_csv(path: Path, rows: list[dict], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def root(tmp_path: Path, monkeypatch) -> Path:
    """A project root with the real registry and one small, valid series file."""
    (tmp_path / "data" / "raw" / "series").mkdir(parents=True)
    copy_registry(tmp_path)
    write_csv(tmp_path / "data" / "raw" / "series" / "base.csv",
              [row(year=str(y), value=str(2.5 + 0.1 * (y - 2010))) for y in range(2010, 2020)])
    monkeypatch.setenv("FORECAST_HOME", str(tmp_path))
    return tmp_path


def load_error(root: Path) -> InputError:
    with pytest.raises(InputError) as info:
        data.load(2026, root)
    return info.value


def add_file(root: Path, rows: list[dict], name="bad.csv", header=HEADER) -> Path:
    return write_csv(root / "data" / "raw" / "series" / name, rows, header)


# --- bad input: each error names file, line and field ----------------------------------------

def test_missing_column_named(root):
    path = add_file(root, [row()], header=[c for c in HEADER if c != "source_url"])
    err = load_error(root)
    assert err.file == str(path) and err.line == 1 and "source_url" in str(err)


def test_unknown_indicator(root):
    add_file(root, [row(), row(indicator="rd_intensty", year="2021")])
    err = load_error(root)
    assert (err.line, err.field) == (3, "indicator") and "rd_intensty" in str(err)
    # a guess, and the ids themselves (it pointed at a `forecast targets --all` that is not)
    assert "did you mean 'rd_intensity'?" in str(err) and "labour_productivity" in err.expected
    assert "--all" not in str(err)


@pytest.mark.parametrize("value", ["n/a", "3.5%", "", "inf", "3,9", "1,23"])
def test_non_numeric_value(root, value):
    add_file(root, [row(value=value)])
    err = load_error(root)
    assert (err.line, err.field) == (2, "value") and "not a number" in str(err)


@pytest.mark.parametrize("year", ["20.5", "1800", "2O21", "21"])
def test_implausible_year(root, year):
    add_file(root, [row(year=year)])
    err = load_error(root)
    assert (err.line, err.field) == (2, "year")


def test_share_out_of_bounds(root):
    add_file(root, [row(value="104")])
    err = load_error(root)
    assert err.field == "value" and "between 0 and 100" in str(err)


def test_level_must_be_positive(root):
    add_file(root, [row(indicator="gdp", unit="亿元", value="-5")])
    assert load_error(root).field == "value"


def test_wrong_unit(root):
    add_file(root, [row(indicator="gdp", unit="万元", value="100")])
    err = load_error(root)
    assert err.field == "unit" and "'亿元'" in str(err)


def test_thousands_separator_is_read(root):
    add_file(root, [row(indicator="gdp", unit="亿元", value="21,860.5")], name="gdp.csv")
    assert data.load(2026, root).series("gdp")[2020] == 21860.5


@pytest.mark.parametrize("published", ["2025-02-30", "2025-13", "2025-00-10"])
def test_impossible_publication_date(root, published):
    add_file(root, [row(published=published)])
    err = load_error(root)
    assert (err.line, err.field) == (2, "published") and "does not exist" in str(err)


def test_repeated_column(root):
    path = add_file(root, [row()])
    path.write_text(path.read_text(encoding="utf-8").replace("reliability", "region", 1),
                    encoding="utf-8")
    err = load_error(root)
    assert err.line == 1 and "repeated column" in str(err) and "region" in str(err)


def test_known_unit_is_converted(root):
    add_file(root, [row(region="China", indicator="labour_productivity", unit="元/人",
                        value="146380")], name="lp.csv")
    panel = data.load(2026, root).panel
    value = panel[(panel.region == "China") & (panel.indicator == "labour_productivity")]["value"]
    assert value.iloc[0] == pytest.approx(14.638)


def test_duplicate_key_names_both_places(root):
    path = add_file(root, [row(year="2015", value="3.0")], name="dup.csv")
    err = load_error(root)
    assert err.file == str(path) and "base.csv line" in str(err) and err.field == "vintage"


def test_empty_file(root):
    (root / "data" / "raw" / "series" / "empty.csv").write_text("", encoding="utf-8")
    assert "empty" in str(load_error(root))


def test_header_only_file(root):
    add_file(root, [])
    assert "no data rows" in str(load_error(root))


def test_wrong_encoding(root):
    path = root / "data" / "raw" / "series" / "gbk.csv"
    text = ",".join(HEADER) + "\n" + ",".join(row(source_title="杭州统计年鉴").values()) + "\n"
    path.write_bytes(text.encode("gbk"))
    err = load_error(root)
    assert "UTF-8" in str(err) and err.line == 2


def test_ragged_row(root):
    path = add_file(root, [row()])
    path.write_text(path.read_text(encoding="utf-8") + "Hangzhou,rd_intensity,2021\n",
                    encoding="utf-8")
    err = load_error(root)
    assert err.line == 3 and "fields" in str(err)


def test_missing_source(root):
    add_file(root, [row(source_url="")])
    assert load_error(root).field == "source_url"


def test_missing_raw_files(tmp_path):
    (tmp_path / "data" / "raw").mkdir(parents=True)
    copy_registry(tmp_path)
    with pytest.raises(InputError, match="no raw CSV"):
        data.load(2026, tmp_path)


def test_missing_registry(tmp_path):
    with pytest.raises(InputError, match="catalogue not found"):
        data.load(2026, tmp_path)


# --- the vintage rule -----------------------------------------------------------------------

def test_latest_vintage_of_same_grade_wins_and_as_of_is_respected(root):
    add_file(root, [row(year="2021", value="3.6", published="2022-02", vintage="preliminary"),
                    row(year="2021", value="3.68", published="2022-09-21", vintage="final")],
             name="v.csv")
    early = data.load("2022-06-30", root).series("rd_intensity")
    late = data.load(2026, root).series("rd_intensity")
    assert early[2021] == 3.6 and late[2021] == 3.68
    assert 2021 not in data.load("2021-12-31", root).series("rd_intensity")


def test_better_grade_beats_later_copy(root):
    add_file(root, [row(year="2021", value="3.6", published="2022-02", reliability="official"),
                    row(year="2021", value="3.7", published="2023-09", vintage="compiled",
                        reliability="compiled dataset (mixed vintages)")], name="v.csv")
    assert data.load(2026, root).series("rd_intensity")[2021] == 3.6


def test_preliminary_flag_and_assumed_publication(root):
    add_file(root, [row(year="2021", vintage="GWR preliminary estimate", published=""),
                    row(year="2022", vintage="final", published="repo commit abc")], name="v.csv")
    rows = data.load(2026, root).rows("rd_intensity").set_index("year")
    assert rows.loc[2021, "preliminary"] and not rows.loc[2022, "preliminary"]
    assert rows.loc[2022, "published_assumed"] and rows.loc[2022, "available"] == date(2023, 12, 31)


def test_a_wrong_size_is_held_against_the_plans_targets_in_their_region(root):
    share = dict(indicator="digital_core_share_gdp", unit="%", published="2024-09-01")  # target 30 %
    # one value on an empty series (no median to hold it against)
    add_file(root, [row(year="2021", value="0.3", **share)])
    err = load_error(root)
    assert "the plan's target (30)" in str(err) and "wrong unit" in str(err) and err.line == 2
    # a series typed as fractions throughout: its own median would call it fine
    add_file(root, [row(year=str(y), value=v, **share)
                    for y, v in ((2021, "0.27"), (2022, "0.28"), (2023, "0.29"))])
    assert "wrong unit" in str(load_error(root))
    # one right value among wrong ones: the wrong ones are named, not the right one
    add_file(root, [row(year="2021", value="27", **share), row(year="2022", value="0.28", **share)])
    assert load_error(root).line == 3
    add_file(root, [row(year="2021", value="27", **share)])
    assert data.load(2026, root).series("digital_core_share_gdp")[2021] == 27
    # another region's series is not held against Hangzhou's plan
    add_file(root, [row(region="China", year="2021", value="1.3",
                        indicator="high_value_invention_patents_per_10k", unit="件")])
    assert data.load(2026, root).series("high_value_invention_patents_per_10k", "China")[2021] == 1.3


@pytest.mark.parametrize("published,available", [
    ("2022年3月1日", date(2022, 3, 1)), ("2022年3月", date(2022, 3, 31)),
    ("1 March 2022", date(2022, 3, 1)), ("March 1, 2022 (bulletin)", date(2022, 3, 1)),
    ("released in Sept. 2022", date(2022, 9, 30)), ("2022", date(2022, 12, 31)),
    ("2022年3月1号", date(2022, 3, 1)),
    # the latest date counts: a reference year before the release date must not win
    ("杭州市2021年统计公报 2022年3月15日", date(2022, 3, 15)),
    ("bulletin 2021 (published 15 March 2022)", date(2022, 3, 15)),
    # a number before a month is a day only where it reads as one
    ("Table 3 March 2022", date(2022, 3, 31)), ("No. 12 Dec 2022", date(2022, 12, 31)),
    ("Mar 2022-05-01", date(2022, 5, 1)),
    # year first is unambiguous with any separator; day-month-year with a named month too
    ("2022/03/01", date(2022, 3, 1)), ("2022.3.1", date(2022, 3, 1)), ("2022-3-1", date(2022, 3, 1)),
    ("1-Mar-2022", date(2022, 3, 1)), ("posted 2022/3/1 08:00", date(2022, 3, 1)),
    # forms that used to fall back to the reference year, so counted a value too early
    ("bulletin for 2021, released 15-Mar-22", date(2022, 3, 15)),
    ("2021年统计公报（20220228）", date(2022, 2, 28)), ("二〇二二年三月十五日", date(2022, 3, 15)),
    ("２０２２年３月１日", date(2022, 3, 1)),
    # ranges count from their later end; a span of two years is the later year
    ("2022-01/02", date(2022, 2, 28)), ("2022-03-01/05", date(2022, 3, 5)),
    ("2022-03-01/2022-03-05", date(2022, 3, 5)), ("2020-21 (published 2022-03-01)", date(2022, 3, 1)),
    ("2022.3", date(2022, 3, 31)), ("2022-Mar-01", date(2022, 3, 1)),
    # a range whose end is before its start runs into the next month or year
    ("2022-12", date(2022, 12, 31)),  # a month, not the span 2022-2012
    ("2021-12/01", date(2022, 1, 31)), ("2022-01-30/02", date(2022, 2, 2)),
    ("2021-12-31/01-05", date(2022, 1, 5)), ("2022-02-10/03-01", date(2022, 3, 1)),
])
def test_dates_written_out_are_read_as_the_date_not_its_year(root, published, available):
    # read by the numeric pattern alone, 1 March 2022 counted from 31 December 2022
    add_file(root, [row(year="2021", published=published)], name="d.csv")
    assert data.load(2026, root).rows("rd_intensity").set_index("year").loc[2021, "available"] \
        == available


def test_labour_productivity_is_derived_with_its_rule(root):
    add_file(root, [row(indicator="gdp", unit="亿元", year="2015", value="10050.21"),
                    row(indicator="employed_persons", unit="万人", year="2015", value="663.03")],
             name="lp.csv")
    rows = data.load(2026, root).rows("labour_productivity")
    assert rows["value"].iloc[0] == pytest.approx(10050.21 / 663.03)
    assert rows["derivation"].iloc[0].startswith("labour_productivity = gdp / employed_persons")
    assert rows["origin"].iloc[0] == "derived"


def test_a_value_published_before_its_year_is_rejected(root):
    add_file(root, [row(year="2021", published="2019-01-01")])
    err = load_error(root)
    assert err.field == "published" and "before the year 2021" in str(err) and err.line == 2


def test_a_right_label_on_a_wrong_size_is_caught_against_its_series(root):
    # 0.037 labelled % where the series runs 2.5-3.4 %: a fraction typed for a percent
    add_file(root, [row(year="2021", value="0.037", vintage="user estimate")])
    err = load_error(root)
    assert err.field == "value" and "wrong unit" in str(err) and "bad.csv" in str(err)
    # the same file with the value in percent loads
    add_file(root, [row(year="2021", value="3.7", vintage="user estimate")])
    assert data.load(2026, root).series("rd_intensity")[2021] == 3.7


def test_anything_but_csv_files_in_the_data_folders_is_an_error(root):
    upper = add_file(root, [row(year="2021", value="3.6")], name="MINE.CSV")
    assert upper in [p for p, _ in data.raw_files(root)]  # read, not skipped
    (root / "data" / "raw" / "series" / "old").mkdir()
    err = load_error(root)
    assert "not a CSV data file" in str(err) and str(root / "data" / "raw" / "series" / "old") in str(err)


def test_a_future_as_of_is_refused():
    with pytest.raises(InputError, match="in the future"):
        data.parse_as_of(str(date.today().year + 2))
    with pytest.raises(InputError, match="in the future"):
        data.parse_as_of("2099-01-01")
    assert data.parse_as_of(str(date.today().year)) == date(date.today().year, 12, 31)


@pytest.mark.parametrize("over,field", [
    (dict(published="03/01/2022"), "published"),     # 1 March or 3 January?
    (dict(published="01-03-2022"), "published"),     # the same with dashes
    (dict(published="2021年公报 110年3月15日"), "published"),  # a Minguo year: not read, refused
    (dict(published="bulletin 2021, March 1-15, 2022"), "published"),  # a day not read
    (dict(published="2022/02/30"), "published"),     # no such day
    (dict(reliability="officail"), "reliability"),   # would silently rank last
    (dict(region="hangzhou"), "region"),             # would be a region of its own
    (dict(vintage=" "), "vintage"),                  # the vintage rule and the key need one
])
def test_silent_misreadings_of_metadata_are_errors(root, over, field):
    add_file(root, [row(year="2021", value="3.6", **over)])
    err = load_error(root)
    assert err.field == field and "bad.csv" in str(err) and err.line == 2


def test_a_scenario_population_series_outside_the_catalogue_names_the_scenario(shipped_like):
    from forecast.pipeline import forecast_indicator
    from forecast.scenario import Employment, Scenario
    scenario = Scenario(employment=hz_employment(population="nope_series"), source="my.yaml")
    with pytest.raises(InputError, match="nope_series") as info:
        forecast_indicator(shipped_like, "labour_productivity", models=("rw_drift",),
                           n_paths=200, backtest=False, scenario=scenario)
    assert info.value.file == "my.yaml" and info.value.field == "employment.population"


@pytest.fixture
def shipped_like():
    return data.load("2026-11-27")


# --- build is atomic, add validates before copying -------------------------------------------

def test_failed_build_leaves_previous_output(root):
    data.build(2026, root)
    panel = root / "data" / "processed" / "panel.csv"
    before = panel.read_bytes()
    add_file(root, [row(value="oops")])
    with pytest.raises(InputError):
        data.build(2026, root)
    assert panel.read_bytes() == before
    assert not list((root / "data" / "processed").glob(".*tmp"))


def test_a_build_that_cannot_write_one_file_replaces_none(root):
    data.build(2026, root)
    out = root / "data" / "processed"
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}  # not cache/
    add_file(root, [row(year="2021", value="3.6")], name="more.csv")
    (out / "panel.csv").unlink()
    (out / "panel.csv").mkdir()  # a destination that cannot be replaced
    with pytest.raises(InputError, match="is a directory"):
        data.build(2026, root)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == \
        {k: v for k, v in before.items() if k != "panel.csv"}
    assert not list(out.glob(".*tmp"))
    # and what is written is readable by the group and others, as any new file would be
    (out / "panel.csv").rmdir()
    data.build(2026, root)
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "panel.csv").stat().st_mode & 0o777 == 0o666 & ~umask


def test_raw_files_are_never_modified(root):
    files = {p: p.read_bytes() for p, _ in data.raw_files(root)}
    data.build(2026, root)
    assert all(p.read_bytes() == b for p, b in files.items())


def test_data_add_user_file_overrides_and_rejects_bad(root, tmp_path, capsys):
    good = write_csv(tmp_path / "mine.csv", [row(year="2015", value="3.3", vintage="internal",
                                                reliability="")])
    assert cli.main(["data", "add", str(good)]) == 0
    assert data.load(2026, root).series("rd_intensity")[2015] == 3.3  # user rows first
    bad = write_csv(tmp_path / "bad.csv", [row(year="2016", value="abc", vintage="internal")])
    assert cli.main(["data", "add", str(bad)]) == 2
    assert "bad.csv, line 2, field 'value'" in capsys.readouterr().err
    assert not (root / "data" / "raw" / "user" / "bad.csv").exists()
    clash = write_csv(tmp_path / "clash.csv", [row(year="2015", value="3.3", vintage="internal")])
    assert cli.main(["data", "add", str(clash)]) == 2
    assert "duplicate" in capsys.readouterr().err


def test_data_add_refuses_a_future_date_and_names_likely_mistakes(root, tmp_path, capsys):
    """A publication date after today is a typo that would wait silently for its date; a
    value dated inside its own year, a region nothing else uses, and a second value for the
    same year and date pass but are said (a new-user walkthrough found all four silent)."""
    from datetime import date
    later = f"{date.today().year + 1}-03-01"
    future = write_csv(tmp_path / "future.csv", [row(year="2019", published=later,
                                                     vintage="x")])
    assert cli.main(["data", "add", str(future)]) == 2
    err = capsys.readouterr().err
    assert "future.csv, line 2, field 'published'" in err and "after this year" in err
    assert not (root / "data" / "raw" / "user" / "future.csv").exists()
    # the documented conventions still pass: a bare year counts from its 31 December, and no
    # date at all is assumed (both end after today)
    this_year = str(date.today().year)
    bare = write_csv(tmp_path / "bare.csv", [
        row(year=str(date.today().year - 1), published=this_year, vintage="bare year"),
        row(year="2017", published="", vintage="no date")])
    assert cli.main(["data", "add", str(bare)]) == 0
    capsys.readouterr()
    odd = write_csv(tmp_path / "odd.csv", [
        row(year="2020", published="2020-03-01", vintage="early"),
        row(region="杭州", year="2018", vintage="local name"),
        row(year="2015", value="3.4", published="2016-09-01", vintage="other dept")])
    same_date = write_csv(tmp_path / "same.csv", [
        row(year="2015", value="3.3", published="2016-09-01", vintage="bureau")])
    assert cli.main(["data", "add", str(same_date)]) == 0
    capsys.readouterr()
    assert cli.main(["data", "add", str(odd)]) == 0
    out = capsys.readouterr().out
    assert "note: line 2: the 2020 value counts from 2020-03-01, before its year was over" in out
    assert "note: region '杭州' is new" in out
    assert ("note: line 4: rd_intensity 2015 = 3.4 counts from the same date as 3.3 in same.csv "
            "line 2") in out
    # a decimal point in the wrong place passes the x30 magnitude check but not this one
    typo = write_csv(tmp_path / "typo.csv", [row(year="2021", value="35", published="2022-09-01",
                                                 vintage="typo")])
    assert cli.main(["data", "add", str(typo)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"note: line 2: rd_intensity 2021 = 35 is \d+(\.\d+)?x the 20(20|22) "
                     r"value [\d.]+ \(.*\): a wrong unit or a typo\?", out), out
    # ... and a revision retyped for a year already sourced is held against that year
    retyped = write_csv(tmp_path / "retyped.csv", [row(year="2016", value="0.35",
                                                       published="2022-09-01", vintage="rev")])
    assert cli.main(["data", "add", str(retyped)]) == 0
    assert "rd_intensity 2016 = 0.35 is 0.1" in capsys.readouterr().out
    # an ordinary row gets none of these
    plain = write_csv(tmp_path / "plain.csv", [row(year="2020", vintage="plain")])
    assert cli.main(["data", "add", str(plain)]) == 0
    assert "note:" not in capsys.readouterr().out


# --- the shipped data ------------------------------------------------------------------------

def test_every_shipped_value_has_a_source():
    vintages = data.load(2026).vintages
    assert len(vintages) > 2000
    for column in ("source_title", "source_url", "vintage"):
        assert (vintages[column].str.len() > 0).all(), column


def test_shipped_rd_intensity_keeps_both_2021_vintages():
    dataset = data.load("2026-11-27")
    hz = dataset.vintages.query("region == 'Hangzhou' and indicator == 'rd_intensity' and year == 2021")
    assert sorted(hz["value"]) == [3.6, 3.68]
    series = dataset.series("rd_intensity")
    assert series[2021] == 3.68 and not {2010, 2018, 2022} & set(series.index)


def test_shipped_panel_has_no_brand_sales_share():
    assert data.load(2026).series("brand_sales_share_mfg").empty


def test_registry_holds_all_18_targets():
    registry = data.load_registry()
    assert len(registry.targets) == 18
    central = {t.id: t.value for t in registry.targets.values()
               if t.indicator in ("rd_intensity", "labour_productivity", "brand_sales_share_mfg")}
    assert central == {"rd_intensity_2025": 4.0, "rd_intensity_2027": 4.2,
                       "labour_productivity_2025": 22, "labour_productivity_2027": 28,
                       "brand_sales_share_mfg_2025": 55, "brand_sales_share_mfg_2027": 57}
    assert registry.targets["engineering_first_inspection_pass_rate_2025"].comparison == "="
    plan = (REPO / "plans" / "hangzhou" / "plan.txt").read_text(encoding="utf-8")
    assert all(t.wording in plan for t in registry.targets.values())


def test_targets_command_lists_every_target(capsys):
    assert cli.main(["targets", "--as-of", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    registry = data.load_registry()
    assert all(tid in out for tid in registry.targets)
    assert "not forecastable" in out and "probability" in out
    # a ratio's single observed year is not what its status rests on: the footnote says what is
    assert "probability *" in out
    assert "* labour_productivity: derived as gdp / employed_persons" in out


def test_as_of_parsing():
    assert data.parse_as_of("2025") == date(2025, 12, 31)
    assert data.parse_as_of("2025-06-30") == date(2025, 6, 30)
    with pytest.raises(InputError, match="as_of"):
        data.parse_as_of("last year")


def test_data_show_lists_a_series_and_says_when_it_was_not_yet_published(capsys):
    assert cli.main(["data", "show", "gdp", "--as-of", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gdp: ") and "counts from" in out
    assert "series break in 2024" in out and "gaps: " in out
    # before the first publication there is data, only not yet: say when, not "supply one"
    assert cli.main(["data", "show", "rd_intensity", "--as-of", "1990"]) == 0
    early = capsys.readouterr().out
    assert "nothing published by 1990-12-31: the first of its" in early
    assert "supply one" not in early
    # a series that exists nowhere gets the route to supply it
    assert cli.main(["data", "show", "brand_sales_share_mfg", "--as-of", "2026-11-27"]) == 0
    assert "supply one with `forecast data add FILE`" in capsys.readouterr().out


def test_a_revised_earlier_year_released_with_the_new_basis_is_not_linked_twice(tmp_path):
    """GDP before 2024 is linked onto the fifth-census basis (x1.04) for the models; a revised
    2023 released with or after the first 2024 figure is on that basis already."""
    root = tmp_path / "proj"
    copy_project(root)
    write_csv(root / "data" / "raw" / "user" / "revised.csv", [
        row(indicator="gdp", unit="亿元", year="2023", value="20900", published="2025-06-30",
            vintage="synthetic revised (5th census)")])
    linked, breaks = data.load("2026-11-27", root).linked_series("gdp")
    assert [b.year for b in breaks] == [2024]
    assert linked[2023] == 20900  # not 21736
    shipped = data.load("2026-11-27").linked_series("gdp")[0]
    assert linked[2022] == pytest.approx(shipped[2022])  # the earlier years still are


def test_json_ready_turns_missing_values_into_null():
    # NaT is a date to isinstance: it used to come out as the string "NaT"
    out = data.json_ready({"t": pd.NaT, "n": float("nan"), "na": pd.NA, "b": np.bool_(True),
                           "d": date(2025, 5, 22), "a": np.array([1.5, np.inf])})
    assert out == {"t": None, "n": None, "na": None, "b": True, "d": "2025-05-22",
                   "a": [1.5, None]}


# --- numeric dates with the year last: read when they can only be one day ------------------

@pytest.mark.parametrize("published,available", [
    ("15/03/2022", date(2022, 3, 15)),   # 15 cannot be a month: day first
    ("03/15/2022", date(2022, 3, 15)),   # 15 cannot be a month: month first
    ("15.03.2022", date(2022, 3, 15)), ("15-03-2022", date(2022, 3, 15)),
    ("05/05/2022", date(2022, 5, 5)),    # either way the same day
    ("31/12/2022", date(2022, 12, 31)),
    ("bulletin 2021, released 28/02/2022", date(2022, 2, 28)),  # the latest date still counts
])
def test_a_numeric_date_that_can_only_be_one_day_is_that_day(root, published, available):
    # 15/03/2022 was refused as an ambiguous day-first date, though it can only be 15 March
    add_file(root, [row(year="2021", published=published)], name="d.csv")
    assert data.load(2026, root).rows("rd_intensity").set_index("year").loc[2021, "available"] \
        == available


@pytest.mark.parametrize("published,says", [
    ("03/01/2022", "1 March or 3 January"),      # both numbers could be the month
    ("15/03/22", "two-digit year"),              # 2022-03-15 or 2015-03-22
    ("31/02/2022", "does not exist"),            # read day first: 31 February
    ("13/14/2022", "does not exist"),            # neither number is a month
])
def test_a_numeric_date_that_is_not_one_day_is_still_refused(root, published, says):
    add_file(root, [row(year="2021", value="3.6", published=published)])
    err = load_error(root)
    assert err.field == "published" and err.line == 2 and says in str(err), str(err)


# --- a file separated by semicolons or tabs -----------------------------------------------

@pytest.mark.parametrize("delimiter,name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_file_separated_otherwise_is_named_as_such_not_as_missing_columns(
        root, tmp_path, capsys, delimiter, name):
    # Excel writes ';' where the decimal separator is a comma: it was reported as "missing
    # column(s) region, indicator, ..." with no word about the delimiter
    path = tmp_path / "excel.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=HEADER, delimiter=delimiter)
        writer.writeheader()
        writer.writerow(row(year="2021", value="3,6"))
    before = path.read_bytes()
    assert cli.main(["data", "add", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"excel.csv, line 1: the file appears to be separated by {name}" in err, err
    assert "comma-separated" in err and "missing column" not in err
    assert not (root / "data" / "raw" / "user" / "excel.csv").exists()
    assert path.read_bytes() == before  # the user's file is left as it is
    # the same file in the data folder stops every command with the same words
    shutil.copy(path, root / "data" / "raw" / "series" / "excel.csv")
    err = load_error(root)
    assert err.file == str(root / "data" / "raw" / "series" / "excel.csv") and err.line == 1
    assert f"separated by {name}" in str(err)


def test_a_comma_file_with_semicolons_in_its_header_is_not_taken_for_one(root):
    # only a header that splits into the required columns is taken for another separator
    path = add_file(root, [row()])
    path.write_text(path.read_text(encoding="utf-8").replace("vintage", "vintage;note", 1),
                    encoding="utf-8")
    err = load_error(root)
    assert "missing column(s) vintage" in str(err) and "separated by" not in str(err)
