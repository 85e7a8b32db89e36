// waiters.hpp - how a task waits on a lock, an event or a queue: parked on a future.
//
// Every primitive of this lesson keeps its waiting tasks the way asyncio does: each
// waiter is a future the waiting task awaits, kept in a FIFO list. Waking a waiter is
// set_result() on its future, which schedules the task's step (one loop hop, as any
// future). Cancelling the task cancels that future (it is the task's fut_waiter), which
// wakes the task with CancelledError at its co_await. So this lesson adds no new way to
// wait or to be cancelled; it only decides *whom* to wake.
//
// Unlike asyncio, the future is not allocated: a detail::Waiter embeds it, and the
// Waiter lives in the waiting coroutine's frame (inside the awaiter, or as a local of a
// coroutine that loops), linked into the primitive's intrusive WaiterList. Parking and
// waking therefore allocate nothing.
//
// The one invariant every primitive keeps (the tests label it C6): a wake-up consumed by a
// waiter that then does not proceed (cancelled after being woken, or destroyed) is
// forwarded to the next waiter. Waiter::woken() tells whether a wake-up was consumed;
// each primitive's cancel path uses it (locks.cpp, queues.hpp).
//
// Lifetime: a primitive must outlive the tasks waiting on it. If it dies first anyway
// (a lock local to a coroutine that finished while others waited), its list "orphans"
// the waiters: their frames can still be destroyed or cancelled safely, and a waiter
// woken but orphaned throws RuntimeError instead of touching freed memory.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/intrusive_list.hpp"

namespace aio {
namespace detail {

class WaiterList;

// One parked coroutine: the future it awaits and its place in a WaiterList.
class Waiter {
public:
    Waiter() noexcept = default;
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    ~Waiter() { abandon(); }

    // Suspends the coroutine `at` on a fresh future, at the back of `list`. Throws
    // RuntimeError outside a task, or if `list` is bound to another loop; then nothing
    // is parked and the co_await throws.
    template <class P>
    void park(std::coroutine_handle<P> at, WaiterList& list);

    // After the parked coroutine resumed: leaves the list (asyncio: the `finally:
    // waiters.remove(fut)`), then throws CancelledError if the task was cancelled while
    // parked or after its wake-up, or RuntimeError if the primitive died meanwhile.
    void resume();

    // For destructors: if still parked, unlink and stop the future from waking the
    // task. True if it was parked (the primitive may have a wake-up to forward).
    bool abandon() noexcept;

    bool parked() const noexcept { return driver_ != nullptr; }
    // A wake-up was delivered (the future finished, not cancelled): what C6 forwards.
    bool woken() const noexcept {
        return future_ && future_->state() == FutureStateBase::State::finished;
    }
    // Woken or cancelled: no longer waiting for a wake-up (asyncio: fut.done()).
    bool done() const noexcept { return future_ && future_->done(); }
    // The primitive was destroyed while this waiter was linked to it.
    bool orphaned() const noexcept { return orphaned_by_ != nullptr; }

private:
    friend class WaiterList;
    void leave() noexcept;

    // Set by park, valid until the next park.
    std::optional<FutureState<void>> future_;
    Driver* driver_ = nullptr;  // the task's driver while parked, else null
    // Owned by the WaiterList this waiter is linked into.
    WaiterList* list_ = nullptr;
    bool in_woken_ = false;              // which of the list's two chains
    const char* orphaned_by_ = nullptr;  // the dead primitive's kind, for the message
    ListLinks<Waiter> links_;
};

// The waiters of one primitive, in arrival order. Two chains: `parked` (no wake-up yet;
// a cancelled waiter stays until its task runs, as in asyncio) and `woken` (set_result
// done, task not yet resumed). In asyncio's single deque every woken waiter precedes
// the parked ones it matters for, so "the first waiter that is not done" is the first
// parked one that is not cancelled; keeping the woken apart makes that O(1).
class WaiterList {
public:
    // `kind` names the primitive in "Lock is bound to a different event loop".
    explicit WaiterList(const char* kind) noexcept : kind_(kind), binding_(this) {}
    // A list bound together with `binds_with` (a Queue's putters with its getters): the
    // first wait on either binds both (asyncio: one _loop per primitive).
    WaiterList(const char* kind, WaiterList& binds_with) noexcept
        : kind_(kind), binding_(&binds_with) {}
    WaiterList(const WaiterList&) = delete;
    WaiterList& operator=(const WaiterList&) = delete;
    ~WaiterList();  // orphans the waiters still linked

    // asyncio: len(self._waiters): every linked waiter, woken or not, cancelled or not.
    std::size_t size() const noexcept { return parked_.size() + woken_.size(); }
    bool empty() const noexcept { return size() == 0; }
    // asyncio: any(not w.cancelled() for w in self._waiters). A woken waiter counts: it
    // is about to proceed, which is what stops a newcomer from barging past it.
    bool any_not_cancelled() const noexcept;

    // asyncio: Lock._wake_up_first. Wakes the first waiter, only if it is not done.
    bool wake_first();
    // asyncio: Semaphore._wake_up_next, Queue._wakeup_next. Wakes the first waiter that
    // is not done; false if there is none.
    bool wake_next();
    // asyncio: Condition.notify(n), Event.set. Wakes up to n waiters that are not done,
    // in FIFO order; returns how many.
    std::size_t wake(std::size_t n);
    std::size_t wake_all() { return wake(parked_.size()); }

    // asyncio: mixins._LoopBoundMixin._get_loop. The first wait binds the primitive to
    // its loop; a wait from another loop throws RuntimeError. The loop is remembered by
    // EventLoop::id(), not its address: a new loop built where a dead one was is another.
    void bind(EventLoop& loop);

private:
    friend class Waiter;
    using Chain = IntrusiveList<Waiter, &Waiter::links_>;
    void push(Waiter& w) noexcept {
        w.list_ = this;
        w.in_woken_ = false;
        parked_.push_back(w);
    }
    void remove(Waiter& w) noexcept { (w.in_woken_ ? woken_ : parked_).remove(w); }
    void wake_one(Waiter& w);

    Chain parked_;
    Chain woken_;
    const char* kind_;
    std::uint64_t loop_id_ = 0;  // EventLoop::id() of the loop bound by the first park
    WaiterList* binding_;        // whose loop_id_ counts: this list, or the one it shares
};

// co_await waiter.wait_on(list): park until woken; for primitives written as coroutines
// that loop (Condition.wait, Queue.get/put), whose Waiter is a local of that coroutine.
struct ParkAwaiter {
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    Waiter* waiter;
    WaiterList* list;
    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        waiter->park(at, *list);
    }
    void await_resume() { waiter->resume(); }
};
inline ParkAwaiter wait_on(Waiter& waiter, WaiterList& list) noexcept { return {&waiter, &list}; }

// ---- template implementation -----------------------------------------------------

template <class P>
void Waiter::park(std::coroutine_handle<P> at, WaiterList& list) {
    Driver* driver = driver_of(at.promise());  // throws outside a driver
    EventLoop& loop = driver->get_loop();
    list.bind(loop);
    future_.emplace(loop);
    // Registers the task's step on the future; a cancel already requested cancels the
    // future right here (TaskBase::waiting_on), which still ends in resume().
    suspend_on(at.promise(), at, &*future_);
    driver_ = driver;
    orphaned_by_ = nullptr;
    list.push(*this);
}

}  // namespace detail
}  // namespace aio
