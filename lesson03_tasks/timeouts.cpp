// timeouts.cpp - see timeouts.hpp (asyncio: timeouts.Timeout; tasks._cancel_and_wait).
#include "lesson03_tasks/timeouts.hpp"

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/exceptions.hpp"

namespace aio {

namespace {

// asyncio: _State's values, which the messages and repr() use.
const char* state_name(Timeout::State s) {
    switch (s) {
        case Timeout::State::created: return "created";
        case Timeout::State::entered: return "active";
        case Timeout::State::expiring: return "expiring";
        case Timeout::State::expired: return "expired";
        case Timeout::State::exited: return "finished";
    }
    return "?";
}

void check_not_nan(std::optional<double> when) {
    if (when && std::isnan(*when)) throw ValueError("timeout: the deadline is NaN");
}

// asyncio: `raise TimeoutError from exc_val`.
std::exception_ptr timeout_error_from(const std::exception_ptr& cause) {
    return std::make_exception_ptr(TimeoutError("", cause));
}

// Python's repr(round(x, 3)): "12.5", "3.0".
std::string format_when(double when) { return repr(std::round(when * 1000.0) / 1000.0); }

}  // namespace

Timeout::Timeout(std::optional<double> when) : when_(when) { check_not_nan(when); }

// asyncio: Timeout.reschedule. A deadline already past fires in the next iteration
// (call_soon, as asyncio), not "now": the block always reaches an await first.
void Timeout::reschedule(std::optional<double> when) {
    if (state_ != State::entered) {
        if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
        throw RuntimeError(std::string("Cannot change state of ") + state_name(state_) +
                           " Timeout");
    }
    check_not_nan(when);
    when_ = when;
    handle_.cancel();
    handle_ = HandleRef();
    if (!when_) return;
    EventLoop& loop = task_->get_loop();
    if (*when_ <= loop.time())
        handle_ = loop.call_soon([this] { on_timeout(); });
    else if (std::isfinite(*when_))
        handle_ = loop.call_at(*when_, [this] { on_timeout(); });
}

std::string Timeout::repr() const {
    std::string out = std::string("<Timeout [") + state_name(state_) + "]";
    if (state_ == State::entered) out += " when=" + (when_ ? format_when(*when_) : "None");
    return out + ">";
}

// asyncio: Timeout.__aenter__.
void Timeout::enter() {
    if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
    TaskBase* task = current_task();
    if (!task) throw RuntimeError("Timeout should be used inside a task");
    state_ = State::entered;
    task_ = detail::Ref<TaskBase>(task);
    cancelling_ = task->cancelling();
    reschedule(when_);
}

// asyncio: Timeout.__aexit__. uncancel() always runs once the timer fired (it is the
// first operand of asyncio's `and`), so cancelling() is back to its value at entry
// whether or not the block let the CancelledError out.
std::exception_ptr Timeout::exit(std::exception_ptr error) {
    if (state_ != State::entered && state_ != State::expiring)
        throw RuntimeError(state_ == State::created ? "Timeout has not been entered"
                                                    : "Timeout has already been exited");
    handle_.cancel();
    handle_ = HandleRef();
    detail::Ref<TaskBase> task = std::move(task_);  // no cycle through the task's frame
    if (state_ == State::entered) {
        state_ = State::exited;
        return error;
    }
    state_ = State::expired;
    if (task->uncancel() <= cancelling_ && is_cancelled_error(error))
        return timeout_error_from(error);
    return error;
}

Coro<void> Timeout::aenter() {
    enter();
    co_return;
}

Coro<void> Timeout::aexit(std::exception_ptr error) {
    std::exception_ptr out = exit(error);
    if (out && out != error) std::rethrow_exception(out);
    co_return;  // async_with rethrows `error` itself
}

// asyncio: Timeout._on_timeout. Runs from the loop, never inside the task's step.
void Timeout::on_timeout() {
    task_->cancel();
    state_ = State::expiring;
    handle_ = HandleRef();  // it has run; nothing to cancel at exit
}

Timeout timeout(std::optional<double> delay) {
    if (!delay) return Timeout(std::nullopt);
    return Timeout(get_running_loop().time() + *delay);
}

// ---- wait_for's helpers --------------------------------------------------------------

void detail::check_timeout(std::optional<double> timeout) {
    if (timeout && std::isnan(*timeout)) throw ValueError("wait_for: the timeout is NaN");
}

namespace {
// Removes a done callback however the wait ends (asyncio: the finally clause).
struct DoneCallbackGuard {
    detail::FutureStateBase& fut;
    CallbackId id;
    ~DoneCallbackGuard() { fut.remove_done_callback(id); }
};
}  // namespace

// asyncio: tasks._cancel_and_wait. "We cannot wait on *fut* directly to make sure
// _cancel_and_wait itself is reliably cancellable."
Coro<void> detail::cancel_and_wait(FutureStateBase& fut) {
    Future<void> waiter(fut.get_loop());
    CallbackId id = fut.add_done_callback([waiter](FutureStateBase&) mutable {
        if (!waiter.done()) waiter.set_result();  // asyncio: _release_waiter
    });
    DoneCallbackGuard guard{fut, id};
    fut.cancel();
    co_await waiter;
}

}  // namespace aio
