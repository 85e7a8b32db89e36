// selector_events.cpp - the socket transport (asyncio: selector_events._SelectorTransport
// and _SelectorSocketTransport). The datagram transport is in selector_datagram.cpp.
#include "lesson05_io/selector_events.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/exceptions.hpp"

namespace aio {

namespace {

// asyncio: _SelectorSocketTransport. See selector_events.hpp for the life of one.
class SelectorSocketTransport final : public Transport,
                                      public detail::LoopBound,
                                      public std::enable_shared_from_this<SelectorSocketTransport> {
public:
    SelectorSocketTransport(EventLoop& loop, socket sock, std::shared_ptr<Protocol> protocol,
                            detail::ServerLink* server)
        : core_(loop, std::move(sock)), server_(server) {
        set_protocol(std::move(protocol));
        set_nodelay();
    }
    void start(std::optional<Future<void>> waiter);
    std::string repr() const {
        return core_.repr("_SelectorSocketTransport", reader_armed_, writer_armed_, queue_.size());
    }

    ExtraInfo get_extra_info(std::string_view name) const override {
        return core_.extra_info(name);
    }
    bool is_closing() const override { return core_.closing; }
    void close() override;
    bool is_reading() const override { return !paused_ && !core_.closing; }
    void pause_reading() override;
    void resume_reading() override;
    void write(bytes data) override;
    void write_eof() override;
    bool can_write_eof() const override { return true; }
    void abort() override {
        auto keep = shared_from_this();
        force_close(nullptr);
    }
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override {
        marks_.set(high, low);
        maybe_pause_protocol();
    }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override {
        return {marks_.low, marks_.high};
    }
    std::size_t get_write_buffer_size() const override { return queue_.size(); }
    void set_protocol(std::shared_ptr<Protocol> protocol) override {
        buffered_protocol_ = dynamic_cast<BufferedProtocol*>(protocol.get());
        protocol_ = std::move(protocol);
    }
    std::shared_ptr<Protocol> get_protocol() const override { return protocol_; }
    void loop_closed() noexcept override;

private:
    void set_nodelay();
    void add_reader();
    void remove_reader();
    void add_writer();
    void remove_writer();
    void read_ready();
    void read_data();
    void read_into_buffer();
    std::size_t receive(char* buf, std::size_t size);
    void on_eof();
    void write_ready();
    ssize_t send_queue();
    void shutdown_write();
    void maybe_pause_protocol();
    void maybe_resume_protocol();
    void fatal_error(std::exception_ptr exc, const char* message);
    void force_close(std::exception_ptr exc);
    void schedule_connection_lost(std::exception_ptr exc);
    void call_connection_lost(std::exception_ptr exc);
    void report(std::exception_ptr exc, const char* message) {
        core_.report(exc, message, shared_from_this(), detail::protocol_repr(protocol_.get()));
    }

    detail::SelectorTransportCore core_;
    std::shared_ptr<Protocol> protocol_;             // null after connection_lost
    BufferedProtocol* buffered_protocol_ = nullptr;  // protocol_, if it is one
    detail::ServerLink* server_;                     // null after detach
    detail::WriteQueue queue_;                       // bytes given to write() and not sent yet
    detail::WaterMarks marks_;
    bool eof_ = false;     // write_eof() called
    bool paused_ = false;  // pause_reading() called
    bool reader_armed_ = false;
    bool writer_armed_ = false;
};

// asyncio: base_events._set_nodelay. asyncio sets it only when sock.proto is
// IPPROTO_TCP; here on every TCP socket, whatever proto it was made with.
void SelectorSocketTransport::set_nodelay() {
    socket& sock = core_.sock();
    if ((sock.family() == AF_INET || sock.family() == AF_INET6) && sock.type() == SOCK_STREAM) {
        int one = 1;
        ::setsockopt(sock.fileno(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

// asyncio's order: connection_made, then reading starts, then the waiter is set, each
// from the loop (call_soon), so connection_made never runs inside the caller.
void SelectorSocketTransport::start(std::optional<Future<void>> waiter) {
    auto self = shared_from_this();
    detail::register_transport(core_.loop(), self);
    if (server_) server_->attach(self);  // asyncio: Server._attach, in __init__
    EventLoop& loop = core_.loop();
    loop.call_soon([self] {
        if (self->protocol_) self->protocol_->connection_made(self);
    });
    loop.call_soon([self] { self->add_reader(); });
    if (waiter)
        loop.call_soon([w = std::move(*waiter)]() mutable {
            if (!w.done()) w.set_result();  // asyncio: _set_result_unless_cancelled
        });
}

// asyncio 3.11's _add_reader checks only _closing, so a pause_reading() before the
// first iteration is lost; this one checks is_reading(), as 3.12 does.
void SelectorSocketTransport::add_reader() {
    if (!is_reading() || reader_armed_) return;
    reader_armed_ = true;
    core_.loop().add_reader(core_.fd(), [self = shared_from_this()] { self->read_ready(); });
}

void SelectorSocketTransport::remove_reader() {
    if (!reader_armed_) return;
    reader_armed_ = false;
    core_.loop().remove_reader(core_.fd());
}

void SelectorSocketTransport::add_writer() {
    if (writer_armed_) return;
    writer_armed_ = true;
    core_.loop().add_writer(core_.fd(), [self = shared_from_this()] { self->write_ready(); });
}

void SelectorSocketTransport::remove_writer() {
    if (!writer_armed_) return;
    writer_armed_ = false;
    core_.loop().remove_writer(core_.fd());
}

// ---- reading -------------------------------------------------------------------

void SelectorSocketTransport::read_ready() {
    if (core_.conn_lost) return;
    if (buffered_protocol_)
        read_into_buffer();
    else
        read_data();
}

// asyncio: _read_ready__data_received. One recv() per readiness event: the fd stays
// registered, so the next event comes in the next iteration, after other connections.
void SelectorSocketTransport::read_data() {
    // recv() lands in one buffer per thread; the bytes given to the protocol are
    // exactly as long as what came (Python's recv(max_size) shrinks its result too).
    thread_local std::unique_ptr<char[]> scratch(new char[detail::max_read_size]);
    std::size_t n = receive(scratch.get(), detail::max_read_size);
    if (n == 0) return;
    try {
        protocol_->data_received(bytes(scratch.get(), n));
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
    }
}

// One recv() into buf: the byte count, or 0 when there is nothing for the protocol
// (EAGAIN; an error, now a fatal one; end of stream, now given to on_eof).
std::size_t SelectorSocketTransport::receive(char* buf, std::size_t size) {
    ssize_t n = ::recv(core_.fd(), buf, size, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) {
        on_eof();
    } else {
        int err = errno;
        if (!detail::would_block(err))
            fatal_error(make_os_error(err), "Fatal read error on socket transport");
    }
    return 0;
}

// asyncio: _read_ready__get_buffer. The kernel copies straight into the protocol's
// memory. sizehint is max_read_size (asyncio passes -1, "any size").
void SelectorSocketTransport::read_into_buffer() {
    BufferedProtocol::Buffer buf{};
    try {
        buf = buffered_protocol_->get_buffer(detail::max_read_size);
        if (buf.size == 0) throw RuntimeError("get_buffer() returned an empty buffer");
    } catch (...) {
        return fatal_error(std::current_exception(),
                           "Fatal error: protocol.get_buffer() call failed.");
    }
    std::size_t n = receive(buf.data, buf.size);
    if (n == 0) return;
    try {
        buffered_protocol_->buffer_updated(n);
    } catch (...) {
        fatal_error(std::current_exception(),
                    "Fatal error: protocol.buffer_updated() call failed.");
    }
}

// asyncio: _read_ready__on_eof. eof_received() true: keep the transport for writing,
// but stop reading (the fd would stay readable at EOF forever).
void SelectorSocketTransport::on_eof() {
    bool keep_open = false;
    try {
        keep_open = protocol_->eof_received();
    } catch (...) {
        return fatal_error(std::current_exception(),
                           "Fatal error: protocol.eof_received() call failed.");
    }
    if (keep_open)
        remove_reader();
    else
        close();
}

void SelectorSocketTransport::pause_reading() {
    if (core_.closing || paused_) return;
    auto keep = shared_from_this();
    paused_ = true;
    remove_reader();
}

void SelectorSocketTransport::resume_reading() {
    if (core_.closing || !paused_) return;
    paused_ = false;
    add_reader();
}

// ---- writing -------------------------------------------------------------------

// asyncio: _SelectorSocketTransport.write. With nothing queued the data goes to send()
// at once, and in the usual case (the kernel takes it all) that is the whole cost.
void SelectorSocketTransport::write(bytes data) {
    if (eof_) throw RuntimeError("Cannot call write() after write_eof()");
    if (data.empty()) return;
    if (core_.closing || core_.conn_lost) return core_.note_write_after_lost();
    std::size_t sent = 0;
    if (queue_.empty()) {
        ssize_t n = ::send(core_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
        int err = n < 0 ? errno : 0;
        if (n < 0 && !detail::would_block(err)) {
            auto keep = shared_from_this();
            return fatal_error(make_os_error(err), "Fatal write error on socket transport");
        }
        sent = n < 0 ? 0 : static_cast<std::size_t>(n);
        if (sent == data.size()) return;
        add_writer();
    }
    queue_.push(std::move(data), sent);
    maybe_pause_protocol();
}

// Sends as much of the queue as the kernel takes: up to 64 chunks in one sendmsg().
ssize_t SelectorSocketTransport::send_queue() {
    iovec iov[detail::max_write_chunks];
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = queue_.fill(iov, detail::max_write_chunks);
    return ::sendmsg(core_.fd(), &msg, MSG_NOSIGNAL);
}

// asyncio: _write_ready. Once the queue is empty the writer goes, and a close() or
// write_eof() that waited for the flush completes.
void SelectorSocketTransport::write_ready() {
    if (core_.conn_lost || queue_.empty()) return;
    ssize_t n = send_queue();
    if (n < 0) {
        int err = errno;
        if (detail::would_block(err)) return;
        remove_writer();
        queue_.clear();
        return fatal_error(make_os_error(err), "Fatal write error on socket transport");
    }
    queue_.consume(static_cast<std::size_t>(n));
    maybe_resume_protocol();  // may write more
    if (!queue_.empty() || core_.conn_lost) return;
    remove_writer();
    if (core_.closing) {
        // asyncio leaves _conn_lost at 0 here, so an abort() after it schedules a second
        // _call_connection_lost (which fails on the protocol already dropped).
        core_.conn_lost++;
        call_connection_lost(nullptr);
    } else if (eof_)
        shutdown_write();
}

// asyncio calls sock.shutdown(SHUT_WR) here and lets a failure (ENOTCONN after a reset)
// escape into the loop's handler; here it ends the connection as any write error does.
void SelectorSocketTransport::shutdown_write() {
    if (::shutdown(core_.fd(), SHUT_WR) != 0)
        fatal_error(make_os_error(errno), "Fatal write error on socket transport");
}

// asyncio: write_eof. Idempotent; the shutdown waits for the queue to drain.
void SelectorSocketTransport::write_eof() {
    if (core_.closing || eof_) return;
    eof_ = true;
    if (queue_.empty()) core_.sock().shutdown(SHUT_WR);
}

void SelectorSocketTransport::maybe_pause_protocol() {
    if (std::exception_ptr error = marks_.maybe_pause(queue_.size(), protocol_.get()))
        report(error, "protocol.pause_writing() failed");
}

void SelectorSocketTransport::maybe_resume_protocol() {
    if (std::exception_ptr error = marks_.maybe_resume(queue_.size(), protocol_.get()))
        report(error, "protocol.resume_writing() failed");
}

// ---- closing -------------------------------------------------------------------

// asyncio: _SelectorTransport.close. Stops reading now; connection_lost(None) comes
// once the queue is flushed (write_ready), or soon if it is empty.
void SelectorSocketTransport::close() {
    if (core_.closing) return;
    auto keep = shared_from_this();
    core_.closing = true;
    remove_reader();
    if (!queue_.empty()) return;
    core_.conn_lost++;
    remove_writer();
    schedule_connection_lost(nullptr);
}

// asyncio: _fatal_error.
void SelectorSocketTransport::fatal_error(std::exception_ptr exc, const char* message) {
    report(exc, message);
    force_close(std::move(exc));
}

// asyncio: _force_close. The queue is dropped; connection_lost(exc) comes soon.
void SelectorSocketTransport::force_close(std::exception_ptr exc) {
    if (core_.conn_lost) return;
    if (!queue_.empty()) {
        queue_.clear();
        remove_writer();
    }
    if (!core_.closing) {
        core_.closing = true;
        remove_reader();
    }
    core_.conn_lost++;
    schedule_connection_lost(std::move(exc));
}

void SelectorSocketTransport::schedule_connection_lost(std::exception_ptr exc) {
    core_.loop().call_soon(
        [self = shared_from_this(), exc = std::move(exc)] { self->call_connection_lost(exc); });
}

// asyncio: _call_connection_lost. After the protocol's last callback the socket is
// closed, the protocol dropped (breaking the protocol <-> transport cycle) and the
// server told, whether or not connection_lost threw.
void SelectorSocketTransport::call_connection_lost(std::exception_ptr exc) {
    auto self = shared_from_this();
    struct Cleanup {
        SelectorSocketTransport* t;
        ~Cleanup() {
            t->remove_reader();
            t->remove_writer();
            t->core_.close_socket();
            t->protocol_.reset();
            t->buffered_protocol_ = nullptr;
            if (detail::ServerLink* server = std::exchange(t->server_, nullptr)) server->detach(*t);
        }
    } cleanup{this};
    if (protocol_) protocol_->connection_lost(std::move(exc));
}

// The loop closed with this transport open: its fd callbacks are gone already.
void SelectorSocketTransport::loop_closed() noexcept {
    reader_armed_ = writer_armed_ = false;
    core_.closing = true;
    core_.conn_lost = std::max(core_.conn_lost, 1);
    queue_.clear();
    core_.close_socket();
    server_ = nullptr;
    buffered_protocol_ = nullptr;
    protocol_.reset();
}

}  // namespace

namespace detail {

std::shared_ptr<Transport> make_socket_transport(EventLoop& loop, socket sock,
                                                 std::shared_ptr<Protocol> protocol,
                                                 std::optional<Future<void>> waiter,
                                                 ServerLink* server) {
    auto transport = std::make_shared<SelectorSocketTransport>(loop, std::move(sock),
                                                               std::move(protocol), server);
    transport->start(std::move(waiter));
    return transport;
}

}  // namespace detail

}  // namespace aio
