// test_pipes_streams.cpp - streams over pipes, as asyncio's programs build them
// (reader = StreamReader(); protocol = StreamReaderProtocol(reader);
// loop.connect_read_pipe(lambda: protocol, pipe)), cancellation of a read over a pipe,
// and detail::connect_pipes, the subprocess layer's way to a child's three pipes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/streams.hpp"
#include "lesson05_io/unix_events.hpp"
#include "pipe_helpers.hpp"
#include "recorder.hpp"

using aio::bytes;
using namespace aio::literals;
using Trace = std::vector<std::string>;

namespace {

using test::os_pipe;
// asyncio's recipe for a StreamReader over a read pipe.
aio::Coro<aio::StreamReader> pipe_reader(aio::EventLoop* loop, int fd) {
    aio::StreamReader reader;
    auto protocol = std::make_shared<aio::StreamReaderProtocol>(reader);
    auto factory = [protocol] { return protocol; };  // named: see the GCC 12 note
    co_await loop->connect_read_pipe(factory, fd);
    co_return reader;
}

// And for a StreamWriter over a write pipe (asyncio: FlowControlMixin as the protocol;
// here a StreamReaderProtocol, whose reader is never fed).
aio::Coro<aio::StreamWriter> pipe_writer(aio::EventLoop* loop, int fd) {
    auto protocol = std::make_shared<aio::StreamReaderProtocol>(aio::StreamReader());
    auto factory = [protocol] { return protocol; };
    auto [transport, proto] = co_await loop->connect_write_pipe(factory, fd);
    co_return aio::StreamWriter(transport, proto, std::nullopt, *loop);
}

aio::Coro<void> write_all(aio::StreamWriter writer, bytes data, std::size_t chunk) {
    for (std::size_t at = 0; at < data.size(); at += chunk) {
        writer.write(bytes(data.data() + at, std::min(chunk, data.size() - at)));
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("pipes: a StreamReader fed by a read pipe reads lines, then b'' at EOF") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            aio::StreamReader reader = co_await pipe_reader(loop, r);
            CHECK(::write(w, "one\ntwo\nthr", 11) == 11);
            CHECK(co_await reader.readline() == "one\n"_b);
            CHECK(co_await reader.readline() == "two\n"_b);
            CHECK(::write(w, "ee\n", 3) == 3);
            ::close(w);
            CHECK(co_await reader.readline() == "three\n"_b);
            CHECK(co_await reader.readline() == ""_b);
            CHECK(reader.at_eof());
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: a StreamWriter over a write pipe drains against a slow StreamReader on the read "
        "end; 1 MiB arrives whole, then EOF") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            aio::StreamReader reader = co_await pipe_reader(loop, r);
            aio::StreamWriter writer = co_await pipe_writer(loop, w);
            CHECK(writer.can_write_eof());
            bytes big = test::pattern(1 << 20);
            aio::Task<void> writing = aio::create_task(write_all(writer, big, 100 * 1024));
            bytes got;
            for (;;) {
                bytes part = co_await reader.read(8192);
                if (part.empty()) break;
                got += part;
                co_await aio::sleep(0.0002);
            }
            co_await writing;
            CHECK(got == big);
        };
        test::run(*f.loop, main(f.loop.get()), 30);
    }

    TEST_CASE("pipes: drain() after the reader closed its end raises ConnectionResetError") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            aio::StreamWriter writer = co_await pipe_writer(loop, w);
            ::close(r);
            writer.write("lost"_b);  // EPIPE: the connection ends (no SIGPIPE)
            CHECK(co_await test::thrown_by<aio::ConnectionResetError>(writer.drain()) ==
                  "ConnectionResetError(104, 'Connection lost')");
            CHECK(co_await test::thrown_by<aio::BrokenPipeError>(writer.wait_closed()) ==
                  "BrokenPipeError(32, 'Broken pipe')");
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: a StreamReader that is not read pauses its read pipe past 2 x limit, and resumes "
        "it when read") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            aio::StreamReader reader(1024);
            auto protocol = std::make_shared<aio::StreamReaderProtocol>(reader);
            auto factory = [protocol] { return protocol; };
            auto [transport, proto] = co_await loop->connect_read_pipe(factory, r);
            bytes data = test::pattern(80 * 1024);
            std::size_t first = 48 * 1024, rest = data.size() - first;
            CHECK(::write(w, data.data(), first) == static_cast<ssize_t>(first));
            co_await aio::sleep(0.02);
            CHECK(reader.paused());  // one read() took the 48 KiB: past 2 x 1024
            CHECK_FALSE(transport->is_reading());
            CHECK(::write(w, data.data() + first, rest) == static_cast<ssize_t>(rest));
            co_await aio::sleep(0.02);
            CHECK(reader.buffered() == first);  // the rest waits in the kernel's pipe
            ::close(w);
            bytes got = co_await reader.read();
            CHECK(got == data);
            CHECK(reader.at_eof());
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: a cancelled readline over a pipe leaves the reader usable") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            aio::StreamReader reader = co_await pipe_reader(loop, r);
            aio::Task<bytes> waiting = aio::create_task(reader.readline());
            co_await aio::sleep(0.01);
            CHECK_FALSE(waiting.done());
            waiting.cancel();
            CHECK(co_await test::thrown_by<aio::CancelledError>(waiting) == "CancelledError()");
            CHECK(::write(w, "after\n", 6) == 6);
            CHECK(co_await reader.readline() == "after\n"_b);
            ::close(w);
            CHECK(co_await reader.read() == ""_b);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: connect_pipes makes a child's stdin (write), stdout and stderr (read) "
        "transports; -1 makes none") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [in_r, in_w] = os_pipe();
            auto [out_r, out_w] = os_pipe();
            std::array<std::shared_ptr<aio::Protocol>, 3> protocols;
            std::array<std::shared_ptr<test::Recorder>, 3> recorders;
            for (int i = 0; i < 3; ++i)
                protocols[i] = recorders[i] = std::make_shared<test::Recorder>(*loop);
            std::array<aio::detail::OwnedFd, 3> fds{
                aio::detail::OwnedFd(in_w), aio::detail::OwnedFd(out_r), aio::detail::OwnedFd()};
            // Named first: std::array is an aggregate (the GCC 12 co_await note).
            aio::Coro<aio::detail::ChildPipes> connecting =
                aio::detail::connect_pipes(*loop, std::move(fds), protocols);
            aio::detail::ChildPipes pipes = co_await std::move(connecting);
            REQUIRE(pipes[0]);
            REQUIRE(pipes[1]);
            CHECK_FALSE(pipes[2]);
            CHECK(recorders[2]->trace.empty());
            CHECK(pipes[0]->can_write_eof());  // stdin is the write pipe
            CHECK(pipes[1]->is_reading());
            pipes[0]->write("to the child"_b);
            pipes[0]->close();
            CHECK(::write(out_w, "from the child", 14) == 14);
            ::close(out_w);
            co_await recorders[0]->lost;
            co_await recorders[1]->lost;
            CHECK(recorders[1]->received == "from the child"_b);
            char buf[32];
            CHECK(::read(in_r, buf, sizeof buf) == 12);
            ::close(in_r);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: connect_pipes failing on one fd closes the transports made and every fd it was "
        "given") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [in_r, in_w] = os_pipe();
            auto [err_r, err_w] = os_pipe();
            std::FILE* file = std::tmpfile();
            int regular = ::dup(::fileno(file));
            std::fclose(file);
            auto stdin_proto = std::make_shared<test::Recorder>(*loop);
            std::array<std::shared_ptr<aio::Protocol>, 3> protocols{
                stdin_proto, std::make_shared<test::Recorder>(*loop),
                std::make_shared<test::Recorder>(*loop)};
            std::array<aio::detail::OwnedFd, 3> fds{aio::detail::OwnedFd(in_w),
                                                    aio::detail::OwnedFd(regular),
                                                    aio::detail::OwnedFd(err_r)};
            aio::Coro<aio::detail::ChildPipes> connecting =
                aio::detail::connect_pipes(*loop, std::move(fds), protocols);
            CHECK(co_await test::thrown_by<aio::ValueError>(std::move(connecting)) ==
                  "ValueError('Pipe transport is for pipes/sockets only.')");
            co_await stdin_proto->lost;
            CHECK(stdin_proto->trace == Trace{"connection_made", "connection_lost(None)"});
            ::close(in_r);
            ::close(err_w);
        };
        test::run(*f.loop, main(f.loop.get()));
    }
}
