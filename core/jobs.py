"""Batch jobs on the store: submit, lease, run, retry — durable across restarts.

Jobs are rows; a worker claims one by moving it from ``queued`` to ``running`` with a
lease in a single conditional UPDATE, so two workers (threads, processes or machines on
PostgreSQL) never run the same job. A job whose worker died is claimed again when its lease
expires; a failing job is retried up to ``max_attempts`` and then marked ``failed`` with the
error kept. Handlers are registered by kind in the composition root.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock
from core.errors import NotFoundError, ValidationFailed
from core.events import new_id
from core.store.tables.jobs import JobRow

JobHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]
log = structlog.get_logger("hotline.jobs")


class JobRunner:
    """Runs registered job kinds from the store, ``concurrency`` at a time."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker,
        clock: Clock,
        lease_s: float = 600.0,
        poll_s: float = 1.0,
        concurrency: int = 1,
    ):
        self.sessions = sessions
        self.clock = clock
        self.lease = timedelta(seconds=lease_s)
        self.poll_s = poll_s
        self.concurrency = concurrency
        self.handlers: dict[str, JobHandler] = {}
        self._tasks: list[asyncio.Task] = []
        self._wake = asyncio.Event()

    def register(self, kind: str, handler: JobHandler) -> None:
        self.handlers[kind] = handler

    async def submit(self, kind: str, payload: dict[str, Any], *, max_attempts: int = 3) -> str:
        if kind not in self.handlers:
            raise ValidationFailed(f"unknown job kind {kind!r}; known: {sorted(self.handlers)}")
        job_id = new_id()
        async with self.sessions() as s:
            s.add(
                JobRow(
                    id=job_id,
                    kind=kind,
                    payload=payload,
                    status="queued",
                    attempts=0,
                    max_attempts=max_attempts,
                    created_at=self.clock.now(),
                )
            )
            await s.commit()
        self._wake.set()
        return job_id

    async def get(self, job_id: str) -> JobRow:
        async with self.sessions() as s:
            row = await s.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"no job {job_id!r}")
        return row

    async def claim(self) -> JobRow | None:
        """Lease the oldest runnable job, or None. Safe against concurrent workers."""
        now = self.clock.now()
        runnable = or_(
            JobRow.status == "queued",
            (JobRow.status == "running") & (JobRow.lease_until < now),
        )
        async with self.sessions() as s:
            candidates = (
                await s.scalars(
                    select(JobRow.id)
                    .where(runnable, JobRow.kind.in_(self.handlers))
                    .order_by(JobRow.created_at)
                    .limit(5)
                )
            ).all()
            for job_id in candidates:
                res = await s.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, runnable)
                    .values(
                        status="running",
                        lease_until=now + self.lease,
                        started_at=now,
                        attempts=JobRow.attempts + 1,
                    )
                )
                if res.rowcount == 1:
                    await s.commit()
                    return await s.get(JobRow, job_id, populate_existing=True)
            await s.commit()
        return None

    async def run_one(self) -> bool:
        """Claim and run one job; returns False when there was nothing to do."""
        job = await self.claim()
        if job is None:
            return False
        status, result, error = "done", None, None
        try:
            result = await self.handlers[job.kind](dict(job.payload))
        except Exception as e:
            error = f"{type(e).__name__}: {e}"[:2000]
            status = "failed" if job.attempts >= job.max_attempts else "queued"
            log.warning(
                "job.failed",
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempts,
                error=type(e).__name__,
            )
        async with self.sessions() as s:
            await s.execute(
                update(JobRow)
                .where(JobRow.id == job.id)
                .values(
                    status=status,
                    result=result,
                    error=error,
                    lease_until=None,
                    finished_at=self.clock.now() if status != "queued" else None,
                )
            )
            await s.commit()
        return True

    async def run_until_idle(self) -> int:
        """Run jobs until none is runnable (CLI `hotline jobs run`, tests)."""
        n = 0
        while await self.run_one():
            n += 1
        return n

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"jobs-{i}") for i in range(self.concurrency)
        ]

    async def close(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks = []

    async def _loop(self) -> None:
        while True:
            try:
                ran = await self.run_one()
            except Exception as e:  # the store hiccupped: keep the worker alive
                log.warning("jobs.loop_error", error=type(e).__name__)
                ran = False
            if not ran:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
