// accept.cpp - the accept loop: a listening fd is readable, take the connections waiting
// on it and give each its protocol and transport (asyncio: selector_events
// BaseSelectorEventLoop._start_serving, _accept_connection, _accept_connection2).
//
// One readiness event may stand for many connections, so up to `backlog` are accepted
// per event (asyncio: bpo-27906). Each connection's protocol and transport are made at
// once, in the accept callback; asyncio makes them in a task per connection, which only
// matters for TLS handshakes (not ported) and costs a task per accept.
//
// Running out of fds (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM) is not the
// listening socket's fault, and the connection stays queued in the kernel: a level-
// triggered selector would report the fd again at once, forever. So, as asyncio does,
// the error is reported, the reader removed, and accepting starts again after
// ACCEPT_RETRY_DELAY (1 s of loop time) while the connections already made are served.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "lesson01_loop/exception_context.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/selector_events.hpp"
#include "lesson05_io/servers.hpp"

namespace aio {

namespace {

// asyncio: constants.ACCEPT_RETRY_DELAY.
constexpr double accept_retry_delay = 1.0;

bool out_of_resources(int err) {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

// asyncio: trsock.TransportSocket's repr, what the exception context shows.
std::string transport_socket_repr(const socket& sock) {
    std::string text = sock.repr();
    return "<asyncio.TransportSocket " + text.substr(text.find(' ') + 1);
}

// accept4 gives the connection close-on-exec and non-blocking in the one call. The fd is
// closed if it cannot be wrapped (from_fileno's getsockopt failing).
socket adopt(int fd) {
    try {
        return socket::from_fileno(fd);
    } catch (...) {
        ::close(fd);
        throw;
    }
}

}  // namespace

// asyncio: BaseSelectorEventLoop._start_serving. The callback holds the server, as
// asyncio's add_reader arguments do: the loop keeps a serving server alive.
void Server::watch(std::size_t index) {
    std::shared_ptr<Server> self = shared_from_this();
    loop_->add_reader(sockets_[index].fileno(), [self, index] { self->accept_connections(index); });
}

// asyncio: BaseSelectorEventLoop._accept_connection. Stops early when the queue is empty,
// or when a protocol closed the server meanwhile (its factory or connection_made may).
void Server::accept_connections(std::size_t index) {
    for (int i = 0; i < backlog_ && !closed_; ++i) {
        sockaddr_storage peer{};
        socklen_t length = sizeof peer;
        int fd = ::accept4(sockets_[index].fileno(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (accept_failed(index, errno)) continue;
            return;
        }
        socket conn = adopt(fd);
        if (loop_->get_debug())  // asyncio: "%r got a new connection from %r: %r"
            log(LogLevel::debug,
                repr() + " got a new connection from " +
                    detail::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length).repr() +
                    ": " + conn.repr());
        connect_protocol(std::move(conn));
    }
}

// A failed accept: true to try again at once (EINTR). An empty queue, or a connection
// the peer reset before it was accepted, ends this round. Out of resources: report,
// pause, retry later. Anything else propagates to the loop, which reports it (asyncio:
// "The event loop will catch, log and ignore it").
bool Server::accept_failed(std::size_t index, int err) {
    if (err == EINTR) return true;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ECONNABORTED) return false;
    if (!out_of_resources(err)) throw_os_error(err);
    ExceptionContext context;
    context.message = "socket.accept() out of system resource";
    context.exception = make_os_error(err);
    context.extra.emplace_back("socket", transport_socket_repr(sockets_[index]));
    loop_->call_exception_handler(context);
    loop_->remove_reader(sockets_[index].fileno());
    std::shared_ptr<Server> self = shared_from_this();
    retries_[index] = loop_->call_later(accept_retry_delay, [self, index] {
        // asyncio re-adds the reader even for a server closed meanwhile; not here.
        if (self->serving_) self->watch(index);
    });
    return false;
}

// asyncio: BaseSelectorEventLoop._accept_connection2, without the task. The transport
// attaches to this server and calls connection_made soon. A factory or transport that
// throws is reported and the connection closed (conn's destructor, or the transport's
// parameter's); the server goes on.
void Server::connect_protocol(socket conn) {
    try {
        std::shared_ptr<Protocol> protocol = factory_();
        if (!protocol) throw ValueError("the protocol factory returned no protocol");
        detail::make_socket_transport(*loop_, std::move(conn), std::move(protocol), std::nullopt,
                                      this);
    } catch (...) {
        ExceptionContext context;
        context.message = "Error on transport creation for incoming connection";
        context.exception = std::current_exception();
        loop_->call_exception_handler(context);
    }
}

}  // namespace aio
