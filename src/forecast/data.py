"""Sourced history: read and validate ``data/raw``, choose one vintage per value, derive ratios.

Raw files are read, never written. Every row of every CSV under ``data/raw/series/`` (shipped)
and ``data/raw/user/`` (brought by the user) is one published value with its provenance:

    region, indicator, year, value, unit, source_title, source_url, published, vintage
    [, reliability, quote]

Vintage rule (documented in the README; the reason for each step in comments below). For each
(region, indicator, year), among the rows *available* on ``as_of``:

1. user-supplied rows before shipped rows (the user brought them to override);
2. the best reliability grade (official > official media > copy of an official text >
   compiled dataset > compiled dataset with mixed vintages > secondary > ungraded);
3. the latest publication date (a later release of the same grade is a revision);
4. file order (deterministic).

A row is available from its publication date: the latest ``YYYY[-MM[-DD]]`` in ``published``
(or the same date written out: ``2022年3月1日``, ``1 March 2022``, ``March 2022``, or with the
year last where it can only be one day: ``15/03/2022``, ``03/15/2022``), taken at the *end* of
the period it names (a bare year counts from 31 December). A row whose
``published`` names no date is assumed available from 31 December of the year after its
reference year (statistical bulletins appear in the following spring) and is flagged
``published_assumed``.
"""
from __future__ import annotations

import calendar
import csv
import hashlib
import io
import json
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import plans
from .errors import InputError
from .targets import MAX_YEAR, MIN_YEAR, Registry, SeriesBreak, did_you_mean

REQUIRED_COLUMNS = ("region", "indicator", "year", "value", "unit", "source_title", "source_url",
                    "published", "vintage")
OPTIONAL_COLUMNS = ("reliability", "quote")
RELIABILITY_GRADES = ("official", "official media", "copy of an official text",
                      "compiled dataset", "compiled dataset (mixed vintages)", "secondary")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:-(\d{2}))?(?:-(\d{2}))?(?!\d)")
_ISO_MONTH_OR_DAY = re.compile(r"(?<!\d)(?:19|20)\d{2}-\d{2}(?:-\d{2})?(?!\d)")
#: dates written otherwise, which the numeric pattern would read as their year only (so as
#: available from 31 December) or not at all: 2025/03/01, 20250301, 2022年3月1日, 二〇二二年三月一日,
#: 1 March 2022, 1-Mar-2022, 15-Mar-24, 2022-Mar-01, March 1, 2022, March 2022, numeric dates
#: with the year last that can only be one day (15/03/2022, 03/15/2022, 05/05/2022: see
#: _year_last), and ranges (2024-01/02, 2023-09-19/20), of which the later end counts
_MONTHS = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH = "(" + _MONTH_NAMES + r")\.?"
_YEAR_ALONE = r"((?:19|20)\d{2})(?![\d/.-]\d|\d)"  # not the start of 2025-05-01
_FIRST = r"(?<![\d/.-])((?:19|20)\d{2})"           # a year that starts a date
_WRITTEN_DATES = [
    # ranges: the later end (2023-09-19/20, 2024-01/02, 2024-12-31/01-05), into the next
    # month or year where the end is before the start (2024-12/01 ends in January 2025)
    (re.compile(_FIRST + r"-(\d{2})-(\d{2})/(\d{2})-(\d{2})(?![\d/.-]\d|\d)"),
     lambda m: _later_end(m[1], m[4], m[5], m[2]), False),
    (re.compile(_FIRST + r"-(\d{2})-(\d{2})/(\d{2})(?![\d/.-]\d|\d)"),
     lambda m: _later_end(m[1], m[2], m[4], None, m[3]), False),
    (re.compile(_FIRST + r"-(\d{2})/(\d{2})(?![\d/.-]|\d)"),
     lambda m: _later_end(m[1], m[3], None, m[2]), False),
    # year first is unambiguous whatever the separator: 2025/03/01, 2025.3.1, 2022-3-1
    (re.compile(_FIRST + r"([/.-])(\d{1,2})\2(\d{1,2})(?![\d/.-]\d|\d)"),
     lambda m: (m[1], m[3], m[4]), False),
    (re.compile(r"(?<![\d.])((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?![\d.])"),
     lambda m: (m[1], m[2], m[3]), False),                                   # 20240228
    (re.compile(_FIRST + r"[/.](\d{1,2})(?!\d|[/.-]\d)"), lambda m: (m[1], m[2], None), False),
    (re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2((?:19|20)\d{2})(?![\d/.-]\d|\d)"),
     lambda m: _year_last(m[1], m[3], m[4]), False),                        # 15/03/2022
    (re.compile(_FIRST + r"-" + _MONTH + r"-(\d{1,2})(?!\d)", re.IGNORECASE),
     lambda m: (m[1], _MONTHS[m[2].lower()], m[3]), False),                  # 2022-Mar-01
    (re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号])?"),
     lambda m: (m[1], m[2], m[3]), False),
    (re.compile(r"(?<![\d.])(\d{1,2})(?:st|nd|rd|th)?(?:\s+|-)" + _MONTH + r"(?:,?\s+|-)"
                + _YEAR_ALONE, re.IGNORECASE), lambda m: (m[3], _MONTHS[m[2].lower()], m[1]), True),
    (re.compile(r"(?<![\d.])(\d{1,2})-" + _MONTH + r"-(\d{2})(?![\d/.-]\d|\d)", re.IGNORECASE),
     lambda m: ("20" + m[3], _MONTHS[m[2].lower()], m[1]), True),           # 15-Mar-24
    (re.compile(r"\b" + _MONTH + r"\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?" + _YEAR_ALONE,
                re.IGNORECASE), lambda m: (m[3], _MONTHS[m[1].lower()], m[2]), False),
]
#: a span of two years (2021-22, a fiscal or school year): the later year
_YEAR_SPAN = re.compile(r"(?<![\d/.-])((?:19|20)\d{2})[-/–](\d{2})(?![\d/.-]|\d)")
#: dates in Chinese numerals (二〇二五年三月十五日), rewritten in digits before the patterns above
_CN_DIGITS = dict(zip("〇零一二三四五六七八九", (0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)))
_CN_DATE = re.compile(r"([〇零一二三四五六七八九]{4})\s*年(?:\s*([一二三四五六七八九十]{1,3})\s*月"
                      r"(?:\s*([一二三四五六七八九十]{1,3})\s*[日号])?)?")
#: a number before a month is a day only after these (or at the start, or after punctuation):
#: in "Table 3 March 2025" or "No. 12 Dec 2023" it is not, and the month's end is taken
_DAY_AFTER = re.compile(r"(?:^|[(\[,;:]|\b(?:on|published|released|dated|updated|posted|"
                        r"issued|of))\s*$", re.IGNORECASE)
#: left over once every readable date is rewritten: a numeric date with the year last that
#: could be two days (03/01/2022 is 1 March or 3 January; 15/03/22 is 15 March 2022 or 22 March
#: 2015) ...
_AMBIGUOUS_DATE = re.compile(r"(?<![\d/.-])\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)")
#: ... or a date the patterns do not read (a Minguo year, a month name beside a number that
#: is not one of the forms above, Chinese numerals out of form, a bare YYYYMMDD that is no
#: day): falling back to the year of another date in the text could count a value early
_UNREAD_DATE = re.compile(
    r"\d+\s*年\s*\d{1,2}\s*月|[〇零一二三四五六七八九十]\s*[年月日号]"
    r"|(?<![a-z])(?:" + _MONTH_NAMES + r")\.?[\s,-]*\d{1,2}(?!\d)"
    r"|(?<!\d)\d{1,2}(?:st|nd|rd|th)?[\s,-]*(?:" + _MONTH_NAMES + r")(?![a-z])"
    r"|(?<![\d.])(?:19|20)\d{6}(?![\d.])", re.IGNORECASE)
_PRELIMINARY = re.compile(r"prelim|estimat|预计|初步|快报", re.IGNORECASE)

PANEL_COLUMNS = ["region", "indicator", "year", "value", "unit", "vintage", "published",
                 "available", "published_assumed", "preliminary", "reliability", "source_title",
                 "source_url", "origin", "source_file", "source_line", "n_vintages", "derivation"]


def project_root() -> Path:
    """The directory holding ``data/raw``: ``$FORECAST_HOME`` if set, else the nearest
    parent of the working directory that has ``data/raw/catalogue.yaml``, else the
    repository this package was installed from (editable install)."""
    if os.environ.get("FORECAST_HOME"):
        return Path(os.environ["FORECAST_HOME"]).resolve()
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "data" / "raw" / plans.CATALOGUE_FILE).is_file():
            return candidate
    return Path(__file__).resolve().parents[2]


def raw_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data" / "raw"


def processed_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data" / "processed"


def catalogue_path(root: Path | None = None) -> Path:
    """The shared indicator catalogue, ``data/raw/catalogue.yaml``."""
    return raw_dir(root) / plans.CATALOGUE_FILE


def load_registry(plan: str | Path | None = None, root: Path | None = None) -> Registry:
    """The registry of ``plan`` (an id of plans/, a plan folder or its plan.yaml; None: the
    default plan) over the shared catalogue (:func:`forecast.plans.load_registry`)."""
    root = root or project_root()
    return plans.load_registry(plan, root, catalogue_path(root))


def parse_as_of(value: str | int | date | None) -> date:
    """``as_of`` as a date: a year means its 31 December, ``YYYY-MM-DD`` a day, None today."""
    if value is None:
        return date.today()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        if MIN_YEAR <= year <= MAX_YEAR:
            return _not_in_the_future(date(year, 12, 31), value)
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise InputError(None, f"as_of '{value}' is not a date", field="as_of",
                         expected="a year such as 2026 or a date such as 2026-06-30") from None
    return _not_in_the_future(parsed, value)


def _not_in_the_future(as_of: date, given) -> date:
    # What is published by a far-future date is not known: a run "as of 2099" would present
    # today's data under a date it cannot vouch for. Up to the end of next year is allowed,
    # so a report prepared ahead of its date (or on a machine whose clock lags) still runs.
    limit = date(date.today().year + 1, 12, 31)
    if as_of > limit:
        raise InputError(None, f"as_of '{given}' is in the future (today is {date.today()})",
                         field="as_of", expected=f"a date up to {limit}")
    return as_of


class DateError(ValueError):
    """A ``published`` text whose date cannot be read safely; ``expected`` says what can."""

    def __init__(self, message: str, expected: str):
        super().__init__(message)
        self.expected = expected


def _later_end(year: str, month: str, day: str | None, start_month: str | None = None,
               start_day: str | None = None) -> tuple[int, int, int | None]:
    """The end of a range as (year, month, day): a month before the start month is in the
    next year, a day before the start day in the next month."""
    year_, month_ = int(year), int(month)
    if day is None and start_month is not None and month_ < int(start_month):
        year_ += 1  # 2024-12/01
    elif day is not None and start_day is not None and int(day) < int(start_day):
        month_ += 1  # 2024-01-30/02
    elif day is not None and start_month is not None and month_ < int(start_month):
        year_ += 1  # 2024-12-31/01-05
    if month_ == 13:
        year_, month_ = year_ + 1, 1
    return year_, month_, None if day is None else int(day)


def _year_last(first: str, second: str, year: str) -> tuple[str, str, str] | None:
    """A numeric date with a four-digit year last, as (year, month, day) where it can only be
    one day: a first number over 12 cannot be a month, so it is the day (15/03/2022); a second
    number over 12 makes the first the month (03/15/2022); the same number twice is the same
    day either way (05/05/2022). None where both readings are days (03/01/2022: 1 March or
    3 January), which is then refused as ambiguous. Two numbers over 12 (13/14/2022) are read
    day first and so refused as a date that does not exist."""
    if int(first) > 12 or first.lstrip("0") == second.lstrip("0"):
        return year, second, first
    if int(second) > 12:
        return year, first, second
    return None


def _cn_number(text: str) -> int:
    """1-31 in Chinese numerals: 五, 十, 十五, 二十, 三十一."""
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[text]


def _digit_dates(text: str) -> str:
    """``text`` with full-width digits made ASCII, dates in Chinese numerals in digits and a
    span of two years (2021-22) as its later year."""
    text = unicodedata.normalize("NFKC", text)

    def digits(match):
        try:
            out = "".join(str(_CN_DIGITS[c]) for c in match[1]) + "年"
            if match[2]:
                out += f"{_cn_number(match[2])}月"
            if match[3]:
                out += f"{_cn_number(match[3])}日"
            return out
        except KeyError:  # not a number in a form this reads: left for _UNREAD_DATE
            return match[0]
    text = _CN_DATE.sub(digits, text)
    # 2011-12 is December 2011, not 2011-2012: a dash before a possible month is a month
    return _YEAR_SPAN.sub(lambda m: str(int(m[1]) + 1)
                          if int(m[2]) == (int(m[1]) + 1) % 100
                          and (m[0][4] != "-" or int(m[2]) > 12) else m[0], text)


def _iso_dates(text: str) -> str:
    """``text`` with dates written otherwise (:data:`_WRITTEN_DATES`) rewritten as
    YYYY-MM[-DD]."""
    text = _digit_dates(text)
    for pattern, parts, day_first in _WRITTEN_DATES:
        def iso(match, parts=parts, day_first=day_first):
            if (found := parts(match)) is None:  # two days it could be: left to be refused
                return match[0]
            year, month, day = found
            if day_first and not _DAY_AFTER.search(match.string[:match.start()]):
                # "Table 3 March 2025": the 3 is not a day; keep it, read the month
                return f"{match.group(1)} {year}-{int(month):02d}"
            return f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")
        text = pattern.sub(iso, text)
    return text


def _period_end(year: int, month: int | None, day: int | None) -> date:
    if month is None:
        return date(year, 12, 31)
    if day is None:
        if not 1 <= month <= 12:
            raise ValueError(f"month {month}")
        return date(year, month, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _end_of_period(text: str) -> date | None:
    """The end of the *latest* period ``YYYY[-MM[-DD]]`` named in ``text`` (None if none);
    dates written otherwise (``2022年3月1日``, ``1 March 2022``, ``2025/03/01``) count as the
    same. The latest, because a source is often named with its reference year before its
    publication date ("2024年统计公报 2025年3月15日", "bulletin 2023 (published 15 March
    2024)"): taking the first would let a value be used before it was out.
    Raises :class:`DateError` for a date that does not exist (``2025-02-30``), a numeric
    date that could be two days (``03/01/2025``, ``15/03/25``) and a date this cannot read
    (``113年3月15日``): read as the year of another date in the text, it could count a value
    early."""
    rewritten = _iso_dates(text or "")
    rest = _ISO_MONTH_OR_DAY.sub(" ", rewritten)  # what is left once the dates read are out
    if ambiguous := _AMBIGUOUS_DATE.search(rest):
        why = ("a two-digit year: 15/03/25 is 15 March 2025 or 25 March 2015"
               if re.search(r"[/.-]\d{2}$", ambiguous[0])
               else "03/01/2025 is 1 March or 3 January")
        raise DateError(f"has an ambiguous numeric date ('{ambiguous[0]}': {why})",
                        "YYYY-MM-DD, the month in words (3 January 2025), or a day over 12 "
                        "with a four-digit year (15/03/2025)")
    if _UNREAD_DATE.search(rest):
        raise DateError(f"has a date this cannot read ('{_UNREAD_DATE.search(rest)[0].strip()}')",
                        "YYYY-MM-DD, YYYY-MM or YYYY (or 2025年3月1日, 1 March 2025), "
                        "optionally with a note")
    try:
        ends = [_period_end(*(int(g) if g else None for g in match.groups()))
                for match in _DATE.finditer(rewritten)]
    except ValueError:
        raise DateError("names a date that does not exist",
                        "YYYY, YYYY-MM or YYYY-MM-DD (a real date), optionally with a note"
                        ) from None
    return max(ends) if ends else None


def is_lower_grade(grade) -> bool:
    """True for a grade below "official media" (a copy of an official text on another site, a
    compiled dataset, an article) or none: the data README asks outputs to say so."""
    return reliability_rank(grade if isinstance(grade, str) else "") > \
        RELIABILITY_GRADES.index("official media")


def reliability_rank(grade: str) -> int:
    """Position of a reliability grade in :data:`RELIABILITY_GRADES` (lower is better);
    a grade is matched by its longest known prefix, unknown or empty grades rank last."""
    text = (grade or "").strip().lower()
    best, best_len = len(RELIABILITY_GRADES), -1
    for rank, known in enumerate(RELIABILITY_GRADES):
        if text.startswith(known) and len(known) > best_len:
            best, best_len = rank, len(known)
    return best


def read_raw_file(path: Path, registry: Registry, origin: str = "shipped") -> pd.DataFrame:
    """Read and validate one raw CSV; every problem is an :class:`InputError` naming the
    file, the line and the field. Values are converted to the catalogue unit."""
    if not path.is_file():
        raise InputError(path, "file not found")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})", line=line,
                         expected="a UTF-8 encoded CSV (save as 'CSV UTF-8' in Excel)") from None
    if not text.strip():
        raise InputError(path, "the file is empty", expected="a header line and data rows")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    _refuse_other_delimiters(path, header, text)
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(path, f"repeated column(s) {', '.join(repeated)}", line=1,
                         expected="each column once")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", line=1,
                         expected="columns " + ", ".join(REQUIRED_COLUMNS))
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise InputError(path, f"unknown column(s) {', '.join(unknown)}", line=1,
                         expected="only " + ", ".join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS))
    rows = [_validate_row(row, path, line, registry, origin)
            for line, row in csv_records(reader, header, path)]
    if not rows:
        raise InputError(path, "no data rows", expected="at least one row under the header")
    return pd.DataFrame(rows)


def csv_records(reader, header: list[str], path: Path):
    """The lines of ``reader`` after its ``header``: ``(line number, {column: stripped
    cell})`` each, blank lines skipped; a line with another number of fields than the header
    is an :class:`InputError` at its line (every CSV the suite reads is checked so)."""
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise InputError(path, f"{len(cells)} fields where the header has {len(header)}",
                             line=line, expected="one value per column (quote fields with commas)")
        yield line, dict(zip(header, (c.strip() for c in cells)))


#: what a CSV is separated by where not by commas: Excel writes semicolons where the decimal
#: separator is a comma, a copy from a spreadsheet into a text file gives tabs
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs"}


def _refuse_other_delimiters(path: Path, header: list[str], text: str) -> None:
    """Raise where the header read with commas lacks a required column but split on a
    semicolon or a tab has them all: said as "missing column(s) region, indicator, ...", the
    delimiter goes unnoticed. Such a file is not read with its delimiter: Excel writes
    semicolons where the decimal separator is a comma, so its 1,234 means 1.234, which the
    comma rule for thousands would read as 1234 (a factor of 1000 that no check here is sure
    to catch); re-saved with commas, its numbers are written with decimal points."""
    if all(c in header for c in REQUIRED_COLUMNS):
        return
    first_line = text.splitlines()[0]
    for delimiter, name in _OTHER_DELIMITERS.items():
        if delimiter in first_line and all(
                c in {h.strip() for h in next(csv.reader([first_line], delimiter=delimiter))}
                for c in REQUIRED_COLUMNS):
            raise InputError(path, f"the file appears to be separated by {name}; the suite "
                             "reads comma-separated files", line=1,
                             expected="columns separated by commas and numbers with a decimal "
                                      "point (3.9, not 3,9): in Excel, Save As 'CSV UTF-8 "
                                      "(Comma delimited)'")


def _validate_row(row: dict, path: Path, line: int, registry: Registry, origin: str) -> dict:
    for column in ("region", "indicator", "source_title", "source_url", "vintage"):
        if not row[column].strip():
            raise InputError(path, f"empty '{column}'", line=line, field=column,
                             expected="every value carries its region, indicator, source and "
                                      "vintage (which release it is, e.g. 'first release')")
    if row["indicator"] not in registry.indicators:
        raise InputError(path, f"unknown indicator '{row['indicator']}'"
                         f"{did_you_mean(row['indicator'], registry.indicators)}", line=line,
                         field="indicator",
                         expected=f"an indicator id of {registry.path.name} ("
                                  f"{', '.join(sorted(registry.indicators))})")
    indicator = registry.indicators[row["indicator"]]
    if not re.fullmatch(r"\d{4}", row["year"]) or not MIN_YEAR <= int(row["year"]) <= MAX_YEAR:
        raise InputError(path, f"year '{row['year']}' is not a plausible year", line=line,
                         field="year", expected=f"an integer between {MIN_YEAR} and {MAX_YEAR}")
    text = row["value"]
    # A comma is a thousands separator only in the 1,234,567.8 pattern; "3,9" (a decimal
    # comma) must not silently become 39.
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    try:
        value = float(text) if text else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(path, f"value '{row['value']}' is not a number", line=line, field="value",
                         expected="a finite number with a decimal point, without units or notes "
                                  "(put those in 'quote')")
    factor = registry.conversion_factor(row["unit"], indicator.id)
    if factor is None:
        raise InputError(path, f"unit '{row['unit']}' does not match indicator "
                         f"'{indicator.id}'", line=line, field="unit",
                         expected=f"'{indicator.unit}' or a conversion listed in the registry")
    value *= factor
    if not indicator.in_bounds(value):
        raise InputError(path, f"value {row['value']} {row['unit']} is out of range for "
                         f"'{indicator.id}'", line=line, field="value",
                         expected=indicator.bounds_text())
    grade = (row.get("reliability") or "").strip()
    if grade and reliability_rank(grade) == len(RELIABILITY_GRADES):
        # an unknown grade would silently rank last and lose every vintage contest
        raise InputError(path, f"reliability '{grade}' is not a known grade", line=line,
                         field="reliability", expected="one of " + ", ".join(RELIABILITY_GRADES)
                         + " (optionally followed by a note), or empty")
    try:
        published = _end_of_period(row["published"])
    except DateError as exc:
        raise InputError(path, f"published '{row['published']}' {exc}", line=line,
                         field="published", expected=exc.expected) from None
    assumed = published is None
    if assumed:
        published = date(int(row["year"]) + 1, 12, 31)
    elif published.year < int(row["year"]):
        raise InputError(path, f"published '{row['published']}' is before the year {row['year']} "
                         "the value is for", line=line, field="published",
                         expected="a publication date in or after the value's year (a plan's "
                                  "target is not data: it goes in the plan's plan.yaml)")
    return {
        "region": row["region"], "indicator": indicator.id, "year": int(row["year"]),
        "value": value, "unit": indicator.unit, "raw_value": row["value"], "raw_unit": row["unit"],
        "vintage": row["vintage"], "published": row["published"], "available": published,
        "published_assumed": assumed,
        "preliminary": bool(_PRELIMINARY.search(row["vintage"])),
        "reliability": row.get("reliability") or ("user supplied" if origin == "user" else ""),
        "quote": row.get("quote", ""), "source_title": row["source_title"],
        "source_url": row["source_url"], "origin": origin, "source_file": str(path),
        "source_line": line,
    }


def raw_files(root: Path | None = None, registry: Registry | None = None
              ) -> list[tuple[Path, str]]:
    """The raw CSV files: shipped, then the plan's own (``data/`` beside its plan.yaml, read
    like shipped data), then the user's, each sorted by name.

    Anything else in those folders (a subfolder, ``data.xlsx``) is an error rather than
    silently skipped: a user who put data there expects it to be used. Hidden files and
    README files are left alone."""
    base = raw_dir(root)
    folders = [(base / "series", "shipped")]
    if registry is not None:
        folders.append((registry.plan.data_dir, "shipped"))
    folders.append((base / "user", "user"))
    out = []
    for folder, origin in folders:
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.name.startswith(".") or path.name.upper().startswith("README"):
                continue
            if not path.is_file() or path.suffix.lower() != ".csv":
                raise InputError(path, "not a CSV data file", expected=f"only *.csv files in "
                                 f"{folder} (move this elsewhere)")
            out.append((path, origin))
    return out


def load_vintages(root: Path | None = None, registry: Registry | None = None,
                  files: list[tuple[Path, str]] | None = None) -> pd.DataFrame:
    """Every validated raw row (all vintages) of ``files`` (default :func:`raw_files`),
    values in catalogue units.

    Raises :class:`InputError` on the first bad row and on duplicate
    (region, indicator, year, vintage) keys, naming both places.
    """
    registry = registry or load_registry(None, root)
    files = raw_files(root, registry) if files is None else files
    if not files:
        raise InputError(raw_dir(root) / "series", "no raw CSV files found",
                         expected="data/raw/series/*.csv")
    frame = pd.concat([read_raw_file(p, registry, origin) for p, origin in files],
                      ignore_index=True)
    key = ["region", "indicator", "year", "vintage"]
    dupes = frame[frame.duplicated(key, keep=False)]
    if not dupes.empty:
        first, second = dupes.iloc[0], dupes[(dupes[key] == dupes.iloc[0][key]).all(axis=1)].iloc[1]
        raise InputError(second["source_file"], f"duplicate of {first['source_file']} line "
                         f"{first['source_line']}: {first['region']} {first['indicator']} "
                         f"{first['year']} vintage '{first['vintage']}'",
                         line=int(second["source_line"]), field="vintage",
                         expected="one row per (region, indicator, year, vintage); give a "
                                  "revised value its own vintage label")
    _check_region_spellings(frame)
    _check_magnitudes(frame, registry)
    return frame


def check_added(vintages: pd.DataFrame, added: pd.DataFrame, registry: Registry,
                today: date) -> list[str]:
    """What ``forecast data add`` holds a new file's rows (``added``, part of ``vintages``)
    to beyond the per-row checks. Raises :class:`InputError` for a publication date after
    this year (a typo that would otherwise wait silently for its date); returns notes on rows
    that pass but are likely mistakes: dated before their year is over (right for a
    mid-year stock, not for a total or share over the year), in a region no other row or
    target uses (``杭州`` for ``Hangzhou``: never read for the plan), or sharing a year and
    date with another row of a different value (only one of them is taken)."""
    # a period counts from its end (a bare year from 31 December), so only a date past this
    # year's end is certainly wrong; an assumed date (no 'published') is the suite's own
    year_end = date(today.year, 12, 31)
    for _, r in added[(added["available"] > year_end) & ~added["published_assumed"]].iterrows():
        raise InputError(r["source_file"], f"the {r['year']} value is dated {r['available']}, "
                         f"after this year ({today.year})", line=int(r["source_line"]),
                         field="published", expected="the date the figure was published")
    notes = []
    for _, r in added[added["available"] < added["year"].map(lambda y: date(int(y), 12, 31))
                      ].iterrows():
        notes.append(f"line {r['source_line']}: the {r['year']} value counts from "
                     f"{r['available']}, before its year was over: right for a mid-year stock, "
                     "not for a total or a share over the year")
    others = vintages[~vintages["source_file"].isin(added["source_file"])]
    known = set(others["region"]) | {t.region for t in registry.targets.values()}
    for region in sorted(set(added["region"]) - known):
        notes.append(f"region '{region}' is new: no other row or target is in it, so its rows "
                     f"reach no forecast of {registry.plan.region}'s targets (regions "
                     f"are named as in data/raw, e.g. {registry.plan.region})")
    for _, r in added.iterrows():
        # a value typed ten times too big or small (39.5 for 3.95) is far inside the
        # magnitude check's x30 of the series: held against its nearest sourced year instead
        # the same year (a retyped revision) or the nearest within three; zeros compare with
        # nothing (a ratio to or from zero says no more than the bounds check did)
        near = others[(others["region"] == r["region"]) & (others["indicator"] == r["indicator"])
                      & ((others["year"] - r["year"]).abs() <= 3) & (others["value"] != 0)]
        if near.empty or r["value"] == 0:
            continue
        o = near.loc[(near["year"] - r["year"]).abs().idxmin()]
        ratio = r["value"] / o["value"]
        if not 1 / JUMP_LIMIT <= ratio <= JUMP_LIMIT:
            notes.append(f"line {r['source_line']}: {r['indicator']} {r['year']} = "
                         f"{r['value']:g} is {ratio:.3g}x the {o['year']} value {o['value']:g} "
                         f"({Path(o['source_file']).name}): a wrong unit or a typo?")
    key = ["region", "indicator", "year", "available"]
    for _, r in added.iterrows():
        same = vintages[(vintages[key] == r[key]).all(axis=1) & (vintages["value"] != r["value"])]
        for _, o in same.iterrows():
            notes.append(f"line {r['source_line']}: {r['indicator']} {r['year']} = {r['value']:g} "
                         f"counts from the same date as {o['value']:g} in "
                         f"{Path(o['source_file']).name} line {o['source_line']}: only one is "
                         "taken (`forecast data show` says which)")
    return notes


def _check_region_spellings(frame: pd.DataFrame) -> None:
    """``hangzhou`` next to ``Hangzhou`` would silently be a region of its own, and its rows
    would never reach a Hangzhou forecast: one spelling per region (the most used one)."""
    counts = frame["region"].value_counts()
    for _, spellings in counts.groupby(counts.index.str.strip().str.lower()):
        if len(spellings) > 1:
            known = spellings.idxmax()
            other = next(r for r in spellings.index if r != known)
            r = frame[frame["region"] == other].iloc[0]
            raise InputError(r["source_file"], f"region '{other}' is spelt '{known}' in "
                             f"{spellings[known]} other rows", line=int(r["source_line"]),
                             field="region", expected=f"'{known}'")


#: ``data add`` notes a value this many times above or below the same series' value in the
#: same year or the nearest within three (a misplaced decimal point; a real jump of x3 is rare)
JUMP_LIMIT = 3.0
#: a value this many times off its series' median is taken for a wrong unit (a fraction for a
#: percent is x100, yuan for 10k yuan x10,000); real series here span well under x20
MAGNITUDE_LIMIT = 30.0


def _check_magnitudes(frame: pd.DataFrame, registry: Registry) -> None:
    """A value whose unit label is right but whose size is not (0.037 labelled % where the
    series runs near 3.9) passes every per-row check. Each value is held against the plan's
    targets for its indicator in its region where there are any (so a series typed wrong
    throughout is caught too, and the wrong rows are named, not the right one), else against
    its series' median (3 rows or more); other regions' series and short series without
    targets go unchecked. Raises :class:`InputError` naming the row."""
    positive = frame[frame["value"] > 0]
    for (region, indicator), group in positive.groupby(["region", "indicator"]):
        targets = [t.value for t in registry.targets_for(indicator)
                   if t.region == region and t.value > 0]
        if targets:
            reference = float(np.median(targets))
            against = (f"the plan's target ({reference:g})" if len(set(targets)) == 1 else
                       f"the plan's targets ({', '.join(f'{v:g}' for v in targets)})")
        elif len(group) >= 3:
            reference = float(group["value"].median())
            against = f"the median ({reference:.4g})"
        else:
            continue
        ratio = group["value"] / reference
        off = group[(ratio > MAGNITUDE_LIMIT) | (ratio < 1 / MAGNITUDE_LIMIT)]
        if not off.empty:
            r = off.iloc[0]
            unit = r["unit"]
            raise InputError(r["source_file"], f"value {r['raw_value']} {r['raw_unit']} is "
                             f"{r['value'] / reference:.3g} times {against} of {r['region']} "
                             f"{r['indicator']} (in {unit}): a wrong unit?",
                             line=int(r["source_line"]), field="value",
                             expected=f"a value in {unit}" + (" (e.g. 3.9 for 3.9%, not 0.039)"
                                                             if unit == "%" else ""))


def select_vintages(vintages: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """One row per (region, indicator, year): the value the vintage rule (module docstring)
    takes among the rows available on ``as_of``; ``n_vintages`` counts the candidates."""
    available = vintages[vintages["available"] <= as_of].copy()
    # Why this order: a user's own series is there to override; a better grade beats a later
    # copy (a compilation committed in 2023 is not a 2023 statistical revision); within a
    # grade the latest publication is the revision.
    available["_user_first"] = (available["origin"] != "user").astype(int)
    available["_grade"] = available["reliability"].map(reliability_rank)
    available["_order"] = np.arange(len(available))
    key = ["region", "indicator", "year"]
    available = available.sort_values(["_user_first", "_grade", "available", "_order"],
                                      ascending=[True, True, False, True], kind="stable")
    counts = available.groupby(key).size().rename("n_vintages")
    chosen = available.drop_duplicates(key, keep="first").join(counts, on=key)
    chosen["derivation"] = ""
    return chosen.sort_values(key, kind="stable")[PANEL_COLUMNS].reset_index(drop=True)


def derive(panel: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Add rows of derived indicators (``derived`` in the catalogue) for every region and
    year where both components are in ``panel`` and the ratio itself is not published.
    The rule and the components' vintages are recorded in ``derivation`` and ``vintage``."""
    added = []
    for indicator in registry.indicators.values():
        rule = indicator.derived
        if rule is None:
            continue
        num = panel[panel["indicator"] == rule.numerator].set_index(["region", "year"])
        den = panel[panel["indicator"] == rule.denominator].set_index(["region", "year"])
        published = set(map(tuple, panel.loc[panel["indicator"] == indicator.id,
                                              ["region", "year"]].to_numpy()))
        for key in num.index.intersection(den.index):
            if key in published:
                continue
            n, d = num.loc[key], den.loc[key]
            added.append({
                "region": key[0], "indicator": indicator.id, "year": key[1],
                "value": rule.factor * n["value"] / d["value"], "unit": indicator.unit,
                "vintage": f"{rule.numerator}: {n['vintage']} | {rule.denominator}: {d['vintage']}",
                "published": f"{n['published']} | {d['published']}",
                "available": max(n["available"], d["available"]),
                "published_assumed": bool(n["published_assumed"] or d["published_assumed"]),
                "preliminary": bool(n["preliminary"] or d["preliminary"]),
                "reliability": max((n["reliability"], d["reliability"]), key=reliability_rank),
                "source_title": f"derived: {rule.describe()}",
                "source_url": f"{n['source_url']} | {d['source_url']}", "origin": "derived",
                "source_file": "", "source_line": 0, "n_vintages": 1,
                "derivation": f"{indicator.id} = {rule.describe()} (catalogue units)",
            })
    if not added:
        return panel
    out = pd.concat([panel, pd.DataFrame(added, columns=PANEL_COLUMNS)], ignore_index=True)
    return out.sort_values(["region", "indicator", "year"], kind="stable").reset_index(drop=True)


@dataclass
class Dataset:
    """The validated history as of a date: all vintages, the chosen panel and the registry."""

    registry: Registry
    vintages: pd.DataFrame
    panel: pd.DataFrame
    as_of: date
    data_hash: str

    @property
    def region(self) -> str:
        """The plan's region: what every series is read for unless told otherwise."""
        return self.registry.plan.region

    def series(self, indicator: str, region: str | None = None) -> pd.Series:
        """The chosen values of one indicator in one region (default: the plan's), indexed by
        year (gaps stay gaps)."""
        self.registry.indicator(indicator)
        region = region or self.region
        rows = self.panel[(self.panel["indicator"] == indicator) & (self.panel["region"] == region)]
        return rows.set_index("year")["value"].rename(indicator)

    def linked_series(self, indicator: str, region: str | None = None
                      ) -> tuple[pd.Series, list[SeriesBreak]]:
        """What the models fit: :meth:`series` with the years before each break it spans that
        has an estimated revision (``breaks`` in the catalogue) multiplied by the break's
        :attr:`~forecast.targets.SeriesBreak.link_factor`, so that a census revision is not
        read as a year of growth; and the breaks so linked. A value for an earlier year first
        available once the break year's first figure was (a revised 2023 released with 2024)
        is on the new basis already and stays. Published values, for charts, observed years
        and quoted figures, stay :meth:`series`."""
        region = region or self.region
        values = self.series(indicator, region)
        available = self.rows(indicator, region).set_index("year")["available"]
        releases = self.vintages[(self.vintages["indicator"] == indicator)
                                 & (self.vintages["region"] == region)
                                 & (self.vintages["available"] <= self.as_of)]
        links = []
        for brk in self.registry.breaks(indicator, region):
            if brk.link_factor is not None and brk.spanned_by(values):
                # the first release of a year on the new basis
                new_basis_from = releases.loc[releases["year"] >= brk.year, "available"].min()
                old = (values.index < brk.year) & (available.reindex(values.index)
                                                   < new_basis_from).to_numpy()
                values = values.where(~old, values * brk.link_factor)
                links.append(brk)
        return values, links

    def rows(self, indicator: str, region: str | None = None) -> pd.DataFrame:
        """The chosen panel rows of one series, with their provenance columns."""
        region = region or self.region
        return self.panel[(self.panel["indicator"] == indicator)
                          & (self.panel["region"] == region)].reset_index(drop=True)


def data_hash(root: Path | None = None, registry: Registry | None = None) -> str:
    """SHA-256 over the names and bytes of every input: the catalogue, the plan's registry
    and text, and every raw CSV (shipped, the plan's own, the user's)."""
    registry = registry or load_registry(None, root)
    digest = hashlib.sha256()
    base = (root or project_root()).resolve()
    plan = registry.plan
    inputs = [catalogue_path(root), plan.path] + ([plan.text] if plan.text else []) + \
        [p for p, _ in raw_files(root, registry)]
    for path in inputs:
        path = path.resolve()
        # names relative to the project (a plan folder elsewhere by its folder's name), so
        # that the same inputs hash alike in every clone
        try:
            name = path.relative_to(base).as_posix()
        except ValueError:
            name = f"{path.parent.name}/{path.name}"
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load(as_of: str | int | date | None = None, root: Path | None = None,
         plan: str | Path | None = None) -> Dataset:
    """Validate the data and return the :class:`Dataset` of ``plan`` (default
    :data:`forecast.plans.DEFAULT_PLAN`) as of ``as_of`` (default today).

    Every command goes through here, so nothing ever runs on unvalidated or stale data.
    """
    as_of = parse_as_of(as_of)
    registry = load_registry(plan, root)
    digest = data_hash(root, registry)
    vintages = _validated_vintages(root, registry, digest)
    panel = derive(select_vintages(vintages, as_of), registry)
    return Dataset(registry, vintages, panel, as_of, digest)


def _validated_vintages(root: Path | None, registry: Registry, digest: str) -> pd.DataFrame:
    """:func:`load_vintages`, kept once validated under data/processed/cache keyed by the data
    hash (every input file's bytes) and the validating code: the same inputs are validated
    once, not on every command. Invalid data are never cached (they raise before), and a
    cache that cannot be read or written is skipped."""
    from . import cache
    code = hashlib.sha256(b"".join((Path(__file__).parent / name).read_bytes() for name in (
        "data.py", "targets.py", "plans.py"))).hexdigest()[:16]
    key = f"{digest[:32]}-{code}"
    vintages = cache.read("vintages", key)
    if vintages is None:
        vintages = load_vintages(root, registry)
        cache.write("vintages", key, vintages)
    return vintages


def _shown(path: Path, root: Path | None) -> str:
    """``path`` relative to the project where it is inside it."""
    try:
        return path.resolve().relative_to((root or project_root()).resolve()).as_posix()
    except ValueError:
        return str(path)


def json_ready(value):
    """``value`` with numpy and pandas scalars, arrays, dates and non-finite floats turned
    into what JSON holds (NaN and inf as null), through dicts, lists and tuples."""
    if isinstance(value, np.ndarray):
        return [json_ready(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:  # before dates: NaT is one
        return None
    if isinstance(value, (date, pd.Timestamp)):
        return value.isoformat()
    return value


def write_atomically(path: Path, write) -> None:
    """Write through ``write(tmp_path)`` to a temporary file beside ``path``, then rename:
    a crash leaves the previous file in place."""
    staged = _stage(path, write)
    try:
        os.replace(staged, path)
    finally:
        if staged.exists():
            staged.unlink()


def _stage(path: Path, write) -> Path:
    """``write`` into a temporary file beside ``path`` with the permissions a new file would
    get (mkstemp makes it owner-only); returns its path (the caller renames or removes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise InputError(path, "is a directory", expected="a file path to write to")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def build(as_of: str | int | date | None = None, root: Path | None = None,
          plan: str | Path | None = None) -> dict:
    """Validate raw data and write ``data/processed/``: ``panel.parquet`` / ``panel.csv``
    (chosen vintage per value, derived rows included), ``vintages.parquet`` (every validated
    row) and ``build.json`` (as_of, data hash, rule). Validation happens before anything is
    written, and each file is replaced atomically, so a failed build changes nothing."""
    dataset = load(as_of, root, plan)
    out = processed_dir(root)
    info = {
        "as_of": dataset.as_of.isoformat(), "data_hash": dataset.data_hash,
        "rows_raw": len(dataset.vintages), "rows_panel": len(dataset.panel),
        "derived_rows": int((dataset.panel["origin"] == "derived").sum()),
        "plan": dataset.registry.plan.id,
        "files": [_shown(p, root) for p, _ in raw_files(root, dataset.registry)],
        "vintage_rule": "user rows first; best reliability grade; latest publication; file order "
                        "(see forecast.data module docstring)",
    }
    panel = dataset.panel.assign(available=dataset.panel["available"].astype(str))
    vintages = dataset.vintages.assign(available=dataset.vintages["available"].astype(str))
    writers = {"vintages.parquet": lambda p: vintages.to_parquet(p, index=False),
               "panel.parquet": lambda p: panel.to_parquet(p, index=False),
               "panel.csv": lambda p: panel.to_csv(p, index=False),
               "build.json": lambda p: p.write_text(json.dumps(info, indent=2, ensure_ascii=False))}
    # every file is written (and every destination checked) before any is replaced, so a
    # failure leaves the previous set whole rather than half old, half new
    staged = {}
    try:
        for name, write in writers.items():
            staged[name] = _stage(out / name, write)
        for name, tmp in staged.items():
            os.replace(tmp, out / name)
    finally:
        for tmp in staged.values():
            if tmp.exists():
                tmp.unlink()
    return info
