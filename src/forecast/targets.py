"""The target registry: every quantified target of a plan and the catalogue of indicators.

The catalogue (``data/raw/catalogue.yaml``, shared by every plan, plus any indicators a plan
adds) fixes, per indicator, the unit the panel is expressed in, the bounds a value must respect
and the scale it is modelled on; targets (the plan's ``plan.yaml``, :mod:`forecast.plans`)
refer to an indicator and add the year, the value, the comparison and the plan's own wording.
Everything is validated on load; an error names the file and the line.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import InputError

if TYPE_CHECKING:
    from .plans import Plan

SCALES = ("log", "logit", "identity")
TARGET_KEYS = {"id", "indicator", "year", "value", "comparison", "wording", "region"}
#: at least, at most, and "=" for a target at the bound of a share (100%: read as at least)
COMPARISONS = (">=", "<=", "=")
MIN_YEAR, MAX_YEAR = 1949, 2100


def did_you_mean(given, known) -> str:
    """"; did you mean 'x'?" for the closest known id of a typo, ignoring case ("" when none
    is close)."""
    by_lower = {str(k).lower(): str(k) for k in known}
    close = difflib.get_close_matches(str(given).lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean '{by_lower[close[0]]}'?" if close else ""


@dataclass(frozen=True)
class Derivation:
    """``value = factor * numerator / denominator``, all three indicators in catalogue units."""

    numerator: str
    denominator: str
    factor: float = 1.0

    def describe(self) -> str:
        factor = "" if self.factor == 1.0 else f"{self.factor:g} * "
        return f"{factor}{self.numerator} / {self.denominator}"


@dataclass(frozen=True)
class SeriesBreak:
    """A change of basis inside a series (an economic census revision): ``year`` is the first
    year on the new basis, the years before it as published on the old one."""

    year: int
    note: str
    #: estimated relative revision of the years before on the new basis, as a range (low,
    #: high) (0.037, 0.043: 3.7-4.3% higher): the series' own earlier years are linked onto
    #: the new basis with its midpoint before the models see them
    #: (forecast.data.Dataset.linked_series), and a share of this series published only
    #: before the break is restated on the new basis with it (forecast.kinds.share_rebasing)
    revision: tuple[float, float] | None = None
    region: str | None = None  # None: the plan's region

    def spanned_by(self, series) -> bool:
        """Whether ``series`` (indexed by year) has values both before the break and from it
        on: its history mixes the two bases, and the break is known on the data's date."""
        return len(series) > 0 and series.index[0] < self.year <= series.index[-1]

    @property
    def link_factor(self) -> float | None:
        """What the years before the break are multiplied by to stand on the new basis: 1 +
        the midpoint of the estimated revision (None without one)."""
        return None if self.revision is None else 1.0 + sum(self.revision) / 2


@dataclass(frozen=True)
class Indicator:
    id: str
    name_en: str
    name_zh: str
    unit: str
    bounds: tuple[float, float] | None
    scale: str
    derived: Derivation | None = None   # simulated as this ratio (no series of its own)
    share_of: Derivation | None = None  # has a series of its own, which is this ratio
    breaks: tuple[SeriesBreak, ...] = ()  # known changes of basis, said in every output using it

    @property
    def modelled_series(self) -> str:
        """The series the models simulate and scenarios act on: the indicator itself, or the
        numerator of a ratio (GDP for labour productivity)."""
        return self.derived.numerator if self.derived else self.id

    def in_bounds(self, value: float) -> bool:
        """True when ``value`` respects the bounds (levels on a log scale must be positive)."""
        if self.bounds is not None:
            return self.bounds[0] <= value <= self.bounds[1]
        return value > 0 if self.scale == "log" else True

    @property
    def difference_unit(self) -> str:
        """The unit of a difference of two values: a difference of percentages is in
        percentage points."""
        return "percentage points" if self.unit == "%" else self.unit

    def bounds_text(self) -> str:
        if self.bounds is not None:
            return f"between {self.bounds[0]:g} and {self.bounds[1]:g} {self.unit}"
        return f"positive ({self.unit})" if self.scale == "log" else "any finite number"


@dataclass(frozen=True)
class Target:
    id: str
    indicator: str
    year: int
    value: float
    comparison: str
    wording: str
    region: str

    @property
    def at_most(self) -> bool:
        """True for a ceiling (``<=``: PM2.5 at most 30), False for a floor (``>=``, and
        ``=`` at the upper bound of a share, read as at least since nothing exceeds it)."""
        return self.comparison == "<="

    def is_met(self, value):
        """Whether an observed or simulated ``value`` (a number or an array of paths) meets
        the target."""
        return value <= self.value if self.at_most else value >= self.value

    def shortfall(self, value):
        """How far ``value`` is from meeting the target, in the indicator's unit: positive
        when short of it, negative when beyond it (in the target's own direction)."""
        return value - self.value if self.at_most else self.value - value


@dataclass
class Registry:
    """The plan's targets plus the catalogue of indicators and known unit conversions."""

    path: Path                      # the plan's registry (plan.yaml): errors on targets name it
    plan: "Plan"
    indicators: dict[str, Indicator]
    targets: dict[str, Target]
    unit_conversions: dict[tuple[str, str], float] = field(default_factory=dict)

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise InputError(self.path, f"unknown indicator '{indicator_id}'"
                             f"{did_you_mean(indicator_id, self.indicators)}",
                             expected="one of " + ", ".join(sorted(self.indicators))) from None

    def target(self, target_id: str) -> Target:
        try:
            return self.targets[target_id]
        except KeyError:
            raise InputError(self.path, f"unknown target '{target_id}'"
                             f"{did_you_mean(target_id, self.targets)}",
                             expected="one of " + ", ".join(self.targets)) from None

    def breaks(self, indicator_id: str, region: str) -> tuple[SeriesBreak, ...]:
        """The series breaks of ``indicator_id`` in ``region``: a break names its region (one
        of a plan's own indicators may leave it out: the plan's region), its note and revision
        being that region's figures."""
        return tuple(b for b in self.indicator(indicator_id).breaks
                     if (b.region or self.plan.region) == region)

    def targets_for(self, indicator_id: str) -> list[Target]:
        """The targets on ``indicator_id`` ordered by year (empty if it has none)."""
        self.indicator(indicator_id)
        return sorted((t for t in self.targets.values() if t.indicator == indicator_id),
                      key=lambda t: t.year)

    def employment_for(self, indicator_id: str | None):
        """The plan's employment assumption a scenario's employment block changes for
        ``indicator_id``: the one for its denominator where it is a ratio, else any the plan
        states (a scenario with such a block is then refused as not for that indicator, with
        its own message); None when there is none."""
        indicator = self.indicators.get(indicator_id) if indicator_id else None
        if indicator is not None and indicator.derived is not None:
            return self.plan.employment(indicator.derived.denominator)
        return next(iter(self.plan.assumptions.values()), None)

    def target_indicators(self) -> list[str]:
        """Indicator ids that carry at least one target, in registry order."""
        return list(dict.fromkeys(t.indicator for t in self.targets.values()))

    def conversion_factor(self, unit: str, indicator_id: str) -> float | None:
        """Factor turning a value in ``unit`` into the indicator's catalogue unit, or None
        when the unit is neither the catalogue unit nor a known conversion of it."""
        target_unit = self.indicator(indicator_id).unit
        if unit == target_unit:
            return 1.0
        return self.unit_conversions.get((unit, target_unit))


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that records the line of each mapping under the key ``__line__``."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    # PyYAML keeps the last of two equal keys: a target or setting written twice would
    # silently lose the first, so a duplicate is an error at its line
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key '{key}'", key_node.start_mark)
        seen.add(key)
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _plain(value: Any) -> Any:
    """``value`` as the user wrote it (without the loader's ``__line__`` keys), for messages."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__line__"}
    return [_plain(v) for v in value] if isinstance(value, list) else value


def _require(entry: dict, key: str, path: Path, what: str, expected: str) -> Any:
    if key not in entry or entry[key] is None or entry[key] == "":
        raise InputError(path, f"{what} has no '{key}'", line=entry.get("__line__"), field=key,
                         expected=expected)
    return entry[key]


def _parse_indicator(ind_id: str, entry: Any, path: Path) -> Indicator:
    if not isinstance(entry, dict):
        raise InputError(path, f"indicator '{ind_id}' is not a mapping", field=ind_id,
                         expected="name_en, name_zh, unit, bounds, scale")
    line = entry.get("__line__")
    what = f"indicator '{ind_id}'"
    scale = _require(entry, "scale", path, what, "|".join(SCALES))
    if scale not in SCALES:
        raise InputError(path, f"{what} has scale '{scale}'", line=line, field="scale",
                         expected="|".join(SCALES))
    bounds = entry.get("bounds")
    if bounds is not None:
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) for b in bounds) or bounds[0] >= bounds[1]):
            raise InputError(path, f"{what} has bounds {bounds!r}", line=line, field="bounds",
                             expected="[lower, upper] with lower < upper, or null")
        bounds = (float(bounds[0]), float(bounds[1]))
    if scale == "logit" and bounds is None:
        raise InputError(path, f"{what} is on the logit scale without bounds", line=line,
                         field="bounds", expected="[lower, upper] for a logit scale")
    ratios = {}
    for key in ("derived", "share_of"):
        if entry.get(key) is None:
            continue
        try:
            ratios[key] = Derivation(str(entry[key]["numerator"]), str(entry[key]["denominator"]),
                                     float(entry[key].get("factor", 1.0)))
            if not ratios[key].factor > 0 or not math.isfinite(ratios[key].factor):
                raise ValueError
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(path, f"{what} has a malformed '{key}'", line=line, field=key,
                             expected="{numerator: ID, denominator: ID, factor: a positive "
                                      "number}") from None
    breaks = []
    if not isinstance(entry.get("breaks") or [], list):
        raise InputError(path, f"{what} has 'breaks' that are not a list", line=line,
                         field="breaks", expected="a list of {year, note, region, revision}")
    for item in entry.get("breaks") or []:
        year, note, revision, region = (
            (item.get("year"), item.get("note"), item.get("revision"), item.get("region"))
            if isinstance(item, dict) else (None, None, None, None))
        ends = revision if isinstance(revision, list) else [revision, revision]
        if (isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR
                or not isinstance(note, str) or not note.strip()
                or not (revision is None or (
                    len(ends) == 2 and all(isinstance(r, (int, float)) and not isinstance(r, bool)
                                           and -0.5 < r < 0.5 and r != 0 for r in ends)
                    and ends[0] <= ends[1] and (ends[0] > 0) == (ends[1] > 0)))
                or not (region is None or isinstance(region, str) and region.strip())
                or set(item) - {"year", "note", "revision", "region", "__line__"}):
            shown = {k: v for k, v in item.items() if k != "__line__"} \
                if isinstance(item, dict) else item
            raise InputError(path, f"{what} has a malformed break {shown!r}", line=line,
                             field="breaks", expected="a list of {year: first year on the new "
                             "basis, note: what changed, revision (optional): the relative "
                             "revision of the years before, e.g. 0.04 for 4% higher, or a range "
                             "[0.037, 0.043], region (optional): the plan's by default}")
        breaks.append(SeriesBreak(year, " ".join(note.split()), None if revision is None
                                  else (float(ends[0]), float(ends[1])), region))
    return Indicator(
        id=ind_id,
        name_en=str(_require(entry, "name_en", path, what, "an English name")),
        name_zh=str(_require(entry, "name_zh", path, what, "the Chinese name")),
        unit=str(_require(entry, "unit", path, what, "a unit such as %, 亿元, 万元/人")),
        bounds=bounds, scale=scale, derived=ratios.get("derived"), share_of=ratios.get("share_of"),
        breaks=tuple(breaks),
    )


def _parse_target(entry: Any, path: Path, indicators: dict[str, Indicator], region: str) -> Target:
    if not isinstance(entry, dict):
        raise InputError(path, "a target entry is not a mapping", field="targets",
                         expected="{id, indicator, year, value, comparison, wording}")
    line = entry.get("__line__")
    tid = str(_require(entry, "id", path, "a target", "a unique id"))
    what = f"target '{tid}'"
    unknown = sorted(set(entry) - TARGET_KEYS - {"__line__"})
    if unknown:  # a misspelt key (valeu) must not leave its field silently missing
        raise InputError(path, f"{what} has unknown key(s) {', '.join(unknown)}", line=line,
                         field=unknown[0], expected=", ".join(sorted(TARGET_KEYS)))
    ind_id = _require(entry, "indicator", path, what, "an indicator id of the catalogue")
    if not isinstance(ind_id, str) or ind_id not in indicators:
        raise InputError(path, f"{what} refers to unknown indicator {_plain(ind_id)!r}", line=line,
                         field="indicator", expected="an id under 'indicators:'")
    year = _require(entry, "year", path, what, "an integer year")
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(path, f"{what} has year {_plain(year)!r}", line=line, field="year",
                         expected=f"an integer between {MIN_YEAR} and {MAX_YEAR}")
    value = _require(entry, "value", path, what, "a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(path, f"{what} has value {_plain(value)!r}", line=line, field="value",
                         expected="a finite number")
    indicator = indicators[ind_id]
    if not indicator.in_bounds(value):
        raise InputError(path, f"{what} has value {value} outside the indicator's bounds",
                         line=line, field="value", expected=indicator.bounds_text())
    comparison = _require(entry, "comparison", path, what, "|".join(COMPARISONS))
    if not isinstance(comparison, str) or comparison not in COMPARISONS:
        raise InputError(path, f"{what} has comparison {_plain(comparison)!r}", line=line,
                         field="comparison", expected="|".join(COMPARISONS))
    if comparison == "=" and (indicator.bounds is None or value not in indicator.bounds):
        # "equal to" a level inside the range has probability 0 under any continuous model;
        # plans use it for "100% pass rate", the bound, where it means "at the bound"
        raise InputError(path, f"{what} asks for exactly {value:g}, which is not a bound of "
                         f"{ind_id}", line=line, field="comparison",
                         expected=">= or <= (\"=\" only at a bound, e.g. a 100% pass rate)")
    wording = str(_require(entry, "wording", path, what, "the plan's own wording"))
    return Target(tid, ind_id, year, float(value), comparison, wording,
                  str(entry.get("region", region)))


#: a target of one's own: YEAR:>=VALUE or YEAR:<=VALUE (forecast run --target 2027:>=3.5)
_TARGET_SPEC = re.compile(r"^\s*(\d+)\s*:\s*(>=|<=|=>|=<|>|<|=)?\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*$",
                          re.IGNORECASE)


def parse_target_spec(spec: str, indicator: Indicator, region: str) -> Target:
    """A user's own target from ``YEAR:>=VALUE`` or ``YEAR:<=VALUE`` (the direction is the
    user's to say: a floor or a ceiling) for ``indicator`` in ``region``. A malformed spec,
    a missing direction, a year outside the calendar the suite knows or a value outside the
    indicator's bounds is an :class:`InputError` naming the spec."""
    expected = "YEAR:>=VALUE or YEAR:<=VALUE, e.g. 2027:>=3.5 (a floor) or 2027:<=12 (a ceiling)"
    match = _TARGET_SPEC.match(str(spec))
    if not match:
        raise InputError(None, f"target '{spec}' is not a year and a level", field="target",
                         expected=expected)
    year, op, value = int(match[1]), match[2], match[3]
    if op not in (">=", "<="):
        said = "no direction" if op is None else f"direction '{op}'"
        raise InputError(None, f"target '{spec}' has {said}", field="target", expected=expected)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InputError(None, f"target '{spec}': year {year} is unknown to the suite",
                         field="target", expected=f"a year from {MIN_YEAR} to {MAX_YEAR}")
    try:
        level = float(value)
    except ValueError:
        raise InputError(None, f"target '{spec}': '{value}' is not a number", field="target",
                         expected=expected) from None
    if not math.isfinite(level) or not indicator.in_bounds(level):
        raise InputError(None, f"target '{spec}': {value} is outside what {indicator.id} can "
                         "take", field="target", expected=indicator.bounds_text())
    if indicator.bounds is not None and level in indicator.bounds:
        # at a bound, "at least 100%" or "at most 0%" is met only exactly: a continuous model
        # gives that probability 0 by construction
        raise InputError(None, f"target '{spec}' sits on the bound {level:g} of "
                         f"{indicator.id}", field="target",
                         expected=f"a level strictly inside {indicator.bounds_text()}")
    return Target(f"{indicator.id}_{year}", indicator.id, year, level, op,
                  f"your own target (--target {spec.strip()}): {indicator.id} {op} {level:g} "
                  f"{indicator.unit} in {year}", region)


def read_yaml(path: Path, what: str, expected: str) -> Any:
    """A YAML file with the line of every mapping under ``__line__``; a missing, undecodable
    or malformed file is an :class:`InputError` naming it (``what`` it is, ``expected``)."""
    if not path.is_file():
        raise InputError(path, f"{what} not found", expected=expected)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 at byte {exc.start}", expected="UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                         line=mark.line + 1 if mark else None) from None


def parse_indicators(entries: Any, path: Path) -> dict[str, Indicator]:
    """The ``indicators`` mapping of a catalogue or a plan, validated."""
    if not isinstance(entries, dict):
        raise InputError(path, "'indicators' is not a mapping", field="indicators",
                         expected="indicator id: {name_en, name_zh, unit, bounds, scale}")
    return {k: _parse_indicator(k, v, path) for k, v in entries.items() if k != "__line__"}


def parse_targets(entries: Any, path: Path, indicators: dict[str, Indicator],
                  region: str) -> dict[str, Target]:
    """The ``targets`` list of a plan, validated against ``indicators``; a target's region is
    the plan's unless it names its own."""
    if not isinstance(entries, list):
        raise InputError(path, "'targets' is not a list", field="targets",
                         expected="a list of {id, indicator, year, value, comparison, wording}")
    targets: dict[str, Target] = {}
    for entry in entries:
        target = _parse_target(entry, path, indicators, region)
        if target.id in targets:
            raise InputError(path, f"duplicate target id '{target.id}'", line=entry.get("__line__"),
                             field="id", expected="unique ids")
        targets[target.id] = target
    return targets


def check_ratios(indicators: dict[str, Indicator], path: Path) -> None:
    """Every part of a ratio (``derived``, ``share_of``) is an indicator of ``indicators``."""
    for ind in indicators.values():
        for key, rule in (("derived", ind.derived), ("share_of", ind.share_of)):
            for part in (rule.numerator, rule.denominator) if rule else ():
                if part not in indicators:
                    raise InputError(path, f"indicator '{ind.id}' is a ratio of unknown '{part}'",
                                     field=key, expected="ids under 'indicators:'")


def parse_conversions(entries: Any, path: Path) -> dict[tuple[str, str], float]:
    """``unit_conversions``: {(from, to): factor}."""
    if not isinstance(entries or [], list):
        raise InputError(path, "'unit_conversions' is not a list", field="unit_conversions",
                         expected="a list of {from: UNIT, to: UNIT, factor: a positive number}")
    conversions = {}
    for conv in entries or []:
        try:
            factor = float(conv["factor"])
            if not (factor > 0 and math.isfinite(factor)):
                raise ValueError
            conversions[(str(conv["from"]), str(conv["to"]))] = factor
        except (KeyError, TypeError, ValueError):
            raise InputError(path, f"malformed unit conversion {conv!r}",
                             line=conv.get("__line__") if isinstance(conv, dict) else None,
                             field="unit_conversions",
                             expected="{from: UNIT, to: UNIT, factor: a positive number}") from None
    return conversions
