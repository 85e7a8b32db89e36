// waker.hpp - how another thread wakes a loop blocked in select()
// (asyncio: BaseSelectorEventLoop._make_self_pipe / _write_to_self / _read_from_self).
//
// The loop watches the waker's read end like any fd. wake() makes it readable, so a
// select() with no timeout returns; drain() empties it again. On Linux one eventfd is
// both ends (an 8-byte counter); elsewhere it is a non-blocking self-pipe.
//
// wake() is the only member that may be called from any thread.
#pragma once

namespace aio {

class Waker {
public:
    Waker();  // throws aio::OSError
    ~Waker();
    Waker(const Waker&) = delete;
    Waker& operator=(const Waker&) = delete;

    int read_fd() const noexcept { return read_fd_; }
    void wake() noexcept;   // any thread; async-signal-safe
    void drain() noexcept;  // loop thread

private:
    int read_fd_ = -1;
    int write_fd_ = -1;  // == read_fd_ for an eventfd
};

}  // namespace aio
