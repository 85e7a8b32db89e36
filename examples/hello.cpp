// hello.cpp - tutorial 000, example 1, ported line for line from hello.py; both print
// hello.expected.
//
// sleep() does not block the thread: it hands control back to the loop, which is free
// to run anything else until the second has passed. aio::run makes the loop, runs the
// coroutine as a task and closes the loop (asyncio.run). The clock is virtual unless
// AIO_CLOCK=monotonic, so the second passes at once.
#include <cstdlib>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

namespace {

aio::Coro<void> hello() {
    aio::print("開始執行");
    co_await aio::sleep(1);  // gives control back to the loop for one second
    aio::print("結束執行");
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(hello());
    return 0;
}
