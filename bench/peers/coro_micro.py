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
import json
import sys
import time

BATCH = 1000


def new_loop():
    loop = asyncio.new_event_loop()
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    return loop


def measure(name, what, ops, reps, body):
    body()  # warm-up
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        body()
        samples.append((time.perf_counter_ns() - t0) / ops)
    s = sorted(samples)
    mid = len(s) // 2
    med = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    v = sys.version_info
    return {
        "impl": f"py{v[0]}.{v[1]}.{v[2]}-asyncio", "label": "asyncio", "name": name, "what": what,
        "ops": ops, "reps": reps, "ns_per_op": round(med, 2), "ns_min": round(s[0], 2),
        "ns_max": round(s[-1], 2),
    }


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

    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(await_nops(n))

    r = measure("coro_await", "`await nop()` in a loop, nop = `async def nop(): return 1`",
                n, reps, body)
    assert result == n
    loop.close()
    return r


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

    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(await_futures(n))

    r = measure("future_wake",
                "create_future(), call_soon(fut.set_result, 1), await fut; two iterations",
                n, reps, body)
    assert result == n
    loop.close()
    return r


def b_sleep0(batches, reps):
    loop = new_loop()
    n = batches * BATCH

    async def sleep0s(n):
        sleep = asyncio.sleep
        for _ in range(n):
            await sleep(0)
        return n

    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(sleep0s(n))

    r = measure("sleep0", "`await asyncio.sleep(0)` in a loop: one iteration per op",
                n, reps, body)
    assert result == n
    loop.close()
    return r


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
    "coro_await": b_coro_await,
    "future_wake": b_future_wake,
    "sleep0": b_sleep0,
    "driver_spawn_finish": b_driver_spawn_finish,
}


def main():
    args = sys.argv[1:]
    batches, reps = 40, 9
    if "--quick" in args:
        args.remove("--quick")
        batches, reps = 2, 3
    unknown = [a for a in args if a not in CASES]
    if unknown:
        sys.exit(f"usage: coro_micro.py [--quick] [CASE...]; unknown: {' '.join(unknown)}")
    for name, fn in CASES.items():
        if not args or name in args:
            print(json.dumps(fn(batches, reps)), flush=True)


if __name__ == "__main__":
    main()
