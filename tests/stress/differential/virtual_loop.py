"""CPython's asyncio on virtual time, and the few documented backports that make it the
reference the C++ library claims to follow.

The loop is asyncio's own SelectorEventLoop; only where time comes from changes.
BaseEventLoop._run_once computes the select() timeout from the earliest timer, calls
selector.select(timeout), then moves every timer with when < time() + _clock_resolution
to the ready queue. VirtualSelector.select() therefore looks for I/O without blocking
and, when asked to wait, jumps the clock to exactly that earliest timer (read from the
heap, not added up from the timeout, so no rounding creeps in). That is what the C++
VirtualClock does (lesson01_loop/clocks.hpp), with the same 1 ns resolution.

The allow-list of known, explained divergences is this file, and nothing else:
  1. Timers with equal deadlines run in the order they were scheduled (FIFO), as the
     library documents (lesson01_loop/README, "Differences from asyncio"). CPython's
     TimerHandle compares `when` only, and heapq is not stable, so its order among equal
     deadlines is an accident of the heap's shape: the CPython quirk.
  2. Task.uncancel() reaching zero also clears a pending _must_cancel: asyncio 3.13's
     fix, which lesson03_tasks/README.md says the library follows.
  3. wait_for is 3.12's (gh-96764): `async with timeout(t): return await fut`, as the
     library documents (lesson03_tasks/timeouts.hpp).
Everything else is CPython 3.11's asyncio, unmodified.
"""

import asyncio
import heapq
import itertools
import selectors
from asyncio import events, exceptions, tasks, timeouts


class VirtualSelector(selectors.DefaultSelector):
    """A real selector (the loop's self-pipe stays real) whose waits take no time."""

    def __init__(self):
        super().__init__()
        self.loop = None  # set by VirtualLoop

    def select(self, timeout=None):
        ready = super().select(0)
        if ready or not timeout:
            return ready
        # Idle until the earliest timer: jump there. _run_once popped cancelled
        # timers off the top of the heap already, so the top is the one it meant.
        self.loop.now = max(self.loop.now, self.loop._scheduled[0]._when)
        return []


class FifoTimerHandle(events.TimerHandle):
    """Allow-list item 1: equal deadlines keep their scheduling order."""

    _sequence = itertools.count()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seq = next(FifoTimerHandle._sequence)

    def __lt__(self, other):
        return (self._when, self._seq) < (other._when, other._seq)

    def __gt__(self, other):
        return (self._when, self._seq) > (other._when, other._seq)


class Task313(tasks._PyTask):
    """Allow-list item 2: 3.13's uncancel() (the pure-Python Task, otherwise as is)."""

    def uncancel(self):
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
            if self._num_cancels_requested == 0:
                self._must_cancel = False
        return self._num_cancels_requested


def _task_factory(loop, coro, context=None):
    return Task313(coro, loop=loop, context=context)


class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio.SelectorEventLoop with time() on a virtual clock starting at 0."""

    def __init__(self):
        selector = VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0
        self._clock_resolution = 1e-9  # as aio::VirtualClock::resolution()
        self.set_task_factory(_task_factory)

    def time(self):
        return self.now

    # asyncio: BaseEventLoop.call_at, with a FifoTimerHandle instead of a TimerHandle.
    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = FifoTimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer


async def _cancel_and_wait(fut):
    """asyncio 3.12: tasks._cancel_and_wait."""
    loop = events.get_running_loop()
    waiter = loop.create_future()

    def release(_):
        if not waiter.done():
            waiter.set_result(None)

    fut.add_done_callback(release)
    try:
        fut.cancel()
        await waiter
    finally:
        fut.remove_done_callback(release)


async def wait_for(fut, timeout):
    """Allow-list item 3: asyncio 3.12's tasks.wait_for, word for word."""
    if timeout is not None and timeout <= 0:
        fut = asyncio.ensure_future(fut)
        if fut.done():
            return fut.result()
        await _cancel_and_wait(fut)
        try:
            return fut.result()
        except exceptions.CancelledError as exc:
            raise TimeoutError from exc
    async with timeouts.timeout(timeout):
        return await fut
