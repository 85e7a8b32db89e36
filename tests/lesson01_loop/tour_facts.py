"""tour_facts.py - lesson 1's watch lines, checked against the demo's output.

tests/tour/check_tour.py runs lesson01_demo, splits its output into parts and calls
check(parts). The facts are iteration numbers, read from the lines the callbacks print
("  [0.10] iteration 2: reader got 'ping'"): what ran in which iteration, at what time.
"""

import re

RUN = re.compile(r"^\s+\[(\d+\.\d\d)\] iteration (\d+): (.*)$")


class Run:
    """One callback's line: its time, its iteration and its text, and where it is."""

    def __init__(self, index, time, iteration, text):
        self.index, self.time, self.iteration, self.text = index, time, iteration, text


def runs(part):
    found = []
    for index, line in enumerate(part.lines):
        m = RUN.match(line)
        if m:
            found.append(Run(index, float(m.group(1)), int(m.group(2)), m.group(3)))
    return found


def run_of(part, text):
    """The one callback line whose text is exactly `text`."""
    matches = [r for r in runs(part) if r.text == text]
    assert len(matches) == 1, \
        f"part {part.number} ({part.title}): {len(matches)} callback lines read {text!r}"
    return matches[0]


def check_call_soon(part):
    hello, world = run_of(part, "hello"), run_of(part, "world")
    later = run_of(part, "scheduled by hello")
    assert hello.iteration == 1 and world.iteration == 1, \
        "part 1: 'hello' and 'world' run in iteration 1"
    assert hello.index < world.index, "part 1: in the order they were scheduled (hello first)"
    assert later.iteration == hello.iteration + 1 == 2, \
        "part 1: the callback 'hello' schedules runs in the next iteration, 2"


def check_timers(part):
    ticks = [run_of(part, f"tick {n}") for n in (1, 2, 3)]
    assert [t.index for t in ticks] == sorted(t.index for t in ticks), \
        "part 2: the ticks run as 1, 2, 3"
    assert [t.time for t in ticks] == [0.10, 0.20, 0.30], \
        "part 2: the ticks run at 0.10, 0.20 and 0.30"
    assert [t.iteration for t in ticks] == [1, 2, 3], "part 2: one tick per iteration"
    assert not [r for r in runs(part) if "cancelled" in r.text], \
        "part 2: the cancelled timer never runs"
    stop = run_of(part, "stop()")
    assert stop.time == 0.30 and stop.iteration == ticks[2].iteration, \
        "part 2: stop(), due at 0.30 too, runs in tick 3's iteration"
    assert stop.index > ticks[2].index, "part 2: stop() runs after tick 3"


def check_reader(part):
    for word in ("ping", "pong"):
        wrote = run_of(part, f"timer wrote '{word}'")
        got = run_of(part, f"reader got '{word}'")
        assert got.iteration == wrote.iteration + 1, \
            f"part 3: the reader gets '{word}' in the iteration after the timer wrote it"
        assert got.time == wrote.time, \
            f"part 3: the reader gets '{word}' at the time the timer wrote it"


def check_stop(part):
    a, b = run_of(part, "a: stop(), then call_soon(c)"), run_of(part, "b")
    c = run_of(part, "c")
    assert a.iteration == 1, "part 4: 'a' calls stop() in iteration 1"
    assert b.iteration == 1 and b.index > a.index, \
        "part 4: 'b', queued behind 'a', still runs in iteration 1"
    assert c.index > part.index_of("run_forever() returned"), \
        "part 4: 'c' waits for the next run_forever()"
    assert c.iteration == 2, "part 4: 'c' runs in iteration 2"


def check_threadsafe(part):
    sent = run_of(part, "sent by the worker thread")
    assert sent.iteration == 1, \
        "part 5: the worker's callback runs in iteration 1, the one that was waiting"


def check(parts):
    checks = [check_call_soon, check_timers, check_reader, check_stop, check_threadsafe]
    assert len(parts) == len(checks), f"the demo has {len(checks)} parts, not {len(parts)}"
    for part, check_part in zip(parts, checks):
        check_part(part)
