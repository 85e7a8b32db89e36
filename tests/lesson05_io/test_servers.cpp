// test_servers.cpp - loop.create_server / create_unix_server and the Server they return,
// over real sockets (IPv4, IPv6, Unix): serving many clients at once, starting and
// stopping, close() against the connections already accepted, wait_closed,
// close_clients / abort_clients, `async with server`, the lifetime of a server.
// Faults (bind errors, EMFILE, a throwing factory, cancels) are test_server_faults.cpp's.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/servers.hpp"
#include "server_helpers.hpp"

using aio::bytes;
using aio::Server;
using namespace aio::literals;
using namespace test;

namespace {

// Serves `n` clients on `host`, then closes and waits: the whole life of a server.
aio::Coro<int> serve_and_echo(aio::EventLoop* loop, std::string host, int n) {
    auto server = co_await loop->create_server(make_echo, host, 0);
    int good = co_await many_clients(loop, address_of(server), n);
    server->close();
    co_await server->wait_closed();
    co_return good;
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

// The program drops its handle on a closed server while a connection is still open: the
// connection keeps the server (asyncio: transport._server) until it detaches.
aio::Coro<void> drop_closed_server(aio::EventLoop* loop) {
    auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
    aio::socket client = co_await connect_to(loop, address_of(server));
    auto echoed = co_await round_trip(loop, &client, "kept"_b);
    CHECK(echoed == "kept"_b);
    std::weak_ptr<Server> watch = server;
    server->close();
    server.reset();
    CHECK_MESSAGE(!watch.expired(), "the open connection keeps its server");
    auto still = co_await round_trip(loop, &client, "still"_b);
    CHECK(still == "still"_b);
    client.close();
    for (int i = 0; i < 100 && !watch.expired(); ++i) co_await aio::sleep(0.001);
    CHECK_MESSAGE(watch.expired(), "the last connection's detach frees it");
}

// A serving server nobody holds goes on serving (the loop keeps it, as asyncio's does)
// until it is closed or the loop is; LoopFixture checks its socket is closed then.
aio::Coro<void> serve_unheld(aio::EventLoop* loop) {
    auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
    aio::Address address = address_of(server);
    std::weak_ptr<Server> watch = server;
    server.reset();
    CHECK_FALSE(watch.expired());
    auto echoed = co_await echo_client(loop, address, 100);
    CHECK(echoed);
    // The connection ends before the test does (a transport still open when its loop
    // closes is not this test's subject).
    while (std::shared_ptr<Server> alive = watch.lock()) {
        if (alive->active_count() == 0) break;
        alive.reset();
        co_await aio::sleep(0.001);
    }
    CHECK_FALSE(watch.expired());
}

// CPython's own asyncio as the client: many concurrent connections with messages of
// different sizes (1 B to 74 KiB), every byte checked; it prints how many came back
// whole.
const char* cpython_clients = R"(
import asyncio, sys
async def one(host, port, i):
    reader, writer = await asyncio.open_connection(host, port)
    message = bytes((i + k) % 251 for k in range(1 + i * 1500))
    writer.write(message)
    await writer.drain()
    echoed = await reader.readexactly(len(message))
    writer.close()
    await writer.wait_closed()
    return echoed == message
async def main(host, port):
    done = await asyncio.gather(*(one(host, port, i) for i in range(50)))
    print(sum(done), flush=True)
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
)";

// Runs `python3 -c script args...` and gives what it printed, read from a pipe the
// loop watches (the loop serves meanwhile).
aio::Coro<std::string> run_python(aio::EventLoop* loop, std::vector<std::string> args) {
    int out[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    ::fcntl(out[0], F_SETFL, O_NONBLOCK);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int spawned = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    std::string printed;
    char buf[256];
    while (spawned == 0) {
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n > 0) printed.append(buf, static_cast<std::size_t>(n));
        if (n == 0 || (n < 0 && errno != EAGAIN)) break;
        if (n < 0) co_await aio::detail::fd_ready(*loop, out[0], aio::EVENT_READ);
    }
    ::close(out[0]);
    int status = 0;
    if (spawned == 0) ::waitpid(pid, &status, 0);
    co_return printed;
}

aio::Coro<void> serve_cpython_clients(aio::EventLoop* loop, std::string host) {
    auto server = co_await loop->create_server(make_echo, host, 0);
    std::string port = std::to_string(address_of(server).port);
    std::vector<std::string> args = {"python3", "-c", cpython_clients, host, port};
    std::string printed = co_await run_python(loop, std::move(args));
    CHECK(printed == "50\n");
    server->close();
    co_await server->wait_closed();
}

// Debug mode on and every log line kept, for one test; all put back after it.
struct DebugLog {
    aio::EventLoop& loop;
    std::vector<std::string> lines;
    aio::LogSink previous_sink;
    aio::LogLevel previous_level;
    explicit DebugLog(aio::EventLoop& on)
        : loop(on),
          previous_sink(aio::set_log_sink(
              [this](aio::LogLevel, std::string_view line) { lines.emplace_back(line); })),
          previous_level(aio::set_log_level(aio::LogLevel::debug)) {
        loop.set_debug(true);
    }
    ~DebugLog() {
        loop.set_debug(false);
        aio::set_log_level(previous_level);
        aio::set_log_sink(previous_sink);
    }
    DebugLog(const DebugLog&) = delete;
    DebugLog& operator=(const DebugLog&) = delete;
};

// Debug mode logs each accepted connection, as asyncio's _accept_connection does.
aio::Coro<void> accept_in_debug_mode(aio::EventLoop* loop, std::vector<std::string>* logged) {
    auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
    aio::socket client = co_await connect_to(loop, address_of(server));
    auto echoed = co_await round_trip(loop, &client, "hi"_b);
    CHECK(echoed == "hi"_b);
    std::string expected = server->repr() + " got a new connection from " +
                           client.getsockname().repr() + ": <socket.socket fd=";
    int found = 0;
    for (const std::string& line : *logged) found += line.rfind(expected, 0) == 0 ? 1 : 0;
    CHECK(found == 1);
    client.close();
    server->close();
    co_await server->wait_closed();
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
            auto echoed = co_await echo_client(loop, address_of(server), 100);
            CHECK(echoed);
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
            auto echoed = co_await echo_client(loop, address, 10);
            CHECK(echoed);
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
            auto before = co_await round_trip(loop, &client, "before"_b);
            CHECK(before == "before"_b);
            server->close();
            CHECK(server->active_count() == 1);
            std::string refused =
                co_await test::thrown_by<aio::ConnectionRefusedError>(connect_to(loop, address));
            CHECK(refused.find("ConnectionRefusedError(111") == 0);
            auto after = co_await round_trip(loop, &client, "after close"_b);
            CHECK(after == "after close"_b);
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
            auto echo_a = co_await round_trip(loop, &a, "a"_b);
            CHECK(echo_a == "a"_b);
            auto echo_b = co_await round_trip(loop, &b, "b"_b);
            CHECK(echo_b == "b"_b);
            auto waiting = loop->create_task(server->wait_closed());
            co_await aio::sleep(0.01);
            CHECK_MESSAGE(!waiting.done(), "an open server: wait_closed waits (3.12.1)");
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
            std::vector<aio::socket> clients =
                co_await connected_clients(loop, address_of(server), 3);
            CHECK(server->active_count() == 3);
            server->close();
            server->close_clients();
            bool eof = co_await all_read_eof(loop, &clients);
            CHECK(eof);
            co_await server->wait_closed();
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "abort_clients drops every accepted connection") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
            std::vector<aio::socket> clients =
                co_await connected_clients(loop, address_of(server), 3);
            server->abort_clients();
            bool eof = co_await all_read_eof(loop, &clients);
            CHECK(eof);
            co_await aio::sleep(0.01);
            CHECK(server->active_count() == 0);
            CHECK_MESSAGE(server->is_serving(), "aborting the clients leaves the server serving");
            auto echoed = co_await echo_client(loop, address_of(server), 5);
            CHECK(echoed);
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
                auto echoed = co_await echo_client(loop, s.sockets().at(0).getsockname(), 1000);
                CHECK(echoed);
            };
            co_await aio::async_with(*server, use);
            CHECK_FALSE(server->is_serving());
            CHECK(server->active_count() == 0);
        };
        test::run(*loop, body(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "create_server takes a socket the caller bound") {
        auto body = [](aio::EventLoop* loop) -> aio::Coro<void> {
            aio::socket sock(AF_INET, SOCK_STREAM);
            sock.bind({"127.0.0.1", 0});
            aio::Address address = sock.getsockname();
            auto server = co_await loop->create_server(make_echo, std::move(sock));
            CHECK(address_of(server) == address);
            auto echoed = co_await echo_client(loop, address, 3000);
            CHECK(echoed);
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

    TEST_CASE_FIXTURE(test::LoopFixture, "a factory with captured state makes each protocol") {
        test::run(*loop, serve_with_capturing_factory(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "host \"\" listens on every interface, IPv6 sockets IPv6-only") {
        test::run(*loop, serve_everywhere(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a closed server lives while its connections do, then is freed") {
        test::run(*loop, drop_closed_server(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a serving server nobody holds serves until the loop closes") {
        test::run(*loop, serve_unheld(loop.get()));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "CPython's asyncio clients get every byte back (IPv4, IPv6)") {
        test::run(*loop, serve_cpython_clients(loop.get(), "127.0.0.1"), 60);
        if (have_ipv6()) test::run(*loop, serve_cpython_clients(loop.get(), "::1"), 60);
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "debug mode logs each accepted connection, as asyncio") {
        DebugLog log(*loop);
        test::run(*loop, accept_in_debug_mode(loop.get(), &log.lines));
    }
}
