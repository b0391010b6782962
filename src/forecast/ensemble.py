"""The ensemble: a mixture of the models' path sets, weighted by backtest scores.

Weights come from a rolling-origin backtest on the series itself: each model's weight is
proportional to the inverse of its mean CRPS (lower CRPS = sharper and better calibrated
forecasts), once every model has at least :data:`MIN_SCORED` scored forecasts; with less
history all surviving models get equal weights. The weights, their basis and every model
that dropped out (with its reason) are part of the result.

:class:`Ensemble` is itself a :class:`~forecast.models.base.Model`, so it can be backtested
like any family: that is how the calibration of the ensemble (not only of its members) is
measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .backtest import rolling_origin
from .models import get_model
from .models.base import FittedModel, Model, ModelFailure, Series

MIN_SCORED = 6  # scored (origin, year) pairs per model before scores may set the weights


def allocate_paths(weights: dict[str, float], n_paths: int) -> dict[str, int]:
    """Split ``n_paths`` among models in proportion to ``weights`` (largest remainders), so
    the mixture has exactly ``n_paths`` paths and the split is deterministic."""
    names = list(weights)
    raw = np.array([weights[n] for n in names], dtype=float) * n_paths
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n_paths - counts.sum()]:
        counts[i] += 1
    return dict(zip(names, counts.tolist()))


@dataclass
class FittedEnsemble(FittedModel):
    members: dict[str, FittedModel]
    weights: dict[str, float]
    dropped: dict[str, str] = field(default_factory=dict)
    name: str = "ensemble"

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return np.concatenate(list(self.simulate_members(horizon, n_paths, rng).values()))

    def simulate_members(self, horizon: int, n_paths: int, rng: np.random.Generator
                         ) -> dict[str, np.ndarray]:
        """Each member's share of the mixture's paths; one child generator per member (in
        a fixed order) so that adding a path to one model does not shift the others."""
        counts = allocate_paths(self.weights, n_paths)
        children = rng.spawn(len(self.members))
        return {name: self.members[name].simulate(horizon, counts[name], child)
                for child, name in zip(children, self.members) if counts[name] > 0}


@dataclass
class Ensemble(Model):
    """Mixture of ``model_names`` with fixed ``weights`` (None: equal weights)."""

    model_names: tuple[str, ...]
    weights: dict[str, float] | None = None
    name: str = "ensemble"
    min_points: int = 3

    def fit(self, series: Series) -> FittedEnsemble:
        members, dropped = {}, {}
        for name in self.model_names:
            if self.weights is not None and self.weights.get(name, 0.0) <= 0:
                dropped[name] = "weight 0 (not validated by the backtest)"
                continue
            try:
                members[name] = get_model(name).fit(series)
            except ModelFailure as exc:
                dropped[name] = str(exc)
        if not members:
            raise ModelFailure("every model failed: " + "; ".join(f"{k}: {v}" for k, v in dropped.items()))
        base = self.weights or {name: 1.0 for name in members}
        total = sum(base.get(name, 0.0) for name in members)
        if total <= 0:
            raise ModelFailure("no surviving model has a positive weight")
        weights = {name: base.get(name, 0.0) / total for name in members}
        return FittedEnsemble(members, weights, dropped)


@dataclass
class Weighting:
    """The weights of the ensemble and what they rest on."""

    weights: dict[str, float]
    basis: str  # "inverse mean CRPS of a rolling-origin backtest" | "equal (...)"
    scores: dict[str, dict]  # per model: backtest summary (mean CRPS, coverage, n)
    failures: dict[str, list] = field(default_factory=dict)


def backtest_weights(series: Series, model_names: tuple[str, ...], *, horizon: int,
                     min_train: int, n_paths: int, seed: int) -> Weighting:
    """Weights from each model's rolling-origin backtest on ``series`` (see module doc)."""
    scores, failures = {}, {}
    for name in model_names:
        result = rolling_origin(series, get_model(name), horizon=horizon, min_train=min_train,
                                n_paths=n_paths, seed=seed)
        scores[name] = result.summary()
        if result.failures:
            failures[name] = [list(f) for f in result.failures]
    scored = {n: s for n, s in scores.items()
              if s.get("n_forecasts", 0) >= MIN_SCORED and np.isfinite(s.get("crps", np.nan))}
    if len(scored) >= 2:
        # A model the backtest could not score (it failed at most origins, e.g. ETS on a
        # series with gaps) cannot be validated, so it gets no weight rather than a guess.
        inverse = {n: 1.0 / max(s["crps"], 1e-12) for n, s in scored.items()}
        total = sum(inverse.values())
        weights = {n: inverse.get(n, 0.0) / total for n in model_names}
        unscored = [n for n in model_names if n not in scored]
        basis = "inverse mean CRPS of a rolling-origin backtest" + (
            f"; weight 0 for {', '.join(unscored)} (fewer than {MIN_SCORED} scored forecasts)"
            if unscored else "")
        return Weighting(weights, basis, scores, failures)
    return Weighting({n: 1.0 / len(model_names) for n in model_names},
                     f"equal: fewer than two models with {MIN_SCORED} scored backtest forecasts",
                     scores, failures)
