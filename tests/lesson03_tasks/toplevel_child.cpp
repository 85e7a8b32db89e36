// toplevel_child.cpp - programs whose exception escapes main(), run as child processes
// by test_toplevel.cpp. Each is the C++ port of a five-line Python script; the comment
// above each says what CPython 3.11 prints for it.
//
// usage: toplevel_child timeout|value|group|cleanup|runner
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

// Output that a pipe buffers: it must all be there when the program dies.
void print_lines() {
    for (int i = 0; i < 500; ++i) {
        aio::print("line", i);
        std::printf("printf %d\n", i);
    }
}

aio::Coro<void> inner() {
    co_await aio::sleep(10);  // inner's await
}

aio::Coro<void> middle() {
    co_await inner();  // middle's await
}

// async def main(): print(...); await asyncio.wait_for(middle(), 0.01)
// -> CancelledError's traceback (middle, inner), "The above exception was the direct
//    cause of the following exception:", main's traceback, last line "TimeoutError".
aio::Coro<void> timeout_main() {
    print_lines();
    co_await aio::wait_for(middle(), 0.01);  // main's await
}

aio::Coro<void> bad() {
    throw aio::ValueError("bad");
    co_return;
}

// async def main(): t = asyncio.create_task(bad()); await t   -> "ValueError: bad"
aio::Coro<void> value_main() {
    print_lines();
    aio::Task<void> t = aio::create_task(bad());
    co_await t;  // main awaits bad
}

aio::Coro<void> bad_n(int n) {
    co_await aio::sleep(0);
    throw aio::ValueError("bad " + std::to_string(n));
}

aio::Coro<void> two_children(aio::TaskGroup& tg) {
    tg.create_task(bad_n(1));
    tg.create_task(bad_n(2));
    co_return;
}

// async with asyncio.TaskGroup() as tg: two children raise ValueError
// -> the boxed "Exception Group Traceback".
aio::Coro<void> group_main() { co_await aio::task_group(two_children); }

aio::Coro<void> sleeper() {
    try {
        co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
        aio::print("cleanup ran");  // asyncio.run cancels it before the traceback
        throw;
    }
}

aio::Coro<void> cleanup_main() {
    aio::Task<void> t = aio::create_task(sleeper());
    co_await aio::sleep(1);
    throw aio::RuntimeError("main failed");
}

}  // namespace

int main(int argc, char** argv) {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/1);
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "timeout") aio::run(timeout_main());
    if (mode == "value") aio::run(value_main());
    if (mode == "group") aio::run(group_main());
    if (mode == "cleanup") aio::run(cleanup_main());
    if (mode == "runner") {
        aio::Runner runner;
        runner.run(value_main());
    }
    std::fprintf(stderr, "usage: toplevel_child timeout|value|group|cleanup|runner\n");
    return 2;
}
