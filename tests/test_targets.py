"""The target registry (the shared catalogue and a plan's plan.yaml) rejects malformed
entries with the file, line and field at fault."""
from __future__ import annotations

from pathlib import Path

import pytest

from forecast import data
from forecast.errors import InputError
from conftest import REPO, copy_registry

CATALOGUE = (REPO / "data" / "raw" / "catalogue.yaml").read_text(encoding="utf-8")
PLAN = (REPO / "plans" / "hangzhou" / "plan.yaml").read_text(encoding="utf-8")
TARGET = ("  - {id: rd_intensity_2025, indicator: rd_intensity, year: 2025, value: 4.0, "
          "comparison: \">=\", wording: 全社会研发投入强度达到 4.0%}")


def load_registry(root: Path):
    return data.load_registry(None, root)


def broken(tmp_path: Path, old: str, new: str) -> InputError:
    """The registry with ``old`` replaced by ``new`` in whichever of the catalogue and the
    plan holds it: the error it raises (naming that file)."""
    copy_registry(tmp_path)
    in_plan = old in PLAN
    assert in_plan or old in CATALOGUE, old
    path = (tmp_path / "plans" / "hangzhou" / "plan.yaml" if in_plan
            else tmp_path / "data" / "raw" / "catalogue.yaml")
    path.write_text((PLAN if in_plan else CATALOGUE).replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_registry(tmp_path)
    assert info.value.file == str(path)
    return info.value


def line_of(text: str) -> int:
    return PLAN.splitlines().index(text) + 1


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
    copy_registry(tmp_path)
    path = tmp_path / "plans" / "hangzhou" / "plan.yaml"
    path.write_text("plan: {region: X}\ntargets: [1, 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed YAML") as info:
        load_registry(tmp_path)
    assert info.value.line is not None and info.value.file == str(path)


def test_unknown_target_lookup_lists_valid_ids():
    registry = data.load_registry()
    with pytest.raises(InputError, match="rd_intensity_2027"):
        registry.target("rd_intensity_2030")


def test_a_difference_of_percentages_is_in_percentage_points():
    registry = data.load_registry()
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
    rule = data.load_registry().indicator("rd_intensity").share_of
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
    early, late = data.load_registry().indicator("gdp").breaks
    assert (early.year, early.revision) == (2019, None)
    assert late.year == 2024 and late.revision == (0.037, 0.043) and "85620" in late.note


def test_the_shipped_plan_is_files_with_the_region_and_assumption_in_them():
    """Nothing region-specific is in code: Hangzhou's region, its employment assumption (with
    sources) and its panels are what plans/hangzhou/plan.yaml says."""
    plan = data.load_registry().plan
    assert (plan.id, plan.region, plan.language) == ("hangzhou", "Hangzhou", "zh")
    employment = plan.employment("employed_persons")
    assert employment.ratio == (0.58, 0.74) and employment.population_since == 2020
    assert plan.assumption_sources["employed_persons"]
    assert plan.panels["rd_intensity"] == ("china_provinces_rd_nbs",)
    assert plan.text.read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("old,new,field", [
    ("  region: Hangzhou\n  region_zh", "  region_zh", "plan.region"),
    ("language: zh ", "language: fr ", "settings.language"),
    ("{likely: 0.8, balanced: 0.5}", "{likely: 0.5, balanced: 0.8}", "settings.probability_classes"),
    ("    ratio: [0.58, 0.74]\n", "", "assumptions.employed_persons.ratio"),
    ("    sources:\n", "    sourcez:\n", "assumptions.employed_persons.sourcez"),
    ("  employed_persons:\n    method", "  employed_person:\n    method", "assumptions.employed_person"),
    ("  gdp: {files: [hangzhou_and_peers]}", "  gdp: {file: hangzhou_and_peers}", "panels.gdp"),
    ("\ntargets:\n", "\ntargetz:\n", "targetz"),
    # wrong types crash nothing: each is an error naming the field
    ("{likely: 0.8, balanced: 0.5}", "[0.8, 0.5]", "settings.probability_classes"),
    ("central: [", "central: [[rd_intensity], ", "settings.central"),
    ("indicator: rd_intensity, year: 2025", "indicator: [rd_intensity], year: 2025", "indicator"),
    ("\nassumptions:\n", "\nunit_conversions: 5\nassumptions:\n", "unit_conversions"),
    # an assumption only replaces a ratio's denominator; "=" only at a bound
    ("  employed_persons:\n    method", "  gdp:\n    method", "assumptions.gdp"),
    ("year: 2025, value: 4.0, comparison: \">=\"", "year: 2025, value: 4.0, comparison: \"=\"",
     "comparison"),
])
def test_a_malformed_plan_names_its_file_and_field(tmp_path, old, new, field):
    assert broken(tmp_path, old, new).field == field


def test_a_key_written_twice_is_an_error_not_the_last_one_kept(tmp_path):
    err = broken(tmp_path, "settings:\n", "settings:\n  language: en\n")
    assert "duplicate key 'language'" in str(err)


def test_a_catalogue_break_list_of_the_wrong_type_names_the_field(tmp_path):
    copy_registry(tmp_path)
    path = tmp_path / "data" / "raw" / "catalogue.yaml"
    path.write_text(CATALOGUE.replace("    breaks:\n", "    breaks: 5\n    old_breaks:\n", 1),
                    encoding="utf-8")
    with pytest.raises(InputError, match="'breaks' that are not a list"):
        load_registry(tmp_path)


def test_a_plan_adds_indicators_but_does_not_redefine_the_catalogues(tmp_path):
    err = broken(tmp_path, "\nassumptions:\n", "\nindicators:\n  gdp: {name_en: G, name_zh: G, "
                 "unit: 亿元, bounds: null, scale: log}\nassumptions:\n")
    assert err.field == "indicators" and "already in the catalogue" in str(err)


def test_a_catalogue_break_names_its_region(tmp_path):
    err = broken(tmp_path, "      - year: 2024\n        region: Hangzhou\n        revision",
                 "      - year: 2024\n        revision")
    assert err.field == "breaks" and "without a region" in str(err)


def test_an_unknown_plan_is_named_with_the_known_ones(tmp_path):
    with pytest.raises(InputError, match="no plan 'hangzou'; did you mean 'hangzhou'") as info:
        data.load_registry("hangzou")
    assert info.value.field == "plan"
