// sock_ops.cpp - each sock_* coroutine: try the call, wait for readiness on EAGAIN,
// try again (asyncio: selector_events.py, sock_recv ... sock_accept).
#include "lesson05_io/sock_ops.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/resolver.hpp"

namespace aio {

namespace detail {

void FdReady::stop_watching() noexcept {
    if (!watching_) return;
    watching_ = false;
    if (loop_->is_closed()) return;  // a closed loop has dropped its fd callbacks
    if (events_ == EVENT_READ)
        loop_->remove_reader(fd_);
    else
        loop_->remove_writer(fd_);
}

}  // namespace detail

namespace {

// asyncio checks sock.gettimeout() != 0 in debug mode only; the check is a flag here.
void check_nonblocking(const socket& sock) {
    if (sock.fileno() < 0) throw_os_error(EBADF, "Bad file descriptor (the socket is closed)");
    if (sock.getblocking()) throw ValueError("the socket must be non-blocking");
}

// A call that failed: EAGAIN means "wait and retry" (true), EINTR "retry now"; any
// other errno is the error the coroutine raises.
bool must_wait(int err) {
    if (err == EAGAIN || err == EWOULDBLOCK) return true;
    if (err == EINTR) return false;
    throw_os_error(err);
}

}  // namespace

Coro<bytes> aio_sock_recv(EventLoop& loop, socket& sock, std::size_t n) {
    check_nonblocking(sock);
    bytes data(n);
    for (;;) {
        ssize_t got = ::recv(sock.fileno(), data.data(), n, 0);
        if (got >= 0) co_return data.slice(0, static_cast<std::size_t>(got));
        if (must_wait(errno)) co_await detail::fd_ready(loop, sock.fileno(), EVENT_READ);
    }
}

Coro<std::size_t> aio_sock_recv_into(EventLoop& loop, socket& sock, bytes& buf) {
    check_nonblocking(sock);
    for (;;) {
        ssize_t got = ::recv(sock.fileno(), buf.data(), buf.size(), 0);
        if (got >= 0) co_return static_cast<std::size_t>(got);
        if (must_wait(errno)) co_await detail::fd_ready(loop, sock.fileno(), EVENT_READ);
    }
}

Coro<void> aio_sock_sendall(EventLoop& loop, socket& sock, bytes data) {
    check_nonblocking(sock);
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(sock.fileno(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n >= 0)
            sent += static_cast<std::size_t>(n);
        else if (must_wait(errno))
            co_await detail::fd_ready(loop, sock.fileno(), EVENT_WRITE);
    }
}

namespace {

// asyncio: _ensure_resolved. A host name looked up on the executor, for the socket's
// family and type: the first address it gives.
// (Coroutine parameters are values: the socket's family, type and protocol, not it.)
Coro<Address> resolved(EventLoop& loop, Address address, int family, int type, int proto) {
    std::vector<AddrInfo> found =
        co_await aio_getaddrinfo(loop, address.host, address.port, family, type, proto);
    co_return found.front().address;
}

// asyncio: _sock_connect_cb's message, "Connect call failed ('127.0.0.1', 1)".
[[noreturn]] void connect_failed(int err, const Address& address) {
    throw_os_error(err, "Connect call failed " + address.repr());
}

}  // namespace

Coro<void> aio_sock_connect(EventLoop& loop, socket& sock, Address address) {
    check_nonblocking(sock);
    if (sock.family() == AF_UNIX) address = Address::unix_path(address.host);
    if (!detail::is_resolved(address))
        address = co_await resolved(loop, address, sock.family(), sock.type(), sock.proto());
    if (address.family == AF_UNSPEC) address.family = sock.family();
    detail::SockAddr a = detail::to_sockaddr(address);
    if (::connect(sock.fileno(), a.get(), a.length) == 0) co_return;
    int err = errno;
    if (err != EINPROGRESS && err != EINTR && err != EAGAIN) connect_failed(err, address);
    for (;;) {
        co_await detail::fd_ready(loop, sock.fileno(), EVENT_WRITE);
        err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
        if (err == 0) co_return;
        if (err != EINPROGRESS && err != EINTR && err != EAGAIN) connect_failed(err, address);
    }
}

Coro<std::pair<socket, Address>> aio_sock_accept(EventLoop& loop, socket& sock) {
    check_nonblocking(sock);
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        int fd = ::accept4(sock.fileno(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0)
            co_return std::pair{socket::from_fileno(fd),
                                detail::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length)};
        if (must_wait(errno)) co_await detail::fd_ready(loop, sock.fileno(), EVENT_READ);
    }
}

Coro<std::pair<bytes, Address>> aio_sock_recvfrom(EventLoop& loop, socket& sock,
                                                  std::size_t bufsize) {
    check_nonblocking(sock);
    bytes data(bufsize);
    for (;;) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        ssize_t got = ::recvfrom(sock.fileno(), data.data(), bufsize, 0,
                                 reinterpret_cast<sockaddr*>(&peer), &length);
        if (got >= 0)
            co_return std::pair{data.slice(0, static_cast<std::size_t>(got)),
                                detail::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length)};
        if (must_wait(errno)) co_await detail::fd_ready(loop, sock.fileno(), EVENT_READ);
    }
}

Coro<std::size_t> aio_sock_sendto(EventLoop& loop, socket& sock, bytes data, Address address) {
    check_nonblocking(sock);
    if (!detail::is_resolved(address))
        address = co_await resolved(loop, address, sock.family(), sock.type(), sock.proto());
    if (address.family == AF_UNSPEC) address.family = sock.family();
    detail::SockAddr a = detail::to_sockaddr(address);
    for (;;) {
        ssize_t n =
            ::sendto(sock.fileno(), data.data(), data.size(), MSG_NOSIGNAL, a.get(), a.length);
        if (n >= 0) co_return static_cast<std::size_t>(n);
        if (must_wait(errno)) co_await detail::fd_ready(loop, sock.fileno(), EVENT_WRITE);
    }
}

}  // namespace aio
