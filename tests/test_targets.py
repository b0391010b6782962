"""The target registry rejects malformed entries with the line and field at fault."""
from __future__ import annotations

from pathlib import Path

import pytest

from forecast.errors import InputError
from forecast.targets import load_registry

REPO = Path(__file__).resolve().parents[1]
REAL = (REPO / "data" / "raw" / "targets.yaml").read_text(encoding="utf-8")
TARGET = ("  - {id: rd_intensity_2025, indicator: rd_intensity, year: 2025, value: 4.0, "
          "comparison: \">=\", wording: 全社会研发投入强度达到 4.0%}")


def broken(tmp_path: Path, old: str, new: str) -> InputError:
    assert old in REAL, old
    path = tmp_path / "targets.yaml"
    path.write_text(REAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(path)
    return info.value


def line_of(text: str) -> int:
    return REAL.splitlines().index(text) + 1


@pytest.mark.parametrize("old,new,field,needle", [
    ("indicator: rd_intensity, year: 2025", "indicator: rd_intensty, year: 2025", "indicator", "rd_intensty"),
    ("year: 2025, value: 4.0", "year: 2025.5, value: 4.0", "year", "2025.5"),
    ("year: 2025, value: 4.0", "year: 2025, value: four", "value", "four"),
    ("year: 2025, value: 4.0", "year: 2025, value: 400", "value", "bounds"),
    ("comparison: \">=\", wording: 全社会研发投入强度达到 4.0%", "comparison: \">\", wording: x", "comparison", ">"),
])
def test_bad_target_names_line_and_field(tmp_path, old, new, field, needle):
    err = broken(tmp_path, old, new)
    assert err.field == field and needle in str(err) and err.line == line_of(TARGET)


def test_unknown_scale(tmp_path):
    err = broken(tmp_path, "    scale: log\n    # GDP", "    scale: sqrt\n    # GDP")
    assert err.field == "scale" and "log|logit|identity" in str(err)


def test_logit_needs_bounds(tmp_path):
    old = "    bounds: [0, 100]\n    scale: logit\n    # A share of GDP changes basis"
    err = broken(tmp_path, old, "    bounds: null\n    scale: logit\n    # A share of GDP changes basis")
    assert err.field == "bounds"


def test_duplicate_target_id(tmp_path):
    err = broken(tmp_path, TARGET, TARGET + "\n" + TARGET)
    assert "duplicate" in str(err) and err.field == "id"


def test_malformed_yaml_has_line(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("indicators:\n  a: [1, 2\ntargets: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed YAML") as info:
        load_registry(path)
    assert info.value.line is not None


def test_unknown_target_lookup_lists_valid_ids():
    registry = load_registry(REPO / "data" / "raw" / "targets.yaml")
    with pytest.raises(InputError, match="rd_intensity_2027"):
        registry.target("rd_intensity_2030")


def test_a_difference_of_percentages_is_in_percentage_points():
    registry = load_registry(REPO / "data" / "raw" / "targets.yaml")
    assert registry.indicators["rd_intensity"].difference_unit == "percentage points"
    assert registry.indicators["gdp"].difference_unit == registry.indicators["gdp"].unit


@pytest.mark.parametrize("new,needle", [
    ("share_of: {numerator: rd_spending, denominator: gdp, factor: 100}", "unknown 'rd_spending'"),
    ("share_of: {numerator: rd_expenditure, factor: 100}", "malformed 'share_of'"),
    ("share_of: [rd_expenditure, gdp]", "malformed 'share_of'"),
])
def test_a_share_names_what_it_is_a_ratio_of(tmp_path, new, needle):
    err = broken(tmp_path, "share_of: {numerator: rd_expenditure, denominator: gdp, factor: 100}", new)
    assert err.field == "share_of" and needle in str(err)


def test_rd_intensity_is_a_share_of_gdp_in_the_shipped_registry():
    rule = load_registry(REPO / "data" / "raw" / "targets.yaml").indicator("rd_intensity").share_of
    assert (rule.numerator, rule.denominator, rule.factor) == ("rd_expenditure", "gdp", 100.0)


def test_a_misspelt_target_key_is_an_error_not_a_missing_field(tmp_path):
    err = broken(tmp_path, "year: 2025, value: 4.0", "year: 2025, valeu: 4.0, value: 4.0")
    assert err.field == "valeu" and "unknown key" in str(err) and err.line == line_of(TARGET)


@pytest.mark.parametrize("old,new,field", [
    ("derived: {numerator: gdp, denominator: employed_persons, factor: 1.0}",
     "derived: {numerator: gdp, denominator: employed_persons, factor: 0}", "derived"),
    ("unit_conversions:\n", "unit_conversions:\n  - 元/人\n", "unit_conversions"),
])
def test_ratio_and_conversion_factors_must_be_positive_mappings(tmp_path, old, new, field):
    assert broken(tmp_path, old, new).field == field


@pytest.mark.parametrize("new", [
    "revision: [3.7, 4.3]   #",           # percentages typed as numbers
    "revision: [0.043, 0.037]   #",       # low above high
    "revision: [0, 0.04]   #",            # no revision is no revision key
    "revision: [-0.01, 0.04]   #",        # a range that changes sign
    "revision: yes   #",
    "revison: [0.037, 0.043]   #",        # a misspelt key would silently drop the revision
])
def test_a_malformed_series_break_names_the_field(tmp_path, new):
    err = broken(tmp_path, "revision: [0.037, 0.043]   #", new)
    assert err.field == "breaks" and "gdp" in str(err)


def test_gdp_carries_its_census_breaks_with_an_estimated_revision():
    early, late = load_registry(REPO / "data" / "raw" / "targets.yaml").indicator("gdp").breaks
    assert (early.year, early.revision) == (2019, None)
    assert late.year == 2024 and late.revision == (0.037, 0.043) and "85620" in late.note
