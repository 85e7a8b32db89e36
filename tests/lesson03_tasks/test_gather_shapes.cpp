// test_gather_shapes.cpp - gather's results shaped like Python's list, and its arguments
// written as Python writes them: `for r in await gather(f(1), f(2))`, `a, b = await
// gather(x(), y())`, `gather(*coros, extra())`, `gather(*[f(1), f(2)])`; braced lists
// for wait() and as_completed() (asyncio: tasks.gather, wait, as_completed).
#include <doctest/doctest.h>

#include <array>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/wait.hpp"

namespace {

aio::Coro<int> f(int v) {
    co_await aio::sleep(v);
    co_return v;
}

aio::Coro<std::string> text(std::string s) {
    co_await aio::sleep(1);
    co_return s;
}

aio::Coro<int> fails(double d) {
    co_await aio::sleep(d);
    throw std::runtime_error("failed");
}

using Results2 = decltype(aio::gather(f(1), f(2)));
static_assert(std::is_same_v<Results2, aio::Gathering<std::array<int, 2>>>);
static_assert(std::is_same_v<decltype(aio::gather(f(1), aio::sleep(1, 2))),
                             aio::Gathering<std::array<int, 2>>>);
static_assert(std::is_same_v<decltype(aio::gather(aio::sleep(1), aio::sleep(2))),
                             aio::Gathering<std::array<std::monostate, 2>>>);
static_assert(std::is_same_v<decltype(aio::gather(f(1), text("a"))),
                             aio::Gathering<std::tuple<int, std::string>>>);
static_assert(std::is_same_v<decltype(aio::gather(aio::return_exceptions, f(1), f(2))),
                             aio::Gathering<std::array<aio::Outcome<int>, 2>>>);
static_assert(std::is_same_v<decltype(aio::gather(std::vector<aio::Coro<int>>{}, f(1))),
                             aio::Gathering<std::vector<int>>>);

aio::Coro<std::vector<int>> iterate_and_index() {
    std::vector<int> seen;
    for (int r : co_await aio::gather(f(3), f(1), f(2))) seen.push_back(r);
    auto results = co_await aio::gather(f(1), f(2));
    seen.push_back(results[1]);
    seen.push_back(static_cast<int>(results.size()));
    auto [a, b] = co_await aio::gather(f(1), f(2));  // a, b = await gather(x(), y())
    seen.push_back(a * 10 + b);
    auto [n, s] = co_await aio::gather(f(1), text("x"));  // mixed types: a tuple
    seen.push_back(s == "x" ? n : -1);
    co_return seen;
}

std::vector<aio::Coro<int>> coros(int n) {
    std::vector<aio::Coro<int>> out;
    for (int i = 1; i <= n; ++i) out.push_back(f(i));
    return out;
}

aio::Coro<std::vector<int>> list_plus_more() {
    std::vector<int> seen = co_await aio::gather(coros(3), f(1));  // gather(*coros, f(1))
    aio::Task<int> t = aio::create_task(f(2));
    std::vector<aio::Task<int>> tasks{t, t};
    std::vector<int> mixed = co_await aio::gather(f(1), tasks, aio::sleep(1, 7), coros(1));
    seen.insert(seen.end(), mixed.begin(), mixed.end());
    co_return seen;
}

aio::Coro<std::vector<int>> braced_lists() {
    // In one statement with the co_await Clang is fine; GCC 12 cannot (gather.hpp).
    auto g = aio::gather({f(2), f(1)});
    std::vector<int> seen = co_await std::move(g);
    auto h = aio::gather({f(1), f(1)}, f(3));
    std::vector<int> more = co_await std::move(h);
    seen.insert(seen.end(), more.begin(), more.end());
    co_return seen;
}

aio::Coro<std::vector<std::string>> outcomes() {
    std::vector<std::string> seen;
    for (const aio::Outcome<int>& o : co_await aio::gather(aio::return_exceptions, f(1), fails(1)))
        seen.push_back(o.ok() ? std::to_string(o.value()) : "error");
    auto g = aio::gather(aio::return_exceptions, {fails(1), f(2)}, f(3));
    std::vector<aio::Outcome<int>> list = co_await std::move(g);
    for (const aio::Outcome<int>& o : list)
        seen.push_back(o.ok() ? std::to_string(o.value()) : "error");
    co_return seen;
}

aio::Coro<std::string> list_child_fails() {
    try {
        co_await aio::gather(coros(2), fails(1));
    } catch (const std::runtime_error& e) {
        co_return e.what();
    }
    co_return "no error";
}

aio::Coro<int> braced_wait_and_as_completed() {
    aio::Task<int> t1 = aio::create_task(f(1));
    aio::Task<int> t2 = aio::create_task(f(3));
    auto w = aio::wait({t1, t2}, 2.0);
    auto [done, pending] = co_await std::move(w);
    int sum = static_cast<int>(done.size() * 10 + pending.size());
    auto order = aio::as_completed({f(2), f(1)});
    for (auto& next : order) sum = sum * 10 + co_await next;
    co_return sum;
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("gather(a, b, c) of one type: a std::array, iterable, indexable; mixed: a tuple") {
        auto loop = test::virtual_loop();
        std::vector<int> seen = loop->run_until_complete(iterate_and_index());
        CHECK(seen == std::vector<int>{3, 1, 2, 2, 2, 12, 1});
    }

    TEST_CASE("gather(list, more...): a std::vector, the list's elements in its place") {
        auto loop = test::virtual_loop();
        std::vector<int> seen = loop->run_until_complete(list_plus_more());
        CHECK(seen == std::vector<int>{1, 2, 3, 1, 1, 2, 2, 7, 1});
    }

    TEST_CASE("gather({f(1), f(2)}, more...): a braced list is a list") {
        auto loop = test::virtual_loop();
        std::vector<int> seen = loop->run_until_complete(braced_lists());
        CHECK(seen == std::vector<int>{2, 1, 1, 1, 3});
    }

    TEST_CASE("gather(return_exceptions, ...): Outcome<T>s, in an array or a vector") {
        auto loop = test::virtual_loop();
        std::vector<std::string> seen = loop->run_until_complete(outcomes());
        CHECK(seen == std::vector<std::string>{"1", "error", "error", "2", "3"});
    }

    TEST_CASE("gather(list, more...): the first failure fails it") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(list_child_fails()) == "failed");
        loop->run_until_complete(aio::sleep(5));  // the other children go on to their end
    }

    TEST_CASE("gather(list, more...): a future of another loop is refused with ValueError") {
        auto loop = test::virtual_loop();
        auto other = test::virtual_loop();
        std::vector<aio::Future<int>> mine{aio::Future<int>(*loop)};
        aio::Future<int> theirs(*other);
        CHECK_THROWS_AS((void)aio::gather(mine, theirs), aio::ValueError);
    }

    TEST_CASE("wait({t1, t2}) and as_completed({...}) take braced lists") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(braced_wait_and_as_completed()) == 1112);
    }
}
