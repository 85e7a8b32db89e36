// test_wait.cpp - wait and as_completed exactly as asyncio 3.11
// (asyncio: test_tasks.py::test_wait*, test_yield_wait_does_not_shield_cancel,
// test_as_completed*; parity rows 064-068, 076-078).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/wait.hpp"

namespace {

std::vector<std::string> trace;

std::string now() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", aio::get_running_loop().time());
    return buf;
}

template <class F>
std::string names(const std::vector<F>& fs) {
    std::string out = "{";
    for (const F& f : fs) out += (out.size() > 1 ? "," : "") + f.get_name();
    return out + "}";
}

aio::Coro<std::string> job(std::string name, double delay, bool fail = false) {
    co_await aio::sleep(delay);
    if (fail) {
        trace.push_back(name + " failed at " + now());
        throw std::runtime_error(name + " failed");
    }
    trace.push_back(name + " succeeded at " + now());
    co_return name + " ok";
}

aio::Task<std::string> start(std::string name, double delay, bool fail = false) {
    return aio::create_task(job(name, delay, fail), name);
}

aio::Coro<void> wait_all_completed() {
    std::vector<aio::Task<std::string>> tasks{start("A", 1), start("B", 2, true)};
    auto [done, pending] = co_await aio::wait(tasks);
    trace.push_back("done " + names(done) + " pending " + names(pending) + " at " + now());
    CHECK_THROWS_AS(tasks[1].result(), std::runtime_error);  // read: no "never retrieved"
}

aio::Coro<void> wait_first_completed_with_timeout() {
    std::vector<aio::Task<std::string>> tasks{start("A", 3), start("B", 1), start("C", 5)};
    auto [done, pending] = co_await aio::wait(tasks, 2.0, aio::FIRST_COMPLETED);
    trace.push_back("done " + names(done) + " pending " + names(pending) + " at " + now());
    auto [done2, pending2] = co_await aio::wait(pending, 0.5);
    trace.push_back("done " + names(done2) + " pending " + names(pending2) + " at " + now());
    co_await aio::sleep(10);  // the pending ones were left running
}

// Tutorial 004, "wait 的錯誤處理": stop at the first exception, cancel the rest.
aio::Coro<void> wait_first_exception() {
    std::vector<aio::Task<std::string>> tasks{start("A", 1), start("B", 2, true), start("C", 3)};
    auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_EXCEPTION);
    trace.push_back("done " + names(done) + " pending " + names(pending) + " at " + now());
    for (aio::Task<std::string>& t : done) {
        try {
            trace.push_back("result: " + t.result());
        } catch (const std::exception& e) {
            trace.push_back(std::string("exception: ") + e.what());
        }
    }
    for (aio::Task<std::string>& t : pending) t.cancel();
    co_await aio::sleep(0);
    trace.push_back("C cancelled: " + std::to_string(tasks[2].cancelled()));
}

aio::Coro<void> wait_first_exception_without_one() {
    std::vector<aio::Task<std::string>> tasks{start("A", 1), start("B", 2), start("C", 5)};
    tasks[2].cancel();  // a cancelled task is not an exception
    auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_EXCEPTION);
    trace.push_back("done " + names(done) + " pending " + names(pending) + " at " + now());
}

aio::Coro<void> one_yield() { co_await aio::sleep(0); }
aio::Coro<void> two_yields() {
    co_await aio::sleep(0);
    co_await aio::sleep(0);
}

aio::Coro<void> wait_really_done() {
    aio::Task<void> a = aio::create_task(one_yield(), "a");
    aio::Task<void> b = aio::create_task(two_yields(), "b");
    std::vector<aio::Task<void>> both{b, a};  // GCC 12: no braced list inside a co_await
    auto [done, pending] = co_await aio::wait(both, aio::FIRST_COMPLETED);
    trace.push_back("done " + names(done) + " pending " + names(pending));
}

aio::Coro<void> wait_duplicates() {
    aio::Task<std::string> a = start("A", 1);
    aio::Task<std::string> b = start("B", 1);
    std::vector<aio::Task<std::string>> tasks{a, b, a, a};
    auto [done, pending] = co_await aio::wait(tasks);
    trace.push_back("done " + names(done) + " pending " + names(pending));
}

aio::Coro<void> wait_on_futures() {
    aio::Future<int> f, g;
    aio::get_running_loop().call_later(1, [f]() mutable { f.set_result(1); });
    std::vector<aio::Future<int>> futures{f, g};
    auto [done, pending] = co_await aio::wait(futures, 3.0);
    trace.push_back(std::to_string(done.size()) + " done, " + std::to_string(pending.size()) +
                    " pending at " + now());
}

aio::Coro<void> waiter_of(std::vector<aio::Task<std::string>> tasks) {
    co_await aio::wait(std::move(tasks));
    trace.push_back("waiter not reached");
}

aio::Coro<void> cancel_the_waiter() {
    std::vector<aio::Task<std::string>> tasks{start("A", 2)};
    aio::Task<void> w = aio::create_task(waiter_of(tasks), "waiter");
    co_await aio::sleep(1);
    w.cancel("stop waiting");
    try {
        co_await w;
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("waiter cancelled: '") + e.what() + "' at " + now());
    }
    co_await tasks[0];
}

// ---- as_completed ----

aio::Coro<void> in_completion_order() {
    aio::Task<std::string> a = start("A", 3), b = start("B", 1), c = start("C", 2);
    auto nexts = aio::as_completed(std::vector{a, b, c, b});
    trace.push_back(std::to_string(nexts.size()) + " awaitables");
    for (auto& next : nexts) {
        std::string& v = co_await next;
        trace.push_back("got " + v + " at " + now());
    }
}

aio::Coro<void> reverse_wait() {
    aio::Task<std::string> a = start("a", 0.05), b = start("b", 0.10);
    auto futs = aio::as_completed(std::vector{a, b});
    std::string x = co_await futs[1];
    trace.push_back("futs[1] gave " + x + " at " + now());
    std::string y = co_await futs[0];
    trace.push_back("futs[0] gave " + y + " at " + now());
}

aio::Coro<std::string> take_one(aio::NextCompletion<std::string>& next) {
    std::string v = co_await next;
    co_return v;
}

aio::Coro<void> concurrent_awaiters() {
    auto futs = aio::as_completed(std::vector{start("a", 0.05), start("b", 0.05)});
    aio::Task<std::string> second = aio::create_task(take_one(futs[1]));
    aio::Task<std::string> first = aio::create_task(take_one(futs[0]));
    std::vector<aio::Task<std::string>> both{first, second};
    auto [done, pending] = co_await aio::wait(both);
    trace.push_back(second.result() + ", " + first.result() + " at " + now());
}

aio::Coro<void> with_timeout() {
    aio::Task<std::string> a = start("a", 0.1), b = start("b", 0.15);
    std::vector<aio::Task<std::string>> tasks{a, b};
    for (auto& next : aio::as_completed(tasks, 0.12)) {
        try {
            std::string v = co_await next;
            trace.push_back("got " + v + " at " + now());
        } catch (const aio::TimeoutError&) {
            trace.push_back("TimeoutError at " + now());
        }
    }
    co_await b;  // it kept running
}

aio::Coro<void> unused_timeout() {
    std::vector<aio::Task<std::string>> tasks{start("a", 0.01)};
    for (auto& next : aio::as_completed(tasks, 1.0)) {
        std::string v = co_await next;
        trace.push_back("got " + v + " at " + now());
    }
}

aio::Coro<std::string> fetch(std::string url, double delay) {
    co_await aio::sleep(delay);
    co_return url + " -> 200";
}

// Tutorial 001: as_completed over coroutines, handled as each one finishes.
aio::Coro<void> coroutines_and_errors() {
    std::vector<aio::Coro<std::string>> coros;
    coros.push_back(fetch("example1", 0.3));
    coros.push_back(job("broken", 0.2, true));
    coros.push_back(fetch("example3", 0.1));
    for (auto& next : aio::as_completed(std::move(coros))) {
        try {
            std::string v = co_await next;
            trace.push_back(v + " at " + now());
        } catch (const std::runtime_error& e) {
            trace.push_back(std::string("error: ") + e.what());
        }
    }
}

aio::Coro<void> await_twice() {
    auto futs = aio::as_completed(std::vector{start("a", 0)});
    std::string v = co_await futs[0];
    (void)v;
    try {
        co_await futs[0];
    } catch (const aio::RuntimeError& e) {
        trace.push_back(std::string("second await: ") + e.what());
    }
}

aio::Coro<void> cancelled_awaiter_passes_its_turn() {
    auto futs = aio::as_completed(std::vector{start("a", 1), start("b", 2)});
    aio::Task<std::string> doomed = aio::create_task(take_one(futs[0]));
    aio::Task<std::string> patient = aio::create_task(take_one(futs[1]));
    co_await aio::sleep(0.5);
    doomed.cancel();
    std::string first = co_await patient;
    trace.push_back("patient got " + first + " at " + now());
    co_await aio::sleep(1);  // b finishes with nobody left to take it
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("wait: ALL_COMPLETED puts every task in done and raises none of their errors") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        trace.clear();
        loop->run_until_complete(wait_all_completed());
        CHECK(trace == std::vector<std::string>{"A succeeded at 1.00", "B failed at 2.00",
                                                "done {A,B} pending {} at 2.00"});
    }

    TEST_CASE(
        "wait: FIRST_COMPLETED and timeouts give done/pending, no TimeoutError, none cancelled") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(wait_first_completed_with_timeout());
        CHECK(trace == std::vector<std::string>{"B succeeded at 1.00",
                                                "done {B} pending {A,C} at 1.00",
                                                "done {} pending {A,C} at 1.50",
                                                "A succeeded at 3.00", "C succeeded at 5.00"});
    }

    TEST_CASE(
        "wait: FIRST_EXCEPTION returns at the first failure, not a cancellation (tutorial 004)") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(wait_first_exception());
        CHECK(trace == std::vector<std::string>{"A succeeded at 1.00", "B failed at 2.00",
                                                "done {A,B} pending {C} at 2.00", "result: A ok",
                                                "exception: B failed", "C cancelled: 1"});
        trace.clear();
        loop->run_until_complete(wait_first_exception_without_one());
        CHECK(trace == std::vector<std::string>{"A succeeded at 3.00", "B succeeded at 4.00",
                                                "done {A,B,C} pending {} at 4.00"});
    }

    TEST_CASE("wait: tasks that finish in the same iteration all land in done") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(wait_really_done());
        CHECK(trace == std::vector<std::string>{"done {b,a} pending {}"});
    }

    TEST_CASE("wait: duplicates collapse; futures work as tasks do") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(wait_duplicates());
        loop->run_until_complete(wait_on_futures());
        CHECK(trace == std::vector<std::string>{"A succeeded at 1.00", "B succeeded at 1.00",
                                                "done {A,B} pending {}",
                                                "1 done, 1 pending at 4.00"});
    }

    TEST_CASE("wait: empty input, a bad return_when or a NaN timeout is aio::ValueError") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        std::vector<aio::Future<int>> none;
        CHECK_THROWS_WITH_AS((void)aio::wait(none), "Set of Tasks/Futures is empty.",
                             aio::ValueError);
        CHECK_THROWS_WITH_AS((void)aio::wait(std::vector{f}, static_cast<aio::ReturnWhen>(7)),
                             "Invalid return_when value: 7", aio::ValueError);
        CHECK_THROWS_AS((void)aio::wait(std::vector{f}, std::nan("")), aio::ValueError);
        auto other = test::virtual_loop();
        aio::Future<int> g(*other);
        CHECK_THROWS_AS((void)aio::wait(std::vector{f, g}), aio::ValueError);
    }

    TEST_CASE("wait: cancelling the task blocked in wait() does not cancel the waited tasks") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_the_waiter());
        CHECK(trace == std::vector<std::string>{"waiter cancelled: 'stop waiting' at 1.00",
                                                "A succeeded at 2.00"});
    }

    TEST_CASE("as_completed: results in completion order, from fresh awaitables, one per task") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(in_completion_order());
        CHECK(trace == std::vector<std::string>{"3 awaitables", "B succeeded at 1.00",
                                                "got B ok at 1.00", "C succeeded at 2.00",
                                                "got C ok at 2.00", "A succeeded at 3.00",
                                                "got A ok at 3.00"});
    }

    TEST_CASE("as_completed: the first awaitable awaited gets the first completion, any index") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(reverse_wait());
        CHECK(trace == std::vector<std::string>{"a succeeded at 0.05", "futs[1] gave a ok at 0.05",
                                                "b succeeded at 0.10",
                                                "futs[0] gave b ok at 0.10"});
        trace.clear();
        loop->run_until_complete(concurrent_awaiters());
        CHECK(trace == std::vector<std::string>{"a succeeded at 0.15", "b succeeded at 0.15",
                                                "a ok, b ok at 0.15"});
    }

    TEST_CASE(
        "as_completed: with a timeout, the awaitables left at the deadline throw TimeoutError") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(with_timeout());
        CHECK(trace == std::vector<std::string>{"a succeeded at 0.10", "got a ok at 0.10",
                                                "TimeoutError at 0.12", "b succeeded at 0.15"});
    }

    TEST_CASE("as_completed: an unused deadline is cancelled once all have finished") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(unused_timeout());
        CHECK(trace == std::vector<std::string>{"a succeeded at 0.01", "got a ok at 0.01"});
        loop->call_soon([] {});
        loop->run_once();  // drops cancelled timers from the heap
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE("as_completed: coroutines become tasks; a child's exception comes out of its await") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(coroutines_and_errors());
        CHECK(trace == std::vector<std::string>{"example3 -> 200 at 0.10", "broken failed at 0.20",
                                                "error: broken failed", "example1 -> 200 at 0.30"});
    }

    TEST_CASE(
        "as_completed: an awaitable can be awaited once; a cancelled awaiter passes its turn") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(await_twice());
        loop->run_until_complete(cancelled_awaiter_passes_its_turn());
        CHECK(trace ==
              std::vector<std::string>{
                  "a succeeded at 0.00", "second await: cannot reuse already awaited coroutine",
                  "a succeeded at 1.00", "patient got a ok at 1.00", "b succeeded at 2.00"});
    }

    TEST_CASE("wait, as_completed: a loop closed while they wait releases everything") {
        std::size_t blocks = aio::detail::pool_blocks_in_use();
        {
            test::LogCapture log;
            auto loop = test::virtual_loop();
            std::vector<aio::Task<std::string>> tasks{aio::create_task(*loop, job("A", 100))};
            aio::create_task(*loop, waiter_of(tasks));
            auto nexts = aio::as_completed(tasks, 50.0);
            aio::create_task(*loop, take_one(nexts[0]));
            loop->call_soon([] {});
            loop->run_once();
            loop->close();
        }
        CHECK(aio::detail::pool_blocks_in_use() == blocks);
    }
}
