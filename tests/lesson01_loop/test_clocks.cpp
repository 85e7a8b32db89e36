// test_clocks.cpp - what the virtual clock counts (clocks.hpp's three rules),
// perf_counter before, inside and after a run, and the 24-hour cap on a poll's timeout
// (asyncio: base_events.MAXIMUM_SELECT_TIMEOUT). Uses threads: run under TSan too.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace {

// Work in another thread that takes `seconds` of real time, then reports `what` on
// the loop (lesson 3's executor does the same through add_external_work).
std::thread start_worker(aio::EventLoop& loop, double seconds, std::vector<std::string>& trace,
                         const char* what) {
    loop.add_external_work();
    return std::thread([&loop, &trace, seconds, what] {
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        loop.call_soon_threadsafe([&loop, &trace, what] {
            loop.finish_external_work();
            trace.push_back(what);
        });
    });
}

std::string at(aio::EventLoop& loop, const char* what) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.1f", what, loop.time());
    return buf;
}

// Ticks every 0.1 s until stopped.
void tick(aio::EventLoop& loop, std::vector<std::string>& trace, bool& stop) {
    if (stop) return;
    trace.push_back(at(loop, "tick"));
    loop.call_later(0.1, [&loop, &trace, &stop] { tick(loop, trace, stop); });
}

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("virtual clock: a ticker keeps ticking while another thread works (rule 2)") {
        // asyncio: tick every 0.1 s while to_thread(time.sleep, 0.35) runs prints
        // tick 0.0 .. tick 0.3, then the thread's result (tests/parity: ticker.py).
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        bool stop = false;
        loop->call_soon([&] { tick(*loop, trace, stop); });
        std::thread worker = start_worker(*loop, 0.35, trace, "thread done");
        while (trace.empty() || trace.back() != "thread done") loop->run_once();
        stop = true;
        worker.join();
        CHECK(trace == std::vector<std::string>{"tick 0.0", "tick 0.1", "tick 0.2", "tick 0.3",
                                                "thread done"});
    }

    TEST_CASE("virtual clock: a 0.1 s timer racing a 0.2 s thread fires first, exactly on time") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        loop->call_later(0.1, [&] { trace.push_back(at(*loop, "timer")); });
        std::thread worker = start_worker(*loop, 0.2, trace, "thread");
        while (trace.size() < 2) loop->run_once();
        worker.join();
        CHECK(trace == std::vector<std::string>{"timer 0.1", "thread"});
        // Real speed, less what the loop itself took: a wait that ends on a deadline
        // ends exactly on it, however late the loop woke.
        CHECK(loop->time() > 0.15);
        CHECK(loop->time() <= 0.25);
    }

    TEST_CASE("virtual clock: a wait for another thread with no timer counts its real time") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        std::thread worker = start_worker(*loop, 0.1, trace, "thread");
        while (trace.empty()) loop->run_once();  // select(-1) until the worker reports
        worker.join();
        CHECK(loop->time() > 0.05);  // the worker had a head start on the loop's wait
        CHECK(loop->time() < 1.0);
    }

    TEST_CASE("virtual clock: a callback blocking for 0.2 s makes 0.2 s pass (rule 3)") {
        // asyncio: time.sleep(0.2) in a coroutine; loop.time() moves by 0.2.
        auto loop = test::virtual_loop();
        double inside = -1;
        loop->call_soon([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            inside = loop->time();
        });
        loop->run_once();
        CHECK(inside >= 0.19);  // the coarse clock is read: a few ms of resolution
        CHECK(inside < 1.0);
        CHECK(loop->time() >= inside);
        double after = loop->time();
        bool fired = false;
        loop->call_later(1, [&] { fired = true; });
        while (!fired) loop->run_once();
        CHECK(loop->time() == after + 1);  // and the next timer is exact again
    }

    TEST_CASE("virtual clock: short callbacks do not move time (below the 50 ms threshold)") {
        auto loop = test::virtual_loop();
        for (int i = 0; i < 100; ++i) loop->call_soon([] {});
        loop->run_once();
        CHECK(loop->time() == 0.0);
        static_assert(aio::VirtualClock::blocking_threshold == 0.05);
    }

    TEST_CASE("perf_counter: under AIO_CLOCK=virtual it counts every virtual loop's time") {
        test::ScopedEnv env("AIO_CLOCK", "virtual");
        double t0 = aio::perf_counter();
        double inside = -1;
        auto loop = test::virtual_loop();
        loop->call_later(2, [&] {
            inside = aio::perf_counter() - t0;
            loop->stop();
        });
        loop->run_forever();
        CHECK(inside == doctest::Approx(2.0).epsilon(1e-12));
        CHECK(aio::perf_counter() - t0 == doctest::Approx(2.0).epsilon(1e-12));
        auto second = test::virtual_loop();  // a second run adds up
        second->call_later(3, [&] { second->stop(); });
        second->run_forever();
        CHECK(aio::perf_counter() - t0 == doctest::Approx(5.0).epsilon(1e-12));
    }

    TEST_CASE("perf_counter: includes a callback's blocking time while it runs") {
        test::ScopedEnv env("AIO_CLOCK", "virtual");
        double t0 = aio::perf_counter();
        double inside = -1;
        auto loop = test::virtual_loop();
        loop->call_soon([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            inside = aio::perf_counter() - t0;
        });
        loop->run_once();
        CHECK(inside >= 0.09);
        CHECK(aio::perf_counter() - t0 >= inside - 1e-6);  // whole ns, after
    }

    TEST_CASE("perf_counter: without AIO_CLOCK=virtual it is real monotonic time") {
        ::unsetenv("AIO_CLOCK");
        double t0 = aio::perf_counter();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        CHECK(aio::perf_counter() - t0 >= 0.01);
    }

    TEST_CASE("the poll timeout is capped at 24 h (asyncio: MAXIMUM_SELECT_TIMEOUT)") {
        std::vector<double> timeouts;
        aio::EventLoop loop(std::make_unique<test::RecordingSelector>(timeouts, false),
                            std::make_unique<aio::MonotonicClock>());
        loop.call_later(100000, [] {});
        loop.run_once();
        REQUIRE(timeouts.size() == 1);
        CHECK(timeouts[0] == 86400.0);
        CHECK(aio::EventLoop::maximum_select_timeout == 86400.0);
    }

    TEST_CASE("virtual clock: a wait for another thread is capped at 24 h too") {
        std::vector<double> timeouts;
        aio::EventLoop loop(std::make_unique<test::RecordingSelector>(timeouts, false),
                            std::make_unique<aio::VirtualClock>());
        loop.call_later(100000, [] {});
        loop.add_external_work();
        loop.run_once();  // the recording selector returns at once: no event, no wait
        loop.finish_external_work();
        REQUIRE(timeouts.size() == 1);
        CHECK(timeouts[0] == 86400.0);
    }
}
