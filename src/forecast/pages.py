"""The parts of the report's notebook pages that readers read first, in their language.

A notebook page (``notebooks/*.ipynb``, executed by the report) opens with a title and a
summary box -- P, the median, the band and the main assumption -- and is cut into sections
a reader can collapse (the page template, ``templates/offline.html.j2``, builds the table
of contents from the sections' headings). This module renders those parts from the
library's results through ``templates/pages.html.j2``: the notebooks call it, so the
wording is in one place and translated like the rest of the report (:mod:`forecast.i18n`).
Nothing here computes a number.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .i18n import N_, Language, language
from .render import (STATUS_COLOURS, comparison_sign, known, pace_label, render,
                     status_word)

#: reliability grades (data/README) as the pages name them
GRADES = ("official", "official media", "copy of an official text", "compiled dataset",
          "secondary", "user supplied")


def grade_word(grade: str, t: Language) -> str:
    """A source's reliability grade, short, in the language ("" when ungraded)."""
    grade = str(grade or "").lower()
    words = {"official media": t._("official media"), "official": t._("official"),
             "copy of an official text": t._("copy of an official text (verify)"),
             "compiled dataset": t._("compiled dataset"), "secondary": t._("secondary"),
             "user supplied": t._("your own data")}
    for key in ("official media", "copy of an official text", "compiled dataset",
                "secondary", "user supplied", "official"):
        if grade.startswith(key):
            return words[key]
    return grade


@dataclass
class IndicatorPage:
    """The reader-facing parts of one indicator's page."""

    result: object            # forecast.pipeline.IndicatorForecast
    lang: str = "en"

    @property
    def t(self) -> Language:
        return language(self.lang)

    def name(self) -> str:
        ind = self.result.indicator
        return self.t.name(vars(ind))

    def header(self, classes=None) -> str:
        """The title, the targets in the plan's words, and the summary box."""
        from .plans import ProbabilityClasses
        classes = classes or ProbabilityClasses()
        r, t = self.result, self.t
        unit = r.indicator.unit
        boxes = []
        for target in r.targets:
            p = r.probabilities.get(target.id)
            obs = r.observed.get(target.id)
            goal = f"{comparison_sign(target.comparison)} {target.value:g} {unit}"
            if p is not None:
                status = classes.of(p.p_in_year)
                boxes.append({"year": target.year, "goal": goal, "p": t.percent(p.p_in_year),
                              "mc": t._("±{n} pts", n=f"{100 * p.mc_error95:.1f}"),
                              "status": status, "word": status_word(status, t),
                              "colour": STATUS_COLOURS[status],
                              "median": t.number(p.median, 3), "band": t._(
                                  "{low} to {high}", low=t.number(p.q10, 3),
                                  high=t.number(p.q90, 3))})
            elif obs is not None:
                status = "observed met" if obs["met"] else "observed missed"
                boxes.append({"year": target.year, "goal": goal, "p": "", "mc": "",
                              "status": status, "word": status_word(status, t),
                              "colour": STATUS_COLOURS[status],
                              "median": t.number(obs["value"], 4), "band": ""})
            else:
                status = "pace only" if r.status == "pace only" else "not forecastable"
                pc = r.pace.get(target.id)
                boxes.append({"year": target.year, "goal": goal, "p": "", "mc": "",
                              "status": status, "word": status_word(status, t),
                              "colour": STATUS_COLOURS[status], "median": "",
                              "band": pace_label(pc.label, t) if pc else ""})
        return render("pages.html.j2", self.lang, part="header", name=self.name(),
                      indicator=r.indicator, region=r.region, as_of=t.date(r.as_of),
                      scenario=r.scenario, targets=r.targets, boxes=boxes,
                      assumption=self.main_assumption(), pooling=self.pooling())

    def pooling(self) -> str:
        """Which panel of other regions informed the forecast, how much the region's own
        history weighs, and P without pooling ("" without a pooled member)."""
        r, t = self.result, self.t
        comp = r.modelled
        info = comp.pooling if comp else None
        if not info:
            return ""
        if info.get("dropped"):
            return t._("not pooled with other regions: {reason}", reason=info["dropped"])
        return t._("pooled with {panel}: {n} regions informed the forecast of {series}; its own "
                   "history weighs {drift} in the trend and {vol} in the volatility; the pooled "
                   "member's weight is {weight}; without it P would be {ps}",
                   panel=info["panel"], n=info["n_regions"], series=comp.indicator,
                   drift=f"{info['own_weight_drift']:.2f}",
                   vol=f"{info['own_weight_volatility']:.2f}", weight=f"{info['weight']:.2f}",
                   ps=", ".join(f"{tid.rsplit('_', 1)[-1]}: {t.percent(p)}"
                                for tid, p in r.p_without_pooling.items()) or "–")

    def main_assumption(self) -> str:
        """What the probability rests on besides the history, in one line."""
        r, t = self.result, self.t
        if r.basis:
            return t._("the {indicator} figures from {year} on are read against the census-"
                       "revised {of} (estimated {revision}); on the history's own basis P "
                       "would be {ps}", indicator=self.name(), year=r.basis.break_year,
                       of=r.basis.denominator, revision=r.basis.revision_text(),
                       ps=", ".join(t.percent(p) for p in r.basis.p_history_basis.values()))
        if r.employment is not None:
            return t._("employment is not published: {assumption}",
                       assumption=r.employment.describe())
        if r.paths is None:
            return t._("too little history for a model: the pace diagnostic only")
        return t._("the models' own paths from the published history, weighted by their "
                   "backtests on it")

    def section(self, key: str) -> str:
        """A section's heading and what it shows (the page template makes it collapsible)."""
        return render("pages.html.j2", self.lang, part="section", key=key,
                      derived=self.result.indicator.derived is not None)

    def sources(self, rows: pd.DataFrame) -> str:
        """The sourced history: per year the value, the source, its date and grade; the
        collectors' notes on each figure behind a details element."""
        t = self.t
        shown = []
        for r in rows.itertuples():
            shown.append({"year": int(r.year), "value": t.number(r.value, 4),
                          "preliminary": bool(r.preliminary), "source": str(r.source_title),
                          "url": str(r.source_url or "").split(" | ")[0],
                          "published": str(r.published or ""),
                          "grade": grade_word(r.reliability, t),
                          "derived": str(r.derivation or ""),
                          "note": str(r.vintage or ""), "n": int(r.n_vintages)})
        years = [s["year"] for s in shown]
        gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years)) if years else []
        return render("pages.html.j2", self.lang, part="sources", rows=shown, gaps=gaps,
                      unit=self.result.indicator.unit)

    def probabilities(self) -> str:
        """Each target's probability, its Monte Carlo error, the median and band, and the
        series' own backtest beside it."""
        r, t = self.result, self.t
        cal = r.modelled.calibration if r.modelled else {}
        of = r.modelled.indicator if r.modelled and r.modelled.indicator != r.indicator.id \
            else None
        rows = [{"target": f"{p.year}: {comparison_sign(target.comparison)} {p.target:g}",
                 "p": t.percent(p.p_in_year), "mc": t._("±{n} pts", n=f"{100 * p.mc_error95:.1f}"),
                 "p_by": t.percent(p.p_by_year), "median": t.number(p.median, 4),
                 "q10": t.number(p.q10, 4), "q90": t.number(p.q90, 4),
                 "shortfall": f"{p.shortfall_median:+.3g}"}
                for target in r.targets if (p := r.probabilities.get(target.id))]
        return render("pages.html.j2", self.lang, part="probabilities", rows=rows,
                      unit=r.indicator.unit, difference_unit=r.indicator.difference_unit,
                      cal=cal or None, of=of, joint=r.joint and {
                          "p": t.percent(r.joint["p_all_met"]),
                          "product": t.percent(r.joint["p_product_of_marginals"])})

    def notes(self) -> str:
        """The run's technical notes (what each figure rests on), behind a details element."""
        return render("pages.html.j2", self.lang, part="notes", notes=self.result.notes)


def section(key: str, lang: str = "en") -> str:
    """A section's heading and what it shows, on any page (see ``templates/pages.html.j2``
    for the keys)."""
    return render("pages.html.j2", lang, part="section", key=key, derived=False)


def heading(title: str, subtitle: str, lang: str = "en") -> str:
    """A page's title, a line under it, and the label of its table of contents."""
    return render("pages.html.j2", lang, part="heading", title=title, subtitle=subtitle)


def pace_frame(result, lang: str = "en") -> pd.DataFrame:
    """The pace diagnostic as a readable table: one row per target, "–" where a figure
    does not apply."""
    t = language(lang)
    rows = []
    for pc in result.pace.values():
        rows.append({t._("target"): pc.target_id,
                     t._("from"): "–" if pc.base_year is None else str(pc.base_year),
                     t._("observed growth"): t.growth(pc.observed_cagr, 2),
                     t._("required growth"): t.growth(pc.required_cagr, 2),
                     t._("ratio"): "–" if pc.ratio is None else f"{pc.ratio:.3f}",
                     t._("assessment"): pace_label(pc.label, t),
                     t._("still needed from the last value"): t.growth(pc.required_from_last, 2),
                     t._("caveat"): pc.source_caveat() or "–"})
    return pd.DataFrame(rows)


#: what a table's column is called on a page (the notebooks' frames keep the library's names)
COLUMN_LABELS = {
    "crps": N_("CRPS"), "brier": N_("Brier score"), "n_forecasts": N_("forecasts"),
    "n_origins": N_("origins"), "n_series": N_("series"),
    "n_failures": N_("origins without a forecast"),
    "brier_events": N_("Brier score of target-like events"),
    "brier_events_base_rate": N_("Brier score of the base rate"),
    "coverage_50": N_("50% interval coverage"), "coverage_80": N_("80% interval coverage"),
    "coverage_95": N_("95% interval coverage"), "horizon": N_("years ahead"), "group": N_("group"),
    "above_median": N_("outcome above the median"), "n": N_("forecasts"),
    "lower": N_("probability bin from"), "upper": N_("probability bin to"),
    "mean_predicted": N_("mean predicted probability"),
    "observed_frequency": N_("observed frequency"), "target_id": N_("target"), "year": N_("year"),
    "target": N_("goal"), "p_at_target": N_("probability at the goal"),
    "level_50": N_("level reached with 50% probability"),
    "level_80": N_("level reached with 80% probability"), "assumption": N_("assumption"),
    "low": N_("low"), "low_variant": N_("low variant"), "high": N_("high"),
    "high_variant": N_("high variant"), "base": N_("base"), "swing": N_("swing"),
    "note": N_("note"),
}


def table(frame: pd.DataFrame, lang: str = "en", formats: dict | None = None):
    """``frame`` as a page shows it: each column formatted (``formats``: column -> format
    string or function; "–" for a missing value, never nan) and named in ``lang``
    (:data:`COLUMN_LABELS`; a column without a label keeps its name)."""
    t = language(lang)
    formats = formats or {}
    shown = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        fmt = formats.get(col, "{}")
        apply = fmt.format if isinstance(fmt, str) else fmt
        shown[t._(COLUMN_LABELS[col]) if col in COLUMN_LABELS else col] = [
            "–" if v is None or (isinstance(v, float) and v != v) else apply(v)
            for v in frame[col]]
    return shown.style.hide(axis="index")


__all__ = ["IndicatorPage", "pace_frame", "grade_word", "known", "table", "COLUMN_LABELS"]
