// test_lock.cpp - Lock and its guard (asyncio: test_locks.py::LockTests; parity rows
// 121-124 and C6).
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"

namespace {

using test::ends_with;
using test::Trace;

aio::Coro<void> note(Trace& trace, std::string what) {
    trace.push_back(what);
    co_return;
}

// Acquires, says so, holds the lock for one iteration, releases.
aio::Coro<void> locker(aio::Lock& lock, Trace& trace, std::string name) {
    co_await lock.acquire();
    trace.push_back(name + " acquired");
    co_await aio::sleep(0);
    trace.push_back(name + " releases");
    lock.release();
}

aio::Coro<void> fast_path(aio::Lock& lock, Trace& trace) {
    CHECK(ends_with(lock.repr(), "[unlocked]>"));
    CHECK(lock.repr().rfind("<aio::Lock object at 0x", 0) == 0);
    aio::Task<void> other = aio::create_task(note(trace, "other task ran"));
    bool got = co_await lock.acquire();
    trace.push_back("acquired");
    CHECK(got);
    CHECK(lock.locked());
    CHECK(lock.held_by_current_task());
    CHECK(ends_with(lock.repr(), "[locked]>"));
    lock.release();
    CHECK_FALSE(lock.locked());
    co_await other;
}

// asyncio: test_locks.py::LockTests::test_acquire, with each task releasing its own lock.
aio::Coro<void> fifo_no_barging(aio::Lock& lock, Trace& trace) {
    co_await lock.acquire();
    aio::Task<void> t1 = aio::create_task(locker(lock, trace, "t1"));
    aio::Task<void> t2 = aio::create_task(locker(lock, trace, "t2"));
    co_await aio::sleep(0);
    CHECK(lock.waiter_count() == 2);
    CHECK(ends_with(lock.repr(), "[locked, waiters:2]>"));
    // t3's first step is queued before the release below wakes t1, so t3 tries to
    // acquire in the hand-off window: the lock is free, t1 was woken but has not run.
    aio::Task<void> t3 = aio::create_task(locker(lock, trace, "t3"));
    lock.release();
    CHECK_FALSE(lock.locked());
    co_await aio::sleep(0);
    trace.push_back("main: locked=" + std::to_string(lock.locked()));
    co_await t1;
    co_await t2;
    co_await t3;
}

aio::Coro<void> release_from_another_task(aio::Lock& lock) {
    CHECK_THROWS_WITH_AS(lock.release(),
                         "Lock is held by another task: only the task that acquired it may "
                         "release it",
                         aio::RuntimeError);
    co_return;
}

aio::Coro<void> misuse(aio::Lock& lock) {
    CHECK_THROWS_WITH_AS(lock.release(), "Lock is not acquired.", aio::RuntimeError);
    co_await lock.acquire();
    co_await aio::create_task(release_from_another_task(lock));
    CHECK(lock.locked());
    lock.release();
}

aio::Coro<void> guarded(aio::Lock& lock, Trace& trace, bool fail) {
    aio::LockGuard held = co_await lock.guard();
    trace.push_back(std::string("in the block, locked=") + (lock.locked() ? "yes" : "no"));
    co_await aio::sleep(1);
    if (fail) throw std::runtime_error("the block failed");
}

aio::Coro<void> guards(aio::Lock& lock, Trace& trace) {
    co_await guarded(lock, trace, false);
    trace.push_back(std::string("after the block, locked=") + (lock.locked() ? "yes" : "no"));
    try {
        co_await guarded(lock, trace, true);
    } catch (const std::runtime_error& e) {
        trace.push_back(std::string(e.what()) + ", locked=" + (lock.locked() ? "yes" : "no"));
    }
    aio::Task<void> t = aio::create_task(guarded(lock, trace, false));
    co_await aio::sleep(0.5);
    t.cancel();
    try {
        co_await t;
    } catch (const aio::CancelledError&) {
        trace.push_back(std::string("cancelled in the block, locked=") +
                        (lock.locked() ? "yes" : "no"));
    }
}

aio::Coro<void> guard_early_and_misused(aio::Lock& lock) {
    {
        aio::LockGuard held = co_await lock.guard();
        CHECK(static_cast<bool>(held));
        held.release();  // the block ends early
        CHECK_FALSE(held);
        CHECK_FALSE(lock.locked());
    }
    aio::LockGuard held = co_await lock.guard();
    lock.release();  // released by hand inside the block: the guard's release will fail
}

aio::Coro<void> acquire_only(aio::Lock& lock) { co_await lock.acquire(); }

// asyncio: test_locks.py::test_acquire_cancel.
aio::Coro<void> cancel_while_parked(aio::Lock& lock) {
    co_await lock.acquire();
    aio::Task<void> t = aio::create_task(acquire_only(lock));
    co_await aio::sleep(0);
    CHECK(lock.waiter_count() == 1);
    t.cancel();
    try {
        co_await t;
    } catch (const aio::CancelledError&) {
    }
    CHECK(t.cancelled());
    CHECK(lock.waiter_count() == 0);
    CHECK(lock.held_by_current_task());
    lock.release();
}

aio::Coro<void> lock_then_wait(aio::Lock& lock, aio::Future<void> blocker, Trace& trace,
                               std::string name) {
    co_await lock.acquire();
    trace.push_back(name + " acquired");
    try {
        co_await blocker;
    } catch (...) {
    }
    lock.release();
}

// asyncio: test_locks.py::test_cancel_race. B is cancelled (not yet woken) in the same
// iteration as A releases: release() must not wake B's cancelled waiter for nothing,
// and B's cancel path must hand the lock to C.
aio::Coro<void> cancel_race(aio::Lock& lock, Trace& trace) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> fa(loop), done_b(loop), done_c(loop);
    done_b.set_result();
    done_c.set_result();
    aio::Task<void> ta = aio::create_task(lock_then_wait(lock, fa, trace, "A"));
    co_await aio::sleep(0);
    aio::Task<void> tb = aio::create_task(lock_then_wait(lock, done_b, trace, "B"));
    co_await aio::sleep(0);
    aio::Task<void> tc = aio::create_task(lock_then_wait(lock, done_c, trace, "C"));
    co_await aio::sleep(0);
    CHECK(lock.waiter_count() == 2);
    fa.set_result();
    tb.cancel();
    co_await aio::sleep(0);  // A releases; B's waiter is cancelled, so nobody is woken
    CHECK_FALSE(lock.locked());
    CHECK(ta.done());
    co_await tc;  // B's cancel path woke C
    CHECK(tb.cancelled());
    CHECK_FALSE(lock.locked());
}

// asyncio: test_locks.py::test_finished_waiter_cancelled: B is woken by release() and
// then cancelled before it runs. It must pass the wake-up to C (C6).
aio::Coro<void> cancelled_after_wake(aio::Lock& lock, Trace& trace) {
    co_await lock.acquire();
    aio::Task<void> tb = aio::create_task(acquire_only(lock));
    co_await aio::sleep(0);
    aio::Task<void> tc = aio::create_task(locker(lock, trace, "C"));
    co_await aio::sleep(0);
    CHECK(lock.waiter_count() == 2);
    lock.release();  // wakes B
    tb.cancel();     // ...which will not proceed
    co_await aio::sleep(0);
    CHECK(tb.cancelled());  // B ran, threw, and woke C
    CHECK_FALSE(lock.locked());
    co_await aio::sleep(0);
    CHECK(lock.locked());  // C has it
    co_await tc;
    CHECK(trace == Trace{"C acquired", "C releases"});
}

// asyncio: test_locks.py::test_finished_waiter_cancelled as written there: B is
// cancelled before the release, and C's first step comes after it. Every waiter is
// cancelled, so C takes the fast path.
aio::Coro<void> only_cancelled_waiters(aio::Lock& lock, Trace& trace) {
    co_await lock.acquire();
    aio::Task<void> tb = aio::create_task(acquire_only(lock));
    co_await aio::sleep(0);
    aio::Task<void> tc = aio::create_task(locker(lock, trace, "C"));
    tb.cancel();
    lock.release();
    co_await aio::sleep(0);
    CHECK(lock.locked());
    CHECK(tb.cancelled());
    co_await tc;
    CHECK(trace == Trace{"C acquired", "C releases"});
}

int lock_count = 0;
aio::Coro<void> count_acquisitions(aio::Lock& lock) {
    co_await lock.acquire();
    ++lock_count;
}

// asyncio: test_locks.py::test_cancel_release_race (bpo-32734): cancel the first waiter
// and release in the same callback; only one task may end up holding the lock.
aio::Coro<void> cancel_release_race(aio::Lock& lock) {
    lock_count = 0;
    co_await lock.acquire();
    aio::Task<void> t1 = aio::create_task(count_acquisitions(lock));
    aio::Task<void> t2 = aio::create_task(count_acquisitions(lock));
    aio::Task<void> t3 = aio::create_task(count_acquisitions(lock));
    co_await aio::sleep(0);
    t1.cancel();     // cancelled while parked, and in the same step
    lock.release();  // the lock is released: only one of t2, t3 may get it
    try {
        co_await t1;
    } catch (const aio::CancelledError&) {
    }
    CHECK(lock_count == 1);
    CHECK(t1.cancelled());
    CHECK(t2.done());
    CHECK_FALSE(t3.done());
    t3.cancel();
    co_await aio::sleep(0);
    CHECK(t3.cancelled());
}

aio::Coro<void> reacquire(aio::Lock& lock) {
    aio::LockGuard held = co_await lock.guard();
    std::string error = co_await test::thrown_by<aio::RuntimeError>(lock.acquire());
    CHECK(error ==
          "RuntimeError('Lock is already held by this task: acquiring it again would wait "
          "forever (a Lock is not reentrant)')");
    CHECK(lock.held_by_current_task());
    CHECK(lock.waiter_count() == 0);
}

// Each of `n` tasks takes the lock `rounds` times, yielding while it holds it.
aio::Coro<void> take_turns(aio::Lock& lock, Trace& trace, int id, int rounds) {
    for (int r = 0; r < rounds; ++r) {
        aio::LockGuard held = co_await lock.guard();
        trace.push_back(std::to_string(id));
        co_await aio::sleep(0);
    }
}

aio::Coro<void> many_contenders(aio::Lock& lock, Trace& trace, int n, int rounds) {
    std::vector<aio::Task<void>> tasks;
    for (int id = 0; id < n; ++id)
        tasks.push_back(aio::create_task(take_turns(lock, trace, id, rounds)));
    for (aio::Task<void>& t : tasks) co_await t;
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Lock: acquiring it again in the task that holds it throws instead of hanging") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        test::run(*loop, reacquire(lock));
        CHECK_FALSE(lock.locked());
    }

    TEST_CASE("Lock: 100 contending tasks take turns in strict FIFO order, round after round") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, many_contenders(lock, trace, 100, 5));
        Trace expected;
        for (int r = 0; r < 5; ++r)
            for (int id = 0; id < 100; ++id) expected.push_back(std::to_string(id));
        CHECK(trace == expected);
    }

    TEST_CASE("Lock: acquire() on a free lock returns true at once, without suspending") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, fast_path(lock, trace));
        CHECK(trace == Trace{"acquired", "other task ran"});
    }

    TEST_CASE("Lock: waiters acquire in FIFO order; nobody barges in during the hand-off") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, fifo_no_barging(lock, trace));
        CHECK(trace == Trace{"t1 acquired", "main: locked=1", "t1 releases", "t2 acquired",
                             "t2 releases", "t3 acquired", "t3 releases"});
        CHECK_FALSE(lock.locked());
    }

    TEST_CASE("Lock: release() of an unlocked lock, or by another task, throws RuntimeError") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        test::run(*loop, misuse(lock));
        CHECK_FALSE(lock.locked());
    }

    TEST_CASE("Lock: the guard (async with) releases at the end of its scope, error or cancel") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, guards(lock, trace));
        CHECK(trace == Trace{"in the block, locked=yes", "after the block, locked=no",
                             "in the block, locked=yes", "the block failed, locked=no",
                             "in the block, locked=yes", "cancelled in the block, locked=no"});
    }

    TEST_CASE(
        "Lock: guard.release() ends the block early; a failed release at scope end is "
        "logged") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        aio::Lock lock;
        test::run(*loop, guard_early_and_misused(lock));
        CHECK(log.lines == std::vector<std::string>{
                               "ERROR: Exception while releasing at the end of a guard's scope: "
                               "RuntimeError: Lock is not acquired."});
    }

    TEST_CASE("Lock: a waiter cancelled while parked leaves the queue; the holder keeps it") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        test::run(*loop, cancel_while_parked(lock));
        CHECK_FALSE(lock.locked());
    }

    TEST_CASE("Lock: a waiter cancelled as the lock is released passes its turn to the next") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, cancel_race(lock, trace));
        CHECK(trace == Trace{"A acquired", "C acquired"});
    }

    TEST_CASE("Lock: C6, a waiter cancelled after being woken passes the wake-up on") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, cancelled_after_wake(lock, trace));
    }

    TEST_CASE("Lock: with only cancelled waiters, a newcomer takes the fast path") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        Trace trace;
        test::run(*loop, only_cancelled_waiters(lock, trace));
    }

    TEST_CASE("Lock: cancel and release in the same step never let two tasks hold it") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        test::run(*loop, cancel_release_race(lock));
    }
}
