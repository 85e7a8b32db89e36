// locks.hpp - Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier
// (asyncio: locks.py).
//
// Each primitive is a little state (locked, set, a count) plus a WaiterList of parked
// tasks (waiters.hpp). Acquiring something free never suspends and never touches the
// loop; acquiring something taken parks the task on a future that a later release()
// completes. All of it runs on one loop thread, so there is no atomic anywhere: "who
// gets it next" is decided by the FIFO order of the list, exactly as in asyncio.
//
//   co_await lock.acquire();  ...  lock.release();      asyncio: await lock.acquire() ...
//   { auto held = co_await lock.guard(); ... }            asyncio: async with lock: ...
//
// The second form is `async with`: a Guard whose destructor releases. A destructor
// cannot await, but releasing never needs to, so no async_with is needed here.
//
// Fairness rules (asyncio 3.11's, with 3.13's Condition and Semaphore fixes; the README's
// timelines): a released lock or semaphore goes to the first waiter, and nobody may barge
// in front of a woken waiter that has not run yet; a waiter cancelled after being woken
// passes its wake-up on (the rule the tests label C6).
#pragma once

#include <coroutine>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/exceptions.hpp"
#include "lesson04_sync/waiters.hpp"

namespace aio {

namespace detail {
template <class Prim, class R>
struct AcquireRequest;
template <class Prim, class R>
class AcquireAwaiter;
// Logs (ERROR) the exception being handled: a guard's destructor cannot throw it.
void report_release_error() noexcept;
}  // namespace detail

// The C++ form of `async with lock:` (or semaphore): holds what it was given and
// releases it when it goes out of scope, also when the block throws or its task is
// cancelled. Move-only; release() ends the block early. It remembers the task that
// acquired, and releases only what that task holds: a frame destroyed by loop.close()
// inside Condition.wait() (which had given the lock up) must not release the lock of
// the task that took it meanwhile.
template <class P>
class [[nodiscard]] Guard {
public:
    Guard() noexcept = default;
    Guard(Guard&& other) noexcept
        : held_(std::exchange(other.held_, nullptr)), task_(other.task_) {}
    Guard& operator=(Guard&& other) noexcept {
        if (this != &other) {
            reset();
            held_ = std::exchange(other.held_, nullptr);
            task_ = other.task_;
        }
        return *this;
    }
    ~Guard() { reset(); }

    // Releases now; throws what the primitive's release throws.
    void release() {
        if (P* p = std::exchange(held_, nullptr)) p->release_from_guard(task_);
    }
    explicit operator bool() const noexcept { return held_ != nullptr; }

private:
    template <class, class>
    friend class detail::AcquireAwaiter;
    // Made only by an acquiring await, in the acquiring task.
    explicit Guard(P& held) noexcept : held_(&held), task_(current_task()) {}
    void reset() noexcept {
        try {
            release();
        } catch (...) {
            detail::report_release_error();
        }
    }
    P* held_ = nullptr;
    const void* task_ = nullptr;  // the task that acquired, compared only
};

// ---- Lock ------------------------------------------------------------------------------

// asyncio: locks.Lock. FIFO, no barging. Differences from asyncio: a lock remembers the
// task that holds it; release() from any other task (or from outside a task) throws, and
// so does acquiring it again in the task that holds it (asyncio would wait forever).
class Lock {
public:
    Lock() noexcept = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    bool locked() const noexcept { return locked_; }
    bool held_by_current_task() const noexcept;
    // co_await lock.acquire(): true once this task holds the lock.
    detail::AcquireRequest<Lock, bool> acquire() noexcept;
    // co_await lock.guard(): a Guard<Lock> holding it (the `async with` form).
    detail::AcquireRequest<Lock, Guard<Lock>> guard() noexcept;
    // Throws RuntimeError('Lock is not acquired.') if unlocked, and RuntimeError if held
    // by another task. Wakes the first waiter, which takes the lock when it runs.
    void release();

    // asyncio: len(lock._waiters), for tests.
    std::size_t waiter_count() const noexcept { return waiters_.size(); }
    // "<aio::Lock object at 0x... [locked, waiters:1]>"
    std::string repr() const;

private:
    template <class, class>
    friend class detail::AcquireAwaiter;
    template <class>
    friend class Guard;
    bool try_acquire() noexcept;
    void check_can_wait() const;  // throws if this task holds it: it would wait forever
    void finish_wait(detail::Waiter& w);
    void wait_abandoned(detail::Waiter& w) noexcept;
    void release_held();
    void release_from_guard(const void* task);

    // Loop thread only.
    bool locked_ = false;
    const void* owner_ = nullptr;  // the holding task, compared only (never dereferenced)
    detail::WaiterList waiters_{"Lock"};
};
using LockGuard = Guard<Lock>;

// ---- Event -----------------------------------------------------------------------------

// asyncio: locks.Event. A flag; wait() returns once it is set. set() wakes every waiter,
// and a clear() right after does not take that back.
class Event {
public:
    Event() noexcept = default;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;

    bool is_set() const noexcept { return value_; }
    void set();
    void clear() noexcept { value_ = false; }
    // co_await ev.wait(): true, at once if set.
    detail::AcquireRequest<Event, bool> wait() noexcept;

    std::size_t waiter_count() const noexcept { return waiters_.size(); }
    std::string repr() const;  // "<aio::Event object at 0x... [unset, waiters:2]>"

private:
    template <class, class>
    friend class detail::AcquireAwaiter;
    bool try_acquire() const noexcept { return value_; }
    void check_can_wait() const noexcept {}
    void finish_wait(detail::Waiter& w) { w.resume(); }
    void wait_abandoned(detail::Waiter&) noexcept {}

    bool value_ = false;
    detail::WaiterList waiters_{"Event"};
};

// ---- Condition -------------------------------------------------------------------------

// asyncio: locks.Condition. Waiting releases the lock, parks until notified, then takes
// the lock back, also when cancelled (the CancelledError comes after re-acquiring).
// Differences from asyncio 3.11: a waiter that consumed a notification and then failed
// passes it on to the next waiter (3.13's fix, gh-112202; 3.13 passes one on after
// every failure, a spurious wake-up, where we pass on only a consumed one).
class Condition {
public:
    Condition() noexcept : lock_(&own_lock_) {}
    explicit Condition(Lock& shared) noexcept : lock_(&shared) {}
    Condition(const Condition&) = delete;
    Condition& operator=(const Condition&) = delete;

    // The lock's methods (asyncio exports them the same way).
    bool locked() const noexcept { return lock_->locked(); }
    detail::AcquireRequest<Lock, bool> acquire() noexcept;
    detail::AcquireRequest<Lock, Guard<Lock>> guard() noexcept;
    void release() { lock_->release(); }
    Lock& lock() noexcept { return *lock_; }

    // co_await cond.wait(): true once notified and holding the lock again. Throws
    // RuntimeError('cannot wait on un-acquired lock') unless this task holds the lock.
    Coro<bool> wait();
    // Waits until predicate() is truthy and returns its value; at once if it already is,
    // even without the lock (asyncio: Condition.wait_for).
    template <class Predicate>
    Coro<std::invoke_result_t<Predicate&>> wait_for(Predicate predicate);
    // Wakes up to n waiters not woken yet, FIFO; the lock must be held by this task
    // (RuntimeError('cannot notify on un-acquired lock')).
    void notify(std::size_t n = 1);
    void notify_all() { notify(waiters_.size()); }

    std::size_t waiter_count() const noexcept { return waiters_.size(); }
    std::string repr() const;  // "<aio::Condition object at 0x... [locked, waiters:1]>"

private:
    void check_held(const char* message) const;

    Lock own_lock_;  // used unless a lock was given
    Lock* lock_;
    detail::WaiterList waiters_{"Condition"};
};

// ---- Semaphore, BoundedSemaphore ----------------------------------------------------

// asyncio: locks.Semaphore, with the fix for lost wake-ups 3.11.7 has (gh-90155). release()
// hands the permit to the first waiter at once (the value is decremented on its
// behalf), and acquire() takes the fast path only when nobody is waiting, so the order
// of acquisition is strictly FIFO.
class Semaphore {
public:
    // Throws ValueError('Semaphore initial value must be >= 0') for value < 0.
    explicit Semaphore(int value = 1) : Semaphore(value, false) {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // True if acquire() would wait: no permit, or someone is (or was just woken) ahead.
    bool locked() const noexcept { return value_ == 0 || waiters_.any_not_cancelled(); }
    detail::AcquireRequest<Semaphore, bool> acquire() noexcept;
    detail::AcquireRequest<Semaphore, Guard<Semaphore>> guard() noexcept;
    // Adds a permit and wakes the first waiter. A BoundedSemaphore throws
    // ValueError('BoundedSemaphore released too many times') past its initial value.
    void release();

    int value() const noexcept { return value_; }  // asyncio: _value
    std::size_t waiter_count() const noexcept { return waiters_.size(); }
    // "<aio::Semaphore object at 0x... [unlocked, value:2]>", "[locked, waiters:1]"
    std::string repr() const;

protected:
    Semaphore(int value, bool bounded);

private:
    template <class, class>
    friend class detail::AcquireAwaiter;
    template <class>
    friend class Guard;
    bool try_acquire() noexcept;
    void check_can_wait() const noexcept {}
    void finish_wait(detail::Waiter& w);
    void wait_abandoned(detail::Waiter& w) noexcept;
    void release_from_guard(const void*) { release(); }
    void wake_while_permits();

    int value_;
    int bound_;  // the initial value of a BoundedSemaphore, else -1
    detail::WaiterList waiters_;
};

// asyncio: locks.BoundedSemaphore.
class BoundedSemaphore : public Semaphore {
public:
    explicit BoundedSemaphore(int value = 1) : Semaphore(value, true) {}
};
using SemaphoreGuard = Guard<Semaphore>;

// ---- Barrier ---------------------------------------------------------------------------

// asyncio: locks.Barrier (3.11). `parties` tasks call wait(); the last one to arrive
// releases them all. Built, as in asyncio, on a Condition: states filling -> draining
// (everyone leaving) -> filling; reset() and abort() break the current round.
class Barrier {
public:
    // Throws ValueError('parties must be > 0').
    explicit Barrier(int parties);
    Barrier(const Barrier&) = delete;
    Barrier& operator=(const Barrier&) = delete;

    // co_await b.wait(): the arrival index, 0 .. parties-1 (`async with b as i`).
    // Throws BrokenBarrierError if the barrier is reset or aborted meanwhile.
    Coro<int> wait();
    // Waiters now get BrokenBarrierError; the barrier fills again afterwards.
    Coro<void> reset();
    // Breaks it: current and future waiters get BrokenBarrierError.
    Coro<void> abort();

    int parties() const noexcept { return parties_; }
    int n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
    bool broken() const noexcept { return state_ == State::broken; }
    // "<aio::Barrier object at 0x... [filling, waiters:2/5]>", "[broken]"
    std::string repr() const;

private:
    enum class State { filling, draining, resetting, broken };
    Coro<void> block();
    Coro<void> wait_until_released();
    void release_all();
    void leave();

    Condition cond_;
    int parties_;
    State state_ = State::filling;
    int count_ = 0;  // tasks inside wait()
};

// ---- template implementation -----------------------------------------------------

namespace detail {

// The awaiter behind acquire(), guard() and Event::wait(): the fast path in
// await_ready, else parked on the primitive's list; R is bool or a Guard.
template <class Prim, class R>
class AcquireAwaiter : public Waiter {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    explicit AcquireAwaiter(Prim& prim) noexcept : prim_(prim) {}
    ~AcquireAwaiter() {
        // The frame is destroyed while parked (its loop closed): like a cancel.
        if (abandon() && !orphaned()) prim_.wait_abandoned(*this);
    }
    bool await_ready() noexcept { return prim_.try_acquire(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        prim_.check_can_wait();
        park(at, prim_.waiters_);
    }
    R await_resume() {
        if (parked()) prim_.finish_wait(*this);
        if constexpr (std::is_same_v<R, bool>)
            return true;
        else
            return R(prim_);
    }

private:
    Prim& prim_;
};

// What acquire() returns: copyable, so GCC 12 is happy to co_await it; the awaiter,
// which must not move once parked, is made in place by operator co_await. It may be
// stored and awaited later (`auto a = lock.acquire(); co_await a;`), or handed to
// create_task, gather or wait_for like any awaitable.
template <class Prim, class R>
struct AcquireRequest {
    Prim* prim;
    AcquireAwaiter<Prim, R> operator co_await() && { return AcquireAwaiter<Prim, R>(*prim); }
    AcquireAwaiter<Prim, R> operator co_await() & { return AcquireAwaiter<Prim, R>(*prim); }
};

}  // namespace detail

inline detail::AcquireRequest<Lock, bool> Lock::acquire() noexcept { return {this}; }
inline detail::AcquireRequest<Lock, Guard<Lock>> Lock::guard() noexcept { return {this}; }
inline detail::AcquireRequest<Event, bool> Event::wait() noexcept { return {this}; }
inline detail::AcquireRequest<Lock, bool> Condition::acquire() noexcept { return lock_->acquire(); }
inline detail::AcquireRequest<Lock, Guard<Lock>> Condition::guard() noexcept {
    return lock_->guard();
}
inline detail::AcquireRequest<Semaphore, bool> Semaphore::acquire() noexcept { return {this}; }
inline detail::AcquireRequest<Semaphore, Guard<Semaphore>> Semaphore::guard() noexcept {
    return {this};
}

// asyncio: Condition.wait_for.
template <class Predicate>
Coro<std::invoke_result_t<Predicate&>> Condition::wait_for(Predicate predicate) {
    auto result = predicate();
    while (!result) {
        co_await wait();
        result = predicate();
    }
    co_return result;
}

}  // namespace aio
