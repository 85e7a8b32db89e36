// demo.cpp - lesson 2's tour: tutorial 003's examples, ported, and the one await it lacks.
//
//  1. The manual sequence (003): make a coroutine object, a loop, run it, close the loop.
//  2. Three coroutines at once (003): all three start in one iteration and their three
//     timers fire in one later iteration, so three 1-second sleeps take 1.00 s, not 3.
//  3. The Future example (003's version): the future is done before the await, so the
//     await does not suspend; "not come yet" prints first only because it comes first.
//  4. A future still pending when awaited: the await suspends, a call_soon callback sets
//     the result, and the loop resumes the coroutine in a later iteration.
//  5. An async generator consumed with a short loop.
// Each part runs on a loop of its own, as each of the tutorial's programs does: its
// clock starts at 0 and its iterations at 1. Time is virtual (instant, exact) unless
// you run the demo with AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

// ---- how each part prints ---------------------------------------------------------

double part_start = 0;  // the loop's time when the current part began

void part(const char* title, const char* watch) {
    static int number = 0;
    std::printf("%d. %s\n  watch: %s\n", ++number, title, watch);
}

// Which turn of the loop is running now (lesson 1's EventLoop::iterations()).
unsigned long long iteration() { return aio::get_running_loop().iterations(); }

// "  [0.50] iteration 2: what": the part's time, the loop's turn, what happened.
void at(const std::string& what) {
    double t = aio::get_running_loop().time() - part_start;
    std::printf("  [%.2f] iteration %llu: %s\n", t, iteration(), what.c_str());
}

// "  iteration 2: what", for the Future parts, where only the turn matters.
void in_iteration(const std::string& what) {
    std::printf("  iteration %llu: %s\n", iteration(), what.c_str());
}

// A fresh loop for one part, made current, then closed.
template <class F>
void on_new_loop(F body) {
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    aio::set_event_loop(loop.get());
    part_start = loop->time();
    body(*loop);
    aio::set_event_loop(nullptr);
    loop->close();
}

// ---- the coroutines ---------------------------------------------------------------

aio::Coro<void> my_coroutine(int n) {
    at("coroutine " + std::to_string(n) + " starts");
    co_await aio::sleep(1);
    at("coroutine " + std::to_string(n) + " ends");
}

// Tutorial 003's version, its lines in its order: the result is set before the await.
aio::Coro<void> future_example() {
    aio::Future<std::string> future;  // on the running loop
    future.set_result("the future");
    in_iteration("the future has not come yet");
    std::string result = co_await future;  // already done: no suspension
    in_iteration(result);
}

// The await this lesson is about: the future is pending when awaited.
aio::Coro<void> pending_future_example() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<std::string> future = loop.create_future<std::string>();
    loop.call_soon([future]() mutable {
        future.set_result("the future");
        in_iteration("callback: set_result(\"the future\") returned; the waiter has not run");
    });
    in_iteration("awaiting a pending future (a call_soon callback will set it)");
    std::string result = co_await future;  // suspends: the driver returns to the loop
    in_iteration("the await returned \"" + result + "\"");
}

aio::AsyncGenerator<int> countdown(int from) {
    for (int i = from; i > 0; --i) {
        co_await aio::sleep(0.5);
        co_yield i;
    }
}

aio::Coro<void> launch() {
    at("countdown from 3");
    aio::AsyncGenerator<int> counter = countdown(3);
    while (std::optional<int> n = co_await counter.next()) at(std::to_string(*n) + "...");
    at("liftoff");
}

// ---- the parts --------------------------------------------------------------------

// Tutorial 003's six steps, by hand (aio::run does them all in lesson 3).
void manual_sequence() {
    part("the manual sequence (tutorial 003)",
         "calling my_coroutine(1) runs nothing; it starts in the loop's first iteration and "
         "ends 1.00 later, two iterations on (the timer's, then its own step's)");
    aio::Coro<void> coroutine_obj = my_coroutine(1);  // nothing runs yet: lazy
    std::printf("  coroutine object made; nothing has run\n");
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    aio::set_event_loop(loop.get());
    part_start = loop->time();
    loop->run_until_complete(std::move(coroutine_obj));
    aio::set_event_loop(nullptr);
    loop->close();
}

void three_at_once() {
    part("three coroutines at once (tutorial 003)",
         "all three start at 0.00 in iteration 1; iteration 2 fires their three timers; all "
         "three end at 1.00 in iteration 3: processing time: 1.00, not 3.00");
    on_new_loop([](aio::EventLoop& loop) {
        aio::drive(loop, my_coroutine(1));  // tutorial 003: loop.create_task(...)
        aio::drive(loop, my_coroutine(2));
        loop.run_until_complete(my_coroutine(3));
        std::printf("  processing time: %.2f\n", loop.time() - part_start);
    });
}

void future_done_before_await() {
    part("the Future example (tutorial 003's version)",
         "the future is done before the await, so the await does not suspend: both lines print "
         "in iteration 1, and \"the future has not come yet\" prints first only because it "
         "comes first in the source");
    on_new_loop([](aio::EventLoop& loop) { loop.run_until_complete(future_example()); });
}

void future_pending_at_await() {
    part("a future still pending when awaited",
         "the await suspends in iteration 1; the callback sets the result in iteration 2 and "
         "the waiter does not run inside set_result(); the loop resumes it in iteration 3");
    on_new_loop([](aio::EventLoop& loop) { loop.run_until_complete(pending_future_example()); });
}

void async_generator() {
    part("an async generator",
         "each value arrives 0.50 after the one before it: the generator's sleep runs inside "
         "the consumer's co_await counter.next()");
    on_new_loop([](aio::EventLoop& loop) { loop.run_until_complete(launch()); });
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    manual_sequence();
    three_at_once();
    future_done_before_await();
    future_pending_at_await();
    async_generator();
    return 0;
}
