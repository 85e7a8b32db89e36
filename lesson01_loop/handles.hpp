// handles.hpp - a Handle is one scheduled callback (asyncio: events.Handle, TimerHandle).
//
// The loop's ready queue and timer heap hold pointers to Handles, never copies, so a
// Handle needs a stable address. Two kinds exist:
//   - pooled handles, made by call_soon/call_later/add_reader: the loop keeps them on a
//     free list and recycles them, so steady-state scheduling allocates nothing;
//   - embedded handles, members of a longer-lived object (lesson 3's Task keeps its
//     step as one): scheduling them pushes a pointer to memory the owner already has.
//     The owner must outlive the handle's stay in the ready queue; it may destroy
//     itself from the handle's own callback (the loop touches nothing after it ran).
//
// A Handle carries its callable in an inline buffer (48 bytes holds a lambda with a few
// captures); only a larger callable costs one heap allocation. What to do with the
// callable is in a per-type table, HandleOps, so a Handle is not a virtual class and
// the embedded kind needs no callable at all.
//
// Users never hold a Handle&: the loop recycles pooled handles after they run. They get
// a HandleRef (or TimerHandle), a pointer plus the generation it was issued for, so a
// cancel() that arrives after the callback ran and the slot was reused does nothing.
//
// Differences from asyncio: no per-call positional args (capture them in the lambda);
// the scheduling site is one file:line, always recorded, not a traceback in debug mode.
#pragma once

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
    void (*invoke)(Handle&);                        // run the callback
    void (*destroy)(Handle&);                       // drop the callable (may be null)
    void (*describe)(const Handle&, std::string&);  // the owner's repr (may be null)
};

class Handle {
public:
    static constexpr std::size_t inline_size = 48;

    Handle() = default;
    // An embedded handle: its owner supplies the ops and stays alive while it is queued.
    explicit Handle(const HandleOps* ops, void* owner = nullptr) noexcept
        : ops_(ops), owner_(owner) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { drop_callable(); }

    // asyncio: Handle._run. Runs the callback; exceptions are the caller's (the loop's).
    void run();
    // asyncio: Handle.cancel. Idempotent; a queued handle is skipped when dequeued,
    // a timer is dropped lazily from the heap. Drops the callable at once unless it is
    // running (a callback may cancel its own handle).
    void cancel() noexcept;
    bool cancelled() const noexcept { return cancelled_; }
    bool is_timer() const noexcept { return timer_; }
    bool queued() const noexcept { return queued_; }
    double when() const noexcept { return when_; }
    const Location& where() const noexcept { return where_; }
    void* owner() const noexcept { return owner_; }

    // "<Handle main() at demo.cpp:12>", "<TimerHandle when=5.000 at demo.cpp:14 cancelled>".
    std::string repr() const;

    // Store a callable (pooled handles only). Inline when it fits, else one allocation.
    template <class F>
    void emplace(F&& f);

private:
    friend class EventLoop;
    friend class TimerHeap;
    friend class HandleRef;

    void drop_callable() noexcept;

    template <class F>
    static constexpr bool fits_inline =
        sizeof(F) <= inline_size &&
        alignof(F) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible_v<F>;
    template <class F>
    static const HandleOps* ops_for();

    // Fixed while the handle is scheduled.
    const HandleOps* ops_ = nullptr;
    void* owner_ = nullptr;      // embedded: the owning object; pooled: null
    EventLoop* loop_ = nullptr;  // set when scheduled; needed to count cancelled timers
    Location where_{};
    double when_ = 0.0;      // timers: the deadline on the loop's clock
    std::uint64_t seq_ = 0;  // timers: order among equal deadlines (FIFO)
    // Loop thread only.
    std::uint32_t generation_ = 0;  // bumped each time a pooled handle is reused
    bool cancelled_ = false;
    bool queued_ = false;      // in the ready queue
    bool in_heap_ = false;     // in the timer heap
    bool timer_ = false;       // scheduled by call_at/call_later
    bool running_ = false;     // its callback is on the stack now
    bool pooled_ = false;      // owned by the loop's pool
    bool persistent_ = false;  // an fd callback: runs each time the fd is ready
    bool has_callable_ = false;
    alignas(std::max_align_t) unsigned char storage_[inline_size];
};

// A user's reference to a scheduled callback: what call_soon returns.
class HandleRef {
public:
    HandleRef() = default;
    explicit HandleRef(Handle* h) noexcept : h_(h), generation_(h ? h->generation_ : 0) {}

    // asyncio: Handle.cancel. Does nothing if the callback already ran.
    void cancel() noexcept;
    // True once cancel() was called through this reference, or while the handle is
    // still scheduled and someone cancelled it.
    bool cancelled() const noexcept;
    explicit operator bool() const noexcept { return h_ != nullptr; }
    std::string repr() const;

private:
    bool live() const noexcept { return h_ && h_->generation_ == generation_; }

    Handle* h_ = nullptr;
    std::uint32_t generation_ = 0;
    bool cancelled_here_ = false;
};

// asyncio: TimerHandle, what call_later/call_at return; when() is the deadline.
class TimerHandle : public HandleRef {
public:
    TimerHandle() = default;
    explicit TimerHandle(Handle* h) noexcept : HandleRef(h), when_(h ? h->when() : 0.0) {}
    double when() const noexcept { return when_; }

private:
    double when_ = 0.0;
};

// ---- template implementation ------------------------------------------------------

template <class F>
const HandleOps* Handle::ops_for() {
    static constexpr HandleOps ops = {
        [](Handle& h) {
            if constexpr (fits_inline<F>)
                (*std::launder(reinterpret_cast<F*>(h.storage_)))();
            else
                (**std::launder(reinterpret_cast<F**>(h.storage_)))();
        },
        [](Handle& h) {
            if constexpr (fits_inline<F>)
                std::launder(reinterpret_cast<F*>(h.storage_))->~F();
            else
                delete *std::launder(reinterpret_cast<F**>(h.storage_));
        },
        nullptr,
    };
    return &ops;
}

template <class F>
void Handle::emplace(F&& f) {
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
