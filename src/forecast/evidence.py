"""Real plan targets as evidence: how the suite would have done on targets whose outcome is known.

A probability of hitting a target is judged best on real targets whose year is now observed,
scored as the suite would have given them at the time. ``data/raw/plan_targets.csv`` holds such
targets (R&D intensity targets of China, its provinces, Hangzhou, the EU and its members, each
with its source and quote; ``plan_targets.md`` says how they were collected). This module

1. reads and validates the file (:func:`load_plan_targets`; an error names the file, the line
   and the field);
2. attaches each target's outcome from the shipped series and leaves out, with the reason,
   targets without an outcome and duplicates of one (region, year) from different plans
   (:func:`attach_outcomes`);
3. scores P(value in the target year >= target) made ``lead`` years before the target year
   (origin = target year - lead) by several forecasters, each given only the data as they
   stood at the end of the origin year (:func:`dataset_at_origin`, :func:`score_targets`);
4. summarises the scores: Brier score with a bootstrap interval that resamples whole target
   years, mean P against the observed frequency of hits (:func:`brier_table`,
   :func:`paired_table`).

Reading "about" as ">="
-----------------------
Six targets are worded "about X" (左右, "around", "approaching 3%"). They are scored as
"at least X" (``comparison_read`` says so for every row), for three reasons:

* it is how the plans' own reviews read them: Hangzhou's 2020 review lists its 2019 target
  "3.4左右" beside the outcome "3.4左右" as met, and a government reports an outcome above an
  "about" target as met, never as missed for being too high; a two-sided "X plus or minus a
  tolerance" would count overshooting as failure;
* "= X" is no event for a continuous forecast (its probability is 0), and a tolerance below X
  ("at least X - 0.1") would be a number the text does not give, chosen by us;
* the suite's registry itself accepts only ``>=``, ``<=`` and ``=`` (at a bound), so a plan's
  "about" target is entered as ``>=`` in practice; scoring the same reading is scoring the
  product.

The price is that an outcome a hair below an "about" target counts as a miss; the scored table
keeps ``comparison`` as written, so such rows can be counted. In the shipped file one is:
Zhejiang 2011, 1.85 against "about 1.9"; two "about" targets were met exactly (Shanghai 2019
at 4.0, Hangzhou 2019 at 3.4), so a reading "at least X minus a tolerance" would add one hit.

What "as the suite would have given it then" means
--------------------------------------------------
At an origin ``o`` a forecaster sees the whole panel as published by 31 December of ``o``
(:func:`forecast.data.select_vintages`, the same rule as ``forecast run --as-of o-12-31``),
and only years up to ``o``. Annual statistics appear in the following year, so the last year
known is usually ``o - 1``. The only exception: a value whose shipped rows all come from a
*compilation* published after the origin (the World Bank and Eurostat files of the EU series,
graded ``compiled dataset``) is taken as known from 31 December of the year after its own (the
suite's rule for a value without a date), with the compilation's revised figure. Without that
stand-in no European target could be scored at all; the scored rows count how many such
values each forecast rests on (``n_revised``). The default ensemble's weights come from a
backtest on the cut series only (:func:`forecast.simulation.fit_component`), so nothing after
the origin informs a forecast.

Adding a forecaster
-------------------
A forecaster is a name and a callable that takes a :class:`Cut` (the dataset at the origin,
the region, the indicator, the last year to simulate, paths and seed) and returns a
:class:`Predictive` (anything with ``p_at_least(year, level)``). A :class:`~forecast.models.
base.Model` built from the cut dataset becomes one with :func:`model_forecaster`; a pooled
family whose constructor takes the panel of the other regions is one line::

    forecasters = {**evidence.forecasters(),
                   "pooled_eb": evidence.model_forecaster(
                       lambda ds, region, ind: PooledEB.for_region(ds, ind, region))}

A series shorter than a forecaster's ``min_points`` at the origin gets no probability from it
and is counted as ``too short``; a forecaster that fails is counted as ``failed``, with the
reason. Neither is dropped silently.
"""
from __future__ import annotations

import argparse
import csv
import functools
import io
import math
import re
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Mapping, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from .coverage import MIN_POINTS_PROBABILITY
from .data import (DateError, Dataset, _end_of_period, csv_records, derive, raw_dir,
                   select_vintages)
from .errors import InputError
from .models.base import Model, ModelFailure, Series
from .probability import DEFAULT_SEED
from .transforms import Transform

PLAN_TARGETS_FILE = "plan_targets.csv"
REQUIRED_COLUMNS = ("region", "indicator", "target_year", "value", "comparison", "unit",
                    "plan_title", "issuing_body", "plan_published", "source_title",
                    "source_url", "published", "reliability", "quote", "note")
#: how each comparison of the file is scored (see the module doc for "about")
COMPARISONS = {">=": ">=", "about": ">="}
#: years before the target year at which P is scored
LEADS = (3, 4, 5)
#: fewest points (of the gap-free run the statsforecast models are fitted to) for a probability
#: from them: below it AutoETS refuses ("tiny datasets") and an ARIMA order is a guess
SF_MIN_POINTS = 5
#: the grade of values that reached the shipped files only through a later compilation
COMPILED = "compiled dataset"
#: bootstrap replicates of the Brier intervals
N_BOOT = 2000


# --------------------------------------------------------------------------- the targets

def plan_targets_path(root: Path | None = None) -> Path:
    """``data/raw/plan_targets.csv`` of the project."""
    return raw_dir(root) / PLAN_TARGETS_FILE


def load_plan_targets(dataset: Dataset, path: str | Path | None = None) -> pd.DataFrame:
    """The validated targets of ``path`` (default ``data/raw/plan_targets.csv``), one row per
    line of the file, with ``line`` (its line in the file), ``comparison_read`` (how it is
    scored: ``>=`` for both ``>=`` and ``about``) and ``issued`` (the end of the period named
    in ``plan_published``, None where it names none).

    Every row's indicator must be in the catalogue, its unit the indicator's, its value within
    the indicator's bounds and its region one of the shipped data's regions for that
    indicator; anything else raises :class:`InputError` naming the file, line and field."""
    path = Path(path) if path is not None else plan_targets_path()
    if not path.is_file():
        raise InputError(path, "file not found", expected="the sourced plan targets "
                         "(data/raw/plan_targets.csv)")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})",
                         expected="a UTF-8 encoded CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(path, "the file is empty", expected="a header line and rows") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", line=1,
                         expected="columns " + ", ".join(REQUIRED_COLUMNS))
    registry = dataset.registry
    regions = dataset.vintages.groupby("indicator")["region"].agg(set).to_dict()
    rows = [_validate_target(row, path, line, registry, regions)
            for line, row in csv_records(reader, header, path)]
    if not rows:
        raise InputError(path, "no target rows", expected="at least one row under the header")
    return pd.DataFrame(rows)


def _validate_target(row: dict, path: Path, line: int, registry, regions: dict) -> dict:
    def bad(field_: str, message: str, expected: str):
        return InputError(path, message, line=line, field=field_, expected=expected)

    for column in ("region", "indicator", "plan_title", "source_url", "quote"):
        if not row[column]:
            raise bad(column, f"empty '{column}'", "every target carries its region, "
                      "indicator, plan, source and the quote it was read in")
    if row["indicator"] not in registry.indicators:
        raise bad("indicator", f"unknown indicator '{row['indicator']}'",
                  "an indicator of data/raw/catalogue.yaml")
    indicator = registry.indicators[row["indicator"]]
    known = regions.get(indicator.id, set())
    if row["region"] not in known:
        from .targets import did_you_mean
        raise bad("region", f"region '{row['region']}' has no {indicator.id} series in the "
                  f"shipped data{did_you_mean(row['region'], known)}",
                  f"a region of data/raw/series with {indicator.id} (spelt as there)")
    if not re.fullmatch(r"\d{4}", row["target_year"]):
        raise bad("target_year", f"target_year '{row['target_year']}' is not a year",
                  "a four-digit year")
    try:
        value = float(row["value"])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise bad("value", f"value '{row['value']}' is not a number",
                  "a number with a decimal point, without units (put those in 'unit')")
    if not indicator.in_bounds(value):
        raise bad("value", f"value {value:g} is out of range for {indicator.id}",
                  indicator.bounds_text())
    if row["comparison"] not in COMPARISONS:
        raise bad("comparison", f"comparison '{row['comparison']}' is not known",
                  " or ".join(f"'{c}'" for c in COMPARISONS))
    if row["unit"] != indicator.unit:
        raise bad("unit", f"unit '{row['unit']}' is not {indicator.id}'s",
                  f"'{indicator.unit}'")
    try:
        issued = _end_of_period(row["plan_published"]) if row["plan_published"] else None
    except DateError as exc:
        raise bad("plan_published", f"plan_published '{row['plan_published']}' {exc}",
                  exc.expected) from None
    if issued is not None and issued.year > int(row["target_year"]):
        raise bad("plan_published", f"plan_published '{row['plan_published']}' is after the "
                  f"target year {row['target_year']}", "the date the plan was issued")
    return {"line": line, "region": row["region"], "indicator": indicator.id,
            "target_year": int(row["target_year"]), "value": value,
            "comparison": row["comparison"], "comparison_read": COMPARISONS[row["comparison"]],
            "issued": issued, "plan_published": row["plan_published"],
            "plan_title": row["plan_title"], "reliability": row["reliability"],
            "source_url": row["source_url"]}


@dataclass
class Evidence:
    """The targets that can be scored (``targets``: one per region and year, each with its
    ``outcome`` and ``hit``) and those left out (``left_out``, with the ``reason``)."""

    targets: pd.DataFrame
    left_out: pd.DataFrame
    as_of: date


def attach_outcomes(targets: pd.DataFrame, dataset: Dataset) -> Evidence:
    """Each target with its outcome from ``dataset`` (the shipped series as of its date).

    ``outcome`` is the figure *first* published for the target year among the shipped rows
    (the vintage rule applied on the day the year's first row became available): that is
    what the plan's own review judged the target on, and it is on the basis the target was set
    on. ``outcome_latest`` is the value today's panel holds (a later revision, possibly on a
    census-revised GDP basis: Zhejiang's 2020 R&D intensity is 2.88 in the NBS bulletin and
    2.77 in a 2026 retrospective), ``outcome_linked`` that year on the series the models fit
    (:meth:`~forecast.data.Dataset.linked_series`), which differs only where a catalogue break
    with an estimated revision restates the year on a later basis. ``hit`` is
    ``outcome >= value`` (``comparison_read``), ``hit_latest`` the same against the latest.
    ``group`` is the panel the region belongs to: "Chinese provinces" (a region of the NBS
    file), "EU and members" (of the European file), "China and Hangzhou" (the national
    aggregate and the plan's own region).

    Left out, with the reason: a target whose year has no published value (Hangzhou 2020),
    and every duplicate of a (region, indicator, year) from another plan: the target issued
    earliest is kept (its number existed at more of the origins; a later plan restating it
    adds no event), rows without an issue date rank last, ties keep file order. The reason
    names the kept line and says whether the values differ.
    """
    kept, left = [], []
    for _, t in targets.iterrows():
        published = dataset.series(t["indicator"], t["region"])
        if t["target_year"] not in published.index:
            left.append({**t, "reason": f"no published {t['indicator']} for {t['region']} "
                         f"{t['target_year']} (outcome unknown)"})
            continue
        linked = dataset.linked_series(t["indicator"], t["region"])[0]
        first = first_release(dataset, t["region"], t["indicator"], int(t["target_year"]))
        latest = float(published[t["target_year"]])
        kept.append({**t, "outcome": float(first["value"]),
                     "outcome_published": first["published"],
                     "outcome_preliminary": bool(first["preliminary"]),
                     "outcome_latest": latest,
                     "outcome_linked": float(linked.get(t["target_year"], np.nan)),
                     "hit": bool(first["value"] >= t["value"]),
                     "hit_latest": bool(latest >= t["value"]),
                     "group": _group(t["region"], t["indicator"], dataset)})
    frame = pd.DataFrame(kept)
    order = frame.assign(_unknown=frame["issued"].isna(),
                         _issued=frame["issued"].fillna(date.max))
    order = order.sort_values(["region", "indicator", "target_year", "_unknown", "_issued",
                               "line"], kind="stable")
    key = ["region", "indicator", "target_year"]
    first = order.drop_duplicates(key, keep="first").set_index(key)
    for _, t in order[order.duplicated(key, keep="first")].iterrows():
        k = first.loc[tuple(t[key])]
        same = "the same value" if k["value"] == t["value"] else f"{k['value']:g} there"
        left.append({**t, "reason": f"duplicate of line {k['line']} ({t['region']} "
                     f"{t['target_year']}, {same}), which was issued earlier "
                     f"({k['plan_published'] or 'date unknown'} vs "
                     f"{t['plan_published'] or 'date unknown'})"})
    kept_frame = order.drop_duplicates(key, keep="first").drop(columns=["_unknown", "_issued"])
    kept_frame = kept_frame.sort_values("line").reset_index(drop=True)
    return Evidence(kept_frame, pd.DataFrame(left).reset_index(drop=True), dataset.as_of)


def first_release(dataset: Dataset, region: str, indicator: str, year: int) -> pd.Series:
    """The panel row the vintage rule chose for ``year`` on the day the first of its shipped
    rows became available (the first published figure, among the shipped releases)."""
    v = dataset.vintages
    rows = v[(v["region"] == region) & (v["indicator"] == indicator) & (v["year"] == year)
             & (v["available"] <= dataset.as_of)]
    return select_vintages(rows, rows["available"].min()).iloc[0]


#: the raw files whose regions form a group of their own (by file stem), in this order
GROUP_OF_FILE = {"china_provinces_rd_nbs": "Chinese provinces",
                 "world_rd_intensity": "EU and members"}
#: aggregates that are no member of their file's group
_NATIONAL = ("China",)


def _group(region: str, indicator: str, dataset: Dataset) -> str:
    if region == dataset.region or region in _NATIONAL:
        return "China and Hangzhou" if dataset.region == "Hangzhou" else "national and city"
    v = dataset.vintages
    stems = {Path(str(f)).stem for f in
             v.loc[(v["region"] == region) & (v["indicator"] == indicator), "source_file"]}
    return next((label for stem, label in GROUP_OF_FILE.items() if stem in stems), "other")


# ------------------------------------------------------------------ the data at an origin

def dataset_at_origin(dataset: Dataset, origin: int) -> Dataset:
    """``dataset`` as it stood on 31 December of ``origin``: every series of the panel cut to
    the values published by then (the vintage rule, :func:`forecast.data.select_vintages`)
    and to years up to ``origin``.

    A value whose shipped rows are all graded ``compiled dataset`` and published after the
    origin (a 2026 compilation of figures first released long before) is taken as known
    from 31 December of the year after its own, the suite's rule for a value without a date;
    such rows keep their compiled (revised) figure and are marked ``stand_in`` in the
    returned dataset's ``vintages``. Nothing of a year after ``origin - 1`` is stood in."""
    as_of = date(origin, 12, 31)
    v = dataset.vintages
    key = ["region", "indicator", "year"]
    known = v[(v["available"] <= as_of) & (v["year"] <= origin)].assign(stand_in=False)
    later = v[(v["available"] > as_of) & (v["year"] <= origin - 1)
              & v["reliability"].fillna("").str.lower().str.startswith(COMPILED)]
    known_keys = pd.MultiIndex.from_frame(known[key])
    later = later[~pd.MultiIndex.from_frame(later[key]).isin(known_keys)]
    if not later.empty:
        # the compilation today's panel would take for each missing value
        chosen = select_vintages(later, date.max)[key + ["vintage"]]
        later = later.merge(chosen, on=key + ["vintage"], how="inner")
        later = later.drop_duplicates(key, keep="first").assign(
            available=[date(int(y) + 1, 12, 31) for y in later["year"]],
            published_assumed=True, stand_in=True)
    vintages = pd.concat([known, later], ignore_index=True)
    panel = derive(select_vintages(vintages, as_of), dataset.registry)
    return Dataset(dataset.registry, vintages, panel, as_of, dataset.data_hash)


@dataclass(frozen=True)
class Cut:
    """What a forecaster is given: the dataset at the origin, the region and indicator to
    forecast, the last year to simulate, the number of paths and the seed."""

    dataset: Dataset
    region: str
    indicator: str
    origin: int
    horizon_to: int
    n_paths: int
    seed: int

    @property
    def published(self) -> pd.Series:
        """The values published by the origin (years up to it)."""
        return self.dataset.series(self.indicator, self.region).dropna()

    @property
    def values(self) -> pd.Series:
        """What the suite's models fit: the published values linked across catalogue breaks."""
        return self.dataset.linked_series(self.indicator, self.region)[0].dropna()

    @property
    def transform(self) -> Transform:
        return Transform.for_indicator(self.dataset.registry.indicator(self.indicator))

    def series(self) -> Series:
        """:attr:`values` on the modelling scale (log / logit), as the models take them."""
        values = self.values
        return Series(np.asarray(values.index, dtype=int),
                      self.transform.forward(values.to_numpy()), self.transform)

    @property
    def n_revised(self) -> int:
        """How many of the values are compiled (revised) stand-ins for real-time releases."""
        v = self.dataset.vintages
        rows = v[(v["region"] == self.region) & (v["indicator"] == self.indicator)]
        chosen = set(self.published.index)
        return int(rows.loc[rows["stand_in"].astype(bool) & rows["year"].isin(chosen),
                            "year"].nunique())


# ------------------------------------------------------------------------ forecasters

class Predictive(Protocol):
    """A forecast distribution of the years after the origin."""

    def p_at_least(self, year: int, level: float) -> float:
        """P(value in ``year`` >= ``level``), ``level`` in the indicator's unit."""


@dataclass
class PathPredictive:
    """Simulated paths ``(n_paths, len(years))`` in the indicator's unit; P is the share of
    paths at or above the level."""

    years: np.ndarray
    paths: np.ndarray
    info: dict = field(default_factory=dict)

    def p_at_least(self, year: int, level: float) -> float:
        column = list(np.asarray(self.years, dtype=int)).index(int(year))
        return float(np.mean(self.paths[:, column] >= level))


@dataclass
class GaussianPredictive:
    """A normal predictive distribution per year on the modelling scale (``mean``, ``sd``);
    P(value >= level) = 1 - Phi((forward(level) - mean) / sd): the transform is monotone, so
    the event is the same on both scales."""

    years: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    transform: Transform
    info: dict = field(default_factory=dict)

    def p_at_least(self, year: int, level: float) -> float:
        i = list(np.asarray(self.years, dtype=int)).index(int(year))
        z = float(self.transform.forward(level))
        if self.sd[i] <= 0:
            return float(self.mean[i] >= z)
        return float(stats.norm.sf((z - self.mean[i]) / self.sd[i]))


class TooShort(Exception):
    """The series at the origin is shorter than the forecaster needs for a probability."""


@dataclass(frozen=True)
class Forecaster:
    """A named way of turning a :class:`Cut` into a :class:`Predictive`. ``points`` counts
    what the forecaster's ``min_points`` is held against (default: the published values);
    ``describe`` is one line for the results."""

    predict: Callable[[Cut], Predictive]
    min_points: int
    describe: str
    points: Callable[[Cut], int] = lambda cut: len(cut.published)


def suite_default(models: tuple[str, ...] | None = None) -> Forecaster:
    """The suite's default ensemble exactly as ``forecast run`` fits one series
    (:func:`forecast.simulation.fit_component`: weights from a rolling-origin backtest on the
    cut series, then the weighted mixture's paths), with the product's data-sufficiency rule:
    no probability from fewer than :data:`forecast.coverage.MIN_POINTS_PROBABILITY` values."""
    from .models import model_names
    from .simulation import fit_component
    names = model_names(models)

    def predict(cut: Cut) -> Predictive:
        comp = fit_component(cut.values, cut.dataset.registry.indicator(cut.indicator),
                             horizon_to=cut.horizon_to, models=names, n_paths=cut.n_paths,
                             seed=cut.seed, backtest=True)
        return PathPredictive(comp.years, comp.paths(),
                              {"weights": comp.weighting.weights, "dropped": comp.dropped})
    return Forecaster(predict, MIN_POINTS_PROBABILITY,
                      "the default ensemble (" + ", ".join(names) + "), backtest weights on "
                      "the cut series, as forecast run")


def suite_pooled(models: tuple[str, ...] | None = None) -> Forecaster:
    """The default ensemble with the pooled member, as ``forecast run`` fits a series whose
    plan names a panel (:meth:`forecast.kinds.Run.pooled`): ``pooled_eb`` joins the members,
    weighted by the same backtest on the cut series, its panel the other regions of the plan's
    panel files for the indicator where the region is the plan's, else of the files the
    region's own series comes from (the panel a plan for that region would name: a province
    among the provinces, a European country among the European countries), cut at the origin.
    """
    from .models import model_names
    from .models.pooled import PooledEB
    from .simulation import fit_component
    names = model_names(models) + ("pooled_eb",)

    def predict(cut: Cut) -> Predictive:
        ds = cut.dataset
        files = ds.registry.plan.panels.get(cut.indicator) if cut.region == ds.region else None
        if files is None:
            v = ds.vintages
            files = sorted({Path(str(f)).stem for f in v.loc[
                (v["region"] == cut.region) & (v["indicator"] == cut.indicator), "source_file"]})
        member = PooledEB.for_region(ds, cut.indicator, cut.region, files=list(files))
        comp = fit_component(cut.values, ds.registry.indicator(cut.indicator),
                             horizon_to=cut.horizon_to, models=names, n_paths=cut.n_paths,
                             seed=cut.seed, backtest=True, instances={"pooled_eb": member})
        return PathPredictive(comp.years, comp.paths(),
                              {"weights": comp.weighting.weights, "dropped": comp.dropped})
    return Forecaster(predict, MIN_POINTS_PROBABILITY,
                      "the default ensemble with the pooled member (" + ", ".join(names)
                      + "), backtest weights on the cut series, as forecast run on a series "
                        "whose plan names a panel")


def model_forecaster(factory: Callable[[Dataset, str, str], Model], *,
                     min_points: int = MIN_POINTS_PROBABILITY,
                     describe: str = "") -> Forecaster:
    """A forecaster from any :class:`~forecast.models.base.Model`: ``factory(dataset, region,
    indicator)`` builds it from the dataset at the origin (a pooled family takes the other
    regions' series from there); it is fitted to the region's cut series on the modelling
    scale and simulates ``n_paths`` paths with a generator seeded by the seed, the origin and
    the region (deterministic). ``min_points`` defaults to the product's rule."""

    def predict(cut: Cut) -> Predictive:
        series = cut.series()
        fitted = factory(cut.dataset, cut.region, cut.indicator).fit(series)
        horizon = cut.horizon_to - series.last_year
        rng = np.random.default_rng([cut.seed, cut.origin, zlib.crc32(cut.region.encode())])
        z = fitted.simulate(horizon, cut.n_paths, rng)
        if not np.all(np.isfinite(z)):
            raise ModelFailure("non-finite paths")
        return PathPredictive(np.arange(series.last_year + 1, cut.horizon_to + 1),
                              cut.transform.inverse(z))
    return Forecaster(predict, min_points, describe or "a model fitted to the cut series")


def _gap_free_tail(values: pd.Series) -> pd.Series:
    """The last run of consecutive years: the statsforecast models take a plain array, so a
    gap would be read as one year."""
    years = np.asarray(values.index, dtype=int)
    start = len(years) - 1
    while start > 0 and years[start] - years[start - 1] == 1:
        start -= 1
    return values.iloc[start:]


@functools.lru_cache(maxsize=4096)
def _sf_forecast(name: str, y: tuple[float, ...], h: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of a statsforecast model's Gaussian forecast ``h`` steps ahead of ``y``:
    sd = (hi95 - lo95) / (2 z_0.975), exactly the normal its intervals state (as in
    :mod:`forecast.bench`)."""
    from statsforecast.models import AutoARIMA, AutoETS, Theta
    model = {"autoarima": AutoARIMA, "autoets": AutoETS, "theta": Theta}[name](season_length=1)
    with warnings.catch_warnings():  # its optimisers' divide-by-zero on very short series
        warnings.simplefilter("ignore", RuntimeWarning)
        r = model.forecast(y=np.asarray(y, dtype=float), h=h, level=[95])
    mean = np.asarray(r["mean"], dtype=float)
    lo, hi = np.asarray(r["lo-95"], dtype=float), np.asarray(r["hi-95"], dtype=float)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ModelFailure(f"{name}: non-finite forecast")
    return mean, np.maximum(hi - lo, 0.0) / (2 * stats.norm.ppf(0.975))


def statsforecast_forecaster(members: tuple[str, ...]) -> Forecaster:
    """statsforecast models (``autoarima``, ``autoets``, ``theta``; season length 1) fitted to
    the last gap-free run of the cut series on its modelling scale (logit for a share). One
    member: its Gaussian forecast. Several: the M4 "Comb" as the M3 bench does it, the mean
    of their means and of their 95% bounds, read as one Gaussian. P(value >= target) is the
    normal's upper tail at the target on the same scale."""

    def predict(cut: Cut) -> Predictive:
        values = _gap_free_tail(cut.values)
        y = tuple(float(x) for x in cut.transform.forward(values.to_numpy()))
        last = int(values.index[-1])
        h = cut.horizon_to - last
        try:
            parts = [_sf_forecast(m, y, h) for m in members]
        except ModelFailure:
            raise
        except Exception as exc:  # statsforecast's own refusals ("tiny datasets")
            raise ModelFailure(f"{type(exc).__name__}: {exc}") from None
        mean = np.mean([p[0] for p in parts], axis=0)
        sd = np.mean([p[1] for p in parts], axis=0)
        return GaussianPredictive(np.arange(last + 1, cut.horizon_to + 1), mean, sd,
                                  cut.transform, {"n_fit": len(y)})
    label = " + ".join(members)
    return Forecaster(predict, SF_MIN_POINTS,
                      f"statsforecast {label} on the modelling scale (last gap-free run)",
                      points=lambda cut: len(_gap_free_tail(cut.values)))


def forecasters(models: tuple[str, ...] | None = None) -> dict[str, Forecaster]:
    """The forecasters scored by default: the suite's default ensemble without and with the
    pooled member, statsforecast AutoARIMA, and the mean of AutoETS, AutoARIMA and Theta."""
    return {"default": suite_default(models), "default_pooled": suite_pooled(models),
            "sf_autoarima": statsforecast_forecaster(("autoarima",)),
            "sf_comb": statsforecast_forecaster(("autoets", "autoarima", "theta"))}


# ------------------------------------------------------------------------------ scoring

SCORE_COLUMNS = ["line", "region", "group", "indicator", "target_year", "value", "comparison",
                 "issued_by_origin", "outcome", "hit", "outcome_latest", "hit_latest", "lead", "origin", "forecaster", "status",
                 "p", "n_points", "last_year", "n_revised", "reason", "seconds"]


def score_targets(evidence: Evidence, dataset: Dataset,
                  forecasters_: Mapping[str, Forecaster] | None = None, *,
                  leads: tuple[int, ...] = LEADS, n_paths: int = 1000,
                  seed: int = DEFAULT_SEED, progress: Callable[[str], None] | None = None
                  ) -> pd.DataFrame:
    """P(value in the target year >= target) for every target of ``evidence``, lead and
    forecaster, each from the data at the origin (:func:`dataset_at_origin`); one row per
    (target, lead, forecaster) with ``status`` "scored" (``p`` set), "too short" (fewer
    points at the origin than the forecaster's ``min_points``) or "failed" (``reason``).

    Targets of one region scored from the same origin share one fit, simulated up to the
    latest of their years (what a run of a plan holding them all would do). Deterministic
    for a given ``seed`` (the suite's default seed unless told otherwise)."""
    forecasters_ = dict(forecasters_ if forecasters_ is not None else forecasters())
    targets = evidence.targets
    out = []
    for origin in sorted({int(y) - lead for y in targets["target_year"] for lead in leads}):
        due = [(lead, t) for lead in leads for _, t in targets.iterrows()
               if int(t["target_year"]) - lead == origin]
        if not due:
            continue
        cut_data = dataset_at_origin(dataset, origin)
        by_series: dict[tuple[str, str], list] = {}
        for lead, t in due:
            by_series.setdefault((t["region"], t["indicator"]), []).append((lead, t))
        for (region, indicator), items in sorted(by_series.items()):
            horizon_to = max(int(t["target_year"]) for _, t in items)
            cut = Cut(cut_data, region, indicator, origin, horizon_to, n_paths, seed)
            published = cut.published
            base = {"n_points": len(published),
                    "last_year": int(published.index[-1]) if len(published) else None,
                    "n_revised": cut.n_revised if len(published) else 0}
            for name, fc in forecasters_.items():
                t0 = time.perf_counter()
                status, reason, predictive = "scored", "", None
                points = fc.points(cut) if len(published) else 0
                if points < fc.min_points:
                    status = "too short"
                    reason = f"{points} point(s) at the origin, {fc.min_points} needed"
                else:
                    try:
                        predictive = fc.predict(cut)
                    except (ModelFailure, InputError, ValueError, ImportError,
                            np.linalg.LinAlgError) as exc:
                        status, reason = "failed", str(exc)[:300]
                seconds = time.perf_counter() - t0
                for lead, t in items:
                    p = np.nan
                    if predictive is not None:
                        p = predictive.p_at_least(int(t["target_year"]), float(t["value"]))
                    issued = t["issued"]
                    out.append({**{c: t[c] for c in ("line", "region", "group", "indicator",
                                                       "target_year", "value", "comparison",
                                                       "outcome", "hit", "outcome_latest",
                                                       "hit_latest")},
                                "issued_by_origin": (None if issued is None or pd.isna(issued)
                                                     else bool(issued <= date(origin, 12, 31))),
                                "lead": lead, "origin": origin, "forecaster": name,
                                "status": status, "p": p, **base, "reason": reason,
                                "seconds": seconds / len(items)})
            if progress:
                progress(f"{origin} {region}")
    frame = pd.DataFrame(out, columns=SCORE_COLUMNS)
    return frame.sort_values(["forecaster", "lead", "line"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------ summaries

def brier(p, hit) -> float:
    """Mean Brier score ``mean((p - hit)^2)`` of probabilities ``p`` of events ``hit`` (0/1):
    0 is perfect, 0.25 what always saying 50% scores."""
    p, y = np.asarray(p, dtype=float), np.asarray(hit, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else np.nan


def cluster_bootstrap(errors: np.ndarray, clusters, n_boot: int = N_BOOT,
                      seed: int = DEFAULT_SEED, level: float = 0.95,
                      ratio: bool = False) -> tuple[float, float]:
    """Percentile interval of the mean of ``errors`` (one number per scored target, e.g. its
    squared error) over bootstrap samples that draw whole ``clusters`` (the targets' years)
    with replacement: targets of one year share that year's common shocks (2020's fall in GDP
    raised every R&D intensity at once), so single targets are not independent. ``errors``
    may be 2-d (targets x k): the interval is then of the mean of the first column minus the
    mean of the second (a paired difference; ``ratio``: their ratio). Fewer than two
    clusters give (NaN, NaN)."""
    errors = np.asarray(errors, dtype=float)
    labels, idx = np.unique(np.asarray(clusters), return_inverse=True)
    k = len(labels)
    if k < 2:
        return (np.nan, np.nan)
    cols = errors.reshape(len(errors), -1)
    sums = np.stack([np.bincount(idx, weights=c, minlength=k) for c in cols.T], axis=1)
    counts = np.bincount(idx, minlength=k).astype(float)
    pick = np.random.default_rng(seed).integers(0, k, size=(n_boot, k))
    weights = np.stack([np.bincount(row, minlength=k) for row in pick]).astype(float)
    means = (weights @ sums) / (weights @ counts)[:, None]
    stat = means[:, 0] if means.shape[1] == 1 else \
        means[:, 0] / means[:, 1] if ratio else means[:, 0] - means[:, 1]
    lo, hi = np.quantile(stat, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def brier_table(scores: pd.DataFrame, by: tuple[str, ...] = ("forecaster", "lead"),
                n_boot: int = N_BOOT, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Per group of ``by``: the number of targets scored and of those without a probability
    (too short, failed), the Brier score with a bootstrap interval over whole target years,
    the mean P and the observed frequency of hits among the scored targets."""
    records = []
    for key, g in scores.groupby(list(by), sort=True):
        key = key if isinstance(key, tuple) else (key,)
        s = g[g["status"] == "scored"]
        lo, hi = cluster_bootstrap((s["p"] - s["hit"].astype(float)) ** 2, s["target_year"],
                                   n_boot=n_boot, seed=seed) if len(s) else (np.nan, np.nan)
        records.append({**dict(zip(by, key)), "n_scored": len(s),
                        "n_too_short": int((g["status"] == "too short").sum()),
                        "n_failed": int((g["status"] == "failed").sum()),
                        "n_years": int(s["target_year"].nunique()),
                        "brier": brier(s["p"], s["hit"]), "brier_lo": lo, "brier_hi": hi,
                        "mean_p": float(s["p"].mean()) if len(s) else np.nan,
                        "observed": float(s["hit"].mean()) if len(s) else np.nan})
    return pd.DataFrame(records)


def paired_table(scores: pd.DataFrame, reference: str = "default",
                 n_boot: int = N_BOOT, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Per lead and other forecaster, on the targets both scored: the Brier score of
    ``reference`` minus the other's (negative: ``reference`` better), with a bootstrap
    interval over whole target years, and the number of targets in common."""
    wide = scores[scores["status"] == "scored"].pivot_table(
        index=["line", "lead", "target_year", "hit"], columns="forecaster", values="p")
    wide = wide.reset_index()
    records = []
    for other in [c for c in scores["forecaster"].unique() if c != reference]:
        if reference not in wide or other not in wide:
            continue
        for lead, g in wide.dropna(subset=[reference, other]).groupby("lead"):
            y = g["hit"].astype(float)
            sq = np.column_stack([(g[reference] - y) ** 2, (g[other] - y) ** 2])
            lo, hi = cluster_bootstrap(sq, g["target_year"], n_boot=n_boot, seed=seed)
            records.append({"lead": lead, "reference": reference, "other": other,
                            "n_common": len(g), "n_years": int(g["target_year"].nunique()),
                            "brier_reference": float(sq[:, 0].mean()),
                            "brier_other": float(sq[:, 1].mean()),
                            "difference": float(sq[:, 0].mean() - sq[:, 1].mean()),
                            "difference_lo": lo, "difference_hi": hi})
    return pd.DataFrame(records)


# --------------------------------------------------------------------------- the command

RESULTS_PREFIX = "plan_targets"
#: where the scores of record are kept (the calibration page reads them from there)
RESULTS_DIR = Path("benchmarks") / "results"


def provenance(dataset: Dataset, targets_path: Path | None = None) -> dict:
    """What a set of scores rests on: a SHA-256 of the rows scoring reads (every vintage of
    the targets' indicators: region, year, value, date, grade, vintage; and their scale and
    bounds), of the targets file, and of the code the numbers depend on (the models,
    ensemble, backtest and this module). Unlike the data hash, it does not change with the
    plan a page is run for, nor with files of other indicators."""
    import hashlib
    from .simulation import _code_hash
    targets_path = targets_path or plan_targets_path()
    indicators = sorted(set(load_plan_targets(dataset, targets_path)["indicator"]))
    v = dataset.vintages
    rows = v.loc[v["indicator"].isin(indicators), ["region", "indicator", "year", "value",
                                                   "available", "reliability", "vintage"]]
    rows = rows.astype(str).sort_values(list(rows.columns)).to_csv(index=False)
    scales = [f"{i}:{dataset.registry.indicator(i).scale}:{dataset.registry.indicator(i).bounds}"
              for i in indicators]
    inputs = hashlib.sha256((rows + "|".join(scales)).encode())
    code = hashlib.sha256((_code_hash() + Path(__file__).read_text(encoding="utf-8")).encode())
    return {"inputs_sha256": inputs.hexdigest(),
            "targets_sha256": hashlib.sha256(targets_path.read_bytes()).hexdigest(),
            "code_sha256": code.hexdigest()}


def run(*, as_of=None, n_paths: int = 1000, seed: int = DEFAULT_SEED,
        leads: tuple[int, ...] = LEADS, names: tuple[str, ...] | None = None,
        progress: bool = False) -> tuple[Evidence, pd.DataFrame, dict]:
    """Load the data and the targets and score them; returns the evidence, the scores and the
    run's record (:func:`provenance`, paths, seed, leads, as_of, seconds of the scoring)."""
    from . import data
    dataset = data.load(as_of)
    evidence = attach_outcomes(load_plan_targets(dataset), dataset)
    chosen = forecasters()
    if names:
        chosen = {n: chosen[n] for n in names}
    t0 = time.perf_counter()
    scores = score_targets(evidence, dataset, chosen, leads=leads, n_paths=n_paths, seed=seed,
                           progress=(lambda m: print(m, file=sys.stderr)) if progress else None)
    record = {**provenance(dataset), "as_of": dataset.as_of.isoformat(), "n_paths": n_paths,
              "seed": seed, "leads": " ".join(map(str, leads)),
              "forecasters": " ".join(chosen), "seconds": round(time.perf_counter() - t0, 1)}
    return evidence, scores, record


def cached_scores(dataset: Dataset, folder: Path | None = None
                  ) -> tuple[pd.DataFrame, dict, list[str]]:
    """The scores of record (``plan_targets_scores.csv``) and their run record
    (``plan_targets_run.csv``) from ``folder`` (default benchmarks/results of the project),
    with what no longer matches today's inputs (:func:`provenance`: the series scored, the
    targets file, the code): an empty list means the cached numbers are those a re-run would
    give (same seed and paths). Raises FileNotFoundError where there is no run of record."""
    from .data import project_root
    folder = folder or project_root() / RESULTS_DIR
    scores = pd.read_csv(folder / f"{RESULTS_PREFIX}_scores.csv")
    record = pd.read_csv(folder / f"{RESULTS_PREFIX}_run.csv", dtype=str).iloc[0].to_dict()
    now = provenance(dataset)
    what = {"inputs_sha256": "the series", "targets_sha256": "the targets file",
            "code_sha256": "the code"}
    stale = [f"{what[k]} changed since the run" for k in now if record.get(k) != now[k]]
    return scores, record, stale


def markdown_table(table: pd.DataFrame, keys: tuple[str, ...]) -> str:
    """The summary as a markdown table: n, Brier [95% interval], mean P, observed frequency."""
    head = list(keys) + ["n scored", "too short / failed", "Brier [95%]", "mean P", "observed"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.itertuples():
        interval = ("" if not np.isfinite(r.brier_lo)
                    else f" [{r.brier_lo:.3f}, {r.brier_hi:.3f}]")
        cells = [str(getattr(r, k)) for k in keys] + [
            str(r.n_scored), f"{r.n_too_short} / {r.n_failed}",
            "–" if not r.n_scored else f"{r.brier:.3f}{interval}",
            "–" if not r.n_scored else f"{r.mean_p:.3f}",
            "–" if not r.n_scored else f"{r.observed:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cmd(args: argparse.Namespace) -> int:
    evidence, scores, record = run(as_of=args.as_of, n_paths=args.paths, seed=args.seed,
                                   names=tuple(args.forecasters) if args.forecasters else None,
                                   progress=not args.no_progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = brier_table(scores)
    groups = brier_table(scores, by=("forecaster", "group", "lead"))
    paired = paired_table(scores)
    record["command"] = "forecast " + " ".join(sys.argv[1:])
    files = {"scores": scores, "summary": pd.concat([table.assign(group="all"), groups],
                                                    ignore_index=True),
             "paired": paired, "run": pd.DataFrame([record]),
             "left_out": evidence.left_out[["line", "region", "target_year", "value", "reason"]]}
    from .data import write_atomically
    for name, frame in files.items():
        write_atomically(out / f"{RESULTS_PREFIX}_{name}.csv",
                         lambda p, frame=frame: frame.to_csv(p, index=False))
    print(markdown_table(table, ("forecaster", "lead")))
    print()
    print(markdown_table(groups, ("forecaster", "group", "lead")))
    print()
    print(paired.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\n{len(evidence.targets)} targets with an outcome ({int(evidence.targets['hit'].sum())} "
          f"met), {len(evidence.left_out)} left out; scored in {record['seconds']:.0f} s with "
          f"{args.paths} paths; wrote {out}/{RESULTS_PREFIX}_*.csv", file=sys.stderr)
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """``forecast bench plan-targets`` (``subparsers`` of ``forecast bench``)."""
    p = subparsers.add_parser("plan-targets", help=(
        "score P(hit) of the real plan targets in data/raw/plan_targets.csv 3-5 years ahead"))
    p.add_argument("--as-of", help="the data's date for the outcomes (default today)")
    p.add_argument("--paths", type=int, default=1000, help="paths per forecast")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--forecasters", nargs="+", choices=tuple(forecasters()),
                   help="only these (default: all)")
    p.add_argument("--out", default="benchmarks/results", help="directory for the CSVs")
    p.add_argument("--no-progress", action="store_true", help="no progress lines")
    p.set_defaults(func=_cmd)
    return p
