import sys
from pathlib import Path

import forecast  # noqa: F401  (first: sets single-threaded BLAS before numpy loads)

sys.path.insert(0, str(Path(__file__).parent))  # test helpers shared between test modules
