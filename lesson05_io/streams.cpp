// streams.cpp - StreamReaderProtocol, StreamWriter, and the functions that make them
// (asyncio: streams.StreamReaderProtocol, FlowControlMixin, StreamWriter,
// open_connection, start_server). StreamReader is stream_reader.cpp's.
//
// Who holds whom: the transport holds the protocol until connection_lost; the protocol
// holds the transport and the reader until then (and drops both there, which breaks the
// transport <-> protocol cycle); a StreamWriter holds transport, protocol and reader;
// the reader holds its transport only weakly. So a connection lives while the loop
// has its fd registered or the program holds a handle, and not longer.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson05_io/base_events.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/streams.hpp"

namespace aio {

// ---- StreamReaderProtocol ----------------------------------------------------------

StreamReaderProtocol::StreamReaderProtocol(StreamReader reader, ClientConnected client_connected,
                                           EventLoop* loop)
    : loop_(loop ? loop : &get_running_loop()),
      reader_(std::move(reader)),
      client_connected_(std::move(client_connected)),
      closed_(*loop_) {}

// asyncio: StreamReaderProtocol.__del__: an error nobody awaited through wait_closed()
// is not reported as "Future exception was never retrieved".
StreamReaderProtocol::~StreamReaderProtocol() {
    if (closed_.done() && !closed_.cancelled()) closed_.exception();
}

// asyncio: StreamReaderProtocol.connection_made. For a server, the writer is made here
// and the callback called (its coroutine, if it returns one, becomes a task).
void StreamReaderProtocol::connection_made(std::shared_ptr<Transport> transport) {
    transport_ = transport;
    if (reader_) reader_->set_transport(transport);
    if (!client_connected_) return;
    writer_.emplace(transport, shared_from_this(), reader_, *loop_);
    std::optional<Coro<void>> coro = client_connected_(*reader_, *writer_);
    if (coro) start_client_task(std::move(*coro), transport);
}

// asyncio 3.11.7: the client's task, whose error is reported through the loop's
// exception handler and closes the connection ("Unhandled exception in
// client_connected_cb"), instead of waiting for the task to be collected.
void StreamReaderProtocol::start_client_task(Coro<void> coro,
                                             const std::shared_ptr<Transport>& transport) {
    Task<void> task = create_task(*loop_, std::move(coro));
    std::weak_ptr<Transport> weak = transport;
    EventLoop* loop = loop_;
    task.add_done_callback([weak, loop](Task<void>& done) {
        if (done.cancelled()) return;
        std::exception_ptr error = done.exception();
        if (!error) return;
        ExceptionContext context;
        context.message = "Unhandled exception in client_connected_cb";
        context.exception = error;
        std::shared_ptr<Transport> t = weak.lock();
        if (t) context.extra.emplace_back("transport", "<Transport>");
        loop->call_exception_handler(context);
        if (t) t->close();
    });
}

void StreamReaderProtocol::data_received(bytes data) {
    if (reader_) reader_->feed_data(std::move(data));
}

// The peer's EOF is the reader's; returning true keeps our side open for writing
// (asyncio does the same: the program decides when to close).
bool StreamReaderProtocol::eof_received() {
    if (reader_) reader_->feed_eof();
    return true;
}

// asyncio: StreamReaderProtocol.connection_lost, then FlowControlMixin.connection_lost.
void StreamReaderProtocol::connection_lost(std::exception_ptr exc) {
    if (reader_) {
        if (exc)
            reader_->set_exception(exc);
        else
            reader_->feed_eof();
    }
    if (!closed_.done()) {
        if (exc)
            closed_.set_exception(exc);
        else
            closed_.set_result();
    }
    connection_lost_ = true;
    if (paused_) {  // wake the writers waiting in drain()
        for (Future<void>& waiter : drain_waiters_) {
            if (waiter.done()) continue;
            if (exc)
                waiter.set_exception(exc);
            else
                waiter.set_result();
        }
    }
    reader_.reset();
    writer_.reset();
    transport_.reset();
}

void StreamReaderProtocol::pause_writing() { paused_ = true; }

void StreamReaderProtocol::resume_writing() {
    paused_ = false;
    for (Future<void>& waiter : drain_waiters_)
        if (!waiter.done()) waiter.set_result();
}

Coro<void> StreamReaderProtocol::drain_helper() { return wait_drained(shared_from_this()); }

// asyncio: FlowControlMixin._drain_helper.
Coro<void> StreamReaderProtocol::wait_drained(std::shared_ptr<StreamReaderProtocol> self) {
    if (self->connection_lost_) throw ConnectionResetError(ECONNRESET, "Connection lost");
    if (!self->paused_) co_return;
    Future<void> waiter(*self->loop_);
    self->drain_waiters_.push_back(waiter);
    struct Remove {  // asyncio: `finally: self._drain_waiters.remove(waiter)`
        std::vector<Future<void>>& waiters;
        Future<void>& waiter;
        ~Remove() {
            auto it = std::find_if(waiters.begin(), waiters.end(), [this](const Future<void>& f) {
                return f.state() == waiter.state();
            });
            if (it != waiters.end()) waiters.erase(it);
        }
    } remove{self->drain_waiters_, waiter};
    co_await waiter;
}

// ---- StreamWriter ------------------------------------------------------------------

StreamWriter::StreamWriter(std::shared_ptr<Transport> transport,
                           std::shared_ptr<StreamReaderProtocol> protocol,
                           std::optional<StreamReader> reader, EventLoop& loop)
    : state_(std::make_shared<detail::StreamWriterState>()) {
    // Filled in place: a temporary state would close the transport when it dies.
    state_->transport = std::move(transport);
    state_->protocol = std::move(protocol);
    state_->reader = std::move(reader);
    state_->loop = &loop;
}

// asyncio 3.11.7: StreamWriter.__del__. A connection nobody can write to any more
// and nobody closed is closed, so its fd is not held until the peer goes away.
detail::StreamWriterState::~StreamWriterState() {
    if (!transport || transport->is_closing() || loop->is_closed()) return;
    transport->close();
}

Coro<void> StreamWriter::drain() const { return drain_on(state_); }
Coro<void> StreamWriter::wait_closed() const { return wait_closed_on(state_); }

// asyncio: StreamWriter.drain. The reader's error first: a reset seen while reading is
// the one to report. On a closing transport, one loop iteration lets connection_lost
// run, so that a write-drain loop sees the error instead of spinning.
Coro<void> StreamWriter::drain_on(std::shared_ptr<detail::StreamWriterState> self) {
    if (self->reader) {
        if (std::exception_ptr error = self->reader->exception()) std::rethrow_exception(error);
    }
    if (self->transport->is_closing()) co_await sleep(0);
    // The usual case, below the high-water mark: nothing to wait for, so no helper
    // coroutine (two frames) is made; the echo benchmark spent 17 % of its
    // user-space instructions there.
    if (self->protocol->drained()) co_return;
    Coro<void> helper = self->protocol->drain_helper();
    co_await std::move(helper);
}

// asyncio: StreamWriter.wait_closed.
Coro<void> StreamWriter::wait_closed_on(std::shared_ptr<detail::StreamWriterState> self) {
    Future<void> closed = self->protocol->closed();
    co_await closed;
}

// asyncio: StreamWriter.__repr__; the transport shows as its address (no repr here).
std::string StreamWriter::repr() const {
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(transport().get()));
    std::string out = std::string("<StreamWriter transport=<Transport at ") + address + ">";
    if (state_->reader) out += " reader=" + state_->reader->repr();
    return out + ">";
}

// ---- open_connection, start_server -------------------------------------------------

namespace {

// asyncio: open_connection's body once the transport exists.
Streams make_streams(StreamReader reader, std::shared_ptr<StreamReaderProtocol> protocol,
                     std::shared_ptr<Transport> transport, EventLoop& loop) {
    StreamWriter writer(std::move(transport), std::move(protocol), reader, loop);
    return Streams{std::move(reader), std::move(writer)};
}

// asyncio: start_server's factory: a fresh reader and protocol per connection.
Server::Factory stream_protocol_factory(StreamReaderProtocol::ClientConnected callback,
                                        std::size_t limit) {
    return [callback = std::move(callback), limit]() -> std::shared_ptr<Protocol> {
        return std::make_shared<StreamReaderProtocol>(StreamReader(limit), callback);
    };
}

}  // namespace

Coro<std::shared_ptr<Server>> detail::start_stream_server(
    StreamReaderProtocol::ClientConnected callback, std::string host, int port, std::size_t limit) {
    EventLoop& loop = get_running_loop();
    Server::Factory factory = stream_protocol_factory(std::move(callback), limit);
    std::shared_ptr<Server> server =
        co_await loop.create_server(std::move(factory), std::move(host), port);
    co_return server;
}

Coro<std::shared_ptr<Server>> detail::start_unix_stream_server(
    StreamReaderProtocol::ClientConnected callback, std::string path, std::size_t limit) {
    EventLoop& loop = get_running_loop();
    Server::Factory factory = stream_protocol_factory(std::move(callback), limit);
    std::shared_ptr<Server> server =
        co_await loop.create_unix_server(std::move(factory), std::move(path));
    co_return server;
}

// asyncio: streams.open_connection: the reader and protocol first, then the loop's
// create_connection with a factory that hands that protocol over.
Coro<Streams> open_connection(std::string host, int port, std::size_t limit) {
    EventLoop& loop = get_running_loop();
    StreamReader reader(limit);
    auto protocol = std::make_shared<StreamReaderProtocol>(reader, nullptr, &loop);
    auto factory = [protocol] { return protocol; };  // named first: GCC 12 (see the header)
    auto made = co_await loop.create_connection(factory, std::move(host), port);
    co_return make_streams(std::move(reader), std::move(protocol), std::move(made.first), loop);
}

// asyncio: open_connection(sock=sock), create_connection(sock=sock) underneath.
Coro<Streams> open_connection(socket sock, std::size_t limit) {
    EventLoop& loop = get_running_loop();
    StreamReader reader(limit);
    auto protocol = std::make_shared<StreamReaderProtocol>(reader, nullptr, &loop);
    auto factory = [protocol] { return protocol; };
    auto made = co_await loop.create_connection(factory, std::move(sock));
    co_return make_streams(std::move(reader), std::move(protocol), std::move(made.first), loop);
}

// asyncio: streams.open_unix_connection.
Coro<Streams> open_unix_connection(std::string path, std::size_t limit) {
    EventLoop& loop = get_running_loop();
    StreamReader reader(limit);
    auto protocol = std::make_shared<StreamReaderProtocol>(reader, nullptr, &loop);
    auto factory = [protocol] { return protocol; };
    auto made = co_await loop.create_unix_connection(factory, std::move(path));
    co_return make_streams(std::move(reader), std::move(protocol), std::move(made.first), loop);
}

}  // namespace aio
