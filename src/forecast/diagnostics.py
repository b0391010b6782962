"""Typed diagnostics beside a probability: what it rests on and what a target would take.

Each diagnostic is a small frozen object that a kind of indicator (:mod:`forecast.kinds`)
or the pipeline makes, and that renders itself three ways, so that ``forecast run``, the
notebooks and the HTML say the same thing from the same object:

* :meth:`text` -- one sentence, as ``forecast run`` prints it and the pages quote it;
* :meth:`row` -- one row of a table (readable strings, never ``nan``);
* :meth:`as_dict` -- the JSON of ``forecast run --json`` and ``summary.json``.

They follow the style of statsmodels' results objects: the numbers are attributes, the
wording is in one place.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .i18n import language
from .probability import format_probability, range_text

#: what a table cell shows where a figure does not apply (never "nan" or "None")
NOT_APPLICABLE = "–"


def _dash(value, fmt: str = "{}") -> str:
    return NOT_APPLICABLE if value is None else fmt.format(value)


@dataclass(frozen=True)
class GrowthNeeded:
    """The growth of a ratio's numerator (GDP) a target takes at each of several values of
    the denominator assumption (the employment ratio), from the newest published numerator,
    beside the models' own median growth."""

    start: str                     # "21860 亿元 in 2024"
    by_ratio: dict[str, float]     # ratio (as printed) -> median yearly growth it takes
    models: float                  # the models' median yearly growth over the same years
    at_most: bool = False          # a ceiling: the growth it allows at most

    def said(self, growth: float, t) -> str:
        """What a negative growth means for the target: a floor is met even if GDP shrinks,
        a ceiling only if it does."""
        if growth >= 0:
            return ""
        return " " + (t._("(only if GDP shrinks)") if self.at_most
                      else t._("(met even if GDP shrinks)"))

    def as_dict(self) -> dict:
        return {"from": self.start, "by_ratio": dict(self.by_ratio), "models": self.models}

    def text(self) -> str:
        t = language("en")
        what = "the GDP growth it allows at most" if self.at_most else "the GDP growth it takes"
        return (f"{what} from {self.start}: " + ", ".join(
            f"{g:+.1%}/yr at {r}{self.said(g, t)}" for r, g in self.by_ratio.items())
            + f" (the models' median {self.models:+.1%}/yr)")


@dataclass(frozen=True)
class BreakEven:
    """Where a ratio's probability of meeting one target crosses 50% as its denominator
    assumption varies (labour productivity = GDP / employment): the employment-to-population
    ratio, the employment growth from the newest level, P held at the ends and the middle of
    the assumed range, and the GDP growth the target takes there. A figure is None where
    the assumption does not have it (a ratio a published figure implies is not held across
    paths), or where 50% is not crossed in the searched interval."""

    target_id: str
    employment_level: float                   # 万人 at the median GDP that meets the target
    employment: object                        # the assumption as used (scenario.Employment)
    ratio: float | None = None                # employment / population at P = 50%
    has_ratio: bool = False                   # the assumption has a ratio to vary
    p_at_ratio: dict[str, float] | None = None
    gdp_growth_needed: GrowthNeeded | None = None
    growth: float | None = None               # yearly employment growth at P = 50%
    has_growth: bool = False                  # there is a level to grow from
    growth_base: str | None = None            # "1262 万人 in 2024 (...)"
    at_most: bool = False                     # a ceiling: more employment makes it likelier

    def as_dict(self) -> dict:
        out: dict = {"target_id": self.target_id}
        if self.has_ratio:
            out["employment_to_population_ratio"] = self.ratio
        if self.p_at_ratio is not None:
            out["p_at_ratio"] = dict(self.p_at_ratio)
        if self.gdp_growth_needed is not None:
            out["gdp_growth_needed"] = self.gdp_growth_needed.as_dict()
        if self.has_growth:
            out["employment_growth_per_year"] = self.growth
        if self.growth_base is not None:
            out["employment_growth_base"] = self.growth_base
        out["employment_level_wan"] = self.employment_level
        return out

    def text(self) -> str:
        """``forecast run``'s line for this target."""
        parts = []
        if self.ratio is not None:
            lo, hi = self.employment.ratio
            if self.employment.anchor:  # the ratio is the figure's, path by path
                what, year, _ = self.employment.anchor
                parts.append(f"employment/population ratio {self.ratio:.3f} (the {what} of "
                             f"{year} implies {range_text((lo, hi))})")
            else:
                # a floor on GDP / employment is likelier the fewer employed, so below a
                # break-even above the range P is over 50% throughout; a ceiling the reverse
                above = (self.ratio > hi) != self.at_most
                parts.append(f"employment/population ratio {self.ratio:.3f}" + (
                    "" if lo <= self.ratio <= hi else f" (outside the assumed {lo:.2f}-"
                    f"{hi:.2f}: P is {'above' if above else 'below'} 50% on every "
                    f"ratio in that range)"))
        if self.growth is not None:
            parts.append(f"employment growth {self.growth:+.2%}/yr from {self.growth_base}")
        parts.append(f"employment {self.employment_level:.0f} 万人 at median GDP")
        if self.p_at_ratio:
            parts.append("P at a ratio of " + ", ".join(
                f"{r}: {format_probability(p)}" for r, p in self.p_at_ratio.items()))
        if self.gdp_growth_needed is not None:
            parts.append(self.gdp_growth_needed.text())
        return f"{self.target_id}: P(hit) falls to 50% at " + "; ".join(parts)

    def row(self, lang: str = "en") -> dict[str, str]:
        """A table row with every column filled ("–" where a figure does not apply): the
        same columns for every target, so a table of several never shows a gap as nan. A
        negative GDP growth needed says what it means: a floor is met even if GDP shrinks, a
        ceiling only if it does."""
        t = language(lang)
        row = {t._("target"): self.target_id,
               t._("P = 50% at employment ratio"): _dash(self.ratio, "{:.3f}")}
        for r, p in (self.p_at_ratio or {}).items():
            row[t._("P at ratio {ratio}", ratio=r)] = format_probability(p)
        need = self.gdp_growth_needed
        for r, g in (need.by_ratio if need else {}).items():
            row[t._("GDP growth needed at {ratio}", ratio=r)] = t.growth(g) + need.said(g, t)
        if need is not None:
            row[t._("GDP growth, models' median")] = t.growth(need.models)
            row[t._("GDP from")] = need.start
        row[t._("P = 50% at employment growth")] = (
            NOT_APPLICABLE if self.growth is None else
            t._("{rate}/yr from {base}", rate=f"{self.growth:+.2%}", base=self.growth_base))
        row[t._("employment at median GDP")] = f"{self.employment_level:.0f} 万人"
        return row


@dataclass(frozen=True)
class RequiredGrowth:
    """How fast a share's numerator must grow for one target over the simulated denominator
    (R&D spending for R&D intensity = 100 x spending / GDP): the median and 10-90% of the
    yearly growth it takes from its newest level, the level it takes, and the denominator's
    own median growth over the same years."""

    target_id: str
    target_year: int
    numerator: str
    denominator: str
    unit: str
    base_year: int
    base: float
    basis: str                                # where the starting level comes from
    median: float
    q10: float
    q90: float
    level_median: float
    denominator_growth_median: float | None
    past: str                                 # the numerator's published growth, said
    break_note: str = ""                      # the denominator's census break, if crossed
    at_most: bool = False                     # a ceiling: the growth it may take at most

    def as_dict(self) -> dict:
        return {"numerator": self.numerator, "unit": self.unit, "base_year": self.base_year,
                "base": self.base, "basis": self.basis, "median": self.median, "q10": self.q10,
                "q90": self.q90, "level_median": self.level_median,
                "denominator_growth_median": self.denominator_growth_median, "past": self.past}

    def text(self) -> str:
        verb = "may grow at most" if self.at_most else "must grow"
        return (
            f"{self.target_id}: {self.numerator} {verb} {self.median:+.1%}/yr (10-90%: "
            f"{self.q10:+.1%} to {self.q90:+.1%}, over the simulated {self.denominator} paths) "
            f"from {self.base:.0f} {self.unit} in {self.base_year} ({self.basis}) to "
            f"{self.level_median:.0f} {self.unit} in {self.target_year}"
            + ("" if self.denominator_growth_median is None else
               f"; over the same years the {self.denominator} ensemble grows "
               f"{self.denominator_growth_median:+.1%}/yr at the median")
            + (f"; {self.past}" if self.past else "") + self.break_note)

    def row(self, lang: str = "en") -> dict[str, str]:
        t = language(lang)
        return {t._("target"): self.target_id,
                t._("from"): f"{self.base:.0f} {self.unit} ({self.base_year})",
                t._("needed growth/yr, median"): f"{self.median:+.1%}",
                "10%": f"{self.q10:+.1%}", "90%": f"{self.q90:+.1%}",
                t._("level needed ({unit})", unit=self.unit): f"{self.level_median:.0f}",
                t._("{series} growth/yr, same years", series=self.denominator):
                    _dash(self.denominator_growth_median, "{:+.1%}"),
                t._("basis"): self.basis, t._("past"): self.past or NOT_APPLICABLE}


@dataclass
class BasisRestatement:
    """A share modelled on its own series, read against its denominator's census-revised
    basis (R&D intensity over GDP after the 2024 economic census): its history is over the
    earlier denominator, every figure from the break year on will be over the revised one,
    so the models' paths from the break year are divided by 1 + r, r drawn per path over
    the revision's range. ``p_history_basis`` is P on the history's own basis, per target."""

    indicator: str
    denominator: str
    break_year: int
    revision: tuple[float, float]
    link_factor: float
    last_published: int
    p_history_basis: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"denominator": self.denominator, "break_year": self.break_year,
               "revision": list(self.revision), "link_factor": self.link_factor,
               "last_published": self.last_published}
        if self.p_history_basis:
            out["p_history_basis"] = dict(self.p_history_basis)
            out["text"] = self.text()
        return out

    def text(self) -> str:
        i, d, y = self.indicator, self.denominator, self.break_year
        return (
            f"{i} from {y} on is read against {d} on its census-revised basis: every {i} from "
            f"{y} on will be published over it (there is no other {d} for those years), while "
            f"the history, published to {self.last_published}, is over the earlier one. The "
            f"models' paths from {y} are divided by 1 + r, r drawn per path from "
            f"{self.revision[0]:+.1%} to {self.revision[1]:+.1%} (the estimated revision, "
            f"data/raw/catalogue.yaml). On the history's own basis P would be "
            + ", ".join(f"{format_probability(v)} for {tid}"
                        for tid, v in self.p_history_basis.items())
            + f". The pace figures compare the history with each target restated on the "
            f"history's basis (times {self.link_factor:.3f}, the revision's midpoint)")

    def revision_text(self) -> str:
        return "{:.1%}-{:.1%}".format(*self.revision)


@dataclass(frozen=True)
class ProbablyPublished:
    """Years of a series that are over and simulated, though by how soon the series has been
    published before (the earliest dated release in the data) their first figure is
    probably out already."""

    series: str
    years: tuple[int, ...]
    lag_days: int
    example: str                              # "2023: 2024-01-20"

    def as_dict(self) -> dict:
        return {"series": self.series, "years": list(self.years), "lag_days": self.lag_days,
                "example": self.example}

    def text(self) -> str:
        return (f"{self.series}: a first figure for {', '.join(map(str, self.years))} is "
                f"probably out already: {self.series} has been published as soon as "
                f"{self.lag_days} days after its year ({self.example}); adding it (`forecast "
                "data add`) would replace the models' estimate with a published figure")

    def short(self) -> str:
        """'gdp 2025': for a list of them."""
        return f"{self.series} {', '.join(map(str, self.years))}"


@dataclass(frozen=True)
class ImpliedLevel:
    """Where a ratio without a published series stands now on the run's own denominator
    assumption: numerator / (population x ratio) in the last year both are published, over
    the assumed range (labour productivity in 2024, from GDP and population), and the targets
    it already meets on every ratio of the range."""

    indicator: str
    unit: str
    year: int
    low: float
    high: float
    middle: float
    ratio: tuple[float, float]
    at_or_above_targets: tuple[str, ...]
    numerator: str
    population: str
    anchor: tuple | None = None               # (what, year, value) of a published figure
    below_text: str = ""                      # the targets already met, named

    def as_dict(self) -> dict:
        return {"year": self.year, "low": self.low, "high": self.high, "middle": self.middle,
                "ratio": list(self.ratio), "at_or_above_targets": list(self.at_or_above_targets),
                "text": self.text()}

    def text(self) -> str:
        if self.anchor:
            what, anchor_year, _ = self.anchor
            return (f"on the ratio the {what} of {anchor_year} implies, {self.indicator} in "
                    f"{self.year} (the last year with {self.numerator} and {self.population} "
                    f"published) was {range_text((self.low, self.high), '{:.1f}')} {self.unit}")
        text = (f"on this assumption {self.indicator} in {self.year} (the last year with "
                f"{self.numerator} and {self.population} published) was {self.low:.1f}-"
                f"{self.high:.1f} {self.unit} (ratio {self.ratio[1]:.2f}-{self.ratio[0]:.2f}; "
                f"{self.middle:.1f} at the middle)")
        if self.below_text:
            text += (f"; the {self.below_text} already met on every ratio in the range: if "
                     f"an official {self.year} figure says otherwise, it counts employment "
                     "or prices differently")
        return text


@dataclass(frozen=True)
class EmploymentStart:
    """Where the employment-growth assumption starts: the level (a range where it is
    population x the assumed ratio) in a year, and what it is."""

    year: int
    low: float
    high: float
    what: str

    def text(self) -> str:
        return (f"employment grows from {range_text((self.low, self.high), '{:.0f}')} 万人 in "
                f"{self.year} ({self.what})")
