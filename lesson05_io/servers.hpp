// servers.hpp - loop.create_server and the Server it returns (asyncio:
// base_events.Server, BaseEventLoop.create_server, unix_events.create_unix_server,
// selector_events._accept_connection).
//
// A server is a set of listening sockets (one per address the host resolves to) and a
// protocol factory. While it serves, each listening fd stays registered with the loop;
// when it is readable, the accept loop takes up to `backlog` connections and makes, for
// each one, a protocol (factory()) and a socket transport that joins the two:
//
//   listening fd ─readable─▶ accept loop ─accept4()─▶ conn ──▶ make_socket_transport(
//        │                      │ EMFILE/ENFILE:               conn, factory(), server)
//        │                      ▼ log, remove_reader,              │ attach / detach
//        └──── add_reader ◀── call_later(1.0) ◀─┘                  ▼
//                                                     Server: active count, clients
//
// The transports attach to the server when made and detach after connection_lost
// (detail::ServerLink), so wait_closed() knows when the last connection is gone and
// close_clients()/abort_clients() reach them all.
//
// Ownership, as in asyncio: the loop keeps a serving server alive (its accept callbacks
// hold it, as asyncio's add_reader arguments do), and so does every connection it
// accepted (asyncio's transport._server); the program holds a std::shared_ptr<Server>.
// A server still open when its loop closes is closed then (asyncio leaves it to the GC).
//
// Differences from asyncio 3.11, on purpose:
//   - wait_closed() waits for the last connection, as 3.12.1 does (3.11 returns at once
//     once close() was called: its check is `if self._sockets is None: return`; its own
//     docstring in 3.12.1 calls 3.11 and 3.12.0 "broken"). So `async with server`
//     (3.11's AbstractServer.__aexit__: close(), then wait_closed()) waits for them too.
//   - close_clients() / abort_clients() are 3.13's, to end those connections.
//   - cancelling serve_forever() closes the server and does not wait for the
//     connections (3.11's behaviour; 3.12.1+ awaits wait_closed() there, so a Ctrl-C'd
//     server hangs until every idle client leaves).
//   - A protocol factory that throws is reported always and the connection closed
//     (asyncio reports it in debug mode only, and leaves the socket to the GC).
//   - The accept retry after EMFILE does nothing once the server is closed (asyncio's
//     timer re-adds a reader for the closed socket).
//   - create_unix_server removes a stale socket file only if nothing answers on it
//     (3.11 removes any socket file, even a live server's), and close() removes the
//     file it bound, if it is still that file (3.13's cleanup_socket=True).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/handles.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/socket.hpp"
#include "lesson05_io/transports.hpp"

namespace aio {

// asyncio: base_events.Server. Made by loop.create_server / create_unix_server.
class Server final : public detail::ServerLink, public std::enable_shared_from_this<Server> {
    struct Key {};  // only make() constructs one (it must be owned by a shared_ptr)

public:
    // What the server calls once per accepted connection (asyncio: protocol_factory).
    using Factory = std::function<std::shared_ptr<Protocol>()>;

    static std::shared_ptr<Server> make(EventLoop& loop, std::vector<socket> sockets,
                                        Factory factory, int backlog, std::string unix_path = {});
    Server(Key, EventLoop& loop, std::vector<socket> sockets, Factory factory, int backlog,
           std::string unix_path);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    EventLoop& get_loop() const noexcept { return *loop_; }
    // asyncio: Server.sockets. The listening sockets; none once closed.
    const std::vector<socket>& sockets() const noexcept { return sockets_; }
    // asyncio: Server.is_serving(). True from start_serving until close.
    bool is_serving() const noexcept { return serving_; }
    // How many accepted connections have not yet called connection_lost.
    std::size_t active_count() const noexcept { return active_count_; }

    // asyncio: await server.start_serving(). Listens and accepts; idempotent. Yields once
    // so that the loop has registered the fds when it returns.
    Coro<void> start_serving();
    // asyncio: await server.serve_forever(). Starts serving if needed and waits until
    // cancelled, which closes the server (CancelledError goes on). RuntimeError if the
    // server is closed or another serve_forever is waiting.
    Coro<void> serve_forever();
    // asyncio: server.close(). Stops listening and closes the listening sockets; the
    // connections already accepted go on. Idempotent.
    void close();
    // asyncio 3.12.1: await server.wait_closed(). Returns once close() was called and
    // the last accepted connection is gone.
    Coro<void> wait_closed();
    // asyncio 3.13: close() / abort() every connection still open.
    void close_clients();
    void abort_clients();

    // asyncio: `async with server:` (lesson 2's async_with(*server, body)). Exit
    // closes and waits for the last connection (3.11's __aexit__, 3.12.1's wait).
    Coro<void> aenter();
    Coro<void> aexit(std::exception_ptr error);

    // asyncio: <Server sockets=(<asyncio.TransportSocket fd=6, family=2, type=1,
    // proto=6, laddr=('127.0.0.1', 8888)>,)>
    std::string repr() const;

    // detail::ServerLink (asyncio: Server._attach / _detach), called by the transports.
    void attach(const std::shared_ptr<Transport>& transport) override;
    void detach(Transport& transport) override;
    // The loop closed with this server open: close what is left without it.
    void loop_closed() noexcept;

private:
    void start_listening();                      // asyncio: Server._start_serving
    void watch(std::size_t index);               // asyncio: loop._start_serving
    void accept_connections(std::size_t index);  // asyncio: loop._accept_connection
    bool accept_failed(std::size_t index, int err);
    void connect_protocol(socket conn);  // asyncio: loop._accept_connection2
    void remove_unix_path() noexcept;
    void wakeup();  // asyncio: Server._wakeup

    // Fixed at construction.
    EventLoop* loop_;
    Factory factory_;
    int backlog_;
    std::string unix_path_;  // the Unix socket file this server bound, removed by close()
    dev_t unix_dev_ = 0;     // ... if it is still that file
    ino_t unix_ino_ = 0;

    // Loop thread only.
    std::vector<socket> sockets_;  // cleared by close() (asyncio: _sockets = None)
    bool closed_ = false;
    bool serving_ = false;
    std::vector<TimerHandle> retries_;             // accept retries after EMFILE; close() cancels
    std::optional<Future<void>> serving_forever_;  // while serve_forever() waits
    std::vector<Future<void>> waiters_;            // wait_closed() callers
    bool woken_ = false;                           // asyncio: _waiters is None
    std::size_t active_count_ = 0;
    std::unordered_map<Transport*, std::weak_ptr<Transport>> clients_;
    // The connections keep their server, as asyncio's transports do (transport._server):
    // set while any is attached, so a transport never detaches from a freed server.
    std::shared_ptr<Server> kept_by_clients_;
};

// asyncio: await loop.create_server(protocol_factory, host, port, backlog=100,
// reuse_address=True, start_serving=True). One listening socket per address `host`
// resolves to ("" for every interface; IPV6_V6ONLY on IPv6, as asyncio); port 0 gives
// the kernel's choice (read it back from server->sockets()). A bind error names the
// address: "[Errno 98] error while attempting to bind on address ('127.0.0.1', 8888):
// address already in use"; no socket is left open.
Coro<std::shared_ptr<Server>> aio_create_server(EventLoop& loop, Server::Factory factory,
                                                std::string host, int port, int backlog = 100,
                                                bool reuse_address = true,
                                                bool start_serving = true);
// asyncio: loop.create_server(protocol_factory, sock=sock): serve on a socket the
// caller bound (it must be a SOCK_STREAM socket; the server takes it).
Coro<std::shared_ptr<Server>> aio_create_server(EventLoop& loop, Server::Factory factory,
                                                socket sock, int backlog = 100,
                                                bool start_serving = true);
// asyncio: await loop.create_unix_server(protocol_factory, path, backlog=100,
// start_serving=True). "[Errno 98] Address '/tmp/s' is already in use" if a server
// answers there.
Coro<std::shared_ptr<Server>> aio_create_unix_server(EventLoop& loop, Server::Factory factory,
                                                     std::string path, int backlog = 100,
                                                     bool start_serving = true);

}  // namespace aio
