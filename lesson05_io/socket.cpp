// socket.cpp - aio::socket's system calls, and addresses to and from the kernel's form.
#include "lesson05_io/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/exceptions.hpp"

namespace aio {

// ---- addresses -------------------------------------------------------------------------

namespace {

bool parses_as(int family, const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(family, host.c_str(), buffer) == 1;
}

}  // namespace

Address::Address(std::string host_, int port_) : host(std::move(host_)), port(port_) {
    if (parses_as(AF_INET, host))
        family = AF_INET;
    else if (parses_as(AF_INET6, host))
        family = AF_INET6;
}

Address Address::unix_path(std::string path) {
    Address a;
    a.family = AF_UNIX;
    a.host = std::move(path);
    return a;
}

std::string Address::repr() const {
    if (family == AF_UNIX) return aio::repr(host);
    std::string out = "(" + aio::repr(host) + ", " + std::to_string(port);
    if (family == AF_INET6)
        out += ", " + std::to_string(flowinfo) + ", " + std::to_string(scope_id);
    return out + ")";
}

namespace {

std::string family_name(int family) {
    switch (family) {
        case AF_INET: return "<AddressFamily.AF_INET: 2>";
        case AF_INET6: return "<AddressFamily.AF_INET6: " + std::to_string(AF_INET6) + ">";
        case AF_UNIX: return "<AddressFamily.AF_UNIX: 1>";
        default: return std::to_string(family);
    }
}

std::string kind_name(int type) {
    switch (type) {
        case SOCK_STREAM: return "<SocketKind.SOCK_STREAM: 1>";
        case SOCK_DGRAM: return "<SocketKind.SOCK_DGRAM: 2>";
        case SOCK_RAW: return "<SocketKind.SOCK_RAW: 3>";
        default: return std::to_string(type);
    }
}

}  // namespace

std::string AddrInfo::repr() const {
    return "(" + family_name(family) + ", " + kind_name(type) + ", " + std::to_string(proto) +
           ", " + aio::repr(canonname) + ", " + address.repr() + ")";
}

namespace detail {

bool is_resolved(const Address& address) noexcept {
    return address.family != AF_UNSPEC || address.host.empty();
}

int family_of(const Address& address) noexcept {
    return address.family == AF_UNSPEC ? AF_INET : address.family;
}

SockAddr to_sockaddr(const Address& address) {
    SockAddr out;
    int family = family_of(address);
    if (family == AF_UNIX) {
        auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
        if (address.host.size() >= sizeof un->sun_path)
            throw OSError(ENAMETOOLONG, "AF_UNIX path too long", address.host);
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, address.host.data(), address.host.size());
        out.length =
            static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.host.size() + 1);
    } else if (family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out.storage);
        in->sin_family = AF_INET;
        in->sin_port = htons(static_cast<std::uint16_t>(address.port));
        if (!address.host.empty() && ::inet_pton(AF_INET, address.host.c_str(), &in->sin_addr) != 1)
            throw gaierror(EAI_NONAME, "Name or service not known", address.host);
        out.length = sizeof(sockaddr_in);
    } else {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<std::uint16_t>(address.port));
        in6->sin6_flowinfo = htonl(address.flowinfo);
        in6->sin6_scope_id = address.scope_id;
        if (!address.host.empty() &&
            ::inet_pton(AF_INET6, address.host.c_str(), &in6->sin6_addr) != 1)
            throw gaierror(EAI_NONAME, "Name or service not known", address.host);
        out.length = sizeof(sockaddr_in6);
    }
    return out;
}

Address from_sockaddr(const sockaddr* address, socklen_t length) {
    char text[INET6_ADDRSTRLEN] = "";
    Address out;
    out.family = address->sa_family;
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        out.host = text;
        out.port = ntohs(in->sin_port);
    } else if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        out.host = text;
        out.port = ntohs(in6->sin6_port);
        out.flowinfo = ntohl(in6->sin6_flowinfo);
        out.scope_id = in6->sin6_scope_id;
    } else if (address->sa_family == AF_UNIX) {
        const auto* un = reinterpret_cast<const sockaddr_un*>(address);
        std::size_t max =
            length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
        out.host.assign(un->sun_path, ::strnlen(un->sun_path, max));
    }
    return out;
}

}  // namespace detail

std::vector<AddrInfo> getaddrinfo(const std::string& host, int port, int family, int type,
                                  int proto, int flags) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = type;
    hints.ai_protocol = proto;
    hints.ai_flags = flags;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
        int err = rc == EAI_SYSTEM ? errno : rc;
        throw gaierror(err, rc == EAI_SYSTEM ? std::strerror(err) : ::gai_strerror(rc), host);
    }
    std::vector<AddrInfo> out;
    for (addrinfo* a = found; a; a = a->ai_next) {
        out.push_back({a->ai_family, a->ai_socktype, a->ai_protocol,
                       a->ai_canonname ? a->ai_canonname : "",
                       detail::from_sockaddr(a->ai_addr, a->ai_addrlen)});
    }
    ::freeaddrinfo(found);
    return out;
}

// ---- the socket --------------------------------------------------------------------------

namespace {

// An address for this socket's family: a name is looked up first, as Python's
// socket methods do (blocking).
detail::SockAddr kernel_address(const Address& address, int family, int type) {
    if (family == AF_UNIX) return detail::to_sockaddr(Address::unix_path(address.host));
    if (detail::is_resolved(address)) {
        Address a = address;
        if (a.family == AF_UNSPEC) a.family = family;
        if (a.family != family)
            throw gaierror(EAI_ADDRFAMILY, "Address family for hostname not supported", a.host);
        return detail::to_sockaddr(a);
    }
    return detail::to_sockaddr(
        getaddrinfo(address.host, address.port, family, type).front().address);
}

}  // namespace

socket::socket(int fd, int family, int type, int proto, bool blocking) noexcept
    : fd_(fd), family_(family), type_(type), proto_(proto), blocking_(blocking) {}

socket::socket(int family, int type, int proto) : family_(family), type_(type), proto_(proto) {
    fd_ = ::socket(family, type | SOCK_CLOEXEC, proto);
    if (fd_ < 0) throw_os_error(errno);
}

socket socket::from_fileno(int fd) {
    int family = 0, type = 0, proto = 0;
    socklen_t length = sizeof family;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &length) != 0) throw_os_error(errno);
    length = sizeof type;
    ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length);
    length = sizeof proto;
    ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &length);
    int flags = ::fcntl(fd, F_GETFL);
    return socket(fd, family, type, proto, (flags & O_NONBLOCK) == 0);
}

socket::socket(socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      family_(other.family_),
      type_(other.type_),
      proto_(other.proto_),
      blocking_(other.blocking_) {}

socket& socket::operator=(socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        family_ = other.family_;
        type_ = other.type_;
        proto_ = other.proto_;
        blocking_ = other.blocking_;
    }
    return *this;
}

void socket::setblocking(bool flag) {
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0) throw_os_error(errno);
    flags = flag ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
    if (::fcntl(fd_, F_SETFL, flags) != 0) throw_os_error(errno);
    blocking_ = flag;
}

void socket::bind(const Address& address) {
    detail::SockAddr a = kernel_address(address, family_, type_);
    if (::bind(fd_, a.get(), a.length) != 0) throw_os_error(errno);
}

void socket::listen(int backlog) {
    if (::listen(fd_, backlog) != 0) throw_os_error(errno);
}

void socket::connect(const Address& address) {
    detail::SockAddr a = kernel_address(address, family_, type_);
    while (::connect(fd_, a.get(), a.length) != 0)
        if (errno != EINTR) throw_os_error(errno);
}

std::pair<socket, Address> socket::accept() {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    int fd;
    while ((fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC)) < 0)
        if (errno != EINTR) throw_os_error(errno);
    return {socket(fd, family_, type_, proto_, true),
            detail::from_sockaddr(reinterpret_cast<sockaddr*>(&peer), length)};
}

Address socket::getsockname() const {
    sockaddr_storage a{};
    socklen_t length = sizeof a;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length) != 0) throw_os_error(errno);
    return detail::from_sockaddr(reinterpret_cast<sockaddr*>(&a), length);
}

Address socket::getpeername() const {
    sockaddr_storage a{};
    socklen_t length = sizeof a;
    if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &length) != 0) throw_os_error(errno);
    return detail::from_sockaddr(reinterpret_cast<sockaddr*>(&a), length);
}

void socket::setsockopt(int level, int option, int value) {
    if (::setsockopt(fd_, level, option, &value, sizeof value) != 0) throw_os_error(errno);
}

int socket::getsockopt(int level, int option) const {
    int value = 0;
    socklen_t length = sizeof value;
    if (::getsockopt(fd_, level, option, &value, &length) != 0) throw_os_error(errno);
    return value;
}

void socket::shutdown(int how) {
    if (::shutdown(fd_, how) != 0) throw_os_error(errno);
}

void socket::close() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

int socket::detach() noexcept { return std::exchange(fd_, -1); }

std::string socket::repr() const {
    std::string out = "<socket.socket ";
    if (fd_ < 0) out += "[closed] ";
    out += "fd=" + std::to_string(fd_) + ", family=" + std::to_string(family_) +
           ", type=" + std::to_string(type_) + ", proto=" + std::to_string(proto_);
    sockaddr_storage a{};
    socklen_t length = sizeof a;
    // Python's socket.__repr__ formats the address with %s: a tuple as its repr, a Unix
    // path bare (laddr=/tmp/s); an unnamed Unix socket's '' is left out.
    auto shown = [](const Address& address) {
        return address.family == AF_UNIX ? address.host : address.repr();
    };
    if (fd_ >= 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
        Address local = detail::from_sockaddr(reinterpret_cast<sockaddr*>(&a), length);
        if (local.family != AF_UNIX || !local.host.empty()) out += ", laddr=" + shown(local);
        length = sizeof a;
        if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &length) == 0) {
            Address peer = detail::from_sockaddr(reinterpret_cast<sockaddr*>(&a), length);
            if (peer.family != AF_UNIX || !peer.host.empty()) out += ", raddr=" + shown(peer);
        }
    }
    return out + ">";
}

std::pair<socket, socket> socketpair(int family, int type, int proto) {
    int fds[2];
    if (::socketpair(family, type | SOCK_CLOEXEC, proto, fds) != 0) throw_os_error(errno);
    return {socket::from_fileno(fds[0]), socket::from_fileno(fds[1])};
}

}  // namespace aio
