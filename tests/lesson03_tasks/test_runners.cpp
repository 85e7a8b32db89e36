// test_runners.cpp - asyncio.run and asyncio.Runner, without threads (those that use
// threads are in test_threads.cpp). (asyncio: test_runners.py::test_asyncio_run_return,
// test_asyncio_run_raises, test_asyncio_run_only_coro, test_asyncio_run_from_running_loop,
// test_asyncio_run_cancels_hanging_tasks, test_asyncio_run_reports_hanging_tasks_errors,
// test_asyncio_run_debug, RunnerTests::test_run, test_double_close, test_recursive_run,
// test_second_with_block_raises, test_explicit_close, test_custom_factory.)
#include <doctest/doctest.h>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

std::vector<std::string> trace;

std::unique_ptr<aio::EventLoop> make_virtual_loop() { return test::virtual_loop(); }

aio::Coro<int> answer() {
    co_await aio::sleep(0);
    co_return 42;
}

aio::Coro<void> fail() {
    co_await aio::sleep(0);
    throw std::runtime_error("main failed");
}

aio::Coro<void> nothing() { co_return; }

aio::Coro<void> run_nested() {
    trace.push_back("inside");
    try {
        aio::run(nothing());
    } catch (const aio::RuntimeError& e) {
        trace.push_back(e.what());
    }
    co_return;
}

aio::Coro<void> hang_then_clean_up(std::string name) {
    std::exception_ptr cancelled;
    try {
        co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
        trace.push_back(name + " cancelled at " + std::to_string(aio::get_running_loop().time()));
        cancelled = std::current_exception();
    }
    co_await aio::sleep(1);  // cleanup may await (not inside a catch block): run() waits
    trace.push_back(name + " cleaned up at " + std::to_string(aio::get_running_loop().time()));
    if (cancelled) std::rethrow_exception(cancelled);
}

aio::Coro<void> fail_when_cancelled() {
    try {
        co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
        throw std::runtime_error("cleanup failed");
    }
}

aio::Coro<void> leave_tasks_behind() {
    aio::create_task(hang_then_clean_up("worker"));
    co_await aio::sleep(5);
    trace.push_back("main returns");
}

aio::Coro<void> leave_failing_task() {
    aio::create_task(fail_when_cancelled(), "doomed");
    co_await aio::sleep(0);
}

aio::Coro<double> now_after(double seconds) {
    co_await aio::sleep(seconds);
    co_return aio::get_running_loop().time();
}

aio::Coro<bool> debug_mode() {
    co_await aio::sleep(0);
    co_return aio::get_running_loop().get_debug();
}

aio::Coro<int> count_up(int* counter) {
    co_await aio::sleep(1);
    co_return ++*counter;
}

aio::Coro<void> spawn_ticker(int* ticks) {
    aio::create_task(count_up(ticks));  // not awaited: it finishes during the next run()
    co_return;
}

aio::Coro<void> recursive_runner(aio::Runner* runner) {
    try {
        runner->run(nothing());
    } catch (const aio::RuntimeError& e) {
        trace.push_back(e.what());
    }
    co_return;
}

std::shared_ptr<aio::ThreadPoolExecutor> pool_seen;

aio::Coro<void> observe_shutdown(aio::EventLoop* loop) {
    try {
        co_await aio::sleep(3600);
    } catch (const aio::CancelledError&) {
        trace.push_back(std::string("task cancelled; executor shut down: ") +
                        (pool_seen->is_shut_down() ? "yes" : "no") +
                        "; loop closed: " + (loop->is_closed() ? "yes" : "no"));
        throw;
    }
}

aio::Coro<void> install_pool_and_leave_a_task() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::set_default_executor(loop, pool_seen);
    aio::create_task(observe_shutdown(&loop));
    co_await aio::sleep(0);
}

bool has_current_loop() {
    try {
        aio::get_event_loop();
        return true;
    } catch (const aio::RuntimeError&) {
        return false;
    }
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("run: returns the main coroutine's result") { CHECK(aio::run(answer()) == 42); }

    TEST_CASE("run: rethrows the main coroutine's exception; the current loop is unset") {
        CHECK_THROWS_WITH_AS(aio::run(fail()), "main failed", std::runtime_error);
        CHECK_FALSE(has_current_loop());
    }

    TEST_CASE("run: a moved-from coroutine is refused: 'a coroutine was expected'") {
        aio::Coro<int> c = answer();
        aio::Coro<int> taken = std::move(c);
        taken.close();
        CHECK_THROWS_WITH_AS(aio::run(std::move(c)),
                             "a coroutine was expected, got a moved-from Coro", aio::ValueError);
    }

    TEST_CASE("run: inside a running loop throws, and the coroutine is never awaited") {
        test::LogCapture log;
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(run_nested());
        CHECK(trace == std::vector<std::string>{
                           "inside", "asyncio.run() cannot be called from a running event loop"});
        CHECK(log.contains("coroutine 'nothing' was never awaited"));
    }

    TEST_CASE("run: leftover tasks are cancelled and awaited; their cleanup runs first") {
        trace.clear();
        aio::run(leave_tasks_behind(), std::nullopt, make_virtual_loop);
        trace.push_back("run returned");
        CHECK(trace == std::vector<std::string>{"main returns", "worker cancelled at 5.000000",
                                                "worker cleaned up at 6.000000", "run returned"});
    }

    TEST_CASE("run: a leftover task failing while cancelled is reported, not thrown") {
        test::LogCapture log;
        aio::run(leave_failing_task(), std::nullopt, make_virtual_loop);
        CHECK(log.contains("unhandled exception during asyncio.run() shutdown"));
        CHECK(log.contains(
            "task: <Task finished name='doomed' coro=fail_when_cancelled() exception="));
        CHECK(log.contains("cleanup failed"));
    }

    TEST_CASE("run: uses the virtual clock when AIO_CLOCK=virtual") {
        test::ScopedEnv clock("AIO_CLOCK", "virtual");
        CHECK(aio::run(now_after(3600)) == 3600.0);  // an hour, in no real time
    }

    TEST_CASE("run: debug=true/false forces debug mode; nullopt follows AIO_DEBUG") {
        test::LogCapture log;  // debug mode logs the loop's close
        test::ScopedEnv debug("AIO_DEBUG", "1");
        CHECK(aio::run(debug_mode()) == true);
        CHECK(aio::run(debug_mode(), false) == false);
        test::ScopedEnv no_debug("AIO_DEBUG", "0");
        CHECK(aio::run(debug_mode()) == false);
        CHECK(aio::run(debug_mode(), true) == true);
    }

    TEST_CASE("run: the default executor is shut down at the end") {
        pool_seen = std::make_shared<aio::ThreadPoolExecutor>(2);
        trace.clear();
        aio::run(install_pool_and_leave_a_task(), std::nullopt, make_virtual_loop);
        CHECK(trace ==
              std::vector<std::string>{"task cancelled; executor shut down: no; loop closed: no"});
        CHECK(pool_seen->is_shut_down());
        CHECK(pool_seen->thread_count() == 0);  // no work came: no thread was ever started
        pool_seen.reset();
    }

    TEST_CASE("Runner.close: cancel tasks, shut the executor down, unset the loop, close it") {
        pool_seen = std::make_shared<aio::ThreadPoolExecutor>(2);
        trace.clear();
        aio::Runner runner;
        runner.run(install_pool_and_leave_a_task());
        aio::EventLoop& loop = runner.get_loop();
        CHECK(&aio::get_event_loop() == &loop);  // the runner's loop is the current one
        runner.close();
        CHECK(trace ==
              std::vector<std::string>{"task cancelled; executor shut down: no; loop closed: no"});
        CHECK(pool_seen->is_shut_down());
        CHECK(loop.is_closed());
        CHECK_FALSE(has_current_loop());
        pool_seen.reset();
    }

    TEST_CASE("Runner: several run() calls share one loop; tasks carry over between them") {
        int ticks = 0;
        aio::Runner runner(std::nullopt, make_virtual_loop);
        aio::EventLoop& loop = runner.get_loop();
        runner.run(spawn_ticker(&ticks));
        CHECK(ticks == 0);
        CHECK(runner.run(now_after(2)) == 2.0);  // the ticker finished meanwhile, at 1
        CHECK(ticks == 1);
        CHECK(&runner.get_loop() == &loop);
        CHECK(runner.run(answer()) == 42);
    }

    TEST_CASE("Runner: after close() every use throws 'Runner is closed'; close() is idempotent") {
        test::LogCapture log;
        aio::Runner runner(std::nullopt, make_virtual_loop);
        CHECK(runner.run(answer()) == 42);
        runner.close();
        runner.close();
        CHECK_THROWS_WITH_AS(runner.run(answer()), "Runner is closed", aio::RuntimeError);
        CHECK_THROWS_WITH_AS(runner.get_loop(), "Runner is closed", aio::RuntimeError);
        CHECK(log.contains("coroutine 'answer' was never awaited"));  // as Python warns
    }

    TEST_CASE("Runner: the loop is made lazily; close() before that does nothing") {
        aio::Runner runner(std::nullopt, make_virtual_loop);
        runner.close();
        aio::EventLoop& loop = runner.get_loop();  // as in asyncio: still usable
        CHECK_FALSE(loop.is_closed());
        runner.close();
        CHECK(loop.is_closed());
    }

    TEST_CASE("Runner: a loop_factory's loop is used and not made the current loop") {
        aio::set_event_loop(nullptr);
        aio::Runner runner(std::nullopt, make_virtual_loop);
        CHECK(runner.run(now_after(10)) == 10.0);
        CHECK_FALSE(has_current_loop());
    }

    TEST_CASE("Runner.run from the runner's own running loop throws; the coroutine is unawaited") {
        test::LogCapture log;
        trace.clear();
        aio::Runner runner(std::nullopt, make_virtual_loop);
        runner.run(recursive_runner(&runner));
        CHECK(trace ==
              std::vector<std::string>{"Runner.run() cannot be called from a running event loop"});
        CHECK(log.contains("coroutine 'nothing' was never awaited"));
    }

    TEST_CASE("Runner: the main task's exception propagates; the runner stays usable") {
        aio::Runner runner(std::nullopt, make_virtual_loop);
        CHECK_THROWS_WITH_AS(runner.run(fail()), "main failed", std::runtime_error);
        CHECK(runner.run(answer()) == 42);
    }
}
