// demo.cpp - lesson 2's tour: tutorial 003's examples, ported.
//
//  1. The manual sequence: make a coroutine object, a loop, run it, close the loop.
//  2. Three coroutines driven at once: three 1-second sleeps take 1.00 s, not 3.
//  3. The Future example: set_result() first, yet "not here yet" prints before the
//     result, because awaiting a future resumes from the loop, never inline.
//  4. An async generator consumed with a short loop.
// Time is virtual (instant, exact) unless you run it with AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

aio::Coro<void> my_coroutine(int n) {
    std::printf("  [%.2f] coroutine %d: start\n", aio::get_running_loop().time(), n);
    co_await aio::sleep(1);
    std::printf("  [%.2f] coroutine %d: end\n", aio::get_running_loop().time(), n);
}

aio::Coro<void> future_example() {
    aio::Future<std::string> future;  // on the running loop
    future.set_result("the future");
    std::printf("  the future has not come yet\n");
    std::string result = co_await future;
    std::printf("  %s\n", result.c_str());
}

aio::AsyncGenerator<int> countdown(int from) {
    for (int i = from; i > 0; --i) {
        co_await aio::sleep(0.5);
        co_yield i;
    }
}

aio::Coro<void> launch() {
    aio::AsyncGenerator<int> counter = countdown(3);
    while (std::optional<int> n = co_await counter.next())
        std::printf("  [%.2f] %d...\n", aio::get_running_loop().time(), *n);
    std::printf("  [%.2f] liftoff\n", aio::get_running_loop().time());
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);

    std::printf("1. the manual sequence\n");
    aio::Coro<void> coroutine_obj = my_coroutine(1);  // nothing runs yet: lazy
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    aio::set_event_loop(loop.get());
    loop->run_until_complete(std::move(coroutine_obj));

    std::printf("2. three coroutines at once\n");
    double start = loop->time();
    aio::drive(*loop, my_coroutine(1));
    aio::drive(*loop, my_coroutine(2));
    loop->run_until_complete(my_coroutine(3));
    std::printf("  processing time: %.2f\n", loop->time() - start);

    std::printf("3. the Future example\n");
    loop->run_until_complete(future_example());

    std::printf("4. an async generator\n");
    loop->run_until_complete(launch());

    aio::set_event_loop(nullptr);
    loop->close();
    return 0;
}
