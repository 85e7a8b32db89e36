"""tour_facts.py - what lesson 3's watch lines claim, checked against the demo's output.

tests/tour/check_tour.py runs build/lesson03_tasks/lesson03_demo (AIO_CLOCK=virtual),
checks the parts' shape, then calls check(parts). Each assert names the claim of the
watch line it tests. Times are exact except in part 8, where real threads run.
"""


def stamp(line):
    """The [t.tt] at the start of a body line, as a float."""
    return float(line.split("[", 1)[1].split("]", 1)[0])


def iteration(line):
    """The N of 'iteration N:' in a line of part 3."""
    return int(line.split("iteration ", 1)[1].split(":", 1)[0])


def gather_twenty(p):
    assert "20 of 20" in p.line_with("asleep at the same time"), \
        "part 1: all twenty coroutines sleep at the same time"
    assert p.line_with("processing time:").endswith("processing time: 1.00"), \
        "part 1: twenty one-second sleeps take 1.00 s in all"


def task_done(p):
    first, second = [i for i, line in enumerate(p.lines) if "task done:" in line]
    assert p.lines[first].endswith("task done: False") and stamp(p.lines[first]) == 0.0, \
        "part 2: done() is False right after create_task"
    assert first < p.index_of("Task A starts"), \
        "part 2: Task A has not started when done() is first asked"
    assert p.lines[second].endswith("task done: True") and stamp(p.lines[second]) == 2.0, \
        "part 2: done() is True after co_await task, 2.00 s later"
    assert p.index_of("Task A ends") < second, "part 2: done() is True only once Task A ended"


def cancel(p):
    request = p.line_with("main calls task.cancel")
    caught = p.line_with("long_job gets CancelledError")
    awaited = p.line_with("main caught CancelledError")
    assert stamp(request) == 2.0, "part 3: the cancel is requested at [2.00]"
    assert iteration(caught) == iteration(request) + 1, \
        "part 3: long_job gets CancelledError one iteration after the request"
    assert "CancelledError('main has waited long enough')" in caught, \
        "part 3: the CancelledError carries cancel()'s message"
    assert "at its co_await" in caught, "part 3: CancelledError appears at long_job's co_await"
    assert iteration(awaited) > iteration(caught) and "<Task cancelled" in awaited, \
        "part 3: long_job re-raises (ends cancelled), so main's co_await throws after it"


def wait_for(p):
    cancelled = p.line_with("slow_operation: cancelled by wait_for")
    timed_out = p.line_with("timed out: TimeoutError()")
    assert stamp(cancelled) == 3.0 and stamp(timed_out) == 3.0, \
        "part 4: wait_for gives up at [3.00]"
    assert p.index_of("cancelled by wait_for") < p.index_of("timed out"), \
        "part 4: the operation is cancelled and finished before main gets TimeoutError"


def gather_exceptions(p):
    results = p.line_with("results:")
    assert results.endswith("results: ['A ok', ValueError('B failed'), 'C ok']"), \
        "part 5: B's ValueError comes back in B's place; the list prints as Python's"
    assert stamp(results) == 1.0, "part 5: the gather ends at [1.00]"
    assert p.index_of("result: A ok") < p.index_of("error: B failed") < \
        p.index_of("result: C ok"), "part 5: B's error is between A's and C's results"


def wait_first_exception(p):
    counts = p.line_with("done: 2 - pending: 1")
    assert stamp(counts) == 2.0, "part 6: wait returns at [2.00], when B fails, not at 3"
    assert p.line_with("done: A gave A ok") and p.line_with("done: B raised B failed"), \
        "part 6: A and B are done; wait raised nothing, B's error is in its task"
    assert p.line_with("pending: C - main cancels it"), "part 6: C is pending, main cancels it"
    assert p.line_with("C cancelled: True"), "part 6: C ends cancelled by main's cancel()"


def task_group(p):
    d = p.line_with("D cancelled while sleeping")
    caught = p.line_with("except* ValueError:")
    assert stamp(d) == 1.0, "part 7: C's failure at [1.00] cancels D"
    assert stamp(caught) == 1.0 and p.index_of("D cancelled") < p.index_of("except*"), \
        "part 7: the group ends at [1.00], after D, with the ExceptionGroup"
    assert caught.endswith(
        "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('C failed')])"), \
        "part 7: one ExceptionGroup holding C's ValueError, split out as except* does"
    assert p.line_with("D cancelled: True"), "part 7: D ends cancelled"


def ticks_between(p, start, end):
    lines = p.lines[p.index_of(start) + 1:p.index_of(end)]
    return [stamp(line) for line in lines if line.endswith("] tick")]


def threads(p):
    # Real time here (the virtual clock runs at real speed while a thread works, and a wait
    # that ends on a timer's deadline ends exactly on it, so under load it can fall a few
    # ms behind the real clock): the facts allow for that, and no more.
    ticks = [stamp(line) for line in p.lines if line.endswith("] tick")]
    assert ticks and ticks[0] == 0.0, "part 8: the ticker ticks from [0.00]"
    assert all(abs(b - a - 0.1) < 0.015 for a, b in zip(ticks, ticks[1:])), \
        f"part 8: ticks come every 0.10 s: {ticks}"
    for call, result in (("run_in_executor(None", "run_in_executor gave 'I/O done'"),
                         ("to_thread(blocking", "to_thread gave 'done'")):
        took = stamp(p.line_with(result)) - stamp(p.line_with(call))
        assert took >= 0.2, f"part 8: {call}...) blocks its thread for 0.25 s (took {took:.2f})"
        assert ticks_between(p, call, result), \
            f"part 8: ticks keep coming while {call}...) blocks its thread"
    assert len(ticks) >= 4, f"part 8: the ticker ticks all along: {len(ticks)} ticks in 0.5 s"


def check(parts):
    assert len(parts) == 8, f"lesson 3's demo has 8 parts, not {len(parts)}"
    for p, facts in zip(parts, (gather_twenty, task_done, cancel, wait_for, gather_exceptions,
                                wait_first_exception, task_group, threads)):
        facts(p)
