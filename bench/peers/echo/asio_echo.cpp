// Copied from the project's shared bench harness (bench_peers/src/asio_echo.cpp), 2026-12-04;
// reformatted with the repo's .clang-format (bench/ is linted), otherwise unchanged.
// asio_echo.cpp - C++20 coroutine echo server, one io_context on one thread.
// Built twice: against Boost.Asio (default, Boost 1.74) and, with
// -DUSE_STANDALONE_ASIO, against standalone Asio (libasio-dev 1.22).
// usage: asio_echo PORT
#include <utility>  // Boost 1.74 awaitable.hpp forgets it (std::exchange)
#ifdef USE_STANDALONE_ASIO
#include <asio.hpp>
#else
#include <boost/asio.hpp>
namespace asio = boost::asio;
#endif
#include <cstdio>
#include <cstdlib>
#include <exception>

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

static awaitable<void> echo(tcp::socket s) {
    s.set_option(tcp::no_delay(true));
    char data[65536];
    try {
        for (;;) {
            std::size_t n = co_await s.async_read_some(asio::buffer(data), use_awaitable);
            co_await asio::async_write(s, asio::buffer(data, n), use_awaitable);
        }
    } catch (const std::exception&) {
        // EOF or reset: end of this connection
    }
}

static awaitable<void> listener(tcp::acceptor& acc) {
    for (;;) {
        tcp::socket s = co_await acc.async_accept(use_awaitable);
        asio::co_spawn(acc.get_executor(), echo(std::move(s)), asio::detached);
    }
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    asio::io_context ctx(1);  // concurrency hint: one thread
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), (unsigned short)std::atoi(argv[1]));
    tcp::acceptor acc(ctx);
    acc.open(ep.protocol());
    acc.set_option(asio::socket_base::reuse_address(true));
    acc.bind(ep);
    acc.listen(1024);
    asio::co_spawn(ctx, listener(acc), asio::detached);
    ctx.run();
}
