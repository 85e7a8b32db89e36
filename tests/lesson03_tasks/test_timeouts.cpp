// test_timeouts.cpp - timeout(), timeout_at() and wait_for, under the virtual clock
// (asyncio: test_timeouts.py, test_waitfor.py; parity rows 069-074, 083-092; tutorial
// 004's wait_for, timeout() and with_timeout examples).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

std::vector<std::string> trace;

using test::now;

// What an exception_ptr holds, for traces: "TimeoutError from CancelledError", ...
std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const aio::TimeoutError& e) {
        // The dynamic type is exactly TimeoutError (no std::_Nested_exception), with an
        // empty message as Python's; `raise ... from exc` is its cause().
        CHECK(typeid(e) == typeid(aio::TimeoutError));
        CHECK(std::string(e.what()).empty());
        if (aio::is_cancelled_error(e.cause())) return "TimeoutError from CancelledError";
        return "TimeoutError";
    } catch (const aio::CancelledError&) {
        return "CancelledError";
    } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
    }
}

std::string show(int v) { return " " + std::to_string(v); }
std::string show(const std::string& v) { return " '" + v + "'"; }

// Awaits `work` and says how it ended: "returned 42", "TimeoutError", ...
template <class T>
aio::Coro<std::string> outcome(aio::Coro<T> work) {
    std::string value;
    try {
        if constexpr (std::is_void_v<T>)
            co_await std::move(work);
        else
            value = show(co_await std::move(work));
    } catch (...) {
        co_return describe(std::current_exception());
    }
    co_return "returned" + value;
}

using test::await_task;

// `async with cm: await block`, run on the loop in a task of its own; how it ended.
aio::Coro<void> scope(aio::Timeout& cm, aio::Coro<void> block) {
    co_await aio::async_with(cm, [&]() -> aio::Coro<void> { co_await std::move(block); });
}
std::string run_scope(aio::EventLoop& loop, aio::Timeout& cm, aio::Coro<void> block) {
    return loop.run_until_complete(outcome(scope(cm, std::move(block))));
}

aio::Coro<void> nap(double seconds) { co_await aio::sleep(seconds); }

aio::Coro<void> sleeper(double seconds) {
    try {
        co_await aio::sleep(seconds);
    } catch (const aio::CancelledError&) {
        trace.push_back("sleep: CancelledError at " + now());
        throw;
    }
    trace.push_back("slept until " + now());
}

aio::Coro<void> show_then_sleep(aio::Timeout& cm, double seconds) {
    trace.push_back(cm.repr());
    co_await sleeper(seconds);
}

template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

// ---- blocks for timeout() ------------------------------------------------------------

aio::Coro<int> in_time(aio::EventLoop& loop) {
    int v = co_await aio::timeout(10, [&]() -> aio::Coro<int> {
        co_await aio::sleep(0.5);
        co_return 42;
    });
    trace.push_back("timers left: " + std::to_string(loop.timer_count()));
    co_return v;
}

// asyncio: test_nested_timeouts: the inner scope's outcome, then re-raise it.
aio::Coro<void> inner_scope(aio::Timeout& cm2) {
    std::string inner = co_await outcome(scope(cm2, nap(10)));
    trace.push_back("inner: " + inner);
    throw aio::CancelledError();
}

// asyncio: test_nested_timeouts_loop_busy: the inner expires and is handled inside;
// the outer fires later.
aio::Coro<void> nested_inner_first() {
    std::string r = co_await outcome(aio::timeout(2, [&]() -> aio::Coro<void> {
        std::string inner =
            co_await outcome(aio::timeout(1, [&]() -> aio::Coro<void> { co_await sleeper(10); }));
        trace.push_back("inner: " + inner + " at " + now());
        co_await sleeper(10);
    }));
    trace.push_back("outer: " + r + " at " + now());
}

// asyncio: test_nested_timeouts_concurrent: both deadlines pass while the loop is busy.
aio::Coro<void> nested_busy(aio::EventLoop& loop) {
    std::string r = co_await outcome(aio::timeout(1, [&]() -> aio::Coro<void> {
        std::string inner = co_await outcome(aio::timeout(5, [&]() -> aio::Coro<void> {
            static_cast<aio::VirtualClock&>(loop.clock()).advance(10);  // crunch numbers
            co_await aio::sleep(1);
        }));
        trace.push_back("inner: " + inner);
        if (inner == "CancelledError") throw aio::CancelledError();
    }));
    trace.push_back("outer: " + r + " at " + now());
}

aio::Coro<void> cancel_myself_then_sleep() {
    aio::current_task()->cancel();
    co_await aio::sleep(10);
}

// asyncio: test_timeout_after_cancellation / test_cancel_in_timeout_after_cancellation.
aio::Coro<void> after_caught_cancel(bool cancel_again) {
    std::string first = co_await outcome(cancel_myself_then_sleep());
    trace.push_back("caught " + first +
                    ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
    std::string r = co_await outcome(aio::timeout(cancel_again ? 1 : 0, [&]() -> aio::Coro<void> {
        if (cancel_again) aio::current_task()->cancel();
        co_await aio::sleep(2);  // some cleanup
    }));
    trace.push_back("cleanup scope: " + r);
}

// asyncio: test_nested_timeout_in_finally. C++ cannot co_await in a catch block, so the
// "finally" runs after it, with the error kept.
aio::Coro<void> timeout_in_finally() {
    std::string r = co_await outcome(aio::timeout(1, [&]() -> aio::Coro<void> {
        std::exception_ptr error;
        try {
            co_await aio::sleep(10);
        } catch (...) {
            error = std::current_exception();
        }
        std::string inner = co_await outcome(aio::timeout(1, [] { return nap(10); }));
        trace.push_back("cleanup: " + inner + " at " + now());
        if (error) std::rethrow_exception(error);
    }));
    trace.push_back("outer: " + r + " at " + now());
}

aio::Coro<void> crash_in_cleanup() {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        throw std::runtime_error("cleanup failed");
    }
}

aio::Coro<void> fail_before_deadline() {
    co_await aio::sleep(0.5);
    throw std::runtime_error("KeyError");
}

aio::Coro<void> swallow_and_return() {
    int v = co_await aio::timeout(1, [&](aio::Timeout& cm) -> aio::Coro<int> {
        std::string r = co_await outcome(nap(10));
        trace.push_back("block caught " + r +
                        ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
        trace.push_back(error_of([&] { cm.reschedule(5); }));
        co_return 7;
    });
    trace.push_back("scope gave " + std::to_string(v) +
                    ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
}

aio::Coro<void> enter_again(aio::Timeout& cm) {
    trace.push_back(error_of([&] { cm.enter(); }));
    co_return;
}

aio::Coro<void> reschedule_from_outside(aio::Timeout& cm) {
    aio::Task<void> t = aio::create_task(scope(cm, nap(50)));
    co_await aio::sleep(0);
    for (std::optional<double> when : {std::optional(30.0), std::optional<double>()}) {
        trace.push_back(cm.repr());
        cm.reschedule(when);
    }
    trace.push_back(cm.repr());
    co_await aio::sleep(40);  // past both deadlines: nothing fires
    t.cancel();
    trace.push_back("task: " + co_await outcome(await_task(t)));
}

// ---- inner work for wait_for ------------------------------------------------------------

aio::Coro<std::string> done_at_once() { co_return "done"; }

// Catches the cancel at its await, cleans up for `cleanup` seconds, then re-raises it.
aio::Coro<std::string> cancel_with_cleanup(double cleanup) {
    std::string r = co_await outcome(nap(10));
    trace.push_back("inner: " + r + " at " + now());
    co_await aio::sleep(cleanup);
    trace.push_back("inner: cleaned up at " + now());
    if (r == "CancelledError") throw aio::CancelledError();
    co_return "done";
}

aio::Coro<void> timeout_waits_for_inner(double timeout) {
    aio::Task<std::string> t = aio::create_task(cancel_with_cleanup(0.5));
    co_await aio::sleep(0);  // t is running
    std::string r = co_await outcome(aio::wait_for(t, timeout));
    trace.push_back("wait_for: " + r + " at " + now() + (t.cancelled() ? ", inner cancelled" : ""));
}

bool started = false;
aio::Coro<int> mark_started() {
    started = true;
    co_return 1;
}

// asyncio: test_wait_for_cancellation_race_condition.
aio::Coro<int> swallow_cancel() {
    std::string r = co_await outcome(nap(10));
    trace.push_back("inner: swallowed " + r);
    co_return 1;
}

aio::Coro<void> wait_on(aio::Future<void> f) { co_await f; }

// asyncio: SlowTask: runs until `until` whatever it is asked.
bool exited = false;
aio::Coro<void> slow_task(double until) {
    while (aio::get_running_loop().time() < until)
        (void)co_await outcome(nap(until - aio::get_running_loop().time()));
    exited = true;
}

// asyncio: test_wait_for_self_cancellation's inner: ignores two cancels.
aio::Coro<int> stubborn() {
    std::string r = co_await outcome(nap(0.3));
    if (r == "CancelledError") r = co_await outcome(nap(0.3));
    if (r == "CancelledError") co_await aio::sleep(0.3);
    co_return 42;
}

// Swallows the deadline's cancel and the one that lands during its cleanup.
aio::Coro<std::string> swallow_everything() {
    std::string r = co_await outcome(nap(10));
    trace.push_back("inner: " + r + " at " + now());
    r = co_await outcome(nap(1));
    trace.push_back("inner: cleanup " + r + " at " + now());
    co_return "value";
}

aio::Coro<void> cancel_during_cleanup(aio::Coro<std::string> inner) {
    aio::Task<std::string> w =
        aio::create_task(aio::wait_for(aio::create_task(std::move(inner)), 1));
    co_await aio::sleep(1.5);  // the deadline passed; the inner task is cleaning up
    w.cancel();
    std::string r = co_await outcome(await_task(w));
    trace.push_back("caller: " + r + " at " + now() +
                    ", cancelling()=" + std::to_string(w.cancelling()));
}

// The deadline and the result land in the same iteration, in either order.
aio::Coro<void> deadline_meets_result(bool result_first) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<std::string> fut(loop);
    auto set = [fut]() mutable {
        if (!fut.done()) fut.set_result("late");
    };
    double deadline = loop.time() + 1;
    if (result_first) loop.call_at(deadline, set);
    aio::Task<std::string> w = aio::create_task(aio::wait_for(fut, 1));
    co_await aio::sleep(0);  // w entered its scope: its timer is scheduled
    if (!result_first) loop.call_at(deadline, set);
    std::string r = co_await outcome(await_task(w));
    trace.push_back(
        r + " at " + now() +
        (fut.cancelled() ? ", future cancelled" : ", future kept '" + fut.result() + "'"));
}

// gh-86296: a cancel in the same iteration as the result must not be lost.
aio::Coro<void> cancel_meets_result() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<std::string> fut(loop);
    aio::Task<std::string> w = aio::create_task(aio::wait_for(fut, 100));
    loop.call_at(1, [fut]() mutable { fut.set_result("ok"); });
    loop.call_at(1, [w]() mutable { w.cancel(); });
    trace.push_back("caller: " + co_await outcome(await_task(w)) + " at " + now());
}

bool reached_end = false;
aio::Coro<void> wait_for_then_sleep() {
    co_await aio::wait_for(done_at_once(), 100);
    co_await aio::sleep(1);
    reached_end = true;
}

// Tutorial 004: slow_operation, wait_for with 3 s, and with_timeout(default).
aio::Coro<std::string> slow_operation() {
    co_await aio::sleep(10);
    co_return "finished";
}

aio::Coro<std::string> with_timeout(aio::Coro<std::string> coro, double timeout,
                                    std::string fallback) {
    try {
        co_return co_await aio::wait_for(std::move(coro), timeout);
    } catch (const aio::TimeoutError&) {
    }
    co_return fallback;
}

aio::Coro<void> tutorial() {
    try {
        std::string r = co_await aio::wait_for(slow_operation(), 3.0);
        trace.push_back(r);
    } catch (const aio::TimeoutError&) {
        trace.push_back("operation timed out at " + now());
    }
    trace.push_back(co_await with_timeout(slow_operation(), 1.0, "default after timeout"));
    std::string r = co_await outcome(aio::timeout(3.0, [] { return nap(10); }));
    trace.push_back("timeout(3.0): " + r + " at " + now());
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE(
        "timeout_at: at the deadline the block's await gets CancelledError and the scope "
        "throws TimeoutError from it; expired() is true, when() the deadline") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Timeout cm = aio::timeout_at(2.5);
        CHECK(run_scope(*loop, cm, show_then_sleep(cm, 10)) == "TimeoutError from CancelledError");
        CHECK(trace == std::vector<std::string>{"<Timeout [active] when=2.5>",
                                                "sleep: CancelledError at 2.5"});
        CHECK(cm.expired());
        CHECK(cm.when() == 2.5);
        CHECK(cm.repr() == "<Timeout [expired]>");
    }

    TEST_CASE("timeout and timeout_at: nullopt disables the deadline") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Timeout a = aio::timeout(std::nullopt), b = aio::timeout_at(std::nullopt);
        CHECK(run_scope(*loop, a, show_then_sleep(a, 100)) == "returned");
        CHECK(run_scope(*loop, b, show_then_sleep(b, 100)) == "returned");
        CHECK(trace == std::vector<std::string>{"<Timeout [active] when=None>", "slept until 100",
                                                "<Timeout [active] when=None>", "slept until 200"});
        CHECK_FALSE(a.expired());
        CHECK_FALSE(b.when());
        CHECK(b.repr() == "<Timeout [finished]>");
    }

    TEST_CASE("timeout: a block done in time gives its value and cancels the timer") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(in_time(*loop)) == 42);
        CHECK(trace == std::vector<std::string>{"timers left: 1"});  // cancelled, dropped lazily
        loop->run_until_complete(nap(20));  // past the old deadline: nothing fires
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE(
        "timeout: a deadline now or in the past fires in the next iteration, even "
        "through sleep(0)") {
        auto loop = test::virtual_loop();
        for (double past : {0.0, 11.0}) {
            for (double block : {10.0, 0.0}) {
                aio::Timeout cm = aio::timeout_at(loop->time() - past);
                CHECK(run_scope(*loop, cm, nap(block)) == "TimeoutError from CancelledError");
                CHECK(loop->time() == 0);
            }
        }
    }

    TEST_CASE(
        "timeout: nested scopes with the same deadline: the inner sees CancelledError, "
        "only the outermost throws TimeoutError") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Timeout cm1 = aio::timeout_at(1), cm2 = aio::timeout_at(1);
        CHECK(run_scope(*loop, cm1, inner_scope(cm2)) == "TimeoutError from CancelledError");
        CHECK(trace == std::vector<std::string>{"inner: CancelledError"});
        CHECK(cm1.expired());
        CHECK(cm2.expired());
    }

    TEST_CASE(
        "timeout: nested scopes: an inner expiry handled inside leaves the outer "
        "deadline working") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(nested_inner_first());
        CHECK(trace == std::vector<std::string>{"sleep: CancelledError at 1",
                                                "inner: TimeoutError from CancelledError at 1",
                                                "sleep: CancelledError at 2",
                                                "outer: TimeoutError from CancelledError at 2"});
    }

    TEST_CASE(
        "timeout: nested scopes whose deadlines both passed while the loop was busy: "
        "only the outermost throws TimeoutError") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(nested_busy(*loop));
        CHECK(trace == std::vector<std::string>{"inner: CancelledError",
                                                "outer: TimeoutError from CancelledError at 10"});
    }

    TEST_CASE(
        "timeout: a foreign cancel passes through as CancelledError; the scope is not "
        "expired") {
        auto loop = test::virtual_loop();
        aio::Timeout cm = aio::timeout_at(10);
        CHECK(run_scope(*loop, cm, cancel_myself_then_sleep()) == "CancelledError");
        CHECK_FALSE(cm.expired());
    }

    TEST_CASE(
        "timeout: after the task's cancellation was caught, a new scope converts its own "
        "expiry and lets a new cancel through") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(after_caught_cancel(false));
        loop->run_until_complete(after_caught_cancel(true));
        CHECK(trace == std::vector<std::string>{"caught CancelledError, cancelling()=1",
                                                "cleanup scope: TimeoutError from CancelledError",
                                                "caught CancelledError, cancelling()=1",
                                                "cleanup scope: CancelledError"});
    }

    TEST_CASE(
        "timeout: a scope in the cleanup after an expiry converts its own expiry, then "
        "the outer converts its own") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(timeout_in_finally());
        CHECK(trace == std::vector<std::string>{"cleanup: TimeoutError from CancelledError at 2",
                                                "outer: TimeoutError from CancelledError at 2"});
    }

    TEST_CASE(
        "timeout: another error raised while the block is being cancelled propagates "
        "unchanged; so does an error before the deadline") {
        auto loop = test::virtual_loop();
        aio::Timeout a = aio::timeout_at(1), b = aio::timeout_at(2);
        CHECK(run_scope(*loop, a, crash_in_cleanup()) == "error: cleanup failed");
        CHECK(a.expired());
        CHECK(run_scope(*loop, b, fail_before_deadline()) == "error: KeyError");
        CHECK_FALSE(b.expired());
    }

    TEST_CASE(
        "timeout: a block that swallows the CancelledError and returns gives its value; "
        "nothing is thrown and cancelling() is back to 0") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(swallow_and_return());
        CHECK(trace == std::vector<std::string>{"block caught CancelledError, cancelling()=1",
                                                "Cannot change state of expiring Timeout",
                                                "scope gave 7, cancelling()=0"});
    }

    TEST_CASE("timeout: reschedule moves or clears the deadline of an entered scope") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Timeout cm = aio::timeout_at(10);
        loop->run_until_complete(reschedule_from_outside(cm));
        CHECK(trace == std::vector<std::string>{
                           "<Timeout [active] when=10.0>", "<Timeout [active] when=30.0>",
                           "<Timeout [active] when=None>", "task: CancelledError"});
        CHECK_FALSE(cm.expired());
    }

    TEST_CASE(
        "timeout: reschedule refuses a scope not entered, expired or finished; a scope "
        "enters once, only inside a task") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Timeout cm = aio::timeout_at(1), expired = aio::timeout_at(1);
        CHECK(error_of([&] { cm.reschedule(2); }) == "Timeout has not been entered");
        CHECK(error_of([&] { cm.enter(); }) == "Timeout should be used inside a task");
        CHECK(run_scope(*loop, cm, enter_again(cm)) == "returned");
        CHECK(trace == std::vector<std::string>{"Timeout has already been entered"});
        CHECK(error_of([&] { cm.reschedule(2); }) == "Cannot change state of finished Timeout");
        CHECK(error_of([&] { cm.enter(); }) == "Timeout has already been entered");
        CHECK(run_scope(*loop, expired, nap(10)) == "TimeoutError from CancelledError");
        CHECK(error_of([&] { expired.reschedule(2); }) == "Cannot change state of expired Timeout");
    }

    TEST_CASE("timeout: a NaN deadline is refused; an infinite one schedules no timer") {
        auto loop = test::virtual_loop();
        CHECK(error_of([] { aio::timeout_at(std::nan("")); }) == "timeout: the deadline is NaN");
        aio::Timeout cm = aio::timeout_at(INFINITY);
        CHECK(run_scope(*loop, cm, nap(0)) == "returned");
        CHECK(loop->timer_count() == 0);
    }

    // ---- wait_for ----

    TEST_CASE("wait_for: no timeout is a plain await") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(aio::wait_for(done_at_once(), std::nullopt)) == "done");
    }

    TEST_CASE("wait_for: a result in time is returned and the deadline's timer is cancelled") {
        auto loop = test::virtual_loop();
        aio::Future<std::string> fut(*loop);
        loop->call_later(1, [fut]() mutable { fut.set_result("ok"); });
        CHECK(loop->run_until_complete(aio::wait_for(fut, 2)) == "ok");
        CHECK(loop->time() == 1);
        loop->run_until_complete(nap(5));  // past the old deadline: nothing fires
        CHECK(loop->timer_count() == 0);
    }

    TEST_CASE(
        "wait_for: on timeout cancels the inner task, waits for it, throws TimeoutError; "
        "timeout <= 0 does the same at once") {
        for (double timeout : {1.0, 0.0, -1.0}) {
            auto loop = test::virtual_loop();
            trace.clear();
            loop->run_until_complete(timeout_waits_for_inner(timeout));
            std::string t = timeout > 0 ? "1" : "0", end = timeout > 0 ? "1.5" : "0.5";
            CHECK(trace == std::vector<std::string>{
                               "inner: CancelledError at " + t, "inner: cleaned up at " + end,
                               "wait_for: TimeoutError from CancelledError at " + end +
                                   ", inner cancelled"});
        }
    }

    TEST_CASE("wait_for: timeout <= 0 returns a done future's result at once") {
        auto loop = test::virtual_loop();
        aio::Future<std::string> fut(*loop);
        fut.set_result("done");
        CHECK(loop->run_until_complete(aio::wait_for(fut, 0)) == "done");
        CHECK(loop->iterations() <= 2);
    }

    TEST_CASE(
        "wait_for: timeout <= 0 never starts a coroutine, and does not warn about it; "
        "a NaN timeout is refused the same way") {
        auto loop = test::virtual_loop();
        test::LogCapture logs;
        started = false;
        CHECK(loop->run_until_complete(outcome(aio::wait_for(mark_started(), 0))) ==
              "TimeoutError");
        CHECK(loop->run_until_complete(outcome(aio::wait_for(mark_started(), std::nan("")))) ==
              "error: wait_for: the timeout is NaN");
        CHECK_FALSE(started);
        CHECK(logs.lines.empty());
    }

    TEST_CASE(
        "wait_for: an inner coroutine that swallows the cancellation and returns gives "
        "that value; an error raised while cancelling propagates") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(outcome(aio::wait_for(swallow_cancel(), 0.5))) ==
              "returned 1");
        CHECK(trace == std::vector<std::string>{"inner: swallowed CancelledError"});
        aio::Task<void> t = aio::create_task(*loop, crash_in_cleanup());
        CHECK(loop->run_until_complete(outcome(aio::wait_for(t, 0.5))) == "error: cleanup failed");
    }

    TEST_CASE("wait_for: cancelling the caller cancels the inner task and waits for it") {
        for (std::optional<double> timeout : {std::optional<double>(), std::optional(60.0)}) {
            auto loop = test::virtual_loop();
            aio::Task<void> inner = aio::create_task(*loop, wait_on(aio::Future<void>(*loop)));
            aio::Task<void> w = aio::create_task(*loop, aio::wait_for(inner, timeout));
            loop->call_soon([w]() mutable { w.cancel(); });
            CHECK(loop->run_until_complete(outcome(await_task(w))) == "CancelledError");
            CHECK(inner.cancelled());
        }
        auto loop = test::virtual_loop();  // an inner coroutine that ignores cancels
        exited = false;
        aio::Task<void> w = aio::create_task(*loop, aio::wait_for(slow_task(0.2), 0.4));
        loop->run_once();
        w.cancel();
        loop->run_until_complete(outcome(await_task(w)));
        CHECK(exited);
        CHECK(loop->time() == doctest::Approx(0.2));
    }

    TEST_CASE(
        "wait_for: stays cancellable before it starts even if the inner task ignores "
        "cancellation; the inner runs on") {
        auto loop = test::virtual_loop();
        aio::Task<int> inner = aio::create_task(*loop, stubborn());
        aio::Task<int> w = aio::create_task(*loop, aio::wait_for(inner, 0.1));
        w.cancel();
        CHECK(loop->run_until_complete(outcome(await_task(w))) == "CancelledError");
        CHECK(loop->run_until_complete(inner) == 42);
        CHECK(loop->time() == doctest::Approx(0.3));
    }

    TEST_CASE(
        "wait_for: cancel during wait_for's cleanup: the caller gets CancelledError, "
        "not TimeoutError") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_during_cleanup(cancel_with_cleanup(1)));
        CHECK(trace == std::vector<std::string>{"inner: CancelledError at 1",
                                                "caller: CancelledError at 1.5, cancelling()=1"});
    }

    TEST_CASE(
        "wait_for: cancel during the cleanup of an inner task that swallows every cancel: "
        "its value comes back, and cancelling() still counts the request") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_during_cleanup(swallow_everything()));
        CHECK(trace == std::vector<std::string>{"inner: CancelledError at 1",
                                                "inner: cleanup CancelledError at 1.5",
                                                "caller: returned 'value' at 1.5, cancelling()=1"});
    }

    TEST_CASE(
        "wait_for: a timeout that fires as the inner result arrives (same iteration): "
        "the deadline wins; a result set first stays in the future") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(deadline_meets_result(true));
        loop->run_until_complete(deadline_meets_result(false));
        CHECK(trace ==
              std::vector<std::string>{"TimeoutError from CancelledError at 1, future kept 'late'",
                                       "TimeoutError from CancelledError at 2, future cancelled"});
    }

    TEST_CASE("wait_for: a cancel that lands with the inner result is not lost (gh-86296)") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_meets_result());
        CHECK(trace == std::vector<std::string>{"caller: CancelledError at 1"});
        reached_end = false;
        aio::Task<void> t = aio::create_task(*loop, wait_for_then_sleep());
        loop->run_once();
        t.cancel();
        CHECK(loop->run_until_complete(outcome(await_task(t))) == "CancelledError");
        CHECK_FALSE(reached_end);
    }

    TEST_CASE(
        "tutorial 004: wait_for(slow_operation(), 3.0), with_timeout's default, "
        "timeout(3.0)") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(tutorial());
        CHECK(trace ==
              std::vector<std::string>{"operation timed out at 3", "default after timeout",
                                       "timeout(3.0): TimeoutError from CancelledError at 7"});
    }
}
