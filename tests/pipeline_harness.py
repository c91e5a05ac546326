"""Run frames through one pipecat processor and collect what comes out (pipecat's run_test,
but it waits for a condition instead of ending right away: our stages answer from tasks)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pipecat.frames.frames import Frame, StartFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner


@dataclass
class Collected:
    down: list[Frame] = field(default_factory=list)
    up: list[Frame] = field(default_factory=list)

    def of(self, cls: type, direction: str = "down") -> list:
        return [f for f in getattr(self, direction) if isinstance(f, cls)]


class _Tap(FrameProcessor):
    def __init__(self, sink: list[Frame], direction: FrameDirection, changed: asyncio.Event):
        super().__init__()
        self.sink, self.direction, self.changed = sink, direction, changed

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if direction == self.direction and not isinstance(frame, StartFrame):
            self.sink.append(frame)
            self.changed.set()
        await self.push_frame(frame, direction)


class StageRun:
    """A running one-stage pipeline: ``send`` frames, ``wait`` for what comes out."""

    def __init__(self, stage: FrameProcessor, *, timeout_s: float = 10.0) -> None:
        self.out = Collected()
        self.timeout_s = timeout_s
        self._changed = asyncio.Event()
        self._head = _Tap(self.out.up, FrameDirection.UPSTREAM, self._changed)
        self._tail = _Tap(self.out.down, FrameDirection.DOWNSTREAM, self._changed)
        self.worker = PipelineWorker(
            Pipeline([self._head, stage, self._tail]), enable_rtvi=False, check_dangling_tasks=False
        )
        self._run: asyncio.Task | None = None

    async def __aenter__(self) -> StageRun:
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(self.worker)
        self._run = asyncio.create_task(runner.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.worker.cancel()
        assert self._run is not None
        await asyncio.wait_for(self._run, self.timeout_s)

    async def send(self, frames: Sequence[Frame]) -> None:
        await self.worker.queue_frames(list(frames))

    async def wait(self, until: Callable[[Collected], bool]) -> Collected:
        async def loop() -> None:
            while not until(self.out):
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), self.timeout_s)
        return self.out


async def run_stage(
    stage: FrameProcessor,
    frames: Sequence[Frame],
    *,
    until: Callable[[Collected], bool],
    timeout_s: float = 10.0,
) -> Collected:
    """Send ``frames`` downstream and return what came out once ``until`` holds."""
    async with StageRun(stage, timeout_s=timeout_s) as run:
        await run.send(frames)
        return await run.wait(until)
