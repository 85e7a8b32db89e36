// signal_wakeup.cpp - see signal_wakeup.hpp (Python: Modules/signalmodule.c's
// signal_handler and set_wakeup_fd; asyncio: unix_events.py).
#include "lesson03_tasks/signal_wakeup.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>

#if defined(__linux__)
#include <sys/syscall.h>
#elif defined(__FreeBSD__)
#include <pthread_np.h>
#endif

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {

// What deliver() needs for one signal number; all the signal handler may touch.
struct Target {
    std::atomic<int> fd{-1};  // the write end of the routing loop's pipe; -1: none
    std::atomic<int> hits{0};
    std::atomic<bool> repeat_kills{false};
};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

Target targets[NSIG];
// deliver() calls in progress, on any thread: a pipe is closed only when this is 0, so
// that a handler that loaded its fd never writes into a closed (or reused) descriptor.
std::atomic<int> in_flight{0};

void write_all(int fd, const char* text, std::size_t n) noexcept {
    ssize_t done = ::write(fd, text, n);
    (void)done;  // nothing to do in a signal handler about a short write
}

// The C signal handler. Signal context: atomics and write(2) only.
extern "C" void deliver(int signo) {
    int saved_errno = errno;
    in_flight.fetch_add(1);
    Target& t = targets[signo];
    if (t.repeat_kills.load() && t.hits.fetch_add(1) >= 1) {
        static const char text[] = "KeyboardInterrupt\n";
        write_all(2, text, sizeof text - 1);
        SignalWakeup::die_by(signo);
    }
    int fd = t.fd.load();
    if (fd >= 0) {
        // Python's wakeup fd carries the signal number as one byte. A full pipe (EAGAIN)
        // drops it: 64 KiB of signals are already waiting for the loop.
        unsigned char byte = static_cast<unsigned char>(signo);
        ssize_t n = ::write(fd, &byte, 1);
        (void)n;
    }
    in_flight.fetch_sub(1);
    errno = saved_errno;
}

// sigaction(signo, handler) with SA_RESTART (asyncio: signal.siginterrupt(sig, False)):
// a blocking call in an executor thread is resumed, not failed with EINTR.
int set_action(int signo, void (*handler)(int)) noexcept {
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = handler == SIG_DFL ? 0 : SA_RESTART;
    return ::sigaction(signo, &action, nullptr);
}

void set_nonblocking_cloexec(int fd) noexcept {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

bool is_main_thread() noexcept {
#if defined(__linux__)
    return ::syscall(SYS_gettid) == ::getpid();
#else
    return ::pthread_main_np() == 1;
#endif
}

void SignalWakeup::die_by(int signo) noexcept {
    set_action(signo, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(signo);
    ::_exit(128 + signo);  // only if the default action does not end the process
}

SignalWakeup::~SignalWakeup() {
    for (auto& [signo, route] : routes_) {
        route->cancelled = true;
        if (targets[signo].fd.load() != write_fd_) continue;
        set_action(signo, SIG_DFL);
        targets[signo].fd.store(-1);
    }
    routes_.clear();
    if (read_fd_ < 0) return;
    while (in_flight.load() != 0) ::sched_yield();
    ::close(read_fd_);
    ::close(write_fd_);
}

void SignalWakeup::route(int signo, Callback callback, bool repeat_kills, const void* owner) {
    if (!is_main_thread())
        throw RuntimeError("set_wakeup_fd only works in main thread of the main interpreter");
    if (read_fd_ < 0) open_pipe();
    Target& t = targets[signo];
    int previous_fd = t.fd.load();
    t.repeat_kills.store(repeat_kills);
    t.hits.store(0);
    t.fd.store(write_fd_);
    if (set_action(signo, deliver) != 0) {
        int err = errno;
        t.fd.store(previous_fd);
        t.repeat_kills.store(false);
        if (routes_.empty()) close_pipe();
        if (err == EINVAL) throw RuntimeError("sig " + std::to_string(signo) + " cannot be caught");
        throw OSError("sigaction", err);
    }
    std::shared_ptr<Route>& slot = routes_[signo];
    if (slot) slot->cancelled = true;  // the replaced callback, if still scheduled
    slot = std::make_shared<Route>(Route{std::move(callback), owner});
}

bool SignalWakeup::unroute(int signo) {
    auto it = routes_.find(signo);
    if (it == routes_.end()) return false;
    it->second->cancelled = true;
    routes_.erase(it);
    Target& t = targets[signo];
    if (t.fd.load() == write_fd_) {  // else another loop has taken signo since
        set_action(signo, SIG_DFL);
        t.fd.store(-1);
        t.repeat_kills.store(false);
    }
    if (routes_.empty()) close_pipe();
    return true;
}

const void* SignalWakeup::owner(int signo) const noexcept {
    auto it = routes_.find(signo);
    return it == routes_.end() ? nullptr : it->second->owner;
}

void SignalWakeup::loop_closing(EventLoop&) noexcept {
    while (!routes_.empty()) unroute(routes_.begin()->first);
}

void SignalWakeup::open_pipe() {
    int fds[2];
    if (::pipe(fds) != 0) throw OSError("pipe", errno);
    for (int fd : fds) set_nonblocking_cloexec(fd);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    try {
        loop_.add_reader(read_fd_, [this] { on_readable(); });
    } catch (...) {
        close_pipe();
        throw;
    }
}

void SignalWakeup::close_pipe() noexcept {
    if (read_fd_ < 0) return;
    try {
        loop_.remove_reader(read_fd_);
    } catch (...) {  // a closed loop has already dropped its fd callbacks
    }
    while (in_flight.load() != 0) ::sched_yield();
    ::close(read_fd_);
    ::close(write_fd_);
    read_fd_ = write_fd_ = -1;
}

// asyncio: _read_from_self -> _process_self_data -> _handle_signal: each byte is a
// signal; its callback is scheduled, not run here, so it runs as a callback of its own.
void SignalWakeup::on_readable() {
    unsigned char buf[256];
    ssize_t n;
    while ((n = ::read(read_fd_, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; ++i) {
            auto it = routes_.find(buf[i]);
            if (it == routes_.end()) continue;  // unrouted since it was written
            loop_.call_soon([route = it->second] {
                if (!route->cancelled) route->callback();
            });
        }
    }
}

}  // namespace aio
