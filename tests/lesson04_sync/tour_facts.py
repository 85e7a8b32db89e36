"""tour_facts.py - what lesson 4's watch lines claim, checked on the demo's output.

tests/tour/check_tour.py runs lesson04_demo (AIO_CLOCK=virtual), checks the parts'
shape, then calls check(parts). Each assert names the claim of the watch line (or the
README's timeline) it guards.
"""


def stamp(line):
    """The [t.tt] time at the start of a demo line, as a float."""
    return float(line.split("]")[0].split("[")[1])


def at(part, text):
    return stamp(part.line_with(text))


def check_lock(p):
    assert at(p, "task 1 released it") == 0.10, "lock: task 1 releases at 0.10"
    asked = p.lines[p.index_of("task 1 released it") + 1]
    assert "task 1 asks for the lock (locked() false, waiters 2)" in asked \
        and stamp(asked) == 0.10, \
        "lock: task 1 asks again in the same step as its release, seeing locked() false"
    assert at(p, "task 2 holds it") == 0.10, "lock: task 2, woken by the release, holds it at 0.10"
    assert p.index_of("task 2 holds it") > p.index_of("task 1 asks for the lock (locked() false"), \
        "lock: task 1's second ask comes before task 2 runs (the woken waiter's later step)"
    assert at(p, "task 3 holds it") == 0.20, "lock: task 3 next, at 0.20"
    assert at(p, "task 1 holds it, appends 4") == 0.30, \
        "lock: task 1 parked behind 2 and 3 (no barging): it gets the lock last, at 0.30"
    assert "result: [1, 2, 3, 4]" in p.lines[-1], "lock: the list ends [1, 2, 3, 4]"


def check_semaphore(p):
    for task, start in [(1, 0.0), (2, 0.0), (3, 0.0), (4, 1.0), (5, 2.0)]:
        assert at(p, f"Task {task} starts") == start, \
            f"semaphore: task {task} starts at {start:.2f}"
    for task, end in [(1, 1.0), (2, 2.0), (3, 3.0), (4, 3.0), (5, 5.0)]:
        assert at(p, f"Task {task} ends") == end, f"semaphore: task {task} ends at {end:.2f}"
    assert p.index_of("Task 4 starts") == p.index_of("Task 1 ends") + 1, \
        "semaphore: task 4 starts right after task 1 releases"
    assert p.index_of("Task 5 starts") == p.index_of("Task 2 ends") + 1, \
        "semaphore: task 5 starts right after task 2 releases"
    for line in ("Task 1 ends", "Task 4 starts", "Task 2 ends", "Task 5 starts"):
        assert "free permits: 0" in p.line_with(line), \
            f"semaphore: the released permit goes straight to the waiter ({line}: free 0)"
    assert "free permits: 3" in p.line_with("Task 5 ends"), "semaphore: all 3 permits back at 5.00"
    assert "processing time: 5.00" in p.lines[-1], "semaphore: processing time: 5.00"


def check_event(p):
    set_line = p.index_of("setter: set()")
    assert at(p, "setter: set()") == 2.00 and "3 waiting" in p.lines[set_line], \
        "event: one set() at 2.00, with three waiters"
    woken = [p.index_of(f"{name}: the event is set") for name in "ABC"]
    assert woken == sorted(woken) and woken[0] > set_line, \
        "event: A, B and C wake after set(), in the order they began waiting"
    assert all(at(p, f"{name}: the event is set") == 2.00 for name in "ABC"), \
        "event: all three wake at 2.00"
    assert p.index_of("wait() after set() returns at once") < woken[0], \
        "event: the setter goes on first; the woken tasks run in later steps"


def check_condition(p):
    takes = [line for line in p.lines if " takes " in line]
    assert [line.split("consumer ")[1].split(" ")[0] for line in takes] == list("11212"), \
        "condition: items 0-4 go to consumers 1, 1, 2, 1, 2 (notify() wakes the longest waiting)"
    assert [stamp(line) for line in takes] == [0.0, 0.5, 1.0, 1.5, 2.0], \
        "condition: each item is taken when it is notified"
    assert at(p, "notify_all()") == 2.50, "condition: notify_all() at 2.50"
    done = [p.index_of(f"consumer {i}: done") for i in (1, 2)]
    assert min(done) > p.index_of("notify_all()") and all(
        at(p, f"consumer {i}: done") == 2.50 for i in (1, 2)), \
        "condition: notify_all() wakes both consumers, which leave at 2.50"


def check_queue(p):
    assert at(p, "produced 7 (queued: 5)") == 0.70, "queue: the queue fills (queued: 5) at 0.70"
    assert max(int(line.split("queued: ")[1].rstrip(")")) for line in p.lines
               if "queued: " in line) == 5, "queue: never more than maxsize=5 items"
    assert at(p, "put 8 waits: queue full") == 0.80, "queue: put 8 waits at 0.80"
    through = p.index_of("put 8 got through")
    assert at(p, "put 8 got through") == 1.00, "queue: put 8 gets through at 1.00"
    assert "consumer 1 handles 3 (queued: 4)" in p.lines[through - 1], \
        "queue: put 8 gets through right after consumer 1 takes item 3 and frees a slot"
    assert (at(p, "put 9 waits"), at(p, "put 9 got through")) == (1.10, 1.60), \
        "queue: put 9 waits at 1.10 until consumer 2 takes an item at 1.60"
    assert "consumer 2 handles 4" in p.lines[p.index_of("put 9 got through") - 1], \
        "queue: put 9 gets through right after consumer 2's get()"
    assert at(p, "join() returned") == 5.00, "queue: join() returns at 5.00, the last task_done()"
    assert "consumers cancelled: yes" in p.lines[-1], "queue: the consumers end cancelled"


def check(parts):
    kinds = [p.title.split("(")[0].split(":")[0] for p in parts]
    assert kinds == ["Lock", "Semaphore", "Event", "Condition", "Queue"], \
        f"the parts are Lock, Semaphore, Event, Condition, Queue: {kinds}"
    check_lock(parts[0])
    check_semaphore(parts[1])
    check_event(parts[2])
    check_condition(parts[3])
    check_queue(parts[4])
