"""Modelling scales: models work on log (levels growing multiplicatively), logit within the
registry's bounds (shares and rates) or the identity; paths are back-transformed, so a
simulated share can never leave its bounds and a level never turns negative."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .targets import Indicator

# A share observed exactly at a bound (a 100% pass rate) has no logit; it is moved this
# fraction of the range inside, which the back-transform maps to within rounding of the bound.
_EDGE = 1e-6


@dataclass(frozen=True)
class Transform:
    """Forward and inverse map between the indicator's unit and its modelling scale."""

    scale: str
    bounds: tuple[float, float] | None = None

    @classmethod
    def for_indicator(cls, indicator: Indicator) -> "Transform":
        return cls(indicator.scale, indicator.bounds)

    def forward(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.scale == "log":
            if np.any(x <= 0):
                raise ValueError("log scale needs positive values")
            return np.log(x)
        if self.scale == "logit":
            lo, hi = self.bounds
            width = hi - lo
            p = np.clip((x - lo) / width, _EDGE, 1 - _EDGE)
            return np.log(p) - np.log1p(-p)
        return x.copy()

    def forward_censored(self, x, floor: float) -> np.ndarray:
        """:meth:`forward` of values that may lie outside the scale's domain (paths of a model
        of the published level): on the log scale a level below the positive ``floor`` is
        censored at the floor, a share beyond its bounds at the bound (as :meth:`forward`
        already does). Only for simulated paths, never for data."""
        x = np.asarray(x, dtype=float)
        if self.scale == "log":
            return np.log(np.maximum(x, floor))
        return self.forward(x)

    def inverse(self, z) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if self.scale == "log":
            return np.exp(np.clip(z, -700, 700))
        if self.scale == "logit":
            lo, hi = self.bounds
            return lo + (hi - lo) / (1.0 + np.exp(-np.clip(z, -700, 700)))
        return z.copy()
