// helpers.hpp - what lesson 5's tests share: counting the process's open fds (no test
// may leak one), a loop run bounded in real time, and a listening socket; thrown_by
// (the repr of what an awaitable throws) comes from lesson 2's helpers.
#pragma once

#include <dirent.h>
#include <doctest/doctest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "../lesson02_coroutines/helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/socket.hpp"

namespace test {

// How many fds this process has open (the entries of /proc/self/fd, less the one
// opendir holds while counting).
inline std::size_t open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    REQUIRE(dir != nullptr);
    std::size_t n = 0;
    while (dirent* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') ++n;
    ::closedir(dir);
    return n - 1;
}

// A fresh loop for one test, and a check, when the test ends, that every fd the test
// opened (the loop's own included) was closed.
struct LoopFixture {
    std::size_t fds_before = open_fds();
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    ~LoopFixture() {
        loop->close();
        loop.reset();
        CHECK_MESSAGE(open_fds() == fds_before, "the test leaked a file descriptor");
    }
};

namespace {

// loop.run_until_complete(coro), stopped after `seconds` of loop time if it has not
// finished (a failure, not a hang): RuntimeError('Event loop stopped before Future
// completed.').
template <class T>
T run(aio::EventLoop& loop, aio::Coro<T> coro, double seconds = 10) {
    aio::TimerHandle watchdog = loop.call_later(seconds, [&loop] { loop.stop(); });
    struct Disarm {
        aio::TimerHandle& timer;
        ~Disarm() { timer.cancel(); }
    } disarm{watchdog};
    return loop.run_until_complete(std::move(coro));
}

}  // namespace

// A listening, non-blocking stream socket on `host`, port 0 (the kernel's choice).
inline aio::socket listener(int family, const char* host) {
    aio::socket sock(family, SOCK_STREAM);
    sock.bind({host, 0});
    sock.listen();
    sock.setblocking(false);
    return sock;
}

}  // namespace test
