// waker.cpp - see waker.hpp.
#include "lesson01_loop/waker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include "lesson01_loop/exceptions.hpp"

namespace aio {

Waker::Waker() {
#if defined(__linux__)
    read_fd_ = write_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (read_fd_ < 0) throw OSError("eventfd", errno);
#else
    int fds[2];
    if (::pipe(fds) != 0) throw OSError("pipe", errno);
    for (int fd : fds) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    read_fd_ = fds[0];
    write_fd_ = fds[1];
#endif
}

Waker::~Waker() {
    if (write_fd_ != read_fd_) ::close(write_fd_);
    ::close(read_fd_);
}

void Waker::wake() noexcept {
    // EAGAIN means the counter or pipe is already full: the loop will wake anyway.
    std::uint64_t one = 1;
    ssize_t n = ::write(write_fd_, &one, write_fd_ == read_fd_ ? sizeof one : 1);
    (void)n;
}

void Waker::drain() noexcept {
    unsigned char buf[256];
    while (::read(read_fd_, buf, sizeof buf) > 0) {
    }
}

}  // namespace aio
