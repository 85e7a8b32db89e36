// test_streams.cpp - StreamReader fed by hand (every read method, limits, EOF, errors,
// cancellation, backpressure against a fake transport), then streams over real
// loopback connections (test_stream_connections.cpp).
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/selector_events.hpp"
#include "lesson05_io/sock_ops.hpp"
#include "lesson05_io/streams.hpp"

using aio::bytes;
using aio::StreamReader;
using namespace aio::literals;

namespace {

// A transport that records pause_reading/resume_reading and nothing else.
class FakeTransport : public aio::Transport {
public:
    std::vector<std::string> calls;
    bool reading = true;

    aio::ExtraInfo get_extra_info(std::string_view) const override { return {}; }
    bool is_closing() const override { return false; }
    void close() override {}
    bool is_reading() const override { return reading; }
    void pause_reading() override {
        reading = false;
        calls.push_back("pause_reading");
    }
    void resume_reading() override {
        reading = true;
        calls.push_back("resume_reading");
    }
    void write(bytes) override {}
    void write_eof() override {}
    bool can_write_eof() const override { return true; }
    void abort() override {}
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {}
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { return {}; }
    std::size_t get_write_buffer_size() const override { return 0; }
    void set_protocol(std::shared_ptr<aio::Protocol>) override {}
    std::shared_ptr<aio::Protocol> get_protocol() const override { return nullptr; }
};

// Feeds `chunks` one per loop iteration (as a transport would, one recv per wake-up),
// then EOF if asked.
aio::Coro<void> feed_later(StreamReader reader, std::vector<bytes> chunks, bool eof) {
    for (bytes& chunk : chunks) {
        co_await aio::sleep(0);
        reader.feed_data(std::move(chunk));
    }
    if (eof) reader.feed_eof();
}

aio::Coro<std::vector<bytes>> read_n_times(StreamReader reader, long long n, int times) {
    std::vector<bytes> got;
    for (int i = 0; i < times; ++i) got.push_back(co_await reader.read(n));
    co_return got;
}

aio::Coro<std::vector<bytes>> read_lines_while_fed(StreamReader reader, std::vector<bytes> chunks) {
    aio::create_task(aio::get_running_loop(), feed_later(reader, std::move(chunks), true));
    std::vector<bytes> lines;
    for (;;) {
        bytes line = co_await reader.readline();
        if (line.empty()) co_return lines;
        lines.push_back(std::move(line));
    }
}

aio::Coro<std::vector<bytes>> iterate_lines(StreamReader reader) {
    std::vector<bytes> lines;
    aio::AsyncGenerator<bytes> gen = reader.lines();
    while (std::optional<bytes> line = co_await gen.next()) lines.push_back(std::move(*line));
    co_return lines;
}

aio::Coro<bytes> read_after_feeding(StreamReader reader, std::vector<bytes> chunks, long long n) {
    aio::create_task(aio::get_running_loop(), feed_later(reader, std::move(chunks), false));
    bytes data = co_await reader.readexactly(n);
    co_return data;
}

aio::Coro<bytes> readuntil_while_fed(StreamReader reader, std::vector<bytes> chunks, bytes sep) {
    aio::create_task(aio::get_running_loop(), feed_later(reader, std::move(chunks), false));
    bytes data = co_await reader.readuntil(std::move(sep));
    co_return data;
}

// Starts a read, cancels it while it waits, then feeds and reads again.
aio::Coro<std::string> cancel_waiting_read(StreamReader reader) {
    aio::Task<bytes> reading = aio::create_task(aio::get_running_loop(), reader.read(100));
    co_await aio::sleep(0);
    reading.cancel();
    std::string first = co_await test::thrown_by<aio::CancelledError>(reading);
    reader.feed_data("kept"_b);
    bytes second = co_await reader.read(100);
    co_return first + " then " + aio::repr(second);
}

aio::Coro<std::string> two_readers(StreamReader reader) {
    aio::Task<bytes> first = aio::create_task(aio::get_running_loop(), reader.readline());
    co_await aio::sleep(0);
    std::string error = co_await test::thrown_by<aio::RuntimeError>(reader.read(1));
    reader.feed_data("line\n"_b);
    bytes line = co_await first;
    co_return error + " / " + aio::repr(line);
}

aio::Coro<std::string> error_wakes_waiter(StreamReader reader) {
    aio::Task<bytes> reading = aio::create_task(aio::get_running_loop(), reader.readline());
    co_await aio::sleep(0);
    reader.set_exception(std::make_exception_ptr(aio::ConnectionResetError(104, "reset")));
    std::string woken = co_await test::thrown_by<aio::ConnectionResetError>(reading);
    std::string again = co_await test::thrown_by<aio::ConnectionResetError>(reader.read(1));
    co_return woken + " / " + again;
}

aio::Coro<std::string> incomplete_read(StreamReader reader, bytes* partial) {
    try {
        co_await reader.readexactly(5);
    } catch (const aio::IncompleteReadError& e) {
        *partial = e.partial();
        co_return aio::repr(e) + " " + aio::repr(e.partial());
    }
    co_return "no exception";
}

aio::Coro<std::string> limit_overrun(StreamReader reader) {
    try {
        co_await reader.readuntil("\n"_b);
    } catch (const aio::LimitOverrunError& e) {
        co_return aio::repr(e) + " " + std::to_string(e.consumed());
    }
    co_return "no exception";
}

// Feeds 300-byte chunks with no newline to a waiting readline, again and again: each
// readline ends in ValueError and the buffer never holds more than the limit plus what
// one feed adds.
aio::Coro<std::string> flood_one_line(StreamReader reader) {
    std::string error;
    std::size_t most = 0;
    for (int round = 0; round < 5; ++round) {
        aio::Task<bytes> line = aio::create_task(aio::get_running_loop(), reader.readline());
        for (int i = 0; i < 10 && !line.done(); ++i) {
            reader.feed_data(bytes(std::string(300, 'x')));
            most = std::max(most, reader.buffered());
            co_await aio::sleep(0);
        }
        error = co_await test::thrown_by<aio::ValueError>(line);
    }
    CHECK(most <= 1000 + 300);
    co_return error;
}

// ---- over a socketpair: the protocol and the writer on a real transport ----

aio::Coro<std::string> talk_over_socketpair() {
    auto [a, b] = aio::socketpair();
    auto [ra, wa] = co_await aio::open_connection(std::move(a));
    auto [rb, wb] = co_await aio::open_connection(std::move(b));
    CHECK(wa.get_extra_info<const aio::socket*>("socket").has_value());
    wa.write("ping\n"_b);
    wa.writelines({"two "_b, "parts\n"_b});
    bytes first = co_await rb.readline();
    bytes second = co_await rb.readline();
    wb.write("pong"_b);
    wb.close();
    CHECK(wb.is_closing());
    co_await wb.wait_closed();
    bytes reply = co_await ra.read();  // to EOF: b closed
    wa.close();
    co_await wa.wait_closed();
    co_return aio::repr(first) + " " + aio::repr(second) + " " + aio::repr(reply);
}

// Side b reads 8 KiB per millisecond; side a writes `total` in 64 KiB chunks with
// drain and measures its transport's buffer and the b reader's.
aio::Coro<void> read_slowly(StreamReader reader, std::size_t* received, std::size_t* peak) {
    for (;;) {
        *peak = std::max(*peak, reader.buffered());
        bytes data = co_await reader.read(8192);
        if (data.empty()) co_return;
        *received += data.size();
        co_await aio::sleep(0.001);
    }
}

aio::Coro<std::string> drain_against_slow_reader(std::size_t total) {
    auto [a, b] = aio::socketpair();
    auto [ra, wa] = co_await aio::open_connection(std::move(a));
    auto [rb, wb] = co_await aio::open_connection(std::move(b), 4096);
    std::size_t received = 0;
    std::size_t reader_peak = 0;
    aio::Task<void> slow =
        aio::create_task(aio::get_running_loop(), read_slowly(rb, &received, &reader_peak));
    std::size_t high = wa.transport()->get_write_buffer_limits().second;
    std::size_t writer_peak = 0;
    int waits = 0;
    for (std::size_t sent = 0; sent < total; sent += 65536) {
        wa.write(bytes(65536));
        std::size_t before = wa.transport()->get_write_buffer_size();
        writer_peak = std::max(writer_peak, before);
        if (before > high) ++waits;
        co_await wa.drain();
        CHECK(wa.transport()->get_write_buffer_size() <= high);
    }
    wa.write_eof();
    co_await slow;
    wa.close();
    wb.close();
    co_await wa.wait_closed();
    co_await wb.wait_closed();
    CHECK(writer_peak <= high + 65536);
    CHECK(reader_peak <= 2 * 4096 + 256 * 1024);
    CHECK(waits > 0);
    co_return std::to_string(received);
}

aio::Coro<std::string> drain_after_close() {
    auto [a, b] = aio::socketpair();
    auto [ra, wa] = co_await aio::open_connection(std::move(a));
    wa.close();
    std::string error = co_await test::thrown_by<aio::ConnectionResetError>(wa.drain());
    co_await wa.wait_closed();
    co_return error;
}

// A writer nobody holds any more closes its transport: the peer reads EOF.
aio::Coro<std::string> dropped_writer_closes(aio::socket* peer) {
    auto [a, b] = aio::socketpair();
    *peer = std::move(b);
    peer->setblocking(false);
    {
        aio::Streams streams = co_await aio::open_connection(std::move(a));
        streams.second.write("last words"_b);
    }
    aio::EventLoop& loop = aio::get_running_loop();
    bytes got = co_await loop.sock_recv(*peer, 100);
    bytes eof = co_await loop.sock_recv(*peer, 100);
    co_return aio::repr(got) + " " + aio::repr(eof);
}

aio::Coro<void> failing_handler(StreamReader reader, aio::StreamWriter) {
    bytes line = co_await reader.readline();
    throw aio::ValueError("bad request: " + line.decode());
}

// A server-side protocol on one end of a socketpair, made as start_server makes it:
// the handler's error reaches the exception handler and closes the connection.
aio::Coro<std::string> handler_error(std::vector<std::string>* reported) {
    auto [a, b] = aio::socketpair();
    aio::EventLoop& loop = aio::get_running_loop();
    loop.set_exception_handler([reported](aio::EventLoop&, const aio::ExceptionContext& c) {
        reported->push_back(c.message + ": " + aio::detail::exception_repr(c.exception));
    });
    auto protocol = std::make_shared<aio::StreamReaderProtocol>(
        StreamReader(), aio::detail::wrap_client_connected(failing_handler), &loop);
    b.setblocking(false);
    aio::Future<void> made(loop);
    std::shared_ptr<aio::Transport> server_side =
        aio::detail::make_socket_transport(loop, std::move(b), protocol, made);
    auto [ra, wa] = co_await aio::open_connection(std::move(a));
    wa.write("GET\n"_b);
    bytes rest = co_await ra.read();  // EOF: the server side was closed
    wa.close();
    co_await wa.wait_closed();
    co_return "closed with " + aio::repr(rest);
}

// readexactly and readuntil cancelled half-way through their data: the bytes they had
// seen stay buffered, and the next call gets them.
aio::Coro<std::string> cancel_half_way(StreamReader reader) {
    aio::EventLoop& loop = aio::get_running_loop();
    reader.feed_data("1234"_b);
    aio::Task<bytes> exact = aio::create_task(loop, reader.readexactly(10));
    co_await aio::sleep(0);
    exact.cancel();
    std::string first = co_await test::thrown_by<aio::CancelledError>(exact);
    reader.feed_data("567890ab|"_b);
    bytes ten = co_await reader.readexactly(10);
    aio::Task<bytes> until = aio::create_task(loop, reader.readuntil("||"_b));
    co_await aio::sleep(0);
    until.cancel();
    std::string second = co_await test::thrown_by<aio::CancelledError>(until);
    reader.feed_data("|rest"_b);
    bytes line = co_await reader.readuntil("||"_b);
    co_return first + " " + aio::repr(ten) + " " + second + " " + aio::repr(line);
}

// A drain cancelled while it waits leaves the writer usable: the next drain waits and
// returns once the peer reads.
aio::Coro<std::string> cancel_drain() {
    auto [a, b] = aio::socketpair();
    auto [ra, wa] = co_await aio::open_connection(std::move(a));
    auto [rb, wb] = co_await aio::open_connection(std::move(b));
    wa.transport()->set_write_buffer_limits(1024);
    // More than b's reader (paused past 2 * limit) and both kernel buffers can hold.
    while (wa.transport()->get_write_buffer_size() <= (2u << 20)) wa.write(bytes(65536));
    aio::Task<void> draining = aio::create_task(aio::get_running_loop(), wa.drain());
    co_await aio::sleep(0.01);
    bool waited = !draining.done();
    draining.cancel();
    std::string cancelled = co_await test::thrown_by<aio::CancelledError>(draining);
    std::size_t pending = wa.transport()->get_write_buffer_size();
    aio::Coro<void> drain_again = wa.drain();
    aio::Task<void> again = aio::create_task(aio::get_running_loop(), std::move(drain_again));
    std::size_t got = 0;
    while (!again.done()) got += (co_await rb.read(65536)).size();
    co_await again;
    wa.close();
    wb.close();
    co_await wa.wait_closed();
    co_await wb.wait_closed();
    CHECK(pending > 1024);
    CHECK(got > 0);
    co_return std::string(waited ? "waited, " : "did not wait, ") + cancelled + ", drained";
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("StreamReader.read(n) returns what is buffered, at least one byte, b'' at EOF") {
        test::LoopFixture f;
        StreamReader reader;
        reader.feed_data("hello world"_b);
        std::vector<bytes> got = test::run(*f.loop, read_n_times(reader, 5, 2));
        CHECK(aio::repr(got) == "[b'hello', b' worl']");
        // Waiting: one chunk arrives, the read returns it without waiting for n bytes.
        aio::Task<void> feeder = f.loop->create_task(feed_later(reader, {"ab"_b, "cd"_b}, true));
        got = test::run(*f.loop, read_n_times(reader, 100, 4));
        CHECK(aio::repr(got) == "[b'd', b'ab', b'cd', b'']");
        CHECK(reader.at_eof());
    }

    TEST_CASE("StreamReader.read() reads every byte until EOF, past the limit") {
        test::LoopFixture f;
        StreamReader reader(4);
        f.loop->create_task(feed_later(reader, {"0123456789"_b, "abcdef"_b, "!"_b}, true));
        bytes all = test::run(*f.loop, reader.read());
        CHECK(all == "0123456789abcdef!"_b);
        CHECK(test::run(*f.loop, reader.read()) == bytes());
        CHECK(test::run(*f.loop, reader.read(0)) == bytes());
    }

    TEST_CASE("readline splits fed chunks into lines; the last may lack b'\\n'; then b''") {
        test::LoopFixture f;
        StreamReader reader;
        std::vector<bytes> lines =
            test::run(*f.loop, read_lines_while_fed(reader, {"one\ntw"_b, "o\n\nthr"_b, "ee"_b}));
        CHECK(aio::repr(lines) == "[b'one\\n', b'two\\n', b'\\n', b'three']");
        CHECK(reader.at_eof());
    }

    TEST_CASE("lines() is `async for line in reader`") {
        test::LoopFixture f;
        StreamReader reader;
        reader.feed_data("a\nbb\nccc"_b);
        reader.feed_eof();
        CHECK(aio::repr(test::run(*f.loop, iterate_lines(reader))) ==
              "[b'a\\n', b'bb\\n', b'ccc']");
    }

    TEST_CASE("readexactly waits for n bytes across chunks, and returns no more") {
        test::LoopFixture f;
        StreamReader reader;
        bytes got = test::run(*f.loop, read_after_feeding(reader, {"ab"_b, "cde"_b, "fgh"_b}, 7));
        CHECK(got == "abcdefg"_b);
        CHECK(reader.buffered() == 1);
        CHECK(test::run(*f.loop, reader.readexactly(0)) == bytes());
        CHECK(test::run(*f.loop, test::thrown_by<aio::ValueError>(reader.readexactly(-1))) ==
              "ValueError('readexactly size can not be less than zero')");
    }

    TEST_CASE("readexactly at EOF raises IncompleteReadError carrying the partial bytes") {
        test::LoopFixture f;
        StreamReader reader(10);
        reader.feed_data("abc"_b);
        reader.feed_eof();
        bytes partial;
        CHECK(test::run(*f.loop, incomplete_read(reader, &partial)) ==
              "IncompleteReadError('3 bytes read on a total of 5 expected bytes') b'abc'");
        CHECK(reader.buffered() == 0);
    }

    TEST_CASE("readuntil finds a separator split across chunks") {
        test::LoopFixture f;
        StreamReader reader;
        bytes got =
            test::run(*f.loop, readuntil_while_fed(reader, {"abc\r"_b, "\ndef"_b}, "\r\n"_b));
        CHECK(got == "abc\r\n"_b);
        CHECK(reader.buffered() == 3);
    }

    TEST_CASE("readuntil past the limit raises LimitOverrunError and leaves the buffer as is") {
        test::LoopFixture f;
        StreamReader reader(4);
        reader.feed_data("abcdefgh"_b);
        CHECK(test::run(*f.loop, limit_overrun(reader)) ==
              "LimitOverrunError('Separator is not found, and chunk exceed the limit') 8");
        CHECK(reader.buffered() == 8);
        // A found separator beyond the limit: same error, other text, data kept.
        reader.feed_data("\n"_b);
        CHECK(test::run(*f.loop, test::thrown_by<aio::LimitOverrunError>(reader.readuntil())) ==
              "LimitOverrunError('Separator is found, but chunk is longer than limit')");
        CHECK(reader.buffered() == 9);
        CHECK(test::run(*f.loop, reader.readexactly(9)) == "abcdefgh\n"_b);
    }

    TEST_CASE("readuntil at EOF without the separator raises IncompleteReadError, expected None") {
        test::LoopFixture f;
        StreamReader reader;
        reader.feed_data("no sep"_b);
        reader.feed_eof();
        CHECK(test::run(*f.loop, test::thrown_by<aio::IncompleteReadError>(reader.readuntil())) ==
              "IncompleteReadError('6 bytes read on a total of undefined expected bytes')");
        CHECK(reader.at_eof());
        CHECK(test::run(*f.loop, test::thrown_by<aio::ValueError>(reader.readuntil(bytes()))) ==
              "ValueError('Separator should be at least one-byte string')");
    }

    TEST_CASE("an over-long line: readline raises ValueError and drops it, the next line reads") {
        test::LoopFixture f;
        StreamReader reader(4);
        reader.feed_data("abcdefgh"_b);  // no newline yet: the whole buffer is dropped
        CHECK(test::run(*f.loop, test::thrown_by<aio::ValueError>(reader.readline())) ==
              "ValueError('Separator is not found, and chunk exceed the limit')");
        CHECK(reader.buffered() == 0);
        reader.feed_data("abcdefg\nxy\n"_b);  // newline found past the limit: that line goes
        CHECK(test::run(*f.loop, test::thrown_by<aio::ValueError>(reader.readline())) ==
              "ValueError('Separator is found, but chunk is longer than limit')");
        CHECK(test::run(*f.loop, reader.readline()) == "xy\n"_b);
        CHECK(aio::repr(reader) == "<StreamReader limit=4>");
    }

    TEST_CASE("a line that never ends never grows the buffer past the limit plus a chunk") {
        test::LoopFixture f;
        auto transport = std::make_shared<FakeTransport>();
        StreamReader reader(1000);
        reader.set_transport(transport);
        CHECK(test::run(*f.loop, flood_one_line(reader)) ==
              "ValueError('Separator is not found, and chunk exceed the limit')");
    }

    TEST_CASE("set_exception wakes the waiting read with the error, and later reads raise it") {
        test::LoopFixture f;
        StreamReader reader;
        CHECK(test::run(*f.loop, error_wakes_waiter(reader)) ==
              "ConnectionResetError(104, 'reset') / ConnectionResetError(104, 'reset')");
        CHECK(reader.exception() != nullptr);
    }

    TEST_CASE("a read cancelled while waiting takes no data: the next read gets it all") {
        test::LoopFixture f;
        StreamReader reader;
        CHECK(test::run(*f.loop, cancel_waiting_read(reader)) == "CancelledError() then b'kept'");
    }

    TEST_CASE("two reads waiting at once: the second raises RuntimeError, as asyncio's") {
        test::LoopFixture f;
        StreamReader reader;
        CHECK(test::run(*f.loop, two_readers(reader)) ==
              "RuntimeError('read() called while another coroutine is already waiting for "
              "incoming data') / b'line\\n'");
    }

    TEST_CASE("backpressure: the reader pauses its transport past 2*limit, resumes at the limit") {
        test::LoopFixture f;
        auto transport = std::make_shared<FakeTransport>();
        StreamReader reader(10);
        reader.set_transport(transport);
        reader.feed_data(bytes(std::string(20, 'a')));  // 20 = 2 * limit: not past it
        CHECK(transport->calls.empty());
        reader.feed_data("b"_b);  // 21
        CHECK(transport->calls == std::vector<std::string>{"pause_reading"});
        CHECK(reader.paused());
        reader.feed_data("c"_b);                                // paused already: no second call
        CHECK(test::run(*f.loop, reader.read(5)).size() == 5);  // 17 left: still paused
        CHECK(transport->calls.size() == 1);
        CHECK(test::run(*f.loop, reader.read(7)).size() == 7);  // 10 left: resumed
        CHECK(transport->calls == std::vector<std::string>{"pause_reading", "resume_reading"});
        CHECK_FALSE(reader.paused());
    }

    TEST_CASE("backpressure: readexactly(n) with n > 2*limit resumes the paused transport") {
        test::LoopFixture f;
        auto transport = std::make_shared<FakeTransport>();
        StreamReader reader(4);
        reader.set_transport(transport);
        bytes got = test::run(
            *f.loop, read_after_feeding(
                         reader, {bytes(std::string(9, 'x')), bytes(std::string(9, 'y'))}, 18));
        CHECK(got.size() == 18);
        // Paused by the first chunk, resumed by the read that waits, paused by the
        // second chunk, resumed when the read takes it all.
        CHECK(transport->calls == std::vector<std::string>{"pause_reading", "resume_reading",
                                                           "pause_reading", "resume_reading"});
    }

    TEST_CASE("StreamReader misuse: limit 0, feed_data after feed_eof, a second transport") {
        CHECK_THROWS_WITH_AS(StreamReader(0), "Limit cannot be <= 0", aio::ValueError);
        StreamReader reader;
        reader.feed_eof();
        CHECK_THROWS_AS(reader.feed_data("x"_b), aio::RuntimeError);
        auto transport = std::make_shared<FakeTransport>();
        reader.set_transport(transport);
        CHECK_THROWS_WITH_AS(reader.set_transport(transport), "Transport already set",
                             aio::RuntimeError);
        CHECK(aio::repr(reader) == "<StreamReader eof>");
    }
    TEST_CASE("streams over a socketpair: readline, writelines, close, wait_closed, read to EOF") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, talk_over_socketpair()) == "b'ping\\n' b'two parts\\n' b'pong'");
    }

    TEST_CASE(
        "drain holds a fast writer at the high-water mark; the slow side's reader stays bounded") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, drain_against_slow_reader(2 << 20), 60) ==
              std::to_string(2 << 20));
    }

    TEST_CASE(
        "drain after the connection was lost raises ConnectionResetError('Connection lost')") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, drain_after_close()) ==
              "ConnectionResetError(104, 'Connection lost')");
    }

    TEST_CASE("a StreamWriter nobody holds closes its connection (asyncio 3.11.7: __del__)") {
        test::LoopFixture f;
        aio::socket peer;
        CHECK(test::run(*f.loop, dropped_writer_closes(&peer)) == "b'last words' b''");
    }

    TEST_CASE("a client_connected_cb that throws is reported and its connection closed") {
        test::LoopFixture f;
        std::vector<std::string> reported;
        CHECK(test::run(*f.loop, handler_error(&reported)) == "closed with b''");
        CHECK(reported == std::vector<std::string>{"Unhandled exception in client_connected_cb: "
                                                   "ValueError('bad request: GET\\n')"});
    }
    TEST_CASE("readexactly and readuntil cancelled half-way leave their bytes for the next call") {
        test::LoopFixture f;
        StreamReader reader;
        CHECK(test::run(*f.loop, cancel_half_way(reader)) ==
              "CancelledError() b'1234567890' CancelledError() b'ab||'");
    }

    TEST_CASE("a drain cancelled while waiting leaves the writer usable") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, cancel_drain()) == "waited, CancelledError(), drained");
    }
}
