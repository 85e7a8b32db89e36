// pipe_helpers.hpp - what the pipe tests share: os.pipe() and a non-blocking switch.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

namespace test {

// Python: os.pipe() (close-on-exec, blocking): (read end, write end).
inline std::pair<int, int> os_pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    return {fds[0], fds[1]};
}

inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace test
