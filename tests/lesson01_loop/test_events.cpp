// test_events.cpp - the running loop and the current loop
// (asyncio: test_events.py::test_get_running_loop, test_get_event_loop*).
#include <doctest/doctest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"

TEST_SUITE("lesson01") {
    TEST_CASE("get_running_loop: the loop inside its callbacks, an error outside") {
        CHECK_THROWS_WITH_AS(aio::get_running_loop(), "no running event loop", aio::RuntimeError);
        CHECK(aio::try_get_running_loop() == nullptr);
        auto loop = test::virtual_loop();
        aio::EventLoop* seen = nullptr;
        loop->call_soon([&] { seen = &aio::get_running_loop(); });
        loop->run_once();
        CHECK(seen == loop.get());
        CHECK(aio::try_get_running_loop() == nullptr);
    }

    TEST_CASE("get_event_loop: the running loop, else the one set, else an error (as 3.14)") {
        aio::set_event_loop(nullptr);
        CHECK_THROWS_AS(aio::get_event_loop(), aio::RuntimeError);
        auto set = test::virtual_loop();
        auto running = test::virtual_loop();
        aio::set_event_loop(set.get());
        CHECK(&aio::get_event_loop() == set.get());
        aio::EventLoop* seen = nullptr;
        running->call_soon([&] { seen = &aio::get_event_loop(); });
        running->run_once();
        CHECK(seen == running.get());
        aio::set_event_loop(nullptr);
    }

    TEST_CASE("new_event_loop uses AIO_SELECTOR and AIO_CLOCK") {
        const char* selector = std::getenv("AIO_SELECTOR");
        ::setenv("AIO_CLOCK", "virtual", 1);
        auto loop = aio::new_event_loop();
        ::unsetenv("AIO_CLOCK");
        if (selector) CHECK(std::string(loop->selector_name()) == selector);
        CHECK(std::string(loop->clock().name()) == "virtual");
        CHECK(loop->time() == 0.0);
        loop->close();
    }

    TEST_CASE("an unknown AIO_SELECTOR or AIO_CLOCK is a clear error") {
        CHECK_THROWS_WITH_AS(aio::make_selector("select"),
                             doctest::Contains("unknown or unavailable selector 'select'"),
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(aio::make_clock("sundial"),
                             doctest::Contains("unknown clock 'sundial'"), std::invalid_argument);
    }
}
