// test_transports.cpp - the socket transport (selector_events.hpp) over socketpairs and
// loopback TCP: the order of protocol callbacks, writes sent at once or buffered, flow
// control both ways, half-close, close/abort, resets and broken pipes, protocol errors
// reported to the loop, BufferedProtocol; and the datagram transport over UDP.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/selector_events.hpp"
#include "lesson05_io/sock_ops.hpp"
#include "recorder.hpp"

using aio::bytes;
using namespace aio::literals;
using Trace = std::vector<std::string>;

namespace {

// Reads from sock until end of stream, at most `chunk` bytes per recv.
aio::Coro<bytes> read_to_eof(aio::EventLoop* loop, aio::socket* sock, std::size_t chunk = 65536) {
    bytes all;
    for (;;) {
        bytes got = co_await loop->sock_recv(*sock, chunk);
        if (got.empty()) co_return all;
        all += got;
    }
}

// A transport over one end of a socketpair, its protocol connected; the other end is
// the test's peer.
struct Pair {
    aio::socket peer;
    std::shared_ptr<test::Recorder> proto;
    std::shared_ptr<aio::Transport> transport;
};

// The pair as make_socket_transport leaves it: connection_made not called yet.
Pair new_pair(aio::EventLoop* loop, std::optional<aio::Future<void>> waiter = std::nullopt) {
    auto [mine, theirs] = aio::socketpair();
    mine.setblocking(false);
    theirs.setblocking(false);
    Pair p{std::move(theirs), std::make_shared<test::Recorder>(*loop), nullptr};
    p.transport = aio::detail::make_socket_transport(*loop, std::move(mine), p.proto, waiter);
    return p;
}

aio::Coro<Pair> connected_pair(aio::EventLoop* loop) {
    aio::Future<void> waiter(*loop);
    Pair p = new_pair(loop, waiter);
    co_await waiter;
    co_return p;
}

void shrink_buffers(int fd) {
    int size = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE(
        "transport: connection_made comes from the loop, before the waiter, then data both ways "
        "and connection_lost(None) on close") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [mine, peer] = aio::socketpair();
            mine.setblocking(false);
            peer.setblocking(false);
            auto proto = std::make_shared<test::Recorder>(*loop);
            aio::Future<void> waiter(*loop);
            auto transport =
                aio::detail::make_socket_transport(*loop, std::move(mine), proto, waiter);
            CHECK(proto->trace.empty());
            co_await waiter;
            CHECK(proto->trace == Trace{"connection_made"});
            CHECK(proto->transport == transport);
            CHECK(transport->is_reading());
            transport->write("ping"_b);
            CHECK(transport->get_write_buffer_size() == 0);  // sent at once
            bytes got = co_await loop->sock_recv(peer, 100);
            CHECK(got == "ping"_b);
            co_await loop->sock_sendall(peer, "pong"_b);
            co_await test::until([&] { return proto->received.size() == 4; });
            CHECK(proto->received == "pong"_b);
            transport->close();
            CHECK(transport->is_closing());
            CHECK_FALSE(transport->is_reading());
            co_await proto->lost;
            CHECK(proto->trace ==
                  Trace{"connection_made", "data_received", "connection_lost(None)"});
            bytes eof = co_await loop->sock_recv(peer, 100);
            CHECK(eof.empty());
            CHECK(transport->get_protocol() == nullptr);  // dropped after connection_lost
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: a 1 MiB write arrives whole, the part the kernel did not take is buffered and "
        "reported") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            bytes big = test::pattern(1 << 20);
            p.transport->write(big);
            CHECK(p.transport->get_write_buffer_size() > 0);
            CHECK(p.transport->get_write_buffer_size() < big.size());
            CHECK(p.proto->trace == Trace{"connection_made", "pause_writing"});
            aio::Task<bytes> reader = aio::create_task(read_to_eof(loop, &p.peer));
            co_await test::until([&] { return p.transport->get_write_buffer_size() == 0; });
            CHECK(p.proto->trace == Trace{"connection_made", "pause_writing", "resume_writing"});
            p.transport->close();
            bytes got = co_await reader;
            CHECK(got.size() == big.size());
            CHECK(got == big);
            co_await p.proto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: a fast writer into a slow reader is paused once per crossing and its buffer "
        "stays bounded") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            shrink_buffers(p.peer.fileno());
            p.transport->set_write_buffer_limits(32 * 1024, 8 * 1024);
            auto slow_reader = [](aio::EventLoop* loop, aio::socket* sock) -> aio::Coro<bytes> {
                bytes all;
                for (;;) {
                    bytes got = co_await loop->sock_recv(*sock, 4096);
                    if (got.empty()) co_return all;
                    all += got;
                    co_await aio::sleep(0.0002);
                }
            };
            aio::Task<bytes> reader = aio::create_task(slow_reader(loop, &p.peer));
            bytes chunk = test::pattern(8 * 1024);
            std::size_t max_buffered = 0;
            for (int i = 0; i < 64; ++i) {
                co_await test::until([&] { return !p.proto->writing_paused; });
                p.transport->write(chunk);
                max_buffered = std::max(max_buffered, p.transport->get_write_buffer_size());
            }
            CHECK(max_buffered > 32 * 1024);              // it did cross the mark
            CHECK(max_buffered <= 32 * 1024 + 8 * 1024);  // by at most one write
            p.transport->close();
            bytes got = co_await reader;
            CHECK(got.size() == 64 * 8 * 1024);
            co_await p.proto->lost;
            // pause and resume alternate, starting with pause: one call per crossing.
            std::size_t pauses = 0;
            std::string last = "resume_writing";
            for (const std::string& entry : p.proto->trace) {
                if (entry != "pause_writing" && entry != "resume_writing") continue;
                CHECK(entry != last);
                last = entry;
                pauses += entry == "pause_writing";
            }
            CHECK(pauses >= 2);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("transport: set_write_buffer_limits defaults, derives and checks as asyncio's") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            using Limits = std::pair<std::size_t, std::size_t>;
            CHECK(p.transport->get_write_buffer_limits() == Limits{16384, 65536});
            p.transport->set_write_buffer_limits(100);
            CHECK(p.transport->get_write_buffer_limits() == Limits{25, 100});
            p.transport->set_write_buffer_limits(std::nullopt, 10);
            CHECK(p.transport->get_write_buffer_limits() == Limits{10, 40});
            std::string error;
            try {
                p.transport->set_write_buffer_limits(1, 2);
            } catch (const aio::ValueError& e) {
                error = e.what();
            }
            CHECK(error == "high (1) must be >= low (2) must be >= 0");
            p.transport->close();
            co_await p.proto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("transport: pause_reading stops data_received until resume_reading") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            p.transport->pause_reading();
            p.transport->pause_reading();  // idempotent
            CHECK_FALSE(p.transport->is_reading());
            co_await loop->sock_sendall(p.peer, "held"_b);
            co_await aio::sleep(0.02);
            CHECK(p.proto->received.empty());
            p.transport->resume_reading();
            CHECK(p.transport->is_reading());
            co_await test::until([&] { return p.proto->received.size() == 4; });
            CHECK(p.proto->received == "held"_b);
            p.transport->close();
            co_await p.proto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: pause_reading before the first iteration holds (as 3.12; 3.11 starts reading "
        "anyway)") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = new_pair(loop);
            p.transport->pause_reading();
            co_await loop->sock_sendall(p.peer, "early"_b);
            co_await aio::sleep(0.02);
            CHECK(p.proto->trace == Trace{"connection_made"});
            p.transport->resume_reading();
            co_await test::until([&] { return p.proto->received.size() == 5; });
            p.transport->close();
            co_await p.proto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: write_eof half-closes once flushed; the peer can still answer; write after it "
        "raises") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            CHECK(p.transport->can_write_eof());
            p.transport->write("last words"_b);
            p.transport->write_eof();
            p.transport->write_eof();  // idempotent
            bytes got = co_await read_to_eof(loop, &p.peer);
            CHECK(got == "last words"_b);
            std::string error;
            try {
                p.transport->write("more"_b);
            } catch (const aio::RuntimeError& e) {
                error = e.what();
            }
            CHECK(error == "Cannot call write() after write_eof()");
            co_await loop->sock_sendall(p.peer, "reply"_b);
            co_await test::until([&] { return p.proto->received.size() == 5; });
            CHECK(p.proto->received == "reply"_b);
            p.peer.shutdown(SHUT_WR);
            co_await p.proto->lost;  // eof_received() said false: the transport closed
            CHECK(p.proto->trace == Trace{"connection_made", "data_received", "eof_received",
                                          "connection_lost(None)"});
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("transport: eof_received returning true keeps the transport open for writing") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            p.proto->keep_open_on_eof = true;
            p.peer.shutdown(SHUT_WR);
            co_await test::until([&] { return p.proto->trace.size() == 2; });
            CHECK(p.proto->trace == Trace{"connection_made", "eof_received"});
            CHECK_FALSE(p.transport->is_closing());
            p.transport->write("still here"_b);
            bytes got = co_await loop->sock_recv(p.peer, 100);
            CHECK(got == "still here"_b);
            p.transport->close();
            co_await p.proto->lost;
            CHECK(p.proto->trace ==
                  Trace{"connection_made", "eof_received", "connection_lost(None)"});
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: close flushes what is buffered before connection_lost; writes after close are "
        "ignored") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            bytes big = test::pattern(1 << 20);
            p.transport->write(big);
            p.transport->close();
            p.transport->write("ignored"_b);  // asyncio ignores it too (counted, no error)
            co_await aio::sleep(0.01);
            CHECK(p.proto->lost.done() == false);  // still flushing: nobody reads yet
            bytes got = co_await read_to_eof(loop, &p.peer);
            CHECK(got == big);
            co_await p.proto->lost;
            CHECK(p.proto->trace.back() == "connection_lost(None)");
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("transport: abort drops the buffer and calls connection_lost(None) at once") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            Pair p = co_await connected_pair(loop);
            bytes big = test::pattern(1 << 20);
            p.transport->write(big);
            p.transport->abort();
            CHECK(p.transport->get_write_buffer_size() == 0);
            CHECK(p.transport->is_closing());
            co_await p.proto->lost;
            CHECK(p.proto->trace.back() == "connection_lost(None)");
            bytes got = co_await read_to_eof(loop, &p.peer);
            CHECK(got.size() < big.size());
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: a peer's reset ends the connection with ConnectionResetError, not the "
        "exception handler") {
        test::LoopFixture f;
        int handler_calls = 0;
        f.loop->set_exception_handler(
            [&](aio::EventLoop&, const aio::ExceptionContext&) { ++handler_calls; });
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            auto [mine, peer] = test::tcp_pair();
            auto proto = std::make_shared<test::Recorder>(*loop);
            auto transport = aio::detail::make_socket_transport(*loop, std::move(mine), proto);
            co_await aio::sleep(0);
            linger hard{1, 0};  // close() sends RST, not FIN
            ::setsockopt(peer.fileno(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            peer.close();
            co_await proto->lost;
            co_return proto->trace.back();
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) ==
              "connection_lost(ConnectionResetError: [Errno 104] Connection reset by peer)");
        CHECK(handler_calls == 0);
    }

    TEST_CASE(
        "transport: writing to a peer that is gone gives BrokenPipeError, never SIGPIPE; later "
        "writes are ignored, warned from the fifth") {
        test::LoopFixture f;
        std::vector<std::string> warnings;
        aio::LogSink previous = aio::set_log_sink(
            [&](aio::LogLevel, std::string_view message) { warnings.emplace_back(message); });
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            Pair p = co_await connected_pair(loop);
            p.transport->pause_reading();  // the write, not the read, finds out
            p.peer.close();
            p.transport->write("into the void"_b);
            for (int i = 0; i < 6; ++i) p.transport->write("x"_b);
            co_await p.proto->lost;
            co_return p.proto->trace.back();
        };
        std::string last = test::run(*f.loop, main(f.loop.get()));
        aio::set_log_sink(std::move(previous));
        CHECK(last == "connection_lost(BrokenPipeError: [Errno 32] Broken pipe)");
        CHECK(warnings ==
              Trace{"socket.send() raised exception.", "socket.send() raised exception."});
    }

    TEST_CASE(
        "transport: a data_received that throws goes to the exception handler, with asyncio's "
        "message, and closes the transport") {
        test::LoopFixture f;
        std::vector<std::string> reported;
        f.loop->set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& c) {
            reported.push_back(c.message);
            reported.push_back(aio::describe_exception(c.exception));
            const aio::ContextValue* t = c.find("transport");
            reported.push_back(t ? t->repr().substr(0, 25) : "no transport");
            reported.push_back(c.find("protocol") ? "protocol" : "no protocol");
        });
        struct Throws : test::Recorder {
            using Recorder::Recorder;
            void data_received(bytes) override { throw aio::ValueError("bad data"); }
        };
        auto main = [](aio::EventLoop* loop) -> aio::Coro<Trace> {
            auto [mine, peer] = aio::socketpair();
            mine.setblocking(false);
            auto proto = std::make_shared<Throws>(*loop);
            auto transport = aio::detail::make_socket_transport(*loop, std::move(mine), proto);
            peer.setblocking(false);
            co_await loop->sock_sendall(peer, "boom"_b);
            co_await proto->lost;
            CHECK(transport->is_closing());
            co_return proto->trace;
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) ==
              Trace{"connection_made", "connection_lost(ValueError: bad data)"});
        CHECK(reported == Trace{"Fatal error: protocol.data_received() call failed.",
                                "ValueError: bad data", "<_SelectorSocketTransport", "protocol"});
    }

    TEST_CASE("transport: a BufferedProtocol's bytes land in its own buffer") {
        test::LoopFixture f;
        struct Buffered : aio::BufferedProtocol {
            std::array<char, 8> buf{};
            std::string received;
            int updates = 0;
            aio::Future<void> lost;
            explicit Buffered(aio::EventLoop& loop) : lost(loop) {}
            Buffer get_buffer(std::size_t) override { return {buf.data(), buf.size()}; }
            void buffer_updated(std::size_t n) override {
                received.append(buf.data(), n);
                ++updates;
            }
            void connection_lost(std::exception_ptr) override { lost.set_result(); }
        };
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [mine, peer] = aio::socketpair();
            mine.setblocking(false);
            peer.setblocking(false);
            auto proto = std::make_shared<Buffered>(*loop);
            auto transport = aio::detail::make_socket_transport(*loop, std::move(mine), proto);
            co_await loop->sock_sendall(peer, "twenty bytes of data"_b);
            peer.shutdown(SHUT_WR);
            co_await proto->lost;
            CHECK(proto->received == "twenty bytes of data");
            CHECK(proto->updates == 3);  // 8 + 8 + 4: never more than the buffer holds
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "transport: get_extra_info gives peername, sockname and the socket over IPv4 and IPv6") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop, int family, const char* host) -> aio::Coro<void> {
            auto [mine, peer] = test::tcp_pair(family, host);
            aio::Address me = mine.getsockname();
            aio::Address them = mine.getpeername();
            int fd = mine.fileno();
            auto proto = std::make_shared<test::Recorder>(*loop);
            auto transport = aio::detail::make_socket_transport(*loop, std::move(mine), proto);
            CHECK(transport->get_extra_info<aio::Address>("peername") == them);
            CHECK(transport->get_extra_info<aio::Address>("sockname") == me);
            auto sock = transport->get_extra_info<const aio::socket*>("socket");
            REQUIRE(sock);
            CHECK((*sock)->fileno() == fd);
            CHECK((*sock)->getsockopt(IPPROTO_TCP, TCP_NODELAY) != 0);  // as asyncio sets it
            CHECK(std::holds_alternative<std::monostate>(transport->get_extra_info("nothing")));
            transport->close();
            co_await proto->lost;
        };
        test::run(*f.loop, main(f.loop.get(), AF_INET, "127.0.0.1"));
        test::run(*f.loop, main(f.loop.get(), AF_INET6, "::1"));
    }

    TEST_CASE(
        "transport: one left open when its loop closes has its socket closed, though its protocol "
        "holds it") {
        {
            test::LoopFixture f;  // checks, as it ends, that no fd is left open
            auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
                Pair p = co_await connected_pair(loop);
                bytes big = test::pattern(1 << 20);
                p.transport->write(big);  // the writer is armed too
                aio::socket udp(AF_INET, SOCK_DGRAM);
                udp.bind({"127.0.0.1", 0});
                udp.setblocking(false);
                struct Keeper : aio::DatagramProtocol {
                    void connection_made(std::shared_ptr<aio::DatagramTransport> t) override {
                        transport = std::move(t);
                    }
                    std::shared_ptr<aio::DatagramTransport> transport;
                };
                aio::detail::make_datagram_transport(*loop, std::move(udp),
                                                     std::make_shared<Keeper>());
                co_await aio::sleep(0);
            };
            test::run(*f.loop, main(f.loop.get()));
        }
    }
}
