// test_condition.cpp - Condition (asyncio: test_locks.py::ConditionTests; parity rows
// 129-133, C6 and gh-111693). Here a lock has an owner, so where asyncio's tests release
// a lock from the main task that another task holds, each task releases its own.
#include <doctest/doctest.h>

#include <optional>
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

// asyncio: test_notify's c1..c3: wait under the lock, say so, release.
aio::Coro<void> notified(aio::Condition& cond, Trace& trace, std::string name) {
    co_await cond.acquire();
    bool got = co_await cond.wait();
    trace.push_back(name + (got ? " notified, holding=" : " ?, holding=") +
                    (cond.lock().held_by_current_task() ? "yes" : "no"));
    cond.release();
}

aio::Coro<void> hold_the_lock(aio::Condition& cond) {
    co_await cond.acquire();
    co_await aio::sleep(10);
    cond.release();
}

// `async with cond: await cond.wait()`, in the guard form.
aio::Coro<void> guarded_wait(aio::Condition& cond) {
    aio::LockGuard held = co_await cond.guard();
    co_await cond.wait();
}

// Lets the waiter go first, then takes the lock it gave up in wait(), and keeps it.
aio::Coro<void> guarded_hold(aio::Condition& cond) {
    co_await aio::sleep(0);
    aio::LockGuard held = co_await cond.guard();
    co_await aio::sleep(10);
}

// Only the "destroyed but pending" lines a closing loop must print.
std::vector<std::string> other_lines(const test::LogCapture& log) {
    std::vector<std::string> other;
    for (const std::string& line : log.lines)
        if (line.find("Task was destroyed but it is pending!") == std::string::npos)
            other.push_back(line);
    return other;
}

aio::Coro<void> unacquired(aio::Condition& cond) {
    CHECK_THROWS_WITH_AS(cond.notify(), "cannot notify on un-acquired lock", aio::RuntimeError);
    CHECK_THROWS_WITH_AS(cond.notify_all(), "cannot notify on un-acquired lock", aio::RuntimeError);
    std::string error = co_await test::thrown_by<aio::RuntimeError>(cond.wait());
    CHECK(error == "RuntimeError('cannot wait on un-acquired lock')");
    std::optional<int> ready = co_await cond.wait_for([] { return std::optional<int>(42); });
    CHECK(ready == 42);
    error = co_await test::thrown_by<aio::RuntimeError>(cond.wait_for([] { return false; }));
    CHECK(error == "RuntimeError('cannot wait on un-acquired lock')");
    // Held, but by another task: still not ours to wait or notify on.
    aio::Task<void> holder = aio::create_task(hold_the_lock(cond));
    co_await aio::sleep(0);
    CHECK(cond.locked());
    CHECK_THROWS_WITH_AS(cond.notify(),
                         "cannot notify on un-acquired lock (it is held by another task)",
                         aio::RuntimeError);
    holder.cancel();
    try {
        co_await holder;
    } catch (const aio::CancelledError&) {
    }
}

// asyncio: test_notify and test_notify_all.
aio::Coro<void> notify_n(aio::Condition& cond, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(notified(cond, trace, "1"));
    aio::Task<void> t2 = aio::create_task(notified(cond, trace, "2"));
    aio::Task<void> t3 = aio::create_task(notified(cond, trace, "3"));
    aio::Task<void> t4 = aio::create_task(notified(cond, trace, "4"));
    co_await aio::sleep(0);
    CHECK(trace.empty());
    CHECK(ends_with(cond.repr(), "[unlocked, waiters:4]>"));
    co_await cond.acquire();
    cond.notify(1);
    cond.release();
    co_await aio::sleep(0);
    CHECK(trace == Trace{"1 notified, holding=yes"});
    co_await cond.acquire();
    cond.notify(1);
    cond.notify(2);  // 2 was woken by the first call: this one wakes 3 and 4
    trace.push_back("main notified");
    cond.release();
    co_await aio::sleep(0);
    co_await t4;
    co_await aio::sleep(0);
    CHECK(t1.done());
    CHECK(t2.done());
    CHECK(t3.done());
    trace.push_back("then notify_all");
    aio::Task<void> t5 = aio::create_task(notified(cond, trace, "5"));
    aio::Task<void> t6 = aio::create_task(notified(cond, trace, "6"));
    co_await aio::sleep(0);
    co_await cond.acquire();
    cond.notify_all();
    cond.release();
    co_await t5;
    co_await t6;
}

aio::Coro<void> wait_and_report(aio::Condition& cond, Trace& trace, std::string name) {
    co_await cond.acquire();
    try {
        co_await cond.wait();
        trace.push_back(name + " notified");
    } catch (const aio::CancelledError& e) {
        trace.push_back(name + " cancelled '" + e.what() +
                        "', holding=" + (cond.lock().held_by_current_task() ? "yes" : "no"));
    }
    cond.release();
}

// asyncio: test_wait_cancel. The lock is taken back before CancelledError arrives.
aio::Coro<void> cancel_wait(aio::Condition& cond, Trace& trace) {
    aio::Task<void> w = aio::create_task(wait_and_report(cond, trace, "w"));
    co_await aio::sleep(0);
    CHECK(cond.waiter_count() == 1);
    CHECK_FALSE(cond.locked());
    w.cancel("stop");
    co_await w;
    CHECK(cond.waiter_count() == 0);
    CHECK_FALSE(cond.locked());
}

// gh-111693: cancelled again while taking the lock back. The lock is still taken back,
// and the most recent CancelledError is the one thrown.
aio::Coro<void> cancel_twice(aio::Condition& cond, Trace& trace) {
    aio::Task<void> w = aio::create_task(wait_and_report(cond, trace, "w"));
    co_await aio::sleep(0);
    co_await cond.acquire();
    w.cancel("first");
    co_await aio::sleep(0);  // w: CancelledError('first'), now waiting for the lock
    CHECK(cond.lock().waiter_count() == 1);
    w.cancel("second");
    co_await aio::sleep(0);  // w: CancelledError('second') swallowed, waits for it again
    CHECK(cond.lock().waiter_count() == 1);
    trace.push_back("main releases");
    cond.release();
    co_await w;
}

aio::Coro<void> acquire_and_wait(aio::Condition& cond) {
    co_await cond.acquire();
    co_await cond.wait();
}

// asyncio: test_wait_cancel_contested: notified, then cancelled before it could run.
aio::Coro<void> cancel_contested(aio::Condition& cond) {
    aio::Task<void> w = aio::create_task(acquire_and_wait(cond));
    co_await aio::sleep(0);
    CHECK_FALSE(cond.locked());
    co_await cond.acquire();
    cond.notify();
    w.cancel();
    cond.release();
    try {
        co_await w;
    } catch (const aio::CancelledError&) {
    }
    CHECK(w.cancelled());
    CHECK(cond.locked());  // w took the lock back before its CancelledError
    CHECK_FALSE(cond.lock().held_by_current_task());
}

// C6 for Condition (asyncio 3.13, gh-112202): the waiter notify(1) woke is cancelled
// before it runs; the notification goes to the next waiter instead of being lost.
aio::Coro<void> cancel_after_notify(aio::Condition& cond, Trace& trace) {
    aio::Task<void> w1 = aio::create_task(wait_and_report(cond, trace, "w1"));
    aio::Task<void> w2 = aio::create_task(wait_and_report(cond, trace, "w2"));
    co_await aio::sleep(0);
    co_await cond.acquire();
    cond.notify(1);
    w1.cancel("late");
    cond.release();
    co_await w1;
    co_await w2;
}

// asyncio: test_wait_for.
aio::Coro<void> wait_for_truth(aio::Condition& cond, int& value, Trace& trace) {
    co_await cond.acquire();
    int got = co_await cond.wait_for([&value] { return value; });
    trace.push_back("predicate gave " + std::to_string(got));
    cond.release();
}

aio::Coro<void> wait_for_loops(aio::Condition& cond, Trace& trace) {
    int value = 0;
    aio::Task<void> t = aio::create_task(wait_for_truth(cond, value, trace));
    co_await aio::sleep(0);
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    CHECK(trace.empty());  // woke, predicate still 0: waits again
    CHECK(cond.waiter_count() == 1);
    value = 7;
    co_await cond.acquire();
    cond.notify();
    cond.release();
    co_await t;
}

// asyncio: test_explicit_lock. Condition(lock) shares the lock.
aio::Coro<void> shared_lock(aio::Lock& lock, aio::Condition& cond) {
    CHECK(&cond.lock() == &lock);
    {
        aio::LockGuard held = co_await cond.guard();
        CHECK(lock.locked());
        CHECK(cond.locked());
    }
    CHECK_FALSE(lock.locked());
    {
        aio::LockGuard held = co_await lock.guard();
        CHECK(cond.locked());
    }
    CHECK_FALSE(cond.locked());
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Condition: wait/notify without holding the lock throw; a true wait_for does not") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        test::run(*loop, unacquired(cond));
    }

    TEST_CASE("Condition: notify(n) wakes at most n waiters not yet woken, FIFO; notify_all all") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        Trace trace;
        test::run(*loop, notify_n(cond, trace));
        CHECK(trace == Trace{"1 notified, holding=yes", "main notified", "2 notified, holding=yes",
                             "3 notified, holding=yes", "4 notified, holding=yes",
                             "then notify_all", "5 notified, holding=yes",
                             "6 notified, holding=yes"});
    }

    TEST_CASE("Condition: a cancelled wait() takes the lock back before CancelledError") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        Trace trace;
        test::run(*loop, cancel_wait(cond, trace));
        CHECK(trace == Trace{"w cancelled 'stop', holding=yes"});
    }

    TEST_CASE("Condition: cancelled again while taking the lock back: the last cancel is thrown") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        Trace trace;
        test::run(*loop, cancel_twice(cond, trace));
        CHECK(trace == Trace{"main releases", "w cancelled 'second', holding=yes"});
    }

    TEST_CASE("Condition: notified then cancelled before running: it still ends holding the lock") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        test::run(*loop, cancel_contested(cond));
    }

    TEST_CASE("Condition: C6, a notification consumed by a cancelled waiter goes to the next") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        Trace trace;
        test::run(*loop, cancel_after_notify(cond, trace));
        CHECK(trace == Trace{"w1 cancelled 'late', holding=yes", "w2 notified"});
    }

    TEST_CASE("Condition: wait_for() waits until the predicate is truthy and returns its value") {
        auto loop = test::virtual_loop();
        aio::Condition cond;
        Trace trace;
        test::run(*loop, wait_for_loops(cond, trace));
        CHECK(trace == Trace{"predicate gave 7"});
    }

    TEST_CASE("Condition: Condition(lock) shares the given lock") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        aio::Condition cond(lock);
        test::run(*loop, shared_lock(lock, cond));
    }

    TEST_CASE("Condition: a task destroyed inside wait() leaves the lock to the task holding it") {
        // Regression: wait() had released the lock, and the waiter's guard released it
        // again when close() destroyed the frame: another task's lock, silently; that
        // task's own release then logged "Lock is not acquired.".
        for (bool waiter_first : {true, false}) {
            CAPTURE(waiter_first);
            auto loop = test::virtual_loop();
            test::LogCapture log;
            aio::Condition cond;
            if (waiter_first) aio::create_task(*loop, guarded_wait(cond));
            aio::create_task(*loop, guarded_hold(cond));
            if (!waiter_first) aio::create_task(*loop, guarded_wait(cond));
            loop->run_once();  // the waiter waits; the holder yields
            loop->run_once();  // the holder takes the lock
            REQUIRE(cond.waiter_count() == 1);
            REQUIRE(cond.locked());
            loop->close();  // destroys the tasks in the order they were made
            CHECK(other_lines(log).empty());
            CHECK(log.lines.size() == 2);
        }
    }
}
