// context_managers.hpp - `async with` for resources whose cleanup must await
// (asyncio: the __aenter__/__aexit__ protocol, contextlib.AbstractAsyncContextManager).
//
// C++ runs cleanup in destructors, and a destructor cannot co_await. So:
//   - release that is synchronous (unlock a lock, close an fd): use RAII, a guard
//     object whose destructor releases. Lesson 4's `co_await lock.acquire()` gives one.
//   - release that must await (flush a stream, tell a server goodbye): use async_with.
//
//     co_await aio::async_with(resource, [&](Connection& c) -> Coro<void> {
//         co_await c.send("hello");
//     });
//
// It awaits resource.aenter(), runs the body with what aenter gave, and awaits
// resource.aexit(error) whether the body returned or threw; error is the body's
// exception (null if none). aexit may return bool: true swallows the exception, as
// __aexit__ returning True does. The body's exception is rethrown otherwise.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/coroutines.hpp"

namespace aio {

template <class R, class Body>
Coro<void> async_with(R& resource, Body body) {
    std::exception_ptr error;
    using Entered = decltype(resource.aenter());
    if constexpr (std::is_void_v<await_result_t<Entered>>) {
        co_await resource.aenter();
        try {
            co_await body();
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        auto&& entered = co_await resource.aenter();
        try {
            co_await body(entered);
        } catch (...) {
            error = std::current_exception();
        }
    }
    using Exit = decltype(resource.aexit(error));
    bool swallow = false;
    if constexpr (std::is_same_v<await_result_t<Exit>, bool>)
        swallow = co_await resource.aexit(error);
    else
        co_await resource.aexit(error);
    if (error && !swallow) std::rethrow_exception(error);
}

}  // namespace aio
