// test_event.cpp - Event (asyncio: test_locks.py::EventTests; parity rows 126-128, C6).
#include <doctest/doctest.h>

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

aio::Coro<void> waiter(aio::Event& ev, Trace& trace, std::string name) {
    bool got = co_await ev.wait();
    trace.push_back(name + (got ? " woke" : " false"));
}

// asyncio: EventTests::test_wait. t3's first step was queued before set(); t1 and t2
// resume only in the step set() scheduled for them, so t3 goes first.
aio::Coro<void> set_wakes_all(aio::Event& ev, Trace& trace) {
    CHECK_FALSE(ev.is_set());
    CHECK(ends_with(ev.repr(), "[unset]>"));
    aio::Task<void> t1 = aio::create_task(waiter(ev, trace, "1"));
    aio::Task<void> t2 = aio::create_task(waiter(ev, trace, "2"));
    co_await aio::sleep(0);
    CHECK(trace.empty());
    CHECK(ends_with(ev.repr(), "[unset, waiters:2]>"));
    aio::Task<void> t3 = aio::create_task(waiter(ev, trace, "3"));
    ev.set();
    CHECK(ev.is_set());
    co_await aio::sleep(0);
    CHECK(trace == Trace{"3 woke", "1 woke", "2 woke"});
    CHECK(t1.done());
    CHECK(t2.done());
    CHECK(t3.done());
    CHECK(ev.waiter_count() == 0);
    CHECK(ends_with(ev.repr(), "[set]>"));
    // asyncio: test_wait_on_set. Set: no waiting at all.
    bool again = co_await ev.wait();
    CHECK(again);
}

// asyncio: test_clear_with_waiters.
aio::Coro<void> clear_after_set(aio::Event& ev, Trace& trace) {
    aio::Task<void> t = aio::create_task(waiter(ev, trace, "t"));
    co_await aio::sleep(0);
    ev.set();
    ev.clear();
    CHECK_FALSE(ev.is_set());
    ev.set();
    ev.set();
    CHECK(ev.waiter_count() == 1);  // still linked until t runs
    co_await aio::sleep(0);
    CHECK(trace == Trace{"t woke"});
    CHECK(ev.waiter_count() == 0);
    CHECK(t.done());
}

// asyncio: test_wait_cancel.
aio::Coro<void> cancel_wait(aio::Event& ev, Trace& trace) {
    aio::Task<void> t = aio::create_task(waiter(ev, trace, "t"));
    co_await aio::sleep(0);
    CHECK(ev.waiter_count() == 1);
    t.cancel();
    co_await aio::sleep(0);
    CHECK(t.cancelled());
    CHECK(ev.waiter_count() == 0);
    ev.set();
    CHECK(trace.empty());
}

// C6 for Event: a waiter cancelled after set() woke it ends cancelled; nothing is lost,
// since set() woke everyone and the flag stays set for later waiters.
aio::Coro<void> cancel_after_set(aio::Event& ev, Trace& trace) {
    aio::Task<void> t1 = aio::create_task(waiter(ev, trace, "1"));
    aio::Task<void> t2 = aio::create_task(waiter(ev, trace, "2"));
    co_await aio::sleep(0);
    ev.set();
    t1.cancel();
    co_await aio::sleep(0);
    CHECK(t1.cancelled());
    CHECK(t2.done());
    CHECK_FALSE(t2.cancelled());
    CHECK(trace == Trace{"2 woke"});
    CHECK(ev.waiter_count() == 0);
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Event: set() wakes every waiter, each in its own next step; set means no wait") {
        auto loop = test::virtual_loop();
        aio::Event ev;
        Trace trace;
        test::run(*loop, set_wakes_all(ev, trace));
    }

    TEST_CASE("Event: clear() right after set() does not take the wake-up back") {
        auto loop = test::virtual_loop();
        aio::Event ev;
        Trace trace;
        test::run(*loop, clear_after_set(ev, trace));
    }

    TEST_CASE("Event: a cancelled wait() removes its waiter") {
        auto loop = test::virtual_loop();
        aio::Event ev;
        Trace trace;
        test::run(*loop, cancel_wait(ev, trace));
    }

    TEST_CASE("Event: C6, a waiter cancelled after set() ends cancelled, the others wake") {
        auto loop = test::virtual_loop();
        aio::Event ev;
        Trace trace;
        test::run(*loop, cancel_after_set(ev, trace));
    }
}
