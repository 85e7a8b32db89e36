// tasks.hpp - aio::Task<T>: a coroutine scheduled to run on its own
// (asyncio: tasks.py, Task, create_task, current_task, all_tasks).
//
// A Task is lesson 2's Driver with what asyncio adds to it:
//   - a name ("Task-7" unless given one), made only when asked for;
//   - cancellation: cancel(msg) makes CancelledError(msg) appear at the co_await where
//     the task is suspended, by cancelling the future it waits on (_fut_waiter), or by
//     taking its step out of the timer heap if it sleeps (sleep.hpp: a sleep has no
//     future); if it waits on nothing (it has not started, or it yielded with
//     sleep(0)), a flag (_must_cancel) throws it at the next step instead. The task may
//     catch it and go on: cancel() is a request. cancelling()/uncancel() count
//     requests, as in 3.11+;
//   - current_task() while a step runs, and all_tasks() from the loop's list.
//
// Task<T> is a cheap reference to the task; awaiting it gives T& (every awaiter sees
// the same result) or rethrows. The task itself lives until it finishes whether or not
// anyone holds a Task<T>: the loop keeps it (unlike asyncio, where a task nobody
// references can be garbage-collected mid-flight; see the README).
//
// Including this header makes every coroutine the loop drives a Task, including those
// passed to loop.run_until_complete (asyncio: the default task factory).
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/futures.hpp"

namespace aio {

// The untyped task: everything but the result's type.
class TaskBase : public Driver {
public:
    TaskBase(EventLoop& loop, std::coroutine_handle<> frame, detail::PromiseBase& top);
    ~TaskBase() override;

    // asyncio: Task.get_name / set_name. "Task-N", N from a process-wide counter.
    std::string get_name() const;
    void set_name(std::string name);

    // asyncio: Task.cancel. False if done; else counts a request and returns true.
    // A task left pending by loop.close() has no coroutine left to cancel: while the
    // loop closes that is false, afterwards RuntimeError("Event loop is closed").
    bool cancel(std::string message = {}) override;
    // asyncio: Task.cancelling / uncancel: requests not yet withdrawn.
    int cancelling() const noexcept { return cancel_requests_; }
    int uncancel() noexcept;

    // asyncio: Task.set_result / set_exception are not for tasks.
    void set_exception(std::exception_ptr error) override;

    // The result, by reference into the coroutine's promise. Throws like result().
    template <class T>
    std::add_lvalue_reference_t<T> result_as();
    // What this task is suspended on (asyncio: _fut_waiter), or null: the future, or
    // while it sleeps its own step handle, parked in the timer heap (sleep.hpp).
    const void* waiting_for() const noexcept;

protected:
    bool step_begins() override;
    void step_ends() noexcept override;
    void waiting_on(FutureStateBase* fut) override;
    void sleeping() override;
    void resumed() override;
    void sleep_interrupted() override;
    void settle() override;
    void describe(std::string& out) const override;
    void frame_destroyed() noexcept override { fut_waiter_ = nullptr; }
    // An aio::Task<> (whatever the result type): what a handler gets under "task".
    ContextValue context_value() override;

private:
    std::exception_ptr make_cancel() const;

    std::uint64_t number_;               // for the default name
    std::unique_ptr<std::string> name_;  // only if set_name was called
    // Loop thread only; asyncio's names in brackets.
    FutureStateBase* fut_waiter_ = nullptr;  // [_fut_waiter]
    bool must_cancel_ = false;               // [_must_cancel]
    bool started_ = false;                   // a step has resumed the coroutine
    int cancel_requests_ = 0;                // [_num_cancels_requested]
    // [_cancel_message]: must_cancel_'s, or that of the cancel that interrupted a sleep
    // (the message its cancelled future would carry in asyncio) until it is thrown.
    std::unique_ptr<std::string> cancel_message_;
};

// ---- task factories (asyncio: loop.set_task_factory, get_task_factory) --------------

// The coroutine a task factory is handed (asyncio: the coro of factory(loop, coro)), its
// result type erased. A view: the frame stays its caller's until a task takes it
// (TaskBase's constructor, from frame and promise), and is destroyed if none does.
struct TaskCoro {
    std::coroutine_handle<> frame;
    detail::PromiseBase& promise;
    const char* name() const noexcept { return promise.name; }
};

// asyncio: the factory of loop.set_task_factory, called as factory(loop, coro) by every
// create_task on the loop, and by run_until_complete(coro). It returns a new task that
// runs `coro`: new_task(loop, coro), or a TaskBase subclass built from it.
using TaskFactory = std::function<TaskBase*(EventLoop&, TaskCoro)>;

// asyncio: tasks.Task(coro, loop=loop), what create_task makes with no factory set.
// The loop holds the task while it is pending. Throws on a closed loop.
TaskBase* new_task(EventLoop& loop, TaskCoro coro);
// asyncio: loop.set_task_factory(factory). An empty factory restores the default
// (asyncio: None). Loop thread only.
void set_task_factory(EventLoop& loop, TaskFactory factory);
// asyncio: loop.get_task_factory(). Empty while the default is in use.
TaskFactory get_task_factory(EventLoop& loop);

namespace detail {
template <class T>
class TaskAwaiter;
// The task for `coro`, from the loop's factory if it has one. Throws RuntimeError if
// the factory gives no task, or a task that does not run `coro`.
TaskBase* make_task(EventLoop& loop, TaskCoro coro);
// Installed by this header (see the bottom): every driver the loop makes is a Task.
Driver* make_task_driver(EventLoop& loop, std::coroutine_handle<> frame, PromiseBase& top);
// And every frame's room fits a task (frame_room.hpp): one allocation per task.
inline const bool task_factory_installed =
    (set_driver_factory(&make_task_driver), set_frame_room(sizeof(TaskBase)), true);
}  // namespace detail

// asyncio: asyncio.Task, as returned by create_task. A counted reference.
template <class T = void>
class Task {
public:
    Task() noexcept = default;
    explicit Task(detail::Ref<TaskBase> task) noexcept : task_(std::move(task)) {}

    bool done() const noexcept { return task_->done(); }
    bool cancelled() const noexcept { return task_->cancelled(); }
    bool cancel(std::string message = {}) { return task_->cancel(std::move(message)); }
    int cancelling() const noexcept { return task_->cancelling(); }
    int uncancel() noexcept { return task_->uncancel(); }
    std::add_lvalue_reference_t<T> result() const { return task_->template result_as<T>(); }
    std::exception_ptr exception() const { return task_->exception(); }
    std::string get_name() const { return task_->get_name(); }
    void set_name(std::string name) { task_->set_name(std::move(name)); }
    std::string repr() const { return task_->repr(); }
    EventLoop& get_loop() const noexcept { return task_->get_loop(); }
    // fn(Task<T>&) runs via call_soon once the task is done.
    template <class F>
    CallbackId add_done_callback(F fn) {
        return task_->add_done_callback([fn = std::move(fn)](detail::FutureStateBase& s) mutable {
            Task<T> self(detail::Ref<TaskBase>(static_cast<TaskBase*>(&s)));
            fn(self);
        });
    }
    std::size_t remove_done_callback(CallbackId id) { return task_->remove_done_callback(id); }

    TaskBase* get() const noexcept { return task_.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(task_); }
    bool operator==(const Task& other) const noexcept { return task_.get() == other.task_.get(); }

    detail::TaskAwaiter<T> operator co_await() const noexcept {
        return detail::TaskAwaiter<T>(task_.get());
    }

private:
    detail::Ref<TaskBase> task_;
};

namespace detail {
// The future-state behind a Task or Future, for code that waits on "any future".
template <class T>
TaskBase* state_of(const Task<T>& t) noexcept {
    return t.get();
}
template <class T>
FutureState<T>* state_of(const Future<T>& f) noexcept {
    return f.state();
}
// asyncio: futures.isfuture. A Task or a Future (or what derives from one, a Gathering):
// ensure_future gives it back as it is.
template <class A>
concept FutureLike = requires(const std::remove_cvref_t<A>& a) {
    state_of(a);
};
// An awaitable that ensure_future must put in a new task: a coroutine, or any other
// awaitable that is not already a future (sleep(), a user's awaiter).
template <class A>
concept NeedsTask = Awaitable<A> && !FutureLike<A>;
// The loop for new tasks when no future names one: the running loop, else the current
// one (asyncio: events._get_event_loop). Throws aio::RuntimeError if there is neither.
EventLoop& default_loop();

// The body of both create_task(coro) forms below, given the caller's own parameter:
// the coroutine is moved once, into that parameter, not again into this call.
template <class T>
Task<T> start_task(EventLoop& loop, Coro<T>& coro, std::string_view name) {
    if (!coro) throw RuntimeError("create_task: the coroutine was moved from");
    Ref<TaskBase> task(hand_over(coro, [&loop](auto frame, auto& promise) {
        return make_task(loop, TaskCoro{frame, promise});
    }));
    if (!name.empty()) task->set_name(std::string(name));
    return Task<T>(std::move(task));
}
}  // namespace detail

// asyncio: loop.create_task(coro, name=...). The first step runs in the loop's next
// iteration, not now. The task comes from the loop's task factory, if set; the name is
// set afterwards, as asyncio does. A view, not a std::string: most tasks have no name,
// and the string would be made, moved and destroyed at each level for nothing.
template <class T>
Task<T> create_task(EventLoop& loop, Coro<T> coro, std::string_view name = {}) {
    return detail::start_task(loop, coro, name);
}
// Any other awaitable (sleep(), a Task, a Future, a user's awaiter): a new task running a
// coroutine that awaits it (awaitables.hpp: an rvalue is moved in, an lvalue copied).
// asyncio's create_task takes coroutines only; this is ensure_future's _wrap_awaitable.
template <Awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto create_task(EventLoop& loop, A&& aw,
                                                                      std::string_view name = {}) {
    return create_task(loop, detail::wrap(std::forward<A>(aw)), name);
}

// asyncio: asyncio.create_task(coro): on the running loop (an error if none).
template <class T>
Task<T> create_task(Coro<T> coro, std::string_view name = {}) {
    return detail::start_task(get_running_loop(), coro, name);
}
template <Awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto create_task(A&& aw,
                                                                      std::string_view name = {}) {
    return create_task(get_running_loop(), std::forward<A>(aw), name);
}

// asyncio: loop.create_task(coro, name=...), reached as a member (event_loop.hpp).
template <class A>
auto aio_create_task(EventLoop& loop, A&& coro, std::string_view name) {
    return create_task(loop, std::forward<A>(coro), name);
}

// asyncio: loop.set_task_factory(f) / loop.get_task_factory(), for the members.
inline void aio_set_task_factory(EventLoop& loop, TaskFactory factory) {
    set_task_factory(loop, std::move(factory));
}
inline TaskFactory aio_get_task_factory(EventLoop& loop) { return get_task_factory(loop); }

// asyncio: ensure_future(aw, loop=loop). A task or a future stays itself; a coroutine
// becomes a task; any other awaitable becomes a task of a coroutine awaiting it. What
// gather, wait, wait_for, shield and as_completed do with their arguments.
template <class T>
Task<T> ensure_future(EventLoop& loop, Coro<T> coro) {
    return create_task(loop, std::move(coro));
}
template <class T>
Task<T> ensure_future(EventLoop&, Task<T> task) {
    return task;
}
template <class T>
Future<T> ensure_future(EventLoop&, Future<T> future) {
    return future;
}
template <detail::NeedsTask A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto ensure_future(EventLoop& loop, A&& aw) {
    return create_task(loop, std::forward<A>(aw));
}
// asyncio: ensure_future(aw). On the future's own loop, else the running loop, else the
// current one.
template <Awaitable A>
auto ensure_future(A&& aw) {
    EventLoop* loop = nullptr;  // read before aw may be moved from
    if constexpr (detail::FutureLike<A>)
        loop = &detail::state_of(aw)->get_loop();
    else
        loop = &detail::default_loop();
    return ensure_future(*loop, std::forward<A>(aw));
}

namespace detail {
// What ensure_future makes of an A: a Task<T> or a Future<T>.
template <class A>
using future_for_t =
    decltype(ensure_future(std::declval<EventLoop&>(), std::declval<std::remove_cvref_t<A>>()));
}  // namespace detail

// asyncio: loop.run_until_complete(task): run until the task is done, give its result.
// By value: a reference into the task would dangle once the caller's Task<T> temporary
// (`loop.run_until_complete(create_task(...))`) is gone. Copied, or moved out when T
// cannot be copied (Runner.run's task, which nobody else reads).
template <class T>
T aio_run_until_complete(EventLoop& loop, Task<T> task) {
    detail::run_until_done(loop, *task.get());
    if constexpr (std::is_void_v<T>)
        task.result();
    else if constexpr (std::is_copy_constructible_v<T>)
        return task.result();
    else
        return std::move(task.result());
}

// asyncio: asyncio.current_task(). The task whose step is running, or null.
TaskBase* current_task() noexcept;
// asyncio: asyncio.all_tasks(loop). Tasks of `loop` (default: the running loop) that
// are not done yet.
std::vector<TaskBase*> all_tasks(EventLoop* loop = nullptr);

// ---- template implementation -----------------------------------------------------

template <class T>
std::add_lvalue_reference_t<T> TaskBase::result_as() {
    raise_unless_result();
    if constexpr (!std::is_void_v<T>) return *static_cast<detail::Promise<T>&>(top_promise()).value;
}

namespace detail {

// co_await task: as for any future, then the result out of the task's promise.
template <class T>
class TaskAwaiter : public FutureAwaiterBase {
public:
    explicit TaskAwaiter(TaskBase* task) : FutureAwaiterBase(task) {}
    std::add_lvalue_reference_t<T> await_resume() {
        after_resume();
        return static_cast<TaskBase*>(state_)->template result_as<T>();
    }
};

}  // namespace detail
}  // namespace aio
