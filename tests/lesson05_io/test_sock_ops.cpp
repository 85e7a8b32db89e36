// test_sock_ops.cpp - the loop's socket coroutines over real loopback sockets: IPv4,
// IPv6, Unix, socketpairs and UDP; errors named as Python names them; and a cancel in
// the middle of a call neither eats nor repeats data.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <utility>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/sock_ops.hpp"

using aio::bytes;
using namespace aio::literals;

namespace {

// One echo round over a fresh connection to `server`: connect, accept, send, echo back.
aio::Coro<std::string> echo_once(aio::EventLoop* loop, aio::socket* server, bytes message) {
    aio::socket client(server->family(), SOCK_STREAM);
    client.setblocking(false);
    co_await loop->sock_connect(client, server->getsockname());
    auto [conn, peer] = co_await loop->sock_accept(*server);
    CHECK_FALSE(conn.getblocking());
    CHECK(peer == client.getsockname());
    co_await loop->sock_sendall(client, message);
    bytes got = co_await loop->sock_recv(conn, 1024);
    co_await loop->sock_sendall(conn, got);
    bytes back = co_await loop->sock_recv(client, 1024);
    co_return back.decode();
}

// Reads until the peer closes its end: sock_recv gives b'' at end of stream.
aio::Coro<bytes> read_to_eof(aio::EventLoop* loop, aio::socket* sock) {
    bytes all;
    for (;;) {
        bytes chunk = co_await loop->sock_recv(*sock, 65536);
        if (chunk.empty()) co_return all;
        all += chunk;
    }
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("sock_connect, sock_accept, sock_sendall and sock_recv echo over IPv4 and IPv6") {
        test::LoopFixture f;
        aio::socket four = test::listener(AF_INET, "127.0.0.1");
        CHECK(test::run(*f.loop, echo_once(f.loop.get(), &four, "hello"_b)) == "hello");
        aio::socket six = test::listener(AF_INET6, "::1");
        CHECK(test::run(*f.loop, echo_once(f.loop.get(), &six, "over ::1"_b)) == "over ::1");
    }

    TEST_CASE("the same calls work on Unix-domain sockets") {
        test::LoopFixture f;
        std::string path = "/tmp/aio-sock-ops-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path.c_str());
        aio::socket server(AF_UNIX, SOCK_STREAM);
        server.bind(path.c_str());
        server.listen();
        server.setblocking(false);
        CHECK(test::run(*f.loop, echo_once(f.loop.get(), &server, "unix"_b)) == "unix");
        ::unlink(path.c_str());
    }

    TEST_CASE("sock_recv gives b'' once the peer has shut its side, after every byte it sent") {
        test::LoopFixture f;
        auto [a, b] = aio::socketpair();
        a.setblocking(false);
        b.setblocking(false);
        // 300 KB is more than a socketpair buffers, so sendall waits for a reader that
        // runs beside it as a task.
        auto both = [](aio::EventLoop* loop, aio::socket* a, aio::socket* b) -> aio::Coro<bytes> {
            aio::Task<bytes> reader = aio::create_task(read_to_eof(loop, b));
            co_await loop->sock_sendall(*a, bytes(std::string(300000, 'x')));
            a->shutdown(SHUT_WR);
            co_return co_await reader;
        };
        CHECK(test::run(*f.loop, both(f.loop.get(), &a, &b)).size() == 300000);
    }

    TEST_CASE("sock_recv_into fills the caller's buffer and says how much") {
        test::LoopFixture f;
        auto [a, b] = aio::socketpair();
        a.setblocking(false);
        b.setblocking(false);
        auto main = [](aio::EventLoop* loop, aio::socket* a, aio::socket* b) -> aio::Coro<bytes> {
            aio::Task<void> later =
                aio::create_task([](aio::EventLoop* loop, aio::socket* a) -> aio::Coro<void> {
                    co_await aio::sleep(0);
                    co_await loop->sock_sendall(*a, "abc"_b);
                }(loop, a));
            bytes buf(std::size_t{8});
            std::size_t n = co_await loop->sock_recv_into(*b, buf);
            co_await later;
            co_return buf.slice(0, n);
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), &a, &b)) == "abc"_b);
    }

    TEST_CASE("a refused connect raises ConnectionRefusedError naming the address, as asyncio") {
        test::LoopFixture f;
        aio::Address nobody;
        {
            aio::socket probe;
            probe.bind({"127.0.0.1", 0});
            nobody = probe.getsockname();  // free once closed: nobody listens there
        }
        auto main = [](aio::EventLoop* loop, aio::Address to) -> aio::Coro<std::string> {
            aio::socket sock;
            sock.setblocking(false);
            co_return co_await test::thrown_by<aio::ConnectionRefusedError>(
                loop->sock_connect(sock, to));
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), nobody)) ==
              "ConnectionRefusedError(111, \"Connect call failed " + nobody.repr() + "\")");
    }

    TEST_CASE("a blocking socket is refused with ValueError, in and out of debug mode") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            auto [a, b] = aio::socketpair();
            co_return co_await test::thrown_by<aio::ValueError>(loop->sock_recv(a, 10));
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) ==
              "ValueError('the socket must be non-blocking')");
    }

    TEST_CASE("a peer's reset surfaces as ConnectionResetError at the next sock_recv") {
        test::LoopFixture f;
        aio::socket server = test::listener(AF_INET, "127.0.0.1");
        auto main = [](aio::EventLoop* loop, aio::socket* server) -> aio::Coro<std::string> {
            aio::socket client;
            client.setblocking(false);
            co_await loop->sock_connect(client, server->getsockname());
            auto [conn, peer] = co_await loop->sock_accept(*server);
            ::linger abort_on_close{1, 0};  // close() sends RST
            ::setsockopt(conn.fileno(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                         sizeof abort_on_close);
            conn.close();
            co_return co_await test::thrown_by<aio::ConnectionResetError>(
                loop->sock_recv(client, 10));
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), &server)) ==
              "ConnectionResetError(104, 'Connection reset by peer')");
    }

    TEST_CASE("sock_sendall to a closed peer raises BrokenPipeError, and no SIGPIPE kills us") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            auto [a, b] = aio::socketpair();
            a.setblocking(false);
            b.close();
            co_return co_await test::thrown_by<aio::BrokenPipeError>(loop->sock_sendall(a, "x"_b));
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) == "BrokenPipeError(32, 'Broken pipe')");
    }

    TEST_CASE("a sock_recv cancelled while waiting takes nothing: the next one gets every byte") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<bytes> {
            auto [a, b] = aio::socketpair();
            a.setblocking(false);
            b.setblocking(false);
            aio::Task<bytes> waiting = aio::create_task(loop->sock_recv(b, 100));
            co_await aio::sleep(0);  // it is parked on readiness now
            co_await loop->sock_sendall(a, "first"_b);
            waiting.cancel();  // readable already, its step not yet run
            try {
                co_await waiting;
            } catch (const aio::CancelledError&) {
            }
            CHECK(waiting.cancelled());
            co_await loop->sock_sendall(a, " second"_b);
            a.shutdown(SHUT_WR);
            co_return co_await read_to_eof(loop, &b);
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) == "first second"_b);
    }

    TEST_CASE("a sock_sendall cancelled mid-way has sent a prefix and nothing after the cancel") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [a, b] = aio::socketpair();
            a.setblocking(false);
            b.setblocking(false);
            std::string big(4 << 20, '\0');
            for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
            aio::Task<void> sending = aio::create_task(loop->sock_sendall(a, bytes(big)));
            co_await aio::sleep(0);  // fills the socket's buffer, then parks
            CHECK_FALSE(sending.done());
            sending.cancel();
            try {
                co_await sending;
            } catch (const aio::CancelledError&) {
            }
            aio::Task<bytes> reader = aio::create_task(read_to_eof(loop, &b));
            co_await loop->sock_sendall(a, "|tail"_b);
            a.shutdown(SHUT_WR);
            bytes got = co_await reader;
            REQUIRE(got.endswith("|tail"));
            std::size_t prefix = got.size() - 5;
            CHECK(prefix > 0);
            CHECK(prefix < big.size());
            CHECK(got.view().substr(0, prefix) == std::string_view(big).substr(0, prefix));
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("a sock_accept cancelled while waiting takes no connection: the next one gets it") {
        test::LoopFixture f;
        aio::socket server = test::listener(AF_INET, "127.0.0.1");
        auto main = [](aio::EventLoop* loop, aio::socket* server) -> aio::Coro<bool> {
            aio::Task<std::pair<aio::socket, aio::Address>> waiting =
                aio::create_task(loop->sock_accept(*server));
            co_await aio::sleep(0);  // parked on the listening fd
            waiting.cancel();
            try {
                co_await waiting;
            } catch (const aio::CancelledError&) {
            }
            aio::socket client;
            client.setblocking(false);
            co_await loop->sock_connect(client, server->getsockname());
            auto [conn, peer] = co_await loop->sock_accept(*server);
            co_return waiting.cancelled() && peer == client.getsockname();
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), &server)));
    }

    TEST_CASE("a sock_recvfrom cancelled while waiting takes no datagram") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            aio::socket server(AF_INET, SOCK_DGRAM);
            server.bind({"127.0.0.1", 0});
            server.setblocking(false);
            aio::Task<std::pair<bytes, aio::Address>> waiting =
                aio::create_task(loop->sock_recvfrom(server, 100));
            co_await aio::sleep(0);
            aio::socket client(AF_INET, SOCK_DGRAM);
            client.setblocking(false);
            co_await loop->sock_sendto(client, "kept"_b, server.getsockname());
            waiting.cancel();  // readable already, its step not yet run
            try {
                co_await waiting;
            } catch (const aio::CancelledError&) {
            }
            auto [data, from] = co_await loop->sock_recvfrom(server, 100);
            co_return aio::repr(data);
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) == "b'kept'");
    }

    TEST_CASE("sock_sendto and sock_recvfrom carry UDP datagrams with their sender") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            aio::socket server(AF_INET, SOCK_DGRAM);
            server.bind({"127.0.0.1", 0});
            server.setblocking(false);
            aio::socket client(AF_INET, SOCK_DGRAM);
            client.bind({"127.0.0.1", 0});
            client.setblocking(false);
            std::size_t sent = co_await loop->sock_sendto(client, "ping"_b, server.getsockname());
            CHECK(sent == 4);
            auto [data, from] = co_await loop->sock_recvfrom(server, 100);
            CHECK(from == client.getsockname());
            co_return aio::repr(data);
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) == "b'ping'");
    }
}
