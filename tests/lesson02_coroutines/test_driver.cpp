// test_driver.cpp - running coroutines on the loop: run_until_complete, step order,
// the loop closed over a pending coroutine (asyncio: test_events.py::
// test_run_until_complete*, test_tasks.py::test_log_destroyed_pending_task).
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

std::vector<std::string> trace;

aio::Coro<void> record(std::string what) {
    trace.push_back(what);
    co_return;
}

aio::Coro<int> wait_forever(aio::Future<int> never, std::shared_ptr<int> resource) {
    (void)resource;  // released when the frame is destroyed
    co_return co_await never;
}

aio::Coro<int> sleepy(double seconds, int value) {
    co_await aio::sleep(seconds);
    co_return value;
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("run_until_complete(coro) returns the coroutine's result or rethrows") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(sleepy(2, 7)) == 7);
        CHECK(loop->time() == 2.0);
    }

    TEST_CASE("run_until_complete(future) runs the loop until the future is done") {
        auto loop = test::virtual_loop();
        aio::Future<std::string> f(*loop);
        loop->call_later(3, [&] { f.set_result("ready"); });
        CHECK(loop->run_until_complete(f) == "ready");
        CHECK(loop->time() == 3.0);
        aio::Future<void> v(*loop);
        loop->call_soon([&] { v.set_exception(std::runtime_error("nope")); });
        CHECK_THROWS_WITH_AS(loop->run_until_complete(v), "nope", std::runtime_error);
    }

    TEST_CASE("a driven coroutine's first step runs in the next iteration, not inline") {
        // asyncio: ['before', 'task', 'after'] for create_task + call_soon ordering
        auto loop = test::virtual_loop();
        trace.clear();
        loop->call_soon([] { trace.push_back("before"); });
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, record("driven"));
        loop->call_soon([] { trace.push_back("after"); });
        CHECK(trace.empty());
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"before", "driven", "after"});
        CHECK(d->done());
    }

    TEST_CASE("the manual sequence: new_event_loop, run_until_complete, close") {
        // tutorial 003: loop = asyncio.new_event_loop(); loop.run_until_complete(...); loop.close()
        ::setenv("AIO_CLOCK", "virtual", 1);
        std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
        ::unsetenv("AIO_CLOCK");
        int result = loop->run_until_complete(sleepy(1, 5));
        loop->close();
        CHECK(result == 5);
        CHECK(loop->is_closed());
        test::LogCapture log;
        CHECK_THROWS_WITH_AS(loop->run_until_complete(sleepy(1, 5)), "Event loop is closed",
                             aio::RuntimeError);
        CHECK(log.contains("coroutine 'sleepy' was never awaited"));
    }

    TEST_CASE("run_until_complete of another loop's future or driver is a ValueError at once") {
        // Regression: it waited forever in the selector. asyncio: ensure_future(fut, loop=self).
        auto loop = test::virtual_loop();
        auto other = test::virtual_loop();
        aio::Future<int> theirs(*other);
        const char* message =
            "The future belongs to a different loop than the one specified as the loop argument";
        CHECK_THROWS_WITH_AS(loop->run_until_complete(theirs), message, aio::ValueError);
        aio::detail::Ref<aio::Driver> d = aio::drive(*other, sleepy(1, 2));
        CHECK_THROWS_WITH_AS(aio::detail::run_until_done(*loop, *d), message, aio::ValueError);
        CHECK(loop->iterations() == 0);
        aio::detail::run_until_done(*other, *d);  // the driver's own loop still runs it
        CHECK(aio::take_result<int>(*d) == 2);
    }

    TEST_CASE("run_until_complete inside the running loop refuses before starting the coroutine") {
        // Regression: the coroutine was driven first, then "already running" was raised,
        // and it ran anyway. asyncio checks first and never schedules it.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        trace.clear();
        std::string error;
        loop->call_soon([&] {
            try {
                loop->run_until_complete(record("must not run"));
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
        });
        loop->run_until_complete(sleepy(1, 0));
        CHECK(error == "This event loop is already running");
        CHECK(trace.empty());
        CHECK(log.contains("coroutine 'record' was never awaited"));
    }

    TEST_CASE("a loop stopped before the future completes: run_until_complete says so") {
        auto loop = test::virtual_loop();
        aio::Future<int> never(*loop);
        loop->call_later(1, [&] { loop->stop(); });
        CHECK_THROWS_WITH_AS(loop->run_until_complete(never),
                             "Event loop stopped before Future completed.", aio::RuntimeError);
        CHECK_FALSE(never.done());
    }

    TEST_CASE("a pending driver lives on without a handle, until it finishes") {
        auto loop = test::virtual_loop();
        trace.clear();
        { aio::drive(*loop, record("nobody kept me")); }  // the handle is dropped at once
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"nobody kept me"});
    }

    TEST_CASE("closing a loop over a pending coroutine destroys its frame and says so") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        auto resource = std::make_shared<int>(1);
        aio::Future<int> never(*loop);
        { aio::drive(*loop, wait_forever(never, resource)); }
        loop->run_once();
        CHECK(resource.use_count() == 2);  // alive in the suspended frame
        loop->close();
        CHECK(resource.use_count() == 1);  // the frame's destructors ran
        CHECK(log.contains("ERROR: Driver was destroyed but it is pending!"));
        CHECK(log.contains("coro=wait_forever()"));
    }

    TEST_CASE("a driver refuses cancel() and set_exception()") {
        auto loop = test::virtual_loop();
        aio::Future<int> never(*loop);
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, wait_forever(never, nullptr));
        CHECK_FALSE(d->cancel("no"));
        CHECK_THROWS_AS(d->set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                        aio::RuntimeError);
        never.set_result(1);
        loop->run_until_complete(never);  // d's wake-up was queued first: it ran too
        CHECK(d->done());
        CHECK(aio::take_result<int>(*d) == 1);
    }
}
