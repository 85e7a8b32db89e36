// selector_events.hpp - the transports that do socket I/O when the selector says the fd
// is ready (asyncio: selector_events._SelectorTransport, _SelectorSocketTransport,
// _SelectorDatagramTransport).
//
// A socket transport owns a connected, non-blocking socket and its protocol:
//
//   made      connection_made(transport) (call_soon) ─▶ the reader is added ─▶ the
//             waiter (create_connection's) is set: asyncio's order
//   readable  one recv() of at most 256 KiB per event ─▶ data_received(data)
//             (a BufferedProtocol: recv() into get_buffer() ─▶ buffer_updated(n))
//             b'' ─▶ eof_received(): true keeps the transport open for writing
//   write()   nothing buffered: send() at once; the rest (or all, on EAGAIN) is queued
//             and the writer is armed; the writer sends the queue and disarms when empty
//   close()   the reader goes; the queue is flushed; then connection_lost(None)
//   error     connection_lost(exc): reset, broken pipe, a protocol callback that threw
//
// The hot path stays cheap: the fd stays registered while reading (no epoll_ctl per
// read), a write that the kernel takes whole costs one send(), and the writer is armed
// only while the kernel is full. Sends use MSG_NOSIGNAL (no SIGPIPE, ever).
//
// Ownership: the loop's fd callbacks hold the transport (std::shared_ptr), so it lives
// while it reads or writes; it holds its protocol until connection_lost has been
// called, then drops it (and closes the socket), which breaks the protocol <-> transport
// cycle. Methods that may drop the fd callbacks keep a reference to themselves while
// they run. A transport never closed when its loop closes is closed then (socket
// closed, protocol dropped, no callback): asyncio leaves that to the garbage collector.
//
// Differences from asyncio:
//   - write() on a closing transport is always ignored (counted; a warning from the
//     fifth, "socket.send() raised exception."). asyncio ignores it only when the
//     buffer was empty at close() and otherwise sends it after close(), so whether data
//     written after close() goes out depends on timing there.
//   - The write queue is a list of the bytes given (no copy into one bytearray); a
//     partial send leaves an offset into the first one, and the writer sends up to 64
//     of them with one sendmsg() (as 3.12 does with writelines).
//   - Datagram sendto() after close() or abort() is ignored too; asyncio 3.11 does so
//     only in connected mode and otherwise fails on the closed socket.
//   - Reading starts only if nobody paused it before the first iteration (3.12's
//     is_reading() check; 3.11 checks only closing).
//   - A failing shutdown(SHUT_WR) after the flush of a write_eof() (the peer reset
//     meanwhile) ends the connection with that error; asyncio lets it escape into the
//     loop's handler.
//   - TCP_NODELAY is set on every TCP socket (asyncio: only if sock.proto is
//     IPPROTO_TCP, which a socket made with proto 0 is not).
//   - A BufferedProtocol's get_buffer(sizehint) is given max_read_size (asyncio: -1).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/socket.hpp"
#include "lesson05_io/transports.hpp"

namespace aio {

namespace detail {

// asyncio: selector_events.make_socket_transport (BaseSelectorEventLoop's
// _make_socket_transport). Takes the socket (connected, non-blocking) and the protocol;
// sets `waiter` once connection_made has run; an accepted connection attaches to its
// `server` now and detaches after connection_lost.
std::shared_ptr<Transport> make_socket_transport(EventLoop& loop, socket sock,
                                                 std::shared_ptr<Protocol> protocol,
                                                 std::optional<Future<void>> waiter = {},
                                                 ServerLink* server = nullptr);

// asyncio: _make_datagram_transport. `remote` given: connected mode (sendto without an
// address goes there, any other address is a ValueError).
std::shared_ptr<DatagramTransport> make_datagram_transport(
    EventLoop& loop, socket sock, std::shared_ptr<DatagramProtocol> protocol,
    std::optional<Address> remote = {}, std::optional<Future<void>> waiter = {});

// asyncio: transports._FlowControlMixin. The water marks and the paused flag, shared by
// the socket and the pipe transports (unix_events.hpp).
struct WaterMarks {
    std::size_t high = 64 * 1024;
    std::size_t low = 16 * 1024;
    bool paused = false;  // pause_writing() called, resume_writing() not yet
    // asyncio: _set_write_buffer_limits. ValueError unless high >= low.
    void set(std::optional<std::size_t> new_high, std::optional<std::size_t> new_low);
    bool should_pause(std::size_t size) const noexcept { return !paused && size > high; }
    bool should_resume(std::size_t size) const noexcept { return paused && size <= low; }
    // asyncio: _maybe_pause_protocol / _maybe_resume_protocol. Calls the protocol's
    // pause_writing() when `size` went over high (resume_writing() when it came down to
    // low); returns what the call threw, for the transport to report ("protocol.
    // pause_writing() failed"), null otherwise.
    std::exception_ptr maybe_pause(std::size_t size, BaseProtocol* protocol);
    std::exception_ptr maybe_resume(std::size_t size, BaseProtocol* protocol);
};

// The write queue of a byte-stream transport (socket or pipe): the bytes given to
// write() and not sent yet, kept as they were given (no copy into one buffer); the
// first one's first bytes may have been sent already. The transport gathers the queue
// into one sendmsg()/writev() and consumes what the kernel took.
class WriteQueue {
public:
    bool empty() const noexcept { return chunks_.empty(); }
    std::size_t size() const noexcept { return buffered_; }  // bytes still to send
    // Queues data, whose first `already_sent` bytes went out (a partial first write).
    void push(bytes data, std::size_t already_sent = 0);
    // Points iov[0..n) at what is still to send, the first `max` chunks at most; n.
    std::size_t fill(iovec* iov, std::size_t max) const noexcept;
    void consume(std::size_t n) noexcept;  // n bytes were sent
    void clear() noexcept;

private:
    std::deque<bytes> chunks_;
    std::size_t sent_ = 0;  // of chunks_.front()
    std::size_t buffered_ = 0;
};

// How many chunks one sendmsg()/writev() of a WriteQueue gathers (as 3.12's writelines).
inline constexpr std::size_t max_write_chunks = 64;

// asyncio: a transport's _fatal_error report. `quiet` (an expected end of the
// connection: an OSError for a socket, EIO for a read pipe): logged in debug mode only;
// anything else goes to the loop's exception handler with the transport and protocol.
void report_transport_error(EventLoop& loop, const std::exception_ptr& exc,
                            const std::string& message, bool quiet, ContextValue transport,
                            ContextValue protocol);
// The errno of an OSError in exc, 0 if exc is not an OSError.
int os_errno(const std::exception_ptr& exc) noexcept;

// asyncio: LOG_THRESHOLD_FOR_CONNLOST_WRITES (constants.py).
inline constexpr int log_threshold_for_connlost_writes = 5;
// asyncio: _SelectorTransport.max_size, the most one recv() asks for.
inline constexpr std::size_t max_read_size = 256 * 1024;

// asyncio: _SelectorTransport, what both transports share: the socket, the extra info,
// the closing and connection-lost state, and the fatal-error path.
class SelectorTransportCore {
public:
    SelectorTransportCore(EventLoop& loop, socket sock);
    EventLoop& loop() const noexcept { return *loop_; }
    int fd() const noexcept { return fd_; }
    ExtraInfo extra_info(std::string_view name) const;
    // asyncio: _SelectorTransport.__repr__, "<_SelectorSocketTransport fd=7 read=polling
    // write=<idle, bufsize=0>>".
    std::string repr(const char* type, bool reading, bool writing, std::size_t bufsize) const;
    // Reports a non-OSError to the loop's exception handler (asyncio: _fatal_error;
    // OSErrors, resets and broken pipes, are the connection's end, not a bug: logged only
    // in debug mode).
    void report(const std::exception_ptr& exc, const std::string& message, ContextValue transport,
                ContextValue protocol);
    // Writes after the connection is lost: counted, a warning from the fifth.
    void note_write_after_lost();
    void close_socket() noexcept { sock_.close(); }
    socket& sock() noexcept { return sock_; }

    bool closing = false;  // close() or abort() called, or the connection was lost
    int conn_lost = 0;     // asyncio: _conn_lost, set when connection_lost is scheduled

private:
    int ignored_writes_ = 0;
    EventLoop* loop_;
    socket sock_;
    int fd_;
    std::optional<Address> sockname_;
    std::optional<Address> peername_;
};

// A transport as its loop's closing sees it (selector_base.cpp's registry): when the
// loop closes, each transport still alive closes its socket and drops its protocol,
// without callbacks, so a protocol <-> transport cycle left open leaks no fd.
class LoopBound {
public:
    virtual void loop_closed() noexcept = 0;

protected:
    ~LoopBound() = default;
};
void register_transport(EventLoop& loop, std::weak_ptr<LoopBound> transport);

// EAGAIN, EWOULDBLOCK, EINTR: try again later, not an error.
bool would_block(int err) noexcept;

// Python's repr of a protocol object: <EchoProtocol object at 0x55d0c8>.
std::string protocol_repr(const BaseProtocol* protocol);

}  // namespace detail

}  // namespace aio
