// sock_ops.hpp - the loop's socket coroutines: await loop.sock_recv(sock, n) and the rest
// (asyncio: selector_events.BaseSelectorEventLoop.sock_recv, sock_sendall, ...).
//
// The lowest way to do network I/O in asyncio, below transports and streams: one
// coroutine per system call, on a non-blocking socket. Each one tries the call at
// once; only if the kernel says "not now" (EAGAIN) does it wait for the fd to become
// ready, then tries again:
//
//   sock_recv(sock, n):   recv() ──data──▶ return it
//                           │ EAGAIN
//                           ▼
//                         add_reader(fd) ─ park on a future ─ fd readable: the reader
//                         callback completes the future ─ step resumes: remove_reader,
//                         recv() again
//
// Where this differs from asyncio, on purpose:
//   - The call is made by the coroutine after it wakes, not by the reader callback.
//     asyncio's callback recv()s into the future, so a cancel that lands between the
//     callback and the task's next step throws away bytes already taken from the
//     socket. Here a cancelled sock_recv has taken nothing, and the next sock_recv
//     gets every byte. A cancelled sock_sendall has sent a prefix of its data (sent
//     bytes cannot be unsent, in either library) and nothing after the cancel.
//   - A blocking socket is refused always ("the socket must be non-blocking"), not
//     only in debug mode: on a blocking socket, the "try at once" would block the loop.
//   - Sends use MSG_NOSIGNAL: a peer that went away gives BrokenPipeError, never a
//     SIGPIPE that kills the process (Python ignores SIGPIPE at start-up instead).
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/selectors.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/socket.hpp"

namespace aio {

// asyncio: await loop.sock_recv(sock, n): up to n bytes; empty at end of stream.
Coro<bytes> aio_sock_recv(EventLoop& loop, socket& sock, std::size_t n);
// asyncio: await loop.sock_recv_into(sock, buf): fills up to buf.size() bytes of buf
// (Python's bytearray), returns how many.
Coro<std::size_t> aio_sock_recv_into(EventLoop& loop, socket& sock, bytes& buf);
// asyncio: await loop.sock_sendall(sock, data): all of data, or an exception.
Coro<void> aio_sock_sendall(EventLoop& loop, socket& sock, bytes data);
// asyncio: await loop.sock_connect(sock, address); a host name is resolved first
// (loop.getaddrinfo). Refused: ConnectionRefusedError "[Errno 111] Connect call
// failed ('127.0.0.1', 1)", as asyncio words it.
Coro<void> aio_sock_connect(EventLoop& loop, socket& sock, Address address);
// asyncio: await loop.sock_accept(sock) -> (conn, address); conn is non-blocking.
Coro<std::pair<socket, Address>> aio_sock_accept(EventLoop& loop, socket& sock);
// asyncio: await loop.sock_recvfrom(sock, bufsize) -> (data, address) (3.11).
Coro<std::pair<bytes, Address>> aio_sock_recvfrom(EventLoop& loop, socket& sock,
                                                  std::size_t bufsize);
// asyncio: await loop.sock_sendto(sock, data, address) -> bytes sent (3.11).
Coro<std::size_t> aio_sock_sendto(EventLoop& loop, socket& sock, bytes data, Address address);

namespace detail {

// The awaiter of fd_ready() below: the future lives in the awaiter, so in the waiting frame (no
// allocation); the fd callback is registered for this one wait and removed when it ends, woken or
// cancelled, as asyncio's sock_* do with their done-callback.
class FdReady {
public:
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
    FdReady(EventLoop& loop, int fd, unsigned events) noexcept
        : loop_(&loop), fd_(fd), events_(events) {}
    FdReady(const FdReady&) = delete;
    FdReady& operator=(const FdReady&) = delete;
    ~FdReady() {
        stop_watching();
        if (driver_ && ready_ && !ready_->done()) forget_waiter(driver_, &*ready_);
    }

    bool await_ready() const noexcept { return false; }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        driver_of(at.promise());  // throws outside a task, before anything is set up
        ready_.emplace(*loop_);
        FutureState<void>* fut = &*ready_;
        auto wake = [fut] {
            if (!fut->done()) fut->set_result();
        };
        if (events_ == EVENT_READ)
            loop_->add_reader(fd_, wake);
        else
            loop_->add_writer(fd_, wake);
        watching_ = true;
        suspend_on(at.promise(), at, fut);
        driver_ = at.promise().driver;
    }
    void await_resume() {
        resumed(driver_);
        stop_watching();
        ready_->result();  // throws CancelledError if the wait was cancelled
    }

private:
    void stop_watching() noexcept;

    EventLoop* loop_;
    int fd_;
    unsigned events_;
    bool watching_ = false;
    std::optional<FutureState<void>> ready_;
    Driver* driver_ = nullptr;
};

// What fd_ready() returns: a plain value until awaited; the awaiter, which must not move
// once it holds a future, is made in place by operator co_await (as sleep() does).
struct FdWait {
    EventLoop* loop;
    int fd;
    unsigned events;
    FdReady operator co_await() const noexcept { return FdReady(*loop, fd, events); }
};

// co_await fd_ready(loop, fd, EVENT_READ): resumes once fd is readable (EVENT_WRITE:
// writable), or throws CancelledError if the task is cancelled meanwhile.
inline FdWait fd_ready(EventLoop& loop, int fd, unsigned events) noexcept {
    return {&loop, fd, events};
}

}  // namespace detail

}  // namespace aio
