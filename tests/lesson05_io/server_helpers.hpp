// server_helpers.hpp - what the server tests share: the tutorials' echo protocol and
// clients made of the loop's sock_* calls (so that the server is tested against code
// that is not a transport).
#pragma once

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/servers.hpp"
#include "lesson05_io/sock_ops.hpp"

namespace test {

using aio::bytes;

// The tutorials' echo server as a protocol (asyncio docs: EchoServerProtocol).
struct Echo : aio::Protocol {
    std::shared_ptr<aio::Transport> transport;
    void connection_made(std::shared_ptr<aio::Transport> t) override { transport = std::move(t); }
    void data_received(bytes data) override { transport->write(std::move(data)); }
    void connection_lost(std::exception_ptr) override { transport.reset(); }
};

inline std::shared_ptr<aio::Protocol> make_echo() { return std::make_shared<Echo>(); }

// A connected, non-blocking client socket.
inline aio::Coro<aio::socket> connect_to(aio::EventLoop* loop, aio::Address address) {
    aio::socket sock(address.family, SOCK_STREAM);
    sock.setblocking(false);
    co_await loop->sock_connect(sock, address);
    co_return sock;
}

// Sends `message` on `sock` and reads back as many bytes (fewer at EOF).
inline aio::Coro<bytes> round_trip(aio::EventLoop* loop, aio::socket* sock, bytes message) {
    co_await loop->sock_sendall(*sock, message);
    bytes got;
    while (got.size() < message.size()) {
        bytes part = co_await loop->sock_recv(*sock, 65536);
        if (part.empty()) break;
        got += part;
    }
    co_return got;
}

// One echo over a fresh connection: true if every byte came back.
inline aio::Coro<bool> echo_client(aio::EventLoop* loop, aio::Address address, std::size_t size) {
    aio::socket sock = co_await connect_to(loop, address);
    bytes message(size);
    for (std::size_t i = 0; i < size; ++i) message.data()[i] = static_cast<char>('a' + i % 26);
    bytes got = co_await round_trip(loop, &sock, message);
    co_return got == message;
}

// Many clients at once, of different sizes; how many got their bytes back.
inline aio::Coro<int> many_clients(aio::EventLoop* loop, aio::Address address, int n) {
    std::vector<aio::Coro<bool>> clients;
    for (int i = 0; i < n; ++i)
        clients.push_back(echo_client(loop, address, 1 + static_cast<std::size_t>(i) * 997));
    std::vector<bool> ok = co_await aio::gather(std::move(clients));
    int good = 0;
    for (bool b : ok) good += b ? 1 : 0;
    co_return good;
}

// Reads until EOF; true if EOF came (a reset counts as the end too).
inline aio::Coro<bool> reads_eof(aio::EventLoop* loop, aio::socket* sock) {
    try {
        for (;;) {
            bytes part = co_await loop->sock_recv(*sock, 4096);
            if (part.empty()) co_return true;
        }
    } catch (const aio::ConnectionResetError&) {
        co_return true;
    }
}

// n clients connected to `address`, each having had one echo.
inline aio::Coro<std::vector<aio::socket>> connected_clients(aio::EventLoop* loop,
                                                             aio::Address address, int n) {
    std::vector<aio::socket> clients;
    for (int i = 0; i < n; ++i) {
        clients.push_back(co_await connect_to(loop, address));
        bytes echoed = co_await round_trip(loop, &clients.back(), bytes(std::string("x")));
        CHECK(echoed.view() == "x");
    }
    co_return clients;
}

// True if every one of `clients` reads EOF.
inline aio::Coro<bool> all_read_eof(aio::EventLoop* loop, std::vector<aio::socket>* clients) {
    bool all = true;
    for (aio::socket& c : *clients) all = co_await reads_eof(loop, &c) && all;
    co_return all;
}

inline aio::Address address_of(const std::shared_ptr<aio::Server>& server, std::size_t i = 0) {
    return server->sockets().at(i).getsockname();
}

inline std::string unix_path(const char* name) {
    return "/tmp/aio-test-servers-" + std::to_string(::getpid()) + "-" + name + ".sock";
}

inline bool have_ipv6() {
    try {
        aio::socket probe(AF_INET6, SOCK_STREAM);
        probe.bind({"::1", 0});
        return true;
    } catch (const aio::OSError&) {
        return false;
    }
}

}  // namespace test
