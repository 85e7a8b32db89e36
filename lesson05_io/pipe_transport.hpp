// pipe_transport.hpp - what the read and the write pipe transports share (asyncio: the
// common parts of unix_events._UnixReadPipeTransport and _UnixWritePipeTransport): the
// fd and its readiness callbacks, the protocol, the closing state, the end of the
// connection (connection_lost once, then the fd closed and the protocol dropped), and
// the loop's closing. Private to unix_events.cpp and unix_write_pipe.cpp.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/selector_events.hpp"
#include "lesson05_io/transports.hpp"
#include "lesson05_io/unix_events.hpp"

namespace aio::detail {

// The kind of file behind a pipe transport's fd (asyncio checks st_mode).
enum class PipeKind { fifo, socket, character_device };

// asyncio's check: a FIFO, a socket or a character device, else ValueError(message);
// an fd that is not open: OSError (EBADF). Also makes it non-blocking, close-on-exec.
PipeKind check_pipe(int fd, const char* message);

class PipeTransport : public Transport,
                      public LoopBound,
                      public std::enable_shared_from_this<PipeTransport> {
public:
    PipeTransport(EventLoop& loop, OwnedFd pipe, std::shared_ptr<Protocol> protocol)
        : loop_(&loop), pipe_(std::move(pipe)), fd_(pipe_.get()), protocol_(std::move(protocol)) {}

    ExtraInfo get_extra_info(std::string_view name) const override {
        if (name == "pipe" && pipe_.get() >= 0) return PipeFd{pipe_.get()};
        return std::monostate{};
    }
    bool is_closing() const override { return closing_; }
    void set_protocol(std::shared_ptr<Protocol> protocol) override {
        protocol_ = std::move(protocol);
    }
    std::shared_ptr<Protocol> get_protocol() const override { return protocol_; }
    void loop_closed() noexcept override;
    // asyncio's __repr__: "<_UnixReadPipeTransport fd=7 polling>".
    virtual std::string repr() const = 0;

protected:
    // connection_made, then the reader if watch_readable, then the waiter, each from
    // the loop (call_soon).
    void start(std::optional<Future<void>> waiter, bool watch_readable);
    virtual void read_ready() = 0;
    virtual bool wants_reader() const noexcept { return true; }
    void add_reader();
    void remove_reader();
    void add_writer();
    void remove_writer();
    // repr() for `type`: `more` follows the polling state.
    std::string repr_of(const char* type, bool polling, const std::string& more) const;
    // asyncio: _fatal_error; quiet for the errors that end a pipe normally.
    void report(const std::exception_ptr& exc, const char* message, bool quiet);
    // Schedules connection_lost(exc) (call_soon), once; later calls do nothing.
    void schedule_connection_lost(std::exception_ptr exc);
    // asyncio: _call_connection_lost: the protocol's last callback, then the fd closed
    // and the protocol dropped (breaking the protocol <-> transport cycle).
    void call_connection_lost(std::exception_ptr exc);
    // A write pipe's discarded writes after the connection is lost (asyncio's warning).
    void note_write_after_lost();

    EventLoop* loop_;
    OwnedFd pipe_;                        // -1 once closed
    int fd_;                              // the number it had, for repr
    std::shared_ptr<Protocol> protocol_;  // null after connection_lost
    bool closing_ = false;
    bool lost_ = false;  // connection_lost scheduled or called
    bool reader_armed_ = false;
    bool writer_armed_ = false;
    int ignored_writes_ = 0;

private:
    virtual void write_ready() {}
    // The write pipe drops its queue when the loop closes.
    virtual void drop_buffer() noexcept {}
};

}  // namespace aio::detail
