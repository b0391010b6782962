"""Target pull (issue 17 §1): do regions behind their plan's path grow faster?

For every real plan target of ``data/raw/plan_targets.csv`` (R&D intensity of China, its
provinces, Hangzhou, the EU and its members) and every year ``t`` from the year the plan was
issued to the year before the target, with the region's published values in ``t`` and
``t + 1`` and at least three earlier years:

* ``step``      = y[t+1] - y[t], the change that followed;
* ``own``       = the region's mean yearly change over the three years up to ``t`` (its own
  drift, what the models extrapolate);
* ``required``  = (target - y[t]) / (T - t), the yearly change the target still needed.

Pull means ``step`` follows ``required`` beyond ``own``: the regression
``step ~ own + (required - own) + year effects`` (year effects take the shocks common to
every region in a year, e.g. 2020's fall in GDP), standard errors clustered by region. A
coefficient on ``required - own`` near 0 means no pull; 1 would mean regions close their
whole gap each year. Only targets whose plan was issued by ``t`` count (a target not yet set
cannot pull); a target without an issue date in its sources is left out rather than dated
by guess. Run: ``.venv/bin/python benchmarks/experiments/target_pull.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from forecast import data, evidence

AS_OF = "2026-12-03"


def observations(dataset) -> pd.DataFrame:
    targets = evidence.load_plan_targets(dataset)
    rows = []
    for tg in targets.itertuples():
        if tg.issued is None or pd.isna(tg.issued):
            continue  # no issue date in the sources (most Europe 2020 national targets)
        issued = int(str(tg.issued)[:4])
        y = dataset.series(tg.indicator, tg.region).dropna()
        for t in range(issued, int(tg.target_year)):
            if t not in y.index or t + 1 not in y.index or t - 3 not in y.index:
                continue
            own = (y[t] - y[t - 3]) / 3
            required = (tg.value - y[t]) / (tg.target_year - t)
            rows.append({"region": tg.region, "target_year": int(tg.target_year),
                         "year": t, "step": y[t + 1] - y[t], "own": own,
                         "required": required, "gap": required - own,
                         "group": "Europe" if len(tg.region) == 2 or tg.region.startswith("EU")
                         else "China"})
    # a region with two targets for one year (a restatement) counts once per year
    return pd.DataFrame(rows).drop_duplicates(["region", "year"], keep="last")


def fit(frame: pd.DataFrame):
    return smf.ols("step ~ own + gap + C(year)", data=frame).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["region"])[0]})


def main() -> None:
    dataset = data.load(AS_OF)
    obs = observations(dataset)
    print(f"{len(obs)} region-years from {obs['region'].nunique()} regions "
          f"({(obs['group'] == 'China').sum()} Chinese, {(obs['group'] == 'Europe').sum()} "
          f"European); behind the own drift (gap > 0) in {np.mean(obs['gap'] > 0):.0%}")
    for name, frame in [("all", obs)] + list(obs.groupby("group")):
        if len(frame) < 15 or frame["region"].nunique() < 4:
            print(f"{name}: too few ({len(frame)} region-years)")
            continue
        res = fit(frame)
        lo, hi = res.conf_int().loc["gap"]
        print(f"{name}: n={len(frame)}, regions={frame['region'].nunique()}: "
              f"pull (coefficient on required - own) {res.params['gap']:+.3f} "
              f"[{lo:+.3f}, {hi:+.3f}], own drift {res.params['own']:+.3f}")


if __name__ == "__main__":
    main()
