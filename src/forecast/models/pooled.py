"""Pooled families: a region's trend and volatility informed by a panel of other regions.

A series of 8-25 annual points says little about its own drift and volatility; the same
indicator in other regions (:mod:`forecast.panels`) shares its definition and many of its
shocks. The families here are configured with a :class:`~forecast.panels.Panel` and follow the
:class:`~forecast.models.base.Model` interface. They are leak-free by construction: ``fit``
cuts the panel at the last year of the series it is given (:meth:`Panel.cut`), so a
rolling-origin backtest, which fits on the first ``n`` years of a series, cuts every other
region at the same origin.

:class:`PooledEB` -- empirical-Bayes shrinkage of the region's deviation from a common,
time-varying increment, with the hyper-parameters' uncertainty drawn per path (closed forms
and small grids, no sampler).
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..panels import Panel
from .base import FittedModel, Model, ModelFailure, Series, variance_draws

#: panel fits kept per process (panel key, cut year, settings) -> _PanelFit
_CACHE_SIZE = 256
_panel_cache: "OrderedDict[tuple, _PanelFit]" = OrderedDict()


def normal_shrinkage(estimate, variance, prior_mean, prior_variance):
    """Posterior mean, variance and own weight of a normal mean under a normal prior.

    ``estimate ~ N(theta, variance)``, ``theta ~ N(prior_mean, prior_variance)``: the posterior
    is ``N(prior_mean + B (estimate - prior_mean), B variance)`` with the own weight (the
    region's share) ``B = prior_variance / (prior_variance + variance)``; a prior variance of 0
    gives the prior mean (B = 0).
    """
    estimate, variance = np.asarray(estimate, float), np.asarray(variance, float)
    prior_variance = np.asarray(prior_variance, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(prior_variance > 0, prior_variance / (prior_variance + variance), 0.0)
    return prior_mean + b * (estimate - prior_mean), b * variance, b


def hyper_tau_posterior(a_hat: np.ndarray, v: np.ndarray, taus: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid posterior of the between-region sd ``tau`` (uniform prior on ``taus``) in the
    normal-normal model ``a_hat_j ~ N(a_j, v_j)``, ``a_j ~ N(alpha, tau^2)``, flat prior on
    ``alpha``; returns the normalised weights and, per ``tau``, the conditional posterior mean
    and variance of ``alpha``.

    Notes
    -----
    With ``w_j = 1 / (v_j + tau^2)``: ``alpha | tau ~ N(sum w a_hat / sum w, 1 / sum w)`` and
    ``p(tau | a_hat) ∝ p(tau) (sum w)^{-1/2} prod w_j^{1/2} exp(-sum w_j (a_hat_j - alpha_hat)^2 / 2)``
    (Gelman et al., *Bayesian Data Analysis*, 3rd ed., sec. 5.4).
    """
    w = 1.0 / (v[None, :] + taus[:, None] ** 2)
    sw = w.sum(axis=1)
    alpha = (w * a_hat[None, :]).sum(axis=1) / sw
    logp = -0.5 * np.log(sw) + 0.5 * np.log(w).sum(axis=1) \
        - 0.5 * (w * (a_hat[None, :] - alpha[:, None]) ** 2).sum(axis=1)
    p = np.exp(logp - logp.max())
    return p / p.sum(), alpha, 1.0 / sw


def variance_prior_posterior(s2: np.ndarray, df: np.ndarray, w_grid: np.ndarray,
                             log_s0_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid posterior of the panel's volatility distribution from regions' variance estimates.

    Each region's ``s2_j`` has ``df_j`` degrees of freedom around its ``sigma_j^2``, and
    ``sigma_j^2 ~ Scaled-Inv-chi2(d0, s0^2)`` across regions; then ``s2_j / s0^2 ~ F(df_j, d0)``
    (Smyth 2004, the "moderated" variances of limma). ``d0`` is parameterised by the pooled
    share ``w = d0 / (d0 + median df)`` of a typical region's posterior variance (uniform prior
    on ``w_grid``), ``s0`` by its log (uniform prior on ``log_s0_grid``). Returns the weights
    (flattened, ``len(w_grid) * len(log_s0_grid)``) and the matching ``d0`` and ``s0^2``.
    """
    d_med = float(np.median(df))
    d0 = w_grid * d_med / (1.0 - w_grid)
    s02 = np.exp(2.0 * log_s0_grid)
    # the F log-density written out (scipy.stats.f.logpdf is ~100x slower on these grids):
    # log f(x; d, d0) = (d/2) log d + (d0/2) log d0 + (d/2 - 1) log x
    #                   - ((d + d0)/2) log(d0 + d x) - B(d/2, d0/2),  x = s2 / s0^2
    # a region with an exactly zero variance estimate has density 0 under F: floor it
    x = np.maximum(s2[None, :] / s02[:, None], 1e-12)  # (s0, region)
    d, D0 = df[None, None, :], d0[:, None, None]
    const = (0.5 * d * np.log(d) + 0.5 * D0 * np.log(D0)
             - special.betaln(0.5 * d, 0.5 * D0))  # (w, 1, region)
    logp = (const + (0.5 * d - 1.0) * np.log(x)[None]
            - 0.5 * (d + D0) * np.log(D0 + d * x[None])).sum(-1) - len(s2) * np.log(s02)[None, :]
    p = np.exp(logp - logp.max()).ravel()
    D0g, S02g = np.meshgrid(d0, s02, indexing="ij")
    return p / p.sum(), D0g.ravel(), S02g.ravel()


def local_level_grid(y: np.ndarray, extra_var: np.ndarray, sd_q: np.ndarray, sd_r: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kalman filter of a local level on a yearly grid, for many (sd_q, sd_r) at once.

    ``y_t = m_t + eta_t + err_t``, ``m_t = m_{t-1} + zeta_t``; ``eta ~ N(0, sd_r^2)``,
    ``zeta ~ N(0, sd_q^2)``, ``err_t ~ N(0, extra_var_t)`` known (the cross-sectional sampling
    noise of a panel mean). NaN in ``y`` skips the update (a year without an observation).
    The first observation starts the filter (diffuse initial level); its likelihood is not
    counted. Returns the log-likelihood, the filtered mean and variance of the level at the
    last year, one value per grid cell.
    """
    sd_q, sd_r = np.asarray(sd_q, float), np.asarray(sd_r, float)
    q, r = sd_q**2, sd_r**2
    obs = np.flatnonzero(np.isfinite(y))
    first = obs[0]
    a = np.full(q.shape, y[first])
    P = r + extra_var[first]
    ll = np.zeros(q.shape)
    for t in range(first + 1, len(y)):
        P = P + q
        if np.isfinite(y[t]):
            F = P + r + extra_var[t]
            v = y[t] - a
            ll += -0.5 * (np.log(2 * np.pi * F) + v * v / F)
            gain = P / F
            a = a + gain * v
            P = P * (1.0 - gain)
    return ll, a, P


def common_grid(spread: float, trend: bool, prior: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid of (sd_q, sd_r) of the common increment's local level and the log prior on it.

    ``spread`` is the sd of the panel's mean increments over time; the grid spans
    ``[0, 3 spread]`` for each sd. Priors: "uniform" on each sd; "halfcauchy" (scale
    ``spread / 2``) on each sd; "ml": the grid's maximum-likelihood cell alone. Without a
    trend (``trend=False``) ``sd_q = 0``.
    """
    upper = 3.0 * spread
    if trend:
        gq, gr = np.meshgrid(np.linspace(0, upper, 21), np.linspace(0, upper, 21), indexing="ij")
    else:
        gq, gr = np.zeros((1, 41)), np.linspace(0, upper, 41)[None, :]
    sd_q, sd_r = gq.ravel(), gr.ravel()
    if prior == "halfcauchy":
        scale = spread / 2.0
        log_prior = -np.log1p((sd_q / scale) ** 2) - np.log1p((sd_r / scale) ** 2)
    else:
        log_prior = np.zeros(sd_q.shape)
    return sd_q, sd_r, log_prior


@dataclass
class _PanelFit:
    """What a pooled fit learns from the panel alone (cut at one year): the common
    increment per year, the variance and deviation hyper-parameters."""

    first_year: int
    common: np.ndarray  # mean yearly increment of the panel per year (NaN: fewer than 2 regions)
    n_per_year: np.ndarray
    regions: tuple[str, ...]  # regions that informed the hyper-parameters
    var_post: np.ndarray
    d0: np.ndarray
    s02: np.ndarray
    tau_post: np.ndarray
    taus: np.ndarray
    alpha_mean: np.ndarray
    alpha_var: np.ndarray
    s2_typical: float  # posterior mean of the prior's variance (a region's typical sigma^2)


def _panel_fit(panel: Panel, last_year: int, min_regions: int, name: str = "pooled"
               ) -> _PanelFit:
    key = (panel.key, last_year, min_regions)
    if key in _panel_cache:
        _panel_cache.move_to_end(key)
        return _panel_cache[key]
    cut = panel.cut(last_year)
    if not cut.members:
        raise ModelFailure(f"{name}: no panel: {panel.describe()} up to {last_year}")
    first, values = cut.matrix()
    if len(values) < 3:
        raise ModelFailure(f"{name}: the panel has fewer than 3 years up to {last_year}")
    inc = np.diff(values, axis=0)  # yearly increments; NaN across a gap or a missing year
    years0 = first + 1
    n = np.sum(np.isfinite(inc), axis=1)
    total = np.nansum(inc, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        common = np.where(n >= 2, total / np.maximum(n, 1), np.nan)
        # leave-one-out: a region's deviation from the mean of the *other* regions, so that
        # its own noise is not in the reference it is measured against
        dev = inc - (total[:, None] - inc) / (n[:, None] - 1)
    dev[n < 2] = np.nan
    counts = np.sum(np.isfinite(dev), axis=0)
    use = counts >= 3
    regions = tuple(r for r, u in zip(cut.regions, use) if u)
    if len(regions) < min_regions:
        raise ModelFailure(f"{name}: {len(regions)} panel region(s) with 3 or more yearly "
                           f"increments up to {last_year}, fewer than {min_regions}")
    dev = dev[:, use]
    a_hat = np.nanmean(dev, axis=0)
    df = counts[use] - 1.0
    s2 = np.nansum((dev - a_hat) ** 2, axis=0) / df
    pooled_s2 = float(np.sum(df * s2) / np.sum(df))
    if not pooled_s2 > 0:
        raise ModelFailure(f"{name}: the panel's deviations have zero variance")
    var_post, d0, s02 = variance_prior_posterior(
        s2, df, np.linspace(0.025, 0.975, 39), 0.5 * np.log(pooled_s2) + np.linspace(-2, 2, 81))
    s2_mod = (var_post[:, None] * (d0[:, None] * s02[:, None] + df * s2)
              / (d0[:, None] + df)).sum(axis=0)
    v = s2_mod / counts[use]
    spread = float(np.std(a_hat, ddof=1)) + float(np.sqrt(v.max()))
    taus = np.linspace(0.0, 3.0 * spread, 121)
    tau_post, alpha_mean, alpha_var = hyper_tau_posterior(a_hat, v, taus)
    fit = _PanelFit(years0, common, n, regions, var_post, d0, s02, tau_post, taus, alpha_mean,
                    alpha_var, float(np.sum(var_post * s02)))
    _panel_cache[key] = fit
    if len(_panel_cache) > _CACHE_SIZE:
        _panel_cache.popitem(last=False)
    return fit


def _moderated_variance(pf: _PanelFit, df: float, s2: float) -> float:
    """The region's moderated variance ``(d0 s0^2 + df s^2) / (d0 + df)`` averaged over the
    posterior of ``(d0, s0^2)``: its point estimate of ``sigma^2``."""
    return float(np.sum(pf.var_post * (pf.d0 * pf.s02 + df * s2) / (pf.d0 + df)))


@dataclass
class FittedPooledEB(FittedModel):
    """A :class:`PooledEB` fit: grid posteriors of the hyper-parameters and the region's own
    statistics; :meth:`simulate` draws every level of the hierarchy per path. ``summary``
    holds what the output says about the pooling (see :class:`PooledEB`)."""

    last_value: float
    pf: _PanelFit
    a_hat: float  # own mean deviation from the panel's common increment, per year
    span: float  # years covered by the own deviations
    s2: float  # own variance estimate of the deviations (0 when df = 0)
    df: float
    sd_q: np.ndarray
    sd_r: np.ndarray
    common_post: np.ndarray
    m_mean: np.ndarray
    m_var: np.ndarray
    summary: dict
    name: str = "pooled_eb"
    notes: list[str] = field(default_factory=list)

    def _hyper_draws(self, n: int, rng: np.random.Generator):
        pf = self.pf
        iv = rng.choice(len(pf.var_post), size=n, p=pf.var_post)
        d0 = pf.d0[iv]
        sigma2 = variance_draws(d0 * pf.s02[iv] + self.df * self.s2, d0 + self.df, n, rng)
        it = rng.choice(len(pf.taus), size=n, p=pf.tau_post)
        alpha = pf.alpha_mean[it] + np.sqrt(pf.alpha_var[it]) * rng.standard_normal(n)
        mean, var, _ = normal_shrinkage(self.a_hat, sigma2 / self.span, alpha, pf.taus[it] ** 2)
        a = mean + np.sqrt(var) * rng.standard_normal(n)
        ic = rng.choice(len(self.common_post), size=n, p=self.common_post)
        m = self.m_mean[ic] + np.sqrt(self.m_var[ic]) * rng.standard_normal(n)
        return np.sqrt(sigma2), a, m, self.sd_q[ic], self.sd_r[ic]

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        sigma, a, m, sd_q, sd_r = self._hyper_draws(n_paths, rng)
        z = rng.standard_normal((3, n_paths, horizon))
        # the common increment's level walks on (zeta); each year adds a common shock (eta),
        # the region's deviation and its own shock
        level = m[:, None] + sd_q[:, None] * np.cumsum(z[0], axis=1)
        steps = level + sd_r[:, None] * z[1] + a[:, None] + sigma[:, None] * z[2]
        return self.last_value + np.cumsum(steps, axis=1)


class PooledEB(Model):
    """Random walk whose yearly increment is a common, slowly moving panel increment plus the
    region's own deviation, both learned with empirical-Bayes partial pooling.

    Parameters
    ----------
    panel : Panel
        The other regions of the indicator (:func:`forecast.panels.build_panel`), on the
        modelling scale of the series the model is fitted to. ``fit`` uses only their values
        of years up to the series' last year.
    common_trend : bool
        True (default): the common increment is a local level (a random walk with its own
        noise), so a shift that hits every region moves the forecast of all; False: it is
        constant over time (its mean over the panel's years), the "shrink toward a fixed
        mean" design.
    min_regions : int
        Fewest panel regions with 3 or more yearly increments up to the cut (default 5).
    name : str
        Name in the ensemble and in the output.

    Notes
    -----
    On the modelling scale, region ``i``'s yearly increment is
    ``d_it = m_t + eta_t + a_i + e_it`` with the common level ``m_t = m_{t-1} + zeta_t``
    (``zeta ~ N(0, q)``), a common yearly shock ``eta_t ~ N(0, r)``, the region's persistent
    deviation ``a_i ~ N(alpha, tau^2)`` and its own shock ``e_it ~ N(0, sigma_i^2)`` with
    ``sigma_i^2 ~ Scaled-Inv-chi2(d0, s0^2)``.

    * The panel's mean increment ``cbar_t`` (years with at least two regions) observes
      ``m_t + eta_t`` with the sampling noise ``s0^2 / J_t``; a local-level Kalman filter on it
      gives ``m_T | q, r``; ``(sd_q, sd_r)`` get a grid posterior under uniform priors on
      ``[0, 3 sd(cbar)]`` (:func:`local_level_grid`). With ``common_trend=False``, ``q = 0``.
    * Each panel region's deviation from the mean of the others, ``u_jt = d_jt - cbar_{-j,t}``,
      has mean ``a_j`` and variance ``sigma_j^2``; its mean and variance estimates give the
      grid posterior of ``(d0, s0^2)`` (:func:`variance_prior_posterior`) and, with the
      moderated variances, that of ``(alpha, tau)`` (:func:`hyper_tau_posterior`).
    * The region's own deviations ``u_t = d_t - sum cbar`` give ``a_hat`` over ``K`` years and
      ``s^2`` with ``df = m - 1``; then ``sigma^2 | . ~ Scaled-Inv-chi2(d0 + df,
      (d0 s0^2 + df s^2) / (d0 + df))`` (own share of the volatility ``df / (d0 + df)``) and
      ``a | sigma^2, alpha, tau ~ N(alpha + B (a_hat - alpha), B sigma^2 / K)`` with the own
      weight ``B = tau^2 / (tau^2 + sigma^2 / K)`` (:func:`normal_shrinkage`).

    Each path draws ``(d0, s0^2)``, ``sigma^2``, ``(tau, alpha)``, ``a``, ``(q, r)`` and
    ``m_T`` in turn, then walks ``m`` on and adds ``eta``, ``a`` and ``e`` every year: the
    hyper-parameters' uncertainty is in every path. The top 1% of the ``sigma^2`` draws is
    capped (:func:`~forecast.models.base.variance_draws`).

    Gaps: the panel is placed on a yearly grid; a region's increment across a gap is not used
    (its neighbours' years still are). The region's own increment over a gap of ``k`` years
    counts as ``k`` yearly steps: its deviation is ``d - sum of cbar`` over those years (mean
    ``k a``, variance ``k sigma^2``), as in :class:`~forecast.models.rw_drift.RWDrift`. A
    yearly increment of the region in a year the panel does not cover (the region's series
    runs past the panel's last year) informs the common level instead, as ``d_t - E[a]``;
    an increment over a gap the panel does not cover is not used (a note says so).

    Raises :class:`ModelFailure` when fewer than ``min_regions`` panel regions have three
    yearly increments up to the series' last year, or when none of the region's increments
    falls in the panel's years.

    ``FittedPooledEB.summary`` says what the output needs: ``panel`` (which), ``n_regions``
    (how many informed the fit), ``own_weight_drift`` (posterior mean of ``B``),
    ``own_weight_volatility`` (``df / (d0 + df)``), ``common_increment`` and its sd (the panel's
    current yearly increment on the modelling scale), ``own_deviation`` (``a_hat``) and
    ``pooled_deviation`` (posterior mean of ``a``).
    """

    name = "pooled_eb"
    min_points = 3

    def __init__(self, panel: Panel, *, common_trend: bool = True, min_regions: int = 5,
                 common_prior: str = "uniform", name: str | None = None) -> None:
        self.panel = panel
        self.common_trend = common_trend
        self.common_prior = common_prior
        self.min_regions = min_regions
        if name is not None:
            self.name = name

    @classmethod
    def for_region(cls, dataset, indicator: str, region: str, *, files=None, regions=None,
                   **kwargs) -> "PooledEB":
        """The family with the panel of ``region``'s ``indicator`` (see
        :func:`forecast.panels.build_panel` for ``files`` and ``regions``)."""
        from ..panels import build_panel
        return cls(build_panel(dataset, indicator, region, files=files, regions=regions),
                   **kwargs)

    def fit(self, series: Series) -> FittedPooledEB:
        self._check_length(series)
        last = series.last_year
        pf = _panel_fit(self.panel, last, self.min_regions, self.name)
        notes: list[str] = []
        # the common increment per year from pf.first_year to the series' last year
        n_years = last - pf.first_year + 1
        if n_years < 1:
            raise ModelFailure(f"{self.name}: the series ends before the panel's first increment")
        common = np.full(n_years, np.nan)
        extra = np.full(n_years, np.nan)
        k = min(len(pf.common), n_years)
        common[:k] = pf.common[:k]
        extra[:k] = pf.s2_typical / np.maximum(pf.n_per_year[:k], 1)

        years, y = series.years, series.values
        covered = np.flatnonzero(np.isfinite(common))
        if not len(covered):
            raise ModelFailure(f"{self.name}: the panel has no yearly increment before "
                               f"{last + 1} ({self.panel.describe()})")
        dev, spans, own_only = [], [], []
        dropped = 0
        for t0, t1, d in zip(years[:-1], years[1:], np.diff(y)):
            idx = np.arange(t0 + 1, t1 + 1) - pf.first_year
            if idx[0] >= 0 and np.all(np.isfinite(common[idx])):
                dev.append(d - common[idx].sum())
                spans.append(t1 - t0)
            elif t1 - t0 == 1 and idx[0] > covered[-1]:
                own_only.append((idx[0], d))  # after the panel's last year: a nowcast
            else:
                dropped += 1
        if not dev:
            raise ModelFailure(f"{self.name}: none of the series' increments falls in the "
                               f"panel's years ({self.panel.describe()})")
        dev, spans = np.asarray(dev), np.asarray(spans, float)
        span = float(spans.sum())
        a_hat = float(dev.sum() / span)
        df = float(len(dev) - 1)
        s2 = float(np.sum((dev - spans * a_hat) ** 2 / spans) / df) if df > 0 else 0.0
        if np.any(spans > 1):
            notes.append("gaps in years: increments weighted by their spacing")
        if dropped:
            notes.append(f"{dropped} increment(s) in years the panel does not cover not used")

        # expected own deviation and volatility at the hyper-parameters' posterior means,
        # for the years the panel does not cover and for the summary
        s2_post = _moderated_variance(pf, df, s2)
        taus2 = pf.taus ** 2
        a_post, a_var, b = normal_shrinkage(a_hat, s2_post / span, pf.alpha_mean, taus2)
        a_mean = float(np.sum(pf.tau_post * a_post))
        if own_only:
            notes.append(f"{len(own_only)} year(s) after the panel's last: the common increment "
                         "there is read from the series itself")
            var_a = float(np.sum(pf.tau_post * (a_var + (a_post - a_mean) ** 2)))
            for i, d in own_only:
                common[i] = d - a_mean
                extra[i] = s2_post + var_a
        finite = np.isfinite(common)
        spread = float(np.std(common[finite], ddof=1)) if finite.sum() > 1 else 0.0
        sd_q, sd_r, log_prior = common_grid(max(spread, 1e-8), self.common_trend,
                                            self.common_prior)
        ll, m_mean, m_var = local_level_grid(common, np.nan_to_num(extra, nan=0.0), sd_q, sd_r)
        if self.common_prior == "ml":
            post = (ll == ll.max()).astype(float)
        else:
            post = np.exp(ll + log_prior - np.max(ll + log_prior))
        post /= post.sum()

        m_now = float(np.sum(post * m_mean))
        summary = {
            "panel": self.panel.describe(),
            "n_regions": len(pf.regions),
            "regions": list(pf.regions),
            "own_weight_drift": float(np.sum(pf.tau_post * b)),
            "own_weight_volatility": float(np.sum(pf.var_post * df / (pf.d0 + df))),
            "common_increment": m_now,
            "common_increment_sd": float(np.sqrt(np.sum(post * (m_var + (m_mean - m_now) ** 2)))),
            "own_deviation": a_hat,
            "pooled_deviation": a_mean,
            "own_years": span,
            "common_trend": self.common_trend,
        }
        return FittedPooledEB(float(y[-1]), pf, a_hat, span, s2, df, sd_q, sd_r, post,
                              m_mean, m_var, summary, name=self.name, notes=notes)


@dataclass
class FittedPooledStateSpace(FittedModel):
    """A :class:`PooledStateSpace` fit: two statsmodels local-level fits (the panel's common
    increment, the region's deviation from it) with their parameter draws."""

    last_value: float
    common_model: object
    common_params: np.ndarray
    common_loc: float
    common_scale: float
    lead: int  # years between the panel's last common increment and the series' last year
    dev_model: object
    dev_params: np.ndarray
    dev_scale: float
    summary: dict
    name: str = "pooled_ss"
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        from .arima import N_DRAWS, laplace_draws, simulate_statespace

        n_draws = min(N_DRAWS, n_paths)
        try:
            cd = laplace_draws(self.common_model, self.common_params, n_draws, rng)
            common = simulate_statespace(self.common_model, cd, self.lead + horizon, n_paths, rng)
            dd = laplace_draws(self.dev_model, self.dev_params, n_draws, rng)
            dev = simulate_statespace(self.dev_model, dd, horizon, n_paths, rng)
        except (ModelFailure, np.linalg.LinAlgError, ValueError) as exc:
            raise ModelFailure(f"{self.name}: simulation failed ({exc})") from exc
        # the two parameter-draw blocks would line up path by path; shuffle one of them
        dev = dev[rng.permutation(n_paths)]
        steps = (self.common_loc + self.common_scale * common[:, self.lead:]
                 + self.dev_scale * dev)
        return self.last_value + np.cumsum(steps, axis=1)


class PooledStateSpace(Model):
    """The pooled random walk of :class:`PooledEB` as two statsmodels structural models, the
    region's deviation allowed to drift over time, parameters by maximum likelihood.

    Parameters
    ----------
    panel : Panel
        As for :class:`PooledEB`; only values of years up to the series' last year are used.
    min_regions : int
        Fewest panel regions with 3 or more yearly increments up to the cut.
    name : str
        Name in the ensemble and in the output.

    Notes
    -----
    * The panel's mean yearly increment ``cbar_t`` is a local level
      (``UnobservedComponents(level="local level")``: ``cbar_t = m_t + eps_t``,
      ``m_t = m_{t-1} + zeta_t``), fitted by maximum likelihood on the standardised series.
    * The region's yearly deviation ``u_t = d_t - cbar_t`` is a local level too
      (``u_t = a_t + e_t``, ``a_t = a_{t-1} + xi_t``), its initial level known from the panel:
      ``a ~ N(alpha, tau^2)`` at the posterior means of :class:`PooledEB`'s hyper-parameters.
      This is the partial pooling: a short history stays near the panel's deviation, a long
      one moves away, and ``xi`` lets the deviation change over time.
    * Parameter uncertainty: 50 draws from the normal approximation of each likelihood
      (:func:`~forecast.models.arima.laplace_draws`), each simulating a block of paths with
      its filtered state uncertainty (:func:`~forecast.models.arima.simulate_statespace`).
      The common increment's simulated noise ``eps`` includes the panel mean's sampling noise
      (``s0^2 / J``, small against the yearly common shock with J >= 9).

    Gaps: both series sit on a yearly grid; the filter skips a year without a value. The
    region's increment over a gap is not used (a deviation over ``k`` years is not a yearly
    observation of ``u``): a note says how many were dropped. When the series runs past the
    panel's last year, the common increment is simulated from the panel's last year on.
    Raises :class:`ModelFailure` with fewer than ``min_regions`` panel regions, fewer than 4
    yearly deviations or 5 common increments, or a failed likelihood fit.
    """

    name = "pooled_ss"
    min_points = 5

    def __init__(self, panel: Panel, *, min_regions: int = 5, name: str | None = None) -> None:
        self.panel = panel
        self.min_regions = min_regions
        if name is not None:
            self.name = name

    def fit(self, series: Series) -> FittedPooledStateSpace:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        from .arima import fit_quietly

        self._check_length(series)
        last = series.last_year
        pf = _panel_fit(self.panel, last, self.min_regions, self.name)
        covered = np.flatnonzero(np.isfinite(pf.common))
        if len(covered) < 5:
            raise ModelFailure(f"{self.name}: {len(covered)} years of common increments, "
                               "fewer than 5")
        common = pf.common[covered[0]:covered[-1] + 1]
        c_loc, c_scale = float(np.nanmean(common)), float(np.nanstd(common))
        if not c_scale > 0:
            c_scale = 1e-3
        years, y = series.years, series.values
        dev = np.full(last - pf.first_year + 1, np.nan)
        dropped = 0
        for t0, t1, d in zip(years[:-1], years[1:], np.diff(y)):
            i = t1 - pf.first_year
            if t1 - t0 == 1 and 0 <= i < len(pf.common) and np.isfinite(pf.common[i]):
                dev[i] = d - pf.common[i]
            else:
                dropped += 1
        have = np.flatnonzero(np.isfinite(dev))
        if len(have) < 4:
            raise ModelFailure(f"{self.name}: {len(have)} yearly deviations from the panel, "
                               "fewer than 4")
        dev = dev[have[0]:]
        d_scale = float(np.nanstd(dev)) or 1e-3
        alpha = float(np.sum(pf.tau_post * pf.alpha_mean))
        tau2 = float(np.sum(pf.tau_post * (pf.taus**2 + pf.alpha_var)))
        notes = []
        cm = UnobservedComponents((common - c_loc) / c_scale, level="local level")
        c_res, c_notes = fit_quietly(cm, self.name)
        dm = UnobservedComponents(dev / d_scale, level="local level")
        dm.initialize_known(np.array([alpha / d_scale]), np.array([[max(tau2, 1e-12) / d_scale**2]]))
        d_res, d_notes = fit_quietly(dm, self.name)
        notes += [f"common: {n}" for n in c_notes] + [f"deviation: {n}" for n in d_notes]
        if dropped:
            notes.append(f"{dropped} increment(s) over a gap or outside the panel's years not used")
        lead = last - (pf.first_year + covered[-1])
        if lead:
            notes.append(f"{lead} year(s) after the panel's last: the common increment is "
                         "simulated from the panel's last year")
        a_now = float(d_res.filtered_state[0, -1]) * d_scale
        summary = {"panel": self.panel.describe(), "n_regions": len(pf.regions),
                   "regions": list(pf.regions), "prior_deviation": alpha,
                   "prior_deviation_sd": float(np.sqrt(tau2)), "deviation_now": a_now,
                   "common_increment": c_loc + c_scale * float(c_res.filtered_state[0, -1])}
        return FittedPooledStateSpace(float(y[-1]), cm, np.asarray(c_res.params), c_loc, c_scale,
                                      lead, dm, np.asarray(d_res.params), d_scale, summary,
                                      name=self.name, notes=notes)
