"""A plan is files: ``plans/<id>/plan.yaml``, the plan's text and optionally data of its own.

The suite knows no region: everything a plan says lives in its folder::

    plans/hangzhou/
        plan.yaml    # what the plan is, its settings, assumptions, panels and targets
        plan.txt     # the plan's own text (the targets quote it)
        data/*.csv   # optional: series of the plan's own, read like data/raw/series

``plan.yaml`` holds ``plan`` (id, titles, the region, the text file, its source),
``settings`` (the report's language, the probability classes), ``indicators`` (indicators of
the plan's own, added to the shared catalogue ``data/raw/catalogue.yaml``, never redefining
one of it), ``assumptions`` (stated assumptions for series no source publishes, each with its
sources: the denominator of a ratio such as labour productivity = GDP / employment),
``panels`` (which regions' series grade and inform each indicator) and ``targets``.

Every command takes ``--plan ID|PATH`` (:func:`plan_path`; default :data:`DEFAULT_PLAN`), and
:func:`load_registry` turns catalogue and plan into the :class:`~forecast.targets.Registry`
every other module reads. The README's "Write a plan" says how to write one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .scenario import Employment, parse_employment
from .targets import (Indicator, Registry, _plain, check_ratios, did_you_mean, parse_conversions,
                      parse_indicators, parse_targets, read_yaml)

#: the plan every command uses unless told otherwise (``--plan``)
DEFAULT_PLAN = "hangzhou"
PLAN_FILE = "plan.yaml"
CATALOGUE_FILE = "catalogue.yaml"
PLAN_SECTIONS = {"plan", "settings", "indicators", "assumptions", "panels", "targets",
                 "unit_conversions"}
PLAN_KEYS = {"id", "title_zh", "title_en", "short_zh", "short_en", "text", "region",
             "region_zh", "source"}
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class ProbabilityClasses:
    """How a report reads a probability (a setting of the plan, ``settings:
    probability_classes``): *likely* from ``likely`` on, *balanced* from ``balanced`` on,
    *unlikely* below. open-sdg's progress functions make the same thresholds configurable."""

    likely: float = 0.8
    balanced: float = 0.5

    def of(self, p: float) -> str:
        """The class of probability ``p``."""
        return "likely" if p >= self.likely else "balanced" if p >= self.balanced else "unlikely"


@dataclass(frozen=True)
class Plan:
    """What a plan's ``plan.yaml`` says about the plan itself (see the module doc)."""

    id: str
    path: Path
    region: str
    title_zh: str = ""
    title_en: str = ""
    short_zh: str = ""
    short_en: str = ""
    region_zh: str = ""
    text: Path | None = None
    source: str = ""
    language: str = "en"
    classes: ProbabilityClasses = field(default_factory=ProbabilityClasses)
    #: the indicators the brief is about (empty: every one with a probability)
    central: tuple[str, ...] = ()
    #: series id (a ratio's denominator without a published series) -> its stated assumption
    assumptions: dict[str, Employment] = field(default_factory=dict)
    #: sources of each assumption, as the plan states them
    assumption_sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: indicator id -> source files (stems in data/raw/series) whose regions form its panel
    panels: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def data_dir(self) -> Path:
        """The plan's own data (``data/*.csv`` beside plan.yaml), which may not exist."""
        return self.folder / "data"

    def employment(self, denominator: str = "employed_persons") -> Employment | None:
        """The plan's assumption for ``denominator`` (None: the plan states none, and a ratio
        over it is simulated from the series' own history)."""
        return self.assumptions.get(denominator)

    def title(self, language: str = "en") -> str:
        """The plan's title in ``language`` (the other one where it has none)."""
        return self._in(language, "title") or self.id

    def short(self, language: str = "en") -> str:
        """A short name for page titles, in ``language`` where the plan gives one."""
        return self._in(language, "short") or self.title(language)

    def _in(self, language: str, field: str) -> str:
        """The plan's ``field`` (title, short) in ``language``, else in the other one."""
        other = "en" if language == "zh" else "zh"
        return getattr(self, f"{field}_{language}", "") or getattr(self, f"{field}_{other}", "")


def plans_dir(root: Path) -> Path:
    """The folder of the shipped plans under a project root."""
    return root / "plans"


def known_plans(root: Path) -> list[str]:
    """Ids of the plans under ``root``'s plans/ (folders holding a plan.yaml)."""
    folder = plans_dir(root)
    return sorted(p.parent.name for p in folder.glob(f"*/{PLAN_FILE}")) if folder.is_dir() else []


def plan_path(plan: str | Path | None, root: Path) -> Path:
    """The plan.yaml of ``plan``: None for :data:`DEFAULT_PLAN`; a plan id (a folder of
    ``plans/``); or a path to a plan folder or to its plan.yaml."""
    plan = DEFAULT_PLAN if plan is None or plan == "" else plan
    given = Path(plan)
    if given.is_dir():
        return given / PLAN_FILE
    if given.is_file():
        return given
    if len(given.parts) == 1 and not given.suffix:
        candidate = plans_dir(root) / str(plan) / PLAN_FILE
        if candidate.is_file():
            return candidate
        known = known_plans(root)
        raise InputError(None, f"no plan '{plan}'{did_you_mean(plan, known)}", field="plan",
                         expected="a plan id (" + (", ".join(known) or "none in plans/")
                         + ") or the path of a plan folder")
    raise InputError(given, "plan not found", field="plan",
                     expected="a plan folder holding plan.yaml, or the plan.yaml itself")


def load_registry(plan: str | Path | None, root: Path, catalogue: Path) -> Registry:
    """The registry of ``plan`` (:func:`plan_path`) over the shared ``catalogue``: the
    catalogue's indicators plus the plan's own, the plan's targets, assumptions and
    settings. Every error names the file and the line."""
    cat = read_yaml(catalogue, "indicator catalogue", "data/raw/catalogue.yaml")
    path = plan_path(plan, root)
    if not isinstance(cat, dict) or not isinstance(cat.get("indicators"), dict):
        raise InputError(catalogue, "the catalogue needs an 'indicators' mapping",
                         expected="indicators: {id: {name_en, name_zh, unit, bounds, scale}}")
    indicators = parse_indicators(cat["indicators"], catalogue)
    for ind in indicators.values():  # the catalogue serves every plan: a break names its region
        for brk in ind.breaks:
            if brk.region is None:
                raise InputError(catalogue, f"indicator '{ind.id}' has a break in {brk.year} "
                                 "without a region", field="breaks",
                                 expected="region: the region whose series changed basis")
    check_ratios(indicators, catalogue)
    conversions = parse_conversions(cat.get("unit_conversions"), catalogue)

    doc = read_yaml(path, "plan registry", "plans/<id>/plan.yaml")
    if not isinstance(doc, dict):
        raise InputError(path, "a plan registry is a mapping", expected=", ".join(
            sorted(PLAN_SECTIONS)))
    unknown = sorted(str(k) for k in set(doc) - PLAN_SECTIONS - {"__line__"})
    if unknown:
        raise InputError(path, f"unknown section(s) {', '.join(unknown)}", field=unknown[0],
                         expected=", ".join(sorted(PLAN_SECTIONS)))
    meta = _section(doc, "plan", path, required=True)
    region = meta.get("region")
    if not isinstance(region, str) or not region.strip():
        raise InputError(path, "the plan names no region", line=meta.get("__line__"),
                         field="plan.region", expected="the region its targets are for, "
                         "spelled as in the data (e.g. Hangzhou)")
    bad = sorted(str(k) for k in set(meta) - PLAN_KEYS - {"__line__"})
    if bad:
        raise InputError(path, f"unknown key(s) {', '.join(bad)} under 'plan'", field=bad[0],
                         expected=", ".join(sorted(PLAN_KEYS)))
    own = parse_indicators(doc.get("indicators") or {}, path)
    clash = sorted(set(own) & set(indicators))
    if clash:
        raise InputError(path, f"indicator '{clash[0]}' is already in the catalogue "
                         f"({catalogue.name})", field="indicators",
                         expected="a new id: a plan adds indicators, it does not redefine them")
    indicators.update(own)
    check_ratios(indicators, path)
    conversions.update(parse_conversions(doc.get("unit_conversions"), path))
    text = meta.get("text")
    plan_obj = Plan(
        id=str(meta.get("id") or path.parent.name), path=path, region=region.strip(),
        **{k: str(meta.get(k) or "") for k in ("title_zh", "title_en", "short_zh", "short_en",
                                               "region_zh")},
        text=(path.parent / str(text)) if text else None,
        source=" ".join(str(meta.get("source") or "").split()),
        **_settings(_section(doc, "settings", path), path, indicators),
        **_assumptions(_section(doc, "assumptions", path), path, indicators),
        panels=_panels(_section(doc, "panels", path), path, indicators))
    if plan_obj.text is not None and not plan_obj.text.is_file():
        raise InputError(path, f"the plan's text {plan_obj.text.name} is not in its folder",
                         field="plan.text", expected="a file beside plan.yaml, or no 'text'")
    targets = parse_targets(doc.get("targets"), path, indicators, plan_obj.region)
    if not targets:
        raise InputError(path, "the plan has no targets", field="targets",
                         expected="at least one {id, indicator, year, value, comparison, wording}")
    return Registry(path, plan_obj, indicators, targets, conversions)


def _section(doc: dict, key: str, path: Path, required: bool = False) -> dict[str, Any]:
    value = doc.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InputError(path, f"'{key}' is {'missing' if value is None else 'not a mapping'}",
                         field=key, expected="a mapping")
    return value


def _settings(doc: dict, path: Path, indicators: dict[str, Indicator]) -> dict:
    unknown = sorted(str(k) for k in set(doc) - {"language", "probability_classes", "central",
                                                 "__line__"})
    if unknown:
        raise InputError(path, f"unknown setting(s) {', '.join(unknown)}",
                         field=f"settings.{unknown[0]}",
                         expected="language, probability_classes, central")
    central = doc.get("central") or []
    if not isinstance(central, list) or not all(isinstance(c, str) and c in indicators
                                                for c in central):
        raise InputError(path, f"settings.central is {central!r}", field="settings.central",
                         expected="a list of indicator ids (the brief's central targets)")
    language = doc.get("language", "en")
    if language not in LANGUAGES:
        raise InputError(path, f"settings.language is {language!r}", line=doc.get("__line__"),
                         field="settings.language", expected=" or ".join(LANGUAGES))
    classes = doc.get("probability_classes") or {}
    if not isinstance(classes, dict):
        raise InputError(path, f"settings.probability_classes is {_plain(classes)!r}",
                         field="settings.probability_classes",
                         expected="{likely: P, balanced: P} with 0 < balanced < likely < 1")
    likely, balanced = classes.get("likely", 0.8), classes.get("balanced", 0.5)
    if not (set(classes) <= {"likely", "balanced", "__line__"}
            and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in (likely, balanced)) and 0 < balanced < likely < 1):
        raise InputError(path, f"settings.probability_classes is {_plain(classes)!r}",
                         field="settings.probability_classes",
                         expected="{likely: P, balanced: P} with 0 < balanced < likely < 1")
    return {"language": language, "classes": ProbabilityClasses(float(likely), float(balanced)),
            "central": tuple(central)}


def _assumptions(doc: dict, path: Path, indicators: dict[str, Indicator]) -> dict:
    out, sources = {}, {}
    for series, block in doc.items():
        if series == "__line__":
            continue
        denominators = sorted({i.derived.denominator for i in indicators.values()
                               if i.derived is not None})
        if series not in denominators:
            # an assumption only ever replaces a ratio's denominator: one on another series
            # would be read by nothing, silently
            raise InputError(path, f"an assumption for '{series}', which is no ratio's "
                             f"denominator{did_you_mean(series, denominators)}",
                             field=f"assumptions.{series}", expected="one of "
                             + (", ".join(denominators) or "(no ratio in the catalogue)"))
        employment = parse_employment(block, path, f"assumptions.{series}")
        if employment.population not in indicators:
            raise InputError(path, f"assumptions.{series}.population '{employment.population}' "
                             "is not in the catalogue", field=f"assumptions.{series}.population",
                             expected="a population series id")
        given = block.get("sources") if isinstance(block, dict) else None
        if not given or not isinstance(given, list) or not all(
                isinstance(s, str) and s.strip() for s in given):
            raise InputError(path, f"the assumption for {series} names no source",
                             field=f"assumptions.{series}.sources",
                             expected="a list of the sources of its figures")
        out[series] = employment
        sources[series] = tuple(" ".join(s.split()) for s in given)
    return {"assumptions": out, "assumption_sources": sources}


def _panels(doc: dict, path: Path, indicators: dict[str, Indicator]) -> dict:
    out = {}
    for indicator, spec in doc.items():
        if indicator == "__line__":
            continue
        files = spec.get("files") if isinstance(spec, dict) else None
        if indicator not in indicators or not isinstance(files, list) or not files or not all(
                isinstance(f, str) and f.strip() for f in files):
            raise InputError(path, f"panels.{indicator} is malformed", field=f"panels.{indicator}",
                             expected="an indicator id: {files: [source file stems in "
                                      "data/raw/series]}")
        out[indicator] = tuple(f.strip() for f in files)
    return out
