"""The one interface every trajectory model implements.

A model is fitted to an annual series *on its modelling scale* (already log- or
logit-transformed by :mod:`forecast.transforms`) and then simulates future paths
on that same scale. Years may have gaps: ``years`` is strictly increasing but not
necessarily consecutive, and each family states in its docstring what it does
with a gap (state-space models skip the update; the others use the actual
spacing between observations). Nothing is interpolated silently.

Parameter uncertainty is part of every ``simulate``: each path draws its own
parameters (posterior, bootstrap or estimated-covariance draw) before drawing
its future shocks, because with 10-25 annual points the uncertainty about the
drift dominates the uncertainty about next year's shock.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from scipy import stats


#: posterior quantile at which a volatility draw is capped (see :func:`variance_draws`)
VARIANCE_CAP_QUANTILE = 0.99


def variance_draws(sum_sq: np.ndarray | float, df: int, size: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Posterior draws of a variance, ``sigma^2 = sum_sq / chi2_df``, capped at the posterior's
    :data:`VARIANCE_CAP_QUANTILE` quantile.

    Why the cap: the scaled-inverse-chi2 posterior with few degrees of freedom makes the
    log-scale predictive a Student t, and ``exp`` of a Student t has no finite mean -- a
    single path can then be astronomically large, and the CRPS on the published scale (which
    needs a finite mean) is undefined. Capping the top 1% of volatility draws at the 99th
    percentile keeps every moment finite while leaving the 80% and 95% intervals, which rest
    on the bulk of the posterior, as they were.
    """
    chi2 = rng.chisquare(df, size=size)
    return np.asarray(sum_sq) / np.maximum(chi2, stats.chi2.ppf(1 - VARIANCE_CAP_QUANTILE, df))


class ModelFailure(Exception):
    """A model cannot be fitted or simulated on this series; the message says why.

    The ensemble catches it and reports the model as dropped with this reason.
    """


@dataclass(frozen=True)
class Series:
    """An annual series on the modelling scale: strictly increasing integer years
    (gaps allowed) and finite values of the same length.

    ``transform`` (a :class:`forecast.transforms.Transform`, or None when the values are the
    published ones) says how the values were made from the published scale; families that
    model the published level (:mod:`forecast.models.level`) need it, and every sub-series
    (backtest origins, the run after a gap) keeps it (:meth:`head`, :meth:`tail`).
    """

    years: np.ndarray
    values: np.ndarray
    transform: object | None = None

    def __post_init__(self) -> None:
        years = np.asarray(self.years)
        values = np.asarray(self.values, dtype=float)
        if years.ndim != 1 or years.shape != values.shape:
            raise ValueError("years and values must be 1-d arrays of equal length")
        if len(years) and (np.any(np.diff(years) <= 0)):
            raise ValueError("years must be strictly increasing")
        if not np.all(np.isfinite(values)):
            raise ValueError("values must be finite (drop missing years instead of passing NaN)")
        object.__setattr__(self, "years", years.astype(int))
        object.__setattr__(self, "values", values)

    def head(self, n: int) -> "Series":
        """The first ``n`` observations (same transform)."""
        return Series(self.years[:n], self.values[:n], self.transform)

    def tail(self, start: int) -> "Series":
        """The observations from position ``start`` on (same transform)."""
        return Series(self.years[start:], self.values[start:], self.transform)

    @property
    def last_year(self) -> int:
        return int(self.years[-1])

    def __len__(self) -> int:
        return len(self.years)


class FittedModel(ABC):
    """A model fitted to one series, able to simulate future paths.

    ``notes`` lists what a reader of the result should know about this fit
    (order chosen, sub-series used because of a gap, optimiser warnings, ...);
    it is empty when there is nothing to say.
    """

    name: str
    notes: list[str]

    @abstractmethod
    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        """Simulate ``n_paths`` paths for the ``horizon`` years after the last observed
        year (``last_year + 1 ... last_year + horizon``), on the modelling scale.

        Returns an array of shape ``(n_paths, horizon)``; all randomness comes from
        ``rng`` so the same generator state gives identical paths.
        """


class Model(ABC):
    """A model family: configuration only; ``fit`` returns a :class:`FittedModel`."""

    name: str
    #: fewest observations the family needs; below it ``fit`` raises ModelFailure
    min_points: int = 5

    @abstractmethod
    def fit(self, series: Series) -> FittedModel:
        """Fit to ``series`` (modelling scale). Raises :class:`ModelFailure` with a
        reason when the series is too short, degenerate, or the optimiser fails."""

    def _check_length(self, series: Series) -> None:
        if len(series) < self.min_points:
            raise ModelFailure(
                f"{self.name} needs at least {self.min_points} observations, got {len(series)}"
            )

    def _check_series(self, series: Series) -> None:
        """Length check plus a constant-series check (no variation to learn from)."""
        self._check_length(series)
        if np.ptp(series.values) == 0.0:
            raise ModelFailure(f"{self.name}: series is constant, nothing to extrapolate")
