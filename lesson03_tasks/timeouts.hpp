// timeouts.hpp - a deadline for a block of a task, and wait_for built on it
// (asyncio: timeouts.py Timeout, timeout, timeout_at; tasks.wait_for as 3.12 writes it).
//
// A Timeout is a scope inside a task. On entry it notes the task and its cancelling()
// count, and schedules loop.call_at(deadline). If the deadline comes first, the timer
// cancels the task: CancelledError appears at whatever co_await the task is suspended on
// and unwinds the block. At the exit the scope withdraws its request (uncancel()) and
// turns the CancelledError into TimeoutError, but only if the count is back to its value
// at entry: then nobody else asked. A foreign cancel passes through as CancelledError,
// and of nested scopes that expire together only the outermost converts.
// ("count <= its value at entry" is the rule of 3.11.7 and 3.12+; 3.11.0 compared with 0,
// which broke a timeout used after a caught cancellation.)
//
// C++ has no `async with`, so the block is a body the scope awaits:
//     int n = co_await aio::timeout(5.0, [&]() -> aio::Coro<int> { co_return co_await get(); });
// The body may take a Timeout& to reschedule() it or ask expired(). It runs inside the
// same co_await expression, so capturing by reference is safe. To keep the scope for
// later questions (expired(), when()), make it first and use lesson 2's async_with:
//     aio::Timeout cm = aio::timeout(5.0);
//     co_await aio::async_with(cm, [&]() -> aio::Coro<void> { co_await work(); });
// Both are made of the manual form: cm.enter() ... cm.exit(what the block threw).
//
// wait_for(aw, t) is such a scope around `co_await aw`, as in 3.12 (gh-96764): a
// cancelled inner task is waited for, and its cancellation rules are the scope's.
#pragma once

#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "lesson01_loop/handles.hpp"
#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace aio {

// asyncio: timeouts.Timeout. Not copyable or movable: the timer points at it.
class Timeout {
public:
    // asyncio: timeouts._State; repr() prints created, active, expiring, expired, finished.
    enum class State : std::uint8_t { created, entered, expiring, expired, exited };

    // A deadline on the loop's clock; nullopt (Python's None) never expires, nor does
    // +infinity (no timer is scheduled for it). Throws aio::ValueError for NaN.
    explicit Timeout(std::optional<double> when);
    Timeout(const Timeout&) = delete;
    Timeout& operator=(const Timeout&) = delete;
    ~Timeout() { handle_.cancel(); }

    // asyncio: Timeout.when / reschedule / expired.
    std::optional<double> when() const noexcept { return when_; }
    // Moves the deadline (nullopt: none); one in the past fires in the next iteration.
    // RuntimeError unless entered and not yet expiring: "Timeout has not been entered",
    // "Cannot change state of expiring Timeout" (or expired, finished).
    void reschedule(std::optional<double> when);
    bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }
    State state() const noexcept { return state_; }
    // "<Timeout [active] when=12.5>", "<Timeout [expired]>".
    std::string repr() const;

    // asyncio: Timeout.__aenter__. Must run inside a task: RuntimeError "Timeout should
    // be used inside a task"; a second entry: "Timeout has already been entered".
    void enter();
    // asyncio: Timeout.__aexit__. `error` is what the block threw (null if it
    // returned); gives back what to throw: TimeoutError (its cause() the CancelledError,
    // Python's __cause__) if this scope's deadline interrupted the block, else
    // `error` unchanged (null: nothing to throw). Cancels the timer. RuntimeError if the
    // scope is not entered.
    std::exception_ptr exit(std::exception_ptr error);
    // The same as awaitables, for lesson 2's async_with(scope, body), which reads like
    // `cm = timeout(1); async with cm: ...` and leaves cm to inspect afterwards.
    Coro<void> aenter();
    Coro<void> aexit(std::exception_ptr error);  // throws what exit() gives instead

private:
    void on_timeout();  // asyncio: Timeout._on_timeout

    std::optional<double> when_;
    State state_ = State::created;
    // Set by enter(), dropped by exit() (the scope usually lives in the task's frame).
    detail::Ref<TaskBase> task_;
    int cancelling_ = 0;  // task_->cancelling() at entry
    HandleRef handle_;    // the pending timer (or call_soon), while entered
};

// asyncio: timeouts.timeout(delay): a Timeout at loop.time() + delay, read now from the
// running loop (RuntimeError if none). nullopt: no deadline.
Timeout timeout(std::optional<double> delay);
// asyncio: timeouts.timeout_at(when): a Timeout at an absolute loop.time().
inline Timeout timeout_at(std::optional<double> when) { return Timeout(when); }

namespace detail {
// A scope's body is called with the scope if it takes one, else with nothing.
template <class Body, class Scope>
decltype(auto) call_body(Body& body, Scope& scope) {
    if constexpr (std::is_invocable_v<Body&, Scope&>)
        return body(scope);
    else
        return body();
}
template <class Body, class Scope>
using body_result_t = awaited_t<decltype(call_body(std::declval<Body&>(), std::declval<Scope&>()))>;
}  // namespace detail

// `async with asyncio.timeout_at(when): return await body()`. body() returns a Coro<U>
// (a coroutine lambda) or any other awaitable (`[] { return aio::sleep(10); }`); this
// gives what awaiting it gives, or throws TimeoutError if the deadline interrupted it.
template <class Body>
AIO_TEMPLATE_CORO Coro<detail::body_result_t<Body, Timeout>> timeout_at(std::optional<double> when,
                                                                        Body body) {
    using U = detail::body_result_t<Body, Timeout>;
    Timeout scope(when);
    scope.enter();
    std::exception_ptr error;
    if constexpr (std::is_void_v<U>) {
        try {
            co_await detail::call_body(body, scope);
        } catch (...) {
            error = std::current_exception();
        }
        if (std::exception_ptr out = scope.exit(error)) std::rethrow_exception(out);
    } else {
        std::optional<U> value;
        try {
            value.emplace(co_await detail::call_body(body, scope));
        } catch (...) {
            error = std::current_exception();
        }
        if (std::exception_ptr out = scope.exit(error)) std::rethrow_exception(out);
        co_return std::move(*value);  // no error, so the body returned
    }
}

// `async with asyncio.timeout(delay): return await body()`.
template <class Body>
Coro<detail::body_result_t<Body, Timeout>> timeout(std::optional<double> delay, Body body) {
    return timeout_at(timeout(delay).when(), std::move(body));
}

// ---- wait_for -----------------------------------------------------------------------
//
// asyncio: tasks.wait_for (3.12). Awaits aw, but for at most `timeout` seconds:
//   - nullopt: a plain await;
//   - > 0: `async with timeout(t): return await aw`. At the deadline the inner work is
//     cancelled and waited for; if it ends cancelled, TimeoutError. If it swallowed the
//     cancel and returned, that value is returned; another error it raised propagates.
//     A coroutine runs inline in the caller's task, as `await coro` does;
//   - <= 0: a done future gives its result at once; a coroutine is never started
//     (closed) and TimeoutError is thrown; a pending task or future is cancelled and
//     waited for, then as above.
// Cancelling the caller cancels the inner work and waits for it (the request travels to
// the awaited task); the caller gets CancelledError, not TimeoutError. A Task's or
// Future's result is copied out (asyncio hands back the same object).
// Any other awaitable (sleep(), a user's awaiter) is awaited inline too, inside a
// coroutine that owns it (awaitables.hpp): `wait_for(aio::sleep(10), 1)`.
template <class T>
AIO_TEMPLATE_CORO Coro<T> wait_for(Coro<T> coro, std::optional<double> timeout);
template <class T>
Coro<T> wait_for(Task<T> task, std::optional<double> timeout);
template <class T>
Coro<T> wait_for(Future<T> future, std::optional<double> timeout);
template <Awaitable A>
requires(!detail::FutureLike<A> &&
         !detail::is_coro_v<std::remove_cvref_t<A>>) auto wait_for(A&& aw,
                                                                   std::optional<double> timeout) {
    return wait_for(detail::wrap(std::forward<A>(aw)), timeout);
}

// ---- template implementation -----------------------------------------------------

namespace detail {

// asyncio: tasks._cancel_and_wait. Cancels fut and waits until it is done, on a waiter
// of its own, so that cancelling the waiting task does not wait for fut.
Coro<void> cancel_and_wait(FutureStateBase& fut);
// Throws aio::ValueError("wait_for: the timeout is NaN") for NaN.
void check_timeout(std::optional<double> timeout);

// A coroutine that awaits a Task<T> or Future<T> (F) and copies its result out.
template <class T, class F>
AIO_TEMPLATE_CORO Coro<T> await_copy(F& fut) {
    co_return co_await fut;
}

// wait_for on a Task<T> or a Future<T> (F).
template <class T, class F>
AIO_TEMPLATE_CORO Coro<T> wait_for_future(F fut, std::optional<double> timeout) {
    check_timeout(timeout);
    // asyncio 3.11: ensure_future(fut, loop=loop). A future of another loop would
    // otherwise be cancelled there when the timeout is <= 0, and waited for forever.
    check_loop(get_running_loop(), *state_of(fut));
    if (!timeout) co_return co_await fut;
    if (*timeout > 0)
        co_return co_await aio::timeout(*timeout, [&fut] { return await_copy<T>(fut); });
    bool was_done = fut.done();
    if (!was_done) co_await cancel_and_wait(*state_of(fut));
    try {
        co_return fut.result();
    } catch (const CancelledError&) {
        if (was_done) throw;
        throw TimeoutError("", std::current_exception());  // asyncio: raise TimeoutError from exc
    }
}

}  // namespace detail

template <class T>
AIO_TEMPLATE_CORO Coro<T> wait_for(Coro<T> coro, std::optional<double> timeout) {
    if (timeout && (std::isnan(*timeout) || *timeout <= 0)) {
        coro.close();  // never started: no "never awaited" warning
        detail::check_timeout(timeout);
        throw TimeoutError();
    }
    if (!timeout) co_return co_await std::move(coro);
    co_return co_await aio::timeout(*timeout, [&coro] { return std::move(coro); });
}

template <class T>
Coro<T> wait_for(Task<T> task, std::optional<double> timeout) {
    return detail::wait_for_future<T>(std::move(task), timeout);
}

template <class T>
Coro<T> wait_for(Future<T> future, std::optional<double> timeout) {
    return detail::wait_for_future<T>(std::move(future), timeout);
}

}  // namespace aio
