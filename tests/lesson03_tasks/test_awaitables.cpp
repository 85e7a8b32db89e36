// test_awaitables.cpp - every kind of awaitable through every call that takes one, as
// asyncio's ensure_future makes them all tasks or futures (asyncio: tasks.ensure_future,
// _wrap_awaitable; test_tasks.py::test_ensure_future_awaitable, test_wait_for_*,
// test_gather_*, test_shield_*). Each kind gives `v` at loop time `d`.
#include <doctest/doctest.h>

#include <array>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"
#include "lesson03_tasks/wait.hpp"

namespace {

aio::Coro<int> value_after(int v, double d) {
    co_await aio::sleep(d);
    co_return v;
}

// A user's awaitable in the shape of Python's `def __await__(self): return
// asyncio.sleep(d, v).__await__()`: operator co_await hands over a library awaiter.
struct Delayed {
    double d;
    int v;
    auto operator co_await() const { return aio::sleep(d, v).operator co_await(); }
};

// A user's bare awaiter, done at once (a cache hit): await_resume gives or throws.
struct Ready {
    int v;
    bool fail = false;
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    int await_resume() const {
        if (fail) throw std::runtime_error("Ready failed");
        return v;
    }
};

// The kinds, each made on `loop` to give v at time d.
struct CoroKind {
    static aio::Coro<int> make(aio::EventLoop&, int v, double d) { return value_after(v, d); }
};
struct TaskKind {
    static aio::Task<int> make(aio::EventLoop& loop, int v, double d) {
        return aio::create_task(loop, value_after(v, d));
    }
};
struct FutureKind {
    static aio::Future<int> make(aio::EventLoop& loop, int v, double d) {
        aio::Future<int> f(loop);
        loop.call_later(d, [f, v]() mutable {
            if (!f.done()) f.set_result(v);  // cancelled by a timeout: leave it
        });
        return f;
    }
};
struct SleepKind {
    static auto make(aio::EventLoop&, int v, double d) { return aio::sleep(d, v); }
};
struct UserKind {
    static Delayed make(aio::EventLoop&, int v, double d) { return Delayed{d, v}; }
};
struct ShieldKind {
    static aio::Future<int> make(aio::EventLoop& loop, int v, double d) {
        return aio::shield(aio::create_task(loop, value_after(v, d)));
    }
};
struct WaitForKind {
    static aio::Coro<int> make(aio::EventLoop&, int v, double d) {
        return aio::wait_for(value_after(v, d), 100);
    }
};
#define ALL_KINDS CoroKind, TaskKind, FutureKind, SleepKind, UserKind, ShieldKind, WaitForKind
// wait() refuses coroutines, as asyncio 3.11 does.
#define NON_CORO_KINDS TaskKind, FutureKind, SleepKind, UserKind, ShieldKind

template <class K>
using kind_t = decltype(K::make(std::declval<aio::EventLoop&>(), 0, 0));

static_assert(aio::Awaitable<Delayed> && aio::Awaitable<Ready> && aio::Awaitable<Ready&>);
static_assert(std::is_same_v<aio::await_result_t<aio::detail::Sleep<int>>, int>);
static_assert(std::is_void_v<aio::await_result_t<decltype(aio::sleep(1))>>);
static_assert(std::is_same_v<aio::await_result_t<aio::Task<int>&>, int&>);
static_assert(!aio::Awaitable<int> && !aio::Awaitable<std::string>);

template <class K>
aio::Coro<int> through_create_task() {
    aio::Task<int> t = aio::create_task(K::make(aio::get_running_loop(), 7, 1));
    co_return co_await t;
}

template <class K>
aio::Coro<int> through_ensure_future() {
    auto f = aio::ensure_future(K::make(aio::get_running_loop(), 7, 1));
    co_return co_await f;
}

template <class K>
aio::Coro<int> through_gather() {
    aio::EventLoop& loop = aio::get_running_loop();
    auto results = co_await aio::gather(K::make(loop, 1, 1), K::make(loop, 2, 2));
    int sum = 0;
    for (int r : results) sum = sum * 10 + r;
    co_return sum;
}

template <class K>
aio::Coro<int> through_wait_for(double timeout) {
    co_return co_await aio::wait_for(K::make(aio::get_running_loop(), 7, 1), timeout);
}

template <class K>
aio::Coro<int> through_shield() {
    aio::Future<int> outer = aio::shield(K::make(aio::get_running_loop(), 7, 1));
    co_return co_await outer;
}

template <class K>
aio::Coro<int> through_as_completed() {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<kind_t<K>> aws;
    aws.push_back(K::make(loop, 2, 2));
    aws.push_back(K::make(loop, 1, 1));
    int order = 0;
    for (auto& next : aio::as_completed(std::move(aws))) order = order * 10 + co_await next;
    co_return order;
}

template <class K>
aio::Coro<int> through_wait() {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<kind_t<K>> aws;
    aws.push_back(K::make(loop, 1, 1));
    aws.push_back(K::make(loop, 3, 3));
    auto [done, pending] = co_await aio::wait(std::move(aws), 2.0);
    REQUIRE(done.size() == 1);
    REQUIRE(pending.size() == 1);
    int first = co_await done[0];
    int second = co_await pending[0];
    co_return first * 10 + second;
}

template <class K>
aio::Coro<int> through_timeout(double delay) {
    co_return co_await aio::timeout(delay, [] { return K::make(aio::get_running_loop(), 7, 1); });
}

aio::Coro<int> stored_then_awaited(std::vector<std::string>& errors) {
    aio::EventLoop& loop = aio::get_running_loop();
    auto s = aio::sleep(1, 1);
    Delayed d{1, 2};
    aio::Future<int> f = FutureKind::make(loop, 3, 1);
    auto g = aio::gather(value_after(4, 1), value_after(5, 1));
    auto lock_free = Ready{6};
    int sum = co_await s;
    sum += co_await d;
    sum += co_await d;  // a user's awaitable may allow more than one await
    sum += co_await f;
    const std::array<int, 2>& both = co_await g;  // an lvalue: a reference to the results
    sum += both[0] + both[1];
    sum += co_await lock_free;
    try {
        co_await s;
    } catch (const aio::RuntimeError& e) {
        errors.push_back(e.what());
    }
    co_return sum;
}

aio::Coro<int> lvalue_given_is_copied() {
    auto s = aio::sleep(1, 7);
    aio::Task<int> t = aio::create_task(s);  // a copy of s: s itself is still unawaited
    int direct = co_await s;
    int& from_task = co_await t;
    co_return direct + from_task;
}

aio::Coro<std::vector<std::string>> user_errors_reach_the_awaiter() {
    std::vector<std::string> seen;
    auto note = [&seen](const std::exception& e) { seen.push_back(e.what()); };
    try {
        co_await Ready{0, true};
    } catch (const std::runtime_error& e) {
        note(e);
    }
    aio::Task<int> t = aio::create_task(Ready{0, true});
    try {
        co_await t;
    } catch (const std::runtime_error& e) {
        note(e);
    }
    try {
        co_await aio::gather(Ready{1}, Ready{0, true});
    } catch (const std::runtime_error& e) {
        note(e);
    }
    try {
        co_await aio::wait_for(Ready{0, true}, 1);
    } catch (const std::runtime_error& e) {
        note(e);
    }
    auto outcomes = co_await aio::gather(aio::return_exceptions, Ready{1}, Ready{0, true});
    seen.push_back(outcomes[0].ok() ? "ok" : "failed");
    try {
        outcomes[1].value();
    } catch (const std::runtime_error& e) {
        note(e);
    }
    co_return seen;
}

aio::Coro<void> wait_for_a_long_sleep() { co_await aio::wait_for(aio::sleep(10), 1); }

aio::Coro<bool> wait_for_a_task_of_a_sleep() {
    aio::Task<void> t = aio::create_task(aio::sleep(10));
    try {
        co_await aio::wait_for(t, 1);
    } catch (const aio::TimeoutError&) {
    }
    co_return t.cancelled();
}

aio::Coro<int> shielded_sleep_survives(aio::Task<int>* inner) {
    *inner = aio::create_task(aio::sleep(5, 9));
    aio::Future<int> outer = aio::shield(*inner);
    aio::get_running_loop().call_later(1, [outer]() mutable { outer.cancel(); });
    try {
        co_await outer;
    } catch (const aio::CancelledError&) {
    }
    co_return co_await *inner;
}

aio::Coro<void> gather_two_sleeps() { co_await aio::gather(aio::sleep(10), aio::sleep(20)); }

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE_TEMPLATE("create_task: every kind of awaitable becomes a task", K, ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_create_task<K>());
        CHECK(got == 7);
        CHECK(loop->time() == 1);
    }

    TEST_CASE_TEMPLATE("ensure_future: every kind of awaitable gives a task or a future", K,
                       ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_ensure_future<K>());
        CHECK(got == 7);
    }

    TEST_CASE_TEMPLATE("gather: every kind runs concurrently, results iterable in order", K,
                       ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_gather<K>());
        CHECK(got == 12);
        CHECK(loop->time() == 2);
    }

    TEST_CASE_TEMPLATE("wait_for: every kind gives its result in time, else TimeoutError", K,
                       ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_wait_for<K>(5));
        CHECK(got == 7);
        CHECK_THROWS_AS(loop->run_until_complete(through_wait_for<K>(0.5)), aio::TimeoutError);
        CHECK(loop->time() == 1.5);
        loop->run_until_complete(aio::sleep(5));  // a shielded task goes on to its end
    }

    TEST_CASE_TEMPLATE("shield: every kind of awaitable can be shielded", K, ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_shield<K>());
        CHECK(got == 7);
    }

    TEST_CASE_TEMPLATE("as_completed: every kind, in completion order", K, ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_as_completed<K>());
        CHECK(got == 12);
    }

    TEST_CASE_TEMPLATE("wait: every kind but a coroutine, sorted into done and pending", K,
                       NON_CORO_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_wait<K>());
        CHECK(got == 13);
        CHECK(loop->time() == 3);
    }

    TEST_CASE_TEMPLATE("timeout: a body may give every kind of awaitable", K, ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(through_timeout<K>(5));
        CHECK(got == 7);
        CHECK_THROWS_AS(loop->run_until_complete(through_timeout<K>(0.5)), aio::TimeoutError);
        loop->run_until_complete(aio::sleep(5));  // a shielded task goes on to its end
    }

    TEST_CASE_TEMPLATE("loop.run_until_complete: every kind of awaitable", K, ALL_KINDS) {
        auto loop = test::virtual_loop();
        int got = loop->run_until_complete(K::make(*loop, 7, 1));
        CHECK(got == 7);
        CHECK(loop->time() == 1);
    }

    TEST_CASE_TEMPLATE("Runner.run: every kind of awaitable of the runner's loop", K, ALL_KINDS) {
        aio::Runner runner(std::nullopt, [] { return test::virtual_loop(); });
        int got = runner.run(K::make(runner.get_loop(), 7, 1));
        CHECK(got == 7);
        CHECK(runner.get_loop().time() == 1);
    }

    TEST_CASE("run: a sleep, a user's awaitable, a ready awaiter as the main awaitable") {
        auto factory = [] { return test::virtual_loop(); };
        CHECK(aio::run(aio::sleep(1, 7), std::nullopt, factory) == 7);
        CHECK(aio::run(Delayed{1, 8}, std::nullopt, factory) == 8);
        auto stored = aio::sleep(1, 9);
        CHECK(aio::run(stored, std::nullopt, factory) == 9);  // copied: stored is untouched
        CHECK(aio::run(Ready{10}, std::nullopt, factory) == 10);
        aio::run(aio::sleep(1), std::nullopt, factory);
        CHECK_THROWS_WITH_AS(aio::run(Ready{0, true}, std::nullopt, factory), "Ready failed",
                             std::runtime_error);
    }

    TEST_CASE("a stored awaitable is awaited later; a stored sleep only once, as in asyncio") {
        auto loop = test::virtual_loop();
        std::vector<std::string> errors;
        int sum = loop->run_until_complete(stored_then_awaited(errors));
        CHECK(sum == 1 + 2 + 2 + 3 + 4 + 5 + 6);
        CHECK(loop->time() == 3);  // s, d, d one after the other; f and g done meanwhile
        CHECK(errors == std::vector<std::string>{"cannot reuse already awaited coroutine"});
    }

    TEST_CASE("create_task(lvalue): the awaitable is copied into the task") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(lvalue_given_is_copied()) == 14);
        CHECK(loop->time() == 1);
    }

    TEST_CASE("a user awaiter's exception reaches the awaiter, through every combinator") {
        auto loop = test::virtual_loop();
        std::vector<std::string> seen = loop->run_until_complete(user_errors_reach_the_awaiter());
        CHECK(seen == std::vector<std::string>{"Ready failed", "Ready failed", "Ready failed",
                                               "Ready failed", "ok", "Ready failed"});
    }

    TEST_CASE("wait_for(sleep(10), 1): TimeoutError at 1, the sleep's timer cancelled") {
        auto loop = test::virtual_loop();
        CHECK_THROWS_AS(loop->run_until_complete(wait_for_a_long_sleep()), aio::TimeoutError);
        CHECK(loop->time() == 1);
        loop->call_soon([] {});
        loop->run_once();
        CHECK(loop->timer_count() == 0);
        CHECK(aio::all_tasks(loop.get()).empty());
    }

    TEST_CASE("wait_for(create_task(sleep(10)), 1): the task wrapping the sleep is cancelled") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(wait_for_a_task_of_a_sleep()));
        CHECK(loop->time() == 1);
    }

    TEST_CASE("shield(task of a sleep): cancelling the outer leaves the sleep running") {
        auto loop = test::virtual_loop();
        aio::Task<int> inner;
        CHECK(loop->run_until_complete(shielded_sleep_survives(&inner)) == 9);
        CHECK(loop->time() == 5);
    }

    TEST_CASE("cancelling a task awaiting gather(sleep, sleep) cancels the sleeps' tasks") {
        auto loop = test::virtual_loop();
        aio::Task<void> t = aio::create_task(*loop, gather_two_sleeps());
        loop->call_later(1, [t]() mutable { t.cancel(); });
        CHECK_THROWS_AS(loop->run_until_complete(t), aio::CancelledError);
        CHECK(loop->time() == 1);
        loop->call_soon([] {});
        loop->run_once();
        CHECK(aio::all_tasks(loop.get()).empty());
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("a task made of another awaitable runs wrap_awaitable(), as asyncio's repr says") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, aio::sleep(1, 7), "sleeper");
        CHECK(t.repr() == "<Task pending name='sleeper' coro=wrap_awaitable()>");
        CHECK(loop->run_until_complete(t) == 7);
    }
}
