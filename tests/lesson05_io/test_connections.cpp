// test_connections.cpp - the loop's client-side connection methods (base_events.hpp):
// create_connection over IPv4, IPv6 and a host name, with sock= and local_addr=;
// refused connects and asyncio's "Multiple exceptions"; a cancel at every step leaks
// nothing; create_unix_connection; connect_accepted_socket over a socketpair;
// create_datagram_endpoint with UDP echo, error_received and connected mode.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/base_events.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/sock_ops.hpp"
#include "recorder.hpp"

using aio::bytes;
using namespace aio::literals;
using Trace = std::vector<std::string>;

namespace {

// An address nobody listens on (a port just freed).
aio::Address free_port() {
    aio::socket probe;
    probe.bind({"127.0.0.1", 0});
    return probe.getsockname();
}

// Connects with create_connection(host, port), accepts on `server`, and checks one
// round trip each way; gives what the client's protocol received.
aio::Coro<bytes> round_trip(aio::EventLoop* loop, aio::socket* server, std::string host) {
    auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
    auto [transport, protocol] =
        co_await loop->create_connection(factory, host, server->getsockname().port);
    auto [conn, peer] = co_await loop->sock_accept(*server);
    CHECK(protocol->trace == Trace{"connection_made"});
    CHECK(transport->get_extra_info<aio::Address>("sockname") == peer);
    transport->write("hello"_b);
    bytes got = co_await loop->sock_recv(conn, 100);
    CHECK(got == "hello"_b);
    co_await loop->sock_sendall(conn, "world"_b);
    co_await test::until([p = protocol.get()] { return p->received.size() == 5; });
    transport->close();
    co_await protocol->lost;
    co_return protocol->received;
}

// A datagram protocol that writes down what arrives, and echoes it when asked to.
struct Datagrams : aio::DatagramProtocol {
    explicit Datagrams(aio::EventLoop& loop, bool echo = false) : lost(loop), echo(echo) {}
    void connection_made(std::shared_ptr<aio::DatagramTransport> t) override {
        transport = std::move(t);
    }
    void datagram_received(bytes data, aio::Address addr) override {
        received.push_back(data.decode() + " from " + addr.repr());
        if (echo) transport->sendto(data, addr);
    }
    void error_received(std::exception_ptr exc) override {
        errors.push_back(aio::describe_exception(exc));
    }
    void connection_lost(std::exception_ptr) override { lost.set_result(); }
    std::shared_ptr<aio::DatagramTransport> transport;
    std::vector<std::string> received;
    std::vector<std::string> errors;
    aio::Future<void> lost;
    bool echo;
};

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE(
        "create_connection connects over IPv4, IPv6 and a host name, and returns (transport, "
        "protocol)") {
        test::LoopFixture f;
        aio::socket four = test::listener(AF_INET, "127.0.0.1");
        CHECK(test::run(*f.loop, round_trip(f.loop.get(), &four, "127.0.0.1")) == "world"_b);
        aio::socket six = test::listener(AF_INET6, "::1");
        CHECK(test::run(*f.loop, round_trip(f.loop.get(), &six, "::1")) == "world"_b);
        CHECK(test::run(*f.loop, round_trip(f.loop.get(), &four, "localhost")) == "world"_b);
    }

    TEST_CASE("create_connection refused names the address, as asyncio's message does") {
        test::LoopFixture f;
        aio::Address nobody = free_port();
        auto main = [](aio::EventLoop* loop, aio::Address to) -> aio::Coro<std::string> {
            auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
            co_return co_await test::thrown_by<aio::ConnectionRefusedError>(
                loop->create_connection(factory, to.host, to.port));
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), nobody)) ==
              "ConnectionRefusedError(111, \"Connect call failed " + nobody.repr() + "\")");
    }

    TEST_CASE(
        "create_connection: errors that differ become OSError('Multiple exceptions: ...'), equal "
        "ones stay one") {
        auto refused = [](const char* where) {
            return aio::make_os_error(ECONNREFUSED, std::string("Connect call failed ") + where);
        };
        std::string what;
        try {
            aio::detail::raise_connect_errors(
                {refused("('::1', 1, 0, 0)"), refused("('127.0.0.1', 1)")});
        } catch (const aio::OSError& e) {
            what = aio::repr(e);
        }
        CHECK(what ==
              "OSError(\"Multiple exceptions: [Errno 111] Connect call failed ('::1', 1, 0, 0), "
              "[Errno 111] Connect call failed ('127.0.0.1', 1)\")");
        try {
            aio::detail::raise_connect_errors({refused("x"), refused("x")});
        } catch (const aio::ConnectionRefusedError& e) {
            what = aio::repr(e);
        }
        CHECK(what == "ConnectionRefusedError(111, 'Connect call failed x')");
    }

    TEST_CASE("create_connection cancelled at any step closes its socket") {
        test::LoopFixture f;
        aio::socket server = test::listener(AF_INET, "127.0.0.1");
        auto main = [](aio::EventLoop* loop, aio::Address to, int steps) -> aio::Coro<void> {
            auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
            aio::Task<void> connecting =
                aio::create_task([](aio::EventLoop* loop, decltype(factory) factory,
                                    aio::Address to) -> aio::Coro<void> {
                    auto [transport, protocol] =
                        co_await loop->create_connection(factory, to.host, to.port);
                    transport->close();
                    co_await protocol->lost;
                }(loop, factory, to));
            for (int i = 0; i < steps; ++i) co_await aio::sleep(0);
            connecting.cancel();
            try {
                co_await connecting;
            } catch (const aio::CancelledError&) {
            }
            for (int i = 0; i < 3; ++i) co_await aio::sleep(0);  // let connection_lost run
        };
        for (int steps = 0; steps < 8; ++steps)
            test::run(*f.loop, main(f.loop.get(), server.getsockname(), steps));
    }

    TEST_CASE("create_connection binds local_addr first, and takes a connected socket as sock=") {
        test::LoopFixture f;
        aio::socket server = test::listener(AF_INET, "127.0.0.1");
        auto main = [](aio::EventLoop* loop, aio::socket* server) -> aio::Coro<void> {
            auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
            aio::Address to = server->getsockname();
            auto [t1, p1] = co_await loop->create_connection(factory, to.host, to.port, 0, 0, 0,
                                                             aio::Address{"127.0.0.1", 0});
            CHECK(t1->get_extra_info<aio::Address>("sockname")->host == "127.0.0.1");
            aio::socket sock(AF_INET, SOCK_STREAM);
            sock.setblocking(false);
            co_await loop->sock_connect(sock, to);
            auto [t2, p2] = co_await loop->create_connection(factory, std::move(sock));
            CHECK(t2->get_extra_info<aio::Address>("peername") == to);
            t1->close();
            t2->close();
            co_await p1->lost;
            co_await p2->lost;
            aio::socket udp(AF_INET, SOCK_DGRAM);
            std::string error = co_await test::thrown_by<aio::ValueError>(
                loop->create_connection(factory, std::move(udp)));
            CHECK(error.rfind("ValueError(\"A Stream Socket was expected, got <socket.socket", 0) ==
                  0);
        };
        test::run(*f.loop, main(f.loop.get(), &server));
    }

    TEST_CASE(
        "create_unix_connection connects to a Unix socket path; a missing path is "
        "FileNotFoundError") {
        test::LoopFixture f;
        std::string path = "/tmp/aio-connections-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path.c_str());
        aio::socket server(AF_UNIX, SOCK_STREAM);
        server.bind(path.c_str());
        server.listen();
        server.setblocking(false);
        auto main = [](aio::EventLoop* loop, aio::socket* server,
                       std::string path) -> aio::Coro<void> {
            auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
            auto [transport, protocol] = co_await loop->create_unix_connection(factory, path);
            auto [conn, peer] = co_await loop->sock_accept(*server);
            co_await loop->sock_sendall(conn, "over unix"_b);
            co_await test::until([p = protocol.get()] { return p->received.size() == 9; });
            transport->close();
            co_await protocol->lost;
            std::string missing = co_await test::thrown_by<aio::FileNotFoundError>(
                loop->create_unix_connection(factory, path + ".missing"));
            CHECK(missing.rfind("FileNotFoundError(2, ", 0) == 0);
        };
        test::run(*f.loop, main(f.loop.get(), &server, path));
        ::unlink(path.c_str());
    }

    TEST_CASE("connect_accepted_socket wraps one end of a socketpair") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto factory = [loop] { return std::make_shared<test::Recorder>(*loop); };
            auto [mine, peer] = aio::socketpair();
            peer.setblocking(false);
            auto [transport, protocol] =
                co_await loop->connect_accepted_socket(factory, std::move(mine));
            CHECK(protocol->trace == Trace{"connection_made"});
            transport->write("from the transport"_b);
            bytes got = co_await loop->sock_recv(peer, 100);
            CHECK(got == "from the transport"_b);
            peer.close();
            co_await protocol->lost;
            CHECK(protocol->trace.back() == "connection_lost(None)");
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "create_datagram_endpoint: a UDP echo, connected mode, and error_received for a closed "
        "port") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto echo = [loop] { return std::make_shared<Datagrams>(*loop, true); };
            auto plain = [loop] { return std::make_shared<Datagrams>(*loop); };
            auto [server, server_proto] =
                co_await loop->create_datagram_endpoint(echo, aio::Address{"127.0.0.1", 0});
            auto at = server->get_extra_info<aio::Address>("sockname");
            REQUIRE(at);
            auto [client, client_proto] =
                co_await loop->create_datagram_endpoint(plain, std::nullopt, *at);
            client->sendto("hello"_b);
            client->sendto("world"_b, *at);
            co_await test::until([p = client_proto.get()] { return p->received.size() == 2; });
            CHECK(client_proto->received ==
                  Trace{"hello from " + at->repr(), "world from " + at->repr()});
            std::string wrong;
            try {
                client->sendto("x"_b, aio::Address{"127.0.0.1", 1});
            } catch (const aio::ValueError& e) {
                wrong = e.what();
            }
            CHECK(wrong == "Invalid address: must be None or " + at->repr());
            // Nobody at the far end: the kernel's ICMP reply comes back as an error.
            auto [lonely, lonely_proto] =
                co_await loop->create_datagram_endpoint(plain, std::nullopt, free_port());
            lonely->sendto("anyone?"_b);
            co_await test::until([p = lonely_proto.get()] { return !p->errors.empty(); });
            CHECK(lonely_proto->errors.front() ==
                  "ConnectionRefusedError: [Errno 111] Connection refused");
            CHECK_FALSE(lonely->is_closing());
            server->close();
            client->close();
            lonely->close();
            co_await server_proto->lost;
            co_await client_proto->lost;
            co_await lonely_proto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "create_datagram_endpoint: sock= takes a UDP socket only; no address needs a family") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto plain = [loop] { return std::make_shared<Datagrams>(*loop); };
            aio::socket udp(AF_INET, SOCK_DGRAM);
            udp.bind({"127.0.0.1", 0});
            auto [transport, protocol] =
                co_await loop->create_datagram_endpoint(plain, std::move(udp));
            transport->abort();
            co_await protocol->lost;
            aio::socket tcp(AF_INET, SOCK_STREAM);
            std::string error = co_await test::thrown_by<aio::ValueError>(
                loop->create_datagram_endpoint(plain, std::move(tcp)));
            CHECK(error.rfind("ValueError(\"A UDP Socket was expected, got <socket.socket", 0) ==
                  0);
            error = co_await test::thrown_by<aio::ValueError>(
                loop->create_datagram_endpoint(plain, std::nullopt));
            CHECK(error == "ValueError('unexpected address family')");
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "create_datagram_endpoint: Unix datagram sockets, bound to a path and connected to it") {
        test::LoopFixture f;
        std::string path = "/tmp/aio-datagrams-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path.c_str());
        auto main = [](aio::EventLoop* loop, std::string path) -> aio::Coro<std::string> {
            auto plain = [loop] { return std::make_shared<Datagrams>(*loop); };
            auto [server, server_proto] = co_await loop->create_datagram_endpoint(
                plain, aio::Address::unix_path(path), std::nullopt, AF_UNIX);
            auto [client, client_proto] = co_await loop->create_datagram_endpoint(
                plain, std::nullopt, aio::Address::unix_path(path), AF_UNIX);
            client->sendto("over a path"_b);
            co_await test::until([p = server_proto.get()] { return !p->received.empty(); });
            server->close();
            client->close();
            co_await server_proto->lost;
            co_await client_proto->lost;
            co_return server_proto->received.front();
        };
        // The client is unbound: no address (Python's None), the empty path here.
        CHECK(test::run(*f.loop, main(f.loop.get(), path)) == "over a path from ''");
        ::unlink(path.c_str());
    }

    TEST_CASE(
        "create_connection takes a factory that captures (named first: GCC 12 destroys a capturing "
        "lambda built inside a co_await twice)") {
        test::LoopFixture f;
        aio::socket server = test::listener(AF_INET, "127.0.0.1");
        auto main = [](aio::EventLoop* loop, aio::socket* server) -> aio::Coro<int> {
            auto made = std::make_shared<int>(0);
            auto factory = [loop, made] {
                ++*made;
                return std::make_shared<test::Recorder>(*loop);
            };
            aio::Address to = server->getsockname();
            for (int i = 0; i < 3; ++i) {
                auto [transport, protocol] =
                    co_await loop->create_connection(factory, to.host, to.port);
                transport->abort();
                co_await protocol->lost;
            }
            co_return *made;
        };
        CHECK(test::run(*f.loop, main(f.loop.get(), &server)) == 3);
    }
}
