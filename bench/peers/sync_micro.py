"""Lesson 4's micro-benchmarks in CPython asyncio, the peer of bench/bench_sync.cpp.

usage: python3 bench/peers/sync_micro.py [--quick] [CASE...]

Same cases, same names as bench_sync (see its header), one JSON line per case:
ns_per_op is the median over `reps` timed repetitions after one warm-up repetition.
The GC is left at its defaults, as in a real program. The shapes are those of
/work/shared/bench_peers/py/micro.py (queue, lock, lock_noyield), reported per message
and per acquisition.

  queue_pingpong  two tasks, two asyncio.Queue(maxsize=1): ping puts i on q1 and gets
                  the answer from q2, pong puts on q2 what it gets from q1; one op = one
                  message (two per round trip)
  lock_contended  1,000 tasks x N/1,000 `async with lock: await asyncio.sleep(0)`
  queue_nowait    put_nowait + get_nowait + task_done on one queue
  lock_noyield    1,000 tasks x N/1,000 `async with lock: pass`
"""
import asyncio
import json
import sys
import time

TASKS = 1000


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


async def pingpong(rounds):
    q1, q2 = asyncio.Queue(maxsize=1), asyncio.Queue(maxsize=1)

    async def pong():
        for _ in range(rounds):
            await q2.put(await q1.get())

    other = asyncio.create_task(pong())
    total = 0
    for i in range(rounds):
        await q1.put(i & 0xff)
        total += await q2.get()
    await other
    return total


def b_queue_pingpong(ops, reps):
    loop = new_loop()
    rounds = ops // 2
    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(pingpong(rounds))

    r = measure("queue_pingpong",
                "two tasks, two Queue(maxsize=1); a message is a put, the other task woken, "
                "its get", rounds * 2, reps, body)
    assert result == sum(i & 0xff for i in range(rounds))
    loop.close()
    return r


async def contend_all(per_task, yield_inside):
    lock = asyncio.Lock()
    sleep = asyncio.sleep
    count = 0

    async def worker():
        nonlocal count
        for _ in range(per_task):
            async with lock:
                count += 1
                if yield_inside:
                    await sleep(0)

    await asyncio.gather(*(worker() for _ in range(TASKS)))
    return count


def b_lock(name, what, ops, reps, yield_inside):
    loop = new_loop()
    per_task = max(1, ops // TASKS)
    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(contend_all(per_task, yield_inside))

    r = measure(name, what, per_task * TASKS, reps, body)
    assert result == per_task * TASKS
    loop.close()
    return r


def b_lock_contended(ops, reps):
    return b_lock("lock_contended",
                  "1,000 tasks x N/1,000 `async with lock: await asyncio.sleep(0)`",
                  ops, reps, True)


def b_lock_noyield(ops, reps):
    return b_lock("lock_noyield", "1,000 tasks x N/1,000 `async with lock: pass`",
                  ops, reps, False)


async def nowait(n):
    q = asyncio.Queue()
    put, get, done = q.put_nowait, q.get_nowait, q.task_done
    total = 0
    for _ in range(n):
        put(1)
        total += get()
        done()
    return total


def b_queue_nowait(ops, reps):
    loop = new_loop()
    result = 0

    def body():
        nonlocal result
        result = loop.run_until_complete(nowait(ops))

    r = measure("queue_nowait", "put_nowait + get_nowait + task_done on one queue", ops, reps,
                body)
    assert result == ops
    loop.close()
    return r


CASES = {
    "queue_pingpong": (b_queue_pingpong, 40_000, 7),
    "lock_contended": (b_lock_contended, 40_000, 7),
    "queue_nowait": (b_queue_nowait, 200_000, 9),
    "lock_noyield": (b_lock_noyield, 200_000, 9),
}


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
    unknown = [a for a in args if a not in CASES]
    if unknown:
        sys.exit(f"usage: sync_micro.py [--quick] [CASE...]; unknown: {' '.join(unknown)}")
    for name, (fn, ops, reps) in CASES.items():
        if not args or name in args:
            print(json.dumps(fn(4000, 3) if quick else fn(ops, reps)), flush=True)


if __name__ == "__main__":
    main()
