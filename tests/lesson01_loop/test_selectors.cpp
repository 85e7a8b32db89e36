// test_selectors.cpp - each selector on its own, and when the loop asks it anything
// (asyncio: test_selectors.py; base_events.py::_run_once's timeout rules;
// docs/design.md choice 3: no system call in an iteration that has no reason for one).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/selectors.hpp"

namespace {

std::unique_ptr<aio::EventLoop> recording_loop(std::vector<double>& timeouts) {
    return std::make_unique<aio::EventLoop>(std::make_unique<test::RecordingSelector>(timeouts),
                                            std::make_unique<aio::VirtualClock>());
}

bool has(const std::vector<aio::SelectorEvent>& events, int fd, unsigned what) {
    return std::any_of(events.begin(), events.end(), [&](const aio::SelectorEvent& e) {
        return e.fd == fd && (e.events & what);
    });
}

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("selector: a pipe is readable only once written, and writable at once") {
        auto selector = aio::make_default_selector();
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        selector->add(fds[0], aio::EVENT_READ);
        selector->add(fds[1], aio::EVENT_WRITE);
        std::vector<aio::SelectorEvent> events;
        selector->select(0, events);
        CHECK_FALSE(has(events, fds[0], aio::EVENT_READ));
        CHECK(has(events, fds[1], aio::EVENT_WRITE));
        REQUIRE(::write(fds[1], "x", 1) == 1);
        events.clear();
        selector->select(0, events);
        CHECK(has(events, fds[0], aio::EVENT_READ));
        selector->remove(fds[0]);
        selector->remove(fds[1]);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    TEST_CASE("selector: modify changes what an fd is watched for") {
        auto selector = aio::make_default_selector();
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        selector->add(fds[1], aio::EVENT_READ);  // a write end is never readable
        std::vector<aio::SelectorEvent> events;
        selector->select(0, events);
        CHECK(events.empty());
        selector->modify(fds[1], aio::EVENT_WRITE);
        selector->select(0, events);
        CHECK(has(events, fds[1], aio::EVENT_WRITE));
        selector->remove(fds[1]);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    TEST_CASE("selector: removing an fd that was closed while watched is not an error") {
        auto selector = aio::make_default_selector();
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        selector->add(fds[0], aio::EVENT_READ);
        ::close(fds[0]);
        CHECK_NOTHROW(selector->remove(fds[0]));
        ::close(fds[1]);
    }

    TEST_CASE("selector: a timeout is waited for, rounded up to whole milliseconds") {
        CHECK(aio::timeout_to_ms(-1) == -1);
        CHECK(aio::timeout_to_ms(0) == 0);
        CHECK(aio::timeout_to_ms(0.0001) == 1);  // never wake before the deadline
        CHECK(aio::timeout_to_ms(1.5) == 1500);
        auto selector = aio::make_default_selector();
        aio::MonotonicClock clock;
        std::vector<aio::SelectorEvent> events;
        double start = clock.now();
        selector->select(0.005, events);
        CHECK(events.empty());
        CHECK(clock.now() - start >= 0.004);
    }

    TEST_CASE("an iteration with ready work and no fd makes no select() call") {
        std::vector<double> timeouts;
        auto loop = recording_loop(timeouts);
        int ran = 0;
        for (int i = 0; i < 3; ++i) {
            loop->call_soon([&] { ++ran; });
            loop->run_once();
        }
        CHECK(ran == 3);
        CHECK(timeouts.empty());
    }

    TEST_CASE("with an fd registered and work ready, the loop polls with timeout 0") {
        std::vector<double> timeouts;
        auto loop = recording_loop(timeouts);
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        loop->add_reader(fds[0], [] {});
        loop->call_soon([] {});
        loop->run_once();
        CHECK(timeouts == std::vector<double>{0});
        loop->remove_reader(fds[0]);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    TEST_CASE("stop() before run_forever: one iteration that never waits for the timer") {
        std::vector<double> timeouts;
        auto loop =
            std::make_unique<aio::EventLoop>(std::make_unique<test::RecordingSelector>(timeouts),
                                             std::make_unique<aio::MonotonicClock>());
        loop->call_later(3600, [] {});
        loop->stop();
        loop->run_forever();
        CHECK(timeouts.empty());  // timeout 0 and no fd: nothing to ask the kernel
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        loop->add_reader(fds[0], [] {});
        loop->stop();
        loop->run_forever();
        CHECK(timeouts == std::vector<double>{0});  // with an fd: look, don't wait
        loop->remove_reader(fds[0]);
        ::close(fds[0]);
        ::close(fds[1]);
    }

    TEST_CASE("with nothing ready, a real clock waits in select() until the next timer") {
        std::vector<double> timeouts;
        auto loop =
            std::make_unique<aio::EventLoop>(std::make_unique<test::RecordingSelector>(timeouts),
                                             std::make_unique<aio::MonotonicClock>());
        loop->call_later(0.002, [&] { loop->stop(); });
        loop->run_forever();
        REQUIRE_FALSE(timeouts.empty());
        CHECK(timeouts.front() > 0);
        CHECK(timeouts.front() <= 0.002);
    }

    TEST_CASE("a virtual clock jumps to the next timer instead of waiting for it") {
        std::vector<double> timeouts;
        auto loop = recording_loop(timeouts);
        loop->call_later(60, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(timeouts.empty());  // no fd: no select() at all
        CHECK(loop->time() == 60.0);
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        loop->add_reader(fds[0], [] {});
        loop->call_later(60, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(timeouts == std::vector<double>{0});  // with an fd: one look, then the jump
        CHECK(loop->time() == 120.0);
        loop->remove_reader(fds[0]);
        ::close(fds[0]);
        ::close(fds[1]);
    }
}
