// test_gather.cpp - gather and shield exactly as asyncio 3.11
// (asyncio: test_tasks.py::GatherTestsBase, FutureGatherTests, CoroutineGatherTests,
// test_cancel_gather_2, test_shield_*, test_gather_shield; parity rows 057-063, 081-082).
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace {

std::vector<std::string> trace;

std::string now() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", aio::get_running_loop().time());
    return buf;
}

// asyncio's test_utils.run_briefly: one iteration, with something to do in it.
void run_briefly(aio::EventLoop& loop) {
    loop.call_soon([] {});
    loop.run_once();
}

std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const aio::CancelledError& c) {
        return std::string("CancelledError('") + c.what() + "')";
    } catch (const std::exception& x) {
        return x.what();
    }
}

aio::Coro<void> await_gather_of(aio::Future<int> a, aio::Future<int> b) {
    co_await aio::gather(a, b);
}

// The differential test's case pending_cancel_vs_awaited_cancel: a task cancels
// itself, so the gather awaiting it fails with CancelledError('a'); the awaiting task
// is cancelled with 'b' before it resumes.
aio::Coro<void> cancel_myself_with_a() {
    aio::current_task()->cancel("a");
    co_await aio::sleep(0);
}

aio::Coro<void> cancel_later(aio::TaskBase* target) {
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    target->cancel("b");
}

aio::Coro<void> gather_a_self_cancelling_task() {
    aio::Task<void> helper = aio::create_task(cancel_later(aio::current_task()));
    try {
        co_await aio::gather(aio::create_task(cancel_myself_with_a()));
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("caught CancelledError('") + e.what() + "')");
    }
    co_await helper;
}

aio::Coro<int> value_after(int v, double delay, std::string label) {
    co_await aio::sleep(delay);
    trace.push_back(label + " done at " + now());
    co_return v;
}

aio::Coro<std::string> text_after(std::string text, double delay) {
    co_await aio::sleep(delay);
    trace.push_back(text + " done at " + now());
    co_return text;
}

aio::Coro<void> nothing_after(double delay) {
    co_await aio::sleep(delay);
    trace.push_back("void done at " + now());
}

aio::Coro<int> fail_after(double delay, std::string what) {
    co_await aio::sleep(delay);
    trace.push_back(what + " raised at " + now());
    throw std::runtime_error(what);
}

aio::Coro<void> sleeper(std::string name, double delay) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError& e) {
        trace.push_back(name + " cancelled: '" + e.what() + "'");
        throw;
    }
    trace.push_back(name + " woke up");
}

aio::Coro<char> first_step(char name) {
    trace.push_back(std::string("step ") + name);
    co_await aio::sleep(0);
    co_return name;
}

aio::Coro<std::string> started_in_argument_order() {
    auto [a, b, c] = co_await aio::gather(first_step('a'), first_step('b'), first_step('c'));
    co_return std::string{a, b, c};
}

aio::Coro<void> mixed_kinds() {
    aio::Task<std::string> task = aio::create_task(text_after("task", 1));
    aio::Future<double> fut;
    aio::get_running_loop().call_later(2, [fut]() mutable { fut.set_result(2.5); });
    auto g = aio::gather(value_after(1, 3, "coro"), task, fut, nothing_after(0.5));
    static_assert(
        std::is_same_v<decltype(g),
                       aio::Gathering<std::tuple<int, std::string, double, std::monostate>>>);
    auto [n, text, x, nothing] = co_await std::move(g);
    trace.push_back("got " + std::to_string(n) + ", " + text + ", " + std::to_string(x) + " at " +
                    now());
    (void)nothing;
}

aio::Coro<std::vector<int>> gather_vector_of_coros() {
    std::vector<aio::Coro<int>> coros;
    for (int i = 0; i < 4; ++i)
        coros.push_back(value_after(i, 4 - i, "child " + std::to_string(i)));
    co_return co_await aio::gather(std::move(coros));
}

aio::Coro<void> one_second() { co_await aio::sleep(1); }

aio::Coro<std::size_t> twenty_sleepers() {
    std::vector<aio::Coro<void>> coros;
    for (int i = 0; i < 20; ++i) coros.push_back(one_second());
    std::vector<std::monostate> results = co_await aio::gather(std::move(coros));
    co_return results.size();
}

aio::Coro<void> first_failure_wins() {
    try {
        co_await aio::gather(value_after(1, 3, "slow"), fail_after(1, "first"),
                             fail_after(2, "second"));
    } catch (const std::runtime_error& e) {
        trace.push_back(std::string("caught '") + e.what() + "' at " + now());
    }
    co_await aio::sleep(5);  // the others were not cancelled: they finish
}

aio::Coro<void> concurrent_requests() {
    aio::Task<int> slow = aio::create_task(value_after(3, 10, "slow"));
    aio::get_running_loop().call_later(1, [slow]() mutable { slow.cancel("too slow"); });
    auto [ok, failed, cancelled] = co_await aio::gather(
        aio::return_exceptions, value_after(1, 0.5, "fast"), fail_after(0.7, "404"), slow);
    trace.push_back("ok: " + std::to_string(ok.value()));
    trace.push_back("failed: " + what_of(failed.exception()));
    trace.push_back("cancelled: " + what_of(cancelled.exception()));
    CHECK_THROWS_AS(cancelled.value(), aio::CancelledError);
    CHECK_FALSE(failed.ok());
}

aio::Coro<void> outcomes_of_a_vector() {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(value_after(1, 1, "one"));
    coros.push_back(fail_after(2, "two"));
    std::vector<aio::Outcome<int>> outs =
        co_await aio::gather(aio::return_exceptions, std::move(coros));
    trace.push_back("slot 0 ok=" + std::to_string(outs[0].ok()) + " value " +
                    std::to_string(outs[0].value()));
    trace.push_back("slot 1: " + what_of(outs[1].exception()));
}

aio::Coro<void> await_gather_of_sleepers(bool return_exceptions) {
    if (return_exceptions)
        co_await aio::gather(aio::return_exceptions, sleeper("a", 10), sleeper("b", 10));
    else
        co_await aio::gather(sleeper("a", 10), sleeper("b", 10));
    trace.push_back("not reached");
}

aio::Coro<void> cancel_the_awaiting_task(bool return_exceptions) {
    aio::Task<void> t = aio::create_task(await_gather_of_sleepers(return_exceptions));
    co_await aio::sleep(1);
    t.cancel("my message");
    try {
        co_await t;
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("caller got CancelledError('") + e.what() + "') at " + now());
    }
    CHECK(t.cancelled());
}

aio::Coro<std::unique_ptr<int>> boxed(int v) {
    co_await aio::sleep(0);
    co_return std::make_unique<int>(v);
}

aio::Coro<int> move_only_results() {
    auto [a, b] = co_await aio::gather(boxed(20), boxed(22));
    co_return *a + *b;
}

aio::Coro<void> inner_work(aio::Future<void> waiter) {
    co_await waiter;
    trace.push_back("inner finished");
}

aio::Coro<void> outer_work(aio::Future<void> waiter) {
    co_await aio::shield(inner_work(waiter));
    trace.push_back("outer not reached");
}

aio::Coro<void> shield_effect() {
    aio::Future<void> waiter;
    aio::Task<void> t = aio::create_task(outer_work(waiter));
    co_await aio::sleep(0);
    t.cancel("stop");
    try {
        co_await t;
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("outer task cancelled: '") + e.what() + "'");
    }
    waiter.set_result();
    co_await aio::sleep(0);
    co_await aio::sleep(0);
}

aio::Coro<int> nested_and_shared() {
    auto inner = aio::gather(value_after(1, 1, "x"), value_after(2, 2, "y"));
    auto [pair, z] = co_await aio::gather(inner, value_after(3, 1.5, "z"));
    const std::array<int, 2>& same = co_await inner;  // an lvalue: a reference to it
    co_return std::get<0>(pair) + std::get<1>(pair) + z + std::get<1>(same);
}

aio::Coro<int> shield_of_done() {
    aio::Future<int> done_already;
    done_already.set_result(7);
    aio::Future<int> outer = aio::shield(done_already);
    CHECK(outer.done());
    co_return co_await outer;
}

aio::Coro<void> gather_with_no_arguments() {
    auto g = aio::gather();
    CHECK(g.done());
    std::tuple<> nothing = co_await g;
    (void)nothing;
    auto v = aio::gather(std::vector<aio::Task<int>>{});
    CHECK(v.done());
    std::vector<int> empty = co_await std::move(v);
    CHECK(empty.empty());
    trace.push_back("empty gathers done at " + now());
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("gather: results come in argument order, whatever the order of completion") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(mixed_kinds());
        CHECK(trace == std::vector<std::string>{"void done at 0.50", "task done at 1.00",
                                                "coro done at 3.00",
                                                "got 1, task, 2.500000 at 3.00"});
    }

    TEST_CASE("gather: the children's tasks are created, and so start, in argument order") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(started_in_argument_order()) == "abc");
        CHECK(trace == std::vector<std::string>{"step a", "step b", "step c"});
    }

    TEST_CASE("gather: a vector of coroutines gives a vector of results in argument order") {
        auto loop = test::virtual_loop();
        trace.clear();
        std::vector<int> results = loop->run_until_complete(gather_vector_of_coros());
        CHECK(results == std::vector<int>{0, 1, 2, 3});
        CHECK(trace == std::vector<std::string>{"child 3 done at 1.00", "child 2 done at 2.00",
                                                "child 1 done at 3.00", "child 0 done at 4.00"});
    }

    TEST_CASE("gather: 20 coroutines that each sleep 1 s finish in 1.00 s (tutorial 003)") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(twenty_sleepers()) == 20);
        CHECK(loop->time() == 1.0);
    }

    TEST_CASE("gather: a child's failure is raised at once while the others keep running") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        trace.clear();
        loop->run_until_complete(first_failure_wins());
        CHECK(trace == std::vector<std::string>{"first raised at 1.00", "caught 'first' at 1.00",
                                                "second raised at 2.00", "slow done at 3.00"});
        CHECK_FALSE(log.contains("never retrieved"));  // the second failure was marked read
    }

    TEST_CASE("gather: a cancelled child fails the gather with CancelledError; not cancelled()") {
        auto loop = test::virtual_loop();
        aio::Future<int> a(*loop), b(*loop);
        auto g = aio::gather(a, b);
        a.cancel("child message");
        run_briefly(*loop);
        REQUIRE(g.done());
        CHECK_FALSE(g.cancelled());
        CHECK(what_of(g.exception()) == "CancelledError('child message')");
        CHECK_FALSE(b.done());  // the other child is left alone
        b.set_result(1);
    }

    TEST_CASE(
        "gather(return_exceptions): a value or the exception per slot, CancelledError for a "
        "cancelled child (tutorial 002)") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(concurrent_requests());
        CHECK(trace == std::vector<std::string>{"fast done at 0.50", "404 raised at 0.70", "ok: 1",
                                                "failed: 404",
                                                "cancelled: CancelledError('too slow')"});
        trace.clear();
        loop->run_until_complete(outcomes_of_a_vector());
        CHECK(trace == std::vector<std::string>{"one done at 2.00", "two raised at 3.00",
                                                "slot 0 ok=1 value 1", "slot 1: two"});
    }

    TEST_CASE(
        "gather: cancelling the gather cancels the children; the message reaches the caller") {
        for (bool return_exceptions : {false, true}) {
            CAPTURE(return_exceptions);
            auto loop = test::virtual_loop();
            trace.clear();
            loop->run_until_complete(cancel_the_awaiting_task(return_exceptions));
            CHECK(trace ==
                  std::vector<std::string>{"a cancelled: 'my message'", "b cancelled: 'my message'",
                                           "caller got CancelledError('my message') at 1.00"});
        }
    }

    TEST_CASE(
        "gather: cancel() on the gathering cancels the children; it ends with CancelledError") {
        auto loop = test::virtual_loop();
        aio::Future<int> a(*loop), b(*loop);
        auto g = aio::gather(aio::return_exceptions, a, b);
        CHECK(g.cancel("enough"));
        CHECK(a.cancelled());
        CHECK(b.cancelled());
        run_briefly(*loop);
        REQUIRE(g.done());
        CHECK_FALSE(g.cancelled());
        CHECK(what_of(g.exception()) == "CancelledError('enough')");
        CHECK_FALSE(g.cancel());  // done: nothing more to cancel
    }

    TEST_CASE("gather: cancel() after the gather failed does not cancel the other children") {
        auto loop = test::virtual_loop();
        aio::Future<int> a(*loop), b(*loop);
        auto g = aio::gather(a, b);
        a.set_exception(std::runtime_error("boom"));
        run_briefly(*loop);
        REQUIRE(g.done());
        CHECK(what_of(g.exception()) == "boom");
        CHECK_FALSE(g.cancel());
        CHECK_FALSE(b.done());
        b.set_result(2);
        run_briefly(*loop);
    }

    TEST_CASE("gather: a task cancelled after its gather failed reads the failure: no log") {
        // Regression: the pending cancel was thrown without reading the gathering's
        // outcome, which then logged "exception was never retrieved". asyncio's __wakeup
        // always calls future.result() first.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<int> a(*loop), b(*loop);
        {
            aio::Task<void> t = aio::create_task(*loop, await_gather_of(a, b));
            run_briefly(*loop);  // t waits on the gathering
            a.set_exception(std::runtime_error("boom"));
            loop->run_once();  // the gathering fails; t's wake-up is queued
            CHECK(t.cancel());
            run_briefly(*loop);
            CHECK(t.cancelled());
            b.set_result(1);
            run_briefly(*loop);
        }
        CHECK(log.lines.empty());
    }

    TEST_CASE("gather: a pending cancel does not replace a CancelledError the gather failed with") {
        // asyncio's __step: `if not isinstance(exc, CancelledError): exc = ...`; a
        // CancelledError from the awaited future is kept (prints CancelledError('a')).
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(gather_a_self_cancelling_task());
        CHECK(trace == std::vector<std::string>{"caught CancelledError('a')"});
    }

    TEST_CASE("gather: the same task twice is watched twice and repeated in the results") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, value_after(5, 1, "t"));
        aio::Task<int> u = aio::create_task(*loop, value_after(6, 2, "u"));
        auto g = aio::gather(t, t);
        auto v = aio::gather(std::vector<aio::Task<int>>{t, u, t});
        loop->run_until_complete(u);
        run_briefly(*loop);
        REQUIRE(g.done());
        REQUIRE(v.done());
        CHECK(g.result() == std::array<int, 2>{5, 5});
        CHECK(v.result() == std::vector<int>{5, 6, 5});
    }

    TEST_CASE("gather: no arguments, or an empty vector, is already done with empty results") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(gather_with_no_arguments());
        CHECK(trace == std::vector<std::string>{"empty gathers done at 0.00"});
    }

    TEST_CASE("gather: futures of different loops are refused with aio::ValueError") {
        auto loop1 = test::virtual_loop();
        auto loop2 = test::virtual_loop();
        aio::Future<int> a(*loop1), b(*loop2);
        CHECK_THROWS_WITH_AS((void)aio::gather(a, b),
                             "The future belongs to a different loop than the one specified as "
                             "the loop argument",
                             aio::ValueError);
        CHECK_THROWS_AS((void)aio::gather(std::vector<aio::Future<int>>{a, b}), aio::ValueError);
    }

    TEST_CASE("gather: a gathering is a Future: it can be gathered, and awaited again") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(loop->run_until_complete(nested_and_shared()) == 8);
        CHECK(trace ==
              std::vector<std::string>{"x done at 1.00", "z done at 1.50", "y done at 2.00"});
    }

    TEST_CASE("gather: move-only results are moved out of an awaited gather") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(move_only_results()) == 42);
    }

    TEST_CASE("gather: a loop closed while children are pending releases the gathering") {
        std::size_t blocks = aio::detail::pool_blocks_in_use();
        {
            test::LogCapture log;
            auto loop = test::virtual_loop();
            aio::Future<int> never(*loop);
            auto g = aio::gather(never, value_after(1, 100, "sleeper"));
            run_briefly(*loop);
            loop->close();
            // The child is gather's own: destroyed silently, as asyncio's
            // (_log_destroy_pending = False; test_destroy_pending.cpp).
            CHECK_FALSE(log.contains("Task was destroyed but it is pending!"));
        }
        CHECK(aio::detail::pool_blocks_in_use() == blocks);
    }

    TEST_CASE("gather: cancel() after close() raises 'Event loop is closed', touching nothing") {
        // Regression: the pending child's _fut_waiter pointed into its destroyed frame.
        test::LogCapture log;
        auto loop = test::virtual_loop();
        aio::Task<int> child = aio::create_task(*loop, value_after(1, 100, "sleeper"));
        auto g = aio::gather(child);
        run_briefly(*loop);
        loop->close();
        CHECK_THROWS_WITH_AS(g.cancel(), "Event loop is closed", aio::RuntimeError);
        CHECK_FALSE(child.done());
    }

    TEST_CASE(
        "shield: cancelling the awaiting task leaves the inner running; it gets CancelledError") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(shield_effect());
        CHECK(trace == std::vector<std::string>{"outer task cancelled: 'stop'", "inner finished"});
    }

    TEST_CASE("shield: a cancelled outer lets go of the inner, which keeps running") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        {
            aio::Future<int> inner(*loop);
            aio::Future<int> outer = aio::shield(inner);
            run_briefly(*loop);
            CHECK(outer.cancel());
            run_briefly(*loop);
            CHECK(outer.cancelled());
            CHECK_FALSE(inner.done());
            // Detached: nobody reads the inner's exception, so it is reported unread.
            inner.set_exception(std::runtime_error("late"));
            run_briefly(*loop);
        }
        CHECK(log.contains("Future exception was never retrieved"));
    }

    TEST_CASE("shield(gather(...)) protects the children; gather(shield, shield) cancels shields") {
        auto loop = test::virtual_loop();
        {
            aio::Future<int> c1(*loop), c2(*loop);
            auto parent = aio::gather(c1, c2);
            aio::Future<std::array<int, 2>> outer = aio::shield(parent);
            run_briefly(*loop);
            CHECK(outer.cancel());
            run_briefly(*loop);
            CHECK(outer.cancelled());
            c1.set_result(1);
            c2.set_result(2);
            run_briefly(*loop);
            run_briefly(*loop);
            CHECK(parent.result() == std::array<int, 2>{1, 2});
        }
        {
            aio::Future<int> c1(*loop), c2(*loop);
            aio::Future<int> in1 = aio::shield(c1), in2 = aio::shield(c2);
            auto parent = aio::gather(in1, in2);
            run_briefly(*loop);
            CHECK(parent.cancel());
            run_briefly(*loop);
            REQUIRE(parent.done());
            CHECK(what_of(parent.exception()) == "CancelledError('')");
            CHECK(in1.cancelled());
            CHECK(in2.cancelled());
            CHECK_FALSE(c1.done());
            CHECK_FALSE(c2.done());
            c1.set_result(1);
            c2.set_result(2);
            run_briefly(*loop);
        }
    }

    TEST_CASE("shield: an inner already done gives its result at once") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(shield_of_done()) == 7);
    }
}
