// futures.cpp - the state machine of futures.hpp (asyncio: futures.Future).
#include "lesson02_coroutines/futures.hpp"

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"

namespace aio::detail {

namespace {
// Callback ids: one counter per thread rather than one per future (a future is used
// on its loop's thread only), so ids never repeat and a future carries 8 bytes less.
thread_local CallbackId last_callback_id = 0;
}  // namespace

// asyncio: Future.__del__. An exception nobody looked at is a bug nobody saw; say so.
FutureStateBase::~FutureStateBase() {
    if (exception_unseen()) report_unretrieved();
}

void FutureStateBase::report_unretrieved() const noexcept {
    try {
        log(LogLevel::error, std::string(kind_) + " exception was never retrieved\n" + kind_ +
                                 ": " + repr() + "\nexception: " + describe_exception(exception_));
    } catch (...) {
    }
}

EventLoop& loop_for_new_future() {
    if (EventLoop* running = try_get_running_loop()) return *running;
    try {
        return get_event_loop();
    } catch (const RuntimeError&) {
        throw RuntimeError("no current event loop: create the Future with a loop");
    }
}

void check_loop(const EventLoop& loop, const FutureStateBase& fut) {
    if (&fut.get_loop() != &loop)
        throw ValueError(
            "The future belongs to a different loop than the one specified as the loop "
            "argument");
}

bool FutureStateBase::cancel(std::string message) {
    exception_seen_ = true;  // asyncio: cancel() clears __log_traceback
    if (state_ != State::pending) return false;
    state_ = State::cancelled;
    if (!message.empty()) cancel_message_ = std::make_unique<std::string>(std::move(message));
    schedule_callbacks();
    return true;
}

std::exception_ptr FutureStateBase::make_cancelled_error() const {
    return std::make_exception_ptr(CancelledError(cancel_message_ ? *cancel_message_ : ""));
}

// Not finished, or finished with an exception (raise_unless_result checked).
void FutureStateBase::raise_outcome() const {
    if (state_ == State::pending) throw InvalidStateError("Result is not ready.");
    if (state_ == State::cancelled) std::rethrow_exception(make_cancelled_error());
    exception_seen_ = true;
    std::rethrow_exception(exception_);
}

std::exception_ptr FutureStateBase::exception() {
    if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
    if (state_ == State::cancelled) std::rethrow_exception(make_cancelled_error());
    exception_seen_ = true;
    return exception_;
}

void FutureStateBase::check_pending(const char* what) const {
    if (state_ != State::pending)
        throw InvalidStateError(std::string(what) + ": invalid state: " + repr());
}

void FutureStateBase::set_exception(std::exception_ptr error) {
    if (!error) throw TypeError("invalid exception object");
    check_pending("set_exception");
    finish_with_exception(std::move(error));
}

void FutureStateBase::finish_with_result() {
    state_ = State::finished;
    schedule_callbacks();
}

void FutureStateBase::finish_with_exception(std::exception_ptr error) {
    exception_ = std::move(error);
    state_ = State::finished;
    schedule_callbacks();
}

// ---- done callbacks ----------------------------------------------------------------

CallbackId FutureStateBase::add_done_callback(std::function<void(FutureStateBase&)> fn) {
    DoneCallback cb{nullptr, std::move(fn), ++last_callback_id};
    CallbackId id = cb.id;
    if (done())
        schedule_one(cb);  // asyncio: still through call_soon, never inline
    else
        more_.push_front(std::move(cb));
    return id;
}

std::size_t FutureStateBase::remove_done_callback(CallbackId id) noexcept {
    return more_.remove_if([id](const DoneCallback& cb) { return !cb.waker && cb.id == id; });
}

// The inline slot is used only while nothing spilled, so it is always first in order.
void FutureStateBase::add_waker(Handle& waker) {
    if (done()) {
        loop_->schedule(waker);
        return;
    }
    if (!first_waker_ && more_.empty())
        first_waker_ = &waker;
    else
        more_.push_front(DoneCallback{&waker, nullptr, 0});
}

void FutureStateBase::remove_waker(Handle& waker) noexcept {
    if (first_waker_ == &waker) first_waker_ = nullptr;
    more_.remove_if([&](const DoneCallback& cb) { return cb.waker == &waker; });
}

// asyncio: Future.__schedule_callbacks. Each one goes through the ready queue.
void FutureStateBase::schedule_callbacks() {
    if (Handle* waker = std::exchange(first_waker_, nullptr)) loop_->schedule(*waker);
    if (!more_.empty()) schedule_spilled();
}

// Out of line: most futures have one waiter at most, and then nothing spilled.
void FutureStateBase::schedule_spilled() {
    std::forward_list<DoneCallback> callbacks = std::move(more_);
    more_.clear();
    callbacks.reverse();  // kept newest first
    for (DoneCallback& cb : callbacks) schedule_one(cb);
}

void FutureStateBase::schedule_one(DoneCallback& cb) {
    if (cb.waker) {
        loop_->schedule(*cb.waker);
        return;
    }
    // The callback keeps the state alive (if the state is counted) until it has run, or
    // until a closing loop drops it unrun: the reference is a capture, not a local.
    FutureStateBase* self = this;
    Ref<FutureStateBase> keep(refs_ > 0 ? this : nullptr);
    loop_->call_soon(
        [self, keep = std::move(keep), fn = std::move(cb.fn)]() mutable { fn(*self); });
}

// ---- printable form ----------------------------------------------------------------

std::string FutureStateBase::repr() const {
    std::string out = "<";
    out += kind_;
    describe(out);
    out += '>';
    return out;
}

void FutureStateBase::describe(std::string& out) const {
    switch (state_) {
        case State::pending: out += " pending"; break;
        case State::cancelled:
            out += " cancelled";
            if (cancel_message_) out += " message='" + *cancel_message_ + "'";
            break;
        case State::finished:
            out += " finished";
            if (exception_) out += " exception=" + aio::repr(exception_);  // asyncio: {exc!r}
            break;
    }
}

}  // namespace aio::detail
