// test_fd_callbacks.cpp - add_reader/add_writer/remove_* on pipes and socket pairs,
// run against every selector (asyncio: test_events.py::test_reader_callback,
// test_writer_callback; test_selector_events.py::test_add_reader_existing).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace {

// A non-blocking pipe that closes what is still open.
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        r = fds[0];
        w = fds[1];
        ::fcntl(r, F_SETFL, O_NONBLOCK);
        ::fcntl(w, F_SETFL, O_NONBLOCK);
    }
    ~Pipe() {
        if (r >= 0) ::close(r);
        if (w >= 0) ::close(w);
    }
    void write(const std::string& s) const {
        REQUIRE(::write(w, s.data(), s.size()) == ssize_t(s.size()));
    }
    std::string read_all() const {
        std::string out;
        char buf[64];
        ssize_t n;
        while ((n = ::read(r, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("add_reader: the callback runs while the fd is readable, until removed") {
        auto loop = test::virtual_loop();
        Pipe p;
        int calls = 0;
        loop->add_reader(p.r, [&] { ++calls; });
        loop->call_soon([] {});
        loop->run_once();
        CHECK(calls == 0);  // nothing to read yet
        p.write("x");
        loop->run_once();
        loop->run_once();
        CHECK(calls == 2);  // level-triggered: still readable, reported again
        CHECK(p.read_all() == "x");
        loop->call_soon([] {});
        loop->run_once();
        CHECK(calls == 2);
        CHECK(loop->remove_reader(p.r));
        CHECK_FALSE(loop->remove_reader(p.r));
    }

    TEST_CASE("add_writer runs when writable; remove_writer is true once, then false") {
        auto loop = test::virtual_loop();
        Pipe p;
        int calls = 0;
        loop->add_writer(p.w, [&] {
            ++calls;
            loop->remove_writer(p.w);
        });
        loop->run_once();
        CHECK(calls == 1);
        CHECK_FALSE(loop->remove_writer(p.w));
    }

    TEST_CASE("add_reader again replaces the first callback") {
        auto loop = test::virtual_loop();
        Pipe p;
        auto resource = std::make_shared<int>(0);
        std::vector<std::string> trace;
        loop->add_reader(p.r, [&trace, resource] { trace.push_back("old"); });
        loop->add_reader(p.r, [&] { trace.push_back("new"); });
        CHECK(resource.use_count() == 1);  // the replaced handle was cancelled and dropped
        p.write("x");
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"new"});
        CHECK(loop->remove_reader(p.r));
    }

    TEST_CASE("a reader and a writer on one fd are served by one registration") {
        auto loop = test::virtual_loop();
        int sv[2];
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        REQUIRE(::write(sv[1], "hi", 2) == 2);
        std::vector<std::string> trace;
        loop->add_reader(sv[0], [&] { trace.push_back("read"); });
        loop->add_writer(sv[0], [&] { trace.push_back("write"); });
        loop->run_once();
        CHECK(trace.size() == 2);
        CHECK(loop->remove_writer(sv[0]));
        trace.clear();
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"read"});  // reading still watched
        CHECK(loop->remove_reader(sv[0]));
        ::close(sv[0]);
        ::close(sv[1]);
    }

    TEST_CASE("a reader removed earlier in the same iteration does not run") {
        auto loop = test::virtual_loop();
        Pipe p;
        p.write("x");
        int calls = 0;
        loop->add_reader(p.r, [&] { ++calls; });
        loop->call_soon([] {});
        loop->run_once();  // the reader ran once
        loop->call_soon([&] { loop->remove_reader(p.r); });
        loop->run_once();  // queued before the reader: removes it first
        CHECK(calls == 1);
    }

    TEST_CASE("a reader may remove itself while it runs") {
        auto loop = test::virtual_loop();
        Pipe p;
        p.write("x");
        auto resource = std::make_shared<int>(7);
        int seen = 0;
        loop->add_reader(p.r, [&, resource] {
            loop->remove_reader(p.r);
            seen = *resource;
        });
        loop->run_once();
        CHECK(seen == 7);
        CHECK(resource.use_count() == 1);
    }

    TEST_CASE("add_reader on a bad fd throws OSError and the loop keeps running") {
        auto loop = test::virtual_loop();
        auto resource = std::make_shared<int>(0);
        CHECK_THROWS_WITH_AS(loop->add_reader(-1, [resource] {}),
                             "add_reader(fd -1): Bad file descriptor", aio::OSError);
        int closed_fd;
        {
            Pipe p;
            closed_fd = p.r;
        }
        CHECK_THROWS_AS(loop->add_writer(closed_fd, [resource] {}), aio::OSError);
        CHECK(resource.use_count() == 1);  // the failed registrations kept nothing
        bool ran = false;
        loop->call_soon([&] { ran = true; });
        loop->run_once();
        CHECK(ran);
    }

    TEST_CASE("an fd closed while registered: removal still works, and its number can be reused") {
        auto loop = test::virtual_loop();
        auto p = std::make_unique<Pipe>();
        int number = p->r;
        int calls = 0;
        loop->add_reader(number, [&] { ++calls; });
        ::close(p->r);
        p->r = -1;
        loop->call_soon([] {});
        loop->run_once();  // must not throw, whatever the selector saw
        CHECK(loop->remove_reader(number));

        Pipe again;  // likely gets the same number back
        int reused = 0;
        loop->add_reader(again.r, [&] { ++reused; });
        again.write("y");
        loop->run_once();
        CHECK(reused == 1);
        CHECK(loop->remove_reader(again.r));
    }

    TEST_CASE("an fd closed and reopened under the same number while registered still works") {
        auto loop = test::virtual_loop();
        Pipe a;
        int number = a.r;
        loop->add_reader(number, [] {});
        ::close(a.r);  // the kernel forgets it (epoll, kqueue); the loop still has it
        Pipe b;
        REQUIRE(::dup2(b.r, number) == number);
        a.r = number;  // closed by a's destructor
        int writes = 0;
        loop->add_writer(b.w, [&] { ++writes; });
        int reads = 0;
        loop->add_reader(number, [&] { ++reads; });  // replace: modify falls back to add
        b.write("z");
        loop->run_once();
        CHECK(reads == 1);
        CHECK(writes == 1);
        CHECK(loop->remove_reader(number));
        CHECK(loop->remove_writer(b.w));
    }

    TEST_CASE("after close(), remove_reader and remove_writer return false") {
        auto loop = test::virtual_loop();
        Pipe p;
        auto resource = std::make_shared<int>(0);
        loop->add_reader(p.r, [resource] {});
        loop->add_writer(p.w, [resource] {});
        loop->close();
        CHECK(resource.use_count() == 1);
        CHECK_FALSE(loop->remove_reader(p.r));
        CHECK_FALSE(loop->remove_writer(p.w));
    }

    TEST_CASE("a reader that finds nothing to read (spurious wake-up) is harmless") {
        auto loop = test::virtual_loop();
        Pipe p;
        p.write("ab");
        std::string got;
        int calls = 0;
        loop->add_reader(p.r, [&] {
            ++calls;
            got += p.read_all();  // the second call of an iteration would see EAGAIN
        });
        loop->run_once();
        loop->call_soon([] {});
        loop->run_once();
        CHECK(got == "ab");
        CHECK(calls == 1);
        loop->remove_reader(p.r);
    }
}
