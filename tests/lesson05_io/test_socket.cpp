// test_socket.cpp - aio::socket, its addresses and getaddrinfo: Python's socket module.
#include <doctest/doctest.h>
#include <netdb.h>

#include <cerrno>
#include <string>
#include <utility>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/socket.hpp"

TEST_SUITE("lesson05") {
    TEST_CASE("an address prints as Python's tuple, and knows its family from the host") {
        CHECK(aio::repr(aio::Address("127.0.0.1", 8888)) == "('127.0.0.1', 8888)");
        CHECK(aio::Address("127.0.0.1", 1).family == AF_INET);
        CHECK(aio::Address("::1", 1).family == AF_INET6);
        CHECK(aio::repr(aio::Address("::1", 8888)) == "('::1', 8888, 0, 0)");
        CHECK(aio::Address("localhost", 1).family == AF_UNSPEC);
        CHECK(aio::repr(aio::Address("/tmp/echo.sock")) == "'/tmp/echo.sock'");
    }

    TEST_CASE("a socket binds to port 0 on loopback and reports the port it got") {
        test::LoopFixture f;  // only to count fds
        aio::socket sock(AF_INET, SOCK_STREAM);
        sock.bind({"127.0.0.1", 0});
        sock.listen();
        aio::Address local = sock.getsockname();
        CHECK(local.host == "127.0.0.1");
        CHECK(local.port > 0);
        CHECK(aio::repr(sock) == "<socket.socket fd=" + std::to_string(sock.fileno()) +
                                     ", family=2, type=1, proto=0, laddr=" + local.repr() + ">");
    }

    TEST_CASE("a socket is blocking until setblocking(false), as Python's") {
        test::LoopFixture f;
        aio::socket sock;
        CHECK(sock.getblocking());
        sock.setblocking(false);
        CHECK_FALSE(sock.getblocking());
        aio::socket same = aio::socket::from_fileno(sock.detach());
        CHECK_FALSE(same.getblocking());
        CHECK(same.family() == AF_INET);
        CHECK(same.type() == SOCK_STREAM);
    }

    TEST_CASE(
        "close is idempotent, a closed socket prints [closed], a moved-from one owns nothing") {
        test::LoopFixture f;
        aio::socket a;
        aio::socket b = std::move(a);
        CHECK(a.fileno() == -1);
        CHECK(b.fileno() >= 0);
        b.close();
        b.close();
        CHECK(aio::repr(b) == "<socket.socket [closed] fd=-1, family=2, type=1, proto=0>");
    }

    TEST_CASE("binding a port in use raises OSError EADDRINUSE, and leaks nothing") {
        test::LoopFixture f;
        aio::socket first;
        first.bind({"127.0.0.1", 0});
        first.listen();
        aio::socket second;
        try {
            second.bind(first.getsockname());
            FAIL("bind to a port in use succeeded");
        } catch (const aio::OSError& e) {
            CHECK(e.error_code() == EADDRINUSE);
            CHECK(std::string(e.what()) == "[Errno 98] Address already in use");
        }
    }

    TEST_CASE("IPv6 loopback and Unix-domain sockets bind and name themselves") {
        test::LoopFixture f;
        aio::socket six(AF_INET6, SOCK_STREAM);
        six.bind({"::1", 0});
        CHECK(six.getsockname().host == "::1");
        std::string path = "/tmp/aio-test-" + std::to_string(::getpid()) + ".sock";
        ::unlink(path.c_str());
        aio::socket unix_sock(AF_UNIX, SOCK_STREAM);
        unix_sock.bind(path.c_str());
        CHECK(unix_sock.getsockname() == aio::Address::unix_path(path));
        CHECK(aio::repr(unix_sock) == "<socket.socket fd=" + std::to_string(unix_sock.fileno()) +
                                          ", family=1, type=1, proto=0, laddr=" + path + ">");
        ::unlink(path.c_str());
    }

    TEST_CASE("socketpair gives two connected Unix sockets") {
        test::LoopFixture f;
        auto [a, b] = aio::socketpair();
        CHECK(a.family() == AF_UNIX);
        CHECK(::send(a.fileno(), "x", 1, 0) == 1);
        char c = 0;
        CHECK(::recv(b.fileno(), &c, 1, 0) == 1);
        CHECK(c == 'x');
    }

    TEST_CASE("getaddrinfo answers a numeric host, and its error names the host") {
        auto found = aio::getaddrinfo("127.0.0.1", 80, AF_INET, SOCK_STREAM);
        REQUIRE(found.size() == 1);
        CHECK(aio::repr(found[0]) ==
              "(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', "
              "('127.0.0.1', 80))");
        try {
            aio::getaddrinfo("example.invalid", 80, AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST);
            FAIL("a name with AI_NUMERICHOST resolved");
        } catch (const aio::gaierror& e) {
            CHECK(e.error_code() == EAI_NONAME);
            CHECK(aio::repr(e) == "gaierror(-2, 'Name or service not known')");
            CHECK(std::string(e.what()) ==
                  "[Errno -2] Name or service not known: 'example.invalid'");
        }
    }
}
