"""Rolling-origin backtests: how well calibrated a model's paths were on a series' own past.

For each origin (the last training year) the model is fitted to the history up to
and including that year, paths are simulated for ``horizon`` years, and every
later *observed* year within the horizon is scored against them. The result is a
tidy frame with one row per (origin, target_year) forecast; :func:`summarise`
turns any such frame -- one series, or many series and models concatenated -- into
mean CRPS, interval coverage and Brier score.

Scores are computed on the modelling scale of the series (log, logit, ...) unless a
``back_transform`` is given, in which case paths and observations are mapped back
to the published scale before scoring.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np
import pandas as pd

from forecast import scores
from forecast.models.base import Model, ModelFailure, Series

#: central interval levels whose coverage every backtest row records
COVERAGE_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)

COLUMNS: list[str] = [
    "model",
    "origin",  # last training year
    "target_year",
    "horizon",  # target_year - origin, in years (gaps make it jump)
    "n_train",  # observations used to fit
    "obs",
    "median",
    "crps",
    "pit",
    *[f"covered_{round(100 * lv)}" for lv in COVERAGE_LEVELS],
    "threshold",  # pseudo-target on the modelling scale (see rolling_origin)
    "event_prob",
    "event_obs",
    "brier",
]


@dataclass
class BacktestResult:
    """Outcome of :func:`rolling_origin` for one series and one model.

    ``rows`` has one row per scored forecast (columns :data:`COLUMNS`); ``failures``
    lists ``(origin, reason)`` for every origin at which the model raised
    :class:`ModelFailure` or produced non-finite paths -- those origins have no rows,
    so a model that fails often must be read together with this list.
    """

    rows: pd.DataFrame
    failures: list[tuple[int, str]] = field(default_factory=list)
    #: origin -> the simulated paths (modelling scale), kept only with ``keep_paths=True``
    paths: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def summary(self) -> dict[str, float]:
        """:func:`summarise` of ``rows`` plus ``n_failures`` (origins that produced no forecast)."""
        out = summarise(self.rows)
        out["n_failures"] = len(self.failures)
        return out


def summarise(rows: pd.DataFrame) -> dict[str, float]:
    """Pooled calibration and accuracy of a backtest frame (one or many series/models).

    Returns mean CRPS (modelling-scale units unless back-transformed; lower is
    better), the fraction of observations inside the 50/80/95% central intervals
    (should be near 0.5/0.8/0.95), the mean Brier score of the pseudo-target events
    (0.25 is what always saying 50% scores), ``n_forecasts`` (rows) and ``n_origins``
    (distinct forecast runs: distinct combinations of whichever of the ``series``,
    ``model`` and ``origin`` columns are present -- add a ``series`` column before
    pooling several series). Empty input gives NaN means and zero counts. Per-horizon
    or per-model figures: :func:`summarise_by`.
    """
    run_cols = [c for c in ("series", "model", "origin") if c in rows.columns]
    out: dict[str, float] = {"crps": float(rows["crps"].mean())}
    for lv in COVERAGE_LEVELS:
        col = f"covered_{round(100 * lv)}"
        out[f"coverage_{round(100 * lv)}"] = float(rows[col].astype(float).mean())
    out["brier"] = float(rows["brier"].mean())
    out["n_forecasts"] = int(len(rows))
    out["n_origins"] = int(len(rows[run_cols].drop_duplicates())) if run_cols else 0
    return out


def summarise_by(rows: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """:func:`summarise` within each group of ``by`` (e.g. ``"horizon"`` to see how
    coverage decays with distance, or ``["model", "horizon"]``); one row per group."""
    keys = [by] if isinstance(by, str) else list(by)
    records = [
        {**dict(zip(keys, key if isinstance(key, tuple) else (key,))), **summarise(group)}
        for key, group in rows.groupby(keys, sort=True)
    ]
    return pd.DataFrame(records)


def default_origins(years: np.ndarray, *, horizon: int, min_train: int) -> list[int]:
    """Origins a rolling backtest uses: every observed year from the one that
    completes ``min_train`` observations up to the last year that still has an
    observed year at most ``horizon`` years after it."""
    years = np.asarray(years, dtype=int)
    return [
        int(years[i])
        for i in range(min_train - 1, len(years) - 1)
        # years are increasing, so the next observation is the nearest candidate target
        if years[i + 1] - years[i] <= horizon
    ]


def rolling_origin(
    series: Series,
    model: Model,
    *,
    horizon: int,
    min_train: int,
    n_paths: int,
    seed: int,
    origins: Sequence[int] | None = None,
    back_transform: Callable[[np.ndarray], np.ndarray] | None = None,
    keep_paths: bool = False,
) -> BacktestResult:
    """Rolling-origin backtest of ``model`` on ``series`` (modelling scale).

    At each origin the model is fitted to the observations up to and including the
    origin year and ``n_paths`` paths are simulated ``horizon`` years ahead. Every
    observed year ``t`` with ``origin < t <= origin + horizon`` is scored against the
    path column for horizon ``h = t - origin``; missing years are simply not scored
    (nothing is interpolated). Each row records the observation, the path median,
    CRPS, PIT, whether the 50/80/95% central intervals cover the observation, and a
    pseudo-target: the event "value at ``t`` >= value at the origin + ``h`` x the mean
    yearly increment up to the origin" (the historical pace continued), its predicted
    probability (share of paths) and its Brier score. The event is always defined on
    the modelling scale; for a monotone increasing ``back_transform`` (exp, inverse
    logit) it is the same event on the published scale.

    Parameters
    ----------
    series : Series
        The history, already on the modelling scale; gaps allowed.
    model : Model
        The family to backtest; :class:`ModelFailure` at an origin is recorded in
        ``failures`` with its reason and the backtest continues.
    horizon : int
        Years ahead to simulate from each origin (>= 1).
    min_train : int
        Fewest observations to fit on (>= 2: the pseudo-target needs a pace).
    n_paths : int
        Paths simulated per origin.
    seed : int
        Non-negative base seed. Origin ``o`` uses ``np.random.default_rng([seed, o])``,
        so results are reproducible and do not depend on which or how many other
        origins are run, nor in what order.
    origins : sequence of int, optional
        Explicit origin years instead of :func:`default_origins`. Each must be an
        observed year with at least ``min_train`` observations up to it and an
        observed year within ``horizon`` after it; otherwise ``ValueError`` (an
        origin that cannot be scored is a mistake in the request, not something to
        skip quietly).
    back_transform : callable, optional
        Elementwise map from the modelling scale to the scale to score on, applied to
        paths and observations before computing median, CRPS, PIT and coverage.
    keep_paths : bool
        Keep each origin's paths in the result (``paths``), e.g. to score a mixture of
        several models' backtests without refitting them (:func:`score_paths`).
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    if min_train < 2:
        raise ValueError(f"min_train must be >= 2 (a pace needs two points), got {min_train}")
    if n_paths < 1:
        raise ValueError(f"n_paths must be >= 1, got {n_paths}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")

    years = series.years
    valid = default_origins(years, horizon=horizon, min_train=min_train)
    if origins is None:
        run = valid
    else:
        run = [int(o) for o in origins]
        if len(set(run)) != len(run):
            raise ValueError(f"duplicate origins in {list(origins)}")
        bad = sorted(set(run) - set(valid))
        if bad:
            raise ValueError(
                f"origins {bad} cannot be backtested: each must be an observed year with at "
                f"least min_train={min_train} observations up to it and an observed year "
                f"within horizon={horizon} after it; valid origins are {valid}"
            )

    model_name = getattr(model, "name", type(model).__name__)
    failures: list[tuple[int, str]] = []
    kept: dict[int, np.ndarray] = {}
    for origin, _, paths, failure in origin_paths(series, model, run, horizon=horizon,
                                                  n_paths=n_paths, seed=seed):
        if failure:
            failures.append((origin, failure))
        else:
            kept[origin] = paths
    rows = score_paths(series, kept, horizon=horizon, model_name=model_name,
                       back_transform=back_transform)
    return BacktestResult(rows, sorted(failures), kept if keep_paths else {})


def score_paths(series: Series, paths: dict[int, np.ndarray], *, horizon: int, model_name: str,
                back_transform: Callable[[np.ndarray], np.ndarray] | None = None
                ) -> pd.DataFrame:
    """The rows (:data:`COLUMNS`) of path sets already simulated from origins of ``series``
    (origin -> paths of shape ``(n, >= horizon)`` on the modelling scale), scored like
    :func:`rolling_origin` does."""
    years, values = series.years, series.values
    frames = [_score_origin(p, years, values, int(np.searchsorted(years, origin, side="right")),
                            horizon, back_transform, model_name)
              for origin, p in sorted(paths.items())]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return rows.sort_values(["origin", "target_year"], ignore_index=True)


def origin_paths(series: Series, model: Model, origins: Sequence[int], *, horizon: int,
                 n_paths: int, seed: int) -> Iterator[tuple[int, int, np.ndarray | None, str]]:
    """For each origin: ``(origin, n_train, paths, failure)`` -- the model fitted to the
    observations up to the origin and ``n_paths`` paths ``horizon`` years ahead from
    ``default_rng([seed, origin])``, or ``paths`` None and the reason when the model raised
    :class:`ModelFailure` or simulated non-finite values. Paths of the wrong shape raise
    ``ValueError``: that is a broken model, not a data problem."""
    model_name = getattr(model, "name", type(model).__name__)
    years = series.years
    for origin in origins:
        n_train = int(np.searchsorted(years, origin, side="right"))
        train = series.head(n_train)
        rng = np.random.default_rng([seed, origin])
        try:
            paths = np.asarray(model.fit(train).simulate(horizon, n_paths, rng), dtype=float)
        except ModelFailure as exc:
            yield origin, n_train, None, str(exc)
            continue
        if paths.shape != (n_paths, horizon):
            raise ValueError(
                f"{model_name}.simulate returned shape {paths.shape}, expected {(n_paths, horizon)}"
            )
        if not np.all(np.isfinite(paths)):
            yield origin, n_train, None, f"{model_name} simulated non-finite values"
            continue
        yield origin, n_train, paths, ""


def _score_origin(
    paths: np.ndarray,
    years: np.ndarray,
    values: np.ndarray,
    n_train: int,
    horizon: int,
    back_transform: Callable[[np.ndarray], np.ndarray] | None,
    model_name: str,
) -> pd.DataFrame:
    """Score one origin's paths against the observed years within the horizon."""
    origin, last = int(years[n_train - 1]), float(values[n_train - 1])
    later = slice(n_train, int(np.searchsorted(years, origin + horizon, side="right")))
    target_years, obs = years[later], values[later]
    h = target_years - origin
    sims = paths[:, h - 1].T  # (n_targets, n_paths): column h-1 is year origin + h

    # Pseudo-target: continue the average yearly pace of the training history. Using
    # (last - first) / (year span) rather than the mean of first differences keeps
    # it a per-year pace when the history has gaps.
    pace = (last - values[0]) / (origin - years[0])
    threshold = last + h * pace
    event_prob = np.mean(sims >= threshold[:, None], axis=1)
    event_obs = obs >= threshold

    if back_transform is not None:
        sims, obs = np.asarray(back_transform(sims)), np.asarray(back_transform(obs))

    frame = pd.DataFrame(
        {
            "model": model_name,
            "origin": origin,
            "target_year": target_years,
            "horizon": h,
            "n_train": n_train,
            "obs": obs,
            "median": np.median(sims, axis=1),
            "crps": scores.crps_samples(sims, obs),
            "pit": scores.pit(sims, obs),
            **{
                f"covered_{round(100 * lv)}": scores.interval_coverage(sims, obs, lv)
                for lv in COVERAGE_LEVELS
            },
            "threshold": threshold,
            "event_prob": event_prob,
            "event_obs": event_obs,
            "brier": scores.brier(event_prob, event_obs),
        }
    )
    return frame[COLUMNS]
