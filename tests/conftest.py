import dataclasses
import functools
import shutil
import sys
from pathlib import Path

import forecast  # noqa: F401  (first: sets single-threaded BLAS before numpy loads)

sys.path.insert(0, str(Path(__file__).parent))  # test helpers shared between test modules

import pytest  # noqa: E402

from forecast import data  # noqa: E402

#: quick model families for tests that check plumbing, not model quality
FAST = ("rw_drift", "linear_trend", "local_trend")
REPO = Path(__file__).resolve().parents[1]


def copy_registry(root: Path) -> Path:
    """Give the project root ``root`` the shipped catalogue and the Hangzhou plan (its
    registry and text; data of the test's own go to data/raw/series). Returns ``root``."""
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "data" / "raw" / "catalogue.yaml", root / "data" / "raw")
    plan = root / "plans" / "hangzhou"
    plan.mkdir(parents=True, exist_ok=True)
    for name in ("plan.yaml", "plan.txt"):
        shutil.copy(REPO / "plans" / "hangzhou" / name, plan)
    return root


@pytest.fixture(scope="session")
def shipped():
    """The shipped data as of the date the tests are written against (read-only: share it)."""
    return data.load("2026-11-27")


def copy_project(root: Path) -> Path:
    """A copy of the shipped raw data (no user files) and plans under ``root``, for tests that
    add data of their own the documented way. Returns ``root``."""
    shutil.copytree(REPO / "data" / "raw", root / "data" / "raw",
                    ignore=shutil.ignore_patterns("user"))
    shutil.copytree(REPO / "plans", root / "plans")
    return root


@functools.lru_cache(maxsize=1)
def _shipped_employment():
    return data.load_registry(None, REPO).plan.employment("employed_persons")


def hz_employment(**changes):
    """The Hangzhou plan's employment assumption (plans/hangzhou/plan.yaml) with ``changes``,
    as a scenario's employment block would make it."""
    return dataclasses.replace(_shipped_employment(), **changes)
