"""The execution layer gives the same numbers on every engine and loses nothing when a Dask
worker dies mid-run."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.engine import run_tasks
from forecast.models import get_model
from forecast.models.base import Series

distributed = pytest.importorskip("distributed")


def simulate_task(item: tuple[int, int]) -> np.ndarray:
    """Fit a random walk with drift to a synthetic series and return path quantiles; all
    randomness comes from the item's own seed."""
    seed, index = item
    rng = np.random.default_rng([seed, index])
    values = np.cumsum(0.03 + 0.02 * rng.standard_normal(20))       # synthetic series
    fitted = get_model("rw_drift").fit(Series(np.arange(2000, 2020), values))
    paths = fitted.simulate(5, 2000, rng)
    return np.quantile(paths, [0.1, 0.5, 0.9], axis=0)


def die_once_task(item: tuple[str, int]) -> int:
    """Kill the worker process the first time task 3 runs (marker file), then succeed."""
    marker, index = item
    if index == 3 and not os.path.exists(marker):
        Path(marker).write_text("killed once")
        os._exit(1)
    return index * index


@pytest.fixture(autouse=True)
def pickle_tasks_by_value():
    # Dask's worker processes cannot import this test module; ship its functions by value.
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


ITEMS = [(11, i) for i in range(6)]


def fail_first_task(index: int) -> int:
    """Task 0 fails at once; the others take a second each."""
    import time
    if index == 0:
        raise ValueError("task 0 failed")
    time.sleep(1)
    return index


def test_unknown_engine():
    with pytest.raises(ValueError, match="serial, local, dask"):
        run_tasks(simulate_task, ITEMS, engine="spark")


def test_local_processes_equal_serial():
    serial = run_tasks(simulate_task, ITEMS, engine="serial", progress=False)
    local = run_tasks(simulate_task, ITEMS, engine="local", jobs=2, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(serial, local))
    assert not np.array_equal(serial[0], serial[1])  # each item has its own stream


@pytest.mark.slow
def test_a_failed_local_task_stops_the_run_without_waiting_for_the_queue():
    """``with ProcessPoolExecutor()`` waited for every queued task before the error came
    out: 40 one-second tasks on 2 workers took 20 s to report a failure known at once."""
    import time
    start = time.monotonic()
    with pytest.raises(ValueError, match="task 0 failed"):
        run_tasks(fail_first_task, range(40), engine="local", jobs=2, progress=False)
    assert time.monotonic() - start < 10


def test_dask_local_cluster_equals_serial():
    serial = run_tasks(simulate_task, ITEMS, engine="serial", progress=False)
    dask = run_tasks(simulate_task, ITEMS, engine="dask", jobs=2, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(serial, dask))


@pytest.mark.slow
def test_dask_retries_a_task_whose_worker_died(tmp_path):
    marker = str(tmp_path / "killed")
    results = run_tasks(die_once_task, [(marker, i) for i in range(8)], engine="dask", jobs=2,
                        progress=False)
    assert os.path.exists(marker)           # the worker really died once
    assert results == [i * i for i in range(8)]


@pytest.mark.slow
def test_pooled_backtest_same_rows_on_every_engine(shipped):
    from forecast.calibration import panel_series, pooled_backtest

    series = panel_series(shipped)[:4]
    kw = dict(models=("rw_drift", "arima"), max_origins=2, n_paths=200, horizon=3)
    serial = pooled_backtest(shipped, series, engine="serial", **kw)
    for engine in ("local", "dask"):
        other = pooled_backtest(shipped, series, engine=engine, jobs=2, **kw)
        pd.testing.assert_frame_equal(serial.rows, other.rows, obj=engine)
        pd.testing.assert_frame_equal(serial.events, other.events, obj=engine)
    assert set(serial.rows["series"]) == {f"{r}/{i}" for r, i in series}


def test_a_kill_stops_any_command_like_ctrl_c_with_status_130():
    """SIGTERM outside a process pool (a serial sweep, the start of a report) used to end
    the command with status 143 and no word; it now takes the same path as Ctrl-C."""
    import signal
    import subprocess
    script = ("import sys, time\n"
              "from forecast import cli\n"
              "def slow(args):\n"
              "    print('ready', flush=True)\n"
              "    time.sleep(60)\n"
              "    return 0\n"
              "cli._cmd_run = slow\n"
              "sys.exit(cli.main(['run', '--indicator', 'rd_intensity']))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err


def test_ctrl_c_while_the_command_is_still_importing_is_a_message_not_a_traceback(
        monkeypatch, capsys):
    import builtins
    import forecast
    real_import = builtins.__import__

    def interrupted(name, globals=None, locals=None, fromlist=(), level=0):
        if name == "cli" and level == 1:  # `from .cli import main` in forecast.main
            raise KeyboardInterrupt
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    assert forecast.main() == 130
    assert "interrupted while starting" in capsys.readouterr().err


#: a pool of two workers (started with the given start method, first used from the main
#: thread or from a thread that then ends); prints the workers' pids and waits to be killed
POOL_SCRIPT = """
import multiprocessing, sys, threading, time
from forecast import engine
if __name__ == "__main__":
    first_use, start_method = sys.argv[1:]
    multiprocessing.set_start_method(start_method)
    with engine.process_pool(2) as pool:
        def start_both():  # two tasks at once: a worker each
            list(pool.map(time.sleep, [0.5, 0.5]))
        if first_use == "thread":
            # the workers are forked by this thread, which ends: they must outlive it
            first = threading.Thread(target=start_both)
            first.start()
            first.join()
            time.sleep(1.5)
            pool.submit(time.sleep, 0).result()
        else:
            start_both()
        print(*[p.pid for p in multiprocessing.active_children()], flush=True)
        pool.submit(time.sleep, 600)  # one worker busy, one idle
        time.sleep(600)
"""


def _running(pid: int) -> bool:
    """True while ``pid`` runs (not gone, not a zombie waiting for its new parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("first_use,start_method", [
    ("main", "fork"), ("thread", "fork"),   # Linux's default before Python 3.14
    ("main", "forkserver"),                 # ... and from 3.14
    ("main", "spawn"),                      # macOS and Windows
])
def test_pool_workers_end_when_their_parent_is_killed(first_use, start_method):
    """A SIGKILL of `forecast report` (a scheduler's time limit, the OOM killer) left its pool
    workers running, still starting Jupyter kernels for the queued notebooks."""
    import signal
    import subprocess
    import time
    proc = subprocess.Popen([sys.executable, "-c", POOL_SCRIPT, first_use, start_method],
                            stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(_running(w) for w in workers), workers
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_running(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _running(w)], "workers outlived their parent"
    finally:
        proc.kill()
        for worker in workers:  # what a failure left (the workers this test started)
            if _running(worker):
                os.kill(worker, signal.SIGKILL)
