// test_concurrent_futures.cpp - ConcurrentFuture (asyncio: concurrent.futures.Future) and
// what run_coroutine_threadsafe does with it: the two directions of futures._chain_future,
// a task factory that throws, a loop closed under a pending task. Built in the
// ThreadSanitizer build too: threads meet on gates, never on the clock, except the
// result(timeout) cases that must time out. (asyncio: test_tasks.py::
// RunCoroutineThreadsafeTests, test_concurrent_futures' test_future.py.)
#include <doctest/doctest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/concurrent_futures.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

using test::Gate;
using test::LoopThread;

aio::Coro<int> answer() { co_return 42; }

// Waits on a future nobody completes (the virtual clock has nothing to jump to), and
// opens `cancelled` when the CancelledError arrives.
aio::Coro<int> wait_until_cancelled(Gate* started, Gate* cancelled) {
    started->open();
    try {
        co_await aio::Future<int>();
    } catch (const aio::CancelledError&) {
        cancelled->open();
        throw;
    }
    co_return 0;
}

// A coroutine sent from this thread to a loop thread, waiting there until cancelled.
struct SentWaiter {
    LoopThread lt;
    Gate started;
    Gate cancelled;
    aio::ConcurrentFuture<int> fut;
    SentWaiter()
        : fut(aio::run_coroutine_threadsafe(wait_until_cancelled(&started, &cancelled),
                                            lt.loop())) {
        started.wait();
    }
};

aio::Coro<void> cancel_myself() {
    aio::current_task()->cancel();
    co_await aio::sleep(0);
}

aio::Coro<void> slow(std::vector<std::string>* trace) {
    trace->push_back("started");
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        trace->push_back("cancelled at await");
        throw;
    }
}

aio::Coro<void> pause(double seconds) { co_await aio::sleep(seconds); }

// Turns the loop until everything sent to it so far has run (on the virtual clock).
void turn(aio::EventLoop& loop) { loop.run_until_complete(pause(1)); }

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE(
        "ConcurrentFuture: result(timeout) times out with TimeoutError, then gives the result") {
        aio::ConcurrentFuture<int> fut;
        CHECK_FALSE(fut.done());
        CHECK_THROWS_AS(fut.result(0.01), aio::TimeoutError);
        CHECK_THROWS_AS(fut.exception(0), aio::TimeoutError);
        Gate asked;
        bool may_run = false;
        std::thread worker([&] {
            asked.wait();
            may_run = fut.set_running_or_notify_cancel();
            fut.set_result(7);
        });
        asked.open();
        CHECK(fut.result() == 7);  // no timeout: waits for the worker
        worker.join();
        CHECK(may_run);
        CHECK(fut.done());
        CHECK(fut.exception() == nullptr);
        CHECK(fut.repr().find(" state=finished returned>") != std::string::npos);
    }

    TEST_CASE("ConcurrentFuture: cancel() works while pending, not once running or finished") {
        aio::ConcurrentFuture<int> pending;
        CHECK(pending.cancel());
        CHECK(pending.cancel());  // already cancelled: still true
        CHECK(pending.cancelled());
        CHECK(pending.done());
        CHECK_THROWS_AS(pending.result(), aio::CancelledError);
        CHECK_FALSE(pending.set_running_or_notify_cancel());  // the worker is told: skip it
        CHECK_THROWS_WITH_AS(pending.set_result(1), doctest::Contains("CANCELLED: <Future at 0x"),
                             aio::InvalidStateError);

        aio::ConcurrentFuture<int> running;
        CHECK(running.set_running_or_notify_cancel());
        CHECK(running.running());
        CHECK_FALSE(running.cancel());
        running.set_exception(std::make_exception_ptr(std::runtime_error("worker failed")));
        CHECK_FALSE(running.cancel());
        CHECK_THROWS_WITH_AS(running.result(), "worker failed", std::runtime_error);
        CHECK_THROWS_AS(running.set_result(1), aio::InvalidStateError);
        CHECK_THROWS_WITH_AS(running.set_running_or_notify_cancel(), "Future in unexpected state",
                             aio::RuntimeError);
    }

    TEST_CASE("ConcurrentFuture: callbacks run once, where it completes or at once if done") {
        test::LogCapture log;
        aio::ConcurrentFuture<void> fut;
        std::vector<std::string> calls;
        std::thread::id ran_on;
        fut.add_done_callback([&](aio::ConcurrentFuture<void>& f) {
            calls.push_back(f.cancelled() ? "first: cancelled" : "first: finished");
            ran_on = std::this_thread::get_id();
        });
        fut.add_done_callback(
            [](aio::ConcurrentFuture<void>&) { throw std::runtime_error("oops"); });
        std::thread([&] { fut.set_result(); }).join();
        CHECK(ran_on != std::this_thread::get_id());
        fut.add_done_callback(
            [&](aio::ConcurrentFuture<void>&) { calls.push_back("late: at once"); });
        CHECK(calls == std::vector<std::string>{"first: finished", "late: at once"});
        CHECK(log.contains("exception calling callback for <Future at 0x"));
        CHECK(log.contains("oops"));
    }

    TEST_CASE(
        "run_coroutine_threadsafe: cancel() from another thread cancels the task in the loop") {
        SentWaiter sent;
        CHECK_FALSE(sent.fut.running());  // pending while the task runs: cancel() can still win
        CHECK(sent.fut.cancel());
        CHECK(sent.fut.cancelled());
        CHECK_THROWS_AS(sent.fut.result(), aio::CancelledError);
        sent.cancelled.wait();  // the CancelledError reached the coroutine, on the loop thread
    }

    TEST_CASE("run_coroutine_threadsafe: result(timeout) times out, then cancel() stops the task") {
        SentWaiter sent;
        CHECK_THROWS_AS(sent.fut.result(0.01), aio::TimeoutError);
        CHECK_FALSE(sent.fut.done());  // asyncio: the task goes on until the caller cancels
        CHECK(sent.fut.cancel());
        sent.cancelled.wait();
    }

    TEST_CASE(
        "run_coroutine_threadsafe: cancelled before the loop took it, the task starts and is "
        "cancelled at its first await, as in asyncio") {
        auto loop = test::virtual_loop();
        std::vector<std::string> trace;
        aio::ConcurrentFuture<void> fut = aio::run_coroutine_threadsafe(slow(&trace), *loop);
        CHECK(fut.cancel());
        turn(*loop);
        CHECK(trace == std::vector<std::string>{"started", "cancelled at await"});
        CHECK(aio::all_tasks(loop.get()).empty());
    }

    TEST_CASE("run_coroutine_threadsafe: a task cancelled in the loop cancels the future") {
        auto loop = test::virtual_loop();
        aio::ConcurrentFuture<void> fut = aio::run_coroutine_threadsafe(cancel_myself(), *loop);
        turn(*loop);
        CHECK(fut.cancelled());
        CHECK_THROWS_AS(fut.result(0), aio::CancelledError);
    }

    TEST_CASE("run_coroutine_threadsafe: the task comes from the loop's task factory") {
        auto loop = test::virtual_loop();
        std::vector<std::string> made;
        aio::set_task_factory(*loop, [&made](aio::EventLoop& l, aio::TaskCoro coro) {
            made.push_back(coro.name());
            return aio::new_task(l, coro);
        });
        aio::ConcurrentFuture<int> fut = aio::run_coroutine_threadsafe(answer(), *loop);
        turn(*loop);
        CHECK(fut.result(0) == 42);
        CHECK(made == std::vector<std::string>{"pause", "answer"});  // turn()'s task first
    }

    TEST_CASE(
        "run_coroutine_threadsafe: a task factory that throws is reported and set on the "
        "future") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        std::vector<std::string> reported;
        loop->set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& context) {
            reported.push_back(context.message + " / " +
                               aio::describe_exception(context.exception));
        });
        aio::set_task_factory(*loop, [](aio::EventLoop& l, aio::TaskCoro coro) {
            if (coro.name() == std::string("answer")) throw std::runtime_error("no tasks today");
            return aio::new_task(l, coro);  // turn()'s own task
        });
        aio::ConcurrentFuture<int> fut = aio::run_coroutine_threadsafe(answer(), *loop);
        turn(*loop);
        CHECK_THROWS_WITH_AS(fut.result(0), "no tasks today", std::runtime_error);
        REQUIRE(reported.size() == 1);
        CHECK(reported[0].rfind("Exception in callback ", 0) == 0);
        CHECK(reported[0].find("no tasks today") != std::string::npos);
        CHECK(log.contains("coroutine 'answer' was never awaited"));
    }

    TEST_CASE(
        "run_coroutine_threadsafe: a loop closed before the task finishes cancels the future") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        Gate started;
        Gate cancelled;
        aio::ConcurrentFuture<int> fut =
            aio::run_coroutine_threadsafe(wait_until_cancelled(&started, &cancelled), *loop);
        aio::ConcurrentFuture<int> undelivered = aio::run_coroutine_threadsafe(answer(), *loop);
        loop->run_once();  // takes both callbacks: the tasks exist, neither has run a step
        loop->run_once();  // both first steps: answer finishes, the other waits
        aio::ConcurrentFuture<int> never_sent = aio::run_coroutine_threadsafe(answer(), *loop);
        loop->close();
        CHECK(fut.cancelled());          // its task was destroyed pending
        CHECK(never_sent.cancelled());   // its callback was dropped unrun
        CHECK(undelivered.cancelled());  // finished, but its result was never delivered
    }
}
