"""Damped additive-trend exponential smoothing, ETS(A,Ad,N), with parameter uncertainty."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.special import expit, logit
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from .arima import standardise
from .base import FittedModel, Model, ModelFailure, Series, variance_draws

_LO, _HI = 1e-4, 1 - 1e-4  # statsmodels' default bounds for alpha and beta/alpha
_PHI_LO, _PHI_HI = 0.8, 0.98  # statsmodels' default bounds for phi
PRIOR_SD = 2.0  # N(0, PRIOR_SD^2) prior on the logits of alpha, beta/alpha and phi*
N_PROPOSALS = 4000  # importance-sampling proposals (vectorised; cheap)


def _constrain(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logits (..., 3) -> (alpha, beta, phi) inside statsmodels' admissible box."""
    alpha = _LO + (_HI - _LO) * expit(theta[..., 0])
    beta = alpha * (_LO + (_HI - _LO) * expit(theta[..., 1]))
    phi = _PHI_LO + (_PHI_HI - _PHI_LO) * expit(theta[..., 2])
    return alpha, beta, phi


def _unconstrain(alpha: float, beta: float, phi: float) -> np.ndarray:
    def lg(frac: float) -> float:  # clip: an optimum on the bound maps to a finite point
        return float(logit(np.clip(frac, 1e-3, 1 - 1e-3)))

    return np.array([lg((alpha - _LO) / (_HI - _LO)), lg((beta / alpha - _LO) / (_HI - _LO)),
                     lg((phi - _PHI_LO) / (_PHI_HI - _PHI_LO))])


def ets_recursions(alpha, beta, phi, l0, b0, y):
    """ETS(A,Ad,N) recursions, vectorised over parameter arrays (broadcastable).

    Returns (residuals with time on the last axis, l_T, b_T). Same recursions as
    statsmodels' ETSModel (checked in the tests):
    ``e_t = y_t - (l + phi b)``, ``l <- l + phi b + alpha e_t``, ``b <- phi b + beta e_t``.
    """
    lvl, slope, resid = l0, b0, []
    for yt in y:
        yhat = lvl + phi * slope
        e = yt - yhat
        resid.append(e)
        lvl, slope = yhat + alpha * e, phi * slope + beta * e
    return np.stack(resid, axis=-1), lvl, slope


def _profile(theta: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """For each row of logits, integrate out the initial states analytically.

    The residuals are affine in the initial states ``x0 = (l0, b0)``:
    ``e(x0) = r + G x0`` (``r``: run with ``x0 = 0``; columns of ``G``: runs on ``y = 0``
    with unit initial states), and so are the end states. Returns ``log_post`` (log
    marginal posterior of the logits up to a constant), ``x0_hat``, ``gtg_inv``, ``sse``
    (minimum SSE) and the pieces to map ``x0`` to the end states.
    """
    alpha, beta, phi = (v[:, None] for v in _constrain(theta))
    x0 = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])[:, None, :]  # (3, 1, 2)
    ydat = np.stack([y, np.zeros_like(y), np.zeros_like(y)])[:, None, :]  # (3, 1, n)
    resid, lT, bT = ets_recursions(alpha[None, :, 0], beta[None, :, 0], phi[None, :, 0],
                                   x0[..., 0], x0[..., 1], np.moveaxis(ydat, -1, 0))
    r, G = resid[0], np.stack([resid[1], resid[2]], axis=-1)  # (M, n), (M, n, 2)
    gtg = np.einsum("mni,mnj->mij", G, G)
    gtg_inv = np.linalg.inv(gtg)
    x0_hat = -np.einsum("mij,mnj,mn->mi", gtg_inv, G, r)
    e_min = r + np.einsum("mnj,mj->mn", G, x0_hat)
    sse = np.sum(e_min**2, axis=1)
    n = len(y)
    log_post = (-0.5 * (n - 2) * np.log(np.maximum(sse, 1e-300))
                - 0.5 * np.linalg.slogdet(gtg)[1]
                - 0.5 * np.sum(theta**2, axis=1) / PRIOR_SD**2)
    end_0 = np.stack([lT[0], bT[0]], axis=-1)  # end states for x0 = 0, (M, 2)
    end_g = np.stack([np.stack([lT[1], bT[1]], -1), np.stack([lT[2], bT[2]], -1)], -1)  # (M,2,2)
    return dict(log_post=log_post, x0_hat=x0_hat, gtg_inv=gtg_inv, sse=sse,
                end_0=end_0, end_g=end_g)


@dataclass
class FittedETS(FittedModel):
    """ETS(A,Ad,N) fit on the standardised scale; see :class:`ETSDamped`."""

    z: np.ndarray
    loc: float
    scale: float
    theta_hat: np.ndarray
    name: str = "ets_damped"
    notes: list[str] = field(default_factory=list)
    ess: float = float("nan")

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        n = len(self.z)
        # defensive mixture proposal: half from the prior, half t(4) around the MLE logits
        m_prior = N_PROPOSALS // 2
        t_draws = self.theta_hat + rng.standard_t(4.0, size=(N_PROPOSALS - m_prior, 3))
        theta = np.vstack([PRIOR_SD * rng.standard_normal((m_prior, 3)), t_draws])
        log_prior_q = stats.norm.logpdf(theta, scale=PRIOR_SD).sum(axis=1)
        log_t_q = stats.t.logpdf(theta - self.theta_hat, df=4.0).sum(axis=1)
        log_q = np.logaddexp(log_prior_q, log_t_q)
        prof = _profile(theta, self.z)
        log_w = prof["log_post"] - log_q
        w = np.exp(log_w - np.max(log_w))
        w /= w.sum()
        self.ess = float(1.0 / np.sum(w**2))
        pick = rng.choice(N_PROPOSALS, size=n_paths, p=w)
        alpha, beta, phi = _constrain(theta[pick])
        # sigma^2 | theta, y ~ SSE_min / chi2_{n-2};  x0 | theta, sigma^2, y ~ N(x0_hat, sigma^2 (G'G)^-1)
        sigma = np.sqrt(variance_draws(prof["sse"][pick], n - 2, n_paths, rng))
        chol = np.linalg.cholesky(prof["gtg_inv"][pick])
        x0 = prof["x0_hat"][pick] + sigma[:, None] * np.einsum(
            "pij,pj->pi", chol, rng.standard_normal((n_paths, 2)))
        end = prof["end_0"][pick] + np.einsum("pij,pj->pi", prof["end_g"][pick], x0)
        lvl, slope = end[:, 0], end[:, 1]
        out = np.empty((n_paths, horizon))
        for h in range(horizon):
            yhat = lvl + phi * slope
            e = sigma * rng.standard_normal(n_paths)
            out[:, h] = yhat + e
            lvl, slope = yhat + alpha * e, phi * slope + beta * e
        return self.loc + self.scale * out


class ETSDamped(Model):
    """Damped additive-trend exponential smoothing with additive errors, ETS(A,Ad,N).

    Gaps: statsmodels' ``ETSModel`` cannot take missing values (a NaN makes the
    likelihood NaN), and the innovations form has no state covariance to carry
    across a skipped year. So the model is fitted to the consecutive run of years
    after the last gap when that run has at least ``min_points`` values (a note
    says so); otherwise ``fit`` raises :class:`ModelFailure`. Nothing is interpolated.

    Parameter uncertainty: paths come from the posterior of all parameters, by
    importance sampling; the ``ETSModel`` MLE only centres the proposal. (statsmodels'
    covariance is unusable here: on short series the optimum sits on a bound, e.g.
    ``alpha = 1e-4``, and the numerical Hessian is then indefinite.)

    Notes
    -----
    Logits ``theta = (logit alpha*, logit (beta/alpha)*, logit phi*)`` map onto
    statsmodels' admissible box (``0 < beta < alpha < 1``, ``0.8 <= phi <= 0.98``).
    Prior: independent ``N(0, 2^2)`` on the logits, flat on the initial states
    ``x0 = (l0, b0)``, ``1/sigma^2`` on the variance. The residuals are affine in
    ``x0``, so ``x0`` and ``sigma`` integrate out in closed form:
    ``p(theta | y) ∝ p(theta) |G'G|^(-1/2) SSE_min(theta)^(-(n-2)/2)`` (see :func:`_profile`).
    Proposals (4000, vectorised): half from the prior, half ``t_4`` around the MLE
    logits (a defensive mixture, robust when the posterior is far from normal). Each
    path resamples a ``theta`` by importance weight, then draws
    ``sigma^2 = SSE_min / chi2_{n-2}`` and ``x0 ~ N(x0_hat, sigma^2 (G'G)^-1)``, runs
    the recursions on the data to its end states and simulates
    ``y = l + phi b + e``, ``l <- l + phi b + alpha e``, ``b <- phi b + beta e``.
    ``ess`` (effective sample size of the last ``simulate``) diagnoses the proposal.
    """

    name = "ets_damped"
    min_points = 8

    def fit(self, series: Series) -> FittedETS:
        self._check_series(series)
        notes = []
        gaps = np.flatnonzero(np.diff(series.years) > 1)
        if len(gaps):
            start = gaps[-1] + 1
            tail = series.tail(start)
            if len(tail) < self.min_points:
                raise ModelFailure(
                    f"{self.name}: ETSModel cannot skip missing years and the consecutive run "
                    f"after the last gap ({tail.years[0]}-{tail.last_year}) has {len(tail)} "
                    f"values, fewer than {self.min_points}"
                )
            notes.append(f"gap in years: fitted to the consecutive run {tail.years[0]}-"
                         f"{tail.last_year} only ({len(tail)} of {len(series)} values)")
            series = tail
            self._check_series(series)
        z, loc, scale = standardise(series)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = ETSModel(z, error="add", trend="add", damped_trend=True).fit(disp=False)
            except Exception as exc:
                raise ModelFailure(f"{self.name}: fit failed ({type(exc).__name__}: {exc})") from exc
        if not res.mle_retvals.get("converged", True) or caught:
            # the importance sampler re-weights around this point, so a loose optimum is
            # not fatal; it is recorded
            notes.append("ETSModel optimiser did not report convergence")
        params = np.asarray(res.params, dtype=float)
        if not np.all(np.isfinite(params)):
            raise ModelFailure(f"{self.name}: non-finite parameter estimates")
        theta_hat = _unconstrain(*params[:3])
        if not _profile(theta_hat[None, :], z)["sse"][0] > 1e-10 * len(z):
            raise ModelFailure(f"{self.name}: the series is fitted exactly (zero residuals), "
                               "a degenerate case with no predictive spread")
        return FittedETS(z=z, loc=loc, scale=scale, theta_hat=theta_hat, notes=notes)
