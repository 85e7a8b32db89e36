// unix_events.cpp - the read pipe transport, what both pipe transports share, and
// connect_read_pipe / connect_write_pipe / connect_pipes (asyncio: unix_events.
// _UnixReadPipeTransport, base_events.connect_read_pipe, base_subprocess._connect_pipes).
// The write pipe transport is in unix_write_pipe.cpp.
#include "lesson05_io/unix_events.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <utility>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/pipe_transport.hpp"

namespace aio {

namespace detail {

void OwnedFd::reset() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

PipeKind check_pipe(int fd, const char* message) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw_os_error(errno);
    PipeKind kind;
    if (S_ISFIFO(st.st_mode))
        kind = PipeKind::fifo;
    else if (S_ISSOCK(st.st_mode))
        kind = PipeKind::socket;
    else if (S_ISCHR(st.st_mode))
        kind = PipeKind::character_device;
    else
        throw ValueError(message);
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_os_error(errno);
    int fd_flags = ::fcntl(fd, F_GETFD);
    if (fd_flags < 0 || ::fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) != 0) throw_os_error(errno);
    return kind;
}

// ---- what both transports share -------------------------------------------------

// asyncio's order: connection_made, then the reader, then the waiter, each from the
// loop, so connection_made never runs inside the caller. The reader is added only if
// the transport is still open and (a read pipe) not paused by then.
void PipeTransport::start(std::optional<Future<void>> waiter, bool watch_readable) {
    auto self = shared_from_this();
    register_transport(*loop_, self);
    loop_->call_soon([self] {
        if (self->protocol_) self->protocol_->connection_made(self);
    });
    if (watch_readable) loop_->call_soon([self] { self->add_reader(); });
    if (waiter)
        loop_->call_soon([w = std::move(*waiter)]() mutable {
            if (!w.done()) w.set_result();  // asyncio: _set_result_unless_cancelled
        });
}

void PipeTransport::add_reader() {
    if (reader_armed_ || lost_ || pipe_.get() < 0 || !wants_reader()) return;
    reader_armed_ = true;
    loop_->add_reader(fd_, [self = shared_from_this()] { self->read_ready(); });
}

void PipeTransport::remove_reader() {
    if (!reader_armed_) return;
    reader_armed_ = false;
    loop_->remove_reader(fd_);
}

void PipeTransport::add_writer() {
    if (writer_armed_) return;
    writer_armed_ = true;
    loop_->add_writer(fd_, [self = shared_from_this()] { self->write_ready(); });
}

void PipeTransport::remove_writer() {
    if (!writer_armed_) return;
    writer_armed_ = false;
    loop_->remove_writer(fd_);
}

std::string PipeTransport::repr_of(const char* type, bool polling, const std::string& more) const {
    std::string out = std::string("<") + type;
    if (pipe_.get() < 0)
        out += " closed";
    else if (closing_)
        out += " closing";
    out += " fd=" + std::to_string(fd_);
    if (pipe_.get() < 0)
        out += " closed";
    else if (loop_->is_closed())
        out += " open";
    else
        out += (polling ? " polling" : " idle") + more;
    return out + ">";
}

void PipeTransport::report(const std::exception_ptr& exc, const char* message, bool quiet) {
    report_transport_error(*loop_, exc, message, quiet, shared_from_this(),
                           protocol_repr(protocol_.get()));
}

void PipeTransport::schedule_connection_lost(std::exception_ptr exc) {
    if (lost_) return;
    lost_ = true;
    loop_->call_soon(
        [self = shared_from_this(), exc = std::move(exc)] { self->call_connection_lost(exc); });
}

void PipeTransport::call_connection_lost(std::exception_ptr exc) {
    lost_ = true;
    auto self = shared_from_this();
    struct Cleanup {
        PipeTransport* t;
        ~Cleanup() {
            t->remove_reader();
            t->remove_writer();
            t->pipe_.reset();
            t->protocol_.reset();
        }
    } cleanup{this};
    if (protocol_) protocol_->connection_lost(std::move(exc));
}

// asyncio: the warning of a write after the connection is lost, from the fifth on.
void PipeTransport::note_write_after_lost() {
    if (++ignored_writes_ >= log_threshold_for_connlost_writes)
        log(LogLevel::warning, "pipe closed by peer or os.write(pipe, data) raised exception.");
}

// The loop closed with this transport open: its fd callbacks are gone already.
void PipeTransport::loop_closed() noexcept {
    reader_armed_ = writer_armed_ = false;
    closing_ = lost_ = true;
    drop_buffer();
    pipe_.reset();
    protocol_.reset();
}

namespace {

// ---- the read pipe --------------------------------------------------------------

// asyncio: _UnixReadPipeTransport.
class ReadPipeTransport final : public PipeTransport {
public:
    using PipeTransport::PipeTransport;
    void begin(std::optional<Future<void>> waiter) { start(std::move(waiter), true); }
    std::string repr() const override {
        return repr_of("_UnixReadPipeTransport", reader_armed_, "");
    }

    void close() override {
        if (!closing_) close_with(nullptr);
    }
    bool is_reading() const override { return !paused_ && !closing_; }
    void pause_reading() override;
    void resume_reading() override;

    // The write half a read pipe has not (asyncio: no such attributes).
    void write(bytes) override { not_writable(); }
    void write_eof() override { not_writable(); }
    bool can_write_eof() const override { return false; }
    // Closes as close() does: there is no buffer to drop.
    void abort() override { close(); }
    void set_write_buffer_limits(std::optional<std::size_t>, std::optional<std::size_t>) override {
        not_writable();
    }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override { not_writable(); }
    std::size_t get_write_buffer_size() const override { return 0; }

private:
    [[noreturn]] static void not_writable() {
        throw NotImplementedError("a read pipe transport cannot write");
    }
    bool wants_reader() const noexcept override { return is_reading(); }
    void read_ready() override;
    void on_eof();
    void fatal_error(std::exception_ptr exc, const char* message);
    void close_with(std::exception_ptr exc);

    bool paused_ = false;
};

// asyncio: _read_ready. One read() per readiness event; the fd stays registered.
void ReadPipeTransport::read_ready() {
    if (lost_) return;
    thread_local std::unique_ptr<char[]> scratch(new char[max_read_size]);
    ssize_t n = ::read(fd_, scratch.get(), max_read_size);
    if (n < 0) {
        int err = errno;
        if (!would_block(err))
            fatal_error(make_os_error(err), "Fatal read error on pipe transport");
        return;
    }
    if (n == 0) return on_eof();
    try {
        protocol_->data_received(bytes(scratch.get(), static_cast<std::size_t>(n)));
    } catch (...) {
        fatal_error(std::current_exception(), "Fatal error: protocol.data_received() call failed.");
    }
}

// asyncio: the writer closed its end. eof_received() and connection_lost(None) follow,
// both from the loop; a pipe cannot stay open for writing, so what eof_received()
// returns does not matter.
void ReadPipeTransport::on_eof() {
    if (loop_->get_debug()) log(LogLevel::info, repr() + " was closed by peer");
    closing_ = true;
    remove_reader();
    lost_ = true;
    loop_->call_soon([self = std::static_pointer_cast<ReadPipeTransport>(shared_from_this())] {
        std::exception_ptr error;
        try {
            if (self->protocol_) self->protocol_->eof_received();
        } catch (...) {
            error = std::current_exception();
            self->report(error, "Fatal error: protocol.eof_received() call failed.", false);
        }
        self->call_connection_lost(error);
    });
}

void ReadPipeTransport::pause_reading() {
    if (closing_ || paused_) return;
    paused_ = true;
    remove_reader();
}

void ReadPipeTransport::resume_reading() {
    if (closing_ || !paused_) return;
    paused_ = false;
    add_reader();
}

// asyncio: _fatal_error. EIO (a pseudo-terminal whose other side closed) is a pipe's
// normal end; anything else is reported.
void ReadPipeTransport::fatal_error(std::exception_ptr exc, const char* message) {
    report(exc, message, os_errno(exc) == EIO);
    close_with(std::move(exc));
}

// asyncio: _close.
void ReadPipeTransport::close_with(std::exception_ptr exc) {
    auto keep = shared_from_this();
    closing_ = true;
    remove_reader();
    schedule_connection_lost(std::move(exc));
}

}  // namespace

std::shared_ptr<Transport> make_read_pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                    std::shared_ptr<Protocol> protocol,
                                                    std::optional<Future<void>> waiter) {
    check_pipe(pipe.get(), "Pipe transport is for pipes/sockets only.");
    auto transport =
        std::make_shared<ReadPipeTransport>(loop, std::move(pipe), std::move(protocol));
    transport->begin(std::move(waiter));
    return transport;
}

Coro<std::shared_ptr<Transport>> pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                std::shared_ptr<Protocol> protocol, bool write) {
    Future<void> waiter(loop);
    auto transport =
        write ? make_write_pipe_transport(loop, std::move(pipe), std::move(protocol), waiter)
              : make_read_pipe_transport(loop, std::move(pipe), std::move(protocol), waiter);
    return when_made(std::move(waiter), std::move(transport));
}

// asyncio: _connect_pipes: stdin, then stdout, then stderr, each awaited. Whatever
// fails, nothing is left open: the fds still held close with `fds`, the transports made
// are closed here.
Coro<ChildPipes> connect_pipes(EventLoop& loop, std::array<OwnedFd, 3> fds,
                               std::array<std::shared_ptr<Protocol>, 3> protocols) {
    ChildPipes pipes;
    try {
        for (std::size_t i = 0; i < 3; ++i) {
            if (fds[i].get() < 0) continue;
            pipes[i] = co_await pipe_transport(loop, std::move(fds[i]), protocols[i], i == 0);
        }
    } catch (...) {
        for (std::shared_ptr<Transport>& pipe : pipes)
            if (pipe) pipe->abort();
        throw;
    }
    co_return pipes;
}

}  // namespace detail

}  // namespace aio
