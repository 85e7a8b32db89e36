// futures.hpp - aio::Future<T>, a result that will exist later (asyncio: futures.py).
//
// A future is pending, then exactly once either finished (with a result or an
// exception) or cancelled. Whoever wants to know when registers a done callback; the
// future schedules every callback with call_soon when it completes, in registration
// order, and never calls one inline. That is on purpose (asyncio does the same): code
// that calls set_result() keeps running to its next await before any waiter runs, so
// waiters never see the setter half-way through, and a long chain of futures cannot
// recurse on the stack.
//
// Layers, top to bottom:
//   Future<T>              a cheap, copyable reference; what users hold and await
//   detail::FutureState<T> the shared state: the result value, on top of
//   detail::FutureStateBase the state machine, exception, cancel message, callbacks.
// FutureStateBase knows nothing about T, so lesson 3's Task (which keeps its result in
// its coroutine's promise) is a FutureStateBase too, and anything that waits on "some
// future" (gather, wait, the driver) works with the base.
//
// Memory: a state is reference counted by its Future<T> handles (single-threaded, like
// everything on a loop). States embedded in a coroutine frame (sleep uses one) are
// never counted: their owner outlives every use. Every task is one of these, so the
// base is kept small (64 bytes): done callbacks past the first cost a pointer while
// there are none, and callback ids come from a per-thread counter, not a field.
#pragma once

#include <cstdint>
#include <exception>
#include <forward_list>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/frame_pool.hpp"

namespace aio {

using CallbackId = std::uint64_t;

namespace detail {

class FutureStateBase : public PoolAllocated {
public:
    enum class State : std::uint8_t { pending, cancelled, finished };

    explicit FutureStateBase(EventLoop& loop, const char* kind = "Future") noexcept
        : loop_(&loop), kind_(kind) {}
    virtual ~FutureStateBase();
    FutureStateBase(const FutureStateBase&) = delete;
    FutureStateBase& operator=(const FutureStateBase&) = delete;

    EventLoop& get_loop() const noexcept { return *loop_; }
    bool done() const noexcept { return state_ != State::pending; }
    bool cancelled() const noexcept { return state_ == State::cancelled; }
    State state() const noexcept { return state_; }

    // asyncio: Future.cancel. False if already done; else cancelled, callbacks scheduled.
    virtual bool cancel(std::string message = {});
    // asyncio: Future.exception. Null if finished with a result; throws
    // InvalidStateError while pending and CancelledError when cancelled.
    std::exception_ptr exception();
    // asyncio: Future.set_exception. Throws InvalidStateError if already done.
    virtual void set_exception(std::exception_ptr error);

    // asyncio: Future.add_done_callback. fn(*this) runs via call_soon once done (at
    // once, via call_soon, if already done). Returns an id for remove_done_callback,
    // unique among all callbacks registered on this thread.
    CallbackId add_done_callback(std::function<void(FutureStateBase&)> fn);
    // asyncio: Future.remove_done_callback. Returns how many were removed (0 or 1).
    std::size_t remove_done_callback(CallbackId id) noexcept;
    // The allocation-free done callback: schedule this handle (a driver's step).
    void add_waker(Handle& waker);
    void remove_waker(Handle& waker) noexcept;  // every registration of it

    // "<Future pending>", "<Future finished result=42>", "<Task cancelled name=...>".
    std::string repr() const;
    const char* kind() const noexcept { return kind_; }

    // Reference counting for states on the heap (Future<T>, drivers, tasks).
    void retain() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) dispose();
    }

protected:
    // The last reference went: destroy and free. A driver that lives in its frame's
    // block frees that block instead (driver.hpp, frame_room.hpp).
    virtual void dispose() noexcept { delete this; }
    // For result(): throws unless finished with a result, marking the exception seen.
    // Inline, as every await of a task reads its result through it; the throwing half
    // is not.
    void raise_unless_result() const {
        if (state_ != State::finished || exception_) raise_outcome();
    }
    // Moves to finished and schedules the callbacks (asyncio: __schedule_callbacks).
    void finish_with_result();
    void finish_with_exception(std::exception_ptr error);
    void check_pending(const char* what) const;
    // For subclasses that report an unread exception themselves, with their own repr.
    bool exception_unseen() const noexcept {
        return state_ == State::finished && exception_ && !exception_seen_;
    }
    void mark_exception_seen() const noexcept { exception_seen_ = true; }
    // The exception, for printable forms: unlike exception(), it does not count as read.
    const std::exception_ptr& peek_exception() const noexcept { return exception_; }
    // The text between the kind and '>' in repr(); Future<T> prints its result.
    virtual void describe(std::string& out) const;
    std::exception_ptr make_cancelled_error() const;

private:
    [[noreturn]] void raise_outcome() const;   // raise_unless_result when it throws
    void report_unretrieved() const noexcept;  // the destructor's "never retrieved"
    struct DoneCallback {
        Handle* waker;                             // either a handle to schedule,
        std::function<void(FutureStateBase&)> fn;  // or a function to call with us
        CallbackId id;                             // (fn only)
    };
    void schedule_callbacks();
    void schedule_spilled();  // schedule_callbacks' part for the list
    void schedule_one(DoneCallback& cb);

    EventLoop* loop_;
    const char* kind_;  // "Future", "Task", ... for messages
    // Set once, when the future completes.
    State state_ = State::pending;
    mutable bool exception_seen_ =
        false;  // result()/exception() read it (asyncio: __log_traceback)
    std::uint32_t refs_ = 0;
    std::exception_ptr exception_;
    std::unique_ptr<std::string> cancel_message_;  // cancellation is rare: no inline string
    // Done callbacks. Most futures have one waiter, kept inline; the rest spill over
    // into a list: one pointer while empty (a vector is three), newest first because
    // push_front is the O(1) end, so schedule_callbacks reverses it before running it.
    Handle* first_waker_ = nullptr;
    std::forward_list<DoneCallback> more_;
};

// A reference-counting pointer to a state (retain/release).
template <class S>
class Ref {
public:
    Ref() noexcept = default;
    explicit Ref(S* s) noexcept : s_(s) {  // takes a new reference
        if (s_) s_->retain();
    }
    Ref(const Ref& o) noexcept : Ref(o.s_) {}
    Ref(Ref&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Ref& operator=(Ref o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    ~Ref() {
        if (s_) s_->release();
    }
    S* get() const noexcept { return s_; }
    S* operator->() const noexcept { return s_; }
    S& operator*() const noexcept { return *s_; }
    explicit operator bool() const noexcept { return s_ != nullptr; }

private:
    S* s_ = nullptr;
};

template <class T>
class FutureState : public FutureStateBase {
public:
    using FutureStateBase::FutureStateBase;

    // asyncio: Future.set_result. Throws InvalidStateError if already done.
    template <class U>
    void set_result(U&& value) {
        check_pending("set_result");
        value_.emplace(std::forward<U>(value));
        finish_with_result();
    }
    // asyncio: Future.result. A reference into the state: every awaiter sees the same.
    T& result() {
        raise_unless_result();
        return *value_;
    }

protected:
    void describe(std::string& out) const override;

private:
    std::optional<T> value_;
};

template <>
class FutureState<void> : public FutureStateBase {
public:
    using FutureStateBase::FutureStateBase;
    void set_result() {
        check_pending("set_result");
        finish_with_result();
    }
    void result() { raise_unless_result(); }
};

// Throws aio::ValueError unless `fut` belongs to `loop`: a future is completed, and its
// callbacks run, on its own loop only (asyncio: ensure_future(fut, loop=loop)).
void check_loop(const EventLoop& loop, const FutureStateBase& fut);

// Tells the driver of `promise` that its coroutine `at` waits for `fut` (or, with fut
// null, just yields one iteration). Throws aio::RuntimeError outside any driver.
// Defined in driver.cpp.
void suspend_on(PromiseBase& promise, std::coroutine_handle<> at, FutureStateBase* fut);
// Undoes what suspend_on registered, if the waiting coroutine is destroyed early.
void forget_waiter(Driver* driver, FutureStateBase* fut) noexcept;
// The driver's hook run when a leaf await resumes (lesson 3 raises cancellation here).
void resumed(Driver* driver);
Driver* driver_of(PromiseBase& promise);

// co_await on a future: suspend unless done; resume from its done callback.
// asyncio: Future.__await__.
class FutureAwaiterBase {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    // `state` must be a counted (heap) state: the awaiter keeps it alive.
    explicit FutureAwaiterBase(FutureStateBase* state) noexcept : state_(state), keep_(state) {}
    FutureAwaiterBase(const FutureAwaiterBase&) = delete;
    FutureAwaiterBase& operator=(const FutureAwaiterBase&) = delete;
    ~FutureAwaiterBase() {
        if (driver_ && !state_->done()) forget_waiter(driver_, state_);
    }
    bool await_ready() const noexcept { return state_->done(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        suspend_on(at.promise(), at, state_);
        driver_ = at.promise().driver;
    }

protected:
    // A suspended await passes through the driver's hook before reading the result.
    void after_resume() {
        if (driver_) resumed(driver_);
    }
    FutureStateBase* state_;
    Ref<FutureStateBase> keep_;  // alive until this destructor has read state_
    Driver* driver_ = nullptr;   // set once suspended
};

template <class T>
class FutureAwaiter : public FutureAwaiterBase {
public:
    explicit FutureAwaiter(FutureState<T>* s) : FutureAwaiterBase(s) {}
    decltype(auto) await_resume() {
        after_resume();
        return static_cast<FutureState<T>*>(state_)->result();
    }
};

}  // namespace detail

// asyncio: asyncio.Future. A shared reference to one future state.
template <class T = void>
class Future {
public:
    using State = detail::FutureState<T>;

    // A new pending future on `loop` (asyncio: loop.create_future()).
    explicit Future(EventLoop& loop) : state_(new State(loop)) {}
    // A new pending future on the running loop, else the current one; throws
    // aio::RuntimeError when there is neither (asyncio: Future()).
    Future();
    explicit Future(detail::Ref<State> state) noexcept : state_(std::move(state)) {}

    bool done() const noexcept { return state_->done(); }
    bool cancelled() const noexcept { return state_->cancelled(); }
    bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }
    template <class... U>
    void set_result(U&&... value) {
        state_->set_result(std::forward<U>(value)...);
    }
    void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }
    template <class E>
    void set_exception(E error) {
        state_->set_exception(std::make_exception_ptr(std::move(error)));
    }
    decltype(auto) result() const { return state_->result(); }
    std::exception_ptr exception() const { return state_->exception(); }
    // fn(Future<T>&) runs via call_soon once the future is done.
    template <class F>
    CallbackId add_done_callback(F fn) {
        return state_->add_done_callback([fn = std::move(fn)](detail::FutureStateBase& s) mutable {
            Future<T> self(detail::Ref<State>(static_cast<State*>(&s)));
            fn(self);
        });
    }
    std::size_t remove_done_callback(CallbackId id) { return state_->remove_done_callback(id); }
    EventLoop& get_loop() const noexcept { return state_->get_loop(); }
    std::string repr() const { return state_->repr(); }
    State* state() const noexcept { return state_.get(); }

    detail::FutureAwaiter<T> operator co_await() const noexcept {
        return detail::FutureAwaiter<T>(state_.get());
    }

private:
    detail::Ref<State> state_;
};

namespace detail {
// asyncio: futures.isfuture. A Future<T>, or a class derived from one (lesson 3's
// Gathering), whatever its reference or const.
template <class T>
std::true_type future_test(const Future<T>*);
std::false_type future_test(const void*);
template <class A>
inline constexpr bool is_future_v =
    decltype(future_test(static_cast<const std::remove_cvref_t<A>*>(nullptr)))::value;
}  // namespace detail

// ---- template implementation -----------------------------------------------------

namespace detail {
EventLoop& loop_for_new_future();  // running loop, else current, else throws

template <class T>
void FutureState<T>::describe(std::string& out) const {
    if (state() == State::finished && value_) {
        out += " finished result=";
        if constexpr (Representable<T>)
            out += aio::repr(*value_);  // asyncio: reprlib.repr(result)
        else
            out += "<value>";
        return;
    }
    FutureStateBase::describe(out);
}
}  // namespace detail

template <class T>
Future<T>::Future() : Future(detail::loop_for_new_future()) {}

// asyncio: loop.create_future(), reached as loop.create_future<T>() (event_loop.hpp).
template <class T>
Future<T> aio_create_future(EventLoop& loop, std::type_identity<T>) {
    return Future<T>(loop);
}

}  // namespace aio
