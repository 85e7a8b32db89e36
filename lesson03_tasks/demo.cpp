// demo.cpp - lesson 3's tour: the tutorials' gather and cancellation examples, ported.
//
//  1. Twenty coroutines that each sleep one second, gathered: "processing time: 1.00"
//     (tutorials 003 and 004), because they all wait at the same time.
//  2. A long job cancelled after two seconds (tutorial 000): CancelledError appears at
//     the job's co_await, the job cleans up and re-raises, and main catches it when it
//     awaits the task.
//  3. wait_for: a fetch that takes too long becomes a TimeoutError (tutorial 000).
// aio::run makes a loop, runs main as a Task and closes the loop, like asyncio.run.
// Time is virtual (instant, exact) unless you run it with AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

double now() { return aio::get_running_loop().time(); }

aio::Coro<void> my_coroutine(double seconds) { co_await aio::sleep(seconds); }

aio::Coro<void> long_job() {
    try {
        std::printf("  [%.2f] long_job: working for 10 s\n", now());
        co_await aio::sleep(10);
    } catch (const aio::CancelledError& e) {
        std::printf("  [%.2f] long_job: cancelled (\"%s\"), cleaning up\n", now(), e.what());
        throw;  // let the task end cancelled
    }
}

aio::Coro<std::string> fetch(std::string url, double seconds) {
    co_await aio::sleep(seconds);
    co_return "contents of " + url;
}

aio::Coro<void> main_coroutine() {
    std::printf("1. gather twenty coroutines\n");
    double start = now();
    std::vector<aio::Coro<void>> coros;
    for (int i = 0; i < 20; ++i) coros.push_back(my_coroutine(1));
    co_await aio::gather(std::move(coros));
    std::printf("  processing time: %.2f\n", now() - start);

    std::printf("2. cancel a task\n");
    aio::Task<void> task = aio::create_task(long_job(), "long_job");
    co_await aio::sleep(2);
    task.cancel("main has waited long enough");
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        std::printf("  [%.2f] main: caught the cancellation; %s\n", now(), task.repr().c_str());
    }

    std::printf("3. wait_for with a timeout\n");
    try {
        std::string page = co_await aio::wait_for(fetch("example.com", 5), 3);
        std::printf("  %s\n", page.c_str());
    } catch (const aio::TimeoutError&) {
        std::printf("  [%.2f] fetch took too long: TimeoutError\n", now());
    }
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
