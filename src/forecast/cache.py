"""The on-disk cache: results that take time to compute, kept under a key that names
everything they rest on (data, arguments, code), so that equal keys mean equal results.

One folder per part under ``$FORECAST_CACHE`` (default data/processed/cache): ``backtests/``
(:mod:`forecast.simulation`), ``vintages/`` (the validated raw data, :mod:`forecast.data`) and
``panels/`` (:mod:`forecast.panels`). ``FORECAST_CACHE=off`` computes everything every time.
Values are pickled, so a NaN comes back as NaN. A cache that cannot be read or written is
skipped: it only saves time, and deleting it is always safe.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

#: the cache's root (``$FORECAST_CACHE``, else data/processed/cache); "off" disables it
CACHE_ENV = "FORECAST_CACHE"


def cache_dir(part: str = "backtests") -> Path | None:
    """The cache's folder for ``part`` (backtests, vintages, panels) under
    ``$FORECAST_CACHE`` (default data/processed/cache), or None when it is ``off``."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting) / part
    from .data import processed_dir
    return processed_dir() / "cache" / part


def read(part: str, key: str | None):
    """The value stored under ``key`` in ``part``, or None (no cache, none yet, unreadable)."""
    folder = cache_dir(part)
    if key is None or folder is None:
        return None
    try:
        return pd.read_pickle(folder / f"{key}.pkl")
    except Exception:  # noqa: BLE001 - none yet, or unreadable (another pandas): recomputed
        return None


def write(part: str, key: str, value) -> None:
    """Store ``value`` under ``key`` in ``part`` atomically (skipped where it cannot be)."""
    folder = cache_dir(part)
    if folder is None:
        return
    from .data import write_atomically
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(folder / f"{key}.pkl", lambda p: pd.to_pickle(value, p))
    except OSError:
        pass
