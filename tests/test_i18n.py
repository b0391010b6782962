"""Chinese and English: one message catalogue per language, complete and consistent."""
from __future__ import annotations

import re
from datetime import date

import pytest

from forecast import cli, i18n
from forecast.errors import InputError
from conftest import REPO

PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def test_every_text_of_the_code_templates_and_notebooks_has_a_chinese_translation():
    """A text added or changed without `make messages` and a translation shows in English on a
    Chinese page: every id extracted from the sources must be translated, with the same
    placeholders (a missing one would raise, a changed one fill the wrong value)."""
    from babel.messages.pofile import read_po
    wanted = {m.id for m in i18n.extract_messages(REPO) if m.id}
    assert len(wanted) > 200  # the extraction reads the code, the templates and the notebooks
    with (i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / "forecast.po").open("rb") as fh:
        catalogue = {m.id: m.string for m in read_po(fh) if m.id}
    missing = sorted(wanted - {k for k, v in catalogue.items() if v})
    assert not missing, f"untranslated (run `make messages` and translate): {missing[:10]}"
    for msgid in wanted:
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(catalogue[msgid])), msgid


def test_numbers_and_dates_are_written_for_the_language():
    zh, en = i18n.language("zh"), i18n.language("en")
    assert zh.date(date(2026, 11, 27)) == "2026年11月27日"
    assert en.date("2026-11-27") == "27 November 2026"
    assert en.number(21860.4) == "21,860" and zh.number(21860.4) == "21,860"
    assert en.growth(0.043) == "+4.3%/yr" and "4.3%" in zh.growth(0.043)
    assert zh._("likely") == "很可能" and en._("likely") == "likely"
    with pytest.raises(InputError, match="language 'fr'"):
        i18n.language("fr")


def test_forecast_run_speaks_the_plans_language_by_default(capsys):
    """Hangzhou's plan says zh: `forecast run` prints its summary in Chinese unless --lang en."""
    args = ["run", "--indicator", "rd_intensity", "--as-of", "2026-11-27", "--paths", "300",
            "--no-backtest", "--models", "rw_drift"]
    assert cli.main(args) == 0
    zh = capsys.readouterr().out
    assert "全社会研发投入强度" in zh and "情景" in zh and "P(2025>=4)" in zh
    assert cli.main(args + ["--lang", "en"]) == 0
    en = capsys.readouterr().out
    assert "scenario: baseline" in en and "情景" not in en


def test_a_notebook_table_names_its_columns_in_the_language_and_shows_no_nan():
    import numpy as np
    import pandas as pd

    from forecast import pages
    frame = pd.DataFrame({"coverage_80": [0.812, np.nan], "n_forecasts": [10, 3],
                          "series_id": ["a", None]})
    for lang, label in (("en", "80% interval coverage"), ("zh", "80%区间覆盖率")):
        shown = pages.table(frame, lang, {"coverage_80": "{:.0%}"}).data
        assert list(shown.columns) == [label, "forecasts" if lang == "en" else "预测数",
                                       "series_id"]  # unknown columns keep their name
        assert shown.iloc[0, 0] == "81%" and shown.iloc[1, 0] == "–" and shown.iloc[1, 2] == "–"
