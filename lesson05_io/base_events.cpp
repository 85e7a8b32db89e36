// base_events.cpp - the socket work under the connection methods (asyncio:
// base_events.create_connection, _connect_sock, _create_connection_transport,
// create_datagram_endpoint; unix_events.create_unix_connection).
#include "lesson05_io/base_events.hpp"

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <typeinfo>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/resolver.hpp"
#include "lesson05_io/selector_events.hpp"
#include "lesson05_io/sock_ops.hpp"

namespace aio {

namespace detail {

namespace {

// Python's OSError(message): no errno, str() is the message. asyncio raises one for
// "Multiple exceptions: ..." and "getaddrinfo() returned empty list".
class PlainOSError : public OSError {
public:
    explicit PlainOSError(std::string message) : OSError("", 0), message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }
    Name python_name() const noexcept override { return {"OSError", typeid(PlainOSError)}; }

private:
    std::string message_;
};

std::string str(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

// asyncio: create_connection's local_addr: bind before connecting, with its message
// ("error while attempting to bind on address ('127.0.0.1', 1): address already in
// use"; Python lowercases strerror).
void bind_local(socket& sock, const Address& local) {
    try {
        sock.bind(local);
    } catch (const OSError& e) {
        std::string text = std::strerror(e.error_code());
        for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        throw_os_error(e.error_code(),
                       "error while attempting to bind on address " + local.repr() + ": " + text);
    }
}

// asyncio: _connect_sock. One attempt: on failure the socket closes (RAII) and the
// error is recorded for the summary.
Coro<std::optional<socket>> try_connect(EventLoop& loop, AddrInfo info,
                                        std::optional<Address> local,
                                        std::vector<std::exception_ptr>* errors) {
    try {
        socket sock(info.family, info.type, info.proto);
        sock.setblocking(false);
        if (local) bind_local(sock, *local);
        co_await aio_sock_connect(loop, sock, info.address);
        co_return std::optional<socket>(std::move(sock));
    } catch (const OSError&) {
        errors->push_back(std::current_exception());
    }
    co_return std::nullopt;
}

}  // namespace

// asyncio: the end of create_connection: one error as it is when every address failed
// the same way, else "Multiple exceptions: a, b".
void raise_connect_errors(const std::vector<std::exception_ptr>& errors) {
    const std::string model = str(errors.front());
    std::string joined;
    bool same = true;
    for (const std::exception_ptr& e : errors) {
        std::string text = str(e);
        same = same && text == model;
        joined += (joined.empty() ? "" : ", ") + text;
    }
    if (same) std::rethrow_exception(errors.front());
    throw PlainOSError("Multiple exceptions: " + joined);
}

Coro<socket> connect_tcp(EventLoop& loop, std::string host, int port, int family, int proto,
                         int flags, std::optional<Address> local_addr) {
    std::vector<AddrInfo> infos =
        co_await aio_getaddrinfo(loop, host, port, family, SOCK_STREAM, proto, flags);
    if (infos.empty()) throw PlainOSError("getaddrinfo() returned empty list");
    std::vector<std::exception_ptr> errors;
    for (AddrInfo& info : infos) {
        std::optional<Address> local;
        if (local_addr) {
            if (is_resolved(*local_addr) && family_of(*local_addr) != info.family) continue;
            local = local_addr;
        }
        std::optional<socket> sock = co_await try_connect(loop, info, local, &errors);
        if (sock) co_return std::move(*sock);
    }
    if (errors.empty())
        throw PlainOSError("no matching local address with family=" + std::to_string(family) +
                           " found");
    raise_connect_errors(errors);
}

Coro<socket> connect_unix(EventLoop& loop, std::string path) {
    socket sock(AF_UNIX, SOCK_STREAM);
    sock.setblocking(false);
    co_await aio_sock_connect(loop, sock, Address::unix_path(path));
    co_return sock;
}

void check_stream_socket(socket& sock, int family) {
    if (sock.type() != SOCK_STREAM || (family != AF_UNSPEC && sock.family() != family))
        throw ValueError(
            std::string(family == AF_UNIX ? "A UNIX Domain Stream Socket" : "A Stream Socket") +
            " was expected, got " + sock.repr());
    sock.setblocking(false);
}

Coro<std::shared_ptr<Transport>> connection_transport(EventLoop& loop, socket sock,
                                                      std::shared_ptr<Protocol> protocol) {
    Future<void> waiter(loop);
    return when_made(waiter,
                     make_socket_transport(loop, std::move(sock), std::move(protocol), waiter));
}

void check_datagram_socket(socket& sock) {
    if (sock.type() != SOCK_DGRAM)
        throw ValueError("A UDP Socket was expected, got " + sock.repr());
    sock.setblocking(false);
}

Coro<std::shared_ptr<DatagramTransport>> datagram_transport(
    EventLoop& loop, socket sock, std::shared_ptr<DatagramProtocol> protocol,
    std::optional<Address> remote) {
    Future<void> waiter(loop);
    return when_made(waiter, make_datagram_transport(loop, std::move(sock), std::move(protocol),
                                                     std::move(remote), waiter));
}

namespace {

// One way to make the endpoint: a family and protocol, with the addresses to bind and
// connect to (asyncio: an entry of create_datagram_endpoint's addr_pairs_info).
struct Candidate {
    int family = 0;
    int proto = 0;
    std::optional<Address> local;
    std::optional<Address> remote;
};

Coro<std::vector<AddrInfo>> resolve_datagram(EventLoop& loop, Address address, int family,
                                             int proto, int flags) {
    std::vector<AddrInfo> infos = co_await aio_getaddrinfo(loop, address.host, address.port, family,
                                                           SOCK_DGRAM, proto, flags);
    if (infos.empty()) throw PlainOSError("getaddrinfo() returned empty list");
    co_return infos;
}

// asyncio: per (family, proto), the first local and the first remote address that
// getaddrinfo gives; a pair missing a side that was asked for is dropped.
void add_candidates(std::vector<Candidate>& out, const std::vector<AddrInfo>& infos, bool local) {
    for (const AddrInfo& info : infos) {
        Candidate* c = nullptr;
        for (Candidate& known : out)
            if (known.family == info.family && known.proto == info.proto) c = &known;
        if (!c) c = &out.emplace_back(Candidate{info.family, info.proto, {}, {}});
        std::optional<Address>& slot = local ? c->local : c->remote;
        if (!slot) slot = info.address;
    }
}

Coro<std::vector<Candidate>> datagram_candidates(EventLoop& loop, std::optional<Address> local,
                                                 std::optional<Address> remote, int family,
                                                 int proto, int flags) {
    std::vector<Candidate> out;
    if (local)
        add_candidates(out, co_await resolve_datagram(loop, *local, family, proto, flags), true);
    if (remote)
        add_candidates(out, co_await resolve_datagram(loop, *remote, family, proto, flags), false);
    std::erase_if(out,
                  [&](const Candidate& c) { return (local && !c.local) || (remote && !c.remote); });
    if (out.empty()) throw ValueError("can not get address information");
    co_return out;
}

bool is_unix(const std::optional<Address>& address) {
    return address && address->family == AF_UNIX;
}

}  // namespace

// asyncio: create_datagram_endpoint, the part before the transport: try each candidate
// in order; all failing raises the first error.
Coro<std::pair<socket, std::optional<Address>>> open_datagram_socket(
    EventLoop& loop, std::optional<Address> local_addr, std::optional<Address> remote_addr,
    int family, int proto, int flags) {
    std::vector<Candidate> candidates;
    if (!local_addr && !remote_addr) {
        if (family == 0) throw ValueError("unexpected address family");
        candidates.push_back(Candidate{family, proto, {}, {}});
    } else if (family == AF_UNIX || is_unix(local_addr) || is_unix(remote_addr)) {
        candidates.push_back(Candidate{AF_UNIX, proto, local_addr, remote_addr});
    } else {
        candidates =
            co_await datagram_candidates(loop, local_addr, remote_addr, family, proto, flags);
    }
    std::exception_ptr first_error;
    for (Candidate& c : candidates) {
        try {
            socket sock(c.family, SOCK_DGRAM, c.proto);
            sock.setblocking(false);
            if (c.local) sock.bind(*c.local);
            if (c.remote) co_await aio_sock_connect(loop, sock, *c.remote);
            co_return std::pair{std::move(sock), c.remote};
        } catch (const OSError&) {
            if (!first_error) first_error = std::current_exception();
        }
    }
    std::rethrow_exception(first_error);
}

}  // namespace detail

}  // namespace aio
