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

// A resource whose __aenter__ returns self (Coro<void> here), used as a temporary.
struct Connection {
    std::string peer;
    bool open = false;
    explicit Connection(std::string p) : peer(std::move(p)) {}
    Connection(const Connection&) = delete;  // a temporary is used in place, never moved
    Connection& operator=(const Connection&) = delete;
    ~Connection() { trace.push_back(open ? "destroyed while open" : "destroyed closed"); }

    aio::Coro<void> aenter() {
        co_await aio::sleep(1);
        open = true;
    }
    aio::Coro<void> aexit(std::exception_ptr) {
        co_await aio::sleep(1);
        open = false;
    }
    aio::Coro<void> send(std::string text) {
        co_await aio::sleep(0);
        trace.push_back(peer + " <- " + text + (open ? "" : " (closed!)"));
    }
};

// async with Connection("db") as c: await c.send("hello")
aio::Coro<void> temporary_as_self() {
    co_await aio::async_with(Connection("db"),
                             [](Connection& c) -> aio::Coro<void> { co_await c.send("hello"); });
    trace.push_back("after");
}

// async with Connection("db"): ... (no `as`): the body takes nothing.
aio::Coro<void> temporary_without_as() {
    co_await aio::async_with(Connection("db"), []() -> aio::Coro<void> {
        trace.push_back("body");
        co_return;
    });
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

    TEST_CASE(
        "async_with(Temporary(), body): aenter returning self gives the body the "
        "resource, which lives until the statement ends") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(temporary_as_self());
        CHECK(trace == std::vector<std::string>{"db <- hello", "destroyed closed", "after"});
        CHECK(loop->time() == 2.0);
    }

    TEST_CASE("async_with(Temporary(), body taking nothing) is `async with X():` without as") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(temporary_without_as());
        CHECK(trace == std::vector<std::string>{"body", "destroyed closed"});
    }
}
