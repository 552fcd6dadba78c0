"""Many independent runs, one interface: threads, local processes, or a dask.distributed cluster.

Parameter sweeps, multistart fits and likelihood profiles are lists of independent tasks. An :class:`Executor`
maps a picklable function over them and returns the results in order, with a progress bar when wanted.

* :class:`ThreadExecutor` (the default): a thread pool in this process using every core. The native solver
  releases the GIL for a whole integration, so solves run truly in parallel; there is no start-up cost, nothing
  is pickled, and scripts need no ``if __name__ == "__main__":`` guard.
* :class:`ProcessExecutor`: a local process pool. Worker processes are started with ``forkserver`` where
  available (``spawn`` elsewhere), never with a bare ``fork`` of a process that may run threads. Worth it when
  tasks are long and spend most of their time in Python (e.g. the scipy fallback without a C compiler).
* :class:`DaskExecutor`: tasks go to a :class:`dask.distributed.Client` the user passes (a ``LocalCluster``
  or a remote scheduler); nothing else changes.
* :class:`SerialExecutor`: in this process, one task after the other (for debugging and tiny jobs).

:func:`as_executor` turns what a user passes as ``executor=`` into one of these; :func:`connect_scheduler`
connects to a dask scheduler by address within a total time limit (a peer that accepts the connection but
never answers makes ``dask.distributed.Client`` wait forever, whatever its ``timeout``).

Examples
--------
>>> ex = as_executor("serial")
>>> ex.map(abs, [-1, 2, -3])
[1, 2, 3]
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from .errors import ArgumentError, KineticsError, did_you_mean
from .progress import progress_bar, want_progress

__all__ = ["Executor", "SerialExecutor", "ThreadExecutor", "ProcessExecutor", "DaskExecutor", "as_executor",
           "want_progress", "connect_scheduler", "check_scheduler_address", "SchedulerConnectionError",
           "CONNECT_TIMEOUT"]

#: Default total time (seconds) allowed to connect to a dask scheduler and hear back from it.
CONNECT_TIMEOUT = 10.0


class SchedulerConnectionError(KineticsError, ConnectionError):
    """The dask scheduler could not be reached, or did not answer, within the time limit."""


def _bar(total, desc, show):
    return progress_bar(total=total, desc=desc, unit="task", progress=show)


class Executor:
    """Maps a function over items, results in order. Subclasses implement :meth:`_submit_all`."""

    #: Number of tasks that may run at once.
    n_workers: int = 1

    def map(self, fn, items, *, desc: str = "", progress=None) -> list:
        """``[fn(item) for item in items]``, run by this executor, with a progress bar if wanted."""
        items = list(items)
        if not items:
            return []
        show = want_progress(progress)
        with _bar(len(items), desc, show) as bar:
            return self._run(fn, items, bar)

    def _run(self, fn, items, bar) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release resources this executor created (a process pool); no-op otherwise."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def describe(self) -> str:
        return type(self).__name__


class SerialExecutor(Executor):
    """Runs every task in this process, in order."""

    def _run(self, fn, items, bar):
        out = []
        for it in items:
            out.append(fn(it))
            bar.update(1)
        return out

    def describe(self) -> str:
        return "serial (this process)"


class ThreadExecutor(Executor):
    """A thread pool in this process (``n_workers`` defaults to every core); one task or one worker runs inline.

    Tasks that spend their time in the native solver (which releases the GIL) run in parallel; tasks that hold
    the GIL (pure Python) take turns, so use :class:`ProcessExecutor` for those.
    """

    def __init__(self, n_workers: int | None = None):
        if n_workers is not None and (int(n_workers) != n_workers or n_workers < 1):
            raise ArgumentError(f"`n_workers` must be a positive integer, got {n_workers!r}")
        self.n_workers = int(n_workers) if n_workers else (os.cpu_count() or 1)

    def _run(self, fn, items, bar):
        if self.n_workers == 1 or len(items) == 1:
            return SerialExecutor()._run(fn, items, bar)
        from concurrent.futures import ThreadPoolExecutor

        out = [None] * len(items)
        with ThreadPoolExecutor(max_workers=min(self.n_workers, len(items))) as pool:
            futures = {pool.submit(fn, it): i for i, it in enumerate(items)}
            try:
                for fut in as_completed(futures):
                    out[futures[fut]] = fut.result()
                    bar.update(1)
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
        return out

    def describe(self) -> str:
        return f"threads ({self.n_workers})"


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # The server imports these once; every worker forked from it starts with them loaded.
        ctx.set_forkserver_preload(["__main__", "kinetics.fitting"])
        return ctx
    return multiprocessing.get_context("spawn")


class ProcessExecutor(Executor):
    """A local process pool (``concurrent.futures``); ``n_workers`` defaults to every core.

    The pool starts on first use and is reused until :meth:`close` (or the end of a ``with`` block). With one
    worker, or one task, tasks run in this process. Worker processes import the main script (as with any
    ``multiprocessing`` start method other than ``fork``): a script that calls :func:`~kinetics.fitting.fit` with
    this executor needs the ``if __name__ == "__main__":`` guard; without it the workers fail to start and
    the tasks run in the calling process, with a warning. Notebooks and ``python -m`` modules need nothing.
    """

    def __init__(self, n_workers: int | None = None):
        if n_workers is not None and (int(n_workers) != n_workers or n_workers < 1):
            raise ArgumentError(f"`n_workers` must be a positive integer, got {n_workers!r}")
        self.n_workers = int(n_workers) if n_workers else (os.cpu_count() or 1)
        self._pool = None

    def _run(self, fn, items, bar):
        if self.n_workers == 1 or len(items) == 1:
            return SerialExecutor()._run(fn, items, bar)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.n_workers, mp_context=_mp_context())
        out = [None] * len(items)
        done = 0
        try:
            futures = {self._pool.submit(fn, it): i for i, it in enumerate(items)}
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                done += 1
                bar.update(1)
        except BrokenProcessPool:
            self.close()
            if done:
                raise
            # Nothing ran: the workers died while starting, typically because the calling script has no
            # `if __name__ == "__main__":` guard (worker processes import the main script). Run here instead.
            warnings.warn("the local process pool could not start its workers (a script that calls fit() must "
                          "protect its code with `if __name__ == \"__main__\":`, as for any multiprocessing); "
                          "running the tasks in this process instead", RuntimeWarning, stacklevel=4)
            self.n_workers = 1        # do not try again with this executor
            return SerialExecutor()._run(fn, items, bar)
        except BaseException:
            self.close()
            raise
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> str:
        return f"local process pool ({self.n_workers} workers)"


class DaskExecutor(Executor):
    """Tasks on a :class:`dask.distributed.Client` (never closed here: the user owns it)."""

    def __init__(self, client):
        self.client = client
        try:
            info = client.scheduler_info()
            workers = info.get("workers", {})
            self.n_workers = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
            self._address = getattr(client, "scheduler", None) and client.scheduler.address
        except Exception:  # noqa: BLE001 - a client in an odd state still maps; describe() is cosmetic
            self.n_workers, self._address = 1, None

    def _run(self, fn, items, bar):
        from distributed import as_completed as dask_completed

        futures = self.client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(items)
        try:
            for fut in dask_completed(futures):
                out[index[fut.key]] = fut.result()
                bar.update(1)
        except BaseException:
            self.client.cancel(futures)
            raise
        return out

    def describe(self) -> str:
        return f"dask.distributed ({self._address}, {self.n_workers} threads)"


def check_scheduler_address(address) -> str:
    """``address`` stripped, if a dask.distributed scheduler can have it; :class:`ArgumentError` otherwise."""
    if not isinstance(address, str) or not address.strip() or len(address) > 300:
        raise ArgumentError(f"the scheduler address must be a string such as tcp://127.0.0.1:8786, got "
                            f"{address!r:.80}")
    try:
        from distributed.comm.addressing import parse_address
        from distributed.comm.registry import backends
    except ImportError:
        raise ArgumentError("a dask scheduler needs dask.distributed (pip install 'dask[distributed]')") from None
    address = address.strip()
    try:
        scheme, loc = parse_address(address)
    except (ValueError, TypeError):
        scheme, loc = None, ""
    if scheme not in backends:
        given = address.partition("://")[0] if "://" in address else str(scheme)
        raise ArgumentError(f"scheduler address `{address:.80}`: unknown protocol `{given:.20}`"
                            + did_you_mean(given, sorted(backends))
                            + f"; use tcp://HOST:PORT (protocols: {', '.join(sorted(backends))})")
    if scheme == "inproc":
        return address
    host, _, port = loc.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ArgumentError(f"scheduler address `{address:.80}` needs a host and a port, e.g. tcp://127.0.0.1:8786")
    return address


def _probe_scheduler(address: str, timeout: float) -> None:
    """Open a comm to the scheduler and ask its identity, all within ``timeout`` seconds (asyncio, so a silent
    peer is abandoned cleanly). Raises SchedulerConnectionError."""
    import asyncio

    async def probe():
        from distributed.comm import connect

        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            reply = await comm.read()
        finally:
            comm.abort()
        if not isinstance(reply, dict) or "type" not in reply:
            raise SchedulerConnectionError(f"the peer at {address} is not a dask scheduler")

    async def bounded():
        await asyncio.wait_for(probe(), timeout)

    outcome = []

    def run():
        try:
            asyncio.run(bounded())
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            outcome.append(exc)

    worker = threading.Thread(target=run, name="nmdakin-dask-probe", daemon=True)
    worker.start()
    worker.join(timeout + 2.0)
    if not outcome:
        raise SchedulerConnectionError(f"no answer from the dask scheduler at {address} within {timeout:g} s")
    exc = outcome[0]
    if exc is None:
        return
    if isinstance(exc, SchedulerConnectionError):
        raise exc
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        raise SchedulerConnectionError(f"no answer from the dask scheduler at {address} within {timeout:g} s")
    raise SchedulerConnectionError(f"cannot connect to the dask scheduler at {address}: "
                                   f"{type(exc).__name__}: {str(exc)[:200]}")


def connect_scheduler(address: str, timeout: float = CONNECT_TIMEOUT):
    """A ``dask.distributed.Client`` connected to the scheduler at ``address`` within ``timeout`` seconds in all.

    The address is checked first (``tcp://HOST:PORT``, or another protocol dask knows): ``nonsense://x`` is an
    :class:`~kinetics.errors.ArgumentError`. The scheduler must accept the connection *and answer* within the
    time limit; otherwise :class:`SchedulerConnectionError` (also a ``ConnectionError``). The client is the
    caller's to close.

    Examples
    --------
    >>> client = connect_scheduler("tcp://127.0.0.1:8786", timeout=5.0)     # doctest: +SKIP
    >>> fit(scheme, datasets, params, executor=client)                      # doctest: +SKIP
    """
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        raise ArgumentError(f"`timeout` must be a number of seconds, got {timeout!r}") from None
    if not 0 < timeout <= 3600:
        raise ArgumentError(f"`timeout` must be in (0, 3600] seconds, got {timeout}")
    address = check_scheduler_address(address)
    deadline = time.monotonic() + timeout
    _probe_scheduler(address, timeout)
    from distributed import Client

    left = max(deadline - time.monotonic(), 0.5)
    outcome = []

    def make():
        try:
            outcome.append(Client(address, timeout=left))
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    worker = threading.Thread(target=make, name="nmdakin-dask-connect", daemon=True)
    worker.start()
    worker.join(left + 2.0)
    if not outcome:
        raise SchedulerConnectionError(f"the dask scheduler at {address} answered but the client could not "
                                       f"start within {timeout:g} s")
    if isinstance(outcome[0], BaseException):
        exc = outcome[0]
        raise SchedulerConnectionError(f"cannot connect to the dask scheduler at {address}: "
                                       f"{type(exc).__name__}: {str(exc)[:200]}")
    return outcome[0]


def as_executor(executor=None) -> Executor:
    """An :class:`Executor` from what a user passes.

    ``None`` or ``"threads"`` -> :class:`ThreadExecutor` with every core; ``"processes"`` (or ``"local"``) ->
    :class:`ProcessExecutor` with every core; an ``int`` ``n`` -> ``n`` local processes; ``"serial"`` ->
    :class:`SerialExecutor`; a ``dask.distributed.Client`` -> :class:`DaskExecutor`; an :class:`Executor` is
    returned as is.
    """
    if executor is None:
        return ThreadExecutor()
    if isinstance(executor, Executor):
        return executor
    if isinstance(executor, str):
        choices = {"serial": SerialExecutor, "threads": ThreadExecutor, "processes": ProcessExecutor,
                   "local": ProcessExecutor}
        if executor.lower() in choices:
            return choices[executor.lower()]()
        raise ArgumentError(f"unknown executor {executor!r}" + did_you_mean(executor, list(choices))
                            + "; use None or 'threads' (this process), 'processes', 'serial', a number of "
                              "processes, or a dask.distributed.Client")
    if isinstance(executor, int) and not isinstance(executor, bool):
        return ProcessExecutor(executor)
    if type(executor).__name__ == "Client" and hasattr(executor, "map") and hasattr(executor, "scheduler_info"):
        return DaskExecutor(executor)
    raise ArgumentError(f"`executor` must be None, 'threads', 'processes', 'serial', a number of processes, a "
                        f"dask.distributed.Client or an Executor, got {type(executor).__name__}")
