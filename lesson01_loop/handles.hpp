// handles.hpp - a Handle is one scheduled callback (asyncio: events.Handle, TimerHandle).
//
// The loop's ready queue holds pointers to Handles, never copies, so a Handle needs a
// stable address. Two kinds exist:
//   - embedded handles, plain `Handle`s that are members of a longer-lived object
//     (lesson 2's Driver keeps its step as one): scheduling one pushes a pointer to
//     memory the owner already has. The owner must outlive the handle's stay in the
//     ready queue; it may destroy itself from the handle's own callback (the loop
//     touches nothing after it ran). One may also wait in the timer heap
//     (EventLoop::schedule_at: lesson 2's sleep parks a task's step there) and be
//     taken back out before it is due (EventLoop::unschedule);
//   - CallbackHandles, made by call_soon/call_later/add_reader: a Handle that carries
//     its callable in an inline buffer (48 bytes holds a lambda with a few captures;
//     only a larger callable costs one heap allocation), the timer fields and the
//     scheduling site. The loop keeps them on a free list and recycles them, so
//     steady-state scheduling allocates nothing. call_at/call_later timers are
//     always CallbackHandles.
// A Handle is only what the ready queue and the timer heap need, three words (ops,
// owner; flags and the heap slot it is parked in), so a Task pays nothing for the 96
// bytes of buffer, site and timer fields its step never uses. What to do with the
// payload is in a per-type table, HandleOps, so neither class is virtual.
//
// Users never hold a CallbackHandle: the loop recycles them after they run. They get a
// HandleRef (or TimerHandle), a pointer plus the generation it was issued for, so a
// cancel() that arrives after the callback ran and the slot was reused does nothing.
//
// Differences from asyncio: no per-call positional args (capture them in the lambda);
// the scheduling site is one file:line, always recorded, not a traceback in debug mode.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "lesson01_loop/location.hpp"

namespace aio {

class EventLoop;
class Handle;

// What a Handle does with its payload. One static table per callable type.
struct HandleOps {
    void (*invoke)(Handle&);   // run the callback
    void (*destroy)(Handle&);  // drop the callable (may be null: embedded handles)
    // The printable form: an embedded handle's owner prints itself ("<Task ...>"), a
    // CallbackHandle prints asyncio's "<Handle ...>". May be null: "<Handle>".
    void (*describe)(const Handle&, std::string&);
};

// A CallbackHandle's table adds how to compare two callables of its type (null when
// the type has no ==; a lambda has none, a function pointer has).
struct CallbackOps : HandleOps {
    bool (*equal)(const Handle&, const Handle&);
};

class Handle {
public:
    // An embedded handle: its owner supplies the ops and stays alive while it is queued.
    explicit Handle(const HandleOps* ops, void* owner = nullptr) noexcept
        : ops_(ops), owner_(owner) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    // asyncio: Handle._run. Runs the callback; exceptions are the caller's (the loop's).
    void run();
    // asyncio: Handle.cancel. Idempotent; a queued handle is skipped when dequeued. A
    // CallbackHandle also drops its callable at once unless it is running (a callback
    // may cancel its own handle), and a timer is dropped lazily from the heap.
    void cancel() noexcept;
    bool cancelled() const noexcept { return cancelled_; }
    bool queued() const noexcept { return queued_; }
    // Waiting in the timer heap (EventLoop::schedule_at), not yet due.
    bool parked() const noexcept { return park_slot_ != 0; }
    void* owner() const noexcept { return owner_; }

    // "<Handle scheduled at demo.cpp:12>", "<TimerHandle cancelled when=5.000 scheduled at
    // demo.cpp:14>", or the owner's form for an embedded handle ("<Task pending ...>").
    std::string repr() const;

protected:
    struct PooledTag {};
    explicit Handle(PooledTag) noexcept : pooled_(true) {}  // a CallbackHandle

    // Fixed while the handle is scheduled.
    const HandleOps* ops_ = nullptr;
    void* owner_ = nullptr;  // embedded: the owning object; pooled: null
    // Loop thread only.
    std::uint32_t park_slot_ = 0;  // parked (schedule_at): 1 + its slot in the timer heap
    bool cancelled_ = false;
    bool queued_ = false;        // in the ready queue
    bool running_ = false;       // a CallbackHandle's callback is on the stack now
    const bool pooled_ = false;  // this is a CallbackHandle, owned by the loop's pool

private:
    friend class EventLoop;
    friend class TimerHeap;
};

// A Handle with its own callable: what call_soon, call_later and add_reader schedule.
// Only the loop makes them (from its pool, or once per call_soon_threadsafe).
class CallbackHandle : public Handle {
public:
    static constexpr std::size_t inline_size = 48;

    CallbackHandle() noexcept : Handle(PooledTag{}) {}
    ~CallbackHandle() { drop_callable(); }

    bool is_timer() const noexcept { return timer_; }
    double when() const noexcept { return when_; }
    const Location& where() const noexcept { return where_; }
    // asyncio compares `self._callback == other._callback`: the same handle, or two
    // callables of one type that has == and that compare equal (function pointers).
    bool same_callback(const CallbackHandle& other) const noexcept;

    // Store a callable. Inline when it fits, else one allocation.
    template <class F>
    void emplace(F&& f);

private:
    friend class Handle;
    friend class EventLoop;
    friend class TimerHeap;
    friend class HandleRef;

    void cancelled_now() noexcept;  // Handle::cancel's part for pooled handles
    void drop_callable() noexcept;
    static void describe(const Handle& h, std::string& out);

    template <class F>
    static constexpr bool fits_inline =
        sizeof(F) <= inline_size &&
        alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;
    template <class F>
    static const CallbackOps* ops_for();
    template <class F>
    static F& callable(Handle& h) noexcept;
    template <class F>
    static const F& callable(const Handle& h) noexcept {
        return callable<F>(const_cast<Handle&>(h));
    }

    // Fixed while the handle is scheduled.
    EventLoop* loop_ = nullptr;  // needed to count cancelled timers
    Location where_{};
    double when_ = 0.0;  // timers: the deadline on the loop's clock
    // Loop thread only.
    std::uint32_t generation_ = 0;  // bumped each time the handle is reused
    bool in_heap_ = false;          // in the timer heap
    bool timer_ = false;            // scheduled by call_at/call_later
    bool persistent_ = false;       // an fd callback: runs each time the fd is ready
    bool has_callable_ = false;
    alignas(std::max_align_t) unsigned char storage_[inline_size];
};

// A user's reference to a scheduled callback: what call_soon returns. Like asyncio's
// Handle.cancel, cancel() is for the loop's thread (or any thread once the loop has
// stopped running and close() has returned): from another thread while the loop runs,
// schedule it with call_soon_threadsafe([ref]() mutable { ref.cancel(); }).
class HandleRef {
public:
    HandleRef() = default;
    explicit HandleRef(CallbackHandle* h) noexcept : h_(h), generation_(h ? h->generation_ : 0) {}

    // asyncio: Handle.cancel. Does nothing if the callback already ran.
    void cancel() noexcept;
    // True once cancel() was called through this reference, or while the handle is
    // still scheduled and someone cancelled it.
    bool cancelled() const noexcept;
    explicit operator bool() const noexcept { return h_ != nullptr; }
    std::string repr() const;

protected:
    bool live() const noexcept { return h_ && h_->generation_ == generation_; }
    // Both refer to the same use of the same handle.
    bool same_handle(const HandleRef& o) const noexcept {
        return h_ == o.h_ && generation_ == o.generation_;
    }
    const CallbackHandle* live_handle() const noexcept { return live() ? h_ : nullptr; }

private:
    CallbackHandle* h_ = nullptr;
    std::uint32_t generation_ = 0;
    bool cancelled_here_ = false;
};

// asyncio: TimerHandle, what call_later/call_at return; when() is the deadline.
// Ordered and compared as asyncio's (TimerHandle.__lt__, __eq__ ...): < and > by
// when() alone; == when the deadlines, the callbacks and the cancelled states are
// equal; <= is "< or ==". So two handles with one deadline are neither < nor ==
// unless their callbacks compare equal, as in asyncio.
// Differences from asyncio: a callback is "equal" only to itself or to an equal
// callable of a type with == (a function pointer), since lambdas have no ==; a handle
// whose callback ran compares by identity (the loop recycled its callable).
class TimerHandle : public HandleRef {
public:
    TimerHandle() = default;
    explicit TimerHandle(CallbackHandle* h) noexcept : HandleRef(h), when_(h ? h->when() : 0.0) {}
    double when() const noexcept { return when_; }

    friend bool operator==(const TimerHandle& a, const TimerHandle& b) noexcept;
    friend bool operator<(const TimerHandle& a, const TimerHandle& b) noexcept {
        return a.when_ < b.when_;
    }
    friend bool operator>(const TimerHandle& a, const TimerHandle& b) noexcept { return b < a; }
    friend bool operator<=(const TimerHandle& a, const TimerHandle& b) noexcept {
        return a < b || a == b;
    }
    friend bool operator>=(const TimerHandle& a, const TimerHandle& b) noexcept {
        return a > b || a == b;
    }

private:
    double when_ = 0.0;
};

// ---- template implementation ------------------------------------------------------

template <class F>
F& CallbackHandle::callable(Handle& h) noexcept {
    auto& self = static_cast<CallbackHandle&>(h);
    if constexpr (fits_inline<F>)
        return *std::launder(reinterpret_cast<F*>(self.storage_));
    else
        return **std::launder(reinterpret_cast<F**>(self.storage_));
}

template <class F>
const CallbackOps* CallbackHandle::ops_for() {
    static constexpr CallbackOps ops = {
        {
            [](Handle& h) { callable<F>(h)(); },
            [](Handle& h) {
                if constexpr (fits_inline<F>)
                    callable<F>(h).~F();
                else
                    delete &callable<F>(h);
            },
            &CallbackHandle::describe,
        },
        [](const Handle& a, const Handle& b) {
            if constexpr (std::equality_comparable<F>)
                return callable<F>(a) == callable<F>(b);
            else
                return false;
        },
    };
    return &ops;
}

template <class F>
void CallbackHandle::emplace(F&& f) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&>, "a callback must be callable with no arguments");
    drop_callable();
    if constexpr (fits_inline<Fn>)
        ::new (static_cast<void*>(storage_)) Fn(std::forward<F>(f));
    else
        ::new (static_cast<void*>(storage_)) Fn*(new Fn(std::forward<F>(f)));
    ops_ = ops_for<Fn>();
    has_callable_ = true;
}

}  // namespace aio
