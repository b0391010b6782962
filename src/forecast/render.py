"""The report's own pages -- the index and the brief -- and the HTML parts the notebooks show,
rendered from Jinja2 templates (``templates/*.html.j2``, autoescaped) in the reader's language.

Each page is a template; this module turns the report's collected values (``summary.json``:
the summary table's rows, the tornado rankings, the calibration, the changes since the
previous report, the provenance) into the small views the templates show -- one
:class:`TargetView` per target with its status word and its plain sentence -- and renders
them. Texts are English in the templates and translated through the catalogue of the
language (:mod:`forecast.i18n`); numbers and dates are written for the language.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .i18n import Language, language
from .plans import Plan, ProbabilityClasses

#: the colour of each status on every page
STATUS_COLOURS = {"likely": "#c6f6d5", "balanced": "#fefcbf", "unlikely": "#fed7d7",
                  "observed met": "#9ae6b4", "observed missed": "#feb2b2",
                  "pace only": "#e2e8f0", "not forecastable": "#f7fafc"}
#: a band of the calibration page's reliability table is quoted beside a P only with this
#: many scored events in it
TRACK_RECORD_MIN_EVENTS = 20
#: a change of P smaller than this is Monte Carlo noise at the report's paths, not news
NEWS_THRESHOLD = 0.01


def known(x) -> bool:
    """A value that is there: not None and not NaN (values read back from JSON or CSV)."""
    return x is not None and not (isinstance(x, float) and math.isnan(x))


@lru_cache(maxsize=None)
def environment(lang: str) -> Environment:
    """The templates' environment in ``lang``: ``_()`` translates, ``t`` formats."""
    env = Environment(loader=PackageLoader("forecast", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    t = language(lang)
    env.globals.update(_=t._, t=t, known=known, STATUS_COLOURS=STATUS_COLOURS,
                       status_word=lambda key: status_word(key, t))
    return env


def render(template: str, lang: str, **context) -> str:
    return environment(lang).get_template(template).render(lang=lang, **context)


def status_word(key: str, t: Language) -> str:
    """The reader's word for a status class."""
    return {"likely": t._("likely"), "balanced": t._("balanced"),
            "unlikely": t._("unlikely"), "observed met": t._("met (published)"),
            "observed missed": t._("missed (published)"), "pace only": t._("pace only"),
            "not forecastable": t._("no data")}.get(key, key)


def comparison_sign(comparison: str) -> str:
    return {">=": "≥", "<=": "≤", "=": "="}.get(comparison, comparison)


@dataclass
class TargetView:
    """One target as the index and the brief show it."""

    target_id: str
    indicator: str
    name: str
    year: int
    goal: str                 # "≥ 4 %"
    last: str                 # "3.86 (2023)"
    p: str                    # "9%" or "–"
    mc: str                   # "±0.6 pts" or ""
    status: str               # the colour class (likely, ..., not forecastable)
    sentence: str             # one plain sentence: how likely, and the figure behind it
    page: str = ""
    p_value: float | None = None
    details: list[str] = field(default_factory=list)   # the expert's lines, behind a details


#: the order of statuses on the pages: what has a number first
STATUS_ORDER = ("likely", "balanced", "unlikely", "observed met", "observed missed",
                "pace only", "not forecastable")


def target_views(rows: list[dict], plan: Plan, t: Language,
                 names: dict[str, str] | None = None) -> list[TargetView]:
    """The summary table's rows as :class:`TargetView`: targets with a probability or a
    published figure first, then those with a pace only, then those without data; within
    each, an indicator's targets together, by year."""
    first_seen = list(dict.fromkeys(r["indicator"] for r in rows))
    group = {"probability": 0, "observed": 0, "pace only": 1}

    def order(r):
        return (group.get(r.get("status"), 2), first_seen.index(r["indicator"]), r["year"])

    views = []
    for r in sorted(rows, key=order):
        name = t.name(r, short=True)
        unit = _unit(r["unit"], t)
        goal = f"{comparison_sign(r['comparison'])} {r['target']:g}{unit}"
        last = (f"{t.number(r['last_value'])} ({int(r['last_year'])})"
                if known(r.get("last_value")) else "–")
        p = r.get("p_in_year")
        views.append(TargetView(
            r["target_id"], r["indicator"], name, int(r["year"]), goal, last,
            t.percent(p) if known(p) else "–",
            t._("±{n} pts", n=f"{100 * r['p_mc95']:.1f}") if known(r.get("p_mc95")) else "",
            r.get("colour") or "not forecastable", _sentence(r, name, goal, unit, t, names or {}),
            r.get("page") or "", p if known(p) else None))
    return views


def _unit(unit: str, t: Language) -> str:
    """A unit as it follows a number: "%" without a space, others after one."""
    return unit if unit in ("%",) else f" {unit}"


def _sentence(r: dict, name: str, goal: str, unit: str, t: Language,
              names: dict[str, str]) -> str:
    """One plain sentence per target: how likely, and what the figure rests on."""
    year = int(r["year"])
    status = r.get("colour") or "not forecastable"
    if r.get("status") == "observed":
        text = t._("{name}: the published {year} figure is {value}{unit}, so the target "
                   "({goal}) is {met}.", name=name, year=year,
                   value=t.number(r.get("observed_value")), unit=unit, goal=goal,
                   met=t._("met") if r.get("observed_met") else t._("missed"))
        if r.get("observed_preliminary"):
            text += " " + t._("The figure is preliminary: a revision may still change this.")
        return text
    if r.get("status") == "probability" and known(r.get("p_in_year")):
        text = t._("{name}: the chance of reaching {goal} in {year} is {p} ({status}); the "
                   "models' middle estimate for {year} is {median}{unit}, and 8 in 10 of their "
                   "paths end between {q10} and {q90}.", name=name, goal=goal, year=year,
                   p=t.percent(r["p_in_year"]), status=status_word(status, t),
                   median=t.number(r.get("median"), 3), unit=unit,
                   q10=t.number(r.get("q10"), 3), q90=t.number(r.get("q90"), 3))
        if known(r.get("p_history_basis")):
            text += " " + t._("It is read against the census-revised {of}; on the earlier "
                              "basis it would be {p}.", of=names.get(r["basis_of"], r["basis_of"]),
                              p=t.percent(r["p_history_basis"]))
        if known(r.get("pooled_regions")):
            text += " " + t._("The forecast pools {n} comparable regions (the series' own history "
                              "weighs {own} in its trend); without pooling P would be {p}.",
                              n=int(r["pooled_regions"]), own=f"{r['own_weight']:.2f}",
                              p=t.percent(r.get("p_without_pooling")))
        if known(r.get("break_even_ratio")):
            text += " " + t._("It rests on the assumed number of employed persons: P is 50% "
                              "at {ratio} employed per resident (assumed {range}).",
                              ratio=f"{r['break_even_ratio']:.2f}",
                              range=r.get("assumed_ratio_range") or "–")
        return text
    if r.get("status") == "pace only":
        return t._("{name}: too few published years for a probability; the pace so far: "
                   "{pace}.", name=name, pace=pace_label(r.get("pace_label"), t))
    if r.get("n_years"):  # data exist, too few or too broken for even the pace
        return t._("{name}: the published figures ({n} year(s), the last {last}) are too few "
                   "to forecast from; more years can be supplied with `forecast data add`.",
                   name=name, n=int(r["n_years"]), last=_last_year(r))
    return t._("{name}: no published series to forecast from; a series can be supplied with "
               "`forecast data add`.", name=name)


def _last_year(r: dict) -> str:
    return str(int(r["last_year"])) if known(r.get("last_year")) else "–"


def pace_label(label: str | None, t: Language) -> str:
    """Eurostat's pace labels (:data:`forecast.probability.PACE_THRESHOLDS`) in the language;
    a label with figures in it ("observed 87.9 in 2021: met") is kept as it is."""
    from .probability import PACE_AWAY, PACE_JUST_BELOW, PACE_MET, PACE_THRESHOLDS
    if not label:
        return "–"
    words = {PACE_THRESHOLDS[0][1]: t._("significant progress (on track)"),
             PACE_JUST_BELOW: t._("significant progress (just below the required pace)"),
             PACE_THRESHOLDS[2][1]: t._("moderate progress"),
             PACE_THRESHOLDS[3][1]: t._("insufficient progress"),
             PACE_AWAY: t._("movement away from the target"),
             PACE_MET: t._("target already met")}
    return words.get(label, label)


# ----------------------------------------------------------------- figures

def figure_uri(fig) -> str:
    """A matplotlib figure as a data URI (pages stay single files that work offline)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def overview_figure(rows: list[dict], classes: ProbabilityClasses, lang: str) -> str | None:
    """The headline chart (:func:`forecast.plots.target_overview`) as a data URI."""
    from . import plots
    fig = plots.target_overview(rows, classes, lang)
    return None if fig is None else figure_uri(fig)


# ----------------------------------------------------------------- the brief's choices

@dataclass
class Assumption:
    """An assumption that moves a target's probability (a tornado row)."""

    name: str
    target: str
    low: str
    high: str
    swing: float
    low_variant: str
    high_variant: str


def assumption_name(key: str, t: Language, names: dict[str, str] | None = None) -> str:
    """The tornado's assumption names (:func:`forecast.sensitivity.tornado`) for readers."""
    words = {"model choice": t._("the choice of model"), "volatility": t._("volatility"),
             "growth shock": t._("a one-off shock of 3%"), "trend": t._("a trend 1 point a "
             "year faster or slower"), "as_of": t._("a year less of data"),
             "data vintage": t._("first releases instead of revised figures"),
             "employment ratio": t._("the employment ratio")}
    if key.endswith(" basis"):
        series = key[:-len(" basis")]
        return t._("the census basis of {denominator}",
                   denominator=(names or {}).get(series, series))
    return words.get(key, key)


def top_assumptions(sensitivity: dict, views: dict[str, TargetView], t: Language,
                    n: int = 3, names: dict[str, str] | None = None) -> list[Assumption]:
    """The ``n`` assumptions that move the central targets' probabilities most, each once
    (its largest swing), from the tornado rankings collected from the sensitivity pages."""
    found = []
    for glue in (sensitivity or {}).values():
        for target_id, ranking in ((glue or {}).get("tornado") or {}).items():
            if target_id not in views:
                continue
            for row in ranking:
                if known(row.get("swing")) and row["swing"] > 0 and known(row.get("low")):
                    found.append((row["swing"], row, views[target_id]))
    found.sort(key=lambda f: -f[0])
    out, seen = [], set()
    for swing, row, view in found:
        if row["assumption"] in seen:
            continue
        seen.add(row["assumption"])
        out.append(Assumption(assumption_name(row["assumption"], t, names),
                              f"{view.name} {view.year}", t.percent(row["low"]),
                              t.percent(row["high"]), swing, str(row.get("low_variant") or ""),
                              str(row.get("high_variant") or "")))
        if len(out) == n:
            break
    return out


def main_range(sensitivity: dict, target_id: str) -> tuple[str, float, float] | None:
    """The assumption that moves ``target_id``'s probability most, with P's low and high
    under it: the range a brief quotes beside P (None without a tornado)."""
    for glue in (sensitivity or {}).values():
        ranking = ((glue or {}).get("tornado") or {}).get(target_id)
        if ranking:
            top = max((r for r in ranking if known(r.get("low"))), key=lambda r: r["swing"],
                      default=None)
            if top is not None:
                return top["assumption"], top["low"], top["high"]
    return None


# ----------------------------------------------------------------- pages

def changes_view(changes: dict | None, t: Language) -> dict | None:
    """What moved since the previous report, for the index and the brief."""
    if not changes:
        return None
    if changes.get("error"):
        return {"as_of": changes["as_of"], "error": changes["error"], "rows": [],
                "figures": [], "settings": []}

    def moved(r):
        a, b = r["p_before"], r["p_now"]
        return r["status_before"] != r["status_now"] or (
            known(a) and known(b) and abs(b - a) >= NEWS_THRESHOLD)

    rows = [{"name": r["name_en"], "year": r["year"],
             "then": t.percent(r["p_before"]) if known(r["p_before"]) else "–",
             "now": t.percent(r["p_now"]) if known(r["p_now"]) else "–",
             "status_then": r["status_before"], "status_now": r["status_now"],
             "change": t.points(r["p_now"] - r["p_before"], 0, signed=True)
             if known(r["p_before"]) and known(r["p_now"]) else ""}
            for r in changes["targets"] if moved(r)]
    return {"as_of": changes["as_of"], "error": None, "rows": rows,
            "figures": changes.get("new_figures") or [],
            "settings": changes.get("settings") or []}


def calibration_view(calibration: dict | None, t: Language, region: str) -> dict | None:
    """How far the probabilities have earned trust: the pooled backtest of the calibration
    page, with the direction of any bias of its event probabilities (None without one)."""
    summary = (calibration or {}).get("summary") or {}
    if not summary.get("n_forecasts"):
        return None
    names = {region: t._("{region}'s own series", region=region),
             "panel: rd_intensity": t._("the provinces' R&D intensity"),
             "panel: gdp": t._("the peers' GDP")}
    bias = [{"share": t.percent(r["above_median"]), "n": r["n"],
             "group": names.get(r["group"], r["group"])}
            for r in calibration.get("median_bias", []) if r.get("n")]
    bands = [r for r in calibration.get("reliability", []) if r.get("n")]
    direction = None
    if bands and summary.get("brier_events") is not None:
        higher = sum(r["observed_frequency"] > r["mean_predicted"] for r in bands)
        if higher >= 0.8 * len(bands):
            direction = t._("In {k} of {n} bands of predicted probability the events happened "
                            "more often than predicted: a probability of meeting a growth "
                            "target may be understated.", k=higher, n=len(bands))
        elif higher <= 0.2 * len(bands):
            direction = t._("In {k} of {n} bands of predicted probability the events happened "
                            "less often than predicted: a probability of meeting a growth "
                            "target may be overstated.", k=len(bands) - higher, n=len(bands))
        else:
            direction = t._("Its misses have no consistent direction across bands.")
    return {"n": summary["n_forecasts"],
            "coverage": "/".join(f"{summary[f'coverage_{k}']:.0%}" for k in (50, 80, 95)),
            "bias": bias, "direction": direction,
            "brier": None if summary.get("brier_events") is None else
            f"{summary['brier_events']:.3f}",
            "brier_base": None if summary.get("brier_events_base_rate") is None else
            f"{summary['brier_events_base_rate']:.3f}"}


def track_record(p: float | None, bands: list[dict] | None, t: Language) -> str:
    """What probabilities like ``p`` have meant: the calibration page's band that holds it
    and how often its events happened ("" without enough events in it)."""
    if not known(p) or not bands:
        return ""
    band = next((b for b in bands if b["lower"] <= p < b["upper"]
                 or (p == 1.0 and b["upper"] == 1.0)), None)
    if band is None or band.get("n", 0) < TRACK_RECORD_MIN_EVENTS:
        return ""
    return t._("in backtests, events given {lower}-{upper} happened {freq} of the time",
               lower=f"{band['lower']:.0%}", upper=f"{band['upper']:.0%}",
               freq=f"{band['observed_frequency']:.0%}")


def user_data_lines(files: list[dict]) -> list[str]:
    """One line per file of the user's own data in a report."""
    out = []
    for f in files or []:
        more = "" if f["n_rows"] <= len(f["values"]) else f", ... ({f['n_rows']} rows)"
        out.append(f"data/raw/user/{f['file']}: {', '.join(f['values'])}{more} (source: "
                   f"{'; '.join(f['sources'])})")
    return out


def footer_html(prov: dict, lang: str = "en", compact: bool = False) -> str:
    """The provenance footer of every page (``compact``: the brief's, without the parameters
    and package versions, which the index's footer holds)."""
    return render("footer.html.j2", lang, prov=prov, compact=compact,
                  user_data=user_data_lines(prov.get("user_data")))


def as_markup(html: str) -> Markup:
    """HTML this module rendered itself, to be placed in another template unescaped."""
    return Markup(html)


# ----------------------------------------------------------------- the experts' table

@dataclass
class Line:
    """A second line in a table cell, with an optional tooltip (``tip``)."""

    text: str
    tip: str | None = None
    italic: bool = False


def _pct(x) -> str:
    from .probability import format_probability
    return format_probability(x) if known(x) else ""


def expert_rows(rows: list[dict], t: Language, bands: list[dict] | None = None) -> list[dict]:
    """The summary table's rows as the experts' table shows them: per cell a main text and
    second lines (:class:`Line`), every figure the row holds, said in the language."""
    from .probability import range_text
    out = []
    for r in rows:
        cells: dict = {"r": r, "colour": STATUS_COLOURS.get(r.get("colour"), "#fff")}
        last = (f"{r['last_value']:.4g} ({int(r['last_year'])})"
                if known(r.get("last_value")) else "")
        last_lines = []
        if known(r.get("implied_last_low")):
            anchored = bool(r.get("ratio_anchored"))
            last_lines.append(Line(
                t._("{range} in {year} on the employment ratio a published figure implies",
                    range=range_text((r["implied_last_low"], r["implied_last_high"]), "{:.3g}"),
                    year=int(r["implied_last_year"])) if anchored else
                t._("{range} in {year} on the assumed employment ratio",
                    range=range_text((r["implied_last_low"], r["implied_last_high"]), "{:.3g}"),
                    year=int(r["implied_last_year"])),
                t._("the newest published GDP and population over the employment-to-population "
                    "ratio; the last observed value is the newest year with employment itself "
                    "published")))
        cells["last"], cells["last_lines"] = last, last_lines
        growth, growth_lines = "", []
        if known(r.get("required_cagr")):
            growth = t._("{observed} / {required} (since {year})",
                         observed=f"{r['observed_cagr']:+.1%}" if known(r.get("observed_cagr"))
                         else "", required=f"{r['required_cagr']:+.1%}",
                         year=int(r["pace_base_year"]))
        if known(r.get("required_from_last")):
            growth_lines.append(Line(
                t._("needs {rate}/yr after {year}", rate=f"{r['required_from_last']:+.2%}",
                    year=int(r["last_year"]))
                + (t._(" to {value} (the target on the history's basis)",
                       value=f"{r['pace_target_value']:.3g}")
                   if known(r.get("pace_target_value")) else "")))
        cells["growth"], cells["growth_lines"] = growth, growth_lines
        pace_lines = []
        if isinstance(r.get("pace_caveat"), str) and r["pace_caveat"]:
            pace_lines.append(Line(r["pace_caveat"]))
        if known(r.get("pace_target_value")) and r.get("pace_label"):
            pace_lines.append(Line(t._("paced against {value}, the target on the history's "
                                       "basis (before {of}'s census revision)",
                                       value=f"{r['pace_target_value']:.3g}",
                                       of=r.get("basis_of"))))
        cells["pace"] = pace_label(r.get("pace_label"), t) if r.get("pace_label") else ""
        cells["pace_lines"] = pace_lines
        p_lines = []
        if isinstance(r.get("colour_rests_on"), str) and r["colour_rests_on"]:
            p_lines.append(Line(t._("its colour rests on {what}", what=r["colour_rests_on"]),
                                t._("an alternative the row states puts P in another colour "
                                    "class"), italic=True))
        if known(r.get("p_history_basis")):
            p_lines.append(Line(
                t._("read against census-revised {of} (up {revision}); {p} on the published "
                    "history's basis", of=r.get("basis_of"), revision=r.get("basis_revision"),
                    p=_pct(r["p_history_basis"])),
                t._("every figure from {year} on will be published over {of} on its "
                    "census-revised basis; the history is over the earlier one",
                    year=int(r["basis_year"]), of=r.get("basis_of"))))
        if known(r.get("p_members_min")):
            noise = (t._("; each within about ±{mc} Monte Carlo error (its share of the paths)",
                         mc=f"{r['p_members_mc95']:.0%}") if known(r.get("p_members_mc95"))
                     else "")
            p_lines.append(Line(t._("models {low} to {high}", low=_pct(r["p_members_min"]),
                                    high=_pct(r["p_members_max"])),
                                t._("range over the ensemble members") + noise))
        record = track_record(r.get("p_in_year"), bands, t)
        if record:
            p_lines.append(Line(record, t._("forecast-event pairs of the calibration page, each "
                                            "forecast scored at 5 target-like paces")))
        if known(r.get("break_even_ratio")):
            at = r.get("p_at_ratio")
            held = "" if not isinstance(at, dict) else t._(
                "; at a ratio of {values} (the headline {p} averages P over the range)",
                values=", ".join(f"{k}: {_pct(v)}" for k, v in at.items()),
                p=_pct(r["p_in_year"]))
            kind = (t._("the employment ratio the published figure implies")
                    if r.get("ratio_anchored") else t._("the assumed employment ratio"))
            p_lines.append(Line(t._("conditional on {kind} ({range}): P = 50% at {ratio}",
                                    kind=kind, range=r.get("assumed_ratio_range") or "",
                                    ratio=f"{r['break_even_ratio']:.3f}") + held,
                                str(r.get("assumed_ratio") or "")))
            need = r.get("gdp_growth_needed")
            if isinstance(need, dict):
                p_lines.append(Line(
                    t._("the GDP growth it takes from {start}: {rates} (models: {models}/yr)",
                        start=need["from"], rates=", ".join(
                            t._("{rate}/yr at {ratio}", rate=f"{g:+.1%}", ratio=k)
                            for k, g in need["by_ratio"].items()),
                        models=f"{need['models']:+.1%}"),
                    t._("median over the simulated population paths, employment = population "
                        "x the ratio")))
        if known(r.get("required_growth")):
            p_lines.append(Line(t._("needs {of} to grow {rate}/yr from {year}",
                                    of=r.get("required_of") or "",
                                    rate=f"{r['required_growth']:+.1%}",
                                    year=int(r["required_from"])),
                                t._("median over the simulated GDP paths; see the indicator "
                                    "page")))
        cells["p"] = _pct(r.get("p_in_year"))
        cells["mc"] = (t._("±{n} pts", n=f"{100 * r['p_mc95']:.1f}")
                       if known(r.get("p_mc95")) else "")
        cells["p_lines"] = p_lines
        cells["p_by"] = _pct(r.get("p_by_year"))
        cells["joint"] = _pct(r.get("joint"))
        cells["backtest"] = _pct(r.get("backtest_coverage_80"))
        cells["backtest_of"] = r.get("backtest_of") if isinstance(r.get("backtest_of"), str) else ""
        cells["data"] = f"{r['status']}: {r.get('route') or r.get('sufficiency')}"
        out.append(cells)
    return out


def summary_table_html(rows: list[dict], lang: str = "en", *, link_prefix: str = "",
                       track_record: list[dict] | None = None,
                       classes: ProbabilityClasses = ProbabilityClasses()) -> str:
    """The experts' table of every target (the summary page, and behind a details element on
    the index): every figure a row holds, a colour per status, links to the pages."""
    return render("summary_table.html.j2", lang, rows=expert_rows(rows, language(lang),
                                                                  track_record),
                  link_prefix=link_prefix, classes=classes)


# ----------------------------------------------------------------- the index and the brief

def _common(summary: dict, plan: Plan, lang: str, data_through: str | None,
            names: dict[str, str]) -> dict:
    """What the index and the brief share: the plan, the dates, the target views, the
    headline chart and the changes since the previous report."""
    t = language(lang)
    rows = summary.get("targets", [])
    views = target_views(rows, plan, t, names)
    return {"plan": plan, "plan_title": plan.short(lang), "as_of": summary["as_of"],
            "as_of_text": t.date(summary["as_of"]), "views": views, "classes": plan.classes,
            "overview": overview_figure(rows, plan.classes, lang),
            "overview_alt": t._("Chart: the probability of meeting each target in its year "
                                "(dot) and its range over the models (line)") + ": " + "; ".join(
                f"{v.name} {v.year} {v.p}" for v in views if v.p_value is not None),
            "changes": changes_view(summary.get("since_previous"), t),
            "data_through": data_through,
            "user_data": user_data_lines((summary.get("provenance") or {}).get("user_data")),
            "footer": Markup(footer_html(summary["provenance"], lang))}


def index_html(summary: dict, plan: Plan, pages: list[dict], lang: str,
               data_through: str | None = None, brief_pdf: str | None = None,
               names: dict[str, str] | None = None) -> str:
    """The report's front page (``templates/index.html.j2``); ``names``: what to call a series
    id in the text (the catalogue's names in the language)."""
    t = language(lang)
    names = names or {}
    context = _common(summary, plan, lang, data_through, names)
    rows = summary.get("targets", [])
    counts: dict[str, int] = {}
    for v in context["views"]:
        counts[v.status] = counts.get(v.status, 0) + 1
    bases = []
    for indicator in dict.fromkeys(r["indicator"] for r in rows if known(r.get("p_history_basis"))):
        group = [r for r in rows if r["indicator"] == indicator and known(r.get("p_history_basis"))]
        r = group[0]
        bases.append({"name": t.name(r, short=True),
                      "of": names.get(r["basis_of"], r["basis_of"]), "year": int(r["basis_year"]),
                      "last": int(r["last_year"]), "revision": r["basis_revision"],
                      "moves": "; ".join(t._("{year}: {p} (on the history's basis {q})",
                                             year=g["year"], p=t.percent(g["p_in_year"]),
                                             q=t.percent(g["p_history_basis"]))
                                         for g in group)})
    over, out = currency(rows, summary["as_of"])
    return render("index.html.j2", lang, **context,
                  counts=t._("{n} targets", n=len(rows)) + ": " + ", ".join(
                      f"{n} {status_word(k, t)}" for k, n in counts.items()) + ".",
                  calibration=calibration_view(summary.get("calibration"), t, plan.region),
                  bases=bases, over=over, probably_out=out,
                  expert_table=Markup(summary_table_html(
                      rows, lang, track_record=(summary.get("calibration") or {}).get(
                          "reliability"), classes=plan.classes)),
                  pages=pages, brief_pdf=brief_pdf)


def currency(rows: list[dict], as_of: str) -> tuple[str, str]:
    """How current the data are: the target years that are over but still forecast (their
    figures are not in the data yet), and the series whose first figure for a year over is
    probably published already (by how soon their past figures came out)."""
    over = sorted({int(r["year"]) for r in rows if known(r.get("p_in_year"))
                   and int(r["year"]) < int(as_of[:4])})
    out = sorted({part for r in rows if isinstance(r.get("probably_out"), str)
                  for part in r["probably_out"].split("; ")})
    return ", ".join(map(str, over)), "; ".join(out)


def brief_html(summary: dict, plan: Plan, lang: str, data_through: str | None = None,
               names: dict[str, str] | None = None) -> str:
    """The two-minute brief (``templates/brief.html.j2``): the headline chart, one line per
    central target (the plan's ``settings.central``, else every target with a probability:
    P, its range under the assumption that moves it most, the status), the three assumptions
    that move the probabilities most, what changed, and where the rest is."""
    t = language(lang)
    names = names or {}
    context = _common(summary, plan, lang, data_through, names)
    context["footer"] = Markup(footer_html(summary["provenance"], lang, compact=True))
    views = context["views"]
    wanted = list(plan.central) or [v.indicator for v in views if v.p_value is not None]
    chosen = [v for v in views if v.indicator in wanted]
    sensitivity = summary.get("sensitivity") or {}
    lines = []
    for v in chosen:
        top = main_range(sensitivity, v.target_id)
        same = [c for c in lines if c["view"].p_value is None and v.p_value is None
                and c["view"].indicator == v.indicator and c["view"].status == v.status]
        if same:  # one line for an indicator's targets without a number
            same[0]["years"] += f", {v.year}"
            same[0]["goals"] += f", {v.goal}"
            continue
        lines.append({"view": v, "years": str(v.year), "goals": v.goal,
                      "range": None if top is None else {
                          "name": assumption_name(top[0], t, names), "low": t.percent(top[1]),
                          "high": t.percent(top[2])}})
    return render("brief.html.j2", lang, **context, central=lines,
                  assumptions=top_assumptions(sensitivity, {v.target_id: v for v in chosen}, t,
                                              names=names))


def series_names(registry, lang: str) -> dict[str, str]:
    """What the pages call each series of the catalogue in ``lang`` (its Chinese name, or its
    English name without the parenthesis)."""
    t = language(lang)
    return {i.id: t.name(vars(i), short=True) for i in registry.indicators.values()}
