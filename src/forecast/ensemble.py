"""The ensemble: a mixture of the models' path sets, weighted by backtest scores.

Weights come from a rolling-origin backtest on the series itself: each model's weight is
proportional to the inverse of its mean CRPS on the published scale (lower CRPS = sharper and
better calibrated forecasts), once every model has at least :data:`MIN_SCORED` scored forecasts; with less
history all surviving models get equal weights. The weights, their basis and every model
that dropped out (with its reason) are part of the result.

:class:`Ensemble` is itself a :class:`~forecast.models.base.Model`, so it can be backtested
like any family: that is how the calibration of the ensemble (not only of its members) is
measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .backtest import BacktestResult, rolling_origin, score_paths
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


@dataclass(frozen=True)
class Calibration:
    """Empirical re-centring and widening (or narrowing) of the mixture, per horizon.

    ``centre[h-1]`` is the quantile level of the mixture at horizon ``h`` that becomes
    the new median (0.5: no shift); ``levels`` are central interval levels (increasing,
    e.g. 0.5, 0.8, 0.95, 0.99); ``upper[h-1][j]`` / ``lower[h-1][j]`` multiply the
    distance from the mixture's median to the upper / lower end of its ``levels[j]``
    interval at horizon ``h``. Horizons beyond the table use its last row. See
    :func:`calibrate_paths`; ``source`` says where the numbers were learned.
    """

    levels: tuple[float, ...]
    upper: tuple[tuple[float, ...], ...]
    lower: tuple[tuple[float, ...], ...]
    centre: tuple[float, ...] | None = None
    source: str = ""

    def factors(self, h: int) -> tuple[np.ndarray, np.ndarray, float]:
        i = min(h, len(self.upper)) - 1
        centre = 0.5 if self.centre is None else self.centre[min(h, len(self.centre)) - 1]
        return np.asarray(self.upper[i], float), np.asarray(self.lower[i], float), float(centre)


def calibrate_paths(paths: np.ndarray, calibration: Calibration | None) -> np.ndarray:
    """Apply ``calibration`` to a path set ``(n_paths, horizon)`` (modelling scale).

    At each horizon ``h``, with ``m`` the mixture's median and ``c`` its quantile at level
    ``centre[h-1]``, a path whose value ``x`` lies at empirical rank ``u`` above (below) the
    median, i.e. at the edge of the central interval of level ``l = |2u - 1|``, is moved to
    ``c + k(l) (x - m)``, ``k`` the upper (lower) factor interpolated linearly in ``l``
    between the calibration's levels (constant below the first and beyond the last). The
    result is made monotone in the original order (a running maximum over the sorted
    values), so every path keeps its rank at every horizon: the dependence across years --
    what joint and "by year T" probabilities rest on -- is unchanged. With all factors 1
    and no centre shift the paths are returned unchanged (up to rounding).
    """
    if calibration is None:
        return paths
    out = np.array(paths, dtype=float, copy=True)
    n, horizon = out.shape
    if n < 2:
        return out
    lv = np.asarray(calibration.levels, float)
    u = (np.arange(n) + 0.5) / n  # rank levels of the sorted values
    ell = np.abs(2.0 * u - 1.0)
    up_side = u >= 0.5
    for h in range(1, horizon + 1):
        k_up, k_lo, centre = calibration.factors(h)
        k = np.where(up_side, np.interp(ell, lv, k_up), np.interp(ell, lv, k_lo))
        order = np.argsort(out[:, h - 1], kind="stable")
        x = out[order, h - 1]
        med = np.median(x)
        c = med if centre == 0.5 else np.quantile(x, centre)
        out[order, h - 1] = np.maximum.accumulate(c + k * (x - med))
    return out


#: quantile levels at which :func:`calibration_record` summarises a path set
RECORD_LEVELS = np.arange(1, 200) / 200.0


def calibration_record(paths: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What learning a :class:`Calibration` needs from one forecast: the path set's
    quantiles at :data:`RECORD_LEVELS` per horizon ``(horizon, 199)`` and the observations
    ``(horizon,)`` (same scale as the paths)."""
    return np.quantile(paths, RECORD_LEVELS, axis=0).T, np.asarray(obs, dtype=float)


def learn_calibration(quantiles: np.ndarray, obs: np.ndarray, levels: tuple[float, ...],
                      source: str) -> Calibration:
    """Centre and factors from stacked :func:`calibration_record` s (``quantiles``
    ``(n, horizon, 199)``, ``obs`` ``(n, horizon)``).

    Per horizon: ``centre`` is the median over forecasts of the PIT of the observation
    (so that the new median is exceeded half of the time); then, with ``c`` each forecast's
    quantile at that level and ``m`` its median, the ratios ``(obs - c) / (upper end - m)``
    and ``(c - obs) / (m - lower end)`` say which factor would have covered each
    observation on each side, and their ``(1 + level) / 2`` quantiles are the factors that
    give the nominal coverage (each tail missed ``(1 - level) / 2`` of the time).
    """
    g = RECORD_LEVELS
    n, horizon, _ = quantiles.shape
    pit = np.array([[np.interp(obs[i, h], quantiles[i, h], g, left=0.0, right=1.0)
                     for h in range(horizon)] for i in range(n)])
    centre = np.clip(np.median(pit, axis=0), g[0], g[-1])
    up, lo = np.empty((horizon, len(levels))), np.empty((horizon, len(levels)))
    for h in range(horizon):
        q = quantiles[:, h, :]
        c = np.array([np.interp(centre[h], g, q[i]) for i in range(n)])
        med = np.array([np.interp(0.5, g, q[i]) for i in range(n)])
        for j, level in enumerate(levels):
            hi = np.array([np.interp((1 + level) / 2, g, q[i]) for i in range(n)])
            lw = np.array([np.interp((1 - level) / 2, g, q[i]) for i in range(n)])
            with np.errstate(divide="ignore", invalid="ignore"):
                r_up = np.where(hi > med, (obs[:, h] - c) / (hi - med), np.nan)
                r_lo = np.where(med > lw, (c - obs[:, h]) / (med - lw), np.nan)
            up[h, j] = np.nanquantile(r_up, (1 + level) / 2)
            lo[h, j] = np.nanquantile(r_lo, (1 + level) / 2)
    rnd = lambda a: tuple(tuple(float(round(v, 3)) for v in row) for row in a)  # noqa: E731
    return Calibration(tuple(float(v) for v in levels), rnd(up), rnd(lo),
                       tuple(float(round(v, 3)) for v in centre), source)


#: A calibration learned by ``forecast bench m3-calibrate`` (for the former default ensemble, the
#: three log-scale families rw_drift, ets_damped, arima) on the *training parts* of the 645
#: M3 yearly series only (the last 6 training years of each series held out as an inner test,
#: the ensemble fitted on the years before; the M3 test years are never seen). On the log scale
#: it moves the median down to the mixture's ~33rd percentile (log-scale drift extrapolation
#: overshot on the inner test) and widens the lower side (up to x1.6 at 95%) more than the upper
#: one (x0.8-1.3). It is NOT the default: on the 31-province R&D intensity panel, the closest
#: analogue of the Hangzhou series (rolling origins, horizons 1-4, 372 forecasts), it made the
#: ensemble worse -- CRPS 0.092 vs 0.077 raw, Brier 0.306 vs 0.262, observations above the
#: shifted median 71% of the time vs 56% raw -- so M3's errors are not representative of
#: these series. Pass it explicitly (``Ensemble(..., calibration=M3_CALIBRATION)``) to study it.
M3_CALIBRATION = Calibration(
    levels=(0.5, 0.8, 0.95, 0.99),
    upper=((0.843, 0.929, 0.899, 0.813), (1.193, 1.164, 0.973, 0.986), (0.996, 1.067, 0.87, 0.824),
           (1.012, 1.022, 0.888, 0.942), (1.002, 1.107, 0.981, 1.161), (1.162, 1.17, 0.983, 1.316)),
    lower=((1.071, 1.017, 1.081, 1.619), (1.19, 1.163, 1.523, 1.668), (1.058, 1.221, 1.457, 1.632),
           (1.268, 1.329, 1.583, 1.525), (1.282, 1.404, 1.364, 1.321), (1.284, 1.406, 1.302, 1.264)),
    centre=(0.37, 0.326, 0.333, 0.345, 0.339, 0.322),
    source="M3 yearly training parts, 645 series, last 6 training years held out "
           "(forecast bench m3-calibrate --seed 20261127 --paths 2000)")

#: The calibration ``Ensemble`` applies unless told otherwise: none (see M3_CALIBRATION).
DEFAULT_CALIBRATION: Calibration | None = None


@dataclass
class FittedEnsemble(FittedModel):
    members: dict[str, FittedModel]
    weights: dict[str, float]
    dropped: dict[str, str] = field(default_factory=dict)
    name: str = "ensemble"
    calibration: Calibration | None = None

    def simulate(self, horizon: int, n_paths: int, rng: np.random.Generator) -> np.ndarray:
        return np.concatenate(list(self.simulate_members(horizon, n_paths, rng).values()))

    def simulate_members(self, horizon: int, n_paths: int, rng: np.random.Generator
                         ) -> dict[str, np.ndarray]:
        """Each member's share of the mixture's paths; one child generator per member (in
        a fixed order) so that adding a path to one model does not shift the others.
        With a :class:`Calibration`, the whole mixture is calibrated (:func:`calibrate_paths`)
        and then split back into the members' shares."""
        counts = allocate_paths(self.weights, n_paths)
        children = rng.spawn(len(self.members))
        raw = {name: self.members[name].simulate(horizon, counts[name], child)
               for child, name in zip(children, self.members) if counts[name] > 0}
        if self.calibration is None:
            return raw
        mixed = calibrate_paths(np.concatenate(list(raw.values())), self.calibration)
        bounds = np.cumsum([0] + [len(p) for p in raw.values()])
        return {name: mixed[a:b] for name, a, b in zip(raw, bounds[:-1], bounds[1:])}


@dataclass
class Ensemble(Model):
    """Mixture of ``model_names`` with fixed ``weights`` (None: equal weights), optionally
    calibrated around its median by ``calibration`` (default :data:`DEFAULT_CALIBRATION`,
    which is None: the raw mixture; see :data:`M3_CALIBRATION` for why)."""

    model_names: tuple[str, ...]
    weights: dict[str, float] | None = None
    name: str = "ensemble"
    min_points: int = 3
    calibration: Calibration | None = field(default_factory=lambda: DEFAULT_CALIBRATION)
    #: configured families for some of ``model_names`` (a pooled family built with its
    #: panel, :mod:`forecast.models.pooled`), used instead of ``get_model(name)``
    instances: dict[str, Model] = field(default_factory=dict)

    def fit(self, series: Series) -> FittedEnsemble:
        members, dropped = {}, {}
        for name in self.model_names:
            if self.weights is not None and self.weights.get(name, 0.0) <= 0:
                dropped[name] = "weight 0 (not validated by the backtest)"
                continue
            try:
                members[name] = family(name, self.instances).fit(series)
            except ModelFailure as exc:
                dropped[name] = str(exc)
        if not members:
            raise ModelFailure("every model failed: " + "; ".join(f"{k}: {v}" for k, v in dropped.items()))
        base = self.weights or {name: 1.0 for name in members}
        total = sum(base.get(name, 0.0) for name in members)
        if total <= 0:
            raise ModelFailure("no surviving model has a positive weight")
        weights = {name: base.get(name, 0.0) / total for name in members}
        return FittedEnsemble(members, weights, dropped, calibration=self.calibration)


@dataclass
class Weighting:
    """The weights of the ensemble and what they rest on."""

    weights: dict[str, float]
    basis: str  # "inverse mean CRPS (published scale) of a rolling-origin backtest" | "equal (...)"
    scores: dict[str, dict]  # per model: backtest summary (mean CRPS, coverage, n)
    failures: dict[str, list] = field(default_factory=dict)
    #: per model: origin -> its backtest paths, for :func:`mixture_backtest`
    paths: dict[str, dict[int, np.ndarray]] = field(default_factory=dict, repr=False)


def family(name: str, instances: dict[str, Model] | None = None) -> Model:
    """The family ``name``: the configured instance when ``instances`` has one (a pooled
    family needs its panel), else :func:`forecast.models.get_model`."""
    if instances and name in instances:
        return instances[name]
    return get_model(name)


def backtest_weights(series: Series, model_names: tuple[str, ...], *, horizon: int,
                     min_train: int, n_paths: int, seed: int,
                     origins: Sequence[int] | None = None,
                     instances: dict[str, Model] | None = None) -> Weighting:
    """Weights from each model's rolling-origin backtest on ``series`` (see module doc).

    The CRPS is taken on the published scale when the series carries its transform
    (``series.transform``): that is the scale targets and readers use, and on it a member whose
    log-scale paths have an explosive upper tail pays for it, which a log-scale CRPS barely
    notices (measured on the M3 inner split: benchmarks/RESULTS.md, step 8). ``origins``
    (optional) restricts the backtest to these origin years (default: every valid origin, see
    :func:`forecast.backtest.default_origins`); the M3 benchmark uses a few origins per series
    to stay within its time budget. ``instances``: configured families by name (see
    :class:`Ensemble`); a pooled family cuts its panel at each backtest origin itself."""
    back_transform = series.transform.inverse if series.transform is not None else None
    scores, failures, paths = {}, {}, {}
    for name in model_names:
        result = rolling_origin(series, family(name, instances), horizon=horizon,
                                min_train=min_train, n_paths=n_paths, seed=seed,
                                origins=origins, keep_paths=True,
                                back_transform=back_transform)
        scores[name] = result.summary()
        paths[name] = result.paths
        if result.failures:
            failures[name] = [list(f) for f in result.failures]
    scored = {n: s for n, s in scores.items()
              if s.get("n_forecasts", 0) >= MIN_SCORED and np.isfinite(s.get("crps", np.nan))}
    if len(scored) >= 2:
        # A model the backtest could not score (it failed at most origins, e.g. ETS on a
        # series with gaps) cannot be validated, so it gets no weight rather than a guess.
        # Each model's mean over the forecasts it made, even when another model missed some
        # origins: a mean over only the forecasts all made looked fairer but was worse on the
        # M3 held-out years (benchmarks/NOTES.md, step 12), so it is not used.
        inverse = {n: 1.0 / max(s["crps"], 1e-12) for n, s in scored.items()}
        total = sum(inverse.values())
        weights = {n: inverse.get(n, 0.0) / total for n in model_names}
        unscored = [n for n in model_names if n not in scored]
        scale = "published" if back_transform else "modelling"
        basis = f"inverse mean CRPS ({scale} scale) of a rolling-origin backtest" + (
            f"; weight 0 for {', '.join(unscored)} (fewer than {MIN_SCORED} scored forecasts)"
            if unscored else "")
        return Weighting(weights, basis, scores, failures, paths)
    return Weighting({n: 1.0 / len(model_names) for n in model_names},
                     f"equal: fewer than two models with {MIN_SCORED} scored backtest forecasts",
                     scores, failures, paths)


def mixture_backtest(series: Series, weighting: Weighting, weights: dict[str, float], *,
                     horizon: int, calibration: Calibration | None = None) -> BacktestResult:
    """The rolling-origin backtest of the ensemble with ``weights``, built from its members'
    backtest paths (``weighting`` from :func:`backtest_weights`) instead of refitting every
    member at every origin a second time.

    At each origin the mixture is what :class:`Ensemble` would simulate there: the members with
    a positive weight that produced paths at that origin (a member that failed there is
    dropped and the others' weights renormalised, as :meth:`Ensemble.fit` does), their paths
    split by :func:`allocate_paths` and, with a ``calibration``, calibrated as a whole
    (:func:`calibrate_paths`). Every member's backtest at an origin draws from the same seed, so
    each member contributes a *different* range of path indices (the first member paths
    ``0..c1-1``, the next ``c1..c1+c2-1``, ...): two members' paths in the mixture never share
    their random numbers. The draws differ from a refitted ensemble's, the distribution is the
    same. A member whose backtest failed at an origin (or simulated non-finite values) is left
    out there; an origin where no weighted member has paths is a failure, with the reasons.
    Like the weights, the scores are on the published scale when ``series`` carries its
    transform: a reader compares them with the published figures.
    """
    paths = weighting.paths
    reasons: dict[int, list[str]] = {}
    for name, failed in weighting.failures.items():
        for origin, reason in failed:
            reasons.setdefault(int(origin), []).append(f"{name}: {reason}")
    origins = sorted({o for member in paths.values() for o in member} | set(reasons))
    mixed, failures = {}, []
    for origin in origins:
        have = {m: paths[m][origin] for m, w in weights.items()
                if w > 0 and origin in paths.get(m, {})}
        if not have:
            failures.append((origin, "every weighted member failed: "
                             + "; ".join(reasons.get(origin, ["no paths"]))))
            continue
        total = sum(weights[m] for m in have)
        n_paths = min(len(p) for p in have.values())
        counts = allocate_paths({m: weights[m] / total for m in have}, n_paths)
        starts = np.cumsum([0] + [counts[m] for m in have])
        mixed[origin] = calibrate_paths(np.concatenate(
            [have[m][a:a + counts[m]] for m, a in zip(have, starts)]), calibration)
    back_transform = series.transform.inverse if series.transform is not None else None
    return BacktestResult(score_paths(series, mixed, horizon=horizon, model_name="ensemble",
                                      back_transform=back_transform), failures)
