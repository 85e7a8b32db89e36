// demo.cpp - lesson 5's tour: the tutorials' TCP echo server and what stands around it.
//
//  1. The echo server of tutorials 000 (example 3) and 001: start_server, `async with
//     server`, serve_forever, handle_echo reading read(100) until EOF, write + drain,
//     close + wait_closed; and a client for it in the same program (open_connection).
//  2. readline and line iteration: three lines in one write; the server takes them with
//     `async for line in reader` (reader.lines()), the client with readline().
//  3. Backpressure: a 1 MiB write into a slow reader; drain() waits until the
//     transport's buffer is back under its low-water mark, and the server's reader
//     pauses its transport instead of holding the megabyte.
//  4. The layer below streams: the Protocol echo server and client of asyncio's docs
//     (EchoServerProtocol, EchoClientProtocol) over loop.create_server and
//     loop.create_connection.
//  5. Errors: a refused connection names the address; readexactly() meeting EOF raises
//     IncompleteReadError carrying the bytes it did read.
// Each part is its own program, run by aio::run (asyncio.run) on a fresh loop, and prints
// times from its own start. Every server listens on 127.0.0.1 port 0, the kernel's pick,
// so the demo runs anywhere; the ports it prints differ from run to run. Time is virtual
// unless you run it with AIO_CLOCK=monotonic: a virtual clock jumps only when the loop
// is idle, and loopback bytes are in the peer's socket when send() returns, so the
// stamps are as exact as a sleep's.
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/base_events.hpp"
#include "lesson05_io/demo.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/servers.hpp"
#include "lesson05_io/streams.hpp"
#include "lesson05_io/transports.hpp"

using aio::bytes;
using aio::StreamReader;
using aio::StreamWriter;
using namespace aio::literals;

namespace {
double part_start = 0;
}  // namespace

double demo::now() { return aio::get_running_loop().time() - part_start; }
void demo::start_clock() { part_start = aio::get_running_loop().time(); }
void demo::say(const std::string& text) { std::printf("  [%.2f] %s\n", now(), text.c_str()); }
void demo::heading(const char* title, const char* watch) {
    std::printf("%s\n  watch: %s\n", title, watch);
}

using demo::now;
using demo::say;
using demo::start_clock;

namespace {

// The server's address, read outside any co_await (GCC 12: an Address temporary made
// inside a co_await expression is destroyed twice).
aio::Address address_of(const aio::Server& server) {
    return server.sockets().front().getsockname();
}
std::string peer_of(const StreamWriter& writer) {
    return writer.get_extra_info<aio::Address>("peername").value().repr();
}

// The client's goodbye, then the server's: close and wait for each.
aio::Coro<void> hang_up(StreamWriter writer, std::shared_ptr<aio::Server> server) {
    writer.close();
    co_await writer.wait_closed();
    server->close();
    co_await server->wait_closed();
}

// ---- 1. the tutorials' echo server ------------------------------------------------------

// Python (tutorial 000, example 3): `while data := await reader.read(100): ...`.
aio::Coro<void> handle_echo(StreamReader reader, StreamWriter writer) {
    say("Connection from " + peer_of(writer));
    for (;;) {
        bytes data = co_await reader.read(100);
        if (data.empty()) break;  // b'': the client closed its side
        std::string message = data.decode();
        say("Received: " + aio::repr(message));
        writer.write(data);
        co_await writer.drain();
    }
    say("Close the connection");
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<void> echo_client(int port) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    static const char* const messages[] = {"Hello, World!", "asyncio, from scratch"};
    for (const char* message : messages) {
        say(std::string("client: send ") + aio::repr(std::string(message)));
        writer.write(std::string_view(message));
        co_await writer.drain();
        bytes reply = co_await reader.read(100);
        say("client: got back " + aio::repr(reply));
        co_await aio::sleep(0.5);
    }
    say("client: close()");
    writer.close();
    co_await writer.wait_closed();
}

// The body of `async with server:`. The tutorials' `await server.serve_forever()` runs
// until Ctrl-C; here the client's end cancels it, which is what Ctrl-C does.
aio::Coro<void> serve_one_client(aio::Server* server, int port) {
    aio::Task<void> serving = aio::create_task(server->serve_forever());
    co_await echo_client(port);
    serving.cancel();
    try {
        co_await serving;
    } catch (const aio::CancelledError&) {
        say(std::string("serve_forever() cancelled; is_serving() ") +
            (server->is_serving() ? "true" : "false"));
    }
}

aio::Coro<void> echo_part() {
    start_clock();
    std::shared_ptr<aio::Server> server = co_await aio::start_server(handle_echo, "127.0.0.1", 0);
    aio::Address address = address_of(*server);
    say("Serving on " + address.repr());
    int port = address.port;
    auto body = [port](aio::Server& s) { return serve_one_client(&s, port); };
    co_await aio::async_with(*server, body);  // exit: close(), then wait_closed()
    say("async with server: done, " + std::to_string(server->active_count()) + " connections left");
}

// ---- 2. readline and line iteration -------------------------------------------------

std::string upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// Python: `async for line in reader: writer.write(line.upper()); await writer.drain()`.
aio::Coro<void> answer_lines(StreamReader reader, StreamWriter writer) {
    aio::AsyncGenerator<bytes> lines = reader.lines();
    while (std::optional<bytes> line = co_await lines.next()) {
        say("server: line " + aio::repr(*line) + ", " + std::to_string(reader.buffered()) +
            " bytes still buffered");
        writer.write(upper(line->decode()));
        co_await writer.drain();
    }
    say(std::string("server: the async for ended: at_eof() ") +
        (reader.at_eof() ? "true" : "false"));
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<void> lines_part() {
    start_clock();
    std::shared_ptr<aio::Server> server = co_await aio::start_server(answer_lines, "127.0.0.1", 0);
    int port = address_of(*server).port;
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    bytes three = "apple\nbanana\ncherry\n"_b;
    writer.write(three);
    say("client: one write of " + std::to_string(three.size()) + " bytes: " + aio::repr(three));
    for (int i = 0; i < 3; ++i) {
        bytes reply = co_await reader.readline();
        say("client: readline() -> " + aio::repr(reply));
    }
    writer.write_eof();
    say("client: write_eof()");
    bytes rest = co_await reader.read();
    say("client: read() -> " + aio::repr(rest) + ": the server closed");
    co_await hang_up(writer, server);
}

// ---- 3. backpressure ------------------------------------------------------------------

constexpr std::size_t CHUNK = 64 * 1024;
constexpr std::size_t BIG = 1024 * 1024;

// Small kernel buffers (the kernel doubles the value), so that the kernel cannot
// swallow the megabyte and the backpressure is the transports' to show.
void small_kernel_buffer(const StreamWriter& writer, int option) {
    const aio::socket* sock = writer.get_extra_info<const aio::socket*>("socket").value();
    int size = 32 * 1024;
    ::setsockopt(sock->fileno(), SOL_SOCKET, option, &size, sizeof size);
}

// Reads 64 KiB every 0.05 s: far slower than a loopback writer.
aio::Coro<void> slow_reader(StreamReader reader, StreamWriter writer) {
    small_kernel_buffer(writer, SO_RCVBUF);
    std::size_t total = 0;
    std::size_t peak = 0;
    int paused = 0;
    for (;;) {
        co_await aio::sleep(0.05);
        peak = std::max(peak, reader.buffered());
        paused += reader.paused() ? 1 : 0;
        bytes data = co_await reader.read(CHUNK);
        if (data.empty()) break;
        total += data.size();
    }
    say("server: read " + std::to_string(total) + " bytes; its reader held at most " +
        std::to_string(peak) + " (limit " + std::to_string(reader.limit()) +
        "), and had paused its transport at " + std::to_string(paused) + " of its reads");
    writer.close();
    co_await writer.wait_closed();
}

std::string buffered(const StreamWriter& writer) {
    return std::to_string(writer.transport()->get_write_buffer_size()) + " bytes buffered";
}

aio::Coro<void> backpressure_part() {
    start_clock();
    std::shared_ptr<aio::Server> server = co_await aio::start_server(slow_reader, "127.0.0.1", 0);
    int port = address_of(*server).port;
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    small_kernel_buffer(writer, SO_SNDBUF);
    auto [low, high] = writer.transport()->get_write_buffer_limits();
    say("client: write buffer limits: low " + std::to_string(low) + ", high " +
        std::to_string(high));
    writer.write(bytes(1024));
    say("client: write(1 KiB): " + buffered(writer));
    co_await writer.drain();
    say("client: drain() returned: " + buffered(writer));
    writer.write(bytes(BIG));
    say("client: write(1 MiB): " + buffered(writer));
    co_await writer.drain();
    say("client: drain() returned: " + buffered(writer));
    writer.write_eof();
    bytes end = co_await reader.read();  // b'': the server read everything and closed
    say("client: read() -> " + aio::repr(end));
    co_await hang_up(writer, server);
}

// ---- 4. the Protocol echo server ------------------------------------------------------

// asyncio docs: "TCP Echo Server" with a Protocol. It answers once, then closes.
class EchoServerProtocol : public aio::Protocol {
public:
    void connection_made(std::shared_ptr<aio::Transport> transport) override {
        say("server: Connection from " +
            transport->get_extra_info<aio::Address>("peername").value().repr());
        transport_ = std::move(transport);
    }
    void data_received(bytes data) override {
        std::string message = data.decode();
        say("server: Data received: " + aio::repr(message));
        say("server: Send: " + aio::repr(message));
        transport_->write(std::move(data));
        say("server: Close the client socket");
        transport_->close();
    }
    void connection_lost(std::exception_ptr exc) override {
        say("server: connection_lost(" + (exc ? aio::describe_exception(exc) : "None") + ")");
        transport_.reset();
    }

private:
    std::shared_ptr<aio::Transport> transport_;
};

// asyncio docs: "TCP Echo Client" with a Protocol; on_con_lost is set when it ends.
class EchoClientProtocol : public aio::Protocol {
public:
    EchoClientProtocol(std::string message, aio::Future<bool> on_con_lost)
        : message_(std::move(message)), on_con_lost_(std::move(on_con_lost)) {}
    void connection_made(std::shared_ptr<aio::Transport> transport) override {
        transport->write(bytes(message_));
        say("client: Data sent: " + aio::repr(message_));
    }
    void data_received(bytes data) override {
        say("client: Data received: " + aio::repr(data.decode()));
    }
    void connection_lost(std::exception_ptr) override {
        say("client: The server closed the connection");
        on_con_lost_.set_result(true);
    }

private:
    std::string message_;
    aio::Future<bool> on_con_lost_;
};

aio::Coro<void> protocol_part() {
    start_clock();
    aio::EventLoop& loop = aio::get_running_loop();
    auto server_factory = [] { return std::make_shared<EchoServerProtocol>(); };
    std::shared_ptr<aio::Server> server =
        co_await loop.create_server(server_factory, "127.0.0.1", 0);
    aio::Address address = address_of(*server);
    say("Serving on " + address.repr());
    aio::Future<bool> on_con_lost = loop.create_future<bool>();
    auto client_factory = [on_con_lost] {
        return std::make_shared<EchoClientProtocol>("Hello World!", on_con_lost);
    };
    auto [transport, protocol] =
        co_await loop.create_connection(client_factory, "127.0.0.1", address.port);
    say("create_connection returned (transport, protocol)");
    co_await on_con_lost;  // Python: `try: await on_con_lost finally: transport.close()`
    transport->close();
    server->close();
    co_await server->wait_closed();
}

// ---- 5. errors ------------------------------------------------------------------------

// A bound socket that does not listen: its port is ours, and refuses connections.
aio::Coro<void> refused() {
    aio::socket unused(AF_INET, SOCK_STREAM);
    unused.bind(aio::Address("127.0.0.1", 0));
    int port = unused.getsockname().port;
    try {
        co_await aio::open_connection("127.0.0.1", port);
    } catch (const aio::ConnectionRefusedError&) {
        say("open_connection: " + aio::describe_exception(std::current_exception()));
    }
}

aio::Coro<void> say_little(StreamReader, StreamWriter writer) {
    writer.write("8 bytes!"_b);
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<void> short_read() {
    std::shared_ptr<aio::Server> server = co_await aio::start_server(say_little, "127.0.0.1", 0);
    int port = address_of(*server).port;
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    try {
        co_await reader.readexactly(16);
    } catch (const aio::IncompleteReadError& e) {
        say("readexactly(16): " + aio::describe_exception(std::current_exception()));
        say("  e.partial = " + aio::repr(e.partial()) +
            ", e.expected = " + std::to_string(e.expected().value_or(0)));
    }
    co_await hang_up(writer, server);
}

aio::Coro<void> errors_part() {
    start_clock();
    co_await refused();
    co_await short_read();
}

}  // namespace

using demo::heading;

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);

    heading("1. the tutorials' TCP echo server, and a client for it (tutorials 000, 001)",
            "each message is Received by the server at the moment the client sends it "
            "(0.00, 0.50) and comes back whole; the client's close() at 1.00 is the "
            "server's EOF: read(100) gives b'' and the server prints Close the connection");
    aio::run(echo_part());

    heading("2. readline() and `async for line in reader` (reader.lines())",
            "the three lines arrive in one piece (after the first, 14 bytes are still "
            "buffered), yet the async for yields them one at a time; it ends at the "
            "client's write_eof()");
    aio::run(lines_part());

    heading("3. backpressure: a 1 MiB write into a slow reader (drain, high water 64 KiB)",
            "1 KiB goes straight to the kernel (0 bytes buffered) and drain() returns at "
            "once; after 1 MiB most of it is buffered, above the high-water mark, and "
            "drain() waits for the slow reader until the buffer is at most the low mark");
    aio::run(backpressure_part());

    heading("4. the layer below: a Protocol echo server and create_connection (asyncio docs)",
            "the callbacks come in asyncio's order: connection_made, data_received, then "
            "connection_lost; the server's close() after its write still delivers the "
            "echo, and the client's connection_lost sets on_con_lost");
    aio::run(protocol_part());

    heading("5. errors: a refused connection, readexactly() at EOF",
            "the refusal names the address, as asyncio's; IncompleteReadError carries "
            "the 8 bytes that came (e.partial) and the 16 expected");
    aio::run(errors_part());
    return 0;
}
