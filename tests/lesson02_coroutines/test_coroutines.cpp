// test_coroutines.cpp - Coro<T>: laziness, results, exceptions, symmetric transfer,
// misuse, and co_await on futures (asyncio: test_pep492.py, test_futures.py::
// test_yield_from_twice, test_tasks.py::test_other_loop_future).
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/futures.hpp"

namespace {

std::vector<std::string> trace;

aio::Coro<int> answer() {
    trace.push_back("answer runs");
    co_return 42;
}

aio::Coro<int> failing() {
    trace.push_back("failing runs");
    throw std::runtime_error("failed inside");
    co_return 0;
}

aio::Coro<int> add_answers() {
    int a = co_await answer();
    int b = co_await answer();
    co_return a + b;
}

aio::Coro<std::string> catch_failure() {
    try {
        co_await failing();
    } catch (const std::runtime_error& e) {
        co_return std::string("caught: ") + e.what();
    }
    co_return "not reached";
}

// Each level awaits the next; the innermost reports how deep the stack went.
// (A coroutine's locals live in its frame on the heap, so ask a plain function.)
std::uintptr_t top_of_stack = 0;
std::uintptr_t deepest_stack = 0;

[[gnu::noinline]] std::uintptr_t stack_pointer() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

aio::Coro<int> nest(int depth) {
    if (depth == 0) {
        deepest_stack = stack_pointer();
        co_return 0;
    }
    int below = co_await nest(depth - 1);
    co_return below + 1;
}

aio::Coro<int> deep_chain(int depth) {
    top_of_stack = stack_pointer();
    co_return co_await nest(depth);
}

// A chain suspended `depth` awaits below its top, at a future that never completes.
// Each level records its depth when its frame is destroyed.
std::vector<int> destroyed;

struct RecordOnDestroy {
    int depth;
    ~RecordOnDestroy() {
        if (depth < 10) destroyed.push_back(depth);
    }
};

aio::Coro<int> nest_waiting(int depth, aio::Future<int> never) {
    RecordOnDestroy record{depth};
    if (depth == 0) co_return co_await never;
    co_return co_await nest_waiting(depth - 1, never);
}

aio::Coro<int> await_future(aio::Future<int> f) {
    trace.push_back("waiting");
    int v = co_await f;
    trace.push_back("got " + std::to_string(v));
    co_return v;
}

aio::Coro<int> await_twice(aio::Coro<int>& c) {
    int first = co_await c;
    int second = co_await c;  // throws: already awaited
    co_return first + second;
}

aio::Coro<int> await_moved_from() {
    aio::Coro<int> c = answer();
    aio::Coro<int> taken = std::move(c);
    taken.close();
    co_return co_await c;
}

aio::Coro<aio::Location> where_am_i_waiting(aio::Future<int> f, aio::Driver** self) {
    co_await f;
    co_return (*self)->waiting_at();
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("a coroutine is lazy: its body runs only when awaited or driven") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Coro<int> c = answer();
        CHECK(trace.empty());
        CHECK_FALSE(c.done());
        int v = loop->run_until_complete(std::move(c));
        CHECK(v == 42);
        CHECK(trace == std::vector<std::string>{"answer runs"});
    }

    TEST_CASE("Coro is move-only") {
        CHECK_FALSE(std::is_copy_constructible_v<aio::Coro<int>>);
        CHECK(std::is_move_constructible_v<aio::Coro<int>>);
    }

    TEST_CASE("awaiting a coroutine gives its result; its exception reaches the awaiter") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(add_answers()) == 84);
        CHECK(loop->run_until_complete(catch_failure()) == "caught: failed inside");
        CHECK_THROWS_WITH_AS(loop->run_until_complete(failing()), "failed inside",
                             std::runtime_error);
    }

    TEST_CASE("a chain of 100,000 awaits runs without growing the stack") {
        auto loop = test::virtual_loop();
        int depth = loop->run_until_complete(deep_chain(100000));
        CHECK(depth == 100000);
        std::uintptr_t used = top_of_stack > deepest_stack ? top_of_stack - deepest_stack
                                                           : deepest_stack - top_of_stack;
        INFO(used);
        CHECK(used < 64 * 1024);  // recursion would need megabytes
    }

    TEST_CASE("closing the loop destroys a suspended chain from the innermost frame out") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        destroyed.clear();
        aio::Future<int> never(*loop);
        { aio::drive(*loop, nest_waiting(3, never)); }
        loop->run_once();
        loop->close();
        CHECK(destroyed == std::vector<int>{0, 1, 2, 3});  // as stack unwinding would
        CHECK(log.contains("Driver was destroyed but it is pending!"));
    }

    TEST_CASE("closing the loop over a chain suspended 1,000,000 deep does not recurse") {
        // Regression: frames were destroyed recursively (~Coro -> destroy -> child's
        // ~Coro ...), and a chain 50,000-70,000 deep overflowed the stack.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<int> never(*loop);
        { aio::drive(*loop, nest_waiting(1000000, never)); }
        loop->run_once();
        std::size_t in_use = aio::detail::pool_blocks_in_use();
        CHECK(in_use > 1000000);
        loop->close();
        CHECK(aio::detail::pool_blocks_in_use() < in_use - 1000000);
        CHECK(log.lines.size() == 1);
    }

    TEST_CASE("awaiting a coroutine twice, or a moved-from one, is a clear error") {
        auto loop = test::virtual_loop();
        aio::Coro<int> c = answer();
        CHECK_THROWS_WITH_AS(loop->run_until_complete(await_twice(c)),
                             "coroutine 'answer' is being awaited already (or was)",
                             aio::RuntimeError);
        CHECK_THROWS_WITH_AS(loop->run_until_complete(await_moved_from()),
                             "cannot await a moved-from coroutine", aio::RuntimeError);
    }

    TEST_CASE("a coroutine destroyed without being awaited logs a warning naming it") {
        test::LogCapture log;
        { aio::Coro<int> forgotten = answer(); }
        REQUIRE(log.lines.size() == 1);
        CHECK(log.contains(
            "WARNING: coroutine 'answer' was never awaited (defined at test_coroutines.cpp:"));
        log.lines.clear();
        aio::Coro<int> closed = answer();
        closed.close();  // on purpose: no warning
        CHECK(log.lines.empty());
    }

    TEST_CASE("co_await on a pending future suspends until its done callback resumes it") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Future<int> f(*loop);
        loop->call_later(1.0, [&] {
            trace.push_back("set_result");
            f.set_result(9);
            trace.push_back("after set_result");
        });
        int v = loop->run_until_complete(await_future(f));
        CHECK(v == 9);
        CHECK(trace ==
              std::vector<std::string>{"waiting", "set_result", "after set_result", "got 9"});
        CHECK(loop->time() == 1.0);
    }

    TEST_CASE("co_await on a done future does not suspend") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Future<int> f(*loop);
        f.set_result(3);
        std::uint64_t before = loop->iterations();
        CHECK(loop->run_until_complete(await_future(f)) == 3);
        // one iteration for the first step (which completes), one for the stop callback
        CHECK(loop->iterations() - before == 2);
    }

    TEST_CASE("co_await on a cancelled future throws CancelledError with its message") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        loop->call_soon([&] { f.cancel("no longer needed"); });
        CHECK_THROWS_WITH_AS(loop->run_until_complete(await_future(f)), "no longer needed",
                             aio::CancelledError);
    }

    TEST_CASE("awaiting a future of another loop is an error naming both") {
        auto loop = test::virtual_loop();
        auto other = test::virtual_loop();
        aio::Future<int> f(*other);
        CHECK_THROWS_WITH_AS(loop->run_until_complete(await_future(f)),
                             doctest::Contains("attached to a different loop"), aio::RuntimeError);
    }

    TEST_CASE("the driver knows the file:line of the co_await it waits at") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        aio::Driver* self = nullptr;
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, where_am_i_waiting(f, &self));
        self = d.get();
        loop->run_once();  // the first step: now waiting on f
        std::string repr = d->repr();
        CHECK(repr.find(
                  "<Driver pending coro=where_am_i_waiting() waiting at test_coroutines.cpp:") ==
              0);
        f.set_result(1);
        loop->call_later(1, [&] { loop->stop(); });
        loop->run_forever();
        aio::Location at = aio::take_result<aio::Location>(*d);
        CHECK(std::string(at.basename()) == "test_coroutines.cpp");
        CHECK(at.line > 0);
    }
}
