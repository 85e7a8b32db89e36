// protocols.hpp - the callbacks a transport calls (asyncio: protocols.py).
//
// A protocol is the program's side of a connection, written as callbacks: derive,
// override what you need (every callback has a do-nothing default, as in asyncio), and
// give the loop a factory that makes one per connection:
//
//   class EchoServerProtocol : public aio::Protocol {           // class
//   EchoServerProtocol(asyncio.Protocol):
//       void connection_made(std::shared_ptr<aio::Transport> t) override {   // def
//       connection_made(self, transport):
//           transport_ = std::move(t);                          //     self.transport = transport
//       }
//       void data_received(aio::bytes data) override {          // def data_received(self, data):
//           transport_->write(std::move(data));                 //     self.transport.write(data)
//       }
//       std::shared_ptr<aio::Transport> transport_;
//   };
//
// The order of calls is asyncio's: connection_made once; then data_received any number
// of times; eof_received at most once (return true to keep the transport open for
// writing, false to have it closed); connection_lost once, last. pause_writing and
// resume_writing come in pairs, when the transport's write buffer crosses its water
// marks. A callback that throws is a fatal error for the connection: the transport
// reports it to the loop's exception handler and closes (asyncio: _fatal_error).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>

#include "lesson05_io/bytes.hpp"
#include "lesson05_io/socket.hpp"

namespace aio {

class Transport;
class DatagramTransport;

// asyncio: protocols.BaseProtocol.
class BaseProtocol {
public:
    virtual ~BaseProtocol() = default;
    // The connection is gone; exc is null for a clean close or EOF, else the error
    // (ConnectionResetError, ...).
    virtual void connection_lost(std::exception_ptr /*exc*/) {}
    // The transport's write buffer went over its high-water mark / back under the low.
    virtual void pause_writing() {}
    virtual void resume_writing() {}
};

// asyncio: protocols.Protocol, for streams of bytes (TCP, Unix sockets, pipes).
class Protocol : public BaseProtocol {
public:
    virtual void connection_made(std::shared_ptr<Transport> /*transport*/) {}
    // Some bytes arrived (never empty).
    virtual void data_received(bytes /*data*/) {}
    // The peer will send no more. Return true to keep writing (half-close); false
    // (the default) closes the transport.
    virtual bool eof_received() { return false; }
};

// asyncio: protocols.BufferedProtocol. The transport reads straight into memory the
// protocol provides, so bytes are not copied between the kernel and the protocol.
class BufferedProtocol : public Protocol {
public:
    // A buffer of at least 1 byte to read into; sizehint is what the transport would
    // like (it may be ignored). The buffer stays the protocol's.
    struct Buffer {
        char* data;
        std::size_t size;
    };
    virtual Buffer get_buffer(std::size_t sizehint) = 0;
    // nbytes were written at the start of the last buffer get_buffer gave.
    virtual void buffer_updated(std::size_t nbytes) = 0;

private:
    // A buffered protocol is not given bytes objects (asyncio: the transport picks
    // the buffered read path for it).
    void data_received(bytes) final {}
};

// asyncio: protocols.DatagramProtocol, for UDP.
class DatagramProtocol : public BaseProtocol {
public:
    virtual void connection_made(std::shared_ptr<DatagramTransport> /*transport*/) {}
    virtual void datagram_received(bytes /*data*/, Address /*addr*/) {}
    // A send or receive failed (e.g. ICMP port unreachable as ConnectionRefusedError);
    // the endpoint stays open.
    virtual void error_received(std::exception_ptr /*exc*/) {}
};

}  // namespace aio
