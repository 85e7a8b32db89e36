// runners.cpp - see runners.hpp (asyncio: runners.py).
#include "lesson03_tasks/runners.hpp"

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/signal_wakeup.hpp"
#include "lesson03_tasks/threads.hpp"

namespace aio {

namespace {

// asyncio: constants.THREAD_JOIN_TIMEOUT (3.12), how long run() waits for the default
// executor's threads before giving up on them.
constexpr double thread_join_timeout = 300.0;

// co_await UntilDone{fut}: resumes once fut is done and reads nothing from it, so that
// a failed task's exception is still there for cancel_all_tasks to report.
struct UntilDoneAwaiter : detail::FutureAwaiterBase {
    using FutureAwaiterBase::FutureAwaiterBase;
    void await_resume() { after_resume(); }
};
struct UntilDone {
    detail::FutureStateBase* fut;
    UntilDoneAwaiter operator co_await() && { return UntilDoneAwaiter(fut); }
};

// asyncio: the gather(*to_cancel, return_exceptions=True) of _cancel_all_tasks.
Coro<void> wait_all_done(std::vector<detail::Ref<TaskBase>> tasks) {
    for (const detail::Ref<TaskBase>& task : tasks) co_await UntilDone{task.get()};
}

}  // namespace

void detail::cancel_all_tasks(EventLoop& loop) {
    std::vector<Ref<TaskBase>> to_cancel;
    for (TaskBase* task : all_tasks(&loop)) to_cancel.emplace_back(task);
    if (to_cancel.empty()) return;
    for (const Ref<TaskBase>& task : to_cancel) task->cancel();
    loop.run_until_complete(wait_all_done(to_cancel));
    for (const Ref<TaskBase>& task : to_cancel) {
        if (task->cancelled()) continue;
        std::exception_ptr error = task->exception();
        if (!error) continue;
        loop.call_exception_handler(
            ExceptionContext{"unhandled exception during asyncio.run() shutdown",
                             error,
                             nullptr,
                             {{"task", Task<>(task)}}});
    }
}

namespace {

// SIGINT's action is the default one (not ignored, not a user's, not ours already).
bool sigint_is_default() noexcept {
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) != 0) return false;
    return (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL;
}

}  // namespace

detail::SigintHandler::SigintHandler(EventLoop& loop, TaskBase& main_task)
    : loop_(loop), main_task_(main_task) {
    if (!is_main_thread() || !sigint_is_default()) return;
    // The second SIGINT is handled in signal context (repeat_kills): the loop may be
    // stuck in a callback that never returns, which is when a second Ctrl+C is pressed.
    loop_.extension<SignalWakeup>().route(
        SIGINT, [this] { on_sigint(); }, /*repeat_kills=*/true, this);
    installed_ = true;
}

detail::SigintHandler::~SigintHandler() {
    if (!installed_) return;
    SignalWakeup& wakeup = loop_.extension<SignalWakeup>();
    if (wakeup.owner(SIGINT) == this) wakeup.unroute(SIGINT);
}

// asyncio: Runner._on_sigint. The first Ctrl+C cancels the main task (the byte in the
// pipe has already woken the loop: asyncio's call_soon_threadsafe(lambda: None)); one
// that finds the task done is Python's `raise KeyboardInterrupt()` from the handler.
void detail::SigintHandler::on_sigint() {
    ++interrupts_;
    if (interrupts_ == 1 && !main_task_.done()) {
        main_task_.cancel();
        return;
    }
    static const char text[] = "KeyboardInterrupt\n";
    std::fflush(stdout);
    std::fwrite(text, 1, sizeof text - 1, stderr);
    SignalWakeup::die_by(SIGINT);
}

Runner::~Runner() { close_after_error(); }

void Runner::close_after_error() noexcept {
    try {
        close();
    } catch (...) {
        try {
            log(LogLevel::error,
                "Runner.close() failed: " + describe_exception(std::current_exception()));
        } catch (...) {
        }
    }
}

// asyncio: Runner.close. The loop is closed and the current loop unset whatever
// happens in between (asyncio's try/finally).
void Runner::close() {
    if (state_ != State::initialized) return;
    try {
        detail::cancel_all_tasks(*loop_);
        loop_->run_until_complete(shutdown_default_executor(*loop_, thread_join_timeout));
    } catch (...) {
        finish_close();
        throw;
    }
    finish_close();
}

void Runner::finish_close() {
    if (set_event_loop_) set_event_loop(nullptr);
    state_ = State::closed;
    loop_->close();
    detail::pool_trim();  // the run's spike of frames is not worth keeping (frame_pool.hpp)
}

EventLoop& Runner::get_loop() {
    lazy_init();
    return *loop_;
}

// asyncio: Runner.run's checks, in its order: the argument, then the running loop.
void Runner::check_can_run(bool has_coro) const {
    if (!has_coro) throw ValueError("a coroutine was expected, got a moved-from Coro");
    if (try_get_running_loop())
        throw RuntimeError("Runner.run() cannot be called from a running event loop");
}

// asyncio: Runner._lazy_init.
void Runner::lazy_init() {
    if (state_ == State::closed) throw RuntimeError("Runner is closed");
    if (state_ == State::initialized) return;
    if (loop_factory_) {
        loop_ = loop_factory_();
        if (!loop_) throw ValueError("Runner: loop_factory returned no loop");
    } else {
        loop_ = new_event_loop();
        set_event_loop(loop_.get());
        set_event_loop_ = true;
    }
    if (debug_) loop_->set_debug(*debug_);
    state_ = State::initialized;
    install_excepthook();  // Python's top-level report of what escapes main()
}

}  // namespace aio
