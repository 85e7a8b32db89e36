// test_context_managers.cpp - async_with: aenter, body, aexit on every path
// (asyncio: the `async with` statement, PEP 492; tutorial 001's AsyncResource).
#include <doctest/doctest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

std::vector<std::string> trace;

// The tutorial's AsyncResource: entering and leaving both take time.
struct AsyncResource {
    bool swallow = false;

    aio::Coro<std::string> aenter() {
        co_await aio::sleep(1);
        trace.push_back("enter");
        co_return "resource";
    }
    aio::Coro<bool> aexit(std::exception_ptr error) {
        co_await aio::sleep(1);
        trace.push_back(error ? "exit with error" : "exit");
        co_return swallow;
    }
};

aio::Coro<void> use(AsyncResource& r, bool fail) {
    co_await aio::async_with(r, [&](std::string name) -> aio::Coro<void> {
        trace.push_back("body uses " + name);
        co_await aio::sleep(1);
        if (fail) throw std::runtime_error("body failed");
    });
    trace.push_back("after");
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("async_with awaits aenter, runs the body, then awaits aexit") {
        auto loop = test::virtual_loop();
        trace.clear();
        AsyncResource r;
        loop->run_until_complete(use(r, false));
        CHECK(trace == std::vector<std::string>{"enter", "body uses resource", "exit", "after"});
        CHECK(loop->time() == 3.0);
    }

    TEST_CASE("aexit runs when the body throws, and the exception goes on") {
        auto loop = test::virtual_loop();
        trace.clear();
        AsyncResource r;
        CHECK_THROWS_WITH_AS(loop->run_until_complete(use(r, true)), "body failed",
                             std::runtime_error);
        CHECK(trace == std::vector<std::string>{"enter", "body uses resource", "exit with error"});
    }

    TEST_CASE("aexit returning true swallows the body's exception") {
        auto loop = test::virtual_loop();
        trace.clear();
        AsyncResource r;
        r.swallow = true;
        loop->run_until_complete(use(r, true));
        CHECK(trace.back() == "after");
    }
}
