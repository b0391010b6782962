"""Proper scoring rules and point/interval accuracy measures.

Each function is small, pure and vectorised: the last axis of ``samples`` (or of a
horizon-indexed array, for the M4 measures) is the ensemble / horizon axis and
every leading axis is broadcast. Lower is better for every score except the PIT,
which is not a score but a calibration diagnostic (uniform on [0, 1] when the
forecasts are calibrated).

Conventions follow properscoring / scoringrules for the probabilistic scores and
the M4 competition for sMAPE, MASE and MSIS.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

_INV_SQRT_PI = 1.0 / np.sqrt(np.pi)


# --------------------------------------------------------------------------- CRPS


def crps_samples(samples: ArrayLike, obs: ArrayLike, *, fair: bool = False) -> np.ndarray:
    """Continuous ranked probability score of an ensemble forecast.

    The CRPS is the integral of the squared difference between the forecast CDF and
    the step function of the observation; it is in the units of the data, equals the
    absolute error for a point forecast, and is zero only for a point forecast that
    hits the observation exactly. Lower is better.

    Parameters
    ----------
    samples : array (..., m)
        Ensemble members (simulated paths at one horizon) along the last axis.
    obs : array (...)
        Observations, broadcastable to ``samples.shape[:-1]``.
    fair : bool
        ``False`` (default): the CRPS *of the empirical distribution of the samples*,
        ``E|X - y| - 0.5 E|X - X'|`` with the ``1/m**2`` (V-statistic) pair average.
        It is what the simulated ensemble actually claims, it is >= 0 and zero iff
        every sample equals ``obs``. Its expectation exceeds the CRPS of the model's
        underlying continuous distribution by ``0.5 E|X - X'| / m``; with the
        thousands of paths used in backtests this is negligible (<0.03% of sigma
        for m = 2000 Gaussian paths).
        ``True``: the "fair" (unbiased) estimator with ``1/(m (m - 1))``, i.e. an
        unbiased estimate of the CRPS of the underlying distribution; use it to
        compare ensembles of small or unequal size. It can be zero even when the
        samples do not all equal ``obs`` (e.g. samples {-1, 1}, obs 0).

    Notes
    -----
    With the samples sorted, ``sum_{i,j} |x_i - x_j| = 2 sum_i (2 i - m - 1) x_(i)``
    (1-based ``i``), so the score costs O(m log m) instead of O(m**2).
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(obs, dtype=float)
    m = x.shape[-1]
    if m == 0:
        raise ValueError("crps_samples needs at least one sample")
    if fair and m < 2:
        raise ValueError("the fair CRPS needs at least two samples")
    # Centre on the observation: E|X-X'| is translation invariant, and a sample equal
    # to obs becomes an exact 0.0, so "all samples equal obs" gives exactly 0.
    d = np.sort(x - y[..., None], axis=-1)
    abs_term = np.mean(np.abs(d), axis=-1)
    weights = 2.0 * np.arange(1, m + 1) - m - 1  # (2i - m - 1)
    pair_sum = 2.0 * np.sum(weights * d, axis=-1)  # sum over all ordered pairs |x_i - x_j|
    n_pairs = m * (m - 1) if fair else m * m
    return abs_term - 0.5 * pair_sum / n_pairs


def crps_gaussian(mu: ArrayLike, sigma: ArrayLike, obs: ArrayLike) -> np.ndarray:
    """CRPS of a normal forecast N(mu, sigma**2) for observation ``obs`` (closed form).

    In the units of the data; for a well-centred forecast it is about
    ``0.234 * sigma`` (sharp forecasts score lower) and grows like ``|obs - mu|`` for
    a badly biased one. ``sigma == 0`` gives the absolute error ``|obs - mu|``.

    Notes
    -----
    ``CRPS = sigma * (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi))``, ``z = (obs - mu) / sigma``
    (Gneiting & Raftery 2007).
    """
    mu, sigma, y = np.broadcast_arrays(
        np.asarray(mu, dtype=float), np.asarray(sigma, dtype=float), np.asarray(obs, dtype=float)
    )
    if np.any(sigma < 0):
        raise ValueError("sigma must be non-negative")
    degenerate = sigma == 0
    # Avoid 0/0 for point-mass forecasts; their score is filled in below.
    s = np.where(degenerate, 1.0, sigma)
    z = (y - mu) / s
    crps = s * (z * (2.0 * stats.norm.cdf(z) - 1.0) + 2.0 * stats.norm.pdf(z) - _INV_SQRT_PI)
    return np.where(degenerate, np.abs(y - mu), crps)


def pinball(quantiles: ArrayLike, levels: ArrayLike, obs: ArrayLike) -> np.ndarray:
    """Pinball (quantile) loss of each quantile forecast, shape (..., K).

    ``(1{y < q} - tau) (q - y)``: the loss a forecaster minimises in expectation by
    reporting the true ``tau``-quantile. In the units of the data.
    """
    q = np.asarray(quantiles, dtype=float)
    tau = np.asarray(levels, dtype=float)
    y = np.asarray(obs, dtype=float)[..., None]
    return ((y < q).astype(float) - tau) * (q - y)


def crps_quantiles(quantiles: ArrayLike, levels: ArrayLike, obs: ArrayLike) -> np.ndarray:
    """Approximate CRPS from a set of predictive quantiles: ``2 * mean`` pinball loss.

    Because ``CRPS = 2 * integral_0^1 pinball_tau(y, F^-1(tau)) d tau``, averaging the
    pinball loss over levels spread evenly over (0, 1) (e.g. midpoints
    ``(k - 0.5) / K``) and doubling approximates the CRPS in the units of the data;
    for a Gaussian forecast 20 levels are within about 1% of the exact value and
    100 levels within 0.1%. Use it for anchors
    that publish only quantiles or intervals. With few levels (say only the ends of
    an 80% and a 95% interval) it is a coarse proxy that is comparable only between
    forecasts scored on the *same* levels, not with :func:`crps_samples`.

    Parameters
    ----------
    quantiles : array (..., K)
        Predictive quantiles at ``levels`` along the last axis.
    levels : array (K,)
        Quantile levels in (0, 1).
    obs : array (...)
    """
    tau = np.asarray(levels, dtype=float)
    if np.any((tau <= 0) | (tau >= 1)):
        raise ValueError("quantile levels must lie strictly inside (0, 1)")
    return 2.0 * np.mean(pinball(quantiles, tau, obs), axis=-1)


# ------------------------------------------------------- intervals and calibration


def interval_bounds(samples: ArrayLike, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` prediction interval of an ensemble: the empirical
    ``(1 - level)/2`` and ``(1 + level)/2`` quantiles along the last axis
    (numpy's default linear interpolation). Returns ``(lower, upper)``, shape (...)."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x = np.asarray(samples, dtype=float)
    lower, upper = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], axis=-1)
    return lower, upper


def interval_coverage(samples: ArrayLike, obs: ArrayLike, level: float) -> np.ndarray:
    """Whether ``obs`` falls inside the central ``level`` interval of the ensemble
    (bounds included). Boolean, shape (...); its mean over many forecasts is the
    empirical coverage, which should be close to ``level`` for calibrated forecasts."""
    lower, upper = interval_bounds(samples, level)
    y = np.asarray(obs, dtype=float)
    return (lower <= y) & (y <= upper)


def pit(
    samples: ArrayLike, obs: ArrayLike, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Probability integral transform of ``obs`` under the ensemble: the forecast's
    probability of a value below the observation, shape (...).

    For calibrated forecasts PIT values are uniform on [0, 1]; a U-shaped histogram
    means intervals too narrow (over-confidence), a hump means too wide, a slope
    means bias. Samples tied with ``obs`` (discrete or degenerate ensembles) count
    one half each by default (the mid-PIT); pass ``rng`` to count a uniform random
    fraction of them instead, which makes the PIT exactly uniform under calibration
    even with ties.
    """
    x = np.asarray(samples, dtype=float)
    y = np.asarray(obs, dtype=float)[..., None]
    below = np.mean(x < y, axis=-1)
    tied = np.mean(x == y, axis=-1)
    u = 0.5 if rng is None else rng.uniform(size=np.shape(below))
    return below + u * tied


def brier(prob: ArrayLike, outcome: ArrayLike) -> np.ndarray:
    """Brier score ``(prob - outcome)**2`` of a probability forecast of a binary event.

    0 is a certain forecast that came true, 1 a certain forecast that did not, and
    always saying 0.5 scores 0.25. Elementwise; average it over forecasts.
    """
    p = np.asarray(prob, dtype=float)
    o = np.asarray(outcome, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    if np.any((o != 0) & (o != 1)):
        raise ValueError("outcomes must be 0/1 (or booleans)")
    return (p - o) ** 2


# --------------------------------------------------------- M4 accuracy measures


def _insample_scale(insample: ArrayLike, m: int) -> np.ndarray:
    """Mean absolute lag-``m`` difference of the in-sample series (the naive
    seasonal forecast's in-sample error), the MASE/MSIS denominator."""
    x = np.asarray(insample, dtype=float)
    if x.shape[-1] <= m:
        raise ValueError(f"need more than m={m} in-sample values to scale, got {x.shape[-1]}")
    scale = np.mean(np.abs(x[..., m:] - x[..., :-m]), axis=-1)
    if np.any(scale == 0):
        raise ValueError("in-sample series is constant at lag m: MASE/MSIS are undefined")
    return scale


def smape(forecast: ArrayLike, obs: ArrayLike) -> np.ndarray:
    """Symmetric MAPE in percent (M4): mean over the last (horizon) axis of
    ``200 |y - f| / (|y| + |f|)``. Ranges 0-200; a forecast twice too high scores
    66.7 at that horizon. A term with ``y == f == 0`` counts as 0 (a perfect forecast)."""
    f = np.asarray(forecast, dtype=float)
    y = np.asarray(obs, dtype=float)
    num = 200.0 * np.abs(y - f)
    den = np.abs(y) + np.abs(f)
    terms = np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)
    return np.mean(terms, axis=-1)


def mase(forecast: ArrayLike, obs: ArrayLike, insample: ArrayLike, m: int = 1) -> np.ndarray:
    """Mean absolute scaled error (M4): mean absolute error over the last (horizon)
    axis divided by the in-sample mean absolute lag-``m`` difference (``m = 1`` for
    yearly data). Below 1 means the forecast beats the in-sample one-step naive error."""
    f = np.asarray(forecast, dtype=float)
    y = np.asarray(obs, dtype=float)
    return np.mean(np.abs(y - f), axis=-1) / _insample_scale(insample, m)


def msis(
    lower: ArrayLike,
    upper: ArrayLike,
    obs: ArrayLike,
    insample: ArrayLike,
    level: float = 0.95,
    m: int = 1,
) -> np.ndarray:
    """Mean scaled interval score (M4) of central ``level`` intervals.

    Mean over the last (horizon) axis of the interval width plus ``2/alpha`` times
    the distance by which ``obs`` falls outside it (``alpha = 1 - level``), scaled
    like MASE. Rewards narrow intervals but punishes misses heavily (by 40x the miss
    distance at 95%); lower is better.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    alpha = 1.0 - level
    lo = np.asarray(lower, dtype=float)
    up = np.asarray(upper, dtype=float)
    y = np.asarray(obs, dtype=float)
    score = (
        (up - lo)
        + (2.0 / alpha) * (lo - y) * (y < lo)
        + (2.0 / alpha) * (y - up) * (y > up)
    )
    return np.mean(score, axis=-1) / _insample_scale(insample, m)
