"""The allow-list of the differential test: the known, explained divergences between
CPython 3.11's asyncio and this library, and nothing else.

Each item is applied to the reference side (reference.py runs CPython's asyncio with
these patches, on virtual_loop.py's loop), so that a trace still compares everything
else exactly. An item is here for one of two reasons: the library follows a later
CPython fix and says so in its READMEs (2, 3, 6, 7, 8), or CPython's behaviour is an
accident of its implementation that no program can rely on (1, 4, 5, 9). A library bug
is never listed here: it stays a mismatch until fixed (see cases/).

  1. Timers with equal deadlines run in the order they were scheduled (FIFO), as the
     library documents (lesson01_loop/README.md, "Equal deadlines run in scheduling
     order"). CPython's TimerHandle compares `when` only, and heapq is not stable, so
     its order among equal deadlines is an accident of the heap's shape. Being part of
     the loop, this one is virtual_loop.py's FifoTimerHandle.
  2. Task.uncancel() reaching zero also clears a pending _must_cancel: asyncio 3.13's
     fix, which lesson03_tasks/README.md says the library follows.
  3. wait_for is 3.12's (gh-96764): `async with timeout(t): return await fut`, as the
     library documents (lesson03_tasks/timeouts.hpp).
  4. A task that ends cancelled keeps its cancel message for every reader. CPython's
     Task.__step ends it with a bare Future.cancel(), which forgets the message: only
     the first reader of the result gets the original CancelledError('msg'), later
     readers (a second awaiter, gather(return_exceptions=True), which reads
     _cancel_message) get CancelledError(''). Which reader comes first is an accident
     of scheduling; the library gives every reader the message. (Not documented in
     the library's READMEs yet: reported with the differential test.)
  5. A gather cancelled while its children run ends with CancelledError carrying the
     message of the child whose completion ended it (the last one to finish, or a
     cancelled one when return_exceptions is false) if that child was cancelled, else the
     message given to gather.cancel(). CPython means the same ("fut._make_cancelled_
     error()") but its _done_callback has just reused the name `fut` as the loop
     variable of `for fut in children`, so it reads the last child in argument order,
     whatever it did (a child that returned gives ''). The quirk, not a rule.
  6. TaskGroup.__aexit__ is 3.13's (gh-116720), as the library documents
     (lesson03_tasks/taskgroups.hpp): the group withdraws its own cancel request
     (uncancel) after the children are done, also when the body did not see it.
  7. Condition.wait() is 3.13's (gh-111693, gh-112202: the lock is re-acquired even
     if cancelled and the most recent CancelledError re-raised), except that a waiter
     that fails passes a notification on only if it had consumed one, as the library
     documents (lesson04_sync/locks.hpp); 3.13 passes one on after any failure.
  8. Timeout is 3.11.7's (the same in 3.12): at the exit it converts the cancellation
     into TimeoutError only if uncancel() brings the count back to its value at entry
     (3.11.0-3.11.6 compared with 0, as Debian 12's 3.11.2 still does), as the library
     documents (lesson03_tasks/timeouts.hpp). With it the reference is the same on
     every 3.11 patch level.
  9. TaskGroup cancels its children in the order they were created. CPython keeps
     them in a set and cancels them in the set's order, which follows the tasks'
     memory addresses: the order their CancelledErrors land in changes from run to
     run (another CPython quirk; the library keeps creation order).
Everything else is CPython 3.11's asyncio, unmodified.
"""

import asyncio
import itertools
from asyncio import events, exceptions, taskgroups, tasks, timeouts


class Task313(tasks._PyTask):
    """Allow-list items 2 and 4 (the pure-Python Task, otherwise as is)."""

    _creations = itertools.count()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._created = next(Task313._creations)  # for item 9

    def uncancel(self):
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
            if self._num_cancels_requested == 0:
                self._must_cancel = False
        return self._num_cancels_requested

    def add_done_callback(self, fn, *, context=None):
        """For item 5: notes which child's gather callback is running."""
        if getattr(fn, "__qualname__", "") == "gather.<locals>._done_callback":
            gather_done_callback = fn

            def fn(child):
                GatheringFuture.finishing = child
                gather_done_callback(child)

        super().add_done_callback(fn, context=context)

    def _Future__schedule_callbacks(self):
        """Allow-list item 4: runs as the task completes, before any reader."""
        exc = self._cancelled_exc
        if self._state == "CANCELLED" and exc is not None and self._cancel_message is None:
            self._cancel_message = exc.args[0] if exc.args else None
        super()._Future__schedule_callbacks()


def task_factory(loop, coro, context=None):
    """Every task is a Task313 (loop.set_task_factory)."""
    return Task313(coro, loop=loop, context=context)


class GatheringFuture(tasks._GatheringFuture):
    """Allow-list item 5: what gather's cancelled outer future raises."""

    def __init__(self, children, *, loop):
        super().__init__(children, loop=loop)
        self._message = None

    def cancel(self, msg=None):
        cancelled = super().cancel(msg=msg)
        if cancelled:
            self._message = msg
        return cancelled

    finishing = None  # the child whose gather done callback is running

    def set_exception(self, exception):
        if self._cancel_requested and isinstance(exception, exceptions.CancelledError):
            last = GatheringFuture.finishing
            message = last._cancel_message if last.cancelled() else self._message
            exception = exceptions.CancelledError(message or "")
        super().set_exception(exception)


tasks._GatheringFuture = GatheringFuture  # gather() looks the class up when called


class TaskGroup(taskgroups.TaskGroup):
    """Allow-list item 6: asyncio 3.13's TaskGroup.__aexit__ (its _aexit), as is;
    item 9: _abort() in creation order."""

    def _abort(self):
        self._aborting = True
        for task in sorted(self._tasks, key=lambda task: task._created):
            if not task.done():
                task.cancel()

    async def __aexit__(self, et, exc, tb):
        self._exiting = True
        if exc is not None and self._is_base_error(exc) and self._base_error is None:
            self._base_error = exc
        if et is not None and issubclass(et, exceptions.CancelledError):
            propagate_cancellation_error = exc
        else:
            propagate_cancellation_error = None
        if et is not None and not self._aborting:
            self._abort()
        while self._tasks:
            if self._on_completed_fut is None:
                self._on_completed_fut = self._loop.create_future()
            try:
                await self._on_completed_fut
            except exceptions.CancelledError as ex:
                if not self._aborting:
                    propagate_cancellation_error = ex
                    self._abort()
            self._on_completed_fut = None
        if self._base_error is not None:
            raise self._base_error
        if self._parent_cancel_requested:
            if self._parent_task.uncancel() == 0:
                propagate_cancellation_error = None
        if propagate_cancellation_error is not None and not self._errors:
            raise propagate_cancellation_error
        if et is not None and not issubclass(et, exceptions.CancelledError):
            self._errors.append(exc)
        if self._errors:
            if self._parent_task.cancelling():
                self._parent_task.uncancel()
                self._parent_task.cancel()
            raise BaseExceptionGroup("unhandled errors in a TaskGroup", self._errors) from None


class Condition(asyncio.Condition):
    """Allow-list item 7."""

    async def wait(self):
        if not self.locked():
            raise RuntimeError("cannot wait on un-acquired lock")
        self.release()
        fut = self._get_loop().create_future()
        self._waiters.append(fut)
        error = None
        try:
            await fut
        except exceptions.CancelledError as exc:
            error = exc
        finally:
            self._waiters.remove(fut)
        while True:  # re-acquire, even if cancelled meanwhile
            try:
                await self.acquire()
                break
            except exceptions.CancelledError as exc:
                error = exc
        if error is not None:
            if fut.done() and not fut.cancelled():  # consumed a notification
                self._pass_on()
            raise error
        return True

    def _pass_on(self):
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(False)
                return


class Timeout(timeouts.Timeout):
    """Allow-list item 8: asyncio 3.11.7's __aenter__ and __aexit__, word for word."""

    async def __aenter__(self):
        if self._state is not timeouts._State.CREATED:
            raise RuntimeError("Timeout has already been entered")
        task = tasks.current_task()
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._state = timeouts._State.ENTERED
        self._task = task
        self._cancelling = self._task.cancelling()
        self.reschedule(self._when)
        return self

    async def __aexit__(self, exc_type, exc_val, exc_tb):
        assert self._state in (timeouts._State.ENTERED, timeouts._State.EXPIRING)
        if self._timeout_handler is not None:
            self._timeout_handler.cancel()
            self._timeout_handler = None
        if self._state is timeouts._State.EXPIRING:
            self._state = timeouts._State.EXPIRED
            if (self._task.uncancel() <= self._cancelling
                    and exc_type is exceptions.CancelledError):
                raise TimeoutError from exc_val
        elif self._state is timeouts._State.ENTERED:
            self._state = timeouts._State.EXITED
        return None


def timeout(delay):
    """asyncio.timeout(delay), with item 8's Timeout."""
    loop = events.get_running_loop()
    return Timeout(loop.time() + delay if delay is not None else None)


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
    # 3.12: `async with timeouts.timeout(timeout)`; the parameter hides our timeout().
    when = None if timeout is None else events.get_running_loop().time() + timeout
    async with Timeout(when):
        return await fut
