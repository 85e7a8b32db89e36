// threads.hpp - blocking work on other threads, awaited from the loop (asyncio:
// threads.to_thread; BaseEventLoop.run_in_executor, set_default_executor,
// shutdown_default_executor; concurrent.futures.ThreadPoolExecutor underneath), and the
// other way round: run_coroutine_threadsafe, a coroutine sent to the loop by another
// thread, which waits on (or cancels) a ConcurrentFuture (concurrent_futures.hpp).
//
// The loop's thread must never block, so a blocking call (a file read, a DNS lookup, a
// long computation) runs on a pool of worker threads while the loop awaits a Future:
//
//   loop thread                                   worker thread
//   run_in_executor(fn) ── post(call) ──────────► call.run(): outcome = fn()
//   co_await future (the task is suspended)            │ port.deliver(call)
//   settle(): future.set_result(outcome) ◄── call_soon_threadsafe ┘
//
// Invariants:
//  - A Future, and its reference count (not atomic), is touched on the loop thread only.
//    The worker fills the call's own outcome slot; the loop thread moves it into the future.
//  - Workers reach a loop only through its LoopPort. close() cuts the port under its lock
//    before tearing anything down, so a late worker drops its outcome and never touches a
//    closed (or destroyed) loop; close() also drops the calls' futures, on the loop thread.
//  - A call in flight counts as the loop's external work (EventLoop::add_external_work):
//    a virtual clock waits for the thread in real time instead of jumping past it.
// Cancelling the awaiting side does not stop the thread (nothing can, safely); the
// outcome is dropped when it arrives, and a call that had not started is skipped, as
// concurrent.futures' Future.cancel() skips a work item still in the queue.
//
// Differences from asyncio: Executor::submit gives a std::future (no cancel, no done
// callbacks); shutdown_default_executor needs no helper thread (the last worker out
// reports back); an executor nobody holds any more whose work still runs is joined at
// process exit, not when its loop is destroyed; no contextvars to copy into threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/concurrent_futures.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace aio {

namespace detail {
// What fn(args...) gives, by value: run_in_executor and submit return copies.
template <class F, class... Args>
using call_result_t =
    std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

// fn and copies of args in one callable, invoked once (std::thread's rule: arguments
// are copied or moved in; pass std::ref to share one, at your own risk).
template <class R, class F, class... Args>
auto bind_call(F&& fn, Args&&... args) {
    return [fn = std::forward<F>(fn), ... args = std::forward<Args>(args)]() mutable -> R {
        return std::invoke(std::move(fn), std::move(args)...);
    };
}
}  // namespace detail

// One piece of work for an executor (asyncio: concurrent.futures.thread._WorkItem).
// An executor calls exactly one of run() and cancel(), exactly once.
class WorkItem {
public:
    virtual ~WorkItem() = default;
    virtual void run() noexcept = 0;     // on a worker thread
    virtual void cancel() noexcept = 0;  // instead: dropped unrun (shutdown(cancel_futures))
};

// asyncio: concurrent.futures.Executor, what run_in_executor accepts.
class Executor {
public:
    virtual ~Executor() = default;
    // Queues `item`. Throws aio::RuntimeError("cannot schedule new futures after shutdown").
    virtual void post(std::shared_ptr<WorkItem> item) = 0;
    // asyncio: Executor.shutdown. Refuses new work from now on; cancel_futures drops what
    // has not started; wait returns once the queue is done and every worker has exited.
    virtual void shutdown(bool wait = true, bool cancel_futures = false) = 0;

    // asyncio: Executor.submit(fn, *args). fn(args...) runs on a worker; the std::future
    // gives its result or exception (std::future_error broken_promise if it was dropped).
    template <class F, class... Args>
    std::future<detail::call_result_t<F, Args...>> submit(F&& fn, Args&&... args);
};

// asyncio: concurrent.futures.ThreadPoolExecutor. At most max_workers threads, started
// one at a time as work arrives and no idle worker can take it; all take work from one
// FIFO queue until shutdown() and the queue is empty. Destroying it is shutdown(wait),
// so it must not be destroyed by one of its own workers.
class ThreadPoolExecutor final : public Executor {
public:
    // max_workers: nullopt gives default_max_workers(); ≤ 0 throws std::invalid_argument.
    // Threads are named prefix_0, prefix_1, ... (gdb's `info threads` shows them).
    explicit ThreadPoolExecutor(std::optional<int> max_workers = std::nullopt,
                                std::string thread_name_prefix = {});
    ~ThreadPoolExecutor() override;
    ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
    ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;

    // asyncio (3.8+): min(32, cpu_count + 4). Enough threads for I/O-bound work, capped
    // so that a many-core machine does not start hundreds.
    static int default_max_workers() noexcept;

    void post(std::shared_ptr<WorkItem> item) override;
    void shutdown(bool wait = true, bool cancel_futures = false) override;
    // shutdown(wait=false), then on_stopped() once every worker has exited: on the last
    // worker's thread, or here at once if none is alive. What shutdown_default_executor
    // waits for instead of blocking the loop in join().
    void shutdown_then(std::function<void()> on_stopped);

    int max_workers() const noexcept { return max_workers_; }
    std::size_t thread_count() const;  // threads started so far
    bool is_shut_down() const;
    bool idle() const;  // nothing queued and nothing running

private:
    void start_thread_if_needed();  // mutex_ held
    void worker(std::size_t index);
    void join_all();

    // Fixed at construction.
    const int max_workers_;
    const std::string prefix_;
    // Guarded by mutex_.
    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    std::deque<std::shared_ptr<WorkItem>> queue_;
    std::vector<std::thread> threads_;
    std::size_t waiting_ = 0;  // workers blocked on work_ready_
    std::size_t running_ = 0;  // workers inside an item's run()
    std::size_t alive_ = 0;    // workers not yet exited
    bool shutdown_ = false;
    std::vector<std::function<void()>> on_stopped_;
    // Held across the joins, so a second shutdown(wait) returns only after them too.
    std::mutex join_mutex_;
};

namespace detail {

class ThreadCallBase;

// How another thread reaches a loop: call_soon_threadsafe behind a lock that the loop's
// close() takes to cut the line (LoopThreads::loop_closing). Shared by the loop and
// every call bound for it, so it outlives whichever goes first.
class LoopPort {
public:
    explicit LoopPort(EventLoop& loop) noexcept : loop_(&loop) {}
    // Any thread: loop.call_soon_threadsafe(fn). False if the loop is closed (or
    // destroyed): fn is dropped here, nothing of the loop is touched.
    template <class F>
    bool call_soon_threadsafe(F&& fn) noexcept {
        std::lock_guard lock(mutex_);
        if (!loop_) return false;
        try {
            loop_->call_soon_threadsafe(std::forward<F>(fn));
            return true;
        } catch (...) {  // the loop closed meanwhile (or memory ran out)
            return false;
        }
    }
    // Any thread: queue call->complete_on_loop() on the loop. False if the loop is
    // closed: the outcome is dropped, nothing of the loop is touched.
    bool deliver(std::shared_ptr<ThreadCallBase> call) noexcept;
    void detach() noexcept;

private:
    std::mutex mutex_;
    EventLoop* loop_;  // guarded by mutex_; null once the loop closes
};

// A function run on another thread whose outcome completes a Future on the loop
// (asyncio: the concurrent future and futures._chain_future that run_in_executor wraps).
class ThreadCallBase : public WorkItem, public std::enable_shared_from_this<ThreadCallBase> {
public:
    // Loop thread: the awaiting future was cancelled. If run() has not begun, fn won't.
    void abandon() noexcept { abandoned_.store(true, std::memory_order_relaxed); }
    // Loop thread, from the callback deliver() queued: bookkeeping, then settle().
    void complete_on_loop();

protected:
    ThreadCallBase(EventLoop& loop, std::shared_ptr<LoopPort> port) noexcept
        : loop_(&loop), port_(std::move(port)) {}
    bool abandoned() const noexcept { return abandoned_.load(std::memory_order_relaxed); }
    // Any thread, once the outcome is in place: hand the call back to the loop.
    void deliver() noexcept { port_->deliver(shared_from_this()); }
    // Loop thread: move the outcome into the future, unless it is done already.
    virtual void settle() = 0;
    virtual void drop_future() noexcept = 0;

private:
    friend class LoopThreads;
    // Fixed.
    EventLoop* loop_;  // dereferenced on the loop thread only
    std::shared_ptr<LoopPort> port_;
    // Written by the loop thread, read by the worker.
    std::atomic<bool> abandoned_{false};
    // Loop thread only: LoopThreads' list of calls in flight.
    ThreadCallBase* prev_ = nullptr;
    ThreadCallBase* next_ = nullptr;
    std::shared_ptr<ThreadCallBase> keep_;  // the loop's reference while in flight
};

template <class R>
using Outcome = std::conditional_t<std::is_void_v<R>, bool, R>;  // bool: a stand-in for void

template <class R, class Fn>
class ThreadCall final : public ThreadCallBase {
public:
    ThreadCall(EventLoop& loop, std::shared_ptr<LoopPort> port, Fn fn)
        : ThreadCallBase(loop, std::move(port)), fn_(std::move(fn)) {}

    // Loop thread, before the call is posted.
    void bind(Ref<FutureState<R>> future) noexcept { future_ = std::move(future); }

    // Worker thread. The function and its arguments die here, as Python's worker does
    // `del work_item`, whether or not they ran.
    void run() noexcept override {
        if (!abandoned()) invoke();
        fn_.reset();
        deliver();
    }
    void cancel() noexcept override {
        fn_.reset();
        deliver();
    }

private:
    void invoke() noexcept {
        ran_ = true;
        try {
            if constexpr (std::is_void_v<R>)
                (*fn_)();
            else
                value_.emplace((*fn_)());
        } catch (...) {
            error_ = std::current_exception();
        }
    }
    // asyncio: futures._copy_future_state. A future cancelled meanwhile stays cancelled
    // and the outcome is dropped (set-unless-cancelled).
    void settle() override {
        Ref<FutureState<R>> fut = std::move(future_);
        if (!fut || fut->done()) return;
        if (!ran_) {
            fut->cancel();  // the executor dropped it unrun
        } else if (error_) {
            fut->set_exception(std::move(error_));
        } else if constexpr (std::is_void_v<R>) {
            fut->set_result();
        } else {
            fut->set_result(std::move(*value_));
        }
    }
    void drop_future() noexcept override { future_ = {}; }

    // The worker's until delivered, then the loop thread's.
    std::optional<Fn> fn_;
    std::optional<Outcome<R>> value_;
    std::exception_ptr error_;
    bool ran_ = false;
    // Loop thread only.
    Ref<FutureState<R>> future_;
};

// What this file keeps per loop (an EventLoop extension): asyncio's loop attributes
// _default_executor and _executor_shutdown_called, the port, and the calls in flight.
// close() cuts the port, drops the calls' futures and shuts the default executor down
// without waiting (asyncio: BaseEventLoop.close).
class LoopThreads final : public LoopExtension {
public:
    explicit LoopThreads(EventLoop& loop);
    ~LoopThreads() override;

    // asyncio: run_in_executor's executor=None. Made on first use; refused after
    // shutdown_default_executor ("Executor shutdown has been called").
    ThreadPoolExecutor& default_executor();
    std::shared_ptr<ThreadPoolExecutor> default_executor_if_any() const { return default_; }
    void set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor);
    void mark_shutdown_called() noexcept { shutdown_called_ = true; }
    // The way back to this loop, for run_coroutine_threadsafe's cancel.
    const std::shared_ptr<LoopPort>& port() const noexcept { return port_; }

    // A call of fn() bound for this loop, not started yet.
    template <class Fn>
    auto make_call(Fn fn) {
        using R = std::invoke_result_t<Fn&>;
        return std::make_shared<ThreadCall<R, Fn>>(loop_, port_, std::move(fn));
    }
    // Gives `call` a future, hands it to launch(call) (which posts it somewhere and may
    // throw; then nothing else happens), and tracks it until it completes.
    template <class R, class Fn, class Launch>
    Future<R> start(const std::shared_ptr<ThreadCall<R, Fn>>& call, Launch&& launch);
    void remove(ThreadCallBase& call) noexcept;

    void loop_closing(EventLoop& loop) noexcept override;

private:
    void add(std::shared_ptr<ThreadCallBase> call) noexcept;

    EventLoop& loop_;
    std::shared_ptr<LoopPort> port_;
    // Loop thread only.
    std::shared_ptr<ThreadPoolExecutor> default_;
    bool shutdown_called_ = false;    // asyncio: _executor_shutdown_called
    ThreadCallBase* head_ = nullptr;  // calls in flight
};

// Lets go of an executor without waiting for it: if this was the last reference and
// work still runs, its threads are joined at process exit (as Python's
// concurrent.futures joins its workers at interpreter exit), not now on the loop thread.
void release_executor(std::shared_ptr<ThreadPoolExecutor> executor) noexcept;

template <class R>
class PackagedWork final : public WorkItem {
public:
    template <class Fn>
    explicit PackagedWork(Fn fn) : task_(std::move(fn)) {}
    std::future<R> get_future() { return task_.get_future(); }
    void run() noexcept override { task_(); }
    void cancel() noexcept override {}  // destroying the task breaks its promise

private:
    std::packaged_task<R()> task_;
};

// asyncio: futures._chain_future(task, concurrent_future), as run_coroutine_threadsafe
// uses it, both ways: the task's outcome is copied into the concurrent future, and a
// cancel of the concurrent future (from any thread) cancels the task, on the loop.
// Held by the callback that starts the task, then by the task's done callback, so it
// lives on the loop thread, no longer than the task. If it dies with the future still
// pending (the loop closed first), the future is cancelled.
template <class T>
class TaskChain final : public std::enable_shared_from_this<TaskChain<T>> {
public:
    explicit TaskChain(ConcurrentFuture<T> future) noexcept : future_(std::move(future)) {}
    ~TaskChain() { future_.cancel(); }  // a no-op unless still pending
    TaskChain(const TaskChain&) = delete;
    TaskChain& operator=(const TaskChain&) = delete;

    // Loop thread: asyncio's `callback` in run_coroutine_threadsafe. A task (or task
    // factory) that throws sets the exception on the future, and is rethrown for the loop
    // to report ("Exception in callback ...").
    void start(EventLoop& loop, Coro<T> coro);

private:
    void copy_outcome(Task<T>& task);  // asyncio: _set_concurrent_future_state

    ConcurrentFuture<T> future_;
    TaskBase* task_ = nullptr;  // loop thread; null once done (copy_outcome)
};

}  // namespace detail

// asyncio: loop.run_in_executor(executor, func, *args). Runs fn(args...) on `executor`
// (null: the loop's default ThreadPoolExecutor, made on first use) and returns a Future
// that the loop thread completes with fn's result or exception. Arguments are copied or
// moved into the call. Throws aio::RuntimeError "Event loop is closed"; with a null
// executor after shutdown_default_executor, "Executor shutdown has been called"; from a
// shut-down executor, "cannot schedule new futures after shutdown".
template <class F, class... Args>
Future<detail::call_result_t<F, Args...>> run_in_executor(EventLoop& loop, Executor* executor,
                                                          F&& fn, Args&&... args) {
    using R = detail::call_result_t<F, Args...>;
    if (loop.is_closed()) throw RuntimeError("Event loop is closed");
    detail::LoopThreads& threads = loop.extension<detail::LoopThreads>();
    Executor& target = executor ? *executor : threads.default_executor();
    auto call =
        threads.make_call(detail::bind_call<R>(std::forward<F>(fn), std::forward<Args>(args)...));
    return threads.start(
        call, [&target](std::shared_ptr<WorkItem> item) { target.post(std::move(item)); });
}

// asyncio: asyncio.to_thread(func, *args). A coroutine: nothing happens until it is
// awaited; then fn(args...) runs on the running loop's default executor and the
// coroutine gives its result (or throws its exception).
// Differences from asyncio: C++ has no contextvars to copy into the thread.
template <class F, class... Args>
Coro<detail::call_result_t<F, Args...>> to_thread(F fn, Args... args) {
    auto result = run_in_executor(get_running_loop(), nullptr, std::move(fn), std::move(args)...);
    if constexpr (std::is_void_v<detail::call_result_t<F, Args...>>)
        co_await result;
    else
        co_return std::move(co_await result);
}

// asyncio: loop.set_default_executor. Replaces the executor run_in_executor(loop,
// nullptr, ...) uses; null throws std::invalid_argument (asyncio: TypeError).
void set_default_executor(EventLoop& loop, std::shared_ptr<ThreadPoolExecutor> executor);

// asyncio: loop.shutdown_default_executor(timeout=None), 3.12's form. Refuses the
// default executor from now on, then waits without blocking the loop until its workers
// have finished their work and exited, and joins them. With a timeout (seconds on the
// loop's clock) it stops waiting after that long and logs "The executor did not
// finishing joining its threads within N seconds." (asyncio's words); the threads then
// finish on their own. A virtual clock stands still while workers run, so there the
// timeout cannot fire before they are done.
Coro<void> shutdown_default_executor(EventLoop& loop, std::optional<double> timeout = std::nullopt);

// The members loop.run_in_executor(executor, fn, args...), loop.set_default_executor
// and loop.shutdown_default_executor() (event_loop.hpp) come here. The executor may be
// given as nullptr (Python's None: the default one), a pointer, a reference or a
// shared_ptr.
template <class F, class... Args>
auto aio_run_in_executor(EventLoop& loop, Executor* executor, F&& fn, Args&&... args) {
    return run_in_executor(loop, executor, std::forward<F>(fn), std::forward<Args>(args)...);
}
template <class F, class... Args>
auto aio_run_in_executor(EventLoop& loop, Executor& executor, F&& fn, Args&&... args) {
    return run_in_executor(loop, &executor, std::forward<F>(fn), std::forward<Args>(args)...);
}
template <class E, class F, class... Args>
auto aio_run_in_executor(EventLoop& loop, const std::shared_ptr<E>& executor, F&& fn,
                         Args&&... args) {
    return run_in_executor(loop, executor.get(), std::forward<F>(fn), std::forward<Args>(args)...);
}
inline void aio_set_default_executor(EventLoop& loop,
                                     std::shared_ptr<ThreadPoolExecutor> executor) {
    set_default_executor(loop, std::move(executor));
}
inline Coro<void> aio_shutdown_default_executor(EventLoop& loop, std::optional<double> timeout) {
    return shutdown_default_executor(loop, timeout);
}

// asyncio: asyncio.run_coroutine_threadsafe(coro, loop). From any thread: `loop` runs
// coro as a task (made by its task factory, if set); the concurrent future gives its
// result or exception, from any thread: fut.result(timeout) waits, and fut.cancel()
// cancels the task on the loop. A cancelled task cancels the future. A task factory
// that throws sets its exception on the future, and the loop reports it too.
// Throws aio::RuntimeError("Event loop is closed") at once on a closed loop.
// Differences from asyncio: a loop that closes before the task is done cancels the
// future (asyncio leaves it pending forever, and result() without a timeout hangs).
template <class T>
ConcurrentFuture<T> run_coroutine_threadsafe(Coro<T> coro, EventLoop& loop) {
    if (!coro) throw std::invalid_argument("A coroutine object is required");
    ConcurrentFuture<T> future;
    auto chain = std::make_shared<detail::TaskChain<T>>(future);
    loop.call_soon_threadsafe(
        [&loop, coro = std::move(coro), chain]() mutable { chain->start(loop, std::move(coro)); });
    return future;
}

// ---- template implementation -----------------------------------------------------

template <class F, class... Args>
std::future<detail::call_result_t<F, Args...>> Executor::submit(F&& fn, Args&&... args) {
    using R = detail::call_result_t<F, Args...>;
    auto item = std::make_shared<detail::PackagedWork<R>>(
        detail::bind_call<R>(std::forward<F>(fn), std::forward<Args>(args)...));
    std::future<R> result = item->get_future();
    post(std::move(item));
    return result;
}

namespace detail {

template <class R, class Fn, class Launch>
Future<R> LoopThreads::start(const std::shared_ptr<ThreadCall<R, Fn>>& call, Launch&& launch) {
    if (loop_.is_closed()) throw RuntimeError("Event loop is closed");
    Future<R> fut(loop_);
    call->bind(Ref<FutureState<R>>(fut.state()));
    launch(call);  // from here on a worker may be running it
    add(call);
    loop_.add_external_work();
    // asyncio: futures._chain_future's _call_check_cancel.
    fut.state()->add_done_callback([call](FutureStateBase& f) {
        if (f.cancelled()) call->abandon();
    });
    return fut;
}

// The concurrent future's callback goes first, as in _chain_future: on a future
// cancelled before the task existed it cancels the task at once (through the port, so
// after the task's first step, as asyncio's call_soon_threadsafe(source.cancel) does).
template <class T>
void TaskChain<T>::start(EventLoop& loop, Coro<T> coro) {
    Task<T> task;
    try {
        task = create_task(loop, std::move(coro));
    } catch (...) {
        if (future_.set_running_or_notify_cancel()) future_.set_exception(std::current_exception());
        throw;
    }
    task_ = task.get();
    std::weak_ptr<TaskChain> weak = this->shared_from_this();
    std::shared_ptr<LoopPort> port = loop.extension<LoopThreads>().port();
    future_.add_done_callback([weak, port](ConcurrentFuture<T>& f) {  // _call_check_cancel
        if (!f.cancelled()) return;
        port->call_soon_threadsafe([weak] {
            std::shared_ptr<TaskChain> chain = weak.lock();
            if (chain && chain->task_) chain->task_->cancel();
        });
    });
    task.add_done_callback(
        [self = this->shared_from_this()](Task<T>& t) { self->copy_outcome(t); });
}

template <class T>
void TaskChain<T>::copy_outcome(Task<T>& task) {
    task_ = nullptr;  // done, and free to die once this callback returns
    if (task.cancelled()) future_.cancel();
    if (!future_.set_running_or_notify_cancel()) return;
    if (std::exception_ptr error = task.exception())
        future_.set_exception(error);
    else if constexpr (std::is_void_v<T>)
        future_.set_result();
    else
        future_.set_result(std::move(task.result()));
}

}  // namespace detail
}  // namespace aio
