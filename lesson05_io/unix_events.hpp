// unix_events.hpp - pipe transports: a protocol (or a stream) over one end of a pipe
// (asyncio: unix_events._UnixReadPipeTransport, _UnixWritePipeTransport;
// base_events.connect_read_pipe, connect_write_pipe).
//
// A pipe is one-way, so a pipe transport is half a socket transport: the read pipe
// only reads, the write pipe only writes. They are what a child process's stdin,
// stdout and stderr become (subprocess.hpp), and what connect_read_pipe gives for any
// pipe, socket or character device:
//
//   auto [transport, protocol] = co_await loop.connect_read_pipe(factory, fd);
//
//   read pipe   readable: one read() of at most 256 KiB ─▶ data_received(data)
//               b'' ─▶ eof_received(), then connection_lost(None) (a pipe has no
//               half-close: its return value is ignored, as asyncio's)
//               pause_reading / resume_reading take the fd out of the selector
//   write pipe  write(): nothing buffered: write() at once; the rest is queued and the
//               writer armed until the kernel takes it; water marks as a socket's
//               write_eof() / close(): flush, then close the fd: the reader sees EOF
//               the fd turns readable: the reader closed its end ─▶ connection_lost
//               (BrokenPipeError if data was still queued, None if not: asyncio's rule)
//               a write() that gets EPIPE ─▶ connection_lost(BrokenPipeError), never
//               SIGPIPE (see below)
//
// Ownership. The fd passed in is adopted: from the call on it is the transport's, and
// it is closed when the transport is (after connection_lost), or at once if the call
// fails (not a pipe, cancelled before connection_made). Pass an int fd, or an
// aio::socket (moved in; its fd is taken). dup() first to keep one of your own. The fd
// is made non-blocking and close-on-exec.
//
// SIGPIPE. write() to a pipe whose reader is gone raises SIGPIPE, which kills the
// process by default; send() has MSG_NOSIGNAL for sockets, write() has nothing. CPython
// sets SIGPIPE to SIG_IGN at startup, for every Python program, so asyncio never sees
// it. A library must not do that behind its program's back: the disposition is the
// whole process's, and an ignored signal stays ignored across exec, so every child
// would inherit it (CPython's subprocess undoes it with restore_signals=True). So a
// write pipe on a socket uses send(MSG_NOSIGNAL), and on a FIFO or a device blocks
// SIGPIPE in the calling thread around the write() and, on EPIPE, takes the pending
// signal with sigtimedwait before unblocking: two sigprocmask calls per write, and
// nothing changed outside the call.
//
// Differences from asyncio:
//   - The transports are whole aio::Transports (the streams and protocols take one);
//     the half a pipe does not have raises NotImplementedError (write() on a read
//     pipe; pause_reading() on a write pipe). asyncio's have no such attributes.
//   - A read pipe's protocol callback that throws is a fatal error for the transport,
//     as for a socket; asyncio lets it escape into the loop's handler and keeps reading.
//   - The write pipe calls resume_writing() when its buffer comes down to the low-water
//     mark; asyncio's pipe only when the buffer is empty.
//   - An abort() after write_eof() or close() does not call connection_lost twice.
//   - get_extra_info("pipe") is a PipeFd (the fd), not a file object.
//   - The reader's close seen while data is queued is BrokenPipeError(32, 'Broken pipe');
//     asyncio's is BrokenPipeError() (an OSError here always carries its errno).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/base_events.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/socket.hpp"
#include "lesson05_io/transports.hpp"

namespace aio {

namespace detail {

// An fd that is closed when dropped: how a pipe's fd is held between the call that
// adopts it and the transport that owns it, so that a coroutine never started, or
// failing early, leaks nothing.
class OwnedFd {
public:
    OwnedFd() = default;
    explicit OwnedFd(int fd) noexcept : fd_(fd) {}
    OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    OwnedFd& operator=(OwnedFd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~OwnedFd() { reset(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept;

private:
    int fd_ = -1;
};

// asyncio: _make_read_pipe_transport / _make_write_pipe_transport. Check the fd
// (ValueError unless a pipe, socket or character device; OSError if it is not open),
// make it non-blocking, and start the transport: connection_made, then reading (the
// write pipe: watching for the reader's close), then `waiter` set, each from the loop.
std::shared_ptr<Transport> make_read_pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                    std::shared_ptr<Protocol> protocol,
                                                    std::optional<Future<void>> waiter = {});
std::shared_ptr<Transport> make_write_pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                     std::shared_ptr<Protocol> protocol,
                                                     std::optional<Future<void>> waiter = {});

// connect_read_pipe / connect_write_pipe (`write`) without the factory: the transport,
// once connection_made has run; a cancel meanwhile closes it (and the fd).
Coro<std::shared_ptr<Transport>> pipe_transport(EventLoop& loop, OwnedFd pipe,
                                                std::shared_ptr<Protocol> protocol, bool write);

// asyncio: base_subprocess._connect_pipes. A child's stdin (a write pipe), stdout and
// stderr (read pipes): each fd that is open (not -1) gets a pipe transport with the
// protocol at the same index; the others stay null. Every fd is adopted: if one fails,
// or the call is cancelled, the transports made so far are closed, and the fds not
// yet made into transports too.
// GCC 12: std::array is an aggregate, so name the call before awaiting it
// (`auto connecting = connect_pipes(...); co_await std::move(connecting);`).
using ChildPipes = std::array<std::shared_ptr<Transport>, 3>;
Coro<ChildPipes> connect_pipes(EventLoop& loop, std::array<OwnedFd, 3> fds,
                               std::array<std::shared_ptr<Protocol>, 3> protocols);

template <class P>
Coro<std::pair<std::shared_ptr<Transport>, std::shared_ptr<P>>> with_pipe(
    EventLoop& loop, OwnedFd pipe, std::shared_ptr<P> protocol, bool write) {
    auto transport = co_await pipe_transport(loop, std::move(pipe), protocol, write);
    co_return std::pair{std::move(transport), std::move(protocol)};
}

// The factory is called when the coroutine runs, as asyncio's first line does.
template <class Factory>
Connection<Factory> connect_pipe(EventLoop& loop, Factory protocol_factory, OwnedFd pipe,
                                 bool write) {
    co_return co_await with_pipe(loop, std::move(pipe), protocol_factory(), write);
}

// What the caller passes as the pipe: an fd, adopted, or a socket, whose fd is taken.
inline OwnedFd adopt_pipe(int fd) noexcept { return OwnedFd(fd); }
inline OwnedFd adopt_pipe(socket sock) noexcept { return OwnedFd(sock.detach()); }

}  // namespace detail

// asyncio: await loop.connect_read_pipe(protocol_factory, pipe) -> (transport,
// protocol). pipe: an int fd or an aio::socket, adopted now (see Ownership above),
// before the first await.
template <class Factory, class Pipe>
detail::Connection<Factory> aio_connect_read_pipe(EventLoop& loop, Factory protocol_factory,
                                                  Pipe pipe) {
    return detail::connect_pipe(loop, std::move(protocol_factory),
                                detail::adopt_pipe(std::move(pipe)), false);
}

// asyncio: await loop.connect_write_pipe(protocol_factory, pipe) -> (transport,
// protocol). The pipe is adopted now.
template <class Factory, class Pipe>
detail::Connection<Factory> aio_connect_write_pipe(EventLoop& loop, Factory protocol_factory,
                                                   Pipe pipe) {
    return detail::connect_pipe(loop, std::move(protocol_factory),
                                detail::adopt_pipe(std::move(pipe)), true);
}

}  // namespace aio
