// runners.hpp - the one call that starts an asyncio program (asyncio: runners.py,
// asyncio.run and asyncio.Runner).
//
//   int main() { return aio::run(amain()); }
//
// run(coro) is the whole life of a loop in one call: make a fresh loop (AIO_SELECTOR,
// AIO_CLOCK and AIO_DEBUG apply), make it this thread's current loop, run coro as the
// main task until it finishes, then shut down in asyncio's order:
//   1. cancel every task still pending and wait for them, so their cleanup runs; one
//      that fails with something other than CancelledError is reported, not thrown
//   2. shut the default executor down, waiting for its threads (up to 300 s, as 3.12)
//   3. unset the current loop, close the loop
// and give back the main coroutine's result, or rethrow its exception.
// Runner is the same life cut in pieces: run() several times on one loop, then close().
//
// An exception that escapes main() after run() rethrew it ends the program as Python's
// top level does, not with std::terminate's abort: stdout is flushed, the traceback
// (the co_await sites it passed through) goes to stderr, ending `TimeoutError` or
// `ValueError: bad`, and the exit status is 1. run() and Runner install that report
// (lesson 1's install_excepthook) for their thread.
//
// Ctrl+C (asyncio 3.11's Runner.run and _on_sigint): on the main thread, when SIGINT
// has its default action, run() routes SIGINT into the loop (signal_wakeup.hpp). The
// first Ctrl+C cancels the main task, so its catch blocks, destructors and `async with`
// exits run; if the task then ends cancelled and uncancel() gives 0, run() throws
// aio::KeyboardInterrupt (which, escaping main(), is reported and ends the program
// killed by SIGINT, as Python's does). A second Ctrl+C, or one after the main task is
// done, ends the program at once: C++ cannot throw from a signal handler, so it writes
// "KeyboardInterrupt" to stderr and re-raises SIGINT with its default action. SIGINT's
// default action is put back when run() returns.
//
// Differences from asyncio: no contextvars, and no async generators to finalize
// (lesson 2's have no loop hooks). The KeyboardInterrupt carries no __context__ (our
// traceback prints causes, not contexts), and the second Ctrl+C prints one line, not a
// traceback.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace aio {

// asyncio: asyncio.Runner (3.11). Makes its loop on first use; run() may be called
// several times; close() (or the destructor) shuts down as run() does. After close()
// every use throws aio::RuntimeError("Runner is closed").
class Runner {
public:
    using LoopFactory = std::function<std::unique_ptr<EventLoop>()>;

    // debug: forces the loop's debug mode either way; nullopt leaves it to AIO_DEBUG.
    // loop_factory: makes the loop (then it does not become the current loop, as in
    // asyncio); by default new_event_loop().
    explicit Runner(std::optional<bool> debug = std::nullopt, LoopFactory loop_factory = nullptr)
        : debug_(debug), loop_factory_(std::move(loop_factory)) {}
    // asyncio: Runner.__exit__. Closes; an error while closing is logged, not thrown.
    ~Runner();
    Runner(const Runner&) = delete;
    Runner& operator=(const Runner&) = delete;

    // asyncio: Runner.run. Runs coro as a task on the runner's loop until it is done;
    // returns its result or rethrows. Throws aio::RuntimeError "Runner.run() cannot be
    // called from a running event loop" (coro is left unawaited, and says so) and
    // aio::ValueError for a moved-from coroutine.
    template <class T>
    T run(Coro<T> coro);
    // Any other awaitable (sleep(), a Task or Future of this loop, a user's awaiter) runs
    // inside a coroutine that awaits it (asyncio's Runner.run takes coroutines only).
    template <Awaitable A>
    requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto run(A&& aw) {
        return run(detail::wrap(std::forward<A>(aw)));
    }
    // asyncio: Runner.close. Cancels what is left, shuts the default executor down,
    // closes the loop. Idempotent; does nothing if the loop was never made.
    void close();
    // close() while an exception is on its way out: an error in closing is logged, so
    // that the first one is the one reported (what the destructor does too).
    void close_after_error() noexcept;
    // asyncio: Runner.get_loop. Makes the loop if needed. The loop object lives as long
    // as the Runner, closed after close().
    EventLoop& get_loop();

private:
    enum class State { created, initialized, closed };
    void lazy_init();
    void check_can_run(bool has_coro) const;
    void finish_close();

    std::optional<bool> debug_;
    LoopFactory loop_factory_;
    std::unique_ptr<EventLoop> loop_;
    State state_ = State::created;
    bool set_event_loop_ = false;  // we made our loop the current one
};

// asyncio: asyncio.run(main, debug=None) (3.12 adds loop_factory). Throws
// aio::RuntimeError("asyncio.run() cannot be called from a running event loop") when
// called from a coroutine (tutorials' first pitfall: await it instead).
template <class T>
T run(Coro<T> main, std::optional<bool> debug = std::nullopt,
      Runner::LoopFactory loop_factory = nullptr);
// Any other awaitable: `aio::run(aio::sleep(1))` (asyncio.run takes coroutines only).
template <Awaitable A>
requires(!detail::is_coro_v<std::remove_cvref_t<A>>) auto run(
    A&& main, std::optional<bool> debug = std::nullopt,
    Runner::LoopFactory loop_factory = nullptr) {
    return run(detail::wrap(std::forward<A>(main)), debug, std::move(loop_factory));
}

namespace detail {
// asyncio: the SIGINT part of Runner.run (3.11). Routes SIGINT to `loop` while it lives,
// if this is the main thread and SIGINT has its default action (asyncio: getsignal(
// SIGINT) is default_int_handler); the destructor restores the default action if the
// route is still its own.
class SigintHandler {
public:
    SigintHandler(EventLoop& loop, TaskBase& main_task);
    ~SigintHandler();
    SigintHandler(const SigintHandler&) = delete;
    SigintHandler& operator=(const SigintHandler&) = delete;
    // asyncio: self._interrupt_count > 0.
    bool interrupted() const noexcept { return interrupts_ > 0; }

private:
    void on_sigint();  // asyncio: Runner._on_sigint, on the loop thread

    EventLoop& loop_;
    TaskBase& main_task_;
    bool installed_ = false;
    int interrupts_ = 0;
};

// asyncio: runners._cancel_all_tasks. Cancels every pending task of `loop`, runs the
// loop until all are done, and reports those that failed otherwise through the loop's
// exception handler ('unhandled exception during asyncio.run() shutdown').
void cancel_all_tasks(EventLoop& loop);
}  // namespace detail

// ---- template implementation -----------------------------------------------------

template <class T>
T Runner::run(Coro<T> coro) {
    check_can_run(static_cast<bool>(coro));
    lazy_init();
    Task<T> task = create_task(*loop_, std::move(coro));
    detail::SigintHandler sigint(*loop_, *task.get());
    try {
        if constexpr (std::is_void_v<T>)
            loop_->run_until_complete(task);
        else
            return loop_->run_until_complete(task);
    } catch (const CancelledError&) {
        // Ctrl+C cancelled the main task and nothing withdrew that request.
        if (sigint.interrupted() && task.uncancel() == 0) throw KeyboardInterrupt();
        throw;
    }
}

template <class T>
T run(Coro<T> main, std::optional<bool> debug, Runner::LoopFactory loop_factory) {
    if (try_get_running_loop())
        throw RuntimeError("asyncio.run() cannot be called from a running event loop");
    Runner runner(debug, std::move(loop_factory));
    try {
        if constexpr (std::is_void_v<T>) {
            runner.run(std::move(main));
            runner.close();
        } else {
            T result = runner.run(std::move(main));
            runner.close();  // an error here wins over the result, as in asyncio's `with`
            return result;
        }
    } catch (...) {
        // asyncio's `with Runner() as runner`: close, then let the error go on. Closed
        // here, not by ~Runner: an exception nobody catches unwinds no stack, and then
        // the remaining tasks' cleanup would never run before the top-level report.
        runner.close_after_error();
        throw;
    }
}

}  // namespace aio
