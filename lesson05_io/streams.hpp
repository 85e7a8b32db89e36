// streams.hpp - reading and writing a connection with coroutines (asyncio: streams.py).
//
// Transports and protocols (transports.hpp, protocols.hpp) are callbacks: data arrives
// when it arrives, and a protocol must keep its own buffer. Streams turn that into what
// a coroutine wants to write: `line = await reader.readline()`, `writer.write(data);
// await writer.drain()`. Three pieces, as asyncio's:
//
//   transport ──data_received──▶ StreamReaderProtocol ──feed_data──▶ StreamReader
//       ▲                        (a Protocol; pause/resume_writing    buffer + one waiter
//       │                         wake drain())                       ◀── co_await read*()
//       └──────────── write() ◀── StreamWriter ◀── write(), co_await drain()
//
// Backpressure acts on both sides. Reading: when the reader's buffer passes 2 * limit
// it pauses the transport (the fd leaves the selector, the kernel's buffer fills, the
// peer's send blocks), and resumes it once a read brings it down to the limit.
// Writing: drain() waits only while the transport's buffer is above its high-water
// mark, until resume_writing() (below the low-water mark).
//
// Handles. StreamReader and StreamWriter are cheap copyable handles, as Future<T> is:
// copies share one stream, so `auto [reader, writer] = co_await open_connection(...)`,
// `reader.readline()` and passing them by value to a coroutine read like Python and
// cannot dangle. Every read coroutine keeps the reader's state alive while it runs.
// When the last copy of a StreamWriter goes and nobody closed the connection, it is
// closed (asyncio 3.11.7's StreamWriter.__del__), so a forgotten writer holds no fd.
// A server's protocol keeps its writer until connection_lost, as asyncio's does.
//
// Differences from asyncio 3.11:
//   - A reader's waiter is made on the running loop when a read waits, not bound to a
//     loop when the reader is made (there is no implicit loop to bind to here).
//   - feed_data after feed_eof throws RuntimeError instead of failing an assert.
//   - drain() after the connection was lost raises ConnectionResetError(104, 'Connection
//     lost'): an OSError here always carries an errno (asyncio's has none).
//   - A reader that is fed bytes while its buffer is empty takes them without a copy,
//     and a read that takes the whole buffer takes its storage.
//   - A dropped, unclosed writer is closed without the ResourceWarning.
//   - read(n) takes `long long` n, as Python's int: negative reads to EOF.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/servers.hpp"
#include "lesson05_io/transports.hpp"

namespace aio {

// asyncio: streams._DEFAULT_LIMIT, the longest line readline() returns and half the
// buffer size at which reading pauses.
inline constexpr std::size_t DEFAULT_STREAM_LIMIT = 64 * 1024;

namespace detail {
struct StreamReaderState;
}

// asyncio: streams.StreamReader. The feeding side (feed_data, feed_eof, set_exception)
// is the protocol's; the reading side is the program's. One read may wait at a time.
class StreamReader {
public:
    // asyncio: StreamReader(limit=...). ValueError('Limit cannot be <= 0') for 0.
    explicit StreamReader(std::size_t limit = DEFAULT_STREAM_LIMIT);

    // ---- the protocol's side ----
    // Appends data and wakes a waiting read; pauses the transport past 2 * limit.
    void feed_data(bytes data);
    void feed_data(std::string_view data) { feed_data(bytes(data.data(), data.size())); }
    // No more data will come: reads return what is left, then b''.
    void feed_eof();
    // Reads raise `error` from now on, even with bytes still buffered (as asyncio's);
    // a waiting read is woken with it.
    void set_exception(std::exception_ptr error);
    // The transport to pause and resume (asyncio: set_transport; only once).
    void set_transport(std::shared_ptr<Transport> transport);

    // ---- the program's side ----
    // Up to n bytes, at least 1 unless at EOF (then b''); n < 0 (the default): every
    // byte until EOF. Waits only if nothing is buffered.
    Coro<bytes> read(long long n = -1) const;
    // One line, ending in b'\n' (the last may not); b'' at EOF. A line longer than the
    // limit raises ValueError and is dropped (or the buffer cleared if no b'\n' yet).
    Coro<bytes> readline() const;
    // Exactly n bytes, or IncompleteReadError with the partial bytes at EOF.
    Coro<bytes> readexactly(long long n) const;
    // Up to and including separator. LimitOverrunError past the limit (the data stays
    // buffered); IncompleteReadError at EOF (the buffer is handed over in it).
    Coro<bytes> readuntil(bytes separator = bytes("\n", 1)) const;
    // `async for line in reader`: AsyncGenerator<bytes> lines = reader.lines();
    // while (std::optional<bytes> line = co_await lines.next()) ...
    AsyncGenerator<bytes> lines() const;

    // asyncio: at_eof(): EOF was fed and the buffer is empty.
    bool at_eof() const noexcept;
    // asyncio: exception(): what set_exception gave, or null.
    std::exception_ptr exception() const noexcept;
    std::size_t limit() const noexcept;
    // len(reader._buffer), and whether the reader paused its transport: for tests
    // and for seeing backpressure work.
    std::size_t buffered() const noexcept;
    bool paused() const noexcept;
    // "<StreamReader 5 bytes eof limit=10 waiter=<Future pending> paused>".
    std::string repr() const;

    const std::shared_ptr<detail::StreamReaderState>& state() const noexcept { return state_; }

private:
    std::shared_ptr<detail::StreamReaderState> state_;
};

class StreamReaderProtocol;

namespace detail {
// What the copies of one StreamWriter share. The last copy to go closes the
// transport if nobody did (asyncio 3.11.7: StreamWriter.__del__, which also warns
// "unclosed <StreamWriter ...>" as a ResourceWarning, hidden by default in Python).
struct StreamWriterState {
    std::shared_ptr<Transport> transport;
    std::shared_ptr<StreamReaderProtocol> protocol;
    std::optional<StreamReader> reader;
    EventLoop* loop = nullptr;
    StreamWriterState() = default;
    StreamWriterState(const StreamWriterState&) = delete;
    StreamWriterState& operator=(const StreamWriterState&) = delete;
    ~StreamWriterState();
};
}  // namespace detail

// asyncio: streams.StreamWriter. Wraps the transport; adds drain() and wait_closed().
class StreamWriter {
public:
    StreamWriter(std::shared_ptr<Transport> transport,
                 std::shared_ptr<StreamReaderProtocol> protocol, std::optional<StreamReader> reader,
                 EventLoop& loop);

    const std::shared_ptr<Transport>& transport() const noexcept { return state_->transport; }
    void write(bytes data) { transport()->write(std::move(data)); }
    // C++ text is bytes already (Python would raise TypeError for a str).
    void write(std::string_view text) { transport()->write(bytes(text.data(), text.size())); }
    void writelines(const std::vector<bytes>& list) { transport()->writelines(list); }
    void write_eof() { transport()->write_eof(); }
    bool can_write_eof() const { return transport()->can_write_eof(); }
    void close() { transport()->close(); }
    bool is_closing() const { return transport()->is_closing(); }
    ExtraInfo get_extra_info(std::string_view name) const {
        return transport()->get_extra_info(name);
    }
    template <class T>
    std::optional<T> get_extra_info(std::string_view name) const {
        return transport()->template get_extra_info<T>(name);
    }

    // Waits while the transport's buffer is above its high-water mark. Raises the
    // reader's error (a reset seen by the reading side), or the connection's.
    Coro<void> drain() const;
    // Waits until the connection is closed (connection_lost ran); raises its error.
    Coro<void> wait_closed() const;
    std::string repr() const;  // "<StreamWriter transport=... reader=<StreamReader>>"

private:
    static Coro<void> drain_on(std::shared_ptr<detail::StreamWriterState> self);
    static Coro<void> wait_closed_on(std::shared_ptr<detail::StreamWriterState> self);

    std::shared_ptr<detail::StreamWriterState> state_;
};

// asyncio: streams.StreamReaderProtocol (with FlowControlMixin): the Protocol that
// feeds a StreamReader, and, for a server, makes the StreamWriter and calls the
// client_connected callback. It is a plain Protocol, as asyncio's: the transport hands
// it a bytes object per recv, which the reader takes without a copy when its buffer is
// empty (the usual case for request/response), so a BufferedProtocol would save little
// and change when data_received-like work happens.
class StreamReaderProtocol : public Protocol,
                             public std::enable_shared_from_this<StreamReaderProtocol> {
public:
    // start_server's callback: a coroutine to run as a task, or nothing.
    using ClientConnected = std::function<std::optional<Coro<void>>(StreamReader, StreamWriter)>;

    // loop: where the close and drain futures live (the running loop by default).
    explicit StreamReaderProtocol(StreamReader reader, ClientConnected client_connected = {},
                                  EventLoop* loop = nullptr);
    ~StreamReaderProtocol() override;

    void connection_made(std::shared_ptr<Transport> transport) override;
    void data_received(bytes data) override;
    bool eof_received() override;
    void connection_lost(std::exception_ptr exc) override;
    void pause_writing() override;
    void resume_writing() override;

    // asyncio: FlowControlMixin._drain_helper. At once unless paused; then waits for
    // resume_writing or connection_lost (which raises its error). After the connection
    // was lost: ConnectionResetError('Connection lost').
    Coro<void> drain_helper();
    // drain_helper() would return at once: writing is not paused and the connection is
    // not lost. drain() asks first, so the usual drain costs no helper frames.
    bool drained() const noexcept { return !paused_ && !connection_lost_; }
    // Done when connection_lost ran (asyncio: _get_close_waiter).
    Future<void> closed() const { return closed_; }

private:
    static Coro<void> wait_drained(std::shared_ptr<StreamReaderProtocol> self);
    void start_client_task(Coro<void> coro, const std::shared_ptr<Transport>& transport);

    EventLoop* loop_;
    std::optional<StreamReader> reader_;  // dropped after connection_lost
    ClientConnected client_connected_;
    std::shared_ptr<Transport> transport_;  // from connection_made to connection_lost
    // A server's writer, kept from connection_made to connection_lost as asyncio's
    // _stream_writer (so a callback that drops it does not close the connection).
    std::optional<StreamWriter> writer_;
    Future<void> closed_;
    // FlowControlMixin's state.
    bool paused_ = false;
    bool connection_lost_ = false;
    std::vector<Future<void>> drain_waiters_;
};

// What open_connection gives: `auto [reader, writer] = co_await aio::open_connection(...)`.
using Streams = std::pair<StreamReader, StreamWriter>;

// asyncio: streams.open_connection(host, port, limit=...).
Coro<Streams> open_connection(std::string host, int port, std::size_t limit = DEFAULT_STREAM_LIMIT);
// asyncio: streams.open_connection(sock=sock, limit=...): streams over a socket that is
// connected already (a socketpair's end, an accepted socket). The streams take it.
Coro<Streams> open_connection(socket sock, std::size_t limit = DEFAULT_STREAM_LIMIT);
// asyncio: streams.open_unix_connection(path, limit=...).
Coro<Streams> open_unix_connection(std::string path, std::size_t limit = DEFAULT_STREAM_LIMIT);

namespace detail {
// The callback of start_server: a plain function, or a coroutine function whose
// coroutine the protocol runs as a task (asyncio: `if coroutines.iscoroutine(res):
// self._task = self._loop.create_task(res)`).
template <class F>
StreamReaderProtocol::ClientConnected wrap_client_connected(F callback) {
    static_assert(std::is_invocable_v<F&, StreamReader, StreamWriter>,
                  "client_connected_cb is called as client_connected_cb(reader, writer)");
    using R = typename std::conditional_t<std::is_invocable_v<F&, StreamReader, StreamWriter>,
                                          std::invoke_result<F&, StreamReader, StreamWriter>,
                                          std::type_identity<void>>::type;
    static_assert(std::is_void_v<R> || std::is_same_v<R, Coro<void>>,
                  "client_connected_cb(reader, writer) returns void or aio::Coro<void>");
    return [callback = std::move(callback)](
               StreamReader reader, StreamWriter writer) mutable -> std::optional<Coro<void>> {
        if constexpr (std::is_void_v<R>) {
            callback(std::move(reader), std::move(writer));
            return std::nullopt;
        } else {
            return callback(std::move(reader), std::move(writer));
        }
    };
}
Coro<std::shared_ptr<Server>> start_stream_server(StreamReaderProtocol::ClientConnected callback,
                                                  std::string host, int port, std::size_t limit);
Coro<std::shared_ptr<Server>> start_unix_stream_server(
    StreamReaderProtocol::ClientConnected callback, std::string path, std::size_t limit);
}  // namespace detail

// asyncio: streams.start_server(client_connected_cb, host, port, limit=...). Serves
// host:port (port 0: the kernel's choice, read back from server->sockets()); each
// connection calls client_connected_cb(reader, writer), a function returning void or a
// coroutine function returning Coro<void> (run as a task). Returns the Server.
//   auto server = co_await aio::start_server(handle_echo, "127.0.0.1", 8888);
// GCC 12: name a lambda with captures before passing it (`auto cb = [s](...) {...};
// co_await aio::start_server(cb, ...)`); one made inside the co_await is freed twice.
template <class F>
Coro<std::shared_ptr<Server>> start_server(F client_connected_cb, std::string host, int port,
                                           std::size_t limit = DEFAULT_STREAM_LIMIT) {
    return detail::start_stream_server(
        detail::wrap_client_connected(std::move(client_connected_cb)), std::move(host), port,
        limit);
}

// asyncio: streams.start_unix_server(client_connected_cb, path, limit=...).
template <class F>
Coro<std::shared_ptr<Server>> start_unix_server(F client_connected_cb, std::string path,
                                                std::size_t limit = DEFAULT_STREAM_LIMIT) {
    return detail::start_unix_stream_server(
        detail::wrap_client_connected(std::move(client_connected_cb)), std::move(path), limit);
}

}  // namespace aio
