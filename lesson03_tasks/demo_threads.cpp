// demo_threads.cpp - lesson 3's demo, part 8: blocking calls in a thread (tutorial 004's
// run_in_executor and to_thread examples, each call 0.25 s instead of 2 s). A blocking
// call made on the loop's thread would stop every task; run in the default executor's
// thread, it leaves the loop free, and a ticker task goes on ticking meanwhile. While
// such work is pending the virtual clock runs at real speed (lesson 1's clocks.hpp), so
// the times here are real ones (a few ms behind, on a loaded machine) and the number of
// ticks can vary.
#include <chrono>
#include <string>
#include <thread>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/demo.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"

namespace {

using demo::at;

// Tutorial 004's blocking_io and blocking_operation: time.sleep stands for a call that
// blocks its thread (a file read, a library without async support).
std::string blocking_io() {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return "I/O done";
}

std::string blocking_operation() {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    return "done";
}

aio::Coro<void> ticker() {
    for (;;) {
        aio::print(at(), "tick");
        co_await aio::sleep(0.1);
    }
}

}  // namespace

aio::Coro<void> demo::blocking_call_in_a_thread() {
    aio::Task<void> ticking = aio::create_task(ticker(), "ticker");
    aio::EventLoop& loop = aio::get_running_loop();
    aio::print(at(), "main: loop.run_in_executor(None, blocking_io)");
    std::string io = co_await loop.run_in_executor(nullptr, blocking_io);
    aio::print(at(), "main: run_in_executor gave", aio::repr(io));
    aio::print(at(), "main: asyncio.to_thread(blocking_operation)");
    std::string op = co_await aio::to_thread(blocking_operation);
    aio::print(at(), "main: to_thread gave", aio::repr(op));
    ticking.cancel();
}
