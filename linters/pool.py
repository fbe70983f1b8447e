"""Worker processes that cannot take the run down with them.

* A worker that dies (a segfault in a native parser, an out-of-memory kill)
  breaks a ``ProcessPoolExecutor`` and every unfinished chunk with it. The files
  of those chunks are then checked again, each in a process of its own, so the
  file that kills its process is found and reported, and the others are not lost.
* Workers end with the parent: on Linux the kernel kills them when the parent
  dies, even by SIGKILL (``PR_SET_PDEATHSIG``); elsewhere a thread watches the
  parent. SIGTERM and SIGINT to the parent kill the workers before it exits.
  Workers ignore SIGINT: Ctrl-C reaches the whole process group, and the
  parent alone decides what happens.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait as wait_ready


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's share)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_worker(parent: int, init: Callable, initargs: tuple) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before we could ask to follow it
        os._exit(1)
    init(*initargs)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class _Terminated(BaseException):
    """SIGTERM arrived: unwind, kill the workers, then exit as terminated."""


def run_chunks(chunks: list[list], jobs: int, init: Callable, initargs: tuple, work: Callable,
               on_done: Callable, on_crash: Callable) -> None:
    """``work(chunk)`` for every chunk on up to ``jobs`` workers (``init(*initargs)``
    prepares each). ``on_done(chunk, value)`` gets each result in completion
    order; ``on_crash(item, exitcode)`` each item whose process died on it."""
    handler = None
    if threading.current_thread() is threading.main_thread():
        def terminate(signum, frame):
            raise _Terminated()
        handler = signal.signal(signal.SIGTERM, terminate)
    try:
        unfinished = _pooled(chunks, jobs, init, initargs, work, on_done)
        if unfinished:
            _one_process_each([item for chunk in unfinished for item in chunk], jobs, init, initargs,
                              work, on_done, on_crash)
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # the workers are gone: die as asked
        raise SystemExit(128 + signal.SIGTERM)  # (if SIGTERM is blocked)
    finally:
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


def _pooled(chunks, jobs, init, initargs, work, on_done) -> list[list]:
    """Run the chunks in a pool; the chunks lost when it broke."""
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), initializer=_start_worker,
                               initargs=(os.getpid(), init, initargs))
    lost = []
    try:
        futures = {pool.submit(work, chunk): chunk for chunk in chunks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    value = fut.result()
                except BrokenProcessPool:
                    lost.append(futures[fut])
                    continue
                on_done(futures[fut], value)
    except BaseException:
        _kill(pool)
        raise
    pool.shutdown(wait=True)
    return lost


def _kill(pool: ProcessPoolExecutor) -> None:
    # Kill first: the pool's own threads then see dead workers and stop, instead
    # of writing to queues a shutdown has closed (a traceback on stderr).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        if p.is_alive():
            p.kill()
    for p in processes:
        p.join(5)
    pool.shutdown(wait=True, cancel_futures=True)


def _one_process_each(items, jobs, init, initargs, work, on_done, on_crash) -> None:
    """Each item in a fresh process, ``jobs`` at a time."""
    ctx = multiprocessing.get_context()
    parent = os.getpid()
    running: dict = {}  # connection -> (process, item)
    queue = list(reversed(items))
    try:
        while queue or running:
            while queue and len(running) < jobs:
                item = queue.pop()
                reader, writer = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_alone, args=(writer, parent, init, initargs, work, item), daemon=True)
                p.start()
                writer.close()
                running[reader] = (p, item)
            for conn in wait_ready(list(running)):
                p, item = running.pop(conn)
                try:
                    value = conn.recv()
                except (EOFError, OSError):
                    value = None
                conn.close()
                p.join()
                if value is None:
                    on_crash(item, p.exitcode)
                else:
                    on_done([item], value)
    finally:
        for p, _ in running.values():
            p.kill()
            p.join(5)


def _alone(conn, parent, init, initargs, work, item) -> None:
    _start_worker(parent, init, initargs)
    conn.send(work([item]))
    conn.close()


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {-exitcode}, {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"
