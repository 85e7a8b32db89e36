// test_sleep.cpp - sleep(d), sleep(d, value), sleep(0) on the virtual clock
// (asyncio: test_tasks.py::test_sleep, SleepTests::test_sleep_zero, test_sleep_cancel).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

std::vector<std::string> trace;

aio::Coro<void> take_turns(std::string name, int turns) {
    for (int i = 1; i <= turns; ++i) {
        trace.push_back(name + std::to_string(i));
        co_await aio::sleep(0);
    }
}

aio::Coro<double> nap(aio::EventLoop& loop, double seconds) {
    co_await aio::sleep(seconds);
    co_return loop.time();
}

aio::Coro<std::string> sleep_with_value() {
    co_return co_await aio::sleep(1.5, std::string("rested"));
}

aio::Coro<void> sleep_nan() { co_await aio::sleep(std::nan("")); }

aio::Coro<void> note_after(double seconds, std::string name) {
    co_await aio::sleep(seconds);
    trace.push_back(name);
}

aio::Coro<void> stamp_after(aio::EventLoop& loop, double seconds, std::string name) {
    co_await aio::sleep(seconds);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f %s", loop.time(), name.c_str());
    trace.push_back(buf);
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("sleep(d) suspends for d seconds of the loop's clock") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(nap(*loop, 2.5)) == 2.5);
    }

    TEST_CASE("sleep(d, value) gives value back") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(sleep_with_value()) == "rested");
        CHECK(loop->time() == 1.5);
    }

    TEST_CASE("sleep(0) yields exactly one iteration, so two coroutines alternate") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::detail::Ref<aio::Driver> a = aio::drive(*loop, take_turns("a", 3));
        aio::detail::Ref<aio::Driver> b = aio::drive(*loop, take_turns("b", 3));
        std::uint64_t before = loop->iterations();
        while (!a->done() || !b->done()) loop->run_once();
        CHECK(trace == std::vector<std::string>{"a1", "b1", "a2", "b2", "a3", "b3"});
        CHECK(loop->iterations() - before == 4);  // three turns and the return
        CHECK(loop->time() == 0.0);
        CHECK(loop->timer_count() == 0);  // no timer was involved
    }

    TEST_CASE("a negative delay is sleep(0)") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(nap(*loop, -1)) == 0.0);
    }

    TEST_CASE("a NaN delay is refused") {
        auto loop = test::virtual_loop();
        CHECK_THROWS_WITH_AS(loop->run_until_complete(sleep_nan()), "sleep: the delay is NaN",
                             std::invalid_argument);
    }

    TEST_CASE(
        "sleeps overlap: three coroutines sleeping 1, 3, 2 s finish at 3.00 s in time order") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::detail::Ref<aio::Driver> a = aio::drive(*loop, stamp_after(*loop, 1, "one"));
        aio::detail::Ref<aio::Driver> b = aio::drive(*loop, stamp_after(*loop, 3, "three"));
        aio::detail::Ref<aio::Driver> c = aio::drive(*loop, stamp_after(*loop, 2, "two"));
        while (!a->done() || !b->done() || !c->done()) loop->run_once();
        CHECK(trace == std::vector<std::string>{"1.00 one", "2.00 two", "3.00 three"});
        CHECK(loop->time() == 3.0);
    }

    TEST_CASE("sleep(d) makes no timer handle: the driver's own step waits in the timer heap") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, note_after(5, "woke"));
        loop->run_once();
        CHECK(d->step_handle().parked());
        CHECK(loop->timer_count() == 1);
        while (!d->done()) loop->run_once();
        CHECK_FALSE(d->step_handle().parked());
        CHECK(trace == std::vector<std::string>{"woke"});
        CHECK(loop->time() == 5.0);
    }

    TEST_CASE(
        "a sleep ends in two hops, as asyncio's: a callback due at the same time runs first") {
        // asyncio: the timer completes the sleep's future, whose callback queues the step.
        auto loop = test::virtual_loop();
        trace.clear();
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, note_after(1, "coroutine"));
        loop->run_once();                                          // parked first: due first
        loop->call_later(1, [] { trace.push_back("callback"); });  // due at the same time
        std::uint64_t before = loop->iterations();
        while (!d->done()) loop->run_once();
        CHECK(trace == std::vector<std::string>{"callback", "coroutine"});
        CHECK(loop->iterations() - before == 2);  // the timer's hop, then the step
    }

    TEST_CASE("close() while a driven coroutine sleeps: its step leaves the heap, one report") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        trace.clear();
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, note_after(10, "never"));
        loop->run_once();
        loop->close();
        CHECK_FALSE(d->step_handle().parked());
        CHECK(loop->timer_count() == 0);
        CHECK_FALSE(d->has_frame());
        CHECK(log.lines.size() == 1);
        CHECK(log.contains("Driver was destroyed but it is pending!"));
        CHECK(trace.empty());
    }
}
