// test_threadsafe.cpp - the loop seen from other threads: call_soon_threadsafe, the
// waker, and debug mode's thread check. Run under ThreadSanitizer too.
// (asyncio: test_events.py::test_run_in_executor / call_soon_threadsafe;
// test_base_events.py::test_check_thread)
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/exceptions.hpp"

TEST_SUITE("lesson01") {
    TEST_CASE("call_soon_threadsafe wakes a loop blocked in select() with nothing to do") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::MonotonicClock>());
        std::atomic<bool> started{false};
        bool ran = false;
        loop.call_soon([&] { started = true; });
        std::thread other([&] {
            while (!started) std::this_thread::yield();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let it block
            loop.call_soon_threadsafe([&] {
                ran = true;
                loop.stop();
            });
        });
        loop.run_forever();  // no timer, no fd: only the waker can end this
        other.join();
        CHECK(ran);
    }

    TEST_CASE("call_soon_threadsafe from many threads: every callback runs exactly once") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::MonotonicClock>());
        constexpr int threads = 4, per_thread = 500;
        std::vector<int> counts(threads, 0);  // touched only on the loop thread
        int total = 0;
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i)
                    loop.call_soon_threadsafe([&, t] {
                        ++counts[static_cast<std::size_t>(t)];
                        if (++total == threads * per_thread) loop.stop();
                    });
            });
        loop.run_forever();
        for (auto& w : workers) w.join();
        CHECK(total == threads * per_thread);
        for (int c : counts) CHECK(c == per_thread);
    }

    TEST_CASE("a handle from call_soon_threadsafe can be cancelled on the loop thread") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        bool ran = false;
        aio::HandleRef h;
        std::thread other([&] { h = loop.call_soon_threadsafe([&] { ran = true; }); });
        other.join();
        h.cancel();
        loop.call_soon([&] { loop.stop(); });
        loop.run_forever();
        CHECK_FALSE(ran);
    }

    TEST_CASE("debug mode: call_soon from another thread throws while the loop runs") {
        test::LogCapture log;  // a debug loop logs its close
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        loop.set_debug(true);
        std::string error;
        loop.call_soon([&] {
            std::thread other([&] {
                try {
                    loop.call_soon([] {});
                } catch (const aio::RuntimeError& e) {
                    error = e.what();
                }
            });
            other.join();
        });
        loop.run_once();
        CHECK(error ==
              "Non-thread-safe operation invoked on an event loop other than the current one");
    }

    TEST_CASE("call_soon_threadsafe on a closed loop throws") {
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        loop.close();
        std::string error;
        std::thread other([&] {
            try {
                loop.call_soon_threadsafe([] {});
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        });
        other.join();
        CHECK(error == "Event loop is closed");
    }

    TEST_CASE("a handle from call_soon_threadsafe that never ran can be cancelled after close()") {
        // Regression: close() deleted such handles, so the HandleRef read freed memory.
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        aio::HandleRef from_here = loop.call_soon_threadsafe([] {});
        aio::HandleRef from_there;
        std::thread other([&] { from_there = loop.call_soon_threadsafe([] {}); });
        other.join();
        loop.close();
        from_here.cancel();
        from_there.cancel();
        CHECK(from_here.cancelled());
        CHECK(from_there.cancelled());
    }

    TEST_CASE("a virtual clock runs at real speed while work is pending in another thread") {
        // clocks.hpp, rule 2: the time the worker takes passes on the virtual clock too
        // (it counts while the loop waits for the worker: the worker starts only once
        // the loop runs, and takes 20 ms, so that even a loop thread slowed down by a
        // sanitizer spends at least 2 of them waiting); the timer after it still fires
        // exactly at its deadline.
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        double result_at = -1;
        std::vector<std::string> trace;
        loop.call_later(5, [&] {
            trace.push_back("timeout");
            loop.stop();
        });
        loop.add_external_work();
        std::atomic<bool> running{false};
        loop.call_soon([&] { running = true; });
        std::thread worker([&] {
            while (!running) std::this_thread::yield();
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            loop.call_soon_threadsafe([&] {
                loop.finish_external_work();
                result_at = loop.time();
                trace.push_back("result");
            });
        });
        loop.run_forever();
        worker.join();
        CHECK(trace == std::vector<std::string>{"result", "timeout"});
        CHECK(result_at >= 0.002);
        CHECK(result_at < 4.0);
        CHECK(loop.time() == 5.0);
    }
}
