// driver.hpp - the smallest honest thing that runs a coroutine on the loop.
//
// A Coro does nothing by itself. A Driver takes one (the "top" of a chain), and runs it
// in steps: each step is one callback on the loop that resumes the chain where it last
// stopped, and runs until the chain stops again at a leaf await (a Future, a sleep).
// The leaf tells the driver what it waits for (suspend_on); the future's done callback
// schedules the driver's next step. When the top coroutine returns, the driver, itself
// a future, completes with its outcome, and whoever awaits the driver wakes up.
//
//     loop ──step()──► coroutine chain runs ──co_await fut──► suspend_on(fut)
//       ▲                                                          │
//       └──── schedule(step_) ◄── fut's done callback ◄── fut done ┘
//
// This is asyncio's Task.__step / Task.__wakeup without names, cancellation or the
// task registry: lesson 3's Task derives from Driver and adds them through the hooks
// marked "hook" below. The step is a Handle embedded in the driver, so waking a
// driver schedules memory it already owns: no allocation per await. It is a bare
// Handle (three words), not the loop's CallbackHandle: a step needs no callable
// buffer and no timer fields, and every task would carry them.
//
// A sleep does not wait on a future: the driver parks that same step handle in the
// loop's timer heap (sleep_until; EventLoop::schedule_at) and remembers that it sleeps
// (nap_). When the deadline comes the loop runs the handle once to say so, which
// queues the real step for the next iteration (the hop asyncio's timer callback makes
// by completing the sleep's future); lesson 3's cancel takes it back out of the heap
// early (interrupt_sleep).
//
// Lifetime: a pending driver holds a reference to itself (the loop's, in asyncio's
// terms), so it lives until it finishes even if nobody keeps a handle to it. A loop
// closed over pending drivers destroys their frames and reports each through
// call_exception_handler: "<kind> was destroyed but it is pending!", with the driver
// itself under the key "task" (asyncio: Task.__del__). A driver its maker owns and the
// caller never saw (run_until_complete's, gather's children) is destroyed silently
// (asyncio: _log_destroy_pending = False).
#pragma once

#include <coroutine>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/intrusive_list.hpp"

namespace aio {

namespace detail {
class DriverList;
}

class Driver : public detail::FutureStateBase {
public:
    // Takes ownership of the frame and schedules the first step.
    Driver(EventLoop& loop, std::coroutine_handle<> frame, detail::PromiseBase& top,
           const char* kind = "Driver");
    ~Driver() override;

    // asyncio: Task.__step. One step: resume the chain where it stopped.
    void step();

    // Called by leaf awaiters through detail::suspend_on: the chain stopped at `at`
    // (whose promise is `promise`), waiting for `fut`, or with fut null, yielding one
    // iteration (asyncio: __sleep0).
    void suspend_on(detail::PromiseBase& promise, std::coroutine_handle<> at, FutureStateBase* fut);
    void forget(FutureStateBase* fut) noexcept { fut->remove_waker(step_); }
    // Called by sleep's awaiter (sleep.hpp) for a delay > 0: the chain stopped at `at`
    // until `when` on the loop's clock, its step parked in the timer heap.
    void sleep_until(detail::PromiseBase& promise, std::coroutine_handle<> at, double when);
    // Called by sleep's awaiter as it resumes: the sleep is over. Throws what the
    // sleep_interrupted hook throws if it was interrupted.
    void woke();
    // Called if sleep's awaiter is destroyed while it sleeps (its frame is destroyed):
    // the step leaves the timer heap.
    void sleep_over() noexcept;

    // hook: called by a leaf awaiter's await_resume after it was suspended. Lesson 3
    // throws the pending CancelledError from here, at the co_await.
    virtual void resumed() {}
    // A sleep is in progress: parked, or its deadline passed (or it was interrupted)
    // and the step that ends it is queued.
    bool asleep() const noexcept { return nap_ != Nap::none; }
    // A Driver cannot be cancelled (lesson 3's Task can); it refuses set_exception.
    bool cancel(std::string message = {}) override;
    void set_exception(std::exception_ptr error) override;

    // For printable forms, tests and gdb.
    const char* coro_name() const noexcept { return coro_name_; }
    Location waiting_at() const noexcept { return {waiting_file_, waiting_line_}; }
    std::coroutine_handle<> suspended_frame() const noexcept { return resume_point_; }
    Handle& step_handle() noexcept { return step_; }
    const Handle& step_handle() const noexcept { return step_; }
    // The top coroutine's promise, for a typed result (Promise<T>::value). Valid while
    // has_frame(): a finished driver keeps its frame (and so its result) until it dies.
    detail::PromiseBase& top_promise() noexcept { return *top_promise_; }
    bool has_frame() const noexcept { return static_cast<bool>(top_); }

    // Destroys the frame of a pending driver, reporting that it was pending.
    void abandon() noexcept;
    // asyncio: _log_destroy_pending. False: abandon() says nothing.
    void set_log_destroy_pending(bool log) noexcept { log_destroy_pending_ = log; }
    // hook: this driver as the exception context holds it. A Driver gives a
    // detail::Ref<Driver>; lesson 3's Task gives an aio::Task<>.
    virtual ContextValue context_value();

protected:
    // hook: before and after each step (lesson 3 sets current_task here). When
    // step_begins returns false the coroutine is not resumed and the driver finishes
    // (lesson 3: a task cancelled before its first step never starts its coroutine).
    virtual bool step_begins() { return true; }
    virtual void step_ends() noexcept {}
    // hook: the chain stopped at a leaf await on `fut` (null: a bare yield). Lesson 3
    // records its _fut_waiter here and cancels `fut` at once if a cancel is pending.
    virtual void waiting_on(FutureStateBase* /*fut*/) {}
    // hook: the top coroutine returned or threw: complete this future with its
    // outcome. Lesson 3's Task also turns a CancelledError into the cancelled state.
    virtual void settle();
    // hook: the chain stopped at a sleep, its step parked (sleep_until). Lesson 3
    // interrupts the sleep at once if a cancel is pending.
    virtual void sleeping() {}
    // hook: woke() found the sleep interrupted. Lesson 3 throws CancelledError here.
    virtual void sleep_interrupted() {}
    // Ends a parked sleep now: takes the step out of the timer heap and queues it; the
    // awaiter's woke() then calls sleep_interrupted. False if not parked (not asleep,
    // or the timer's hop has run: the sleep is over). Lesson 3's cancel.
    bool interrupt_sleep();
    bool sleep_was_interrupted() const noexcept {
        return nap_ == Nap::interrupted || nap_ == Nap::overtaken;
    }
    // hook: abandon() destroyed the frame of this pending driver. Lesson 3's Task
    // forgets its _fut_waiter here: that future lived in (or was kept by) the frame.
    virtual void frame_destroyed() noexcept {}
    // For the never-retrieved and destroyed-pending messages.
    void describe(std::string& out) const override;

    // The last reference went. In its frame's room, the driver destroys itself (and so
    // the frame) and then frees the block they share; else `delete this`.
    void dispose() noexcept override;

    void complete_with_result() { finish_with_result(); }
    void complete_with_exception(std::exception_ptr e) { finish_with_exception(std::move(e)); }

private:
    friend class detail::DriverList;
    static void run_step(Handle& h);
    static void describe_step(const Handle& h, std::string& out);
    static const HandleOps step_ops;
    void finish();  // settle(), then leave the loop's list of pending drivers
    void timer_fired();
    void destroy_frame() noexcept;
    void stopped_at(detail::PromiseBase& promise, std::coroutine_handle<> at) noexcept;

    Handle step_;                           // scheduled to run step()
    std::coroutine_handle<> top_;           // the frame we own (null once destroyed)
    detail::PromiseBase* top_promise_;      // its promise (inside that frame)
    const char* coro_name_;                 // the top coroutine's name, for messages
    std::coroutine_handle<> resume_point_;  // the innermost frame to resume next
    detail::PromiseBase* resume_promise_;   // its promise (where a chain's destruction starts)
    detail::ListLinks<Driver> links_;       // in the loop's detail::DriverList while pending
    // Its co_await, while suspended: a Location in two fields, so that the small fields
    // below share the line's 8-byte word (a task is 8 B smaller: its room, 16 B).
    const char* waiting_file_ = nullptr;
    int waiting_line_ = 0;
    bool log_destroy_pending_ = true;  // abandon() reports it
    // Where a sleep is (sleep_until): its step parked in the timer heap (or, its
    // deadline reached, queued for the timer's hop); due (the hop ran, the step is
    // queued); interrupted (taken out early, the step queued); overtaken (interrupted
    // while its timer's hop was queued: the hop does nothing, a callback runs the step).
    enum class Nap : unsigned char { none, parked, due, interrupted, overtaken };
    Nap nap_ = Nap::none;
    // The size of the frame's room this driver lives in (frame_room.hpp), 0 if it was
    // allocated on its own (a user's task factory made it, say).
    std::uint16_t room_ = 0;
};

namespace detail {
// Makes a D (a Driver or a class derived from it) for `frame` with D(args...): in the
// frame's room when D fits there (one allocation per task), else on its own.
template <class D, class... Args>
D* new_driver(std::coroutine_handle<> frame, Args&&... args) {
    if (void* room = frame_room(frame, sizeof(D)))
        return ::new (room) D(std::forward<Args>(args)...);
    return new D(std::forward<Args>(args)...);
}
}  // namespace detail

namespace detail {

// The pending drivers of one loop (an EventLoop extension): asyncio's _all_tasks.
class DriverList : public LoopExtension {
public:
    explicit DriverList(EventLoop&) {}
    void add(Driver* d) noexcept { pending_.push_back(*d); }
    void remove(Driver* d) noexcept { pending_.remove(*d); }
    template <class F>
    void for_each(F&& fn) const {
        for (Driver* d = pending_.front(); d; d = Pending::next(*d)) fn(*d);
    }
    std::size_t size() const noexcept { return pending_.size(); }
    void loop_closing(EventLoop& loop) noexcept override;
    void loop_closed(EventLoop& loop) noexcept override;

private:
    using Pending = IntrusiveList<Driver, &Driver::links_>;
    Pending pending_;
    std::vector<Driver*> abandoned_;  // released once the loop's queues are empty
};

// How drivers are made: lesson 3 installs a factory that makes Tasks, so that every
// coroutine run by run_until_complete is a Task there (asyncio: loop.set_task_factory).
using DriverFactory = Driver* (*)(EventLoop&, std::coroutine_handle<>, PromiseBase&);
DriverFactory set_driver_factory(DriverFactory factory) noexcept;
Driver* make_driver(EventLoop& loop, std::coroutine_handle<> frame, PromiseBase& top);

// Runs the loop until `fut` is done (asyncio: the body of run_until_complete).
void run_until_done(EventLoop& loop, FutureStateBase& fut);

}  // namespace detail

namespace detail {
// Hands the frame of `coro` to make(frame, promise), which makes its driver (a driver
// factory may run user code). The frame is the driver's once one took it (its
// promise names a driver), even if make threw afterwards; until then the Coro keeps
// it, and destroys it if make throws (on a closed loop, say).
template <class T, class Make>
auto hand_over(Coro<T>& coro, Make&& make) {
    auto frame = coro.frame();
    try {
        auto* made = make(frame, frame.promise());
        (void)coro.release();
        return made;
    } catch (...) {
        if (frame.promise().driver) (void)coro.release();
        throw;
    }
}
}  // namespace detail

// Starts driving a coroutine on `loop`; the Ref is the caller's reference.
template <class T>
detail::Ref<Driver> drive(EventLoop& loop, Coro<T> coro) {
    if (!coro) throw RuntimeError("cannot drive a moved-from coroutine");
    return detail::Ref<Driver>(detail::hand_over(coro, [&loop](auto frame, auto& promise) {
        return detail::make_driver(loop, frame, promise);
    }));
}

// The result of a finished driver whose top coroutine is a Coro<T>, moved out.
template <class T>
T take_result(Driver& d) {
    std::exception_ptr error = d.exception();  // throws CancelledError if cancelled
    if (error) std::rethrow_exception(error);
    return static_cast<detail::Promise<T>&>(d.top_promise()).take_result();
}

// asyncio: BaseEventLoop.run_until_complete, reached as loop.run_until_complete(x).
// The driver made here is the call's own: if the loop stops before it is done and
// is closed, it goes silently (asyncio: "if new_task: future._log_destroy_pending =
// False").
template <class T>
T aio_run_until_complete(EventLoop& loop, Coro<T> coro) {
    detail::Ref<Driver> d = drive(loop, std::move(coro));
    d->set_log_destroy_pending(false);
    detail::run_until_done(loop, *d);
    return take_result<T>(*d);
}

template <class T>
decltype(auto) aio_run_until_complete(EventLoop& loop, Future<T> fut) {
    detail::run_until_done(loop, *fut.state());
    if constexpr (std::is_void_v<T>)
        fut.result();
    else
        return T(fut.result());
}

// Any other awaitable (sleep(), a user's awaiter): asyncio's ensure_future wraps it in a
// coroutine (awaitables.hpp), which runs as above. An rvalue is moved into that
// coroutine, an lvalue copied. Lesson 3's Task<T> has an overload of its own.
template <Awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>> &&
         !detail::is_future_v<A>) auto aio_run_until_complete(EventLoop& loop, A&& awaitable) {
    return aio_run_until_complete(loop, detail::wrap(std::forward<A>(awaitable)));
}

}  // namespace aio
