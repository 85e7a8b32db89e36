// pitfalls.cpp - tutorial 000's table of pitfalls, each shown with what this library says.
//
//  1. Calling run() inside a running loop: a RuntimeError, asyncio's words.
//  2. Forgetting to await: the coroutine never runs, and its destruction logs
//     "coroutine '...' was never awaited".
//  3. Blocking inside a coroutine: the whole loop stalls; debug mode names the culprit
//     ("Executing <Task ...> took 0.300 seconds"). The blocking here is simulated by
//     moving the virtual clock forward inside a step, so the run stays instant.
//  4. A task whose failure nobody reads: "Task exception was never retrieved".
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "lesson01_loop/clocks.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace {

aio::Coro<int> nested() { co_return 1; }

aio::Coro<void> run_inside_run() {
    try {
        aio::run(nested());
    } catch (const aio::RuntimeError& e) {
        std::printf("1. run() inside a running loop: RuntimeError: %s\n", e.what());
    }
    co_return;
}

aio::Coro<void> fetch_data() {
    std::printf("   (never printed: nobody awaited fetch_data)\n");
    co_return;
}

aio::Coro<void> forget_await() {
    std::printf("2. forgetting co_await:\n");
    { aio::Coro<void> forgotten = fetch_data(); }  // destroyed unawaited: a warning
    co_return;
}

aio::Coro<void> blocking_step() {
    // Stands for time.sleep(0.3) or a blocking request: the loop can do nothing else.
    static_cast<aio::VirtualClock&>(aio::get_running_loop().clock()).advance(0.3);
    co_return;
}

aio::Coro<void> block_the_loop() {
    std::printf("3. blocking the loop in a coroutine (debug mode):\n");
    aio::get_running_loop().set_debug(true);
    co_await aio::create_task(blocking_step(), "blocker");
    aio::get_running_loop().set_debug(false);
}

aio::Coro<void> fails() {
    co_await aio::sleep(0);
    throw std::runtime_error("lost error");
}

aio::Coro<void> unread_failure() {
    std::printf("4. a failed task nobody awaits:\n");
    {
        aio::Task<void> t = aio::create_task(fails());
        co_await aio::sleep(0.1);  // t fails meanwhile
    }                              // the last reference goes: its exception was never read
}

aio::Coro<void> main_coroutine() {
    co_await run_inside_run();
    co_await forget_await();
    co_await block_the_loop();
    co_await unread_failure();
}

}  // namespace

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);           // keep our lines in order with the log's
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/1);  // pitfall 3 needs the virtual clock
    aio::run(main_coroutine());
    return 0;
}
