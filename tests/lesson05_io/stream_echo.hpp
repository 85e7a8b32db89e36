// stream_echo.hpp - the two halves of an echo conversation that the stream tests share:
// the server's handler (the tutorials' echo server, with drain()) and a client's sender.
#pragma once

#include <cstddef>
#include <utility>

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/streams.hpp"

namespace test {

// start_server's callback: back what comes in, until EOF, then close. drain() keeps a
// client that does not read from making the server buffer without bound.
inline aio::Coro<void> echo_streams(aio::StreamReader reader, aio::StreamWriter writer) {
    for (;;) {
        aio::bytes data = co_await reader.read(65536);
        if (data.empty()) break;
        writer.write(std::move(data));
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

// Writes data in chunks with a drain after each, then write_eof().
inline aio::Coro<void> send_in_chunks(aio::StreamWriter writer, aio::bytes data,
                                      std::size_t chunk) {
    for (std::size_t off = 0; off < data.size(); off += chunk) {
        writer.write(data.slice(off, off + chunk));
        co_await writer.drain();
    }
    writer.write_eof();
}

}  // namespace test
