"""ARIMA(p,1,q) with drift, order by AICc, parameter draws from the estimated covariance.

The helpers :func:`standardise`, :func:`laplace_draws` and :func:`simulate_statespace`
are shared with :mod:`forecast.models.local_trend` (any statsmodels ``MLEModel``).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from statsmodels.tools.numdiff import approx_hess2
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.mlemodel import MLEModel
from statsmodels.tsa.statespace.sarimax import SARIMAX

from .base import FittedModel, Model, ModelFailure, Series
from .rw_drift import estimate_drift

#: number of parameter draws; each simulates n_paths / N_DRAWS paths (speed vs. smoothness)
N_DRAWS = 50
#: largest standard deviation of a draw along any direction of the unconstrained,
#: standardised parameter space: a flat likelihood direction (parameter at a bound)
#: would otherwise give an infinite variance
MAX_SD = 2.0


def standardise(series: Series) -> tuple[np.ndarray, float, float]:
    """Place the series on a consecutive year grid (NaN in the gaps, state space models
    skip the update there) and standardise it: ``z = (y - y_T) / scale``.

    ``scale`` is the gap-aware random-walk volatility (falls back to the standard
    deviation for an exactly linear series). Standardising makes every parameter
    O(1), so optimiser tolerances and :data:`MAX_SD` mean the same on every series.
    """
    years, y = series.years, series.values
    grid = np.full(years[-1] - years[0] + 1, np.nan)
    grid[years - years[0]] = y
    scale = float(np.sqrt(estimate_drift(years, y).s2)) if len(y) >= 3 else 0.0
    if not scale > 0:
        scale = float(np.std(y))
    loc = float(y[-1])
    return (grid - loc) / scale, loc, scale


def laplace_draws(
    model: MLEModel, params: np.ndarray, n_draws: int, rng: np.random.Generator,
    max_sd: float = MAX_SD,
) -> list[np.ndarray]:
    """Draw parameter vectors from a normal approximation of the likelihood in the
    model's *unconstrained* parameterisation, mapped back to the admissible region.

    Notes
    -----
    ``u = untransform(theta_hat)``; ``Sigma = (-H)^{-1}`` with ``H`` the numerical
    Hessian of the log-likelihood in ``u``. Eigenvalues of ``Sigma`` are capped at
    ``max_sd^2`` (default :data:`MAX_SD`; non-positive curvature gets the cap): at a boundary optimum the
    likelihood is flat and the draws then spread widely instead of collapsing.
    The back-transform enforces stationarity / invertibility / positive variances.
    """
    u_hat = model.untransform_params(params)
    hess = approx_hess2(u_hat, lambda u: model.loglike(u, transformed=False))
    neg_h = -(hess + hess.T) / 2
    if not np.all(np.isfinite(neg_h)):
        raise ModelFailure("non-finite Hessian of the log-likelihood at the optimum")
    eigval, eigvec = np.linalg.eigh(neg_h)
    var = np.where(eigval > 1 / max_sd**2, 1 / np.maximum(eigval, 1e-300), max_sd**2)
    z = rng.standard_normal((n_draws, len(u_hat))) * np.sqrt(var)
    return [model.transform_params(u_hat + zi @ eigvec.T) for zi in z]


def _psd_factor(cov: np.ndarray) -> np.ndarray:
    """A factor ``L`` with ``L L' = cov`` for a possibly singular PSD matrix."""
    val, vec = np.linalg.eigh((cov + cov.T) / 2)
    return vec * np.sqrt(np.clip(val, 0.0, None))


def simulate_statespace(
    model: MLEModel,
    param_draws: list[np.ndarray],
    horizon: int,
    n_paths: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Simulate ``n_paths`` paths after the end of the sample, one block per parameter draw.

    For each draw the Kalman filter is run on the data (NaN = skipped update) to get
    the predicted state ``a_{T+1} ~ N(a, P)``; each path draws its own state from it
    (filtering uncertainty, e.g. about the slope) and then its own shocks. The last
    time slice of the system matrices is used for the future (they are constant here).
    """
    out = np.empty((n_paths, horizon))
    for p, idx in zip(param_draws, np.array_split(np.arange(n_paths), len(param_draws))):
        m = len(idx)
        if m == 0:
            continue
        fr = model.filter(p, return_ssm=True)
        # system matrices may be stored per time point (last axis); take the last one
        Z, T, R, Q, H = (m3[..., -1] if m3.ndim == 3 else m3 for m3 in
                         (fr.design, fr.transition, fr.selection, fr.state_cov, fr.obs_cov))
        c, d = fr.state_intercept[:, -1], fr.obs_intercept[:, -1]
        a = fr.predicted_state[:, -1] + rng.standard_normal((m, T.shape[0])) @ _psd_factor(
            fr.predicted_state_cov[:, :, -1]).T
        q_fac = R @ _psd_factor(Q)
        h_sd = np.sqrt(max(float(H[0, 0]), 0.0))
        for h in range(horizon):
            out[idx, h] = d[0] + a @ Z[0] + h_sd * rng.standard_normal(m)
            a = c + a @ T.T + rng.standard_normal((m, q_fac.shape[1])) @ q_fac.T
    if not np.all(np.isfinite(out)):
        raise ModelFailure("non-finite simulated values (filter diverged for a parameter draw)")
    return out


@dataclass
class FittedStateSpace(FittedModel):
    """A statsmodels state-space fit on the standardised scale plus its parameter draws."""

    name: str
    model: MLEModel
    params: np.ndarray
    loc: float
    scale: float
    n_draws: int = N_DRAWS
    notes: list[str] = field(default_factory=list)
    max_sd: float = MAX_SD

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        try:
            draws = laplace_draws(self.model, self.params, min(self.n_draws, n_paths), rng,
                                  self.max_sd)
            z = simulate_statespace(self.model, draws, horizon, n_paths, rng)
        except (ModelFailure, np.linalg.LinAlgError, ValueError) as exc:
            raise ModelFailure(f"{self.name}: simulation failed ({exc})") from exc
        return self.loc + self.scale * z


def fit_quietly(model: MLEModel, name: str) -> tuple[object, list[str]]:
    """Fit by MLE with warnings captured: returns (results, notes); non-convergence is a note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = model.fit(disp=False, maxiter=200)
        except Exception as exc:  # statsmodels/numpy raise many kinds; the reason is kept
            raise ModelFailure(f"{name}: fit failed ({type(exc).__name__}: {exc})") from exc
    notes = []
    if not res.mle_retvals.get("converged", True):
        notes.append("optimiser did not report convergence")
    notes += sorted({str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)})
    if not np.all(np.isfinite(res.params)) or not np.isfinite(res.llf):
        raise ModelFailure(f"{name}: non-finite parameters or likelihood at the optimum")
    return res, notes


class Arima(Model):
    """ARIMA(p,1,q) with drift, p, q in {0, 1}, chosen by AICc.

    Gaps: the series is placed on a consecutive year grid with NaN in missing years;
    the Kalman filter skips the update there (exact likelihood, no interpolation).

    Parameter uncertainty: :data:`N_DRAWS` parameter vectors are drawn from the
    normal approximation of the likelihood in the unconstrained parameterisation
    (:func:`laplace_draws`; stationarity and invertibility hold by construction) and
    each simulates ``n_paths / N_DRAWS`` paths from the state space. The order
    choice itself is not re-sampled (a known source of residual over-confidence).

    Notes
    -----
    ``(1 - phi L)(Delta y_t - mu) = (1 + theta L) eps_t`` fitted as SARIMAX with
    ``trend='c'`` on the levels with ``d = 1`` (the constant is the drift of the
    differences). Second differencing is not offered: AIC values are not comparable
    across differencing orders, and trend changes are the job of the ETS and local
    linear trend families. The data are standardised first (:func:`standardise`).
    """

    name = "arima"
    min_points = 8
    orders = ((0, 1, 0), (1, 1, 0), (0, 1, 1), (1, 1, 1))

    def fit(self, series: Series) -> FittedStateSpace:
        self._check_series(series)
        z, loc, scale = standardise(series)
        best, best_notes, tried = None, [], []
        for order in self.orders:
            mod = SARIMAX(z, order=order, trend="c")
            try:
                res, notes = fit_quietly(mod, self.name)
            except ModelFailure as exc:
                tried.append(f"{order}: {exc}")
                continue
            if notes:  # a non-converged candidate is not eligible; say so
                tried.append(f"{order}: " + "; ".join(notes))
                continue
            if best is None or res.aicc < best.aicc:
                best, best_notes = res, notes
        if best is None:
            raise ModelFailure(f"{self.name}: no candidate order could be fitted ({' | '.join(tried)})")
        notes = [f"order {best.model.order} by AICc"] + [f"skipped {t}" for t in tried] + best_notes
        if np.any(np.isnan(z)):
            notes.append("gaps in years: Kalman filter skips the missing years")
        return FittedStateSpace(name=self.name, model=best.model, params=np.asarray(best.params),
                                loc=loc, scale=scale, notes=notes)
