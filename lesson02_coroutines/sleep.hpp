// sleep.hpp - co_await aio::sleep(seconds) (asyncio: tasks.sleep, tasks.__sleep0).
//
// sleep(d) is a future that a timer completes: the awaiter keeps the future inside
// itself (so inside the sleeping coroutine's frame: no allocation), schedules
// call_later(d) to finish it, and waits on it like any future. Waiting on a future,
// not on the timer, is what lets lesson 3 cancel a sleeping task the same way it
// cancels any waiting task; when the sleep ends either way, the timer is cancelled.
//
// sleep(0) (or any d <= 0) is different: no future, no timer, just "schedule my next
// step and let everyone else have one iteration" (asyncio's bare `yield`).
//
// Time is the loop's clock, so under a virtual clock sleeps take no real time.
#pragma once

#include <cmath>
#include <coroutine>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/futures.hpp"

namespace aio {

namespace detail {

struct Nothing {};  // the value of a sleep() without one: its await gives void

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
        timer_.cancel();
        if (driver_ && done_ && !done_->done()) forget_waiter(driver_, &*done_);
    }

    bool await_ready() const noexcept { return false; }

    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        driver_of(at.promise());  // throws outside a driver, before anything is set up
        if (delay_ <= 0) {
            suspend_on(at.promise(), at, nullptr);  // asyncio: __sleep0
        } else {
            EventLoop& loop = get_running_loop();
            done_.emplace(loop);
            FutureState<void>* fut = &*done_;
            // asyncio: futures._set_result_unless_cancelled
            timer_ = loop.call_later(delay_, [fut] {
                if (!fut->done()) fut->set_result();
            });
            suspend_on(at.promise(), at, fut);
        }
        driver_ = at.promise().driver;
    }

    auto await_resume() {
        resumed(driver_);
        if (done_) done_->result();  // throws CancelledError if the sleep was cancelled
        if constexpr (!std::is_same_v<T, Nothing>) return std::move(value_);
    }

private:
    // Every byte here is in each sleeping frame; sleep(d) without a value stores none.
    double delay_;
    [[no_unique_address]] T value_;
    std::optional<FutureState<void>> done_;  // exists only for delay > 0
    HandleRef timer_;                        // only to cancel it: no need for when()
    Driver* driver_ = nullptr;
};

// What sleep() returns: a plain value until it is awaited; the awaiter, which must
// not move once it holds a future, is made in place by operator co_await. It may be
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
