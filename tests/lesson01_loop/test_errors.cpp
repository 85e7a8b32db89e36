// test_errors.cpp - what happens when callbacks throw and when the loop is misused
// (asyncio: test_base_events.py::test_set_exc_handler_*, test_close,
// test_run_forever_*; test_events.py::test_run_until_complete_nesting).
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "helpers.hpp"
#include "lesson01_loop/exceptions.hpp"

TEST_SUITE("lesson01") {
    TEST_CASE("a throwing callback reaches the exception handler and the loop goes on") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        std::string message, what, handle;
        loop->set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) {
            message = ctx.message;
            handle = ctx.handle ? ctx.handle->repr() : "";
            try {
                std::rethrow_exception(ctx.exception);
            } catch (const std::exception& e) {
                what = e.what();
            }
        });
        loop->call_soon([&] { trace.push_back("before"); });
        loop->call_soon([] { throw std::runtime_error("boom"); });
        loop->call_soon([&] { trace.push_back("after"); });
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"before", "after"});
        CHECK(message.rfind("Exception in callback <Handle scheduled at test_errors.cpp:", 0) == 0);
        CHECK(handle.find("test_errors.cpp") != std::string::npos);
        CHECK(what == "boom");
    }

    TEST_CASE("the default exception handler logs the message, handle and exception") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->call_soon([] { throw std::out_of_range("index 7"); });
        loop->run_once();
        REQUIRE(log.lines.size() == 1);
        CHECK(log.contains("ERROR: Exception in callback <Handle scheduled at test_errors.cpp:"));
        CHECK(log.contains("exception: std::out_of_range: index 7"));
    }

    TEST_CASE("a callback throwing something that is not a std::exception is reported too") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->call_soon([] { throw 42; });
        loop->run_once();
        CHECK(log.contains("not derived from std::exception"));
    }

    TEST_CASE("a throwing exception handler is reported by the default one") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {
            throw std::logic_error("handler broke");
        });
        bool after = false;
        loop->call_soon([] { throw std::runtime_error("first"); });
        loop->call_soon([&] { after = true; });
        loop->run_once();
        CHECK(after);
        CHECK(log.contains("Unhandled error in exception handler"));
        CHECK(log.contains("std::logic_error: handler broke"));
    }

    TEST_CASE("a throwing log sink cannot stop the loop") {
        auto loop = test::virtual_loop();
        aio::LogSink previous = aio::set_log_sink(
            [](aio::LogLevel, std::string_view) { throw std::runtime_error("sink"); });
        bool after = false;
        loop->call_soon([] { throw std::runtime_error("x"); });
        loop->call_soon([&] { after = true; });
        loop->run_once();
        aio::set_log_sink(std::move(previous));
        CHECK(after);
    }

    TEST_CASE("running a loop that is already running throws") {
        auto loop = test::virtual_loop();
        std::string error;
        loop->call_soon([&] {
            try {
                loop->run_forever();
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        });
        loop->run_once();
        CHECK(error == "This event loop is already running");
    }

    TEST_CASE("running a second loop inside a running one throws") {
        auto outer = test::virtual_loop();
        auto inner = test::virtual_loop();
        std::string error;
        outer->call_soon([&] {
            try {
                inner->run_once();
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        });
        outer->run_once();
        CHECK(error == "Cannot run the event loop while another loop is running");
        CHECK_FALSE(inner->is_running());
    }

    TEST_CASE("close(): refuses a running loop, is idempotent, and a closed loop refuses work") {
        auto loop = test::virtual_loop();
        std::string error;
        loop->call_soon([&] {
            try {
                loop->close();
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        });
        loop->run_once();
        CHECK(error == "Cannot close a running event loop");
        CHECK_FALSE(loop->is_closed());
        loop->close();
        loop->close();
        CHECK(loop->is_closed());
        CHECK_THROWS_WITH_AS(loop->call_soon([] {}), "Event loop is closed", aio::RuntimeError);
        CHECK_THROWS_WITH_AS(loop->call_later(1, [] {}), "Event loop is closed", aio::RuntimeError);
        CHECK_THROWS_WITH_AS(loop->run_forever(), "Event loop is closed", aio::RuntimeError);
        CHECK_THROWS_WITH_AS(loop->run_once(), "Event loop is closed", aio::RuntimeError);
    }

    TEST_CASE("close() drops pending callbacks and timers without running them") {
        auto loop = test::virtual_loop();
        auto resource = std::make_shared<int>(0);
        bool ran = false;
        loop->call_soon([&ran, resource] { ran = true; });
        loop->call_later(5, [&ran, resource] { ran = true; });
        CHECK(resource.use_count() == 3);
        loop->close();
        CHECK_FALSE(ran);
        CHECK(resource.use_count() == 1);
        CHECK(loop->ready_count() == 0);
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("debug mode logs a slow callback with where it was scheduled") {
        auto clock = std::make_unique<aio::VirtualClock>();
        aio::VirtualClock* time = clock.get();
        aio::EventLoop loop(nullptr, std::move(clock));
        test::LogCapture log;
        loop.set_debug(true);
        CHECK(loop.slow_callback_duration == 0.1);
        loop.call_soon([&] { time->advance(0.25); });  // "takes" 0.25 s
        loop.call_soon([&] { time->advance(0.05); });  // fast enough
        loop.run_once();
        REQUIRE(log.lines.size() == 1);
        CHECK(log.contains("WARNING: Executing <Handle scheduled at test_errors.cpp:"));
        CHECK(log.contains("took 0.250 seconds"));
    }

    TEST_CASE("without debug mode, slow callbacks are not timed") {
        auto clock = std::make_unique<aio::VirtualClock>();
        aio::VirtualClock* time = clock.get();
        aio::EventLoop loop(nullptr, std::move(clock));
        test::LogCapture log;
        loop.set_debug(false);
        loop.call_soon([&] { time->advance(1.0); });
        loop.run_once();
        CHECK(log.lines.empty());
    }

    TEST_CASE("AIO_DEBUG=1 turns debug mode on for new loops") {
        test::LogCapture log;  // a debug loop logs its close
        ::setenv("AIO_DEBUG", "1", 1);
        auto on = test::virtual_loop();
        ::setenv("AIO_DEBUG", "0", 1);
        auto off = test::virtual_loop();
        ::unsetenv("AIO_DEBUG");
        CHECK(on->get_debug());
        CHECK_FALSE(off->get_debug());
    }
}
