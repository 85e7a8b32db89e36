// test_barrier.cpp - Barrier (asyncio: test_locks.py::BarrierTests; parity rows 141-144).
#include <doctest/doctest.h>

#include <algorithm>
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

aio::Coro<int> arrive(aio::Barrier& barrier) { co_return co_await barrier.wait(); }

aio::Coro<void> arrive_and_note(aio::Barrier& barrier, Trace& trace) {
    try {
        int index = co_await barrier.wait();
        trace.push_back("passed as " + std::to_string(index));
    } catch (const aio::BrokenBarrierError& e) {
        trace.push_back(std::string("broken: ") + e.what());
    }
}

// asyncio: test_context_manager / test_filling_tasks_check_return_value.
aio::Coro<std::vector<int>> indices(aio::Barrier& barrier, int n) {
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(aio::create_task(arrive(barrier)));
    std::vector<int> got;
    for (aio::Task<int>& t : tasks) got.push_back(co_await t);
    co_return got;
}

// asyncio: test_filling_task_by_task and test_repr.
aio::Coro<void> filling(aio::Barrier& barrier, Trace& trace) {
    CHECK(ends_with(barrier.repr(), "[filling, waiters:0/3]>"));
    aio::Task<void> t1 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    CHECK(barrier.n_waiting() == 1);
    aio::Task<void> t2 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    CHECK(barrier.n_waiting() == 2);
    CHECK(ends_with(barrier.repr(), "[filling, waiters:2/3]>"));
    aio::Task<void> t3 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    CHECK(ends_with(barrier.repr(), "[draining, waiters:0/3]>"));
    co_await t1;
    co_await t2;
    co_await t3;
    CHECK(barrier.n_waiting() == 0);
    CHECK(ends_with(barrier.repr(), "[filling, waiters:0/3]>"));
}

aio::Coro<void> report_state(aio::Barrier& barrier, Trace& trace) {
    co_await barrier.wait();
    bool draining = barrier.repr().find("draining") != std::string::npos;
    trace.push_back(draining ? "draining" : "filling");
}

// asyncio: test_draining_state. Every task but the last to leave sees "draining".
aio::Coro<void> draining(aio::Barrier& barrier, Trace& trace) {
    std::vector<aio::Task<void>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(aio::create_task(report_state(barrier, trace)));
    for (aio::Task<void>& t : tasks) co_await t;
}

aio::Coro<void> round_trip(aio::Barrier& barrier, Trace& trace, std::string name) {
    co_await barrier.wait();
    trace.push_back(name + " round 1");
    co_await barrier.wait();
    trace.push_back(name + " round 2");
}

// asyncio: test_blocking_tasks_while_draining, reduced: the fast tasks arrive for round
// 2 while round 1 still drains, and are held until it ends.
aio::Coro<void> blocked_while_draining(aio::Barrier& barrier, Trace& trace) {
    aio::Task<void> a = aio::create_task(round_trip(barrier, trace, "a"));
    aio::Task<void> b = aio::create_task(round_trip(barrier, trace, "b"));
    co_await a;
    co_await b;
}

// asyncio: test_filling_tasks_cancel_one.
aio::Coro<void> cancel_one(aio::Barrier& barrier, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    aio::Task<void> t2 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    CHECK(barrier.n_waiting() == 2);
    t1.cancel();
    co_await aio::sleep(0);
    CHECK(barrier.n_waiting() == 1);
    CHECK(t1.cancelled());
    aio::Task<void> t3 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    CHECK(barrier.n_waiting() == 2);
    aio::Task<void> t4 = aio::create_task(arrive_and_note(barrier, trace));
    co_await t2;
    co_await t3;
    co_await t4;
    CHECK(barrier.n_waiting() == 0);
    CHECK_FALSE(barrier.broken());
}

// asyncio: test_reset_barrier_while_tasks_waiting.
aio::Coro<void> reset_while_waiting(aio::Barrier& barrier, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(arrive_and_note(barrier, trace));
    aio::Task<void> t2 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    co_await barrier.reset();
    CHECK(ends_with(barrier.repr(), "[resetting, waiters:0/3]>"));
    co_await t1;
    co_await t2;
    CHECK_FALSE(barrier.broken());
    CHECK(ends_with(barrier.repr(), "[filling, waiters:0/3]>"));
    // And it works again afterwards.
    std::vector<int> got = co_await indices(barrier, 3);
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<int>{0, 1, 2});
}

// asyncio: test_abort_barrier and test_abort_barrier_when_tasks_half_draining...: current
// and later waiters are refused.
aio::Coro<void> abort_breaks(aio::Barrier& barrier, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(arrive_and_note(barrier, trace));
    co_await aio::sleep(0);
    co_await barrier.abort();
    CHECK(barrier.broken());
    CHECK(ends_with(barrier.repr(), "[broken]>"));
    co_await t1;
    aio::Task<void> late = aio::create_task(arrive_and_note(barrier, trace));
    co_await late;
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Barrier: parties < 1 throws ValueError; wait() gives each party its own index") {
        CHECK_THROWS_WITH_AS(aio::Barrier(0), "parties must be > 0", aio::ValueError);
        CHECK_THROWS_AS(aio::Barrier(-4), aio::ValueError);
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        std::vector<int> got = test::run(*loop, indices(barrier, 3));
        std::sort(got.begin(), got.end());
        CHECK(got == std::vector<int>{0, 1, 2});
        CHECK(barrier.n_waiting() == 0);
        CHECK_FALSE(barrier.broken());
        aio::Barrier one(1);
        CHECK(test::run(*loop, indices(one, 2)) == std::vector<int>{0, 0});
    }

    TEST_CASE("Barrier: filling counts arrivals; the last releases all; draining, then filling") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        Trace trace;
        test::run(*loop, filling(barrier, trace));
        CHECK(trace == Trace{"passed as 2", "passed as 0", "passed as 1"});
    }

    TEST_CASE("Barrier: every party but the last to leave sees it draining") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        Trace trace;
        test::run(*loop, draining(barrier, trace));
        CHECK(trace == Trace{"draining", "draining", "filling"});
    }

    TEST_CASE("Barrier: a party arriving while the last round drains waits for the next round") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(2);
        Trace trace;
        test::run(*loop, blocked_while_draining(barrier, trace));
        // b, released first, comes back for round 2 while a has not left round 1: b is
        // held in wait() until a has left, and a then arrives first (index 0).
        CHECK(trace == Trace{"b round 1", "a round 1", "b round 2", "a round 2"});
    }

    TEST_CASE("Barrier: a cancelled waiter no longer counts") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        Trace trace;
        test::run(*loop, cancel_one(barrier, trace));
        CHECK(trace.size() == 3);
    }

    TEST_CASE("Barrier: reset() breaks the waiters with BrokenBarrierError, then fills again") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        Trace trace;
        test::run(*loop, reset_while_waiting(barrier, trace));
        CHECK(trace ==
              Trace{"broken: Abort or reset of barrier", "broken: Abort or reset of barrier"});
    }

    TEST_CASE("Barrier: abort() breaks it for current and later waiters") {
        auto loop = test::virtual_loop();
        aio::Barrier barrier(3);
        Trace trace;
        test::run(*loop, abort_breaks(barrier, trace));
        CHECK(trace == Trace{"broken: Abort or reset of barrier", "broken: Barrier aborted"});
    }

    TEST_CASE("Barrier: a loop closed over parties waiting in wait() releases nothing twice") {
        // Regression: as for Condition, each waiter's guard released the condition's
        // lock it no longer held; the second logged "Lock is not acquired.".
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Barrier barrier(3);
        aio::create_task(*loop, arrive(barrier));
        aio::create_task(*loop, arrive(barrier));
        loop->run_once();
        REQUIRE(barrier.n_waiting() == 2);
        loop->close();
        CHECK(log.lines.size() == 2);
        for (const std::string& line : log.lines)
            CHECK(line.find("Task was destroyed but it is pending!") != std::string::npos);
    }
}
