"""Scenarios: explicit, named changes to the simulated paths or to their drivers.

A scenario is a small YAML file (examples in ``notebooks/scenarios/``)::

    name: slower_trend
    description: growth one point a year slower than the models expect
    trend: -0.01            # added per year from `from` on, on the modelling scale
    growth_shock: {year: 2026, size: -0.03}   # permanent level shift from that year on
    volatility: 1.5         # multiplier on each path's deviation from the median path
    from: 2026              # first year trend and volatility act on (default: see below)
    acts_on: gdp            # optional: the series it is meant for (refused on any other)
    employment:             # labour productivity only: the denominator assumption
      method: population_ratio        # or: growth
      ratio: [0.6, 0.7]               # employed / permanent population, drawn per path
      growth: [-0.01, 0.02]           # (method growth) annual employment growth, per path
                                      # (a key left out is the plan's: its assumptions)

On the log scale 0.01 is about one per cent; on the logit scale it is a change of the
log-odds. Every scenario is recorded with the result it produced.

*When* a scenario acts: a trend or volatility change is something that can still happen, so
by default it acts from the first year not yet over on the run's ``as_of`` date
(:func:`first_open_year`; as of 2026-11-27 that is 2026), never on years that are over but
not yet published (their outcome is fixed, only unknown to us). ``from`` moves that start
later or earlier (not before the first simulated year). A ``growth_shock`` names its own
year, which must be one of the simulated years: a shock in an observed year or beyond the
horizon would silently change nothing, so it is an error.

*What* a scenario acts on: the modelled series of the indicator -- R&D intensity itself, and
for labour productivity its numerator, GDP (the employment block changes the denominator).
A scenario written for GDP (``acts_on: gdp``, "GDP two points slower") acts on GDP wherever
GDP is simulated: for labour productivity as its numerator; for R&D intensity (a share of
GDP, modelled on its own series) as its denominator *with R&D spending held on the path the
baseline implies*, so intensity = baseline intensity x baseline GDP / scenario GDP, path by
path -- a GDP slowdown then *raises* the intensity. That is the arithmetic of a share under a
stated assumption, not a forecast that R&D spending will be protected. ``numerator_elasticity:
E`` states how R&D spending responds instead: spending moves by (scenario GDP / baseline
GDP)^E, so intensity = baseline intensity x (baseline GDP / scenario GDP)^(1 - E); 0 (the
default) holds spending, 1 moves it one-for-one with GDP and leaves the intensity unchanged.
It concerns a share only: on labour productivity, whose numerator is GDP itself, the note
says it is not used. A volatility change written for GDP
does not carry over to the share (its paths would pair with the share's own deviations), and
a scenario written for any other series is refused where it cannot act.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import yaml

from .errors import InputError
from .probability import range_text
from .targets import did_you_mean

_KEYS = {"name", "description", "trend", "growth_shock", "volatility", "employment", "from",
         "acts_on", "numerator_elasticity"}
_EMPLOYMENT_KEYS = {"method", "ratio", "growth", "population", "population_since"}
#: plausibility limits on the modelling scale (log or logit): beyond them a value is almost
#: surely a percentage typed as a number (-3 for -3%), which would silently wipe out the paths
MAX_ABS_TREND = 0.2       # per year, about 20% a year
MAX_ABS_SHOCK = 0.7       # about -50% / +100% of the level
MAX_VOLATILITY = 10.0
MAX_ELASTICITY = 5.0      # exclusive; R&D spending responding 5x as strongly as GDP is not a scenario


def first_open_year(as_of: date) -> int:
    """The first calendar year not over on ``as_of``: what a scenario can still change."""
    return as_of.year + 1 if (as_of.month, as_of.day) == (12, 31) else as_of.year


@dataclass(frozen=True)
class Employment:
    """How employment, the denominator of labour productivity, is simulated: the assumption a
    plan states for it (``assumptions`` in its plan.yaml, :mod:`forecast.plans`), changed by a
    scenario's ``employment`` block where it has one (:func:`parse_employment`)."""

    method: str                               # "population_ratio" | "growth"
    ratio: tuple[float, float]                # employed / population, drawn per path
    growth: tuple[float, float]               # (method growth) annual rate, drawn per path
    population: str                           # the population series (catalogue id)
    population_since: int | None              # series break: first year on the counted basis
    #: (what, year, value): the ratio is not assumed but implied, path by path, by a known
    #: value of the ratio indicator ("published labour_productivity", see
    #: forecast.employment.published_ratio); ``ratio`` then holds the 10-90% of those ratios
    anchor: tuple[str, int, float] | None = None

    def describe(self) -> str:
        if self.method == "growth":
            return (f"employment grows at a constant annual rate drawn uniformly from "
                    f"[{self.growth[0]:+.1%}, {self.growth[1]:+.1%}] per path, from its "
                    f"newest level on the {self.population_since or 'current'} census basis "
                    f"(see the note)")
        since = f" since {self.population_since}" if self.population_since else ""
        if self.anchor:
            what, year, value = self.anchor
            spread = range_text(self.ratio, "{:.3f}")
            if spread != f"{self.ratio[0]:.3f}":  # a range: the paths' implied ratios differ
                spread += " (10-90% over the paths)"
            return (f"employment = {self.population}{since} (simulated) x the employment-to-"
                    f"population ratio that the {what} of {year} ({value:.4g}) implies, "
                    f"{spread}, held in every simulated year (employment then varies with "
                    f"population only)")
        return (f"employment = {self.population}{since} (simulated) x an employment-to-"
                f"population ratio drawn uniformly from [{self.ratio[0]:.2f}, {self.ratio[1]:.2f}] "
                f"per path")


@dataclass(frozen=True)
class Scenario:
    name: str = "baseline"
    description: str = "the models' own paths, no change"
    trend: float = 0.0
    shock_year: int | None = None
    shock_size: float = 0.0
    volatility: float = 1.0
    employment: Employment | None = None
    source: str | None = None
    start: int | None = None   # YAML `from`: first year trend and volatility act on
    on: str | None = None      # YAML `acts_on`: the modelled series it is for (any if None)
    #: YAML `numerator_elasticity`: under `acts_on` a share's denominator, how the share's
    #: numerator (R&D spending) responds to it: 0 held on the baseline's path, 1 one-for-one
    numerator_elasticity: float = 0.0
    #: the keys of the file's employment block: a change of the plan's assumption, made
    #: ``employment`` by :meth:`for_plan` (empty: the file has no employment block)
    employment_change: tuple = ()

    def for_plan(self, base: Employment | None) -> "Scenario":
        """This scenario under a plan whose employment assumption is ``base`` (None: it states
        none): its employment block applied to ``base``. Without a block, itself."""
        if not self.employment_change:
            return self
        if base is None:
            return replace(self, employment=None)
        return replace(self, employment=parse_employment(
            {k: list(v) if isinstance(v, tuple) else v for k, v in self.employment_change},
            self.source, "employment", base))

    @property
    def unusable(self) -> str | None:
        """Why the scenario cannot act under its plan: an employment block with no assumption
        to change (None: it can)."""
        if self.employment_change and self.employment is None:
            return ("its employment block changes the employment assumption of a ratio "
                    "indicator, and the plan states none")
        return None

    def mismatch(self, indicator) -> str | None:
        """Why this scenario cannot act on ``indicator`` (a :class:`forecast.targets.Indicator`)
        because it is written for another series or changes what the plan does not state
        (None when it can)."""
        if self.unusable:
            return f"scenario '{self.name}': {self.unusable}"
        modelled = indicator.modelled_series
        if self.on is None or self.on == modelled:
            return None
        if self.holds_numerator_of(indicator):
            if self.volatility != 1.0:
                return (f"scenario '{self.name}' changes the volatility of {self.on}, which does "
                        f"not carry over to {indicator.id} with its numerator held")
            return None
        what = "itself" if modelled == indicator.id else modelled
        return (f"scenario '{self.name}' is written for {self.on} (its 'acts_on' key), but "
                f"{indicator.id} is simulated as {what}, where its changes would mean "
                "something else")

    def holds_numerator_of(self, indicator) -> bool:
        """True when this scenario acts on the denominator of ``indicator``, a share modelled on
        its own series (``acts_on: gdp`` for R&D intensity): the share then moves with the
        denominator, its numerator held on the baseline's path or moving with
        ``numerator_elasticity`` (see the module doc)."""
        rule = getattr(indicator, "share_of", None)
        return (rule is not None and indicator.derived is None and self.on is not None
                and self.on == rule.denominator)

    def numerator_response(self, numerator: str) -> str:
        """How a share's ``numerator`` moves under this scenario on its denominator."""
        e = self.numerator_elasticity
        if e == 0:
            return f"{numerator} held on the path the baseline implies"
        if e == 1:
            return f"{numerator} moving one-for-one with {self.on} (the share unchanged)"
        return f"{numerator} moving with {self.on} at an elasticity of {e:g}"

    def check_known(self, registry) -> None:
        """An ``acts_on`` that names no series of the catalogue is an error naming the
        scenario file (a typo would otherwise mark the scenario "not applicable" everywhere
        and drop it quietly from a folder)."""
        if self.on is not None and self.on not in registry.indicators:
            raise InputError(self.source, f"acts_on '{self.on}' is not a series of the "
                             f"catalogue{did_you_mean(self.on, registry.indicators)}",
                             field="acts_on", expected="a series id such as gdp or rd_intensity")

    def check_acts_on(self, indicator) -> None:
        """:meth:`mismatch` as an error naming the scenario file."""
        why_not = self.mismatch(indicator)
        if why_not and self.unusable:
            raise InputError(self.source, why_not, field="employment",
                             expected="no employment block under this plan")
        if why_not:
            raise InputError(self.source, why_not, field="acts_on",
                             expected=f"'acts_on: {indicator.modelled_series}' or no 'acts_on' "
                                      f"key, for {indicator.id}")

    def acts_from(self, years: np.ndarray, first_open: int | None) -> int:
        """The first of ``years`` that the trend and volatility change (see module doc)."""
        start = self.start if self.start is not None else first_open
        return max(int(years[0]), int(start)) if start is not None else int(years[0])

    def is_baseline(self) -> bool:
        return self.trend == 0 and self.shock_size == 0 and self.volatility == 1.0

    def acts_over_time(self) -> bool:
        """A trend or volatility change: what ``from`` (or the first open year) starts."""
        return self.trend != 0 or self.volatility != 1.0

    def timing(self, years: np.ndarray, first_open: int | None, series: str) -> str:
        """Where and when the scenario acts, e.g. "on gdp: trend from 2026, shock in 2026"
        ("" for the baseline)."""
        if self.is_baseline():
            return ""
        parts = []
        if self.acts_over_time():
            what = " and ".join(w for w, on in (("trend", self.trend != 0),
                                                ("volatility", self.volatility != 1.0)) if on)
            parts.append(f"{what} from {self.acts_from(np.asarray(years), first_open)}")
        if self.shock_year is not None and self.shock_size != 0:
            parts.append(f"shock in {self.shock_year}")
        return f"on {series}: " + ", ".join(parts)

    def apply(self, z: np.ndarray, years: np.ndarray, first_open: int | None = None,
              series: str = "the series") -> np.ndarray:
        """The scenario's paths from ``z`` (n_paths, len(years)) on the modelling scale.

        ``first_open``: the first year not over on the run's as-of date (the default start of
        the trend and volatility change); ``series`` names what ``z`` simulates, for errors.
        Raises :class:`InputError` when a change would fall outside ``years`` and so silently
        do nothing."""
        if self.is_baseline():
            return z
        years = np.asarray(years, dtype=int)
        span = f"{series} is simulated for {years[0]}-{years[-1]}"
        if self.shock_year is not None and not years[0] <= self.shock_year <= years[-1]:
            raise InputError(self.source, f"growth_shock year {self.shock_year} is not a "
                             f"simulated year: {span}", field="growth_shock.year",
                             expected=f"a year from {years[0]} to {years[-1]}")
        start = self.acts_from(years, first_open)
        if self.acts_over_time() and start > years[-1] and self.start is None:
            # nothing the file says is wrong: on this as-of date no simulated year is to come
            raise InputError(self.source, f"every simulated year is over on the as-of date "
                             f"({span}): a trend or volatility change acts from the first year "
                             f"still to come, {start}", field="as_of",
                             expected=f"an as-of date before the end of {years[-1]}, or a "
                             "scenario with a growth_shock only")
        if self.acts_over_time() and start > years[-1]:
            raise InputError(self.source, f"'from' {start} is after the last simulated year: "
                             f"{span}", field="from", expected=f"a year up to {years[-1]}")
        acting = years >= start
        median = np.median(z, axis=0)
        out = np.where(acting, median + self.volatility * (z - median), z)
        out = out + self.trend * np.where(acting, years - start + 1, 0)
        if self.shock_year is not None:
            out = out + self.shock_size * (years >= self.shock_year)
        return out

    def as_dict(self) -> dict:
        out = asdict(self)
        del out["employment_change"]  # recorded as what it made: ``employment``
        return out


def _pair(value, path, field_name) -> tuple[float, float]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) for v in value) or value[0] > value[1]):
        raise InputError(path, f"'{field_name}' is {value!r}", field=field_name,
                         expected="[low, high] with low <= high")
    return float(value[0]), float(value[1])


def _number(doc: dict, key: str, path, default: float, low: float, high: float,
            hint: str, field_name: str | None = None) -> float:
    """``doc[key]`` (or ``default``) as a float strictly between ``low`` and ``high``."""
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) \
            or not low < value < high:
        raise InputError(path, f"'{field_name or key}' is {value!r}", field=field_name or key,
                         expected=f"a number between {low:g} and {high:g} ({hint})")
    return float(value)


def parse_employment(emp, path, where: str, base: Employment | None = None) -> Employment:
    """An employment block (a plan's assumption, or a scenario's change of it) as an
    :class:`Employment`: each key the block leaves out is ``base``'s (a plan's block, with no
    base, states them all). ``where`` names the block in errors."""
    if not isinstance(emp, dict) or emp.get("method", "population_ratio") not in (
            "population_ratio", "growth"):
        raise InputError(path, f"'{where}' is {emp!r}", field=where,
                         expected="{method: population_ratio|growth, ratio|growth: [lo, hi]}")
    known = _EMPLOYMENT_KEYS | ({"sources", "note"} if base is None else set())
    unknown = sorted(str(k) for k in set(emp) - known - {"__line__"})
    if unknown:
        raise InputError(path, f"unknown key(s) {', '.join(unknown)} under '{where}'",
                         field=f"{where}.{unknown[0]}", expected=", ".join(sorted(known)))
    if base is None:
        missing = sorted(_EMPLOYMENT_KEYS - set(emp))
        if missing:
            raise InputError(path, f"'{where}' does not state {', '.join(missing)}",
                             line=emp.get("__line__"), field=f"{where}.{missing[0]}",
                             expected="method, population, population_since, ratio and growth")
    since = emp["population_since"] if "population_since" in emp else base.population_since
    if since is not None and (isinstance(since, bool) or not isinstance(since, int)):
        raise InputError(path, f"'{where}.population_since' is {since!r}",
                         field=f"{where}.population_since", expected="a year, or null")
    population = emp["population"] if "population" in emp else base.population
    if not isinstance(population, str) or not population.strip():
        raise InputError(path, f"'{where}.population' is {population!r}",
                         field=f"{where}.population", expected="a population series id")
    employment = Employment(
        method=emp.get("method", base.method if base else "population_ratio"),
        ratio=_pair(emp["ratio"], path, f"{where}.ratio") if "ratio" in emp else base.ratio,
        growth=_pair(emp["growth"], path, f"{where}.growth") if "growth" in emp else base.growth,
        population=population.strip(), population_since=since)
    if employment.growth[0] <= -0.2 or employment.growth[1] >= 0.2:
        raise InputError(path, f"employment growth {employment.growth}", field=f"{where}.growth",
                         expected="annual rates between -0.2 and 0.2 (e.g. [-0.01, 0.02])")
    if not 0 < employment.ratio[0] <= employment.ratio[1] <= 1:
        raise InputError(path, f"employment ratio {employment.ratio}", field=f"{where}.ratio",
                         expected="a range within (0, 1]")
    return employment


#: a complete assumption that only lets a scenario's employment block be checked under a plan
#: that states none (its values are never used)
_ANY_EMPLOYMENT = Employment("population_ratio", (0.5, 0.5), (0.0, 0.0), "population", None)


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's own rule is that the last of two equal keys wins, silently: here it is an
    error, because a scenario with two ``trend:`` lines says two things."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _read_yaml(path: Path):
    if path.is_dir():
        raise InputError(path, "is a folder", expected="one scenario file (a folder of them "
                         "goes to `forecast sensitivity --scenarios` or the scenario explorer)")
    if not path.is_file():
        raise InputError(path, "scenario file not found", expected="a YAML file, e.g. "
                         "notebooks/scenarios/slower_trend.yaml")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 at byte {exc.start}", expected="UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, f"malformed YAML: {getattr(exc, 'problem', exc)}",
                         line=mark.line + 1 if mark else None) from None


def load_scenario(path: str | Path | None, base_employment: Employment | None = None
                  ) -> Scenario:
    """Read and validate a scenario file; ``None`` gives the baseline. An ``employment`` block
    changes ``base_employment``, the plan's assumption."""
    if path is None:
        return Scenario()
    path = Path(path)
    return parse_scenario(_read_yaml(path), path, base_employment=base_employment)


def load_scenarios(path: str | Path, base_employment: Employment | None = None
                   ) -> list[Scenario]:
    """Every scenario in ``path``: a directory of scenario files (sorted by name), a file
    holding a YAML list of scenarios, or a single scenario file."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))
        if not files:
            raise InputError(path, "no scenario files", expected="*.yaml files")
        scenarios = [load_scenario(f, base_employment) for f in files]
    else:
        doc = _read_yaml(path)
        scenarios = ([parse_scenario(entry, path, f"{path.stem}_{i + 1}", base_employment)
                      for i, entry in enumerate(doc)] if isinstance(doc, list)
                     else [parse_scenario(doc, path, base_employment=base_employment)])
    return distinct_names(scenarios)


def distinct_names(scenarios: list[Scenario]) -> list[Scenario]:
    """``scenarios`` unchanged, or an error if two share a name or one is called baseline:
    results are tabulated by name, so two scenarios of one name would be averaged into one
    column, and the baseline is always run under its own name."""
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name == Scenario().name or scenario.name in seen:
            other = "the baseline every run includes" if scenario.name == Scenario().name \
                else seen[scenario.name]
            raise InputError(scenario.source, f"scenario name '{scenario.name}' is already "
                             f"taken by {other}", field="name",
                             expected="a distinct name per scenario")
        seen[scenario.name] = str(scenario.source)
    return scenarios


def parse_scenario(doc, path: Path, default_name: str | None = None,
                   base_employment: Employment | None = None) -> Scenario:
    """Validate one scenario mapping read from ``path``; its ``employment`` block changes
    ``base_employment``, the plan's assumption (:meth:`forecast.plans.Plan.employment`)."""
    if not isinstance(doc, dict):
        raise InputError(path, "a scenario is a mapping" + (
            " (a list of scenarios goes to `forecast sensitivity --scenarios`)"
            if isinstance(doc, list) else ""), expected="name, description, ...")
    for key in ("name", "description"):
        if key == "description" and doc.get(key) is None:
            continue  # an empty description is no description
        if key in doc and not (isinstance(doc[key], str) and (doc[key].strip() or
                                                              key == "description")):
            # `name: yes` is the boolean true to YAML, and `name:` is null
            raise InputError(path, f"'{key}' is {doc[key]!r}", field=key,
                             expected="text (quote it if YAML reads it as something else)")
    # str(): YAML reads some bare keys as booleans or numbers (on, yes, 1)
    unknown = sorted(str(k) for k in set(doc) - _KEYS)
    if unknown:
        quote = (" (YAML reads a bare on/off/yes/no as true or false: quote the key, or did "
                 "you mean acts_on?)" if any(isinstance(k, bool) for k in doc) else "")
        raise InputError(path, f"unknown key(s) {', '.join(unknown)}{quote}",
                         field=unknown[0], expected=", ".join(sorted(_KEYS)))
    shock = doc.get("growth_shock") or {}
    if shock and (not isinstance(shock, dict) or isinstance(shock.get("year"), bool)
                  or not isinstance(shock.get("year"), int) or set(shock) != {"year", "size"}):
        raise InputError(path, f"'growth_shock' is {shock!r}", field="growth_shock",
                         expected="{year: YEAR, size: NUMBER}")
    on = doc.get("acts_on")
    if on is not None and (not isinstance(on, str) or not on.strip()):
        raise InputError(path, f"'acts_on' is {on!r}", field="acts_on",
                         expected="the id of the series it acts on, e.g. gdp or rd_intensity")
    if "numerator_elasticity" in doc and on is None:
        raise InputError(path, "'numerator_elasticity' without 'acts_on'",
                         field="numerator_elasticity",
                         expected="acts_on: the denominator it responds to, e.g. gdp")
    start = doc.get("from")
    if start is not None and (isinstance(start, bool) or not isinstance(start, int)
                              or not 1900 <= start <= 2100):
        raise InputError(path, f"'from' is {start!r}", field="from", expected="a year, e.g. 2026")
    employment, change = None, ()
    if doc.get("employment") is not None:
        # checked here whatever the plan (a typo is an error anywhere), applied to the plan's
        # assumption here or, read without one, by Scenario.for_plan when it is run
        employment = parse_employment(doc["employment"], path, "employment",
                                      base_employment or _ANY_EMPLOYMENT)
        change = tuple((str(k), tuple(v) if isinstance(v, list) else v)
                       for k, v in doc["employment"].items() if k != "__line__")
        employment = employment if base_employment is not None else None
    return Scenario(
        name=str(doc.get("name", default_name or path.stem)), description=str(doc.get("description") or ""),
        trend=_number(doc, "trend", path, 0.0, -MAX_ABS_TREND, MAX_ABS_TREND,
                      "per year on the modelling scale: 0.01 is about +1% a year"),
        shock_year=shock.get("year") if shock else None,
        shock_size=_number(shock, "size", path, 0.0, -MAX_ABS_SHOCK, MAX_ABS_SHOCK,
                           "on the modelling scale: -0.03 is about -3% of the level",
                           "growth_shock.size") if shock else 0.0,
        volatility=_number(doc, "volatility", path, 1.0, 0.0, MAX_VOLATILITY,
                           "a multiplier: 1.5 widens the spread by half"),
        employment=employment, employment_change=change, source=str(path), start=start,
        on=on.strip() if on is not None else None,
        numerator_elasticity=_number(doc, "numerator_elasticity", path, 0.0, -MAX_ELASTICITY,
                                     MAX_ELASTICITY, "0 holds the numerator, 1 moves it "
                                     "one-for-one with the denominator"),
    )
