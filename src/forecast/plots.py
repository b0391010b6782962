"""Figures for briefings: fan chart, model views, probability vs target level, tornado, PIT
histogram, reliability diagram and scenario comparison.

Every function takes library results (never raw numbers typed in a notebook), returns a
:class:`matplotlib.figure.Figure` built without pyplot (so a notebook shows it once, and a
report run leaks no open figures) and labels its axes with units.

Chinese names: :func:`cjk_font` looks for an installed CJK font (fontconfig ``:lang=zh``,
e.g. Debian's fonts-wqy-microhei or fonts-noto-cjk, which ``make report`` installs when it
can). With one, labels read "R&D intensity 全社会研发投入强度"; without one, figures are
labelled in English only (never with empty boxes) and the notebooks print the Chinese name
in the page text, which the browser renders.
"""
from __future__ import annotations

import functools
import logging
import shutil
import subprocess
import textwrap
from datetime import date

import numpy as np
import pandas as pd
from matplotlib import font_manager, rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .calibration import chance_spread
from .i18n import N_
from .data import is_lower_grade
from .probability import fan_quantiles, format_probability, range_text, year_index

#: CJK families tried in order (the first installed one is used)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN", "SimHei",
                "Microsoft YaHei", "PingFang SC")
COLOURS = {"history": "#1f2d3d", "band": "#2b6cb0", "median": "#1a4e8a", "target": "#c53030",
           "as_of": "#718096", "met": "#2f855a", "missed": "#c53030"}
BRIEFING_STYLE = {
    "figure.dpi": 110, "savefig.dpi": 150, "font.size": 10, "axes.titlesize": 11,
    "axes.titleweight": "bold", "axes.labelsize": 10, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.color": "#e2e8f0",
    "grid.linewidth": 0.6, "legend.frameon": False, "legend.fontsize": 9,
    "axes.axisbelow": True,  # gridlines behind the fans and bars, not through them
}


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed font that renders Chinese, or None.

    Looks at matplotlib's font list first, then asks fontconfig (``fc-list :lang=zh``) and
    registers the files it names, so a font installed after matplotlib built its cache is
    found too.
    """
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    if shutil.which("fc-list"):
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                                 timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if not path:
                continue
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
        names = {f.name for f in font_manager.fontManager.ttflist}
        for family in CJK_FAMILIES:
            if family in names:
                return family
    return None


def use_briefing_style() -> str | None:
    """Set the briefing style for every later figure; returns the CJK font used (or None)."""
    rcParams.update(BRIEFING_STYLE)
    _inline_retina()
    # the CJK fonts have no bold face: matplotlib says so on every title; it uses regular
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font = cjk_font()
    if font:
        # a list of families: matplotlib falls back glyph by glyph (>= 3.6)
        rcParams["font.family"] = ["DejaVu Sans", font]
    return font


def _inline_retina() -> None:
    """In a notebook, embed figures at twice the pixel density (shown at the same size): at
    the 110 dpi that fits a page they are too coarse to paste into slides."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


def describe(fig: Figure) -> str:
    """A figure's alternative text for a page: what its titles say (the suptitle and each
    panel's title), one line."""
    parts = [fig._suptitle.get_text()] if fig._suptitle is not None else []
    parts += [ax.get_title(loc) for ax in fig.axes for loc in ("center", "left")
              if ax.get_title(loc)]
    text = "; ".join(" ".join(p.split()) for p in parts if p.strip())
    return "Chart: " + (text or "a figure of the report")


def show(fig: Figure | None) -> None:
    """Display ``fig`` in a notebook with its alternative text (:func:`describe`), which the
    report's page puts on the image for readers who cannot see it."""
    if fig is None:
        return
    from IPython.display import display
    display(fig, metadata={"image/png": {"alt": describe(fig)}})


def figure_language(lang: str = "en"):
    """The :class:`~forecast.i18n.Language` a figure is labelled in: ``lang``, or English
    where no CJK font would render Chinese (never empty boxes)."""
    from .i18n import language
    return language(lang if lang == "en" or cjk_font() else "en")


def indicator_label(indicator, unit: bool = False, lang: str = "en") -> str:
    """English name, plus the Chinese name when a CJK font is installed, plus the unit; in
    Chinese (with the font) the Chinese name alone."""
    if lang == "zh" and cjk_font():
        text = indicator.name_zh
    else:
        text = indicator.name_en
        if cjk_font():
            text += f" {indicator.name_zh}"
    return f"{text} ({indicator.unit})" if unit else text


def _unit_text(unit: str) -> str:
    """``unit`` as a figure can print it: in English where no CJK font would render it."""
    return unit if cjk_font() or unit.isascii() else \
        {"万元/人": "10k yuan per person", "亿元": "100 million yuan", "万人": "10k persons",
         "件": "items"}.get(unit, unit)


def _unit_label(indicator) -> str:
    return _unit_text(indicator.unit)


def _value_axis(indicator, t=None) -> str:
    # the title names the indicator in full; the axis only needs its unit
    t = t or figure_language()
    return t._("value ({unit})", unit=_unit_label(indicator))


def _history_line(hist: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Every year from the first to the last observation and its value, NaN where none was
    published: plotted as a line, gaps stay gaps."""
    years = np.arange(int(hist["year"].min()), int(hist["year"].max()) + 1)
    values = pd.Series(hist["value"].to_numpy(), index=hist["year"]).reindex(years)
    return years, values.to_numpy()


#: points whose source ranks below "official media" (the data README's grades: a copy of an
#: official text on another site, a compiled dataset, an article) or has no grade: the
#: sources ask for a lower grade to be said in outputs
LOWER_GRADE = N_("lower-grade or ungraded source")


def _history_points(ax, rows: pd.DataFrame, size: float, t=None) -> None:
    """The observed points of ``rows`` (year, value, preliminary, reliability): filled, hollow
    where preliminary, squares where the source is of a lower grade (:data:`LOWER_GRADE`)."""
    t = t or figure_language()
    prelim = rows["preliminary"].astype(bool).to_numpy()
    lower = np.array([is_lower_grade(g) for g in rows["reliability"]], dtype=bool)
    lower_label = t._(LOWER_GRADE)
    for mask, marker, hollow, label in (
            (~prelim & ~lower, "o", False, None),
            (prelim & ~lower, "o", True, t._("preliminary")),
            (~prelim & lower, "s", False, lower_label),
            (prelim & lower, "s", True, t._("preliminary, {grade}", grade=lower_label))):
        if mask.any():
            style = {"facecolor": "white", "edgecolor": COLOURS["history"]} if hollow else \
                {"color": COLOURS["history"]}
            ax.scatter(rows["year"][mask], rows["value"][mask], s=size * (1.3 if hollow else 1),
                       marker=marker, zorder=3, label=label, **style)


def _p_text(p: float) -> str:
    """"P=63%", "P>99.9%" (not "P=>99.9%", which reads as an arrow)."""
    text = format_probability(p)
    return f"P{text}" if text[:1] in "<>" else f"P={text}"


def _target_text(target, indicator, t=None) -> str:
    t = t or figure_language()
    sign = "≤ " if target.at_most else ""
    return t._("target {year}: {value}", year=target.year,
               value=f"{sign}{target.value:g} {_unit_label(indicator)}")


#: least vertical distance between two targets' labels, in axes fraction
LABEL_GAP = 0.075


def _target_labels(ax, labels: list[tuple[float, str, str]]) -> None:
    """Label the targets (value, text, colour) in the right margin, outside the fan, each at
    its level with a dotted line from the plot's edge (a label beside its star was drawn over
    the bands); labels closer than :data:`LABEL_GAP` are moved apart."""
    if not labels:
        return
    low, high = ax.get_ylim()
    placed: list[float] = []
    for value, text, colour in sorted(labels):
        y = (value - low) / (high - low)
        if placed and y - placed[-1] < LABEL_GAP:
            y = placed[-1] + LABEL_GAP
        placed.append(y)
        ax.annotate(text, xy=(1.0, value), xycoords=("axes fraction", "data"),
                    xytext=(1.02, y), textcoords="axes fraction", ha="left", va="center",
                    fontsize=8, color=colour, annotation_clip=False,
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6,
                                "linestyle": ":", "shrinkA": 0, "shrinkB": 0})


def _as_of_x(as_of: date) -> float:
    return as_of.year + (as_of.timetuple().tm_yday - 1) / 365.0


def _implied_bar(ax, result, label: bool = True) -> None:
    """A ratio without a published series (labour productivity): its level in the last year
    whose components are published, over the assumed range (``result.implied_last``), as a
    vertical bar -- where the indicator stands now on the run's own assumption."""
    implied = result.implied_last
    if not implied:
        return
    low, high = implied.ratio
    text = f"{implied.year} implied (ratio {range_text((low, high))})"
    if np.isclose(implied.low, implied.high):  # one ratio: a bar of no length is a point
        ax.scatter([implied.year], [implied.low], s=28, color=COLOURS["history"],
                   alpha=0.55, zorder=3, label=text if label else None)
    else:
        ax.vlines(implied.year, implied.low, implied.high, color=COLOURS["history"],
                  lw=2.2, alpha=0.55, zorder=3, label=text if label else None)


def _new(width: float = 7.5, height: float = 4.2, ncols: int = 1) -> tuple[Figure, list]:
    use_briefing_style()
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0].tolist()
    return fig, axes


def _draw_fan(ax, paths: np.ndarray, years, last_point: tuple[int, float] | None,
              median_label: str, lw: float, t=None) -> None:
    """The 50/80/95% bands and the median of ``paths``, starting at ``last_point`` (year,
    value) when it is the year just before the first simulated one, so no gap opens."""
    fan = fan_quantiles(paths, years)
    x = np.asarray(years)
    if last_point is not None and int(last_point[0]) == x[0] - 1:
        x = np.r_[x[0] - 1, x]
        fan = pd.concat([pd.DataFrame([[float(last_point[1])] * fan.shape[1]],
                                      columns=fan.columns, index=[x[0]]), fan])
    t = t or figure_language()
    for (lo, hi), alpha, label in (((0.025, 0.975), 0.15, t._("95% band")),
                                   ((0.1, 0.9), 0.25, t._("80% band")),
                                   ((0.25, 0.75), 0.4, t._("50% band"))):
        ax.fill_between(x, fan[lo], fan[hi], color=COLOURS["band"], alpha=alpha, lw=0,
                        label=label)
    ax.plot(x, fan[0.5], color=COLOURS["median"], lw=lw, ls="--", label=median_label)


def _pace_lines(ax, result) -> None:
    """Without simulated paths (too little history for a model): the pace diagnostic drawn --
    from the last observation, the observed growth rate carried on (dotted) and the growth
    each target requires (dashed), so a reader sees the gap a table states."""
    drawn = False
    low, high = result.indicator.bounds or (-np.inf, np.inf)
    for target in result.targets:
        pace = result.pace.get(target.id)
        if pace is None or pace.required_from_last is None or target.year <= pace.last_year:
            continue
        years = np.arange(pace.last_year, target.year + 1)
        steps = years - pace.last_year
        ax.plot(years, pace.last_value * (1 + pace.required_from_last) ** steps,
                color=COLOURS["target"], lw=1, ls="--", alpha=0.8,
                label=None if drawn else "growth each target requires")
        if pace.observed_cagr is not None:  # a share carried on stops at its bound (100%)
            ax.plot(years, np.clip(pace.last_value * (1 + pace.observed_cagr) ** steps,
                                   low, high), color=COLOURS["history"], lw=1, ls=":",
                    label=None if drawn else "observed growth carried on")
        drawn = True


def fan_chart(result, *, title: str | None = None, lang: str = "en") -> Figure:
    """History (points; hollow = preliminary, squares = lower-grade source; breaks at gaps),
    the ensemble's 50/80/95% bands and median, the targets (red markers, met/missed if
    observed) and the as_of date, labelled in ``lang``."""
    ind = result.indicator
    t = figure_language(lang)
    fig, (ax,) = _new()
    hist = result.history
    since = (result.employment.population_since or 0) if result.employment else 0
    if not hist.empty and ind.derived is not None and (hist["year"] < since).any():
        # a ratio known on another employment basis (labour productivity 2015, before the
        # 2020 census recount): drawn apart from the simulation's own basis
        earlier = hist[hist["year"] < since]
        ax.scatter(earlier["year"], earlier["value"], s=22, color="#a0aec0", zorder=3,
                   label=t._("before the {year} population recount (earlier basis)",
                             year=since))
        hist = hist[hist["year"] >= since]
    if not hist.empty:
        ax.plot(*_history_line(hist), color=COLOURS["history"], lw=1.6, label=t._("observed"))
        _history_points(ax, hist, size=18, t=t)
    if result.paths is not None:
        last_point = None if hist.empty else (int(hist["year"].max()),
                                               float(hist["value"].iloc[-1]))
        _draw_fan(ax, result.paths, result.years, last_point, t._("ensemble median"), lw=1.6,
                  t=t)
        # years that are over but not in the data (of the modelled series: GDP for labour
        # productivity): the fan there estimates an outcome that is already fixed
        modelled = result.modelled
        last = modelled.last_observed[0] if modelled and modelled.last_observed else None
        first_open = result.scenario_start
        if last is not None and first_open is not None and first_open - 1 > last:
            ax.axvspan(last + 0.5, first_open - 0.5, color="#edf2f7", zorder=0, lw=0)
            # a ratio's band is about its modelled numerator (GDP), not the ratio itself
            of = "" if modelled.indicator == ind.id else f"{modelled.indicator} "
            ax.annotate(t._("over, {series}not yet\nin the data:\nmodel estimate", series=of),
                        ((last + first_open) / 2, 0.02), xycoords=("data", "axes fraction"),
                        ha="center", va="bottom", fontsize=7, color=COLOURS["as_of"])
    if result.basis:  # the paths are restated on the census-revised denominator from here
        b = result.basis
        ax.axvline(b.break_year - 0.5, color=COLOURS["target"], lw=0.8, ls="--", alpha=0.6)
        # the same spending over (1 + r) times the GDP: the share moves -r/(1+r)
        ax.annotate(t._("from {year}: share of census-\nrevised {of} ({low} to {high})",
                        year=b.break_year, of=b.denominator,
                        low=f"{-b.revision[1] / (1 + b.revision[1]):+.1%}",
                        high=f"{-b.revision[0] / (1 + b.revision[0]):+.1%}"),
                    (b.break_year - 0.6, 0.32), xycoords=("data", "axes fraction"),
                    ha="right", va="top", fontsize=7, color=COLOURS["target"])
    if result.paths is None:
        _pace_lines(ax, result)
    labels = []
    for target in result.targets:
        obs = result.observed.get(target.id)
        colour = COLOURS["target"] if not obs else (COLOURS["met"] if obs["met"] else
                                                    COLOURS["missed"])
        ax.scatter([target.year], [target.value], marker="*", s=160, color=colour, zorder=4,
                   edgecolor="white", linewidth=0.6)
        ax.axhline(target.value, xmin=0, xmax=1, color=colour, lw=0.5, ls=":", alpha=0.5)
        labels.append((target.value, _target_text(target, ind, t), colour))
    _implied_bar(ax, result)
    ax.axvline(_as_of_x(result.as_of), color=COLOURS["as_of"], lw=1, ls=":")
    ax.annotate(t._("as of {date}", date=result.as_of), (_as_of_x(result.as_of), 0.02),
                xycoords=("data", "axes fraction"), rotation=90, fontsize=8,
                color=COLOURS["as_of"], ha="right", va="bottom")
    ax.set_xlabel(t._("year"))
    ax.set_ylabel(_value_axis(ind, t))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(y=0.14)
    _target_labels(ax, labels)  # once the limits are set: the labels sit at their levels
    what = (t._("history and ensemble fan (scenario: {name})", name=result.scenario.name)
            if result.paths is not None else
            t._("history (no model fitted: too little history)"))
    if result.paths is not None and result.employment and result.employment.anchor:
        what += "\n" + t._("employment ratio implied by the {what} of {year}",
                           what=result.employment.anchor[0], year=result.employment.anchor[1])
    elif result.paths is not None and result.implied_last:
        low, high = result.implied_last.ratio
        what += "\n" + t._("employment assumed: {low}-{high} of the population",
                           low=f"{low:.2f}", high=f"{high:.2f}")
    name = "\n".join(textwrap.wrap(indicator_label(ind, lang=t.code), 80))  # not cut off
    ax.set_title(title or f"{name}\n{result.region}: {what}", fontsize=10)
    # without a fan the upper left may hold the pace lines and the targets' labels
    ax.legend(loc="upper left" if result.paths is not None else "best", ncols=2)
    return fig


def components_chart(result, dataset, lang: str = "en") -> Figure | None:
    """For a ratio indicator (labour productivity = GDP / employment): one panel per simulated
    component -- its sourced history and its ensemble's 50/80/95% fan -- because the ratio
    itself may have a single observed year. None for an indicator modelled on its own."""
    if result.indicator.derived is None:  # e.g. R&D intensity: GDP only feeds a diagnostic
        return None
    comps = {name: c for name, c in result.components.items() if name != result.indicator.id}
    if not comps:
        return None
    t = figure_language(lang)
    fig, axes = _new(width=4.2 * len(comps), height=3.6, ncols=len(comps))
    for ax, (name, comp) in zip(axes, comps.items()):
        indicator = dataset.registry.indicator(name)
        observed = dataset.series(name, result.region)
        # a component may be modelled on its latest years only (population since the 2020
        # census recount): earlier years are drawn apart so a series break does not read as
        # growth the model saw
        used = observed.iloc[-comp.n_points:] if 0 < comp.n_points < len(observed) else observed
        earlier = observed.loc[observed.index < used.index[0]] if len(used) else observed.iloc[:0]
        if len(earlier):
            ax.plot(earlier.index, earlier.to_numpy(), color="#a0aec0", lw=1.0, ls=":",
                    marker="o", ms=2, label=t._("earlier, not modelled"))
        ax.plot(used.index, used.to_numpy(), color=COLOURS["history"], lw=1.4,
                label=t._("observed"))
        rows = dataset.rows(name, result.region)
        _history_points(ax, rows[rows["year"].isin(used.index)], size=9, t=t)
        scenario = result.scenario if comp is result.acted_on() else None
        _draw_fan(ax, comp.paths(scenario), comp.years, comp.last_observed, t._("median"),
                  lw=1.4, t=t)
        # a panel is narrow: wrap the bilingual name rather than cut it at the edge
        name = "\n".join(textwrap.wrap(indicator_label(indicator, lang=t.code), 44))
        ax.set_title(name + "\n" + t._("{n} sourced years", n=comp.n_points), fontsize=9)
        ax.set_ylabel(_value_axis(indicator, t))
        ax.set_xlabel(t._("year"))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="upper left", fontsize=7)
    return fig


def model_views(result, lang: str = "en") -> Figure:
    """Each model's median and 10-90% range in each target year next to the ensemble's,
    with the target level: where the models disagree, the ensemble's width comes from."""
    ind = result.indicator
    targets = result.forecast_targets
    t = figure_language(lang)
    fig, axes = _new(width=max(4.5, 4.2 * len(targets)), height=3.6, ncols=max(len(targets), 1))
    fig.suptitle(indicator_label(ind, lang=t.code) + "\n" + t._(
        "each model's median and 10-90% range (w: its weight in the ensemble), and the "
        "ensemble (dashed: target)"), fontsize=10)
    views = {**result.member_paths, "ENSEMBLE": result.paths}
    years = np.asarray(result.years)
    for ax, target in zip(axes, targets):
        idx = year_index(years, target.year)
        names = list(views)
        for i, name in enumerate(names):
            v = views[name][:, idx]
            q10, q50, q90 = np.quantile(v, [0.1, 0.5, 0.9])
            colour = COLOURS["median"] if name == "ENSEMBLE" else "#4a5568"
            ax.plot([q10, q90], [i, i], color=colour, lw=2.2 if name == "ENSEMBLE" else 1.4)
            ax.scatter([q50], [i], color=colour, s=28, zorder=3)
            p = float(np.mean(target.is_met(v)))
            ax.annotate(_p_text(p), (q90, i), textcoords="offset points",
                        xytext=(4, -3), fontsize=8)
        ax.axvline(target.value, color=COLOURS["target"], lw=1.2, ls="--")
        # each model's weight in the ensemble beside its name: what its view counts for
        weights = result.modelled.weighting.weights if result.modelled else {}
        ax.set_yticks(range(len(names)), [f"{n} (w {weights[n]:.2f})" if n in weights else n
                                          for n in names])
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.margins(x=0.18)  # room for the P labels right of the ranges
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(_value_axis(ind, t))
        ax.set_title(t._("{year} (target {value})", year=target.year,
                         value=f"{target.value:g} {_unit_label(ind)}"))
    return fig


def probability_curve(curve: pd.DataFrame, levels: pd.DataFrame | None, indicator) -> Figure:
    """P(value in the target year >= level) against the level, one line per target year,
    with the plan's target and the levels reached with 50% / 80% probability marked.
    ``curve`` and ``levels`` come from :mod:`forecast.sensitivity`."""
    fig, (ax,) = _new(height=3.8)
    palette = ["#2b6cb0", "#b7791f", "#2f855a", "#6b46c1"]
    for colour, (tid, group) in zip(palette, curve.groupby("target_id", sort=False)):
        year, target = int(group["year"].iloc[0]), float(group["target"].iloc[0])
        ax.plot(group["level"], group["p"], color=colour, lw=1.8, label=f"{year}")
        p_target = float(group.loc[np.isclose(group["level"], target), "p"].iloc[0]) \
            if np.isclose(group["level"], target).any() else None
        ax.axvline(target, color=colour, lw=1, ls="--")
        if p_target is not None:
            ax.scatter([target], [p_target], color=colour, marker="*", s=120, zorder=4)
            ax.annotate(f"target {target:g}: {_p_text(p_target)}", (target, p_target),
                        textcoords="offset points", xytext=(6, -12 if p_target > 0.9 else 4),
                        fontsize=8.5, color=colour)
        if levels is not None:
            row = levels[levels["target_id"] == tid]
            for col, p in (("level_50", 0.5), ("level_80", 0.8)):
                if col in row and not row.empty:
                    ax.scatter([float(row[col].iloc[0])], [p], color=colour, marker="o",
                               facecolor="white", s=36, zorder=4)
    for p in (0.5, 0.8):
        ax.axhline(p, color="#a0aec0", lw=0.8, ls=":")
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(f"target level ({_unit_label(indicator)})")
    ax.set_ylabel("probability of reaching it in the target year")
    ax.set_title(f"{indicator_label(indicator)}\nprobability vs target level "
                 "(circles: levels reached with 50% / 80%)", fontsize=10)
    ax.legend(title="target year", loc="lower left")
    return fig


def tornado(ranking: pd.DataFrame, *, title: str) -> Figure:
    """Horizontal bars from the lowest to the highest probability of each assumption around
    the base probability (vertical line), largest swing on top, variants named at the ends.
    ``ranking`` comes from :func:`forecast.sensitivity.tornado_ranking`."""
    n = len(ranking)
    fig, (ax,) = _new(height=0.55 * n + 1.4)
    base = float(ranking["base"].iloc[0]) if n else 0.0
    for i, row in enumerate(ranking.itertuples()):
        y = n - 1 - i
        if row.low is None or pd.isna(row.low):
            ax.annotate(f"n/a: {row.note}"[:70], (base, y), fontsize=8, va="center",
                        color="#718096")
            continue
        lo, hi = float(row.low), float(row.high)
        left, right = min(lo, base), max(hi, base)
        ax.barh(y, max(right - left, 0.004), left=left if right - left >= 0.004 else left - 0.002,
                color=COLOURS["band"], alpha=0.7, height=0.55)
        low_name, high_name = _shortened(row.low_variant), _shortened(row.high_variant)
        if row.low_variant == row.high_variant:  # one variant: label it on its side
            side = (lo, -4, "right") if lo < base else (hi, 4, "left")
            text = f"{low_name} {format_probability(lo)}" if lo < base else \
                f"{format_probability(hi)} {high_name}"
            ax.annotate(text, (side[0], y), textcoords="offset points", xytext=(side[1], 0),
                        ha=side[2], va="center", fontsize=8)
            continue
        ax.annotate(f"{low_name} {format_probability(lo)}", (left, y),
                    textcoords="offset points", xytext=(-4, 0), ha="right", va="center",
                    fontsize=8)
        ax.annotate(f"{format_probability(hi)} {high_name}", (right, y),
                    textcoords="offset points", xytext=(4, 0), ha="left", va="center",
                    fontsize=8)
    ax.axvline(base, color=COLOURS["target"], lw=1.2)
    ax.set_yticks(range(n), list(ranking["assumption"])[::-1])
    # the axis spans the bars, with room either side for their labels: on 0-100% the
    # swings of a few points were slivers; ticks stay inside 0-100%
    ends = [float(v) for v in [base, *ranking[["low", "high"]].to_numpy().ravel()]
            if v is not None and not pd.isna(v)] or [0.5]
    span = max(max(ends) - min(ends), 0.1)
    low, high = max(min(ends) - 0.6 * span, -0.3), min(max(ends) + 0.6 * span, 1.3)
    ticks = ax.xaxis.get_major_locator().tick_values(low, high)
    ax.set_xticks([round(t, 6) for t in ticks if max(low, -1e-9) <= t <= min(high, 1 + 1e-9)])
    ax.set_xlim(low, high)  # after the ticks, which would widen it
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(f"probability of meeting the target (base {format_probability(base)}, red line)")
    ax.grid(axis="y", visible=False)
    ax.set_title(title)
    _widen_to_fit_labels(fig, ax)
    return fig


#: a tornado label longer than this is cut (with "…"); the table beside the chart has it whole
TORNADO_LABEL = 40


def _shortened(text, limit: int = TORNADO_LABEL) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _widen_to_fit_labels(fig: Figure, ax) -> None:
    """Widen the x range until every annotation lies inside the axes: a long variant name
    at a bar's low end ran over the y tick labels. A name's width is fixed in pixels and its
    anchor in data units, so the range that fits it is solved for directly; the two ends and
    the layout interact, so a few rounds settle it."""
    canvas = FigureCanvasAgg(fig)  # figures here have no pyplot canvas to measure with
    for text in ax.texts:  # the layout keeps its room for the axes; the range makes room here
        text.set_in_layout(False)
    for _ in range(6):
        canvas.draw()  # lays the figure out (constrained layout), then the boxes are final
        renderer = canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        # a margin: a later draw at another dpi lays the axes out a few pixels differently
        margin, width = 0.02 * box.width, box.width
        low, high = ax.get_xlim()
        new_low, new_high = low, high
        for text in ax.texts:
            extent = text.get_window_extent(renderer)
            anchor = float(text.xy[0])
            at = box.x0 + (anchor - low) / (high - low) * width
            # pixels the name needs left / right of its anchor, as a share of the axes
            need_left = (at - extent.x0 + margin) / width
            need_right = (extent.x1 - at + margin) / width
            if extent.x0 < box.x0 + margin - 0.5 and need_left < 0.9:
                new_low = min(new_low, (anchor - need_left * high) / (1 - need_left))
            if extent.x1 > box.x1 - margin + 0.5 and need_right < 0.9:
                new_high = max(new_high, (anchor - need_right * low) / (1 - need_right))
        # never beyond -100%..200%: past that the bars would be slivers; a label still too
        # long is cut to TORNADO_LABEL characters anyway
        new_low, new_high = max(new_low, -1.0), min(new_high, 2.0)
        if (new_low, new_high) == (low, high):
            return
        ax.set_xlim(new_low, new_high)

def pit_histogram(hist: pd.DataFrame, *, title: str | None = None,
                  before: pd.DataFrame | None = None, label: str = "",
                  before_label: str = "", lang: str = "en") -> Figure:
    """PIT counts per bin against the count a calibrated forecaster would give (dashed).
    ``hist`` comes from :func:`forecast.calibration.pit_histogram`; ``before``, the same
    forecasts from another ensemble, is drawn as an outline over it. Labelled in ``lang``."""
    t = figure_language(lang)
    title = t._("PIT histogram") if title is None else title
    fig, (ax,) = _new(width=6, height=3.6)
    width = hist["upper"] - hist["lower"]
    ax.bar(hist["lower"], hist["count"], width=width, align="edge", color=COLOURS["band"],
           alpha=0.7, edgecolor="white", label=label or None)
    if before is not None:
        ax.stairs(before["count"], np.append(before["lower"].to_numpy(),
                                             before["upper"].iloc[-1]),
                  color="#4a5568", lw=1.5, label=before_label or None)
    ax.axhline(float(hist["expected"].iloc[0]), color=COLOURS["target"], ls="--", lw=1.2,
               label=t._("uniform (calibrated)"))
    ax.set_xlim(0, 1)
    ax.set_xlabel(t._("PIT: share of simulated values below the observation"))
    ax.set_ylabel(t._("number of forecasts"))
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def coverage_by_horizon(table: pd.DataFrame, *, title: str | None = None,
                        lang: str = "en") -> Figure:
    """Coverage of each central interval per horizon (points), against its nominal level
    (dashed) and the range chance alone allows a calibrated forecaster with that many
    forecasts (shaded). ``table`` comes from
    :func:`forecast.calibration.coverage_table` by ``"horizon"``; its pooled row is left out.
    Labelled in ``lang``."""
    t = figure_language(lang)
    title = t._("Interval coverage by years ahead") if title is None else title
    rows = table[(table["horizon"].astype(str) != "all") & (table["n_forecasts"] > 0)]
    x = rows["horizon"].astype(int).to_numpy()
    n = rows["n_forecasts"].astype(int).to_numpy()
    fig, (ax,) = _new(width=6.4, height=3.8)
    if rows.empty:
        ax.annotate(t._("no scored forecasts"), (0.5, 0.5), xycoords="axes fraction",
                    ha="center")
        ax.set_title(title)
        return fig
    # one horizon alone would draw its chance range with no width
    xs = np.array([x[0] - 0.3, x[0] + 0.3]) if len(x) == 1 else x
    levels = sorted(int(c.split("_")[1]) for c in rows.columns if c.startswith("coverage_"))
    colours = ["#90cdf4", COLOURS["band"], COLOURS["median"]]
    for level, colour in zip(levels, colours[-len(levels):]):
        nominal = level / 100
        spread = np.array([chance_spread(nominal, k) for k in n])
        spread = np.repeat(spread, len(xs)) if len(x) == 1 else spread
        ax.fill_between(xs, np.clip(nominal - spread, 0, 1), np.clip(nominal + spread, 0, 1),
                        color=colour, alpha=0.12, lw=0)
        ax.axhline(nominal, color=colour, ls="--", lw=1)
        ax.plot(x, rows[f"coverage_{level}"].astype(float), marker="o", color=colour,
                label=t._("{level}% interval", level=level))
    ax.set_xticks(x, [f"{h}\n(n={k})" for h, k in zip(x, n)])
    ax.set_xlabel(t._("years ahead (forecasts scored)") + "\n" + t._(
        "dashed: nominal level; shaded: the range chance alone gives a calibrated forecaster"),
        fontsize=8.5)
    lowest = float(rows[[f"coverage_{lv}" for lv in levels]].astype(float).min().min())
    ax.set_ylim(max(min(0.3, lowest - 0.05), 0), 1.02)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel(t._("observations inside"))
    ax.set_title(title, pad=22)
    # above the axes: low coverage, what the chart is for, is at the bottom
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(levels), fontsize=8,
              borderaxespad=0.1)
    return fig


def reliability_diagram(table: pd.DataFrame, *, title: str | None = None,
                        before: pd.DataFrame | None = None, before_label: str = "",
                        lang: str = "en") -> Figure:
    """Observed frequency against mean predicted probability per bin (marker area ~ number
    of forecasts), with the diagonal of perfect calibration. ``table`` comes from
    :func:`forecast.calibration.reliability_table`; ``before``, the same events from another
    ensemble, is drawn as a grey line. Labelled in ``lang``."""
    t = figure_language(lang)
    title = t._("Reliability of event probabilities") if title is None else title
    fig, (ax,) = _new(width=5, height=4.4)
    ax.plot([0, 1], [0, 1], color="#a0aec0", ls="--", lw=1, label=t._("perfect calibration"))
    if before is not None:
        prior = before.dropna(subset=["mean_predicted"])
        ax.plot(prior["mean_predicted"], prior["observed_frequency"], color="#4a5568", lw=1.2,
                marker=".", label=before_label or None)
    ok = table.dropna(subset=["mean_predicted"])
    sizes = 20 + 300 * ok["n"] / max(ok["n"].max(), 1)
    ax.plot(ok["mean_predicted"], ok["observed_frequency"], color=COLOURS["band"], lw=1)
    ax.scatter(ok["mean_predicted"], ok["observed_frequency"], s=sizes, color=COLOURS["band"],
               alpha=0.75, edgecolor="white", zorder=3, label=t._("bins (area ~ forecasts)"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel(t._("predicted probability of the event"))
    ax.set_ylabel(t._("observed frequency of the event"))
    ax.annotate(t._("above the diagonal: events happened more often than predicted")
                .replace(": ", ":\n", 1),
                (0.97, 0.03), xycoords="axes fraction", ha="right", va="bottom", fontsize=8,
                color="#4a5568")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig


def target_overview(rows: list[dict], classes=None, lang: str = "en") -> Figure | None:
    """Every target with a probability on one axis: P in its year (dot) and the range over
    the ensemble's members (line), coloured likely / balanced / unlikely as in the summary
    table (``classes``: the plan's :class:`~forecast.plans.ProbabilityClasses`). ``rows``
    are the summary table's records (:func:`forecast.reports.summary_table`); None when no
    target has a probability."""
    from .plans import ProbabilityClasses
    classes = classes or ProbabilityClasses()
    t = figure_language(lang)
    colours = {"likely": COLOURS["met"], "balanced": "#b7791f", "unlikely": COLOURS["missed"]}
    shown = [r for r in rows if r.get("p_in_year") is not None and not pd.isna(r["p_in_year"])]
    if not shown:
        return None
    # grouped by indicator, years in order (the registry lists targets year by year)
    order = list(dict.fromkeys(r["indicator"] for r in shown))
    shown.sort(key=lambda r: (order.index(r["indicator"]), r["year"]))
    fig, (ax,) = _new(width=7.5, height=0.5 * len(shown) + 1.5)
    for i, r in enumerate(reversed(shown)):
        p = float(r["p_in_year"])
        colour = colours[classes.of(p)]
        lo, hi = r.get("p_members_min"), r.get("p_members_max")
        if lo is not None and not pd.isna(lo):
            ax.plot([lo, hi], [i, i], color=colour, lw=1.2, alpha=0.6)
        ax.scatter([p], [i], color=colour, s=46, zorder=3)
        ax.annotate(format_probability(p), (p, i), textcoords="offset points", xytext=(0, 6),
                    ha="center", fontsize=8, color=colour)
        q = r.get("p_history_basis")
        if q is not None and not pd.isna(q):  # a share restated on a revised GDP: and if not?
            label = t._("on the history's basis ({of} before its census revision)",
                        of=r.get("basis_of"))
            ax.scatter([q], [i], facecolor="white", edgecolor="#4a5568", s=40, zorder=3,
                       label=label if label not in ax.get_legend_handles_labels()[1] else None)
            ax.annotate(format_probability(q), (q, i), textcoords="offset points",
                        xytext=(0, -11), ha="center", fontsize=7.5, color="#4a5568")
    def name(r):
        return t.name(r, short=True)

    ax.set_yticks(range(len(shown)), [f"{name(r)} {r['year']}\n"
                                      f"{r['comparison']} {r['target']:g} {_unit_text(r['unit'])}"
                                      for r in reversed(shown)], fontsize=8)
    for x in (classes.balanced, classes.likely):
        ax.axvline(x, color="#a0aec0", lw=0.8, ls=":")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.6, len(shown) - 0.2)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(t._("probability of meeting the target in its year\n(dot: the ensemble; "
                      "line: the range over its models)"))
    ax.set_title(t._("Every target with a probability"), fontsize=10, loc="left")
    if ax.get_legend_handles_labels()[1]:  # in a band of its own below the last row
        ax.set_ylim(-1.4, len(shown) - 0.2)
        ax.legend(loc="lower center", fontsize=7.5, borderaxespad=0.3)
    return fig


def scenario_comparison(runs: dict[str, tuple[np.ndarray, np.ndarray]], result, *,
                        title: str | None = None,
                        own_employment: frozenset[str] | set[str] = frozenset()) -> Figure:
    """One small panel per scenario: its median and 80% band against the reference run's
    (the first of ``runs``: name -> (years, paths), normally the baseline; its 10-90% as thin
    dashed lines, so the two never blend into what looks like a nested fan), the recent
    history and the targets, on a shared value axis, each panel titled with the scenario's
    P in the last target year. ``own_employment`` names the scenarios that replace the
    employment assumption: their panels do not show the baseline's implied current level.
    Every scenario gets a panel however many there are; overlaid on one axis, eight bands
    hide each other and the baseline."""
    ind = result.indicator
    names = list(runs)
    reference, others = names[0], names[1:] or names[:1]
    ncols = min(3, len(others))
    nrows = -(-len(others) // ncols)
    use_briefing_style()
    fig = Figure(figsize=(3.6 * ncols + 0.6, 3.0 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    hist = result.history
    ref_years, ref_paths = runs[reference]
    ref_q = np.quantile(ref_paths, [0.1, 0.5, 0.9], axis=0)
    # the years a scenario changes get the room: a short run-up of history, not all of it; a
    # history that ends before it (labour productivity's 2015) is named in the title instead
    first = int(np.asarray(ref_years)[0])
    left = first - SCENARIO_RUN_UP
    shown = hist[hist["year"] >= left] if not hist.empty else hist
    if shown.empty:  # nothing to run up with: start at the implied current level, if any
        left = min(first - 1, result.implied_last.year if result.implied_last else first - 1)
    before = "" if hist.empty or not shown.empty else (
        f" (last observed {int(hist['year'].iloc[-1])}: {hist['value'].iloc[-1]:.4g}, before "
        "the years shown)")
    start = result.scenario_start
    final = result.forecast_targets[-1] if result.forecast_targets else None
    for i, ax in enumerate(axes.flat):
        if i >= len(others):
            ax.set_visible(False)
            continue
        name = others[i]
        years, paths = runs[name]
        q = np.quantile(paths, [0.1, 0.5, 0.9], axis=0)
        if not shown.empty:  # gaps stay gaps, and points are marked as in the fan chart
            ax.plot(*_history_line(shown), color=COLOURS["history"], lw=1.2, label="observed")
            _history_points(ax, shown, size=12)
        for k in (0, 2):
            ax.plot(ref_years, ref_q[k], color="#718096", lw=0.8, ls=":",
                    label=f"{reference} 10-90%" if k == 0 else None)
        ax.plot(ref_years, ref_q[1], color="#4a5568", lw=1.2, ls="--", label=f"{reference} median")
        if name != reference:
            ax.fill_between(years, q[0], q[2], color=COLOURS["band"], alpha=0.35, lw=0,
                            label="scenario 10-90%")
            ax.plot(years, q[1], color=COLOURS["median"], lw=1.6, label="scenario median")
        for target in result.targets:
            ax.scatter([target.year], [target.value], marker="*", s=110,
                       color=COLOURS["target"], zorder=4, edgecolor="white")
        if name not in own_employment:
            _implied_bar(ax, result, label=(i == 0))
        if start is not None:
            ax.axvline(start - 0.5, color=COLOURS["as_of"], lw=0.9, ls=":")
        if result.basis:  # the step down there is the census revision of GDP, not a fall
            ax.axvline(result.basis.break_year - 0.5, color=COLOURS["target"], lw=0.8,
                       ls="--", alpha=0.6)
        heading = name
        if final is not None:
            column = np.flatnonzero(np.asarray(years) == final.year)
            if len(column):
                heading += (f"\n{_p_text(float(np.mean(paths[:, column[0]] >= final.value)))}"
                            f" in {final.year}")
        ax.set_title(heading, fontsize=9)
        ax.set_xlim(left - 0.5, float(np.asarray(ref_years)[-1]) + 0.5)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if i % ncols == 0:
            ax.set_ylabel(_value_axis(ind))
        if i + ncols >= len(others):  # no panel below: this one carries the year axis
            ax.set_xlabel("year")
            ax.tick_params(labelbottom=True)
    axes.flat[0].legend(loc="upper left", fontsize=7)
    when = f"; dotted line: trends and volatility act from {start}" if start is not None else ""
    if result.basis:
        b = result.basis
        when += (f"\nred dashed line: from {b.break_year} a share of census-revised "
                 f"{b.denominator} (its step down is the revision, not a fall)")
    fig.suptitle(title or f"{indicator_label(ind)}{before}\neach scenario (blue, median and "
                 f"80% band) against the {reference} (grey); stars: targets{when}", fontsize=10)
    return fig


#: years of history before the first simulated year shown in the scenario panels
SCENARIO_RUN_UP = 6

