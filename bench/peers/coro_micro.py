"""Lesson 2's coroutine micro-benchmarks in CPython asyncio, the peer of bench/bench_coro.cpp.

usage: python3 bench/peers/coro_micro.py [--quick] [CASE...]

Same cases, same names as bench_coro (see its header), one JSON line per case:
ns_per_op is the median over `reps` timed repetitions after one warm-up repetition.
The GC is left at its defaults, as in a real program.

  coro_await           `await nop()` N times inside one coroutine run by
                       run_until_complete, nop = `async def nop(): return 1` (no loop
                       hop: a plain call chain)
  future_wake          N times: fut = loop.create_future();
                       loop.call_soon(fut.set_result, 1); await fut (two iterations per op)
  sleep0               `await asyncio.sleep(0)` N times in one coroutine (one iteration per op)
  driver_spawn_finish  loop.create_task(nop()) x1000, then loop.stop(); loop.run_forever()
                       (exactly one iteration) runs all 1000 to completion
"""
import asyncio
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (bench/run.sh's promise)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402
from peer_util import measure, measure_coro, new_loop  # noqa: E402

BATCH = 1000
SIZES = (40, 9), (2, 3)  # (batches, reps): a full run, --quick


async def nop():
    return 1


def b_coro_await(batches, reps):
    loop = new_loop()
    n = batches * BATCH

    async def await_nops(n):
        total = 0
        for _ in range(n):
            total += await nop()
        return total

    return measure_coro(loop, "coro_await",
                        "`await nop()` in a loop, nop = `async def nop(): return 1`", n, reps,
                        lambda: await_nops(n), n)


def b_future_wake(batches, reps):
    loop = new_loop()
    n = batches * BATCH

    async def await_futures(n):
        create_future, call_soon = loop.create_future, loop.call_soon
        total = 0
        for _ in range(n):
            fut = create_future()
            call_soon(fut.set_result, 1)
            total += await fut
        return total

    return measure_coro(loop, "future_wake",
                        "create_future(), call_soon(fut.set_result, 1), await fut; two iterations",
                        n, reps, lambda: await_futures(n), n)


def b_sleep0(batches, reps):
    loop = new_loop()
    n = batches * BATCH

    async def sleep0s(n):
        sleep = asyncio.sleep
        for _ in range(n):
            await sleep(0)
        return n

    return measure_coro(loop, "sleep0", "`await asyncio.sleep(0)` in a loop: one iteration per op",
                        n, reps, lambda: sleep0s(n), n)


def b_driver_spawn_finish(batches, reps):
    loop = new_loop()
    create_task, stop, run_forever = loop.create_task, loop.stop, loop.run_forever
    pending = 0

    def body():
        nonlocal pending
        for _ in range(batches):
            for _ in range(BATCH):
                create_task(nop())
            stop()
            run_forever()
            pending += len(asyncio.all_tasks(loop))

    r = measure("driver_spawn_finish",
                "create_task(nop()) x1000, then one iteration runs all 1000 to completion",
                batches * BATCH, reps, body)
    assert pending == 0
    loop.close()
    return r


CASES = {
    "coro_await": (b_coro_await, *SIZES),
    "future_wake": (b_future_wake, *SIZES),
    "sleep0": (b_sleep0, *SIZES),
    "driver_spawn_finish": (b_driver_spawn_finish, *SIZES),
}

if __name__ == "__main__":
    peer_util.main("coro_micro.py", CASES)
