"""Random walk with a constant yearly increment and shocks proportional to the level."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import FittedModel, Model, ModelFailure, Series, variance_draws


@dataclass
class FittedRWDriftRelative(FittedModel):
    """Posterior of (mu, sigma^2) for one series; see :class:`RWDriftRelative`."""

    last_value: float
    mu_hat: float
    s2: float
    sxx: float
    df: int
    name: str = "rw_drift_rel"
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        # sigma^2 | y ~ Scaled-Inv-chi2(df, s2) (top 1% capped); mu | sigma^2, y ~ N(mu_hat, sigma^2 / Sxx)
        sigma = np.sqrt(variance_draws(self.df * self.s2, self.df, n_paths, rng))
        mu = self.mu_hat + sigma * rng.standard_normal(n_paths) / np.sqrt(self.sxx)
        level = np.full(n_paths, self.last_value)
        out = np.empty((n_paths, horizon))
        for h in range(horizon):
            # the shock scales with the distance from zero: a path that crosses zero keeps a
            # (small) spread; the transform censors it at zero (forecast.models.level)
            level = level + mu + np.abs(level) * sigma * rng.standard_normal(n_paths)
            out[:, h] = level
        return out


class RWDriftRelative(Model):
    """``y_t = y_{t-1} + mu + sigma |y_{t-1}| eps_t``: the yearly *increment* is constant on
    average, as in :class:`~forecast.models.rw_drift.RWDrift` on the published level, but the
    shocks are proportional to the level, as on the log scale.

    Why: a random walk with drift on the level estimates one shock size from the whole history,
    which for a growing series understates today's shocks (its intervals are the narrowest of
    the families on the M3 inner split); on the log scale the shocks scale with the level but
    the drift becomes a constant growth rate, which overshoots a series whose growth slows. This
    family takes the level's drift and the log scale's shocks. It needs positive levels, so it
    is used on the published scale (``rw_drift_rel_level``, :mod:`forecast.models.level`).

    Gaps: an increment over a gap of ``k`` years counts as ``k`` yearly steps taken from the
    level at the gap's start (mean ``k mu``, variance ``k sigma^2 y^2``); nothing is interpolated.

    Notes
    -----
    Dividing each increment ``d_t`` by its starting level ``y_{t-1}`` gives a regression through
    the origin, ``r_t = d_t / y_{t-1} = mu x_t + sigma sqrt(k_t) eps_t`` with ``x_t = k_t / y_{t-1}``.
    Under the Jeffreys prior ``p(mu, sigma^2) ∝ 1/sigma^2`` and ``m`` increments, with
    ``Sxx = sum(x^2 / k)``, ``mu_hat = sum(r x / k) / Sxx`` and
    ``s^2 = sum((r - mu_hat x)^2 / k) / (m - 1)``: ``sigma^2 | y ~ Scaled-Inv-chi2(m - 1, s^2)``,
    ``mu | sigma^2, y ~ N(mu_hat, sigma^2 / Sxx)``. Each path draws its (mu, sigma), the top 1%
    of sigma draws capped at the posterior's 99th percentile
    (:func:`~forecast.models.base.variance_draws`).
    """

    name = "rw_drift_rel"
    min_points = 5

    def fit(self, series: Series) -> FittedRWDriftRelative:
        self._check_series(series)
        y = series.values
        if np.any(y[:-1] <= 0):
            raise ModelFailure(f"{self.name} needs positive levels (shocks proportional to the level)")
        k = np.diff(series.years).astype(float)
        start = y[:-1]
        r = np.diff(y) / start
        x = k / start
        m = len(r)
        sxx = float(np.sum(x * x / k))
        mu_hat = float(np.sum(r * x / k) / sxx)
        s2 = float(np.sum((r - mu_hat * x) ** 2 / k) / (m - 1))
        if not s2 > 1e-24:
            raise ModelFailure(f"{self.name}: increments are exactly constant (zero volatility);"
                               " a degenerate series gives no usable predictive spread")
        notes = ["gaps in years: increments weighted by their spacing"] if np.any(k > 1) else []
        return FittedRWDriftRelative(float(y[-1]), mu_hat, s2, sxx, m - 1, notes=notes)
