// waiters.cpp - see waiters.hpp (asyncio: the `_waiters` deques of locks.py and queues.py,
// and mixins._LoopBoundMixin).
#include "lesson04_sync/waiters.hpp"

#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace aio::detail {

// ---- one waiter ----------------------------------------------------------------------

void Waiter::leave() noexcept {
    if (!list_) return;
    list_->remove(*this);
    list_ = nullptr;
}

void Waiter::resume() {
    leave();
    Driver* driver = std::exchange(driver_, nullptr);
    resumed(driver);    // throws CancelledError if the task was cancelled after its wake-up
    future_->result();  // throws CancelledError if the wait itself was cancelled
    if (orphaned_by_)
        throw RuntimeError(std::string("the ") + orphaned_by_ +
                           " this task waited on was destroyed while it waited");
}

bool Waiter::abandon() noexcept {
    leave();
    if (!driver_) return false;
    if (future_ && !future_->done()) forget_waiter(driver_, &*future_);
    driver_ = nullptr;
    return true;
}

// ---- the list --------------------------------------------------------------------------

// The waiters outlive us: tell them, so that they never touch this list again.
WaiterList::~WaiterList() {
    for (Chain* chain : {&parked_, &woken_}) {
        while (Waiter* w = chain->front()) {
            chain->remove(*w);
            w->list_ = nullptr;
            w->orphaned_by_ = kind_;
        }
    }
}

bool WaiterList::any_not_cancelled() const noexcept {
    if (!woken_.empty()) return true;
    for (const Waiter* w = parked_.front(); w; w = Chain::next(*w))
        if (!w->future_->cancelled()) return true;
    return false;
}

// set_result schedules the task's step (one hop); the waiter moves to the woken chain
// until its task runs and leaves.
void WaiterList::wake_one(Waiter& w) {
    w.future_->set_result();
    parked_.remove(w);
    w.in_woken_ = true;
    woken_.push_back(w);
}

// asyncio: Lock._wake_up_first. A woken or cancelled first waiter will run and either
// take the lock or, if it does not, call this again (Lock's cancel path).
bool WaiterList::wake_first() {
    if (!woken_.empty()) return false;
    Waiter* first = parked_.front();
    if (!first || first->done()) return false;
    wake_one(*first);
    return true;
}

// asyncio: Semaphore._wake_up_next. Cancelled waiters are skipped (they leave when their
// task runs); there are rarely any, so this is O(1) in practice.
bool WaiterList::wake_next() {
    for (Waiter* w = parked_.front(); w; w = Chain::next(*w)) {
        if (w->done()) continue;
        wake_one(*w);
        return true;
    }
    return false;
}

std::size_t WaiterList::wake(std::size_t n) {
    std::size_t woken = 0;
    Waiter* w = parked_.front();
    while (w && woken < n) {
        Waiter* next = Chain::next(*w);  // wake_one moves w to the other chain
        if (!w->done()) {
            wake_one(*w);
            ++woken;
        }
        w = next;
    }
    return woken;
}

// asyncio: _LoopBoundMixin._get_loop, whose message we keep.
void WaiterList::bind(EventLoop& loop) {
    std::uint64_t& bound = binding_->loop_id_;
    if (!bound) bound = loop.id();
    if (bound != loop.id())
        throw RuntimeError(std::string(kind_) + " is bound to a different event loop");
}

}  // namespace aio::detail
