// locks.cpp - see locks.hpp (asyncio: locks.py; Semaphore as fixed by gh-90155, in 3.11.7,
// and gh-111694; Condition.wait as fixed in 3.13, gh-112202 and gh-111693).
#include "lesson04_sync/locks.hpp"

#include <cstdio>
#include <exception>
#include <string>

#include "lesson01_loop/log.hpp"

namespace aio {

namespace {

// "<aio::Lock object at 0x5581... [locked, waiters:1]>", asyncio's shape.
std::string object_repr(const char* kind, const void* self, const std::string& extra) {
    char address[32];
    std::snprintf(address, sizeof address, "%p", self);
    return std::string("<aio::") + kind + " object at " + address + " [" + extra + "]>";
}

std::string with_waiters(std::string extra, std::size_t waiters) {
    if (waiters > 0) extra += ", waiters:" + std::to_string(waiters);
    return extra;
}

}  // namespace

void detail::report_release_error() noexcept {
    try {
        log(LogLevel::error, "Exception while releasing at the end of a guard's scope: " +
                                 describe_exception(std::current_exception()));
    } catch (...) {
    }
}

// ---- Lock ------------------------------------------------------------------------------

bool Lock::held_by_current_task() const noexcept { return locked_ && owner_ == current_task(); }

// asyncio: the fast path of Lock.acquire. Free, and no waiter that is not cancelled,
// not even a woken one that has not run yet: a newcomer never barges in front.
bool Lock::try_acquire() noexcept {
    if (locked_ || waiters_.any_not_cancelled()) return false;
    locked_ = true;
    owner_ = current_task();
    return true;
}

// A Lock is not reentrant: the task that holds it would wait for itself forever.
void Lock::check_can_wait() const {
    if (held_by_current_task())
        throw RuntimeError(
            "Lock is already held by this task: acquiring it again would wait "
            "forever (a Lock is not reentrant)");
}

// asyncio: the rest of Lock.acquire, after `await fut`. A waiter that does not proceed
// (cancelled, even after release() woke it) wakes the next one if the lock is free:
// that is how no wake-up is lost (asyncio: `if not self._locked: self._wake_up_first()`).
void Lock::finish_wait(detail::Waiter& w) {
    try {
        w.resume();
    } catch (...) {
        if (!w.orphaned() && !locked_) waiters_.wake_first();
        throw;
    }
    locked_ = true;
    owner_ = current_task();
}

void Lock::wait_abandoned(detail::Waiter&) noexcept {
    if (locked_) return;
    try {
        waiters_.wake_first();
    } catch (...) {
    }
}

void Lock::release() {
    if (locked_ && owner_ != current_task())
        throw RuntimeError(
            "Lock is held by another task: only the task that acquired it may "
            "release it");
    release_held();
}

// asyncio: Lock.release. The lock stays free until the woken waiter runs, but nobody
// can take it meanwhile (try_acquire), so this is a hand-off in FIFO order.
void Lock::release_held() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    locked_ = false;
    owner_ = nullptr;
    waiters_.wake_first();
}

// A guard releases what its task holds. If that task does not hold the lock: inside
// the task it is the misuse release() reports; outside it (the frame torn down by
// loop.close(), e.g. inside Condition.wait, which had given the lock up) there is
// nothing of the task's to release.
void Lock::release_from_guard(const void* task) {
    if (locked_ && owner_ == task) {
        release_held();
        return;
    }
    if (current_task() != task) return;
    release();  // throws "Lock is not acquired." or "held by another task"
}

std::string Lock::repr() const {
    return object_repr("Lock", this, with_waiters(locked_ ? "locked" : "unlocked", waiter_count()));
}

// ---- Event -----------------------------------------------------------------------------

// asyncio: Event.set. Every waiter not done is woken; each resumes in its next step.
void Event::set() {
    if (value_) return;
    value_ = true;
    waiters_.wake_all();
}

std::string Event::repr() const {
    return object_repr("Event", this, with_waiters(value_ ? "set" : "unset", waiter_count()));
}

// ---- Condition -------------------------------------------------------------------------

void Condition::check_held(const char* message) const {
    if (!lock_->locked()) throw RuntimeError(message);
    if (!lock_->held_by_current_task())
        throw RuntimeError(std::string(message) + " (it is held by another task)");
}

// asyncio: Condition.wait (3.13). Release, park, then re-acquire whatever happened.
Coro<bool> Condition::wait() {
    check_held("cannot wait on un-acquired lock");
    lock_->release();
    detail::Waiter waiter;
    std::exception_ptr error;
    try {
        co_await detail::wait_on(waiter, waiters_);
    } catch (...) {
        error = std::current_exception();
    }
    if (waiter.orphaned()) std::rethrow_exception(error);  // nothing left to re-acquire
    // The lock is taken back even if cancelled; further cancels are swallowed until
    // then, and the most recent CancelledError is the one rethrown (gh-111693).
    for (;;) {
        try {
            co_await lock_->acquire();
            break;
        } catch (const CancelledError&) {
            error = std::current_exception();
        }
    }
    if (error) {
        // We consumed a notification but will not return normally: pass it on (C6).
        if (waiter.woken()) waiters_.wake_next();
        std::rethrow_exception(error);
    }
    co_return true;
}

// asyncio: Condition.notify.
void Condition::notify(std::size_t n) {
    check_held("cannot notify on un-acquired lock");
    waiters_.wake(n);
}

std::string Condition::repr() const {
    return object_repr("Condition", this,
                       with_waiters(locked() ? "locked" : "unlocked", waiter_count()));
}

// ---- Semaphore -------------------------------------------------------------------------

Semaphore::Semaphore(int value, bool bounded)
    : value_(value),
      bound_(bounded ? value : -1),
      waiters_(bounded ? "BoundedSemaphore" : "Semaphore") {
    if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

// asyncio: the fast path of Semaphore.acquire (FIFO: not while anyone waits).
bool Semaphore::try_acquire() noexcept {
    if (locked()) return false;
    --value_;
    return true;
}

// asyncio 3.13: the rest of Semaphore.acquire. release() already took our permit out of
// value_; a waiter woken but not proceeding gives it back. Either way, wake as many
// waiters as there are permits (newcomers queued behind us while we were woken).
void Semaphore::finish_wait(detail::Waiter& w) {
    try {
        w.resume();
    } catch (...) {
        if (!w.orphaned()) {
            if (w.woken()) ++value_;
            wake_while_permits();
        }
        throw;
    }
    wake_while_permits();
}

void Semaphore::wait_abandoned(detail::Waiter& w) noexcept {
    if (w.woken()) ++value_;
    try {
        wake_while_permits();
    } catch (...) {
    }
}

void Semaphore::wake_while_permits() {
    while (value_ > 0 && waiters_.wake_next()) --value_;
}

// asyncio: Semaphore.release (and BoundedSemaphore.release's check). The permit goes
// to the first waiter now: the value is decremented on its behalf.
void Semaphore::release() {
    if (bound_ >= 0 && value_ >= bound_)
        throw ValueError("BoundedSemaphore released too many times");
    ++value_;
    if (waiters_.wake_next()) --value_;
}

std::string Semaphore::repr() const {
    std::string state = locked() ? "locked" : "unlocked, value:" + std::to_string(value_);
    return object_repr(bound_ >= 0 ? "BoundedSemaphore" : "Semaphore", this,
                       with_waiters(std::move(state), waiter_count()));
}

// ---- Barrier ---------------------------------------------------------------------------

Barrier::Barrier(int parties) : parties_(parties) {
    if (parties < 1) throw ValueError("parties must be > 0");
}

// asyncio: Barrier.wait. Runs holding the condition's lock, except while waiting on it.
Coro<int> Barrier::wait() {
    Guard<Lock> held = co_await cond_.guard();
    co_await block();
    int index = count_++;
    try {
        if (index + 1 == parties_)
            release_all();
        else
            co_await wait_until_released();
    } catch (...) {
        leave();  // a cancelled or broken waiter no longer counts
        throw;
    }
    leave();
    co_return index;
}

// asyncio: Barrier._block. Wait while the previous round drains or resets.
Coro<void> Barrier::block() {
    co_await cond_.wait_for(
        [this] { return state_ != State::draining && state_ != State::resetting; });
    if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
}

// asyncio: Barrier._wait. Wait for the last party, or for a reset or abort.
Coro<void> Barrier::wait_until_released() {
    co_await cond_.wait_for([this] { return state_ != State::filling; });
    if (state_ == State::broken || state_ == State::resetting)
        throw BrokenBarrierError("Abort or reset of barrier");
}

// asyncio: Barrier._release. The last party arrived: everyone may leave.
void Barrier::release_all() {
    state_ = State::draining;
    cond_.notify_all();
}

// asyncio: Barrier._exit. The last to leave ends the draining (or resetting) round.
void Barrier::leave() {
    if (--count_ > 0) return;
    if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
    cond_.notify_all();
}

// asyncio: Barrier.reset.
Coro<void> Barrier::reset() {
    Guard<Lock> held = co_await cond_.guard();
    state_ = count_ > 0 ? State::resetting : State::filling;
    cond_.notify_all();
}

// asyncio: Barrier.abort.
Coro<void> Barrier::abort() {
    Guard<Lock> held = co_await cond_.guard();
    state_ = State::broken;
    cond_.notify_all();
}

std::string Barrier::repr() const {
    static const char* const names[] = {"filling", "draining", "resetting", "broken"};
    std::string extra = names[static_cast<int>(state_)];
    if (!broken())
        extra += ", waiters:" + std::to_string(n_waiting()) + "/" + std::to_string(parties_);
    return object_repr("Barrier", this, extra);
}

}  // namespace aio
