"""A region projected relative to its parent (a city to its province, a province to its
country): the parent's own forecast plus the region's gap to it.

bayesTFR's subnational projections (Ševčíková et al. 2018) project a region's fertility as
its country's times a region-specific ratio; here the modelling-scale *difference* (log or
logit: a ratio of levels or of odds) between the region and its parent is a random walk with
drift, and the parent's series -- complete where the region's has gaps, and informed by its
own history -- is forecast by a model of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import FittedModel, Model, ModelFailure, Series
from .rw_drift import RWDrift


@dataclass
class FittedParentRelative(FittedModel):
    """The parent's fit and the gap's fit, both ending in the series' last year."""

    parent_fit: FittedModel
    relative_fit: FittedModel
    summary: dict
    name: str = "parent_relative"
    notes: list[str] = field(default_factory=list)

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        p_rng, r_rng = rng.spawn(2)
        # both start in the series' last year T: z_{T+h} = p_{T+h} + g_{T+h}, g_T = z_T - p_T
        return (self.parent_fit.simulate(horizon, n_paths, p_rng)
                + self.relative_fit.simulate(horizon, n_paths, r_rng))


class ParentRelative(Model):
    """The region's series as its parent's plus a drifting gap, on the modelling scale.

    Parameters
    ----------
    parent : Series
        The parent's whole series on the same modelling scale (Zhejiang's R&D intensity for
        Hangzhou's, China's for a province's). ``fit`` uses only its years up to the fitted
        series' last year.
    parent_model : Model, optional
        The family that forecasts the parent (default :class:`~forecast.models.rw_drift.RWDrift`;
        a pooled family with the parent's own panel is a natural alternative).
    relative_model : Model, optional
        The family of the gap (default RWDrift, on years where both are observed).
    min_overlap : int
        Fewest years in which both the region and its parent are observed (default 5).
    name : str
        Name in the ensemble and in the output.

    Notes
    -----
    ``g_t = z_t - p_t`` (region minus parent, on years both have a value) is fitted by
    ``relative_model``; ``p`` by ``parent_model`` on the parent's values up to the region's last
    year ``T``. Paths: ``z_{T+h} = p_{T+h} + g_{T+h}``, with the two simulated independently
    (the parent's shocks and the gap's are taken as uncorrelated; the gap absorbs whatever of
    the region's shocks the parent does not share). Gaps: those of ``g`` are handled by
    ``relative_model`` (RWDrift: an increment over ``k`` years counts as ``k`` yearly steps).
    Raises :class:`ModelFailure` when the parent has no value in ``T`` (the gap at ``T`` is then
    unknown), the two overlap in fewer than ``min_overlap`` years, or a component fails.
    """

    name = "parent_relative"
    min_points = 5

    def __init__(self, parent: Series, *, parent_model: Model | None = None,
                 relative_model: Model | None = None, min_overlap: int = 5,
                 parent_name: str = "parent", name: str | None = None) -> None:
        self.parent = parent
        self.parent_model = parent_model or RWDrift()
        self.relative_model = relative_model or RWDrift()
        self.min_overlap = min_overlap
        self.parent_name = parent_name
        if name is not None:
            self.name = name

    def fit(self, series: Series) -> FittedParentRelative:
        self._check_length(series)
        last = series.last_year
        n = int(np.searchsorted(self.parent.years, last, side="right"))
        parent = self.parent.head(n)
        if n == 0 or parent.last_year != last:
            raise ModelFailure(f"{self.name}: {self.parent_name} has no value in {last}, so the "
                               "gap to it there is unknown")
        common, i, j = np.intersect1d(series.years, parent.years, return_indices=True)
        if len(common) < self.min_overlap:
            raise ModelFailure(f"{self.name}: {self.parent_name} and the series share {len(common)} "
                               f"years, fewer than {self.min_overlap}")
        gap = Series(common, series.values[i] - parent.values[j])
        try:
            parent_fit = self.parent_model.fit(parent)
            relative_fit = self.relative_model.fit(gap)
        except ModelFailure as exc:
            raise ModelFailure(f"{self.name}: {exc}") from exc
        notes = [f"relative to {self.parent_name} ({len(common)} common years)"]
        notes += [f"{self.parent_name}: {x}" for x in parent_fit.notes]
        notes += [f"gap: {x}" for x in relative_fit.notes]
        summary = {"parent": self.parent_name, "common_years": int(len(common)),
                   "gap_now": float(gap.values[-1])}
        return FittedParentRelative(parent_fit, relative_fit, summary, name=self.name, notes=notes)
