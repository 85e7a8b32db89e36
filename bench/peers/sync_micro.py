"""Lesson 4's micro-benchmarks in CPython asyncio, the peer of bench/bench_sync.cpp.

usage: python3 bench/peers/sync_micro.py [--quick] [CASE...]

Same cases, same names as bench_sync (see its header), one JSON line per case:
ns_per_op is the median over `reps` timed repetitions after one warm-up repetition.
The GC is left at its defaults, as in a real program. The shapes are those of the
asyncio micro-benchmarks behind docs/design.md's budget (queue, lock, lock_noyield), reported per message
and per acquisition.

  queue_pingpong  two tasks, two asyncio.Queue(maxsize=1): ping puts i on q1 and gets
                  the answer from q2, pong puts on q2 what it gets from q1; one op = one
                  message (two per round trip)
  lock_contended  1,000 tasks x N/1,000 `async with lock: await asyncio.sleep(0)`
  queue_nowait    put_nowait + get_nowait + task_done on one queue
  lock_noyield    1,000 tasks x N/1,000 `async with lock: pass`
"""
import asyncio
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (bench/run.sh's promise)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402
from peer_util import measure_coro, new_loop  # noqa: E402

TASKS = 1000


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
    return measure_coro(loop, "queue_pingpong",
                        "two tasks, two Queue(maxsize=1); a message is a put, the other task "
                        "woken, its get", rounds * 2, reps, lambda: pingpong(rounds),
                        sum(i & 0xff for i in range(rounds)))


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
    return measure_coro(loop, name, what, per_task * TASKS, reps,
                        lambda: contend_all(per_task, yield_inside), per_task * TASKS)


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
    return measure_coro(loop, "queue_nowait", "put_nowait + get_nowait + task_done on one queue",
                        ops, reps, lambda: nowait(ops), ops)


QUICK = (4000, 3)  # (ops, reps) of every case under --quick
CASES = {
    "queue_pingpong": (b_queue_pingpong, (40_000, 7), QUICK),
    "lock_contended": (b_lock_contended, (40_000, 7), QUICK),
    "queue_nowait": (b_queue_nowait, (200_000, 9), QUICK),
    "lock_noyield": (b_lock_noyield, (200_000, 9), QUICK),
}

if __name__ == "__main__":
    peer_util.main("sync_micro.py", CASES)
