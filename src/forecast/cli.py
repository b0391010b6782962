"""The ``forecast`` command line. Each sub-command is a thin shell over the library: it
parses arguments, calls one library function and prints. Errors in the input end the
command with exit status 2 and the message of the :class:`InputError` (file, line, field)."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from . import bench, data, render, reports
from .i18n import LANGUAGES, language
from .data import MAGNITUDE_LIMIT
from .coverage import assess
from .errors import InputError
from .pipeline import forecast_indicator
from .probability import DEFAULT_PATHS, DEFAULT_SEED, format_probability
from .engine import add_engine_options, sigterm_as_interrupt
from .plans import DEFAULT_PLAN
from .scenario import Scenario, load_scenario, load_scenarios
from .targets import parse_target_spec
from .sensitivity import levels_off_the_plan, parse_grid, sweep


def _cmd_data_build(args: argparse.Namespace) -> int:
    info = data.build(args.as_of, plan=args.plan)
    print(f"validated {info['rows_raw']} raw rows from {len(info['files'])} file(s); "
          f"panel as of {info['as_of']}: {info['rows_panel']} rows "
          f"({info['derived_rows']} derived)")
    print(f"wrote {data.processed_dir()}/panel.parquet, panel.csv, vintages.parquet, build.json")
    print(f"data hash {info['data_hash'][:16]}")
    return 0


def _cmd_data_show(args: argparse.Namespace) -> int:
    dataset = data.load(args.as_of, plan=args.plan)
    indicator = dataset.registry.indicator(args.indicator)
    args.region = args.region or dataset.region
    rows = dataset.rows(indicator.id, args.region)
    print(f"{indicator.id}: {indicator.name_en} / {indicator.name_zh} [{indicator.unit}], "
          f"{args.region}, as of {dataset.as_of}")
    if indicator.derived:
        print(f"derived where not published: {indicator.derived.describe()}")
    if rows.empty:
        later = dataset.vintages[(dataset.vintages["indicator"] == indicator.id)
                                 & (dataset.vintages["region"] == args.region)]
        print(f"nothing published by {dataset.as_of}: the first of its {len(later)} sourced "
              f"value(s) counts from {min(later['available'])}" if not later.empty else
              "no sourced value for this region; supply one with `forecast data add FILE`")
        return 0
    years = rows["year"].tolist()
    gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
    flags = rows.apply(lambda r: ",".join(f for f, on in (
        ("preliminary", r["preliminary"]), ("date assumed", r["published_assumed"]),
        ("derived", r["origin"] == "derived"), ("user", r["origin"] == "user")) if on), axis=1)
    table = pd.DataFrame({
        "year": rows["year"], "value": rows["value"].map("{:.6g}".format),
        "vintages": rows["n_vintages"], "flags": flags,
        "reliability": rows["reliability"].str.slice(0, 28),
        "published": rows["published"].str.slice(0, 24),
        # the date the suite reads from 'published' (a run as of an earlier date omits it)
        "counts from": rows["available"].astype(str),
        "source": rows["source_title"].str.slice(0, 60),
    })
    print(table.to_string(index=False))
    print(f"gaps: {', '.join(map(str, gaps)) if gaps else 'none'} "
          f"({len(years)} years from {years[0]} to {years[-1]})")
    for brk in dataset.registry.breaks(indicator.id, args.region):
        print(f"series break in {brk.year}: {brk.note}")
    if args.vintages:
        all_rows = dataset.vintages[(dataset.vintages["indicator"] == indicator.id)
                                    & (dataset.vintages["region"] == args.region)]
        print("\nall vintages:")
        print(all_rows[["year", "value", "published", "available", "vintage", "source_file",
                        "source_line"]]
              .rename(columns={"available": "counts from"})
              .sort_values(["year", "counts from"]).to_string(index=False))
    return 0


def _cmd_data_add(args: argparse.Namespace) -> int:
    source = Path(args.file)
    dest = data.raw_dir() / "user" / source.name
    if source.suffix.lower() != ".csv":
        raise InputError(source, "not a .csv file", expected="a CSV in the raw schema")
    if dest.exists() and not args.replace:
        raise InputError(dest, "a user file of this name exists",
                         expected="another file name, or --replace to overwrite it")
    # Validate the new file together with everything already in data/raw (so duplicates across
    # files are caught) before it is copied: a rejected file never joins data/raw/user.
    registry = data.load_registry(args.plan)
    others = [(p, origin) for p, origin in data.raw_files(registry=registry)
              if p.resolve() != dest.resolve()]
    vintages = data.load_vintages(registry=registry, files=others + [(source, "user")])
    added = vintages[vintages["source_file"] == str(source)]
    notes = data.check_added(vintages, added, registry, date.today())
    data.write_atomically(dest, lambda tmp: shutil.copyfile(source, tmp))
    print(f"added {len(added)} row(s) as {dest}:")
    print(added.groupby(["region", "indicator"])["year"].agg(["count", "min", "max"]).to_string())
    # the dates read from 'published': a run as of an earlier date leaves a row out
    print("\neach row counts from (as read from 'published'):")
    print(added[["region", "indicator", "year", "published", "available"]]
          .rename(columns={"available": "counts from"}).to_string(index=False))
    for note in notes:
        print(f"note: {note}")
    print("every command and notebook now uses them (user rows take precedence; see README)")
    return 0


def _cmd_targets(args: argparse.Namespace) -> int:
    dataset = data.load(args.as_of, plan=args.plan)
    rows, derived = [], {}
    for target in dataset.registry.targets.values():
        indicator = dataset.registry.indicator(target.indicator)
        cov = assess(dataset, target)
        span = f"{cov.first_year}-{cov.last_year}" if cov.n_years else "-"
        if indicator.derived is not None:  # its few years are not what the status rests on
            derived[indicator.id] = cov.reason
        rows.append({
            "target": target.id, "year": target.year,
            "goal": f"{target.comparison} {target.value:g} {indicator.unit}",
            "scale": indicator.scale, "years": cov.n_years, "span": span,
            "last": "-" if cov.last_value is None else f"{cov.last_value:.4g}",
            "status": cov.status + (" *" if indicator.derived is not None else ""),
            "name": indicator.name_zh,
        })
    plan = dataset.registry.plan
    print(f"{len(rows)} targets of {plan.title('zh')}, sourced history for {plan.region} as "
          f"of {dataset.as_of}")
    print(pd.DataFrame(rows).to_string(index=False))
    for indicator_id, reason in derived.items():
        print(f"* {indicator_id}: {reason}")
    if args.verbose:
        for target in dataset.registry.targets.values():
            print(f"- {target.id}: {assess(dataset, target).reason}")
    return 0


def render_forecast(result, lang: str = "en") -> str:
    """The readable summary ``forecast run`` prints for one :class:`IndicatorForecast`, in
    ``lang`` (the library's notes, technical sentences, stay in English)."""
    t = language(lang)
    ind = result.indicator
    name = t.name(vars(ind))
    name += "" if name == ind.name_zh else f" / {ind.name_zh}"  # the plan's own term beside
    lines = [t._("{id}: {name} [{unit}], {region}, as of {date}", id=ind.id, name=name,
                 unit=ind.unit, region=result.region, date=result.as_of),
             t._("scenario: {name}", name=result.scenario.name)
             + (f" ({result.scenario.description})" if result.scenario.description else "")
             + (t._("; acts {timing}", timing=timing)
                if (timing := result.scenario_timing()) else "")]
    hist = result.history
    if not hist.empty:
        years = hist["year"].tolist()
        gaps = sorted(set(range(years[0], years[-1] + 1)) - set(years))
        lines.append(t._("history: {n} year(s) {first}-{last}, last {value} ({last}); gaps: "
                         "{gaps}", n=len(years), first=years[0], last=years[-1],
                         value=f"{hist['value'].iloc[-1]:.4g}",
                         gaps=", ".join(map(str, gaps)) or t._("none")))
    for obs in result.observed.values():
        lines.append(t._("OBSERVED {target}: {value} vs target {goal} -> {verdict}",
                         target=obs["target_id"], value=f"{obs['value']:.4g}",
                         goal=f"{obs['target']:g}",
                         verdict=t._("met") if obs["met"] else t._("not met"))
                     + (t._(" (preliminary)") if obs["preliminary"] else "")
                     + f"; {obs['source']}")
    lines += [t._("note: {text}", text=n) for n in result.notes]
    for name, comp in result.components.items():
        w = ", ".join(f"{m} {v:.2f}" for m, v in comp.weighting.weights.items())
        lines.append(t._("[{series}] {n} points; weights ({basis}): {weights}", series=name,
                         n=comp.n_points, basis=comp.weighting.basis, weights=w))
        for model, reason in comp.dropped.items():
            lines.append(t._("[{series}] dropped {model}: {reason}", series=name, model=model,
                             reason=reason.removeprefix(model + ": ")))
        growth = result.median_growth(name)
        if growth:
            under = (t._(" under scenario '{name}'", name=result.scenario.name)
                     if result.changed_by_scenario(name) else "")
            lines.append(t._("[{series}] median growth a year from {start} to {end}{under}: "
                             "{rates}", series=name, start=comp.last_observed[0],
                             end=int(comp.years[-1]), under=under, rates=", ".join(
                                 f"{m} {g:+.1%}" for m, g in growth.items())))
        pooling = comp.pooling
        if pooling and pooling.get("dropped"):
            lines.append(t._("[{series}] not pooled: {reason}", series=name,
                             reason=pooling["dropped"]))
        elif pooling:
            lines.append(t._("[{series}] pooled with {panel}: {n} regions informed the fit; the "
                             "series' own history weighs {drift} in its trend and {vol} in its "
                             "volatility; the pooled member's weight {weight}", series=name,
                             panel=pooling["panel"], n=pooling["n_regions"],
                             drift=f"{pooling['own_weight_drift']:.2f}",
                             vol=f"{pooling['own_weight_volatility']:.2f}",
                             weight=f"{pooling['weight']:.2f}"))
        cal = comp.calibration
        if cal:
            lines.append(t._("[{series}] own backtest of the ensemble ({n} forecasts, {origins} "
                             "origins, horizon <= {h}): coverage 50/80/95% = {coverage}, CRPS "
                             "{crps} (in {unit}, the published unit), Brier {brier}",
                             series=name, n=cal["n_forecasts"], origins=cal["n_origins"],
                             h=cal["horizon"], coverage=f"{cal['coverage_50']:.0%}/"
                             f"{cal['coverage_80']:.0%}/{cal['coverage_95']:.0%}",
                             crps=f"{cal['crps']:.4g}", unit=cal["unit"],
                             brier=f"{cal['brier']:.3f}"))
    sign = {target.id: "<=" if target.at_most else ">=" for target in result.targets}
    if result.paths is not None:
        table = {}
        for name, paths in {**result.member_paths, "ENSEMBLE": result.paths}.items():
            q = np.quantile(paths, [0.1, 0.5, 0.9], axis=0)
            row = {str(y): f"{q[1, i]:.4g} [{q[0, i]:.4g}, {q[2, i]:.4g}]"
                   for i, y in enumerate(result.years)}
            probs = result.probabilities if name == "ENSEMBLE" else \
                result.member_probabilities.get(name, {})
            for tid, p in probs.items():
                # a member's P rests on its share of the paths only: say how noisy that is
                noise = p.mc_error95
                row[f"P({p.year}{sign[tid]}{p.target:g})"] = format_probability(p.p_in_year) + (
                    f" ±{noise:.0%}" if noise >= 0.005 else "")
                row[t._("P(by {year})", year=p.year)] = format_probability(p.p_by_year)
            table[name] = row
        lines.append("\n" + t._("median [10%, 90%] per year and probability of meeting each "
                                "target:"))
        lines.append(pd.DataFrame(table).T.to_string())
        lines.append(t._("(P(T>=x): the value in year T meets the target; P(by T): it meets it "
                         "in at least one year up to T. ± : 95% Monte Carlo error of a "
                         "probability from that row's paths, shown from half a point; a "
                         "model's row has only its share of the ensemble's paths)"))
    if result.joint:
        lines.append(t._("joint P(all of {targets} met) = {p} (product of marginals would say "
                         "{product})", targets=", ".join(result.joint["targets"]),
                         p=format_probability(result.joint["p_all_met"]),
                         product=format_probability(result.joint["p_product_of_marginals"])))
    if result.p_without_pooling:
        lines.append(t._("without pooling (the same paths, the pooled member's left out): {ps}",
                         ps=", ".join(f"{tid} {format_probability(p)}"
                                      for tid, p in result.p_without_pooling.items())))
    for tid, p in result.probabilities.items():
        how = (t._("value - target; negative = below the target") if sign[tid] == "<=" else
               t._("target - value; negative = above the target"))
        lines.append(t._("{target}: shortfall ({how}) median {median}, 10% {q10}, 90% {q90} "
                         "{unit}", target=tid, how=how, median=f"{p.shortfall_median:+.3g}",
                         q10=f"{p.shortfall_q10:+.3g}", q90=f"{p.shortfall_q90:+.3g}",
                         unit=ind.difference_unit))
    lines += [be.text() for be in (result.break_even or {}).values()]
    for tid, pc in result.pace.items():
        left = ("" if pc.required_from_last is None else
                t._("; from {year} on it needs {rate}/yr", year=pc.last_year,
                    rate=f"{pc.required_from_last:+.2%}"))
        if pc.source_caveat():
            left += f"; {pc.source_caveat()}"
        if pc.target_value is not None:  # the history's pace against the restated target
            left += t._("; paced against {value}, the target on the history's basis (before "
                        "{of}'s census revision)", value=f"{pc.target_value:.3g}",
                        of=result.basis.denominator)
        label = render.pace_label(pc.label, t)
        if pc.ratio is not None:
            lines.append(t._("{target} pace: observed {observed}/yr ({base}-{last}) vs required "
                             "{required}/yr (from {base}), ratio {ratio}: {label}",
                             target=tid, observed=f"{pc.observed_cagr:+.2%}", base=pc.base_year,
                             last=pc.last_year, required=f"{pc.required_cagr:+.2%}",
                             ratio=f"{pc.ratio:.3f}", label=label) + left)
        else:
            lines.append(t._("{target} pace: {label}", target=tid, label=label) + left)
    if result.status in ("pace only", "not forecastable"):
        reasons = dict.fromkeys(c.reason for c in result.coverage.values())
        lines.append(t._("NO PROBABILITY: {status}; ", status=result.status)
                     + "; ".join(reasons))
    return "\n".join(lines)


def _cmd_run(args: argparse.Namespace) -> int:
    dataset = data.load(args.as_of, plan=args.plan)
    scenario = load_scenario(args.scenario, dataset.registry.employment_for(args.indicator))
    dataset.registry.indicator(args.indicator)
    if args.json and Path(args.json).is_dir():  # say so before the run, not after it
        raise InputError(Path(args.json), "is a directory", field="--json",
                         expected="a file path for the JSON result")
    print(f"forecasting {args.indicator} with {args.paths} paths, seed {args.seed} ...",
          file=sys.stderr)
    result = forecast_indicator(
        dataset, args.indicator, region=args.region,
        models=tuple(args.models) if args.models else None, n_paths=args.paths, seed=args.seed,
        scenario=scenario, target_years=tuple(args.target_years) if args.target_years else None,
        targets=own_targets(dataset, args.indicator, args.target, args.region),
        backtest=not args.no_backtest)
    print(render_forecast(result, args.lang or dataset.registry.plan.language))
    if args.json:
        out = Path(args.json)
        # what else reproduces it beside the data hash, seed and models the result holds
        recorded = {**result.to_dict(), "code": {
            "git_commit": reports.git_commit(), "local_changes": reports.local_changes(),
            "packages": reports.package_versions()}}
        data.write_atomically(out, lambda p: p.write_text(
            json.dumps(recorded, indent=2, ensure_ascii=False), encoding="utf-8"))
        print(f"wrote {out}")
    return 0


def own_targets(dataset, indicator_id: str, specs: list[str] | None, region: str | None):
    """The targets of ``--target YEAR:>=VALUE`` (None without any: the plan's)."""
    if not specs:
        return None
    indicator = dataset.registry.indicator(indicator_id)
    return [parse_target_spec(s, indicator, region or dataset.region) for s in specs]


def _notes_path(out: Path) -> Path:
    """Where a sweep's notes go beside its CSV: sweep.csv -> sweep.notes.txt."""
    return out.with_name(out.stem + ".notes.txt")


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    if args.out:  # say so before the sweep, not after it
        for path in (Path(args.out), _notes_path(Path(args.out))):
            if path.is_dir():
                raise InputError(path, "is a folder", field="out",
                                 expected="a CSV file path (and its .notes.txt beside it)")
    dataset = data.load(args.as_of, plan=args.plan)
    targets = own_targets(dataset, args.indicator, args.target, None)
    if args.targets is None and targets is None:
        raise InputError(None, "no target levels to sweep", field="targets",
                         expected="--targets START:STOP:STEP or A,B,C, or --target YEAR:>=VALUE")
    grid = parse_grid(args.targets) if args.targets else \
        np.array(sorted({t.value for t in targets}))
    scenarios = [Scenario()] + (load_scenarios(args.scenarios, dataset.registry.employment_for(
        args.indicator)) if args.scenarios else [])
    off = levels_off_the_plan(dataset, args.indicator, grid, targets)
    if len(off):  # said first, not under the tables (a grid of only such levels is refused)
        plan = ", ".join(f"{t.value:g}" for t in targets or
                         dataset.registry.targets_for(args.indicator))
        print(f"note: level(s) {', '.join(f'{v:g}' for v in off)} are more than "
              f"{MAGNITUDE_LIMIT:g}x off the plan's targets ({plan}): a wrong unit?")
    table = sweep(dataset, args.indicator, grid, scenarios, engine=args.engine, jobs=args.jobs,
                  scheduler=args.scheduler, models=tuple(args.models) if args.models else None,
                  n_paths=args.paths, seed=args.seed, backtest=not args.no_backtest,
                  targets=targets)
    if table["year"].isna().all():
        print(f"no probability for {args.indicator}: {table['note'].iloc[0]}")
        return 0
    valid = table.dropna(subset=["year"])
    for year, block in valid.groupby("year"):
        # scenarios that do not apply to the indicator (all NaN) drop out; their note stays
        wide = block.pivot_table(index="level", columns="scenario", values="p", sort=False)
        sign = "<=" if (block["comparison"] == "<=").any() else ">="
        print(f"\nP({args.indicator} in {int(year)} {sign} level), as of {dataset.as_of} "
              f"({'your' if targets else 'plan'} target {block['plan_target'].iloc[0]:g}):")
        print(wide.map(format_probability).to_string())
    print(f"(95% Monte Carlo error of these probabilities: at most "
          f"±{100 * valid['p_mc95'].max():.1f} points)")
    # each distinct note once, with the scenarios it is about: most are the model's own, the
    # same under every scenario (a sweep's table holds one note per line)
    by_note: dict[str, list[str]] = {}
    for name, notes in table.drop_duplicates("scenario")[["scenario", "note"]].itertuples(index=False):
        for note in (notes or "").splitlines():
            by_note.setdefault(note, []).append(name)
    for note, names in by_note.items():
        print(f"note [{', '.join(names)}]: {note}")
    if args.out:
        out = Path(args.out)
        notes_path = _notes_path(out)
        ind = dataset.registry.indicator(args.indicator)
        # what reproduces the file, on every row (a CSV travels without its command line);
        # the run's notes, the same on hundreds of rows, go once each to the notes file, and a
        # row keeps only why its scenario has no probability
        recorded = table.assign(
            indicator=args.indicator, unit=ind.unit, applies=table["p"].notna(),
            why_not=table["note"].where(table["p"].isna(), "").fillna("").str.replace("\n", "; "),
            as_of=str(dataset.as_of), data_hash=dataset.data_hash, n_paths=args.paths,
            seed=args.seed).drop(columns="note")
        first = ["indicator", "unit", "scenario", "target_id", "year", "plan_target",
                 "comparison", "level", "p", "p_mc95", "applies", "why_not"]
        recorded = recorded[first + [c for c in recorded.columns if c not in first]]
        notes = "".join(f"[{', '.join(names)}] {note}\n" for note, names in by_note.items())
        data.write_atomically(out, lambda p: recorded.to_csv(p, index=False, float_format="%.6g"))
        data.write_atomically(notes_path, lambda p: p.write_text(
            f"# notes of `forecast sensitivity --indicator {args.indicator}` as of "
            f"{dataset.as_of} (data {dataset.data_hash}, {args.paths} paths, seed {args.seed}), "
            f"for {out.name}; [the scenarios each is about]\n{notes}", encoding="utf-8"))
        print(f"wrote {out} and its notes, {notes_path}")
    return 0


def add_plan_option(parser: argparse.ArgumentParser) -> None:
    """``--plan ID|PATH``: which plan's targets, region and assumptions a command uses."""
    parser.add_argument("--plan", default=None,
                        help=f"the plan: an id of plans/ or a plan folder (default: "
                             f"{DEFAULT_PLAN}; README, 'Write a plan')")


class _DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, where it has one worth saying."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.default in (None, False, argparse.SUPPRESS)
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="forecast", description=(
        "Probability that a region reaches the targets of its plan (by default Hangzhou's "
        "Quality Power plan; --plan for another)."))
    sub = parser.add_subparsers(dest="command", required=True)

    data_parser = sub.add_parser("data", help="validate, build and inspect the sourced history")
    data_sub = data_parser.add_subparsers(dest="data_command", required=True)
    p = data_sub.add_parser("build", help="validate data/raw and write data/processed")
    p.add_argument("--as-of", help="year or date whose vintages to take (default today)")
    add_plan_option(p)
    p.set_defaults(func=_cmd_data_build)
    p = data_sub.add_parser("show", help="print one series with sources, vintages and gaps")
    p.add_argument("indicator", help="an indicator id of the catalogue, e.g. rd_intensity")
    p.add_argument("--region", default=None, help="region of the series (default: the plan's)")
    p.add_argument("--as-of", help="only values published by this year or date (default today)")
    p.add_argument("--vintages", action="store_true", help="also list every vintage")
    add_plan_option(p)
    p.set_defaults(func=_cmd_data_show)
    p = data_sub.add_parser("add", help="validate a CSV in the raw schema and add it to data/raw/user")
    p.add_argument("file", help="a CSV with the columns of data/templates (one sourced value "
                   "per row); undo by deleting it from data/raw/user")
    p.add_argument("--replace", action="store_true", help="overwrite a user file of the same name")
    add_plan_option(p)
    p.set_defaults(func=_cmd_data_add)

    p = sub.add_parser("run", help="forecast one indicator: probabilities of meeting its targets")
    p.add_argument("--indicator", required=True,
                   help="an indicator with a target (forecast targets lists them), e.g. "
                        "rd_intensity, labour_productivity")
    p.add_argument("--region", default=None, help="default: the target's region (the plan's)")
    p.add_argument("--as-of", help="use only values published by this year or date "
                   "(default today)")
    p.add_argument("--paths", type=int, default=DEFAULT_PATHS,
                   help="simulated paths (more: smaller Monte Carlo error)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--models", nargs="+", help="model families (default: the default ensemble)")
    p.add_argument("--target-years", nargs="+", type=int,
                   help="only the targets of these years (default: all of the indicator's)")
    p.add_argument("--target", action="append", metavar="YEAR:>=VALUE",
                   help="a target of your own, e.g. 2027:>=3.5 (a floor) or 2027:<=12 (a "
                        "ceiling); repeat for several years; replaces the plan's targets of "
                        "the indicator (any indicator of the catalogue, in --region)")
    p.add_argument("--scenario", help="scenario YAML (see notebooks/scenarios/)")
    p.add_argument("--no-backtest", action="store_true",
                   help="skip the backtest: equal weights, no calibration figures (faster)")
    p.add_argument("--json", help="write the full result as JSON here")
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="the summary's language (default: the plan's, zh for Hangzhou)")
    add_plan_option(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("targets", help="list the plan's targets and their sourced coverage")
    p.add_argument("--as-of", help="coverage by this year or date (default today)")
    p.add_argument("-v", "--verbose", action="store_true", help="say why each status")
    add_plan_option(p)
    p.set_defaults(func=_cmd_targets)

    p = sub.add_parser("sensitivity", help="sweep target levels x scenarios: P(hit) for each")
    p.add_argument("--indicator", required=True, help="an indicator with a target, e.g. "
                   "rd_intensity")
    p.add_argument("--targets",
                   help="target levels in the indicator's unit, as START:STOP:STEP or A,B,C "
                        "(e.g. 3.8:4.6:0.1 for R&D intensity in %%); P(value >= level) is read "
                        "in every target year of the plan (or of --target, in its direction)")
    p.add_argument("--target", action="append", metavar="YEAR:>=VALUE",
                   help="a target of your own instead of the plan's (its year and direction; "
                        "its level when --targets is not given), e.g. 2027:<=12")
    p.add_argument("--scenarios", help="a scenario file, a YAML list of scenarios, or a "
                   "directory of them (the baseline is always included)")
    p.add_argument("--as-of", help="use only values published by this year or date "
                   "(default today)")
    p.add_argument("--paths", type=int, default=DEFAULT_PATHS, help="simulated paths per run")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    p.add_argument("--models", nargs="+", help="model families (default: the default ensemble)")
    p.add_argument("--no-backtest", action="store_true",
                   help="skip the backtest: equal weights (faster)")
    p.add_argument("--out", help="write the long table as CSV here (P, its 95%% Monte Carlo "
                   "error, what reproduces it; the run's notes once each in NAME.notes.txt)")
    add_engine_options(p)
    add_plan_option(p)
    p.set_defaults(func=_cmd_sensitivity)

    reports.add_parser(sub)
    bench.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # a `kill` stops any command as Ctrl-C does, with the same message and status,
        # whether or not a process pool is running at that moment
        with sigterm_as_interrupt():
            return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM (see forecast.engine.process_pool): the workers are stopped and
        # nothing half-done replaces a previous output
        print("\ninterrupted: stopped before finishing; nothing was written and earlier "
              "outputs are unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `forecast ... | head`: the reader left; Python's documented way to exit quietly
        # (its own flush at exit would raise again)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
