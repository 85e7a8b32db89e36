// test_waiters.cpp - the machinery under every primitive: detail::WaiterList, parking
// on an embedded future, loop binding, and what happens when a primitive or the loop
// goes away while tasks wait (asyncio: the `_waiters` deques, mixins._LoopBoundMixin).
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

using test::Trace;

aio::Coro<void> park(aio::detail::WaiterList& list, Trace& trace, std::string name) {
    aio::detail::Waiter w;
    try {
        co_await aio::detail::wait_on(w, list);
        trace.push_back(name + " woken");
    } catch (const aio::CancelledError&) {
        trace.push_back(name + " cancelled, woken=" + (w.woken() ? "yes" : "no"));
    }
}

aio::Coro<void> list_order(aio::detail::WaiterList& list, Trace& trace) {
    aio::Task<void> a = aio::create_task(park(list, trace, "a"));
    aio::Task<void> b = aio::create_task(park(list, trace, "b"));
    aio::Task<void> c = aio::create_task(park(list, trace, "c"));
    aio::Task<void> d = aio::create_task(park(list, trace, "d"));
    co_await aio::sleep(0);
    CHECK(list.size() == 4);
    CHECK(list.any_not_cancelled());
    a.cancel();
    CHECK(list.wake_next());         // skips a (cancelled, still linked): wakes b
    CHECK(list.size() == 4);         // a and b leave only when their tasks run
    CHECK_FALSE(list.wake_first());  // the first waiter (b, woken) is done: no one
    co_await aio::sleep(0);
    CHECK(list.size() == 2);
    CHECK(list.wake_first());  // c
    CHECK(list.wake(5) == 1);  // d; c is woken already
    co_await aio::sleep(0);
    CHECK(list.empty());
    CHECK_FALSE(list.wake_next());
    co_await a;
    co_await b;
    co_await c;
    co_await d;
}

aio::Coro<void> take_lock_then_wait(aio::Lock& lock) {
    co_await lock.acquire();
    co_await aio::sleep(10);
    lock.release();
}

aio::Coro<void> acquire_release(aio::Lock& lock) {
    co_await lock.acquire();
    lock.release();
}

aio::Coro<void> use_lock(aio::Lock& lock, Trace& trace) {
    aio::Task<void> holder = aio::create_task(take_lock_then_wait(lock));
    co_await aio::sleep(0);
    std::string error = co_await test::thrown_by<aio::RuntimeError>(acquire_release(lock));
    trace.push_back(error);
    co_await holder;
}

aio::Coro<void> wait_on_lock(aio::Lock& lock, Trace& trace) {
    try {
        co_await lock.acquire();
        trace.push_back("acquired?");
    } catch (const aio::CancelledError&) {
        trace.push_back("cancelled");
    } catch (const aio::RuntimeError& e) {
        trace.push_back(e.what());
    }
}

aio::Coro<void> orphaned(std::unique_ptr<aio::Lock>& lock, Trace& trace) {
    co_await lock->acquire();
    aio::Task<void> a = aio::create_task(wait_on_lock(*lock, trace));
    aio::Task<void> b = aio::create_task(wait_on_lock(*lock, trace));
    co_await aio::sleep(0);
    lock->release();  // wakes a
    lock.reset();     // the lock dies with a woken and b parked
    b.cancel();
    co_await a;
    co_await b;
}

aio::Coro<void> get_forever(aio::Queue<int>& q, aio::Lock& lock) {
    aio::LockGuard held = co_await lock.guard();
    (void)co_await q.get();
}

aio::Coro<void> strand_waiters(aio::Queue<int>& q, aio::Lock& lock) {
    aio::create_task(get_forever(q, lock));
    aio::create_task(get_forever(q, lock));
    co_await aio::sleep(0);
    CHECK(q.getter_count() == 1);
    CHECK(lock.waiter_count() == 1);
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("WaiterList: FIFO wake-ups skip cancelled waiters; waiters leave when they run") {
        auto loop = test::virtual_loop();
        aio::detail::WaiterList list("test");
        Trace trace;
        test::run(*loop, list_order(list, trace));
        CHECK(trace == Trace{"a cancelled, woken=no", "b woken", "c woken", "d woken"});
    }

    TEST_CASE("a primitive is bound to the loop of its first wait; waiting from another throws") {
        aio::Lock lock;
        Trace trace;
        auto first = test::virtual_loop();
        auto second = test::virtual_loop();
        test::run(*first, use_lock(lock, trace));
        test::run(*second, use_lock(lock, trace));
        CHECK(trace == Trace{"no exception", "Lock is bound to a different event loop"});
    }

    TEST_CASE("a primitive bound to a dead loop refuses a new loop built at the same address") {
        aio::Lock lock;
        Trace trace;
        alignas(aio::EventLoop) unsigned char storage[sizeof(aio::EventLoop)];
        auto* first = new (storage) aio::EventLoop(nullptr, std::make_unique<aio::VirtualClock>());
        std::uint64_t first_id = first->id();
        test::run(*first, use_lock(lock, trace));
        first->~EventLoop();
        auto* second = new (storage) aio::EventLoop(nullptr, std::make_unique<aio::VirtualClock>());
        REQUIRE(static_cast<void*>(second) == static_cast<void*>(first));
        CHECK(second->id() != first_id);
        test::run(*second, use_lock(lock, trace));
        second->~EventLoop();
        CHECK(trace == Trace{"no exception", "Lock is bound to a different event loop"});
    }

    TEST_CASE("a primitive destroyed while tasks wait: woken ones get RuntimeError, cancel works") {
        auto loop = test::virtual_loop();
        auto lock = std::make_unique<aio::Lock>();
        Trace trace;
        test::run(*loop, orphaned(lock, trace));
        CHECK(trace ==
              Trace{"the Lock this task waited on was destroyed while it waited", "cancelled"});
    }

    TEST_CASE("a loop closed while tasks wait: their frames unlink and release, nothing leaks") {
        test::LogCapture log;
        std::size_t blocks = aio::detail::pool_blocks_in_use();
        aio::Queue<int> q;
        aio::Lock lock;
        {
            auto loop = test::virtual_loop();
            test::run(*loop, strand_waiters(q, lock));
        }  // closing the loop destroys both pending tasks' frames
        CHECK(q.getter_count() == 0);
        CHECK(lock.waiter_count() == 0);
        CHECK_FALSE(lock.locked());  // the guard in the first frame released it
        CHECK(log.contains("Task was destroyed but it is pending!"));
        CHECK(aio::detail::pool_blocks_in_use() == blocks);
    }
}
