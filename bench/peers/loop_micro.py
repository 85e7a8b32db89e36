"""Lesson 1's loop micro-benchmarks in CPython asyncio, the peer of bench/bench_loop.cpp.

usage: python3 bench/peers/loop_micro.py [--quick] [CASE...]

Same cases, same names, same batch structure as bench_loop (see its header), one JSON
line per case: ns_per_op is the median over `reps` timed repetitions after one
warm-up repetition. The GC is left at its defaults, as in a real program.

  call_soon           loop.call_soon(cb) x1000, then loop.stop(); loop.run_forever()
                      (exactly one iteration) runs them
  call_soon_chain     a callback call_soon's the next one, N times; one iteration per op
  call_later_virtual  call_later x1000 with shuffled distinct delays, on a loop whose
                      time() is virtual and whose select() jumps that time to the
                      deadline instead of sleeping (asyncio's own test loop does the
                      same); one timer fires per iteration
  call_later_mono_neg call_later x1000 with shuffled distinct negative delays, then one
                      iteration fires them all (real monotonic clock)
  call_later_mono_0   call_later(0) x1000, then one iteration fires them all
  call_soon_threadsafe another thread posts callbacks with call_soon_threadsafe while
                      the loop runs them; the last one stops the loop
"""
import os
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (bench/run.sh's promise)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_util  # noqa: E402
from peer_util import VirtualClockLoop, measure, new_loop  # noqa: E402

BATCH = 1000
SIZES = (40, 9), (2, 3)  # (batches, reps): a full run, --quick


def shuffled(n):
    """0..n-1 in the order bench_loop.cpp's shuffled() gives (Fisher-Yates, 64-bit LCG)."""
    v = list(range(n))
    state = 42
    for i in range(n - 1, 0, -1):
        state = peer_util.lcg(state)
        j = (state >> 33) % (i + 1)
        v[i], v[j] = v[j], v[i]
    return v


def b_call_soon(batches, reps):
    loop = new_loop()
    call_soon, stop, run_forever = loop.call_soon, loop.stop, loop.run_forever
    ran = 0

    def cb():
        nonlocal ran
        ran += 1

    def body():
        for _ in range(batches):
            for _ in range(BATCH):
                call_soon(cb)
            stop()
            run_forever()

    r = measure("call_soon", "call_soon x1000, then one iteration runs them",
                batches * BATCH, reps, body)
    assert ran == batches * BATCH * (reps + 1)
    loop.close()
    return r


def b_call_soon_chain(batches, reps):
    loop = new_loop()
    call_soon, stop = loop.call_soon, loop.stop
    left = 0

    def step():
        nonlocal left
        left -= 1
        if left > 0:
            call_soon(step)
        else:
            stop()

    n = batches * BATCH

    def body():
        nonlocal left
        left = n
        call_soon(step)
        loop.run_forever()

    r = measure("call_soon_chain", "a callback call_soon's the next; one iteration per op",
                n, reps, body)
    assert left == 0
    loop.close()
    return r


def b_call_later_virtual(batches, reps):
    loop = VirtualClockLoop()
    call_later, stop = loop.call_later, loop.stop
    delays = [(p + 1) * 1e-6 for p in shuffled(BATCH)]
    fired = target = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == target:
            stop()

    def body():
        nonlocal target
        for _ in range(batches):
            target += BATCH
            for d in delays:
                call_later(d, cb)
            loop.run_forever()

    r = measure("call_later_virtual",
                "call_later x1000, shuffled distinct delays, virtual time; one fires per "
                "iteration", batches * BATCH, reps, body)
    assert fired == target and not loop._scheduled
    loop.close()
    return r


def b_call_later_mono(name, what, delays, batches, reps):
    loop = new_loop()
    call_later, stop, run_forever = loop.call_later, loop.stop, loop.run_forever
    fired = 0

    def cb():
        nonlocal fired
        fired += 1

    def body():
        for _ in range(batches):
            for d in delays:
                call_later(d, cb)
            stop()
            run_forever()

    r = measure(name, what, batches * BATCH, reps, body)
    # uvloop's loop keeps no _scheduled list: there, only the count is checked
    assert fired == batches * BATCH * (reps + 1) and not getattr(loop, "_scheduled", ())
    loop.close()
    return r


def b_call_later_mono_neg(batches, reps):
    return b_call_later_mono(
        "call_later_mono_neg",
        "call_later x1000, shuffled distinct delays < 0, monotonic; one iteration fires all",
        [-(p + 1) * 1e-6 for p in shuffled(BATCH)], batches, reps)


def b_call_later_mono_0(batches, reps):
    return b_call_later_mono(
        "call_later_mono_0", "call_later(0) x1000, monotonic; one iteration fires all",
        [0.0] * BATCH, batches, reps)


def b_call_soon_threadsafe(batches, reps):
    loop = new_loop()
    n = batches * BATCH
    ran = 0
    target = 0

    def cb():
        nonlocal ran
        ran += 1
        if ran == target:
            loop.stop()

    def produce():
        post = loop.call_soon_threadsafe
        for _ in range(n):
            post(cb)

    def body():
        nonlocal target
        target += n
        producer = threading.Thread(target=produce)
        producer.start()
        loop.run_forever()
        producer.join()

    r = measure("call_soon_threadsafe",
                "another thread posts callbacks while the loop runs them; per callback",
                n, reps, body)
    assert ran == target
    loop.close()
    return r


CASES = {
    "call_soon": (b_call_soon, *SIZES),
    "call_soon_chain": (b_call_soon_chain, *SIZES),
    "call_later_virtual": (b_call_later_virtual, *SIZES),
    "call_later_mono_neg": (b_call_later_mono_neg, *SIZES),
    "call_later_mono_0": (b_call_later_mono_0, *SIZES),
    "call_soon_threadsafe": (b_call_soon_threadsafe, (10, 5), (1, 2)),
}

if __name__ == "__main__":
    peer_util.main("loop_micro.py", CASES)
