"""A family fitted to the published level instead of the modelling scale.

On the log scale a drift is a constant *growth rate*, so extrapolating a series whose growth
has been slowing (most long yearly series, and Hangzhou's GDP) overshoots; on the published
level the same family extrapolates a constant *increment*, which slows the growth rate. Which
one fits a series better is an empirical question, so the ensemble can hold both versions of a
family and let each series' own backtest weigh them (:func:`forecast.ensemble.backtest_weights`).

:class:`OnLevel` wraps a family: it fits it to ``series.transform.inverse(values)`` and maps
the simulated level paths back to the modelling scale with
:meth:`forecast.transforms.Transform.forward_censored`, so the ensemble still mixes paths on one
scale. A level model can cross zero (or a share's bounds): such paths are censored at the
edge of the domain (a level at ~0, a share at its bound), never dropped, so the path count and
every path's place in joint events are kept. On a series already modelled on its published scale
(no ``transform``, or the identity) the level version *is* the family, so it refuses to fit
(:class:`ModelFailure`) rather than enter the ensemble twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import FittedModel, Model, ModelFailure, Series

#: suffix of the names of the level versions of the families (``rw_drift_level``, ...)
LEVEL_SUFFIX = "_level"
#: on the log scale a level path at or below zero is censored at this fraction of the lowest
#: observed level: ~13.8 below it on the log scale, ~0 for any target or event, and not so far
#: that one censored path dominates a CRPS scored on the modelling scale
CENSOR_FRACTION = 1e-6


@dataclass
class FittedOnLevel(FittedModel):
    inner: FittedModel
    transform: object
    floor: float
    name: str = ""
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return self.transform.forward_censored(self.inner.simulate(horizon, n_paths, rng),
                                               self.floor)


class OnLevel(Model):
    """``base`` fitted to the published level of the series (see the module doc)."""

    def __init__(self, base: Model):
        self.base = base
        self.name = base.name + LEVEL_SUFFIX
        self.min_points = base.min_points

    def fit(self, series: Series) -> FittedOnLevel:
        transform = series.transform
        if transform is None or transform.scale == "identity":
            raise ModelFailure(f"{self.name}: the series is modelled on its published scale "
                               f"already, where this is {self.base.name} itself")
        level = Series(series.years, transform.inverse(series.values))
        try:
            inner = self.base.fit(level)
        except ModelFailure as exc:  # say which version failed: the ensemble reports it by name
            reason = str(exc).removeprefix(f"{self.base.name}: ")
            raise ModelFailure(f"{self.name}: {reason}") from None
        notes = [*inner.notes, "fitted to the published level, paths mapped to the modelling scale"]
        floor = CENSOR_FRACTION * float(np.min(level.values))
        return FittedOnLevel(inner, transform, floor, name=self.name, notes=notes)
