// coroutines.hpp - aio::Coro<T>, asyncio's "coroutine object".
//
// Calling a function whose return type is Coro<T> creates a frame and stops before the
// first statement, exactly like calling an `async def` in Python: nothing runs until
// someone awaits the Coro or hands it to a driver (driver.hpp; lesson 3's Task).
//
//   Coro<int> child() { co_return 42; }
//   Coro<void> parent() { int x = co_await child(); }   // child runs inside this await
//
// Awaiting one coroutine from another is not a trip through the loop: the parent's
// frame records itself as the child's continuation and jumps straight into the child
// (symmetric transfer: await_suspend returns the child's handle, a tail call). When the
// child finishes, its final suspend jumps straight back. A chain 100,000 deep therefore
// uses no more stack than a chain of one. Only a leaf await (a Future, sleep) gives
// control back to the loop, through the driver that runs the whole chain.
//
// Every promise records its driver, so a leaf await deep in a chain knows whom to
// suspend; and the file:line of the co_await it stopped at, for printable forms and gdb.
//
// Destroying a suspended chain (loop.close() over a pending task) must not recurse
// either: the parent's Coro destroys the child, whose Coro destroys its child, and so
// on, one C++ stack frame per level. So each awaited frame also records its awaiting
// promise and the handle that owns it (the Coro in the awaiting frame), and
// destroy_chain takes the chain apart from the innermost frame out, in a loop: the
// same order as unwinding the stack, with no recursion.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "lesson01_loop/location.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/frame_pool.hpp"

namespace aio {

class Driver;
template <class T>
class Coro;

namespace detail {

// What every coroutine of this library keeps in its promise, whatever T is.
struct PromiseBase : PoolAllocated {
    PromiseBase(const char* function, const char* file, int line) noexcept
        : name(function), defined_at{file, line} {}

    // Lazy start: the body waits until the coroutine is awaited or driven.
    std::suspend_always initial_suspend() noexcept { return {}; }

    // At the end, jump to whoever awaited us; a chain's top returns to its driver.
    struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
            std::coroutine_handle<> next = self.promise().continuation;
            return next ? next : std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    // The body threw: keep the exception for the awaiter, and note this frame in its
    // traceback (lesson 1's traceback.hpp): the co_await it left from, or, if it never
    // reached one, the coroutine's definition.
    void unhandled_exception() noexcept {
        exception = std::current_exception();
        detail::note_frame(name, await_site.line ? await_site : defined_at);
    }

    // About to be resumed by `caller` (co_await child, gen.next()): come back to it at
    // the end (or a co_yield), and suspend leaf awaits through its driver. `owned_by` is
    // the handle, in the caller's frame, that will destroy this frame.
    template <class P>
    void resumed_by(std::coroutine_handle<P> caller, std::coroutine_handle<>* owned_by) noexcept {
        continuation = caller;
        caller_promise = &caller.promise();
        driver = caller.promise().driver;
        owner = owned_by;
        started = true;
    }

    // Every `co_await x` in a body passes here first: remember where it is, change
    // nothing else. The default argument is evaluated at the co_await itself.
    template <class A>
    A&& await_transform(A&& awaitable, Location site = Location::current()) noexcept {
        await_site = site;
        return std::forward<A>(awaitable);
    }

    // Set by whoever starts the coroutine.
    std::coroutine_handle<> continuation;      // the awaiting coroutine; null at a chain's top
    PromiseBase* caller_promise = nullptr;     // its promise
    std::coroutine_handle<>* owner = nullptr;  // the handle that destroys this frame
    Driver* driver = nullptr;                  // who runs the chain this coroutine is in
    // Set as it runs.
    std::exception_ptr exception;  // what the body threw, until the awaiter takes it
    Location await_site{};         // the last co_await reached
    bool started = false;          // resumed at least once (or handed to a driver)
    bool closed = false;           // close()d: destroyed on purpose, no warning
    // Fixed at creation.
    const char* name;     // the coroutine function's name
    Location defined_at;  // where that function is
};

template <class T>
struct Promise : PromiseBase {
    // Defaults evaluated in the coroutine's own ramp: they name the coroutine.
    Promise(const char* function = __builtin_FUNCTION(), const char* file = __builtin_FILE(),
            int line = __builtin_LINE()) noexcept
        : PromiseBase(function, file, line) {}

    Coro<T> get_return_object() noexcept;
    template <class U>
    void return_value(U&& v) {
        value.emplace(std::forward<U>(v));
    }
    // The result, moved out, or the body's exception rethrown.
    T take_result() {
        if (exception) std::rethrow_exception(std::exchange(exception, nullptr));
        return std::move(*value);
    }

    std::optional<T> value;
};

template <>
struct Promise<void> : PromiseBase {
    Promise(const char* function = __builtin_FUNCTION(), const char* file = __builtin_FILE(),
            int line = __builtin_LINE()) noexcept
        : PromiseBase(function, file, line) {}

    Coro<void> get_return_object() noexcept;
    void return_void() noexcept {}
    void take_result() {
        if (exception) std::rethrow_exception(std::exchange(exception, nullptr));
    }
};

// Throws aio::RuntimeError for a moved-from coroutine or one already started.
void check_awaitable(const PromiseBase* promise);
// Logs "coroutine 'name' was never awaited".
void warn_never_awaited(const PromiseBase& promise) noexcept;
// Destroys the frames of a suspended chain from `innermost` up to, not including,
// `top` (its driver destroys that one), innermost first and without recursion. Each
// frame's owner handle is emptied first, so its owner does not destroy it again.
void destroy_chain(PromiseBase* innermost, const PromiseBase* top) noexcept;

// The frame behind a type-erased handle, with its promise type back.
template <class P>
std::coroutine_handle<P> typed(std::coroutine_handle<> frame) noexcept {
    return std::coroutine_handle<P>::from_address(frame.address());
}
// Keeps the record of who owns a frame right when its owning handle moves.
inline void moved_owner(std::coroutine_handle<>& to, std::coroutine_handle<>& from,
                        PromiseBase& promise) noexcept {
    if (promise.owner == &from) promise.owner = &to;
}

// co_await child: start the child with us as its continuation, by symmetric transfer.
template <class T>
struct CoroAwaiter {
    std::coroutine_handle<Promise<T>> frame;
    std::coroutine_handle<>* owner;  // the Coro's handle, which destroys the frame

    bool await_ready() {
        check_awaitable(frame ? &frame.promise() : nullptr);
        return false;
    }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
        frame.promise().resumed_by(caller, owner);
        return frame;
    }
    T await_resume() { return frame.promise().take_result(); }
};

}  // namespace detail

// asyncio's coroutine object. Move-only; owns its frame until a driver takes it.
template <class T = void>
class [[nodiscard]] Coro {
public:
    using promise_type = detail::Promise<T>;
    using frame_handle = std::coroutine_handle<promise_type>;

    Coro() noexcept = default;
    explicit Coro(frame_handle frame) noexcept : frame_(frame) {}
    Coro(Coro&& other) noexcept { take(other); }
    Coro& operator=(Coro&& other) noexcept {
        if (this != &other) {
            destroy();
            take(other);
        }
        return *this;
    }
    ~Coro() { destroy(); }

    // Await it once, as an rvalue (`co_await child()`) or an lvalue (`co_await c`).
    detail::CoroAwaiter<T> operator co_await() && noexcept { return {frame(), &frame_}; }
    detail::CoroAwaiter<T> operator co_await() & noexcept { return {frame(), &frame_}; }

    // asyncio: coroutine.close(). Destroys a coroutine on purpose: no warning.
    void close() noexcept {
        if (frame_) frame().promise().closed = true;
        destroy();
    }
    // Hands the frame to a driver, which destroys it when done.
    frame_handle release() noexcept {
        return detail::typed<promise_type>(std::exchange(frame_, {}));
    }
    frame_handle frame() const noexcept { return detail::typed<promise_type>(frame_); }

    explicit operator bool() const noexcept { return static_cast<bool>(frame_); }
    bool done() const noexcept { return frame_ && frame_.done(); }
    const char* name() const noexcept { return frame_ ? frame().promise().name : "(moved-from)"; }

private:
    void take(Coro& other) noexcept {
        frame_ = std::exchange(other.frame_, {});
        if (frame_) detail::moved_owner(frame_, other.frame_, frame().promise());
    }
    void destroy() noexcept {
        if (!frame_) return;
        const detail::PromiseBase& p = frame().promise();
        if (!p.started && !p.closed) detail::warn_never_awaited(p);
        std::exchange(frame_, {}).destroy();
    }

    // Type-erased so that the awaited frame can record it as its owner (and the
    // chain's destruction empty it); frame() gives it typed.
    std::coroutine_handle<> frame_;
};

template <class T>
Coro<T> detail::Promise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Coro<void> detail::Promise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

}  // namespace aio
