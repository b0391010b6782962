"""Local linear trend (structural time series) via statsmodels UnobservedComponents."""
from __future__ import annotations

import numpy as np
from statsmodels.tsa.statespace.structural import UnobservedComponents

from .arima import FittedStateSpace, fit_quietly, standardise
from .base import Model, ModelFailure, Series


class LocalTrend(Model):
    """Local linear trend model, falling back to the smooth trend when degenerate.

    Gaps: the series is placed on a consecutive year grid with NaN in missing years;
    the Kalman filter skips the update there (no interpolation).

    Parameter uncertainty: the three variances are drawn from the normal
    approximation of the likelihood in statsmodels' unconstrained parameterisation
    (square roots of the variances, so draws stay positive), see
    :func:`forecast.models.arima.laplace_draws`; each draw re-runs the filter and
    simulates a block of paths. Uncertainty about the current level and slope given
    the data (the filtered state covariance, diffuse start) is drawn per path, so the
    drift uncertainty is propagated even at fixed variances.

    Notes
    -----
    ``y_t = mu_t + eps_t``, ``mu_{t+1} = mu_t + beta_t + eta_t``,
    ``beta_{t+1} = beta_t + zeta_t`` with variances ``sigma2.irregular``,
    ``sigma2.level``, ``sigma2.trend``. If the fit does not converge, or all
    three variances collapse to ~0 (a deterministic line, for which the Kalman
    predictive is degenerate), the smooth trend model (``sigma2.level = 0``) is
    fitted instead and a note says so; if that also fails, :class:`ModelFailure`.
    """

    name = "local_trend"
    min_points = 8
    #: variances (on the standardised scale, where the yearly change has variance ~1)
    #: below this are treated as zero when checking for a degenerate fit
    tiny = 1e-6
    #: cap on the sd of a parameter draw (see :func:`~forecast.models.arima.laplace_draws`)
    max_sd = 2.0

    def fit(self, series: Series) -> FittedStateSpace:
        self._check_series(series)
        z, loc, scale = standardise(series)
        notes: list[str] = []
        for level in ("local linear trend", "smooth trend"):
            mod = UnobservedComponents(z, level=level)
            try:
                res, fit_notes = fit_quietly(mod, self.name)
            except ModelFailure as exc:
                notes.append(f"{level}: {exc}")
                continue
            if fit_notes:
                notes.append(f"{level}: " + "; ".join(fit_notes))
                continue
            if np.all(res.params < self.tiny):
                notes.append(f"{level}: all variances ~0 (degenerate)")
                continue
            if level != "local linear trend":
                notes.append("fell back to the smooth trend model")
            if np.any(np.isnan(z)):
                notes.append("gaps in years: Kalman filter skips the missing years")
            return FittedStateSpace(name=self.name, model=mod, params=np.asarray(res.params),
                                    loc=loc, scale=scale, notes=[level] + notes,
                                    max_sd=self.max_sd)
        raise ModelFailure(f"{self.name}: no usable fit ({' | '.join(notes)})")
