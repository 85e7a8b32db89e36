"""The peers' side of bench/bench_scale.cpp: CPython asyncio (or uvloop, PEER_LOOP=uvloop).

usage: python3 bench/peers/scale_micro.py [--quick]

One JSON line per point, {"series", "system", "n", "value", "unit"}, as bench_scale:
  spawn     N tasks made with create_task(nop()) at once, then gathered: ns per task,
            median of 3 runs after a warm-up up to 10^5, one cold run at 10^6 (the
            whole of ./aio bench must stay under 10 minutes; micro.py's spawn without
            its batches)
  timers    loop.call_later(d, cb) N times, d in [0, 1) from the shared LCG, on the
            virtual-time loop (peer_util.VirtualClockLoop), run until all fired: ns per
            timer; runs as spawn
  memory    tasks_micro.py --memory N in a fresh interpreter: RSS growth per sleeping task
  overhead  100,000 tasks, each `await asyncio.sleep(d)`, d in [0, 1), then gathered, on a
            fresh loop with the real clock: seconds beyond the longest delay (one run), and
            the same on the virtual-time loop, where every second is overhead
uvloop has no virtual clock: its timers, memory and virtual-overhead points are left out.
"""
import asyncio
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (bench/run.sh's promise)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402
from peer_util import LABEL, UVLOOP, VirtualClockLoop, new_loop  # noqa: E402
from tasks_micro import delays, nop, sleep_all  # noqa: E402


def point(series, n, value, unit):
    print(json.dumps({"series": series, "system": LABEL, "n": n, "value": round(value, 6),
                      "unit": unit}), flush=True)


def runs_for(n):
    """3 timed runs after a warm-up up to 10^5; at 10^6 one cold run (CPython takes
    ~10 s per million tasks on this loaded VM, and ./aio bench has 10 minutes)."""
    return 3 if n <= 100000 else 1


def median_seconds(runs, body):
    s = []
    for _ in range(runs):
        t0 = time.perf_counter()
        body()
        s.append(time.perf_counter() - t0)
    return sorted(s)[len(s) // 2]


async def spawn_all(n):
    tasks = [asyncio.create_task(nop()) for _ in range(n)]
    await asyncio.gather(*tasks)
    return n


def scale_spawn(n):
    loop = new_loop()
    once = lambda: loop.run_until_complete(spawn_all(n))  # noqa: E731
    if runs_for(n) > 1:
        once()
    point("spawn", n, median_seconds(runs_for(n), once) * 1e9 / n, "ns/task")
    loop.close()


def scale_timers(n):
    loop = VirtualClockLoop()
    ds = delays(n)
    fired = [0]

    def cb():
        fired[0] += 1
        if fired[0] == n:
            loop.stop()

    def once():
        fired[0] = 0
        for d in ds:
            loop.call_later(d, cb)
        loop.run_forever()
        assert fired[0] == n

    if runs_for(n) > 1:
        once()
    point("timers", n, median_seconds(runs_for(n), once) * 1e9 / n, "ns/timer")
    loop.close()


def scale_memory(n):
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run([sys.executable, os.path.join(here, "tasks_micro.py"), "--memory", str(n)],
                         check=True, capture_output=True, text=True).stdout
    point("memory", n, json.loads(out)["bytes_per_task_rss"], "B/task")


def overhead(n, virtual):
    ds = delays(n)
    loop = VirtualClockLoop() if virtual else new_loop()
    t0 = time.perf_counter()
    assert loop.run_until_complete(sleep_all(ds)) == n
    wall = time.perf_counter() - t0
    loop.close()
    if virtual:
        point("overhead_virtual", n, wall, "s")
    else:
        point("overhead_monotonic", n, wall - max(ds), "s")


def main():
    quick = "--quick" in sys.argv[1:]
    sizes = [1000, 10000] if quick else [1000, 10000, 100000, 1000000]
    for n in sizes:
        scale_spawn(n)
    if not UVLOOP:
        for n in sizes:
            scale_timers(n)
        for n in sizes:
            scale_memory(n)
    overhead(1000 if quick else 100000, False)
    if not UVLOOP:
        overhead(1000 if quick else 100000, True)


if __name__ == "__main__":
    main()
