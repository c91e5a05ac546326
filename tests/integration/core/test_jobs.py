"""Batch jobs on SQLite and PostgreSQL: run, retry, give up, survive a dead worker."""

import asyncio

import pytest

from core.clock import FrozenClock
from core.errors import ValidationFailed
from core.jobs import JobRunner
from core.store import Store


async def test_job_runs_and_stores_result(store: Store) -> None:
    runner = JobRunner(sessions=store.sessions, clock=FrozenClock())

    async def double(p: dict) -> dict:
        return {"out": p["n"] * 2}

    runner.register("double", double)
    job_id = await runner.submit("double", {"n": 21})
    assert await runner.run_until_idle() == 1
    job = await runner.get(job_id)
    assert (job.status, job.result, job.attempts) == ("done", {"out": 42}, 1)
    with pytest.raises(ValidationFailed):
        await runner.submit("nope", {})


async def test_failing_job_is_retried_then_failed(store: Store) -> None:
    runner = JobRunner(sessions=store.sessions, clock=FrozenClock())
    calls: list[int] = []

    async def boom(p: dict) -> None:
        calls.append(1)
        raise RuntimeError("disk on fire")

    runner.register("boom", boom)
    job_id = await runner.submit("boom", {}, max_attempts=2)
    await runner.run_until_idle()
    job = await runner.get(job_id)
    assert job.status == "failed" and len(calls) == 2 and "disk on fire" in job.error


async def test_expired_lease_is_claimed_again_never_twice_concurrently(store: Store) -> None:
    clock = FrozenClock()
    dead = JobRunner(sessions=store.sessions, clock=clock, lease_s=60)
    dead.register("x", lambda p: asyncio.sleep(0))
    job_id = await dead.submit("x", {})
    assert (await dead.claim()).id == job_id  # the worker "dies" holding the lease
    alive = JobRunner(sessions=store.sessions, clock=clock, lease_s=60)
    seen: list[str] = []

    async def record(p: dict) -> None:
        seen.append("ran")

    alive.register("x", record)
    assert await alive.claim() is None  # leased: nobody else may run it
    clock.advance(61)
    assert await alive.run_until_idle() == 1
    assert seen == ["ran"] and (await alive.get(job_id)).status == "done"
