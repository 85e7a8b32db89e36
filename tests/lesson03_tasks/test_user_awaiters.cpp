// test_user_awaiters.cpp - a user's own awaiter (await_ready, await_suspend taking the
// coroutine handle, await_resume) that resumes the handle later from a callback, as a
// callback-based API would: it runs inside its task, through every combinator, and a
// cancel while it waits works as for any other await (coroutines.hpp, ForeignAwaiter).
#include <doctest/doctest.h>

#include <coroutine>
#include <string>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

// Resumes its coroutine `delay` seconds later with `value`: a callback API's awaiter.
struct Later {
    double delay;
    int value;
    bool await_ready() const noexcept { return delay <= 0; }
    void await_suspend(std::coroutine_handle<> h) {
        aio::get_running_loop().call_later(delay, [h] { h.resume(); });
    }
    int await_resume() const noexcept { return value; }
};

// Decides in await_suspend not to wait after all (returns false).
struct Declines {
    int resumed_with = 0;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<>) noexcept { return false; }
    int await_resume() noexcept { return resumed_with = 5; }
};

aio::Coro<std::string> in_task() {
    aio::TaskBase* before = aio::current_task();
    int v = co_await Later{0.5, 7};
    bool same_task = aio::current_task() == before && before != nullptr;
    co_return std::to_string(v) + (same_task ? " in its task" : " outside its task");
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("a user's awaiter resuming its handle from a callback resumes inside its task") {
        auto loop = test::virtual_loop();
        aio::Task<std::string> t = aio::create_task(*loop, in_task());
        CHECK(loop->run_until_complete(t) == "7 in its task");
        CHECK(loop->time() == 0.5);
        loop->close();
    }

    TEST_CASE(
        "a user's awaiter goes through create_task, gather and wait_for like any "
        "awaitable") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(aio::create_task(*loop, Later{1, 3})) == 3);
        auto both = loop->run_until_complete([]() -> aio::Coro<int> {
            auto [a, b] = co_await aio::gather(Later{1, 1}, Later{2, 2});
            co_return a + b;
        }());
        CHECK(both == 3);
        CHECK(loop->time() == 3.0);
        CHECK(loop->run_until_complete(aio::wait_for(Later{1, 9}, 5)) == 9);
        loop->close();
    }

    TEST_CASE("wait_for on a user's awaiter times out; its late resume is harmless") {
        auto loop = test::virtual_loop();
        std::string what = loop->run_until_complete([]() -> aio::Coro<std::string> {
            std::string out;
            try {
                co_await aio::wait_for(Later{10, 1}, 1);
            } catch (const aio::TimeoutError&) {
                out = "timed out at " + std::to_string(aio::get_running_loop().time());
            }
            co_await aio::sleep(20);  // the awaiter's callback resumes its stand-in at 10
            co_return out;
        }());
        CHECK(what == "timed out at 1.000000");
        CHECK(loop->time() == 21.0);
        loop->close();
    }

    TEST_CASE("cancelling a task that waits on a user's awaiter raises CancelledError there") {
        auto loop = test::virtual_loop();
        aio::Task<std::string> t = aio::create_task(*loop, []() -> aio::Coro<std::string> {
            try {
                co_await Later{5, 1};
            } catch (const aio::CancelledError& e) {
                co_return std::string("cancelled: ") + e.what();
            }
            co_return "not cancelled";
        }());
        loop->call_later(1, [t]() mutable { t.cancel("stop"); });
        CHECK(loop->run_until_complete(t) == "cancelled: stop");
        CHECK(loop->time() == 1.0);
        loop->run_until_complete(aio::sleep(10));  // the late resume at 5 changes nothing
        loop->close();
    }

    TEST_CASE("a user's awaiter whose await_suspend returns false continues at once") {
        auto loop = test::virtual_loop();
        int v = loop->run_until_complete([]() -> aio::Coro<int> {
            Declines d;
            co_return co_await d;
        }());
        CHECK(v == 5);
        CHECK(loop->time() == 0.0);
        loop->close();
    }
}
