// wait.hpp - waiting for many futures at once (asyncio: tasks.wait, tasks._wait,
// tasks.as_completed), and the Watcher that these and gather/shield (gather.hpp) share.
//
//   auto [done, pending] = co_await aio::wait(tasks, 5.0, aio::FIRST_COMPLETED);
//   for (auto& next : aio::as_completed(tasks, 5.0)) { int v = co_await next; }
//
// wait() never throws a child's exception or TimeoutError: it sorts the children into
// done and pending when it resumes, and leaves the pending ones running. as_completed()
// gives one fresh awaitable per child; the first one awaited gets the first completion.
//
// A Watcher waits for child futures. Each child gets one Watch: a Handle the child
// schedules when it is done (FutureStateBase::add_waker), embedded in the watcher, so
// watching N children allocates nothing per child, and the wake-ups go through the
// ready queue in registration order exactly like asyncio's done callbacks.
//
// Lifetime, the one subtle part: a child may schedule a Watch's handle at any time, and
// the handle must still exist when the loop pops it. So while any Watch is registered
// (in a child's callbacks or in the ready queue) its watcher holds a reference to
// itself and sits on its loop's WatcherList, as asyncio's done callbacks keep their
// closures alive. A loop closed over children that never finish releases the watchers
// on its list, as it releases abandoned tasks.
//
// Both take a std::vector or a braced list (`wait({t1, t2})`, Python's list literal).
//
// Differences from asyncio: wait() refuses coroutines at compile time (3.11.7 raises
// TypeError) but makes any other awaitable (sleep(), a user's awaiter) a task, where
// 3.11 fails on it; as_completed() returns a vector, not an iterator, and hands
// completions to waiting awaiters strictly first come, first served. GCC 12 rejects a
// braced list inside a co_await ("array used as initializer"): call wait() in a
// statement of its own there.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/intrusive_list.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace aio {

// asyncio: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED (from concurrent.futures).
enum class ReturnWhen : std::uint8_t { first_completed, first_exception, all_completed };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::first_completed;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::first_exception;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::all_completed;

// What `co_await wait(...)` gives: asyncio's (done, pending) pair of sets, as vectors in
// argument order with duplicates removed.
template <class F>
struct WaitResult {
    std::vector<F> done;
    std::vector<F> pending;
};

namespace detail {

class Watcher;

// One child a Watcher waits for: the handle the child schedules when it is done.
class Watch {
public:
    Watch() noexcept : wake_(&ops, this) {}
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

    // asyncio: child.add_done_callback(...). owner.child_done(*this) runs from the loop
    // once the child is done (next iteration if it already is).
    void arm(Watcher& owner, FutureStateBase& child);
    // asyncio: child.remove_done_callback(...). child_done will not be called; a wake-up
    // already in the ready queue still runs, only to settle the owner's count.
    void disarm() noexcept;
    FutureStateBase& child() const noexcept { return *child_; }
    bool armed() const noexcept { return wanted_; }

private:
    friend class Watcher;
    static void run(Handle& h);
    static void describe(const Handle& h, std::string& out);
    static const HandleOps ops;

    Handle wake_;
    Watcher* owner_ = nullptr;
    FutureStateBase* child_ = nullptr;
    // Loop thread only.
    bool registered_ = false;  // the child or the ready queue holds wake_
    bool wanted_ = false;      // the owner still wants child_done
};

// What gather, shield, wait and as_completed have in common: an object, counted by
// reference, that waits for child futures through Watches it owns.
class Watcher {
public:
    Watcher(const Watcher&) = delete;
    Watcher& operator=(const Watcher&) = delete;

protected:
    explicit Watcher(EventLoop& loop) noexcept : loop_(&loop) {}
    ~Watcher() = default;  // never while registered: the self-reference prevents it

    // The watches a closing loop must unregister; set once by the derived class.
    void set_watches(Watch* first, std::size_t count) noexcept {
        watches_ = first;
        nwatches_ = count;
    }
    Watch& watch_at(std::size_t i) noexcept { return watches_[i]; }
    std::size_t watch_count() const noexcept { return nwatches_; }
    EventLoop& watcher_loop() const noexcept { return *loop_; }

    // A watched child is done: runs from the loop, once per armed watch.
    virtual void child_done(Watch& w) = 0;
    // How the derived object is counted (its retain/release).
    virtual void hold() noexcept = 0;
    virtual void unhold() noexcept = 0;
    // The loop closed over pending children: its timers are gone, forget them.
    virtual void abandoned() noexcept {}
    // "gather", "wait", ...: for the handles' printable form.
    virtual const char* watcher_name() const noexcept = 0;

private:
    friend class Watch;
    friend class WatcherList;
    void registered();
    void unregistered() noexcept;  // may release the last reference
    void abandon() noexcept;

    EventLoop* loop_;
    Watch* watches_ = nullptr;
    std::size_t nwatches_ = 0;
    // Loop thread only.
    std::size_t registered_ = 0;  // watches whose handle a child or the loop holds
    ListLinks<Watcher> links_;    // in the loop's WatcherList while registered_ > 0
};

// The watchers of one loop with registrations outstanding (an EventLoop extension).
class WatcherList : public LoopExtension {
public:
    explicit WatcherList(EventLoop&) {}
    void add(Watcher* w) noexcept { registered_.push_back(*w); }
    void remove(Watcher* w) noexcept { registered_.remove(*w); }
    void loop_closed(EventLoop& loop) noexcept override;

private:
    IntrusiveList<Watcher, &Watcher::links_> registered_;
};

// ---- helpers shared by gather, shield, wait and as_completed ---------------------------

// Throws aio::ValueError for a NaN timeout.
void check_timeout(std::optional<double> timeout, const char* who);

// The loop of a non-empty list of futures, all checked to be on it; for other
// awaitables, the loop they will run on as tasks.
template <class F>
EventLoop& loop_of(const std::vector<F>& fs) {
    if constexpr (!FutureLike<F>) {
        return default_loop();
    } else {
        EventLoop& loop = state_of(fs.front())->get_loop();
        for (const F& f : fs) check_loop(loop, *state_of(f));
        return loop;
    }
}

// asyncio: set(fs). Keeps the first of each future, in argument order.
template <class F>
void drop_duplicates(std::vector<F>& fs) {
    if (fs.size() < 2) return;
    std::vector<std::pair<const FutureStateBase*, std::size_t>> order;
    order.reserve(fs.size());
    for (std::size_t i = 0; i < fs.size(); ++i) order.emplace_back(state_of(fs[i]), i);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        if (a.first != b.first) return std::less<>()(a.first, b.first);
        return a.second < b.second;
    });
    std::vector<char> keep(fs.size(), 1);
    for (std::size_t i = 1; i < order.size(); ++i)
        if (order[i].first == order[i - 1].first) keep[order[i].second] = 0;
    std::size_t out = 0;
    for (std::size_t i = 0; i < fs.size(); ++i)
        if (keep[i]) fs[out++] = std::move(fs[i]);
    fs.erase(fs.begin() + static_cast<std::ptrdiff_t>(out), fs.end());
}

// What gather and shield accept of an argument: a coroutine only as an rvalue, and a
// Task or Future only if its result can be copied.
template <class A>
void check_argument() {
    static_assert(!is_coro_v<std::remove_cvref_t<A>> || !std::is_lvalue_reference_v<A>,
                  "pass coroutines as rvalues: they are moved into tasks (a list of them "
                  "with std::move)");
    using T = awaited_t<A>;
    static_assert(!FutureLike<A> || std::is_void_v<T> || std::is_copy_constructible_v<T>,
                  "the results of Tasks and Futures are copied: T must be copyable");
}

// The result of a done child, by reference, whichever kind of future it is.
template <class T>
using ResultGetter = std::add_lvalue_reference_t<T> (*)(FutureStateBase&);
template <class T>
std::add_lvalue_reference_t<T> task_result(FutureStateBase& s) {
    return static_cast<TaskBase&>(s).template result_as<T>();
}
template <class T>
std::add_lvalue_reference_t<T> future_result(FutureStateBase& s) {
    return static_cast<FutureState<T>&>(s).result();
}
template <class T>
ResultGetter<T> getter_for(const Task<T>*) {
    return &task_result<T>;
}
template <class T>
ResultGetter<T> getter_for(const Future<T>*) {
    return &future_result<T>;
}

// ---- wait ------------------------------------------------------------------------------

// The untyped half of wait(): asyncio's `waiter` future plus _wait's callbacks. The
// awaiting task suspends on it; it completes (with no value) when return_when is met
// or the timeout passes.
class WaitCore : public FutureState<void>, public Watcher {
public:
    WaitCore(EventLoop& loop, std::size_t n, ReturnWhen when);
    // asyncio: _wait's `finally`: cancel the timer, remove the callbacks. Idempotent;
    // the caller holds a reference.
    void stop() noexcept;

protected:
    void watch(std::size_t i, FutureStateBase& child) { watch_at(i).arm(*this, child); }
    // asyncio: loop.call_later(timeout, _release_waiter, waiter).
    void start_timer(std::optional<double> timeout);

private:
    void child_done(Watch& w) override;  // asyncio: _wait._on_completion
    void hold() noexcept override { retain(); }
    void unhold() noexcept override { release(); }
    void abandoned() noexcept override { timer_ = TimerHandle(); }
    const char* watcher_name() const noexcept override { return "wait"; }

    std::unique_ptr<Watch[]> watches_;
    std::size_t counter_;  // children not done yet
    ReturnWhen when_;
    TimerHandle timer_;  // asyncio: timeout_handle
};

template <class F>
class WaitState final : public WaitCore {
public:
    WaitState(EventLoop& loop, std::vector<F> fs, ReturnWhen when)
        : WaitCore(loop, fs.size(), when), fs_(std::move(fs)) {}
    // Called once the state is counted: registering takes a reference to it.
    void start(std::optional<double> timeout) {
        start_timer(timeout);
        for (std::size_t i = 0; i < fs_.size(); ++i) watch(i, *state_of(fs_[i]));
    }
    // Sorted now, not when the callbacks ran: children that finished in the same
    // iteration all count as done (asyncio builds the sets after `await waiter`).
    WaitResult<F> sets() const {
        WaitResult<F> out;
        for (const F& f : fs_) (state_of(f)->done() ? out.done : out.pending).push_back(f);
        return out;
    }

private:
    std::vector<F> fs_;
};

// co_await wait(...): made in place by WaitRequest's operator co_await.
template <class F>
class WaitAwaiter {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    WaitAwaiter(EventLoop& loop, std::vector<F> fs, std::optional<double> timeout, ReturnWhen when)
        : state_(new WaitState<F>(loop, std::move(fs), when)) {
        state_->start(timeout);
    }
    WaitAwaiter(const WaitAwaiter&) = delete;
    WaitAwaiter& operator=(const WaitAwaiter&) = delete;
    ~WaitAwaiter() {
        if (driver_ && !state_->done()) forget_waiter(driver_, state_.get());
        state_->stop();
    }

    // Always one trip through the loop, as asyncio's `await waiter`.
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        suspend_on(at.promise(), at, state_.get());
        driver_ = at.promise().driver;
    }
    WaitResult<F> await_resume() {
        resumed(driver_);  // a pending cancellation is thrown here
        state_->result();  // the waiter was cancelled: CancelledError
        state_->stop();
        return state_->sets();
    }

private:
    Ref<WaitState<F>> state_;
    Driver* driver_ = nullptr;  // set once suspended
};

// What wait() returns: the arguments, until it is awaited.
template <class F>
struct [[nodiscard]] WaitRequest {
    EventLoop* loop;
    std::vector<F> fs;
    std::optional<double> timeout;
    ReturnWhen when;
    WaitAwaiter<F> operator co_await() && {
        return WaitAwaiter<F>(*loop, std::move(fs), timeout, when);
    }
    // Stored and awaited later: each await waits on the same futures afresh.
    WaitAwaiter<F> operator co_await() & { return WaitAwaiter<F>(*loop, fs, timeout, when); }
};

// asyncio: ensure_future(f) for each f, in order, on `loop`.
template <class A>
std::vector<future_for_t<A>> ensure_futures(EventLoop& loop, std::vector<A> aws) {
    std::vector<future_for_t<A>> out;
    out.reserve(aws.size());
    for (A& a : aws) out.push_back(ensure_future(loop, std::move(a)));
    return out;
}

// A braced list's elements, moved into a std::vector.
template <class A, std::size_t N>
std::vector<A> to_vector(A (&list)[N]) {
    std::vector<A> out;
    out.reserve(N);
    for (A& a : list) out.push_back(std::move(a));
    return out;
}

// Throws aio::ValueError for an empty list or a bad return_when (asyncio's
// ValueError, word for word).
void check_wait_args(std::size_t n, std::optional<double> timeout, ReturnWhen when);

}  // namespace detail

// asyncio: asyncio.wait(fs, timeout=None, return_when=ALL_COMPLETED). `fs` holds Tasks or
// Futures (coroutines are refused, as in 3.11.7: "Passing coroutines is forbidden, use
// tasks explicitly."), or other awaitables (sleep(), a user's awaiter), which become
// tasks at once as ensure_future makes them. Awaiting it gives {done, pending} (of
// those tasks); it never throws a child's exception or TimeoutError, and cancels
// nothing: the pending keep running. `wait({t1, t2})` takes a braced list.
template <Awaitable A>
auto wait(std::vector<A> fs, std::optional<double> timeout = std::nullopt,
          ReturnWhen return_when = ALL_COMPLETED) {
    static_assert(!detail::is_coro_v<A>,
                  "wait() takes tasks or futures: wrap coroutines with create_task "
                  "(asyncio: 'Passing coroutines is forbidden, use tasks explicitly.')");
    detail::check_wait_args(fs.size(), timeout, return_when);
    EventLoop& loop = detail::loop_of(fs);
    if constexpr (detail::FutureLike<A>) {
        detail::drop_duplicates(fs);
        return detail::WaitRequest<A>{&loop, std::move(fs), timeout, return_when};
    } else {
        return wait(detail::ensure_futures(loop, std::move(fs)), timeout, return_when);
    }
}
template <Awaitable A>
auto wait(std::vector<A> fs, ReturnWhen return_when) {
    return wait(std::move(fs), std::nullopt, return_when);
}
template <Awaitable A, std::size_t N>
auto wait(A (&&fs)[N], std::optional<double> timeout = std::nullopt,
          ReturnWhen return_when = ALL_COMPLETED) {
    return wait(detail::to_vector(fs), timeout, return_when);
}
template <Awaitable A, std::size_t N>
auto wait(A (&&fs)[N], ReturnWhen return_when) {
    return wait(detail::to_vector(fs), std::nullopt, return_when);
}

// ---- as_completed ----------------------------------------------------------------------

namespace detail {

class AsCompletedCore;

// The untyped half of awaiting one as_completed() awaitable (asyncio: _wait_for_one,
// whose `await done.get()` this is). Not movable: the task waits on woken_.
class CompletionGetter {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    explicit CompletionGetter(Ref<AsCompletedCore> core);
    CompletionGetter(const CompletionGetter&) = delete;
    CompletionGetter& operator=(const CompletionGetter&) = delete;
    ~CompletionGetter();

    bool await_ready() noexcept;
    template <class P>
    void await_suspend(std::coroutine_handle<P> at);

protected:
    // The completion this await gets: a done child, or null when the deadline passed.
    // Throws CancelledError if the awaiting task was cancelled meanwhile.
    FutureStateBase* take_item();

private:
    friend class AsCompletedCore;
    Ref<AsCompletedCore> core_;
    FutureState<void> woken_;  // done when a completion was handed over (or cancelled)
    Driver* driver_ = nullptr;
    // Loop thread only.
    FutureStateBase* item_ = nullptr;  // handed over, not yet taken
    bool has_item_ = false;
    bool queued_ = false;  // in the core's list of getters
    ListLinks<CompletionGetter> links_;
};

// The shared state of one as_completed() call: the watches, and asyncio's `done` queue
// of finished children (null: the deadline passed) with the awaiters waiting on it.
class AsCompletedCore final : public Watcher, public PoolAllocated {
public:
    AsCompletedCore(EventLoop& loop, std::vector<Ref<FutureStateBase>> children);
    // Registers on the children, and sets the deadline. The caller holds a reference.
    void start(std::optional<double> timeout);
    void retain() noexcept { ++refs_; }
    void release() noexcept {
        if (--refs_ == 0) delete this;
    }
    EventLoop& get_loop() const noexcept { return watcher_loop(); }

private:
    friend class CompletionGetter;
    void child_done(Watch& w) override;  // asyncio: as_completed._on_completion
    void on_timeout();                   // asyncio: as_completed._on_timeout
    void hold() noexcept override { retain(); }
    void unhold() noexcept override { release(); }
    void abandoned() noexcept override { timer_ = TimerHandle(); }
    const char* watcher_name() const noexcept override { return "as_completed"; }

    // The queue, with asyncio.Queue's hand-over to the first waiting getter.
    void put(FutureStateBase* child);
    bool take(FutureStateBase*& child) noexcept;
    void give_back(FutureStateBase* child);
    void hand_over();
    void add_getter(CompletionGetter& g) noexcept;
    void remove_getter(CompletionGetter& g) noexcept;

    std::vector<Ref<FutureStateBase>> children_;
    std::unique_ptr<Watch[]> watches_;
    std::size_t todo_;   // children neither reported nor timed out
    TimerHandle timer_;  // asyncio: timeout_handle
    // Reported completions, oldest first from head_; room for one per child.
    std::vector<FutureStateBase*> done_;
    std::size_t head_ = 0;
    IntrusiveList<CompletionGetter, &CompletionGetter::links_> getters_;  // waiting, FIFO
    std::uint32_t refs_ = 0;
};

inline bool CompletionGetter::await_ready() noexcept { return has_item_ = core_->take(item_); }

template <class P>
void CompletionGetter::await_suspend(std::coroutine_handle<P> at) {
    suspend_on(at.promise(), at, &woken_);
    driver_ = at.promise().driver;
    core_->add_getter(*this);
}

template <class T>
class NextAwaiter : public CompletionGetter {
public:
    NextAwaiter(Ref<AsCompletedCore> core, ResultGetter<T> get)
        : CompletionGetter(std::move(core)), get_(get) {}
    std::add_lvalue_reference_t<T> await_resume() {
        FutureStateBase* child = take_item();
        if (!child) throw TimeoutError();
        return get_(*child);  // the child's result, or its exception rethrown
    }

private:
    ResultGetter<T> get_;
};

}  // namespace detail

// One of as_completed()'s awaitables: `co_await next` gives the result of the next child
// to complete (a reference into it, valid while this object lives) or throws its
// exception, or TimeoutError once the deadline has passed. Each may be awaited once.
template <class T>
class NextCompletion {
public:
    NextCompletion(detail::Ref<detail::AsCompletedCore> core, detail::ResultGetter<T> get)
        : core_(std::move(core)), get_(get) {}
    NextCompletion(NextCompletion&&) noexcept = default;
    NextCompletion& operator=(NextCompletion&&) noexcept = default;

    detail::NextAwaiter<T> operator co_await() & { return detail::NextAwaiter<T>(claim(), get_); }
    detail::NextAwaiter<T> operator co_await() && { return detail::NextAwaiter<T>(claim(), get_); }

private:
    detail::Ref<detail::AsCompletedCore> claim() {
        if (!core_ || used_) throw RuntimeError("cannot reuse already awaited coroutine");
        used_ = true;
        return core_;
    }

    detail::Ref<detail::AsCompletedCore> core_;
    detail::ResultGetter<T> get_;
    bool used_ = false;
};

// asyncio: asyncio.as_completed(fs, timeout=None), 3.11's plain iterator as a vector.
// One awaitable per distinct child (coroutines and other awaitables become tasks); not
// the children themselves. Whichever is awaited first gets the first completion. With a
// timeout, those still waiting at the deadline throw TimeoutError; the children keep
// running. `as_completed({f(1), f(2)})` takes a braced list.
template <Awaitable A>
std::vector<NextCompletion<awaited_t<A>>> as_completed(
    std::vector<A> fs, std::optional<double> timeout = std::nullopt) {
    using T = awaited_t<A>;
    detail::check_timeout(timeout, "as_completed");
    std::vector<NextCompletion<T>> out;
    if (fs.empty()) return out;
    EventLoop& loop = detail::loop_of(fs);
    if constexpr (detail::FutureLike<A>) detail::drop_duplicates(fs);
    std::vector<detail::Ref<detail::FutureStateBase>> children;
    children.reserve(fs.size());
    for (A& a : fs) children.emplace_back(detail::state_of(ensure_future(loop, std::move(a))));
    using F = decltype(ensure_future(loop, std::move(fs.front())));
    detail::ResultGetter<T> get = detail::getter_for(static_cast<const F*>(nullptr));
    detail::Ref<detail::AsCompletedCore> core(
        new detail::AsCompletedCore(loop, std::move(children)));
    core->start(timeout);
    out.reserve(fs.size());
    for (std::size_t i = 0; i < fs.size(); ++i) out.emplace_back(core, get);
    return out;
}

template <Awaitable A, std::size_t N>
auto as_completed(A (&&fs)[N], std::optional<double> timeout = std::nullopt) {
    return as_completed(detail::to_vector(fs), timeout);
}

}  // namespace aio
