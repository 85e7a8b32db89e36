// gather.cpp - see gather.hpp (asyncio: tasks.gather, _GatheringFuture).
#include "lesson03_tasks/gather.hpp"

#include <stdexcept>

#include "lesson01_loop/exceptions.hpp"

namespace aio::detail {

EventLoop& common_loop(std::initializer_list<EventLoop*> loops) {
    EventLoop* found = nullptr;
    for (EventLoop* loop : loops) {
        if (!loop) continue;
        if (found && found != loop)
            throw ValueError(
                "The future belongs to a different loop than the one specified as the loop "
                "argument");
        found = loop;
    }
    return found ? *found : default_loop();
}

// Cancellation is the exceptional path: asking the future is how to get its error.
std::exception_ptr cancelled_error_of(FutureStateBase& fut) {
    try {
        (void)fut.exception();
    } catch (const CancelledError&) {
        return std::current_exception();
    }
    return std::make_exception_ptr(CancelledError());
}

bool GatherCore::cancel_children(const std::string& message) {
    bool any = false;
    for (std::size_t i = 0; i < watch_count(); ++i)
        if (watch_at(i).child().cancel(message)) any = true;
    if (any) {
        cancel_requested_ = true;
        cancel_message_ = message;
    }
    return any;
}

// asyncio: gather._done_callback. Runs once per child, in completion order.
void GatherCore::child_done(Watch& w) {
    ++nfinished_;
    FutureStateBase& fut = w.child();
    if (outer_.done()) {
        if (!fut.cancelled()) (void)fut.exception();  // mark the exception retrieved
        return;
    }
    if (!return_exceptions_) {
        if (fut.cancelled()) {
            outer_.set_exception(cancelled_error_of(fut));
            return;
        }
        if (std::exception_ptr error = fut.exception()) {
            outer_.set_exception(std::move(error));
            return;
        }
    }
    if (nfinished_ < watch_count()) return;
    if (cancel_requested_) {  // the last child's message, as asyncio's _make_cancelled_error
        outer_.set_exception(fut.cancelled()
                                 ? cancelled_error_of(fut)
                                 : std::make_exception_ptr(CancelledError(cancel_message_)));
        return;
    }
    set_results();
}

}  // namespace aio::detail
