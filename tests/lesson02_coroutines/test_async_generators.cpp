// test_async_generators.cpp - AsyncGenerator<T>: co_yield, consuming loops, errors,
// early exit and aclose() (asyncio: test_asyncgen.py).
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

std::vector<std::string> trace;

// Marks its destruction in the trace: stands for any RAII resource.
struct Resource {
    ~Resource() { trace.push_back("resource released"); }
};

aio::AsyncGenerator<int> count_to(int n) {
    Resource r;
    for (int i = 1; i <= n; ++i) co_yield i;
}

aio::AsyncGenerator<std::string> ticks(aio::EventLoop& loop) {
    for (int i = 0; i < 3; ++i) {
        co_await aio::sleep(0.5);
        co_yield "tick at " + std::to_string(loop.time()).substr(0, 3);
    }
}

aio::AsyncGenerator<int> fails_after_one() {
    co_yield 1;
    throw std::runtime_error("generator broke");
}

aio::AsyncGenerator<int> async_cleanup() {
    bool closing = false;
    try {
        for (int i = 0;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        co_await aio::sleep(1);  // cleanup that needs to await
        trace.push_back("async cleanup done");
    }
}

aio::AsyncGenerator<int> stubborn() {
    for (;;) {
        try {
            co_yield 1;
        } catch (const aio::GeneratorExit&) {
            // ignores the request and yields again
        }
    }
}

aio::Coro<int> sum(aio::AsyncGenerator<int> gen) {
    int total = 0;
    while (std::optional<int> v = co_await gen.next()) total += *v;
    co_return total;
}

aio::Coro<std::vector<std::string>> collect(aio::AsyncGenerator<std::string> gen) {
    std::vector<std::string> out;
    while (auto v = co_await gen.next()) out.push_back(*v);
    co_return out;
}

aio::Coro<int> first_two(aio::AsyncGenerator<int> gen) {
    int total = 0;
    for (int i = 0; i < 2; ++i) {
        std::optional<int> v = co_await gen.next();
        total += *v;
    }
    trace.push_back("consumer leaves early");
    co_return total;  // gen is destroyed here
}

aio::Coro<int> take_then_close(aio::AsyncGenerator<int> gen) {
    std::optional<int> v = co_await gen.next();
    co_await gen.aclose();
    trace.push_back("closed");
    co_return *v;
}

// Marks which frame let go of its resources, for the order of destruction.
struct Named {
    const char* name;
    ~Named() { trace.push_back(std::string(name) + " destroyed"); }
};

aio::AsyncGenerator<int> awaits_forever(aio::Future<int> never) {
    Named n{"generator"};
    co_yield co_await never;
}

aio::Coro<int> consume_one(aio::AsyncGenerator<int> gen) {
    Named n{"consumer"};
    std::optional<int> v = co_await gen.next();
    co_return *v;
}

aio::Coro<int> outer_consumer(aio::Future<int> never) {
    Named n{"outer"};
    co_return co_await consume_one(awaits_forever(never));
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("closing the loop while a generator awaits destroys it before its consumers") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        trace.clear();
        aio::Future<int> never(*loop);
        { aio::drive(*loop, outer_consumer(never)); }
        loop->run_once();
        loop->close();
        CHECK(trace == std::vector<std::string>{"generator destroyed", "consumer destroyed",
                                                "outer destroyed"});
    }

    TEST_CASE("an async generator never iterated is dropped silently, as Python's") {
        test::LogCapture log;
        { aio::AsyncGenerator<int> unused = count_to(3); }
        CHECK(log.lines.empty());
    }

    TEST_CASE("an async generator yields its values in order, then nullopt") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(sum(count_to(4))) == 10);
        CHECK(trace == std::vector<std::string>{"resource released"});
    }

    TEST_CASE("an async generator may await between yields") {
        auto loop = test::virtual_loop();
        auto out = loop->run_until_complete(collect(ticks(*loop)));
        CHECK(out == std::vector<std::string>{"tick at 0.5", "tick at 1.0", "tick at 1.5"});
        CHECK(loop->time() == 1.5);
    }

    TEST_CASE("an exception in the generator comes out of next()") {
        auto loop = test::virtual_loop();
        CHECK_THROWS_WITH_AS(loop->run_until_complete(sum(fails_after_one())), "generator broke",
                             std::runtime_error);
    }

    TEST_CASE("leaving the consuming loop early destroys the generator and runs its destructors") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(first_two(count_to(100))) == 3);
        CHECK(trace == std::vector<std::string>{"consumer leaves early", "resource released"});
    }

    TEST_CASE("aclose() throws GeneratorExit at the co_yield so cleanup can await") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(take_then_close(async_cleanup())) == 0);
        CHECK(trace == std::vector<std::string>{"async cleanup done", "closed"});
        CHECK(loop->time() == 1.0);
    }

    TEST_CASE("a generator that yields after GeneratorExit is an error") {
        auto loop = test::virtual_loop();
        CHECK_THROWS_WITH_AS(loop->run_until_complete(take_then_close(stubborn())),
                             "async generator ignored GeneratorExit", aio::RuntimeError);
    }
}
