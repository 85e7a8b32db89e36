// awaitables.hpp - what `co_await x` accepts, named (asyncio: inspect.isawaitable), and
// the coroutine that makes any awaitable a coroutine (asyncio: tasks._wrap_awaitable).
//
// C++ awaits three shapes of object, tried in this order: one with a member operator
// co_await, one with a free operator co_await, or an awaiter itself (await_ready,
// await_suspend, await_resume). This library's Coro, Future, sleep() and the later
// lessons' Task, gather(), shield(), acquire(), wait() are all one of these, and so is a
// user's own awaiter type. aio::Awaitable<A> says whether `co_await a` compiles, for an
// expression of type A, in this library's coroutines; await_result_t<A> is what it gives
// and awaited_t<A> the value type a task or future for it holds (no reference, no const).
//
// Only a coroutine can be driven by a loop, so run_until_complete (driver.hpp) and lesson
// 3's ensure_future put any other awaitable inside one first: wrap(aw) is a Coro<T> whose
// body is `co_return co_await aw`. The coroutine runs after the call that made it has
// returned, so it owns what it awaits: an rvalue is moved into its frame (a by-value
// parameter), an lvalue is copied there and awaited as an lvalue (a Gathering copied so
// still shares its results instead of taking them). An lvalue that cannot be copied is
// refused at compile time: pass it with std::move.
//
// Differences from asyncio: _wrap_awaitable awaits the very object it was given; here an
// lvalue is copied. The library's awaitables are plain values (sleep's delay) or shared
// handles (a Future), so the copy awaits the same thing.
#pragma once

#include <concepts>
#include <coroutine>
#include <type_traits>
#include <utility>

#include "lesson02_coroutines/coroutines.hpp"

// Clang 14's -fsanitize=function cannot compile a coroutine that is a template with
// external linkage ("Cannot represent a difference across sections",
// llvm/llvm-project#49689); the template coroutines of this library opt out of that one
// check with this attribute.
#ifndef AIO_TEMPLATE_CORO
#if defined(__clang__)
#define AIO_TEMPLATE_CORO [[clang::no_sanitize("function")]]
#else
#define AIO_TEMPLATE_CORO
#endif
#endif

namespace aio {

namespace detail {

template <class A>
concept HasMemberCoAwait = requires(A&& a) {
    static_cast<A&&>(a).operator co_await();
};
template <class A>
concept HasFreeCoAwait = requires(A&& a) {
    operator co_await(static_cast<A&&>(a));
};

// What `co_await a` suspends on: operator co_await's result, else `a` itself.
template <class A>
decltype(auto) get_awaiter(A&& a) {
    if constexpr (HasMemberCoAwait<A>)
        return static_cast<A&&>(a).operator co_await();
    else if constexpr (HasFreeCoAwait<A>)
        return operator co_await(static_cast<A&&>(a));
    else
        return static_cast<A&&>(a);
}
template <class A>
using awaiter_t = std::remove_reference_t<decltype(get_awaiter(std::declval<A>()))>;

// The three calls the compiler makes on an awaiter (it names the awaiter as an lvalue),
// from one of this library's coroutines.
template <class W>
concept Awaiter = requires(W& w, std::coroutine_handle<Promise<void>> h) {
    { w.await_ready() } -> std::convertible_to<bool>;
    w.await_suspend(h);
    w.await_resume();
};

}  // namespace detail

// asyncio: inspect.isawaitable. True if `co_await a` compiles for an A (an rvalue for a
// plain type, an lvalue for A&): a sleep() is awaitable as it comes, and once stored in a
// variable too.
template <class A>
concept Awaitable = detail::Awaiter<detail::awaiter_t<A>>;

// What `co_await a` gives: `int` for a Coro<int>, `int&` for a Task<int> or Future<int>.
template <class A>
using await_result_t = decltype(std::declval<detail::awaiter_t<A>&>().await_resume());

// The value a task or future made from `a` holds: await_result_t without reference or
// const (void stays void).
template <class A>
using awaited_t = std::remove_cvref_t<await_result_t<A>>;

namespace detail {

// asyncio: coroutines.iscoroutine.
template <class A>
inline constexpr bool is_coro_v = false;
template <class T>
inline constexpr bool is_coro_v<Coro<T>> = true;

// asyncio: tasks._wrap_awaitable. `As` is how the caller gave the awaitable (A& or A&&),
// so an lvalue's copy is awaited as an lvalue and an rvalue as an rvalue.
template <class A, class As>
AIO_TEMPLATE_CORO Coro<awaited_t<As>> wrap_awaitable(A aw) {
    co_return co_await static_cast<As>(aw);
}

// A coroutine that awaits `aw` and gives its result: what a loop can drive. See the top
// of this file for what it owns.
template <class A>
auto wrap(A&& aw) {
    using Own = std::remove_cvref_t<A>;
    static_assert(Awaitable<A>, "not awaitable: no operator co_await and no await_resume");
    static_assert(!std::is_lvalue_reference_v<A> || std::is_copy_constructible_v<Own>,
                  "this awaitable cannot be copied: pass it with std::move (it is awaited "
                  "after this call returns)");
    static_assert(!std::is_lvalue_reference_v<await_result_t<A>> ||
                      std::is_copy_constructible_v<awaited_t<A>>,
                  "this awaitable gives a reference to a result it keeps (a Task or Future): "
                  "its value is copied, so it must be copyable");
    using As = std::conditional_t<std::is_lvalue_reference_v<A>, Own&, Own&&>;
    auto coro = wrap_awaitable<Own, As>(std::forward<A>(aw));
    coro.frame().promise().name = "wrap_awaitable";  // as in reprs, without template arguments
    return coro;
}

}  // namespace detail
}  // namespace aio
