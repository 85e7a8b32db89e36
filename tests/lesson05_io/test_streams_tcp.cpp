// test_streams_tcp.cpp - streams over real connections: start_server and
// open_connection over loopback TCP (IPv4, IPv6) and Unix sockets; many concurrent
// clients with messages up to 1 MiB checked byte for byte; backpressure both ways with
// the buffers measured; half-close; a peer's reset at the next read and drain; a
// refused connect; wait_closed; a cancelled read over a socket. No fd leaks
// (LoopFixture).
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/streams.hpp"
#include "stream_echo.hpp"

using aio::bytes;
using aio::StreamReader;
using aio::StreamWriter;
using namespace aio::literals;

namespace {

bytes pattern(std::size_t seed, std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t k = 0; k < size; ++k) data[k] = static_cast<char>((seed * 131 + k * 13) % 256);
    return bytes(std::move(data));
}

// One client: sends while reading the echo, then checks every byte.
aio::Coro<bool> echo_client(aio::Streams streams, std::size_t seed, std::size_t size) {
    auto [reader, writer] = std::move(streams);
    bytes data = pattern(seed, size);
    aio::Task<void> sending =
        aio::create_task(aio::get_running_loop(), test::send_in_chunks(writer, data, 40000));
    bytes got = co_await reader.read();
    co_await sending;
    writer.close();
    co_await writer.wait_closed();
    co_return got == data;
}

// The server's port, read outside any co_await (GCC 12: an Address temporary made
// inside a co_await expression is destroyed twice).
int port_of(const aio::Server& server) { return server.sockets().front().getsockname().port; }

const std::vector<std::size_t> SIZES = {0, 1, 10, 4096, 65536, 65537, 200000, 1048576, 3, 777};

aio::Coro<aio::Streams> connect_to(std::shared_ptr<aio::Server> server, std::string unix_path) {
    if (!unix_path.empty()) co_return co_await aio::open_unix_connection(unix_path);
    aio::Address address = server->sockets().front().getsockname();
    co_return co_await aio::open_connection(address.host, address.port);
}

// Runs one client per size at once against `server`, counts those that got their bytes.
aio::Coro<std::string> many_clients(std::shared_ptr<aio::Server> server, std::string unix_path) {
    std::vector<aio::Task<bool>> clients;
    for (std::size_t i = 0; i < SIZES.size(); ++i) {
        aio::Streams streams = co_await connect_to(server, unix_path);
        aio::Coro<bool> client = echo_client(std::move(streams), i, SIZES[i]);
        clients.push_back(aio::create_task(aio::get_running_loop(), std::move(client)));
    }
    int ok = 0;
    for (aio::Task<bool>& client : clients) ok += co_await client ? 1 : 0;
    server->close();
    co_await server->wait_closed();
    co_return std::to_string(ok) + " of " + std::to_string(clients.size());
}

aio::Coro<std::string> echo_over(std::string host) {
    std::shared_ptr<aio::Server> server = co_await aio::start_server(test::echo_streams, host, 0);
    std::string result = co_await many_clients(server, "");
    co_return result;
}

aio::Coro<std::string> echo_over_unix(std::string path) {
    std::shared_ptr<aio::Server> server = co_await aio::start_unix_server(test::echo_streams, path);
    std::string result = co_await many_clients(server, path);
    co_return result;
}

// ---- backpressure ----

struct Slow {
    std::size_t received = 0;
    std::size_t reader_peak = 0;
};

// Reads 16 KiB per 1 ms: far slower than the writer.
aio::Coro<void> slow_reader(StreamReader reader, StreamWriter writer, Slow* slow) {
    for (;;) {
        slow->reader_peak = std::max(slow->reader_peak, reader.buffered());
        bytes data = co_await reader.read(16384);
        if (data.empty()) break;
        slow->received += data.size();
        co_await aio::sleep(0.001);
    }
    writer.close();
}

// Writes `total` bytes in 64 KiB chunks with drain; the transport's buffer is measured
// after every drain.
aio::Coro<std::string> fast_writer(std::size_t total) {
    auto slow = std::make_shared<Slow>();
    Slow* s = slow.get();
    auto handler = [s](StreamReader reader, StreamWriter writer) {
        return slow_reader(std::move(reader), std::move(writer), s);
    };
    std::shared_ptr<aio::Server> server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    std::size_t high = writer.transport()->get_write_buffer_limits().second;
    std::size_t peak = 0;
    std::size_t waited = 0;
    for (std::size_t sent = 0; sent < total; sent += 65536) {
        writer.write(bytes(65536));
        std::size_t before = writer.transport()->get_write_buffer_size();
        co_await writer.drain();
        std::size_t after = writer.transport()->get_write_buffer_size();
        peak = std::max(peak, before);
        if (before > high) ++waited;
        CHECK(after <= high);  // drain returned: the buffer is down at the low mark or below
    }
    writer.write_eof();
    bytes end = co_await reader.read();  // the server closes after reading everything
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    CHECK(peak <= high + 65536);
    CHECK(waited > 0);
    CHECK(s->reader_peak <= 2 * aio::DEFAULT_STREAM_LIMIT + 256 * 1024);
    co_return std::to_string(s->received) + " received";
}

// A server that reads nothing until told: the client's data piles up in its reader,
// which pauses the transport past 2 * limit.
struct Lazy {
    std::optional<StreamReader> reader;
    std::optional<StreamWriter> writer;
};

aio::Coro<std::string> read_side_pause() {
    auto lazy = std::make_shared<Lazy>();
    Lazy* l = lazy.get();
    auto handler = [l](StreamReader reader, StreamWriter writer) {
        l->reader = reader;
        l->writer = writer;
    };
    std::shared_ptr<aio::Server> server = co_await aio::start_server(handler, "127.0.0.1", 0, 1000);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    writer.write(bytes(1 << 20));  // 1 MiB: far past 2 * 1000
    for (int i = 0; i < 50 && !(l->reader && l->reader->paused()); ++i) co_await aio::sleep(0.002);
    bool paused = l->reader->paused() && !l->writer->transport()->is_reading();
    std::size_t held = l->reader->buffered();
    CHECK(held > 2000);
    CHECK(held <= 2000 + 256 * 1024);                      // one recv past the mark at most
    bytes all = co_await l->reader->readexactly(1 << 20);  // resumes reading as it goes
    writer.close();
    l->writer->close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    co_return std::string(paused ? "paused" : "not paused") + ", then read " +
        std::to_string(all.size());
}

// ---- half-close, reset, refused, cancel ----

aio::Coro<void> upper_until_eof(StreamReader reader, StreamWriter writer) {
    bytes all = co_await reader.read();
    std::string text(all.view());
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    writer.write(text);
    co_await writer.drain();
    writer.close();
}

aio::Coro<std::string> half_close() {
    std::shared_ptr<aio::Server> server = co_await aio::start_server(upper_until_eof, "::1", 0);
    auto [reader, writer] = co_await aio::open_connection("::1", port_of(*server));
    CHECK(writer.can_write_eof());
    writer.write("hello, "_b);
    writer.write("world"_b);
    writer.write_eof();
    writer.write_eof();  // idempotent
    bytes reply = co_await reader.read();
    bool eof = reader.at_eof();
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    co_return aio::repr(reply) + (eof ? " eof" : "");
}

// The server resets the connection: SO_LINGER {on, 0} then close sends RST.
aio::Coro<void> reset_at_once(StreamReader, StreamWriter writer) {
    co_await aio::sleep(0.01);
    int fd = writer.get_extra_info<const aio::socket*>("socket").value()->fileno();
    linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    writer.transport()->abort();
}

aio::Coro<std::string> peer_reset() {
    std::shared_ptr<aio::Server> server = co_await aio::start_server(reset_at_once, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    std::string read_error = co_await test::thrown_by<aio::ConnectionResetError>(reader.read(100));
    writer.write("after the reset"_b);
    std::string drain_error = co_await test::thrown_by<aio::ConnectionResetError>(writer.drain());
    std::string closed_error =
        co_await test::thrown_by<aio::ConnectionResetError>(writer.wait_closed());
    server->close();
    co_await server->wait_closed();
    co_return read_error + " / " + drain_error + " / " + closed_error;
}

aio::Coro<std::string> refused() {
    // A port nobody listens on: bind one, read its number, close it.
    int port = 0;
    {
        aio::socket probe(AF_INET, SOCK_STREAM);
        probe.bind({"127.0.0.1", 0});
        port = probe.getsockname().port;
    }
    std::string error = co_await test::thrown_by<aio::ConnectionRefusedError>(
        aio::open_connection("127.0.0.1", port));
    co_return error == "no exception" ? error : "refused";
}

aio::Coro<void> send_later(StreamReader, StreamWriter writer) {
    co_await aio::sleep(0.01);
    writer.write("late line\n"_b);
    co_await writer.drain();
    writer.close();  // else the server's wait_closed() waits for this connection
}

aio::Coro<std::string> cancelled_readline() {
    std::shared_ptr<aio::Server> server = co_await aio::start_server(send_later, "127.0.0.1", 0);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    aio::Task<bytes> first = aio::create_task(aio::get_running_loop(), reader.readline());
    co_await aio::sleep(0);
    first.cancel();
    std::string cancelled = co_await test::thrown_by<aio::CancelledError>(first);
    bytes line = co_await reader.readline();
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    co_return cancelled + " then " + aio::repr(line);
}

// open_connection cancelled before and after its first step: no socket left open
// (LoopFixture counts the fds), and the server goes on serving.
aio::Coro<std::string> cancelled_open_connection() {
    std::shared_ptr<aio::Server> server =
        co_await aio::start_server(test::echo_streams, "127.0.0.1", 0);
    aio::EventLoop& loop = aio::get_running_loop();
    std::string seen;
    for (int steps = 0; steps < 4; ++steps) {
        aio::Task<aio::Streams> opening =
            aio::create_task(loop, aio::open_connection("127.0.0.1", port_of(*server)));
        for (int i = 0; i < steps; ++i) co_await aio::sleep(0);
        opening.cancel();
        seen +=
            (co_await test::thrown_by<aio::CancelledError>(opening)) == "no exception" ? "o" : "c";
    }
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    writer.write("still serving"_b);
    writer.write_eof();
    bytes back = co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    co_return seen + " " + aio::repr(back);
}

// readline in a loop on a connection that sends 4 MiB without a newline: each try ends
// in ValueError, and the buffer never holds more than the limit plus one recv (256 KiB)
// until EOF.
aio::Coro<void> readline_through_flood(StreamReader reader, StreamWriter writer) {
    std::size_t errors = 0;
    std::size_t peak = 0;
    for (;;) {
        bool failed = false;
        bytes line;
        try {
            line = co_await reader.readline();
        } catch (const aio::ValueError&) {
            failed = true;
        }
        peak = std::max(peak, reader.buffered());
        if (failed) {
            ++errors;
            continue;
        }
        if (line.empty()) break;  // EOF
    }
    writer.write(std::to_string(errors > 0) + " " + std::to_string(peak <= 1000 + 256 * 1024));
    writer.close();
}

aio::Coro<std::string> over_long_line() {
    std::shared_ptr<aio::Server> server =
        co_await aio::start_server(readline_through_flood, "127.0.0.1", 0, 1000);
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port_of(*server));
    aio::Coro<void> flood = test::send_in_chunks(writer, bytes(std::string(4 << 20, 'x')), 65536);
    aio::Task<void> sending = aio::create_task(aio::get_running_loop(), std::move(flood));
    co_await sending;  // then write_eof()
    bytes verdict = co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
    co_return aio::repr(verdict);
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("streams echo: concurrent clients up to 1 MiB get every byte back, IPv4 and IPv6") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, echo_over("127.0.0.1"), 60) == "10 of 10");
        CHECK(test::run(*f.loop, echo_over("::1"), 60) == "10 of 10");
    }

    TEST_CASE("streams echo over Unix sockets: start_unix_server and open_unix_connection") {
        test::LoopFixture f;
        std::string path = "/tmp/aio-streams-" + std::to_string(::getpid()) + ".sock";
        CHECK(test::run(*f.loop, echo_over_unix(path), 60) == "10 of 10");
        ::unlink(path.c_str());
    }

    TEST_CASE("drain waits while a slow reader holds the writer above its high-water mark") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, fast_writer(4 << 20), 60) ==
              std::to_string(4 << 20) + " received");
    }

    TEST_CASE("a reader that is not read pauses its transport past 2*limit, then reads it all") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, read_side_pause(), 30) == "paused, then read 1048576");
    }

    TEST_CASE("write_eof half-closes: the server reads EOF and still answers") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, half_close()) == "b'HELLO, WORLD' eof");
    }

    TEST_CASE("a peer's reset surfaces at the next read, drain and wait_closed") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, peer_reset()) ==
              "ConnectionResetError(104, 'Connection reset by peer') / "
              "ConnectionResetError(104, 'Connection reset by peer') / "
              "ConnectionResetError(104, 'Connection reset by peer')");
    }

    TEST_CASE("open_connection to a port nobody listens on raises ConnectionRefusedError") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, refused()) == "refused");
    }

    TEST_CASE("a readline cancelled while waiting on a socket takes nothing from the next") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, cancelled_readline()) == "CancelledError() then b'late line\\n'");
    }
    TEST_CASE("an open_connection cancelled at any step leaves no fd behind") {
        test::LoopFixture f;
        std::string result = test::run(*f.loop, cancelled_open_connection());
        CHECK(result.substr(0, 2) == "cc");  // cancelled before it could finish
        CHECK(result.substr(5) == "b'still serving'");
    }

    TEST_CASE(
        "an endless line over TCP: readline fails, the buffer stays at the limit plus a recv") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, over_long_line(), 30) == "b'1 1'");
    }
}
