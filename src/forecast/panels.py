"""Panels: the other regions whose series of the same indicator inform a region's forecast.

A panel is data, not code. For a target (region, indicator) it is, by default, every other
region in ``data/raw`` (shipped and user files alike) with rows of the same indicator in the
same unit, aggregates (:data:`AGGREGATES`) left out; a run or the registry may name the panel
instead, by source files (``files``: the 31 provinces of the NBS bulletin) or by regions. Each
member is the series the models would see for that region -- the linked series
(:meth:`forecast.data.Dataset.linked_series`) on the indicator's modelling scale -- so a census
revision is not read as growth in the panel either. A region with too short a series is left
out and :attr:`Panel.left_out` says which and why.

A panel is leak-free only through its users: :meth:`Panel.cut` keeps the values of years up to
a given year, and the pooled families (:mod:`forecast.models.pooled`) cut the panel at the last
year of the series they are fitted to, so a backtest that fits on the first ``n`` years of a
series cuts every other region at the same year. The shipped files carry one vintage per value
(first releases for the provinces, the current vintage for the European countries), so a cut
by year is a cut by publication date only where the values are first releases; see
benchmarks/POOLING.md.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import cache
from .data import Dataset
from .errors import InputError
from .models.base import Series
from .transforms import Transform

#: aggregates in the shipped files that are not one of a panel's regions (the same list as
#: :data:`forecast.calibration.AGGREGATES`; kept here so that models need not import the
#: calibration module)
AGGREGATES = ("China", "EU27_2020")
#: fewest observations a region needs to join a panel (a deviation from the panel's common
#: increment and its variance need a few increments; 6 is the backtests' min_train)
MIN_PANEL_POINTS = 6


@dataclass(frozen=True)
class Panel:
    """The other regions' series of one indicator, on its modelling scale.

    ``members`` maps region -> :class:`~forecast.models.base.Series` (linked, transformed,
    gaps kept); ``left_out`` maps region -> why it is not a member; ``source`` says how the
    panel was chosen (for the output: "31 regions with rd_intensity in % from
    china_provinces_rd_nbs"). ``target`` is the region the panel is for (never a member).
    """

    indicator: str
    unit: str
    target: str
    members: dict[str, Series]
    left_out: dict[str, str] = field(default_factory=dict)
    source: str = ""

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.members)

    @property
    def n_regions(self) -> int:
        return len(self.members)

    def cut(self, last_year: int) -> "Panel":
        """The panel as it was known at the end of ``last_year``: every member's values of
        years ``<= last_year`` (a member with none left is dropped)."""
        kept = {}
        for region, s in self.members.items():
            n = int(np.searchsorted(s.years, last_year, side="right"))
            if n:
                kept[region] = s.head(n)
        return Panel(self.indicator, self.unit, self.target, kept, dict(self.left_out),
                     self.source)

    def matrix(self) -> tuple[int, np.ndarray]:
        """``(first_year, values)``: years x regions (in :attr:`regions` order) on the modelling
        scale, every calendar year from the first to the last observed one, NaN where a region
        has no value (gaps stay gaps)."""
        if not self.members:
            return 0, np.empty((0, 0))
        first = min(int(s.years[0]) for s in self.members.values())
        last = max(int(s.years[-1]) for s in self.members.values())
        out = np.full((last - first + 1, len(self.members)), np.nan)
        for j, s in enumerate(self.members.values()):
            out[s.years - first, j] = s.values
        return first, out

    def frame(self) -> pd.DataFrame:
        """:meth:`matrix` as a frame indexed by year, one column per region."""
        first, values = self.matrix()
        index = pd.RangeIndex(first, first + len(values), name="year")
        return pd.DataFrame(values, index=index, columns=list(self.members))

    @property
    def key(self) -> str:
        """A digest of the indicator, the target and every member's years and values: what a
        cache of panel fits is keyed on (equal keys, equal fits)."""
        digest = hashlib.sha256(f"{self.indicator}|{self.unit}|{self.target}".encode())
        for region in sorted(self.members):
            s = self.members[region]
            digest.update(region.encode())
            digest.update(np.asarray(s.years, dtype=np.int64).tobytes())
            digest.update(np.asarray(s.values, dtype=np.float64).tobytes())
        return digest.hexdigest()[:16]

    def describe(self) -> str:
        """One line for the output: which panel, how many regions, who was left out."""
        text = self.source or f"{self.n_regions} regions with {self.indicator}"
        if self.left_out:
            text += "; left out: " + ", ".join(f"{r} ({why})" for r, why in self.left_out.items())
        return text


def build_panel(dataset: Dataset, indicator: str, region: str, *,
                regions: list[str] | tuple[str, ...] | None = None,
                files: list[str] | tuple[str, ...] | None = None,
                min_points: int = MIN_PANEL_POINTS) -> Panel:
    """The panel for ``region``'s ``indicator``: the other regions of ``dataset`` with that
    indicator in the same unit (see module doc), each as its linked series on the indicator's
    modelling scale.

    ``files`` (stems of raw files, e.g. ``("china_provinces_rd_nbs",)``) keeps the regions with
    rows of the indicator from one of those files; ``regions`` names the members outright (an
    unknown name is an :class:`~forecast.errors.InputError`). Aggregates and ``region`` itself
    are never members. A region with fewer than ``min_points`` values, or values the modelling
    scale cannot take (a level <= 0 on the log scale), is left out with the reason in
    :attr:`Panel.left_out`.
    """
    ind = dataset.registry.indicator(indicator)
    rows = dataset.panel[dataset.panel["indicator"] == indicator]
    # linking each region's series across its breaks is most of the time (0.1-0.3 s a
    # panel): the built panel is cached, keyed by everything it is made of
    key = _panel_key(dataset, rows, indicator, region, regions, files, min_points)
    cached = cache.read("panels", key)
    if cached is not None:
        return cached
    panel = _build(dataset, rows, ind, region, regions, files, min_points)
    cache.write("panels", key, panel)
    return panel


def _build(dataset: Dataset, rows: pd.DataFrame, ind, region: str, regions, files,
           min_points: int) -> Panel:
    indicator = ind.id
    transform = Transform.for_indicator(ind)
    if files is not None:
        stems = {Path(str(f)).stem for f in files}
        in_files = rows["source_file"].map(lambda f: Path(str(f)).stem in stems)
        candidates = sorted(set(rows.loc[in_files, "region"]))
        how = f"from {', '.join(sorted(stems))}"
    else:
        candidates = sorted(set(rows["region"]))
        how = "in data/raw"
    if regions is not None:
        unknown = sorted(set(regions) - set(rows["region"]))
        if unknown:
            raise InputError(None, f"no {indicator} rows for region(s) {', '.join(unknown)}",
                             field="regions", expected="regions with rows of the indicator")
        candidates = [r for r in regions if r in set(candidates)]
        how = "named regions" + (f" {how}" if files is not None else "")
    members: dict[str, Series] = {}
    left_out: dict[str, str] = {}
    for r in candidates:
        if r == region or r in AGGREGATES:
            continue
        units = set(rows.loc[rows["region"] == r, "unit"])
        if units != {ind.unit}:
            left_out[r] = f"unit {', '.join(sorted(map(str, units)))}, not {ind.unit}"
            continue
        values = dataset.linked_series(indicator, r)[0].dropna()
        if len(values) < min_points:
            left_out[r] = f"{len(values)} values, fewer than {min_points}"
            continue
        try:
            z = transform.forward(values.to_numpy())
        except ValueError as exc:
            left_out[r] = str(exc)
            continue
        members[r] = Series(np.asarray(values.index, dtype=int), z, transform)
    source = f"{len(members)} regions with {indicator} in {ind.unit} {how}"
    return Panel(indicator, ind.unit, region, members, left_out, source)


# ----------------------------------------------------------------- the panel cache

def _panel_key(dataset: Dataset, rows: pd.DataFrame, indicator: str, region: str, regions,
               files, min_points: int) -> str:
    """What a built panel rests on: the indicator's rows as selected (a data-vintage variant
    of a dataset has other rows under the same data hash), the catalogue (breaks and their
    revisions link the series), the arguments and the code that builds it."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(
        rows[["region", "year", "value", "unit", "source_file"]].astype(str),
        index=False).values.tobytes())
    digest.update(repr(sorted((k, repr(v)) for k, v in dataset.registry.indicators.items()))
                  .encode())
    digest.update(repr((indicator, region, None if regions is None else list(regions),
                        None if files is None else sorted(map(str, files)),
                        min_points)).encode())
    here = Path(__file__).parent
    for name in ("panels.py", "data.py", "transforms.py", "targets.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:32]
