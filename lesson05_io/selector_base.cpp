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
    try {
        std::rethrow_exception(exc);
    } catch (const OSError&) {
        if (loop_->get_debug()) log(LogLevel::debug, message + ": " + describe_exception(exc));
        return;
    } catch (...) {
    }
    ExceptionContext context;
    context.message = message;
    context.exception = exc;
    context.extra.emplace_back("transport", std::move(transport));
    context.extra.emplace_back("protocol", std::move(protocol));
    loop_->call_exception_handler(context);
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
