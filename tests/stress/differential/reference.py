"""The reference interpreter: runs scenarios (scenario.py) under CPython's asyncio on
virtual time (virtual_loop.py) and returns their event traces. Where the library
deliberately differs from CPython 3.11, the asyncio pieces used here come from
allow_list.py (its docstring lists each difference and why); all else is asyncio's.

What is compared, and why: every task appends lines such as
    t=1.5 T3 start            t=2 T3 caught CancelledError('m4')
    t=2 T1 await T3 -> CancelledError('m4')      t=2 T3 return 3
in the order the events happen, so a trace pins down not only each outcome but the
interleaving: which task ran first in an iteration, at which await a cancellation
landed, when a timeout fired relative to a sleep with the same deadline. The C++
interpreter (interpreter.cpp) prints the same lines for the same scenario; any
difference is a difference in scheduling or cancellation semantics.

A scenario runs until the loop is idle (a timer far in the future, the horizon, stops
it), then every task still pending is cancelled in name order and the loop runs to idle
again (twice at most), then each task's final state is printed and the loop closed.

Ops that await record their outcome (`-> result=...`, `-> Boom('e1')`) and swallow it,
except a CancelledError, which is recorded and re-raised so that cancellation still
unwinds the task; `try` blocks catch (and maybe re-raise) whatever reaches them.
"""

import asyncio

from allow_list import Condition, TaskGroup, timeout, wait_for
from virtual_loop import VirtualLoop

CAUGHT = (Exception, asyncio.CancelledError)  # not GeneratorExit: frames must close
HORIZON = 1000.0  # virtual seconds: longer than any scenario's schedule
CLEANUP_ROUNDS = 2


class Boom(Exception):
    """What the `raise` op raises."""


def describe(exc):
    """Boom('e1'), CancelledError('m2'), TimeoutError, ExceptionGroup([...]), ..."""
    if isinstance(exc, BaseExceptionGroup):
        return "ExceptionGroup([" + ", ".join(describe(e) for e in exc.exceptions) + "])"
    name = type(exc).__name__
    if isinstance(exc, (Boom, asyncio.CancelledError)):
        message = exc.args[0] if exc.args and exc.args[0] is not None else ""
        return f"{name}('{message}')"
    return name  # TimeoutError, QueueFull, RuntimeError...: the type is enough


def show_value(value):
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, BaseException):
        return describe(value)
    return str(value)


class Frame:
    """One running task body: its name, what it returns, the TaskGroup spawn uses."""

    def __init__(self, name):
        self.name = name
        self.result = int(name[1:])  # what a body that does not `return` gives
        self.returning = False
        self.group = None


class Run:
    """One scenario on one fresh loop."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.loop = VirtualLoop()
        self.loop.set_exception_handler(self.exception_handler)
        self.tasks = {}
        self.trace = []
        self.recording = True
        objects = scenario.objects
        self.objects = {"L0": asyncio.Lock(), "E0": asyncio.Event(), "C0": Condition(),
                        "S0": asyncio.Semaphore(objects.get("S0") or 1),
                        "Q0": asyncio.Queue(objects.get("Q0") or 0)}

    def exception_handler(self, loop, context):
        """Logs are not compared (the collector decides when CPython's appear), but a
        callback that raised is a bug of this interpreter: it shows in the trace."""
        if "handle" in context:
            self.record("loop", f"callback raised {context.get('exception')!r}")

    def record(self, who, text):
        if self.recording:
            self.trace.append(f"t={self.loop.time():g} {who} {text}")

    # ---- the scenario's phases -----------------------------------------------------

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.spawn("T0", None)
        self.until_idle()
        for _ in range(CLEANUP_ROUNDS):
            pending = [n for n in self.names() if not self.tasks[n].done()]
            if not pending:
                break
            for name in pending:
                self.record("cleanup", f"cancel {name} -> {self.tasks[name].cancel()}")
            self.until_idle()
        for name in self.names():
            self.record("final", f"{name} {self.state(self.tasks[name])}")
        self.recording = False
        self.close()
        return self.trace

    def until_idle(self):
        self.loop.call_at(self.loop.time() + HORIZON, self.loop.stop)
        self.loop.run_forever()

    def close(self):
        for task in self.tasks.values():
            if not task.done():
                close_frame(task.get_coro())
        self.loop.close()
        asyncio.set_event_loop(None)

    def names(self):
        return sorted(self.tasks, key=lambda name: int(name[1:]))

    @staticmethod
    def state(task):
        if not task.done():
            state = "pending"
        elif task.cancelled():
            state = "cancelled"
        elif task.exception() is not None:
            state = "exception " + describe(task.exception())
        else:
            state = f"result={task.result()}"
        return f"{state} cancelling={task.cancelling()}"

    # ---- tasks -----------------------------------------------------------------------

    def spawn(self, name, group):
        coro = self.task_body(name)
        if group is None:
            task = self.loop.create_task(coro, name=name)
        else:
            try:
                task = group.create_task(coro, name=name)
            except RuntimeError:
                coro.close()
                raise
        self.tasks[name] = task
        return task

    async def task_body(self, name):
        frame = Frame(name)
        self.record(name, "start")
        try:
            await self.run_ops(self.scenario.tasks.get(name, []), frame)
        except CAUGHT as exc:
            self.record(name, "raise " + describe(exc))
            raise
        self.record(name, f"return {frame.result}")
        return frame.result

    async def run_ops(self, ops, frame):
        for op in ops:
            await getattr(self, "op_" + op.name)(op, frame)
            if frame.returning:
                return

    async def settle(self, frame, what, awaitable):
        """Awaits, records the outcome; swallows it unless it is a CancelledError."""
        try:
            value = await awaitable
        except CAUGHT as exc:
            self.record(frame.name, f"{what} -> {describe(exc)}")
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        self.record(frame.name, f"{what} -> result={show_value(value)}")

    # ---- ops: tasks and time ------------------------------------------------------------

    async def op_spawn(self, op, frame):
        self.record(frame.name, f"spawn {op.args[0]}")
        self.spawn(op.args[0], frame.group)

    async def op_sleep(self, op, frame):
        await asyncio.sleep(float(op.args[0]))
        self.record(frame.name, f"slept {op.args[0]}")

    async def op_cancel(self, op, frame):
        self.record(frame.name, f"cancel {op.args[0]} -> {self.cancel(*op.args)}")

    def cancel(self, name, message=None):
        task = self.tasks.get(name)
        return "missing" if task is None else task.cancel(message)

    def later_cancel(self, name, message=None):
        self.record("loop", f"cancel {name} -> {self.cancel(name, message)}")

    async def op_later(self, op, frame):
        self.record(frame.name, f"later {op.args[0]} {op.args[1]}")
        self.loop.call_later(float(op.args[0]), self.later_cancel, *op.args[1:])

    async def op_uncancel(self, op, frame):
        self.record(frame.name, f"uncancel -> {asyncio.current_task().uncancel()}")

    async def op_await(self, op, frame):
        task = self.tasks.get(op.args[0])
        if task is None:
            self.record(frame.name, f"await {op.args[0]} -> missing")
        else:
            await self.settle(frame, f"await {op.args[0]}", task)

    async def op_raise(self, op, frame):
        raise Boom(op.args[0])

    async def op_return(self, op, frame):
        frame.result = int(op.args[0])
        frame.returning = True

    def spawn_all(self, names):
        return [self.spawn(name, None) for name in names]

    async def op_gather(self, op, frame):
        children = self.spawn_all(op.args[1:])
        future = asyncio.gather(*children, return_exceptions=op.args[0] == "rx")
        await self.settle(frame, "gather", future)

    async def op_wait_for(self, op, frame):
        child = self.spawn(op.args[1], None)
        await self.settle(frame, f"wait_for {op.args[1]}", wait_for(child, float(op.args[0])))

    async def op_wait_for_coro(self, op, frame):
        body = self.task_body(op.args[1])  # not a task: awaited inline, as in 3.12
        await self.settle(frame, f"wait_for_coro {op.args[1]}", wait_for(body, float(op.args[0])))

    async def op_shield(self, op, frame):
        child = self.spawn(op.args[0], None)
        await self.settle(frame, f"shield {op.args[0]}", asyncio.shield(child))

    async def op_wait(self, op, frame):
        children = self.spawn_all(op.args[2:])
        timeout = None if op.args[1] == "none" else float(op.args[1])
        try:
            done, pending = await asyncio.wait(children, timeout=timeout, return_when=op.args[0])
        except asyncio.CancelledError as exc:
            self.record(frame.name, f"wait -> {describe(exc)}")
            raise
        done_names = sorted(t.get_name() for t in done)
        pending_names = sorted(t.get_name() for t in pending)
        self.record(frame.name, f"wait -> done=[{', '.join(done_names)}] "
                                f"pending=[{', '.join(pending_names)}]")

    # ---- ops: blocks ---------------------------------------------------------------------

    async def op_try(self, op, frame):
        if op.args[0] == "finally":
            try:
                await self.run_ops(op.body, frame)
            finally:
                self.record(frame.name, "finally")
            return
        try:
            await self.run_ops(op.body, frame)
        except CAUGHT as exc:
            self.record(frame.name, f"caught {describe(exc)}")
            if op.args[0] == "rethrow":
                raise

    async def op_timeout(self, op, frame):
        async with timeout(float(op.args[0])):
            await self.run_ops(op.body, frame)

    async def op_taskgroup(self, op, frame):
        outer = frame.group
        async with TaskGroup() as group:
            frame.group = group
            try:
                await self.run_ops(op.body, frame)
            finally:
                frame.group = outer

    async def op_with(self, op, frame):
        async with self.objects[op.args[0]]:
            self.record(frame.name, f"acquired {op.args[0]}")
            await self.run_ops(op.body, frame)

    # ---- ops: Condition (inside `with C0`) -------------------------------------------------

    async def op_cwait(self, op, frame):
        await self.settle(frame, "cwait C0", self.objects["C0"].wait())

    async def op_notify(self, op, frame):
        self.objects["C0"].notify(int(op.args[1]))
        self.record(frame.name, f"notify C0 {op.args[1]}")

    async def op_notify_all(self, op, frame):
        self.objects["C0"].notify_all()
        self.record(frame.name, "notify_all C0")

    # ---- ops: Event and Queue ---------------------------------------------------------------

    async def op_ewait(self, op, frame):
        await self.settle(frame, "ewait E0", self.objects["E0"].wait())

    async def op_eset(self, op, frame):
        self.objects["E0"].set()
        self.record(frame.name, "eset E0")

    async def op_eclear(self, op, frame):
        self.objects["E0"].clear()
        self.record(frame.name, "eclear E0")

    async def op_put(self, op, frame):
        await self.settle(frame, f"put Q0 {op.args[1]}", self.objects["Q0"].put(int(op.args[1])))

    async def op_get(self, op, frame):
        await self.settle(frame, "get Q0", self.objects["Q0"].get())

    async def op_put_nowait(self, op, frame):
        try:
            self.objects["Q0"].put_nowait(int(op.args[1]))
            outcome = "ok"
        except asyncio.QueueFull:
            outcome = "QueueFull"
        self.record(frame.name, f"put_nowait Q0 {op.args[1]} -> {outcome}")

    async def op_get_nowait(self, op, frame):
        try:
            outcome = f"result={self.objects['Q0'].get_nowait()}"
        except asyncio.QueueEmpty:
            outcome = "QueueEmpty"
        self.record(frame.name, f"get_nowait Q0 -> {outcome}")


def close_frame(coro):
    """Closes a pending task's coroutine now, not whenever the collector runs. What its
    cleanup raises is dropped, as the collector would: after the trace has ended, an
    `async with` that cannot await its exit (a TaskGroup) or releases a lock it no
    longer holds (a frame closed inside Condition.wait) is no part of the comparison."""
    try:
        coro.close()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: B036 (a group of GeneratorExits is a BaseException)
        pass


def run_scenario(scenario):
    """The trace of one scenario: a list of lines."""
    return [f"scenario {scenario.seed}"] + Run(scenario).run()
