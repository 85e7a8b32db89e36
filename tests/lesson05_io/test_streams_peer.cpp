// test_streams_peer.cpp - streams against a peer nobody here wrote: CPython's asyncio.
//
// Two directions, each with many concurrent connections of different sizes (1 byte to
// 1 MiB), every byte checked:
//   - a python3 child runs asyncio.open_connection clients against our start_server
//     echo server, and prints how many connections got back exactly what they sent;
//   - a python3 child runs an asyncio.start_server echo server (it prints its port),
//     and our open_connection clients check what comes back.
// The child is a script written to /tmp (the pid in its name); it stops by itself
// (after its clients finish, or after serving the expected number of connections, with
// a timeout as a backstop). Its stdout is a pipe the test reads through the loop.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson05_io/sock_ops.hpp"
#include "lesson05_io/streams.hpp"
#include "stream_echo.hpp"

extern char** environ;

using aio::bytes;

namespace {

// The sizes of the concurrent connections' messages: small, odd, around the limits,
// and 1 MiB.
const std::vector<std::size_t> SIZES = {1,     7,     100,    1000,   4096,    65535, 65536,
                                        65537, 99999, 131072, 300000, 1048576, 5,     20000};

// Message i: bytes no two connections share, so a mix-up between connections shows.
bytes message(std::size_t i, std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t k = 0; k < size; ++k)
        data[k] = static_cast<char>((i * 31 + k * 7 + k / 251) % 256);
    return bytes(std::move(data));
}

// The same messages in Python.
const char* PY_MESSAGE =
    "def message(i, size):\n"
    "    return bytes((i * 31 + k * 7 + k // 251) % 256 for k in range(size))\n";

// A python3 child with its stdout on a pipe.
class PythonChild {
public:
    PythonChild(const std::string& name, const std::string& script, std::vector<std::string> args) {
        path_ = "/tmp/aio-" + name + "-" + std::to_string(::getpid()) + ".py";
        std::ofstream(path_) << script;
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        ::posix_spawn_file_actions_init(&actions);
        ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        std::vector<std::string> argv_s = {"python3", path_};
        for (std::string& a : args) argv_s.push_back(std::move(a));
        std::vector<char*> argv;
        for (std::string& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);
        int err = ::posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
        ::posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out_ = fds[0];
        REQUIRE(err == 0);
    }
    ~PythonChild() {
        if (out_ >= 0) ::close(out_);
        if (pid_ > 0) {
            int status = 0;
            ::waitpid(pid_, &status, 0);
        }
        ::unlink(path_.c_str());
    }

    // One line of the child's output, read blocking (before the loop runs).
    std::string read_line() {
        std::string line;
        char c;
        while (::read(out_, &c, 1) == 1 && c != '\n') line += c;
        return line;
    }

    // Everything else the child prints, until it exits, read through the loop.
    aio::Coro<std::string> read_rest() {
        ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
        std::string all;
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(out_, buf, sizeof buf);
            if (n > 0) {
                all.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0) {
                break;
            } else if (errno == EAGAIN) {
                co_await aio::detail::fd_ready(aio::get_running_loop(), out_, aio::EVENT_READ);
            } else {
                break;
            }
        }
        co_return all;
    }

    int wait() {
        int status = 0;
        ::waitpid(std::exchange(pid_, 0), &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

private:
    std::string path_;
    pid_t pid_ = 0;
    int out_ = -1;
};

// ---- CPython clients against our server ----

const char* PY_CLIENTS = R"(
import asyncio, sys
async def one(i, size, port):
    data = message(i, size)
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    async def send():
        for off in range(0, size, 50000):
            writer.write(data[off:off + 50000])
            await writer.drain()
        writer.write_eof()
    sending = asyncio.create_task(send())
    got = await reader.read()
    await sending
    writer.close()
    await writer.wait_closed()
    return got == data
async def main():
    port = int(sys.argv[1])
    sizes = [int(s) for s in sys.argv[2:]]
    results = await asyncio.wait_for(
        asyncio.gather(*(one(i, size, port) for i, size in enumerate(sizes))), 60)
    print('ok', sum(results), 'of', len(results), flush=True)
asyncio.run(main())
)";

std::vector<std::string> size_args() {
    std::vector<std::string> args;
    for (std::size_t size : SIZES) args.push_back(std::to_string(size));
    return args;
}

aio::Coro<std::string> serve_python_clients() {
    std::shared_ptr<aio::Server> server =
        co_await aio::start_server(test::echo_streams, "127.0.0.1", 0);
    int port = server->sockets().front().getsockname().port;
    std::vector<std::string> args = size_args();
    args.insert(args.begin(), std::to_string(port));
    PythonChild child("stream-clients", std::string(PY_MESSAGE) + PY_CLIENTS, std::move(args));
    std::string out = co_await child.read_rest();
    int status = child.wait();
    server->close();
    co_await server->wait_closed();
    co_return out + "exit " + std::to_string(status);
}

// ---- our clients against a CPython server ----

const char* PY_SERVER = R"(
import asyncio, sys
async def main():
    expected = int(sys.argv[1])
    done = asyncio.Event()
    count = 0
    async def echo(reader, writer):
        nonlocal count
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        count += 1
        if count == expected:
            done.set()
    server = await asyncio.start_server(echo, '127.0.0.1', 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.wait_for(done.wait(), 60)
    print('served', count, flush=True)
asyncio.run(main())
)";

// One connection: send message i while reading its echo; true if every byte matches.
aio::Coro<bool> one_client(int port, std::size_t i, std::size_t size) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    bytes data = message(i, size);
    aio::Task<void> sending =
        aio::create_task(aio::get_running_loop(), test::send_in_chunks(writer, data, 50000));
    bytes got = co_await reader.readexactly(static_cast<long long>(size));
    co_await sending;
    bytes rest = co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
    co_return got == data&& rest.empty();
}

aio::Coro<std::string> our_clients(int port) {
    std::vector<aio::Task<bool>> clients;
    for (std::size_t i = 0; i < SIZES.size(); ++i)
        clients.push_back(aio::create_task(aio::get_running_loop(), one_client(port, i, SIZES[i])));
    int ok = 0;
    for (aio::Task<bool>& client : clients) ok += co_await client ? 1 : 0;
    co_return "ok " + std::to_string(ok) + " of " + std::to_string(clients.size());
}

aio::Coro<std::string> against_python_server(PythonChild* child, int port) {
    std::string result = co_await our_clients(port);
    std::string out = co_await child->read_rest();
    co_return result + " / " + out + "exit " + std::to_string(child->wait());
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE(
        "CPython's asyncio.open_connection clients get every byte back from our start_server") {
        test::LoopFixture f;
        std::string expected = "ok " + std::to_string(SIZES.size()) + " of " +
                               std::to_string(SIZES.size()) + "\nexit 0";
        CHECK(test::run(*f.loop, serve_python_clients(), 90) == expected);
    }

    TEST_CASE("our open_connection clients get every byte back from CPython's start_server") {
        test::LoopFixture f;
        PythonChild child("stream-server", PY_SERVER, {std::to_string(SIZES.size())});
        int port = std::stoi(child.read_line());
        std::string n = std::to_string(SIZES.size());
        CHECK(test::run(*f.loop, against_python_server(&child, port), 90) ==
              "ok " + n + " of " + n + " / served " + n + "\nexit 0");
    }
}
