// unix_signals.cpp - see unix_signals.hpp (asyncio: unix_events.py).
#include "lesson05_io/unix_signals.hpp"

#include <csignal>
#include <string>

#include "lesson03_tasks/signal_wakeup.hpp"

namespace aio {

void detail::check_signal(int sig) {
    sigset_t valid;  // Python: signal.valid_signals(), made with sigfillset
    sigfillset(&valid);
    if (sig < 1 || sig >= NSIG || sigismember(&valid, sig) != 1)
        throw ValueError("invalid signal number " + std::to_string(sig));
}

void detail::add_signal_callback(EventLoop& loop, int sig, std::function<void()> callback) {
    check_signal(sig);
    if (loop.is_closed()) throw RuntimeError("Event loop is closed");
    loop.extension<SignalWakeup>().route(sig, std::move(callback));
}

bool aio_remove_signal_handler(EventLoop& loop, int sig) {
    detail::check_signal(sig);
    if (loop.is_closed()) return false;  // close() removed them all
    return loop.extension<SignalWakeup>().unroute(sig);
}

}  // namespace aio
