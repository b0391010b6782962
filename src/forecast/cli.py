"""The ``forecast`` command line. Each sub-command is a thin shell over the library: it
parses arguments, calls one library function and prints. Errors in the input end the
command with exit status 2 and the message of the :class:`InputError` (file, line, field)."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

from . import data
from .coverage import assess
from .errors import InputError


def _cmd_data_build(args: argparse.Namespace) -> int:
    info = data.build(args.as_of)
    print(f"validated {info['rows_raw']} raw rows from {len(info['files'])} file(s); "
          f"panel as of {info['as_of']}: {info['rows_panel']} rows "
          f"({info['derived_rows']} derived)")
    print(f"wrote {data.processed_dir()}/panel.parquet, panel.csv, vintages.parquet, build.json")
    print(f"data hash {info['data_hash'][:16]}")
    return 0


def _cmd_data_show(args: argparse.Namespace) -> int:
    dataset = data.load(args.as_of)
    indicator = dataset.registry.indicator(args.indicator)
    rows = dataset.rows(indicator.id, args.region)
    print(f"{indicator.id}: {indicator.name_en} / {indicator.name_zh} [{indicator.unit}], "
          f"{args.region}, as of {dataset.as_of}")
    if indicator.derived:
        print(f"derived where not published: {indicator.derived.describe()}")
    if rows.empty:
        print("no sourced value for this region; supply one with `forecast data add FILE`")
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
        "source": rows["source_title"].str.slice(0, 60),
    })
    print(table.to_string(index=False))
    print(f"gaps: {', '.join(map(str, gaps)) if gaps else 'none'} "
          f"({len(years)} years from {years[0]} to {years[-1]})")
    if args.vintages:
        all_rows = dataset.vintages[(dataset.vintages["indicator"] == indicator.id)
                                    & (dataset.vintages["region"] == args.region)]
        print("\nall vintages:")
        print(all_rows[["year", "value", "published", "vintage", "source_file", "source_line"]]
              .sort_values(["year", "published"]).to_string(index=False))
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
    others = [(p, origin) for p, origin in data.raw_files() if p.resolve() != dest.resolve()]
    vintages = data.load_vintages(files=others + [(source, "user")])
    added = vintages[vintages["source_file"] == str(source)]
    data.write_atomically(dest, lambda tmp: shutil.copyfile(source, tmp))
    print(f"added {len(added)} row(s) as {dest}:")
    print(added.groupby(["region", "indicator"])["year"].agg(["count", "min", "max"]).to_string())
    print("every command and notebook now uses them (user rows take precedence; see README)")
    return 0


def _cmd_targets(args: argparse.Namespace) -> int:
    dataset = data.load(args.as_of)
    rows = []
    for target in dataset.registry.targets.values():
        indicator = dataset.registry.indicator(target.indicator)
        cov = assess(dataset, target)
        span = f"{cov.first_year}-{cov.last_year}" if cov.n_years else "-"
        rows.append({
            "target": target.id, "year": target.year,
            "goal": f"{target.comparison} {target.value:g} {indicator.unit}",
            "scale": indicator.scale, "years": cov.n_years, "span": span,
            "last": "-" if cov.last_value is None else f"{cov.last_value:.4g}",
            "status": cov.status, "name": indicator.name_zh,
        })
    print(f"{len(rows)} targets of {dataset.registry.plan.get('title_zh', 'the plan')}, "
          f"sourced history for {dataset.registry.plan.get('region', 'Hangzhou')} as of "
          f"{dataset.as_of}")
    print(pd.DataFrame(rows).to_string(index=False))
    if args.verbose:
        for target in dataset.registry.targets.values():
            print(f"- {target.id}: {assess(dataset, target).reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forecast", description=(
        "Probability that Hangzhou reaches the targets of its Quality Power plan."))
    sub = parser.add_subparsers(dest="command", required=True)

    data_parser = sub.add_parser("data", help="validate, build and inspect the sourced history")
    data_sub = data_parser.add_subparsers(dest="data_command", required=True)
    p = data_sub.add_parser("build", help="validate data/raw and write data/processed")
    p.add_argument("--as-of", help="year or date whose vintages to take (default today)")
    p.set_defaults(func=_cmd_data_build)
    p = data_sub.add_parser("show", help="print one series with sources, vintages and gaps")
    p.add_argument("indicator")
    p.add_argument("--region", default="Hangzhou")
    p.add_argument("--as-of")
    p.add_argument("--vintages", action="store_true", help="also list every vintage")
    p.set_defaults(func=_cmd_data_show)
    p = data_sub.add_parser("add", help="validate a CSV in the raw schema and add it to data/raw/user")
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="overwrite a user file of the same name")
    p.set_defaults(func=_cmd_data_add)

    p = sub.add_parser("targets", help="list the plan's targets and their sourced coverage")
    p.add_argument("--as-of")
    p.add_argument("-v", "--verbose", action="store_true", help="say why each status")
    p.set_defaults(func=_cmd_targets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
