// test_call_soon.cpp - the ready queue and one iteration of the loop
// (asyncio: test_base_events.py, test_events.py: call_soon, _run_once, stop).
#include <doctest/doctest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "helpers.hpp"

TEST_SUITE("lesson01") {
    TEST_CASE("call_soon: callbacks run once each, in registration order") {
        auto loop = test::virtual_loop();
        std::vector<int> order;
        for (int i = 0; i < 5; ++i) loop->call_soon([&order, i] { order.push_back(i); });
        loop->call_soon([&] { loop->stop(); });
        loop->run_forever();
        CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
        loop->stop();
        loop->run_forever();  // nothing left to run: no callback runs twice
        CHECK(order.size() == 5);
    }

    TEST_CASE("an iteration runs only the callbacks that were ready when it began") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        loop->call_soon([&] {
            trace.push_back("first");
            loop->call_soon([&] { trace.push_back("scheduled during iteration 1"); });
        });
        loop->call_soon([&] { trace.push_back("second"); });
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"first", "second"});
        CHECK(loop->ready_count() == 1);
        loop->run_once();
        CHECK(trace.back() == "scheduled during iteration 1");
    }

    TEST_CASE("stop() finishes the iteration; leftovers run at the next run_forever") {
        // asyncio: ['a','b'] then ['a','b','c'] (asyncio_parity.md row 003)
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        loop->call_soon([&] {
            trace.push_back("a");
            loop->stop();
            loop->call_soon([&] { trace.push_back("c"); });
        });
        loop->call_soon([&] { trace.push_back("b"); });
        loop->run_forever();
        CHECK(trace == std::vector<std::string>{"a", "b"});
        loop->call_soon([&] { loop->stop(); });
        loop->run_forever();
        CHECK(trace == std::vector<std::string>{"a", "b", "c"});
    }

    TEST_CASE("stop() before run_forever makes exactly one iteration") {
        auto loop = test::virtual_loop();
        int ran = 0;
        loop->call_later(10.0, [&] { ++ran; });
        loop->stop();
        std::uint64_t before = loop->iterations();
        loop->run_forever();
        CHECK(loop->iterations() == before + 1);
        CHECK(ran == 0);
        CHECK(loop->time() == 0.0);  // it did not wait for the timer
    }

    TEST_CASE("is_running is true only while the loop runs") {
        auto loop = test::virtual_loop();
        bool inside = false;
        loop->call_soon([&] { inside = loop->is_running(); });
        CHECK_FALSE(loop->is_running());
        loop->run_once();
        CHECK(inside);
        CHECK_FALSE(loop->is_running());
    }

    TEST_CASE("a cancelled handle is skipped; cancel() is idempotent") {
        auto loop = test::virtual_loop();
        std::vector<int> order;
        loop->call_soon([&] { order.push_back(1); });
        aio::HandleRef h = loop->call_soon([&] { order.push_back(2); });
        loop->call_soon([&] { order.push_back(3); });
        CHECK_FALSE(h.cancelled());
        h.cancel();
        h.cancel();
        CHECK(h.cancelled());
        loop->run_once();
        CHECK(order == std::vector<int>{1, 3});
        CHECK(h.cancelled());  // still reports it after the loop dropped the handle
    }

    TEST_CASE("cancel() releases the callback's captures at once") {
        auto loop = test::virtual_loop();
        auto resource = std::make_shared<int>(42);
        aio::HandleRef h = loop->call_soon([resource] { (void)resource; });
        CHECK(resource.use_count() == 2);
        h.cancel();
        CHECK(resource.use_count() == 1);
    }

    TEST_CASE("a callback may cancel its own handle while it runs") {
        auto loop = test::virtual_loop();
        auto resource = std::make_shared<std::string>("still here");
        aio::HandleRef self;
        std::string seen;
        self = loop->call_soon([&, resource] {
            self.cancel();
            seen = *resource;  // the captures outlive the cancel until we return
        });
        loop->run_once();
        CHECK(seen == "still here");
        CHECK(resource.use_count() == 1);
    }

    TEST_CASE("cancel() after the callback ran does not touch the recycled handle") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        aio::HandleRef first = loop->call_soon([&] { trace.push_back("first"); });
        loop->run_once();
        // The pool hands the same handle out again; the stale reference must miss it.
        aio::HandleRef second = loop->call_soon([&] { trace.push_back("second"); });
        first.cancel();
        CHECK_FALSE(second.cancelled());
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"first", "second"});
    }

    TEST_CASE("a callable larger than the inline buffer works and is destroyed") {
        auto loop = test::virtual_loop();
        std::array<char, 4 * aio::CallbackHandle::inline_size> big{};
        big[0] = 'x';
        auto resource = std::make_shared<int>(1);
        char seen = 0;
        loop->call_soon([big, resource, &seen] { seen = big[0]; });
        CHECK(resource.use_count() == 2);
        loop->run_once();
        CHECK(seen == 'x');
        CHECK(resource.use_count() == 1);
    }

    TEST_CASE("handles are recycled: a steady stream of call_soon reuses the pool") {
        auto loop = test::virtual_loop();
        int count = 0;
        for (int round = 0; round < 100; ++round) {
            for (int i = 0; i < 10; ++i) loop->call_soon([&] { ++count; });
            loop->run_once();
        }
        CHECK(count == 1000);
        CHECK(loop->ready_count() == 0);
    }

    // An object that owns its handle, as lesson 3's Task owns its step.
    struct Counter {
        static void invoke(aio::Handle& h) { ++static_cast<Counter*>(h.owner())->runs; }
        static constexpr aio::HandleOps ops = {&Counter::invoke, nullptr, nullptr};
        int runs = 0;
        aio::Handle step{&ops, this};
    };

    TEST_CASE("schedule(): an embedded handle runs once however often it is queued") {
        auto loop = test::virtual_loop();
        Counter owner;
        loop->schedule(owner.step);
        loop->schedule(owner.step);
        loop->run_once();
        CHECK(owner.runs == 1);
        loop->schedule(owner.step);
        owner.step.cancel();
        loop->schedule(owner.step);  // cancelled while queued, scheduled again: runs once
        loop->run_once();
        CHECK(owner.runs == 2);
    }

    TEST_CASE("an embedded handle is three words: the callable and timer fields are pooled") {
        CHECK(sizeof(aio::Handle) == 3 * sizeof(void*));
        CHECK(sizeof(aio::CallbackHandle) >=
              sizeof(aio::Handle) + aio::CallbackHandle::inline_size);
        // Both kinds print: an embedded one without a describe op as a bare Handle.
        auto loop = test::virtual_loop();
        Counter owner;
        CHECK(owner.step.repr() == "<Handle>");
        owner.step.cancel();
        CHECK(owner.step.repr() == "<Handle cancelled>");
        aio::TimerHandle t = loop->call_at(5.0, [] {});
        t.cancel();
        CHECK(t.repr().rfind("<TimerHandle cancelled when=5.000 scheduled at test_call_soon.cpp:",
                             0) == 0);
    }

    TEST_CASE("a callback that reschedules itself cannot starve the next iteration") {
        auto loop = test::virtual_loop();
        int spins = 0;
        std::function<void()> spin = [&] {
            ++spins;
            loop->call_soon(spin);
        };
        loop->call_soon(spin);
        for (int i = 0; i < 3; ++i) loop->run_once();
        CHECK(spins == 3);
    }
}
