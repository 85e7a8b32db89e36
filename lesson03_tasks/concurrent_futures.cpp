// concurrent_futures.cpp - see concurrent_futures.hpp (asyncio: concurrent.futures._base,
// Future).
#include "lesson03_tasks/concurrent_futures.hpp"

#include <chrono>
#include <cstdio>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson03_tasks/exceptions.hpp"

namespace aio::detail {

namespace {
bool is_cancelled(ConcurrentStateBase::State s) {
    return s == ConcurrentStateBase::State::cancelled ||
           s == ConcurrentStateBase::State::cancelled_and_notified;
}

const char* state_name(ConcurrentStateBase::State s) {
    switch (s) {
        case ConcurrentStateBase::State::pending: return "pending";
        case ConcurrentStateBase::State::running: return "running";
        case ConcurrentStateBase::State::cancelled: return "cancelled";
        case ConcurrentStateBase::State::cancelled_and_notified: return "cancelled";
        case ConcurrentStateBase::State::finished: return "finished";
    }
    return "?";
}
}  // namespace

// asyncio: Future.cancel.
bool ConcurrentStateBase::cancel() {
    std::unique_lock lock(mutex_);
    if (state_ == State::running || state_ == State::finished) return false;
    if (is_cancelled(state_)) return true;
    complete(lock, State::cancelled);
    return true;
}

bool ConcurrentStateBase::cancelled() const {
    std::lock_guard lock(mutex_);
    return is_cancelled(state_);
}

bool ConcurrentStateBase::running() const {
    std::lock_guard lock(mutex_);
    return state_ == State::running;
}

bool ConcurrentStateBase::done() const {
    std::lock_guard lock(mutex_);
    return state_ != State::pending && state_ != State::running;
}

// asyncio: Future.set_running_or_notify_cancel.
bool ConcurrentStateBase::set_running_or_notify_cancel() {
    std::lock_guard lock(mutex_);
    if (state_ == State::cancelled) {
        state_ = State::cancelled_and_notified;
        return false;
    }
    if (state_ != State::pending) throw RuntimeError("Future in unexpected state");
    state_ = State::running;
    return true;
}

void ConcurrentStateBase::set_exception(std::exception_ptr error) {
    std::unique_lock lock(mutex_);
    check_settable();
    exception_ = std::move(error);
    finish(lock);
}

// asyncio: Future.exception(timeout).
std::exception_ptr ConcurrentStateBase::exception(std::optional<double> timeout) {
    std::unique_lock lock(mutex_);
    wait_finished(lock, timeout);
    return exception_;
}

// asyncio: Future.add_done_callback: at once, in this thread, if done already.
void ConcurrentStateBase::add_done_callback(Callback fn) {
    {
        std::lock_guard lock(mutex_);
        if (state_ == State::pending || state_ == State::running) {
            callbacks_.push_back(std::move(fn));
            return;
        }
    }
    call_one(fn);
}

// asyncio: Future.__repr__: "<Future at 0x7f... state=finished raised ValueError>".
std::string ConcurrentStateBase::repr() const {
    std::lock_guard lock(mutex_);
    return repr_locked();
}

std::string ConcurrentStateBase::repr_locked() const {
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(this));
    std::string out = std::string("<Future at ") + address + " state=" + state_name(state_);
    if (state_ == State::finished && exception_)
        out += " raised " + describe_exception(exception_);
    else if (state_ == State::finished)
        out += " returned";
    return out + ">";
}

// asyncio: the body of Future.result and Future.exception.
void ConcurrentStateBase::wait_finished(std::unique_lock<std::mutex>& lock,
                                        std::optional<double> timeout) {
    auto ready = [this] { return state_ != State::pending && state_ != State::running; };
    if (!timeout)
        changed_.wait(lock, ready);
    else
        changed_.wait_for(lock, std::chrono::duration<double>(*timeout > 0 ? *timeout : 0), ready);
    if (is_cancelled(state_)) throw CancelledError();
    if (state_ != State::finished) throw TimeoutError();
}

void ConcurrentStateBase::wait_result(std::unique_lock<std::mutex>& lock,
                                      std::optional<double> timeout) {
    wait_finished(lock, timeout);
    if (exception_) std::rethrow_exception(exception_);
}

// asyncio: set_result's check: "InvalidStateError: FINISHED: <Future ...>".
void ConcurrentStateBase::check_settable() const {
    if (state_ == State::pending || state_ == State::running) return;
    const char* name = state_ == State::finished ? "FINISHED" : "CANCELLED";
    throw InvalidStateError(std::string(name) + ": " + repr_locked());
}

void ConcurrentStateBase::finish(std::unique_lock<std::mutex>& lock) {
    complete(lock, State::finished);
}

void ConcurrentStateBase::complete(std::unique_lock<std::mutex>& lock, State done) {
    state_ = done;
    changed_.notify_all();
    std::vector<Callback> callbacks = std::move(callbacks_);
    callbacks_.clear();
    lock.unlock();
    run_callbacks(std::move(callbacks));
}

// asyncio: Future._invoke_callbacks.
void ConcurrentStateBase::run_callbacks(std::vector<Callback> callbacks) {
    for (Callback& fn : callbacks) call_one(fn);
}

void ConcurrentStateBase::call_one(Callback& fn) noexcept {
    try {
        fn(*this);
    } catch (...) {
        try {
            log(LogLevel::error, "exception calling callback for " + repr() + "\n" +
                                     describe_exception(std::current_exception()));
        } catch (...) {
        }
    }
}

}  // namespace aio::detail
