"""An experimental family, not shipped: random walk with a *robust* drift (median increment).

The "robust trend" method of the M3 competition (Grambsch & Stahel) extrapolates the median of
the yearly increments instead of their mean, so one level shift or outlying year does not set
the slope. Here it keeps :class:`forecast.models.rw_drift.RWDrift`'s posterior for the volatility
and draws the drift around the median with the median's larger sampling variance (pi/2 times the
mean's for Gaussian increments). Importing this module registers ``rw_robust`` and
``rw_robust_level`` in :data:`forecast.models.MODELS` for the experiment's process only.
"""
from __future__ import annotations

import numpy as np

from forecast.models import MODELS
from forecast.models.base import ModelFailure, Series
from forecast.models.level import LEVEL_SUFFIX, OnLevel
from forecast.models.rw_drift import DriftEstimate, FittedRWDrift, RWDrift, estimate_drift


class FittedRobust(FittedRWDrift):
    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        from forecast.models.base import variance_draws
        e = self.est
        sigma = np.sqrt(variance_draws(e.df * e.s2, e.df, n_paths, rng))
        mu = e.drift + sigma * rng.standard_normal(n_paths) * np.sqrt(np.pi / 2 / e.total_span)
        shocks = sigma[:, None] * rng.standard_normal((n_paths, horizon))
        return self.last_value + np.cumsum(mu[:, None] + shocks, axis=1)


class RWRobust(RWDrift):
    name = "rw_robust"

    def fit(self, series: Series) -> FittedRobust:
        self._check_series(series)
        mean = estimate_drift(series.years, series.values)
        k = np.diff(series.years.astype(float))
        d = np.diff(series.values.astype(float))
        drift = float(np.median(d / k))
        s2 = float(np.sum((d - k * drift) ** 2 / k) / (len(d) - 1))
        if not s2 > 1e-12 * max(1.0, drift ** 2):
            raise ModelFailure("rw_robust: zero volatility")
        est = DriftEstimate(drift=drift, s2=s2, total_span=mean.total_span, df=mean.df)
        return FittedRobust(last_value=float(series.values[-1]), est=est, name=self.name)


MODELS["rw_robust"] = RWRobust
MODELS["rw_robust" + LEVEL_SUFFIX] = lambda: OnLevel(RWRobust())
