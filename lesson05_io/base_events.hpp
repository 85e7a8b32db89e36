// base_events.hpp - the loop's client-side connection methods: create_connection,
// create_unix_connection, connect_accepted_socket, create_datagram_endpoint
// (asyncio: base_events.BaseEventLoop and unix_events for the Unix one).
//
// Each one makes a connected non-blocking socket, a protocol from the factory and a
// transport joining them (selector_events.hpp), waits until the protocol's
// connection_made has run, and returns (transport, protocol):
//
//   auto [transport, protocol] =
//       co_await loop.create_connection(make_protocol, "127.0.0.1", 8888);
//
// create_connection resolves the host (loop.getaddrinfo) and tries every address in
// the order getaddrinfo gives, as asyncio without happy eyeballs. When all fail it
// raises the one error if they all say the same, else OSError("Multiple exceptions:
// ..."), asyncio's wording; a refused connect names the address ("[Errno 111] Connect
// call failed ('127.0.0.1', 1)"). A cancel at any point closes the socket made so far.
//
// The protocol factory returns std::shared_ptr<P> (P a Protocol, or a DatagramProtocol
// for create_datagram_endpoint); the result is std::pair<std::shared_ptr<Transport>,
// std::shared_ptr<P>>, so the protocol comes back with its own type.
//
// Differences from asyncio: no ssl, happy_eyeballs_delay, interleave, reuse_port,
// allow_broadcast or all_errors. The keyword arguments kept are positional here, in
// asyncio's order.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/socket.hpp"
#include "lesson05_io/transports.hpp"

namespace aio {

namespace detail {

// The P of a factory returning std::shared_ptr<P>.
template <class Factory>
using protocol_of = typename std::invoke_result_t<Factory&>::element_type;

// asyncio: the address loop of create_connection (_connect_sock per address): a
// connected non-blocking socket to host:port, or the error(s) as described above.
Coro<socket> connect_tcp(EventLoop& loop, std::string host, int port, int family, int proto,
                         int flags, std::optional<Address> local_addr);
// asyncio: how create_connection reports that every address failed: the one error if
// they all read the same, else OSError("Multiple exceptions: a, b").
[[noreturn]] void raise_connect_errors(const std::vector<std::exception_ptr>& errors);
// asyncio: create_unix_connection's socket part.
Coro<socket> connect_unix(EventLoop& loop, std::string path);
// asyncio: _create_connection_transport. Makes the transport and waits for
// connection_made; a cancel or error meanwhile closes the transport (and the socket).
Coro<std::shared_ptr<Transport>> connection_transport(EventLoop& loop, socket sock,
                                                      std::shared_ptr<Protocol> protocol);
// asyncio: _create_connection_transport's end: wait for connection_made (the waiter is
// set after it); a cancel or error meanwhile closes the transport, and its socket (or
// pipe: unix_events.cpp uses it too).
template <class T>
Coro<std::shared_ptr<T>> when_made(Future<void> waiter, std::shared_ptr<T> transport) {
    try {
        co_await waiter;
    } catch (...) {
        transport->close();
        throw;
    }
    co_return transport;
}
// Checks the socket passed as sock= (asyncio's ValueErrors), and makes it non-blocking.
void check_stream_socket(socket& sock, int family);

// asyncio: create_datagram_endpoint's socket part: bound to local_addr and/or connected
// to remote_addr (the second of the pair, the peer's resolved address, if connected).
Coro<std::pair<socket, std::optional<Address>>> open_datagram_socket(
    EventLoop& loop, std::optional<Address> local_addr, std::optional<Address> remote_addr,
    int family, int proto, int flags);
void check_datagram_socket(socket& sock);
Coro<std::shared_ptr<DatagramTransport>> datagram_transport(
    EventLoop& loop, socket sock, std::shared_ptr<DatagramProtocol> protocol,
    std::optional<Address> remote);

}  // namespace detail

namespace detail {

template <class Factory>
using Connection =
    Coro<std::pair<std::shared_ptr<Transport>, std::shared_ptr<protocol_of<Factory>>>>;
template <class Factory>
using Endpoint =
    Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<protocol_of<Factory>>>>;

// The transport for `protocol`, returned with the protocol in its own type. The
// methods below call the factory only once the socket is ready, as asyncio does.
template <class P>
Coro<std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>> with_protocol(
    EventLoop& loop, socket sock, std::shared_ptr<P> protocol) {
    auto transport = co_await connection_transport(loop, std::move(sock), protocol);
    co_return std::pair{std::move(transport), std::move(protocol)};
}
template <class P>
Coro<std::pair<std::shared_ptr<DatagramTransport>, std::shared_ptr<P>>> with_datagram_protocol(
    EventLoop& loop, socket sock, std::shared_ptr<P> protocol, std::optional<Address> remote) {
    auto transport = co_await datagram_transport(loop, std::move(sock), protocol, remote);
    co_return std::pair{std::move(transport), std::move(protocol)};
}

}  // namespace detail

// asyncio: await loop.create_connection(protocol_factory, host, port, *, family=0,
// proto=0, flags=0, local_addr=None) -> (transport, protocol).
template <class Factory>
detail::Connection<Factory> aio_create_connection(
    EventLoop& loop, Factory protocol_factory, std::string host, int port, int family = 0,
    int proto = 0, int flags = 0, std::optional<Address> local_addr = std::nullopt) {
    socket sock = co_await detail::connect_tcp(loop, std::move(host), port, family, proto, flags,
                                               std::move(local_addr));
    co_return co_await detail::with_protocol(loop, std::move(sock), protocol_factory());
}

// asyncio: await loop.create_connection(protocol_factory, sock=sock): a socket already
// connected (ValueError "A Stream Socket was expected, got <socket ...>" otherwise).
template <class Factory>
detail::Connection<Factory> aio_create_connection(EventLoop& loop, Factory protocol_factory,
                                                  socket sock) {
    detail::check_stream_socket(sock, AF_UNSPEC);
    co_return co_await detail::with_protocol(loop, std::move(sock), protocol_factory());
}

// asyncio: await loop.create_unix_connection(protocol_factory, path).
template <class Factory>
detail::Connection<Factory> aio_create_unix_connection(EventLoop& loop, Factory protocol_factory,
                                                       std::string path) {
    socket sock = co_await detail::connect_unix(loop, std::move(path));
    co_return co_await detail::with_protocol(loop, std::move(sock), protocol_factory());
}

// asyncio: await loop.create_unix_connection(protocol_factory, sock=sock): a connected
// AF_UNIX stream socket ("A UNIX Domain Stream Socket was expected, got ...").
template <class Factory>
detail::Connection<Factory> aio_create_unix_connection(EventLoop& loop, Factory protocol_factory,
                                                       socket sock) {
    detail::check_stream_socket(sock, AF_UNIX);
    co_return co_await detail::with_protocol(loop, std::move(sock), protocol_factory());
}

// asyncio: await loop.connect_accepted_socket(protocol_factory, sock): wraps a
// connection accepted outside the loop (or one end of a socketpair).
template <class Factory>
detail::Connection<Factory> aio_connect_accepted_socket(EventLoop& loop, Factory protocol_factory,
                                                        socket sock) {
    detail::check_stream_socket(sock, AF_UNSPEC);
    co_return co_await detail::with_protocol(loop, std::move(sock), protocol_factory());
}

// asyncio: await loop.create_datagram_endpoint(protocol_factory, local_addr=None,
// remote_addr=None, *, family=0, proto=0, flags=0) -> (transport, protocol). With
// remote_addr the socket is connected and the transport in connected mode.
template <class Factory>
detail::Endpoint<Factory> aio_create_datagram_endpoint(
    EventLoop& loop, Factory protocol_factory, std::optional<Address> local_addr,
    std::optional<Address> remote_addr = std::nullopt, int family = 0, int proto = 0,
    int flags = 0) {
    auto [sock, remote] = co_await detail::open_datagram_socket(
        loop, std::move(local_addr), std::move(remote_addr), family, proto, flags);
    co_return co_await detail::with_datagram_protocol(loop, std::move(sock), protocol_factory(),
                                                      remote);
}

// asyncio: create_datagram_endpoint(protocol_factory, sock=sock).
template <class Factory>
detail::Endpoint<Factory> aio_create_datagram_endpoint(EventLoop& loop, Factory protocol_factory,
                                                       socket sock) {
    detail::check_datagram_socket(sock);
    co_return co_await detail::with_datagram_protocol(loop, std::move(sock), protocol_factory(),
                                                      std::nullopt);
}

}  // namespace aio
