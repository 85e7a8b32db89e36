// test_queues.cpp - Queue, LifoQueue, PriorityQueue (asyncio: test_queues.py; parity
// rows 146-153, C6; 3.13's shutdown and QueueShutDown).
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

using test::ends_with;
using test::Trace;

template <class Q>
aio::Coro<void> getter(Q& q, Trace& trace, std::string name) {
    auto item = co_await q.get();
    trace.push_back(name + " got " + std::to_string(item));
}

aio::Coro<void> putter(aio::Queue<int>& q, Trace& trace, int item) {
    co_await q.put(item);
    trace.push_back("put " + std::to_string(item));
}

template <class T>
aio::Coro<void> finish(aio::Task<T> t) {
    try {
        co_await t;
    } catch (const aio::CancelledError&) {
    }
}

// asyncio: test_maxsize, test_blocking_put_wait, test_blocking_get_wait.
aio::Coro<void> blocking(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> g = aio::create_task(getter(q, trace, "g"));
    co_await aio::sleep(0);
    CHECK(q.getter_count() == 1);
    co_await q.put(1);  // wakes g; the item stays in the queue until g runs
    CHECK(q.qsize() == 1);
    co_await q.put(2);
    CHECK(q.full());
    aio::Task<void> p = aio::create_task(putter(q, trace, 3));
    co_await aio::sleep(0);  // g takes 1, which wakes p; p puts 3
    co_await g;
    co_await p;
    CHECK(q.qsize() == 2);
    int a = co_await q.get();
    int b = co_await q.get();
    trace.push_back("main got " + std::to_string(a) + ", " + std::to_string(b));
}

// asyncio: queues.py's `while self.empty(): await getter`. A woken getter whose item was
// taken before it ran (by a get_nowait here) parks again instead of failing.
aio::Coro<void> woken_getter_rechecks(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> g = aio::create_task(getter(q, trace, "g"));
    co_await aio::sleep(0);
    q.put_nowait(1);              // wakes g
    int stolen = q.get_nowait();  // ...but the item is gone before g runs
    trace.push_back("main took " + std::to_string(stolen));
    co_await aio::sleep(0);  // g looks, finds nothing, parks again
    CHECK(q.getter_count() == 1);
    CHECK_FALSE(g.done());
    q.put_nowait(2);
    co_await g;
}

aio::Coro<void> nowait_errors(aio::Queue<int>& q) {
    CHECK_THROWS_WITH_AS(q.get_nowait(), "QueueEmpty: get_nowait() on an empty queue",
                         aio::QueueEmpty);
    q.put_nowait(1);
    CHECK_THROWS_WITH_AS(q.put_nowait(2), "QueueFull: put_nowait() on a full queue",
                         aio::QueueFull);
    CHECK(q.get_nowait() == 1);
    co_return;
}

// asyncio: test_get_cancel_drop_one_pending_reader. A getter woken by a put and then
// cancelled leaves the item for the next get: nothing is dropped or reordered.
aio::Coro<void> drop_one_reader(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> reader = aio::create_task(getter(q, trace, "reader"));
    co_await aio::sleep(0);
    q.put_nowait(1);
    q.put_nowait(2);
    reader.cancel();
    co_await finish(reader);
    CHECK(reader.cancelled());
    int first = co_await q.get();
    CHECK(first == 1);
}

// asyncio: test_get_cancel_drop_many_pending_readers. C6 for Queue: reader1's wake-up
// passes to reader3, so both items are taken.
aio::Coro<void> drop_many_readers(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> r1 = aio::create_task(getter(q, trace, "r1"));
    aio::Task<void> r2 = aio::create_task(getter(q, trace, "r2"));
    aio::Task<void> r3 = aio::create_task(getter(q, trace, "r3"));
    co_await aio::sleep(0);
    q.put_nowait(1);  // wakes r1
    q.put_nowait(2);  // wakes r2
    r1.cancel();      // r1 will not take its item: r3 must be woken for it
    co_await finish(r1);
    co_await r2;
    co_await r3;
    CHECK(q.empty());
    CHECK(q.getter_count() == 0);
}

// asyncio: test_put_cancel_drop and test_put_cancelled_race: C6 for putters.
aio::Coro<void> putter_cancelled_after_wake(aio::Queue<int>& q, Trace& trace) {
    q.put_nowait(0);
    aio::Task<void> p1 = aio::create_task(putter(q, trace, 1));
    aio::Task<void> p2 = aio::create_task(putter(q, trace, 2));
    co_await aio::sleep(0);
    CHECK(q.putter_count() == 2);
    CHECK(q.get_nowait() == 0);  // frees a slot, wakes p1
    p1.cancel();                 // which will not use it: p2 must get the slot
    co_await finish(p1);
    co_await p2;
    CHECK(q.get_nowait() == 2);
    CHECK(q.putter_count() == 0);
}

// asyncio: test_cancelled_getters_not_being_held_in_self_getters and the putter one.
aio::Coro<void> cancelled_waiters_leave(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> g = aio::create_task(getter(q, trace, "g"));
    co_await aio::sleep(0);
    CHECK(q.getter_count() == 1);
    g.cancel();
    co_await finish(g);
    CHECK(q.getter_count() == 0);
    q.put_nowait(1);
    aio::Task<void> p = aio::create_task(putter(q, trace, 2));
    co_await aio::sleep(0);
    CHECK(q.putter_count() == 1);
    CHECK(q.get_nowait() == 1);  // wakes p ...
    p.cancel();                  // ... which is cancelled anyway (asyncio: the ValueError case)
    co_await finish(p);
    CHECK(p.cancelled());
    CHECK(q.putter_count() == 0);
    CHECK(q.empty());
}

aio::Coro<void> worker(aio::Queue<int>& q, int& total) {
    for (;;) {
        int item = co_await q.get();
        co_await aio::sleep(0.1);
        total += item;
        q.task_done();
    }
}

// asyncio: test_task_done, test_join_empty_queue.
aio::Coro<void> task_done_join(aio::Queue<int>& q, int& total) {
    co_await q.join();  // nothing put: at once
    for (int i = 0; i < 100; ++i) q.put_nowait(i);
    CHECK(q.unfinished_tasks() == 100);
    aio::Task<void> w1 = aio::create_task(worker(q, total));
    aio::Task<void> w2 = aio::create_task(worker(q, total));
    co_await q.join();
    CHECK(total == 4950);
    CHECK(q.unfinished_tasks() == 0);
    w1.cancel();
    w2.cancel();
    co_await finish(w1);
    co_await finish(w2);
}

aio::Coro<void> expect_shutdown(aio::Coro<void> op, Trace& trace, std::string name) {
    std::string error = co_await test::thrown_by<aio::QueueShutDown>(std::move(op));
    trace.push_back(name + ": " + error);
}

aio::Coro<void> get_expecting_shutdown(aio::Queue<int>& q, Trace& trace, std::string name) {
    std::string error = co_await test::thrown_by<aio::QueueShutDown>(q.get());
    trace.push_back(name + ": " + error);
}

// asyncio 3.13: shutdown(). Blocked putters wake and throw; gets drain what is left,
// then throw; so do blocked getters once the queue is empty.
aio::Coro<void> shutdown_drains(aio::Queue<int>& q, Trace& trace) {
    q.put_nowait(1);
    aio::Task<void> p = aio::create_task(expect_shutdown(q.put(2), trace, "blocked put"));
    co_await aio::sleep(0);
    q.shutdown();
    CHECK(q.is_shutdown());
    co_await p;
    CHECK_THROWS_AS(q.put_nowait(3), aio::QueueShutDown);
    co_await expect_shutdown(q.put(3), trace, "put");
    int left = co_await q.get();  // drains
    CHECK(left == 1);
    CHECK_THROWS_WITH_AS(q.get_nowait(), "QueueShutDown: the queue is shut down",
                         aio::QueueShutDown);
    co_await get_expecting_shutdown(q, trace, "get");
}

aio::Coro<void> blocked_getters_shutdown(aio::Queue<int>& q, Trace& trace) {
    aio::Task<void> g1 = aio::create_task(get_expecting_shutdown(q, trace, "g1"));
    aio::Task<void> g2 = aio::create_task(get_expecting_shutdown(q, trace, "g2"));
    co_await aio::sleep(0);
    CHECK(q.getter_count() == 2);
    q.shutdown();
    co_await g1;
    co_await g2;
    CHECK(q.getter_count() == 0);
}

aio::Coro<void> joiner(aio::Queue<int>& q, Trace& trace) {
    co_await q.join();
    trace.push_back("joined");
}

// asyncio 3.13: shutdown(immediate=True) drops the items and counts them done.
aio::Coro<void> shutdown_immediate(aio::Queue<int>& q, Trace& trace) {
    for (int i = 0; i < 3; ++i) q.put_nowait(i);
    int taken = q.get_nowait();  // being worked on: not task_done() yet
    CHECK(taken == 0);
    aio::Task<void> j = aio::create_task(joiner(q, trace));
    co_await aio::sleep(0);
    CHECK(ends_with(q.repr(), "maxsize=0 _queue=[1, 2] tasks=3>"));
    q.shutdown(true);
    CHECK(q.empty());
    CHECK(q.unfinished_tasks() == 1);
    CHECK(ends_with(q.repr(), "maxsize=0 tasks=1 shutdown>"));
    co_await aio::sleep(0);
    CHECK(trace.empty());  // the item taken is still unfinished
    q.task_done();
    co_await j;
    co_await get_expecting_shutdown(q, trace, "get");
}

template <class Q>
aio::Coro<std::vector<int>> put_then_get(Q& q, std::vector<int> items) {
    for (int i : items) co_await q.put(i);
    std::vector<int> out;
    while (!q.empty()) out.push_back(co_await q.get());
    co_return out;
}

aio::Coro<std::vector<std::string>> tutorial_priorities() {
    aio::PriorityQueue<std::pair<int, std::string>> q;
    co_await q.put({3, "low"});
    co_await q.put({1, "high"});
    co_await q.put({2, "medium"});
    std::vector<std::string> out;
    while (!q.empty()) {
        std::pair<int, std::string> item = co_await q.get();
        out.push_back(std::to_string(item.first) + " " + item.second);
    }
    co_return out;
}

aio::Coro<int> move_only(aio::Queue<std::unique_ptr<int>>& q) {
    co_await q.put(std::make_unique<int>(42));
    std::unique_ptr<int> p = co_await q.get();
    co_return *p;
}

// A getter parked on `first`; `second` must then wait to put (the queue is full): the
// queue is bound to `first` as a whole, so the put throws.
aio::Coro<void> park_getter(aio::Queue<int>& q, aio::Task<int>* parked) {
    *parked = aio::create_task(q.get());
    co_await aio::sleep(0);
}

aio::Coro<void> park_putter(aio::Queue<int>& q, aio::Task<void>* parked) {
    *parked = aio::create_task(q.put(2));
    co_await aio::sleep(0);
}

template <class T>
aio::Coro<T> outcome_of(aio::Task<T> t) {
    co_return co_await t;
}

// The queue's floating maxsize does not compile (asyncio takes Queue(1.3): room for 2).
static_assert(!std::is_constructible_v<aio::Queue<int>, double>);
static_assert(!std::is_constructible_v<aio::LifoQueue<int>, float>);
static_assert(!std::is_constructible_v<aio::PriorityQueue<int>, double>);
static_assert(std::is_constructible_v<aio::Queue<int>, int>);

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE("Queue: a getter on one loop and a putter on another: the put throws") {
        auto first = test::virtual_loop();
        auto second = test::virtual_loop();
        aio::Queue<int> q(1);
        aio::Task<int> getter;
        test::run(*first, park_getter(q, &getter));
        q.put_nowait(1);  // wakes the getter on `first`; the queue is full again
        std::string error = test::run(*second, test::thrown_by<aio::RuntimeError>(q.put(2)));
        CHECK(error == "Queue is bound to a different event loop");
        CHECK(test::run(*first, outcome_of(getter)) == 1);
    }

    TEST_CASE("Queue: a putter on one loop and a getter on another: the get throws") {
        auto first = test::virtual_loop();
        auto second = test::virtual_loop();
        aio::Queue<int> q(1);
        q.put_nowait(1);
        aio::Task<void> putter;
        test::run(*first, park_putter(q, &putter));
        CHECK(q.get_nowait() == 1);  // wakes the putter on `first`
        std::string error = test::run(*second, test::thrown_by<aio::RuntimeError>(q.get()));
        CHECK(error == "Queue is bound to a different event loop");
        test::run(*first, outcome_of(putter));
        CHECK(q.get_nowait() == 2);
    }

    TEST_CASE("Queue: a negative maxsize is unbounded, as in asyncio") {
        aio::Queue<int> q(-1);
        for (int i = 0; i < 100; ++i) q.put_nowait(i);
        CHECK_FALSE(q.full());
        CHECK(q.maxsize() == -1);
    }

    TEST_CASE("Queue: put() waits while full, get() while empty; each wakes the other side") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q(2);
        Trace trace;
        CHECK(q.maxsize() == 2);
        test::run(*loop, blocking(q, trace));
        CHECK(trace == Trace{"g got 1", "put 3", "main got 2, 3"});
    }

    TEST_CASE("Queue: a woken getter whose item was taken first waits again") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        Trace trace;
        test::run(*loop, woken_getter_rechecks(q, trace));
        CHECK(trace == Trace{"main took 1", "g got 2"});
    }

    TEST_CASE(
        "Queue: put_nowait on a full queue throws QueueFull, get_nowait on an empty one "
        "QueueEmpty") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q(1);
        test::run(*loop, nowait_errors(q));
        aio::Queue<int> unbounded;
        for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
        CHECK_FALSE(unbounded.full());
    }

    TEST_CASE("Queue: a getter cancelled after a put woke it leaves the item in its place") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        Trace trace;
        test::run(*loop, drop_one_reader(q, trace));
        CHECK(trace.empty());
    }

    TEST_CASE("Queue: C6, a cancelled getter's wake-up goes to the next getter") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        Trace trace;
        test::run(*loop, drop_many_readers(q, trace));
        CHECK(trace == Trace{"r2 got 1", "r3 got 2"});
    }

    TEST_CASE("Queue: C6, a cancelled putter's wake-up goes to the next putter") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q(1);
        Trace trace;
        test::run(*loop, putter_cancelled_after_wake(q, trace));
        CHECK(trace == Trace{"put 2"});
    }

    TEST_CASE("Queue: cancelled getters and putters leave the wait lists") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q(1);
        Trace trace;
        test::run(*loop, cancelled_waiters_leave(q, trace));
        CHECK(trace.empty());
    }

    TEST_CASE("Queue: task_done() after every get lets join() return; one too many throws") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        int total = 0;
        test::run(*loop, task_done_join(q, total));
        CHECK_THROWS_WITH_AS(q.task_done(), "task_done() called too many times", aio::ValueError);
    }

    TEST_CASE(
        "Queue: shutdown() wakes blocked putters with QueueShutDown; gets drain, then throw") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q(1);
        Trace trace;
        test::run(*loop, shutdown_drains(q, trace));
        CHECK(trace == Trace{"blocked put: QueueShutDown: the queue is shut down",
                             "put: QueueShutDown: the queue is shut down",
                             "get: QueueShutDown: the queue is shut down"});
        aio::Queue<int> empty;
        trace.clear();
        test::run(*loop, blocked_getters_shutdown(empty, trace));
        CHECK(trace == Trace{"g1: QueueShutDown: the queue is shut down",
                             "g2: QueueShutDown: the queue is shut down"});
    }

    TEST_CASE("Queue: shutdown(immediate) drops the items, counts them done, wakes joiners") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        Trace trace;
        test::run(*loop, shutdown_immediate(q, trace));
        CHECK(trace == Trace{"joined", "get: QueueShutDown: the queue is shut down"});
    }

    TEST_CASE("LifoQueue pops the newest item, PriorityQueue the smallest") {
        auto loop = test::virtual_loop();
        aio::LifoQueue<int> lifo;
        CHECK(test::run(*loop, put_then_get(lifo, {1, 3, 2})) == std::vector<int>{2, 3, 1});
        aio::PriorityQueue<int> heap;
        CHECK(test::run(*loop, put_then_get(heap, {5, 1, 3, 2, 4})) ==
              std::vector<int>{1, 2, 3, 4, 5});
        aio::PriorityQueue<int, std::greater<int>> largest_first;
        CHECK(test::run(*loop, put_then_get(largest_first, {5, 1, 3})) ==
              std::vector<int>{5, 3, 1});
        CHECK(test::run(*loop, tutorial_priorities()) ==
              std::vector<std::string>{"1 high", "2 medium", "3 low"});
    }

    TEST_CASE("Queue: FIFO order survives the ring buffer growing while wrapped around") {
        auto loop = test::virtual_loop();
        aio::Queue<int> q;
        int next_in = 0, next_out = 0;
        bool in_order = true;
        for (int round = 0; round < 6; ++round) {
            for (int i = 0; i < 40; ++i) q.put_nowait(next_in++);
            for (int i = 0; i < 25; ++i) in_order = in_order && q.get_nowait() == next_out++;
        }
        while (!q.empty()) in_order = in_order && q.get_nowait() == next_out++;
        CHECK(in_order);
        CHECK(next_out == next_in);
        aio::Queue<std::unique_ptr<int>> owners;
        CHECK(test::run(*loop, move_only(owners)) == 42);
    }

    TEST_CASE("Queue: its printable form is asyncio's") {
        aio::Queue<std::string> q(5);
        CHECK(q.repr().rfind("<Queue at 0x", 0) == 0);
        CHECK(ends_with(q.repr(), " maxsize=5>"));
        q.put_nowait("a");
        CHECK(ends_with(q.repr(), " maxsize=5 _queue=['a'] tasks=1>"));
        aio::LifoQueue<int> lifo;
        CHECK(lifo.repr().rfind("<LifoQueue at 0x", 0) == 0);
    }
}
