// coroutines.cpp - the out-of-line parts of coroutines.hpp.
#include "lesson02_coroutines/coroutines.hpp"

#include <string>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"

namespace aio::detail {

void check_awaitable(const PromiseBase* promise) {
    if (!promise) throw RuntimeError("cannot await a moved-from coroutine");
    if (promise->started)
        throw RuntimeError(std::string("coroutine '") + promise->name +
                           "' is being awaited already (or was)");
}

// asyncio/Python: "RuntimeWarning: coroutine 'fetch' was never awaited". We cannot know
// the caller's line (nothing runs at the call), so we name the coroutine's definition.
void warn_never_awaited(const PromiseBase& promise) noexcept {
    try {
        log(LogLevel::warning,
            std::string("coroutine '") + promise.name + "' was never awaited (defined at " +
                promise.defined_at().basename() + ":" + std::to_string(promise.defined_line) + ")");
    } catch (...) {
        // A destructor must not throw; losing a warning is the lesser evil.
    }
}

// Innermost first, as unwinding a stack would: a frame's destructors may still use
// what its caller's frame holds (a lock the caller acquired, say), never the reverse.
// A frame nobody owns (not reached through an awaiter that records itself) ends the
// walk: its owner destroys it, and what is above it, the ordinary way.
void destroy_chain(PromiseBase* innermost, const PromiseBase* top) noexcept {
    for (PromiseBase* p = innermost; p && p != top && p->owner;) {
        PromiseBase* caller = p->caller_promise;
        std::exchange(*p->owner, {}).destroy();  // the owner's ~Coro now does nothing
        p = caller;
    }
}

}  // namespace aio::detail
