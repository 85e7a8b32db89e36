// resolver.hpp - loop.getaddrinfo and loop.getnameinfo (asyncio:
// BaseEventLoop.getaddrinfo/getnameinfo, which run socket.getaddrinfo in the executor).
//
// Name resolution asks DNS, and the C library has only a blocking call for it, so it
// runs on the default executor (lesson 3's threads.hpp) while the loop goes on. A
// numeric host needs no lookup; asyncio's _ipaddr_info shortcut answers it inline, and
// so does this one (no thread hop for "127.0.0.1"). Errors are socket.gaierror naming
// the host ("[Errno -2] Name or service not known: 'no.such.host'"); Python's leave the
// host out, which makes a failed lookup among many hard to tell apart.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson05_io/socket.hpp"

namespace aio {

class EventLoop;

// asyncio: await loop.getaddrinfo(host, port, family=0, type=0, proto=0, flags=0).
Coro<std::vector<AddrInfo>> aio_getaddrinfo(EventLoop& loop, std::string host, int port,
                                            int family = AF_UNSPEC, int type = 0, int proto = 0,
                                            int flags = 0);

// asyncio: await loop.getnameinfo(sockaddr, flags=0) -> (host, port) as text.
Coro<std::pair<std::string, std::string>> aio_getnameinfo(EventLoop& loop, Address address,
                                                          int flags = 0);

}  // namespace aio
