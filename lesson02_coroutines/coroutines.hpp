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
//
// Parameters are taken by value. The body runs after the call has returned, so a
// reference parameter refers to the caller's object, and a temporary lives only to the
// end of the call's full expression:
//
//   Coro<void> limited_task(const std::string& name);   // does not compile here
//   tasks.push_back(create_task(limited_task("Task " + std::to_string(i))));
//   // the string "Task 3" is destroyed at the `;`; the body would read freed memory
//
// std::coroutine_traits<Coro<T>, Args...> (end of this file) rejects, with a
// static_assert naming the kind of parameter, a `const T&`, a `T&&`, and a view
// (std::basic_string_view, std::span, std::initializer_list) at any reference-ness. A
// non-const `T&` is allowed: it cannot bind to a temporary, so the caller names an object
// it must keep alive, as with a pointer (`Coro<void> worker(Queue<int>& q)` is the port of
// `async def worker(queue)`). Pointers and std::reference_wrapper are allowed too.
//
// The implicit object parameter. coroutine_traits sees a member coroutine's object as
// its first argument (`C&`, `const C&` for a const member, `C&&` for an &&-qualified
// one) and a lambda coroutine's closure as `const Closure&`; they cannot be told from a
// free coroutine's first parameter. So a *first* argument that is a reference to a class
// is let through when that class may be an object with coroutine members; it is still
// rejected when the class is plainly a value: a range (std::string, the containers:
// member begin() and end()), tuple-like (std::pair, std::tuple, std::array), pointer-like
// (the smart pointers: operator->), std::optional, std::variant, a std::chrono duration or
// time point; and a first argument that refers to a non-class (`const int&`) is rejected.
// Every later argument gets the full check.
//
// Blind spot: a free coroutine whose first parameter is `const W&` or `W&&` of some other
// class W (`Coro<void> f(const Widget& w)`, or a std::function) compiles, as does a member
// coroutine called on a temporary object, or a lambda coroutine whose closure is a
// temporary: a closure's
// captures live in the closure, not in the frame, so
//   create_task([x]() -> Coro<void> { co_await sleep(1); use(x); }())
// reads x after the closure died. Pass what the body needs as parameters instead:
//   create_task([](int x) -> Coro<void> { co_await sleep(1); use(x); }(x))
// The other way round, a const (or &&) member coroutine of a class shaped like a value
// (one with begin() and end(), say) is rejected: make it a free coroutine taking a pointer.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/location.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/frame_room.hpp"

namespace aio {

class Driver;
template <class T>
class Coro;

namespace detail {

// A user's own awaiter (await_ready/await_suspend/await_resume, no operator co_await)
// knows nothing of drivers: it hands its coroutine handle to some callback that resumes
// it later. The library's awaiters instead suspend through the chain's driver, which is
// what lets a task be cancelled while it waits. await_transform puts a user's awaiter
// inside a ForeignAwaiter, which gives it a stand-in handle and makes the driver wait on
// a future that the stand-in completes when resumed. The library's awaiters say what
// they are with `using aio_awaiter = void;` and pass through untouched.
template <class A>
concept ForeignAwaiterType = requires(std::remove_reference_t<A>& w) {
    w.await_ready();
    w.await_resume();
}
&&!requires(A && a) { static_cast<A&&>(a).operator co_await(); }
&&!requires { typename std::remove_cvref_t<A>::aio_awaiter; };
template <class W>
class ForeignAwaiter;

// What every coroutine of this library keeps in its promise, whatever T is.
struct PromiseBase {
    PromiseBase(const char* function, const char* file, int line) noexcept
        : name(function), defined_file(file), defined_line(line) {}

    // The frame comes from the pool with a room in front, where a driver (a task) of
    // this frame will live if it gets one: one allocation per task (frame_room.hpp).
    static void* operator new(std::size_t bytes) { return frame_allocate(bytes); }
    static void operator delete(void* frame, std::size_t bytes) noexcept {
        frame_deallocate(frame, bytes);
    }

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
        detail::note_frame(name, await_line ? await_site() : defined_at());
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
    // A user's own awaiter is wrapped (see ForeignAwaiter); nothing else changes.
    template <class A>
    decltype(auto) await_transform(A&& awaitable, Location site = Location::current()) noexcept {
        await_file = site.file;
        await_line = site.line;
        if constexpr (ForeignAwaiterType<A>)
            return ForeignAwaiter<A&&>(static_cast<A&&>(awaitable));
        else
            return static_cast<A&&>(awaitable);
    }

    // Where it is: the last co_await reached (null and 0 before the first), and where
    // the coroutine function is defined.
    Location await_site() const noexcept { return {await_file, await_line}; }
    Location defined_at() const noexcept { return {defined_file, defined_line}; }

    // Set by whoever starts the coroutine.
    std::coroutine_handle<> continuation;      // the awaiting coroutine; null at a chain's top
    PromiseBase* caller_promise = nullptr;     // its promise
    std::coroutine_handle<>* owner = nullptr;  // the handle that destroys this frame
    Driver* driver = nullptr;                  // who runs the chain this coroutine is in
    // Set as it runs.
    std::exception_ptr exception;      // what the body threw, until the awaiter takes it
    const char* await_file = nullptr;  // the last co_await reached (await_site())
    // Fixed at creation.
    const char* name;          // the coroutine function's name
    const char* defined_file;  // where that function is (defined_at())
    // The two Locations' lines and two flags share one 16-byte slot (two Location
    // members would pad each line to 8 B and the flags to 8: 8 B more in every frame).
    int await_line = 0;
    int defined_line;
    bool started = false;  // resumed at least once (or handed to a driver)
    bool closed = false;   // close()d: destroyed on purpose, no warning
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

// The wait behind a ForeignAwaiter: a future its driver waits on and the stand-in handle
// that completes it (driver.cpp). The stand-in lives until it is resumed, so that a
// resume arriving after the task gave up waiting (it was cancelled) is harmless; one
// never resumed is never freed. Resume it on the loop's thread, as asyncio's callbacks.
struct ForeignWait;
ForeignWait* foreign_wait_begin(PromiseBase& promise);  // throws outside any driver
std::coroutine_handle<> foreign_wait_handle(ForeignWait* wait) noexcept;
void foreign_wait_suspend(ForeignWait* wait, PromiseBase& promise, std::coroutine_handle<> at);
void foreign_wait_resumed(ForeignWait* wait);  // throws CancelledError if the task was cancelled
void foreign_wait_end(ForeignWait* wait, bool handed_over) noexcept;

// co_await user_awaiter, for a user's awaiter W (a reference to it: it lives in the
// co_await's full expression). Its await_suspend may return void, bool or a handle.
template <class W>
class ForeignAwaiter {
public:
    explicit ForeignAwaiter(W inner) noexcept : inner_(static_cast<W>(inner)) {}
    ForeignAwaiter(const ForeignAwaiter&) = delete;
    ForeignAwaiter& operator=(const ForeignAwaiter&) = delete;
    ~ForeignAwaiter() {
        if (wait_) foreign_wait_end(wait_, true);
    }

    bool await_ready() { return inner_.await_ready(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> at) {
        wait_ = foreign_wait_begin(at.promise());
        std::coroutine_handle<> stand_in = foreign_wait_handle(wait_);
        using R = decltype(inner_.await_suspend(stand_in));
        std::coroutine_handle<> next = std::noop_coroutine();
        if constexpr (std::is_same_v<R, bool>) {
            if (!inner_.await_suspend(stand_in)) {  // "do not suspend after all"
                foreign_wait_end(std::exchange(wait_, nullptr), false);
                return at;
            }
        } else if constexpr (std::is_void_v<R>) {
            inner_.await_suspend(stand_in);
        } else {
            next = inner_.await_suspend(stand_in);
        }
        foreign_wait_suspend(wait_, at.promise(), at);
        return next;
    }
    decltype(auto) await_resume() {
        if (wait_) foreign_wait_resumed(wait_);
        return inner_.await_resume();
    }

private:
    W inner_;
    ForeignWait* wait_ = nullptr;
};

// co_await child: start the child with us as its continuation, by symmetric transfer.
template <class T>
struct CoroAwaiter {
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
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

// ---- coroutine parameters are taken by value (see the top of this file) --------------
namespace detail {

// A view of storage it does not own.
template <class T>
inline constexpr bool is_view = false;
template <class C, class Traits>
inline constexpr bool is_view<std::basic_string_view<C, Traits>> = true;
template <class T, std::size_t Extent>
inline constexpr bool is_view<std::span<T, Extent>> = true;
template <class T>
inline constexpr bool is_view<std::initializer_list<T>> = true;

// is_optional<T> is lesson 1's (builtins.hpp).

// The shapes of the standard library's value classes, told apart without including
// a container header here.
template <class C>  // std::basic_string, the containers, any range
concept range_shaped = requires(const C& c) {
    c.begin();
    c.end();
};
template <class C>  // std::pair, std::tuple, std::array
concept tuple_shaped = requires {
    std::tuple_size<C>::value;
};
template <class C>  // the smart pointers
concept pointer_shaped = requires(const C& c) {
    c.operator->();
};
template <class C>  // std::variant
concept variant_shaped = requires(const C& c) {
    c.valueless_by_exception();
};
template <class C>  // std::chrono::duration, std::chrono::time_point
concept chrono_shaped = requires {
    typename C::rep;
    typename C::period;
};

// A class that is plainly a value, never an object whose member coroutine is called.
template <class C>
concept plain_value_class = is_view<C> || is_optional<C> || range_shaped<C> || tuple_shaped<C> ||
    pointer_shaped<C> || variant_shaped<C> || chrono_shaped<C>;

// May this first argument be a member coroutine's object or a lambda's closure?
template <class Arg>
constexpr bool may_be_implicit_object() noexcept {
    using C = std::remove_cvref_t<Arg>;
    if constexpr (std::is_reference_v<Arg> && std::is_class_v<C>)
        return !plain_value_class<C>;
    else
        return false;
}

// How a parameter may dangle, if it may.
enum class Dangling { no, const_ref, rvalue_ref, view };

template <class Param>
constexpr Dangling dangling() noexcept {
    using Referred = std::remove_reference_t<Param>;
    if (is_view<std::remove_cvref_t<Param>>) return Dangling::view;
    if (std::is_rvalue_reference_v<Param>) return Dangling::rvalue_ref;
    // (a const volatile T& cannot bind to a temporary)
    if (std::is_lvalue_reference_v<Param> && std::is_const_v<Referred> &&
        !std::is_volatile_v<Referred>)
        return Dangling::const_ref;
    return Dangling::no;
}

// The same for the first argument, which is spared when it may be the implicit object.
template <class Param>
constexpr Dangling dangling_first() noexcept {
    return may_be_implicit_object<Param>() ? Dangling::no : dangling<Param>();
}

// Has a coroutine that coroutine_traits sees with arguments Args... a parameter that
// may dangle that way?
template <Dangling Way, class... Args>
inline constexpr bool has_dangling = false;
template <Dangling Way, class First, class... Rest>
inline constexpr bool has_dangling<Way, First, Rest...> = dangling_first<First>() == Way ||
                                                          ((dangling<Rest>() == Way) || ...);

// The check, a base of the coroutine_traits below. R, the coroutine's return type, makes
// every coroutine signature a class of its own, so each offending one is reported.
template <class R, class... Args>
struct ParametersByValue {
    static_assert(!has_dangling<Dangling::const_ref, Args...>,
                  "take coroutine parameters by value: the coroutine runs after the call "
                  "returns (a const T& parameter binds to a temporary, which dies at the end "
                  "of the caller's full expression; take a T, or a T& or T* to share the "
                  "caller's object)");
    static_assert(!has_dangling<Dangling::rvalue_ref, Args...>,
                  "take coroutine parameters by value: the coroutine runs after the call "
                  "returns (a T&& parameter binds to a temporary, which dies at the end of "
                  "the caller's full expression; take a T)");
    static_assert(!has_dangling<Dangling::view, Args...>,
                  "take coroutine parameters by value: the coroutine runs after the call "
                  "returns (a std::string_view, std::span or std::initializer_list "
                  "parameter views the caller's storage; take a std::string, a "
                  "std::vector...)");
};

}  // namespace detail
}  // namespace aio

// What the compiler consults for every coroutine returning Coro<T>: its promise type,
// and (here) whether its parameters may dangle.
template <class T, class... Args>
struct std::coroutine_traits<aio::Coro<T>, Args...>
    : aio::detail::ParametersByValue<aio::Coro<T>, Args...> {
    using promise_type = typename aio::Coro<T>::promise_type;
};
