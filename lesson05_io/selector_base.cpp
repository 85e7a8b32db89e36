// selector_base.cpp - what the socket and datagram transports share (asyncio:
// selector_events._SelectorTransport and transports._FlowControlMixin): the socket
// with its addresses, the closing state, the fatal-error report, the water marks; and
// the registry that closes the transports a closing loop leaves behind.
#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <typeinfo>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/selector_events.hpp"

namespace aio {

namespace detail {

void WaterMarks::set(std::optional<std::size_t> new_high, std::optional<std::size_t> new_low) {
    std::size_t h = new_high ? *new_high : new_low ? 4 * *new_low : 64 * 1024;
    std::size_t l = new_low ? *new_low : h / 4;
    if (h < l)
        throw ValueError("high (" + std::to_string(h) + ") must be >= low (" + std::to_string(l) +
                         ") must be >= 0");
    high = h;
    low = l;
}

namespace {
std::optional<Address> address_of(const socket& sock, bool peer) {
    try {
        return peer ? sock.getpeername() : sock.getsockname();
    } catch (const OSError&) {
        return std::nullopt;  // asyncio: extra['peername'] = None (not connected)
    }
}
}  // namespace

SelectorTransportCore::SelectorTransportCore(EventLoop& loop, socket sock)
    : loop_(&loop), sock_(std::move(sock)), fd_(sock_.fileno()) {
    sockname_ = address_of(sock_, false);
    peername_ = address_of(sock_, true);
}

ExtraInfo SelectorTransportCore::extra_info(std::string_view name) const {
    if (name == "socket") return &sock_;
    if (name == "sockname" && sockname_) return *sockname_;
    if (name == "peername" && peername_) return *peername_;
    return std::monostate{};
}

std::string SelectorTransportCore::repr(const char* type, bool reading, bool writing,
                                        std::size_t bufsize) const {
    std::string out = std::string("<") + type;
    if (sock_.fileno() < 0)
        out += " closed";
    else if (closing)
        out += " closing";
    out += " fd=" + std::to_string(fd_);
    if (!loop_->is_closed()) {
        out += reading ? " read=polling" : " read=idle";
        out += std::string(" write=<") + (writing ? "polling" : "idle") +
               ", bufsize=" + std::to_string(bufsize) + ">";
    }
    return out + ">";
}

void SelectorTransportCore::report(const std::exception_ptr& exc, const std::string& message,
                                   ContextValue transport, ContextValue protocol) {
    report_transport_error(*loop_, exc, message, os_errno(exc) != 0, std::move(transport),
                           std::move(protocol));
}

void report_transport_error(EventLoop& loop, const std::exception_ptr& exc,
                            const std::string& message, bool quiet, ContextValue transport,
                            ContextValue protocol) {
    if (quiet) {
        if (loop.get_debug()) log(LogLevel::debug, message + ": " + describe_exception(exc));
        return;
    }
    ExceptionContext context;
    context.message = message;
    context.exception = exc;
    context.extra.emplace_back("transport", std::move(transport));
    context.extra.emplace_back("protocol", std::move(protocol));
    loop.call_exception_handler(context);
}

int os_errno(const std::exception_ptr& exc) noexcept {
    try {
        std::rethrow_exception(exc);
    } catch (const OSError& error) {
        return error.error_code() != 0 ? error.error_code() : -1;
    } catch (...) {
        return 0;
    }
}

std::exception_ptr WaterMarks::maybe_pause(std::size_t size, BaseProtocol* protocol) {
    if (!should_pause(size)) return nullptr;
    paused = true;
    try {
        protocol->pause_writing();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

std::exception_ptr WaterMarks::maybe_resume(std::size_t size, BaseProtocol* protocol) {
    if (!should_resume(size)) return nullptr;
    paused = false;
    try {
        protocol->resume_writing();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

void WriteQueue::push(bytes data, std::size_t already_sent) {
    if (chunks_.empty()) sent_ = already_sent;
    buffered_ += data.size() - already_sent;
    chunks_.push_back(std::move(data));
}

std::size_t WriteQueue::fill(iovec* iov, std::size_t max) const noexcept {
    std::size_t count = 0;
    for (auto it = chunks_.begin(); it != chunks_.end() && count < max; ++it, ++count) {
        std::size_t skip = count == 0 ? sent_ : 0;
        iov[count].iov_base = const_cast<char*>(it->data() + skip);
        iov[count].iov_len = it->size() - skip;
    }
    return count;
}

void WriteQueue::consume(std::size_t n) noexcept {
    buffered_ -= n;
    while (n > 0) {
        std::size_t left = chunks_.front().size() - sent_;
        if (n < left) {
            sent_ += n;
            return;
        }
        n -= left;
        chunks_.pop_front();
        sent_ = 0;
    }
}

void WriteQueue::clear() noexcept {
    chunks_.clear();
    sent_ = 0;
    buffered_ = 0;
}

// asyncio counts these in _conn_lost, which is 1 once the connection is lost, and warns
// when it is 5 or more before the increment: from the fifth ignored write on.
void SelectorTransportCore::note_write_after_lost() {
    if (++ignored_writes_ >= log_threshold_for_connlost_writes)
        log(LogLevel::warning, "socket.send() raised exception.");
}

std::string protocol_repr(const BaseProtocol* protocol) {
    if (!protocol) return "None";
    char at[32];
    std::snprintf(at, sizeof at, "%p", static_cast<const void*>(protocol));
    const char* mangled = typeid(*protocol).name();
    int status = 0;
    char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string out =
        "<" + std::string(status == 0 && name ? name : mangled) + " object at " + at + ">";
    std::free(name);
    return out;
}

bool would_block(int err) noexcept { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

namespace {

// The loop's list of its transports (weak: it keeps none alive). A transport whose
// protocol holds it (the usual shared_ptr cycle) and that nobody closed would keep its
// socket open forever once the loop is gone; asyncio leaves this to the garbage
// collector (a transport's __del__ closes the socket, with a ResourceWarning).
class TransportRegistry final : public LoopExtension {
public:
    explicit TransportRegistry(EventLoop&) {}
    void add(std::weak_ptr<LoopBound> transport) {
        if (live_.size() >= 2 * compacted_ + 16) {  // drop the dead now and then
            std::erase_if(live_, [](const std::weak_ptr<LoopBound>& t) { return t.expired(); });
            compacted_ = live_.size();
        }
        live_.push_back(std::move(transport));
    }
    // Called once the loop has dropped its callbacks: whatever is alive now is only
    // kept by itself (or by code that outlives the loop).
    void loop_closed(EventLoop&) noexcept override {
        std::vector<std::shared_ptr<LoopBound>> alive;
        for (const std::weak_ptr<LoopBound>& t : live_)
            if (std::shared_ptr<LoopBound> strong = t.lock()) alive.push_back(std::move(strong));
        live_.clear();
        for (const std::shared_ptr<LoopBound>& t : alive) t->loop_closed();
    }

private:
    std::vector<std::weak_ptr<LoopBound>> live_;
    std::size_t compacted_ = 0;
};

}  // namespace

void register_transport(EventLoop& loop, std::weak_ptr<LoopBound> transport) {
    loop.extension<TransportRegistry>().add(std::move(transport));
}

}  // namespace detail

}  // namespace aio
