"""A small pool of worker processes for page extraction, with a time limit per page.

Extraction is CPU-bound and runs in the crawl's single reactor thread unless it is moved out;
:class:`ExtractionPool` runs it in ``workers`` separate processes instead. Each worker is looked
after by one supervisor thread in the calling process, which hands it one task at a time over a
pipe and waits for the answer:

- a task that runs longer than ``timeout`` seconds is abandoned: its worker is killed and
  replaced, and the task's future raises :class:`TaskTimeout`;
- an exception in the function, or a worker that dies (segfault, out of memory), makes the
  future raise :class:`TaskFailed` (the page is reported, not lost);
- a worker is replaced by a fresh one after ``max_tasks_per_worker`` tasks, so that memory
  creeping up in long runs is given back;
- with ``max_memory``, each worker runs under that limit of address space (``RLIMIT_AS``, set as
  it starts): a task that needs more (a MemoryError, or a peak within 10% of the limit, since a
  failed allocation may be caught inside the function) fails with :class:`TaskMemory` and its
  worker is replaced, instead of the page growing the worker until the machine swaps.

``concurrent.futures.ProcessPoolExecutor`` recycles workers (``max_tasks_per_child``) but cannot
abandon a task that never returns, hence this pool. Workers are started with the ``forkserver``
method (the default), which preloads the function's module once and forks warm workers from a
process that has no reactor or threads of the crawl.

Ctrl-C in a terminal sends SIGINT to the whole process group. Only the calling process decides
what it means (Scrapy: stop gracefully, then at once): the supervisor threads block SIGINT, so the
fork server they start (whose preload runs for seconds) and the workers it forks inherit it
blocked, and workers also ignore it. A worker or fork server that dies anyway fails its tasks
(:class:`TaskFailed`); the supervisor threads never die with it.

The function and its arguments must be picklable (a module-level function); the default is
:func:`crawler.extract.extract`. ``submit`` returns a :class:`concurrent.futures.Future`; in an
asyncio program await it with ``asyncio.wrap_future``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import resource
import signal
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from multiprocessing.connection import Connection
from typing import Any, Self

__all__ = [
    "ExtractionPool",
    "PoolClosed",
    "PoolError",
    "TaskFailed",
    "TaskMemory",
    "TaskTimeout",
    "use_batch_scheduling",
]

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_STOP = object()
# What starting a worker raises when it cannot: no process or pipe (OSError), a pool being shut
# down (RuntimeError), a fork server that died (EOFError on its socket).
_START_ERRORS = (OSError, RuntimeError, EOFError)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def use_batch_scheduling() -> bool:
    """Put every thread of this process (and so the processes it starts) under Linux's SCHED_BATCH
    policy; False where there is none.

    A crawl is a batch job: its reactor wakes up for every packet and item, and under the default
    policy each wake-up preempts an extraction worker in the middle of a page, which costs the
    worker its caches. Batch threads do not preempt on wake-up; they run when a worker waits for
    its next page or its time slice ends. Measured on a 2-CPU machine: workers' CPU per page -5%,
    articles per second +5-7% (bench/RESULTS.md).
    """
    policy = getattr(os, "SCHED_BATCH", None)
    if policy is None or not os.path.isdir("/proc/self/task"):
        return False
    try:
        for tid in os.listdir("/proc/self/task"):
            os.sched_setscheduler(int(tid), policy, os.sched_param(0))
    except (OSError, ValueError):  # a thread that just ended; a system that forbids it
        return False
    return True


def _block_sigint() -> None:
    """Block SIGINT in the calling thread; processes it starts inherit the mask."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _start_helpers(start_method: str) -> None:
    """Start multiprocessing's resource tracker, then (forkserver) the fork server with SIGINT
    blocked, from a thread of their own: the fork server's preload runs for seconds, and a Ctrl-C
    meant for the crawl must not kill it. (Starting the resource tracker unblocks SIGINT in the
    thread that starts it, hence the order.)"""

    def start() -> None:
        from multiprocessing import forkserver, resource_tracker

        resource_tracker.ensure_running()
        _block_sigint()
        if start_method == "forkserver":
            forkserver.ensure_running()

    thread = threading.Thread(target=start, name="extract-pool-start", daemon=True)
    thread.start()
    thread.join()


class PoolError(Exception):
    """A task submitted to the pool did not produce a result."""


class TaskTimeout(PoolError):
    """The task ran longer than the pool's time limit; its worker was killed and replaced."""


class TaskFailed(PoolError):
    """The function raised (``detail`` holds the worker's traceback), or its worker died."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


class TaskMemory(TaskFailed):
    """The task needed more memory than the pool's ``max_memory``; its worker was replaced."""


class PoolClosed(PoolError):
    """The pool was closed before the task could run."""


def _limit_memory(max_memory: int | None) -> None:
    """Cap this process's address space at ``max_memory`` bytes (None: no cap): past it,
    allocations fail and Python raises MemoryError."""
    if max_memory:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))


# A task that took the worker's address space this close to its limit is over it: a failed allocation
# may have been caught inside the function (lxml, trafilatura) and turned into a wrong result.
_MEMORY_MARGIN = 0.9


def _vm_peak() -> int:
    """This process's peak address space in bytes (Linux ``VmPeak``), 0 where unknown."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _worker_main(conn: Connection, func: Callable[..., Any], max_memory: int | None = None) -> None:
    """A worker's loop: receive ``(args, kwargs)``, send back ``("ok", result)``, ``("error", ...)``
    or ``("memory", ...)`` (then it exits: a process that ran out of memory is not reused)."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(max_memory)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent went away
            return
        if message is None:
            return
        args, kwargs = message
        before = _vm_peak() if max_memory else 0
        over = f"over the memory limit of {max_memory} bytes"
        try:
            reply: tuple[Any, ...] = ("ok", func(*args, **kwargs))
        except MemoryError:
            reply = ("memory", over, None)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which records the page as failed
            reply = ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
        if max_memory and reply[0] != "memory":
            peak = _vm_peak()
            if peak > before and peak >= _MEMORY_MARGIN * max_memory:
                reply = ("memory", f"{over} (peak {peak} bytes)", None)
        try:
            conn.send(reply)
        except (TypeError, AttributeError, ValueError) as exc:  # an unpicklable result
            conn.send(("error", f"cannot send the result back: {type(exc).__name__}: {exc}", None))
        except (BrokenPipeError, OSError):
            return
        if reply[0] == "memory":
            return


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, func: Callable[..., Any], name: str, max_memory: int | None = None) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=_worker_main, args=(child, func, max_memory), name=name, daemon=True
        )
        self.process.start()
        child.close()
        self.tasks = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def stop(self, *, kill: bool = False, wait: float = 2.0) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
            self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(wait)
        self.conn.close()
        self.process.close()


class ExtractionPool:
    """Run ``func`` (default :func:`crawler.extract.extract`) in worker processes.

    ``workers``: number of processes (default: one per CPU). ``timeout``: seconds a task may run
    before it is abandoned (None: no limit). ``max_tasks_per_worker``: tasks after which a worker
    is replaced (None or 0: never). ``start_method``: ``forkserver`` (default), ``spawn`` or
    ``fork``. ``preload``: modules the fork server imports (default: the function's module; for
    the default function also :mod:`crawler.pool_warmup`). ``max_memory``: bytes of address space
    each worker may use (None: no limit). Use it as a context manager, or call :meth:`close`.

    ``counts`` tallies ``tasks`` (finished, whatever the outcome), ``errors``, ``timeouts``,
    ``memory`` (over ``max_memory``), ``lost`` (worker died), ``started`` and ``recycled`` workers.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        func: Callable[..., Any] | None = None,
        timeout: float | None = 5.0,
        max_tasks_per_worker: int | None = 500,
        start_method: str = "forkserver",
        preload: list[str] | None = None,
        max_memory: int | None = None,
    ) -> None:
        if func is None:
            from crawler.extract import extract

            func = extract
            if preload is None:
                preload = ["crawler.extract", "crawler.pool_warmup"]
        self.func = func
        self.size = workers or os.cpu_count() or 1
        self.timeout = timeout if timeout and timeout > 0 else None
        self.max_tasks = max_tasks_per_worker or None
        self.max_memory = max_memory or None
        self._ctx = multiprocessing.get_context(start_method)
        if start_method == "forkserver":
            # Imported once in the fork server (the first pool of a process starts it); workers
            # forked from it start warm.
            self._ctx.set_forkserver_preload(preload if preload is not None else [func.__module__])
        self.counts: Counter[str] = Counter()
        # Time the workers spent waiting for a task, summed: a pool that starves shows it here.
        self.idle_seconds = 0.0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers: list[_Worker | None] = [None] * self.size
        self._closed = False
        if start_method in ("forkserver", "spawn"):
            _start_helpers(start_method)
        self._threads = [
            threading.Thread(target=self._supervise, args=(i,), name=f"extract-pool-{i}", daemon=True)
            for i in range(self.size)
        ]
        for thread in self._threads:
            thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``func(*args, **kwargs)``; the future gives its result or raises a :class:`PoolError`."""
        if self._closed:
            raise PoolClosed("the pool is closed")
        future: Future[Any] = Future()
        self._queue.put((future, args, kwargs))
        return future

    def worker_pids(self) -> list[int]:
        """Process ids of the workers alive now (a slot whose worker is being replaced has none)."""
        with self._lock:
            return [w.pid for w in self._workers if w is not None and w.pid is not None]

    def close(self, *, wait: float = 10.0) -> None:
        """Stop taking tasks, let the running ones finish, stop the workers; cancel what is queued."""
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(wait + (self.timeout or 0))
        while True:  # tasks queued behind the stop markers
            try:
                task = self._queue.get_nowait()
            except queue.Empty:
                break
            if task is not _STOP:
                task[0].set_exception(PoolClosed("the pool was closed before the task ran"))

    # -- supervisor threads -------------------------------------------------------------------

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def _worker(self, slot: int) -> _Worker:
        worker = self._workers[slot]
        if worker is None:
            worker = _Worker(self._ctx, self.func, name=f"extract-worker-{slot}", max_memory=self.max_memory)
            with self._lock:
                self._workers[slot] = worker
                self.counts["started"] += 1
        return worker

    def _try_start(self, slot: int) -> None:
        """Start the slot's worker ahead of its next task; a failure is logged, and the next task
        tries again (and fails with TaskFailed if it cannot)."""
        try:
            self._worker(slot)
        except _START_ERRORS as exc:
            logger.error("cannot start an extraction worker: %s", _describe(exc))

    def _retire(self, slot: int, *, kill: bool) -> None:
        worker = self._workers[slot]
        if worker is None:
            return
        with self._lock:
            self._workers[slot] = None
        worker.stop(kill=kill)

    def _supervise(self, slot: int) -> None:
        # Processes started from this thread (workers of the fork and spawn methods) inherit it.
        _block_sigint()
        try:
            self._try_start(slot)  # start now: the first task finds a warm worker
            while True:
                waited = time.monotonic()
                task = self._queue.get()
                if task is _STOP:
                    break
                with self._lock:
                    self.idle_seconds += time.monotonic() - waited
                future, args, kwargs = task
                if not future.set_running_or_notify_cancel():
                    continue
                self._run(slot, future, args, kwargs)
        finally:
            self._retire(slot, kill=False)

    def _run(self, slot: int, future: Future[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            worker = self._worker(slot)
        except _START_ERRORS as exc:  # no process can be started: the task fails, not hangs
            self._count("tasks")
            self._count("lost")
            future.set_exception(TaskFailed(f"cannot start an extraction worker: {_describe(exc)}"))
            return
        try:
            worker.conn.send((args, kwargs))
        except (BrokenPipeError, OSError):  # it died while idle: start another and try once more
            self._retire(slot, kill=True)
            try:
                worker = self._worker(slot)
                worker.conn.send((args, kwargs))
            except _START_ERRORS as exc:
                self._fail(slot, future, TaskFailed(f"worker unreachable: {exc}"), "lost")
                return
        except (TypeError, AttributeError, ValueError) as exc:  # unpicklable arguments
            self._count("tasks")
            self._count("errors")
            future.set_exception(TaskFailed(f"cannot send the task: {type(exc).__name__}: {exc}"))
            return
        if not worker.conn.poll(self.timeout):
            pid = worker.pid
            self._fail(
                slot,
                future,
                TaskTimeout(f"no result after {self.timeout:g}s (worker {pid} killed)"),
                "timeouts",
            )
            return
        try:
            reply = worker.conn.recv()
        except (EOFError, OSError):
            code = worker.process.exitcode
            self._fail(slot, future, TaskFailed(f"worker {worker.pid} died (exit code {code})"), "lost")
            return
        worker.tasks += 1
        self._count("tasks")
        if reply[0] == "ok":
            future.set_result(reply[1])
        elif reply[0] == "memory":
            self._count("memory")
            message = f"worker {worker.pid} {reply[1]} (replaced)"
            self._retire(slot, kill=False)  # it exits by itself
            future.set_exception(TaskMemory(message))
            if not self._closed:
                self._try_start(slot)
            return
        else:
            self._count("errors")
            future.set_exception(TaskFailed(reply[1], reply[2]))
        if self.max_tasks and worker.tasks >= self.max_tasks:
            self._retire(slot, kill=False)
            self._count("recycled")
            self._try_start(slot)

    def _fail(self, slot: int, future: Future[Any], exc: PoolError, key: str) -> None:
        """Abandon the slot's worker (killed), record the failure, start a replacement."""
        self._retire(slot, kill=True)
        self._count("tasks")
        self._count(key)
        future.set_exception(exc)
        if not self._closed:
            self._try_start(slot)
