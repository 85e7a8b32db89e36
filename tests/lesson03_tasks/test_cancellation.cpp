// test_cancellation.cpp - Task.cancel exactly as asyncio
// (asyncio: test_tasks.py::test_cancel*, test_cancelling, test_uncancel*,
// test_yield_future_passes_cancel, test_cancel_at_end, test_cancel_task_catching/ignoring).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace {

std::vector<std::string> trace;

aio::Coro<void> sleeper(double seconds) {
    trace.push_back("sleeping");
    try {
        co_await aio::sleep(seconds);
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("cancelled at the await: '") + e.what() + "'");
        throw;
    }
    trace.push_back("woke up");
}

aio::Coro<int> swallower() {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        trace.push_back("swallowed");
    }
    co_await aio::sleep(1);  // and goes on
    co_return 7;
}

aio::Coro<void> cleanup_then_rethrow() {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        trace.push_back("caught");
        throw;
    }
}

aio::Coro<void> cancel_myself_then_return() {
    aio::current_task()->cancel("self");
    trace.push_back("returning anyway");
    co_return;
}

aio::Coro<void> cancel_myself_then_await(aio::Future<int> f) {
    aio::current_task()->cancel();
    trace.push_back("about to await");
    co_await f;  // f is cancelled at once: the request is delivered here
    trace.push_back("not reached");
}

aio::Coro<void> yield_then_continue() {
    trace.push_back("before yield");
    co_await aio::sleep(0);
    trace.push_back("after yield");
}

aio::Coro<void> inner_level(int level) {
    try {
        if (level == 0)
            co_await aio::sleep(100);
        else
            co_await inner_level(level - 1);
    } catch (const aio::CancelledError&) {
        trace.push_back("level " + std::to_string(level) + " saw CancelledError");
        throw;
    }
}

aio::Coro<void> await_other(aio::Task<void> other) {
    try {
        co_await other;
    } catch (const aio::CancelledError& e) {
        trace.push_back(std::string("outer got '") + e.what() + "'");
        throw;
    }
}

aio::Coro<void> raise_instead() {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        throw std::runtime_error("cleanup failed");
    }
}

aio::Coro<void> count_requests() {
    aio::TaskBase* me = aio::current_task();
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        trace.push_back("cancelling=" + std::to_string(me->cancelling()));
        trace.push_back("uncancel->" + std::to_string(me->uncancel()));
        trace.push_back("uncancel->" + std::to_string(me->uncancel()));
    }
    co_await aio::sleep(1);  // goes on with no request left
    trace.push_back("finished normally");
}

// Cancels a task when destroyed: an RAII guard in another task's frame.
struct CancelOnExit {
    aio::Task<void> target;
    ~CancelOnExit() { target.cancel(); }
};

aio::Coro<void> cancel_when_destroyed(aio::Task<void> target) {
    CancelOnExit guard{std::move(target)};
    co_await aio::sleep(10);
}

template <class T>
void run_until_done(aio::EventLoop& loop, aio::Task<T>& t) {
    while (!t.done()) loop.run_once();
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("cancel() throws CancelledError at the co_await where the task waits") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, sleeper(10));
        loop->call_later(1, [&] { CHECK(t.cancel("enough")); });
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"sleeping", "cancelled at the await: 'enough'"});
        CHECK_THROWS_WITH_AS(t.result(), "enough", aio::CancelledError);
        CHECK(loop->time() == 1.0);
        // The sleep's timer was cancelled with it: past its deadline nothing fires into
        // the dead frame (AddressSanitizer would see it).
        loop->call_later(20, [&] { loop->stop(); });
        loop->run_forever();
        CHECK(loop->time() == 21.0);
    }

    TEST_CASE("cancel before the first step: the coroutine never runs") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, sleeper(10));
        CHECK(t.cancel("too early"));
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(trace.empty());
        CHECK_THROWS_WITH_AS(t.result(), "too early", aio::CancelledError);
    }

    TEST_CASE("cancel() on a done task returns false and changes nothing") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, yield_then_continue());
        run_until_done(*loop, t);
        CHECK_FALSE(t.cancel());
        CHECK_FALSE(t.cancelled());
        CHECK(t.cancelling() == 0);
    }

    TEST_CASE("two cancels before the task wakes: both count, the first message arrives") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, sleeper(10));
        loop->run_once();
        CHECK(t.cancel("m1"));
        CHECK(t.cancel("m2"));
        CHECK(t.cancelling() == 2);
        run_until_done(*loop, t);
        CHECK(trace.back() == "cancelled at the await: 'm1'");
    }

    TEST_CASE("a task may catch CancelledError, clean up and re-throw: it ends cancelled") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, cleanup_then_rethrow());
        loop->run_once();
        t.cancel();
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"caught"});
    }

    TEST_CASE("a task may swallow CancelledError and finish normally: not cancelled") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<int> t = aio::create_task(*loop, swallower());
        loop->run_once();
        t.cancel();
        run_until_done(*loop, t);
        CHECK_FALSE(t.cancelled());
        CHECK(t.result() == 7);
        CHECK(trace == std::vector<std::string>{"swallowed"});
    }

    TEST_CASE("a task cancelled right before it returns still ends cancelled") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, cancel_myself_then_return());
        run_until_done(*loop, t);
        CHECK(trace == std::vector<std::string>{"returning anyway"});
        CHECK(t.cancelled());
        CHECK_THROWS_WITH_AS(t.result(), "self", aio::CancelledError);
    }

    TEST_CASE("a task that cancelled itself has the next future it awaits cancelled at once") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Future<int> f(*loop);
        aio::Task<void> t = aio::create_task(*loop, cancel_myself_then_await(f));
        run_until_done(*loop, t);
        CHECK(f.cancelled());
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"about to await"});
    }

    TEST_CASE("a cancel during sleep(0) arrives at the sleep(0)") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, yield_then_continue());
        loop->run_once();  // now yielded, waiting on nothing
        CHECK(t.cancel());
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"before yield"});
    }

    TEST_CASE("cancellation travels down a chain of awaits; every frame sees it") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, inner_level(2));
        loop->run_once();
        t.cancel();
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"level 0 saw CancelledError",
                                                "level 1 saw CancelledError",
                                                "level 2 saw CancelledError"});
    }

    TEST_CASE("cancelling a task that awaits another task cancels the inner one") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> inner = aio::create_task(*loop, sleeper(10));
        aio::Task<void> outer = aio::create_task(*loop, await_other(inner));
        loop->run_once();
        loop->run_once();
        CHECK(outer.cancel("from outside"));
        run_until_done(*loop, outer);
        CHECK(inner.cancelled());
        CHECK(outer.cancelled());
        CHECK(trace == std::vector<std::string>{"sleeping",
                                                "cancelled at the await: 'from outside'",
                                                "outer got 'from outside'"});
    }

    TEST_CASE("a task raising another exception while cancelled fails with it") {
        auto loop = test::virtual_loop();
        aio::Task<void> t = aio::create_task(*loop, raise_instead());
        loop->run_once();
        t.cancel();
        run_until_done(*loop, t);
        CHECK_FALSE(t.cancelled());
        CHECK_THROWS_WITH_AS(t.result(), "cleanup failed", std::runtime_error);
    }

    TEST_CASE("cancelling() counts requests; uncancel() withdraws them") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, count_requests());
        loop->run_once();
        t.cancel();
        run_until_done(*loop, t);
        CHECK(trace == std::vector<std::string>{"cancelling=1", "uncancel->0", "uncancel->0",
                                                "finished normally"});
        CHECK_FALSE(t.cancelled());
    }

    TEST_CASE("withdrawing the last request before it is delivered cancels nothing") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, yield_then_continue());
        loop->run_once();
        t.cancel();
        CHECK(t.uncancel() == 0);
        run_until_done(*loop, t);
        CHECK_FALSE(t.cancelled());
        CHECK(trace == std::vector<std::string>{"before yield", "after yield"});
    }

    TEST_CASE("close(): a guard cancelling a task whose frame close() destroyed touches nothing") {
        // Regression: the task's _fut_waiter still pointed into its destroyed frame, so
        // the cancel wrote into freed memory (ASan: use-after-poison in TaskBase::cancel).
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Task<void> sleeping = aio::create_task(*loop, sleeper(10));
        aio::Task<void> guarding = aio::create_task(*loop, cancel_when_destroyed(sleeping));
        loop->run_once();
        CHECK(sleeping.get()->waiting_for() != nullptr);
        loop->close();  // destroys the sleeper's frame first, then the guard's
        CHECK(sleeping.get()->waiting_for() == nullptr);
        CHECK_FALSE(sleeping.done());
        CHECK(log.lines.size() == 2);  // the two "destroyed but it is pending!"
    }

    TEST_CASE("close(): cancel() on a task left pending by close() raises 'Event loop is closed'") {
        // asyncio: the cancel reaches the loop (call_soon), which refuses it.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Task<void> t = aio::create_task(*loop, sleeper(10));
        loop->run_once();
        loop->close();
        CHECK_THROWS_WITH_AS(t.cancel(), "Event loop is closed", aio::RuntimeError);
        CHECK_FALSE(t.done());
    }

    // A sleep parks the task's own step in the timer heap (sleep.hpp); these follow a
    // cancel through each place a sleeping task can be. Traces checked against
    // CPython 3.11's asyncio.sleep.
    TEST_CASE("cancel while the sleep is parked: the step leaves the heap, the next step throws") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, sleeper(10));
        loop->run_once();
        CHECK(t.get()->step_handle().parked());
        CHECK(t.cancel("stop"));
        CHECK_FALSE(t.get()->step_handle().parked());
        CHECK(t.get()->waiting_for() != nullptr);  // the sleep, until the step runs
        loop->run_once();
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"sleeping", "cancelled at the await: 'stop'"});
        CHECK(loop->time() == 0.0);
    }

    TEST_CASE("cancel after the sleep's timer fired, before the step ran: thrown at the await") {
        // asyncio: the sleep's future is done, so _fut_waiter.cancel() fails and
        // _must_cancel throws CancelledError('late') in at the next step.
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t = aio::create_task(*loop, sleeper(1));
        loop->run_once();
        loop->call_later(1, [&] { trace.push_back(t.cancel("late") ? "cancel -> true" : "?"); });
        run_until_done(*loop, t);
        CHECK(t.cancelled());
        CHECK(t.cancelling() == 1);
        CHECK(trace == std::vector<std::string>{"sleeping", "cancel -> true",
                                                "cancelled at the await: 'late'"});
    }

    TEST_CASE("cancel due in the same iteration as the sleep, before its timer's hop: as asyncio") {
        // asyncio: the cancel runs first and cancels the sleep's still pending future,
        // which queues the task's wakeup after the callback queued just before; the
        // sleep's timer callback then finds the future cancelled and does nothing.
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<void> t;
        loop->call_later(1, [&] {
            loop->call_soon([] { trace.push_back("queued before the cancel"); });
            trace.push_back(t.cancel("early") ? "cancel -> true" : "?");
        });
        t = aio::create_task(*loop, sleeper(1));
        aio::Task<void> u = aio::create_task(*loop, sleeper(1));
        run_until_done(*loop, u);
        CHECK(t.cancelled());
        CHECK(trace == std::vector<std::string>{"sleeping", "sleeping", "cancel -> true",
                                                "queued before the cancel",
                                                "cancelled at the await: 'early'", "woke up"});
        CHECK(loop->time() == 1.0);
    }

    TEST_CASE("a task that catches the cancelled sleep may sleep again: only the new deadline") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<int> t = aio::create_task(*loop, swallower());
        loop->run_once();
        loop->call_later(2, [&] { t.cancel(); });
        run_until_done(*loop, t);
        CHECK(t.result() == 7);
        CHECK(trace == std::vector<std::string>{"swallowed"});
        CHECK(loop->time() == 3.0);  // cancelled at 2, then sleep(1); nothing at 10
        loop->call_later(20, [&] { loop->stop(); });
        loop->run_forever();  // past the first sleep's deadline: its dead entry is dropped
        CHECK(loop->timer_count() == 0);
    }
}
