// unix_write_pipe.cpp - the write pipe transport (asyncio: unix_events.
// _UnixWritePipeTransport), and the write() that never raises SIGPIPE (unix_events.hpp
// says why it does not ignore the signal as CPython does).
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>

#include "lesson01_loop/log.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/pipe_transport.hpp"

namespace aio::detail {

namespace {

// writev() with SIGPIPE blocked in this thread. A write() to a pipe whose reader is
// gone fails with EPIPE and makes SIGPIPE pending for this thread; it is taken with
// sigtimedwait (zero timeout) before the old mask comes back, so it is never delivered.
// If the thread blocked SIGPIPE already, its owner handles it (a signalfd, say): the
// write is a plain one and the signal is left to them.
ssize_t writev_without_sigpipe(int fd, const iovec* iov, int count) {
    sigset_t sigpipe;
    sigemptyset(&sigpipe);
    sigaddset(&sigpipe, SIGPIPE);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
    ssize_t n = ::writev(fd, iov, count);
    int err = errno;
    if (!sigismember(&old, SIGPIPE)) {
        if (n < 0 && err == EPIPE) {
            timespec zero{};
            while (sigtimedwait(&sigpipe, nullptr, &zero) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
    }
    errno = err;
    return n;
}

// asyncio: _UnixWritePipeTransport (with _FlowControlMixin).
class WritePipeTransport final : public PipeTransport {
public:
    WritePipeTransport(EventLoop& loop, OwnedFd pipe, std::shared_ptr<Protocol> protocol,
                       PipeKind kind)
        : PipeTransport(loop, std::move(pipe), std::move(protocol)), kind_(kind) {}
    // asyncio watches a FIFO's or a socket's fd for readability: it turns readable (an
    // error, or EOF) when the reader closes its end. A device gives no such sign.
    void begin(std::optional<Future<void>> waiter) {
        start(std::move(waiter), kind_ != PipeKind::character_device);
    }
    std::string repr() const override {
        return repr_of("_UnixWritePipeTransport", writer_armed_,
                       " bufsize=" + std::to_string(queue_.size()));
    }

    // asyncio: close() is write_eof(): flush, then close the fd.
    void close() override {
        if (pipe_.get() >= 0 && !closing_) write_eof();
    }
    void write(bytes data) override;
    void write_eof() override;
    bool can_write_eof() const override { return true; }
    void abort() override { close_with(nullptr); }
    void set_write_buffer_limits(std::optional<std::size_t> high,
                                 std::optional<std::size_t> low) override {
        marks_.set(high, low);
        maybe_pause_protocol();
    }
    std::pair<std::size_t, std::size_t> get_write_buffer_limits() const override {
        return {marks_.low, marks_.high};
    }
    std::size_t get_write_buffer_size() const override { return queue_.size(); }

    // The read half a write pipe has not (asyncio: no such attributes).
    bool is_reading() const override { return false; }
    void pause_reading() override { not_readable(); }
    void resume_reading() override { not_readable(); }

private:
    [[noreturn]] static void not_readable() {
        throw NotImplementedError("a write pipe transport cannot read");
    }
    ssize_t write_iov(const iovec* iov, std::size_t count);
    void read_ready() override;
    void write_ready() override;
    void drop_buffer() noexcept override { queue_.clear(); }
    void maybe_pause_protocol();
    void maybe_resume_protocol();
    void fatal_error(std::exception_ptr exc, const char* message);
    void close_with(std::exception_ptr exc);

    PipeKind kind_;
    WriteQueue queue_;
    WaterMarks marks_;
};

// A socket has MSG_NOSIGNAL; a FIFO or a device needs the signal blocked.
ssize_t WritePipeTransport::write_iov(const iovec* iov, std::size_t count) {
    if (kind_ != PipeKind::socket) return writev_without_sigpipe(fd_, iov, static_cast<int>(count));
    msghdr msg{};
    msg.msg_iov = const_cast<iovec*>(iov);
    msg.msg_iovlen = count;
    return ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
}

// asyncio: _read_ready. The write end turned readable: the reader closed its end.
// Data still queued can never arrive: BrokenPipeError; with none, a clean end.
void WritePipeTransport::read_ready() {
    if (lost_) return;
    if (loop_->get_debug()) log(LogLevel::info, repr() + " was closed by peer");
    close_with(queue_.empty() ? nullptr : make_os_error(EPIPE));
}

// asyncio: write. With nothing queued the data goes to write() at once; what the
// kernel does not take is queued, and the writer armed until it does.
void WritePipeTransport::write(bytes data) {
    if (data.empty()) return;
    if (lost_ || closing_) return note_write_after_lost();
    std::size_t sent = 0;
    if (queue_.empty()) {
        iovec iov{const_cast<char*>(data.data()), data.size()};
        ssize_t n = write_iov(&iov, 1);
        if (n < 0) {
            int err = errno;
            if (!would_block(err)) {
                auto keep = shared_from_this();
                return fatal_error(make_os_error(err), "Fatal write error on pipe transport");
            }
            n = 0;
        }
        sent = static_cast<std::size_t>(n);
        if (sent == data.size()) return;
        add_writer();
    }
    queue_.push(std::move(data), sent);
    maybe_pause_protocol();
}

// asyncio: _write_ready. Once the queue is empty the writer goes, and a close() or
// write_eof() that waited for the flush closes the fd.
void WritePipeTransport::write_ready() {
    if (lost_ || queue_.empty()) return;
    iovec iov[max_write_chunks];
    ssize_t n = write_iov(iov, queue_.fill(iov, max_write_chunks));
    if (n < 0) {
        int err = errno;
        if (would_block(err)) return;
        queue_.clear();
        remove_writer();
        return fatal_error(make_os_error(err), "Fatal write error on pipe transport");
    }
    queue_.consume(static_cast<std::size_t>(n));
    maybe_resume_protocol();  // may write more, or close
    if (lost_ || !queue_.empty()) return;
    remove_writer();
    if (closing_) {
        remove_reader();
        call_connection_lost(nullptr);
    }
}

// asyncio: write_eof. A pipe has no half-close: the end of the data is the fd's close,
// once the queue is flushed.
void WritePipeTransport::write_eof() {
    if (closing_) return;
    closing_ = true;
    if (!queue_.empty()) return;
    remove_reader();
    schedule_connection_lost(nullptr);
}

void WritePipeTransport::maybe_pause_protocol() {
    if (std::exception_ptr error = marks_.maybe_pause(queue_.size(), protocol_.get()))
        report(error, "protocol.pause_writing() failed", false);
}

void WritePipeTransport::maybe_resume_protocol() {
    if (std::exception_ptr error = marks_.maybe_resume(queue_.size(), protocol_.get()))
        report(error, "protocol.resume_writing() failed", false);
}

// asyncio: _fatal_error. An OSError (EPIPE, ...) is a pipe's normal end.
void WritePipeTransport::fatal_error(std::exception_ptr exc, const char* message) {
    report(exc, message, os_errno(exc) != 0);
    close_with(std::move(exc));
}

// asyncio: _close. The queue is dropped; connection_lost(exc) comes soon.
void WritePipeTransport::close_with(std::exception_ptr exc) {
    auto keep = shared_from_this();
    closing_ = true;
    if (!queue_.empty()) {
        remove_writer();
        queue_.clear();
    }
    remove_reader();
    schedule_connection_lost(std::move(exc));
}

}  // namespace

std::shared_ptr<Transport> make_write_pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                     std::shared_ptr<Protocol> protocol,
                                                     std::optional<Future<void>> waiter) {
    PipeKind kind =
        check_pipe(pipe.get(), "Pipe transport is only for pipes, sockets and character devices");
    auto transport =
        std::make_shared<WritePipeTransport>(loop, std::move(pipe), std::move(protocol), kind);
    transport->begin(std::move(waiter));
    return transport;
}

}  // namespace aio::detail
