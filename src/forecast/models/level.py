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
every path's place in joint events are kept. A series without a ``transform`` is taken to be
on its published scale already, and the wrapper is then the family itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import FittedModel, Model, ModelFailure, Series

#: suffix of the names of the level versions of the families (``rw_drift_level``, ...)
LEVEL_SUFFIX = "_level"


@dataclass
class FittedOnLevel(FittedModel):
    inner: FittedModel
    transform: object | None
    name: str = ""
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        level = self.inner.simulate(horizon, n_paths, rng)
        if self.transform is None:
            return level
        return self.transform.forward_censored(level)


class OnLevel(Model):
    """``base`` fitted to the published level of the series (see the module doc)."""

    def __init__(self, base: Model):
        self.base = base
        self.name = base.name + LEVEL_SUFFIX
        self.min_points = base.min_points

    def fit(self, series: Series) -> FittedOnLevel:
        transform = series.transform
        level = series if transform is None else Series(
            series.years, transform.inverse(series.values))
        try:
            inner = self.base.fit(level)
        except ModelFailure as exc:  # say which version failed: the ensemble reports it by name
            raise ModelFailure(f"{self.name}: {exc}") from None
        notes = [*inner.notes, "fitted to the published level, paths mapped to the modelling scale"]
        return FittedOnLevel(inner, transform, name=self.name, notes=notes)
