// test_resolver.cpp - name resolution on the executor: loop.getaddrinfo, getnameinfo, and
// sock_connect with a host name. These touch threads (lesson 3's default executor), so
// they also run under ThreadSanitizer.
#include <doctest/doctest.h>
#include <netdb.h>

#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson03_tasks/threads.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/resolver.hpp"
#include "lesson05_io/sock_ops.hpp"

namespace {

// Runs `coro`, then shuts the default executor down (its threads end before the test).
template <class T>
T run_resolving(aio::EventLoop& loop, aio::Coro<T> coro) {
    T result = test::run(loop, std::move(coro));
    loop.run_until_complete(loop.shutdown_default_executor());
    return result;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("loop.getaddrinfo answers a numeric host inline, one entry per socket type") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            std::vector<aio::AddrInfo> found = co_await loop->getaddrinfo("127.0.0.1", 80);
            co_return aio::repr(found);
        };
        CHECK(test::run(*f.loop, main(f.loop.get())) ==
              "[(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', "
              "('127.0.0.1', 80)), (<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_DGRAM: 2>, "
              "17, '', ('127.0.0.1', 80))]");
    }

    TEST_CASE("loop.getaddrinfo looks a name up on the executor") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<bool> {
            std::vector<aio::AddrInfo> found =
                co_await loop->getaddrinfo("localhost", 8888, AF_INET, SOCK_STREAM);
            REQUIRE_FALSE(found.empty());
            co_return found[0].address == aio::Address("127.0.0.1", 8888);
        };
        CHECK(run_resolving(*f.loop, main(f.loop.get())));
    }

    TEST_CASE("a failed lookup raises gaierror naming the host, and the loop goes on") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::string> {
            std::string what = "no exception";
            try {  // AI_NUMERICHOST: the name is refused without asking DNS
                co_await loop->getaddrinfo("example.invalid", 80, AF_UNSPEC, SOCK_STREAM, 0,
                                           AI_NUMERICHOST);
            } catch (const aio::gaierror& e) {
                what = e.what();
            }
            co_await loop->getaddrinfo("127.0.0.1", 80);  // the loop still serves
            co_return what;
        };
        CHECK(run_resolving(*f.loop, main(f.loop.get())) ==
              "[Errno -2] Name or service not known: 'example.invalid'");
    }

    TEST_CASE("loop.getnameinfo gives the numeric host and port back as text") {
        test::LoopFixture f;
        auto main = [](aio::EventLoop* loop) -> aio::Coro<std::pair<std::string, std::string>> {
            co_return co_await loop->getnameinfo(aio::Address("127.0.0.1", 8888),
                                                 NI_NUMERICHOST | NI_NUMERICSERV);
        };
        CHECK(run_resolving(*f.loop, main(f.loop.get())) ==
              std::pair<std::string, std::string>{"127.0.0.1", "8888"});
    }

    TEST_CASE("sock_connect resolves a host name on the executor first") {
        test::LoopFixture f;
        aio::socket server(AF_INET, SOCK_STREAM);
        server.bind({"127.0.0.1", 0});
        server.listen();
        server.setblocking(false);
        auto main = [](aio::EventLoop* loop, aio::socket* server) -> aio::Coro<bool> {
            aio::socket client;
            client.setblocking(false);
            co_await loop->sock_connect(client, {"localhost", server->getsockname().port});
            auto [conn, peer] = co_await loop->sock_accept(*server);
            co_return peer == client.getsockname();
        };
        CHECK(run_resolving(*f.loop, main(f.loop.get(), &server)));
    }
}
