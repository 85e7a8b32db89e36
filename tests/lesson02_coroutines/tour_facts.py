"""tour_facts.py - what lesson 2's watch lines claim, checked against the demo's output.

tests/tour/check_tour.py runs lesson02_demo, splits its output into parts and calls
check(parts). Each part's lines look like

    [0.50] iteration 3: 3...        (parts 1, 2, 5: the part's time and the loop's turn)
    iteration 2: callback: ...      (parts 3, 4: the turn only)

and each assert below names the claim of the watch line it checks.
"""

import re

ITERATION = re.compile(r"iteration (\d+): ")


def iteration(part, text):
    """The loop iteration the line containing `text` was printed in."""
    line = part.line_with(text)
    return int(ITERATION.search(line).group(1))


def stamp(part, text):
    """The [t.tt] time of the line containing `text`."""
    line = part.line_with(text)
    return float(re.search(r"\[(\d+\.\d\d)\]", line).group(1))


def check_manual_sequence(p):
    assert p.index_of("nothing has run") < p.index_of("coroutine 1 starts"), \
        "part 1: calling my_coroutine(1) runs nothing (its 'starts' line comes later)"
    assert iteration(p, "coroutine 1 starts") == 1, \
        "part 1: the coroutine starts in the loop's first iteration"
    assert stamp(p, "coroutine 1 ends") == 1.00, "part 1: it ends 1.00 later"
    assert iteration(p, "coroutine 1 ends") == 3, \
        "part 1: it ends two iterations on (the timer's, then its own step's)"


def check_three_at_once(p):
    for n in (1, 2, 3):
        start, end = f"coroutine {n} starts", f"coroutine {n} ends"
        assert stamp(p, start) == 0.00 and iteration(p, start) == 1, \
            f"part 2: coroutine {n} starts at 0.00 in iteration 1"
        assert stamp(p, end) == 1.00 and iteration(p, end) == 3, \
            f"part 2: coroutine {n} ends at 1.00 in iteration 3"
    ends = [p.index_of(f"coroutine {n} ends") for n in (1, 2, 3)]
    assert ends == sorted(ends), "part 2: the three are resumed in the order they started"
    assert "processing time: 1.00" in p.line_with("processing time"), \
        "part 2: processing time: 1.00, not 3.00"


def check_future_done_before_await(p):
    not_yet = "the future has not come yet"
    results = [i for i, line in enumerate(p.lines) if line.endswith(": the future")]
    assert results, "part 3: the awaited result 'the future' is printed"
    assert p.index_of(not_yet) < results[0], \
        "part 3: 'the future has not come yet' prints first (it comes first in the source)"
    turns = {iteration(p, not_yet), int(ITERATION.search(p.lines[results[0]]).group(1))}
    assert turns == {1}, \
        "part 3: both lines print in iteration 1: the await of a done future does not suspend"


def check_future_pending_at_await(p):
    before = iteration(p, "awaiting a pending future")
    setter = iteration(p, "callback: set_result")
    after = iteration(p, "the await returned")
    assert before == 1, "part 4: the await suspends in iteration 1"
    assert setter == 2, "part 4: the callback sets the result in iteration 2"
    assert "the waiter has not run" in p.line_with("callback: set_result") and \
        p.index_of("callback: set_result") < p.index_of("the await returned"), \
        "part 4: the waiter does not run inside set_result()"
    assert after == 3 and after > before, "part 4: the loop resumes the waiter in iteration 3"


def check_async_generator(p):
    values = [stamp(p, text) for text in ("countdown from 3", "3...", "2...", "1...")]
    gaps = [round(b - a, 2) for a, b in zip(values, values[1:])]
    assert gaps == [0.50, 0.50, 0.50], \
        f"part 5: each value arrives 0.50 after the one before it (gaps {gaps})"


def check(parts):
    assert len(parts) == 5, f"the demo has five parts, as its top comment lists ({len(parts)})"
    check_manual_sequence(parts[0])
    check_three_at_once(parts[1])
    check_future_done_before_await(parts[2])
    check_future_pending_at_await(parts[3])
    check_async_generator(parts[4])
