// transports.hpp - what a protocol writes to and reads from (asyncio: transports.py).
//
// asyncio splits a connection in two. The transport owns the socket and does the
// system calls: it reads when the selector says the fd is readable and hands the
// bytes to the protocol; it writes what it is given, buffering what the kernel will
// not take yet. The protocol is the program's: callbacks that the transport calls
// (protocols.hpp). Neither waits; streams (streams.hpp) put coroutines on top.
//
//            your code      transport->write(data)           protocol->data_received(data)
//               │                 │                                   ▲
//   Protocol ◀──┘        ┌────────▼────────┐   readable: recv()  ┌─────┴─────┐
//                        │    Transport     │────────────────────▶│ Protocol  │
//                        │ (write buffer,   │  flow control:      │           │
//                        │  water marks)    │  pause_writing() ──▶│           │
//                        └────────┬────────┘                      └───────────┘
//                                 │ send() / add_writer when the kernel is full
//                               socket
//
// These are interfaces, as in asyncio; the socket transport that implements them is
// selector_events.hpp's. Transports are shared: the protocol keeps the one
// connection_made gave it (std::shared_ptr, Python's `self.transport = transport`),
// the loop keeps it while its fd is registered, streams and servers keep it too.
// A transport drops its protocol after connection_lost, which breaks the cycle.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lesson05_io/bytes.hpp"
#include "lesson05_io/socket.hpp"

namespace aio {

class BaseProtocol;
class Protocol;
class DatagramProtocol;

// What a pipe transport's get_extra_info("pipe") gives: the fd it owns (Python gives
// the file object passed to connect_read_pipe). Prints as <pipe fd=7>.
struct PipeFd {
    int fd;
    std::string repr() const { return "<pipe fd=" + std::to_string(fd) + ">"; }
};

// What get_extra_info gives: None, an address ("peername", "sockname"), the socket
// ("socket") or a pipe ("pipe", unix_events.hpp). Prints as Python prints it
// (aio::repr shows the alternative it holds).
using ExtraInfo = std::variant<std::monostate, Address, const socket*, PipeFd>;

// asyncio: transports.BaseTransport.
class BaseTransport {
public:
    virtual ~BaseTransport() = default;
    BaseTransport(const BaseTransport&) = delete;
    BaseTransport& operator=(const BaseTransport&) = delete;

    // asyncio: get_extra_info(name). "peername", "sockname", "socket"; None otherwise.
    virtual ExtraInfo get_extra_info(std::string_view name) const = 0;
    // Typed form: get_extra_info<Address>("peername") is the address or nullopt.
    template <class T>
    std::optional<T> get_extra_info(std::string_view name) const {
        ExtraInfo info = get_extra_info(name);
        if (const T* value = std::get_if<T>(&info)) return *value;
        return std::nullopt;
    }
    // asyncio: is_closing(). True once close() or abort() was called, or the
    // connection was lost.
    virtual bool is_closing() const = 0;
    // asyncio: close(). Idempotent. Buffered data is still sent; then the protocol's
    // connection_lost(None) is called (soon, from the loop).
    virtual void close() = 0;

protected:
    BaseTransport() = default;
};

// asyncio: transports.Transport (ReadTransport + WriteTransport): a byte stream.
class Transport : public BaseTransport {
public:
    // ---- reading (asyncio: ReadTransport) ----
    virtual bool is_reading() const = 0;
    // Stops calling data_received until resume_reading (the fd leaves the selector).
    // Both are idempotent, and do nothing on a closing transport.
    virtual void pause_reading() = 0;
    virtual void resume_reading() = 0;

    // ---- writing (asyncio: WriteTransport) ----
    // Sends data, at once if nothing is buffered; whatever the kernel does not take is
    // buffered and sent when the socket is writable. Never blocks. After write_eof():
    // RuntimeError ("Cannot call write() after write_eof()"); after close() or abort(),
    // or once the connection is lost, ignored (as asyncio; a warning from the fifth).
    virtual void write(bytes data) = 0;
    void writelines(const std::vector<bytes>& list) {
        for (const bytes& data : list) write(data);
    }
    // Half-close: after the buffer is flushed, the peer reads end of stream. Idempotent.
    virtual void write_eof() = 0;
    virtual bool can_write_eof() const = 0;
    // Closes at once: the buffer is dropped, connection_lost(None) follows.
    virtual void abort() = 0;
    // Flow control: above `high` buffered bytes the protocol's pause_writing() is
    // called, and resume_writing() once the buffer drains to `low` (defaults: 64 KiB
    // and a quarter of high, as asyncio).
    virtual void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                         std::optional<std::size_t> low = std::nullopt) = 0;
    virtual std::pair<std::size_t, std::size_t> get_write_buffer_limits() const = 0;  // (low, high)
    virtual std::size_t get_write_buffer_size() const = 0;

    // asyncio: set_protocol / get_protocol.
    virtual void set_protocol(std::shared_ptr<Protocol> protocol) = 0;
    virtual std::shared_ptr<Protocol> get_protocol() const = 0;
};

// asyncio: transports.DatagramTransport.
class DatagramTransport : public BaseTransport {
public:
    // Sends one datagram to addr (or to the connected peer when addr is absent).
    virtual void sendto(bytes data, std::optional<Address> addr = std::nullopt) = 0;
    virtual void abort() = 0;
    virtual std::size_t get_write_buffer_size() const = 0;
};

namespace detail {

// What a server's connections report to it (asyncio: Server._attach/_detach): the
// socket transport of an accepted connection attaches when made and detaches after its
// connection_lost, so that Server.wait_closed() knows when the last one is gone and
// close_clients()/abort_clients() can reach them. Implemented by Server (servers.hpp).
class ServerLink {
public:
    virtual void attach(const std::shared_ptr<Transport>& transport) = 0;
    virtual void detach(Transport& transport) = 0;

protected:
    ~ServerLink() = default;
};

}  // namespace detail

}  // namespace aio
