"""Bayesian random walk with drift (Student-t predictive)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .base import FittedModel, Model, ModelFailure, Series, variance_draws


@dataclass(frozen=True)
class DriftEstimate:
    """Sufficient statistics of a random walk with drift on gapped years.

    ``drift`` is the per-year drift estimate, ``s2`` the per-year variance
    estimate, ``total_span`` the number of years covered by the increments
    (sum of the gaps) and ``df`` the residual degrees of freedom.
    """

    drift: float
    s2: float
    total_span: float
    df: int


def estimate_drift(years: np.ndarray, values: np.ndarray) -> DriftEstimate:
    """Weighted (gap-aware) estimates of the drift and the per-year volatility.

    Notes
    -----
    An increment over a gap of ``k`` years is ``d = y_t - y_{t-k} ~ N(k mu, k sigma^2)``.
    Generalised least squares with weights ``1/k`` gives
    ``mu_hat = sum(d) / sum(k) = (y_last - y_first) / (t_last - t_first)`` and
    ``s^2 = sum((d - k mu_hat)^2 / k) / (m - 1)`` for ``m`` increments.
    """
    k = np.diff(np.asarray(years, dtype=float))
    d = np.diff(np.asarray(values, dtype=float))
    m = len(d)
    if m < 2:
        raise ModelFailure("rw_drift needs at least 3 observations to estimate a volatility")
    span = float(k.sum())
    mu = float(d.sum() / span)
    s2 = float(np.sum((d - k * mu) ** 2 / k) / (m - 1))
    return DriftEstimate(drift=mu, s2=s2, total_span=span, df=m - 1)


@dataclass
class FittedRWDrift(FittedModel):
    """Posterior of (drift, sigma^2) for one series; see :class:`RWDrift`."""

    last_value: float
    est: DriftEstimate
    name: str = "rw_drift"
    notes: list[str] = field(default_factory=list)

    def predictive(self, h: int) -> stats.rv_continuous:
        """Closed-form marginal predictive of ``y_{T+h}`` (a location-scale Student t)."""
        e = self.est
        scale = np.sqrt(e.s2 * (h + h**2 / e.total_span))
        return stats.t(df=e.df, loc=self.last_value + h * e.drift, scale=scale)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        e = self.est
        # sigma^2 | y ~ Scaled-Inv-chi2(df, s2); mu | sigma^2, y ~ N(mu_hat, sigma^2 / span)
        sigma2 = variance_draws(e.df * e.s2, e.df, n_paths, rng)
        sigma = np.sqrt(sigma2)
        mu = e.drift + sigma * rng.standard_normal(n_paths) / np.sqrt(e.total_span)
        shocks = sigma[:, None] * rng.standard_normal((n_paths, horizon))
        return self.last_value + np.cumsum(mu[:, None] + shocks, axis=1)


class RWDrift(Model):
    """Random walk with drift, Bayesian under the Jeffreys prior.

    ``y_t = y_{t-1} + mu + sigma * eps_t``. Gaps: an increment over a gap of ``k``
    years is treated as ``k`` unobserved yearly steps (mean ``k mu``, variance
    ``k sigma^2``), so the estimator uses the actual spacing; nothing is
    interpolated.

    Notes
    -----
    With the prior ``p(mu, sigma^2) ∝ 1/sigma^2`` and ``m`` increments covering
    ``K = t_last - t_first`` years, the posterior is
    ``sigma^2 | y ~ Scaled-Inv-chi2(m - 1, s^2)``, ``mu | sigma^2, y ~ N(mu_hat, sigma^2/K)``
    (see :func:`estimate_drift`). The predictive of ``y_{T+h}`` is then
    ``y_T + h mu_hat + s sqrt(h + h^2/K) * t_{m-1}``: the ``h^2/K`` term is the drift
    uncertainty, which dominates at long horizons. Paths draw (mu, sigma) per path
    and cumulate Gaussian shocks, so joint multi-year events are consistent. The top 1%
    of sigma draws is capped at the posterior's 99th percentile
    (:func:`~forecast.models.base.variance_draws`): ``exp`` of an uncapped Student t has
    no mean, so on a log scale one path could be astronomically large; :meth:`predictive`
    is the uncapped closed form, which the paths match away from the extreme tails.
    """

    name = "rw_drift"
    min_points = 5

    def fit(self, series: Series) -> FittedRWDrift:
        self._check_series(series)
        est = estimate_drift(series.years, series.values)
        if not est.s2 > 1e-12 * max(1.0, est.drift**2):
            raise ModelFailure(
                "rw_drift: increments are exactly proportional to the gaps (zero volatility);"
                " a degenerate series gives no usable predictive spread"
            )
        notes = []
        if np.any(np.diff(series.years) > 1):
            notes.append("gaps in years: increments weighted by their spacing")
        return FittedRWDrift(last_value=float(series.values[-1]), est=est, notes=notes)
