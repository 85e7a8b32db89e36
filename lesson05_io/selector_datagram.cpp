// selector_datagram.cpp - the datagram transport (asyncio: selector_events.
// _SelectorDatagramTransport): one recvfrom() per readiness event, each datagram to
// datagram_received(data, addr); sendto() sends at once and queues whole datagrams
// only when the kernel would block. A failed send or receive (an ICMP "port
// unreachable" comes back as ConnectionRefusedError) goes to error_received and the
// endpoint stays open, as UDP has no connection to lose.
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/selector_events.hpp"

namespace aio {

namespace {

class SelectorDatagramTransport final
    : public DatagramTransport,
      public detail::LoopBound,
      public std::enable_shared_from_this<SelectorDatagramTransport> {
public:
    SelectorDatagramTransport(EventLoop& loop, socket sock,
                              std::shared_ptr<DatagramProtocol> protocol,
                              std::optional<Address> remote)
        : core_(loop, std::move(sock)),
          protocol_(std::move(protocol)),
          remote_(std::move(remote)) {}
    void start(std::optional<Future<void>> waiter);
    std::string repr() const {
        return core_.repr("_SelectorDatagramTransport", reader_armed_, writer_armed_, buffered_);
    }

    ExtraInfo get_extra_info(std::string_view name) const override {
        return core_.extra_info(name);
    }
    bool is_closing() const override { return core_.closing; }
    void close() override;
    void sendto(bytes data, std::optional<Address> addr) override;
    void abort() override {
        auto keep = shared_from_this();
        force_close(nullptr);
    }
    std::size_t get_write_buffer_size() const override { return buffered_; }
    // The loop closed with this transport open (see selector_events.hpp).
    void loop_closed() noexcept override {
        reader_armed_ = writer_armed_ = false;
        core_.closing = true;
        core_.conn_lost = std::max(core_.conn_lost, 1);
        queue_.clear();
        buffered_ = 0;
        core_.close_socket();
        protocol_.reset();
    }

private:
    struct Datagram {
        bytes data;
        std::optional<detail::SockAddr> to;  // none: the connected peer
    };
    void read_ready();
    void sendto_ready();
    int send_one(const Datagram& datagram);  // 0, or the errno
    void error_received(int err);
    void set_writer(bool on);
    void force_close(std::exception_ptr exc);
    void schedule_connection_lost(std::exception_ptr exc);
    void call_connection_lost(std::exception_ptr exc);

    detail::SelectorTransportCore core_;
    std::shared_ptr<DatagramProtocol> protocol_;  // null after connection_lost
    std::optional<Address> remote_;               // connected mode
    std::deque<Datagram> queue_;                  // whole datagrams the kernel refused
    std::size_t buffered_ = 0;
    detail::WaterMarks marks_;
    bool reader_armed_ = false;
    bool writer_armed_ = false;
};

void SelectorDatagramTransport::start(std::optional<Future<void>> waiter) {
    auto self = shared_from_this();
    detail::register_transport(core_.loop(), self);
    EventLoop& loop = core_.loop();
    loop.call_soon([self] {
        if (self->protocol_) self->protocol_->connection_made(self);
    });
    loop.call_soon([self] {
        if (self->core_.closing || self->reader_armed_) return;
        self->reader_armed_ = true;
        self->core_.loop().add_reader(self->core_.fd(), [self] { self->read_ready(); });
    });
    if (waiter)
        loop.call_soon([w = std::move(*waiter)]() mutable {
            if (!w.done()) w.set_result();
        });
}

// asyncio: _SelectorDatagramTransport._read_ready. A datagram_received that throws is
// reported by the loop ("Exception in callback ..."), and the endpoint goes on, as in
// asyncio, which does not guard that call.
void SelectorDatagramTransport::read_ready() {
    if (core_.conn_lost) return;
    thread_local std::unique_ptr<char[]> scratch(new char[detail::max_read_size]);
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    ssize_t n = ::recvfrom(core_.fd(), scratch.get(), detail::max_read_size, 0,
                           reinterpret_cast<sockaddr*>(&peer), &length);
    if (n < 0) {
        int err = errno;
        if (!detail::would_block(err)) error_received(err);
        return;
    }
    // An unbound Unix sender has no address (Python: None); here the empty path.
    Address from = length == 0 ? Address::unix_path("")
                               : detail::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length);
    protocol_->datagram_received(bytes(scratch.get(), static_cast<std::size_t>(n)),
                                 std::move(from));
}

void SelectorDatagramTransport::error_received(int err) {
    if (protocol_) protocol_->error_received(make_os_error(err));
}

int SelectorDatagramTransport::send_one(const Datagram& datagram) {
    ssize_t n;
    if (!datagram.to)
        n = ::send(core_.fd(), datagram.data.data(), datagram.data.size(), MSG_NOSIGNAL);
    else
        n = ::sendto(core_.fd(), datagram.data.data(), datagram.data.size(), MSG_NOSIGNAL,
                     datagram.to->get(), datagram.to->length);
    return n < 0 ? errno : 0;
}

// asyncio: _SelectorDatagramTransport.sendto. In connected mode the address may be
// left out, or must be the peer's: "Invalid address: must be None or ('127.0.0.1', 9)".
void SelectorDatagramTransport::sendto(bytes data, std::optional<Address> addr) {
    if (data.empty()) return;
    if (remote_) {
        if (addr && !(*addr == *remote_))
            throw ValueError("Invalid address: must be None or " + remote_->repr());
        addr = remote_;
    }
    if (core_.closing || core_.conn_lost) return core_.note_write_after_lost();
    // The address is converted now, so a bad one (a host name: resolve it first) is the
    // caller's error, not the writer callback's later.
    Datagram datagram{std::move(data), std::nullopt};
    if (addr && !remote_) datagram.to = detail::to_sockaddr(*addr);
    if (queue_.empty()) {
        int err = send_one(datagram);
        if (err == 0) return;
        if (!detail::would_block(err)) return error_received(err);
        set_writer(true);
    }
    buffered_ += datagram.data.size();
    queue_.push_back(std::move(datagram));
    if (!marks_.should_pause(buffered_)) return;
    marks_.paused = true;
    protocol_->pause_writing();
}

// asyncio: _sendto_ready. Sends queued datagrams until the kernel refuses one.
void SelectorDatagramTransport::sendto_ready() {
    while (!queue_.empty()) {
        int err = send_one(queue_.front());
        if (detail::would_block(err)) break;
        buffered_ -= queue_.front().data.size();
        queue_.pop_front();
        if (err != 0) return error_received(err);
    }
    if (marks_.should_resume(buffered_)) {
        marks_.paused = false;
        protocol_->resume_writing();  // may send more
    }
    if (!queue_.empty()) return;
    set_writer(false);
    if (core_.closing && !core_.conn_lost) {
        core_.conn_lost++;
        call_connection_lost(nullptr);
    }
}

void SelectorDatagramTransport::set_writer(bool on) {
    if (on == writer_armed_) return;
    writer_armed_ = on;
    if (on)
        core_.loop().add_writer(core_.fd(), [self = shared_from_this()] { self->sendto_ready(); });
    else
        core_.loop().remove_writer(core_.fd());
}

void SelectorDatagramTransport::close() {
    if (core_.closing) return;
    auto keep = shared_from_this();
    core_.closing = true;
    if (std::exchange(reader_armed_, false)) core_.loop().remove_reader(core_.fd());
    if (!queue_.empty()) return;
    core_.conn_lost++;
    set_writer(false);
    schedule_connection_lost(nullptr);
}

void SelectorDatagramTransport::force_close(std::exception_ptr exc) {
    if (core_.conn_lost) return;
    queue_.clear();
    buffered_ = 0;
    set_writer(false);
    core_.closing = true;
    if (std::exchange(reader_armed_, false)) core_.loop().remove_reader(core_.fd());
    core_.conn_lost++;
    schedule_connection_lost(std::move(exc));
}

void SelectorDatagramTransport::schedule_connection_lost(std::exception_ptr exc) {
    core_.loop().call_soon(
        [self = shared_from_this(), exc = std::move(exc)] { self->call_connection_lost(exc); });
}

void SelectorDatagramTransport::call_connection_lost(std::exception_ptr exc) {
    auto self = shared_from_this();
    struct Cleanup {
        SelectorDatagramTransport* t;
        ~Cleanup() {
            t->set_writer(false);
            t->core_.close_socket();
            t->protocol_.reset();
        }
    } cleanup{this};
    if (protocol_) protocol_->connection_lost(std::move(exc));
}

}  // namespace

namespace detail {

std::shared_ptr<DatagramTransport> make_datagram_transport(
    EventLoop& loop, socket sock, std::shared_ptr<DatagramProtocol> protocol,
    std::optional<Address> remote, std::optional<Future<void>> waiter) {
    auto transport = std::make_shared<SelectorDatagramTransport>(
        loop, std::move(sock), std::move(protocol), std::move(remote));
    transport->start(std::move(waiter));
    return transport;
}

}  // namespace detail

}  // namespace aio
