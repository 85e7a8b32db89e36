// create_server.cpp - the listening sockets of loop.create_server and create_unix_server
// (asyncio: base_events.BaseEventLoop.create_server, unix_events.create_unix_server).
//
// Every socket made here is closed again if a later step fails: the sockets live in a
// vector of aio::socket until the Server takes them, so an exception (a bind error, a
// cancelled getaddrinfo) closes each one on its way out.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/resolver.hpp"
#include "lesson05_io/servers.hpp"

namespace aio {

namespace {

// asyncio: `infos = set(itertools.chain.from_iterable(infos))`: one socket per distinct
// address (getaddrinfo may list one twice), in the order given.
std::vector<AddrInfo> distinct(std::vector<AddrInfo> infos) {
    std::vector<AddrInfo> out;
    for (AddrInfo& info : infos) {
        auto same = [&info](const AddrInfo& seen) {
            return seen.family == info.family && seen.address == info.address;
        };
        if (std::none_of(out.begin(), out.end(), same)) out.push_back(std::move(info));
    }
    return out;
}

// asyncio's bind error: "error while attempting to bind on address ('127.0.0.1', 8888):
// address already in use" (strerror, lowered), of the class the errno picks.
[[noreturn]] void throw_bind_error(int err, const Address& address) {
    std::string reason = std::strerror(err);
    for (char& c : reason) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    throw_os_error(err,
                   "error while attempting to bind on address " + address.repr() + ": " + reason);
}

// One listening socket, bound, non-blocking (listen() comes with start_serving).
// nullopt if the system has no such family (asyncio skips it: "Assume it's a bad
// family/type/protocol combination").
std::optional<socket> bind_one(const AddrInfo& info, bool reuse_address) {
    std::optional<socket> sock;
    try {
        sock.emplace(info.family, info.type, info.proto);
    } catch (const OSError&) {
        return std::nullopt;
    }
    if (reuse_address) sock->setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    // asyncio: "Disable IPv4/IPv6 dual stack support (enabled by default on Linux)
    // which makes a single socket listen on both address families."
    if (info.family == AF_INET6) sock->setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1);
    try {
        sock->bind(info.address);
    } catch (const OSError& e) {
        throw_bind_error(e.error_code(), info.address);
    }
    sock->setblocking(false);
    return sock;
}

// Makes the server and, unless asked not to, starts it (asyncio: the end of
// create_server, with its "Skip one loop iteration" sleep(0)).
Coro<std::shared_ptr<Server>> serve(EventLoop& loop, std::vector<socket> sockets,
                                    Server::Factory factory, int backlog, bool start_serving,
                                    std::string unix_path) {
    std::shared_ptr<Server> server =
        Server::make(loop, std::move(sockets), std::move(factory), backlog, std::move(unix_path));
    if (start_serving) {
        try {
            co_await server->start_serving();
        } catch (...) {
            // Cancelled in the sleep(0): nobody will get this server, so it must not go
            // on serving (asyncio leaves it listening, kept alive by the loop).
            server->close();
            throw;
        }
    }
    co_return server;
}

// A Unix socket file left by a server that is gone is removed, so that bind succeeds
// (asyncio does this for any socket file). A file someone still accepts on is left: a
// connect that is not refused means a live server (this probe is a connection it sees
// open and close), and bind then reports the address in use.
void remove_stale_socket(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return;
    socket probe(AF_UNIX, SOCK_STREAM);
    probe.setblocking(false);
    detail::SockAddr address = detail::to_sockaddr(Address::unix_path(path));
    if (::connect(probe.fileno(), address.get(), address.length) == 0) return;
    if (errno != ECONNREFUSED) return;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        log(LogLevel::error,
            "Unable to check or remove stale UNIX socket '" + path + "': " + std::strerror(errno));
}

socket bind_unix(const std::string& path) {
    socket sock(AF_UNIX, SOCK_STREAM);
    if (!path.empty() && path[0] != '\0') remove_stale_socket(path);  // not abstract
    try {
        sock.bind(Address::unix_path(path));
    } catch (const OSError& e) {
        if (e.error_code() != EADDRINUSE) throw;
        // asyncio: "Let's improve the error message by adding with what exact address
        // it occurs."
        throw_os_error(EADDRINUSE, "Address '" + path + "' is already in use");
    }
    sock.setblocking(false);
    return sock;
}

}  // namespace

Coro<std::shared_ptr<Server>> aio_create_server(EventLoop& loop, Server::Factory factory,
                                                std::string host, int port, int backlog,
                                                bool reuse_address, bool start_serving) {
    std::vector<AddrInfo> infos =
        co_await loop.getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM, 0, AI_PASSIVE);
    std::vector<socket> sockets;
    for (const AddrInfo& info : distinct(std::move(infos)))
        if (std::optional<socket> sock = bind_one(info, reuse_address))
            sockets.push_back(std::move(*sock));
    std::string no_path;  // named: no temporaries inside co_await (GCC 12, lesson 2)
    co_return co_await serve(loop, std::move(sockets), std::move(factory), backlog, start_serving,
                             std::move(no_path));
}

Coro<std::shared_ptr<Server>> aio_create_server(EventLoop& loop, Server::Factory factory,
                                                socket sock, int backlog, bool start_serving) {
    if (sock.type() != SOCK_STREAM)
        throw ValueError("A Stream Socket was expected, got " + sock.repr());
    sock.setblocking(false);
    std::vector<socket> sockets;
    sockets.push_back(std::move(sock));
    std::string no_path;  // named: no temporaries inside co_await (GCC 12, lesson 2)
    co_return co_await serve(loop, std::move(sockets), std::move(factory), backlog, start_serving,
                             std::move(no_path));
}

Coro<std::shared_ptr<Server>> aio_create_unix_server(EventLoop& loop, Server::Factory factory,
                                                     std::string path, int backlog,
                                                     bool start_serving) {
    std::vector<socket> sockets;
    sockets.push_back(bind_unix(path));
    co_return co_await serve(loop, std::move(sockets), std::move(factory), backlog, start_serving,
                             path);
}

}  // namespace aio
