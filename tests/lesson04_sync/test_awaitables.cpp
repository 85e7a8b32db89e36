// test_awaitables.cpp - lesson 4's awaitables (lock.acquire(), event.wait(), queue.get()
// and put()) through lesson 3's combinators, which take any awaitable, and stored in a
// variable to be awaited later (asyncio: tasks.ensure_future of a coroutine or an
// awaitable; `a = lock.acquire(); await a`).
#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

using test::Trace;

std::string now() { return std::to_string(static_cast<int>(aio::get_running_loop().time())); }

aio::Coro<Trace> lock_and_event(aio::Lock& lock, aio::Event& ev) {
    Trace trace;
    auto acquire = lock.acquire();  // stored, awaited later
    bool got = co_await acquire;
    trace.push_back(got && lock.locked() ? "acquired" : "not acquired");
    try {
        co_await aio::wait_for(ev.wait(), 1);  // not set: times out
    } catch (const aio::TimeoutError&) {
        trace.push_back("wait timed out at " + now());
    }
    aio::Task<bool> later = aio::create_task(lock.acquire());  // another task: waits
    aio::Future<bool> shielded = aio::shield(ev.wait());
    aio::get_running_loop().call_later(1, [&ev] { ev.set(); });
    auto [w1, w2] = co_await aio::gather(ev.wait(), ev.wait());
    static_assert(std::is_same_v<decltype(w1), bool>);
    trace.push_back(w1 && w2 ? "event set at " + now() : "event not set");
    lock.release();
    bool& from_task = co_await later;
    bool& from_shield = co_await shielded;
    trace.push_back(from_task && from_shield ? "task and shield done" : "not done");
    co_return trace;
}

aio::Coro<std::string> queue_through_gather(aio::Queue<int>& q) {
    auto [item, nothing] = co_await aio::gather(q.get(), q.put(5));
    static_assert(std::is_same_v<decltype(nothing), std::monostate>);
    co_return "got " + std::to_string(item);
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("lock.acquire() and event.wait(): stored, wait_for, create_task, shield, gather") {
        auto loop = test::virtual_loop();
        aio::Lock lock;
        aio::Event ev;
        Trace trace = test::run(*loop, lock_and_event(lock, ev));
        CHECK(trace ==
              Trace{"acquired", "wait timed out at 1", "event set at 2", "task and shield done"});
        CHECK(lock.locked());  // by the task that acquired it
    }

    TEST_CASE("queue.get() and queue.put() side by side in one gather") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        CHECK(test::run(*loop, queue_through_gather(q)) == "got 5");
    }
}
