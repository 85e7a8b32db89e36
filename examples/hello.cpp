// hello.cpp - tutorial 000, example 1: the "Hello, World" coroutine.
//
// sleep() does not block the thread: it hands control back to the loop, which is free
// to run anything else until the second has passed. aio::run makes the loop, runs the
// coroutine as a task and closes the loop (asyncio.run).
#include <cstdio>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

namespace {

aio::Coro<void> hello() {
    std::printf("starting\n");
    co_await aio::sleep(1);  // yields to the loop for one second
    std::printf("finished\n");
}

}  // namespace

int main() {
    aio::run(hello());
    return 0;
}
