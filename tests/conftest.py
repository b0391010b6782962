import sys
from pathlib import Path

import forecast  # noqa: F401  (first: sets single-threaded BLAS before numpy loads)

sys.path.insert(0, str(Path(__file__).parent))  # test helpers shared between test modules

import pytest  # noqa: E402

from forecast import data  # noqa: E402

#: quick model families for tests that check plumbing, not model quality
FAST = ("rw_drift", "linear_trend", "local_trend")


@pytest.fixture(scope="session")
def shipped():
    """The shipped data as of the date the tests are written against (read-only: share it)."""
    return data.load("2026-11-27")
