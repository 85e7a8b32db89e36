// test_server_faults.cpp - a server under faults: an address in use, a stale or live
// Unix socket file, running out of fds (EMFILE) while serving, a protocol factory that
// throws, a create_server cancelled half-way. None may leak an fd (LoopFixture).
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/servers.hpp"
#include "server_helpers.hpp"

using aio::bytes;
using namespace aio::literals;
using namespace test;

namespace {

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

// The loop closes while the server serves and a connection it accepted is still open
// (the test returns without closing either): LoopFixture checks that no fd is left.
aio::Coro<void> leave_open(aio::EventLoop* loop) {
    auto server = co_await loop->create_server(make_echo, "127.0.0.1", 0);
    aio::socket client = co_await connect_to(loop, address_of(server));
    auto echoed = co_await round_trip(loop, &client, "open"_b);
    CHECK(echoed == "open"_b);
    CHECK(server->active_count() == 1);
}
}  // namespace

TEST_SUITE("lesson05") {
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

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "create_unix_server replaces a stale socket file, not a live one") {
        std::string path = unix_path("stale");
        {
            aio::socket stale(AF_UNIX, SOCK_STREAM);  // bound, never listening, closed: stale
            stale.bind(aio::Address::unix_path(path));
        }
        auto body = [](aio::EventLoop* loop, std::string path) -> aio::Coro<void> {
            auto server = co_await loop->create_unix_server(make_echo, path);
            auto served = co_await echo_client(loop, aio::Address::unix_path(path), 10);
            CHECK(served);
            std::string error =
                co_await test::thrown_by<aio::OSError>(loop->create_unix_server(make_echo, path));
            CHECK(error == "OSError(98, \"Address '" + path + "' is already in use\")");
            auto still_served = co_await echo_client(loop, aio::Address::unix_path(path), 10);
            CHECK_MESSAGE(still_served, "the live server still serves on its file");
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

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a create_server cancelled after binding leaks no socket") {
        test::run(*loop, cancel_create_server(loop.get()));  // LoopFixture counts the fds
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a server still open when its loop closes closes its sockets") {
        test::run(*loop, leave_open(loop.get()));
    }
}
