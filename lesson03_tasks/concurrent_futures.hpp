// concurrent_futures.hpp - aio::ConcurrentFuture<T>, a result that any thread may wait
// for (asyncio: concurrent.futures.Future, what run_coroutine_threadsafe returns).
//
// lesson 2's Future belongs to one loop and is touched on that loop's thread only. This
// is the other kind: it belongs to no loop. Any thread may block on it (result(timeout)),
// cancel it or add done callbacks; whoever does the work completes it from its own thread.
//
// States, as concurrent.futures._base has them:
//   PENDING ──set_running_or_notify_cancel()──► RUNNING ──set_result/exception──► FINISHED
//      │                                                                            ▲
//      ├──cancel()──► CANCELLED ──set_running_or_notify_cancel()──► CANCELLED_AND_NOTIFIED
//      └──set_result/set_exception (straight from PENDING, as Python allows) ───────┘
// cancel() succeeds only before RUNNING. Each done callback runs once: in the thread
// that finishes or cancels the future, or at once in the thread that adds it to a
// future already done. A callback that throws is logged ("exception calling callback
// for <Future ...>") and the others still run.
//
// Threads: one mutex guards the state, a condition variable wakes the waiters, and
// callbacks run outside the lock. The result is written once, before the state turns
// FINISHED under the lock, and never again: result() can hand out a reference.
// ConcurrentFuture<T> is a shared reference (std::shared_ptr) to the state.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/exceptions.hpp"        // RuntimeError
#include "lesson02_coroutines/exceptions.hpp"  // CancelledError, InvalidStateError
#include "lesson03_tasks/exceptions.hpp"       // TimeoutError

namespace aio {

namespace detail {

// What does not depend on T: the state machine, the exception, waiting, callbacks.
class ConcurrentStateBase : public std::enable_shared_from_this<ConcurrentStateBase> {
public:
    enum class State { pending, running, cancelled, cancelled_and_notified, finished };
    using Callback = std::function<void(ConcurrentStateBase&)>;

    ConcurrentStateBase() = default;
    ConcurrentStateBase(const ConcurrentStateBase&) = delete;
    ConcurrentStateBase& operator=(const ConcurrentStateBase&) = delete;
    virtual ~ConcurrentStateBase() = default;

    bool cancel();
    bool cancelled() const;
    bool running() const;
    bool done() const;
    bool set_running_or_notify_cancel();
    void set_exception(std::exception_ptr error);
    std::exception_ptr exception(std::optional<double> timeout);
    void add_done_callback(Callback fn);
    std::string repr() const;

protected:
    // Blocks until done or `timeout` seconds pass; throws CancelledError if cancelled,
    // TimeoutError if still not done. `lock` holds mutex_.
    void wait_finished(std::unique_lock<std::mutex>& lock, std::optional<double> timeout);
    // wait_finished, then rethrows the exception the future finished with, if any.
    void wait_result(std::unique_lock<std::mutex>& lock, std::optional<double> timeout);
    // Under the lock: throws InvalidStateError unless the result may still be set.
    void check_settable() const;
    // complete(lock, FINISHED).
    void finish(std::unique_lock<std::mutex>& lock);

    mutable std::mutex mutex_;

private:
    std::string repr_locked() const;  // mutex_ held
    // Enters `done` (cancelled or finished), wakes the waiters, releases `lock`, then
    // runs the callbacks.
    void complete(std::unique_lock<std::mutex>& lock, State done);
    void run_callbacks(std::vector<Callback> callbacks);
    void call_one(Callback& fn) noexcept;

    // Guarded by mutex_.
    std::condition_variable changed_;
    State state_ = State::pending;
    std::exception_ptr exception_;
    std::vector<Callback> callbacks_;  // until they run, once
};

template <class T>
class ConcurrentState final : public ConcurrentStateBase {
public:
    template <class... U>
    void set_result(U&&... value) {
        std::unique_lock lock(mutex_);
        check_settable();
        if constexpr (!std::is_void_v<T>) value_.emplace(std::forward<U>(value)...);
        finish(lock);
    }
    std::add_lvalue_reference_t<T> result(std::optional<double> timeout) {
        std::unique_lock lock(mutex_);
        wait_result(lock, timeout);
        if constexpr (!std::is_void_v<T>) return *value_;
    }

private:
    struct Nothing {};
    // Written once, under the lock, before FINISHED; read-only afterwards.
    std::optional<std::conditional_t<std::is_void_v<T>, Nothing, T>> value_;
};

}  // namespace detail

// asyncio: concurrent.futures.Future. Copies share one state. Every member may be called
// from any thread. Timeouts are in seconds of real time (std::nullopt: no limit).
template <class T = void>
class ConcurrentFuture {
public:
    using State = detail::ConcurrentState<T>;

    // A new pending future (asyncio: concurrent.futures.Future()).
    ConcurrentFuture() : state_(std::make_shared<State>()) {}
    explicit ConcurrentFuture(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

    // asyncio: Future.cancel. True if the future is (now) cancelled; false once it runs
    // or is done. Wakes the waiters and runs the callbacks in this thread.
    bool cancel() { return state_->cancel(); }
    bool cancelled() const { return state_->cancelled(); }
    bool running() const { return state_->running(); }
    bool done() const { return state_->done(); }
    // asyncio: Future.result(timeout). Waits up to `timeout` seconds, then gives the
    // result or rethrows the exception; throws aio::CancelledError if cancelled and
    // aio::TimeoutError if still not done (Python 3.11: the built-in TimeoutError).
    std::add_lvalue_reference_t<T> result(std::optional<double> timeout = std::nullopt) const {
        return state_->result(timeout);
    }
    // asyncio: Future.exception(timeout). Null if it finished with a result.
    std::exception_ptr exception(std::optional<double> timeout = std::nullopt) const {
        return state_->exception(timeout);
    }
    // asyncio: Future.add_done_callback. fn(ConcurrentFuture<T>&) runs once done: in
    // the thread that completes or cancels it, or here at once if it is done already.
    template <class F>
    void add_done_callback(F fn) {
        state_->add_done_callback([fn = std::move(fn)](detail::ConcurrentStateBase& s) mutable {
            ConcurrentFuture self(std::static_pointer_cast<State>(s.shared_from_this()));
            fn(self);
        });
    }

    // For whoever does the work (asyncio: these are "internal", used by executors).
    // set_running_or_notify_cancel: false if cancelled (then do not run), else RUNNING.
    bool set_running_or_notify_cancel() { return state_->set_running_or_notify_cancel(); }
    // Throw aio::InvalidStateError if cancelled or finished already.
    template <class... U>
    void set_result(U&&... value) {
        state_->set_result(std::forward<U>(value)...);
    }
    void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }

    // "<Future at 0x... state=pending>", "state=finished raised ..." (asyncio's form).
    std::string repr() const { return state_->repr(); }
    bool operator==(const ConcurrentFuture& other) const noexcept { return state_ == other.state_; }

private:
    std::shared_ptr<State> state_;
};

}  // namespace aio
