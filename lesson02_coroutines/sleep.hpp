// sleep.hpp - co_await aio::sleep(seconds) (asyncio: tasks.sleep, tasks.__sleep0).
//
// asyncio's sleep(d) makes a future, a TimerHandle whose callback completes it, and
// waits on the future. Here nothing is made: the awaiter (in the sleeping coroutine's
// frame) asks its driver to park the driver's own step handle in the loop's timer heap
// until the deadline (Driver::sleep_until, EventLoop::schedule_at). A sleeping task
// costs the timer heap a 24-B entry and a 12-B slot, beyond its frame and itself.
//
// What the future gave asyncio, the driver keeps instead, in one byte (Driver::nap_):
//   - the wake-up takes the same two hops: at the deadline the heap hands the step to
//     the ready queue, and that first run only queues the real step for the next
//     iteration, as asyncio's timer callback completes the future whose done callback
//     schedules the task (so callbacks due at the same time run before the task);
//   - cancellation finds a sleeping task by that state: lesson 3's Task::cancel calls
//     Driver::interrupt_sleep, which takes the step back out of the heap and queues it;
//     await_resume then throws CancelledError with the cancel's message, as the
//     cancelled future's result() did. Once the deadline has passed, the sleep is over
//     as far as cancel() is concerned (asyncio: the future is done) and the request is
//     delivered at the task's next step instead (_must_cancel);
//   - a frame destroyed while it sleeps (loop.close()) takes the step out of the heap.
//
// sleep(0) (or any d <= 0) is different: no timer at all, just "schedule my next step
// and let everyone else have one iteration" (asyncio's bare `yield`).
//
// Time is the loop's clock, so under a virtual clock sleeps take no real time.
#pragma once

#include <cmath>
#include <coroutine>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/futures.hpp"

namespace aio {

namespace detail {

struct Nothing {};  // the value of a sleep() without one: its await gives void

// Defined in driver.cpp. Park the driver's step of `promise` until `delay` seconds from
// now (throws aio::RuntimeError outside any driver); the sleep is over (woke: may
// throw CancelledError; sleep_over: the frame is destroyed while it sleeps).
void sleep_on(PromiseBase& promise, std::coroutine_handle<> at, double delay);
void woke(Driver* driver);
void sleep_over(Driver* driver) noexcept;

template <class T>
class SleepAwaiter {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    SleepAwaiter(double delay, T value) : delay_(delay), value_(std::move(value)) {
        if (std::isnan(delay)) throw ValueError("sleep: the delay is NaN");
    }
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;
    ~SleepAwaiter() {
        if (driver_ && delay_ > 0) sleep_over(driver_);  // destroyed while it sleeps
    }

    bool await_ready() const noexcept { return false; }

    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        Driver* driver = driver_of(at.promise());  // throws outside a driver
        if (delay_ <= 0)
            suspend_on(at.promise(), at, nullptr);  // asyncio: __sleep0
        else
            sleep_on(at.promise(), at, delay_);
        driver_ = driver;
    }

    auto await_resume() {
        Driver* driver = std::exchange(driver_, nullptr);  // the sleep is over
        if (delay_ > 0)
            woke(driver);  // throws CancelledError if the sleep was cancelled
        else
            resumed(driver);
        if constexpr (!std::is_same_v<T, Nothing>) return std::move(value_);
    }

private:
    // Every byte here is in each sleeping frame; sleep(d) without a value stores none.
    double delay_;
    [[no_unique_address]] T value_;
    Driver* driver_ = nullptr;  // while suspended
};

// What sleep() returns: a plain value until it is awaited; the awaiter, which must
// not move once its driver knows it, is made in place by operator co_await. It may be
// stored and awaited later (`auto s = sleep(1); co_await s;`), once: like the coroutine
// asyncio.sleep() returns, a second await throws "cannot reuse already awaited
// coroutine" (the value has been moved out by then).
template <class T>
struct Sleep {
    double delay;
    T value;
    bool awaited = false;

    SleepAwaiter<T> operator co_await() & { return claim(); }
    SleepAwaiter<T> operator co_await() && { return claim(); }
    SleepAwaiter<T> claim() {
        if (awaited) throw RuntimeError("cannot reuse already awaited coroutine");
        awaited = true;
        return {delay, std::move(value)};
    }
};

}  // namespace detail

// co_await sleep(0.5): suspend for half a second of the loop's clock.
// co_await sleep(0): let every other ready callback run once, then continue.
inline detail::Sleep<detail::Nothing> sleep(double seconds) { return {seconds, detail::Nothing{}}; }

// asyncio: sleep(delay, result). `co_await sleep(1, 42)` gives 42.
template <class T>
detail::Sleep<T> sleep(double seconds, T result) {
    return {seconds, std::move(result)};
}

}  // namespace aio
