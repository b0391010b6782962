"""The yearly report: the notebooks in ``notebooks/`` executed with papermill and rendered.

``forecast report --as-of 2026-11-27`` writes ``reports/<as_of>/``:

* one page per *forecastable* indicator (``indicator_forecast``): every indicator carrying a
  target whose coverage (:func:`forecast.coverage.assess`) is ``probability`` or ``pace
  only``; pace-only indicators get a page with the history and the pace diagnostic but no
  probability. Indicators with a probability also get a sensitivity page
  (``target_sensitivity``) and a scenario page (``scenario_explorer``);
* the pooled calibration page (``calibration``) and the summary of every target in the
  registry (``yearly_summary``), not-forecastable targets listed with the route to data;
* ``index.html`` linking all of them, ``summary.json`` / ``summary.csv`` with the values
  *collected from the executed notebooks* (scrapbook scraps, not recomputed here), and
  ``notebooks/*.ipynb``, the executed notebooks themselves.

Why scrapbook: its ``glue`` stores a JSON value in the output of the cell that made it, so the
number in ``summary.json`` is provably the number the reader saw on the page; it works with
the current nbformat (5.10) and papermill (2.6). Each notebook glues one JSON record.

Safety: everything is written into a temporary directory beside the report and swapped into
place only when every notebook succeeded and the summary agrees with the pages. If a notebook
fails, the run is kept as ``reports/<as_of>.failed/`` (executed notebooks with the error
cell, HTML with the code, ``errors.txt``), the previous good ``reports/<as_of>/`` is left
untouched and the command exits with status 1 naming the notebook. Kernel start-up and cell
execution have explicit timeouts. Every page and ``summary.json`` carry the provenance: data
hash, as_of, all parameters, seed, package versions and git commit.
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import html
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__, data, render
from .i18n import LANGUAGES, check_language, language
from .coverage import SUPPLY_DATA_HINT, assess
from .engine import positive_int, process_pool
from .errors import InputError
from .models import DEFAULT_MODELS, MODELS, model_names
from .probability import DEFAULT_PATHS, DEFAULT_SEED, format_probability, range_text
from .scenario import Scenario, distinct_names, load_scenario
from .plans import DEFAULT_PLAN, ProbabilityClasses
from .targets import did_you_mean

START_TIMEOUT = 120        # seconds for a kernel to start
CELL_TIMEOUT = 900         # seconds for one cell
KERNEL = "python3"         # jupyter_client launches "python" kernels with sys.executable
PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "prophet", "cmdstanpy", "matplotlib",
            "papermill", "nbconvert", "nbformat", "nbclient", "jupyter_client", "ipykernel",
            "scrapbook", "pyarrow", "pyyaml")
FORECASTABLE = ("probability", "pace only")


# ----------------------------------------------------------------- notebook parameters

def notebooks_dir() -> Path:
    """``notebooks/`` of the project (beside ``data/``)."""
    return data.project_root() / "notebooks"


def refuse_unknown_parameters(namespace: dict, declared: str) -> None:
    """Raise if papermill injected a parameter the notebook does not declare (``declared``:
    its parameters cell's names, space-separated). papermill only logs a warning for
    ``-p scenaro x`` and runs the baseline, which a reader of the output would take for the
    scenario. The injected cell is read from the kernel's input history (``In`` in
    ``namespace``, the notebook's globals): papermill starts it with "# Parameters". Names
    papermill adds itself (``--inject-paths``: PAPERMILL_*) are allowed; a notebook run by
    hand, or run again in the same kernel, has nothing injected to check."""
    known = set(declared.split())
    injected: set[str] = set()
    for source in namespace.get("In") or []:
        if isinstance(source, str) and source.lstrip().startswith("# Parameters"):
            try:
                body = ast.parse(source).body
            except SyntaxError:
                continue
            injected |= {target.id for node in body if isinstance(node, ast.Assign)
                         for target in node.targets if isinstance(target, ast.Name)}
    unknown = sorted(name for name in injected - known if not name.startswith("PAPERMILL_"))
    if unknown:
        raise InputError(None, f"'{unknown[0]}' is not a parameter of this notebook"
                         + did_you_mean(unknown[0], known), field=unknown[0],
                         expected="one of " + ", ".join(declared.split()))


def resolve_scenarios(values, base_employment=None) -> list[Scenario]:
    """The scenario explorer's ``scenarios`` parameter: None for every file in
    notebooks/scenarios (the report's scenario pages: a file added there is on them), or
    one name or YAML path, or a list of them, each resolved as :func:`resolve_scenario`,
    with distinct names."""
    if values is None:
        values = [f"scenarios/{p.name}" for p in scenario_files(notebooks_dir() / "scenarios")]
    elif isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not values \
            or not all(isinstance(v, str) for v in values):
        raise InputError(None, f"scenarios is {values!r}", field="scenarios",
                         expected="None (every file in notebooks/scenarios), or scenario "
                         "names or YAML paths")
    return distinct_names([resolve_scenario(v, base_employment) for v in values])


def resolve_scenario(value: str | None, base_employment=None) -> Scenario:
    """A scenario from a parameter: None or "baseline" is the baseline; a bare name such as
    ``slower_trend`` is ``notebooks/scenarios/slower_trend.yaml``; anything else a path."""
    if value is None or value == "" or value == "baseline":
        return Scenario()
    if not isinstance(value, str):
        raise InputError(None, f"scenario is {value!r}", field="scenario",
                         expected="None, a scenario name in notebooks/scenarios or a YAML path")
    path = Path(value)
    if not path.suffix and len(path.parts) == 1:
        path = notebooks_dir() / "scenarios" / f"{value}.yaml"
    if not path.is_absolute() and not path.exists():
        path = notebooks_dir() / path
    scenario = load_scenario(path, base_employment)
    # pages name the file as a reader of the project finds it, not this machine's path
    try:
        shown = path.resolve().relative_to(data.project_root().resolve()).as_posix()
    except ValueError:
        shown = path.name
    return dataclasses.replace(scenario, source=shown)


@dataclass
class NotebookInputs:
    """Validated notebook parameters (see :func:`notebook_inputs`)."""

    dataset: data.Dataset
    plan: str | None
    lang: str
    indicator: str | None
    region: str | None
    as_of: date
    target_years: tuple[int, ...] | None
    models: tuple[str, ...] | None
    n_paths: int
    seed: int
    scenario: Scenario

    def forecast_kwargs(self) -> dict:
        return {"region": self.region, "models": self.models, "n_paths": self.n_paths,
                "seed": self.seed, "scenario": self.scenario, "target_years": self.target_years}


def _int(name: str, value, low: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # `papermill -p n_paths 1e4` passes 10000.0
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InputError(None, f"{name} is {value!r}", field=name,
                         expected=f"an integer >= {low}")
    return int(value)


def notebook_inputs(*, plan: str | None = None, lang: str | None = None,
                    indicator: str | None = None,
                    region: str | None = None, as_of=None, target_years=None, models=None,
                    n_paths: int = DEFAULT_PATHS, seed: int = DEFAULT_SEED,
                    scenario: str | None = None, require_indicator: bool = True
                    ) -> NotebookInputs:
    """Check the parameters a notebook received and load the data as of ``as_of``.

    Every bad value raises :class:`InputError` naming the parameter (``field``) and what was
    expected, so a papermill run with a typo fails on the first cell after the parameters
    with a message a reader can act on.
    """
    if plan is not None and not isinstance(plan, str):
        raise InputError(None, f"plan is {plan!r}", field="plan",
                         expected="None (the default plan), a plan id or a plan folder")
    dataset = data.load(as_of, plan=plan)
    if lang is not None and lang not in LANGUAGES:
        raise InputError(None, f"lang is {lang!r}", field="lang",
                         expected="None (the plan's language), " + " or ".join(LANGUAGES))
    lang = lang or dataset.registry.plan.language
    if require_indicator or indicator is not None:
        if not isinstance(indicator, str):
            raise InputError(None, f"indicator is {indicator!r}", field="indicator",
                             expected="an indicator id such as rd_intensity")
        try:
            dataset.registry.indicator(indicator)
        except InputError as exc:  # a notebook forecasts targets: list those, not the catalogue
            raise InputError(exc.file, exc.message, field="indicator",
                             expected="an indicator with a target: "
                             + ", ".join(dataset.registry.target_indicators())) from None
        if not dataset.registry.targets_for(indicator):
            raise InputError(None, f"indicator '{indicator}' has no target", field="indicator",
                             expected="one of " + ", ".join(dataset.registry.target_indicators()))
    if region is not None and (not isinstance(region, str)
                               or region not in set(dataset.panel["region"])):
        raise InputError(None, f"region is {region!r}", field="region",
                         expected=f"None (the target's region) or a region in the panel, e.g. "
                                  f"{dataset.region}")
    if target_years is not None:
        if isinstance(target_years, (int, np.integer)) and not isinstance(target_years, bool):
            target_years = [target_years]
        if not isinstance(target_years, (list, tuple)) or not target_years or not all(
                isinstance(y, (int, np.integer)) and not isinstance(y, bool) for y in target_years):
            raise InputError(None, f"target_years is {target_years!r}", field="target_years",
                             expected="None or a list of years such as [2025, 2027]")
        target_years = tuple(int(y) for y in target_years)
    if models is not None:
        if isinstance(models, str):
            models = [models]
        if not isinstance(models, (list, tuple)) or not models:
            raise InputError(None, f"models is {models!r}", field="models",
                             expected="None or a list of " + ", ".join(MODELS))
        models = model_names(models)
    n_paths = _int("n_paths", n_paths, 100)
    seed = _int("seed", seed, 0)
    return NotebookInputs(dataset, plan, lang, indicator, region, dataset.as_of, target_years,
                          models, n_paths, seed, resolve_scenario(
                              scenario, dataset.registry.employment_for(indicator)))


# ----------------------------------------------------------------- the summary table

def forecastable_indicators(dataset: data.Dataset) -> dict[str, str]:
    """Indicator id -> status ("probability" or "pace only") for every indicator with at
    least one target the suite can say something about, in registry order."""
    out: dict[str, str] = {}
    for target in dataset.registry.targets.values():
        status = assess(dataset, target).status
        if status in FORECASTABLE:
            if out.get(target.indicator) != "probability":
                out[target.indicator] = status
    return out


def status_key(row: dict, classes: ProbabilityClasses = ProbabilityClasses()) -> str:
    """The colour class of one summary row: likely, balanced or unlikely by the plan's
    probability classes (by default P >= 80%, 50-80%, < 50%), observed met / missed, pace
    only, not forecastable."""
    if row.get("status") == "observed":
        return "observed met" if row.get("observed_met") else "observed missed"
    p = row.get("p_in_year")
    if row.get("status") == "probability" and p is not None and not _isnan(p):
        return classes.of(p)
    return row.get("status") if row.get("status") in render.STATUS_COLOURS else "not forecastable"


def diagnostics_frame(diagnostics, lang: str = "en") -> pd.DataFrame:
    """Typed diagnostics (:mod:`forecast.diagnostics`: a ratio's break-evens, a share's
    required growth) as a table of their own rows in ``lang``, every cell a readable string
    ("–" where a figure does not apply, never nan)."""
    frame = pd.DataFrame([d.row(lang) for d in diagnostics])
    return frame.fillna("–")


def colour_rests_on(row: dict, classes: ProbabilityClasses = ProbabilityClasses()) -> list[str]:
    """What a forecast row's colour class rests on: each alternative the row itself states
    -- the ensemble's members, the share's published-history basis, the ends of the assumed
    employment ratio -- under which P falls in another class. Empty when the colour holds
    under all of them (R&D 2025: every member and neither basis changes "unlikely"), so an
    official can tell a firm colour from one a single assumption sets."""
    p = row.get("p_in_year")
    if row.get("status") != "probability" or p is None or _isnan(p):
        return []
    own = classes.of(p)

    def moves(*ps) -> bool:
        return any(q is not None and not _isnan(q) and classes.of(q) != own for q in ps)

    out = []
    lo, hi = row.get("p_members_min"), row.get("p_members_max")
    if moves(lo, hi):
        out.append(f"the choice of model ({format_probability(lo)} to {format_probability(hi)})")
    basis = row.get("p_history_basis")
    if moves(basis):
        out.append(f"the {row.get('basis_of')} census basis ({format_probability(basis)} if "
                   f"read on the pre-census basis, on which no figure will be published)")
    at = row.get("p_at_ratio")
    if isinstance(at, dict) and at and moves(*at.values()):
        ends = dict.fromkeys([next(iter(at)), list(at)[-1]])  # the range's ends, once each
        out.append("the employment ratio (" + " / ".join(
            f"{format_probability(at[k])} at {k}" for k in ends) + ")")
    return out


def _isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


def summary_table(dataset: data.Dataset, *, n_paths: int = DEFAULT_PATHS,
                  seed: int = DEFAULT_SEED, models: tuple[str, ...] | None = None,
                  pages: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per target of the registry: what the suite says about it as of the dataset.

    Columns: target id and names, year, target value, unit, status, last observed value and
    year, observed vs required compound annual growth and the pace label, P(in the target
    year) and its range over the ensemble's members, P(by the target year), joint P of all the
    indicator's targets, the series' own
    backtest coverage of the 80% interval, the data-sufficiency reason, the route to data
    when there is none, the colour class (:func:`status_key`) and the page link. Forecasts
    use :func:`forecast.pipeline.forecast_indicator` with the given paths and seed, so the
    numbers equal those of the indicator pages run with the same parameters.
    """
    from .pipeline import forecast_indicator

    registry = dataset.registry
    cache = {}
    rows = []
    for target in registry.targets.values():
        ind = registry.indicator(target.indicator)
        cov = assess(dataset, target)
        if ind.id not in cache:
            cache[ind.id] = forecast_indicator(dataset, ind.id, models=models, n_paths=n_paths,
                                               seed=seed)
        res = cache[ind.id]
        prob = res.probabilities.get(target.id)
        pc = res.pace.get(target.id)
        obs = res.observed.get(target.id)
        comp = res.modelled  # the backtested series: the indicator, or GDP for a ratio
        # the ensemble's P is a weighted average of its members' (the mixture is their union),
        # so their range shows how much the headline rests on the choice of model
        member_probs = [m[target.id] for m in res.member_probabilities.values() if target.id in m]
        members = [m.p_in_year for m in member_probs]
        basis, implied = res.basis, res.implied_last
        pooling = (comp.pooling or {}) if comp else {}
        be, need = (res.break_even or {}).get(target.id), res.required.get(target.id)
        row = {
            "target_id": target.id, "indicator": ind.id, "name_en": ind.name_en,
            "name_zh": ind.name_zh, "year": target.year, "target": target.value,
            "comparison": target.comparison, "unit": ind.unit, "status": cov.status,
            "last_value": cov.last_value, "last_year": cov.last_year, "n_years": cov.n_years,
            "observed_cagr": pc.observed_cagr if pc else None,
            "required_cagr": pc.required_cagr if pc else None,
            "required_from_last": pc.required_from_last if pc else None,
            "pace_base_year": pc.base_year if pc else None,
            "pace_ratio": pc.ratio if pc else None, "pace_label": pc.label if pc else None,
            "pace_caveat": pc.source_caveat() if pc else None,
            "pace_target_value": pc.target_value if pc else None,
            "p_in_year": prob.p_in_year if prob else None,
            "p_by_year": prob.p_by_year if prob else None,
            "p_mc95": prob.mc_error95 if prob else None,  # 95% Monte Carlo error of p_in_year
            "p_members_min": min(members) if members else None,
            "p_members_max": max(members) if members else None,
            # a member's P comes from its share of the paths only
            "p_members_mc95": max(m.mc_error95 for m in member_probs) if members else None,
            "median": prob.median if prob else None,
            "q10": prob.q10 if prob else None, "q90": prob.q90 if prob else None,
            "joint": res.joint["p_all_met"] if res.joint and prob else None,
            "backtest_coverage_80": (comp.calibration or {}).get("coverage_80") if comp and prob
            else None,
            # a share restated on GDP's census-revised basis: P on the history's own basis
            "p_history_basis": (basis.p_history_basis.get(target.id)
                                if prob and basis else None),
            "basis_of": basis.denominator if prob and basis else None,
            "basis_revision": basis.revision_text() if prob and basis else None,
            "basis_year": basis.break_year if prob and basis else None,
            # years forecast although their figures are probably published (release lags)
            "probably_out": ("; ".join(o.short() for o in res.probably_out)
                             if prob and res.probably_out else None),
            # a ratio's P rests on its employment assumption: where it crosses 50%
            "break_even_ratio": be.ratio if prob and be else None,
            "assumed_ratio": res.assumption if prob and res.break_even else None,
            "p_at_ratio": be.p_at_ratio if prob and be else None,
            "gdp_growth_needed": (be.gdp_growth_needed.as_dict()
                                  if prob and be and be.gdp_growth_needed else None),
            "ratio_anchored": bool(res.employment and res.employment.anchor) if prob else None,
            "assumed_ratio_range": (
                range_text(res.employment.ratio) if prob and res.break_even else None),
            # a share of GDP (R&D intensity): the spending growth the target takes
            "required_growth": need.median if prob and need else None,
            "required_of": need.numerator if prob and need else None,
            "required_from": need.base_year if prob and need else None,
            # a ratio indicator's backtest is its modelled numerator's (e.g. GDP's)
            "backtest_of": comp.indicator if comp and prob and comp.indicator != ind.id else None,
            # the modelled series pooled with a panel of other regions: which, how many, how
            # much its own history weighs, and P without the pooled member
            "pooled_panel": pooling.get("panel") if prob and pooling else None,
            "pooled_regions": pooling.get("n_regions") if prob and pooling else None,
            "own_weight": pooling.get("own_weight_drift") if prob and pooling else None,
            "p_without_pooling": res.p_without_pooling.get(target.id) if prob else None,
            # a ratio without a published series: where it stands on the run's assumption
            "implied_last_low": implied.low if prob and implied else None,
            "implied_last_high": implied.high if prob and implied else None,
            "implied_last_year": implied.year if prob and implied else None,
            "observed_value": obs["value"] if obs else None,
            "observed_met": obs["met"] if obs else None,
            "observed_preliminary": obs["preliminary"] if obs else None,
            "sufficiency": cov.reason,
            "route": SUPPLY_DATA_HINT if cov.status == "not forecastable" else "",
            "page": (pages or {}).get(ind.id, ""),
        }
        row["colour"] = status_key(row, registry.plan.classes)
        # kept a "; "-joined string, like probably_out, so that summary.csv stays flat
        row["colour_rests_on"] = "; ".join(colour_rests_on(row, registry.plan.classes)) or None
        rows.append(row)
    return pd.DataFrame(rows)


def records(frame: pd.DataFrame) -> list[dict]:
    """JSON-safe records of a frame at full precision (NaN -> None, numpy -> Python)."""
    return [{str(k): data.json_ready(v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


# ----------------------------------------------------------------- provenance

def git_commit(root: Path | None = None) -> str:
    """The commit checked out in the project, read from ``.git`` (no git needed), or
    'unknown'."""
    root = root or data.project_root()
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: PATH"
            git = (root / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        for base in (git, Path(str(git).split("/worktrees/")[0]) if "/worktrees/" in str(git)
                     else git):
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
    except (OSError, IndexError):
        pass
    return "unknown"


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Python, this package and the installed version of each of ``names``."""
    out = {"python": platform.python_version(), "forecast": __version__}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def user_data(dataset: data.Dataset) -> list[dict]:
    """The values brought by the user (``data/raw/user``) that the panel uses: per file, the
    rows (region, indicator, year) and their source titles. The git commit and the shipped
    data do not show them, so a report says so itself."""
    panel = dataset.panel[dataset.panel["origin"] == "user"]
    out = []
    for file, rows in panel.groupby("source_file", sort=True):
        sources = sorted(set(map(str, rows["source_title"])))
        # a banner on every page: bounded however large or many the titles are
        shown = [t if len(t) <= 120 else t[:119] + "…" for t in sources[:10]]
        if len(sources) > 10:
            shown.append(f"and {len(sources) - 10} more")
        out.append({"file": Path(str(file)).name, "n_rows": int(len(rows)),
                    "values": [f"{r.region} {r.indicator} {int(r.year)}"
                               for r in rows.itertuples()][:10],
                    "sources": shown})
    return out


def local_changes(root: Path | None = None) -> list[str] | None:
    """Tracked files that differ from the commit (``git status --porcelain``), so a report
    made from edited code or scenarios says so beside its commit; None without git."""
    root = root or data.project_root()
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return None
    try:
        out = subprocess.run([git, "-C", str(root), "status", "--porcelain",
                              "--untracked-files=no"], capture_output=True, text=True,
                             timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # benchmark results are tracked outputs, not code a report's numbers depend on
    return [line[3:] for line in out.splitlines()
            if line.strip() and not line[3:].startswith("benchmarks/")]


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files of ``folder`` (``.yaml`` and ``.yml``, as load_scenarios reads)."""
    return sorted(p for p in folder.glob("*") if p.suffix in (".yaml", ".yml")) \
        if folder.is_dir() else []


def files_hash(folder: Path) -> str | None:
    """SHA-256 over the names and bytes of ``folder``'s scenario files (what a report's
    scenario pages read), or None without such files."""
    files = scenario_files(folder)
    if not files:
        return None
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return digest.hexdigest()


def provenance(dataset: data.Dataset, parameters: dict,
               scenario_dir: Path | None = None) -> dict:
    """What a report rests on: data hash, as_of, every parameter, seed, versions, commit and
    any uncommitted change to tracked files, the hash of the scenario files, and the user's
    own data in it (:func:`user_data`)."""
    return {"as_of": dataset.as_of.isoformat(), "data_hash": dataset.data_hash,
            "user_data": user_data(dataset),
            "seed": parameters.get("seed"), "parameters": parameters,
            "git_commit": git_commit(), "local_changes": local_changes(),
            "scenarios_hash": files_hash(scenario_dir or notebooks_dir() / "scenarios"),
            "packages": package_versions(),
            "platform": platform.platform(),
            "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _report_indicators(folder: Path) -> list[str]:
    """The indicators a finished report in ``folder`` has pages for (none when there is no
    readable report there)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return list(summary["provenance"]["parameters"]["indicators"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


# ----------------------------------------------------------------- jobs

@dataclass
class Job:
    """One notebook execution: ``notebook`` (file in notebooks/) with ``parameters`` into
    ``<stem>.ipynb`` / ``<stem>.html``."""

    stem: str
    notebook: str
    parameters: dict
    title: str
    kind: str
    cost: float = 1.0  # rough relative run time, to start long jobs first


@dataclass
class JobResult:
    stem: str
    ok: bool
    seconds: float
    error: str = ""
    scraps: dict = field(default_factory=dict)


def plan_parameter(dataset: data.Dataset) -> str:
    """How a notebook is told the plan: its id when it is one of the project's plans/, else
    the absolute path of its folder (the notebooks run in notebooks/, not here)."""
    plan = dataset.registry.plan
    shipped = data.project_root() / "plans" / plan.folder.name
    return plan.folder.name if shipped.resolve() == plan.folder.resolve() else \
        str(plan.folder.resolve())


def plan_jobs(dataset: data.Dataset, indicators: list[str] | None, *, n_paths: int, seed: int,
              models: tuple[str, ...] | None, calibration_paths: int = 300,
              calibration_origins: int = 3, lang: str = "en") -> list[Job]:
    """The notebooks of a report (see the module docstring), in ``lang``."""
    t = language(lang)
    forecastable = forecastable_indicators(dataset)
    if indicators:
        unknown = [i for i in indicators if i not in forecastable]
        if unknown:
            # an id of the catalogue without history, or a typo: say which
            registry = dataset.registry
            what = ("unknown indicator" if unknown[0] not in registry.indicators
                    else "no target of the plan (a report has pages for the plan's targets)"
                    if not registry.targets_for(unknown[0])
                    else "not forecastable (no history to forecast from)")
            raise InputError(None, f"{what}: {', '.join(unknown)}"
                             f"{did_you_mean(unknown[0], forecastable)}", field="indicators",
                             expected="any of " + ", ".join(forecastable))
        forecastable = {i: s for i, s in forecastable.items() if i in indicators}
    common = {"plan": plan_parameter(dataset), "lang": lang, "as_of": dataset.as_of.isoformat(),
              "n_paths": n_paths, "seed": seed, "models": list(models) if models else None}
    jobs = []
    for ind, status in forecastable.items():
        indicator = dataset.registry.indicator(ind)
        name = language(lang).name(vars(indicator))
        heavy = 2.0 if indicator.derived else 1.0
        jobs.append(Job(ind, "indicator_forecast.ipynb", {**common, "indicator": ind},
                        t._("{name}: forecast", name=name), "indicator",
                        heavy if status == "probability" else 0.2))
        if status == "probability":
            jobs.append(Job(f"{ind}__sensitivity", "target_sensitivity.ipynb",
                            {**common, "indicator": ind}, t._("{name}: sensitivity", name=name),
                            "sensitivity", 2 * heavy))
            jobs.append(Job(f"{ind}__scenarios", "scenario_explorer.ipynb",
                            {**common, "indicator": ind}, t._("{name}: scenarios", name=name),
                            "scenarios", heavy))
    jobs.append(Job("calibration", "calibration.ipynb",
                    {"plan": common["plan"], "lang": lang, "as_of": common["as_of"],
                     "n_paths": calibration_paths, "seed": seed,
                     "max_origins": calibration_origins, "models": common["models"]},
                    t._("Calibration of the ensemble (pooled backtests)"), "calibration", 3.0))
    pages = {j.parameters["indicator"]: f"{j.stem}.html" for j in jobs if j.kind == "indicator"}
    jobs.append(Job("yearly_summary", "yearly_summary.ipynb", {**common, "pages": pages},
                    t._("Summary of every target"), "summary", 3.0))
    return sorted(jobs, key=lambda j: -j.cost)


#: a report's folder for the kernels' connection files while its notebooks run
RUNTIME_DIR = ".runtime"


def run_job(job: Job, source_dir: str, out_dir: str, *, kernel: str, start_timeout: int,
            cell_timeout: int, footer: str, lang: str = "en") -> JobResult:
    """Execute one notebook with papermill and export it to HTML without code cells (a failed
    notebook is exported with its code, to debug). Runs in a worker process."""
    import papermill as pm
    import scrapbook as sb

    out = Path(out_dir).resolve()  # the kernel runs in the notebooks' folder, not here
    executed = out / "notebooks" / f"{job.stem}.ipynb"
    start = time.perf_counter()
    error = ""
    # the kernel's connection file (jupyter_client writes it with tempfile) goes into the
    # staging folder: an interrupted run's kernels never delete theirs, and the folder goes
    runtime = out / RUNTIME_DIR
    runtime.mkdir(exist_ok=True)
    saved_tempdir, tempfile.tempdir = tempfile.tempdir, str(runtime)
    # the kernel inherits this process's stderr: its warnings (e.g. ipykernel's "running over
    # TCP without encryption", once per notebook) go to a log beside the executed notebook
    # instead of through the progress bar
    saved_stderr = os.dup(2)
    with open(out / "notebooks" / f"{job.stem}.stderr.txt", "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        pm.execute_notebook(str(Path(source_dir) / job.notebook), str(executed),
                            parameters=job.parameters, kernel_name=kernel,
                            cwd=source_dir, progress_bar=False, log_output=False,
                            start_timeout=start_timeout, execution_timeout=cell_timeout,
                            report_mode=False)
    except Exception as exc:  # noqa: BLE001 - any failure is reported with its message
        error = _short_error(exc)
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        tempfile.tempdir = saved_tempdir
    if not error:
        _drop_shutdown_noise(out / "notebooks" / f"{job.stem}.stderr.txt")
    seconds = time.perf_counter() - start
    scraps = {}
    if executed.is_file():
        try:
            if not error:
                scraps = {name: scrap.data for name, scrap in
                          sb.read_notebook(str(executed)).scraps.items()}
            _export_html(executed, out / f"{job.stem}.html", footer, exclude_input=not error,
                         lang=lang,
                         title=f"{job.title} ({job.parameters.get('as_of', '')})")
        except Exception as exc:  # noqa: BLE001
            error = error or f"export failed: {_short_error(exc)}"
    elif not error:
        error = "papermill wrote no output notebook"
    return JobResult(job.stem, not error, seconds, error, scraps)


#: what a kernel prints while it is shut down after a notebook ran to its end: an "ERROR"
#: line in a successful notebook's log reads like a failure to a user
KERNEL_SHUTDOWN_NOISE = ("KeyboardInterrupt caught in kernel",)


def _drop_shutdown_noise(log: Path) -> None:
    if not log.is_file():
        return
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    kept = [line for line in lines if not any(n in line for n in KERNEL_SHUTDOWN_NOISE)]
    if len(kept) != len(lines):
        log.write_text("".join(kept), encoding="utf-8")


def _short_error(exc: BaseException) -> str:
    name = getattr(exc, "ename", type(exc).__name__)
    value = getattr(exc, "evalue", str(exc))
    return f"{name}: {value}".strip()


#: nbconvert's "lab" page without its CDN scripts (see the template's comment)
OFFLINE_TEMPLATE = Path(__file__).parent / "templates" / "offline.html.j2"


#: cells tagged so are for someone exploring the notebook (its own introduction, the
#: parameters explained): a report's page leaves them out and opens with its summary box
EXPLORER_TAG = "explorer"


def _export_html(notebook: Path, target: Path, footer: str, exclude_input: bool,
                 title: str = "", lang: str = "en") -> None:
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    import warnings

    nb = nbformat.read(notebook, as_version=4)
    exporter = HTMLExporter(template_name="lab", template_file=str(OFFLINE_TEMPLATE),
                            exclude_input=exclude_input, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    if exclude_input:  # a failed notebook is shown whole, to debug
        exporter.register_preprocessor(TagRemovePreprocessor(
            remove_cell_tags={EXPLORER_TAG}), enabled=True)
    with warnings.catch_warnings():  # scrapbook's JSON outputs have no HTML form: skipped
        warnings.simplefilter("ignore", UserWarning)
        body, _ = exporter.from_notebook_node(nb)
    body = body.replace("</body>", footer + "\n</body>", 1)
    # the page's language, for screen readers and the browser's fonts and hyphenation
    body = re.sub(r"<html lang=\"[^\"]*\">", f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">',
                  body, count=1)
    if title:  # the browser tab and bookmarks said "Notebook" on every page
        body = re.sub(r"<title>.*?</title>", lambda _: f"<title>{html.escape(title)}</title>",
                      body, count=1, flags=re.S)
    target.write_text(body, encoding="utf-8")


def chromium() -> str | None:
    """The Chromium (or Chrome) executable on this machine, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


#: flags for a headless Chromium on a machine with no display and no network: without the
#: background-networking ones it keeps trying to reach Google's hosts
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def print_pdf(page: Path, pdf: Path, timeout: int = 180) -> str | None:
    """Print ``page`` to ``pdf`` with headless Chromium's print-to-PDF (offline; the page's
    own ``@page`` rule sets A4 and the margins). Returns None when the PDF is written, else
    a message saying why not (no Chromium: the HTML brief is there all the same)."""
    browser = chromium()
    if browser is None:
        return (f"{pdf.name} not written: no Chromium on this machine (`make report` installs "
                "Debian's chromium when it runs as root; the HTML brief is written)")
    with tempfile.TemporaryDirectory() as profile:
        try:
            proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                                   "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                   page.resolve().as_uri()], capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{pdf.name} not written: Chromium failed ({exc})"
    if not pdf.is_file() or pdf.stat().st_size == 0:
        return f"{pdf.name} not written: Chromium said {proc.stderr.strip()[-300:]!r}"
    return None


# ----------------------------------------------------------------- the report

@dataclass
class ReportResult:
    """Outcome of :func:`build_report`: where it went, which notebooks failed, timings."""

    path: Path
    ok: bool
    failed: list[str]
    seconds: dict[str, float]
    total_seconds: float
    messages: list[str] = field(default_factory=list)


def basis_line(result) -> str:
    """The restatement note of a share read against its denominator's census-revised basis
    (:attr:`forecast.pipeline.IndicatorForecast.basis`), in italics, for the scenario and
    sensitivity pages, whose paths are restated too; "" otherwise."""
    b = getattr(result, "basis", None)
    return f"*{b.text()}*" if b else ""


_REPORT_NAME = re.compile(r"\d{4}-\d{2}-\d{2}")


def changes_since_previous(out: Path, as_of: str, rows: list[dict], dataset: data.Dataset,
                           prov: dict) -> dict | None:
    """What moved since the newest earlier report in ``out`` (a yearly report is read next to
    last year's): per target the probability then and now, the figures published in between
    (rows behind the targets now available that were not on the earlier as-of date), and any
    difference of settings or code that moves numbers by itself. Only a report of the same
    plan counts. None without an earlier report; an unreadable one is said, not skipped
    silently."""
    earlier = sorted((d for d in out.iterdir() if _REPORT_NAME.fullmatch(d.name)
                      and d.name < as_of and (d / "summary.json").is_file()), reverse=True) \
        if out.is_dir() else []
    plan = prov["parameters"].get("plan", DEFAULT_PLAN)
    for folder in earlier:
        path = folder / "summary.json"
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
            then = {r["target_id"]: r for r in before["targets"]}
            before_as_of, before_prov = before["as_of"], before.get("provenance") or {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return {"as_of": folder.name, "error": f"{path} could not be read ({exc})"}
        # reports from before plans were files name none: they were the default plan's
        if (before_prov.get("parameters") or {}).get("plan", DEFAULT_PLAN) == plan:
            break
    else:
        return None
    targets = []
    for r in rows:
        b = then.get(r["target_id"], {})
        targets.append({"target_id": r["target_id"], "name_en": r["name_en"], "year": r["year"],
                        "p_before": b.get("p_in_year"), "p_now": r.get("p_in_year"),
                        "status_before": b.get("status"), "status_now": r.get("status")})
    behind = _rows_behind_targets(dataset)
    available = pd.to_datetime(behind["available"], errors="coerce")
    fresh = behind[available > pd.Timestamp(before_as_of)].sort_values(["indicator", "year"])
    new_figures = [f"{f.indicator} {int(f.year)} ({f.published})" for f in fresh.itertuples()]
    settings = []
    for key in ("n_paths", "seed", "models"):
        old_value = (before_prov.get("parameters") or {}).get(key)
        if old_value is not None and old_value != prov["parameters"].get(key):
            settings.append(f"{key} {old_value} -> {prov['parameters'].get(key)}")
    if before_prov.get("git_commit") not in (None, prov.get("git_commit")):
        settings.append(f"code {str(before_prov['git_commit'])[:12]} -> "
                        f"{str(prov.get('git_commit'))[:12]}")
    if (before_prov.get("local_changes") or prov.get("local_changes")) and \
            before_prov.get("local_changes") != prov.get("local_changes"):
        settings.append("uncommitted code changes (see each report's footer)")
    if before_prov.get("scenarios_hash") not in (None, prov.get("scenarios_hash")):
        settings.append("scenario files changed")
    return {"as_of": before_as_of, "targets": targets, "new_figures": new_figures,
            "settings": settings}


def _rows_behind_targets(dataset: data.Dataset) -> pd.DataFrame:
    """The panel rows a Hangzhou number rests on: the plan's region, the target indicators
    and the series they are derived from. Comparison panels (other provinces, other
    countries) do not count."""
    registry = dataset.registry
    used = set()
    for target in registry.targets.values():
        indicator = registry.indicator(target.indicator)
        used.add(indicator.id)
        if indicator.derived is not None:
            assumed = registry.plan.employment(indicator.derived.denominator)
            used |= {indicator.derived.numerator, indicator.derived.denominator} | (
                {assumed.population} if assumed else set())
    region = registry.plan.region
    panel = dataset.panel
    return panel[(panel["region"] == region) & panel["indicator"].isin(used)]


def _newest_publication(dataset: data.Dataset) -> str | None:
    """When and what the newest figure behind a target is (None without dates)."""
    rows = _rows_behind_targets(dataset)
    available = pd.to_datetime(rows["available"], errors="coerce").dropna()
    if available.empty:
        return None
    newest = rows.loc[available.idxmax()]
    # as the source dates it ("2025" when only the year is known), with what it is
    return f"{newest['published']} ({newest['indicator']} {int(newest['year'])})"


def _consistency(summary_rows: list[dict], pages: dict[str, dict]) -> list[str]:
    """Differences between the summary's probabilities and those of the indicator pages."""
    problems = []
    for row in summary_rows:
        page = pages.get(row["indicator"])
        if not page or row.get("p_in_year") is None:
            continue
        p = (page.get("probabilities") or {}).get(row["target_id"], {}).get("p_in_year")
        if p is None or abs(p - row["p_in_year"]) > 1e-12:
            problems.append(f"{row['target_id']}: summary {row['p_in_year']} vs page {p}")
    return problems


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _recover_leftovers(out: Path, name: str) -> None:
    """What a run killed hard (SIGKILL, power loss) left of the report ``name``: its staging
    folder is removed, and a previous report it had moved aside to swap in the new one is
    put back when nothing replaced it. A running report's folders (its PID alive) are left."""
    for leftover in sorted(out.glob(f".{name}.*-*")):
        kind, _, pid = leftover.name[len(name) + 2:].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        final = out / name
        if kind == "old" and not final.exists():
            os.replace(leftover, final)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _swap_into_place(staging: Path, final: Path) -> None:
    """Replace ``final`` by ``staging``; the old report survives until the new one is there."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_report(as_of=None, out: str | Path = "reports", *, plan: str | Path | None = None,
                 indicators: list[str] | None = None,
                 n_paths: int = DEFAULT_PATHS, seed: int = DEFAULT_SEED,
                 models: tuple[str, ...] | None = None, jobs: int = 2, kernel: str = KERNEL,
                 start_timeout: int = START_TIMEOUT, cell_timeout: int = CELL_TIMEOUT,
                 calibration_paths: int = 300, calibration_origins: int = 3,
                 source_dir: str | Path | None = None, progress: bool = True,
                 lang: str | None = None) -> ReportResult:
    """Execute and render the report as of ``as_of`` into ``<out>/<as_of>/`` (module doc),
    in ``lang`` (default: the plan's language)."""
    t0 = time.perf_counter()
    dataset = data.load(as_of, plan=plan)
    lang = check_language(lang or dataset.registry.plan.language)
    _int("n_paths", n_paths, 100)
    _int("seed", seed, 0)
    _int("jobs", jobs, 1)
    # the calibration notebook's own checks, said before the other notebooks have run
    _int("calibration_paths", calibration_paths, 100)
    _int("calibration_origins", calibration_origins, 1)
    if models:
        model_names(models)
    source = Path(source_dir) if source_dir else notebooks_dir()
    plan = plan_jobs(dataset, indicators, n_paths=n_paths, seed=seed, models=models,
                     calibration_paths=calibration_paths, calibration_origins=calibration_origins,
                     lang=lang)
    for job in plan:
        if not (source / job.notebook).is_file():
            raise InputError(source / job.notebook, "notebook not found",
                             expected="the notebooks of the project in notebooks/")
    name = dataset.as_of.isoformat()
    # another plan's reports live beside, not among, the default plan's: the index compares
    # a report with the previous one of the same plan
    out = Path(out) if dataset.registry.plan.id == DEFAULT_PLAN else \
        Path(out) / dataset.registry.plan.id
    out.mkdir(parents=True, exist_ok=True)
    final, failed_dir = out / name, out / f"{name}.failed"
    _recover_leftovers(out, name)
    # a partial run (--indicators) must not replace a fuller report; a full run renders what
    # is forecastable now (an indicator whose user data were deleted drops out, as it should)
    dropped = sorted(set(_report_indicators(final)) - {
        j.parameters["indicator"] for j in plan if j.kind == "indicator"}) if indicators else []
    if dropped:  # said before an hour of notebooks, not found missing afterwards
        raise InputError(final, f"this report has pages for {', '.join(dropped)}, which this "
                         "run (--indicators) would not render: it would replace the fuller "
                         "report", field="indicators", expected="every indicator of that "
                         "report, or --out DIR for a partial report elsewhere (or delete the "
                         "folder to replace it)")
    staging = out / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "notebooks").mkdir(parents=True)
    parameters = {"plan": plan_parameter(dataset), "lang": lang, "as_of": name,
                  "n_paths": n_paths, "seed": seed,
                  "models": list(models or DEFAULT_MODELS), "indicators": [
                      j.parameters["indicator"] for j in plan if j.kind == "indicator"],
                  "kernel": kernel, "start_timeout": start_timeout,
                  "cell_timeout": cell_timeout, "calibration_paths": calibration_paths,
                  "calibration_origins": calibration_origins, "jobs": jobs}
    prov = provenance(dataset, parameters, source / "scenarios")
    footer = render.footer_html(prov, lang)
    results: dict[str, JobResult] = {}
    bar = _progress(len(plan), progress)
    try:
        # Not forecast.engine.run_tasks: that one raises at the first failed task, by design
        # (nothing silently lost). Here a failed or crashed notebook is a result to report
        # next to the others, and each finished page updates the bar with its name.
        with process_pool(jobs) as pool:
            futures = {pool.submit(run_job, job, str(source.resolve()), str(staging),
                                   kernel=kernel, start_timeout=start_timeout,
                                   cell_timeout=cell_timeout, footer=footer, lang=lang): job
                       for job in plan}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    results[job.stem] = future.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker is a failure too
                    results[job.stem] = JobResult(job.stem, False, 0.0, _short_error(exc))
                res = results[job.stem]
                bar.set_postfix_str(f"{job.stem} {'ok' if res.ok else 'FAILED'} "
                                    f"{res.seconds:.0f}s")
                bar.update(1)
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: the pool has stopped its workers; a half-run report is no
        # result to keep (unlike a failed notebook), and the previous report is untouched
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        bar.close()
    shutil.rmtree(staging / RUNTIME_DIR, ignore_errors=True)
    failed = [s for s, r in results.items() if not r.ok]
    messages = [f"{s}: {results[s].error}" for s in failed]
    seconds = {s: round(r.seconds, 2) for s, r in results.items()}
    summary: dict = {}
    if not failed:
        pages = {j.parameters["indicator"]: results[j.stem].scraps.get("result", {})
                 for j in plan if j.kind == "indicator"}
        summary_rows = results["yearly_summary"].scraps.get("summary", [])
        problems = _consistency(summary_rows, pages)
        if problems:
            failed.append("yearly_summary")
            messages.append("yearly_summary: probabilities differ from the indicator pages: "
                            + "; ".join(problems))
        summary = {
            "as_of": name, "provenance": prov, "targets": summary_rows,
            "pages": pages,
            "sensitivity": {j.parameters["indicator"]: results[j.stem].scraps.get("sensitivity")
                            for j in plan if j.kind == "sensitivity"},
            "scenarios": {j.parameters["indicator"]: results[j.stem].scraps.get("scenarios")
                          for j in plan if j.kind == "scenarios"},
            "calibration": results["calibration"].scraps.get("calibration"),
            "notebooks": [{"stem": j.stem, "notebook": j.notebook, "parameters": j.parameters,
                           "html": f"{j.stem}.html", "executed": f"notebooks/{j.stem}.ipynb",
                           "seconds": seconds[j.stem]} for j in plan],
        }
    total = time.perf_counter() - t0
    if failed:
        (staging / "errors.txt").write_text("\n".join(messages) + "\n", encoding="utf-8")
        (staging / "timings.json").write_text(json.dumps(seconds, indent=2), encoding="utf-8")
        shutil.rmtree(failed_dir, ignore_errors=True)
        os.replace(staging, failed_dir)
        return ReportResult(failed_dir, False, failed, seconds, total, messages)
    summary["since_previous"] = changes_since_previous(out, name, summary["targets"], dataset,
                                                       prov)
    summary["wall_seconds"] = {"total": round(total, 2), "notebooks": seconds}
    (staging / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False),
                                          encoding="utf-8")
    # nested values (P at each ratio, the GDP growth each takes) as JSON, not Python reprs
    pd.DataFrame(summary["targets"]).map(
        lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
    ).to_csv(staging / "summary.csv", index=False)
    newest = _newest_publication(dataset)
    names = render.series_names(dataset.registry, lang)
    (staging / "brief.html").write_text(render.brief_html(
        summary, dataset.registry.plan, lang, newest, names), encoding="utf-8")
    pdf = print_pdf(staging / "brief.html", staging / "brief.pdf")
    if pdf is not None:
        messages.append(pdf)
    pages = [{"href": f"{j.stem}.html", "title": j.title, "seconds": f"{results[j.stem].seconds:.1f}"}
             for j in sorted(plan, key=lambda j: (j.kind in ("calibration", "summary"), j.stem))]
    (staging / "index.html").write_text(render.index_html(
        summary, dataset.registry.plan, pages, lang, newest,
        "brief.pdf" if (staging / "brief.pdf").is_file() else None, names), encoding="utf-8")
    _swap_into_place(staging, final)
    shutil.rmtree(failed_dir, ignore_errors=True)  # a stale failure no longer applies
    return ReportResult(final, True, [], seconds, total, messages)


class _NoBar:
    def set_postfix_str(self, *_): ...
    def update(self, *_): ...
    def close(self): ...


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, desc="notebooks", unit="nb", file=sys.stderr)


# ----------------------------------------------------------------- command line

def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``report`` to the ``forecast`` sub-commands (``func`` returns the exit code)."""
    p = subparsers.add_parser("report", help="execute the notebooks and render the yearly "
                              "report into reports/<as_of>/")
    p.add_argument("--as-of", help="year or date whose publications to use (default today)")
    p.add_argument("--out", default="reports", help="parent directory (default reports/)")
    p.add_argument("--indicators", nargs="+", help="only these forecastable indicators")
    p.add_argument("--paths", type=int, default=DEFAULT_PATHS,
                   help="simulated paths per forecast")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--models", nargs="+", help="model families (default: the default ensemble)")
    p.add_argument("--jobs", type=positive_int, default=min(2, os.cpu_count() or 1),
                   help="notebooks run in parallel (default 2)")
    p.add_argument("--kernel", default=KERNEL, help=f"Jupyter kernel (default {KERNEL})")
    p.add_argument("--start-timeout", type=int, default=START_TIMEOUT,
                   help=f"seconds for a kernel to start (default {START_TIMEOUT})")
    p.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT,
                   help=f"seconds for one notebook cell (default {CELL_TIMEOUT})")
    p.add_argument("--calibration-paths", type=int, default=300,
                   help="paths per forecast of the calibration page's pooled backtest")
    p.add_argument("--calibration-origins", type=int, default=3,
                   help="latest forecast origins per series in that backtest")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--plan", default=None, help="the plan: an id of plans/ or a plan folder "
                   "(default: hangzhou)")
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="the report's language (default: the plan's, zh for Hangzhou)")
    p.set_defaults(func=main_report)
    return p


def main_report(args: argparse.Namespace) -> int:
    """``forecast report``: 0 when the report is in place, 1 when a notebook failed."""
    result = build_report(
        args.as_of, args.out, plan=args.plan, lang=args.lang, indicators=args.indicators, n_paths=args.paths, seed=args.seed,
        models=tuple(args.models) if args.models else None, jobs=args.jobs, kernel=args.kernel,
        start_timeout=args.start_timeout, cell_timeout=args.cell_timeout,
        calibration_paths=args.calibration_paths, calibration_origins=args.calibration_origins,
        progress=not args.no_progress)
    for stem, sec in sorted(result.seconds.items(), key=lambda kv: -kv[1]):
        print(f"  {stem:45s} {sec:7.1f} s", file=sys.stderr)
    if not result.ok:
        print(f"error: report NOT written; failed notebook(s): {', '.join(result.failed)}",
              file=sys.stderr)
        for message in result.messages:
            print(f"  {message}", file=sys.stderr)
        print(f"the failed run is kept in {result.path} (errors.txt, executed notebooks); "
              "any previous good report is unchanged", file=sys.stderr)
        return 1
    for message in result.messages:  # e.g. no PDF without Chromium
        print(f"note: {message}", file=sys.stderr)
    print(f"wrote {result.path}/index.html and brief.html"
          + (", brief.pdf" if (result.path / "brief.pdf").is_file() else "")
          + f" ({len(result.seconds)} notebooks, {result.total_seconds:.1f} s)")
    return 0
