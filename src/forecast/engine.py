"""One execution layer for the embarrassingly parallel work: per series, per origin, per
scenario. Three engines run the same tasks and give the same results:

* ``serial`` — in this process (debugging, tiny runs);
* ``local`` — a pool of local processes, one per core by default;
* ``dask`` — a ``dask.distributed`` cluster: the one at ``scheduler`` (``tcp://host:8786``)
  or, without an address, a ``LocalCluster`` started for the run and closed after it.

Reproducibility does not depend on the engine or the number of workers because a task
never shares a random stream: each item carries its own seed (derive it from the run seed
and the item's index, e.g. ``np.random.default_rng([seed, i])``). On Dask a task whose worker
dies is re-run on another worker by the scheduler, and ``retries`` re-runs a task that raised,
so nothing is silently lost: either every result comes back, or the run raises.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from tqdm import tqdm  # plain text bars: tqdm.auto warns in kernels without ipywidgets

ENGINES = ("serial", "local", "dask")


def default_jobs() -> int:
    """Usable cores (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (0 or -2 workers, or a sample of -5 series, would
    otherwise surface as a traceback or silently mean "all")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return value


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """The ``--engine``, ``--scheduler`` and ``--jobs`` options of every command that runs
    tasks on this layer."""
    parser.add_argument("--engine", choices=ENGINES, default="local",
                        help="local processes (default), dask (a dask.distributed cluster) "
                             "or serial")
    parser.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                        "(default: a LocalCluster started for the run)")
    parser.add_argument("--jobs", type=positive_int, default=default_jobs(),
                        help="local processes or LocalCluster workers (default: all cores)")


def run_tasks(fn: Callable[[Any], Any], items: Sequence[Any], *, engine: str = "local",
              jobs: int | None = None, scheduler: str | None = None, retries: int = 2,
              desc: str = "tasks", progress: bool = True) -> list[Any]:
    """``[fn(item) for item in items]`` on the chosen engine, results in input order.

    ``fn`` must be a module-level function (it is pickled to the workers) and each item must
    carry everything the task needs, its seed included. ``jobs`` is the number of local
    processes or of LocalCluster workers (default: all cores). A progress bar is shown on
    stderr unless ``progress`` is false. An exception in a task is raised here, after
    ``retries`` further attempts on Dask.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}'; expected one of {', '.join(ENGINES)}")
    items = list(items)
    jobs = jobs or default_jobs()
    bar = tqdm(total=len(items), desc=desc, disable=not progress, unit="task")
    try:
        if engine == "serial" or (engine == "local" and (jobs == 1 or len(items) <= 1)):
            results = []
            for item in items:
                results.append(fn(item))
                bar.update()
            return results
        if engine == "local":
            return _run_local(fn, items, jobs, bar)
        return _run_dask(fn, items, jobs, scheduler, retries, bar)
    finally:
        bar.close()


def _ignore_sigint() -> None:
    # A terminal's Ctrl-C reaches the whole process group; only the parent acts on it (it
    # stops the pool), so a worker does not die mid-task with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: how often a forked pool worker looks whether the process that started it is still there
PARENT_POLL_SECONDS = 0.5
#: what Linux sends a forked pool worker as its parent ends (see _end_with_parent): a
#: real-time signal, which nothing else here sends
_PARENT_DEATH_SIGNAL = getattr(signal, "SIGRTMIN", None)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _init_worker(parent: int, start_method: str) -> None:
    """Each pool worker's set-up (run in the worker): SIGINT ignored, ended with its parent."""
    _ignore_sigint()
    _end_with_parent(parent, start_method)


def _end_with_parent(parent: int, start_method: str) -> None:
    """End this worker as soon as ``parent``, the process that started the pool, is gone.

    A parent killed outright (SIGKILL: a scheduler's time limit, the OOM killer) cleans nothing
    up, and its workers used to go on taking the queued tasks for minutes: for ``forecast
    report``, starting Jupyter kernels into a staging folder nobody would read. (A kernel polls
    its worker and ends with it.) A daemon thread of the worker waits for the parent's end and
    exits the worker:

    * a spawned worker, or one from the fork server (Python 3.14's default on Linux, whose
      workers are the server's children, not the parent's), holds a pipe whose other end only
      the parent holds (``multiprocessing.parent_process().sentinel``): it is ready when the
      parent ends;
    * a forked worker (the default on Linux before 3.14) looks whether its parent has changed
      (an orphan is adopted by init or a subreaper) every :data:`PARENT_POLL_SECONDS` and, on
      Linux, at once when the signal asked for with ``prctl(PR_SET_PDEATHSIG)`` comes. (Its
      sentinel is no use: the workers forked after it hold copies of the parent's end.)

    Linux sends that signal when the parent *thread* that forked the worker ends, also while
    the process lives on (a pool first used from a thread since ended) or is still ending (a
    SIGKILL can end the main thread before the others): once per hand-over to another of the
    parent's threads, then once as init adopts the worker. So the signal only wakes the
    watcher, which exits on a changed parent alone. It is a signal of its own, not SIGTERM,
    which a worker goes on taking as before (one forked in the main thread inherits
    :func:`sigterm_as_interrupt`'s handler). It is blocked in all the worker's threads (those
    started later inherit the mask), so it waits for the watcher's ``sigtimedwait``: a Python
    handler would run only when the main thread next runs Python code, never in an idle
    worker waiting in a read.
    """
    sentinel = getattr(multiprocessing.parent_process(), "sentinel", None)
    if start_method != "fork" and sentinel is not None:
        watch, args = _wait_for_sentinel, (sentinel,)
    else:
        wait = _PARENT_DEATH_SIGNAL is not None and hasattr(signal, "sigtimedwait")
        if wait:
            signal.pthread_sigmask(signal.SIG_BLOCK, {_PARENT_DEATH_SIGNAL})
            if sys.platform.startswith("linux"):
                with contextlib.suppress(OSError, AttributeError):  # else: the polling alone
                    ctypes.CDLL(None, use_errno=True).prctl(
                        _PR_SET_PDEATHSIG, ctypes.c_ulong(_PARENT_DEATH_SIGNAL),
                        ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
        watch, args = _watch_parent, (parent, wait)
    threading.Thread(target=watch, args=args, name="watch-parent", daemon=True).start()


def _wait_for_sentinel(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _watch_parent(parent: int, wait: bool) -> None:
    # checked before the first wait: the parent may have ended before the signal was asked for
    while os.getppid() == parent:
        if wait:
            signal.sigtimedwait({_PARENT_DEATH_SIGNAL}, PARENT_POLL_SECONDS)
        else:
            time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, a ``kill`` (SIGTERM) raises ``KeyboardInterrupt`` as Ctrl-C does, so
    the same cleanup runs (in the main thread only: Python delivers signals there)."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def process_pool(max_workers: int) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` that stops at once when the block fails or is interrupted.

    ``with ProcessPoolExecutor()`` waits on exit for every queued task, so an error, Ctrl-C
    or a ``kill`` (SIGTERM) used to let the whole run go on to its end. Here, for the block's
    duration, SIGTERM is turned into ``KeyboardInterrupt`` (in the main thread), workers ignore
    SIGINT, and on any exception the queued tasks are cancelled and the workers killed (their
    Jupyter kernels watch their parent and exit with it) before the exception goes on. A
    process killed outright (SIGKILL) runs none of this: its workers end themselves
    (:func:`_end_with_parent`).
    """
    with sigterm_as_interrupt():
        context = multiprocessing.get_context()  # the default, named to tell the workers
        pool = ProcessPoolExecutor(
            max_workers=max_workers, mp_context=context, initializer=_init_worker,
            initargs=(os.getpid(), context.get_start_method()))
        try:
            yield pool
        except BaseException:
            # the executor has no public way to stop running tasks before Python 3.14
            # (terminate_workers); its _processes map is the documented-by-use alternative
            workers = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for worker in workers:
                with contextlib.suppress(Exception):
                    worker.kill()
            for worker in workers:
                with contextlib.suppress(Exception):
                    worker.join(timeout=5)
            raise
        else:
            pool.shutdown(wait=True)


def _run_local(fn, items, jobs, bar) -> list[Any]:
    results: list[Any] = [None] * len(items)
    with process_pool(jobs) as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update()
    return results


def _run_dask(fn, items, jobs, scheduler, retries, bar) -> list[Any]:
    try:
        from distributed import Client, LocalCluster, as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("the dask engine needs dask.distributed: pip install -e '.[scale]'") from exc
    cluster = None
    if scheduler is None:
        # One thread per worker process: the tasks are CPU-bound numpy/statsmodels code, and
        # separate processes sidestep the GIL exactly as the local engine does.
        cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = client.map(fn, items, pure=False, retries=retries)
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for future in dask_completed(futures):
            results[index[future.key]] = future.result()
            bar.update()
        return results
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
