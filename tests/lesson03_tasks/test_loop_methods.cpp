// test_loop_methods.cpp - asyncio's loop methods are loop methods here too:
// loop.create_future(), loop.create_task(), loop.run_in_executor(),
// loop.set_default_executor() and loop.shutdown_default_executor(), each the same
// operation as the free function of the lesson that has the types.
// (asyncio: test_base_events.py::BaseEventLoopTests::test_create_task*,
// test_events.py::test_run_in_executor, test_base_events.py::test_set_default_executor.)
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <thread>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

aio::Coro<int> answer_later() {
    co_await aio::sleep(1);
    co_return 42;
}

int add(int a, int b) { return a + b; }

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("loop.create_future<T>() gives a pending future on that loop") {
        auto loop = test::virtual_loop();
        aio::Future<int> fut = loop->create_future<int>();
        CHECK_FALSE(fut.done());
        CHECK(&fut.get_loop() == loop.get());
        loop->call_later(1, [fut]() mutable { fut.set_result(7); });
        CHECK(loop->run_until_complete(fut) == 7);
        CHECK(loop->time() == 1.0);

        aio::Future<> plain = loop->create_future();  // Future<void> by default, as Future()
        plain.set_result();
        CHECK(plain.done());
        loop->close();
    }

    TEST_CASE("loop.create_task(coro) schedules on that loop and takes a name") {
        auto loop = test::virtual_loop();
        aio::Task<int> task = loop->create_task(answer_later());
        aio::Task<int> named = loop->create_task(answer_later(), "fetcher");
        CHECK(&task.get_loop() == loop.get());
        CHECK(named.get_name() == "fetcher");
        CHECK(loop->run_until_complete(named) == 42);
        CHECK(task.done());
        CHECK(task.result() == 42);
        loop->close();
    }

    TEST_CASE("loop.create_task() from inside a coroutine, as `loop.create_task(c)` is used") {
        int result = aio::run([]() -> aio::Coro<int> {
            aio::EventLoop& loop = aio::get_running_loop();
            aio::Task<int> t = loop.create_task(answer_later());
            co_return co_await t;
        }());
        CHECK(result == 42);
    }

    TEST_CASE("loop.run_in_executor(nullptr, fn, args...) runs on the default executor") {
        std::thread::id caller = std::this_thread::get_id();
        auto [sum, worker] = aio::run([]() -> aio::Coro<std::pair<int, std::thread::id>> {
            aio::EventLoop& loop = aio::get_running_loop();
            int sum = co_await loop.run_in_executor(nullptr, add, 2, 3);
            std::thread::id worker =
                co_await loop.run_in_executor(nullptr, [] { return std::this_thread::get_id(); });
            co_await loop.shutdown_default_executor();
            co_return std::pair{sum, worker};
        }());
        CHECK(sum == 5);
        CHECK(worker != caller);
    }

    TEST_CASE(
        "loop.run_in_executor(pool, ...) takes the executor by pointer, reference or "
        "shared_ptr") {
        auto pool = std::make_shared<aio::ThreadPoolExecutor>(1);
        int total = aio::run([](std::shared_ptr<aio::ThreadPoolExecutor> pool) -> aio::Coro<int> {
            aio::EventLoop& loop = aio::get_running_loop();
            int a = co_await loop.run_in_executor(pool, add, 1, 1);
            int b = co_await loop.run_in_executor(*pool, add, 2, 2);
            int c = co_await loop.run_in_executor(pool.get(), add, 3, 3);
            co_return a + b + c;
        }(pool));
        CHECK(total == 12);
        pool->shutdown();
    }

    TEST_CASE("loop.set_default_executor(pool) is what run_in_executor(nullptr, ...) uses") {
        auto pool = std::make_shared<aio::ThreadPoolExecutor>(1);
        std::thread::id in_pool = pool->submit([] { return std::this_thread::get_id(); }).get();
        std::thread::id used = aio::run(
            [](std::shared_ptr<aio::ThreadPoolExecutor> pool) -> aio::Coro<std::thread::id> {
                aio::EventLoop& loop = aio::get_running_loop();
                loop.set_default_executor(pool);
                co_return co_await loop.run_in_executor(nullptr,
                                                        [] { return std::this_thread::get_id(); });
            }(pool));
        CHECK(used == in_pool);  // the pool has one thread
    }

    TEST_CASE("after loop.shutdown_default_executor(), run_in_executor(nullptr) refuses") {
        aio::run([]() -> aio::Coro<void> {
            aio::EventLoop& loop = aio::get_running_loop();
            co_await loop.shutdown_default_executor();
            CHECK_THROWS_WITH_AS(loop.run_in_executor(nullptr, add, 1, 2),
                                 "Executor shutdown has been called", aio::RuntimeError);
        }());
    }
}
