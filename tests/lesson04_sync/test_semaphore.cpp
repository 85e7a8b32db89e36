// test_semaphore.cpp - Semaphore and BoundedSemaphore (asyncio: test_locks.py::
// SemaphoreTests; parity rows 134-139, C6 and gh-90155), and tutorial 003's schedule.
#include <doctest/doctest.h>

#include <cstdio>
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

aio::Coro<void> take(aio::Semaphore& sem, Trace& trace, std::string name) {
    co_await sem.acquire();
    trace.push_back(name);
}

aio::Coro<void> take_silently(aio::Semaphore& sem) { co_await sem.acquire(); }

template <class T>
aio::Coro<void> finish(aio::Task<T> t) {
    try {
        co_await t;
    } catch (const aio::CancelledError&) {
    }
}

// asyncio: SemaphoreTests::test_acquire. release() hands the permit over at once: the
// value stays 0 while the woken waiters have not run yet.
aio::Coro<void> permits_at_wake_time(aio::Semaphore& sem, Trace& trace) {
    co_await sem.acquire();
    co_await sem.acquire();
    CHECK_FALSE(sem.locked());
    CHECK(ends_with(sem.repr(), "[unlocked, value:1]>"));
    aio::Task<void> t1 = aio::create_task(take(sem, trace, "1"));
    aio::Task<void> t2 = aio::create_task(take(sem, trace, "2"));
    aio::Task<void> t3 = aio::create_task(take(sem, trace, "3"));
    co_await aio::sleep(0);
    CHECK(trace == Trace{"1"});
    CHECK(sem.locked());
    CHECK(sem.waiter_count() == 2);
    CHECK(sem.value() == 0);
    CHECK(ends_with(sem.repr(), "[locked, waiters:2]>"));
    aio::Task<void> t4 = aio::create_task(take(sem, trace, "4"));  // its first step comes first
    sem.release();
    sem.release();
    CHECK(sem.value() == 0);
    co_await aio::sleep(0);
    CHECK(trace == Trace{"1", "2", "3"});
    CHECK(sem.value() == 0);
    CHECK(sem.locked());
    CHECK(sem.waiter_count() == 1);
    sem.release();
    co_await t4;
    CHECK(trace == Trace{"1", "2", "3", "4"});
}

aio::Coro<void> twice(aio::Semaphore& sem, Trace& trace, std::string tag) {
    co_await sem.acquire();
    trace.push_back(tag + "_1");
    co_await aio::sleep(0.01);
    sem.release();
    co_await sem.acquire();
    trace.push_back(tag + "_2");
    co_await aio::sleep(0.01);
    sem.release();
}

// asyncio: test_acquire_fifo_order.
aio::Coro<void> fifo_order(aio::Semaphore& sem, Trace& trace) {
    aio::Task<void> a = aio::create_task(twice(sem, trace, "c1"));
    aio::Task<void> b = aio::create_task(twice(sem, trace, "c2"));
    aio::Task<void> c = aio::create_task(twice(sem, trace, "c3"));
    co_await a;
    co_await b;
    co_await c;
}

aio::Coro<void> take_release_take(aio::Semaphore& sem, Trace& trace) {
    co_await sem.acquire();
    trace.push_back("2");
    sem.release();
    co_await sem.acquire();
    trace.push_back("4");
}

// asyncio: test_acquire_fifo_order_2. Releasing and re-acquiring queues behind 3.
aio::Coro<void> fifo_order_2(aio::Semaphore& sem, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(take(sem, trace, "1"));
    aio::Task<void> t2 = aio::create_task(take_release_take(sem, trace));
    aio::Task<void> t3 = aio::create_task(take(sem, trace, "3"));
    co_await aio::sleep(0);
    sem.release();
    sem.release();
    co_await t1;
    co_await t2;
    co_await t3;
}

// asyncio: test_acquire_fifo_order_3. A cancelled first waiter is skipped.
aio::Coro<void> fifo_order_3(aio::Semaphore& sem, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(take(sem, trace, "1"));
    aio::Task<void> t2 = aio::create_task(take(sem, trace, "2"));
    aio::Task<void> t3 = aio::create_task(take(sem, trace, "3"));
    co_await aio::sleep(0);
    t1.cancel();
    co_await aio::sleep(0);
    sem.release();
    sem.release();
    co_await finish(t1);
    co_await t2;
    co_await t3;
}

// asyncio: test_acquire_cancel_before_awoken and test_acquire_hang.
aio::Coro<void> cancelled_before_awoken(aio::Semaphore& sem) {
    aio::Task<void> t1 = aio::create_task(take_silently(sem));
    aio::Task<void> t2 = aio::create_task(take_silently(sem));
    aio::Task<void> t3 = aio::create_task(take_silently(sem));
    aio::Task<void> t4 = aio::create_task(take_silently(sem));
    co_await aio::sleep(0);
    t1.cancel();
    t2.cancel();
    sem.release();  // skips the two cancelled waiters
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    CHECK(t3.done());
    CHECK_FALSE(t4.done());
    CHECK(sem.locked());
    t4.cancel();
    co_await finish(t4);
    CHECK(sem.waiter_count() == 0);
    CHECK(sem.value() == 0);
}

// C6 for Semaphore: woken (the permit already taken out for it), then cancelled before
// it runs: the permit goes back and on to the next waiter; none is lost or leaked.
aio::Coro<void> cancelled_after_wake(aio::Semaphore& sem, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(take(sem, trace, "1"));
    aio::Task<void> t2 = aio::create_task(take(sem, trace, "2"));
    co_await aio::sleep(0);
    sem.release();  // t1 is woken, value back to 0
    t1.cancel();
    CHECK(sem.value() == 0);
    co_await aio::sleep(0);  // t1 gives the permit back and wakes t2 (value 0 again)
    CHECK(t1.cancelled());
    CHECK(sem.value() == 0);
    co_await t2;
    CHECK(trace == Trace{"2"});
    CHECK(sem.value() == 0);
    sem.release();
    CHECK(sem.value() == 1);
}

aio::Coro<void> hold_then_cancel(aio::Semaphore& sem, aio::Task<void>& other) {
    {
        auto held = co_await sem.guard();
        co_await aio::sleep(0);
    }
    other.cancel();
}

aio::Coro<void> never_gets_it(aio::Semaphore& sem, Trace& trace) {
    auto held = co_await sem.guard();
    trace.push_back("should not get here");
}

// asyncio: test_acquire_no_hang. c2 is woken by c1's release, then cancelled by c1.
aio::Coro<void> no_hang(aio::Semaphore& sem, Trace& trace) {
    aio::Task<void> t2;
    aio::Task<void> t1 = aio::create_task(hold_then_cancel(sem, t2));
    t2 = aio::create_task(never_gets_it(sem, trace));
    co_await t1;
    co_await finish(t2);
    CHECK(t2.cancelled());
    bool got = co_await sem.acquire();  // the permit came back
    CHECK(got);
}

aio::Coro<void> over_release(aio::BoundedSemaphore& sem) {
    CHECK_THROWS_WITH_AS(sem.release(), "BoundedSemaphore released too many times",
                         aio::ValueError);
    {
        auto held = co_await sem.guard();
        CHECK(sem.locked());
        CHECK(sem.repr().rfind("<aio::BoundedSemaphore object at", 0) == 0);
    }
    CHECK(sem.value() == 1);
    CHECK_THROWS_AS(sem.release(), aio::ValueError);
}

double started_at = 0;

// Tutorial 003: at most 3 of [1, 2, 3, 2, 3] seconds of sleep at once take 5 seconds.
aio::Coro<void> limited(aio::Semaphore& sem, Trace& trace, int id, double seconds) {
    auto held = co_await sem.guard();
    aio::EventLoop& loop = aio::get_running_loop();
    char line[64];
    std::snprintf(line, sizeof line, "%.0f: task %d starts", loop.time() - started_at, id);
    trace.push_back(line);
    co_await aio::sleep(seconds);
    std::snprintf(line, sizeof line, "%.0f: task %d ends", loop.time() - started_at, id);
    trace.push_back(line);
}

aio::Coro<void> tutorial_schedule(aio::Semaphore& sem, Trace& trace) {
    started_at = aio::get_running_loop().time();
    std::vector<aio::Task<void>> tasks;
    const double sleeps[] = {1, 2, 3, 2, 3};
    for (int i = 0; i < 5; ++i)
        tasks.push_back(aio::create_task(limited(sem, trace, i + 1, sleeps[i])));
    for (aio::Task<void>& t : tasks) co_await t;
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Semaphore: a negative value throws ValueError; Semaphore(0) starts locked") {
        CHECK_THROWS_WITH_AS(aio::Semaphore(-1), "Semaphore initial value must be >= 0",
                             aio::ValueError);
        CHECK_THROWS_AS(aio::BoundedSemaphore(-1), std::invalid_argument);
        aio::Semaphore zero(0);
        CHECK(zero.locked());
        CHECK(ends_with(zero.repr(), "[locked]>"));
        aio::Semaphore one;
        CHECK(ends_with(one.repr(), "[unlocked, value:1]>"));
    }

    TEST_CASE("Semaphore: release() hands the permit to the first waiter at once (value stays 0)") {
        auto loop = test::virtual_loop();
        aio::Semaphore sem(3);
        Trace trace;
        test::run(*loop, permits_at_wake_time(sem, trace));
    }

    TEST_CASE("Semaphore: acquisition is strictly FIFO across repeated cycles") {
        auto loop = test::virtual_loop();
        Trace trace;
        aio::Semaphore sem(1);
        test::run(*loop, fifo_order(sem, trace));
        CHECK(trace == Trace{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"});
        trace.clear();
        aio::Semaphore sem2(1);
        test::run(*loop, fifo_order_2(sem2, trace));
        CHECK(trace == Trace{"1", "2", "3", "4"});
        trace.clear();
        aio::Semaphore sem3(0);
        test::run(*loop, fifo_order_3(sem3, trace));
        CHECK(trace == Trace{"2", "3"});
    }

    TEST_CASE("Semaphore: waiters cancelled before a release are skipped; nothing hangs") {
        auto loop = test::virtual_loop();
        aio::Semaphore sem(0);
        test::run(*loop, cancelled_before_awoken(sem));
    }

    TEST_CASE("Semaphore: C6, a waiter cancelled after being woken returns the permit") {
        auto loop = test::virtual_loop();
        aio::Semaphore sem(0);
        Trace trace;
        test::run(*loop, cancelled_after_wake(sem, trace));
    }

    TEST_CASE("Semaphore: a holder cancelling the waiter it just woke does not lose the permit") {
        auto loop = test::virtual_loop();
        aio::Semaphore sem(1);
        Trace trace;
        test::run(*loop, no_hang(sem, trace));
        CHECK(trace.empty());
    }

    TEST_CASE("BoundedSemaphore: release() past the initial value throws ValueError") {
        auto loop = test::virtual_loop();
        aio::BoundedSemaphore sem(1);
        test::run(*loop, over_release(sem));
    }

    TEST_CASE("Semaphore(3) over sleeps [1, 2, 3, 2, 3]: the tutorial's schedule, 5 seconds") {
        auto loop = test::virtual_loop();
        aio::Semaphore sem(3);
        Trace trace;
        test::run(*loop, tutorial_schedule(sem, trace));
        CHECK(trace == Trace{"0: task 1 starts", "0: task 2 starts", "0: task 3 starts",
                             "1: task 1 ends", "1: task 4 starts", "2: task 2 ends",
                             "2: task 5 starts", "3: task 3 ends", "3: task 4 ends",
                             "5: task 5 ends"});
        CHECK(loop->time() == 5.0);
    }
}
