"""What every bench/peers/*_micro.py shares: timing, the JSON line, the command line.

A peer script does `sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))`, then
`import peer_util`, since bench/run.sh runs it as `python3 bench/peers/X_micro.py`.

PEER_LOOP=uvloop in the environment runs the same script on uvloop's loop (bench/run.sh
does so under /usr/bin/python3, Debian's interpreter, the one with python3-uvloop): every
line is labelled "uvloop", and a case on the virtual-time loop is left out (uvloop's
timers read libuv's clock, which a subclass cannot make virtual).
"""
import asyncio
import json
import os
import selectors
import sys
import time

MASK64 = 0xFFFFFFFFFFFFFFFF


def lcg(state):
    """The next state of the 64-bit LCG that bench_util.hpp's lcg_next() steps."""
    return (state * 6364136223846793005 + 1442695040888963407) & MASK64


UVLOOP = os.environ.get("PEER_LOOP") == "uvloop"


LABEL = "uvloop" if UVLOOP else "asyncio"


class Skip(Exception):
    """This case has no equivalent on this loop: main() prints no line for it."""


def new_loop():
    """A new asyncio (or, with PEER_LOOP=uvloop, uvloop) loop with debug off, made the
    current loop."""
    if UVLOOP:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    loop.set_debug(False)
    asyncio.set_event_loop(loop)
    return loop


class _JumpingSelector(selectors.DefaultSelector):
    """select() with a positive timeout means "idle until the next timer": jump there."""

    now = 0.0

    def select(self, timeout=None):
        if timeout is not None and timeout > 0:
            self.now += timeout
            return []
        return super().select(timeout)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """asyncio has no virtual clock: time() is virtual and idling jumps it to the deadline."""

    def __new__(cls):
        if UVLOOP:  # before any loop exists: nothing half-made to close
            raise Skip("no virtual clock on uvloop")
        return super().__new__(cls)

    def __init__(self):
        self._jumper = _JumpingSelector()
        super().__init__(self._jumper)
        self.set_debug(False)

    def time(self):
        return self._jumper.now


def measure(name, what, ops, reps, body):
    """body() once to warm up, then `reps` timed runs of `ops` ops: one JSON-ready dict,
    the median ns/op and the min-max, in the shape bench/report.py reads."""
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
        "impl": f"py{v[0]}.{v[1]}.{v[2]}-{LABEL}", "label": LABEL, "name": name, "what": what,
        "ops": ops, "reps": reps, "ns_per_op": round(med, 2), "ns_min": round(s[0], 2),
        "ns_max": round(s[-1], 2),
    }


def measure_coro(loop, name, what, ops, reps, make_coro, expected):
    """measure() of loop.run_until_complete(make_coro()); asserts the last result is
    `expected` (the work was done), then closes the loop."""
    result = None

    def body():
        nonlocal result
        result = loop.run_until_complete(make_coro())

    r = measure(name, what, ops, reps, body)
    assert result == expected, name
    loop.close()
    return r


def main(prog, cases):
    """`prog [--quick] [CASE...]`: runs the chosen cases (all if none named) in table order,
    printing one JSON line each. cases: name -> (fn, args, quick_args); a case runs as
    fn(*args), or fn(*quick_args) with --quick."""
    args = sys.argv[1:]
    quick = "--quick" in args
    if quick:
        args.remove("--quick")
    unknown = [a for a in args if a not in cases]
    if unknown:
        sys.exit(f"usage: {prog} [--quick] [CASE...]; unknown: {' '.join(unknown)}")
    for name, (fn, full_args, quick_args) in cases.items():
        if not args or name in args:
            try:
                print(json.dumps(fn(*(quick_args if quick else full_args))), flush=True)
            except Skip:
                pass
