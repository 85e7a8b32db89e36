// test_async_with.cpp - lesson 3's context managers written as Python writes them,
// with a temporary: `async with asyncio.TaskGroup() as tg:` and
// `async with asyncio.timeout(1):` (lesson 2's async_with, context_managers.hpp).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

aio::Coro<int> nap(double seconds, int value) {
    co_await aio::sleep(seconds);
    co_return value;
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE(
        "async with TaskGroup() as tg: the body gets the group, which waits for its "
        "children") {
        auto loop = test::virtual_loop();
        int sum = loop->run_until_complete([]() -> aio::Coro<int> {
            aio::Task<int> a, b;
            co_await aio::async_with(aio::TaskGroup(), [&](aio::TaskGroup& tg) -> aio::Coro<void> {
                a = tg.create_task(nap(1, 1));
                b = tg.create_task(nap(2, 2));
                co_return;
            });
            co_return a.result() + b.result();  // both done when the block ends
        }());
        CHECK(sum == 3);
        CHECK(loop->time() == 2.0);
        loop->close();
    }

    TEST_CASE("async with timeout(1): a body that overruns ends in TimeoutError") {
        auto loop = test::virtual_loop();
        std::string what = loop->run_until_complete([]() -> aio::Coro<std::string> {
            try {
                co_await aio::async_with(aio::timeout(1),
                                         []() -> aio::Coro<void> { co_await aio::sleep(10); });
            } catch (const aio::TimeoutError&) {
                co_return "timed out at " + std::to_string(aio::get_running_loop().time());
            }
            co_return "finished";
        }());
        CHECK(what == "timed out at 1.000000");
        loop->close();
    }
}
