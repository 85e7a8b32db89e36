// socket.hpp - aio::socket and its addresses: Python's socket module, the part asyncio
// programs touch (socket.socket, socketpair, getaddrinfo).
//
// asyncio does not wrap file descriptors in its own type: its loop.sock_* coroutines take
// the socket.socket objects of Python's socket module. So does this lesson. A tutorial's
//
//   sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
//   sock.setblocking(False)
//   await loop.sock_connect(sock, ('127.0.0.1', 8888))
//
// ports line for line:
//
//   aio::socket sock(AF_INET, SOCK_STREAM);
//   sock.setblocking(false);
//   co_await loop.sock_connect(sock, {"127.0.0.1", 8888});
//
// aio::socket owns its fd (closed by the destructor, or by close(); move-only, as a file
// descriptor has one owner) and is created close-on-exec, as Python's are. Its methods
// are the blocking calls of Python's socket module; the ones that wait belong to the
// loop (sock_ops.hpp). A failed call raises the OSError subclass Python raises
// (exceptions.hpp). Names are Python's: fileno, setblocking, getsockname, ...
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aio {

// Python's socket address: ('127.0.0.1', 8888) for AF_INET, ('::1', 8888, 0, 0) for
// AF_INET6, and a path for AF_UNIX. Made from a braced pair, {"127.0.0.1", 8888}, as
// Python writes a tuple; the family follows from the host when it is numeric.
struct Address {
    int family = AF_UNSPEC;  // AF_INET, AF_INET6, AF_UNIX; AF_UNSPEC: a name to resolve
    std::string host;        // for AF_UNIX, the path ("" for an unnamed socket)
    int port = 0;
    std::uint32_t flowinfo = 0;  // AF_INET6 only, as Python's 4-tuple has them
    std::uint32_t scope_id = 0;

    Address() = default;
    Address(std::string host, int port);
    // Python: an AF_UNIX address is the path string: sock.connect("/tmp/echo.sock").
    Address(const char* path) : Address(unix_path(path)) {}
    static Address unix_path(std::string path);

    // Python's repr of the address: ('127.0.0.1', 8888), ('::1', 8888, 0, 0), '/tmp/s'.
    std::string repr() const;
    friend bool operator==(const Address&, const Address&) = default;
};

// Python: socket.getaddrinfo(...) entries, (family, type, proto, canonname, sockaddr).
struct AddrInfo {
    int family = 0;
    int type = 0;
    int proto = 0;
    std::string canonname;
    Address address;
    std::string repr() const;  // (<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, ...)
};

// Python: socket.getaddrinfo(host, port, family, type, proto, flags). Blocking (it may
// ask DNS): inside a coroutine use loop.getaddrinfo (resolver.hpp), which runs this on
// the executor. Throws gaierror naming the host: "[Errno -2] Name or service not known:
// 'no.such.host'".
std::vector<AddrInfo> getaddrinfo(const std::string& host, int port, int family = AF_UNSPEC,
                                  int type = 0, int proto = 0, int flags = 0);

class socket {
public:
    using address_type = Address;  // what loop.sock_connect(sock, {...}) builds
    // Python: socket.socket(family, type, proto). Blocking, as Python's are, until
    // setblocking(false).
    explicit socket(int family = AF_INET, int type = SOCK_STREAM, int proto = 0);
    // Python: socket.socket(fileno=fd). Takes ownership; reads family, type and the
    // blocking flag from the fd.
    static socket from_fileno(int fd);
    socket(socket&& other) noexcept;
    socket& operator=(socket&& other) noexcept;
    socket(const socket&) = delete;
    socket& operator=(const socket&) = delete;
    ~socket() { close(); }

    int fileno() const noexcept { return fd_; }  // -1 once closed or detached
    int family() const noexcept { return family_; }
    int type() const noexcept { return type_; }
    int proto() const noexcept { return proto_; }

    // Python: sock.setblocking(flag) / sock.getblocking(). The flag is kept here too,
    // so the loop's sock_* calls check it without a system call.
    void setblocking(bool flag);
    bool getblocking() const noexcept { return blocking_; }

    // Python: bind, listen, connect (blocking), accept (blocking; gives a blocking
    // socket), as the socket module has them. A host name is resolved first.
    void bind(const Address& address);
    void listen(int backlog = 128);
    void connect(const Address& address);
    std::pair<socket, Address> accept();
    Address getsockname() const;
    Address getpeername() const;
    void setsockopt(int level, int option, int value);
    int getsockopt(int level, int option) const;
    void shutdown(int how);  // SHUT_RD, SHUT_WR, SHUT_RDWR

    // Python: sock.close() (idempotent) and sock.detach() (gives the fd away).
    void close() noexcept;
    int detach() noexcept;

    // Python: <socket.socket fd=3, family=2, type=1, proto=0, laddr=('127.0.0.1', 5000)>
    std::string repr() const;

private:
    socket(int fd, int family, int type, int proto, bool blocking) noexcept;
    int fd_ = -1;
    int family_ = 0;
    int type_ = 0;
    int proto_ = 0;
    bool blocking_ = true;
};

// Python: socket.socketpair(family, type): two connected sockets (AF_UNIX by default).
std::pair<socket, socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM, int proto = 0);

namespace detail {

// A socket address in the kernel's form, and back. to_sockaddr takes a numeric host
// (or a path) only; resolve names first (getaddrinfo). Throws gaierror otherwise.
struct SockAddr {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};
SockAddr to_sockaddr(const Address& address);
Address from_sockaddr(const sockaddr* address, socklen_t length);
// True if the address needs no name lookup (a numeric host or a Unix path).
bool is_resolved(const Address& address) noexcept;
// The socket's address family for `address`: the host's, or AF_INET for "" / names.
int family_of(const Address& address) noexcept;

}  // namespace detail

}  // namespace aio
