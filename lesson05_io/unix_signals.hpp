// unix_signals.hpp - loop.add_signal_handler / remove_signal_handler (asyncio:
// unix_events._UnixSelectorEventLoop.add_signal_handler, remove_signal_handler,
// _check_signal, and close() removing them all).
//
//   loop.add_signal_handler(SIGTERM, [&] { stop.set(); });
//   loop.add_signal_handler(SIGUSR1, report, "usr1");      // callback(args...)
//   bool removed = loop.remove_signal_handler(SIGTERM);
//
// Built on lesson 3's delivery (lesson03_tasks/signal_wakeup.hpp, the same mechanism the
// Runner's Ctrl+C uses): the C handler writes the signal's number into the loop's pipe,
// the loop reads it and schedules the callback, so the callback runs on the loop thread
// as any call_soon callback does, never in signal context; what it throws goes to the
// loop's exception handler. Adding again replaces the handler. loop.close() removes every
// handler of the loop (SignalWakeup is a LoopExtension).
//
// Differences from asyncio: remove_signal_handler(SIGINT) restores SIG_DFL (asyncio
// restores Python's default_int_handler, which raises KeyboardInterrupt; C++ has none, and
// SIG_DFL ends the program the way an unhandled KeyboardInterrupt does). Two loops may
// handle different signals (asyncio's one wakeup fd per process gives every signal to the
// last loop that added a handler).
#pragma once

#include <functional>
#include <type_traits>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/awaitables.hpp"

namespace aio {

namespace detail {
// asyncio: _check_signal. ValueError("invalid signal number 99") unless sig is one of
// signal.valid_signals() (1..NSIG-1 less the ones libc keeps for itself).
void check_signal(int sig);
void add_signal_callback(EventLoop& loop, int sig, std::function<void()> callback);
}  // namespace detail

// asyncio: loop.add_signal_handler(sig, callback, *args). Throws, in asyncio's order:
// TypeError("coroutines cannot be used with add_signal_handler()") if callback(args...)
// makes a Coro; ValueError("invalid signal number N"); RuntimeError("Event loop is
// closed"); RuntimeError("set_wakeup_fd only works in main thread of the main
// interpreter") off the main thread; RuntimeError("sig 9 cannot be caught") for SIGKILL
// and SIGSTOP. The arguments are copied once and given to every call.
template <class F, class... Args>
void aio_add_signal_handler(EventLoop& loop, int sig, F callback, Args... args) {
    using Result = std::invoke_result_t<F&, Args&...>;
    if constexpr (detail::is_coro_v<std::remove_cvref_t<Result>>)
        throw TypeError("coroutines cannot be used with add_signal_handler()");
    else
        detail::add_signal_callback(loop, sig,
                                    [callback = std::move(callback), ... args = std::move(args)] {
                                        std::invoke(callback, args...);
                                    });
}

// asyncio: loop.remove_signal_handler(sig). True if a handler was removed; the signal
// then has its default action again (SIG_DFL, SIGINT too). ValueError for an invalid
// number.
bool aio_remove_signal_handler(EventLoop& loop, int sig);

}  // namespace aio
