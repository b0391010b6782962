"""Prophet on annual data (piecewise-linear trend, no seasonality)."""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .base import FittedModel, Model, ModelFailure, Series


def _dates(years: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime([f"{int(t)}-01-01" for t in years]))


@contextlib.contextmanager
def _seeded_global_numpy(rng: np.random.Generator) -> Iterator[None]:
    """Prophet samples with numpy's *global* RNG: seed it from ``rng`` and restore the
    previous global state afterwards, so callers see no hidden global side effect."""
    state = np.random.get_state()
    np.random.seed(int(rng.integers(2**32 - 1)))
    try:
        yield
    finally:
        np.random.set_state(state)


def _quiet_stan_logging() -> None:
    """Silence Stan's per-fit INFO lines and Prophet's plotly notice (errors still show)."""
    logging.getLogger("prophet").setLevel(logging.ERROR)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "Importing plotly failed"
    from cmdstanpy.utils import get_logger

    get_logger().setLevel(logging.ERROR)  # get_logger() resets the level on its first call


@dataclass
class FittedProphet(FittedModel):
    """A MAP-fitted Prophet model; see :class:`ProphetModel`."""

    model: Any
    last_year: int
    name: str = "prophet"
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        future = pd.DataFrame({"ds": _dates(np.arange(1, horizon + 1) + self.last_year)})
        # one vectorised call draws all paths; uncertainty_samples sets how many
        self.model.uncertainty_samples = n_paths
        try:
            with _seeded_global_numpy(rng):
                samples = self.model.predictive_samples(future)
        except Exception as exc:
            raise ModelFailure(f"prophet: sampling failed ({type(exc).__name__}: {exc})") from exc
        paths = np.asarray(samples["yhat"], dtype=float).T  # (horizon, n) -> (n, horizon)
        if paths.shape != (n_paths, horizon) or not np.all(np.isfinite(paths)):
            raise ModelFailure("prophet: predictive samples have the wrong shape or are not finite")
        return paths


class ProphetModel(Model):
    """Prophet with a piecewise-linear trend, all seasonalities off, MAP fit.

    Gaps: Prophet regresses on dates, so missing years are simply absent
    (dates are ``YYYY-01-01``); nothing is interpolated.

    Parameter uncertainty: with ``mcmc_samples=0`` the trend slope, offset and noise
    scale are fixed at their MAP values; Prophet's predictive samples add future
    trend changes (changepoints at the historical rate, Laplace magnitudes with the
    fitted scale) and Gaussian observation noise. This does *not* include estimation
    uncertainty of the current slope, which is why Prophet intervals are known to be
    too narrow on short annual series (49% coverage of the 95% interval on M3 yearly).

    Notes
    -----
    ``y(t) = (k + a(t)' delta) t + (m + a(t)' gamma) + eps_t``; future changepoints
    arrive at the historical rate with ``delta ~ Laplace(0, mean |delta_hat|)``.
    Sampling uses numpy's global RNG, which is seeded from the ``rng`` passed to
    :meth:`FittedProphet.simulate` and restored afterwards.
    """

    name = "prophet"
    min_points = 8

    def __init__(self, changepoint_prior_scale: float = 0.05) -> None:
        self.changepoint_prior_scale = changepoint_prior_scale

    def fit(self, series: Series) -> FittedProphet:
        self._check_series(series)
        _quiet_stan_logging()
        from prophet import Prophet  # slow import (Stan backend), only when used
        df = pd.DataFrame({"ds": _dates(series.years), "y": series.values})
        model = Prophet(
            growth="linear",
            yearly_seasonality=False,
            weekly_seasonality=False,
            daily_seasonality=False,
            changepoint_prior_scale=self.changepoint_prior_scale,
            mcmc_samples=0,
        )
        try:
            model.fit(df)
        except Exception as exc:
            raise ModelFailure(f"prophet: fit failed ({type(exc).__name__}: {exc})") from exc
        notes = ["MAP fit: slope/level estimation uncertainty not propagated"]
        if np.any(np.diff(series.years) > 1):
            notes.append("gaps in years: missing dates simply absent from the regression")
        return FittedProphet(model=model, last_year=series.last_year, notes=notes)
