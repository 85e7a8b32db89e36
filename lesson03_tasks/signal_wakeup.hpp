// signal_wakeup.hpp - how a signal reaches an event loop (Python: signal.set_wakeup_fd and
// the C handler behind signal.signal; asyncio: unix_events._UnixSelectorEventLoop's
// _process_self_data and _handle_signal).
//
//   kernel --signal--> deliver() (signal context, any thread): write(pipe, signo)
//          --pipe--> the loop's select() wakes --> on_readable() reads the bytes
//          --> loop.call_soon(the signal's callback) --> runs as any loop callback
//
// A signal handler may interrupt any thread at any instruction, so it can do almost
// nothing: deliver() only loads atomics and calls write(2), both async-signal-safe. All
// the work (cancelling a task, a user's handler) runs later on the loop thread, where
// exceptions go to the loop's exception handler like any callback's.
//
// Why a self-pipe and not signalfd: signalfd only sees a signal that is blocked in every
// thread; executor threads (lesson 3) and threads of other libraries would each have to
// block it, and a blocked mask survives exec into every child process. Why not lesson 1's
// Waker: an eventfd counts wake-ups but cannot say which signal came.
//
// Each loop has its own pipe (a LoopExtension), and the process keeps, per signal
// number, the pipe it goes to: two loops can take different signals. Python keeps one
// wakeup fd per process, so the last loop to add a handler takes every signal from the
// others (asyncio's trap); here a signal goes to the loop that routed it last.
//
// Only the main thread may route (Python's rule: set_wakeup_fd only works there);
// delivery itself may land on any thread of ours.
//
// Lesson 3's Runner routes SIGINT here (Ctrl+C cancels the main task); lesson 5's
// loop.add_signal_handler is built on the same route() (lesson05_io/unix_signals.hpp).
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "lesson01_loop/event_loop.hpp"

namespace aio {

// Python: threading.current_thread() is threading.main_thread().
bool is_main_thread() noexcept;

class SignalWakeup final : public LoopExtension {
public:
    using Callback = std::function<void()>;

    explicit SignalWakeup(EventLoop& loop) : loop_(loop) {}
    ~SignalWakeup() override;
    SignalWakeup(const SignalWakeup&) = delete;
    SignalWakeup& operator=(const SignalWakeup&) = delete;

    // Routes signo to this loop: sigaction(signo) with deliver() (SA_RESTART, as
    // asyncio's siginterrupt(sig, False)); each delivery schedules `callback` with
    // call_soon. Replaces this loop's earlier route for signo, and takes signo from
    // another loop that had it. Throws aio::RuntimeError "set_wakeup_fd only works in
    // main thread of the main interpreter" off the main thread, "sig 9 cannot be caught"
    // for SIGKILL/SIGSTOP, aio::OSError if the pipe cannot be made. The caller checks
    // the signal number and that the loop is open.
    //
    // repeat_kills: a second delivery that arrives before unroute() ends the process
    // as the signal's default action would, from deliver() itself, after writing
    // "KeyboardInterrupt" to stderr: the Runner's second Ctrl+C, which must work even
    // while the loop is stuck and reads no pipe.
    // owner: who routed it (the Runner passes itself), for owner() below.
    void route(int signo, Callback callback, bool repeat_kills = false,
               const void* owner = nullptr);
    // Stops routing signo to this loop and restores SIG_DFL. False (and nothing changes)
    // if this loop does not route signo. A callback already scheduled does not run.
    bool unroute(int signo);
    bool routes(int signo) const noexcept { return routes_.count(signo) != 0; }
    // The owner given to route() for signo; null if not routed here. The Runner puts
    // SIGINT back only if its own route is still there (runners.py: `getsignal(SIGINT)
    // is sigint_handler`), not one that add_signal_handler put in its place.
    const void* owner(int signo) const noexcept;
    // The fatal end of repeat_kills, also for the Runner's SIGINT that finds the main
    // task done: SIG_DFL, unblock, raise. Async-signal-safe.
    [[noreturn]] static void die_by(int signo) noexcept;

    // asyncio: loop.close() removes every signal handler.
    void loop_closing(EventLoop&) noexcept override;

private:
    struct Route {
        Callback callback;
        const void* owner = nullptr;
        bool cancelled = false;
    };
    void open_pipe();
    void close_pipe() noexcept;
    void on_readable();

    EventLoop& loop_;
    int read_fd_ = -1;
    int write_fd_ = -1;
    std::map<int, std::shared_ptr<Route>> routes_;
};

}  // namespace aio
