"""Probability that Hangzhou reaches the numeric targets of its Quality Power plan.

The linear algebra here is on tiny matrices (annual series of 10-40 points), where BLAS
threads cost far more than they save: a statsmodels ARIMA fit took 1.4 s multi-threaded vs
0.14 s single-threaded on a 2-core machine. Parallelism, where it pays, is across series or
notebooks in separate processes. So single-threaded BLAS is the default unless the user set
these variables; it only takes effect when this package is imported before numpy.
"""
import os as _os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

__version__ = "0.1.0"


def main() -> int:
    """The ``forecast`` command. Importing the command line loads pandas, statsmodels and
    prophet for a second or two; a Ctrl-C in that time would print a traceback of whichever
    import it hit, so it is caught here, where nothing heavy is imported yet."""
    import sys
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        print("\ninterrupted while starting: nothing was done", file=sys.stderr)
        return 130
    return cli_main()
