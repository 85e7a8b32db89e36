// test_pipes.cpp - the pipe transports (unix_events.hpp) over os.pipe() pairs,
// socketpairs and character devices: data and EOF both ways, flow control with a slow
// reader, the reader closing its end (BrokenPipeError, never SIGPIPE), pause/resume
// reading, close flushing and abort dropping, what is refused, streams over pipes and
// cancellation, connect_pipes for a child's three fds. LoopFixture checks no fd leaks.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
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
#include "lesson05_io/sock_ops.hpp"
#include "lesson05_io/streams.hpp"
#include "lesson05_io/unix_events.hpp"
#include "pipe_helpers.hpp"
#include "recorder.hpp"

using aio::bytes;
using namespace aio::literals;
using Trace = std::vector<std::string>;

namespace {

using test::os_pipe;
using test::set_nonblocking;
// Reads a non-blocking fd until EOF, at most `chunk` bytes per read, pausing `pause`
// seconds of loop time after each read (a slow reader).
aio::Coro<bytes> read_to_eof(aio::EventLoop* loop, int fd, std::size_t chunk = 65536,
                             double pause = 0) {
    bytes all;
    std::string buf(chunk, '\0');
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), chunk);
        if (n == 0) co_return all;
        if (n < 0) {
            REQUIRE(errno == EAGAIN);
            co_await aio::detail::fd_ready(*loop, fd, aio::EVENT_READ);
            continue;
        }
        all += bytes(buf.data(), static_cast<std::size_t>(n));
        if (pause > 0) co_await aio::sleep(pause);
    }
}

// A recorder as the factory of connect_*_pipe gives it back.
auto recorder_factory(aio::EventLoop* loop) {
    return [loop] { return std::make_shared<test::Recorder>(*loop); };
}

// A write pipe transport on a fresh pipe, its protocol a Recorder; r, the read end
// (non-blocking), is the test's to read and close.
struct WriteEnd {
    int r;
    std::shared_ptr<aio::Transport> transport;
    std::shared_ptr<test::Recorder> proto;
};
aio::Coro<WriteEnd> write_pipe(aio::EventLoop* loop) {
    auto [r, w] = os_pipe();
    set_nonblocking(r);
    auto factory = recorder_factory(loop);
    auto [transport, proto] = co_await loop->connect_write_pipe(factory, w);
    WriteEnd end{r, transport, proto};
    co_return end;
}

// Both ends of one pipe as transports, each with a Recorder.
struct BothEnds {
    std::shared_ptr<aio::Transport> reading;
    std::shared_ptr<test::Recorder> rproto;
    std::shared_ptr<aio::Transport> writing;
    std::shared_ptr<test::Recorder> wproto;
};
aio::Coro<BothEnds> both_ends(aio::EventLoop* loop) {
    auto [r, w] = os_pipe();
    auto factory = recorder_factory(loop);
    auto [reading, rproto] = co_await loop->connect_read_pipe(factory, r);
    auto [writing, wproto] = co_await loop->connect_write_pipe(factory, w);
    BothEnds ends{reading, rproto, writing, wproto};
    co_return ends;
}

// SIGPIPE's default action (death) for the length of a test, whatever the runner set.
struct DefaultSigpipe {
    struct sigaction old {};
    DefaultSigpipe() {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &dfl, &old);
    }
    ~DefaultSigpipe() { ::sigaction(SIGPIPE, &old, nullptr); }
};

bool sigpipe_pending() {
    sigset_t pending;
    ::sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE(
        "pipes: connect_read_pipe gives (transport, protocol); data, then eof_received and "
        "connection_lost(None) when the writer closes") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            auto factory = recorder_factory(loop);
            auto [transport, proto] = co_await loop->connect_read_pipe(factory, r);
            CHECK(proto->trace == Trace{"connection_made"});
            CHECK(proto->transport == transport);
            CHECK(transport->is_reading());
            CHECK(aio::repr(transport->get_extra_info("pipe")) ==
                  "<pipe fd=" + std::to_string(r) + ">");
            CHECK((::fcntl(r, F_GETFL) & O_NONBLOCK) != 0);
            CHECK((::fcntl(r, F_GETFD) & FD_CLOEXEC) != 0);
            CHECK(::write(w, "hello", 5) == 5);
            test::Recorder* rec = proto.get();  // Clang 14 captures no structured binding
            co_await test::until([&] { return rec->received.size() == 5; });
            CHECK(proto->received == "hello"_b);
            ::close(w);
            co_await proto->lost;
            CHECK(proto->trace == Trace{"connection_made", "data_received", "eof_received",
                                        "connection_lost(None)"});
            CHECK(transport->is_closing());
            CHECK(transport->get_protocol() == nullptr);
            CHECK(std::holds_alternative<std::monostate>(transport->get_extra_info("pipe")));
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: connect_write_pipe writes at once; close() closes the fd after the flush, the "
        "reader sees EOF") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, transport, proto] = co_await write_pipe(loop);
            CHECK(proto->trace == Trace{"connection_made"});
            CHECK(transport->can_write_eof());
            CHECK_FALSE(transport->is_reading());
            CHECK(aio::repr(transport->get_write_buffer_limits()) == "(16384, 65536)");
            transport->write("abc"_b);
            CHECK(transport->get_write_buffer_size() == 0);  // the kernel took it
            transport->writelines({"de"_b, "f"_b});
            transport->close();
            CHECK(transport->is_closing());
            transport->write("ignored"_b);  // after close: dropped, as asyncio's
            bytes got = co_await read_to_eof(loop, r);
            CHECK(got == "abcdef"_b);
            co_await proto->lost;
            CHECK(proto->trace == Trace{"connection_made", "connection_lost(None)"});
            ::close(r);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: a socketpair serves as a pipe both ways, through connect_*_pipe") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [a, b] = aio::socketpair();
            auto factory = recorder_factory(loop);
            auto [reading, rproto] = co_await loop->connect_read_pipe(factory, std::move(a));
            auto [writing, wproto] = co_await loop->connect_write_pipe(factory, std::move(b));
            CHECK(a.fileno() == -1);  // adopted
            writing->write("over a socket"_b);
            writing->write_eof();  // closes b: a reads EOF
            co_await rproto->lost;
            co_await wproto->lost;
            CHECK(rproto->received == "over a socket"_b);
            CHECK(rproto->trace == Trace{"connection_made", "data_received", "eof_received",
                                         "connection_lost(None)"});
            CHECK(wproto->trace == Trace{"connection_made", "connection_lost(None)"});
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: 1 MiB through a pipe to a slow reader: the writer buffers, pauses and resumes, "
        "the buffer stays bounded, the bytes arrive whole") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, transport, proto] = co_await write_pipe(loop);
            aio::Task<bytes> reader = aio::create_task(read_to_eof(loop, r, 4096, 0.0005));
            bytes big = test::pattern(1 << 20);
            std::size_t chunk = 16 * 1024, most = 0;
            test::Recorder* rec = proto.get();  // Clang 14 captures no structured binding
            for (std::size_t at = 0; at < big.size(); at += chunk) {
                transport->write(bytes(big.data() + at, chunk));
                most = std::max(most, transport->get_write_buffer_size());
                co_await test::until([&] { return !rec->writing_paused; });
            }
            transport->close();
            bytes got = co_await reader;
            CHECK(got == big);
            CHECK(most > 64 * 1024);           // it did buffer past the high-water mark
            CHECK(most <= 64 * 1024 + chunk);  // and no further: memory bounded
            co_await proto->lost;
            CHECK(std::count(proto->trace.begin(), proto->trace.end(), "pause_writing") > 1);
            CHECK(std::count(proto->trace.begin(), proto->trace.end(), "pause_writing") ==
                  std::count(proto->trace.begin(), proto->trace.end(), "resume_writing"));
            CHECK(proto->trace.back() == "connection_lost(None)");
            ::close(r);
        };
        test::run(*f.loop, main(f.loop.get()), 30);
    }

    TEST_CASE(
        "pipes: a write after the reader closed its end gives connection_lost(BrokenPipeError), "
        "and no SIGPIPE: the process lives, nothing is left pending") {
        test::LoopFixture f;
        DefaultSigpipe dfl;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            auto factory = recorder_factory(loop);
            auto [transport, proto] = co_await loop->connect_write_pipe(factory, w);
            ::close(r);
            transport->write("nobody reads this"_b);  // EPIPE: SIGPIPE if not blocked
            CHECK(transport->is_closing());
            co_await proto->lost;
            CHECK(proto->trace ==
                  Trace{"connection_made",
                        "connection_lost(BrokenPipeError: [Errno 32] Broken pipe)"});
            CHECK_FALSE(sigpipe_pending());
            transport->write("more"_b);  // ignored now
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: the reader's close is seen without a write (the write end turns readable): "
        "BrokenPipeError with data queued, None without") {
        test::LoopFixture f;
        DefaultSigpipe dfl;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto factory = recorder_factory(loop);
            {
                auto [r, w] = os_pipe();
                auto [transport, proto] = co_await loop->connect_write_pipe(factory, w);
                transport->write(test::pattern(1 << 20));  // the pipe takes 64 KiB
                CHECK(transport->get_write_buffer_size() > 0);
                ::close(r);
                co_await proto->lost;
                CHECK(proto->trace.back() ==
                      "connection_lost(BrokenPipeError: [Errno 32] Broken pipe)");
                CHECK(transport->get_write_buffer_size() == 0);
            }
            {
                auto [r, w] = os_pipe();
                auto [transport, proto] = co_await loop->connect_write_pipe(factory, w);
                ::close(r);
                co_await proto->lost;
                CHECK(proto->trace == Trace{"connection_made", "connection_lost(None)"});
            }
            CHECK_FALSE(sigpipe_pending());
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: pause_reading takes the fd out of the selector; resume_reading brings it "
        "back, and the data waiting in the pipe arrives") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            auto factory = recorder_factory(loop);
            auto [transport, proto] = co_await loop->connect_read_pipe(factory, r);
            transport->pause_reading();
            transport->pause_reading();  // idempotent
            CHECK_FALSE(transport->is_reading());
            CHECK(::write(w, "wait", 4) == 4);
            co_await aio::sleep(0.02);
            CHECK(proto->received.empty());
            transport->resume_reading();
            CHECK(transport->is_reading());
            test::Recorder* rec = proto.get();  // Clang 14 captures no structured binding
            co_await test::until([&] { return rec->received.size() == 4; });
            CHECK(proto->received == "wait"_b);
            transport->close();
            co_await proto->lost;
            CHECK(proto->trace ==
                  Trace{"connection_made", "data_received", "connection_lost(None)"});
            ::close(w);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: pause_reading before the first iteration holds (as 3.12: no reader added)") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            CHECK(::write(w, "early", 5) == 5);
            auto proto = std::make_shared<test::Recorder>(*loop);
            auto transport =
                aio::detail::make_read_pipe_transport(*loop, aio::detail::OwnedFd(r), proto);
            transport->pause_reading();
            co_await aio::sleep(0.02);
            CHECK(proto->trace == Trace{"connection_made"});
            transport->resume_reading();
            test::Recorder* rec = proto.get();  // Clang 14 captures no structured binding
            co_await test::until([&] { return rec->received.size() == 5; });
            transport->close();
            co_await proto->lost;
            ::close(w);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: close() with data buffered flushes it all, then connection_lost(None)") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, transport, proto] = co_await write_pipe(loop);
            bytes big = test::pattern(1 << 20);
            transport->write(big);
            CHECK(transport->get_write_buffer_size() > 0);
            transport->close();
            transport->close();  // idempotent
            CHECK(proto->trace == Trace{"connection_made", "pause_writing"});
            bytes got = co_await read_to_eof(loop, r);
            CHECK(got == big);
            co_await proto->lost;
            CHECK(proto->trace.back() == "connection_lost(None)");
            ::close(r);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: abort() drops the buffer and closes at once") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, transport, proto] = co_await write_pipe(loop);
            transport->write(test::pattern(1 << 20));
            std::size_t kernel = (1 << 20) - transport->get_write_buffer_size();
            transport->abort();
            CHECK(transport->get_write_buffer_size() == 0);
            transport->abort();  // a second abort: still one connection_lost
            bytes got = co_await read_to_eof(loop, r);
            CHECK(got.size() == kernel);  // what the kernel had, nothing more
            co_await proto->lost;
            CHECK(proto->trace ==
                  Trace{"connection_made", "pause_writing", "connection_lost(None)"});
            ::close(r);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: a regular file is refused with asyncio's ValueError, and its fd (adopted) is "
        "closed") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto factory = recorder_factory(loop);
            std::FILE* file = std::tmpfile();
            int fd1 = ::dup(::fileno(file));
            int fd2 = ::dup(::fileno(file));
            std::fclose(file);
            CHECK(co_await test::thrown_by<aio::ValueError>(loop->connect_read_pipe(
                      factory, fd1)) == "ValueError('Pipe transport is for pipes/sockets only.')");
            CHECK(
                co_await test::thrown_by<aio::ValueError>(loop->connect_write_pipe(factory, fd2)) ==
                "ValueError('Pipe transport is only for pipes, sockets and character devices')");
            CHECK(::fcntl(fd1, F_GETFD) == -1);
            CHECK(::fcntl(fd2, F_GETFD) == -1);
            CHECK(co_await test::thrown_by<aio::OSError>(loop->connect_read_pipe(factory, -1)) ==
                  "OSError(9, 'Bad file descriptor')");
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: each transport raises NotImplementedError for the half a pipe has not") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [reading, rproto, writing, wproto] = co_await both_ends(loop);
            CHECK_THROWS_AS(reading->write("x"_b), aio::NotImplementedError);
            CHECK_FALSE(reading->can_write_eof());
            CHECK(reading->get_write_buffer_size() == 0);
            CHECK_THROWS_AS(writing->pause_reading(), aio::NotImplementedError);
            CHECK_THROWS_AS(writing->resume_reading(), aio::NotImplementedError);
            writing->close();
            co_await rproto->lost;  // the writer's close is the reader's EOF
            co_await wproto->lost;
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: a character device: /dev/null takes everything, /dev/full fails with ENOSPC") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto factory = recorder_factory(loop);
            {
                int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
                auto [transport, proto] = co_await loop->connect_write_pipe(factory, fd);
                transport->write(test::pattern(1 << 20));
                CHECK(transport->get_write_buffer_size() == 0);
                transport->close();
                co_await proto->lost;
                CHECK(proto->trace == Trace{"connection_made", "connection_lost(None)"});
            }
            {
                int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
                auto [transport, proto] = co_await loop->connect_write_pipe(factory, fd);
                transport->write("x"_b);
                co_await proto->lost;
                CHECK(proto->trace.back() ==
                      "connection_lost(OSError: [Errno 28] No space left on device)");
            }
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE(
        "pipes: cancelled before connection_made, connect_read_pipe closes its transport and "
        "the fd") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [r, w] = os_pipe();
            auto factory = recorder_factory(loop);
            auto task = aio::create_task(loop->connect_read_pipe(factory, r));
            co_await aio::sleep(0);  // the task starts: the transport exists, not yet made
            task.cancel();
            CHECK(co_await test::thrown_by<aio::CancelledError>(task) == "CancelledError()");
            co_await aio::sleep(0.01);
            CHECK(::fcntl(r, F_GETFD) == -1);
            ::close(w);
        };
        test::run(*f.loop, main(f.loop.get()));
    }

    TEST_CASE("pipes: pipe transports left open are closed with their loop: no fd outlives it") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<void> {
            auto [reading, rproto, writing, wproto] = co_await both_ends(loop);
            writing->write("never read"_b);
            // Each protocol keeps its transport (the usual cycle); nobody closes them.
        };
        test::run(*f.loop, main(f.loop.get()));
    }
}
