// context_managers.hpp - `async with` for resources whose cleanup must await
// (asyncio: the __aenter__/__aexit__ protocol, contextlib.AbstractAsyncContextManager).
//
// C++ runs cleanup in destructors, and a destructor cannot co_await. So:
//   - release that is synchronous (unlock a lock, close an fd): use RAII, a guard
//     object whose destructor releases. Lesson 4's `co_await lock.acquire()` gives one.
//   - release that must await (flush a stream, tell a server goodbye): use async_with.
//
//     async with AsyncResource() as r:         co_await aio::async_with(AsyncResource(),
//         await r.send("hello")                    [](AsyncResource& r) -> Coro<void> {
//                                                      co_await r.send("hello");
//                                                  });
//
// It awaits resource.aenter(), runs the body, and awaits resource.aexit(error) whether
// the body returned or threw; error is the body's exception (null if none). What the
// body is given is Python's `as` target:
//   - aenter() gives a value (Coro<T>, T not void): the body gets that value;
//   - aenter() gives nothing (Coro<void>), the usual `return self`: the body gets the
//     resource itself, if it takes an argument (`async with TaskGroup() as tg`), or
//     nothing (`async with timeout(1):`).
// aexit may return bool: true swallows the exception, as __aexit__ returning True
// does. The body's exception is rethrown otherwise.
//
// The resource may be a temporary, as in Python: a temporary lives until the end of
// the full expression, and `co_await async_with(X(), body)` is one full expression, so
// X() outlives the whole statement. (Keep it that way: do not store the result of
// async_with(X(), ...) in a variable to await later; X() would be gone by then.) The
// coroutine itself takes the resource by pointer, because a reference parameter of a
// coroutine is refused at compile time (coroutines.hpp); the pointer is to the
// caller's object or to that temporary.
#pragma once

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "lesson02_coroutines/coroutines.hpp"

namespace aio {

namespace detail {
// The result type of co_await on an expression of type A (for our awaitables).
template <class A>
using await_result_t = decltype(std::declval<A>().operator co_await().await_resume());

template <class R, class Body>
Coro<void> run_async_with(R* resource, Body body) {
    std::exception_ptr error;
    using Entered = decltype(resource->aenter());
    if constexpr (!std::is_void_v<await_result_t<Entered>>) {
        auto&& entered = co_await resource->aenter();  // `as` gets what __aenter__ returned
        try {
            co_await body(entered);
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        co_await resource->aenter();
        try {
            if constexpr (std::is_invocable_v<Body&, R&>)
                co_await body(*resource);  // __aenter__ returned self
            else
                co_await body();
        } catch (...) {
            error = std::current_exception();
        }
    }
    using Exit = decltype(resource->aexit(error));
    bool swallow = false;
    if constexpr (std::is_same_v<await_result_t<Exit>, bool>)
        swallow = co_await resource->aexit(error);
    else
        co_await resource->aexit(error);
    if (error && !swallow) std::rethrow_exception(error);
}
}  // namespace detail

// asyncio: `async with resource as x: body`. Not a coroutine itself: it hands the
// coroutine a pointer to the resource, an lvalue or a temporary of the statement.
template <class R, class Body>
Coro<void> async_with(R&& resource, Body body) {
    return detail::run_async_with(std::addressof(resource), std::move(body));
}

}  // namespace aio
