// test_servers.cpp - loop.create_server / create_unix_server and the Server they return,
// over real sockets (IPv4, IPv6, Unix): serving many clients at once, starting and
// stopping, close() against the connections already accepted, wait_closed,
// close_clients / abort_clients, `async with server`, bind errors, a throwing
// factory, and running out of fds (EMFILE) while serving.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/servers.hpp"
#include "lesson05_io/sock_ops.hpp"

using aio::bytes;
using aio::Server;
using namespace aio::literals;

namespace {

// The tutorials' echo server as a protocol (asyncio docs: EchoServerProtocol).
struct Echo : aio::Protocol {
    std::shared_ptr<aio::Transport> transport;
    void connection_made(std::shared_ptr<aio::Transport> t) override { transport = std::move(t); }
    void data_received(bytes data) override { transport->write(std::move(data)); }
    void connection_lost(std::exception_ptr) override { transport.reset(); }
};

std::shared_ptr<aio::Protocol> make_echo() { return std::make_shared<Echo>(); }

// A connected, non-blocking client socket.
aio::Coro<aio::socket> connect_to(aio::EventLoop* loop, aio::Address address) {
    aio::socket sock(address.family, SOCK_STREAM);
    sock.setblocking(false);
    co_await loop->sock_connect(sock, address);
    co_return sock;
}

// Sends `message` on `sock` and reads back as many bytes (fewer at EOF).
aio::Coro<bytes> round_trip(aio::EventLoop* loop, aio::socket* sock, bytes message) {
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
aio::Coro<bool> echo_client(aio::EventLoop* loop, aio::Address address, std::size_t size) {
    aio::socket sock = co_await connect_to(loop, address);
    bytes message(size);
    for (std::size_t i = 0; i < size; ++i) message.data()[i] = static_cast<char>('a' + i % 26);
    bytes got = co_await round_trip(loop, &sock, message);
    co_return got == message;
}

// Many clients at once, of different sizes; how many got their bytes back.
aio::Coro<int> many_clients(aio::EventLoop* loop, aio::Address address, int n) {
    std::vector<aio::Coro<bool>> clients;
    for (int i = 0; i < n; ++i)
        clients.push_back(echo_client(loop, address, 1 + static_cast<std::size_t>(i) * 997));
    std::vector<bool> ok = co_await aio::gather(std::move(clients));
    int good = 0;
    for (bool b : ok) good += b ? 1 : 0;
    co_return good;
}

// Reads until EOF; true if EOF came (a reset counts as the end too).
aio::Coro<bool> reads_eof(aio::EventLoop* loop, aio::socket* sock) {
    try {
        for (;;) {
            bytes part = co_await loop->sock_recv(*sock, 4096);
            if (part.empty()) co_return true;
        }
    } catch (const aio::ConnectionResetError&) {
        co_return true;
    }
}

aio::Address address_of(const std::shared_ptr<Server>& server, std::size_t i = 0) {
    return server->sockets().at(i).getsockname();
}

std::string unix_path(const char* name) {
    return "/tmp/aio-test-servers-" + std::to_string(::getpid()) + "-" + name + ".sock";
}

bool have_ipv6() {
    try {
        aio::socket probe(AF_INET6, SOCK_STREAM);
        probe.bind({"::1", 0});
        return true;
    } catch (const aio::OSError&) {
        return false;
    }
}

// Serves `n` clients on `host`, then closes and waits: the whole life of a server.
aio::Coro<int> serve_and_echo(aio::EventLoop* loop, std::string host, int n) {
    auto server = co_await loop->create_server(make_echo, host, 0);
    int good = co_await many_clients(loop, address_of(server), n);
    server->close();
    co_await server->wait_closed();
    co_return good;
}

// What the loop's exception handler was given: "message | exception | socket". The
// handler is the loop's only while this lives.
struct Reported {
    std::vector<std::string> contexts;
    aio::EventLoop* loop = nullptr;
    Reported() = default;
    Reported(const Reported&) = delete;
    Reported& operator=(const Reported&) = delete;
    ~Reported() {
        if (loop) loop->set_exception_handler(nullptr);
    }
    void install(aio::EventLoop& on) {
        loop = &on;
        loop->set_exception_handler([this](aio::EventLoop&, const aio::ExceptionContext& c) {
            std::string line = c.message + " | " + aio::describe_exception(c.exception);
            if (const aio::ContextValue* sock = c.find("socket")) line += " | " + sock->repr();
            contexts.push_back(line);
        });
    }
};

// Lowers RLIMIT_NOFILE so that the next fd the process opens fails with EMFILE; the
// destructor puts the limit back.
struct NoMoreFds {
    rlimit saved{};
    NoMoreFds() {
        REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
        int lowest_free = ::dup(0);  // fds are handed out lowest first
        ::close(lowest_free);
        rlimit low = saved;
        low.rlim_cur = static_cast<rlim_t>(lowest_free);
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    }
    ~NoMoreFds() { ::setrlimit(RLIMIT_NOFILE, &saved); }
    NoMoreFds(const NoMoreFds&) = delete;
    NoMoreFds& operator=(const NoMoreFds&) = delete;
};

// EMFILE while serving: connection `a` is served before, during and after; `b` arrives
// while the process has no fd to give it and is accepted once the limit is back.
aio::Coro<void> accept_without_fds(aio::EventLoop* loop, Reported* reported) {
    auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
    aio::Address address = address_of(server);
    aio::socket a = co_await connect_to(loop, address);
    auto got_a = co_await round_trip(loop, &a, "a"_b);
    CHECK(got_a == "a"_b);
    aio::socket b(AF_INET, SOCK_STREAM);  // its fd is taken before the limit drops
    b.setblocking(false);
    double failed_at = 0;
    {
        NoMoreFds limit;
        co_await loop->sock_connect(b, address);  // the kernel completes it; accept4 fails
        co_await aio::sleep(0.05);
        failed_at = loop->time();
        REQUIRE(reported->contexts.size() == 1);
        CHECK(reported->contexts[0].find("socket.accept() out of system resource | OSError: "
                                         "[Errno 24] Too many open files | "
                                         "<asyncio.TransportSocket fd=") == 0);
        auto still = co_await round_trip(loop, &a, "still served"_b);
        CHECK(still == "still served"_b);
        CHECK(server->active_count() == 1);
    }
    auto got_b = co_await round_trip(loop, &b, "b"_b);  // accepted by the retry, 1 s later
    CHECK(got_b == "b"_b);
    CHECK(loop->time() - failed_at > 0.5);
    CHECK(server->active_count() == 2);
    CHECK(reported->contexts.size() == 1);
    a.close();
    b.close();
    server->close();
    co_await server->wait_closed();
}

// A factory that throws the first time it is called.
struct FlakyFactory {
    int* calls;
    std::shared_ptr<aio::Protocol> operator()() const {
        if ((*calls)++ == 0) throw aio::RuntimeError("no protocol for you");
        return std::make_shared<Echo>();
    }
};

aio::Coro<void> serve_with_flaky_factory(aio::EventLoop* loop, Reported* reported) {
    int calls = 0;
    FlakyFactory factory{&calls};
    auto server = co_await loop->create_server(factory, "127.0.0.1", 0);
    aio::socket first = co_await connect_to(loop, address_of(server));
    bool eof = co_await reads_eof(loop, &first);
    CHECK_MESSAGE(eof, "the connection whose protocol failed is closed");
    REQUIRE(reported->contexts.size() == 1);
    CHECK(
        reported->contexts[0] ==
        "Error on transport creation for incoming connection | RuntimeError: no protocol for you");
    auto echoed = co_await echo_client(loop, address_of(server), 100);
    CHECK_MESSAGE(echoed, "the server goes on serving");
    CHECK(calls == 2);
    server->close();
    co_await server->wait_closed();
}

// A factory holding shared state, named before the co_await that passes it (GCC 12
// destroys a capturing lambda built inside a co_await expression twice).
aio::Coro<void> serve_with_capturing_factory(aio::EventLoop* loop) {
    auto made = std::make_shared<int>(0);
    auto factory = [made]() -> std::shared_ptr<Echo> {
        ++*made;
        return std::make_shared<Echo>();
    };
    auto server = co_await loop->create_server(factory, "127.0.0.1", 0);
    int good = co_await many_clients(loop, address_of(server), 5);
    CHECK(good == 5);
    CHECK(*made == 5);
    server->close();
    co_await server->wait_closed();
}

// host "": every interface, one socket per family getaddrinfo gives; an IPv6 one is
// IPv6-only, as asyncio makes it.
aio::Coro<void> serve_everywhere(aio::EventLoop* loop) {
    auto server = co_await loop->create_server(make_echo, "", 0);
    REQUIRE(!server->sockets().empty());
    for (const aio::socket& sock : server->sockets()) {
        aio::Address bound = sock.getsockname();
        if (sock.family() == AF_INET6) {
            CHECK(bound.host == "::");
            CHECK(sock.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY) == 1);
        } else {
            CHECK(bound.host == "0.0.0.0");
            auto echoed = co_await echo_client(loop, {"127.0.0.1", bound.port}, 10);
            CHECK(echoed);
        }
        CHECK(sock.getsockopt(SOL_SOCKET, SO_REUSEADDR) == 1);
    }
    server->close();
    co_await server->wait_closed();
}

// Cancelled while create_server yields once after starting: the server it made is
// closed, not left listening with nobody holding it.
aio::Coro<void> cancel_create_server(aio::EventLoop* loop) {
    std::size_t fds_before = test::open_fds();
    auto creating = loop->create_task(loop->create_server(make_echo, "127.0.0.1", 0));
    co_await aio::sleep(0);  // the task runs up to create_server's sleep(0)
    creating.cancel();
    std::string cancelled = co_await test::thrown_by<aio::CancelledError>(creating);
    CHECK(cancelled.find("CancelledError") == 0);
    CHECK_MESSAGE(test::open_fds() == fds_before, "the listening socket is closed at once");
}
}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE_FIXTURE(test::LoopFixture, "create_server echoes to many clients at once over IPv4") {
        CHECK(test::run(*loop, serve_and_echo(loop.get(), "127.0.0.1", 40)) == 40);
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "create_server echoes to many clients at once over IPv6") {
        if (!have_ipv6()) return;
        CHECK(test::run(*loop, serve_and_echo(loop.get(), "::1", 40)) == 40);
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "create_unix_server echoes to many clients at once") {
        std::string path = unix_path("echo");
        auto body = [](aio::EventLoop* loop, std::string path) -> aio::Coro<int> {
            auto server = co_await loop->create_unix_server(make_echo, path);
            int good = co_await many_clients(loop, aio::Address::unix_path(path), 40);
            server->close();
            co_await server->wait_closed();
            co_return good;
        };
        CHECK(test::run(*loop, body(loop.get(), path)) == 40);
        struct stat st {};
        CHECK_MESSAGE(::stat(path.c_str(), &st) != 0, "close() removes the socket file");
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "sockets() gives the bound address and repr names it") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            REQUIRE(server->sockets().size() == 1);
            aio::Address bound = address_of(server);
            CHECK(bound.host == "127.0.0.1");
            CHECK(bound.port > 0);
            CHECK(server->is_serving());
            std::string fd = std::to_string(server->sockets()[0].fileno());
            CHECK(server->repr() == "<Server sockets=(<asyncio.TransportSocket fd=" + fd +
                                        ", family=2, type=1, proto=6, laddr=" + bound.repr() +
                                        ">,)>");
            server->close();
            CHECK_FALSE(server->is_serving());
            CHECK(server->sockets().empty());
            CHECK(server->repr() == "<Server sockets=()>");
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "start_serving=false listens only once start_serving runs") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0, 100, true, false);
            CHECK_FALSE(server->is_serving());
            std::string refused = co_await test::thrown_by<aio::ConnectionRefusedError>(
                connect_to(loop, address_of(server)));
            CHECK(refused.find("ConnectionRefusedError(111") == 0);
            co_await server->start_serving();
            CHECK(server->is_serving());
            auto got1 = co_await echo_client(loop, address_of(server), 100);
            CHECK(got1);
            server->close();
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "cancelling serve_forever closes the server") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0, 100, true, false);
            aio::Address address = address_of(server);
            auto forever = loop->create_task(server->serve_forever());
            co_await aio::sleep(0);
            CHECK(server->is_serving());
            auto got2 = co_await echo_client(loop, address, 10);
            CHECK(got2);
            std::string again =
                co_await test::thrown_by<aio::RuntimeError>(server->serve_forever());
            CHECK(again.find("is already being awaited on serve_forever()") != std::string::npos);
            forever.cancel();
            std::string cancelled = co_await test::thrown_by<aio::CancelledError>(forever);
            CHECK(cancelled.find("CancelledError") == 0);
            CHECK_FALSE(server->is_serving());
            CHECK(server->sockets().empty());
            std::string closed =
                co_await test::thrown_by<aio::RuntimeError>(server->serve_forever());
            CHECK(closed == "RuntimeError('server <Server sockets=()> is closed')");
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "close() stops new connections; accepted ones go on") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            aio::Address address = address_of(server);
            aio::socket client = co_await connect_to(loop, address);
            auto got3 = co_await round_trip(loop, &client, "before"_b);
            CHECK(got3 == "before"_b);
            server->close();
            CHECK(server->active_count() == 1);
            std::string refused =
                co_await test::thrown_by<aio::ConnectionRefusedError>(connect_to(loop, address));
            CHECK(refused.find("ConnectionRefusedError(111") == 0);
            auto got4 = co_await round_trip(loop, &client, "after close"_b);
            CHECK(got4 == "after close"_b);
            client.close();
            co_await server->wait_closed();
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "wait_closed returns once closed and the last connection is gone") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            aio::socket a = co_await connect_to(loop, address_of(server));
            aio::socket b = co_await connect_to(loop, address_of(server));
            auto got5 = co_await round_trip(loop, &a, "a"_b);
            CHECK(got5 == "a"_b);
            auto got6 = co_await round_trip(loop, &b, "b"_b);
            CHECK(got6 == "b"_b);
            auto waiting = loop->create_task(server->wait_closed());
            co_await aio::sleep(0.01);
            CHECK_MESSAGE(!waiting.done(), "an open server: wait_closed waits (3.12)");
            server->close();
            co_await aio::sleep(0.01);
            CHECK_FALSE(waiting.done());
            a.close();
            co_await aio::sleep(0.01);
            CHECK_FALSE(waiting.done());
            b.close();
            co_await waiting;
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "close_clients closes every accepted connection") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            std::vector<aio::socket> clients;
            for (int i = 0; i < 3; ++i) {
                clients.push_back(co_await connect_to(loop, address_of(server)));
                auto got7 = co_await round_trip(loop, &clients.back(), "x"_b);
                CHECK(got7 == "x"_b);
            }
            CHECK(server->active_count() == 3);
            server->close();
            server->close_clients();
            for (aio::socket& c : clients) {
                bool eof = co_await reads_eof(loop, &c);
                CHECK(eof);
            }
            co_await server->wait_closed();
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "abort_clients drops every accepted connection") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            std::vector<aio::socket> clients;
            for (int i = 0; i < 3; ++i) {
                clients.push_back(co_await connect_to(loop, address_of(server)));
                auto got8 = co_await round_trip(loop, &clients.back(), "y"_b);
                CHECK(got8 == "y"_b);
            }
            server->abort_clients();
            for (aio::socket& c : clients) {
                bool eof = co_await reads_eof(loop, &c);
                CHECK(eof);
            }
            co_await aio::sleep(0.01);
            CHECK(server->active_count() == 0);
            CHECK_MESSAGE(server->is_serving(), "aborting the clients leaves the server serving");
            auto got9 = co_await echo_client(loop, address_of(server), 5);
            CHECK(got9);
            server->close();
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "async with server closes it and waits for its connections") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            auto use = [loop](Server& s) -> aio::Coro<void> {
                CHECK(s.is_serving());
                auto got10 = co_await echo_client(loop, s.sockets().at(0).getsockname(), 1000);
                CHECK(got10);
            };
            co_await aio::async_with(*server, use);
            CHECK_FALSE(server->is_serving());
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "create_server on an address in use names it, as asyncio") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto first = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            aio::Address taken = address_of(first);
            std::string error = co_await test::thrown_by<aio::OSError>(
                loop->create_server(make_echo, "127.0.0.1", taken.port));
            CHECK(error == "OSError(98, \"error while attempting to bind on address " +
                               taken.repr() + ": address already in use\")");
            first->close();
            co_await first->wait_closed();
        };
        test::run(*loop, body(loop.get()));  // and LoopFixture: the failed socket was closed
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "create_server takes a socket the caller bound") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            aio::socket sock(AF_INET, SOCK_STREAM);
            sock.bind({"127.0.0.1", 0});
            aio::Address address = sock.getsockname();
            auto server = co_await loop->create_server(make_echo, std::move(sock));
            CHECK(address_of(server) == address);
            auto got11 = co_await echo_client(loop, address, 3000);
            CHECK(got11);
            aio::socket udp(AF_INET, SOCK_DGRAM);
            std::string error = co_await test::thrown_by<aio::ValueError>(
                loop->create_server(make_echo, std::move(udp)));
            CHECK(error.find("A Stream Socket was expected, got <socket.socket fd=") !=
                  std::string::npos);
            server->close();
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "create_unix_server replaces a stale socket file, not a live one") {
        std::string path = unix_path("stale");
        {
            aio::socket stale(AF_UNIX, SOCK_STREAM);  // bound, never listening, closed: stale
            stale.bind(aio::Address::unix_path(path));
        }
        auto body = [](aio::EventLoop* loop, std::string path) -> aio::Coro<void> {
            auto server = co_await loop->create_unix_server(make_echo, path);
            auto got12 = co_await echo_client(loop, aio::Address::unix_path(path), 10);
            CHECK(got12);
            std::string error =
                co_await test::thrown_by<aio::OSError>(loop->create_unix_server(make_echo, path));
            CHECK(error == "OSError(98, \"Address '" + path + "' is already in use\")");
            auto got13 = co_await echo_client(loop, aio::Address::unix_path(path), 10);
            CHECK_MESSAGE(got13, "the live server still serves on its file");
            server->close();
            co_await server->wait_closed();
        };
        test::run(*loop, body(loop.get(), path));
        ::unlink(path.c_str());
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "EMFILE on accept is reported, accepting pauses 1 s, connections go on") {
        Reported reported;
        reported.install(*loop);
        test::run(*loop, accept_without_fds(loop.get(), &reported));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a protocol factory that throws is reported; the server goes on") {
        Reported reported;
        reported.install(*loop);
        test::run(*loop, serve_with_flaky_factory(loop.get(), &reported));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "a factory with captured state makes each protocol") {
        test::run(*loop, serve_with_capturing_factory(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "host \"\" listens on every interface, IPv6 sockets IPv6-only") {
        test::run(*loop, serve_everywhere(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a create_server cancelled after binding leaks no socket") {
        test::run(*loop, cancel_create_server(loop.get()));  // LoopFixture counts the fds
    }
}
