"""One-off import of the sourced figures in ``../shared/data`` into ``data/raw/series/``.

Kept in the repository so that anyone can see exactly how ``data/raw`` was made
from the collection; it is not part of the product (a user's clone has no
``../shared``). What it changes, and only this:

* columns are put in the suite's raw schema (``region, indicator, year, value,
  unit, source_title, source_url, published, vintage, reliability, quote``);
* unit *labels* are normalised to the registry's spelling
  (``100 million yuan (亿元)`` -> ``亿元``, ``% of GDP`` -> ``%``); values are
  never changed;
* the NBS province file gets the reliability grade of a copy of an official
  table (its source is a repository holding the bulletin's spreadsheets) and its
  Chinese region name goes into ``quote``;
* the World Bank / Eurostat file gets a ``source_title`` and ``published`` read
  from its own vintage note, indicator ``rd_intensity``, and ``CN`` -> ``China``.

Rows are copied only when they have a source URL; nothing is filled in.

Usage: ``python tools/import_shared.py ../shared/data data/raw/series``
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

COLUMNS = ["region", "indicator", "year", "value", "unit", "source_title", "source_url",
           "published", "vintage", "reliability", "quote"]
UNIT_LABELS = {"100 million yuan (亿元)": "亿元", "% of GDP": "%"}


def _write(path: Path, rows: list[dict]) -> None:
    kept = [r for r in rows if r["source_url"].strip()]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in kept:
            row["unit"] = UNIT_LABELS.get(row["unit"], row["unit"])
            writer.writerow({c: row.get(c, "") for c in COLUMNS})
    print(f"{path}: {len(kept)} rows ({len(rows) - len(kept)} without a source dropped)")


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def main(shared: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "hangzhou_and_peers.csv", _read(shared / "hangzhou_and_peers_sourced.csv"))

    provinces = _read(shared / "china_provinces_rd_nbs.csv")
    for row in provinces:
        row["reliability"] = "copy of an official text on another site (verify)"
        row["quote"] = f"附表 各地区研究与试验发展(R&D)经费情况, row {row.pop('region_zh')}"
    _write(out / "china_provinces_rd_nbs.csv", provinces)

    world = _read(shared / "world_rd_intensity_wdi.csv")
    for row in world:
        note = row.pop("vintage_note")
        if row["indicator"].endswith("vintage2020"):
            row["source_title"] = "Eurostat t2020_20, GERD as % of GDP (Europe 2020 indicator)"
            row["published"] = "2020-08 (repository commit dated 2020-07-27..2020-08-03)"
            row["reliability"] = "compiled dataset"
        else:
            row["source_title"] = "World Bank WDI GB.XPD.RSDV.GD.ZS, R&D expenditure (% of GDP)"
            row["published"] = "2026-07-13 (WDI bulk file 'Last Updated Date')"
            row["reliability"] = "compiled dataset"
        row["indicator"] = "rd_intensity"
        row["vintage"] = note
        row["region"] = "China" if row["region"] == "CN" else row["region"]
    _write(out / "world_rd_intensity.csv", world)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
