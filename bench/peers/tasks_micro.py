"""Lesson 3's task micro-benchmarks in CPython asyncio, the peer of bench/bench_tasks.cpp.

usage: python3 bench/peers/tasks_micro.py [--quick] [CASE...]

Same cases, same names as bench_tasks (see its header), one JSON line per case:
ns_per_op is the median over `reps` timed repetitions after one warm-up repetition.
The GC is left at its defaults, as in a real program. The code is the shape of
/work/shared/bench_peers/py/micro.py (spawn, sleep0, sleep_many).

  spawn       create_task(nop()) x10,000, then gather them (micro.py's spawn)
  sleep0      `await asyncio.sleep(0)` N times in one task (one iteration per op)
  sleep_many  100,000 tasks, each `await asyncio.sleep(d)` with d in [0, 1) from the
              LCG bench_tasks uses, then gather (micro.py's sleep_many), on a loop whose
              time() is virtual and whose select() jumps it to the next deadline (as
              loop_micro.py's call_later_virtual): instant, like ours. One op = one task.

Memory per sleeping task (sleep_many): a fresh interpreter (this script, --memory N)
runs sleep_many once on the virtual loop; bytes per task = (VmHWM - VmRSS before the
body) / N, as micro.py reports it. The line carries it as bytes_per_task_rss.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

from loop_micro import VirtualClockLoop, measure

SPAWN_BATCH = 10000


def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return -1


def delays(n):
    """Uniform in [0, 1), the sequence bench_tasks.cpp's make_delays() gives."""
    out, state = [], 42
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out.append((state >> 11) * 2.0 ** -53)
    return out


async def nop():
    pass


async def spawn_batches(n):
    create_task, gather = asyncio.create_task, asyncio.gather
    for _ in range(n // SPAWN_BATCH):
        tasks = [create_task(nop()) for _ in range(SPAWN_BATCH)]
        await gather(*tasks)
    return n


async def sleep0s(n):
    sleep = asyncio.sleep
    for _ in range(n):
        await sleep(0)
    return n


async def sleeper(d):
    await asyncio.sleep(d)


async def sleep_all(ds):
    create_task = asyncio.create_task
    tasks = [create_task(sleeper(d)) for d in ds]
    await asyncio.gather(*tasks)
    return len(ds)


def run_case(loop, name, what, n, reps, coro_fn, arg):
    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(coro_fn(arg))

    r = measure(name, what, n, reps, body)
    assert result == n, name
    loop.close()
    return r


def b_spawn(quick):
    n, reps = (SPAWN_BATCH, 3) if quick else (10 * SPAWN_BATCH, 5)
    loop = asyncio.new_event_loop()
    loop.set_debug(False)
    return run_case(loop, "spawn", "create_task(nop()) x10,000, then gather them", n, reps,
                    spawn_batches, n)


def b_sleep0(quick):
    n, reps = (2000, 3) if quick else (100_000, 9)
    loop = asyncio.new_event_loop()
    loop.set_debug(False)
    return run_case(loop, "sleep0", "`await asyncio.sleep(0)` in a loop: one iteration per op",
                    n, reps, sleep0s, n)


def b_sleep_many(quick):
    n, reps = (1000, 3) if quick else (100_000, 2)
    r = run_case(VirtualClockLoop(), "sleep_many",
                 "100,000 tasks x await sleep(U[0,1)) on a virtual-time loop, then gather",
                 n, reps, sleep_all, delays(n))
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory", str(n)],
                         check=True, capture_output=True, text=True).stdout
    r.update(json.loads(out))
    return r


def memory_child(n):
    """In a fresh interpreter: sleep_many once; print the RSS growth per task."""
    loop = VirtualClockLoop()
    base = status_kib("VmRSS:")

    async def body():
        return await sleep_all(delays(n))

    assert loop.run_until_complete(body()) == n
    hwm = status_kib("VmHWM:")
    print(json.dumps({"bytes_per_task_rss": round((hwm - base) * 1024 / n, 1),
                      "base_rss_kib": base, "hwm_kib": hwm}))


CASES = {"spawn": b_spawn, "sleep0": b_sleep0, "sleep_many": b_sleep_many}


def main():
    args = sys.argv[1:]
    if args[:1] == ["--memory"]:
        memory_child(int(args[1]))
        return
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
    unknown = [a for a in args if a not in CASES]
    if unknown:
        sys.exit(f"usage: tasks_micro.py [--quick] [CASE...]; unknown: {' '.join(unknown)}")
    for name, fn in CASES.items():
        if not args or name in args:
            print(json.dumps(fn(quick)), flush=True)


if __name__ == "__main__":
    main()
