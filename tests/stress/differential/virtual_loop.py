"""CPython's asyncio on virtual time: the loop reference.py runs its scenarios on.

The loop is asyncio's own SelectorEventLoop; only where time comes from changes.
BaseEventLoop._run_once computes the select() timeout from the earliest timer, calls
selector.select(timeout), then moves every timer with when < time() + _clock_resolution
to the ready queue. VirtualSelector.select() therefore looks for I/O without blocking
and, when asked to wait, jumps the clock to exactly that earliest timer (read from the
heap, not added up from the timeout, so no rounding creeps in). That is what the C++
VirtualClock does (lesson01_loop/clocks.hpp), with the same 1 ns resolution.

The divergences the comparison allows, each with its reason, are listed in one place:
allow_list.py (item 1, equal deadlines in FIFO order, is FifoTimerHandle below).
"""

import asyncio
import heapq
import itertools
import selectors
from asyncio import events

from allow_list import task_factory


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


class VirtualLoop(asyncio.SelectorEventLoop):
    """asyncio.SelectorEventLoop with time() on a virtual clock starting at 0."""

    def __init__(self):
        selector = VirtualSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = 0.0
        self._clock_resolution = 1e-9  # as aio::VirtualClock::resolution()
        self.set_task_factory(task_factory)

    def time(self):
        return self.now

    # asyncio: BaseEventLoop.call_at, with a FifoTimerHandle instead of a TimerHandle.
    def call_at(self, when, callback, *args, context=None):
        self._check_closed()
        timer = FifoTimerHandle(when, callback, args, self, context)
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer
