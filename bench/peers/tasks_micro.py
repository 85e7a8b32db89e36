"""Lesson 3's task micro-benchmarks in CPython asyncio, the peer of bench/bench_tasks.cpp.

usage: python3 bench/peers/tasks_micro.py [--quick] [CASE...]

Same cases, same names as bench_tasks (see its header), one JSON line per case:
ns_per_op is the median over `reps` timed repetitions after one warm-up repetition.
The GC is left at its defaults, as in a real program. The code is the shape of the
asyncio micro-benchmarks behind docs/design.md's budget (spawn, sleep0, sleep_many).

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

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (bench/run.sh's promise)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402
from peer_util import VirtualClockLoop, measure_coro, new_loop  # noqa: E402

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
        state = peer_util.lcg(state)
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


def b_spawn(n, reps):
    return measure_coro(new_loop(), "spawn", "create_task(nop()) x10,000, then gather them", n,
                        reps, lambda: spawn_batches(n), n)


def b_sleep0(n, reps):
    return measure_coro(new_loop(), "sleep0",
                        "`await asyncio.sleep(0)` in a loop: one iteration per op", n, reps,
                        lambda: sleep0s(n), n)


def b_sleep_many(n, reps):
    ds = delays(n)
    r = measure_coro(VirtualClockLoop(), "sleep_many",
                     "100,000 tasks x await sleep(U[0,1)) on a virtual-time loop, then gather",
                     n, reps, lambda: sleep_all(ds), n)
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


CASES = {  # name: (fn, (n, reps), (n, reps) under --quick)
    "spawn": (b_spawn, (10 * SPAWN_BATCH, 5), (SPAWN_BATCH, 3)),
    "sleep0": (b_sleep0, (100_000, 9), (2000, 3)),
    "sleep_many": (b_sleep_many, (100_000, 2), (1000, 3)),
}

if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory"]:
        memory_child(int(sys.argv[2]))
    else:
        peer_util.main("tasks_micro.py", CASES)
