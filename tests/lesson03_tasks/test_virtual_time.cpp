// test_virtual_time.cpp - the virtual clock tells the truth about time spent in other
// threads and in blocking calls (lesson01_loop/clocks.hpp's rules 2 and 3), and
// aio::perf_counter times a whole run in both clock modes. Each case quotes the
// Python it ports; CPython 3.11 prints the same.
// Runs real threads for a few tenths of a second: built in the TSan build too.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

std::vector<std::string> trace;  // loop thread only

void block_for(double seconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

std::string stamp(const char* what, double t) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.1f", what, t);
    return buf;
}

// async def ticker():
//     while True: out.append(f"tick {loop.time() - t0:.1f}"); await asyncio.sleep(0.1)
aio::Coro<void> ticker(double t0) {
    for (;;) {
        trace.push_back(stamp("tick", aio::get_running_loop().time() - t0));
        co_await aio::sleep(0.1);
    }
}

// t = asyncio.create_task(ticker()); await asyncio.to_thread(time.sleep, 0.35)
aio::Coro<void> tick_while_thread_blocks() {
    double t0 = aio::get_running_loop().time();
    aio::Task<void> t = aio::create_task(ticker(t0));
    co_await aio::to_thread(block_for, 0.35);
    trace.push_back("thread done");
    t.cancel();
}

aio::Coro<void> sleeper() {
    co_await aio::sleep(0.1);
    trace.push_back("sleep");
}

aio::Coro<void> thread_call() {
    co_await aio::to_thread(block_for, 0.2);
    trace.push_back("thread");
}

// await asyncio.gather(thread(), sleeper())
aio::Coro<void> race() { co_await aio::gather(thread_call(), sleeper()); }

// a = loop.time(); time.sleep(0.2); b = loop.time()
aio::Coro<double> blocking_call() {
    aio::EventLoop& loop = aio::get_running_loop();
    double a = loop.time();
    block_for(0.2);
    co_return loop.time() - a;
}

aio::Coro<void> sleep_two() { co_await aio::sleep(2); }

aio::Coro<double> read_perf_counter() {
    co_await aio::sleep(1);
    co_return aio::perf_counter();
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("virtual time: a ticker ticks while to_thread blocks, as in CPython") {
        // CPython: ['tick 0.0', 'tick 0.1', 'tick 0.2', 'tick 0.3', 'thread done']
        test::ScopedEnv env("AIO_CLOCK", "virtual");
        trace.clear();
        aio::run(tick_while_thread_blocks());
        CHECK(trace == std::vector<std::string>{"tick 0.0", "tick 0.1", "tick 0.2", "tick 0.3",
                                                "thread done"});
    }

    TEST_CASE("virtual time: sleep(0.1) racing a 0.2 s thread finishes first") {
        // CPython: ['sleep', 'thread']
        test::ScopedEnv env("AIO_CLOCK", "virtual");
        trace.clear();
        aio::run(race());
        CHECK(trace == std::vector<std::string>{"sleep", "thread"});
    }

    TEST_CASE("virtual time: a blocking call inside a coroutine takes its real time") {
        // CPython: f"{b - a:.1f}" == "0.2"
        test::ScopedEnv env("AIO_CLOCK", "virtual");
        double took = aio::run(blocking_call());
        CHECK(stamp("took", took) == "took 0.2");
    }

    TEST_CASE("perf_counter: t = perf_counter(); run(main()); perf_counter() - t, both modes") {
        // t = time.perf_counter(); asyncio.run(asyncio.sleep(2)); time.perf_counter() - t
        {
            test::ScopedEnv env("AIO_CLOCK", "virtual");
            double t = aio::perf_counter();
            aio::run(sleep_two());
            CHECK(aio::perf_counter() - t == doctest::Approx(2.0).epsilon(1e-12));
            double inside = aio::run(read_perf_counter());  // inside run() too
            CHECK(inside - t == doctest::Approx(3.0).epsilon(1e-12));
            aio::run(sleep_two());  // runs add up
            CHECK(aio::perf_counter() - t == doctest::Approx(5.0).epsilon(1e-12));
        }
        double t = aio::perf_counter();  // monotonic: real time, not virtual
        aio::run(sleep_two(), std::nullopt, [] { return test::virtual_loop(); });
        CHECK(aio::perf_counter() - t < 1.0);
    }

    TEST_CASE("run_until_complete on a closed loop leaves the caller's coroutine alone") {
        // c = main(); loop.close(); loop.run_until_complete(c) raises "Event loop is
        // closed", silently; asyncio.run(c) then runs it.
        test::LogCapture log;
        auto loop = test::virtual_loop();
        loop->close();
        aio::Coro<void> c = sleep_two();
        CHECK_THROWS_WITH_AS(loop->run_until_complete(std::move(c)), "Event loop is closed",
                             aio::RuntimeError);
        CHECK(log.lines.empty());
        auto fresh = test::virtual_loop();
        fresh->run_until_complete(std::move(c));
        CHECK(fresh->time() == 2.0);
        CHECK(log.lines.empty());
    }
}
