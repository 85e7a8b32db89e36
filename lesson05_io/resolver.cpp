// resolver.cpp - name lookups on the executor.
#include "lesson05_io/resolver.hpp"

#include <netdb.h>

#include "lesson01_loop/event_loop.hpp"
#include "lesson03_tasks/threads.hpp"
#include "lesson05_io/exceptions.hpp"

namespace aio {

namespace {

// asyncio: base_events._ipaddr_info. A numeric host (or a Unix path) is its own
// answer; one entry per socket type asked for (both when none was).
std::vector<AddrInfo> numeric_answer(const Address& address, int family, int type, int proto) {
    std::vector<AddrInfo> out;
    int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int t : types) {
        if (type != 0 && t != type) continue;
        int p = proto                       ? proto
                : address.family == AF_UNIX ? 0
                : t == SOCK_STREAM          ? IPPROTO_TCP
                                            : IPPROTO_UDP;
        if (family == AF_UNSPEC || family == address.family)
            out.push_back({address.family, t, p, "", address});
    }
    if (out.empty())
        throw gaierror(EAI_ADDRFAMILY, "Address family for hostname not supported", address.host);
    return out;
}

}  // namespace

Coro<std::vector<AddrInfo>> aio_getaddrinfo(EventLoop& loop, std::string host, int port, int family,
                                            int type, int proto, int flags) {
    Address address(host, port);
    if (address.family != AF_UNSPEC) co_return numeric_answer(address, family, type, proto);
    // The arguments go to run_in_executor, not into a capturing lambda: GCC 12 destroys
    // a lambda (or any aggregate) built inside a co_await expression twice, so a
    // captured std::string is freed twice (lesson 2's README, "GCC 12 pitfalls").
    co_return co_await loop.run_in_executor(
        nullptr,
        [](std::string h, int p, int f, int t, int pr, int fl) {
            return getaddrinfo(h, p, f, t, pr, fl);
        },
        host, port, family, type, proto, flags);
}

Coro<std::pair<std::string, std::string>> aio_getnameinfo(EventLoop& loop, Address address,
                                                          int flags) {
    co_return co_await loop.run_in_executor(
        nullptr,
        [](Address address, int flags) {
            detail::SockAddr a = detail::to_sockaddr(address);
            char host[NI_MAXHOST], service[NI_MAXSERV];
            int rc =
                ::getnameinfo(a.get(), a.length, host, sizeof host, service, sizeof service, flags);
            if (rc != 0) throw gaierror(rc, ::gai_strerror(rc), address.host);
            return std::pair<std::string, std::string>(host, service);
        },
        address, flags);
}

}  // namespace aio
