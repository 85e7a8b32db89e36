// echo_streams.cpp - lesson 5's echo benchmark server, on the streams API: the
// tutorials' echo server (articles 000 and 001) with the message size known, as the
// issue asks: per connection, readexactly(size), write, drain, until the client leaves.
//
// usage: echo_streams PORT SIZE
//   Serves 127.0.0.1:PORT until killed (SIGTERM, as bench/echo_bench.py does).
//   SIZE is the load generator's message size (loadgen -s): one request = SIZE bytes
//   in, the same SIZE bytes out.
//
// asyncio's version of the same program is bench/peers/echo/echo_server.py (streams
// mode); the load generator is bench/peers/echo/loadgen.c. One connection's life:
//   start_server's callback ─▶ serve(size, reader, writer) as a task
//     loop: co_await reader.readexactly(size)   (IncompleteReadError at EOF: leave)
//           writer.write(data)                  (one send() when nothing is buffered)
//           co_await writer.drain()             (returns at once below the high-water mark)
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "lesson03_tasks/runners.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/streams.hpp"

namespace {

aio::Coro<void> serve(long long size, aio::StreamReader reader, aio::StreamWriter writer) {
    try {
        for (;;) {
            aio::bytes data = co_await reader.readexactly(size);
            writer.write(std::move(data));
            co_await writer.drain();
        }
    } catch (const aio::IncompleteReadError&) {
        // the client closed between two messages (or in one): done
    } catch (const aio::ConnectionError&) {
        // reset or broken pipe: done
    }
    writer.close();
}

aio::Coro<void> amain(int port, long long size) {
    // A named callback (GCC 12: never a capturing lambda inside the co_await).
    auto on_client = [size](aio::StreamReader reader, aio::StreamWriter writer) {
        return serve(size, std::move(reader), std::move(writer));
    };
    std::shared_ptr<aio::Server> server = co_await aio::start_server(on_client, "127.0.0.1", port);
    co_await server->serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 || std::atoi(argv[1]) <= 0 || std::atoll(argv[2]) <= 0) {
        std::fprintf(stderr, "usage: echo_streams PORT SIZE\n");
        return 2;
    }
    aio::run(amain(std::atoi(argv[1]), std::atoll(argv[2])));
}
