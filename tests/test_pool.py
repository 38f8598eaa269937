"""The extraction worker pool: time limit, recycling, errors as failures; and a crawl through it."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from crawler.pool import ExtractionPool, PoolClosed, TaskFailed, TaskTimeout
from tests.conftest import FAST, run_scrapy


# Task functions: module level, so that workers can unpickle them by name.
def pid_of_worker(_: object = None) -> int:
    return os.getpid()


def nap(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return os.getpid()


def fail(message: str) -> None:
    raise ValueError(message)


def die(code: int) -> None:
    os._exit(code)


@pytest.mark.parametrize("stuck", [nap, spin])
def test_task_over_time_limit_is_abandoned_and_worker_replaced(stuck):
    with ExtractionPool(1, func=stuck, timeout=0.5, start_method="forkserver") as pool:
        first = pool.submit(0).result(timeout=30)
        started = time.monotonic()
        with pytest.raises(TaskTimeout):
            pool.submit(30).result(timeout=30)
        assert time.monotonic() - started < 10
        after = pool.submit(0).result(timeout=30)
        assert after != first, "the stuck worker was not replaced"
        assert pool.counts["timeouts"] == 1
        assert pool.worker_pids() == [after]
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_workers_recycled_after_max_tasks():
    with ExtractionPool(1, func=pid_of_worker, timeout=10, max_tasks_per_worker=3) as pool:
        pids = [pool.submit().result(timeout=30) for _ in range(7)]
        assert pids[0] == pids[1] == pids[2]
        assert pids[3] == pids[4] == pids[5]
        assert len({pids[0], pids[3], pids[6]}) == 3
        assert pool.counts["recycled"] == 2


def test_exception_in_worker_is_a_failure_and_worker_goes_on():
    with ExtractionPool(1, func=fail, timeout=10) as pool:
        with pytest.raises(TaskFailed) as info:
            pool.submit("boom").result(timeout=30)
        assert "ValueError: boom" in str(info.value)
        assert "Traceback" in info.value.detail
        assert pool.counts["errors"] == 1 and pool.counts["started"] == 1


def test_dead_worker_is_a_failure_and_replaced():
    with ExtractionPool(1, func=die, timeout=10) as pool:
        with pytest.raises(TaskFailed, match="died"):
            pool.submit(3).result(timeout=30)
        assert pool.counts["lost"] == 1
        with pytest.raises(TaskFailed):
            pool.submit(4).result(timeout=30)  # a new worker ran (and died) again


def test_tasks_run_in_parallel_and_closed_pool_refuses():
    pool = ExtractionPool(2, func=nap, timeout=10)
    try:
        pool.submit(0).result(timeout=30)
        started = time.monotonic()
        futures = [pool.submit(0.6) for _ in range(2)]
        pids = {f.result(timeout=30) for f in futures}
        assert len(pids) == 2
        assert time.monotonic() - started < 1.1
    finally:
        pool.close()
    with pytest.raises(PoolClosed):
        pool.submit(0)


def test_default_function_is_extract():
    html = (
        "<html lang='en'><head><title>Harbour plan</title></head><body><article><h1>Harbour plan</h1>"
        + "".join(
            f"<p>The council met on day {i} and agreed that the harbour would be dredged before winter,"
            " so that larger ferries could dock safely in every kind of weather.</p>"
            for i in range(6)
        )
        + "</article></body></html>"
    )
    with ExtractionPool(1) as pool:
        article = pool.submit(html.encode(), "http://example.org/a").result(timeout=60)
    assert article is not None and "harbour would be dredged" in article.body
    assert article.lang == "en"
