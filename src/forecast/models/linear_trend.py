"""Time-weighted linear trend: the UN ESCAP "anticipated progress" baseline."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .base import FittedModel, Model, ModelFailure, Series, variance_draws


@dataclass
class FittedLinearTrend(FittedModel):
    """Posterior of a weighted linear trend; see :class:`LinearTrend`."""

    last_year: int
    beta: np.ndarray  # (intercept at last_year, slope per year)
    xtwx_inv: np.ndarray  # (X'WX)^{-1}
    s2: float
    df: int
    w_future: float
    name: str = "linear_trend"
    notes: list[str] = field(default_factory=list)

    def predictive(self, h: int) -> stats.rv_continuous:
        """Closed-form marginal predictive of ``y_{T+h}`` (location-scale Student t)."""
        x = np.array([1.0, h])
        var = self.s2 * (1.0 / self.w_future + x @ self.xtwx_inv @ x)
        return stats.t(df=self.df, loc=x @ self.beta, scale=np.sqrt(var))

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        sigma2 = variance_draws(self.df * self.s2, self.df, n_paths, rng)
        chol = np.linalg.cholesky(self.xtwx_inv)
        beta = self.beta + np.sqrt(sigma2)[:, None] * (rng.standard_normal((n_paths, 2)) @ chol.T)
        h = np.arange(1, horizon + 1)
        noise = np.sqrt(sigma2 / self.w_future)[:, None] * rng.standard_normal((n_paths, horizon))
        return beta[:, :1] + beta[:, 1:] * h + noise


class LinearTrend(Model):
    """Weighted least-squares linear trend with weights increasing toward recent years.

    This is the extrapolation behind the UN ESCAP Anticipated Progress Index
    (Asia and the Pacific SDG Progress Report; the regional commissions use a
    "time-weighted linear regression [that] gives more importance to more recent
    data"). The exact ESCAP weight formula could not be checked here, so the
    weighting is stated: the weight grows linearly in time from 1 at the first
    observed year to ``recent_weight_ratio`` (default 2) at the last one.

    Gaps: the regression uses the actual years, so a missing year is simply absent.

    Notes
    -----
    ``y_i = b0 + b1 (t_i - T) + e_i`` with ``Var(e_i) = sigma^2 / w_i``. Under the
    prior ``p(b, sigma^2) ∝ 1/sigma^2`` the posterior is
    ``sigma^2 ~ Scaled-Inv-chi2(n - 2, s^2)``, ``s^2 = sum w_i r_i^2 / (n - 2)`` and
    ``b | sigma^2 ~ N(b_hat, sigma^2 (X'WX)^{-1})``. A future year gets the weight of
    the last observed year, so its noise variance is ``sigma^2 / w_T``; the marginal
    predictive is Student t with ``n - 2`` df and variance
    ``s^2 (1/w_T + x'(X'WX)^{-1} x)``. The errors are independent across years
    (trend-stationary), so interval width grows only through the slope
    uncertainty: on persistent series this baseline is expected to be too narrow.
    """

    name = "linear_trend"
    min_points = 5

    def __init__(self, recent_weight_ratio: float = 2.0) -> None:
        if recent_weight_ratio < 1.0:
            raise ValueError("recent_weight_ratio must be >= 1 (recent years weigh at least as much)")
        self.recent_weight_ratio = recent_weight_ratio

    def fit(self, series: Series) -> FittedLinearTrend:
        self._check_series(series)
        t = series.years.astype(float)
        y = series.values
        w = 1.0 + (self.recent_weight_ratio - 1.0) * (t - t[0]) / (t[-1] - t[0])
        X = np.column_stack([np.ones_like(t), t - t[-1]])
        xtwx = X.T @ (w[:, None] * X)
        xtwx_inv = np.linalg.inv(xtwx)
        beta = xtwx_inv @ (X.T @ (w * y))
        resid = y - X @ beta
        df = len(y) - 2
        s2 = float(np.sum(w * resid**2) / df)
        if not s2 > 1e-12 * max(1.0, float(np.mean(y**2))):
            raise ModelFailure("linear_trend: series is exactly linear (zero residual variance)")
        notes = []
        if np.any(np.diff(series.years) > 1):
            notes.append("gaps in years: regression on the observed years only")
        return FittedLinearTrend(
            last_year=series.last_year, beta=beta, xtwx_inv=xtwx_inv, s2=s2, df=df,
            w_future=float(w[-1]), notes=notes,
        )
