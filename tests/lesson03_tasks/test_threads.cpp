// test_threads.cpp - work on other threads: ThreadPoolExecutor, run_in_executor,
// to_thread, shutdown_default_executor, run_coroutine_threadsafe, and aio::run with
// threads. Built in the ThreadSanitizer build too: every test here is deterministic
// (workers wait on gates the test opens, never on the clock) and takes a few ms at most.
// (asyncio: test_threads.py::test_to_thread*, test_events.py::test_run_in_executor*,
// test_base_events.py::test_set_default_executor_error, test_run_in_executor_cancel,
// test_shutdown_default_executor*, test_tasks.py::RunCoroutineThreadsafeTests,
// concurrent.futures' test_thread_pool.py.)
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

std::vector<std::string> trace;  // loop thread only

using test::Gate;

std::string at(const char* what) {
    return std::string(what) + " at " + std::to_string(aio::get_running_loop().time());
}

aio::Coro<void> add_on_worker(std::thread::id* worker) {
    aio::EventLoop& loop = aio::get_running_loop();
    auto add = [worker](int a, int b) {
        *worker = std::this_thread::get_id();
        return a + b;
    };
    aio::Future<int> sum = aio::run_in_executor(loop, nullptr, add, 40, 2);
    int value = co_await sum;
    trace.push_back("result " + std::to_string(value));
}

aio::Coro<void> worker_throws() {
    aio::EventLoop& loop = aio::get_running_loop();
    auto fail = [] { throw std::runtime_error("worker failed"); };
    aio::Future<void> done = aio::run_in_executor(loop, nullptr, fail);
    try {
        co_await done;
    } catch (const std::runtime_error& e) {
        trace.push_back(std::string("caught: ") + e.what());
    }
}

aio::Coro<void> to_thread_with_args() {
    auto repeat = [](std::string s, int n) {
        std::string out;
        for (int i = 0; i < n; ++i) out += s;
        return out;
    };
    std::string text = co_await aio::to_thread(repeat, std::string("ab"), 3);
    trace.push_back(text);
    std::atomic<int> calls{0};
    co_await aio::to_thread([&calls] { ++calls; });
    trace.push_back("void call ran " + std::to_string(calls.load()) + " time");
}

aio::Coro<int> square_on_thread(int i, std::atomic<int>* calls) {
    co_return co_await aio::to_thread(
        [calls](int x) {
            ++*calls;
            return x * x;
        },
        i);
}

aio::Coro<int> many_to_thread(std::atomic<int>* calls) {
    std::vector<aio::Task<int>> tasks;
    for (int i = 0; i < 50; ++i) tasks.push_back(aio::create_task(square_on_thread(i, calls)));
    int sum = 0;
    for (aio::Task<int>& t : tasks) sum += co_await t;
    co_return sum;
}

struct Job {
    std::shared_ptr<Gate> gate = std::make_shared<Gate>();
    std::shared_ptr<std::atomic<bool>> started = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<std::atomic<bool>> finished = std::make_shared<std::atomic<bool>>(false);
    // What the worker runs: note the start, wait for the gate, note the end.
    auto body(int result) const {
        return [gate = gate, started = started, finished = finished, result] {
            *started = true;
            gate->wait();
            *finished = true;
            return result;
        };
    }
};

aio::Coro<void> wait_started(Job job) {
    while (!*job.started) co_await aio::sleep(0);
}

aio::Coro<void> cancel_while_worker_runs(Job job) {
    aio::Task<int> t = aio::create_task(aio::to_thread(job.body(1)));
    co_await wait_started(job);
    t.cancel();
    try {
        co_await t;
    } catch (const aio::CancelledError&) {
        trace.push_back(std::string("task cancelled; worker finished: ") +
                        (*job.finished ? "yes" : "no"));
    }
    job.gate->open();
    co_await aio::sleep(1);  // a virtual clock waits for the worker before it jumps
    trace.push_back(at(*job.finished ? "worker finished, result dropped" : "worker still running"));
}

aio::Coro<void> cancel_before_start(aio::ThreadPoolExecutor* pool, Job job,
                                    std::atomic<bool>* second_ran) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> first = aio::run_in_executor(loop, pool, job.body(1));
    aio::Future<void> second =
        aio::run_in_executor(loop, pool, [second_ran] { *second_ran = true; });
    second.cancel();
    co_await aio::sleep(0);  // the cancellation reaches the queued call
    job.gate->open();
    int value = co_await first;
    co_await aio::sleep(1);  // and the second call's report comes back
    trace.push_back("first gave " + std::to_string(value) +
                    "; second cancelled: " + (second.cancelled() ? "yes" : "no"));
}

aio::Coro<void> tick_then_open(Gate* gate) {
    for (int i = 0; i < 3; ++i) {
        trace.push_back("tick " + std::to_string(i));
        co_await aio::sleep(0);
    }
    gate->open();
}

aio::Coro<void> shutdown_while_busy(Job job) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> work = aio::run_in_executor(loop, nullptr, job.body(5));
    aio::create_task(tick_then_open(job.gate.get()));
    co_await aio::shutdown_default_executor(loop);
    trace.push_back(std::string("shutdown returned; worker finished: ") +
                    (*job.finished ? "yes" : "no"));
    int value = co_await work;
    trace.push_back("result " + std::to_string(value));
    try {
        aio::run_in_executor(loop, nullptr, [] {});
    } catch (const aio::RuntimeError& e) {
        trace.push_back(e.what());
    }
}

aio::Coro<void> race_timer_against_worker() {
    aio::EventLoop& loop = aio::get_running_loop();
    loop.call_later(1.0, [] { trace.push_back(at("timer fired")); });
    int value = co_await aio::to_thread([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return 7;
    });
    // About 0.002 on the virtual clock: it ran at real speed while the worker worked.
    double when = loop.time();
    trace.push_back("worker gave " + std::to_string(value) +
                    (when > 0 && when < 1 ? " before 1" : " at a wrong time"));
    co_await aio::sleep(2);
}

aio::Coro<void> cancel_queued_by_shutdown(aio::ThreadPoolExecutor* pool, Job job) {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> running = aio::run_in_executor(loop, pool, job.body(1));
    aio::Future<int> queued = aio::run_in_executor(loop, pool, [] { return 2; });
    co_await wait_started(job);
    pool->shutdown(false, true);  // cancel_futures: the queued call is dropped
    job.gate->open();
    int value = co_await running;
    trace.push_back("running call gave " + std::to_string(value));
    try {
        co_await queued;
    } catch (const aio::CancelledError&) {
        trace.push_back("queued call cancelled");
    }
}

aio::Coro<void> refused_then_sleep(aio::ThreadPoolExecutor* pool) {
    aio::EventLoop& loop = aio::get_running_loop();
    try {
        aio::run_in_executor(loop, pool, [] { return 1; });
    } catch (const aio::RuntimeError& e) {
        trace.push_back(e.what());
    }
    co_await aio::sleep(1);  // nothing was left counted as running: the clock jumps
    trace.push_back(at("slept"));
}

aio::Coro<int> sum_on_thread() {
    co_return co_await aio::to_thread([](int a) { return a + 1; }, 41);
}

aio::Coro<void> leave_a_thread_running(Job job) {
    aio::create_task(aio::to_thread(job.body(1)));
    co_await wait_started(job);
    job.gate->open();  // the worker may still be busy when main returns
}

aio::Coro<int> answer_later() {
    co_await aio::sleep(1);
    co_return 42;
}

aio::Coro<void> fail_later() {
    co_await aio::sleep(1);
    throw std::runtime_error("coroutine failed");
}

aio::Coro<void> cancel_myself() {
    aio::current_task()->cancel();
    co_await aio::sleep(0);
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("run_in_executor: fn(args...) runs on a worker; its result reaches the co_await") {
        trace.clear();
        std::thread::id worker;
        auto loop = test::virtual_loop();
        loop->run_until_complete(add_on_worker(&worker));
        CHECK(trace == std::vector<std::string>{"result 42"});
        CHECK(worker != std::thread::id{});
        CHECK(worker != std::this_thread::get_id());
    }

    TEST_CASE("run_in_executor: an exception thrown by fn is rethrown at the co_await") {
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(worker_throws());
        CHECK(trace == std::vector<std::string>{"caught: worker failed"});
    }

    TEST_CASE("to_thread: passes its arguments, gives fn's result; void functions too") {
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(to_thread_with_args());
        CHECK(trace == std::vector<std::string>{"ababab", "void call ran 1 time"});
    }

    TEST_CASE("to_thread: a coroutine: nothing runs until it is awaited") {
        std::atomic<int> calls{0};
        aio::Coro<void> c = aio::to_thread([&calls] { ++calls; });
        c.close();
        CHECK(calls == 0);
    }

    TEST_CASE("to_thread: 50 concurrent calls on a pool of 4 all complete, each exactly once") {
        auto loop = test::virtual_loop();
        auto pool = std::make_shared<aio::ThreadPoolExecutor>(4);
        aio::set_default_executor(*loop, pool);
        std::atomic<int> calls{0};
        int sum = loop->run_until_complete(many_to_thread(&calls));
        CHECK(sum == 40425);  // 0² + 1² + ... + 49²
        CHECK(calls == 50);
        CHECK(pool->thread_count() >= 1);
        CHECK(pool->thread_count() <= 4);
    }

    TEST_CASE("to_thread: cancelling the awaiting task drops the result; the worker finishes") {
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(cancel_while_worker_runs(Job{}));
        CHECK(trace == std::vector<std::string>{"task cancelled; worker finished: no",
                                                "worker finished, result dropped at 1.000000"});
    }

    TEST_CASE("run_in_executor: a call cancelled before a worker takes it never runs") {
        trace.clear();
        auto loop = test::virtual_loop();
        aio::ThreadPoolExecutor pool(1);
        std::atomic<bool> second_ran{false};
        loop->run_until_complete(cancel_before_start(&pool, Job{}, &second_ran));
        CHECK(trace == std::vector<std::string>{"first gave 1; second cancelled: yes"});
        CHECK_FALSE(second_ran);
    }

    TEST_CASE("shutdown_default_executor: waits for running work; the loop stays responsive") {
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(shutdown_while_busy(Job{}));
        CHECK(trace == std::vector<std::string>{"tick 0", "tick 1", "tick 2",
                                                "shutdown returned; worker finished: yes",
                                                "result 5", "Executor shutdown has been called"});
    }

    TEST_CASE("shutdown_default_executor(timeout): gives up waiting and says so (3.12)") {
        test::LogCapture log;
        aio::EventLoop loop(nullptr, std::make_unique<aio::MonotonicClock>());
        auto pool = std::make_shared<aio::ThreadPoolExecutor>(1);
        aio::set_default_executor(loop, pool);
        Job job;
        std::future<int> blocked = pool->submit(job.body(1));
        loop.run_until_complete(aio::shutdown_default_executor(loop, 0.005));
        CHECK(log.contains(
            "The executor did not finishing joining its threads within 0.005 seconds."));
        CHECK_FALSE(*job.finished);
        job.gate->open();
        CHECK(blocked.get() == 1);
        pool->shutdown(true);
    }

    TEST_CASE(
        "virtual clock: real speed while a worker runs; its result first, the timer on time") {
        trace.clear();
        auto loop = test::virtual_loop();
        loop->run_until_complete(race_timer_against_worker());
        CHECK(trace ==
              std::vector<std::string>{"worker gave 7 before 1", "timer fired at 1.000000"});
    }

    TEST_CASE("close(): shuts the default executor down without waiting; late results dropped") {
        auto pool = std::make_shared<aio::ThreadPoolExecutor>(1);
        Job job;
        {
            auto loop = test::virtual_loop();
            aio::set_default_executor(*loop, pool);
            aio::Future<int> late = aio::run_in_executor(*loop, nullptr, job.body(1));
            while (!*job.started) std::this_thread::yield();
            loop->close();  // returns although the worker is blocked
            CHECK(pool->is_shut_down());
            CHECK_FALSE(late.done());
        }  // and the loop is destroyed before the worker reports
        job.gate->open();
        pool->shutdown(true);  // the worker reported to a closed loop: the result was dropped
        CHECK(*job.finished);
    }

    TEST_CASE("closing a loop does not wait for its default executor's running work") {
        Job job;
        {
            auto loop = test::virtual_loop();
            aio::Future<int> late = aio::run_in_executor(*loop, nullptr, job.body(1));
            while (!*job.started) std::this_thread::yield();
        }                  // joining here would hang: the gate is still shut
        job.gate->open();  // the worker finishes later; its thread is joined at exit at the latest
    }

    TEST_CASE("ThreadPoolExecutor: threads start lazily, one per busy item, up to max_workers") {
        aio::ThreadPoolExecutor pool(2);
        CHECK(pool.max_workers() == 2);
        CHECK(pool.thread_count() == 0);
        Job job;
        std::future<int> a = pool.submit(job.body(1));
        CHECK(pool.thread_count() == 1);
        std::future<int> b = pool.submit(job.body(2));
        CHECK(pool.thread_count() == 2);
        std::future<int> c = pool.submit([](int x) { return x; }, 3);
        CHECK(pool.thread_count() == 2);
        job.gate->open();
        CHECK(a.get() + b.get() + c.get() == 6);
        std::future<void> failing = pool.submit([] { throw std::runtime_error("job failed"); });
        failing.wait();
        pool.shutdown();  // joins first: ThreadSanitizer cannot see libstdc++'s exception_ptr
                          // reference count, so the worker must be done with the error
        CHECK(pool.is_shut_down());
        CHECK_THROWS_WITH_AS(failing.get(), "job failed", std::runtime_error);
        CHECK_THROWS_WITH_AS(pool.submit([] {}), "cannot schedule new futures after shutdown",
                             aio::RuntimeError);
    }

    TEST_CASE("ThreadPoolExecutor: max_workers defaults to min(32, cpus + 4); 0 is refused") {
        int cpus = static_cast<int>(std::thread::hardware_concurrency());
        CHECK(aio::ThreadPoolExecutor::default_max_workers() ==
              std::min(32, std::max(cpus, 1) + 4));
        CHECK(aio::ThreadPoolExecutor().max_workers() ==
              aio::ThreadPoolExecutor::default_max_workers());
        CHECK_THROWS_WITH_AS(aio::ThreadPoolExecutor(0), "max_workers must be greater than 0",
                             aio::ValueError);
    }

    TEST_CASE("ThreadPoolExecutor.shutdown(cancel_futures): a queued call's future is cancelled") {
        trace.clear();
        auto loop = test::virtual_loop();
        aio::ThreadPoolExecutor pool(1);
        loop->run_until_complete(cancel_queued_by_shutdown(&pool, Job{}));
        CHECK(trace == std::vector<std::string>{"running call gave 1", "queued call cancelled"});
    }

    TEST_CASE("run_in_executor: bad input is refused with asyncio's words") {
        trace.clear();
        auto loop = test::virtual_loop();
        aio::ThreadPoolExecutor pool(1);
        pool.shutdown();
        loop->run_until_complete(refused_then_sleep(&pool));
        CHECK(trace == std::vector<std::string>{"cannot schedule new futures after shutdown",
                                                "slept at 1.000000"});
        CHECK_THROWS_WITH_AS(aio::set_default_executor(*loop, nullptr),
                             "executor must be ThreadPoolExecutor instance", aio::TypeError);
        // asyncio: run_coroutine_threadsafe(None, loop) -> TypeError
        CHECK_THROWS_WITH_AS((void)aio::run_coroutine_threadsafe(aio::Coro<int>{}, *loop),
                             "A coroutine object is required", aio::TypeError);
        loop->close();
        CHECK_THROWS_WITH_AS(aio::run_in_executor(*loop, nullptr, [] {}), "Event loop is closed",
                             aio::RuntimeError);
    }

    TEST_CASE("run: to_thread works under asyncio.run") { CHECK(aio::run(sum_on_thread()) == 42); }

    TEST_CASE("run: waits for the default executor's running work before returning") {
        Job job;
        aio::run(leave_a_thread_running(job));
        CHECK(*job.finished);  // the thread was joined by run()'s shutdown_default_executor
    }

    TEST_CASE("run_coroutine_threadsafe: another thread runs coroutines on the loop") {
        auto loop = test::virtual_loop();
        int result = 0;
        std::exception_ptr error;   // read only after join(): ThreadSanitizer cannot see
        std::exception_ptr cancel;  // libstdc++'s exception_ptr reference count
        std::thread other([&] {
            result = aio::run_coroutine_threadsafe(answer_later(), *loop).result();
            try {
                aio::run_coroutine_threadsafe(fail_later(), *loop).result();
            } catch (...) {
                error = std::current_exception();
            }
            try {
                aio::run_coroutine_threadsafe(cancel_myself(), *loop).result();
            } catch (...) {
                cancel = std::current_exception();
            }
            loop->call_soon_threadsafe([&] { loop->stop(); });
        });
        loop->run_forever();
        other.join();
        CHECK(result == 42);
        CHECK_THROWS_WITH_AS(std::rethrow_exception(error), "coroutine failed", std::runtime_error);
        CHECK_THROWS_AS(std::rethrow_exception(cancel), aio::CancelledError);
        CHECK(loop->time() == 2.0);
    }

    TEST_CASE("run_coroutine_threadsafe: a closed loop refuses at once") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        loop->close();
        CHECK_THROWS_WITH_AS(aio::run_coroutine_threadsafe(answer_later(), *loop),
                             "Event loop is closed", aio::RuntimeError);
        CHECK(log.contains("coroutine 'answer_later' was never awaited"));
    }
}
